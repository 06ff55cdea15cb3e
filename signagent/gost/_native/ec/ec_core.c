/*
 * Width dispatch of the GOST R 34.10-2012 core (see ec_core.h), the OS random generator and secret wiping.
 */
#define _DEFAULT_SOURCE /* getrandom() and O_CLOEXEC under -std=c11 */
#include "ec_core.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/random.h>
#endif

#include "ec_ct.h"
#include "ec_width.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#endif

int ec_use_adx = 0;

/* CPUID leaf 7: EBX bit 8 = BMI2, bit 19 = ADX. Runs when the library is loaded, before any thread can use it.
 * SIGNAGENT_EC_FORCE_ADX forces the ADX code (the constant-time test uses it: valgrind runs those instructions
 * but hides the CPUID bit). */
__attribute__((constructor)) static void ec_detect_cpu(void)
{
#if defined(SIGNAGENT_EC_FORCE_ADX)
    ec_use_adx = 1;
#elif defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    unsigned a, b, c, d;
    if (__get_cpuid_count(7, 0, &a, &b, &c, &d))
        ec_use_adx = ((b >> 8) & 1) && ((b >> 19) & 1);
#endif
}

struct ec_engine {
    size_t size; /* 32 or 64 */
    void *curve; /* the width instance's curve */
};

void ec_wipe(void *p, size_t n)
{
    volatile uint8_t *v = p;
    while (n--)
        *v++ = 0;
}

/* /dev/urandom, for systems without getrandom(2). */
static int urandom_bytes(uint8_t *buf, size_t n)
{
    int fd;
    do {
        fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return EC_ERR_RNG;
    while (n > 0) {
        ssize_t got = read(fd, buf, n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            close(fd);
            return EC_ERR_RNG;
        }
        buf += got;
        n -= (size_t)got;
    }
    close(fd);
    return EC_OK;
}

int ec_random_bytes(uint8_t *buf, size_t n)
{
#if defined(__linux__)
    while (n > 0) {
        ssize_t got = getrandom(buf, n, 0); /* blocks only until the kernel pool is first seeded */
        if (got < 0) {
            if (errno == EINTR)
                continue;
            if (errno == ENOSYS)
                return urandom_bytes(buf, n);
            return EC_ERR_RNG;
        }
        buf += got;
        n -= (size_t)got;
    }
    return EC_OK;
#else
    return urandom_bytes(buf, n);
#endif
}

int ec_engine_new(ec_engine **out, size_t size, const uint8_t *p, const uint8_t *a, const uint8_t *b,
                  const uint8_t *q, const uint8_t *gx, const uint8_t *gy)
{
    *out = NULL;
    if (size != 32 && size != 64)
        return EC_ERR_SIZE;
    ec_engine *eng = malloc(sizeof *eng);
    if (!eng)
        return EC_ERR_NOMEM;
    int err = EC_OK;
    eng->size = size;
    eng->curve = size == 32 ? ec4_curve_new(p, a, b, q, gx, gy, &err) : ec8_curve_new(p, a, b, q, gx, gy, &err);
    if (!eng->curve) {
        free(eng);
        return err;
    }
    *out = eng;
    return EC_OK;
}

void ec_engine_free(ec_engine *eng)
{
    if (!eng)
        return;
    if (eng->size == 32)
        ec4_curve_free(eng->curve);
    else
        ec8_curve_free(eng->curve);
    free(eng);
}

size_t ec_engine_size(const ec_engine *eng)
{
    return eng->size;
}

int ec_engine_precompute(ec_engine *eng)
{
    return eng->size == 32 ? ec4_precompute(eng->curve) : ec8_precompute(eng->curve);
}

int ec_engine_ready(const ec_engine *eng)
{
    return eng->size == 32 ? ec4_ready(eng->curve) : ec8_ready(eng->curve);
}

int ec_scalar_ok(const ec_engine *eng, const uint8_t *x)
{
    return eng->size == 32 ? ec4_scalar_ok(eng->curve, x) : ec8_scalar_ok(eng->curve, x);
}

int ec_public_key(const ec_engine *eng, const uint8_t *d, uint8_t *out)
{
    if (!ec_engine_ready(eng))
        return EC_ERR_PARAM;
    return eng->size == 32 ? ec4_public_key(eng->curve, d, out) : ec8_public_key(eng->curve, d, out);
}

int ec_sign(const ec_engine *eng, const uint8_t *d, const uint8_t *e, const uint8_t *k, uint8_t *sig)
{
    if (!ec_engine_ready(eng))
        return EC_ERR_PARAM;
    return eng->size == 32 ? ec4_sign(eng->curve, d, e, k, sig) : ec8_sign(eng->curve, d, e, k, sig);
}

int ec_verify(const ec_engine *eng, const uint8_t *qx, const uint8_t *qy, const uint8_t *e, const uint8_t *sig)
{
    if (!ec_engine_ready(eng))
        return 0;
    return eng->size == 32 ? ec4_verify(eng->curve, qx, qy, e, sig) : ec8_verify(eng->curve, qx, qy, e, sig);
}

int ec_check_point(const ec_engine *eng, const uint8_t *x, const uint8_t *y)
{
    return eng->size == 32 ? ec4_check_point(eng->curve, x, y) : ec8_check_point(eng->curve, x, y);
}

int ec_mul(const ec_engine *eng, const uint8_t *k, const uint8_t *x, const uint8_t *y, uint8_t *out)
{
    return eng->size == 32 ? ec4_mul(eng->curve, k, x, y, out) : ec8_mul(eng->curve, k, x, y, out);
}
