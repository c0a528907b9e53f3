/* Merkle trees of RFC 9162 (Certificate Transparency 2.0) over BLAKE3, the builder side.
 *
 * Shapes and proofs are those of RFC 9162, section 2.1; domain separation is by key instead of by
 * prefix byte:
 *   leaf hash  = BLAKE3-keyed(K_leaf, data)
 *   node hash  = BLAKE3-keyed(K_node, left || right)      one whole 64-byte block
 *   empty root = BLAKE3(b"")
 * with K_leaf and K_node derived by BLAKE3's derive-key mode from empty key material and the
 * contexts "ledgercore 2026-11 merkle leaf v1" and "ledgercore 2026-11 merkle node v1".
 *
 * A tree keeps only complete subtrees: node (level k, index i) is the root of leaves
 * [i * 2^k, (i + 1) * 2^k), and level k holds leaf_count >> k of them. A complete node never
 * changes once its last leaf is appended, so a store can persist it under (k, i) once; every node
 * of the RFC 9162 tree of any size m <= leaf_count is either one of them or is folded from at most
 * 40 of them, which is how roots and proofs for past sizes are made without reading a leaf.
 *
 * Every function returns LC_OK, LC_ERROR_ARGUMENT (a size or index out of range, a count above a
 * limit) or LC_ERROR_MEMORY, and changes nothing unless it returns LC_OK. None needs the GIL; a
 * tree must not be used by two threads at once while one of them changes it.
 */
#ifndef LC_MERKLE_H
#define LC_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#include "lc_limits.h"

#define LC_MERKLE_HASH_SIZE 32

/* The two keys and the empty root, as bytes (tests compare them with the blake3 package). */
extern const uint8_t lc_merkle_leaf_key[LC_MERKLE_HASH_SIZE];
extern const uint8_t lc_merkle_node_key[LC_MERKLE_HASH_SIZE];
extern const uint8_t lc_merkle_empty_root[LC_MERKLE_HASH_SIZE];

/* Leaf hashes of `count` leaves of `leaf_size` bytes each, back to back; 32 * count bytes out.
 * Large batches are split over up to `thread_count` threads (1..LC_THREAD_COUNT_MAX). */
int lc_merkle_hash_leaves(const uint8_t *leaves, size_t count, size_t leaf_size, uint8_t *out,
                          unsigned thread_count);

/* The same for leaves of different sizes: leaf i is leaves[i][0 .. sizes[i]). */
int lc_merkle_hash_leaves_ptrs(const uint8_t *const *leaves, const size_t *sizes, size_t count,
                               uint8_t *out);

/* The RFC 9162 root over leaf data (the empty root when count is 0), streamed: leaves are
 * hashed and reduced chunk by chunk in cache-sized buffers, contiguous runs of chunks spread
 * over up to `thread_count` threads. Leaves are rows of leaf_size bytes, or pointers and sizes. */
int lc_merkle_root(const uint8_t *leaves, size_t count, size_t leaf_size,
                   uint8_t out[LC_MERKLE_HASH_SIZE], unsigned thread_count);
int lc_merkle_root_ptrs(const uint8_t *const *leaves, const size_t *sizes, size_t count,
                        uint8_t out[LC_MERKLE_HASH_SIZE], unsigned thread_count);

/* The RFC 9162 root over `count` leaf hashes (the empty root when count is 0). `hashes` is
 * overwritten: it holds each level in turn, reduced in place by the node kernel. */
int lc_merkle_root_of_hashes(uint8_t *hashes, size_t count, uint8_t out[LC_MERKLE_HASH_SIZE],
                             unsigned thread_count);

typedef struct lc_merkle_tree lc_merkle_tree;

/* A new empty tree whose batches use up to `thread_count` threads (1..LC_THREAD_COUNT_MAX), or
 * NULL for a thread count out of range or when memory runs out. lc_merkle_tree_free(NULL) does
 * nothing. */
lc_merkle_tree *lc_merkle_tree_new(unsigned thread_count);
void lc_merkle_tree_free(lc_merkle_tree *tree);

uint64_t lc_merkle_tree_size(const lc_merkle_tree *tree);

/* Appending: leaf data as rows, as pointers and sizes, or leaf hashes already made. Amortised,
 * one node hash per leaf; new nodes of each level are hashed in one batch, pairs in place. */
int lc_merkle_tree_append(lc_merkle_tree *tree, const uint8_t *leaves, size_t count,
                          size_t leaf_size);
int lc_merkle_tree_append_ptrs(lc_merkle_tree *tree, const uint8_t *const *leaves,
                               const size_t *sizes, size_t count);
int lc_merkle_tree_append_hashes(lc_merkle_tree *tree, const uint8_t *hashes, size_t count);

/* Replaces leaf hashes: leaf indices[j] gets hashes[j * 32 ..] (a repeated index: the last one
 * wins), then every complete ancestor of a changed leaf is hashed again, once, level by level.
 * `sorted_indices` holds the same indices in ascending order (repeats allowed). */
int lc_merkle_tree_update_hashes(lc_merkle_tree *tree, const uint64_t *indices,
                                 const uint8_t *hashes, const uint64_t *sorted_indices,
                                 size_t count);

/* Complete-subtree hashes: level k has lc_merkle_tree_level_count(tree, k) of them. Copies nodes
 * [start, stop) of one level to `out` (32 bytes each). */
uint64_t lc_merkle_tree_level_count(const lc_merkle_tree *tree, unsigned level);
int lc_merkle_tree_nodes(const lc_merkle_tree *tree, unsigned level, uint64_t start,
                         uint64_t stop, uint8_t *out);

/* The root of the first `size` leaves, for any size up to the tree's. */
int lc_merkle_tree_root(const lc_merkle_tree *tree, uint64_t size,
                        uint8_t out[LC_MERKLE_HASH_SIZE]);

/* RFC 9162 proofs in the tree of the first `size` (`new_size`) leaves: up to
 * LC_MERKLE_PROOF_HASHES_MAX hashes to `out`, their number to *hash_count. Inclusion needs
 * index < size; consistency needs old_size <= new_size (the proof is empty when old_size is 0 or
 * equal to new_size). */
int lc_merkle_tree_inclusion_proof(const lc_merkle_tree *tree, uint64_t index, uint64_t size,
                                   uint8_t *out, size_t *hash_count);
/* Inclusion proofs of `count` leaves in the tree of the first `size` leaves, in one call (the
 * incomplete nodes they share are hashed once). Proof i goes to out + i * depth * 32, where depth
 * is lc_merkle_proof_depth(size), the longest proof for that size; its length to hash_counts[i]. */
int lc_merkle_tree_inclusion_proofs(const lc_merkle_tree *tree, const uint64_t *indices,
                                    size_t count, uint64_t size, uint8_t *out,
                                    uint8_t *hash_counts);
size_t lc_merkle_proof_depth(uint64_t size);
int lc_merkle_tree_consistency_proof(const lc_merkle_tree *tree, uint64_t old_size,
                                     uint64_t new_size, uint8_t *out, size_t *hash_count);

#endif
