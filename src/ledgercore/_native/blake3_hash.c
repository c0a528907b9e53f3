/* BLAKE3 over whole inputs: the three modes, extended output, the chunk tree of long inputs and
 * the many-input entry points. The compression itself lives in the kernels (blake3_portable.c and
 * the SIMD files); this file decides what each kernel call hashes.
 *
 * The tree of a long input is left-complete: the left subtree of every parent holds the largest
 * power of two of chunks smaller than the parent's total. Reducing a level by hashing adjacent
 * pairs and carrying an odd last node up unchanged builds exactly that tree, so a whole level is
 * one batch of independent 64-byte parent blocks for the SIMD kernels.
 */
#include <stdlib.h>
#include <string.h>

#include "blake3_impl.h"
#include "lc_limits.h"

/* Chunks hashed and reduced together before their subtree's single chaining value is kept: a
 * power of two, so every segment but the last is a complete subtree. 4096 chunks (4 MiB of input)
 * keep the 128 KiB of chaining values in the second-level cache. */
#define SEGMENT_CHUNK_COUNT 4096u

LC_STATIC_ASSERT((SEGMENT_CHUNK_COUNT & (SEGMENT_CHUNK_COUNT - 1)) == 0);

/* What the root compression needs, kept so that extended output can run it again with each
 * output block counter. */
typedef struct {
    uint32_t cv[8];
    uint8_t block[64];
    uint32_t block_size;
    uint8_t flags;
} root_output;

static void root_output_bytes(const root_output *root, uint8_t *out, size_t out_size) {
    uint64_t output_counter = 0;
    while (out_size > 0) {
        uint32_t words[16];
        lc_b3_compress(root->cv, root->block, root->block_size, output_counter,
                       root->flags | LC_B3_ROOT, words);
        uint8_t bytes[64];
        for (int i = 0; i < 16; i++) lc_store32_le(bytes + 4 * i, words[i]);
        size_t take = out_size < 64 ? out_size : 64;
        memcpy(out, bytes, take);
        out += take;
        out_size -= take;
        output_counter++;
    }
}

/* An input of at most one chunk: every block but the last, then the last kept as the root. */
static void single_chunk_root(const uint8_t *input, size_t size, const uint32_t key_words[8],
                              uint8_t mode_flags, root_output *root) {
    LC_ASSERT(size <= LC_BLAKE3_CHUNK_SIZE);
    size_t block_count = size == 0 ? 1 : (size + 63) / 64;
    uint32_t cv[8];
    memcpy(cv, key_words, sizeof cv);
    for (size_t b = 0; b + 1 < block_count; b++) {
        uint8_t flags = mode_flags | (b == 0 ? LC_B3_CHUNK_START : 0);
        uint32_t words[16];
        lc_b3_compress(cv, input + 64 * b, 64, 0, flags, words);
        memcpy(cv, words, sizeof cv);
    }
    size_t last_size = size - 64 * (block_count - 1);
    memcpy(root->cv, cv, sizeof cv);
    memset(root->block, 0, sizeof root->block);
    if (last_size > 0) memcpy(root->block, input + 64 * (block_count - 1), last_size);
    root->block_size = (uint32_t)last_size;
    root->flags = mode_flags | LC_B3_CHUNK_END | (block_count == 1 ? LC_B3_CHUNK_START : 0);
}

/* Chaining values of `chunk_count` consecutive chunks starting at chunk index `first_chunk`;
 * the last may be partial (input_size says where the input ends). */
static void chunk_cvs(const lc_b3_kernel *kernel, const uint8_t *input, size_t input_size,
                      uint64_t first_chunk, size_t chunk_count, const uint32_t key_words[8],
                      uint8_t mode_flags, uint8_t *cvs) {
    lc_b3_lanes lanes;
    memcpy(lanes.key_words, key_words, sizeof lanes.key_words);
    lanes.flags = mode_flags;
    lanes.flags_start = LC_B3_CHUNK_START;
    lanes.flags_end = LC_B3_CHUNK_END;
    size_t full_count = chunk_count;
    uint64_t end = (first_chunk + chunk_count) * LC_BLAKE3_CHUNK_SIZE;
    if (end > input_size) full_count--; /* the partial last chunk gets a call of its own */
    for (size_t i = 0; i < full_count; i += kernel->lane_count) {
        size_t n = full_count - i < kernel->lane_count ? full_count - i : kernel->lane_count;
        lanes.lane_count = n;
        lanes.block_count = LC_B3_BLOCKS_PER_CHUNK;
        /* The next call hashes the chunks right after these; stop before the input ends. */
        bool next_is_full = i + 2 * kernel->lane_count <= full_count;
        lanes.prefetch_offset = next_is_full ? kernel->lane_count * LC_BLAKE3_CHUNK_SIZE : 0;
        for (size_t lane = 0; lane < n; lane++) {
            uint64_t chunk = first_chunk + i + lane;
            lanes.inputs[lane] = input + chunk * LC_BLAKE3_CHUNK_SIZE;
            lanes.outs[lane] = cvs + 32 * (i + lane);
            lanes.counters[lane] = chunk;
            lanes.last_block_size[lane] = 64;
        }
        kernel->hash_lanes(&lanes);
    }
    if (full_count < chunk_count) {
        uint64_t chunk = first_chunk + full_count;
        size_t size = input_size - chunk * LC_BLAKE3_CHUNK_SIZE;
        LC_ASSERT(size > 0 && size < LC_BLAKE3_CHUNK_SIZE);
        lanes.lane_count = 1;
        lanes.prefetch_offset = 0;
        lanes.block_count = (size + 63) / 64;
        lanes.inputs[0] = input + chunk * LC_BLAKE3_CHUNK_SIZE;
        lanes.outs[0] = cvs + 32 * full_count;
        lanes.counters[0] = chunk;
        lanes.last_block_size[0] = (uint32_t)(size - 64 * (lanes.block_count - 1));
        lc_b3_kernel_portable.hash_lanes(&lanes);
    }
}

/* Hash adjacent pairs of chaining values into parents, in place, until at most `keep` remain;
 * an odd last value moves up a level unchanged. Returns the count left. In place is safe: parent
 * i is written to bytes [32i, 32i + 32), never past the pairs still to be read at [64j, ...) for
 * j > i, and each kernel loads a lane's block before it stores that lane's output. */
static size_t reduce_cvs(const lc_b3_kernel *kernel, uint8_t *cvs, size_t count, size_t keep,
                         const uint32_t key_words[8], uint8_t mode_flags) {
    LC_ASSERT(keep >= 1);
    lc_b3_lanes lanes;
    memcpy(lanes.key_words, key_words, sizeof lanes.key_words);
    lanes.flags = mode_flags | LC_B3_PARENT;
    lanes.flags_start = 0;
    lanes.flags_end = 0;
    lanes.block_count = 1;
    lanes.prefetch_offset = 0;
    while (count > keep) {
        size_t pair_count = count / 2;
        for (size_t i = 0; i < pair_count; i += kernel->lane_count) {
            size_t n = pair_count - i < kernel->lane_count ? pair_count - i : kernel->lane_count;
            lanes.lane_count = n;
            for (size_t lane = 0; lane < n; lane++) {
                lanes.inputs[lane] = cvs + 64 * (i + lane);
                lanes.outs[lane] = cvs + 32 * (i + lane);
                lanes.counters[lane] = 0;
                lanes.last_block_size[lane] = 64;
            }
            kernel->hash_lanes(&lanes);
        }
        if (count % 2 == 1) memmove(cvs + 32 * pair_count, cvs + 32 * (count - 1), 32);
        count = pair_count + count % 2;
    }
    return count;
}

static void parent_root(const uint8_t pair[64], const uint32_t key_words[8], uint8_t mode_flags,
                        root_output *root) {
    memcpy(root->cv, key_words, sizeof root->cv);
    memcpy(root->block, pair, 64);
    root->block_size = 64;
    root->flags = mode_flags | LC_B3_PARENT;
}

/* An input longer than one chunk. Each full segment is reduced to one chaining value; the values
 * of all segments are then reduced like a level of the tree, and their last pair is the root. */
static int multi_chunk_root(const uint8_t *input, size_t size, const uint32_t key_words[8],
                            uint8_t mode_flags, root_output *root) {
    LC_ASSERT(size > LC_BLAKE3_CHUNK_SIZE);
    const lc_b3_kernel *kernel = lc_b3_kernel_selected();
    uint64_t chunk_count = (size + LC_BLAKE3_CHUNK_SIZE - 1) / LC_BLAKE3_CHUNK_SIZE;
    uint64_t segment_count = (chunk_count + SEGMENT_CHUNK_COUNT - 1) / SEGMENT_CHUNK_COUNT;
    uint8_t *cvs = malloc(32 * (size_t)SEGMENT_CHUNK_COUNT);
    uint8_t *segment_cvs = segment_count > 1 ? malloc(32 * (size_t)segment_count) : NULL;
    if (cvs == NULL || (segment_count > 1 && segment_cvs == NULL)) {
        free(cvs);
        free(segment_cvs);
        return LC_ERROR_MEMORY;
    }
    for (uint64_t s = 0; s < segment_count; s++) {
        uint64_t first = s * SEGMENT_CHUNK_COUNT;
        size_t n = (size_t)(chunk_count - first < SEGMENT_CHUNK_COUNT ? chunk_count - first
                                                                     : SEGMENT_CHUNK_COUNT);
        chunk_cvs(kernel, input, size, first, n, key_words, mode_flags, cvs);
        if (segment_count == 1) {
            size_t left = reduce_cvs(kernel, cvs, n, 2, key_words, mode_flags);
            LC_ASSERT(left == 2);
            parent_root(cvs, key_words, mode_flags, root);
        } else {
            size_t left = reduce_cvs(kernel, cvs, n, 1, key_words, mode_flags);
            LC_ASSERT(left == 1);
            memcpy(segment_cvs + 32 * s, cvs, 32);
        }
    }
    if (segment_count > 1) {
        size_t left = reduce_cvs(kernel, segment_cvs, (size_t)segment_count, 2, key_words,
                                 mode_flags);
        LC_ASSERT(left == 2);
        parent_root(segment_cvs, key_words, mode_flags, root);
    }
    free(cvs);
    free(segment_cvs);
    return LC_OK;
}

static int hash_with_key_words(const uint8_t *input, size_t size, const uint32_t key_words[8],
                               uint8_t mode_flags, uint8_t *out, size_t out_size) {
    root_output root;
    if (size <= LC_BLAKE3_CHUNK_SIZE) {
        single_chunk_root(input, size, key_words, mode_flags, &root);
    } else {
        int status = multi_chunk_root(input, size, key_words, mode_flags, &root);
        if (status != LC_OK) return status;
    }
    root_output_bytes(&root, out, out_size);
    return LC_OK;
}

int lc_blake3(const uint8_t *input, size_t input_size, int mode, const uint8_t *key,
              const uint8_t *context, size_t context_size, uint8_t *out, size_t out_size) {
    static const uint8_t empty[1] = {0};
    if (input == NULL) {
        if (input_size != 0) return LC_ERROR_ARGUMENT;
        input = empty;
    }
    if (out == NULL || out_size > LC_BLAKE3_OUTPUT_SIZE_MAX) return LC_ERROR_ARGUMENT;
    if ((uint64_t)input_size > LC_BLAKE3_INPUT_SIZE_MAX) return LC_ERROR_ARGUMENT;
    uint32_t key_words[8];
    switch (mode) {
    case LC_BLAKE3_MODE_HASH:
        if (key != NULL || context != NULL) return LC_ERROR_ARGUMENT;
        lc_b3_key_words(NULL, key_words);
        return hash_with_key_words(input, input_size, key_words, 0, out, out_size);
    case LC_BLAKE3_MODE_KEYED:
        if (key == NULL || context != NULL) return LC_ERROR_ARGUMENT;
        lc_b3_key_words(key, key_words);
        return hash_with_key_words(input, input_size, key_words, LC_B3_KEYED_HASH, out,
                                   out_size);
    case LC_BLAKE3_MODE_DERIVE_KEY: {
        if (key != NULL || (context == NULL && context_size != 0)) return LC_ERROR_ARGUMENT;
        uint8_t context_key[32];
        lc_b3_key_words(NULL, key_words);
        int status = hash_with_key_words(context != NULL ? context : empty, context_size,
                                         key_words, LC_B3_DERIVE_KEY_CONTEXT, context_key, 32);
        if (status != LC_OK) return status;
        lc_b3_key_words(context_key, key_words);
        return hash_with_key_words(input, input_size, key_words, LC_B3_DERIVE_KEY_MATERIAL, out,
                                   out_size);
    }
    default:
        return LC_ERROR_ARGUMENT;
    }
}

/* The lanes of a many-input call: every input is one whole chunk and its own root. */
static void many_lanes_init(lc_b3_lanes *lanes, const uint8_t *key) {
    lc_b3_key_words(key, lanes->key_words);
    lanes->flags = key != NULL ? LC_B3_KEYED_HASH : 0;
    lanes->flags_start = LC_B3_CHUNK_START;
    lanes->flags_end = LC_B3_CHUNK_END | LC_B3_ROOT;
    lanes->prefetch_offset = 0;
    memset(lanes->counters, 0, sizeof lanes->counters);
}

static size_t block_count_of(size_t size) { return size == 0 ? 1 : (size + 63) / 64; }

static uint32_t last_block_size_of(size_t size) {
    return (uint32_t)(size - 64 * (block_count_of(size) - 1));
}

int lc_blake3_many(const uint8_t *items, size_t count, size_t item_size, const uint8_t *key,
                   uint8_t *out) {
    if (count == 0) return LC_OK;
    if (items == NULL || out == NULL || count > LC_BATCH_SIZE_MAX) return LC_ERROR_ARGUMENT;
    if (item_size > LC_BLAKE3_CHUNK_SIZE) {
        int mode = key != NULL ? LC_BLAKE3_MODE_KEYED : LC_BLAKE3_MODE_HASH;
        for (size_t i = 0; i < count; i++) {
            int status = lc_blake3(items + i * item_size, item_size, mode, key, NULL, 0,
                                   out + 32 * i, 32);
            if (status != LC_OK) return status;
        }
        return LC_OK;
    }
    const lc_b3_kernel *kernel = lc_b3_kernel_selected();
    lc_b3_lanes lanes;
    many_lanes_init(&lanes, key);
    lanes.block_count = block_count_of(item_size);
    for (size_t lane = 0; lane < LC_B3_LANES_MAX; lane++) {
        lanes.last_block_size[lane] = last_block_size_of(item_size);
    }
    for (size_t i = 0; i < count; i += kernel->lane_count) {
        size_t n = count - i < kernel->lane_count ? count - i : kernel->lane_count;
        lanes.lane_count = n;
        for (size_t lane = 0; lane < n; lane++) {
            lanes.inputs[lane] = items + (i + lane) * item_size;
            lanes.outs[lane] = out + 32 * (i + lane);
        }
        kernel->hash_lanes(&lanes);
    }
    return LC_OK;
}

/* Hash the inputs order[first .. end) (or first .. end themselves when order is NULL), all of
 * `block_count` blocks, in lane groups; each group's successors are fetched into the cache while
 * it is hashed, since separate inputs are usually scattered in memory. */
static void many_ptrs_bucket(const lc_b3_kernel *kernel, lc_b3_lanes *lanes,
                             const uint8_t *const *items, const size_t *sizes,
                             const size_t *order, size_t first, size_t end, size_t block_count,
                             uint8_t *out) {
    static const uint8_t empty[1] = {0};
    size_t width = kernel->lane_count;
    lanes->block_count = block_count;
    for (size_t k = first; k < end; k += width) {
        size_t n = end - k < width ? end - k : width;
        for (size_t ahead = k + width; ahead < k + 2 * width && ahead < end; ahead++) {
            const uint8_t *next = items[order != NULL ? order[ahead] : ahead];
            __builtin_prefetch(next);
            __builtin_prefetch(next + 63);
        }
        lanes->lane_count = n;
        for (size_t lane = 0; lane < n; lane++) {
            size_t i = order != NULL ? order[k + lane] : k + lane;
            lanes->inputs[lane] = items[i] != NULL ? items[i] : empty;
            lanes->outs[lane] = out + 32 * i;
            lanes->last_block_size[lane] = last_block_size_of(sizes[i]);
        }
        kernel->hash_lanes(lanes);
    }
}

static size_t bucket_of(size_t size) {
    return size > LC_BLAKE3_CHUNK_SIZE ? 0 : block_count_of(size);
}

int lc_blake3_many_stamped(const uint8_t *rows, size_t row_count, size_t row_size,
                           const int64_t *picked, size_t count, size_t stamp_offset,
                           uint64_t stamp_base, const uint8_t *key, uint8_t *out) {
    if (count == 0) return LC_OK;
    if (rows == NULL || picked == NULL || out == NULL || count > LC_BATCH_SIZE_MAX ||
        row_size == 0 || row_size > LC_BLAKE3_CHUNK_SIZE || stamp_offset > row_size - 8) {
        return LC_ERROR_ARGUMENT;
    }
    for (size_t i = 0; i < count; i++) {
        if (picked[i] < 0 || (uint64_t)picked[i] >= row_count) return LC_ERROR_ARGUMENT;
        if ((uint64_t)picked[i] > UINT64_MAX - stamp_base) return LC_ERROR_ARGUMENT;
    }
    const lc_b3_kernel *kernel = lc_b3_kernel_selected();
    lc_b3_lanes lanes;
    many_lanes_init(&lanes, key);
    lanes.block_count = block_count_of(row_size);
    for (size_t lane = 0; lane < LC_B3_LANES_MAX; lane++) {
        lanes.last_block_size[lane] = last_block_size_of(row_size);
    }
    /* A kernel call's rows are copied here and stamped: at most 16 KiB, kept in cache. */
    uint8_t stamped[LC_B3_LANES_MAX][LC_BLAKE3_CHUNK_SIZE];
    for (size_t i = 0; i < count; i += kernel->lane_count) {
        size_t n = count - i < kernel->lane_count ? count - i : kernel->lane_count;
        lanes.lane_count = n;
        for (size_t lane = 0; lane < n; lane++) {
            const uint64_t row = (uint64_t)picked[i + lane];
            memcpy(stamped[lane], rows + row * row_size, row_size);
            lc_store64_le(stamped[lane] + stamp_offset, stamp_base + row);
            lanes.inputs[lane] = stamped[lane];
            lanes.outs[lane] = out + 32 * (i + lane);
        }
        kernel->hash_lanes(&lanes);
    }
    return LC_OK;
}

int lc_blake3_many_ptrs(const uint8_t *const *items, const size_t *sizes, size_t count,
                        const uint8_t *key, uint8_t *out) {
    if (count == 0) return LC_OK;
    if (items == NULL || sizes == NULL || out == NULL || count > LC_BATCH_SIZE_MAX) {
        return LC_ERROR_ARGUMENT;
    }
    size_t bucket_start[LC_B3_BLOCKS_PER_CHUNK + 2] = {0};
    for (size_t i = 0; i < count; i++) {
        if (items[i] == NULL && sizes[i] != 0) return LC_ERROR_ARGUMENT;
        bucket_start[bucket_of(sizes[i]) + 1]++;
    }
    const lc_b3_kernel *kernel = lc_b3_kernel_selected();
    lc_b3_lanes lanes;
    many_lanes_init(&lanes, key);
    size_t first_bucket = bucket_of(sizes[0]);
    if (first_bucket != 0 && bucket_start[first_bucket + 1] == count) {
        /* Every input has the same block count: no grouping needed. */
        many_ptrs_bucket(kernel, &lanes, items, sizes, NULL, 0, count, first_bucket, out);
        return LC_OK;
    }
    /* Counting sort of the input indices by block count, so each kernel call's lanes agree;
     * bucket 0 holds the inputs longer than a chunk. */
    for (size_t b = 1; b < LC_B3_BLOCKS_PER_CHUNK + 2; b++) bucket_start[b] += bucket_start[b - 1];
    size_t *order = malloc(count * sizeof *order);
    if (order == NULL) return LC_ERROR_MEMORY;
    size_t fill[LC_B3_BLOCKS_PER_CHUNK + 1];
    memcpy(fill, bucket_start, sizeof fill);
    for (size_t i = 0; i < count; i++) order[fill[bucket_of(sizes[i])]++] = i;
    int mode = key != NULL ? LC_BLAKE3_MODE_KEYED : LC_BLAKE3_MODE_HASH;
    for (size_t k = bucket_start[0]; k < bucket_start[1]; k++) {
        size_t i = order[k];
        int status = lc_blake3(items[i], sizes[i], mode, key, NULL, 0, out + 32 * i, 32);
        if (status != LC_OK) {
            free(order);
            return status;
        }
    }
    for (size_t bucket = 1; bucket <= LC_B3_BLOCKS_PER_CHUNK; bucket++) {
        many_ptrs_bucket(kernel, &lanes, items, sizes, order, bucket_start[bucket],
                         bucket_start[bucket + 1], bucket, out);
    }
    free(order);
    return LC_OK;
}
