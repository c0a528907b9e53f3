/* The body of a SIMD lanes kernel, shared by every instruction set. The including file defines
 * LANE_COUNT, the vector type `vec`, its operations (add, xor_, set1, load_u32, rot16, rot12, rot8,
 * rot7), load_message (the 16 words of a block from each lane, transposed so that m[i] holds word i
 * of every lane), store_cvs (the reverse, for the 8 chaining-value words) and HASH_LANES_FN, the
 * kernel's exported name. Each state word is a vector across lanes, so the diagonal step needs no
 * shuffles: it only picks other vectors.
 */
#ifndef LANE_COUNT
#error "define LANE_COUNT and the vector operations before including blake3_lanes.h"
#endif

/* lc_b3_lanes holds LC_B3_LANES_MAX of each lane's fields; a wider kernel would read past them. */
LC_STATIC_ASSERT(LANE_COUNT <= LC_B3_LANES_MAX);

/* The four G functions of a half round, interleaved step by step so the CPU always has four
 * independent operations in flight. */
LC_ALWAYS_INLINE void half_round(vec v[16], int a0, int a1, int a2, int a3, int b0, int b1, int b2,
                              int b3, int c0, int c1, int c2, int c3, int d0, int d1, int d2,
                              int d3, const vec m[16], const uint8_t s[8]) {
    v[a0] = add(add(v[a0], m[s[0]]), v[b0]);
    v[a1] = add(add(v[a1], m[s[2]]), v[b1]);
    v[a2] = add(add(v[a2], m[s[4]]), v[b2]);
    v[a3] = add(add(v[a3], m[s[6]]), v[b3]);
    v[d0] = rot16(xor_(v[d0], v[a0]));
    v[d1] = rot16(xor_(v[d1], v[a1]));
    v[d2] = rot16(xor_(v[d2], v[a2]));
    v[d3] = rot16(xor_(v[d3], v[a3]));
    v[c0] = add(v[c0], v[d0]);
    v[c1] = add(v[c1], v[d1]);
    v[c2] = add(v[c2], v[d2]);
    v[c3] = add(v[c3], v[d3]);
    v[b0] = rot12(xor_(v[b0], v[c0]));
    v[b1] = rot12(xor_(v[b1], v[c1]));
    v[b2] = rot12(xor_(v[b2], v[c2]));
    v[b3] = rot12(xor_(v[b3], v[c3]));
    v[a0] = add(add(v[a0], m[s[1]]), v[b0]);
    v[a1] = add(add(v[a1], m[s[3]]), v[b1]);
    v[a2] = add(add(v[a2], m[s[5]]), v[b2]);
    v[a3] = add(add(v[a3], m[s[7]]), v[b3]);
    v[d0] = rot8(xor_(v[d0], v[a0]));
    v[d1] = rot8(xor_(v[d1], v[a1]));
    v[d2] = rot8(xor_(v[d2], v[a2]));
    v[d3] = rot8(xor_(v[d3], v[a3]));
    v[c0] = add(v[c0], v[d0]);
    v[c1] = add(v[c1], v[d1]);
    v[c2] = add(v[c2], v[d2]);
    v[c3] = add(v[c3], v[d3]);
    v[b0] = rot7(xor_(v[b0], v[c0]));
    v[b1] = rot7(xor_(v[b1], v[c1]));
    v[b2] = rot7(xor_(v[b2], v[c2]));
    v[b3] = rot7(xor_(v[b3], v[c3]));
}

LC_ALWAYS_INLINE void round_fn(vec v[16], const vec m[16], const uint8_t s[16]) {
    half_round(v, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, m, s);
    half_round(v, 0, 1, 2, 3, 5, 6, 7, 4, 10, 11, 8, 9, 15, 12, 13, 14, m, s + 8);
}

LC_ALWAYS_INLINE void compress(vec cv[8], const vec m[16], vec counter_low, vec counter_high,
                            vec block_size, vec flags) {
    vec v[16] = {
        cv[0], cv[1], cv[2], cv[3], cv[4], cv[5], cv[6], cv[7],
        set1(LC_B3_IV[0]), set1(LC_B3_IV[1]), set1(LC_B3_IV[2]), set1(LC_B3_IV[3]),
        counter_low, counter_high, block_size, flags,
    };
    round_fn(v, m, LC_B3_SCHEDULE[0]);
    round_fn(v, m, LC_B3_SCHEDULE[1]);
    round_fn(v, m, LC_B3_SCHEDULE[2]);
    round_fn(v, m, LC_B3_SCHEDULE[3]);
    round_fn(v, m, LC_B3_SCHEDULE[4]);
    round_fn(v, m, LC_B3_SCHEDULE[5]);
    round_fn(v, m, LC_B3_SCHEDULE[6]);
    for (int i = 0; i < 8; i++) cv[i] = xor_(v[i], v[i + 8]);
}

void HASH_LANES_FN(const lc_b3_lanes *lanes) {
    size_t lane_count = lanes->lane_count;
    LC_ASSERT(lane_count >= 1 && lane_count <= LANE_COUNT);
    LC_ASSERT(lanes->block_count >= 1 && lanes->block_count <= LC_B3_BLOCKS_PER_CHUNK);
    /* Unused lanes repeat lane 0 and write to scratch, so the vector code never branches. */
    lc_b3_lanes full = *lanes;
    uint8_t scratch[LANE_COUNT][32];
    for (size_t lane = lane_count; lane < LANE_COUNT; lane++) {
        full.inputs[lane] = lanes->inputs[0];
        full.outs[lane] = scratch[lane];
        full.counters[lane] = lanes->counters[0];
        full.last_block_size[lane] = lanes->last_block_size[0];
    }
    uint32_t counter_words[2][LANE_COUNT];
    bool partial = false;
    for (size_t lane = 0; lane < LANE_COUNT; lane++) {
        counter_words[0][lane] = (uint32_t)full.counters[lane];
        counter_words[1][lane] = (uint32_t)(full.counters[lane] >> 32);
        partial |= full.last_block_size[lane] != LC_BLAKE3_BLOCK_SIZE;
    }
    vec counter_low = load_u32(counter_words[0]);
    vec counter_high = load_u32(counter_words[1]);
    vec cv[8];
    for (int i = 0; i < 8; i++) cv[i] = set1(full.key_words[i]);
    size_t last = full.block_count - 1;
    for (size_t b = 0; b <= last; b++) {
        const uint8_t *blocks[LANE_COUNT];
        uint8_t padded[LANE_COUNT][64];
        vec block_size = set1(LC_BLAKE3_BLOCK_SIZE);
        if (b < last || !partial) {
            for (size_t lane = 0; lane < LANE_COUNT; lane++) blocks[lane] = full.inputs[lane] + 64 * b;
        } else {
            for (size_t lane = 0; lane < LANE_COUNT; lane++) {
                blocks[lane] = lc_b3_block(&full, lane, b, padded[lane]);
            }
            block_size = load_u32(full.last_block_size);
        }
        if (full.prefetch_offset != 0) {
            for (size_t lane = 0; lane < LANE_COUNT; lane++) {
                __builtin_prefetch(full.inputs[lane] + full.prefetch_offset + 64 * b);
            }
        }
        uint32_t flags = full.flags;
        if (b == 0) flags |= full.flags_start;
        if (b == last) flags |= full.flags_end;
        vec m[16];
        load_message(blocks, m);
        compress(cv, m, counter_low, counter_high, block_size, set1(flags));
    }
    store_cvs(cv, full.outs);
}
