/* Constants of GOST R 34.11-2012 (Streebog) §5, defined in streebog_const.c. */
#ifndef SIGNAGENT_STREEBOG_CONST_H
#define SIGNAGENT_STREEBOG_CONST_H

#include <stdint.h>

/* §5.2: the nonlinear bijection π on bytes. */
extern const uint8_t streebog_pi[256];
/* §5.4: the 64 rows of the matrix A of the linear transformation l (row 0 is selected by bit 63). */
extern const uint64_t streebog_a[64];
/* §5.5: iteration constants C_1..C_12, each as eight 64-bit words, least significant first. */
extern const uint64_t streebog_c[12][8];

#endif
