/* BLAKE3 lanes kernel for SSE4.1: four inputs at once, one per 32-bit lane of an XMM register.
 * Compiled with -msse4.1 on its own; called only when CPUID reports SSE4.1. */
#include <immintrin.h>

#include "blake3_impl.h"

#define LANE_COUNT 4
#define HASH_LANES_FN lc_b3_hash_lanes_sse41

typedef __m128i vec;

LC_ALWAYS_INLINE vec add(vec a, vec b) { return _mm_add_epi32(a, b); }
LC_ALWAYS_INLINE vec xor_(vec a, vec b) { return _mm_xor_si128(a, b); }
LC_ALWAYS_INLINE vec set1(uint32_t w) { return _mm_set1_epi32((int)w); }
LC_ALWAYS_INLINE vec load_u32(const uint32_t *w) { return _mm_loadu_si128((const vec *)w); }

/* Rotations by whole bytes are one byte shuffle; the others are two shifts and an or. */
LC_ALWAYS_INLINE vec rot16(vec x) {
    return _mm_shuffle_epi8(x, _mm_set_epi8(13, 12, 15, 14, 9, 8, 11, 10, 5, 4, 7, 6, 1, 0, 3, 2));
}
LC_ALWAYS_INLINE vec rot8(vec x) {
    return _mm_shuffle_epi8(x, _mm_set_epi8(12, 15, 14, 13, 8, 11, 10, 9, 4, 7, 6, 5, 0, 3, 2, 1));
}
LC_ALWAYS_INLINE vec rot12(vec x) { return _mm_or_si128(_mm_srli_epi32(x, 12), _mm_slli_epi32(x, 20)); }
LC_ALWAYS_INLINE vec rot7(vec x) { return _mm_or_si128(_mm_srli_epi32(x, 7), _mm_slli_epi32(x, 25)); }

/* Transposes a 4x4 matrix of 32-bit words held as four row vectors, in place. */
LC_ALWAYS_INLINE void transpose4(vec *r0, vec *r1, vec *r2, vec *r3) {
    vec t0 = _mm_unpacklo_epi32(*r0, *r1), t1 = _mm_unpackhi_epi32(*r0, *r1);
    vec t2 = _mm_unpacklo_epi32(*r2, *r3), t3 = _mm_unpackhi_epi32(*r2, *r3);
    *r0 = _mm_unpacklo_epi64(t0, t2);
    *r1 = _mm_unpackhi_epi64(t0, t2);
    *r2 = _mm_unpacklo_epi64(t1, t3);
    *r3 = _mm_unpackhi_epi64(t1, t3);
}

LC_ALWAYS_INLINE void load_message(const uint8_t *const blocks[4], vec m[16]) {
    for (int quarter = 0; quarter < 4; quarter++) {
        vec *q = m + 4 * quarter;
        for (int lane = 0; lane < 4; lane++) {
            q[lane] = _mm_loadu_si128((const vec *)(blocks[lane] + 16 * quarter));
        }
        transpose4(&q[0], &q[1], &q[2], &q[3]);
    }
}

LC_ALWAYS_INLINE void store_cvs(vec cv[8], uint8_t *const outs[4]) {
    transpose4(&cv[0], &cv[1], &cv[2], &cv[3]);
    transpose4(&cv[4], &cv[5], &cv[6], &cv[7]);
    for (int lane = 0; lane < 4; lane++) {
        _mm_storeu_si128((vec *)outs[lane], cv[lane]);
        _mm_storeu_si128((vec *)(outs[lane] + 16), cv[lane + 4]);
    }
}

#include "blake3_lanes.h"
