/* The edwards25519 group: -x^2 + y^2 = 1 + d x^2 y^2 over GF(2^255 - 19), and scalars modulo
 * its prime order L = 2^252 + 27742317777372353535851937790883648493.
 *
 * Points use the extended coordinates of Hisil, Wong, Carter and Dawson, "Twisted Edwards curves
 * revisited" (2008): (X : Y : Z : T) with x = X/Z, y = Y/Z, xy = T/Z. The formulas are their
 * a = -1 ones: a unified addition costs 8M, a doubling 4S + 4M, an addition of a point kept in
 * affine "Niels" form (y + x, y - x, 2dxy) 7M. The inline formulas live here so that the
 * multi-scalar code in msm.c and ed25519_verify.c inlines them.
 */
#ifndef LC_GE25519_H
#define LC_GE25519_H

#include <stddef.h>
#include <stdint.h>

#include "fe51.h"

typedef struct {
    fe51 X, Y, Z, T;
} ge25519_p3;

/* The "completed" result of an addition or doubling, before its last four multiplications:
 * (E, F, G, H) stands for the extended point (EF : GH : FG : EH). */
typedef struct {
    fe51 E, F, G, H;
} ge25519_p1p1;

/* Projective (X : Y : Z), enough as the input of a doubling. */
typedef struct {
    fe51 X, Y, Z;
} ge25519_p2;

/* A point ready to be added: (Y + X, Y - X, Z, 2dT). */
typedef struct {
    fe51 YplusX, YminusX, Z, T2d;
} ge25519_cached;

/* An affine point ready to be added: (y + x, y - x, 2dxy), Z = 1. */
typedef struct {
    fe51 YplusX, YminusX, T2d;
} ge25519_niels;

/* An affine point with its product: (x, y, xy). Decoded points are kept this way, which gives
 * both an extended point (x, y, 1, xy) and a Niels form cheaply. */
typedef struct {
    fe51 x, y, xy;
} ge25519_affine;

extern const fe51 lc_ge25519_d2; /* 2d */

static inline void ge25519_identity(ge25519_p3 *r) {
    fe51_zero(&r->X);
    fe51_one(&r->Y);
    fe51_one(&r->Z);
    fe51_zero(&r->T);
}

static inline void ge25519_p1p1_to_p3(ge25519_p3 *r, const ge25519_p1p1 *p) {
    fe51_mul(&r->X, &p->E, &p->F);
    fe51_mul(&r->Y, &p->G, &p->H);
    fe51_mul(&r->Z, &p->F, &p->G);
    fe51_mul(&r->T, &p->E, &p->H);
}

static inline void ge25519_p1p1_to_p2(ge25519_p2 *r, const ge25519_p1p1 *p) {
    fe51_mul(&r->X, &p->E, &p->F);
    fe51_mul(&r->Y, &p->G, &p->H);
    fe51_mul(&r->Z, &p->F, &p->G);
}

static inline void ge25519_p3_to_cached(ge25519_cached *r, const ge25519_p3 *p) {
    fe51_add(&r->YplusX, &p->Y, &p->X);
    fe51_sub(&r->YminusX, &p->Y, &p->X);
    r->Z = p->Z;
    fe51_mul(&r->T2d, &p->T, &lc_ge25519_d2);
}

/* dbl-2008-hwcd with a = -1 and every output negated, which leaves the point unchanged:
 * E = A + B - (X + Y)^2, G = A - B, F = 2Z^2 + G, H = A + B. */
static inline void ge25519_p2_dbl(ge25519_p1p1 *r, const ge25519_p2 *p) {
    fe51 a, b, c, xy;
    fe51_sq(&a, &p->X);
    fe51_sq(&b, &p->Y);
    fe51_sq(&c, &p->Z);
    fe51_add(&c, &c, &c);
    fe51_add(&xy, &p->X, &p->Y);
    fe51_sq(&xy, &xy);
    fe51_add(&r->H, &a, &b);
    fe51_sub(&r->E, &r->H, &xy);
    fe51_sub(&r->G, &a, &b);
    fe51_add(&r->F, &c, &r->G);
}

static inline void ge25519_p3_dbl(ge25519_p1p1 *r, const ge25519_p3 *p) {
    ge25519_p2 q = {p->X, p->Y, p->Z};
    ge25519_p2_dbl(r, &q);
}

/* add-2008-hwcd-3: A = (Y1 - X1)(Y2 - X2), B = (Y1 + X1)(Y2 + X2), C = T1 2d T2, D = 2 Z1 Z2,
 * E = B - A, F = D - C, G = D + C, H = B + A. */
static inline void ge25519_add(ge25519_p1p1 *r, const ge25519_p3 *p, const ge25519_cached *q) {
    fe51 a, b, c, d, t;
    fe51_sub(&t, &p->Y, &p->X);
    fe51_mul(&a, &t, &q->YminusX);
    fe51_add(&t, &p->Y, &p->X);
    fe51_mul(&b, &t, &q->YplusX);
    fe51_mul(&c, &p->T, &q->T2d);
    fe51_mul(&d, &p->Z, &q->Z);
    fe51_add(&d, &d, &d);
    fe51_sub(&r->E, &b, &a);
    fe51_sub(&r->F, &d, &c);
    fe51_add(&r->G, &d, &c);
    fe51_add(&r->H, &b, &a);
}

/* p - q: q's negation swaps Y + X with Y - X and negates 2dT. */
static inline void ge25519_sub(ge25519_p1p1 *r, const ge25519_p3 *p, const ge25519_cached *q) {
    fe51 a, b, c, d, t;
    fe51_sub(&t, &p->Y, &p->X);
    fe51_mul(&a, &t, &q->YplusX);
    fe51_add(&t, &p->Y, &p->X);
    fe51_mul(&b, &t, &q->YminusX);
    fe51_mul(&c, &p->T, &q->T2d);
    fe51_mul(&d, &p->Z, &q->Z);
    fe51_add(&d, &d, &d);
    fe51_sub(&r->E, &b, &a);
    fe51_add(&r->F, &d, &c);
    fe51_sub(&r->G, &d, &c);
    fe51_add(&r->H, &b, &a);
}

/* Mixed addition: q is affine, so D = 2 Z1 needs no multiplication. */
static inline void ge25519_madd(ge25519_p1p1 *r, const ge25519_p3 *p, const ge25519_niels *q) {
    fe51 a, b, c, d, t;
    fe51_sub(&t, &p->Y, &p->X);
    fe51_mul(&a, &t, &q->YminusX);
    fe51_add(&t, &p->Y, &p->X);
    fe51_mul(&b, &t, &q->YplusX);
    fe51_mul(&c, &p->T, &q->T2d);
    fe51_add(&d, &p->Z, &p->Z);
    fe51_sub(&r->E, &b, &a);
    fe51_sub(&r->F, &d, &c);
    fe51_add(&r->G, &d, &c);
    fe51_add(&r->H, &b, &a);
}

static inline void ge25519_msub(ge25519_p1p1 *r, const ge25519_p3 *p, const ge25519_niels *q) {
    fe51 a, b, c, d, t;
    fe51_sub(&t, &p->Y, &p->X);
    fe51_mul(&a, &t, &q->YplusX);
    fe51_add(&t, &p->Y, &p->X);
    fe51_mul(&b, &t, &q->YminusX);
    fe51_mul(&c, &p->T, &q->T2d);
    fe51_add(&d, &p->Z, &p->Z);
    fe51_sub(&r->E, &b, &a);
    fe51_add(&r->F, &d, &c);
    fe51_sub(&r->G, &d, &c);
    fe51_add(&r->H, &b, &a);
}

/* The affine Niels form of a point whose Z is 1 (a freshly decoded one). */
static inline void ge25519_p3_affine_to_niels(ge25519_niels *r, const ge25519_p3 *p) {
    fe51_add(&r->YplusX, &p->Y, &p->X);
    fe51_sub(&r->YminusX, &p->Y, &p->X);
    fe51_mul(&r->T2d, &p->T, &lc_ge25519_d2);
}

static inline void ge25519_affine_to_p3(ge25519_p3 *r, const ge25519_affine *a) {
    r->X = a->x;
    r->Y = a->y;
    fe51_one(&r->Z);
    r->T = a->xy;
}

static inline void ge25519_affine_to_niels(ge25519_niels *r, const ge25519_affine *a) {
    fe51_add(&r->YplusX, &a->y, &a->x);
    fe51_sub(&r->YminusX, &a->y, &a->x);
    fe51_mul(&r->T2d, &a->xy, &lc_ge25519_d2);
}

/* Points (ge25519.c). */
int lc_ge25519_frombytes(ge25519_p3 *r, const uint8_t s[32]);
/* The same point given its x-coordinate (canonical bytes), checked; -1 if x is not its. */
int lc_ge25519_frombytes_with_x(ge25519_p3 *r, const uint8_t s[32], const uint8_t x_bytes[32]);
void lc_ge25519_tobytes(uint8_t s[32], const ge25519_p3 *p);
int lc_ge25519_times8_is_identity(const ge25519_p3 *p);
int lc_ge25519_has_small_order(const ge25519_p3 *p);
void lc_ge25519_to_niels_batch(ge25519_niels *out, const ge25519_p3 *in, size_t count,
                               fe51 *scratch);
void lc_ge25519_odd_multiples(ge25519_cached table[], const ge25519_p3 *p, int count);
void lc_ge25519_base(ge25519_p3 *r);
const ge25519_niels *lc_ge25519_base_table(int half);
void lc_ge25519_wnaf(int8_t naf[256], const uint64_t s[4], int width);

/* The odd multiples B, 3B, ..., 127B of the base point B (half 0) and of 2^128 B (half 1),
 * for width-8 wNAF. Built once, on first use. */
#define GE25519_BASE_WNAF_WIDTH 8
#define GE25519_BASE_TABLE_SIZE 64

/* Scalars modulo L as four little-endian 64-bit limbs (ge25519.c). */
int lc_sc25519_is_canonical(const uint8_t s[32]);
void lc_sc25519_frombytes(uint64_t r[4], const uint8_t s[32]);
void lc_sc25519_reduce512(uint64_t r[4], const uint64_t x[8]);
void lc_sc25519_from64bytes(uint64_t r[4], const uint8_t s[64]);
void lc_sc25519_mul(uint64_t r[4], const uint64_t a[4], const uint64_t b[4]);
void lc_sc25519_mul_wide(uint64_t r[8], const uint64_t a[4], const uint64_t b[4]);
void lc_sc25519_add_wide(uint64_t acc[8], const uint64_t x[8]);
void lc_sc25519_neg(uint64_t r[4], const uint64_t a[4]);
int lc_sc25519_halfgcd(uint64_t c0[2], uint64_t c1[2], int *c1_negative, const uint64_t k[4]);

#endif
