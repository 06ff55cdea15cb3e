/*
 * Curve arithmetic for y^2 = x^3 + a*x + b over GF(p), any a (template; see ec_field_impl.h).
 *
 * Two families of formulas:
 *  - secret scalars (d, k): homogeneous projective coordinates (X:Y:Z), x = X/Z, with the complete addition
 *    law of Renes, Costello and Batina, "Complete addition formulas for prime order elliptic curves"
 *    (EUROCRYPT 2016), algorithms 1 (addition), 2 (mixed addition) and 3 (doubling) for general a. They have no
 *    exceptional cases for points of odd order, so the code never branches on a point's value. For curves with
 *    a cofactor (TC 26 256 paramSetA, 512 paramSetC: cofactor 4) the law fails only when P - Q has order 2,
 *    which cannot happen inside the subgroup of prime order q, nor in a Montgomery ladder on a point whose order
 *    is not 2 (the difference of the two ladder registers is the input point).
 *  - public scalars (verification, point checks): Jacobian coordinates (X:Y:Z), x = X/Z^2, with the classic
 *    variable-time formulas and a = -3 doubling when the curve has a = -3 (CryptoPro A-C, TC 26 512 A/B). For
 *    other a, a doubling also carries W = a*Z^4 to the next one (Cohen, Miyaji, Ono's "modified Jacobian"
 *    coordinates: W' = 2 * 8Y^4 * W), which saves two squarings per doubling; an addition leaves W to be
 *    recomputed by the next doubling, only when that comes.
 *
 * Fixed-base tables (signing, public keys, z1*G in verification): the scalar k (made odd by replacing it with
 * q - k and negating the result, since q is odd) is written in the regular signed odd-digit form
 *     k = sum d_i * 2^(W*i),  d_i odd, |d_i| < 2^W,
 * in which digit i is read directly from bits W*i+1 .. W*i+W of k: with k_0 = k and k_{i+1} = (k_i - d_i)/2^W,
 * d_i = (k_i mod 2^(W+1)) - 2^W keeps k_i odd and gives k_{i+1} = 2*floor(k_i / 2^(W+1)) + 1, so
 *     d_i = 2*u_i + 1 - 2^W,  u_i = bits W*i+1 .. W*i+W of k,     last digit = 2*(k >> (W*(D-1)+1)) + 1.
 * No digit is zero, so every step is one mixed addition of +-T_i[|d_i| >> 1], T_i[j] = (2j+1) * 2^(W*i) * G,
 * with no doublings at all; the entry is found by scanning all 2^(W-1) entries of window i.
 */

#define COMB_W 5
#define COMB_HALF (1u << (COMB_W - 1)) /* entries per window: odd multiples 1, 3, ..., 2^W - 1 */
#define QWNAF_W 5                      /* wNAF width for the public key in verification */
#define QTAB (1u << (QWNAF_W - 2))     /* odd multiples 1..15 of Q */
#define GWNAF_W (COMB_W + 1)           /* the first comb window holds G's odd multiples up to 2^W - 1 */

typedef struct {
    uint64_t x[EC_N], y[EC_N], z[EC_N];
} ppt; /* homogeneous projective; the point at infinity is (0:1:0) */

typedef struct {
    uint64_t x[EC_N], y[EC_N];
} apt; /* affine, internal field representation */

typedef struct {
    uint64_t x[EC_N], y[EC_N], z[EC_N];
    uint64_t w[EC_N]; /* a*Z^4 when w_ok ("modified Jacobian" coordinates; unused when a = -3) */
    int w_ok;
    int inf;
} jpt; /* Jacobian, variable-time code only */

typedef struct {
    modulus p, q;
    uint64_t a[EC_N], b[EC_N], b3[EC_N]; /* internal representation; b3 = 3b */
    int a_m3;                            /* a = -3 mod p */
    apt g;
    unsigned comb_digits; /* D = ceil(bits(q) / COMB_W) */
    apt *comb;            /* D * COMB_HALF entries, NULL until precomputed */
} curve;

/* ---- multiplication by the curve constants ------------------------------------------------------------- */

static inline void mul_a(const curve *C, uint64_t r[EC_N], const uint64_t t[EC_N])
{
    if (C->a_m3) { /* public property of the curve: -3t by additions */
        uint64_t u[EC_N];
        mod_add(&C->p, u, t, t);
        mod_add(&C->p, u, u, t);
        mod_neg(&C->p, r, u);
    } else {
        mod_mul(&C->p, r, C->a, t);
    }
}

/* ---- complete projective formulas (constant time) ------------------------------------------------------ */

/* Steps 19-40 of RCB algorithm 1, shared by the full and the mixed addition:
 * t0 = X1X2, t1 = Y1Y2, t2 = Z1Z2, t3 = X1Y2 + X2Y1, t4 = X1Z2 + X2Z1, t5 = Y1Z2 + Y2Z1. */
static inline void padd_tail(const curve *C, ppt *R, uint64_t t0[EC_N], uint64_t t1[EC_N], uint64_t t2[EC_N],
                             uint64_t t3[EC_N], uint64_t t4[EC_N], uint64_t t5[EC_N])
{
    const modulus *P = &C->p;
    uint64_t X3[EC_N], Y3[EC_N], Z3[EC_N];
    mul_a(C, Z3, t4);
    mod_mul(P, X3, C->b3, t2);
    mod_add(P, Z3, X3, Z3);
    mod_sub(P, X3, t1, Z3);
    mod_add(P, Z3, t1, Z3);
    mod_mul(P, Y3, X3, Z3);
    mod_add(P, t1, t0, t0);
    mod_add(P, t1, t1, t0);
    mul_a(C, t2, t2);
    mod_mul(P, t4, C->b3, t4);
    mod_add(P, t1, t1, t2);
    mod_sub(P, t2, t0, t2);
    mul_a(C, t2, t2);
    mod_add(P, t4, t4, t2);
    mod_mul(P, t0, t1, t4);
    mod_add(P, Y3, Y3, t0);
    mod_mul(P, t0, t5, t4);
    mod_mul(P, X3, t3, X3);
    mod_sub(P, X3, X3, t0);
    mod_mul(P, t0, t3, t1);
    mod_mul(P, Z3, t5, Z3);
    mod_add(P, Z3, Z3, t0);
    ln_copy(R->x, X3);
    ln_copy(R->y, Y3);
    ln_copy(R->z, Z3);
}

/* R = A + B (RCB algorithm 1). R may alias A or B. */
static void ppt_add(const curve *C, ppt *R, const ppt *A, const ppt *B)
{
    const modulus *P = &C->p;
    uint64_t t0[EC_N], t1[EC_N], t2[EC_N], t3[EC_N], t4[EC_N], t5[EC_N], u[EC_N];
    mod_mul(P, t0, A->x, B->x);
    mod_mul(P, t1, A->y, B->y);
    mod_mul(P, t2, A->z, B->z);
    mod_add(P, t3, A->x, A->y);
    mod_add(P, u, B->x, B->y);
    mod_mul(P, t3, t3, u);
    mod_add(P, u, t0, t1);
    mod_sub(P, t3, t3, u);
    mod_add(P, t4, A->x, A->z);
    mod_add(P, u, B->x, B->z);
    mod_mul(P, t4, t4, u);
    mod_add(P, u, t0, t2);
    mod_sub(P, t4, t4, u);
    mod_add(P, t5, A->y, A->z);
    mod_add(P, u, B->y, B->z);
    mod_mul(P, t5, t5, u);
    mod_add(P, u, t1, t2);
    mod_sub(P, t5, t5, u);
    padd_tail(C, R, t0, t1, t2, t3, t4, t5);
}

/* R = A + B with B affine (RCB algorithm 2: algorithm 1 with Z2 = 1). B must not be the point at infinity.
 * R may alias A. */
static void ppt_madd(const curve *C, ppt *R, const ppt *A, const apt *B)
{
    const modulus *P = &C->p;
    uint64_t t0[EC_N], t1[EC_N], t2[EC_N], t3[EC_N], t4[EC_N], t5[EC_N], u[EC_N];
    mod_mul(P, t0, A->x, B->x);
    mod_mul(P, t1, A->y, B->y);
    mod_add(P, t3, A->x, A->y);
    mod_add(P, u, B->x, B->y);
    mod_mul(P, t3, t3, u);
    mod_add(P, u, t0, t1);
    mod_sub(P, t3, t3, u);
    mod_mul(P, t4, B->x, A->z);
    mod_add(P, t4, t4, A->x);
    mod_mul(P, t5, B->y, A->z);
    mod_add(P, t5, t5, A->y);
    ln_copy(t2, A->z);
    padd_tail(C, R, t0, t1, t2, t3, t4, t5);
}

/* R = 2A (RCB algorithm 3). R may alias A. */
static void ppt_dbl(const curve *C, ppt *R, const ppt *A)
{
    const modulus *P = &C->p;
    uint64_t t0[EC_N], t1[EC_N], t2[EC_N], t3[EC_N], X3[EC_N], Y3[EC_N], Z3[EC_N];
    mod_sqr(P, t0, A->x);
    mod_sqr(P, t1, A->y);
    mod_sqr(P, t2, A->z);
    mod_mul(P, t3, A->x, A->y);
    mod_add(P, t3, t3, t3);
    mod_mul(P, Z3, A->x, A->z);
    mod_add(P, Z3, Z3, Z3);
    mul_a(C, X3, Z3);
    mod_mul(P, Y3, C->b3, t2);
    mod_add(P, Y3, X3, Y3);
    mod_sub(P, X3, t1, Y3);
    mod_add(P, Y3, t1, Y3);
    mod_mul(P, Y3, X3, Y3);
    mod_mul(P, X3, t3, X3);
    mod_mul(P, Z3, C->b3, Z3);
    mul_a(C, t2, t2);
    mod_sub(P, t3, t0, t2);
    mul_a(C, t3, t3);
    mod_add(P, t3, t3, Z3);
    mod_add(P, Z3, t0, t0);
    mod_add(P, t0, Z3, t0);
    mod_add(P, t0, t0, t2);
    mod_mul(P, t0, t0, t3);
    mod_add(P, Y3, Y3, t0);
    mod_mul(P, t2, A->y, A->z);
    mod_add(P, t2, t2, t2);
    mod_mul(P, t0, t2, t3);
    mod_sub(P, X3, X3, t0);
    mod_mul(P, Z3, t2, t1);
    mod_add(P, Z3, Z3, Z3);
    mod_add(P, Z3, Z3, Z3);
    ln_copy(R->x, X3);
    ln_copy(R->y, Y3);
    ln_copy(R->z, Z3);
}

static inline void ppt_set_inf(const curve *C, ppt *R)
{
    ln_zero(R->x);
    ln_copy(R->y, C->p.one);
    ln_zero(R->z);
}

static inline void ppt_from_apt(const curve *C, ppt *R, const apt *A)
{
    ln_copy(R->x, A->x);
    ln_copy(R->y, A->y);
    ln_copy(R->z, C->p.one);
}

/* Affine coordinates of R (internal representation); R must not be the point at infinity. Constant time. */
static void ppt_to_affine(const curve *C, apt *out, const ppt *R)
{
    uint64_t zi[EC_N];
    mod_inv(&C->p, zi, R->z);
    mod_mul(&C->p, out->x, R->x, zi);
    mod_mul(&C->p, out->y, R->y, zi);
}

/* ---- fixed-base multiplication (constant time) --------------------------------------------------------- */

/* out = T[idx] scanning every entry of the window (no secret-dependent address). */
static inline void comb_select(apt *out, const apt *win, uint32_t idx)
{
    ln_zero(out->x);
    ln_zero(out->y);
    for (uint32_t j = 0; j < COMB_HALF; j++) {
        uint64_t mask = ct_mask_eq(j, idx);
        for (int i = 0; i < EC_N; i++) {
            out->x[i] |= mask & win[j].x[i];
            out->y[i] |= mask & win[j].y[i];
        }
    }
}

/* R = k*G for 0 < k < q, constant time in k (see the header comment for the digit form). */
static void comb_mul(const curve *C, ppt *R, const uint64_t k[EC_N])
{
    uint64_t kk[EC_N], nk[EC_N];
    ln_sub(nk, C->q.m, k);
    uint64_t odd = ct_mask_bit(k[0]);
    ln_copy(kk, nk);
    ln_cmov(kk, k, odd); /* kk = k if k is odd, else q - k (odd, as q is odd) */

    apt T;
    ppt acc;
    ppt_set_inf(C, &acc);
    const unsigned D = C->comb_digits;
    for (unsigned i = 0; i < D; i++) {
        uint32_t u = ln_bits(kk, COMB_W * i + 1, COMB_W);
        uint32_t idx;
        uint64_t neg;
        if (i + 1 < D) { /* d = 2u + 1 - 2^W: negative exactly when the top bit of u is clear */
            neg = ct_mask_bit(~(u >> (COMB_W - 1)));
            idx = (u ^ (uint32_t)neg) & (COMB_HALF - 1);
        } else { /* the last digit 2u + 1 is positive and below 2^W by the choice of D */
            neg = 0;
            idx = u;
        }
        comb_select(&T, C->comb + (size_t)i * COMB_HALF, idx);
        uint64_t ny[EC_N];
        mod_neg(&C->p, ny, T.y);
        ln_cmov(T.y, ny, neg);
        ppt_madd(C, &acc, &acc, &T);
    }
    /* undo the q - k substitution: (q - k)G = -kG */
    uint64_t ny[EC_N];
    mod_neg(&C->p, ny, acc.y);
    ln_cmov(acc.y, ny, ~odd);
    *R = acc;
    ec_wipe(kk, sizeof kk);
    ec_wipe(nk, sizeof nk);
    ec_wipe(&T, sizeof T);
    ec_wipe(&acc, sizeof acc);
}

/* Montgomery ladder R = k*P over all 64*N bits of k (any k, also 0 or >= q), constant time in k. Exact
 * whenever P does not have order 2 (the two registers always differ by P, so the complete law never meets its
 * exceptional case), whatever the order of P otherwise (points outside the subgroup of order q included). */
static void ladder_mul(const curve *C, ppt *R, const uint64_t k[EC_N], const apt *Pa)
{
    ppt r0, r1;
    ppt_set_inf(C, &r0);
    ppt_from_apt(C, &r1, Pa);
    uint64_t swapped = 0;
    for (int i = 64 * EC_N - 1; i >= 0; i--) {
        uint64_t bit = ct_mask_bit(ln_bits(k, (unsigned)i, 1));
        uint64_t sw = bit ^ swapped;
        ln_cswap(r0.x, r1.x, sw);
        ln_cswap(r0.y, r1.y, sw);
        ln_cswap(r0.z, r1.z, sw);
        swapped = bit;
        ppt_add(C, &r1, &r0, &r1);
        ppt_dbl(C, &r0, &r0);
    }
    ln_cswap(r0.x, r1.x, swapped);
    ln_cswap(r0.y, r1.y, swapped);
    ln_cswap(r0.z, r1.z, swapped);
    *R = r0;
    ec_wipe(&r0, sizeof r0);
    ec_wipe(&r1, sizeof r1);
}

/* ---- point validation ------------------------------------------------------------------------------------ */

/* 1 when the affine point (internal representation) satisfies y^2 = x^3 + a*x + b. */
static int apt_on_curve(const curve *C, const apt *A)
{
    const modulus *P = &C->p;
    uint64_t l[EC_N], r[EC_N];
    mod_sqr(P, l, A->y);
    mod_sqr(P, r, A->x);
    mod_add(P, r, r, C->a);
    mod_mul(P, r, r, A->x);
    mod_add(P, r, r, C->b);
    return ln_cmp_vt(l, r) == 0;
}

/* ---- variable-time Jacobian arithmetic (public data only) ---------------------------------------------- */

static void jpt_dbl(const curve *C, jpt *R, const jpt *A)
{
    const modulus *P = &C->p;
    if (A->inf || ln_is_zero_vt(A->y)) {
        R->inf = 1;
        return;
    }
    uint64_t m[EC_N], s[EC_N], yy[EC_N], zz[EC_N], t[EC_N], x3[EC_N], y3[EC_N], z3[EC_N], w[EC_N];
    if (C->a_m3) { /* M = 3(X - Z^2)(X + Z^2) */
        mod_sqr(P, zz, A->z);
        mod_sub(P, t, A->x, zz);
        mod_add(P, m, A->x, zz);
        mod_mul(P, m, m, t);
        mod_add(P, t, m, m);
        mod_add(P, m, t, m);
    } else { /* M = 3X^2 + W, W = a Z^4 */
        if (A->w_ok) {
            ln_copy(w, A->w);
        } else {
            mod_sqr(P, w, A->z);
            mod_sqr(P, w, w);
            mod_mul(P, w, w, C->a);
        }
        mod_sqr(P, t, A->x);
        mod_add(P, m, t, t);
        mod_add(P, m, m, t);
        mod_add(P, m, m, w);
    }
    mod_mul(P, z3, A->y, A->z);
    mod_add(P, z3, z3, z3);
    mod_sqr(P, yy, A->y);
    mod_mul(P, s, A->x, yy);
    mod_add(P, s, s, s);
    mod_add(P, s, s, s); /* S = 4 X Y^2 */
    mod_sqr(P, x3, m);
    mod_sub(P, x3, x3, s);
    mod_sub(P, x3, x3, s);
    mod_sqr(P, t, yy);
    mod_add(P, t, t, t);
    mod_add(P, t, t, t);
    mod_add(P, t, t, t); /* 8 Y^4 */
    mod_sub(P, y3, s, x3);
    mod_mul(P, y3, y3, m);
    mod_sub(P, y3, y3, t);
    if (!C->a_m3) { /* W3 = a (2YZ)^4 = 16 Y^4 W */
        mod_mul(P, w, w, t);
        mod_add(P, R->w, w, w);
    }
    R->w_ok = !C->a_m3;
    ln_copy(R->x, x3);
    ln_copy(R->y, y3);
    ln_copy(R->z, z3);
    R->inf = 0;
}

/* R = A + B, B affine (x, y) and negated when neg. */
static void jpt_add_affine(const curve *C, jpt *R, const jpt *A, const apt *B, int neg)
{
    const modulus *P = &C->p;
    uint64_t by[EC_N];
    if (neg)
        mod_neg(P, by, B->y);
    else
        ln_copy(by, B->y);
    if (A->inf) {
        ln_copy(R->x, B->x);
        ln_copy(R->y, by);
        ln_copy(R->z, P->one);
        ln_copy(R->w, C->a); /* Z = 1 */
        R->w_ok = 1;
        R->inf = 0;
        return;
    }
    uint64_t zz[EC_N], u2[EC_N], s2[EC_N], h[EC_N], rr[EC_N], hh[EC_N], hhh[EC_N], v[EC_N], x3[EC_N], y3[EC_N];
    mod_sqr(P, zz, A->z);
    mod_mul(P, u2, B->x, zz);
    mod_mul(P, s2, by, A->z);
    mod_mul(P, s2, s2, zz);
    mod_sub(P, h, u2, A->x);
    mod_sub(P, rr, s2, A->y);
    if (ln_is_zero_vt(h)) {
        if (ln_is_zero_vt(rr))
            jpt_dbl(C, R, A);
        else
            R->inf = 1;
        return;
    }
    mod_sqr(P, hh, h);
    mod_mul(P, hhh, hh, h);
    mod_mul(P, v, A->x, hh);
    mod_sqr(P, x3, rr);
    mod_sub(P, x3, x3, hhh);
    mod_sub(P, x3, x3, v);
    mod_sub(P, x3, x3, v);
    mod_sub(P, y3, v, x3);
    mod_mul(P, y3, y3, rr);
    mod_mul(P, hhh, hhh, A->y);
    mod_sub(P, y3, y3, hhh);
    mod_mul(P, R->z, A->z, h);
    ln_copy(R->x, x3);
    ln_copy(R->y, y3);
    R->w_ok = 0;
    R->inf = 0;
}

/* R = A + B (both Jacobian), B negated when neg. */
static void jpt_add(const curve *C, jpt *R, const jpt *A, const jpt *B, int neg)
{
    const modulus *P = &C->p;
    if (B->inf) {
        *R = *A;
        return;
    }
    uint64_t by[EC_N];
    if (neg)
        mod_neg(P, by, B->y);
    else
        ln_copy(by, B->y);
    if (A->inf) { /* -B has the same Z, hence the same W */
        ln_copy(R->x, B->x);
        ln_copy(R->y, by);
        ln_copy(R->z, B->z);
        ln_copy(R->w, B->w);
        R->w_ok = B->w_ok;
        R->inf = 0;
        return;
    }
    uint64_t z1z1[EC_N], z2z2[EC_N], u1[EC_N], u2[EC_N], s1[EC_N], s2[EC_N], h[EC_N], rr[EC_N], hh[EC_N],
        hhh[EC_N], v[EC_N], x3[EC_N], y3[EC_N];
    mod_sqr(P, z1z1, A->z);
    mod_sqr(P, z2z2, B->z);
    mod_mul(P, u1, A->x, z2z2);
    mod_mul(P, u2, B->x, z1z1);
    mod_mul(P, s1, A->y, B->z);
    mod_mul(P, s1, s1, z2z2);
    mod_mul(P, s2, by, A->z);
    mod_mul(P, s2, s2, z1z1);
    mod_sub(P, h, u2, u1);
    mod_sub(P, rr, s2, s1);
    if (ln_is_zero_vt(h)) {
        if (ln_is_zero_vt(rr))
            jpt_dbl(C, R, A);
        else
            R->inf = 1;
        return;
    }
    mod_sqr(P, hh, h);
    mod_mul(P, hhh, hh, h);
    mod_mul(P, v, u1, hh);
    mod_sqr(P, x3, rr);
    mod_sub(P, x3, x3, hhh);
    mod_sub(P, x3, x3, v);
    mod_sub(P, x3, x3, v);
    mod_sub(P, y3, v, x3);
    mod_mul(P, y3, y3, rr);
    mod_mul(P, hhh, hhh, s1);
    mod_sub(P, y3, y3, hhh);
    mod_mul(P, R->z, A->z, B->z);
    mod_mul(P, R->z, R->z, h);
    ln_copy(R->x, x3);
    ln_copy(R->y, y3);
    R->w_ok = 0;
    R->inf = 0;
}

/* Width-w NAF of a public scalar: out[i] in {0, +-1, +-3, ..., +-(2^(w-1) - 1)}, sum out[i]*2^i = k.
 * Returns the number of digits (at most 64*N + 1). Windows of w bits are read directly from k; a window whose
 * value (plus the carry from the previous one) is at least 2^(w-1) becomes negative and carries one upward. */
static int wnaf_vt(int8_t *out, const uint64_t k[EC_N], unsigned w)
{
    const unsigned len = 64 * EC_N + 1;
    memset(out, 0, len);
    unsigned carry = 0, pos = 0;
    int last = 0;
    while (pos < len) {
        unsigned bit = pos < 64 * EC_N ? ln_bits(k, pos, 1) : 0;
        if (bit == carry) { /* this bit plus the carry is even: zero digit, carry stays */
            pos++;
            continue;
        }
        unsigned take = w;
        if (pos + take > 64 * EC_N)
            take = 64 * EC_N > pos ? 64 * EC_N - pos : 1;
        int word = (int)(pos < 64 * EC_N ? ln_bits(k, pos, take) : 0) + (int)carry;
        carry = (unsigned)(word >> (w - 1)) & 1;
        word -= (int)(carry << w);
        out[pos] = (int8_t)word;
        last = (int)pos + 1;
        pos += w;
    }
    return last;
}

/* Odd multiples P, 3P, ..., (2*QTAB - 1)P in Jacobian coordinates. */
static void jpt_odd_multiples(const curve *C, jpt *tab, const apt *Pa)
{
    jpt p1, p2;
    ln_copy(p1.x, Pa->x);
    ln_copy(p1.y, Pa->y);
    ln_copy(p1.z, C->p.one);
    ln_copy(p1.w, C->a);
    p1.w_ok = 1;
    p1.inf = 0;
    tab[0] = p1;
    jpt_dbl(C, &p2, &p1);
    for (unsigned j = 1; j < QTAB; j++)
        jpt_add(C, &tab[j], &tab[j - 1], &p2, 0);
}

/* R = k*P for public k and affine P (variable time). */
static void jpt_mul_vt(const curve *C, jpt *R, const uint64_t k[EC_N], const apt *Pa)
{
    jpt tab[QTAB];
    int8_t naf[64 * EC_N + 1];
    jpt_odd_multiples(C, tab, Pa);
    int n = wnaf_vt(naf, k, QWNAF_W);
    jpt acc;
    acc.inf = 1;
    acc.w_ok = 0;
    for (int i = n - 1; i >= 0; i--) {
        jpt_dbl(C, &acc, &acc);
        int d = naf[i];
        if (d > 0)
            jpt_add(C, &acc, &acc, &tab[d >> 1], 0);
        else if (d < 0)
            jpt_add(C, &acc, &acc, &tab[(-d) >> 1], 1);
    }
    *R = acc;
}
