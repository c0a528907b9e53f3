/* Merkle trees of RFC 9162 over BLAKE3: roots, the complete-subtree store, appends, batched
 * updates and proofs. See merkle.h for the hashes and the layout; the auditable verifiers are the
 * pure-Python ones in ledgercore/merkle_verify.py.
 *
 * Every node input is the 64 bytes of two adjacent hashes in a level's array, so a level's new
 * nodes are one lc_blake3_many call over that array with item_size 64: one compression per node,
 * nothing copied, no prefix byte.
 */
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE /* mremap */
#endif

#include "merkle.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "blake3.h"
#include "common.h"

#define HASH_SIZE LC_MERKLE_HASH_SIZE
#define PAIR_SIZE (2 * LC_MERKLE_HASH_SIZE)

/* Runs of at least this many adjacent dirty parents are hashed in place; shorter ones are
 * gathered first so the kernel still gets full lanes. */
#define UPDATE_RUN_MIN 8u

/* A level of an update whose dirty parents are at least 1/UPDATE_DENSE_RATIO of the span they
 * cover is rehashed over the whole span. Upper levels of a large ledger's state tree are that
 * dense after a block (15,000 changed accounts of 100,000 dirty half of level 2 and nearly all
 * above it). */
#define UPDATE_DENSE_RATIO 2u

/* Compressions one thread must have before a batch is split: 8192 (about 100 microseconds of
 * hashing) keeps the cost of starting a thread under a tenth of its work. */
#define PARALLEL_SHARE_BLOCKS_MIN 8192u

#define CACHE_LINE_SIZE 64u

/* Leaves per chunk of a streamed root: 16,384 leaf hashes are 512 KiB, one core's second-level
 * cache on the machines we size for, so a chunk is hashed and reduced without leaving it. A
 * power of two, and at most LC_BATCH_SIZE_MAX rows for one many-input call. */
#define ROOT_CHUNK_LEAF_COUNT 16384u

/* A level's first allocation, in hashes: one 4 KiB page. */
#define LEVEL_CAPACITY_MIN 128u

/* Levels of at least 2 MiB (65,536 hashes) ask for transparent huge pages: a 1,000,000-leaf
 * log then takes about 30 page faults instead of 16,000. */
#define HUGE_LEVEL_SIZE_MIN ((size_t)2 << 20)

LC_STATIC_ASSERT(PAIR_SIZE == LC_BLAKE3_BLOCK_SIZE);
LC_STATIC_ASSERT(PAIR_SIZE == CACHE_LINE_SIZE);
LC_STATIC_ASSERT((ROOT_CHUNK_LEAF_COUNT & (ROOT_CHUNK_LEAF_COUNT - 1)) == 0);
LC_STATIC_ASSERT(ROOT_CHUNK_LEAF_COUNT <= LC_BATCH_SIZE_MAX);
LC_STATIC_ASSERT(HASH_SIZE == LC_BLAKE3_DIGEST_SIZE);

/* blake3(b"", derive_key_context="ledgercore 2026-11 merkle leaf v1"). */
const uint8_t lc_merkle_leaf_key[HASH_SIZE] = {
    0x7d, 0x15, 0x3f, 0x91, 0xc7, 0xe8, 0x8f, 0xd6, 0x23, 0x7e, 0x14, 0x64, 0xcd, 0x16, 0x08, 0xcf,
    0xbd, 0x31, 0x3c, 0xe6, 0x06, 0xf5, 0x78, 0x01, 0x23, 0x7f, 0xa0, 0x6f, 0x82, 0x60, 0xdf, 0x01,
};

/* blake3(b"", derive_key_context="ledgercore 2026-11 merkle node v1"). */
const uint8_t lc_merkle_node_key[HASH_SIZE] = {
    0xe2, 0x71, 0x8c, 0xcf, 0x5f, 0x7d, 0xa9, 0xc8, 0x27, 0x53, 0xe3, 0x60, 0x62, 0x43, 0xc3, 0x61,
    0x2a, 0xbd, 0x77, 0x62, 0xde, 0x9c, 0x1c, 0xf7, 0x2f, 0x4d, 0x7f, 0x4d, 0x0c, 0xe8, 0x96, 0xd6,
};

/* blake3(b""). */
const uint8_t lc_merkle_empty_root[HASH_SIZE] = {
    0xaf, 0x13, 0x49, 0xb9, 0xf5, 0xf9, 0xa1, 0xa6, 0xa0, 0x40, 0x4d, 0xea, 0x36, 0xdc, 0xc9, 0x49,
    0x9b, 0xcb, 0x25, 0xc9, 0xad, 0xc1, 0x12, 0xb7, 0xcc, 0x9a, 0x93, 0xca, 0xe4, 0x1f, 0x32, 0x62,
};

typedef struct {
    uint64_t *dirty;    /* the changed nodes of the current level, ascending */
    uint64_t *gathered; /* the parents whose pairs were gathered */
    uint8_t *pairs;     /* those pairs, back to back */
    uint8_t *hashes;    /* their new hashes */
    size_t capacity;    /* entries each of the four holds */
} update_scratch;

struct lc_merkle_tree {
    update_scratch scratch;
    uint64_t leaf_count;
    unsigned thread_count; /* threads its batches may use, 1..LC_THREAD_COUNT_MAX */
    /* levels[k] holds leaf_count >> k hashes and has room for capacities[k]. */
    uint8_t *levels[LC_MERKLE_LEVEL_COUNT_MAX];
    uint64_t capacities[LC_MERKLE_LEVEL_COUNT_MAX];
};

/* ---- hashing in batches ------------------------------------------------------------------- */

/* lc_blake3_many over any number of rows, LC_BATCH_SIZE_MAX at a time. */
static int hash_rows(const uint8_t *rows, size_t count, size_t row_size, const uint8_t *key,
                     uint8_t *out) {
    while (count > 0) {
        size_t n = count < LC_BATCH_SIZE_MAX ? count : LC_BATCH_SIZE_MAX;
        int status = lc_blake3_many(rows, n, row_size, key, out);
        if (status != LC_OK) return status;
        rows += n * row_size;
        out += n * HASH_SIZE;
        count -= n;
    }
    return LC_OK;
}

typedef struct {
    const uint8_t *rows;
    size_t count;
    size_t row_size;
    const uint8_t *key;
    uint8_t *out;
    int status;
} hash_share;

static void *hash_share_run(void *argument) {
    hash_share *share = argument;
    share->status = hash_rows(share->rows, share->count, share->row_size, share->key, share->out);
    return NULL;
}

/* hash_rows split into contiguous shares over up to thread_count threads, the calling thread
 * taking the first. A batch too small to repay starting a thread (tens of microseconds) stays
 * on the calling thread; a thread that cannot start has its share run here instead. */
static int hash_rows_threaded(const uint8_t *rows, size_t count, size_t row_size,
                              const uint8_t *key, uint8_t *out, unsigned thread_count) {
    LC_ASSERT(thread_count >= 1);
    LC_ASSERT(thread_count <= LC_THREAD_COUNT_MAX);
    size_t blocks_per_row =
        row_size == 0 ? 1 : (row_size + LC_BLAKE3_BLOCK_SIZE - 1) / LC_BLAKE3_BLOCK_SIZE;
    size_t share_count = (count * blocks_per_row) / PARALLEL_SHARE_BLOCKS_MIN;
    if (share_count > thread_count) share_count = thread_count;
    if (share_count <= 1) return hash_rows(rows, count, row_size, key, out);
    hash_share shares[LC_THREAD_COUNT_MAX];
    pthread_t threads[LC_THREAD_COUNT_MAX];
    int started[LC_THREAD_COUNT_MAX];
    /* Shares are whole multiples of the widest kernel's lanes, so only the last is ragged. */
    size_t per_share = ((count + share_count - 1) / share_count + 15) & ~(size_t)15;
    size_t first = 0;
    size_t used = 0;
    for (; used < share_count && first < count; used++) {
        size_t n = count - first < per_share ? count - first : per_share;
        shares[used] = (hash_share){rows + first * row_size, n, row_size, key,
                                    out + first * HASH_SIZE, LC_OK};
        first += n;
    }
    LC_ASSERT(first == count);
    for (size_t t = 1; t < used; t++) {
        started[t] = pthread_create(&threads[t], NULL, hash_share_run, &shares[t]) == 0;
        if (!started[t]) hash_share_run(&shares[t]);
    }
    hash_share_run(&shares[0]);
    int status = shares[0].status;
    for (size_t t = 1; t < used; t++) {
        if (started[t]) pthread_join(threads[t], NULL);
        if (shares[t].status != LC_OK) status = shares[t].status;
    }
    return status;
}

/* Node hashes of `count` adjacent pairs: out[i] = H_node(pairs[2i] || pairs[2i + 1]). */
static void hash_pairs(const uint8_t *pairs, size_t count, uint8_t *out, unsigned thread_count) {
    int status = hash_rows_threaded(pairs, count, PAIR_SIZE, lc_merkle_node_key, out,
                                    thread_count);
    LC_ASSERT(status == LC_OK);
}

static void hash_node(const uint8_t left[HASH_SIZE], const uint8_t right[HASH_SIZE],
                      uint8_t out[HASH_SIZE]) {
    uint8_t pair[PAIR_SIZE];
    memcpy(pair, left, HASH_SIZE);
    memcpy(pair + HASH_SIZE, right, HASH_SIZE);
    hash_pairs(pair, 1, out, 1);
}

static int check_thread_count(unsigned thread_count) {
    return thread_count >= 1 && thread_count <= LC_THREAD_COUNT_MAX ? LC_OK : LC_ERROR_ARGUMENT;
}

int lc_merkle_hash_leaves(const uint8_t *leaves, size_t count, size_t leaf_size, uint8_t *out,
                          unsigned thread_count) {
    if (check_thread_count(thread_count) != LC_OK) return LC_ERROR_ARGUMENT;
    if (count == 0) return LC_OK;
    if (leaves == NULL || out == NULL) return LC_ERROR_ARGUMENT;
    return hash_rows_threaded(leaves, count, leaf_size, lc_merkle_leaf_key, out, thread_count);
}

int lc_merkle_hash_leaves_ptrs(const uint8_t *const *leaves, const size_t *sizes, size_t count,
                               uint8_t *out) {
    if (count == 0) return LC_OK;
    if (leaves == NULL || sizes == NULL || out == NULL) return LC_ERROR_ARGUMENT;
    for (size_t done = 0; done < count; done += LC_BATCH_SIZE_MAX) {
        size_t n = count - done < LC_BATCH_SIZE_MAX ? count - done : LC_BATCH_SIZE_MAX;
        int status = lc_blake3_many_ptrs(leaves + done, sizes + done, n, lc_merkle_leaf_key,
                                         out + done * HASH_SIZE);
        if (status != LC_OK) return status;
    }
    return LC_OK;
}

/* Level by level, in place through a second buffer (the kernel never reads and writes the same
 * bytes in one call); an odd last node moves up unchanged, which builds exactly the RFC 9162
 * shape (the left subtree of every node holds the largest power of two of leaves below its
 * total). `other` holds count / 2 + 1 hashes. */
static void reduce_to_root(uint8_t *hashes, size_t count, uint8_t *other, uint8_t out[HASH_SIZE],
                           unsigned thread_count) {
    LC_ASSERT(count >= 1);
    uint8_t *level = hashes;
    uint8_t *next = other;
    size_t n = count;
    while (n > 1) {
        size_t pair_count = n / 2;
        hash_pairs(level, pair_count, next, thread_count);
        if (n % 2 == 1) { /* the odd last node moves up unchanged */
            memcpy(next + pair_count * HASH_SIZE, level + (n - 1) * HASH_SIZE, HASH_SIZE);
        }
        n = pair_count + n % 2;
        uint8_t *swap = level;
        level = next;
        next = swap;
    }
    memcpy(out, level, HASH_SIZE);
}

int lc_merkle_root_of_hashes(uint8_t *hashes, size_t count, uint8_t out[HASH_SIZE],
                             unsigned thread_count) {
    if (out == NULL || check_thread_count(thread_count) != LC_OK) return LC_ERROR_ARGUMENT;
    if (count == 0) {
        memcpy(out, lc_merkle_empty_root, HASH_SIZE);
        return LC_OK;
    }
    if (hashes == NULL || (uint64_t)count > LC_MERKLE_LEAF_COUNT_MAX) return LC_ERROR_ARGUMENT;
    uint8_t *other = malloc((count / 2 + 1) * HASH_SIZE);
    if (other == NULL) return LC_ERROR_MEMORY;
    reduce_to_root(hashes, count, other, out, thread_count);
    free(other);
    return LC_OK;
}

/* Leaves for a streamed root: rows of leaf_size bytes, or pointers and sizes. */
typedef struct {
    const uint8_t *rows;
    size_t leaf_size;
    const uint8_t *const *pointers;
    const size_t *sizes;
} leaf_source;

static int hash_leaf_range(const leaf_source *source, size_t first, size_t count, uint8_t *out) {
    if (source->pointers != NULL) {
        return lc_blake3_many_ptrs(source->pointers + first, source->sizes + first, count,
                                   lc_merkle_leaf_key, out);
    }
    return lc_blake3_many(source->rows + first * source->leaf_size, count, source->leaf_size,
                          lc_merkle_leaf_key, out);
}

/* Chunks [first_chunk, stop_chunk) of a streamed root: each chunk's leaves are hashed and
 * reduced to the chunk's root in a buffer small enough to stay in the core's cache. */
typedef struct {
    const leaf_source *source;
    size_t leaf_count;
    size_t first_chunk;
    size_t stop_chunk;
    uint8_t *chunk_roots;
    int status;
} root_share;

static void *root_share_run(void *argument) {
    root_share *share = argument;
    uint8_t *work = malloc((ROOT_CHUNK_LEAF_COUNT + ROOT_CHUNK_LEAF_COUNT / 2 + 1) * HASH_SIZE);
    if (work == NULL) {
        share->status = LC_ERROR_MEMORY;
        return NULL;
    }
    uint8_t *other = work + ROOT_CHUNK_LEAF_COUNT * HASH_SIZE;
    share->status = LC_OK;
    for (size_t chunk = share->first_chunk; chunk < share->stop_chunk; chunk++) {
        size_t first = chunk * ROOT_CHUNK_LEAF_COUNT;
        size_t count = share->leaf_count - first;
        if (count > ROOT_CHUNK_LEAF_COUNT) count = ROOT_CHUNK_LEAF_COUNT;
        int status = hash_leaf_range(share->source, first, count, work);
        if (status != LC_OK) {
            share->status = status;
            break;
        }
        reduce_to_root(work, count, other, share->chunk_roots + chunk * HASH_SIZE, 1);
    }
    free(work);
    return NULL;
}

/* The root of many leaves without holding all their hashes: chunks of ROOT_CHUNK_LEAF_COUNT
 * leaves (a power of two, so every chunk but the last is a complete subtree) are reduced to
 * their roots, contiguous runs of chunks on each thread, then the chunk roots are reduced the
 * same way. The partial last chunk's root is what the level-by-level reduction of the whole
 * would carry up to that level, so the result is the RFC 9162 root. */
static int root_streamed(const leaf_source *source, size_t count, uint8_t out[HASH_SIZE],
                         unsigned thread_count) {
    if (out == NULL || check_thread_count(thread_count) != LC_OK) return LC_ERROR_ARGUMENT;
    if (count == 0) {
        memcpy(out, lc_merkle_empty_root, HASH_SIZE);
        return LC_OK;
    }
    if ((uint64_t)count > LC_MERKLE_LEAF_COUNT_MAX) return LC_ERROR_ARGUMENT;
    size_t chunk_count = (count + ROOT_CHUNK_LEAF_COUNT - 1) / ROOT_CHUNK_LEAF_COUNT;
    uint8_t *chunk_roots = malloc((chunk_count + chunk_count / 2 + 1) * HASH_SIZE);
    if (chunk_roots == NULL) return LC_ERROR_MEMORY;
    size_t share_count = chunk_count < thread_count ? chunk_count : thread_count;
    root_share shares[LC_THREAD_COUNT_MAX];
    pthread_t threads[LC_THREAD_COUNT_MAX];
    int started[LC_THREAD_COUNT_MAX];
    for (size_t t = 0; t < share_count; t++) {
        shares[t] = (root_share){source, count, chunk_count * t / share_count,
                                 chunk_count * (t + 1) / share_count, chunk_roots, LC_OK};
    }
    for (size_t t = 1; t < share_count; t++) {
        started[t] = pthread_create(&threads[t], NULL, root_share_run, &shares[t]) == 0;
        if (!started[t]) root_share_run(&shares[t]);
    }
    root_share_run(&shares[0]);
    int status = shares[0].status;
    for (size_t t = 1; t < share_count; t++) {
        if (started[t]) pthread_join(threads[t], NULL);
        if (shares[t].status != LC_OK) status = shares[t].status;
    }
    if (status == LC_OK) {
        reduce_to_root(chunk_roots, chunk_count, chunk_roots + chunk_count * HASH_SIZE, out, 1);
    }
    free(chunk_roots);
    return status;
}

int lc_merkle_root(const uint8_t *leaves, size_t count, size_t leaf_size, uint8_t out[HASH_SIZE],
                   unsigned thread_count) {
    if (count > 0 && leaves == NULL) return LC_ERROR_ARGUMENT;
    leaf_source source = {leaves, leaf_size, NULL, NULL};
    return root_streamed(&source, count, out, thread_count);
}

int lc_merkle_root_ptrs(const uint8_t *const *leaves, const size_t *sizes, size_t count,
                        uint8_t out[HASH_SIZE], unsigned thread_count) {
    if (count > 0 && (leaves == NULL || sizes == NULL)) return LC_ERROR_ARGUMENT;
    leaf_source source = {NULL, 0, leaves, sizes};
    return root_streamed(&source, count, out, thread_count);
}

/* ---- the complete-subtree store ------------------------------------------------------------ */

/* A level's storage, grown by doubling. On Linux it is its own mapping, moved by mremap: pages
 * already written are neither copied nor faulted in again, every level starts on a page (so each
 * pair of siblings is one cache line), and large levels ask for huge pages. Elsewhere it is
 * cache-line aligned heap memory, copied when it grows. */
#if defined(__linux__)
static void *level_resize(void *old, size_t old_bytes, size_t used_bytes, size_t new_bytes) {
    (void)used_bytes;
    void *grown = old == NULL
                      ? mmap(NULL, new_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                             -1, 0)
                      : mremap(old, old_bytes, new_bytes, MREMAP_MAYMOVE);
    if (grown == MAP_FAILED) return NULL;
#if defined(MADV_HUGEPAGE)
    if (new_bytes >= HUGE_LEVEL_SIZE_MIN) (void)madvise(grown, new_bytes, MADV_HUGEPAGE);
#endif
    return grown;
}

static void level_release(void *level, size_t bytes) {
    if (level != NULL) munmap(level, bytes);
}
#else
static void *level_resize(void *old, size_t old_bytes, size_t used_bytes, size_t new_bytes) {
    (void)old_bytes;
    void *grown = NULL;
    if (posix_memalign(&grown, CACHE_LINE_SIZE, new_bytes) != 0) return NULL;
    if (used_bytes > 0) memcpy(grown, old, used_bytes);
    free(old);
    return grown;
}

static void level_release(void *level, size_t bytes) {
    (void)bytes;
    free(level);
}
#endif

lc_merkle_tree *lc_merkle_tree_new(unsigned thread_count) {
    if (check_thread_count(thread_count) != LC_OK) return NULL;
    lc_merkle_tree *tree = calloc(1, sizeof(lc_merkle_tree));
    if (tree != NULL) tree->thread_count = thread_count;
    return tree;
}

void lc_merkle_tree_free(lc_merkle_tree *tree) {
    if (tree == NULL) return;
    for (unsigned k = 0; k < LC_MERKLE_LEVEL_COUNT_MAX; k++) {
        level_release(tree->levels[k], tree->capacities[k] * HASH_SIZE);
    }
    free(tree->scratch.dirty);
    free(tree->scratch.gathered);
    free(tree->scratch.pairs);
    free(tree->scratch.hashes);
    free(tree);
}

uint64_t lc_merkle_tree_size(const lc_merkle_tree *tree) {
    LC_ASSERT(tree != NULL);
    return tree->leaf_count;
}

uint64_t lc_merkle_tree_level_count(const lc_merkle_tree *tree, unsigned level) {
    LC_ASSERT(tree != NULL);
    return level < LC_MERKLE_LEVEL_COUNT_MAX ? tree->leaf_count >> level : 0;
}

static const uint8_t *node_at(const lc_merkle_tree *tree, unsigned level, uint64_t index) {
    LC_ASSERT(level < LC_MERKLE_LEVEL_COUNT_MAX);
    LC_ASSERT(index < tree->leaf_count >> level);
    return tree->levels[level] + index * HASH_SIZE;
}

int lc_merkle_tree_nodes(const lc_merkle_tree *tree, unsigned level, uint64_t start,
                         uint64_t stop, uint8_t *out) {
    LC_ASSERT(tree != NULL);
    if (level >= LC_MERKLE_LEVEL_COUNT_MAX) return LC_ERROR_ARGUMENT;
    if (start > stop || stop > tree->leaf_count >> level) return LC_ERROR_ARGUMENT;
    if (start == stop) return LC_OK;
    if (out == NULL) return LC_ERROR_ARGUMENT;
    memcpy(out, tree->levels[level] + start * HASH_SIZE, (stop - start) * HASH_SIZE);
    return LC_OK;
}

/* Room on every level for a tree of `size` leaves. Growing a capacity changes nothing visible,
 * so a failure half way leaves the tree as it was. */
static int reserve(lc_merkle_tree *tree, uint64_t size) {
    for (unsigned k = 0; k < LC_MERKLE_LEVEL_COUNT_MAX && (size >> k) > 0; k++) {
        uint64_t need = size >> k;
        if (need <= tree->capacities[k]) continue;
        uint64_t capacity = tree->capacities[k] > 0 ? tree->capacities[k] : LEVEL_CAPACITY_MIN;
        while (capacity < need) capacity *= 2;
        uint8_t *grown = level_resize(tree->levels[k], tree->capacities[k] * HASH_SIZE,
                                      (tree->leaf_count >> k) * HASH_SIZE, capacity * HASH_SIZE);
        if (grown == NULL) return LC_ERROR_MEMORY;
        tree->levels[k] = grown;
        tree->capacities[k] = capacity;
    }
    return LC_OK;
}

/* Leaves [old_size, new_size) have their hashes on level 0: hash the nodes they complete, one
 * batch per level. Level k + 1 gains nodes (old_size >> (k + 1)) .. (new_size >> (k + 1)), whose
 * pairs sit back to back on level k; that is at most one node per leaf over all levels. */
static void complete_levels(lc_merkle_tree *tree, uint64_t old_size, uint64_t new_size) {
    LC_ASSERT(old_size <= new_size);
    LC_ASSERT(new_size <= LC_MERKLE_LEAF_COUNT_MAX);
    for (unsigned k = 0; k + 1 < LC_MERKLE_LEVEL_COUNT_MAX; k++) {
        uint64_t first = old_size >> (k + 1);
        uint64_t stop = new_size >> (k + 1);
        if (stop == first) break; /* no new node here, so none above */
        LC_ASSERT(stop <= tree->capacities[k + 1]);
        hash_pairs(tree->levels[k] + 2 * first * HASH_SIZE, stop - first,
                   tree->levels[k + 1] + first * HASH_SIZE, tree->thread_count);
    }
    tree->leaf_count = new_size;
}

static int check_append(const lc_merkle_tree *tree, size_t count) {
    LC_ASSERT(tree != NULL);
    if ((uint64_t)count > LC_MERKLE_LEAF_COUNT_MAX - tree->leaf_count) return LC_ERROR_ARGUMENT;
    return LC_OK;
}

int lc_merkle_tree_append(lc_merkle_tree *tree, const uint8_t *leaves, size_t count,
                          size_t leaf_size) {
    int status = check_append(tree, count);
    if (status != LC_OK || count == 0) return status;
    if (leaves == NULL) return LC_ERROR_ARGUMENT;
    uint64_t old_size = tree->leaf_count;
    status = reserve(tree, old_size + count);
    if (status != LC_OK) return status;
    status = lc_merkle_hash_leaves(leaves, count, leaf_size,
                                   tree->levels[0] + old_size * HASH_SIZE, tree->thread_count);
    if (status != LC_OK) return status;
    complete_levels(tree, old_size, old_size + count);
    return LC_OK;
}

int lc_merkle_tree_append_ptrs(lc_merkle_tree *tree, const uint8_t *const *leaves,
                               const size_t *sizes, size_t count) {
    int status = check_append(tree, count);
    if (status != LC_OK || count == 0) return status;
    uint64_t old_size = tree->leaf_count;
    status = reserve(tree, old_size + count);
    if (status != LC_OK) return status;
    status = lc_merkle_hash_leaves_ptrs(leaves, sizes, count,
                                        tree->levels[0] + old_size * HASH_SIZE);
    if (status != LC_OK) return status;
    complete_levels(tree, old_size, old_size + count);
    return LC_OK;
}

int lc_merkle_tree_append_hashes(lc_merkle_tree *tree, const uint8_t *hashes, size_t count) {
    int status = check_append(tree, count);
    if (status != LC_OK || count == 0) return status;
    if (hashes == NULL) return LC_ERROR_ARGUMENT;
    uint64_t old_size = tree->leaf_count;
    status = reserve(tree, old_size + count);
    if (status != LC_OK) return status;
    memcpy(tree->levels[0] + old_size * HASH_SIZE, hashes, count * HASH_SIZE);
    complete_levels(tree, old_size, old_size + count);
    return LC_OK;
}

/* ---- batched updates ----------------------------------------------------------------------- */

/* How far ahead the scattered loops of an update prefetch: a level of a large tree is far
 * bigger than the caches, so nearly every dirty node is a cache miss worth starting early. */
#define PREFETCH_DISTANCE 16u

/* Rehash, on level k + 1, the `count` parents listed in s->dirty (ascending, distinct). A dense
 * level is rehashed over its whole span; otherwise long runs of adjacent parents are one in-place
 * batch and the rest are gathered into one batch. */
static void rehash_parents(lc_merkle_tree *tree, unsigned k, size_t count) {
    update_scratch *s = &tree->scratch;
    const uint8_t *below = tree->levels[k];
    uint8_t *above = tree->levels[k + 1];
    LC_ASSERT(count > 0);
    const uint64_t span = s->dirty[count - 1] - s->dirty[0] + 1;
    LC_ASSERT(span >= count);
    if (count * UPDATE_DENSE_RATIO >= span) {
        /* Dense: one sequential pass over the whole span, in place. A clean parent in it hashes
         * to the value it holds (its children are unchanged), and reading the span in order
         * costs less than gathering and scattering its dirty parents one by one. */
        hash_pairs(below + 2 * s->dirty[0] * HASH_SIZE, span, above + s->dirty[0] * HASH_SIZE,
                   tree->thread_count);
        return;
    }
    size_t gathered_count = 0;
    size_t j = 0;
    while (j < count) {
        size_t run_end = j + 1;
        while (run_end < count && s->dirty[run_end] == s->dirty[run_end - 1] + 1) run_end++;
        uint64_t first = s->dirty[j];
        if (run_end - j >= UPDATE_RUN_MIN) {
            hash_pairs(below + 2 * first * HASH_SIZE, run_end - j, above + first * HASH_SIZE,
                       tree->thread_count);
        } else {
            for (size_t r = j; r < run_end; r++) {
                if (r + PREFETCH_DISTANCE < count) {
                    __builtin_prefetch(below + 2 * s->dirty[r + PREFETCH_DISTANCE] * HASH_SIZE);
                }
                memcpy(s->pairs + gathered_count * PAIR_SIZE, below + 2 * s->dirty[r] * HASH_SIZE,
                       PAIR_SIZE);
                s->gathered[gathered_count++] = s->dirty[r];
            }
        }
        j = run_end;
    }
    hash_pairs(s->pairs, gathered_count, s->hashes, tree->thread_count);
    for (size_t g = 0; g < gathered_count; g++) {
        if (g + PREFETCH_DISTANCE < gathered_count) {
            __builtin_prefetch(above + s->gathered[g + PREFETCH_DISTANCE] * HASH_SIZE, 1);
        }
        memcpy(above + s->gathered[g] * HASH_SIZE, s->hashes + g * HASH_SIZE, HASH_SIZE);
    }
}

/* Room in the tree's update scratch for `count` dirty nodes; kept between updates, so a ledger
 * updating every block touches no fresh page. */
static int reserve_scratch(update_scratch *s, size_t count) {
    if (count <= s->capacity) return LC_OK;
    size_t capacity = s->capacity > 0 ? s->capacity : 1024;
    while (capacity < count) capacity *= 2;
    uint64_t *dirty = malloc(capacity * sizeof *dirty);
    uint64_t *gathered = malloc(capacity * sizeof *gathered);
    uint8_t *pairs = malloc(capacity * PAIR_SIZE);
    uint8_t *hashes = malloc(capacity * HASH_SIZE);
    if (dirty == NULL || gathered == NULL || pairs == NULL || hashes == NULL) {
        free(dirty);
        free(gathered);
        free(pairs);
        free(hashes);
        return LC_ERROR_MEMORY;
    }
    free(s->dirty);
    free(s->gathered);
    free(s->pairs);
    free(s->hashes);
    *s = (update_scratch){dirty, gathered, pairs, hashes, capacity};
    return LC_OK;
}

static int check_update(const lc_merkle_tree *tree, const uint64_t *indices,
                        const uint64_t *sorted_indices, size_t count) {
    if (count > 0 && (indices == NULL || sorted_indices == NULL)) return LC_ERROR_ARGUMENT;
    for (size_t j = 0; j < count; j++) {
        if (indices[j] >= tree->leaf_count) return LC_ERROR_ARGUMENT;
        if (sorted_indices[j] >= tree->leaf_count) return LC_ERROR_ARGUMENT;
        if (j > 0 && sorted_indices[j] < sorted_indices[j - 1]) return LC_ERROR_ARGUMENT;
    }
    return LC_OK;
}

int lc_merkle_tree_update_hashes(lc_merkle_tree *tree, const uint64_t *indices,
                                 const uint8_t *hashes, const uint64_t *sorted_indices,
                                 size_t count) {
    LC_ASSERT(tree != NULL);
    int status = check_update(tree, indices, sorted_indices, count);
    if (status != LC_OK || count == 0) return status;
    if (hashes == NULL) return LC_ERROR_ARGUMENT;
    status = reserve_scratch(&tree->scratch, count);
    if (status != LC_OK) return status;
    update_scratch *s = &tree->scratch;
    uint8_t *leaf_hashes = tree->levels[0];
    for (size_t j = 0; j < count; j++) {
        if (j + PREFETCH_DISTANCE < count) {
            __builtin_prefetch(leaf_hashes + indices[j + PREFETCH_DISTANCE] * HASH_SIZE, 1);
        }
        memcpy(leaf_hashes + indices[j] * HASH_SIZE, hashes + j * HASH_SIZE, HASH_SIZE);
    }
    memcpy(s->dirty, sorted_indices, count * sizeof *s->dirty);
    size_t dirty_count = count;
    for (unsigned k = 0; k + 1 < LC_MERKLE_LEVEL_COUNT_MAX; k++) {
        uint64_t above_count = tree->leaf_count >> (k + 1);
        /* Parents of the dirty nodes, each once, in place: the write index never passes the
         * read index. Repeats in sorted_indices fall out here too. */
        size_t parent_count = 0;
        for (size_t j = 0; j < dirty_count; j++) {
            uint64_t parent = s->dirty[j] >> 1;
            if (parent >= above_count) break; /* ascending: the rest have no complete parent */
            if (parent_count == 0 || s->dirty[parent_count - 1] != parent) {
                s->dirty[parent_count++] = parent;
            }
        }
        if (parent_count == 0) break;
        LC_ASSERT(parent_count <= dirty_count);
        rehash_parents(tree, k, parent_count);
        dirty_count = parent_count;
    }
    return LC_OK;
}

/* ---- roots and proofs ---------------------------------------------------------------------- */

static uint64_t lowest_bit(uint64_t x) { return x & (~x + 1); }

static unsigned level_of(uint64_t power_of_two) {
    LC_ASSERT(power_of_two != 0);
    LC_ASSERT((power_of_two & (power_of_two - 1)) == 0);
    return (unsigned)__builtin_ctzll(power_of_two);
}

/* The largest power of two below n, for n >= 2: the size of an RFC 9162 node's left subtree. */
static uint64_t split_of(uint64_t n) {
    LC_ASSERT(n >= 2);
    return (uint64_t)1 << (63 - __builtin_clzll(n - 1));
}

/* MTH(D[start:end]) for a node of an RFC 9162 tree inside the stored leaves. Such a node starts
 * at a multiple of the smallest power of two at least its size, so its complete subtrees (one per
 * bit of its size, largest first) are stored nodes; fold them right to left. */
static void subtree_hash(const lc_merkle_tree *tree, uint64_t start, uint64_t end,
                         uint8_t out[HASH_SIZE]) {
    LC_ASSERT(start < end);
    LC_ASSERT(end <= tree->leaf_count);
    uint64_t remaining = end - start;
    uint64_t peak = lowest_bit(remaining);
    uint64_t position = end - peak;
    LC_ASSERT(position % peak == 0);
    memcpy(out, node_at(tree, level_of(peak), position >> level_of(peak)), HASH_SIZE);
    remaining -= peak;
    while (remaining > 0) {
        peak = lowest_bit(remaining);
        position -= peak;
        LC_ASSERT(position % peak == 0);
        hash_node(node_at(tree, level_of(peak), position >> level_of(peak)), out, out);
        remaining -= peak;
    }
    LC_ASSERT(position == start);
}

/* The incomplete nodes of the tree of `size` leaves: every one is a range [start, size) whose
 * start is where one of the size's complete subtrees (one per bit, largest first) begins. They
 * are folded once, right to left, the first time a proof needs one, and shared by every proof
 * made for that size in one call. */
typedef struct {
    uint64_t size;
    size_t count;
    int ready;
    uint64_t starts[LC_MERKLE_LEVEL_COUNT_MAX];
    uint8_t hashes[LC_MERKLE_LEVEL_COUNT_MAX][HASH_SIZE];
} border;

static void border_init(border *b, uint64_t size) {
    b->size = size;
    b->count = 0;
    b->ready = 0;
}

static void border_fill(const lc_merkle_tree *tree, border *b) {
    uint64_t position = 0;
    size_t count = 0;
    for (int bit = 63; bit >= 0; bit--) {
        uint64_t peak = (uint64_t)1 << bit;
        if ((b->size & peak) == 0) continue;
        LC_ASSERT(count < LC_MERKLE_LEVEL_COUNT_MAX);
        b->starts[count] = position;
        memcpy(b->hashes[count], node_at(tree, (unsigned)bit, position >> bit), HASH_SIZE);
        position += peak;
        count++;
    }
    LC_ASSERT(position == b->size);
    for (size_t j = count - 1; j-- > 0;) {
        hash_node(b->hashes[j], b->hashes[j + 1], b->hashes[j]);
    }
    b->count = count;
    b->ready = 1;
}

/* MTH(D[start:end]) of a node of the tree of b->size leaves: a stored node when complete, else
 * one of the border's. */
static void node_hash_of(const lc_merkle_tree *tree, border *b, uint64_t start, uint64_t end,
                         uint8_t out[HASH_SIZE]) {
    LC_ASSERT(start < end);
    uint64_t width = end - start;
    if ((width & (width - 1)) == 0) {
        LC_ASSERT(start % width == 0);
        memcpy(out, node_at(tree, level_of(width), start >> level_of(width)), HASH_SIZE);
        return;
    }
    LC_ASSERT(end == b->size);
    if (!b->ready) border_fill(tree, b);
    for (size_t j = 0; j < b->count; j++) {
        if (b->starts[j] == start) {
            memcpy(out, b->hashes[j], HASH_SIZE);
            return;
        }
    }
    LC_ASSERT(0 && "an incomplete node starts where a complete subtree of its tree starts");
}

int lc_merkle_tree_root(const lc_merkle_tree *tree, uint64_t size, uint8_t out[HASH_SIZE]) {
    LC_ASSERT(tree != NULL);
    if (out == NULL || size > tree->leaf_count) return LC_ERROR_ARGUMENT;
    if (size == 0) {
        memcpy(out, lc_merkle_empty_root, HASH_SIZE);
    } else {
        subtree_hash(tree, 0, size, out);
    }
    return LC_OK;
}

/* Proof hashes are found root first; RFC 9162 lists them leaf first. */
static void reverse_hashes(uint8_t *hashes, size_t count) {
    for (size_t i = 0, j = count; i + 1 < j; i++, j--) {
        uint8_t swap[HASH_SIZE];
        memcpy(swap, hashes + i * HASH_SIZE, HASH_SIZE);
        memcpy(hashes + i * HASH_SIZE, hashes + (j - 1) * HASH_SIZE, HASH_SIZE);
        memcpy(hashes + (j - 1) * HASH_SIZE, swap, HASH_SIZE);
    }
}

/* PATH(m, D[n]) of RFC 9162 section 2.1.3.1, walked from the root down; returns its length. */
static size_t inclusion_path(const lc_merkle_tree *tree, border *b, uint64_t index,
                             uint8_t *out) {
    LC_ASSERT(index < b->size);
    uint64_t start = 0;
    uint64_t end = b->size;
    size_t count = 0;
    while (end - start > 1) {
        uint64_t middle = start + split_of(end - start);
        LC_ASSERT(count < LC_MERKLE_PROOF_HASHES_MAX);
        if (index < middle) {
            node_hash_of(tree, b, middle, end, out + count * HASH_SIZE);
            end = middle;
        } else {
            node_hash_of(tree, b, start, middle, out + count * HASH_SIZE);
            start = middle;
        }
        count++;
    }
    reverse_hashes(out, count);
    return count;
}

int lc_merkle_tree_inclusion_proof(const lc_merkle_tree *tree, uint64_t index, uint64_t size,
                                   uint8_t *out, size_t *hash_count) {
    LC_ASSERT(tree != NULL);
    if (out == NULL || hash_count == NULL) return LC_ERROR_ARGUMENT;
    if (size > tree->leaf_count || index >= size) return LC_ERROR_ARGUMENT;
    border b;
    border_init(&b, size);
    *hash_count = inclusion_path(tree, &b, index, out);
    return LC_OK;
}

size_t lc_merkle_proof_depth(uint64_t size) {
    return size <= 1 ? 0 : (size_t)(64 - __builtin_clzll(size - 1));
}

int lc_merkle_tree_inclusion_proofs(const lc_merkle_tree *tree, const uint64_t *indices,
                                    size_t count, uint64_t size, uint8_t *out,
                                    uint8_t *hash_counts) {
    LC_ASSERT(tree != NULL);
    if (count == 0) return LC_OK;
    if (indices == NULL || out == NULL || hash_counts == NULL) return LC_ERROR_ARGUMENT;
    if (size > tree->leaf_count) return LC_ERROR_ARGUMENT;
    for (size_t i = 0; i < count; i++) {
        if (indices[i] >= size) return LC_ERROR_ARGUMENT;
    }
    size_t stride = lc_merkle_proof_depth(size) * HASH_SIZE;
    border b;
    border_init(&b, size);
    for (size_t i = 0; i < count; i++) {
        size_t length = inclusion_path(tree, &b, indices[i], out + i * stride);
        LC_ASSERT(length * HASH_SIZE <= stride);
        hash_counts[i] = (uint8_t)length;
    }
    return LC_OK;
}

/* PROOF(m, D[n]) = SUBPROOF(m, D[n], true) of RFC 9162 section 2.1.4.1, walked from the root
 * down; `old_size` counts the old tree's leaves inside the current node [start, end). */
int lc_merkle_tree_consistency_proof(const lc_merkle_tree *tree, uint64_t old_size,
                                     uint64_t new_size, uint8_t *out, size_t *hash_count) {
    LC_ASSERT(tree != NULL);
    if (out == NULL || hash_count == NULL) return LC_ERROR_ARGUMENT;
    if (new_size > tree->leaf_count || old_size > new_size) return LC_ERROR_ARGUMENT;
    size_t count = 0;
    border b;
    border_init(&b, new_size);
    if (old_size > 0 && old_size < new_size) {
        uint64_t start = 0;
        uint64_t end = new_size;
        int old_is_whole_node = 1; /* the "b" of SUBPROOF: still on the old tree's left edge */
        while (old_size != end - start) {
            uint64_t split = split_of(end - start);
            LC_ASSERT(count < LC_MERKLE_PROOF_HASHES_MAX);
            if (old_size <= split) {
                node_hash_of(tree, &b, start + split, end, out + count * HASH_SIZE);
                end = start + split;
            } else {
                node_hash_of(tree, &b, start, start + split, out + count * HASH_SIZE);
                start += split;
                old_size -= split;
                old_is_whole_node = 0;
            }
            count++;
        }
        if (!old_is_whole_node) {
            LC_ASSERT(count < LC_MERKLE_PROOF_HASHES_MAX);
            node_hash_of(tree, &b, start, end, out + count * HASH_SIZE);
            count++;
        }
    }
    reverse_hashes(out, count);
    *hash_count = count;
    return LC_OK;
}
