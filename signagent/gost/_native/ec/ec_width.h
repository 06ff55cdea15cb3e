/*
 * The per-width entry points of the core: ec_w256.c and ec_w512.c instantiate the same template code
 * (ec_field_impl.h, ec_point_impl.h, ec_sign_impl.h) with 4 and 8 64-bit limbs; ec_core.c dispatches to them.
 * A curve is an opaque pointer here; see ec_core.h for what each operation means.
 */
#ifndef SIGNAGENT_EC_WIDTH_H
#define SIGNAGENT_EC_WIDTH_H

#include <stdint.h>

#define EC_DECLARE_WIDTH(P)                                                                                   \
    void *P##curve_new(const uint8_t *p, const uint8_t *a, const uint8_t *b, const uint8_t *q,                \
                       const uint8_t *gx, const uint8_t *gy, int *err);                                       \
    void P##curve_free(void *c);                                                                              \
    int P##precompute(void *c);                                                                               \
    int P##ready(const void *c);                                                                              \
    int P##scalar_ok(const void *c, const uint8_t *x);                                                        \
    int P##public_key(const void *c, const uint8_t *d, uint8_t *out);                                         \
    int P##sign(const void *c, const uint8_t *d, const uint8_t *e, const uint8_t *k, uint8_t *sig);           \
    int P##verify(const void *c, const uint8_t *qx, const uint8_t *qy, const uint8_t *e, const uint8_t *sig); \
    int P##check_point(const void *c, const uint8_t *x, const uint8_t *y);                                    \
    int P##mul(const void *c, const uint8_t *k, const uint8_t *x, const uint8_t *y, uint8_t *out);

/* 1 when the CPU has BMI2 and ADX (mulx, adcx, adox): set once when the library is loaded (ec_core.c). */
extern int ec_use_adx;

EC_DECLARE_WIDTH(ec4_)
EC_DECLARE_WIDTH(ec8_)

#endif
