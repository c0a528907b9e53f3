/* SHA-512, from FIPS 180-4. The constants are the first 64 bits of the fractional parts of the
 * cube roots (K) and square roots (initial state) of the first 80 and 8 primes.
 */
#include <string.h>

#include "common.h"
#include "ed25519_sha512.h"

static const uint64_t round_constants[80] = {
    0x428a2f98d728ae22, 0x7137449123ef65cd, 0xb5c0fbcfec4d3b2f,
    0xe9b5dba58189dbbc, 0x3956c25bf348b538, 0x59f111f1b605d019,
    0x923f82a4af194f9b, 0xab1c5ed5da6d8118, 0xd807aa98a3030242,
    0x12835b0145706fbe, 0x243185be4ee4b28c, 0x550c7dc3d5ffb4e2,
    0x72be5d74f27b896f, 0x80deb1fe3b1696b1, 0x9bdc06a725c71235,
    0xc19bf174cf692694, 0xe49b69c19ef14ad2, 0xefbe4786384f25e3,
    0x0fc19dc68b8cd5b5, 0x240ca1cc77ac9c65, 0x2de92c6f592b0275,
    0x4a7484aa6ea6e483, 0x5cb0a9dcbd41fbd4, 0x76f988da831153b5,
    0x983e5152ee66dfab, 0xa831c66d2db43210, 0xb00327c898fb213f,
    0xbf597fc7beef0ee4, 0xc6e00bf33da88fc2, 0xd5a79147930aa725,
    0x06ca6351e003826f, 0x142929670a0e6e70, 0x27b70a8546d22ffc,
    0x2e1b21385c26c926, 0x4d2c6dfc5ac42aed, 0x53380d139d95b3df,
    0x650a73548baf63de, 0x766a0abb3c77b2a8, 0x81c2c92e47edaee6,
    0x92722c851482353b, 0xa2bfe8a14cf10364, 0xa81a664bbc423001,
    0xc24b8b70d0f89791, 0xc76c51a30654be30, 0xd192e819d6ef5218,
    0xd69906245565a910, 0xf40e35855771202a, 0x106aa07032bbd1b8,
    0x19a4c116b8d2d0c8, 0x1e376c085141ab53, 0x2748774cdf8eeb99,
    0x34b0bcb5e19b48a8, 0x391c0cb3c5c95a63, 0x4ed8aa4ae3418acb,
    0x5b9cca4f7763e373, 0x682e6ff3d6b2b8a3, 0x748f82ee5defb2fc,
    0x78a5636f43172f60, 0x84c87814a1f0ab72, 0x8cc702081a6439ec,
    0x90befffa23631e28, 0xa4506cebde82bde9, 0xbef9a3f7b2c67915,
    0xc67178f2e372532b, 0xca273eceea26619c, 0xd186b8c721c0c207,
    0xeada7dd6cde0eb1e, 0xf57d4f7fee6ed178, 0x06f067aa72176fba,
    0x0a637dc5a2c898a6, 0x113f9804bef90dae, 0x1b710b35131c471b,
    0x28db77f523047d84, 0x32caab7b40c72493, 0x3c9ebe0a15c9bebc,
    0x431d67c49c100d4c, 0x4cc5d4becb3e42b6, 0x597f299cfc657e2a,
    0x5fcb6fab3ad6faec, 0x6c44198c4a475817,
};

static const uint64_t initial_state[8] = {
    0x6a09e667f3bcc908, 0xbb67ae8584caa73b,
    0x3c6ef372fe94f82b, 0xa54ff53a5f1d36f1,
    0x510e527fade682d1, 0x9b05688c2b3e6c1f,
    0x1f83d9abfb41bd6b, 0x5be0cd19137e2179,
};

static inline uint64_t rotr(uint64_t x, int n) {
    return (x >> n) | (x << (64 - n));
}

static inline uint64_t load64_be(const uint8_t *p) {
    uint64_t w = 0;
    for (int i = 0; i < 8; i++) w = (w << 8) | p[i];
    return w;
}

static inline void store64_be(uint8_t *p, uint64_t w) {
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)w;
        w >>= 8;
    }
}

/* One round: t1 and t2 of FIPS 180-4 6.4.2, with the eight working variables passed in their
 * rotated order instead of moved, so that an unrolled block of 16 rounds needs no moves. */
#define ROUND(a, b, c, d, e, f, g, h, k, w)                                                   \
    do {                                                                                        \
        const uint64_t t1 = (h) + (rotr((e), 14) ^ rotr((e), 18) ^ rotr((e), 41)) +           \
                            (((e) & (f)) ^ (~(e) & (g))) + (k) + (w);                          \
        const uint64_t t2 = (rotr((a), 28) ^ rotr((a), 34) ^ rotr((a), 39)) +                  \
                            (((a) & (b)) ^ ((a) & (c)) ^ ((b) & (c)));                         \
        (d) += t1;                                                                              \
        (h) = t1 + t2;                                                                          \
    } while (0)

/* The message schedule, kept as a rolling window of 16 words. */
static inline uint64_t schedule(uint64_t w[16], int i) {
    const uint64_t w15 = w[(i - 15) & 15], w2 = w[(i - 2) & 15];
    const uint64_t s0 = rotr(w15, 1) ^ rotr(w15, 8) ^ (w15 >> 7);
    const uint64_t s1 = rotr(w2, 19) ^ rotr(w2, 61) ^ (w2 >> 6);
    return w[i & 15] += s0 + w[(i - 7) & 15] + s1;
}

/* Eight rounds starting at round i (a multiple of 8); the first 16 read the block itself. */
#define EIGHT_ROUNDS(i, W)                                                                     \
    do {                                                                                        \
        ROUND(a, b, c, d, e, f, g, h, round_constants[(i) + 0], W((i) + 0));                   \
        ROUND(h, a, b, c, d, e, f, g, round_constants[(i) + 1], W((i) + 1));                   \
        ROUND(g, h, a, b, c, d, e, f, round_constants[(i) + 2], W((i) + 2));                   \
        ROUND(f, g, h, a, b, c, d, e, round_constants[(i) + 3], W((i) + 3));                   \
        ROUND(e, f, g, h, a, b, c, d, round_constants[(i) + 4], W((i) + 4));                   \
        ROUND(d, e, f, g, h, a, b, c, round_constants[(i) + 5], W((i) + 5));                   \
        ROUND(c, d, e, f, g, h, a, b, round_constants[(i) + 6], W((i) + 6));                   \
        ROUND(b, c, d, e, f, g, h, a, round_constants[(i) + 7], W((i) + 7));                   \
    } while (0)

#define BLOCK_WORD(i) (w[(i)])
#define SCHEDULED_WORD(i) (schedule(w, (i)))

static void compress(uint64_t state[8], const uint8_t *blocks, size_t count) {
    for (size_t n = 0; n < count; n++, blocks += 128) {
        uint64_t w[16];
        for (int i = 0; i < 16; i++) w[i] = load64_be(blocks + 8 * i);
        uint64_t a = state[0], b = state[1], c = state[2], d = state[3];
        uint64_t e = state[4], f = state[5], g = state[6], h = state[7];
        EIGHT_ROUNDS(0, BLOCK_WORD);
        EIGHT_ROUNDS(8, BLOCK_WORD);
        for (int i = 16; i < 80; i += 16) {
            EIGHT_ROUNDS(i, SCHEDULED_WORD);
            EIGHT_ROUNDS(i + 8, SCHEDULED_WORD);
        }
        state[0] += a;
        state[1] += b;
        state[2] += c;
        state[3] += d;
        state[4] += e;
        state[5] += f;
        state[6] += g;
        state[7] += h;
    }
}

void lc_sha512_init(lc_sha512_ctx *ctx) {
    memcpy(ctx->state, initial_state, sizeof ctx->state);
    ctx->length_bytes = 0;
    ctx->block_used = 0;
}

void lc_sha512_update(lc_sha512_ctx *ctx, const uint8_t *data, size_t size) {
    LC_ASSERT(ctx->block_used < 128);
    ctx->length_bytes += size;
    if (size == 0) return;
    if (ctx->block_used > 0) {
        size_t take = 128 - ctx->block_used;
        if (take > size) take = size;
        memcpy(ctx->block + ctx->block_used, data, take);
        ctx->block_used += take;
        data += take;
        size -= take;
        if (ctx->block_used < 128) return;
        compress(ctx->state, ctx->block, 1);
        ctx->block_used = 0;
    }
    compress(ctx->state, data, size / 128);
    data += size - size % 128;
    memcpy(ctx->block, data, size % 128);
    ctx->block_used = size % 128;
}

/* Pads with 0x80, zeros and the 128-bit big-endian bit length (whose high half is zero here). */
void lc_sha512_final(lc_sha512_ctx *ctx, uint8_t digest[64]) {
    const uint64_t length_bits = ctx->length_bytes << 3;
    const uint64_t length_high = ctx->length_bytes >> 61;
    uint8_t *block = ctx->block;
    size_t used = ctx->block_used;
    block[used++] = 0x80;
    if (used > 112) {
        memset(block + used, 0, 128 - used);
        compress(ctx->state, block, 1);
        used = 0;
    }
    memset(block + used, 0, 112 - used);
    store64_be(block + 112, length_high);
    store64_be(block + 120, length_bits);
    compress(ctx->state, block, 1);
    for (int i = 0; i < 8; i++) store64_be(digest + 8 * i, ctx->state[i]);
}

void lc_sha512(uint8_t digest[64], const uint8_t *data, size_t size) {
    lc_sha512_ctx ctx;
    lc_sha512_init(&ctx);
    lc_sha512_update(&ctx, data, size);
    lc_sha512_final(&ctx, digest);
}
