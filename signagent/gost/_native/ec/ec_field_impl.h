/*
 * Fixed-width arithmetic modulo an odd prime m < 2^(64*EC_N): a template, included once per width by
 * ec_w256.c (EC_N = 4) and ec_w512.c (EC_N = 8). Every function here is static, so each width gets its own copy.
 *
 * Representation: an element is EC_N little-endian 64-bit limbs, always fully reduced (0 <= x < m).
 *  - Generic moduli use Montgomery form x*R mod m, R = 2^(64*EC_N) (product, then word-by-word REDC).
 *  - Moduli of the form 2^(64*EC_N) - c with c < 2^32 (CryptoPro-A / TC 26 256 paramSetA-B p = 2^256 - 617,
 *    TC 26 512 paramSetA/C p = 2^512 - 569) keep elements as plain residues and fold the high half of a
 *    product back with 2^(64*EC_N) = c (mod m), which is cheaper than REDC.
 * A useful consequence: mod_mul(plain a, internal b) is the plain residue a*b mod m in both representations.
 *
 * Speed: on x86-64 the limb products are inline assembly (ec_asm_x86.h, baseline mulq/adc); on CPUs with BMI2 and
 * ADX, detected once at load time (ec_core.c), 4-limb multiplications use fused mulx/adcx/adox code instead
 * (ec_asm_adx.h). Other architectures use the portable C below, which computes the same values.
 *
 * Every operation is constant time in the values of its operands (masks, no data-dependent branches or
 * addresses); only mod_pow_public() branches, and only on its public exponent.
 */
#ifndef EC_N
#error "define EC_N (limbs) before including ec_field_impl.h"
#endif

#define EC_BYTES (8 * EC_N)

/* Full unrolling of the limb loops (their trip counts are compile-time constants). */
#if defined(__GNUC__) && !defined(__clang__)
#define EC_PRAGMA(x) _Pragma(#x)
#define EC_UNROLL EC_PRAGMA(GCC unroll 16)
#else
#define EC_UNROLL
#endif
#if defined(__GNUC__) || defined(__clang__)
#define EC_NOINLINE __attribute__((noinline))
#else
#define EC_NOINLINE
#endif

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h> /* _addcarry_u64 / _subborrow_u64: plain adc/sbb, part of baseline x86-64 */
#define EC_X86_64 1
#else
#define EC_X86_64 0
#endif
#if EC_X86_64
#include "ec_asm_adx.h"
#include "ec_asm_x86.h"
#endif

typedef struct {
    uint64_t m[EC_N];
    uint64_t mm2[EC_N]; /* m - 2: the Fermat inversion exponent */
    uint64_t r2[EC_N];  /* R^2 mod m (Montgomery only) */
    uint64_t one[EC_N]; /* 1 in the internal representation */
    uint64_t minv;      /* -m^-1 mod 2^64 (Montgomery only) */
    uint64_t c;         /* m = 2^(64*EC_N) - c (pseudo-Mersenne only) */
    int pm;             /* 1: pseudo-Mersenne representation, 0: Montgomery */
    unsigned bits;      /* bit length of m */
} modulus;

/* ---- plain multi-limb integers ------------------------------------------------------------------------- */

static void ln_from_be(uint64_t r[EC_N], const uint8_t *be)
{
    EC_UNROLL
    for (int i = 0; i < EC_N; i++) {
        const uint8_t *s = be + 8 * (EC_N - 1 - i);
        uint64_t w = 0;
        EC_UNROLL
        for (int j = 0; j < 8; j++)
            w = (w << 8) | s[j];
        r[i] = w;
    }
}

static void ln_to_be(uint8_t *be, const uint64_t a[EC_N])
{
    EC_UNROLL
    for (int i = 0; i < EC_N; i++) {
        uint8_t *d = be + 8 * (EC_N - 1 - i);
        uint64_t w = a[i];
        EC_UNROLL
        for (int j = 7; j >= 0; j--) {
            d[j] = (uint8_t)w;
            w >>= 8;
        }
    }
}

static inline void ln_copy(uint64_t r[EC_N], const uint64_t a[EC_N])
{
    EC_UNROLL
    for (int i = 0; i < EC_N; i++)
        r[i] = a[i];
}

static inline void ln_zero(uint64_t r[EC_N])
{
    EC_UNROLL
    for (int i = 0; i < EC_N; i++)
        r[i] = 0;
}

static inline void ln_set_u64(uint64_t r[EC_N], uint64_t v)
{
    ln_zero(r);
    r[0] = v;
}

/* r = a + b, returns the carry out. */
static inline uint64_t ln_add(uint64_t r[EC_N], const uint64_t a[EC_N], const uint64_t b[EC_N])
{
#if EC_X86_64
    unsigned char c = 0;
    EC_UNROLL
    for (int i = 0; i < EC_N; i++) {
        unsigned long long t;
        c = _addcarry_u64(c, a[i], b[i], &t);
        r[i] = t;
    }
    return c;
#else
    uint64_t carry = 0;
    EC_UNROLL
    for (int i = 0; i < EC_N; i++) {
        ec_u128 t = (ec_u128)a[i] + b[i] + carry;
        r[i] = (uint64_t)t;
        carry = (uint64_t)(t >> 64);
    }
    return carry;
#endif
}

/* r = a - b, returns the borrow out (1 when a < b). */
static inline uint64_t ln_sub(uint64_t r[EC_N], const uint64_t a[EC_N], const uint64_t b[EC_N])
{
#if EC_X86_64
    unsigned char c = 0;
    EC_UNROLL
    for (int i = 0; i < EC_N; i++) {
        unsigned long long t;
        c = _subborrow_u64(c, a[i], b[i], &t);
        r[i] = t;
    }
    return c;
#else
    uint64_t borrow = 0;
    EC_UNROLL
    for (int i = 0; i < EC_N; i++) {
        ec_u128 t = (ec_u128)a[i] - b[i] - borrow;
        r[i] = (uint64_t)t;
        borrow = (uint64_t)(t >> 64) & 1;
    }
    return borrow;
#endif
}

/* r = mask ? a : r, for mask all ones or zero. */
static inline void ln_cmov(uint64_t r[EC_N], const uint64_t a[EC_N], uint64_t mask)
{
    EC_UNROLL
    for (int i = 0; i < EC_N; i++)
        r[i] ^= mask & (r[i] ^ a[i]);
}

/* Swap a and b when mask is all ones. */
static inline void ln_cswap(uint64_t a[EC_N], uint64_t b[EC_N], uint64_t mask)
{
    EC_UNROLL
    for (int i = 0; i < EC_N; i++) {
        uint64_t t = mask & (a[i] ^ b[i]);
        a[i] ^= t;
        b[i] ^= t;
    }
}

/* All ones when a is zero. */
static inline uint64_t ln_zero_mask(const uint64_t a[EC_N])
{
    uint64_t acc = 0;
    EC_UNROLL
    for (int i = 0; i < EC_N; i++)
        acc |= a[i];
    return ~ct_mask_nonzero(acc);
}

/* All ones when a == b. */
static inline uint64_t ln_eq_mask(const uint64_t a[EC_N], const uint64_t b[EC_N])
{
    uint64_t acc = 0;
    EC_UNROLL
    for (int i = 0; i < EC_N; i++)
        acc |= a[i] ^ b[i];
    return ~ct_mask_nonzero(acc);
}

/* All ones when a < b (constant time). */
static inline uint64_t ln_lt_mask(const uint64_t a[EC_N], const uint64_t b[EC_N])
{
    uint64_t t[EC_N];
    return ct_mask_bit(ln_sub(t, a, b));
}

/* Variable-time comparison for public values: -1, 0, 1. */
static int ln_cmp_vt(const uint64_t a[EC_N], const uint64_t b[EC_N])
{
    EC_UNROLL
    for (int i = EC_N - 1; i >= 0; i--) {
        if (a[i] != b[i])
            return a[i] < b[i] ? -1 : 1;
    }
    return 0;
}

static int ln_is_zero_vt(const uint64_t a[EC_N])
{
    uint64_t acc = 0;
    EC_UNROLL
    for (int i = 0; i < EC_N; i++)
        acc |= a[i];
    return acc == 0;
}

static unsigned ln_bitlen_vt(const uint64_t a[EC_N])
{
    EC_UNROLL
    for (int i = EC_N - 1; i >= 0; i--) {
        if (a[i])
            return (unsigned)(64 * i + 64 - __builtin_clzll(a[i]));
    }
    return 0;
}

/* w (<= 32) bits of a starting at bit position pos (a public position); bits beyond the top read as 0. */
static inline uint32_t ln_bits(const uint64_t a[EC_N], unsigned pos, unsigned w)
{
    unsigned limb = pos / 64, off = pos % 64;
    if (limb >= EC_N)
        return 0;
    uint64_t v = a[limb] >> off;
    if (off + w > 64 && limb + 1 < EC_N)
        v |= a[limb + 1] << (64 - off);
    return (uint32_t)(v & ((1u << w) - 1));
}

/* Product scanning (Comba): the column sums of a*b go through a three-word accumulator (c0, c1, c2), which
 * compilers turn into mul/add/adc chains without spilling partial products. */
static inline void mac(uint64_t *c0, uint64_t *c1, uint64_t *c2, uint64_t a, uint64_t b)
{
    ec_u128 p = (ec_u128)a * b;
    ec_u128 s = (((ec_u128)*c1 << 64) | *c0) + p;
    *c2 += s < p;
    *c0 = (uint64_t)s;
    *c1 = (uint64_t)(s >> 64);
}

/* (c0, c1, c2) += 2*a*b */
static inline void mac2(uint64_t *c0, uint64_t *c1, uint64_t *c2, uint64_t a, uint64_t b)
{
    ec_u128 p = (ec_u128)a * b;
    *c2 += (uint64_t)(p >> 127);
    p <<= 1;
    ec_u128 s = (((ec_u128)*c1 << 64) | *c0) + p;
    *c2 += s < p;
    *c0 = (uint64_t)s;
    *c1 = (uint64_t)(s >> 64);
}

#define EC_SHIFT_ACC(c0, c1, c2) \
    do {                         \
        c0 = c1;                 \
        c1 = c2;                 \
        c2 = 0;                  \
    } while (0)

/* t[0..2N-1] = a * b */
static inline void ln_mul_wide(uint64_t t[2 * EC_N], const uint64_t a[EC_N], const uint64_t b[EC_N])
{
#if EC_X86_64
    asm_mul_wide(t, a, b);
    return;
#endif
    uint64_t c0 = 0, c1 = 0, c2 = 0;
    EC_UNROLL
    for (int k = 0; k < 2 * EC_N - 1; k++) {
        int lo = k < EC_N ? 0 : k - EC_N + 1, hi = k < EC_N ? k : EC_N - 1;
        EC_UNROLL
        for (int i = lo; i <= hi; i++)
            mac(&c0, &c1, &c2, a[i], b[k - i]);
        t[k] = c0;
        EC_SHIFT_ACC(c0, c1, c2);
    }
    t[2 * EC_N - 1] = c0;
}

/* t[0..2N-1] = a^2: each off-diagonal product once, doubled. */
static inline void ln_sqr_wide(uint64_t t[2 * EC_N], const uint64_t a[EC_N])
{
#if EC_X86_64
    asm_sqr_wide(t, a);
    return;
#endif
    uint64_t c0 = 0, c1 = 0, c2 = 0;
    EC_UNROLL
    for (int k = 0; k < 2 * EC_N - 1; k++) {
        int lo = k < EC_N ? 0 : k - EC_N + 1, hi = k < EC_N ? k : EC_N - 1;
        EC_UNROLL
        for (int i = lo; i < k - i && i <= hi; i++)
            mac2(&c0, &c1, &c2, a[i], a[k - i]);
        if ((k & 1) == 0)
            mac(&c0, &c1, &c2, a[k / 2], a[k / 2]);
        t[k] = c0;
        EC_SHIFT_ACC(c0, c1, c2);
    }
    t[2 * EC_N - 1] = c0;
}

/* ---- reduction ------------------------------------------------------------------------------------------ */

/* r = (top*2^(64N) + t) mod m for a value known to be below 2m: subtract m once, by mask. */
static inline void mod_final_sub(const modulus *M, uint64_t r[EC_N], const uint64_t t[EC_N], uint64_t top)
{
    uint64_t s[EC_N];
    uint64_t borrow = ln_sub(s, t, M->m);
    uint64_t use_s = ct_mask_nonzero(top | (borrow ^ 1));
    EC_UNROLL
    for (int i = 0; i < EC_N; i++)
        r[i] = t[i] ^ (use_s & (t[i] ^ s[i]));
}

/* Montgomery reduction (REDC): r = t * R^-1 mod m, for t < m*R (column by column, like the product). */
static inline void mont_redc(const modulus *M, uint64_t r[EC_N], const uint64_t t[2 * EC_N])
{
#if EC_X86_64
    uint64_t res[EC_N];
    uint64_t carry = asm_redc(res, t, M->m, M->minv);
    mod_final_sub(M, r, res, carry);
    return;
#endif
    uint64_t u[EC_N];
    uint64_t c0 = 0, c1 = 0, c2 = 0;
    EC_UNROLL
    for (int k = 0; k < EC_N; k++) {
        EC_UNROLL
        for (int i = 0; i < k; i++)
            mac(&c0, &c1, &c2, u[i], M->m[k - i]);
        ec_u128 s = (((ec_u128)c1 << 64) | c0) + t[k];
        c2 += s < t[k];
        c0 = (uint64_t)s;
        c1 = (uint64_t)(s >> 64);
        u[k] = c0 * M->minv;
        mac(&c0, &c1, &c2, u[k], M->m[0]); /* clears c0 */
        EC_SHIFT_ACC(c0, c1, c2);
    }
    uint64_t out[EC_N];
    EC_UNROLL
    for (int k = EC_N; k < 2 * EC_N; k++) {
        EC_UNROLL
        for (int i = k - EC_N + 1; i < EC_N; i++)
            mac(&c0, &c1, &c2, u[i], M->m[k - i]);
        ec_u128 s = (((ec_u128)c1 << 64) | c0) + t[k];
        c2 += s < t[k];
        c0 = (uint64_t)s;
        c1 = (uint64_t)(s >> 64);
        out[k - EC_N] = c0;
        EC_SHIFT_ACC(c0, c1, c2);
    }
    mod_final_sub(M, r, out, c0);
}

/* Montgomery product a*b*R^-1 mod m with the reduction folded into the product's columns (no 2N-word
 * intermediate): the "finely integrated product scanning" method. */
static inline void mont_mul(const modulus *M, uint64_t r[EC_N], const uint64_t a[EC_N], const uint64_t b[EC_N])
{
    uint64_t u[EC_N], out[EC_N];
    uint64_t c0 = 0, c1 = 0, c2 = 0;
    EC_UNROLL
    for (int k = 0; k < EC_N; k++) {
        EC_UNROLL
        for (int i = 0; i <= k; i++)
            mac(&c0, &c1, &c2, a[i], b[k - i]);
        EC_UNROLL
        for (int i = 0; i < k; i++)
            mac(&c0, &c1, &c2, u[i], M->m[k - i]);
        u[k] = c0 * M->minv;
        mac(&c0, &c1, &c2, u[k], M->m[0]);
        EC_SHIFT_ACC(c0, c1, c2);
    }
    EC_UNROLL
    for (int k = EC_N; k < 2 * EC_N - 1; k++) {
        EC_UNROLL
        for (int i = k - EC_N + 1; i < EC_N; i++)
            mac(&c0, &c1, &c2, a[i], b[k - i]);
        EC_UNROLL
        for (int i = k - EC_N + 1; i < EC_N; i++)
            mac(&c0, &c1, &c2, u[i], M->m[k - i]);
        out[k - EC_N] = c0;
        EC_SHIFT_ACC(c0, c1, c2);
    }
    out[EC_N - 1] = c0;
    mod_final_sub(M, r, out, c1);
}

/* Pseudo-Mersenne reduction: r = t mod m for m = 2^n - c, using 2^n = c (mod m) twice, then once more for a
 * last carry, then one conditional subtraction (t < 2^(2n) gives a value below 2m at the end). */
static inline void pm_reduce(const modulus *M, uint64_t r[EC_N], const uint64_t t[2 * EC_N])
{
    const uint64_t c = M->c;
#if EC_X86_64
    /* t_lo + c*t_hi as two independent carry chains: the low words of the products, then the high words one
     * limb up; the carry word (below 2c + 2) is folded once more below. */
    uint64_t lo[EC_N], hi[EC_N];
    EC_UNROLL
    for (int j = 0; j < EC_N; j++) {
        ec_u128 p = (ec_u128)t[EC_N + j] * c;
        lo[j] = (uint64_t)p;
        hi[j] = (uint64_t)(p >> 64);
    }
    unsigned char cf1 = 0, cf2 = 0;
    unsigned long long w;
    EC_UNROLL
    for (int j = 0; j < EC_N; j++) {
        cf1 = _addcarry_u64(cf1, t[j], lo[j], &w);
        r[j] = w;
    }
    EC_UNROLL
    for (int j = 1; j < EC_N; j++) {
        cf2 = _addcarry_u64(cf2, r[j], hi[j - 1], &w);
        r[j] = w;
    }
    uint64_t carry = hi[EC_N - 1] + cf1 + cf2;
    ec_u128 p = (ec_u128)carry * c;
    unsigned char cf = _addcarry_u64(0, r[0], (uint64_t)p, &w);
    r[0] = w;
    cf = _addcarry_u64(cf, r[1], (uint64_t)(p >> 64), &w);
    r[1] = w;
    EC_UNROLL
    for (int j = 2; j < EC_N; j++) {
        cf = _addcarry_u64(cf, r[j], 0, &w);
        r[j] = w;
    }
    /* a carry out means the value wrapped past 2^n: add c (the wrapped value is tiny, no further carry) */
    uint64_t add = c & ct_mask_bit(cf);
    cf = _addcarry_u64(0, r[0], add, &w);
    r[0] = w;
    EC_UNROLL
    for (int j = 1; j < EC_N; j++) {
        cf = _addcarry_u64(cf, r[j], 0, &w);
        r[j] = w;
    }
    mod_final_sub(M, r, r, 0);
#else
    uint64_t carry = 0;
    EC_UNROLL
    for (int j = 0; j < EC_N; j++) {
        ec_u128 acc = (ec_u128)t[EC_N + j] * c + t[j] + carry;
        r[j] = (uint64_t)acc;
        carry = (uint64_t)(acc >> 64);
    }
    /* value = r + carry*2^n, carry <= c */
    ec_u128 acc = (ec_u128)carry * c + r[0];
    r[0] = (uint64_t)acc;
    uint64_t cc = (uint64_t)(acc >> 64);
    EC_UNROLL
    for (int j = 1; j < EC_N; j++) {
        acc = (ec_u128)r[j] + cc;
        r[j] = (uint64_t)acc;
        cc = (uint64_t)(acc >> 64);
    }
    /* cc is 0 or 1; when 1, r is now tiny, so adding c cannot carry out again */
    uint64_t add = c & ct_mask_bit(cc);
    cc = 0;
    EC_UNROLL
    for (int j = 0; j < EC_N; j++) {
        acc = (ec_u128)r[j] + (j ? cc : add);
        r[j] = (uint64_t)acc;
        cc = (uint64_t)(acc >> 64);
    }
    mod_final_sub(M, r, r, 0);
#endif
}

static inline void mod_reduce_wide(const modulus *M, uint64_t r[EC_N], const uint64_t t[2 * EC_N])
{
    if (M->pm)
        pm_reduce(M, r, t);
    else
        mont_redc(M, r, t);
}

/* ---- field operations on the internal representation -------------------------------------------------- */

/* mod_mul and mod_sqr stay out of line: inlining every unrolled variant (two representations, with and without
 * ADX) into each caller made the code hundreds of kilobytes long and slower; a call costs far less. */
EC_NOINLINE static void mod_mul(const modulus *M, uint64_t r[EC_N], const uint64_t a[EC_N], const uint64_t b[EC_N])
{
    if (M->pm) {
#if EC_X86_64 && EC_N == 4
        if (ec_use_adx) { /* a property of the CPU, not of the data */
            adx_pm_mul4(r, a, b, M->c);
            return;
        }
#endif
        uint64_t t[2 * EC_N];
        ln_mul_wide(t, a, b);
        pm_reduce(M, r, t);
    } else {
#if EC_X86_64 && EC_N == 4
        if (ec_use_adx) {
            adx_mont_mul4(r, a, b, M->m, M->minv);
            return;
        }
#endif
#if EC_X86_64
        uint64_t t[2 * EC_N];
        ln_mul_wide(t, a, b);
        mont_redc(M, r, t);
#else
        mont_mul(M, r, a, b);
#endif
    }
}

EC_NOINLINE static void mod_sqr(const modulus *M, uint64_t r[EC_N], const uint64_t a[EC_N])
{
#if EC_X86_64 && EC_N == 4
    if (ec_use_adx) {
        if (M->pm)
            adx_pm_mul4(r, a, a, M->c);
        else
            adx_mont_mul4(r, a, a, M->m, M->minv);
        return;
    }
#endif
    uint64_t t[2 * EC_N];
    ln_sqr_wide(t, a);
    mod_reduce_wide(M, r, t);
}

static inline void mod_add(const modulus *M, uint64_t r[EC_N], const uint64_t a[EC_N], const uint64_t b[EC_N])
{
    uint64_t t[EC_N];
    uint64_t carry = ln_add(t, a, b);
    mod_final_sub(M, r, t, carry);
}

static inline void mod_sub(const modulus *M, uint64_t r[EC_N], const uint64_t a[EC_N], const uint64_t b[EC_N])
{
    uint64_t t[EC_N], madd[EC_N];
    uint64_t mask = ct_mask_bit(ln_sub(t, a, b));
    EC_UNROLL
    for (int i = 0; i < EC_N; i++)
        madd[i] = M->m[i] & mask;
    ln_add(r, t, madd);
}

static inline void mod_neg(const modulus *M, uint64_t r[EC_N], const uint64_t a[EC_N])
{
    uint64_t z[EC_N];
    ln_zero(z);
    mod_sub(M, r, z, a);
}

/* Internal representation of a plain integer a < 2^(64N) (not necessarily below m). */
static void mod_to(const modulus *M, uint64_t r[EC_N], const uint64_t a[EC_N])
{
    if (M->pm) {
        /* a < 2^n = m + c < 2m */
        mod_final_sub(M, r, a, 0);
    } else {
        /* REDC(a * R^2) = a*R mod m; a*R^2 < R*m holds because R^2 mod m < m */
        mod_mul(M, r, a, M->r2);
    }
}

/* Plain residue of an internal element. */
static void mod_from(const modulus *M, uint64_t r[EC_N], const uint64_t a[EC_N])
{
    if (M->pm) {
        ln_copy(r, a);
    } else {
        uint64_t t[2 * EC_N];
        EC_UNROLL
        for (int i = 0; i < EC_N; i++) {
            t[i] = a[i];
            t[EC_N + i] = 0;
        }
        mont_redc(M, r, t);
    }
}

/* r = a^e for a public exponent e (4-bit fixed window; branches only on e). */
static void mod_pow_public(const modulus *M, uint64_t r[EC_N], const uint64_t a[EC_N], const uint64_t e[EC_N])
{
    uint64_t tbl[16][EC_N];
    ln_copy(tbl[0], M->one);
    ln_copy(tbl[1], a);
    EC_UNROLL
    for (int i = 2; i < 16; i++)
        mod_mul(M, tbl[i], tbl[i - 1], a);
    unsigned nbits = ln_bitlen_vt(e);
    uint64_t acc[EC_N];
    ln_copy(acc, M->one);
    int started = 0;
    EC_UNROLL
    for (int pos = (int)((nbits + 3) / 4) * 4 - 4; pos >= 0; pos -= 4) {
        unsigned nib = ln_bits(e, (unsigned)pos, 4);
        if (started) {
            EC_UNROLL
            for (int s = 0; s < 4; s++)
                mod_sqr(M, acc, acc);
        }
        if (nib) {
            if (started)
                mod_mul(M, acc, acc, tbl[nib]);
            else
                ln_copy(acc, tbl[nib]);
            started = 1;
        }
    }
    ln_copy(r, acc);
    ec_wipe(tbl, sizeof tbl);
}

/* r = a^-1 = a^(m-2) (Fermat's little theorem; m prime). Constant time in a; 0 maps to 0. */
static void mod_inv(const modulus *M, uint64_t r[EC_N], const uint64_t a[EC_N])
{
    mod_pow_public(M, r, a, M->mm2);
}

/* x = x / 2^k mod m for 1 <= k <= 63 (public data): add t*m with t = -x/m mod 2^k, which makes the sum
 * divisible by 2^k (minv = -m^-1 mod 2^64), then shift; (x + t m) / 2^k < m for x < m. */
static void mod_div2k_vt(const modulus *M, uint64_t x[EC_N], unsigned k)
{
    uint64_t t = (x[0] * M->minv) & (((uint64_t)1 << k) - 1);
    uint64_t w[EC_N + 1], carry = 0;
    for (int i = 0; i < EC_N; i++) {
        ec_u128 acc = (ec_u128)t * M->m[i] + x[i] + carry;
        w[i] = (uint64_t)acc;
        carry = (uint64_t)(acc >> 64);
    }
    w[EC_N] = carry;
    for (int i = 0; i < EC_N; i++)
        x[i] = (w[i] >> k) | (w[i + 1] << (64 - k));
}

/* r = a^-1 mod m for a plain 0 < a < m (m prime), variable time: binary extended Euclid keeping
 * x1 * a = u and x2 * a = v (mod m); for public data only (verification), where it is faster than Fermat. */
static void mod_inv_vt(const modulus *M, uint64_t r[EC_N], const uint64_t a[EC_N])
{
    uint64_t u[EC_N], v[EC_N], x1[EC_N], x2[EC_N], t[EC_N];
    ln_copy(u, a);
    ln_copy(v, M->m);
    ln_set_u64(x1, 1);
    ln_zero(x2);
    while (!ln_is_zero_vt(u)) {
        while ((u[0] & 1) == 0) { /* u = u / 2^k, x1 = x1 / 2^k */
            unsigned k = u[0] ? (unsigned)__builtin_ctzll(u[0]) : 63;
            for (int i = 0; i < EC_N; i++)
                u[i] = (u[i] >> k) | (i + 1 < EC_N ? u[i + 1] << (64 - k) : 0);
            mod_div2k_vt(M, x1, k);
        }
        if (ln_cmp_vt(u, v) < 0) { /* keep u >= v */
            ln_copy(t, u), ln_copy(u, v), ln_copy(v, t);
            ln_copy(t, x1), ln_copy(x1, x2), ln_copy(x2, t);
        }
        ln_sub(u, u, v); /* both odd: the difference is even (or zero) */
        mod_sub(M, x1, x1, x2);
    }
    ln_copy(r, x2); /* v = gcd(a, m) = 1 */
}

/* Set up M for the odd modulus m (m > 3). Returns 0 on success, -1 when m is even or too small. */
static int mod_init(modulus *M, const uint64_t m[EC_N])
{
    if ((m[0] & 1) == 0)
        return -1;
    uint64_t three[EC_N];
    ln_set_u64(three, 3);
    if (ln_cmp_vt(m, three) <= 0)
        return -1;
    ln_copy(M->m, m);
    uint64_t two[EC_N];
    ln_set_u64(two, 2);
    ln_sub(M->mm2, m, two);
    M->bits = ln_bitlen_vt(m);

    /* -m^-1 mod 2^64 by Newton's iteration (each step doubles the correct low bits) */
    uint64_t inv = 1;
    EC_UNROLL
    for (int i = 0; i < 7; i++)
        inv *= 2 - m[0] * inv;
    M->minv = (uint64_t)0 - inv;

    M->pm = 0;
    M->c = 0;
    int high_ones = 1;
    EC_UNROLL
    for (int i = 1; i < EC_N; i++)
        high_ones &= m[i] == ~(uint64_t)0;
    if (high_ones && m[0] >= ((uint64_t)0 - ((uint64_t)1 << 32))) {
        M->pm = 1;
        M->c = (uint64_t)0 - m[0];
    }

    /* R^2 mod m by doubling 1 modulo m 2*64*N times (public data, once per curve) */
    uint64_t x[EC_N];
    ln_set_u64(x, 1);
    EC_UNROLL
    for (int i = 0; i < 128 * EC_N; i++) {
        uint64_t carry = ln_add(x, x, x);
        mod_final_sub(M, x, x, carry);
    }
    ln_copy(M->r2, x);
    uint64_t one[EC_N];
    ln_set_u64(one, 1);
    mod_to(M, M->one, one);
    return 0;
}

/* Miller-Rabin probable-prime test (public data): fixed small bases plus two random ones. */
static int mod_is_probable_prime(const modulus *M)
{
    static const uint64_t bases[] = {2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53};
    const int nfixed = (int)(sizeof bases / sizeof bases[0]);
    uint64_t dd[EC_N], one_plain[EC_N], mminus1[EC_N], minus1[EC_N];
    ln_set_u64(one_plain, 1);
    ln_sub(mminus1, M->m, one_plain);
    mod_to(M, minus1, mminus1);
    /* m - 1 = 2^s * dd with dd odd */
    ln_copy(dd, mminus1);
    unsigned s = 0;
    while ((dd[0] & 1) == 0) {
        EC_UNROLL
        for (int i = 0; i < EC_N; i++)
            dd[i] = (dd[i] >> 1) | (i + 1 < EC_N ? dd[i + 1] << 63 : 0);
        s++;
    }
    EC_UNROLL
    for (int round = 0; round < nfixed + 2; round++) {
        uint64_t base[EC_N], x[EC_N];
        if (round < nfixed) {
            ln_set_u64(base, bases[round]);
        } else {
            uint8_t buf[EC_BYTES];
            if (ec_random_bytes(buf, sizeof buf) != 0)
                return 0;
            ln_from_be(base, buf);
        }
        mod_to(M, x, base);
        if (ln_is_zero_vt(x) || ln_cmp_vt(x, M->one) == 0 || ln_cmp_vt(x, minus1) == 0)
            continue;
        mod_pow_public(M, x, x, dd);
        if (ln_cmp_vt(x, M->one) == 0 || ln_cmp_vt(x, minus1) == 0)
            continue;
        int witness = 1;
        EC_UNROLL
        for (unsigned i = 1; i < s; i++) {
            mod_sqr(M, x, x);
            if (ln_cmp_vt(x, minus1) == 0) {
                witness = 0;
                break;
            }
        }
        if (witness)
            return 0;
    }
    return 1;
}
