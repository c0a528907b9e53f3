from libc.stdint cimport int64_t, uint8_t, uint64_t


cdef extern from "blake3.h" nogil:
    int LC_BLAKE3_MODE_HASH
    int LC_BLAKE3_MODE_KEYED
    int LC_BLAKE3_MODE_DERIVE_KEY
    int lc_blake3(const uint8_t *input, size_t input_size, int mode, const uint8_t *key,
                  const uint8_t *context, size_t context_size, uint8_t *out, size_t out_size)
    int lc_blake3_many(const uint8_t *items, size_t count, size_t item_size, const uint8_t *key,
                       uint8_t *out)
    int lc_blake3_many_stamped(const uint8_t *rows, size_t row_count, size_t row_size,
                               const int64_t *picked, size_t count, size_t stamp_offset,
                               uint64_t stamp_base, const uint8_t *key, uint8_t *out)
    int lc_blake3_many_ptrs(const uint8_t *const *items, const size_t *sizes, size_t count,
                            const uint8_t *key, uint8_t *out)
    const char *lc_blake3_kernel_name()
    int lc_blake3_set_kernel(const char *name)
    int lc_blake3_kernel_available(const char *name)
