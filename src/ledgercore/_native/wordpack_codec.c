/* Zero-word suppression for record arrays: see wordpack.h. */
#include "wordpack.h"

#include <string.h>

static void check_record_size(size_t record_size) {
    LC_ASSERT(record_size > 0 && record_size % 8 == 0);
    LC_ASSERT(record_size <= LC_WORDPACK_RECORD_SIZE_MAX);
}

size_t lc_wordpack_bound(size_t count, size_t record_size) {
    check_record_size(record_size);
    return count * (lc_wordpack_mask_size(record_size) + record_size);
}

size_t lc_wordpack_encode(const uint8_t *records, size_t count, size_t record_size, size_t stride,
                          uint8_t *out) {
    check_record_size(record_size);
    LC_ASSERT(stride >= record_size);
    LC_ASSERT(count == 0 || (records != NULL && out != NULL));
    const size_t words = record_size / 8, mask_size = lc_wordpack_mask_size(record_size);
    uint8_t *cursor = out;
    for (size_t r = 0; r < count; r++) {
        const uint8_t *record = records + r * stride;
        uint8_t *mask = cursor;
        cursor += mask_size;
        for (size_t first = 0; first < words; first += 64) {
            const size_t n = words - first < 64 ? words - first : 64;
            uint64_t bits = 0;
            /* Every word is stored and the cursor moves only past the nonzero ones: no branch
             * to mispredict. The bound leaves room for the last store. */
            for (size_t j = 0; j < n; j++) {
                uint64_t word;
                memcpy(&word, record + 8 * (first + j), 8);
                memcpy(cursor, &word, 8);
                const uint64_t present = word != 0;
                bits |= present << j;
                cursor += 8 * present;
            }
            for (size_t b = 0; b < (n + 7) / 8; b++) mask[first / 8 + b] = (uint8_t)(bits >> (8 * b));
        }
    }
    return (size_t)(cursor - out);
}

int lc_wordpack_decode(const uint8_t *in, size_t in_size, size_t count, size_t record_size,
                       uint8_t *out, size_t *consumed) {
    check_record_size(record_size);
    LC_ASSERT(consumed != NULL);
    LC_ASSERT(count == 0 || out != NULL);
    LC_ASSERT(in_size == 0 || in != NULL);
    const size_t words = record_size / 8, mask_size = lc_wordpack_mask_size(record_size);
    const uint8_t unused = words % 8 ? (uint8_t)(0xffu << (words % 8)) : 0;
    size_t at = 0;
    for (size_t r = 0; r < count; r++) {
        if (in_size - at < mask_size) return LC_WORDPACK_TRUNCATED;
        const uint8_t *mask = in + at;
        at += mask_size;
        if (mask[mask_size - 1] & unused) return LC_WORDPACK_BAD_MASK;
        size_t present = 0;
        for (size_t b = 0; b < mask_size; b++) present += (size_t)__builtin_popcount(mask[b]);
        if ((in_size - at) / 8 < present) return LC_WORDPACK_TRUNCATED;
        uint8_t *record = out + r * record_size;
        for (size_t first = 0; first < words; first += 64) {
            const size_t n = words - first < 64 ? words - first : 64;
            uint64_t bits = 0;
            for (size_t b = 0; b < (n + 7) / 8; b++) bits |= (uint64_t)mask[first / 8 + b] << (8 * b);
            uint64_t zero_seen = 0;
            for (size_t j = 0; j < n; j++) {
                const uint64_t present = bits >> j & 1;
                /* Read whether or not the word is present (no branch to mispredict), except
                 * at the very end of the bytes; the count above keeps present words in bounds. */
                uint64_t word = 0;
                if (LC_LIKELY(in_size - at >= 8)) memcpy(&word, in + at, 8);
                word &= 0 - present;
                zero_seen |= present & (word == 0);
                memcpy(record + 8 * (first + j), &word, 8);
                at += 8 * present;
            }
            if (zero_seen) return LC_WORDPACK_NOT_CANONICAL;
        }
    }
    *consumed = at;
    return LC_OK;
}
