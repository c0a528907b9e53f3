/* Merkle sum trees for proofs of liabilities, the builder side.
 *
 * The whole construction is written down in docs/formats.md, section 6, and in
 * ledgercore/liabilities.py; the auditable verifier is check_liability_proof in proofcheck.py.
 * In short, for accounts (id, balance) and three keys the caller derives from the operator's
 * secret (split, salt, place):
 *
 *   stream(K, id, c) = BLAKE3-keyed(K, id_le16 || c_le8)                   32 bytes
 *   account id gets k parts, k from word 0 of its split stream; the balance is cut at k - 1
 *     points drawn from words 1 .. k - 1 (word w is bytes 16w .. 16w + 16 of the stream
 *     stream(K_split, id, 0) || stream(K_split, id, 1) || ...)
 *   item = a part (id, j) or a dummy (0, d); tag = first 8 bytes (LE) of stream(K_place, ...)
 *   leaves = the items in ascending (tag, id, index) order, padded to a power of two by dummies
 *   salt = stream(K_salt, id, index); leaf hash = BLAKE3-keyed(K_leaf, id || value || salt)
 *   node = hash || sum (48 bytes); parent hash = BLAKE3-keyed(K_node, left node || right node)
 *
 * A node is stored as its 48 bytes, hash then sum (u128 LE), so the two children of a parent lie
 * back to back and are exactly the parent's 96-byte input: a level is hashed in one many-input
 * call without copying. Levels are stored one after the other, the leaves first.
 *
 * Every function returns LC_OK, LC_ERROR_ARGUMENT (a count or size out of range, a balance total
 * past 2^128 - 1, a duplicate account id) or LC_ERROR_MEMORY; outputs are only meaningful after
 * LC_OK. None needs the GIL.
 */
#ifndef LC_SUMTREE_H
#define LC_SUMTREE_H

#include <stddef.h>
#include <stdint.h>

#include "lc_limits.h"

#define LC_SUMTREE_HASH_SIZE 32
#define LC_SUMTREE_NODE_SIZE 48
#define LC_SUMTREE_KEY_SIZE 32

/* Returned by lc_sumtree_build when two accounts share an id; *duplicate_row names the second. */
#define LC_SUMTREE_ERROR_DUPLICATE (-10)
/* Returned by lc_sumtree_check_balances when the balances add up past 2^128 - 1. */
#define LC_SUMTREE_ERROR_OVERFLOW (-11)

/* The leaf and node keys: BLAKE3 derive_key of empty key material with the contexts
 * "ledgercore 2026-12 liability leaf v1" and "ledgercore 2026-12 liability node v1". */
extern const uint8_t lc_sumtree_leaf_key[LC_SUMTREE_KEY_SIZE];
extern const uint8_t lc_sumtree_node_key[LC_SUMTREE_KEY_SIZE];

/* The total of `count` u128 balances (two u64 lanes each, low first) into total[2], or
 * LC_SUMTREE_ERROR_OVERFLOW with *overflow_row the row at which the running total passed
 * 2^128 - 1. */
int lc_sumtree_check_balances(const uint64_t *balances, size_t count, uint64_t total[2],
                              size_t *overflow_row);

/* The number of parts of each account: parts_min + floor(w0 * (parts_max - parts_min + 1) /
 * 2^128), w0 the little-endian u128 of bytes 0..16 of stream(split_key, id, 0).
 * 1 <= parts_min <= parts_max <= LC_SUMTREE_PARTS_MAX. */
int lc_sumtree_part_counts(const uint64_t *ids, size_t count, const uint8_t *split_key,
                           unsigned parts_min, unsigned parts_max, uint8_t *part_counts);

typedef struct {
    const uint64_t *ids;        /* account_count ids, two u64 lanes each; none is 0 */
    const uint64_t *balances;   /* account_count balances, two lanes each; total < 2^128 */
    const uint8_t *part_counts; /* as lc_sumtree_part_counts gave them */
    size_t account_count;
    uint64_t part_count; /* the sum of part_counts */
    uint64_t leaf_count; /* a power of two, >= part_count, <= LC_SUMTREE_LEAF_COUNT_MAX */
    unsigned parts_min;
    unsigned parts_max;
    unsigned thread_count; /* 1..LC_THREAD_COUNT_MAX: threads the passes may use */
    const uint8_t *split_key;
    const uint8_t *salt_key;
    const uint8_t *place_key;
} lc_sumtree_input;

/* Build the whole tree: `nodes` receives 2 * leaf_count - 1 nodes of 48 bytes (the leaves, then
 * each level up to the root); part_leaves[p] the leaf index of part p, where the parts of account
 * i are numbered from the sum of part_counts[0 .. i) on. An id given twice returns
 * LC_SUMTREE_ERROR_DUPLICATE with *duplicate_row the later of two rows holding it. */
int lc_sumtree_build(const lc_sumtree_input *input, uint8_t *nodes, uint32_t *part_leaves,
                     size_t *duplicate_row);

/* The salts of `count` leaves: out[i] = stream(salt_key, ids[i], indices[i]), 32 bytes each. */
int lc_sumtree_salts(const uint64_t *ids, const uint64_t *indices, size_t count,
                     const uint8_t *salt_key, uint8_t *out);

#endif
