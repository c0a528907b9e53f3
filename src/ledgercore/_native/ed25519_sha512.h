/* SHA-512 (FIPS 180-4), the hash inside Ed25519. Ours, so the library needs no system crypto. */
#ifndef LC_ED25519_SHA512_H
#define LC_ED25519_SHA512_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t state[8];
    uint64_t length_bytes; /* messages beyond 2^64 bytes are out of reach of any caller here */
    uint8_t block[128];
    size_t block_used;
} lc_sha512_ctx;

void lc_sha512_init(lc_sha512_ctx *ctx);
void lc_sha512_update(lc_sha512_ctx *ctx, const uint8_t *data, size_t size);
void lc_sha512_final(lc_sha512_ctx *ctx, uint8_t digest[64]);
void lc_sha512(uint8_t digest[64], const uint8_t *data, size_t size);

#endif
