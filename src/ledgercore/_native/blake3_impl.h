/* BLAKE3 internals shared by the hashing layer and the kernels; not part of the public API.
 *
 * A "lanes" kernel compresses several independent inputs side by side, one per SIMD lane. Every
 * lane runs the same number of blocks, so the flags are the same in every lane; the length of each
 * lane's last block and each lane's counter may differ. That one shape serves every use: many short
 * inputs (each a whole chunk, ROOT on its last block), the chunks of one long input (counter = the
 * chunk's index) and parent nodes (one block, PARENT).
 */
#ifndef LC_BLAKE3_IMPL_H
#define LC_BLAKE3_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "blake3.h"
#include "common.h"

enum {
    LC_B3_CHUNK_START = 1 << 0,
    LC_B3_CHUNK_END = 1 << 1,
    LC_B3_PARENT = 1 << 2,
    LC_B3_ROOT = 1 << 3,
    LC_B3_KEYED_HASH = 1 << 4,
    LC_B3_DERIVE_KEY_CONTEXT = 1 << 5,
    LC_B3_DERIVE_KEY_MATERIAL = 1 << 6,
};

#define LC_B3_BLOCKS_PER_CHUNK (LC_BLAKE3_CHUNK_SIZE / LC_BLAKE3_BLOCK_SIZE)
/* The widest kernel's lanes: AVX-512's sixteen 32-bit lanes. */
#define LC_B3_LANES_MAX 16

LC_STATIC_ASSERT(LC_B3_BLOCKS_PER_CHUNK == 16);

static const uint32_t LC_B3_IV[8] = {
    0x6A09E667u, 0xBB67AE85u, 0x3C6EF372u, 0xA54FF53Au,
    0x510E527Fu, 0x9B05688Cu, 0x1F83D9ABu, 0x5BE0CD19u,
};

/* Which message word each G input takes in each of the seven rounds: the specification's
 * permutation applied r times, so kernels index the block instead of moving it. */
static const uint8_t LC_B3_SCHEDULE[7][16] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8},
    {3, 4, 10, 12, 13, 2, 7, 14, 6, 5, 9, 0, 11, 15, 8, 1},
    {10, 7, 12, 9, 14, 3, 13, 15, 4, 0, 11, 2, 5, 8, 1, 6},
    {12, 13, 9, 11, 15, 10, 14, 8, 7, 2, 5, 3, 0, 1, 6, 4},
    {9, 14, 11, 5, 8, 12, 15, 1, 13, 3, 0, 10, 2, 6, 4, 7},
    {11, 15, 5, 0, 1, 9, 8, 6, 14, 10, 2, 12, 3, 4, 7, 13},
};

/* The lanes of one kernel call: lane_count of them, at most the kernel's width (a kernel fills its
 * unused lanes itself). Lane i hashes `block_count` blocks from inputs[i]; its last block
 * holds last_block_size[i] bytes (1..64, or 0 only when block_count is 1 and the input is empty).
 * The first block gets flags | flags_start, the last flags | flags_end. The lane's chaining value
 * (the first 32 bytes of its output) goes to outs[i]. */
typedef struct {
    size_t lane_count;
    const uint8_t *inputs[LC_B3_LANES_MAX];
    uint8_t *outs[LC_B3_LANES_MAX];
    uint64_t counters[LC_B3_LANES_MAX];
    uint32_t last_block_size[LC_B3_LANES_MAX];
    size_t block_count;
    /* When nonzero, block b of input + prefetch_offset is fetched into the cache while block b is
     * hashed: the caller knows where its next call's inputs are. */
    size_t prefetch_offset;
    uint32_t key_words[8];
    uint8_t flags;
    uint8_t flags_start;
    uint8_t flags_end;
} lc_b3_lanes;

typedef void (*lc_b3_lanes_fn)(const lc_b3_lanes *lanes);

typedef struct {
    const char *name;
    size_t lane_count;
    lc_b3_lanes_fn hash_lanes;
} lc_b3_kernel;

/* One compression, portable C: the 16 output words (the first 8 are the chaining value). */
void lc_b3_compress(const uint32_t cv[8], const uint8_t block[64], uint32_t block_size,
                    uint64_t counter, uint8_t flags, uint32_t out[16]);

void lc_b3_hash_lanes_portable(const lc_b3_lanes *lanes);
#if defined(LC_HAVE_SSE41)
void lc_b3_hash_lanes_sse41(const lc_b3_lanes *lanes);
#endif
#if defined(LC_HAVE_AVX2)
void lc_b3_hash_lanes_avx2(const lc_b3_lanes *lanes);
#endif
#if defined(LC_HAVE_AVX512)
void lc_b3_hash_lanes_avx512(const lc_b3_lanes *lanes);
#endif
#if defined(LC_HAVE_NEON)
void lc_b3_hash_lanes_neon(const lc_b3_lanes *lanes);
#endif

/* The kernel in use; chosen on first call from the CPU's features (blake3_dispatch.c). */
const lc_b3_kernel *lc_b3_kernel_selected(void);
extern const lc_b3_kernel lc_b3_kernel_portable;

static inline void lc_b3_key_words(const uint8_t *key, uint32_t words[8]) {
    for (int i = 0; i < 8; i++) {
        words[i] = key != NULL ? lc_load32_le(key + 4 * i) : LC_B3_IV[i];
    }
}

/* The bytes of lane's block b, padded with zeros when it is the partial last block. */
static inline const uint8_t *lc_b3_block(const lc_b3_lanes *lanes, size_t lane, size_t b,
                                         uint8_t padded[64]) {
    const uint8_t *block = lanes->inputs[lane] + b * LC_BLAKE3_BLOCK_SIZE;
    uint32_t size = lanes->last_block_size[lane];
    if (b + 1 < lanes->block_count || size == LC_BLAKE3_BLOCK_SIZE) return block;
    LC_ASSERT(size < LC_BLAKE3_BLOCK_SIZE);
    memset(padded, 0, LC_BLAKE3_BLOCK_SIZE);
    if (size > 0) memcpy(padded, block, size);
    return padded;
}

#endif
