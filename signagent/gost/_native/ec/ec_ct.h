/*
 * Constant-time building blocks shared by every file of the GOST R 34.10-2012 core.
 *
 * Secret data (the private key d, the nonce k and everything derived from them before a value becomes public
 * output) must never steer a branch or a memory address: masks replace conditions, table look-ups scan every
 * entry. ct_barrier() hides a value from the optimiser so that it cannot turn a mask back into a branch.
 *
 * CT_SECRET / CT_PUBLIC mark memory for the valgrind constant-time test (tests/gost/ct/): built with
 * -DSIGNAGENT_CT_VALGRIND they tell memcheck that a buffer is secret ("undefined") or has become public output
 * ("defined"), so that memcheck reports any branch or address that depends on a secret. Otherwise they vanish.
 */
#ifndef SIGNAGENT_EC_CT_H
#define SIGNAGENT_EC_CT_H

#include <stddef.h>
#include <stdint.h>

typedef unsigned __int128 ec_u128;

/* An opaque copy of x: the compiler may not reason about its value (keeps masks as masks). */
static inline uint64_t ct_barrier(uint64_t x)
{
    __asm__("" : "+r"(x));
    return x;
}

/* All ones when x != 0, else 0, without a branch. */
static inline uint64_t ct_mask_nonzero(uint64_t x)
{
    return ct_barrier((uint64_t)0 - ((x | ((uint64_t)0 - x)) >> 63));
}

/* All ones when a == b, else 0. */
static inline uint64_t ct_mask_eq(uint64_t a, uint64_t b)
{
    return ~ct_mask_nonzero(a ^ b);
}

/* All ones when the low bit of b is set, else 0. */
static inline uint64_t ct_mask_bit(uint64_t b)
{
    return ct_barrier((uint64_t)0 - (b & 1));
}

#ifdef SIGNAGENT_CT_VALGRIND
#include <valgrind/memcheck.h>
#define CT_SECRET(p, n) ((void)VALGRIND_MAKE_MEM_UNDEFINED((p), (n)))
#define CT_PUBLIC(p, n) ((void)VALGRIND_MAKE_MEM_DEFINED((p), (n)))
#else
#define CT_SECRET(p, n) ((void)(p), (void)(n))
#define CT_PUBLIC(p, n) ((void)(p), (void)(n))
#endif

/* Overwrite n bytes at p with zeros in a way the optimiser cannot drop (secrets on the stack). */
void ec_wipe(void *p, size_t n);

#endif
