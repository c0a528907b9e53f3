/* BLAKE3 compression in portable C: the reference every SIMD kernel is tested against, and the
 * kernel for any CPU without one. */
#include <string.h>

#include "blake3_impl.h"

static inline uint32_t rotr32(uint32_t w, unsigned c) { return (w >> c) | (w << (32 - c)); }

static inline void g(uint32_t v[16], int a, int b, int c, int d, uint32_t x, uint32_t y) {
    v[a] = v[a] + v[b] + x;
    v[d] = rotr32(v[d] ^ v[a], 16);
    v[c] = v[c] + v[d];
    v[b] = rotr32(v[b] ^ v[c], 12);
    v[a] = v[a] + v[b] + y;
    v[d] = rotr32(v[d] ^ v[a], 8);
    v[c] = v[c] + v[d];
    v[b] = rotr32(v[b] ^ v[c], 7);
}

static inline void round_fn(uint32_t v[16], const uint32_t m[16], const uint8_t s[16]) {
    g(v, 0, 4, 8, 12, m[s[0]], m[s[1]]);
    g(v, 1, 5, 9, 13, m[s[2]], m[s[3]]);
    g(v, 2, 6, 10, 14, m[s[4]], m[s[5]]);
    g(v, 3, 7, 11, 15, m[s[6]], m[s[7]]);
    g(v, 0, 5, 10, 15, m[s[8]], m[s[9]]);
    g(v, 1, 6, 11, 12, m[s[10]], m[s[11]]);
    g(v, 2, 7, 8, 13, m[s[12]], m[s[13]]);
    g(v, 3, 4, 9, 14, m[s[14]], m[s[15]]);
}

void lc_b3_compress(const uint32_t cv[8], const uint8_t block[64], uint32_t block_size,
                    uint64_t counter, uint8_t flags, uint32_t out[16]) {
    LC_ASSERT(block_size <= LC_BLAKE3_BLOCK_SIZE);
    uint32_t m[16];
    for (int i = 0; i < 16; i++) m[i] = lc_load32_le(block + 4 * i);
    uint32_t v[16] = {
        cv[0], cv[1], cv[2], cv[3], cv[4], cv[5], cv[6], cv[7],
        LC_B3_IV[0], LC_B3_IV[1], LC_B3_IV[2], LC_B3_IV[3],
        (uint32_t)counter, (uint32_t)(counter >> 32), block_size, flags,
    };
    for (int r = 0; r < 7; r++) round_fn(v, m, LC_B3_SCHEDULE[r]);
    for (int i = 0; i < 8; i++) {
        out[i] = v[i] ^ v[i + 8];
        out[i + 8] = v[i + 8] ^ cv[i];
    }
}

void lc_b3_hash_lanes_portable(const lc_b3_lanes *lanes) {
    LC_ASSERT(lanes->block_count >= 1);
    LC_ASSERT(lanes->block_count <= LC_B3_BLOCKS_PER_CHUNK);
    LC_ASSERT(lanes->lane_count <= LC_B3_LANES_MAX);
    for (size_t lane = 0; lane < lanes->lane_count; lane++) {
        uint32_t cv[8];
        memcpy(cv, lanes->key_words, sizeof cv);
        for (size_t b = 0; b < lanes->block_count; b++) {
            uint8_t padded[64];
            const uint8_t *block = lc_b3_block(lanes, lane, b, padded);
            uint8_t flags = lanes->flags;
            if (b == 0) flags |= lanes->flags_start;
            if (b + 1 == lanes->block_count) flags |= lanes->flags_end;
            uint32_t size = b + 1 == lanes->block_count ? lanes->last_block_size[lane] : 64;
            uint32_t out[16];
            lc_b3_compress(cv, block, size, lanes->counters[lane], flags, out);
            memcpy(cv, out, sizeof cv);
        }
        for (int i = 0; i < 8; i++) lc_store32_le(lanes->outs[lane] + 4 * i, cv[i]);
    }
}

const lc_b3_kernel lc_b3_kernel_portable = {"portable", 1, lc_b3_hash_lanes_portable};
