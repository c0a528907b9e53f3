from libc.stdint cimport uint8_t, uint64_t


cdef extern from "merkle.h" nogil:
    const int LC_OK
    const int LC_ERROR_ARGUMENT
    const int LC_ERROR_MEMORY
    const uint64_t LC_BATCH_SIZE_MAX
    const uint64_t LC_MERKLE_LEAF_COUNT_MAX
    const unsigned LC_MERKLE_LEVEL_COUNT_MAX
    const unsigned LC_MERKLE_PROOF_HASHES_MAX
    const unsigned LC_THREAD_COUNT_MAX
    const int LC_MERKLE_HASH_SIZE

    const uint8_t lc_merkle_leaf_key[32]
    const uint8_t lc_merkle_node_key[32]
    const uint8_t lc_merkle_empty_root[32]

    int lc_merkle_hash_leaves(const uint8_t *leaves, size_t count, size_t leaf_size, uint8_t *out,
                              unsigned thread_count)
    int lc_merkle_hash_leaves_ptrs(const uint8_t *const *leaves, const size_t *sizes,
                                   size_t count, uint8_t *out)
    int lc_merkle_root(const uint8_t *leaves, size_t count, size_t leaf_size, uint8_t *out,
                       unsigned thread_count)
    int lc_merkle_root_ptrs(const uint8_t *const *leaves, const size_t *sizes, size_t count,
                            uint8_t *out, unsigned thread_count)
    int lc_merkle_root_of_hashes(uint8_t *hashes, size_t count, uint8_t *out,
                                 unsigned thread_count)

    ctypedef struct lc_merkle_tree:
        pass

    lc_merkle_tree *lc_merkle_tree_new(unsigned thread_count)
    void lc_merkle_tree_free(lc_merkle_tree *tree)
    uint64_t lc_merkle_tree_size(const lc_merkle_tree *tree)
    int lc_merkle_tree_append(lc_merkle_tree *tree, const uint8_t *leaves, size_t count,
                              size_t leaf_size)
    int lc_merkle_tree_append_ptrs(lc_merkle_tree *tree, const uint8_t *const *leaves,
                                   const size_t *sizes, size_t count)
    int lc_merkle_tree_append_hashes(lc_merkle_tree *tree, const uint8_t *hashes, size_t count)
    int lc_merkle_tree_update_hashes(lc_merkle_tree *tree, const uint64_t *indices,
                                     const uint8_t *hashes, const uint64_t *sorted_indices,
                                     size_t count)
    uint64_t lc_merkle_tree_level_count(const lc_merkle_tree *tree, unsigned level)
    int lc_merkle_tree_nodes(const lc_merkle_tree *tree, unsigned level, uint64_t start,
                             uint64_t stop, uint8_t *out)
    int lc_merkle_tree_root(const lc_merkle_tree *tree, uint64_t size, uint8_t *out)
    int lc_merkle_tree_inclusion_proof(const lc_merkle_tree *tree, uint64_t index, uint64_t size,
                                       uint8_t *out, size_t *hash_count)
    int lc_merkle_tree_inclusion_proofs(const lc_merkle_tree *tree, const uint64_t *indices,
                                        size_t count, uint64_t size, uint8_t *out,
                                        uint8_t *hash_counts)
    size_t lc_merkle_proof_depth(uint64_t size)
    int lc_merkle_tree_consistency_proof(const lc_merkle_tree *tree, uint64_t old_size,
                                         uint64_t new_size, uint8_t *out, size_t *hash_count)
