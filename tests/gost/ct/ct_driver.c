/*
 * Constant-time check of the native GOST R 34.10-2012 core under valgrind's memcheck (no Python involved).
 *
 * Usage: ct_driver P A B Q GX GY D K E   (big-endian hex, all of one length: 32 or 64 bytes)
 *
 * The private key d and the nonce k are marked "undefined" with VALGRIND_MAKE_MEM_UNDEFINED, so memcheck
 * reports every conditional jump and every memory address that depends on them ("Conditional jump or move
 * depends on uninitialised value(s)", "Use of uninitialised value"). The core itself marks r, s, the public key
 * and mul's result defined (CT_PUBLIC in ec_ct.h) exactly where they become public output, before the
 * r == 0 / s == 0 checks. The driver runs public-key derivation, signing with the given k, signing with a
 * random k (the core marks the accepted nonce secret) and a ladder multiplication by the secret d, and prints
 * the results so that the test can compare them with the Python module's.
 *
 * Built with -DCT_SELFTEST_LEAK it also branches on one bit of d on purpose: memcheck must report that, which
 * shows the harness can fail.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <valgrind/memcheck.h>

#include "ec_core.h"

#define MAXSIZE 64

static int unhex(const char *s, uint8_t *out, size_t n)
{
    if (strlen(s) != 2 * n)
        return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1)
            return -1;
        out[i] = (uint8_t)v;
    }
    return 0;
}

static void print_hex(const char *label, const uint8_t *b, size_t n)
{
    printf("%s ", label);
    for (size_t i = 0; i < n; i++)
        printf("%02x", b[i]);
    printf("\n");
}

int main(int argc, char **argv)
{
    if (argc != 10) {
        fprintf(stderr, "usage: %s P A B Q GX GY D K E (hex)\n", argv[0]);
        return 2;
    }
    size_t n = strlen(argv[1]) / 2;
    if (n != 32 && n != 64)
        return 2;
    uint8_t prm[6][MAXSIZE], d[MAXSIZE], k[MAXSIZE], e[MAXSIZE];
    for (int i = 0; i < 6; i++)
        if (unhex(argv[1 + i], prm[i], n) != 0)
            return 2;
    if (unhex(argv[7], d, n) != 0 || unhex(argv[8], k, n) != 0 || unhex(argv[9], e, n) != 0)
        return 2;

    ec_engine *eng;
    if (ec_engine_new(&eng, n, prm[0], prm[1], prm[2], prm[3], prm[4], prm[5]) != EC_OK ||
        ec_engine_precompute(eng) != EC_OK) {
        fprintf(stderr, "bad curve\n");
        return 2;
    }

    /* the secrets */
    VALGRIND_MAKE_MEM_UNDEFINED(d, n);
    VALGRIND_MAKE_MEM_UNDEFINED(k, n);

#ifdef CT_SELFTEST_LEAK
    volatile int leak = 0;
    if (d[n - 1] & 1) /* deliberately secret-dependent: memcheck must flag this line */
        leak++;
    (void)leak;
#endif

    /* range checks reveal only validity (the core marks that one bit public) */
    if (!ec_scalar_ok(eng, d) || !ec_scalar_ok(eng, k) || !ec_scalar_ok(eng, e)) {
        fprintf(stderr, "scalar out of range\n");
        return 2;
    }

    uint8_t pub[2 * MAXSIZE], sig[2 * MAXSIZE], sig2[2 * MAXSIZE], dq[2 * MAXSIZE];
    if (ec_public_key(eng, d, pub) != EC_OK)
        return 3;
    print_hex("pub", pub, 2 * n);
    if (ec_sign(eng, d, e, k, sig) != EC_OK)
        return 3;
    print_hex("sig", sig, 2 * n);
    if (ec_sign(eng, d, e, NULL, sig2) != EC_OK)
        return 3;
    /* verification works on public data only */
    printf("verify_given %d\n", ec_verify(eng, pub, pub + n, e, sig));
    printf("verify_random %d\n", ec_verify(eng, pub, pub + n, e, sig2));
    /* the ladder with a secret scalar: d*G again, through the variable-base path */
    int rc = ec_mul(eng, d, prm[4], prm[5], dq);
    if (rc != EC_OK)
        return 3;
    print_hex("mul", dq, 2 * n);
    ec_engine_free(eng);
    return 0;
}
