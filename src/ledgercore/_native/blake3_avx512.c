/* BLAKE3 lanes kernel for AVX-512: sixteen inputs at once, one per 32-bit lane of a ZMM register.
 * Compiled with -mavx512f on its own; called only when CPUID reports AVX-512F and the OS saves the
 * opmask and ZMM registers. With 32 vector registers the 16 state words and the 16 message words
 * all stay in registers, which AVX2's 16 cannot hold. */
#include <immintrin.h>

#include "blake3_impl.h"

#define LANE_COUNT 16
#define HASH_LANES_FN lc_b3_hash_lanes_avx512

typedef __m512i vec;

LC_ALWAYS_INLINE vec add(vec a, vec b) { return _mm512_add_epi32(a, b); }
LC_ALWAYS_INLINE vec xor_(vec a, vec b) { return _mm512_xor_si512(a, b); }
LC_ALWAYS_INLINE vec set1(uint32_t w) { return _mm512_set1_epi32((int)w); }
LC_ALWAYS_INLINE vec load_u32(const uint32_t *w) { return _mm512_loadu_si512((const void *)w); }

/* AVX-512F rotates in one instruction, so no rotation needs a byte shuffle or two shifts. */
LC_ALWAYS_INLINE vec rot16(vec x) { return _mm512_ror_epi32(x, 16); }
LC_ALWAYS_INLINE vec rot12(vec x) { return _mm512_ror_epi32(x, 12); }
LC_ALWAYS_INLINE vec rot8(vec x) { return _mm512_ror_epi32(x, 8); }
LC_ALWAYS_INLINE vec rot7(vec x) { return _mm512_ror_epi32(x, 7); }

/* The first two steps of a transpose, on four rows r[0..3]: afterwards 128-bit block k of r[j]
 * holds word 4k + j of each of the four rows, in row order. The unpacks work within 128-bit
 * blocks, so this is a 4x4 transpose inside each of the four blocks at once. */
LC_ALWAYS_INLINE void transpose_blocks4(vec r[4]) {
    vec t0 = _mm512_unpacklo_epi32(r[0], r[1]), t1 = _mm512_unpackhi_epi32(r[0], r[1]);
    vec t2 = _mm512_unpacklo_epi32(r[2], r[3]), t3 = _mm512_unpackhi_epi32(r[2], r[3]);
    r[0] = _mm512_unpacklo_epi64(t0, t2);
    r[1] = _mm512_unpackhi_epi64(t0, t2);
    r[2] = _mm512_unpacklo_epi64(t1, t3);
    r[3] = _mm512_unpackhi_epi64(t1, t3);
}

/* Transposes a 16x16 matrix of 32-bit words held as sixteen row vectors, in place. After
 * transpose_blocks4 on each group g of four rows, block k of r[4g + j] is word 4k + j of rows
 * 4g..4g+3; what remains is a 4x4 transpose of those 128-bit blocks, for each j. */
LC_ALWAYS_INLINE void transpose16(vec r[16]) {
    for (int g = 0; g < 4; g++) transpose_blocks4(r + 4 * g);
    for (int j = 0; j < 4; j++) {
        /* A shuffle's low two blocks come from its first source, the high two from its second:
         * 0x44 takes blocks 0 and 1 of each, 0xEE blocks 2 and 3. */
        vec low01 = _mm512_shuffle_i32x4(r[j], r[4 + j], 0x44);
        vec high01 = _mm512_shuffle_i32x4(r[j], r[4 + j], 0xEE);
        vec low23 = _mm512_shuffle_i32x4(r[8 + j], r[12 + j], 0x44);
        vec high23 = _mm512_shuffle_i32x4(r[8 + j], r[12 + j], 0xEE);
        /* 0x88 takes the even blocks of each source, 0xDD the odd ones: block k of every group. */
        r[j] = _mm512_shuffle_i32x4(low01, low23, 0x88);
        r[4 + j] = _mm512_shuffle_i32x4(low01, low23, 0xDD);
        r[8 + j] = _mm512_shuffle_i32x4(high01, high23, 0x88);
        r[12 + j] = _mm512_shuffle_i32x4(high01, high23, 0xDD);
    }
}

LC_ALWAYS_INLINE void load_message(const uint8_t *const blocks[16], vec m[16]) {
    for (int lane = 0; lane < 16; lane++) m[lane] = _mm512_loadu_si512((const void *)blocks[lane]);
    transpose16(m);
}

/* The eight chaining-value words of each lane go to that lane's 32 bytes: an 8x16 transpose.
 * After transpose_blocks4 on each half of cv, block k of cv[4h + j] holds words 4h..4h+3 of lane
 * 4k + j; one two-source permute puts both halves of lanes j and 4 + j (then 8 + j and 12 + j)
 * side by side, and each 256-bit half is one lane's output. */
LC_ALWAYS_INLINE void store_cvs(vec cv[8], uint8_t *const outs[16]) {
    transpose_blocks4(cv);
    transpose_blocks4(cv + 4);
    /* Indices of 64-bit words; 8 and up are the second source's. */
    const vec blocks01 = _mm512_set_epi64(11, 10, 3, 2, 9, 8, 1, 0);
    const vec blocks23 = _mm512_set_epi64(15, 14, 7, 6, 13, 12, 5, 4);
    for (int j = 0; j < 4; j++) {
        vec lanes01 = _mm512_permutex2var_epi64(cv[j], blocks01, cv[4 + j]);
        vec lanes23 = _mm512_permutex2var_epi64(cv[j], blocks23, cv[4 + j]);
        _mm256_storeu_si256((__m256i *)outs[j], _mm512_castsi512_si256(lanes01));
        _mm256_storeu_si256((__m256i *)outs[4 + j], _mm512_extracti64x4_epi64(lanes01, 1));
        _mm256_storeu_si256((__m256i *)outs[8 + j], _mm512_castsi512_si256(lanes23));
        _mm256_storeu_si256((__m256i *)outs[12 + j], _mm512_extracti64x4_epi64(lanes23, 1));
    }
}

#include "blake3_lanes.h"
