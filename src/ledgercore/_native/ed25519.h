/* Ed25519 signature verification (RFC 8032), single and batch. Public data only: signing and keys
 * are PyNaCl's business. The rule set every function here applies is written once, in the
 * docstring of ledgercore/ed25519.py; ed25519_verify.c implements it in one place.
 */
#ifndef LC_ED25519_H
#define LC_ED25519_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "lc_limits.h"

#define LC_ED25519_PUBLIC_KEY_SIZE 32
#define LC_ED25519_SIGNATURE_SIZE 64
/* A decoded public key: its 32-byte encoding, the affine point as 15 native-endian 64-bit limbs,
 * a validity byte and a format tag. Opaque to Python, valid only in the process that made it. */
#define LC_ED25519_DECODED_KEY_SIZE 160
/* A hinted public key: its 32-byte encoding, then the 32-byte encoding of its point's
 * x-coordinate, which spares the verifier the square root of decoding. The hint is checked
 * (canonical, of the key's sign, on the curve with the key's y); a wrong one is decoded as a raw
 * key would be, so a hint changes no verdict. */
#define LC_ED25519_HINTED_KEY_SIZE 64

/* Status of lc_ed25519_check_public_key. */
#define LC_ED25519_KEY_OK 0
#define LC_ED25519_KEY_NOT_CANONICAL 1
#define LC_ED25519_KEY_NOT_ON_CURVE 2
#define LC_ED25519_KEY_SMALL_ORDER 3

/* 1 if the signature is valid under the rule set, else 0. */
int lc_ed25519_verify(const uint8_t public_key[32], const uint8_t *message, size_t message_size,
                      const uint8_t signature[64]);

/* Decodes count keys (32 bytes each) into count records of LC_ED25519_DECODED_KEY_SIZE bytes;
 * an undecodable key gets a record whose every signature verifies as invalid. Returns LC_OK. */
int lc_ed25519_decode_public_keys(const uint8_t *public_keys, size_t count, uint8_t *decoded);

/* Verifies count signatures; valid[i] is set to 1 or 0. public_keys holds count records of
 * key_size bytes: 32 (raw keys), LC_ED25519_HINTED_KEY_SIZE (keys with their x-coordinates) or
 * LC_ED25519_DECODED_KEY_SIZE (from the function above).
 * messages[i] points at message_sizes[i] bytes (NULL allowed when the size is 0).
 * Randomness for the linear combination comes from the operating system (getrandom(2) on Linux,
 * arc4random_buf(3) elsewhere). Returns LC_OK, LC_ERROR_MEMORY, or LC_ERROR_UNSUPPORTED when
 * the system gives no randomness; valid is then all 0. */
int lc_ed25519_verify_batch(const uint8_t *public_keys, size_t key_size,
                            const uint8_t *const *messages, const size_t *message_sizes,
                            const uint8_t *signatures, size_t count, uint32_t thread_count,
                            uint8_t *valid);

/* LC_ED25519_KEY_OK, or why a key is refused at registration (see keys.check_public_key). */
int lc_ed25519_check_public_key(const uint8_t public_key[32]);

/* For count keys (32 bytes each): statuses[i], as lc_ed25519_check_public_key gives it, and
 * hinted[i], LC_ED25519_HINTED_KEY_SIZE bytes: the key and, for a key that decodes, its point's
 * x-coordinate (zeros otherwise, a hint that no such key passes). Returns LC_OK. */
int lc_ed25519_check_public_keys(const uint8_t *public_keys, size_t count, uint8_t *statuses,
                                 uint8_t *hinted);

/* Test hook: the verdict of the combined equation of the whole batch (1..LC_ED25519_CHUNK_SIZE_MAX
 * signatures) as thread_count threads check it together, without naming bad signatures: 1 when
 * it holds (valid[i] then says whether signature i passed the rules before the equation), 0 when
 * it fails, or a negative status. */
int lc_ed25519_team_check(const uint8_t *public_keys, size_t key_size,
                          const uint8_t *const *messages, const size_t *message_sizes,
                          const uint8_t *signatures, size_t count, uint32_t thread_count,
                          uint8_t *valid);

/* Test hooks: SHA-512 of one input, and the scalar split of the single verifier. */
void lc_ed25519_sha512(uint8_t digest[64], const uint8_t *data, size_t size);
int lc_ed25519_split_scalar(const uint8_t k[32], uint8_t c0[16], uint8_t c1[16], int *c1_negative);

#endif
