from libc.stdint cimport uint8_t, uint32_t, uint64_t


cdef extern from "sumtree.h" nogil:
    const int LC_OK
    const int LC_ERROR_ARGUMENT
    const int LC_ERROR_MEMORY
    const int LC_SUMTREE_ERROR_DUPLICATE
    const int LC_SUMTREE_ERROR_OVERFLOW
    const uint64_t LC_SUMTREE_LEAF_COUNT_MAX
    const unsigned LC_SUMTREE_PARTS_MAX
    const unsigned LC_THREAD_COUNT_MAX
    const int LC_SUMTREE_HASH_SIZE
    const int LC_SUMTREE_NODE_SIZE
    const int LC_SUMTREE_KEY_SIZE

    const uint8_t lc_sumtree_leaf_key[32]
    const uint8_t lc_sumtree_node_key[32]

    ctypedef struct lc_sumtree_input:
        const uint64_t *ids
        const uint64_t *balances
        const uint8_t *part_counts
        size_t account_count
        uint64_t part_count
        uint64_t leaf_count
        unsigned parts_min
        unsigned parts_max
        unsigned thread_count
        const uint8_t *split_key
        const uint8_t *salt_key
        const uint8_t *place_key

    int lc_sumtree_check_balances(const uint64_t *balances, size_t count, uint64_t *total,
                                  size_t *overflow_row)
    int lc_sumtree_part_counts(const uint64_t *ids, size_t count, const uint8_t *split_key,
                               unsigned parts_min, unsigned parts_max, uint8_t *part_counts)
    int lc_sumtree_build(const lc_sumtree_input *input, uint8_t *nodes, uint32_t *part_leaves,
                         size_t *duplicate_row)
    int lc_sumtree_salts(const uint64_t *ids, const uint64_t *indices, size_t count,
                         const uint8_t *salt_key, uint8_t *out)
