/* Assertions and small helpers shared by every native module of ledgercore.
 *
 * LC_ASSERT stays on in release builds: it guards "our code is wrong" (an index past a count, a
 * null output), where carrying on could write wrong money to disk. Facts about the caller's data
 * are checked and reported, never asserted. LC_DEBUG_ASSERT holds the O(n) checks and is compiled
 * only when LC_DEBUG is set (LEDGERCORE_DEBUG=1 builds).
 */
#ifndef LC_COMMON_H
#define LC_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define LC_LIKELY(x) __builtin_expect(!!(x), 1)
#define LC_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* For the small helpers of SIMD kernels: a call would spill the whole state to memory. */
#define LC_ALWAYS_INLINE static inline __attribute__((always_inline))

#define LC_STATIC_ASSERT(expr) _Static_assert(expr, #expr)

static inline void lc_assert_fail(const char *expr, const char *file, int line) {
    fprintf(stderr, "ledgercore: assertion failed: %s (%s:%d)\n", expr, file, line);
    fflush(stderr);
    abort();
}

#define LC_ASSERT(expr) \
    do { \
        if (LC_UNLIKELY(!(expr))) lc_assert_fail(#expr, __FILE__, __LINE__); \
    } while (0)

#if defined(LC_DEBUG) && LC_DEBUG
#define LC_DEBUG_ASSERT(expr) LC_ASSERT(expr)
#else
#define LC_DEBUG_ASSERT(expr) ((void)0)
#endif

/* Status codes returned by native entry points; 0 is success. */
#define LC_OK 0
#define LC_ERROR_ARGUMENT (-1)
#define LC_ERROR_UNSUPPORTED (-2)
#define LC_ERROR_MEMORY (-3)

static inline uint32_t lc_load32_le(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static inline void lc_store32_le(uint8_t *p, uint32_t w) {
    p[0] = (uint8_t)w;
    p[1] = (uint8_t)(w >> 8);
    p[2] = (uint8_t)(w >> 16);
    p[3] = (uint8_t)(w >> 24);
}

static inline uint64_t lc_load64_le(const uint8_t *p) {
    return (uint64_t)lc_load32_le(p) | ((uint64_t)lc_load32_le(p + 4) << 32);
}

static inline void lc_store64_le(uint8_t *p, uint64_t w) {
    lc_store32_le(p, (uint32_t)w);
    lc_store32_le(p + 4, (uint32_t)(w >> 32));
}

#endif
