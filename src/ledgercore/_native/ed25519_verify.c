/* Ed25519 verification, single and batch, under one rule set.
 *
 * The rule set is written once, in the docstring of ledgercore/ed25519.py. Here every rule sits in
 * one of two functions that both paths share: prepare() (S < L, canonical A and R that decode to
 * curve points, k = SHA-512(R || A || M) mod L) and equation_holds() (the cofactored equation
 * [8][S]B = [8]R + [8][k]A). A batch checks a random linear combination of the equations of a
 * chunk with one multi-scalar multiplication; a chunk that fails is bisected, and a signature is
 * only ever declared bad by equation_holds() or prepare(), exactly as the single verifier would.
 *
 * Why the cofactored equation: with it, the batch check holds whenever every single check holds,
 * whatever small-order components A and R carry, so batch and single verification agree on every
 * input (except with probability about 2^-128 over the random coefficients, when a bad signature
 * could hide in a batch).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#if defined(__linux__)
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include "ed25519.h"
#include "ed25519_msm.h"
#include "ed25519_sha512.h"
#include "ge25519.h"

LC_STATIC_ASSERT(LC_ED25519_DECODED_KEY_SIZE >= 32 + sizeof(ge25519_affine) + 8);

/* The format tag at the end of a decoded key record: catches a record that did not come from
 * lc_ed25519_decode_public_keys (zeroed or truncated memory). */
static const uint8_t decoded_key_tag[4] = {'L', 'C', 'K', 1};
#define DECODED_KEY_POINT_OFFSET 32
#define DECODED_KEY_VALID_OFFSET (LC_ED25519_DECODED_KEY_SIZE - 8)
#define DECODED_KEY_TAG_OFFSET (LC_ED25519_DECODED_KEY_SIZE - 4)

static void affine_from_p3(ge25519_affine *r, const ge25519_p3 *p) {
    r->x = p->X;
    r->y = p->Y;
    r->xy = p->T;
}

static int decode_point(ge25519_affine *r, const uint8_t s[32]) {
    ge25519_p3 p;
    if (lc_ge25519_frombytes(&p, s) != 0) return 0;
    affine_from_p3(r, &p);
    return 1;
}

/* Fills one decoded key record (the layout of LC_ED25519_DECODED_KEY_SIZE in ed25519.h): the
 * key, its point if it decodes under rule 2, the validity byte and the tag. */
static void fill_key_record(uint8_t *record, const uint8_t key[32], const ge25519_affine *A) {
    memset(record, 0, LC_ED25519_DECODED_KEY_SIZE);
    memcpy(record, key, 32);
    if (A != NULL) {
        memcpy(record + DECODED_KEY_POINT_OFFSET, A, sizeof *A);
        record[DECODED_KEY_VALID_OFFSET] = 1;
    }
    memcpy(record + DECODED_KEY_TAG_OFFSET, decoded_key_tag, 4);
}

static void decode_key_record(uint8_t *record, const uint8_t key[32]) {
    ge25519_affine A;
    fill_key_record(record, key, decode_point(&A, key) ? &A : NULL);
}

/* Decodes, in place, a key cache record that holds a key and, if hinted, the key's x-coordinate
 * after it (a hinted key, LC_ED25519_HINTED_KEY_SIZE): the hint is checked, never trusted, and
 * a wrong one costs the usual decoding, so the record is the one decode_key_record makes. */
static void decode_cached_key(uint8_t *record, int hinted) {
    uint8_t key[32], x[32];
    memcpy(key, record, 32);
    if (hinted) {
        memcpy(x, record + 32, 32);
        ge25519_p3 p;
        if (lc_ge25519_frombytes_with_x(&p, key, x) == 0) {
            ge25519_affine A;
            affine_from_p3(&A, &p);
            fill_key_record(record, key, &A);
            return;
        }
    }
    decode_key_record(record, key);
}

/* Whether a decoded key record came from decode_key_record (its tag) and holds a key that
 * decodes under rule 2. */
static int key_record_usable(const uint8_t *record) {
    return memcmp(record + DECODED_KEY_TAG_OFFSET, decoded_key_tag, 4) == 0 &&
           record[DECODED_KEY_VALID_OFFSET] == 1;
}

/* One signature to check: key_record is NULL for a raw key, else a decoded key record whose first
 * 32 bytes are the key. The prepared results land in R, A, k and S. */
typedef struct {
    const uint8_t *key;
    const uint8_t *key_record;
    const uint8_t *message;
    size_t message_size;
    const uint8_t *signature;
    ge25519_affine *R, *A;
    uint64_t *k, *S;
} signature_job;

/* Every rule but the equation. Returns 1 when the equation is left to decide, 0 when a rule
 * fails. */
static int prepare(const signature_job *job) {
    if (!lc_sc25519_is_canonical(job->signature + 32)) return 0; /* rule 1: S < L */
    if (job->key_record != NULL) {
        /* rule 2, decided when the record was made */
        if (!key_record_usable(job->key_record)) return 0;
        memcpy(job->A, job->key_record + DECODED_KEY_POINT_OFFSET, sizeof *job->A);
    } else if (!decode_point(job->A, job->key)) {
        return 0; /* rule 2: y < p, on the curve, no negative zero */
    }
    if (!decode_point(job->R, job->signature)) return 0; /* rule 3: the same for R */
    lc_sha512_ctx ctx;
    uint8_t digest[64];
    lc_sha512_init(&ctx);
    lc_sha512_update(&ctx, job->signature, 32);
    lc_sha512_update(&ctx, job->key, 32);
    lc_sha512_update(&ctx, job->message, job->message_size);
    lc_sha512_final(&ctx, digest);
    lc_sc25519_from64bytes(job->k, digest); /* rule 4's k */
    lc_sc25519_frombytes(job->S, job->signature + 32);
    return 1;
}

static void add_term(ge25519_p1p1 *t, const ge25519_cached *table, int digit) {
    ge25519_p3 q;
    ge25519_p1p1_to_p3(&q, t);
    if (digit > 0) {
        ge25519_add(t, &q, &table[digit >> 1]);
    } else {
        ge25519_sub(t, &q, &table[(-digit) >> 1]);
    }
}

static void add_base_term(ge25519_p1p1 *t, const ge25519_niels *table, int digit) {
    ge25519_p3 q;
    ge25519_p1p1_to_p3(&q, t);
    if (digit > 0) {
        ge25519_madd(t, &q, &table[digit >> 1]);
    } else {
        ge25519_msub(t, &q, &table[(-digit) >> 1]);
    }
}

/* out = [e0]B + [e1](2^128 B) + [c0]P + [c1]Q for scalars below 2^128 (nafs has 4 rows of 256),
 * P and Q given as tables of 8 odd multiples. One chain of at most 129 doublings. */
static void double_chain(ge25519_p3 *out, const int8_t nafs[4][256], const ge25519_cached *p_table,
                         const ge25519_cached *q_table) {
    const ge25519_niels *b0 = lc_ge25519_base_table(0), *b1 = lc_ge25519_base_table(1);
    int top = 255;
    while (top >= 0 && !(nafs[0][top] | nafs[1][top] | nafs[2][top] | nafs[3][top])) top--;
    ge25519_p2 q = {{{0}}, {{1}}, {{1}}};
    ge25519_p1p1 t = {{{0}}, {{1}}, {{1}}, {{1}}};
    for (int pos = top; pos >= 0; pos--) {
        ge25519_p2_dbl(&t, &q);
        if (nafs[0][pos]) add_base_term(&t, b0, nafs[0][pos]);
        if (nafs[1][pos]) add_base_term(&t, b1, nafs[1][pos]);
        if (nafs[2][pos]) add_term(&t, p_table, nafs[2][pos]);
        if (nafs[3][pos]) add_term(&t, q_table, nafs[3][pos]);
        ge25519_p1p1_to_p2(&q, &t);
    }
    ge25519_p1p1_to_p3(out, &t);
}

/* The cofactored equation [8]([S]B - R - [k]A) = 0, evaluated as [8]([c1 S]B - [c1]R - [c0]A)
 * with c0 = c1 k (mod L) from lc_sc25519_halfgcd: c1 is invertible modulo L and [8] kills the
 * difference between [c1 k]A and [c0]A (a multiple of [L]A, of order dividing 8), so both forms
 * hold together, and the second needs half the doublings. */
static int equation_holds(const ge25519_affine *R, const ge25519_affine *A, const uint64_t k[4],
                          const uint64_t S[4]) {
    uint64_t c0[2], c1[2], e[4];
    int c1_negative;
    lc_sc25519_halfgcd(c0, c1, &c1_negative, k);
    const uint64_t c0_full[4] = {c0[0], c0[1], 0, 0}, c1_full[4] = {c1[0], c1[1], 0, 0};
    lc_sc25519_mul(e, c1_full, S);
    if (c1_negative) lc_sc25519_neg(e, e); /* e = c1 S mod L, with c1's sign */
    const uint64_t e0[4] = {e[0], e[1], 0, 0}, e1[4] = {e[2], e[3], 0, 0};
    int8_t nafs[4][256];
    lc_ge25519_wnaf(nafs[0], e0, GE25519_BASE_WNAF_WIDTH);
    lc_ge25519_wnaf(nafs[1], e1, GE25519_BASE_WNAF_WIDTH);
    lc_ge25519_wnaf(nafs[2], c0_full, 5);
    lc_ge25519_wnaf(nafs[3], c1_full, 5);
    /* -[c0]A, and -[c1]R with c1's sign: negate the digits rather than the points. */
    for (int i = 0; i < 256; i++) {
        nafs[2][i] = (int8_t)-nafs[2][i];
        if (!c1_negative) nafs[3][i] = (int8_t)-nafs[3][i];
    }
    ge25519_cached a_table[8], r_table[8];
    ge25519_p3 p;
    ge25519_affine_to_p3(&p, A);
    lc_ge25519_odd_multiples(a_table, &p, 8);
    ge25519_affine_to_p3(&p, R);
    lc_ge25519_odd_multiples(r_table, &p, 8);
    ge25519_p3 sum;
    double_chain(&sum, (const int8_t(*)[256])nafs, a_table, r_table);
    return lc_ge25519_times8_is_identity(&sum);
}

int lc_ed25519_verify(const uint8_t public_key[32], const uint8_t *message, size_t message_size,
                      const uint8_t signature[64]) {
    LC_ASSERT(public_key != NULL);
    LC_ASSERT(signature != NULL);
    LC_ASSERT(message != NULL || message_size == 0);
    ge25519_affine R, A;
    uint64_t k[4], S[4];
    signature_job job = {.key = public_key, .message = message, .message_size = message_size,
                         .signature = signature, .R = &R, .A = &A, .k = k, .S = S};
    if (!prepare(&job)) return 0;
    return equation_holds(&R, &A, k, S);
}

/* ---- Batches ---- */

/* Fills buffer from the operating system's CSPRNG. Returns 0, or -1 if it has none to give.
 * Linux: the getrandom system call (called directly, since the manylinux C library predates its
 * wrapper), and /dev/urandom on kernels older than 3.17 that lack it. */
#if defined(__linux__)
static int read_urandom(uint8_t *buffer, size_t size) {
    const int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    while (size > 0) {
        const ssize_t got = read(fd, buffer, size);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) break;
        buffer += got;
        size -= (size_t)got;
    }
    close(fd);
    return size == 0 ? 0 : -1;
}

static int system_random(uint8_t *buffer, size_t size) {
#if defined(SYS_getrandom)
    while (size > 0) {
        const long got = syscall(SYS_getrandom, buffer, size, 0);
        if (got < 0) {
            if (errno == EINTR) continue;
            if (errno == ENOSYS) return read_urandom(buffer, size);
            return -1;
        }
        buffer += got;
        size -= (size_t)got;
    }
    return 0;
#else
    return read_urandom(buffer, size);
#endif
}
#elif defined(__APPLE__) || defined(__FreeBSD__) || defined(__OpenBSD__) || defined(__NetBSD__)
static int system_random(uint8_t *buffer, size_t size) {
    arc4random_buf(buffer, size);
    return 0;
}
#else
static int system_random(uint8_t *buffer, size_t size) {
    (void)buffer;
    (void)size;
    return -1;
}
#endif

/* One chunk's signatures that passed prepare(), in the layout the multi-scalar multiplication
 * reads: point 2j is R_j and point 2j + 1 is A_j, so signatures lo..hi-1 are points 2lo..2hi-1. */
typedef struct {
    size_t count;
    size_t *position; /* index of the signature in the whole batch */
    ge25519_affine *affine;
    ge25519_niels *niels;
    uint64_t (*scalars)[4]; /* z_j for R_j, z_j k_j mod L for A_j */
    uint64_t (*k)[4];
    uint64_t (*S)[4];
    uint64_t (*z)[2];
    uint32_t *key_id; /* which distinct key (a key_cache record) signature j is under */
} chunk_state;

/* Below this many signatures, a failed range is settled one signature at a time: a batch check
 * of two costs about as much as two single checks. */
#define BISECT_SINGLE_MAX 2

/* Whether the combined equation of signatures lo..hi-1 holds: [8]([-sum z_j S_j]B + sum [z_j]R_j
 * + sum [z_j k_j]A_j) = 0. Returns 1, 0, or a negative status. */
static int range_holds(const chunk_state *c, size_t lo, size_t hi) {
    uint64_t sum[8] = {0}, product[8], base_scalar[4];
    for (size_t j = lo; j < hi; j++) {
        const uint64_t z[4] = {c->z[j][0], c->z[j][1], 0, 0};
        lc_sc25519_mul_wide(product, z, c->S[j]);
        lc_sc25519_add_wide(sum, product);
    }
    lc_sc25519_reduce512(base_scalar, sum);
    lc_sc25519_neg(base_scalar, base_scalar);
    ge25519_p3 total;
    const int status = lc_ed25519_msm(&total, c->affine + 2 * lo, c->niels + 2 * lo,
                                      (const uint64_t(*)[4])(c->scalars + 2 * lo), 2 * (hi - lo),
                                      base_scalar);
    if (status != LC_OK) return status;
    return lc_ge25519_times8_is_identity(&total);
}

/* Marks signatures lo..hi-1 valid or not. known_failing: the caller already knows this range's
 * combined equation fails (its sibling held while their parent failed), so skip checking it. */
static int settle_range(const chunk_state *c, size_t lo, size_t hi, int known_failing,
                        uint8_t *valid) {
    if (hi - lo <= BISECT_SINGLE_MAX) {
        for (size_t j = lo; j < hi; j++) {
            valid[c->position[j]] = (uint8_t)equation_holds(&c->affine[2 * j],
                                                            &c->affine[2 * j + 1], c->k[j], c->S[j]);
        }
        return LC_OK;
    }
    if (!known_failing) {
        const int holds = range_holds(c, lo, hi);
        if (holds < 0) return holds;
        if (holds) {
            for (size_t j = lo; j < hi; j++) valid[c->position[j]] = 1;
            return LC_OK;
        }
    }
    const size_t mid = lo + (hi - lo) / 2;
    int status = settle_range(c, lo, mid, 0, valid);
    if (status != LC_OK) return status;
    /* If the left half held as a whole, the right half must be what failed. */
    int left_held = 1;
    for (size_t j = lo; j < mid && left_held; j++) left_held = valid[c->position[j]];
    return settle_range(c, mid, hi, left_held, valid);
}

typedef struct {
    const uint8_t *public_keys;
    size_t key_size;
    const uint8_t *const *messages;
    const size_t *message_sizes;
    const uint8_t *signatures;
    size_t count;
    size_t chunk_size;
    size_t chunk_count;
    uint8_t *valid;
    atomic_size_t next_chunk;
    atomic_int status;
} batch_job;

static void chunk_free(chunk_state *c) {
    free(c->position);
    free(c->affine);
    free(c->niels);
    free(c->scalars);
    free(c->k);
    free(c->S);
    free(c->z);
    free(c->key_id);
}

static int chunk_alloc(chunk_state *c, size_t m) {
    memset(c, 0, sizeof *c);
    c->position = malloc(m * sizeof *c->position);
    c->affine = malloc(2 * m * sizeof *c->affine);
    c->niels = malloc(2 * m * sizeof *c->niels);
    c->scalars = malloc(2 * m * sizeof *c->scalars);
    c->k = malloc(m * sizeof *c->k);
    c->S = malloc(m * sizeof *c->S);
    c->z = malloc(m * sizeof *c->z);
    c->key_id = malloc(m * sizeof *c->key_id);
    if (c->position && c->affine && c->niels && c->scalars && c->k && c->S && c->z && c->key_id) {
        return LC_OK;
    }
    chunk_free(c);
    return LC_ERROR_MEMORY;
}

/* The distinct keys of one chunk, each decoded once: a ledger's batch holds many signatures by
 * the same accounts. Keys get record indices in order of first sight; open addressing over a
 * power-of-two table finds a repeated key. A key whose probe runs past KEY_CACHE_PROBES_MAX gets
 * a record of its own without entering the table, so crafted colliding keys cost a bounded
 * number of comparisons each, never quadratic time. */
#define KEY_CACHE_PROBES_MAX 16
#define KEY_CACHE_EMPTY UINT32_MAX

typedef struct {
    uint8_t *records;  /* record_count records of LC_ED25519_DECODED_KEY_SIZE bytes */
    uint32_t *slots;   /* slot_count entries: a record index or KEY_CACHE_EMPTY */
    size_t record_count, record_capacity, slot_mask;
} key_cache;

static int key_cache_alloc(key_cache *cache, size_t capacity) {
    size_t slots = 16;
    while (slots < 2 * capacity) slots *= 2;
    cache->records = malloc((capacity ? capacity : 1) * LC_ED25519_DECODED_KEY_SIZE);
    cache->slots = malloc(slots * sizeof *cache->slots);
    cache->record_count = 0;
    cache->record_capacity = capacity;
    cache->slot_mask = slots - 1;
    if (cache->records == NULL || cache->slots == NULL) return LC_ERROR_MEMORY;
    memset(cache->slots, 0xff, slots * sizeof *cache->slots);
    return LC_OK;
}

static void key_cache_free(key_cache *cache) {
    free(cache->records);
    free(cache->slots);
}

static const uint8_t *key_cache_record(const key_cache *cache, size_t index) {
    LC_ASSERT(index < cache->record_count);
    return cache->records + index * LC_ED25519_DECODED_KEY_SIZE;
}

/* The record index of key, found or made. A new record is a copy of the caller's key record
 * of key_size bytes: decoded records whole; a raw or hinted key, for the caller to decode. */
static uint32_t key_cache_insert(key_cache *cache, const uint8_t *key, size_t key_size) {
    uint64_t h = lc_load64_le(key) ^ lc_load64_le(key + 8) * 0x9e3779b97f4a7c15u;
    h ^= lc_load64_le(key + 16) * 0xc2b2ae3d27d4eb4fu ^ lc_load64_le(key + 24);
    h *= 0xff51afd7ed558ccdu;
    size_t slot = (size_t)(h >> 17) & cache->slot_mask;
    uint32_t *free_slot = NULL;
    for (int probe = 0; probe < KEY_CACHE_PROBES_MAX; probe++) {
        const uint32_t index = cache->slots[slot];
        if (index == KEY_CACHE_EMPTY) {
            free_slot = &cache->slots[slot];
            break;
        }
        if (memcmp(key_cache_record(cache, index), key, 32) == 0) return index;
        slot = (slot + 1) & cache->slot_mask;
    }
    LC_ASSERT(cache->record_count < cache->record_capacity);
    const uint32_t index = (uint32_t)cache->record_count++;
    uint8_t *record = cache->records + (size_t)index * LC_ED25519_DECODED_KEY_SIZE;
    LC_ASSERT(key_size <= LC_ED25519_DECODED_KEY_SIZE);
    memcpy(record, key, key_size);
    if (free_slot != NULL) *free_slot = index;
    return index;
}

/* The record index of key (a record of key_size bytes), found or made: copied when decoded,
 * else decoded now. */
static uint32_t key_cache_index(key_cache *cache, const uint8_t *key, size_t key_size) {
    const size_t known = cache->record_count;
    const uint32_t index = key_cache_insert(cache, key, key_size);
    if (index >= known && key_size != LC_ED25519_DECODED_KEY_SIZE) {
        decode_cached_key(cache->records + (size_t)index * LC_ED25519_DECODED_KEY_SIZE,
                          key_size == LC_ED25519_HINTED_KEY_SIZE);
    }
    return index;
}

/* Runs prepare() on signatures start..end-1, keeping those the equation must decide. Every key
 * goes through the chunk's key cache, so each distinct raw key is decoded once. */
static void chunk_prepare(chunk_state *c, key_cache *cache, const batch_job *job, size_t start,
                          size_t end) {
    for (size_t i = start; i < end; i++) {
        const uint8_t *key = job->public_keys + i * job->key_size;
        const size_t j = c->count;
        const uint32_t key_id = key_cache_index(cache, key, job->key_size);
        const signature_job sj = {
            .key = key, .key_record = key_cache_record(cache, key_id),
            .message = job->messages[i], .message_size = job->message_sizes[i],
            .signature = job->signatures + 64 * i, .R = &c->affine[2 * j],
            .A = &c->affine[2 * j + 1], .k = c->k[j], .S = c->S[j]};
        job->valid[i] = 0;
        if (!prepare(&sj)) continue;
        c->position[j] = i;
        c->key_id[j] = key_id;
        c->count++;
    }
}

/* The random coefficients z_j (128 bits each, never zero) and the scalars that use them. */
static int chunk_coefficients(chunk_state *c) {
    if (c->count == 0) return LC_OK;
    if (system_random((uint8_t *)c->z, c->count * sizeof *c->z) != 0) {
        return LC_ERROR_UNSUPPORTED;
    }
    for (size_t j = 0; j < c->count; j++) {
        if ((c->z[j][0] | c->z[j][1]) == 0) c->z[j][0] = 1;
        const uint64_t z[4] = {c->z[j][0], c->z[j][1], 0, 0};
        memcpy(c->scalars[2 * j], z, sizeof z);
        lc_sc25519_mul(c->scalars[2 * j + 1], z, c->k[j]);
        ge25519_affine_to_niels(&c->niels[2 * j], &c->affine[2 * j]);
        ge25519_affine_to_niels(&c->niels[2 * j + 1], &c->affine[2 * j + 1]);
    }
    return LC_OK;
}

/* The combined equation of the whole chunk with the terms of each distinct key merged:
 * sum over j of [z_j k_j]A_j = sum over keys u of [sum of z_j k_j under u]A_u, the same point
 * computed with one point per key. Returns 1, 0, or a negative status. */
static int merged_chunk_holds(const chunk_state *c, const key_cache *cache) {
    const size_t keys = cache->record_count, points = c->count + keys;
    ge25519_affine *affine = malloc(points * sizeof *affine);
    ge25519_niels *niels = malloc(points * sizeof *niels);
    uint64_t(*scalars)[4] = malloc(points * sizeof *scalars);
    uint64_t(*wide)[8] = calloc(keys ? keys : 1, sizeof *wide);
    int status = LC_ERROR_MEMORY;
    if (affine != NULL && niels != NULL && scalars != NULL && wide != NULL) {
        uint64_t sum[8] = {0}, product[8], base_scalar[4];
        for (size_t j = 0; j < c->count; j++) {
            affine[j] = c->affine[2 * j];
            niels[j] = c->niels[2 * j];
            memcpy(scalars[j], c->scalars[2 * j], sizeof scalars[j]);
            const uint64_t zk[8] = {c->scalars[2 * j + 1][0], c->scalars[2 * j + 1][1],
                                    c->scalars[2 * j + 1][2], c->scalars[2 * j + 1][3]};
            lc_sc25519_add_wide(wide[c->key_id[j]], zk);
            const uint64_t z[4] = {c->z[j][0], c->z[j][1], 0, 0};
            lc_sc25519_mul_wide(product, z, c->S[j]);
            lc_sc25519_add_wide(sum, product);
        }
        size_t used = c->count;
        for (size_t u = 0; u < keys; u++) {
            const uint8_t *record = key_cache_record(cache, u);
            if (record[DECODED_KEY_VALID_OFFSET] != 1) continue; /* no signature kept under it */
            memcpy(&affine[used], record + DECODED_KEY_POINT_OFFSET, sizeof affine[used]);
            ge25519_affine_to_niels(&niels[used], &affine[used]);
            lc_sc25519_reduce512(scalars[used], wide[u]);
            used++;
        }
        lc_sc25519_reduce512(base_scalar, sum);
        lc_sc25519_neg(base_scalar, base_scalar);
        ge25519_p3 total;
        status = lc_ed25519_msm(&total, affine, niels, (const uint64_t(*)[4])scalars, used,
                                base_scalar);
        if (status == LC_OK) status = lc_ge25519_times8_is_identity(&total);
    }
    free(affine);
    free(niels);
    free(scalars);
    free(wide);
    return status;
}

/* Settles the chunk: with repeated keys, one merged check first (the usual all-valid case then
 * costs one multi-scalar multiplication with a point per key), then bisection if it fails. */
static int settle_chunk(const chunk_state *c, const key_cache *cache, uint8_t *valid) {
    if (cache->record_count >= c->count || c->count <= BISECT_SINGLE_MAX) {
        return settle_range(c, 0, c->count, 0, valid);
    }
    const int holds = merged_chunk_holds(c, cache);
    if (holds < 0) return holds;
    if (holds) {
        for (size_t j = 0; j < c->count; j++) valid[c->position[j]] = 1;
        return LC_OK;
    }
    return settle_range(c, 0, c->count, 1, valid);
}

static int verify_chunk(batch_job *job, size_t start, size_t end) {
    chunk_state c;
    key_cache cache = {0};
    int status = chunk_alloc(&c, end - start);
    if (status != LC_OK) return status;
    status = key_cache_alloc(&cache, end - start);
    if (status == LC_OK) {
        chunk_prepare(&c, &cache, job, start, end);
        status = chunk_coefficients(&c);
    }
    if (status == LC_OK) status = settle_chunk(&c, &cache, job->valid);
    key_cache_free(&cache);
    chunk_free(&c);
    return status;
}

static void *batch_worker(void *arg) {
    batch_job *job = arg;
    for (;;) {
        const size_t chunk = atomic_fetch_add(&job->next_chunk, 1);
        if (chunk >= job->chunk_count) break;
        const size_t start = chunk * job->chunk_size;
        const size_t end = start + job->chunk_size < job->count ? start + job->chunk_size
                                                                : job->count;
        const int status = verify_chunk(job, start, end);
        if (status != LC_OK) atomic_store(&job->status, status);
    }
    return NULL;
}

/* A thread is worth starting for this many signatures (about 1 ms of work); below it the cost
 * of the thread and of a smaller multi-scalar multiplication outweighs the gain. */
#define THREAD_SIGNATURES_MIN 32

/* Two chunks per thread once each still holds this many signatures: threads then take chunks as
 * they finish, so a thread slowed by other work on its core delays the batch by half a chunk
 * rather than a whole one. It costs about 3% when every core is free (Pippenger over half as
 * many points spends about 10% more per point, on a third of the work). */
#define BALANCED_CHUNK_SIGNATURES_MIN 4096

/* Chunks: at most LC_ED25519_CHUNK_SIZE_MAX signatures, one per thread when there is work
 * enough for every thread, two per thread when there is plenty. */
static void plan_chunks(batch_job *job, uint32_t thread_count) {
    size_t chunks = (job->count + LC_ED25519_CHUNK_SIZE_MAX - 1) / LC_ED25519_CHUNK_SIZE_MAX;
    size_t useful_threads = job->count / THREAD_SIGNATURES_MIN;
    if (useful_threads > thread_count) useful_threads = thread_count;
    if (chunks < useful_threads) chunks = useful_threads;
    if (chunks == 0) chunks = 1;
    if (useful_threads > 1 && job->count / (2 * chunks) >= BALANCED_CHUNK_SIGNATURES_MIN) {
        chunks *= 2;
    }
    job->chunk_size = (job->count + chunks - 1) / chunks;
    job->chunk_count = (job->count + job->chunk_size - 1) / job->chunk_size;
    LC_ASSERT(job->chunk_size <= LC_ED25519_CHUNK_SIZE_MAX);
    LC_ASSERT(job->chunk_count * job->chunk_size >= job->count);
}

/* ---- One batch shared by a team of threads ----
 *
 * A batch that fits in one chunk is checked as one combined equation by every thread together,
 * in steps that any thread can take a piece of: decode the distinct keys, prepare the
 * signatures, recode the scalars, sum Pippenger's windows. A thread slowed by other work on its
 * core then holds up the batch by one piece (a window: a few milliseconds), not by its share of
 * the batch, and the multiplication runs over the whole batch's points, which costs less per
 * point than over a chunk's. Between steps the team waits at a barrier whose last arrival runs
 * the short serial part (sums, allocation). A combined equation that fails is settled by the
 * chunked path above, which names the bad signatures. */

#define TEAM_KEYS_PER_UNIT 128
#define TEAM_SIGNATURES_PER_UNIT 64
#define TEAM_POINTS_PER_UNIT 512
#define TEAM_SIGNATURES_PER_MEMBER 128

typedef struct team_job team_job;
typedef void (*team_unit_fn)(team_job *team, size_t unit, ge25519_p3 *buckets, uint8_t *filled);
typedef void (*team_serial_fn)(team_job *team);

typedef struct {
    team_unit_fn unit;        /* one piece of the step */
    team_serial_fn after;     /* run by the last thread to finish the step, or NULL */
} team_step;

struct team_job {
    const batch_job *batch;
    size_t count; /* signatures; MSM points 0..count-1 are the R_i, then one per distinct key */
    key_cache cache;
    uint32_t *key_id;
    uint64_t (*z)[2];
    uint64_t (*zk)[4];   /* z_i k_i mod L */
    uint64_t (*zs)[8];   /* z_i S_i, unreduced */
    uint64_t (*key_wide)[8]; /* per key, sum of z_i k_i over its signatures, unreduced */
    uint8_t *kept;
    ge25519_affine *affine;
    ge25519_niels *niels;
    uint64_t (*scalars)[4];
    lc_msm_plan plan;
    int plan_ready;
    int holds; /* the combined equation's verdict: 1, 0, or -1 before it is known */
    /* the team */
    pthread_mutex_t lock;
    pthread_cond_t step_done;
    uint32_t members, arrived;
    size_t step; /* the step the team is in */
    size_t unit_count; /* pieces of the current step */
    atomic_size_t next_unit;
    atomic_int status;
};

static void team_free(team_job *t) {
    key_cache_free(&t->cache);
    free(t->key_id);
    free(t->z);
    free(t->zk);
    free(t->zs);
    free(t->key_wide);
    free(t->kept);
    free(t->affine);
    free(t->niels);
    free(t->scalars);
    if (t->plan_ready) lc_msm_plan_free(&t->plan);
}

static size_t units_of(size_t items, size_t per_unit) {
    return (items + per_unit - 1) / per_unit;
}

/* The end of the unit of per_unit items that starts at start, among total items. */
static size_t unit_end(size_t start, size_t per_unit, size_t total) {
    return start + per_unit < total ? start + per_unit : total;
}

/* Step 1: the distinct keys' points (decoded now for raw keys), in MSM points count + u. */
static void team_keys_unit(team_job *t, size_t unit, ge25519_p3 *buckets, uint8_t *filled) {
    (void)buckets;
    (void)filled;
    const size_t start = unit * TEAM_KEYS_PER_UNIT;
    const size_t end = unit_end(start, TEAM_KEYS_PER_UNIT, t->cache.record_count);
    const size_t key_size = t->batch->key_size;
    for (size_t u = start; u < end; u++) {
        uint8_t *record = t->cache.records + u * LC_ED25519_DECODED_KEY_SIZE;
        if (key_size != LC_ED25519_DECODED_KEY_SIZE) {
            decode_cached_key(record, key_size == LC_ED25519_HINTED_KEY_SIZE);
        }
        const size_t point = t->count + u;
        if (key_record_usable(record)) {
            memcpy(&t->affine[point], record + DECODED_KEY_POINT_OFFSET, sizeof t->affine[point]);
            ge25519_affine_to_niels(&t->niels[point], &t->affine[point]);
        }
        memset(t->key_wide[u], 0, sizeof t->key_wide[u]);
    }
}

/* Step 2: every rule but the equation, and each kept signature's terms. */
static void team_signatures_unit(team_job *t, size_t unit, ge25519_p3 *buckets,
                                 uint8_t *filled) {
    (void)buckets;
    (void)filled;
    const batch_job *job = t->batch;
    const size_t start = unit * TEAM_SIGNATURES_PER_UNIT;
    const size_t end = unit_end(start, TEAM_SIGNATURES_PER_UNIT, t->count);
    for (size_t i = start; i < end; i++) {
        ge25519_affine A;
        uint64_t k[4], S[4];
        const signature_job sj = {
            .key = job->public_keys + i * job->key_size,
            .key_record = key_cache_record(&t->cache, t->key_id[i]),
            .message = job->messages[i], .message_size = job->message_sizes[i],
            .signature = job->signatures + 64 * i, .R = &t->affine[i], .A = &A, .k = k, .S = S};
        t->kept[i] = (uint8_t)prepare(&sj);
        if (!t->kept[i]) {
            memset(t->scalars[i], 0, sizeof t->scalars[i]);
            memset(t->zk[i], 0, sizeof t->zk[i]);
            memset(t->zs[i], 0, sizeof t->zs[i]);
            continue;
        }
        const uint64_t z[4] = {t->z[i][0], t->z[i][1], 0, 0};
        memcpy(t->scalars[i], z, sizeof z);
        lc_sc25519_mul(t->zk[i], z, k);
        lc_sc25519_mul_wide(t->zs[i], z, S);
        ge25519_affine_to_niels(&t->niels[i], &t->affine[i]);
    }
}

/* After step 2: the merged key terms, the base point's scalar, and the plan. */
static void team_after_signatures(team_job *t) {
    if (atomic_load(&t->status) != LC_OK) return;
    uint64_t sum[8] = {0}, base_scalar[4];
    for (size_t i = 0; i < t->count; i++) {
        if (!t->kept[i]) continue;
        const uint64_t zk[8] = {t->zk[i][0], t->zk[i][1], t->zk[i][2], t->zk[i][3]};
        lc_sc25519_add_wide(t->key_wide[t->key_id[i]], zk);
        lc_sc25519_add_wide(sum, t->zs[i]);
    }
    lc_sc25519_reduce512(base_scalar, sum);
    lc_sc25519_neg(base_scalar, base_scalar);
    const size_t points = t->count + t->cache.record_count;
    int window = lc_ed25519_msm_window(points);
    if (window < 4) window = 4;
    const int status = lc_msm_plan_init(&t->plan, t->affine, t->niels, points, base_scalar,
                                        window);
    if (status != LC_OK) {
        atomic_store(&t->status, status);
        return;
    }
    t->plan_ready = 1;
}

/* Step 3: the merged key scalars, reduced, and every point's digits. */
static void team_recode_unit(team_job *t, size_t unit, ge25519_p3 *buckets, uint8_t *filled) {
    (void)buckets;
    (void)filled;
    const size_t points = t->plan.count;
    const size_t start = unit * TEAM_POINTS_PER_UNIT;
    const size_t end = unit_end(start, TEAM_POINTS_PER_UNIT, points);
    for (size_t p = start > t->count ? start : t->count; p < end; p++) {
        lc_sc25519_reduce512(t->scalars[p], t->key_wide[p - t->count]);
    }
    lc_msm_plan_recode(&t->plan, (const uint64_t(*)[4])t->scalars, start, end);
}

/* Step 4: one Pippenger window. */
static void team_window_unit(team_job *t, size_t unit, ge25519_p3 *buckets, uint8_t *filled) {
    lc_msm_plan_window(&t->plan, (int)unit, buckets, filled);
}

static void team_after_windows(team_job *t) {
    if (atomic_load(&t->status) != LC_OK) return;
    ge25519_p3 total;
    lc_msm_plan_finish(&t->plan, &total);
    t->holds = lc_ge25519_times8_is_identity(&total);
}

static const team_step team_steps[] = {
    {team_keys_unit, NULL},
    {team_signatures_unit, team_after_signatures},
    {team_recode_unit, NULL},
    {team_window_unit, team_after_windows},
};
#define TEAM_STEP_COUNT (sizeof team_steps / sizeof team_steps[0])

/* The pieces of step `step`, known once the steps before it are done. */
static size_t team_unit_count(const team_job *t, size_t step) {
    if (atomic_load(&t->status) != LC_OK) return 0;
    switch (step) {
    case 0: return units_of(t->cache.record_count, TEAM_KEYS_PER_UNIT);
    case 1: return units_of(t->count, TEAM_SIGNATURES_PER_UNIT);
    case 2: return units_of(t->plan.count, TEAM_POINTS_PER_UNIT);
    case 3: return (size_t)t->plan.windows;
    default: return 0;
    }
}

/* Every member runs this: take pieces of the step until none is left, then wait for the others;
 * the last to arrive runs the step's serial part and opens the next step. */
static void *team_member(void *arg) {
    team_job *t = arg;
    ge25519_p3 *buckets = NULL;
    uint8_t *filled = NULL;
    for (size_t step = 0; step < TEAM_STEP_COUNT; step++) {
        pthread_mutex_lock(&t->lock);
        const size_t unit_count = t->unit_count;
        pthread_mutex_unlock(&t->lock);
        for (;;) {
            const size_t unit = atomic_fetch_add(&t->next_unit, 1);
            if (unit >= unit_count) break;
            if (team_steps[step].unit == team_window_unit && buckets == NULL) {
                const size_t bucket_count = lc_msm_bucket_count(&t->plan);
                buckets = malloc(bucket_count * sizeof *buckets);
                filled = malloc(bucket_count);
                if (buckets == NULL || filled == NULL) {
                    atomic_store(&t->status, LC_ERROR_MEMORY);
                    break;
                }
            }
            team_steps[step].unit(t, unit, buckets, filled);
        }
        pthread_mutex_lock(&t->lock);
        if (++t->arrived == t->members) {
            if (team_steps[step].after != NULL) team_steps[step].after(t);
            t->arrived = 0;
            t->step = step + 1;
            t->unit_count = team_unit_count(t, step + 1);
            atomic_store(&t->next_unit, 0);
            pthread_cond_broadcast(&t->step_done);
        } else {
            while (t->step == step) pthread_cond_wait(&t->step_done, &t->lock);
        }
        pthread_mutex_unlock(&t->lock);
    }
    free(buckets);
    free(filled);
    return NULL;
}

/* Everything a team needs before it starts: buffers, the distinct keys (decoding waits for
 * step 1) and the random coefficients. */
static int team_setup(team_job *t, const batch_job *job) {
    const size_t n = job->count, points_max = 2 * n;
    t->batch = job;
    t->count = n;
    t->holds = -1;
    t->key_id = malloc(n * sizeof *t->key_id);
    t->z = malloc(n * sizeof *t->z);
    t->zk = malloc(n * sizeof *t->zk);
    t->zs = malloc(n * sizeof *t->zs);
    t->key_wide = malloc(n * sizeof *t->key_wide);
    t->kept = malloc(n);
    t->affine = malloc(points_max * sizeof *t->affine);
    t->niels = malloc(points_max * sizeof *t->niels);
    t->scalars = malloc(points_max * sizeof *t->scalars);
    if (key_cache_alloc(&t->cache, n) != LC_OK || !t->key_id || !t->z || !t->zk || !t->zs ||
        !t->key_wide || !t->kept || !t->affine || !t->niels || !t->scalars) {
        return LC_ERROR_MEMORY;
    }
    /* Keys enter the cache undecoded (raw and hinted keys are decoded in step 1, by the team);
     * a decoded record is copied as it is. */
    for (size_t i = 0; i < n; i++) {
        const uint8_t *key = job->public_keys + i * job->key_size;
        t->key_id[i] = key_cache_insert(&t->cache, key, job->key_size);
    }
    if (system_random((uint8_t *)t->z, n * sizeof *t->z) != 0) return LC_ERROR_UNSUPPORTED;
    for (size_t i = 0; i < n; i++) {
        if ((t->z[i][0] | t->z[i][1]) == 0) t->z[i][0] = 1;
    }
    return LC_OK;
}

/* Checks the whole batch as one combined equation with up to thread_count threads. Returns 1
 * when it holds (valid[] is then filled), 0 when it does not (valid[] is left to the caller), or
 * a negative status. */
static int team_verify(batch_job *job, uint32_t thread_count) {
    team_job t;
    memset(&t, 0, sizeof t);
    int status = team_setup(&t, job);
    if (status != LC_OK) {
        team_free(&t);
        return status;
    }
    pthread_mutex_init(&t.lock, NULL);
    pthread_cond_init(&t.step_done, NULL);
    atomic_init(&t.next_unit, 0);
    atomic_init(&t.status, LC_OK);
    t.unit_count = team_unit_count(&t, 0);
    /* A member per TEAM_SIGNATURES_PER_MEMBER signatures at most: past that, members would wait
     * at the barriers more than they work. */
    const size_t members_useful = job->count / TEAM_SIGNATURES_PER_MEMBER;
    if (thread_count > members_useful) {
        thread_count = members_useful > 0 ? (uint32_t)members_useful : 1;
    }
    pthread_t threads[LC_THREAD_COUNT_MAX];
    uint32_t started = 0;
    /* Members learn their number under the lock, so none reaches the first barrier before
     * every thread that could start has started. */
    pthread_mutex_lock(&t.lock);
    for (uint32_t m = 1; m < thread_count; m++) {
        if (pthread_create(&threads[started], NULL, team_member, &t) != 0) break;
        started++;
    }
    t.members = started + 1;
    pthread_mutex_unlock(&t.lock);
    team_member(&t);
    for (uint32_t m = 0; m < started; m++) pthread_join(threads[m], NULL);
    pthread_cond_destroy(&t.step_done);
    pthread_mutex_destroy(&t.lock);
    status = atomic_load(&t.status);
    int result = status;
    if (status == LC_OK) {
        LC_ASSERT(t.holds == 0 || t.holds == 1);
        result = t.holds;
        if (t.holds) memcpy(job->valid, t.kept, job->count);
    }
    team_free(&t);
    return result;
}

/* The job of a batch call, its arguments checked (all but count, which each caller bounds). */
static void batch_job_init(batch_job *job, const uint8_t *public_keys, size_t key_size,
                           const uint8_t *const *messages, const size_t *message_sizes,
                           const uint8_t *signatures, size_t count, uint32_t thread_count,
                           uint8_t *valid) {
    LC_ASSERT(thread_count >= 1 && thread_count <= LC_THREAD_COUNT_MAX);
    LC_ASSERT(key_size == LC_ED25519_PUBLIC_KEY_SIZE || key_size == LC_ED25519_HINTED_KEY_SIZE ||
              key_size == LC_ED25519_DECODED_KEY_SIZE);
    LC_ASSERT(public_keys && messages && message_sizes && signatures && valid);
    memset(job, 0, sizeof *job);
    job->public_keys = public_keys;
    job->key_size = key_size;
    job->messages = messages;
    job->message_sizes = message_sizes;
    job->signatures = signatures;
    job->count = count;
    job->valid = valid;
    atomic_init(&job->next_chunk, 0);
    atomic_init(&job->status, LC_OK);
}

int lc_ed25519_verify_batch(const uint8_t *public_keys, size_t key_size,
                            const uint8_t *const *messages, const size_t *message_sizes,
                            const uint8_t *signatures, size_t count, uint32_t thread_count,
                            uint8_t *valid) {
    LC_ASSERT(count <= LC_BATCH_SIZE_MAX);
    LC_ASSERT(thread_count >= 1 && thread_count <= LC_THREAD_COUNT_MAX);
    LC_ASSERT(key_size == LC_ED25519_PUBLIC_KEY_SIZE || key_size == LC_ED25519_HINTED_KEY_SIZE ||
              key_size == LC_ED25519_DECODED_KEY_SIZE);
    if (count == 0) return LC_OK;
    batch_job job;
    batch_job_init(&job, public_keys, key_size, messages, message_sizes, signatures, count,
                   thread_count, valid);
    if (thread_count > 1 && count >= LC_ED25519_TEAM_SIGNATURES_MIN &&
        count <= LC_ED25519_CHUNK_SIZE_MAX) {
        const int holds = team_verify(&job, thread_count);
        if (holds == 1) return LC_OK;
        if (holds < 0) {
            memset(valid, 0, count);
            return holds;
        }
        /* Some signature is bad: the chunks below find which. */
    }
    plan_chunks(&job, thread_count);
    uint32_t workers = thread_count < job.chunk_count ? thread_count : (uint32_t)job.chunk_count;
    pthread_t threads[LC_THREAD_COUNT_MAX];
    uint32_t started = 0;
    for (uint32_t t = 1; t < workers; t++) {
        if (pthread_create(&threads[started], NULL, batch_worker, &job) != 0) break;
        started++;
    }
    batch_worker(&job); /* the calling thread works too, and alone if no thread could start */
    for (uint32_t t = 0; t < started; t++) pthread_join(threads[t], NULL);
    const int status = atomic_load(&job.status);
    if (status != LC_OK) memset(valid, 0, count);
    return status;
}

int lc_ed25519_team_check(const uint8_t *public_keys, size_t key_size,
                          const uint8_t *const *messages, const size_t *message_sizes,
                          const uint8_t *signatures, size_t count, uint32_t thread_count,
                          uint8_t *valid) {
    LC_ASSERT(count >= 1 && count <= LC_ED25519_CHUNK_SIZE_MAX);
    batch_job job;
    batch_job_init(&job, public_keys, key_size, messages, message_sizes, signatures, count,
                   thread_count, valid);
    memset(valid, 0, count);
    return team_verify(&job, thread_count);
}

int lc_ed25519_decode_public_keys(const uint8_t *public_keys, size_t count, uint8_t *decoded) {
    LC_ASSERT(count <= LC_BATCH_SIZE_MAX);
    for (size_t i = 0; i < count; i++) {
        decode_key_record(decoded + i * LC_ED25519_DECODED_KEY_SIZE, public_keys + 32 * i);
    }
    return LC_OK;
}

/* lc_ed25519_check_public_key's verdict; *decoded says whether the key decoded (into A). */
static int check_key(const uint8_t public_key[32], ge25519_p3 *A, int *decoded) {
    *decoded = 0;
    if (!lc_fe51_is_canonical(public_key)) return LC_ED25519_KEY_NOT_CANONICAL;
    if (lc_ge25519_frombytes(A, public_key) != 0) {
        /* x = 0 with the sign bit set is a second spelling of a valid point, not off the curve. */
        uint8_t positive[32];
        memcpy(positive, public_key, 32);
        positive[31] &= 0x7f;
        ge25519_p3 other;
        if ((public_key[31] & 0x80) && lc_ge25519_frombytes(&other, positive) == 0) {
            return LC_ED25519_KEY_NOT_CANONICAL;
        }
        return LC_ED25519_KEY_NOT_ON_CURVE;
    }
    *decoded = 1;
    if (lc_ge25519_has_small_order(A)) return LC_ED25519_KEY_SMALL_ORDER;
    return LC_ED25519_KEY_OK;
}

int lc_ed25519_check_public_key(const uint8_t public_key[32]) {
    ge25519_p3 A;
    int decoded;
    return check_key(public_key, &A, &decoded);
}

int lc_ed25519_check_public_keys(const uint8_t *public_keys, size_t count, uint8_t *statuses,
                                 uint8_t *hinted) {
    LC_ASSERT(count == 0 || (public_keys != NULL && statuses != NULL && hinted != NULL));
    for (size_t i = 0; i < count; i++) {
        const uint8_t *key = public_keys + 32 * i;
        uint8_t *out = hinted + LC_ED25519_HINTED_KEY_SIZE * i;
        ge25519_p3 A;
        int decoded;
        statuses[i] = (uint8_t)check_key(key, &A, &decoded);
        memcpy(out, key, 32);
        memset(out + 32, 0, 32);
        if (decoded) lc_fe51_tobytes(out + 32, &A.X); /* Z = 1: X is the affine x */
    }
    return LC_OK;
}

void lc_ed25519_sha512(uint8_t digest[64], const uint8_t *data, size_t size) {
    lc_sha512(digest, data, size);
}

int lc_ed25519_split_scalar(const uint8_t k[32], uint8_t c0[16], uint8_t c1[16],
                            int *c1_negative) {
    uint64_t kk[4], a[2], b[2];
    lc_sc25519_frombytes(kk, k);
    const int steps = lc_sc25519_halfgcd(a, b, c1_negative, kk);
    lc_store64_le(c0, a[0]);
    lc_store64_le(c0 + 8, a[1]);
    lc_store64_le(c1, b[0]);
    lc_store64_le(c1 + 8, b[1]);
    return steps;
}
