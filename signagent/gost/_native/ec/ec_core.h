/*
 * GOST R 34.10-2012 signature core without Python: the interface that ec_module.c (Python glue) and the
 * constant-time test driver (tests/gost/ct/) both use.
 *
 * A curve is y^2 = x^3 + a*x + b over GF(p) with a base point G of prime order q (GOST R 34.10-2012 section 5);
 * every parameter, scalar and coordinate is a big-endian byte string of the engine's size (32 or 64 bytes).
 * Signatures are s || r (big-endian halves), the layout of X.509 and CMS (RFC 4491 / RFC 9215).
 *
 * Thread safety: after ec_engine_precompute() has returned, every function taking a const engine may be called
 * from any number of threads at once. ec_engine_precompute() itself must not run concurrently with anything
 * else on the same engine (the Python glue calls it with the GIL held).
 */
#ifndef SIGNAGENT_EC_CORE_H
#define SIGNAGENT_EC_CORE_H

#include <stddef.h>
#include <stdint.h>

enum {
    EC_OK = 0,
    EC_ERR_PARAM = 1,   /* the curve parameters are not a valid GOST R 34.10 curve */
    EC_ERR_RANGE = 2,   /* a scalar outside 0 < x < q */
    EC_ERR_POINT = 3,   /* a point that is not on the curve */
    EC_ERR_RNG = 4,     /* the operating system's random generator failed */
    EC_ERR_NOMEM = 5,
    EC_ERR_NONCE = 6,   /* a caller-given nonce k yields r = 0 or s = 0 (GOST R 34.10-2012 6.1 steps 4, 5) */
    EC_INFINITY = 7,    /* ec_mul: the result is the point at infinity */
    EC_ERR_SIZE = 8,    /* size is neither 32 nor 64 */
    EC_ERR_BASEPOINT = 9 /* the base point is not on the curve or does not have order q */
};

typedef struct ec_engine ec_engine;

/* Validate the parameters (p, q prime; a, b, G in range; G on the curve; q*G = O) and build an engine. */
int ec_engine_new(ec_engine **out, size_t size, const uint8_t *p, const uint8_t *a, const uint8_t *b,
                  const uint8_t *q, const uint8_t *gx, const uint8_t *gy);
void ec_engine_free(ec_engine *eng);
size_t ec_engine_size(const ec_engine *eng);

/* Build the fixed-base tables of G once (idempotent). Needed before sign, verify and public_key. */
int ec_engine_precompute(ec_engine *eng);
int ec_engine_ready(const ec_engine *eng);

/* 1 when 0 < x < q, else 0. Constant time in x; the answer itself is public. */
int ec_scalar_ok(const ec_engine *eng, const uint8_t *x);

/* out = d*G as X || Y (2*size bytes). d must satisfy ec_scalar_ok. Constant time in d. */
int ec_public_key(const ec_engine *eng, const uint8_t *d, uint8_t *out);

/* GOST R 34.10-2012 section 6.1: sig = s || r for private key d and e (0 < e < q, from the digest).
 * k == NULL draws the nonce from the OS CSPRNG; a given k (0 < k < q) is a hook for known-answer tests.
 * Constant time in d and k. */
int ec_sign(const ec_engine *eng, const uint8_t *d, const uint8_t *e, const uint8_t *k, uint8_t *sig);

/* GOST R 34.10-2012 section 6.2. 1 = valid, 0 = invalid (also for any out-of-range part). Variable time. */
int ec_verify(const ec_engine *eng, const uint8_t *qx, const uint8_t *qy, const uint8_t *e, const uint8_t *sig);

/* 1 when (x, y) is on the curve, is not the point at infinity and q*(x, y) = O. Variable time. */
int ec_check_point(const ec_engine *eng, const uint8_t *x, const uint8_t *y);

/* out = k*(x, y) for any k (0 <= k < 2^(8*size)) and (x, y) on the curve (in the subgroup of order q or not).
 * EC_INFINITY when the result is the point at infinity, EC_ERR_POINT when (x, y) is not on the curve.
 * Constant time in k. */
int ec_mul(const ec_engine *eng, const uint8_t *k, const uint8_t *x, const uint8_t *y, uint8_t *out);

/* Fill buf with n bytes from the OS CSPRNG (getrandom(2), else /dev/urandom). EC_OK or EC_ERR_RNG. */
int ec_random_bytes(uint8_t *buf, size_t n);

#endif
