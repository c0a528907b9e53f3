/* GF(2^255 - 19) in radix 2^51: the longer operations (exponentiations, encoding, decoding).
 * The hot ones are inline in fe51.h; the limb bounds are stated there.
 */
#include "fe51.h"

void lc_fe51_sq_n(fe51 *r, const fe51 *a, int n) {
    LC_ASSERT(n >= 1);
    fe51_sq(r, a);
    for (int i = 1; i < n; i++) fe51_sq(r, r);
}

/* a^(2^250 - 1), the common prefix of the inversion and square-root exponents, with a^11 (for
 * the inversion) on the side. The chain is the classic one: each step doubles the run of ones. */
static void pow_2_250_minus_1(fe51 *r, fe51 *a11, const fe51 *a) {
    fe51 t0, t1, t2;
    fe51_sq(&t0, a);                 /* 2 */
    lc_fe51_sq_n(&t1, &t0, 2);          /* 8 */
    fe51_mul(&t1, a, &t1);           /* 9 */
    fe51_mul(a11, &t0, &t1);         /* 11 */
    fe51_sq(&t0, a11);               /* 22 */
    fe51_mul(&t0, &t1, &t0);         /* 2^5 - 1 */
    lc_fe51_sq_n(&t1, &t0, 5);
    fe51_mul(&t0, &t1, &t0);         /* 2^10 - 1 */
    lc_fe51_sq_n(&t1, &t0, 10);
    fe51_mul(&t1, &t1, &t0);         /* 2^20 - 1 */
    lc_fe51_sq_n(&t2, &t1, 20);
    fe51_mul(&t1, &t2, &t1);         /* 2^40 - 1 */
    lc_fe51_sq_n(&t1, &t1, 10);
    fe51_mul(&t0, &t1, &t0);         /* 2^50 - 1 */
    lc_fe51_sq_n(&t1, &t0, 50);
    fe51_mul(&t1, &t1, &t0);         /* 2^100 - 1 */
    lc_fe51_sq_n(&t2, &t1, 100);
    fe51_mul(&t1, &t2, &t1);         /* 2^200 - 1 */
    lc_fe51_sq_n(&t1, &t1, 50);
    fe51_mul(r, &t1, &t0);           /* 2^250 - 1 */
}

/* a^(p - 2) = a^(2^255 - 21): zero maps to zero. */
void lc_fe51_invert(fe51 *r, const fe51 *a) {
    fe51 t, a11;
    pow_2_250_minus_1(&t, &a11, a);
    lc_fe51_sq_n(&t, &t, 5); /* 2^255 - 32 */
    fe51_mul(r, &t, &a11);
}

/* a^((p - 5) / 8) = a^(2^252 - 3), the exponent of the combined inverse square root. */
void lc_fe51_pow22523(fe51 *r, const fe51 *a) {
    fe51 t, a11;
    pow_2_250_minus_1(&t, &a11, a);
    lc_fe51_sq_n(&t, &t, 2); /* 2^252 - 4 */
    fe51_mul(r, &t, a);
}

/* Reads the low 255 bits; the top bit (a sign in point encodings) is the caller's business. */
void lc_fe51_frombytes(fe51 *r, const uint8_t s[32]) {
    r->v[0] = lc_load64_le(s) & FE51_MASK;
    r->v[1] = (lc_load64_le(s + 6) >> 3) & FE51_MASK;
    r->v[2] = (lc_load64_le(s + 12) >> 6) & FE51_MASK;
    r->v[3] = (lc_load64_le(s + 19) >> 1) & FE51_MASK;
    r->v[4] = (lc_load64_le(s + 24) >> 12) & FE51_MASK;
}

/* Whether the low 255 bits of s are below p, i.e. s encodes its value the one allowed way.
 * Values p .. 2^255 - 1 are the only non-canonical ones: all bytes 0xff except the first
 * (>= 0xed) and the last (0x7f, ignoring the sign bit). */
int lc_fe51_is_canonical(const uint8_t s[32]) {
    if ((s[31] & 0x7f) != 0x7f) return 1;
    for (int i = 30; i >= 1; i--) {
        if (s[i] != 0xff) return 1;
    }
    return s[0] < 0xed;
}

/* Fully reduces a and writes its unique 32-byte little-endian encoding. */
void lc_fe51_tobytes(uint8_t s[32], const fe51 *a) {
    uint64_t t[5];
    memcpy(t, a->v, sizeof t);
    /* Two carry passes bring every limb below 2^51 and the value below 2^255 + small. */
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < 4; i++) {
            t[i + 1] += t[i] >> 51;
            t[i] &= FE51_MASK;
        }
        t[0] += 19 * (t[4] >> 51);
        t[4] &= FE51_MASK;
    }
    /* Now value < 2^255 + 2^14 or so; subtract p once if value >= p: add 19 and see whether
     * it carries out of bit 255. */
    uint64_t q = (t[0] + 19) >> 51;
    q = (t[1] + q) >> 51;
    q = (t[2] + q) >> 51;
    q = (t[3] + q) >> 51;
    q = (t[4] + q) >> 51;
    t[0] += 19 * q;
    for (int i = 0; i < 4; i++) {
        t[i + 1] += t[i] >> 51;
        t[i] &= FE51_MASK;
    }
    t[4] &= FE51_MASK;
    lc_store64_le(s, t[0] | (t[1] << 51));
    lc_store64_le(s + 8, (t[1] >> 13) | (t[2] << 38));
    lc_store64_le(s + 16, (t[2] >> 26) | (t[3] << 25));
    lc_store64_le(s + 24, (t[3] >> 39) | (t[4] << 12));
}

int lc_fe51_is_zero(const fe51 *a) {
    uint8_t s[32];
    lc_fe51_tobytes(s, a);
    uint8_t acc = 0;
    for (int i = 0; i < 32; i++) acc |= s[i];
    return acc == 0;
}

int lc_fe51_equal(const fe51 *a, const fe51 *b) {
    fe51 d;
    fe51_sub(&d, a, b);
    return lc_fe51_is_zero(&d);
}

/* The "sign" of RFC 8032: the low bit of the canonical encoding. */
int lc_fe51_is_negative(const fe51 *a) {
    uint8_t s[32];
    lc_fe51_tobytes(s, a);
    return s[0] & 1;
}

/* Montgomery's trick: count inversions for the price of one and 3(count - 1) multiplications.
 * Every input must be nonzero; scratch holds count elements. out may alias in. */
void lc_fe51_batch_invert(fe51 *out, const fe51 *in, size_t count, fe51 *scratch) {
    if (count == 0) return;
    scratch[0] = in[0];
    for (size_t i = 1; i < count; i++) fe51_mul(&scratch[i], &scratch[i - 1], &in[i]);
    fe51 inv;
    lc_fe51_invert(&inv, &scratch[count - 1]);
    for (size_t i = count - 1; i > 0; i--) {
        fe51 in_i = in[i];
        fe51_mul(&out[i], &inv, &scratch[i - 1]);
        fe51_mul(&inv, &inv, &in_i);
    }
    out[0] = inv;
}
