/* Arithmetic in GF(2^255 - 19), radix 2^51: five 64-bit limbs, products in unsigned __int128.
 *
 * Everything here handles public data only (signature verification), so nothing needs to run in
 * constant time; still, nothing branches on limb values except the explicit comparisons.
 *
 * The hot operations are static inline here so that the point formulas in ge25519.h inline them
 * (the build has no link-time optimisation). Limb bounds, which every caller must respect:
 *   - fe51_mul/fe51_sq take limbs below 2^54 and return limbs below 2^51 + 2^13 ("reduced");
 *   - fe51_add returns the limb-wise sum, uncarried;
 *   - fe51_sub(a, b) computes a + 4p - b, so it needs b's limbs below 2^53 - 76 and returns limbs
 *     below a's bound + 2^53.
 * The point formulas only ever add or subtract two reduced values, or a reduced value and such a
 * sum, so every multiplication input stays below 2^54.
 */
#ifndef LC_FE51_H
#define LC_FE51_H

#include <stdint.h>
#include <string.h>

#include "common.h"

typedef unsigned __int128 fe51_u128;

typedef struct {
    uint64_t v[5];
} fe51;

#define FE51_MASK ((uint64_t)0x7ffffffffffff)

static inline void fe51_zero(fe51 *r) {
    memset(r, 0, sizeof *r);
}

static inline void fe51_one(fe51 *r) {
    memset(r, 0, sizeof *r);
    r->v[0] = 1;
}

static inline void fe51_add(fe51 *r, const fe51 *a, const fe51 *b) {
    for (int i = 0; i < 5; i++) r->v[i] = a->v[i] + b->v[i];
}

/* a - b + 4p, limb by limb: 4p's limbs are 2^53 - 76 and 2^53 - 4, so no limb goes negative. */
static inline void fe51_sub(fe51 *r, const fe51 *a, const fe51 *b) {
    r->v[0] = a->v[0] + 0x1fffffffffffb4 - b->v[0];
    r->v[1] = a->v[1] + 0x1ffffffffffffc - b->v[1];
    r->v[2] = a->v[2] + 0x1ffffffffffffc - b->v[2];
    r->v[3] = a->v[3] + 0x1ffffffffffffc - b->v[3];
    r->v[4] = a->v[4] + 0x1ffffffffffffc - b->v[4];
}

static inline void fe51_neg(fe51 *r, const fe51 *a) {
    fe51 zero;
    fe51_zero(&zero);
    fe51_sub(r, &zero, a);
}

/* Carry the five 128-bit column sums into reduced limbs. The column bounds (below 2^115 for
 * inputs below 2^54) keep every carry below 2^64 and 19 * the top carry below 2^64. */
static inline void fe51_carry_columns(fe51 *r, fe51_u128 t0, fe51_u128 t1, fe51_u128 t2,
                                      fe51_u128 t3, fe51_u128 t4) {
    t1 += (uint64_t)(t0 >> 51);
    t2 += (uint64_t)(t1 >> 51);
    t3 += (uint64_t)(t2 >> 51);
    t4 += (uint64_t)(t3 >> 51);
    uint64_t r0 = ((uint64_t)t0 & FE51_MASK) + 19 * (uint64_t)(t4 >> 51);
    uint64_t r1 = ((uint64_t)t1 & FE51_MASK) + (r0 >> 51);
    r->v[0] = r0 & FE51_MASK;
    r->v[1] = r1;
    r->v[2] = (uint64_t)t2 & FE51_MASK;
    r->v[3] = (uint64_t)t3 & FE51_MASK;
    r->v[4] = (uint64_t)t4 & FE51_MASK;
}

static inline void fe51_mul(fe51 *r, const fe51 *a, const fe51 *b) {
    const uint64_t a0 = a->v[0], a1 = a->v[1], a2 = a->v[2], a3 = a->v[3], a4 = a->v[4];
    const uint64_t b0 = b->v[0], b1 = b->v[1], b2 = b->v[2], b3 = b->v[3], b4 = b->v[4];
    const uint64_t b1_19 = 19 * b1, b2_19 = 19 * b2, b3_19 = 19 * b3, b4_19 = 19 * b4;
    fe51_u128 t0 = (fe51_u128)a0 * b0 + (fe51_u128)a1 * b4_19 + (fe51_u128)a2 * b3_19 +
                   (fe51_u128)a3 * b2_19 + (fe51_u128)a4 * b1_19;
    fe51_u128 t1 = (fe51_u128)a0 * b1 + (fe51_u128)a1 * b0 + (fe51_u128)a2 * b4_19 +
                   (fe51_u128)a3 * b3_19 + (fe51_u128)a4 * b2_19;
    fe51_u128 t2 = (fe51_u128)a0 * b2 + (fe51_u128)a1 * b1 + (fe51_u128)a2 * b0 +
                   (fe51_u128)a3 * b4_19 + (fe51_u128)a4 * b3_19;
    fe51_u128 t3 = (fe51_u128)a0 * b3 + (fe51_u128)a1 * b2 + (fe51_u128)a2 * b1 +
                   (fe51_u128)a3 * b0 + (fe51_u128)a4 * b4_19;
    fe51_u128 t4 = (fe51_u128)a0 * b4 + (fe51_u128)a1 * b3 + (fe51_u128)a2 * b2 +
                   (fe51_u128)a3 * b1 + (fe51_u128)a4 * b0;
    fe51_carry_columns(r, t0, t1, t2, t3, t4);
}

static inline void fe51_sq(fe51 *r, const fe51 *a) {
    const uint64_t a0 = a->v[0], a1 = a->v[1], a2 = a->v[2], a3 = a->v[3], a4 = a->v[4];
    const uint64_t a0_2 = 2 * a0, a1_2 = 2 * a1, a3_19 = 19 * a3, a4_19 = 19 * a4;
    fe51_u128 t0 = (fe51_u128)a0 * a0 + (fe51_u128)a1_2 * a4_19 + (fe51_u128)(2 * a2) * a3_19;
    fe51_u128 t1 = (fe51_u128)a0_2 * a1 + (fe51_u128)(2 * a2) * a4_19 + (fe51_u128)a3 * a3_19;
    fe51_u128 t2 = (fe51_u128)a0_2 * a2 + (fe51_u128)a1 * a1 + (fe51_u128)(2 * a3) * a4_19;
    fe51_u128 t3 = (fe51_u128)a0_2 * a3 + (fe51_u128)a1_2 * a2 + (fe51_u128)a4 * a4_19;
    fe51_u128 t4 = (fe51_u128)a0_2 * a4 + (fe51_u128)a1_2 * a3 + (fe51_u128)a2 * a2;
    fe51_carry_columns(r, t0, t1, t2, t3, t4);
}

/* Multiplication by a small constant (below 2^13), used for doubling a reduced value cheaply. */
static inline void fe51_mul_small(fe51 *r, const fe51 *a, uint64_t c) {
    fe51_carry_columns(r, (fe51_u128)a->v[0] * c, (fe51_u128)a->v[1] * c, (fe51_u128)a->v[2] * c,
                       (fe51_u128)a->v[3] * c, (fe51_u128)a->v[4] * c);
}

/* Implemented in fe51.c: the rarely called, longer operations. */
void lc_fe51_sq_n(fe51 *r, const fe51 *a, int n);
void lc_fe51_invert(fe51 *r, const fe51 *a);
void lc_fe51_pow22523(fe51 *r, const fe51 *a);
void lc_fe51_frombytes(fe51 *r, const uint8_t s[32]);
int lc_fe51_is_canonical(const uint8_t s[32]);
void lc_fe51_tobytes(uint8_t s[32], const fe51 *a);
int lc_fe51_is_zero(const fe51 *a);
int lc_fe51_equal(const fe51 *a, const fe51 *b);
int lc_fe51_is_negative(const fe51 *a);
void lc_fe51_batch_invert(fe51 *out, const fe51 *in, size_t count, fe51 *scratch);

#endif
