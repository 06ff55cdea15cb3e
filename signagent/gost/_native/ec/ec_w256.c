/* The 256-bit instance of the GOST R 34.10-2012 core: 4 64-bit limbs, entry points prefixed ec4_. */
/* The vectoriser would turn the masked limb selects into SSE loads of just-stored words (store-forwarding
 * stalls, ~2x slower field arithmetic); the limb code is scalar by design. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-tree-slp-vectorize", "no-tree-loop-vectorize")
#endif

#include <stdlib.h>
#include <string.h>

#include "ec_core.h"
#include "ec_ct.h"
#include "ec_width.h"

#define EC_N 4
#define EC_NAME(x) ec4_##x

#include "ec_field_impl.h"
#include "ec_point_impl.h"
#include "ec_sign_impl.h"
