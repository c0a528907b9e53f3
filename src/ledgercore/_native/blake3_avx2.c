/* BLAKE3 lanes kernel for AVX2: eight inputs at once, one per 32-bit lane of a YMM register.
 * Compiled with -mavx2 on its own; called only when CPUID reports AVX2 and OS support. */
#include <immintrin.h>

#include "blake3_impl.h"

#define LANE_COUNT 8
#define HASH_LANES_FN lc_b3_hash_lanes_avx2

typedef __m256i vec;

LC_ALWAYS_INLINE vec add(vec a, vec b) { return _mm256_add_epi32(a, b); }
LC_ALWAYS_INLINE vec xor_(vec a, vec b) { return _mm256_xor_si256(a, b); }
LC_ALWAYS_INLINE vec set1(uint32_t w) { return _mm256_set1_epi32((int)w); }
LC_ALWAYS_INLINE vec load_u32(const uint32_t *w) { return _mm256_loadu_si256((const vec *)w); }

/* Rotations by whole bytes are one byte shuffle; the others are two shifts and an or. */
LC_ALWAYS_INLINE vec rot16(vec x) {
    return _mm256_shuffle_epi8(x, _mm256_set_epi8(13, 12, 15, 14, 9, 8, 11, 10, 5, 4, 7, 6, 1, 0,
                                                  3, 2, 13, 12, 15, 14, 9, 8, 11, 10, 5, 4, 7, 6,
                                                  1, 0, 3, 2));
}
LC_ALWAYS_INLINE vec rot8(vec x) {
    return _mm256_shuffle_epi8(x, _mm256_set_epi8(12, 15, 14, 13, 8, 11, 10, 9, 4, 7, 6, 5, 0, 3,
                                                  2, 1, 12, 15, 14, 13, 8, 11, 10, 9, 4, 7, 6, 5,
                                                  0, 3, 2, 1));
}
LC_ALWAYS_INLINE vec rot12(vec x) { return _mm256_or_si256(_mm256_srli_epi32(x, 12), _mm256_slli_epi32(x, 20)); }
LC_ALWAYS_INLINE vec rot7(vec x) { return _mm256_or_si256(_mm256_srli_epi32(x, 7), _mm256_slli_epi32(x, 25)); }

/* Transposes an 8x8 matrix of 32-bit words held as eight row vectors, in place. */
LC_ALWAYS_INLINE void transpose8(vec r[8]) {
    vec t0 = _mm256_unpacklo_epi32(r[0], r[1]), t1 = _mm256_unpackhi_epi32(r[0], r[1]);
    vec t2 = _mm256_unpacklo_epi32(r[2], r[3]), t3 = _mm256_unpackhi_epi32(r[2], r[3]);
    vec t4 = _mm256_unpacklo_epi32(r[4], r[5]), t5 = _mm256_unpackhi_epi32(r[4], r[5]);
    vec t6 = _mm256_unpacklo_epi32(r[6], r[7]), t7 = _mm256_unpackhi_epi32(r[6], r[7]);
    vec u0 = _mm256_unpacklo_epi64(t0, t2), u1 = _mm256_unpackhi_epi64(t0, t2);
    vec u2 = _mm256_unpacklo_epi64(t1, t3), u3 = _mm256_unpackhi_epi64(t1, t3);
    vec u4 = _mm256_unpacklo_epi64(t4, t6), u5 = _mm256_unpackhi_epi64(t4, t6);
    vec u6 = _mm256_unpacklo_epi64(t5, t7), u7 = _mm256_unpackhi_epi64(t5, t7);
    r[0] = _mm256_permute2x128_si256(u0, u4, 0x20);
    r[1] = _mm256_permute2x128_si256(u1, u5, 0x20);
    r[2] = _mm256_permute2x128_si256(u2, u6, 0x20);
    r[3] = _mm256_permute2x128_si256(u3, u7, 0x20);
    r[4] = _mm256_permute2x128_si256(u0, u4, 0x31);
    r[5] = _mm256_permute2x128_si256(u1, u5, 0x31);
    r[6] = _mm256_permute2x128_si256(u2, u6, 0x31);
    r[7] = _mm256_permute2x128_si256(u3, u7, 0x31);
}

LC_ALWAYS_INLINE void load_message(const uint8_t *const blocks[8], vec m[16]) {
    for (int lane = 0; lane < 8; lane++) {
        m[lane] = _mm256_loadu_si256((const vec *)blocks[lane]);
        m[lane + 8] = _mm256_loadu_si256((const vec *)(blocks[lane] + 32));
    }
    transpose8(m);
    transpose8(m + 8);
}

LC_ALWAYS_INLINE void store_cvs(vec cv[8], uint8_t *const outs[8]) {
    transpose8(cv);
    for (int lane = 0; lane < 8; lane++) _mm256_storeu_si256((vec *)outs[lane], cv[lane]);
}

#include "blake3_lanes.h"
