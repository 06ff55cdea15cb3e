/* Streebog, the hash function of GOST R 34.11-2012 (= RFC 6986): portable C11 core.
 *
 * Byte order: the standard prints messages and hash codes as big-endian numbers; like every implementation
 * that CMS/X.509 producers use, this core hashes byte strings whose first byte is the least significant byte of
 * that number, and returns the hash code in the same order. Internally a 512-bit vector is eight 64-bit words,
 * word 0 the least significant (the little-endian load of bytes 0..7).
 *
 * Use: call streebog_tables_init() once (not thread safe, idempotent), then init / update / final per message.
 * A context is plain data: copy it with memcpy or assignment to fork a hash computation.
 */
#ifndef SIGNAGENT_STREEBOG_H
#define SIGNAGENT_STREEBOG_H

#include <stddef.h>
#include <stdint.h>

#define STREEBOG_BLOCK_SIZE 64

typedef struct {
    uint64_t h[8];                      /* chaining value h (§8) */
    uint64_t n[8];                      /* N: number of message bits processed so far, mod 2^512 */
    uint64_t sigma[8];                  /* Σ: sum of the processed message blocks, mod 2^512 */
    uint8_t buf[STREEBOG_BLOCK_SIZE];   /* bytes of an incomplete block */
    size_t buflen;                      /* 0..63 */
    unsigned digest_size;               /* 32 or 64 (bytes) */
} streebog_ctx;

/* Build the combined LPS tables from the standard's constants. Must run once before any hashing; calling it
 * again is harmless. Returns 0. */
int streebog_tables_init(void);

/* Start a hash computation with a digest of 32 (256-bit) or 64 (512-bit) bytes. Returns 0, or -1 (context left
 * untouched) for any other digest_size. */
int streebog_init(streebog_ctx *ctx, unsigned digest_size);

/* Absorb len bytes (len may be 0; data may then be NULL). Any length, in any number of calls. */
void streebog_update(streebog_ctx *ctx, const void *data, size_t len);

/* Write the digest (ctx->digest_size bytes) to out without changing ctx, so that hashing may go on. */
void streebog_final(const streebog_ctx *ctx, uint8_t *out);

#endif
