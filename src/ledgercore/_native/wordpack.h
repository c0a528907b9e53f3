/* Zero-word suppression for arrays of fixed-size records, the form in which a store keeps block
 * bodies and state changes.
 *
 * Ledger records are mostly zero 64-bit words: the high lanes of u128 ids and amounts, unused
 * user data, balances nobody has reserved. A packed record is a mask (one bit per 8-byte word,
 * word w at bit w % 8 of byte w / 8, unused high bits zero) followed by the record's nonzero words
 * in order. Every record has exactly one packed form: a mask bit set over a zero word is refused,
 * so damage to stored bytes shows as an error or as different records, never as the same ones.
 */
#ifndef LC_WORDPACK_H
#define LC_WORDPACK_H

#include "common.h"

#define LC_WORDPACK_RECORD_SIZE_MAX 4096

/* Decoding statuses (below LC_ERROR_MEMORY). */
#define LC_WORDPACK_TRUNCATED (-10)     /* the input ends inside a record */
#define LC_WORDPACK_BAD_MASK (-11)      /* a mask bit past the record's last word is set */
#define LC_WORDPACK_NOT_CANONICAL (-12) /* a mask bit is set over a zero word */

/* The mask bytes of one record of record_size bytes. */
static inline size_t lc_wordpack_mask_size(size_t record_size) {
    return (record_size / 8 + 7) / 8;
}

/* The most bytes count packed records of record_size bytes can take. */
size_t lc_wordpack_bound(size_t count, size_t record_size);

/* Packs count records of record_size bytes (a multiple of 8) into out, which must hold
 * lc_wordpack_bound(count, record_size) bytes; returns the bytes written. The records start
 * stride bytes apart (stride >= record_size): record_size for an array of them, more for a span
 * of the fields of larger records, packed without copying it out first. */
size_t lc_wordpack_encode(const uint8_t *records, size_t count, size_t record_size, size_t stride,
                          uint8_t *out);

/* Unpacks count records of record_size bytes from in[0 .. in_size) into out (count * record_size
 * bytes); *consumed is set to the bytes read. Returns LC_OK or an LC_WORDPACK_* status, with out
 * then undefined. */
int lc_wordpack_decode(const uint8_t *in, size_t in_size, size_t count, size_t record_size,
                       uint8_t *out, size_t *consumed);

#endif
