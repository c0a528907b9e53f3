/* BLAKE3, written from the specification (Aumasson, Neves, O'Connor, Wilcox-O'Hearn, 2020).
 *
 * The public C API of ledgercore's hashing: pointers and counts in, a status out. Keys are 32
 * bytes, or NULL for the unkeyed hash. Every function is safe to call without the GIL and from
 * several threads at once. Digests are the 32-byte default output unless a length is given.
 */
#ifndef LC_BLAKE3_H
#define LC_BLAKE3_H

#include <stddef.h>
#include <stdint.h>

#define LC_BLAKE3_KEY_SIZE 32
#define LC_BLAKE3_DIGEST_SIZE 32
#define LC_BLAKE3_BLOCK_SIZE 64
#define LC_BLAKE3_CHUNK_SIZE 1024

/* Modes of the specification. */
#define LC_BLAKE3_MODE_HASH 0
#define LC_BLAKE3_MODE_KEYED 1
#define LC_BLAKE3_MODE_DERIVE_KEY 2

/* One input of any size in one of the three modes, with output of any length (extended output).
 * mode HASH: key must be NULL. KEYED: key is the 32-byte key. DERIVE_KEY: `context` and
 * `context_size` give the context string and `input` is the key material; key must be NULL.
 * Returns LC_OK or LC_ERROR_ARGUMENT. */
int lc_blake3(const uint8_t *input, size_t input_size, int mode, const uint8_t *key,
              const uint8_t *context, size_t context_size, uint8_t *out, size_t out_size);

/* `count` independent inputs of `item_size` bytes each, stored back to back (row i starts at
 * items + i * item_size); writes count * 32 bytes of digests to `out`. This is the many-input
 * workhorse: inputs up to one chunk (1024 bytes) are hashed in SIMD lanes, several at once,
 * including a partial last block; longer ones go through lc_blake3 one by one. With `key`, every
 * input is keyed-hashed with it. Merkle nodes call it with item_size 64 on a level's hashes, so
 * pairs of adjacent digests are hashed in place, without copying. */
int lc_blake3_many(const uint8_t *items, size_t count, size_t item_size, const uint8_t *key,
                   uint8_t *out);

/* Like lc_blake3_many over rows[picked[i]] (count picks among row_count rows of row_size bytes,
 * row_size at most one chunk), each hashed as if its 8 bytes at stamp_offset held the
 * little-endian stamp_base + picked[i]: a ledger's leaf is its record with the timestamp the
 * block gave it, and this hashes the records as submitted without copying the batch. Returns
 * LC_OK or LC_ERROR_ARGUMENT (a pick past row_count, a stamp past 2^64 - 1, a bad size). */
int lc_blake3_many_stamped(const uint8_t *rows, size_t row_count, size_t row_size,
                           const int64_t *picked, size_t count, size_t stamp_offset,
                           uint64_t stamp_base, const uint8_t *key, uint8_t *out);

/* The same for inputs of different sizes: input i is items[i][0 .. sizes[i]). Inputs with the
 * same number of blocks share SIMD lanes, whatever their last block's size. Returns LC_OK,
 * LC_ERROR_ARGUMENT or LC_ERROR_MEMORY (it allocates count indices to group the inputs). */
int lc_blake3_many_ptrs(const uint8_t *const *items, const size_t *sizes, size_t count,
                        const uint8_t *key, uint8_t *out);

/* The kernel in use and the kernels this build and CPU can run. Names: "portable", "sse41",
 * "avx2", "avx512", "neon". lc_blake3_set_kernel returns LC_ERROR_ARGUMENT for an unknown name and
 * LC_ERROR_UNSUPPORTED for one this CPU or build lacks. */
const char *lc_blake3_kernel_name(void);
int lc_blake3_set_kernel(const char *name);
int lc_blake3_kernel_available(const char *name);

#endif
