/* The edwards25519 group and scalars modulo its order: decoding with the canonical checks of
 * RFC 8032 section 5.1.3, the base-point tables, wNAF recoding, arithmetic modulo L, and the
 * half-extended-GCD that splits a scalar into two halves for verification.
 */
#include <pthread.h>

#include "ge25519.h"

const fe51 lc_ge25519_d2 = {
    {0x69b9426b2f159, 0x35050762add7a, 0x3cf44c0038052, 0x6738cc7407977, 0x2406d9dc56dff}};
static const fe51 curve_d = {
    {0x34dca135978a3, 0x1a8283b156ebd, 0x5e7a26001c029, 0x739c663a03cbb, 0x52036cee2b6ff}};
static const fe51 sqrt_minus_one = {
    {0x61b274a0ea0b0, 0xd5a5fc8f189d, 0x7ef5e9cbd0c60, 0x78595a6804c9e, 0x2b8324804fc1d}};
static const fe51 base_x = {
    {0x62d608f25d51a, 0x412a4b4f6592a, 0x75b7171a4b31d, 0x1ff60527118fe, 0x216936d3cd6e5}};
static const fe51 base_y = {
    {0x6666666666658, 0x4cccccccccccc, 0x1999999999999, 0x3333333333333, 0x6666666666666}};

/* Decoding (RFC 8032, 5.1.3), in two halves around its one exponentiation:
 * x = u v^3 (u v^7)^((p - 5) / 8) is a root of u / v when one
 * exists, with u = y^2 - 1 and v = d y^2 + 1. */
typedef struct {
    fe51 y, u, v, v3, uv7;
} decoding;

/* y from s, u = y^2 - 1 and v = d y^2 + 1: a point (x, y) is on the curve when v x^2 = u. */
static void curve_uv(fe51 *y, fe51 *u, fe51 *v, const uint8_t s[32]) {
    fe51 one;
    fe51_one(&one);
    lc_fe51_frombytes(y, s);
    fe51_sq(u, y);
    fe51_mul(v, u, &curve_d);
    fe51_sub(u, u, &one);
    fe51_add(v, v, &one);
}

/* r = the affine point (x, y), extended: Z = 1, T = x y. */
static void p3_from_affine(ge25519_p3 *r, const fe51 *x, const fe51 *y) {
    r->X = *x;
    r->Y = *y;
    fe51_one(&r->Z);
    fe51_mul(&r->T, x, y);
}

static void decode_begin(decoding *d, const uint8_t s[32]) {
    curve_uv(&d->y, &d->u, &d->v, s);
    fe51_sq(&d->v3, &d->v);
    fe51_mul(&d->v3, &d->v3, &d->v);
    fe51_sq(&d->uv7, &d->v3);
    fe51_mul(&d->uv7, &d->uv7, &d->v);
    fe51_mul(&d->uv7, &d->uv7, &d->u);
}

/* Finishes with power = (u v^7)^((p - 5) / 8). Returns 0, or -1 when s is not a canonical
 * encoding of a curve point: y >= p, no root, or x = 0 with the sign bit set. r is affine. */
static int decode_end(ge25519_p3 *r, const decoding *d, const fe51 *power, const uint8_t s[32]) {
    if (!lc_fe51_is_canonical(s)) return -1;
    fe51 x, vxx, check;
    fe51_mul(&x, power, &d->v3);
    fe51_mul(&x, &x, &d->u);
    fe51_sq(&vxx, &x);
    fe51_mul(&vxx, &vxx, &d->v);
    fe51_sub(&check, &vxx, &d->u);
    if (!lc_fe51_is_zero(&check)) {
        fe51_add(&check, &vxx, &d->u);
        if (!lc_fe51_is_zero(&check)) return -1;
        fe51_mul(&x, &x, &sqrt_minus_one);
    }
    uint8_t xs[32];
    lc_fe51_tobytes(xs, &x);
    const int sign = s[31] >> 7;
    int x_is_zero = 1;
    for (int i = 0; i < 32; i++) x_is_zero &= xs[i] == 0;
    if (x_is_zero && sign) return -1;
    if ((xs[0] & 1) != sign) fe51_neg(&x, &x);
    p3_from_affine(r, &x, &d->y);
    return 0;
}

int lc_ge25519_frombytes(ge25519_p3 *r, const uint8_t s[32]) {
    if (!lc_fe51_is_canonical(s)) return -1;
    decoding d;
    fe51 power;
    decode_begin(&d, s);
    lc_fe51_pow22523(&power, &d.uv7);
    return decode_end(r, &d, &power, s);
}

/* The point of s given its x-coordinate: s decodes to (x, y) exactly when y (from s) is
 * canonical, x is canonical with the parity of s's sign bit, and (x, y) is on the curve, since
 * u / v has at most two roots and they differ in parity. A few multiplications stand in for the
 * exponentiation; anything else (a wrong or stale x) returns -1, and the caller decodes s. */
int lc_ge25519_frombytes_with_x(ge25519_p3 *r, const uint8_t s[32], const uint8_t x_bytes[32]) {
    if (!lc_fe51_is_canonical(s)) return -1;
    if ((x_bytes[31] & 0x80) != 0 || !lc_fe51_is_canonical(x_bytes)) return -1;
    if ((x_bytes[0] & 1) != (s[31] >> 7)) return -1; /* also refuses x = 0 with the sign set */
    fe51 y, x, u, v, vxx, check;
    curve_uv(&y, &u, &v, s);
    lc_fe51_frombytes(&x, x_bytes);
    fe51_sq(&vxx, &x);
    fe51_mul(&vxx, &vxx, &v);
    fe51_sub(&check, &vxx, &u);
    if (!lc_fe51_is_zero(&check)) return -1;
    p3_from_affine(r, &x, &y);
    return 0;
}

void lc_ge25519_tobytes(uint8_t s[32], const ge25519_p3 *p) {
    fe51 zinv, x, y;
    lc_fe51_invert(&zinv, &p->Z);
    fe51_mul(&x, &p->X, &zinv);
    fe51_mul(&y, &p->Y, &zinv);
    lc_fe51_tobytes(s, &y);
    s[31] |= (uint8_t)(lc_fe51_is_negative(&x) << 7);
}

/* [8]P is the identity: X = 0 and Y = Z after three doublings. This is the final test of the
 * cofactored verification equation, and the small-order test of a public key. */
int lc_ge25519_times8_is_identity(const ge25519_p3 *p) {
    ge25519_p1p1 t;
    ge25519_p2 q = {p->X, p->Y, p->Z};
    for (int i = 0; i < 3; i++) {
        ge25519_p2_dbl(&t, &q);
        ge25519_p1p1_to_p2(&q, &t);
    }
    return lc_fe51_is_zero(&q.X) && lc_fe51_equal(&q.Y, &q.Z);
}

int lc_ge25519_has_small_order(const ge25519_p3 *p) {
    return lc_ge25519_times8_is_identity(p);
}

/* Affine Niels forms of count points, with one shared inversion. scratch: 2 * count elements. */
void lc_ge25519_to_niels_batch(ge25519_niels *out, const ge25519_p3 *in, size_t count,
                               fe51 *scratch) {
    fe51 *zs = scratch;
    fe51 *prefix = scratch + count;
    for (size_t i = 0; i < count; i++) zs[i] = in[i].Z;
    lc_fe51_batch_invert(zs, zs, count, prefix);
    for (size_t i = 0; i < count; i++) {
        ge25519_p3 affine;
        fe51_mul(&affine.X, &in[i].X, &zs[i]);
        fe51_mul(&affine.Y, &in[i].Y, &zs[i]);
        fe51_mul(&affine.T, &affine.X, &affine.Y);
        ge25519_p3_affine_to_niels(&out[i], &affine);
    }
}

/* table[i] = (2i + 1) P for i < count, as cached points. */
void lc_ge25519_odd_multiples(ge25519_cached table[], const ge25519_p3 *p, int count) {
    LC_ASSERT(count >= 1);
    ge25519_p1p1 t;
    ge25519_p3 p2, acc = *p;
    ge25519_cached p2_cached;
    ge25519_p3_dbl(&t, p);
    ge25519_p1p1_to_p3(&p2, &t);
    ge25519_p3_to_cached(&p2_cached, &p2);
    ge25519_p3_to_cached(&table[0], p);
    for (int i = 1; i < count; i++) {
        ge25519_add(&t, &acc, &p2_cached);
        ge25519_p1p1_to_p3(&acc, &t);
        ge25519_p3_to_cached(&table[i], &acc);
    }
}

void lc_ge25519_base(ge25519_p3 *r) {
    r->X = base_x;
    r->Y = base_y;
    fe51_one(&r->Z);
    fe51_mul(&r->T, &base_x, &base_y);
}

static ge25519_niels base_tables[2][GE25519_BASE_TABLE_SIZE];
static pthread_once_t base_tables_once = PTHREAD_ONCE_INIT;

static void build_base_tables(void) {
    enum { n = GE25519_BASE_TABLE_SIZE };
    ge25519_p3 points[2 * n];
    fe51 scratch[4 * n];
    ge25519_p3 base, base128;
    ge25519_p1p1 t;
    lc_ge25519_base(&base);
    base128 = base;
    for (int i = 0; i < 128; i++) {
        ge25519_p3_dbl(&t, &base128);
        ge25519_p1p1_to_p3(&base128, &t);
    }
    const ge25519_p3 *starts[2] = {&base, &base128};
    for (int half = 0; half < 2; half++) {
        ge25519_p3 p2, acc = *starts[half];
        ge25519_cached p2_cached;
        ge25519_p3_dbl(&t, &acc);
        ge25519_p1p1_to_p3(&p2, &t);
        ge25519_p3_to_cached(&p2_cached, &p2);
        points[half * n] = acc;
        for (int i = 1; i < n; i++) {
            ge25519_add(&t, &acc, &p2_cached);
            ge25519_p1p1_to_p3(&acc, &t);
            points[half * n + i] = acc;
        }
    }
    lc_ge25519_to_niels_batch(&base_tables[0][0], points, 2 * n, scratch);
}

/* The odd multiples of B (half 0) or of 2^128 B (half 1), built on first use. */
const ge25519_niels *lc_ge25519_base_table(int half) {
    LC_ASSERT(half == 0 || half == 1);
    pthread_once(&base_tables_once, build_base_tables);
    return base_tables[half];
}

/* width bits of s from bit position pos; bits past 255 read as zero. */
static inline uint32_t scalar_bits(const uint64_t s[4], int pos, int width) {
    const int limb = pos >> 6, shift = pos & 63;
    if (limb >= 4) return 0;
    uint64_t w = s[limb] >> shift;
    if (shift + width > 64 && limb + 1 < 4) w |= s[limb + 1] << (64 - shift);
    return (uint32_t)(w & ((1u << width) - 1));
}

/* Width-w non-adjacent form: odd digits below 2^(w - 1) in magnitude, each followed by at least
 * w - 1 zeros. s must be below 2^253 (every scalar here is reduced modulo L or has 128 bits):
 * a carry then lands at position 253 at the latest, inside the 256 digits. */
void lc_ge25519_wnaf(int8_t naf[256], const uint64_t s[4], int width) {
    LC_ASSERT(width >= 2 && width <= 8);
    LC_ASSERT(s[3] >> 61 == 0);
    memset(naf, 0, 256);
    uint32_t carry = 0;
    int pos = 0;
    while (pos < 256) {
        const uint32_t window = scalar_bits(s, pos, width) + carry;
        if ((window & 1) == 0) {
            pos++;
            continue;
        }
        if (window < (1u << (width - 1))) {
            naf[pos] = (int8_t)window;
            carry = 0;
        } else {
            naf[pos] = (int8_t)((int32_t)window - (1 << width));
            carry = 1;
        }
        pos += width;
    }
    LC_ASSERT(carry == 0);
}

/* ---- Scalars modulo L, as four little-endian 64-bit limbs. ---- */

static const uint64_t order[4] = {0x5812631a5cf5d3ed, 0x14def9dea2f79cd6, 0, 0x1000000000000000};
/* floor(2^512 / L), the constant of Barrett's reduction (260 bits). */
static const uint64_t barrett_mu[5] = {0xed9ce5a30a2c131b, 0x2106215d086329a7, 0xffffffffffffffeb,
                                       0xffffffffffffffff, 0xf};

/* Whether a 32-byte little-endian S is below L (RFC 8032 5.1.7 requires it of signatures). */
int lc_sc25519_is_canonical(const uint8_t s[32]) {
    for (int i = 3; i >= 0; i--) {
        const uint64_t limb = lc_load64_le(s + 8 * i);
        if (limb != order[i]) return limb < order[i];
    }
    return 0; /* equal to L */
}

void lc_sc25519_frombytes(uint64_t r[4], const uint8_t s[32]) {
    for (int i = 0; i < 4; i++) r[i] = lc_load64_le(s + 8 * i);
}

/* r = x mod L for any x below 2^512: Barrett's reduction (Handbook of Applied Cryptography
 * 14.42 with b = 2^64, k = 4). The quotient estimate is at most 2 short, so at most two
 * subtractions of L follow. */
void lc_sc25519_reduce512(uint64_t r[4], const uint64_t x[8]) {
    uint64_t q2[10] = {0};
    for (int i = 0; i < 5; i++) { /* q2 = (x >> 192) * mu */
        fe51_u128 carry = 0;
        for (int j = 0; j < 5; j++) {
            carry += (fe51_u128)x[3 + i] * barrett_mu[j] + q2[i + j];
            q2[i + j] = (uint64_t)carry;
            carry >>= 64;
        }
        q2[i + 5] = (uint64_t)carry;
    }
    const uint64_t *q3 = q2 + 5; /* q3 = q2 >> 320 */
    uint64_t r2[5] = {0};        /* r2 = q3 * L mod 2^320 */
    for (int i = 0; i < 5; i++) {
        fe51_u128 carry = 0;
        for (int j = 0; i + j < 5; j++) {
            carry += (fe51_u128)q3[i] * (j < 4 ? order[j] : 0) + r2[i + j];
            r2[i + j] = (uint64_t)carry;
            carry >>= 64;
        }
    }
    uint64_t t[5];
    uint64_t borrow = 0;
    for (int i = 0; i < 5; i++) {
        fe51_u128 d = (fe51_u128)x[i] - r2[i] - borrow;
        t[i] = (uint64_t)d;
        borrow = (uint64_t)(d >> 64) & 1;
    }
    for (int round = 0; round < 2; round++) {
        uint64_t u[5];
        borrow = 0;
        for (int i = 0; i < 5; i++) {
            fe51_u128 d = (fe51_u128)t[i] - (i < 4 ? order[i] : 0) - borrow;
            u[i] = (uint64_t)d;
            borrow = (uint64_t)(d >> 64) & 1;
        }
        if (!borrow) memcpy(t, u, sizeof t);
    }
    LC_ASSERT(t[4] == 0);
    LC_ASSERT(t[3] >> 61 == 0);
    memcpy(r, t, 4 * sizeof(uint64_t));
}

void lc_sc25519_from64bytes(uint64_t r[4], const uint8_t s[64]) {
    uint64_t x[8];
    for (int i = 0; i < 8; i++) x[i] = lc_load64_le(s + 8 * i);
    lc_sc25519_reduce512(r, x);
}

void lc_sc25519_mul_wide(uint64_t r[8], const uint64_t a[4], const uint64_t b[4]) {
    memset(r, 0, 8 * sizeof(uint64_t));
    for (int i = 0; i < 4; i++) {
        fe51_u128 carry = 0;
        for (int j = 0; j < 4; j++) {
            carry += (fe51_u128)a[i] * b[j] + r[i + j];
            r[i + j] = (uint64_t)carry;
            carry >>= 64;
        }
        r[i + 4] = (uint64_t)carry;
    }
}

void lc_sc25519_mul(uint64_t r[4], const uint64_t a[4], const uint64_t b[4]) {
    uint64_t wide[8];
    lc_sc25519_mul_wide(wide, a, b);
    lc_sc25519_reduce512(r, wide);
}

/* acc += x over 512 bits; callers keep the sum below 2^512 (at most 2^24 products of 2^381). */
void lc_sc25519_add_wide(uint64_t acc[8], const uint64_t x[8]) {
    fe51_u128 carry = 0;
    for (int i = 0; i < 8; i++) {
        carry += (fe51_u128)acc[i] + x[i];
        acc[i] = (uint64_t)carry;
        carry >>= 64;
    }
    LC_ASSERT(carry == 0);
}

/* r = -a mod L, for a reduced a. */
void lc_sc25519_neg(uint64_t r[4], const uint64_t a[4]) {
    if ((a[0] | a[1] | a[2] | a[3]) == 0) {
        memset(r, 0, 4 * sizeof(uint64_t));
        return;
    }
    uint64_t borrow = 0;
    for (int i = 0; i < 4; i++) {
        fe51_u128 d = (fe51_u128)order[i] - a[i] - borrow;
        r[i] = (uint64_t)d;
        borrow = (uint64_t)(d >> 64) & 1;
    }
    LC_ASSERT(borrow == 0);
}

/* ---- Splitting the challenge scalar (for the single verifier). ----
 *
 * T. Pornin, "Optimized lattice basis reduction in dimension 2, and fast Schnorr and EdDSA
 * signature verification" (2020): for k modulo L, find c0 and c1, both about sqrt(L) ~ 2^126,
 * with c0 = c1 k (mod L). Multiplying the verification equation by c1 turns the 253-bit [k]A
 * into the 126-bit [c0]A, and R gets the 126-bit factor c1, so the combined multiplication needs
 * 128 doublings instead of 253. We find (c0, c1) with the extended Euclidean algorithm on (L, k)
 * stopped at the first remainder below 2^126: with r_i = s_i L + t_i k, the identity
 * |t_i| r_(i-1) + |t_(i-1)| r_i = L bounds |t_i| by L / r_(i-1) <= L / 2^126 < 2^127. */

static int bit_length4(const uint64_t a[4]) {
    for (int i = 3; i >= 0; i--) {
        if (a[i]) return 64 * i + 64 - __builtin_clzll(a[i]);
    }
    return 0;
}

static int compare4(const uint64_t a[4], const uint64_t b[4]) {
    for (int i = 3; i >= 0; i--) {
        if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
    }
    return 0;
}

static void shift_left4(uint64_t r[4], const uint64_t a[4], int shift) {
    const int limbs = shift >> 6, bits = shift & 63;
    for (int i = 3; i >= 0; i--) {
        const int j = i - limbs;
        uint64_t v = j >= 0 ? a[j] << bits : 0;
        if (bits && j - 1 >= 0) v |= a[j - 1] >> (64 - bits);
        r[i] = v;
    }
}

static void subtract4(uint64_t a[4], const uint64_t b[4]) {
    uint64_t borrow = 0;
    for (int i = 0; i < 4; i++) {
        fe51_u128 d = (fe51_u128)a[i] - b[i] - borrow;
        a[i] = (uint64_t)d;
        borrow = (uint64_t)(d >> 64) & 1;
    }
}

/* r0 = r0 mod r1 and t0 += (r0 div r1) t1, by subtracting shifted copies of r1. */
static void euclid_step(uint64_t r0[4], fe51_u128 *t0, const uint64_t r1[4], fe51_u128 t1) {
    const int length1 = bit_length4(r1);
    while (compare4(r0, r1) >= 0) {
        int shift = bit_length4(r0) - length1;
        uint64_t shifted[4];
        shift_left4(shifted, r1, shift);
        if (compare4(shifted, r0) > 0) shift_left4(shifted, r1, --shift);
        subtract4(r0, shifted);
        *t0 += t1 << shift;
    }
}

/* c0 = c1 k (mod L) with c0 < 2^126 and |c1| < 2^127; c1 is returned as magnitude and sign.
 * k must be reduced. Returns the number of Euclidean steps taken (for tests and statistics). */
int lc_sc25519_halfgcd(uint64_t c0[2], uint64_t c1[2], int *c1_negative, const uint64_t k[4]) {
    LC_ASSERT(compare4(k, order) < 0);
    uint64_t a[4], b[4];
    memcpy(a, order, sizeof a);
    memcpy(b, k, sizeof b);
    fe51_u128 ta = 0, tb = 1;
    int steps = 1;
    while (bit_length4(b) > 126) {
        euclid_step(a, &ta, b, tb);
        uint64_t swap[4];
        memcpy(swap, a, sizeof swap);
        memcpy(a, b, sizeof a);
        memcpy(b, swap, sizeof b);
        const fe51_u128 t = ta;
        ta = tb;
        tb = t;
        steps++;
    }
    LC_ASSERT(tb != 0);
    LC_ASSERT((tb >> 127) == 0);
    c0[0] = b[0];
    c0[1] = b[1];
    c1[0] = (uint64_t)tb;
    c1[1] = (uint64_t)(tb >> 64);
    *c1_negative = (steps % 2) == 0;
    return steps;
}
