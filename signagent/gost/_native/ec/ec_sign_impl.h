/*
 * GOST R 34.10-2012 key derivation, signing and verification on one width (template; see ec_field_impl.h).
 * The exported functions carry the width prefix given by EC_NAME (ec4_ / ec8_) and are dispatched by
 * ec_core.c; everything else is static.
 */

/* ---- curve set-up ---------------------------------------------------------------------------------------- */

static int curve_setup(curve *C, const uint8_t *pb, const uint8_t *ab, const uint8_t *bb, const uint8_t *qb,
                       const uint8_t *gxb, const uint8_t *gyb)
{
    uint64_t p[EC_N], a[EC_N], b[EC_N], q[EC_N], gx[EC_N], gy[EC_N];
    ln_from_be(p, pb);
    ln_from_be(a, ab);
    ln_from_be(b, bb);
    ln_from_be(q, qb);
    ln_from_be(gx, gxb);
    ln_from_be(gy, gyb);
    memset(C, 0, sizeof *C);
    /* GOST R 34.10-2012 section 5.2: p > 3 prime, q prime, a, b and the point's coordinates in GF(p) */
    if (mod_init(&C->p, p) != 0 || mod_init(&C->q, q) != 0)
        return EC_ERR_PARAM;
    if (ln_cmp_vt(p, q) == 0)
        return EC_ERR_PARAM; /* anomalous curve */
    if (ln_cmp_vt(a, p) >= 0 || ln_cmp_vt(b, p) >= 0 || ln_cmp_vt(gx, p) >= 0 || ln_cmp_vt(gy, p) >= 0)
        return EC_ERR_PARAM;
    if (!mod_is_probable_prime(&C->p) || !mod_is_probable_prime(&C->q))
        return EC_ERR_PARAM;
    mod_to(&C->p, C->a, a);
    mod_to(&C->p, C->b, b);
    mod_add(&C->p, C->b3, C->b, C->b);
    mod_add(&C->p, C->b3, C->b3, C->b);
    uint64_t three[EC_N], ap3[EC_N];
    ln_set_u64(three, 3);
    uint64_t carry = ln_add(ap3, a, three);
    C->a_m3 = carry == 0 && ln_cmp_vt(ap3, p) == 0;
    /* 4a^3 + 27b^2 != 0 (mod p): the curve is not singular (GOST R 34.10-2012 section 5.2) */
    uint64_t t[EC_N], u[EC_N], c4[EC_N], c27[EC_N], k4[EC_N], k27[EC_N];
    ln_set_u64(k4, 4);
    ln_set_u64(k27, 27);
    mod_to(&C->p, c4, k4);
    mod_to(&C->p, c27, k27);
    mod_sqr(&C->p, t, C->a);
    mod_mul(&C->p, t, t, C->a);
    mod_mul(&C->p, t, t, c4);
    mod_sqr(&C->p, u, C->b);
    mod_mul(&C->p, u, u, c27);
    mod_add(&C->p, t, t, u);
    if (ln_is_zero_vt(t))
        return EC_ERR_PARAM;
    mod_to(&C->p, C->g.x, gx);
    mod_to(&C->p, C->g.y, gy);
    if (!apt_on_curve(C, &C->g))
        return EC_ERR_BASEPOINT;
    jpt qg;
    jpt_mul_vt(C, &qg, q, &C->g);
    if (!qg.inf)
        return EC_ERR_BASEPOINT; /* G does not have order q */
    C->comb_digits = (C->q.bits + COMB_W - 1) / COMB_W;
    C->comb = NULL;
    return EC_OK;
}

/* The fixed-base table T_i[j] = (2j+1) * 2^(W*i) * G for every window i, affine (one batched inversion). */
static int comb_build(curve *C)
{
    const size_t n = (size_t)C->comb_digits * COMB_HALF;
    apt *tab = malloc(n * sizeof *tab);
    ppt *tmp = malloc(n * sizeof *tmp);
    uint64_t(*pre)[EC_N] = malloc(n * sizeof *pre);
    if (!tab || !tmp || !pre) {
        free(tab);
        free(tmp);
        free(pre);
        return EC_ERR_NOMEM;
    }
    ppt base, twice;
    ppt_from_apt(C, &base, &C->g);
    for (unsigned i = 0; i < C->comb_digits; i++) {
        ppt *win = tmp + (size_t)i * COMB_HALF;
        ppt_dbl(C, &twice, &base);
        win[0] = base;
        for (unsigned j = 1; j < COMB_HALF; j++)
            ppt_add(C, &win[j], &win[j - 1], &twice);
        for (unsigned s = 0; s < COMB_W; s++)
            ppt_dbl(C, &base, &base);
    }
    /* Montgomery's simultaneous inversion: one field inversion for all n points */
    ln_copy(pre[0], tmp[0].z);
    for (size_t i = 1; i < n; i++)
        mod_mul(&C->p, pre[i], pre[i - 1], tmp[i].z);
    uint64_t inv[EC_N], zi[EC_N];
    mod_inv(&C->p, inv, pre[n - 1]);
    for (size_t i = n; i-- > 0;) {
        if (i > 0) {
            mod_mul(&C->p, zi, inv, pre[i - 1]);
            mod_mul(&C->p, inv, inv, tmp[i].z);
        } else {
            ln_copy(zi, inv);
        }
        mod_mul(&C->p, tab[i].x, tmp[i].x, zi);
        mod_mul(&C->p, tab[i].y, tmp[i].y, zi);
    }
    free(tmp);
    free(pre);
    C->comb = tab;
    return EC_OK;
}

/* ---- scalars --------------------------------------------------------------------------------------------- */

/* All ones when 0 < x < q (constant time). */
static uint64_t scalar_ok_mask(const curve *C, const uint64_t x[EC_N])
{
    return ~ln_zero_mask(x) & ln_lt_mask(x, C->q.m);
}

/* A uniform nonce 0 < k < q by rejection sampling from the OS CSPRNG (GOST R 34.10-2012 6.1 step 3). Only the
 * accepted candidate is secret; rejected ones are discarded, so testing them leaks nothing about k. */
static int random_scalar(const curve *C, uint64_t k[EC_N])
{
    uint8_t buf[EC_BYTES];
    const unsigned bits = C->q.bits;
    for (int attempt = 0; attempt < 256; attempt++) {
        if (ec_random_bytes(buf, sizeof buf) != 0)
            break;
        ln_from_be(k, buf);
        for (int i = 0; i < EC_N; i++) { /* keep bits(q) bits: acceptance probability above 1/2 */
            unsigned lo = 64u * (unsigned)i;
            if (lo >= bits)
                k[i] = 0;
            else if (bits - lo < 64)
                k[i] &= ((uint64_t)1 << (bits - lo)) - 1;
        }
        if (!ln_is_zero_vt(k) && ln_cmp_vt(k, C->q.m) < 0) {
            ec_wipe(buf, sizeof buf);
            CT_SECRET(k, EC_BYTES);
            return EC_OK;
        }
    }
    ec_wipe(buf, sizeof buf);
    ec_wipe(k, EC_BYTES);
    return EC_ERR_RNG;
}

/* ---- exported operations --------------------------------------------------------------------------------- */

void *EC_NAME(curve_new)(const uint8_t *p, const uint8_t *a, const uint8_t *b, const uint8_t *q,
                         const uint8_t *gx, const uint8_t *gy, int *err)
{
    curve *C = malloc(sizeof *C);
    if (!C) {
        *err = EC_ERR_NOMEM;
        return NULL;
    }
    int rc = curve_setup(C, p, a, b, q, gx, gy);
    if (rc != EC_OK) {
        free(C);
        *err = rc;
        return NULL;
    }
    *err = EC_OK;
    return C;
}

void EC_NAME(curve_free)(void *vc)
{
    curve *C = vc;
    if (!C)
        return;
    if (C->comb)
        free(C->comb);
    free(C);
}

int EC_NAME(precompute)(void *vc)
{
    curve *C = vc;
    return C->comb ? EC_OK : comb_build(C);
}

int EC_NAME(ready)(const void *vc)
{
    return ((const curve *)vc)->comb != NULL;
}

int EC_NAME(scalar_ok)(const void *vc, const uint8_t *xb)
{
    uint64_t x[EC_N];
    ln_from_be(x, xb);
    uint64_t ok = scalar_ok_mask(vc, x);
    CT_PUBLIC(&ok, sizeof ok); /* only validity is revealed */
    ec_wipe(x, sizeof x);
    return (int)(ok & 1);
}

int EC_NAME(public_key)(const void *vc, const uint8_t *db, uint8_t *out)
{
    const curve *C = vc;
    uint64_t d[EC_N], x[EC_N], y[EC_N];
    ppt R;
    apt A;
    ln_from_be(d, db);
    comb_mul(C, &R, d);
    ppt_to_affine(C, &A, &R);
    mod_from(&C->p, x, A.x);
    mod_from(&C->p, y, A.y);
    ln_to_be(out, x);
    ln_to_be(out + EC_BYTES, y);
    CT_PUBLIC(out, 2 * EC_BYTES); /* the public key is public output */
    ec_wipe(d, sizeof d);
    ec_wipe(&R, sizeof R);
    ec_wipe(&A, sizeof A);
    ec_wipe(x, sizeof x);
    ec_wipe(y, sizeof y);
    return EC_OK;
}

/* GOST R 34.10-2012 section 6.1, steps 3-6 (steps 1-2, hashing and e = alpha mod q, are the caller's). */
int EC_NAME(sign)(const void *vc, const uint8_t *db, const uint8_t *eb, const uint8_t *kb, uint8_t *sig)
{
    const curve *C = vc;
    uint64_t d[EC_N], e[EC_N], eM[EC_N], k[EC_N], zi[EC_N], x[EC_N], rM[EC_N], r[EC_N], s[EC_N], t[EC_N];
    ppt R;
    int rc = EC_OK;
    ln_from_be(d, db);
    ln_from_be(e, eb);
    mod_to(&C->q, eM, e);
    for (;;) {
        if (kb) {
            ln_from_be(k, kb);
        } else if ((rc = random_scalar(C, k)) != EC_OK) {
            break;
        }
        /* step 4: C = kP, r = x_C mod q */
        comb_mul(C, &R, k);
        mod_inv(&C->p, zi, R.z);
        mod_mul(&C->p, x, R.x, zi);
        mod_from(&C->p, x, x);
        mod_to(&C->q, rM, x); /* x < p < 2^(64N): reduced mod q in one Montgomery step */
        mod_from(&C->q, r, rM);
        CT_PUBLIC(r, sizeof r); /* r is part of the signature from here on */
        if (ln_is_zero_vt(r)) {
            if (kb) {
                rc = EC_ERR_NONCE;
                break;
            }
            continue;
        }
        /* step 5: s = (r d + k e) mod q; mod_mul(internal, plain) yields plain products */
        mod_mul(&C->q, s, rM, d);
        mod_mul(&C->q, t, eM, k);
        mod_add(&C->q, s, s, t);
        CT_PUBLIC(s, sizeof s);
        if (ln_is_zero_vt(s)) {
            if (kb) {
                rc = EC_ERR_NONCE;
                break;
            }
            continue;
        }
        /* step 6: the signature is s || r (RFC 4491 section 2.2.2 layout) */
        ln_to_be(sig, s);
        ln_to_be(sig + EC_BYTES, r);
        rc = EC_OK;
        break;
    }
    ec_wipe(d, sizeof d);
    ec_wipe(k, sizeof k);
    ec_wipe(&R, sizeof R);
    ec_wipe(zi, sizeof zi);
    ec_wipe(x, sizeof x);
    ec_wipe(t, sizeof t);
    ec_wipe(eM, sizeof eM);
    return rc;
}

/* GOST R 34.10-2012 section 6.2 (all data public, variable time). */
int EC_NAME(verify)(const void *vc, const uint8_t *qxb, const uint8_t *qyb, const uint8_t *eb, const uint8_t *sig)
{
    const curve *C = vc;
    uint64_t s[EC_N], r[EC_N], e[EC_N], qx[EC_N], qy[EC_N];
    ln_from_be(s, sig);
    ln_from_be(r, sig + EC_BYTES);
    ln_from_be(e, eb);
    ln_from_be(qx, qxb);
    ln_from_be(qy, qyb);
    /* step 1: 0 < r < q and 0 < s < q, otherwise the signature is invalid */
    if (ln_is_zero_vt(r) || ln_cmp_vt(r, C->q.m) >= 0 || ln_is_zero_vt(s) || ln_cmp_vt(s, C->q.m) >= 0)
        return 0;
    if (ln_is_zero_vt(e) || ln_cmp_vt(e, C->q.m) >= 0)
        return 0;
    /* the key: coordinates in GF(p) and on the curve (the full check with q*Q = O is ec_check_point) */
    if (ln_cmp_vt(qx, C->p.m) >= 0 || ln_cmp_vt(qy, C->p.m) >= 0)
        return 0;
    apt Q;
    mod_to(&C->p, Q.x, qx);
    mod_to(&C->p, Q.y, qy);
    if (!apt_on_curve(C, &Q))
        return 0;
    /* steps 4-5: v = e^-1, z1 = s v, z2 = -r v (mod q) */
    uint64_t v[EC_N], vM[EC_N], z1[EC_N], z2[EC_N], nr[EC_N];
    mod_inv_vt(&C->q, v, e);
    mod_to(&C->q, vM, v);
    mod_mul(&C->q, z1, s, vM);
    ln_sub(nr, C->q.m, r);
    mod_mul(&C->q, z2, nr, vM);
    /* step 6: C = z1 P + z2 Q, both multiplications sharing their doublings */
    int8_t n1[64 * EC_N + 1], n2[64 * EC_N + 1];
    int l1 = wnaf_vt(n1, z1, GWNAF_W);
    int l2 = wnaf_vt(n2, z2, QWNAF_W);
    jpt qtab[QTAB];
    jpt_odd_multiples(C, qtab, &Q);
    jpt acc;
    acc.inf = 1;
    acc.w_ok = 0;
    for (int i = (l1 > l2 ? l1 : l2) - 1; i >= 0; i--) {
        jpt_dbl(C, &acc, &acc);
        int d1 = n1[i], d2 = n2[i];
        if (d1)
            jpt_add_affine(C, &acc, &acc, &C->comb[(d1 < 0 ? -d1 : d1) >> 1], d1 < 0);
        if (d2)
            jpt_add(C, &acc, &acc, &qtab[(d2 < 0 ? -d2 : d2) >> 1], d2 < 0);
    }
    if (acc.inf)
        return 0;
    /* steps 6-7: R = x_C mod q must equal r. x_C = X/Z^2, so test X == cand*Z^2 for every cand = r + j q < p
     * instead of inverting Z. */
    uint64_t zz[EC_N], cand[EC_N], candM[EC_N], t[EC_N];
    mod_sqr(&C->p, zz, acc.z);
    ln_copy(cand, r);
    while (ln_cmp_vt(cand, C->p.m) < 0) {
        mod_to(&C->p, candM, cand);
        mod_mul(&C->p, t, candM, zz);
        if (ln_cmp_vt(t, acc.x) == 0)
            return 1;
        if (ln_add(cand, cand, C->q.m))
            break;
    }
    return 0;
}

int EC_NAME(check_point)(const void *vc, const uint8_t *xb, const uint8_t *yb)
{
    const curve *C = vc;
    uint64_t x[EC_N], y[EC_N];
    ln_from_be(x, xb);
    ln_from_be(y, yb);
    if (ln_cmp_vt(x, C->p.m) >= 0 || ln_cmp_vt(y, C->p.m) >= 0)
        return 0;
    apt A;
    mod_to(&C->p, A.x, x);
    mod_to(&C->p, A.y, y);
    if (!apt_on_curve(C, &A))
        return 0;
    jpt R;
    jpt_mul_vt(C, &R, C->q.m, &A);
    return R.inf;
}

int EC_NAME(mul)(const void *vc, const uint8_t *kb, const uint8_t *xb, const uint8_t *yb, uint8_t *out)
{
    const curve *C = vc;
    uint64_t k[EC_N], x[EC_N], y[EC_N];
    ln_from_be(x, xb);
    ln_from_be(y, yb);
    if (ln_cmp_vt(x, C->p.m) >= 0 || ln_cmp_vt(y, C->p.m) >= 0)
        return EC_ERR_POINT;
    apt A;
    mod_to(&C->p, A.x, x);
    mod_to(&C->p, A.y, y);
    if (!apt_on_curve(C, &A))
        return EC_ERR_POINT;
    ln_from_be(k, kb);
    int rc;
    if (ln_is_zero_vt(y)) {
        /* a point of order 2: kP is P for odd k and O for even k; the output reveals that bit anyway */
        uint64_t odd = ct_mask_bit(k[0]);
        CT_PUBLIC(&odd, sizeof odd);
        if (odd) {
            memcpy(out, xb, EC_BYTES);
            memcpy(out + EC_BYTES, yb, EC_BYTES);
            rc = EC_OK;
        } else {
            rc = EC_INFINITY;
        }
        ec_wipe(k, sizeof k);
        return rc;
    }
    ppt R;
    ladder_mul(C, &R, k, &A);
    uint64_t at_inf = ln_zero_mask(R.z);
    CT_PUBLIC(&at_inf, sizeof at_inf);
    if (at_inf) {
        rc = EC_INFINITY;
    } else {
        apt B;
        ppt_to_affine(C, &B, &R);
        mod_from(&C->p, x, B.x);
        mod_from(&C->p, y, B.y);
        ln_to_be(out, x);
        ln_to_be(out + EC_BYTES, y);
        CT_PUBLIC(out, 2 * EC_BYTES); /* the result is returned to the caller */
        ec_wipe(&B, sizeof B);
        rc = EC_OK;
    }
    ec_wipe(k, sizeof k);
    ec_wipe(&R, sizeof R);
    ec_wipe(x, sizeof x);
    ec_wipe(y, sizeof y);
    return rc;
}
