/* The liability sum tree builder: split, place, salt, hash, sum. See sumtree.h for the
 * construction and docs/formats.md, section 6, for every byte.
 *
 * One call builds the whole tree in five passes, each but the sort spread over up to
 * thread_count threads in contiguous shares, each over whole batches for the many-input
 * BLAKE3 kernels: the balances are split into parts (two stream hashes per account), every item
 * (part or dummy) gets its placement tag, the items are sorted by tag (an LSD radix sort, then
 * the rare equal tags ordered by id and index), the leaves are salted and hashed in position
 * order, and each level is hashed from the one below. A node is 48 bytes (hash, then sum), so a
 * parent's input is its two children exactly as they lie in memory.
 *
 * Sums cannot overflow: the caller checks that the balances' total fits a u128 first
 * (lc_sumtree_check_balances), every part is at most its balance, and each node's sum is a sum
 * of distinct parts; the additions still assert it.
 */
#include "sumtree.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "blake3.h"
#include "common.h"

typedef unsigned __int128 u128;

#define STREAM_INPUT_SIZE 24 /* id (16) || counter (8) */
#define LEAF_INPUT_SIZE 64   /* id (16) || value (16) || salt (32): one BLAKE3 block */
#define PAIR_SIZE (2 * LC_SUMTREE_NODE_SIZE)

/* Items per batch of the many-input kernel: 512 inputs fill its widest lanes 32 times over, and
 * the buffers of one batch (152 bytes an item at most) stay under 80 KiB of stack. */
#define BATCH_ITEM_COUNT 512u

/* Items one thread must have before a pass is split: 16,384 leaves are about a millisecond of
 * hashing, a hundred times the cost of starting a thread. */
#define SHARE_ITEM_COUNT_MIN 16384u

/* The radix sort takes 11 bits per pass: 6 passes cover the 64-bit tags, and its 2048 counters
 * (16 KiB) stay in the first-level cache while a pass scatters. */
#define RADIX_BITS 11u
#define RADIX_SIZE (1u << RADIX_BITS)
#define RADIX_PASS_COUNT 6u

LC_STATIC_ASSERT(LC_SUMTREE_NODE_SIZE == LC_SUMTREE_HASH_SIZE + 16);
LC_STATIC_ASSERT(LEAF_INPUT_SIZE == LC_BLAKE3_BLOCK_SIZE);
LC_STATIC_ASSERT(RADIX_BITS * RADIX_PASS_COUNT >= 64);
LC_STATIC_ASSERT(BATCH_ITEM_COUNT <= LC_BATCH_SIZE_MAX);
LC_STATIC_ASSERT(LC_SUMTREE_PARTS_MAX * 16 <= 8 * 32); /* a split stream is at most 8 hashes */

/* blake3(b"", derive_key_context="ledgercore 2026-12 liability leaf v1"). */
const uint8_t lc_sumtree_leaf_key[LC_SUMTREE_KEY_SIZE] = {
    0x37, 0x44, 0xd2, 0x3b, 0x8a, 0x3d, 0x3d, 0x1c, 0x70, 0x54, 0xd2, 0x02, 0x22, 0xc7, 0x8f, 0xe2,
    0xe0, 0x90, 0x2d, 0xc4, 0xe0, 0xc6, 0x06, 0x69, 0xc2, 0xf0, 0x21, 0x16, 0xf4, 0xa4, 0x8b, 0x80,
};

/* blake3(b"", derive_key_context="ledgercore 2026-12 liability node v1"). */
const uint8_t lc_sumtree_node_key[LC_SUMTREE_KEY_SIZE] = {
    0x33, 0x99, 0xad, 0xe1, 0x21, 0x28, 0xd3, 0xe0, 0x96, 0x81, 0x8e, 0x68, 0x5c, 0x68, 0x9c, 0x95,
    0x61, 0x52, 0x62, 0x2b, 0xae, 0xf3, 0xbd, 0x83, 0xa7, 0xb2, 0xac, 0x74, 0xc7, 0xdc, 0x59, 0x2c,
};

static u128 load128(const uint8_t *p) {
    return (u128)lc_load64_le(p) | ((u128)lc_load64_le(p + 8) << 64);
}

static void store128(uint8_t *p, u128 value) {
    lc_store64_le(p, (uint64_t)value);
    lc_store64_le(p + 8, (uint64_t)(value >> 64));
}

static u128 lanes128(const uint64_t *lanes) {
    return (u128)lanes[0] | ((u128)lanes[1] << 64);
}

/* floor(r * range / 2^128) for range <= 2^64: a draw from [0, range) whose bias is at most
 * range / 2^128. */
static uint64_t draw_small(u128 r, uint64_t range) {
    u128 low = (u128)(uint64_t)r * range;
    u128 high = (u128)(uint64_t)(r >> 64) * range;
    return (uint64_t)((high + (low >> 64)) >> 64);
}

/* floor(r * (balance + 1) / 2^128): a cut point in [0, balance], computed as the high half of
 * the 256-bit r * balance + r. */
static u128 draw_cut(u128 r, u128 balance) {
    uint64_t r0 = (uint64_t)r, r1 = (uint64_t)(r >> 64);
    uint64_t b0 = (uint64_t)balance, b1 = (uint64_t)(balance >> 64);
    u128 p00 = (u128)r0 * b0, p01 = (u128)r0 * b1, p10 = (u128)r1 * b0, p11 = (u128)r1 * b1;
    /* Limbs of r * balance from bit 64 up, carrying as they go; then + r at bit 0. */
    u128 middle = (p00 >> 64) + (uint64_t)p01 + (uint64_t)p10;
    u128 low128 = (middle << 64) | (uint64_t)p00;
    u128 high128 = p11 + (p01 >> 64) + (p10 >> 64) + (middle >> 64);
    u128 sum = low128 + r;
    return high128 + (sum < low128 ? 1 : 0);
}

static void stream_input(uint8_t *row, const uint64_t *id, uint64_t counter) {
    lc_store64_le(row, id[0]);
    lc_store64_le(row + 8, id[1]);
    lc_store64_le(row + 16, counter);
}

static int stream_hashes(const uint8_t *rows, size_t count, const uint8_t *key, uint8_t *out) {
    int status = lc_blake3_many(rows, count, STREAM_INPUT_SIZE, key, out);
    LC_ASSERT(status == LC_OK);
    return status;
}

static int check_part_range(unsigned parts_min, unsigned parts_max) {
    if (parts_min < 1 || parts_min > parts_max || parts_max > LC_SUMTREE_PARTS_MAX) {
        return LC_ERROR_ARGUMENT;
    }
    return LC_OK;
}

int lc_sumtree_check_balances(const uint64_t *balances, size_t count, uint64_t total[2],
                              size_t *overflow_row) {
    if (total == NULL || overflow_row == NULL) return LC_ERROR_ARGUMENT;
    if (count > 0 && balances == NULL) return LC_ERROR_ARGUMENT;
    u128 sum = 0;
    for (size_t i = 0; i < count; i++) {
        u128 next = sum + lanes128(balances + 2 * i);
        if (next < sum) {
            *overflow_row = i;
            return LC_SUMTREE_ERROR_OVERFLOW;
        }
        sum = next;
    }
    total[0] = (uint64_t)sum;
    total[1] = (uint64_t)(sum >> 64);
    return LC_OK;
}

int lc_sumtree_part_counts(const uint64_t *ids, size_t count, const uint8_t *split_key,
                           unsigned parts_min, unsigned parts_max, uint8_t *part_counts) {
    if (check_part_range(parts_min, parts_max) != LC_OK) return LC_ERROR_ARGUMENT;
    if (count == 0) return LC_OK;
    if (ids == NULL || split_key == NULL || part_counts == NULL) return LC_ERROR_ARGUMENT;
    uint8_t rows[BATCH_ITEM_COUNT * STREAM_INPUT_SIZE];
    uint8_t hashes[BATCH_ITEM_COUNT * LC_SUMTREE_HASH_SIZE];
    uint64_t range = parts_max - parts_min + 1;
    for (size_t first = 0; first < count; first += BATCH_ITEM_COUNT) {
        size_t n = count - first < BATCH_ITEM_COUNT ? count - first : BATCH_ITEM_COUNT;
        for (size_t i = 0; i < n; i++) {
            stream_input(rows + i * STREAM_INPUT_SIZE, ids + 2 * (first + i), 0);
        }
        stream_hashes(rows, n, split_key, hashes);
        for (size_t i = 0; i < n; i++) {
            u128 word0 = load128(hashes + i * LC_SUMTREE_HASH_SIZE);
            part_counts[first + i] = (uint8_t)(parts_min + draw_small(word0, range));
        }
    }
    return LC_OK;
}

/* ---- pass 1: split every balance into its parts ------------------------------------------ */

/* The parts of one balance from its split stream: k - 1 cut points, sorted, and the gaps
 * between 0, the cuts and the balance. */
static void split_one(const uint8_t *stream, unsigned k, u128 balance, u128 *parts) {
    LC_ASSERT(k >= 1);
    LC_ASSERT(k <= LC_SUMTREE_PARTS_MAX);
    u128 cuts[LC_SUMTREE_PARTS_MAX + 1];
    cuts[0] = 0;
    for (unsigned w = 1; w < k; w++) {
        u128 cut = draw_cut(load128(stream + 16 * w), balance);
        LC_ASSERT(cut <= balance);
        unsigned at = w;
        while (at > 1 && cuts[at - 1] > cut) { /* insertion: k is at most 16 */
            cuts[at] = cuts[at - 1];
            at--;
        }
        cuts[at] = cut;
    }
    cuts[k] = balance;
    for (unsigned j = 0; j < k; j++) {
        LC_ASSERT(cuts[j] <= cuts[j + 1]);
        parts[j] = cuts[j + 1] - cuts[j];
    }
}

/* What the leaves read of a part, in one record: positions visit the parts in a random order,
 * so each part should cost one cache miss, not one per array. */
typedef struct {
    uint64_t id[2];
    uint64_t value[2];
    uint64_t index; /* the part's index within its account */
} part_record;

typedef struct {
    part_record *records; /* part_count of them, in part order */
    uint32_t *rows;       /* part_count: the account row of each part, to name a duplicate */
} part_table;

/* Splits accounts [begin, end); their parts are numbered from the parts of the rows before. */
static void split_range(const lc_sumtree_input *in, part_table *parts, uint64_t begin,
                        uint64_t end) {
    enum { ACCOUNTS = BATCH_ITEM_COUNT / 8 };
    uint8_t rows[BATCH_ITEM_COUNT * STREAM_INPUT_SIZE];
    uint8_t hashes[BATCH_ITEM_COUNT * LC_SUMTREE_HASH_SIZE];
    size_t per_account = (16 * (size_t)in->parts_max + 31) / 32; /* stream hashes needed */
    LC_ASSERT(per_account * ACCOUNTS <= BATCH_ITEM_COUNT);
    uint64_t range = in->parts_max - in->parts_min + 1;
    uint64_t part = 0;
    for (uint64_t row = 0; row < begin; row++) part += in->part_counts[row];
    for (size_t first = begin; first < end; first += ACCOUNTS) {
        size_t n = end - first < ACCOUNTS ? end - first : ACCOUNTS;
        for (size_t i = 0; i < n; i++) {
            for (size_t c = 0; c < per_account; c++) {
                stream_input(rows + (i * per_account + c) * STREAM_INPUT_SIZE,
                             in->ids + 2 * (first + i), c);
            }
        }
        stream_hashes(rows, n * per_account, in->split_key, hashes);
        for (size_t i = 0; i < n; i++) {
            const uint8_t *stream = hashes + i * per_account * LC_SUMTREE_HASH_SIZE;
            unsigned k = (unsigned)(in->parts_min + draw_small(load128(stream), range));
            LC_ASSERT(k == in->part_counts[first + i]);
            u128 values[LC_SUMTREE_PARTS_MAX];
            split_one(stream, k, lanes128(in->balances + 2 * (first + i)), values);
            for (unsigned j = 0; j < k; j++) {
                const uint64_t *id = in->ids + 2 * (first + i);
                parts->records[part + j] = (part_record){
                    {id[0], id[1]}, {(uint64_t)values[j], (uint64_t)(values[j] >> 64)}, j};
                parts->rows[part + j] = (uint32_t)(first + i);
            }
            part += k;
        }
    }
    LC_ASSERT(part <= in->part_count);
}

/* ---- pass 2 and 3: place every item by its tag ------------------------------------------- */

/* An item's id and index: part p of the table, or dummy p - part_count (id 0). */
static void item_key(const lc_sumtree_input *in, const part_table *parts, uint32_t item,
                     uint64_t id[2], uint64_t *index) {
    if (item < in->part_count) {
        const part_record *record = &parts->records[item];
        id[0] = record->id[0];
        id[1] = record->id[1];
        *index = record->index;
    } else {
        id[0] = id[1] = 0;
        *index = item - in->part_count;
    }
}

static void tag_range(const lc_sumtree_input *in, const part_table *parts, uint64_t *tags,
                      uint32_t *items, uint64_t begin, uint64_t end) {
    LC_ASSERT(begin <= end);
    LC_ASSERT(end <= in->leaf_count);
    uint8_t rows[BATCH_ITEM_COUNT * STREAM_INPUT_SIZE];
    uint8_t hashes[BATCH_ITEM_COUNT * LC_SUMTREE_HASH_SIZE];
    for (uint64_t start = begin; start < end; start += BATCH_ITEM_COUNT) {
        size_t n = end - start < BATCH_ITEM_COUNT ? end - start : BATCH_ITEM_COUNT;
        for (size_t i = 0; i < n; i++) {
            uint64_t id[2], index;
            item_key(in, parts, (uint32_t)(start + i), id, &index);
            stream_input(rows + i * STREAM_INPUT_SIZE, id, index);
        }
        stream_hashes(rows, n, in->place_key, hashes);
        for (size_t i = 0; i < n; i++) {
            tags[start + i] = lc_load64_le(hashes + i * LC_SUMTREE_HASH_SIZE);
            items[start + i] = (uint32_t)(start + i);
        }
    }
}

/* Ascending by tag, stable; the sorted arrays end in tags/items (the scratch is the same size). */
static void radix_sort(uint64_t *tags, uint32_t *items, uint64_t *tags_scratch,
                       uint32_t *items_scratch, size_t count) {
    LC_ASSERT(count <= LC_SUMTREE_LEAF_COUNT_MAX);
    LC_ASSERT(tags != tags_scratch);
    size_t counts[RADIX_SIZE];
    uint64_t *from_tags = tags, *to_tags = tags_scratch;
    uint32_t *from_items = items, *to_items = items_scratch;
    for (unsigned pass = 0; pass < RADIX_PASS_COUNT; pass++) {
        unsigned shift = pass * RADIX_BITS;
        memset(counts, 0, sizeof(counts));
        for (size_t i = 0; i < count; i++) counts[(from_tags[i] >> shift) & (RADIX_SIZE - 1)]++;
        size_t at = 0;
        for (size_t d = 0; d < RADIX_SIZE; d++) {
            size_t n = counts[d];
            counts[d] = at;
            at += n;
        }
        for (size_t i = 0; i < count; i++) {
            size_t slot = counts[(from_tags[i] >> shift) & (RADIX_SIZE - 1)]++;
            to_tags[slot] = from_tags[i];
            to_items[slot] = from_items[i];
        }
        uint64_t *swap_tags = from_tags;
        from_tags = to_tags;
        to_tags = swap_tags;
        uint32_t *swap_items = from_items;
        from_items = to_items;
        to_items = swap_items;
    }
    LC_STATIC_ASSERT(RADIX_PASS_COUNT % 2 == 0); /* so the result is back in tags/items */
    LC_ASSERT(from_tags == tags);
    for (size_t i = 1; i < count; i++) LC_DEBUG_ASSERT(tags[i - 1] <= tags[i]);
}

/* -1, 0, 1 as (id, index) of item a is below, equal to or above that of item b. */
static int compare_keys(const lc_sumtree_input *in, const part_table *parts, uint32_t a,
                        uint32_t b) {
    uint64_t id_a[2], id_b[2], index_a, index_b;
    item_key(in, parts, a, id_a, &index_a);
    item_key(in, parts, b, id_b, &index_b);
    if (id_a[1] != id_b[1]) return id_a[1] < id_b[1] ? -1 : 1;
    if (id_a[0] != id_b[0]) return id_a[0] < id_b[0] ? -1 : 1;
    if (index_a != index_b) return index_a < index_b ? -1 : 1;
    return 0;
}

/* Orders each run of equal tags by (id, index), so the order depends on the set of accounts and
 * not on their rows. Two items with equal tag, id and index are one id given twice: their rows
 * are reported. Runs are a few items at most (equal 64-bit tags), so insertion sort serves. */
static int order_ties(const lc_sumtree_input *in, const part_table *parts, const uint64_t *tags,
                      uint32_t *items, size_t *duplicate_row) {
    size_t count = in->leaf_count;
    for (size_t start = 0; start < count;) {
        size_t end = start + 1;
        while (end < count && tags[end] == tags[start]) end++;
        for (size_t i = start + 1; i < end; i++) {
            uint32_t item = items[i];
            size_t at = i;
            while (at > start && compare_keys(in, parts, items[at - 1], item) > 0) {
                items[at] = items[at - 1];
                at--;
            }
            items[at] = item;
        }
        for (size_t i = start + 1; i < end; i++) {
            if (compare_keys(in, parts, items[i - 1], items[i]) == 0) {
                uint32_t a = parts->rows[items[i - 1]], b = parts->rows[items[i]];
                *duplicate_row = a > b ? a : b;
                return LC_SUMTREE_ERROR_DUPLICATE;
            }
        }
        start = end;
    }
    return LC_OK;
}

/* ---- pass 4 and 5: salt and hash the leaves, then each level ------------------------------ */

static void hash_leaves(const lc_sumtree_input *in, const part_table *parts,
                        const uint32_t *items, uint8_t *nodes, uint32_t *part_leaves,
                        uint64_t begin, uint64_t end) {
    LC_ASSERT(begin <= end);
    LC_ASSERT(end <= in->leaf_count);
    uint8_t rows[BATCH_ITEM_COUNT * STREAM_INPUT_SIZE];
    uint8_t salts[BATCH_ITEM_COUNT * LC_SUMTREE_HASH_SIZE];
    uint8_t leaves[BATCH_ITEM_COUNT * LEAF_INPUT_SIZE];
    uint8_t hashes[BATCH_ITEM_COUNT * LC_SUMTREE_HASH_SIZE];
    for (uint64_t start = begin; start < end; start += BATCH_ITEM_COUNT) {
        size_t n = end - start < BATCH_ITEM_COUNT ? end - start : BATCH_ITEM_COUNT;
        /* Positions visit the parts in random order: ask for the whole batch's records at once,
         * so their cache misses overlap instead of following one another (3x on 4M leaves). */
        for (size_t i = 0; i < n; i++) {
            uint32_t item = items[start + i];
            if (item < in->part_count) {
                __builtin_prefetch(&parts->records[item]);
                __builtin_prefetch(&part_leaves[item], 1);
            }
        }
        for (size_t i = 0; i < n; i++) {
            uint64_t id[2], index;
            uint32_t item = items[start + i];
            LC_ASSERT(item < in->leaf_count);
            item_key(in, parts, item, id, &index);
            stream_input(rows + i * STREAM_INPUT_SIZE, id, index);
            u128 value = 0;
            if (item < in->part_count) value = lanes128(parts->records[item].value);
            if (item < in->part_count) part_leaves[item] = (uint32_t)(start + i);
            lc_store64_le(leaves + i * LEAF_INPUT_SIZE, id[0]);
            lc_store64_le(leaves + i * LEAF_INPUT_SIZE + 8, id[1]);
            store128(leaves + i * LEAF_INPUT_SIZE + 16, value);
            store128(nodes + (start + i) * LC_SUMTREE_NODE_SIZE + 32, value);
        }
        stream_hashes(rows, n, in->salt_key, salts);
        for (size_t i = 0; i < n; i++) {
            memcpy(leaves + i * LEAF_INPUT_SIZE + 32, salts + i * 32, 32);
        }
        int status = lc_blake3_many(leaves, n, LEAF_INPUT_SIZE, lc_sumtree_leaf_key, hashes);
        LC_ASSERT(status == LC_OK);
        for (size_t i = 0; i < n; i++) {
            memcpy(nodes + (start + i) * LC_SUMTREE_NODE_SIZE, hashes + i * 32, 32);
        }
    }
}

/* Parents [begin, end) of the level above `below`: parent i hashes children 2i and 2i + 1 as
 * they lie. */
static void hash_level(const uint8_t *below, uint8_t *above, uint64_t begin, uint64_t end) {
    LC_ASSERT(begin <= end);
    LC_ASSERT(above > below);
    uint8_t hashes[BATCH_ITEM_COUNT * LC_SUMTREE_HASH_SIZE];
    for (uint64_t start = begin; start < end; start += BATCH_ITEM_COUNT) {
        size_t n = end - start < BATCH_ITEM_COUNT ? end - start : BATCH_ITEM_COUNT;
        const uint8_t *pairs = below + start * PAIR_SIZE;
        int status = lc_blake3_many(pairs, n, PAIR_SIZE, lc_sumtree_node_key, hashes);
        LC_ASSERT(status == LC_OK);
        for (size_t i = 0; i < n; i++) {
            const uint8_t *pair = pairs + i * PAIR_SIZE;
            u128 left = load128(pair + 32), right = load128(pair + LC_SUMTREE_NODE_SIZE + 32);
            LC_ASSERT(left + right >= left); /* the caller checked the total fits */
            uint8_t *node = above + (start + i) * LC_SUMTREE_NODE_SIZE;
            memcpy(node, hashes + i * 32, 32);
            store128(node + 32, left + right);
        }
    }
}

/* ---- the passes over threads ------------------------------------------------------------- */

typedef enum { PASS_SPLIT, PASS_TAG, PASS_LEAVES, PASS_LEVEL } pass_kind;

typedef struct {
    const lc_sumtree_input *in;
    part_table *parts;
    uint64_t *tags;
    uint32_t *items;
    uint8_t *nodes;
    uint32_t *part_leaves;
    const uint8_t *below; /* PASS_LEVEL: the level hashed, and the one it makes */
    uint8_t *above;
} build_state;

typedef struct {
    build_state *state;
    pass_kind kind;
    uint64_t begin;
    uint64_t end;
} share;

static void *share_run(void *argument) {
    share *work = argument;
    build_state *b = work->state;
    switch (work->kind) {
    case PASS_SPLIT:
        split_range(b->in, b->parts, work->begin, work->end);
        break;
    case PASS_TAG:
        tag_range(b->in, b->parts, b->tags, b->items, work->begin, work->end);
        break;
    case PASS_LEAVES:
        hash_leaves(b->in, b->parts, b->items, b->nodes, b->part_leaves, work->begin, work->end);
        break;
    case PASS_LEVEL:
        hash_level(b->below, b->above, work->begin, work->end);
        break;
    }
    return NULL;
}

/* Runs a pass over [0, count) in contiguous shares, one per thread, the calling thread taking
 * the first; every share writes only its own outputs, so none waits for another. A pass too
 * small to repay starting a thread stays on the calling thread, and a thread that cannot start
 * has its share run here instead. */
static void run_pass(build_state *state, pass_kind kind, uint64_t count) {
    unsigned thread_count = state->in->thread_count;
    LC_ASSERT(thread_count >= 1);
    LC_ASSERT(thread_count <= LC_THREAD_COUNT_MAX);
    uint64_t share_count = count / SHARE_ITEM_COUNT_MIN;
    if (share_count > thread_count) share_count = thread_count;
    if (share_count < 1) share_count = 1;
    share shares[LC_THREAD_COUNT_MAX];
    pthread_t threads[LC_THREAD_COUNT_MAX];
    int started[LC_THREAD_COUNT_MAX];
    for (uint64_t t = 0; t < share_count; t++) {
        shares[t] = (share){state, kind, count * t / share_count, count * (t + 1) / share_count};
    }
    for (uint64_t t = 1; t < share_count; t++) {
        started[t] = pthread_create(&threads[t], NULL, share_run, &shares[t]) == 0;
        if (!started[t]) share_run(&shares[t]);
    }
    share_run(&shares[0]);
    for (uint64_t t = 1; t < share_count; t++) {
        if (started[t]) pthread_join(threads[t], NULL);
    }
}

static int check_input(const lc_sumtree_input *in) {
    if (in == NULL || in->ids == NULL || in->balances == NULL || in->part_counts == NULL) {
        return LC_ERROR_ARGUMENT;
    }
    if (in->split_key == NULL || in->salt_key == NULL || in->place_key == NULL) {
        return LC_ERROR_ARGUMENT;
    }
    if (check_part_range(in->parts_min, in->parts_max) != LC_OK) return LC_ERROR_ARGUMENT;
    if (in->thread_count < 1 || in->thread_count > LC_THREAD_COUNT_MAX) return LC_ERROR_ARGUMENT;
    uint64_t leaves = in->leaf_count;
    if (leaves < 2 || leaves > LC_SUMTREE_LEAF_COUNT_MAX || (leaves & (leaves - 1)) != 0) {
        return LC_ERROR_ARGUMENT;
    }
    if (in->account_count == 0 || in->part_count > leaves) return LC_ERROR_ARGUMENT;
    return LC_OK;
}

int lc_sumtree_build(const lc_sumtree_input *in, uint8_t *nodes, uint32_t *part_leaves,
                     size_t *duplicate_row) {
    if (check_input(in) != LC_OK) return LC_ERROR_ARGUMENT;
    if (nodes == NULL || part_leaves == NULL || duplicate_row == NULL) return LC_ERROR_ARGUMENT;
    size_t leaves = in->leaf_count;
    part_table parts = {malloc(in->part_count * sizeof(part_record) + 1),
                        malloc(in->part_count * sizeof(uint32_t) + 1)};
    uint64_t *tags = malloc(2 * leaves * sizeof(uint64_t));
    uint32_t *items = malloc(2 * leaves * sizeof(uint32_t));
    int status = LC_ERROR_MEMORY;
    if (parts.records == NULL || parts.rows == NULL || tags == NULL || items == NULL) {
        goto done;
    }
    uint64_t part = 0;
    for (size_t i = 0; i < in->account_count; i++) {
        if (in->ids[2 * i] == 0 && in->ids[2 * i + 1] == 0) { /* id 0 names the dummies */
            status = LC_ERROR_ARGUMENT;
            goto done;
        }
        part += in->part_counts[i];
    }
    if (part != in->part_count) {
        status = LC_ERROR_ARGUMENT;
        goto done;
    }
    build_state state = {in, &parts, tags, items, nodes, part_leaves, NULL, NULL};
    run_pass(&state, PASS_SPLIT, in->account_count);
    run_pass(&state, PASS_TAG, leaves);
    radix_sort(tags, items, tags + leaves, items + leaves, leaves);
    status = order_ties(in, &parts, tags, items, duplicate_row);
    if (status != LC_OK) goto done;
    run_pass(&state, PASS_LEAVES, leaves);
    uint8_t *level = nodes;
    for (uint64_t count = leaves; count > 1; count /= 2) {
        state.below = level;
        state.above = level + count * LC_SUMTREE_NODE_SIZE;
        run_pass(&state, PASS_LEVEL, count / 2);
        level += count * LC_SUMTREE_NODE_SIZE;
    }
    LC_ASSERT(level == nodes + (2 * leaves - 2) * LC_SUMTREE_NODE_SIZE);
done:
    free(parts.records);
    free(parts.rows);
    free(tags);
    free(items);
    return status;
}

int lc_sumtree_salts(const uint64_t *ids, const uint64_t *indices, size_t count,
                     const uint8_t *salt_key, uint8_t *out) {
    if (count == 0) return LC_OK;
    if (ids == NULL || indices == NULL || salt_key == NULL || out == NULL) {
        return LC_ERROR_ARGUMENT;
    }
    uint8_t rows[BATCH_ITEM_COUNT * STREAM_INPUT_SIZE];
    for (size_t first = 0; first < count; first += BATCH_ITEM_COUNT) {
        size_t n = count - first < BATCH_ITEM_COUNT ? count - first : BATCH_ITEM_COUNT;
        for (size_t i = 0; i < n; i++) {
            stream_input(rows + i * STREAM_INPUT_SIZE, ids + 2 * (first + i), indices[first + i]);
        }
        stream_hashes(rows, n, salt_key, out + first * LC_SUMTREE_HASH_SIZE);
    }
    return LC_OK;
}
