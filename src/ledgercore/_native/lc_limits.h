/* Every limit of ledgercore, declared once (named lc_limits.h so that it never stands in for the
 * C library's <limits.h> on an include path). ledgercore.limits reads these through the native
 * modules, so C and Python cannot drift. Names end with their unit.
 */
#ifndef LC_LIMITS_H
#define LC_LIMITS_H

#include "common.h"

/* Rows one native call takes. 2^24 inputs of 64 bytes is 1 GiB in and 512 MiB out: larger batches
 * gain nothing and would hide a caller's runaway loop. */
#define LC_BATCH_SIZE_MAX (1u << 24)

/* One input to blake3(): 2^40 bytes. BLAKE3's chunk counter is 64-bit, so this is not a hash
 * limit; it bounds the chaining-value buffers this implementation allocates (3% of the input). */
#define LC_BLAKE3_INPUT_SIZE_MAX ((uint64_t)1 << 40)

/* Extended output of one blake3() call: 1 MiB is far beyond any key or digest a ledger needs. */
#define LC_BLAKE3_OUTPUT_SIZE_MAX (1u << 20)

/* Worker threads one native call may start. */
#define LC_THREAD_COUNT_MAX 256u

/* Signatures one batch-verification chunk (one multi-scalar multiplication) takes: 2^14. Larger
 * chunks gain under 3% per signature (Pippenger's window grows by one bit per doubling) while the
 * chunk's workspace, about 1.5 KiB per signature, passes 24 MiB per thread. */
#define LC_ED25519_CHUNK_SIZE_MAX (1u << 14)
/* From this many signatures up to LC_ED25519_CHUNK_SIZE_MAX, a batch given two or more threads
 * is checked as one combined equation by all of them together. */
#define LC_ED25519_TEAM_SIGNATURES_MIN 256u

/* Leaves one Merkle tree holds: 2^40 (a trillion transfers). Level 0 alone would then be 32 TiB,
 * so this is no practical bound on a ledger; it fixes the height, the proof length and the level
 * table of a tree. */
#define LC_MERKLE_LEAF_COUNT_MAX ((uint64_t)1 << 40)

/* Levels of complete-subtree hashes a tree keeps: level k holds roots of 2^k leaves, k = 0..40. */
#define LC_MERKLE_LEVEL_COUNT_MAX 41u

/* Hashes in one inclusion or consistency proof. RFC 9162 proofs over at most 2^40 leaves hold at
 * most 40 (inclusion) and 41 (consistency) hashes; 64 leaves room and is what a serialised proof
 * may declare. */
#define LC_MERKLE_PROOF_HASHES_MAX 64u

/* Accounts and transfers one in-memory engine holds: 2^31 each. Its hash tables keep u32 row
 * indices (8-byte slots), and 2^31 transfers are already 384 GiB of records. */
#define LC_ENGINE_ACCOUNT_COUNT_MAX ((size_t)1 << 31)
#define LC_ENGINE_TRANSFER_COUNT_MAX ((size_t)1 << 31)

LC_STATIC_ASSERT(LC_BATCH_SIZE_MAX <= (1u << 31));
LC_STATIC_ASSERT(LC_BLAKE3_OUTPUT_SIZE_MAX >= 32);
LC_STATIC_ASSERT(LC_THREAD_COUNT_MAX >= 1);
LC_STATIC_ASSERT(LC_ED25519_CHUNK_SIZE_MAX <= LC_BATCH_SIZE_MAX);
LC_STATIC_ASSERT(LC_ED25519_TEAM_SIGNATURES_MIN <= LC_ED25519_CHUNK_SIZE_MAX);
LC_STATIC_ASSERT(LC_ENGINE_TRANSFER_COUNT_MAX >= LC_BATCH_SIZE_MAX);

LC_STATIC_ASSERT(LC_MERKLE_LEAF_COUNT_MAX == (uint64_t)1 << (LC_MERKLE_LEVEL_COUNT_MAX - 1));
LC_STATIC_ASSERT(LC_MERKLE_PROOF_HASHES_MAX >= LC_MERKLE_LEVEL_COUNT_MAX);
LC_STATIC_ASSERT(LC_MERKLE_PROOF_HASHES_MAX <= 255);

/* Leaves of one liability sum tree: 2^32. Leaf positions then fit a u32, a proof's path has at
 * most 32 siblings, and the largest tree (2^33 - 1 nodes of 48 bytes) is already 384 GiB. */
#define LC_SUMTREE_LEAF_COUNT_MAX ((uint64_t)1 << 32)

/* Parts one member's balance is split into: 16 at most. Each part costs the member a path of
 * siblings in their proof; beyond a handful they hide little more (docs/formats.md, section 6). */
#define LC_SUMTREE_PARTS_MAX 16u

LC_STATIC_ASSERT(LC_SUMTREE_LEAF_COUNT_MAX <= LC_MERKLE_LEAF_COUNT_MAX);
LC_STATIC_ASSERT(LC_SUMTREE_PARTS_MAX >= 1 && LC_SUMTREE_PARTS_MAX <= 255);

#endif
