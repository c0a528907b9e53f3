/* Multi-scalar multiplication: sum of [s_i] P_i plus [b] B, for batch verification.
 *
 * Two algorithms, chosen by the number of points (lc_ed25519_msm_window):
 *   - Straus (interleaved wNAF): one run of ~253 doublings shared by every point, each point
 *     adding from its own table of odd multiples. The cost per point is fixed (its table and one
 *     addition every ~6 bits), so it wins for small counts, where the shared doublings dominate.
 *   - Pippenger (the bucket method): per window of c bits, every point is added into the bucket of
 *     its digit with one mixed addition, then the buckets are summed with 2 additions each. The
 *     cost per point falls as c grows with the count, so it wins for large batches.
 * Scalars below 2^253 only: every scalar here is reduced modulo L or has 128 bits.
 */
#include <stdlib.h>

#include "ed25519_msm.h"
#include "lc_limits.h"

#define STRAUS_WIDTH 5
#define STRAUS_TABLE_SIZE 8 /* odd multiples 1P .. 15P */
/* Below this many points Straus costs less than Pippenger: Straus spends about 360 field
 * multiplications per point (a table of 8 odd multiples, then an addition every ~6 bits, averaged
 * over an R and an A), and the cost model below falls under that from about 200 points. */
#define STRAUS_COUNT_MAX 192
#define PIPPENGER_WINDOW_MIN 4
#define PIPPENGER_WINDOW_MAX 16
/* Windows span 255 bits: with signed digits, a scalar below 2^253 leaves no final carry. */
#define SCALAR_SPAN_BITS 255

LC_STATIC_ASSERT(SCALAR_SPAN_BITS >= 254);

/* Cost of Pippenger in field multiplications, to pick the window: a mixed addition (7M) per
 * nonzero digit, and two additions (18M) per bucket per window. Half the points of a batch (the
 * R_i) have 128-bit coefficients, so a point has on average 192 bits of scalar. */
static double pippenger_cost(size_t count, int window) {
    const int windows = (SCALAR_SPAN_BITS + window - 1) / window;
    const double digits = (double)count * 192.0 / window;
    return 7.0 * digits + 18.0 * (double)(1u << (window - 1)) * windows;
}

int lc_ed25519_msm_window(size_t count) {
    if (count < STRAUS_COUNT_MAX) return 0;
    int best = PIPPENGER_WINDOW_MIN;
    for (int c = PIPPENGER_WINDOW_MIN + 1; c <= PIPPENGER_WINDOW_MAX; c++) {
        if (pippenger_cost(count, c) < pippenger_cost(count, best)) best = c;
    }
    return best;
}

static void base_point_forms(ge25519_affine *affine, ge25519_niels *niels) {
    ge25519_p3 base;
    lc_ge25519_base(&base);
    affine->x = base.X;
    affine->y = base.Y;
    affine->xy = base.T;
    ge25519_affine_to_niels(niels, affine);
}

/* ---- Straus ---- */

static void straus_add_digit(ge25519_p1p1 *t, const ge25519_cached *table, int digit) {
    ge25519_p3 q;
    ge25519_p1p1_to_p3(&q, t);
    if (digit > 0) {
        ge25519_add(t, &q, &table[digit >> 1]);
    } else {
        ge25519_sub(t, &q, &table[(-digit) >> 1]);
    }
}

static void straus_add_base_digit(ge25519_p1p1 *t, const ge25519_niels *table, int digit) {
    ge25519_p3 q;
    ge25519_p1p1_to_p3(&q, t);
    if (digit > 0) {
        ge25519_madd(t, &q, &table[digit >> 1]);
    } else {
        ge25519_msub(t, &q, &table[(-digit) >> 1]);
    }
}

/* The shared doubling chain: nafs holds count + 1 rows of 256 digits, the last for B. */
static void straus_loop(ge25519_p3 *out, const ge25519_cached *tables, const int8_t *nafs,
                        size_t count, int top) {
    const ge25519_niels *base_table = lc_ge25519_base_table(0);
    const int8_t *base_naf = nafs + 256 * count;
    ge25519_p2 q = {{{0}}, {{1}}, {{1}}};
    ge25519_p1p1 t = {{{0}}, {{1}}, {{1}}, {{1}}}; /* the identity, as (0 : 1 : 1 : 0) */
    for (int pos = top; pos >= 0; pos--) {
        ge25519_p2_dbl(&t, &q);
        for (size_t i = 0; i < count; i++) {
            const int digit = nafs[256 * i + pos];
            if (digit) straus_add_digit(&t, tables + STRAUS_TABLE_SIZE * i, digit);
        }
        if (base_naf[pos]) straus_add_base_digit(&t, base_table, base_naf[pos]);
        ge25519_p1p1_to_p2(&q, &t);
    }
    ge25519_p1p1_to_p3(out, &t);
}

static int straus(ge25519_p3 *out, const ge25519_affine *affine, const uint64_t (*scalars)[4],
                  size_t count, const uint64_t base_scalar[4]) {
    ge25519_cached *tables = malloc((count ? count : 1) * STRAUS_TABLE_SIZE * sizeof *tables);
    int8_t *nafs = malloc((count + 1) * 256);
    if (tables == NULL || nafs == NULL) {
        free(tables);
        free(nafs);
        return LC_ERROR_MEMORY;
    }
    for (size_t i = 0; i < count; i++) {
        ge25519_p3 p;
        ge25519_affine_to_p3(&p, &affine[i]);
        lc_ge25519_odd_multiples(tables + STRAUS_TABLE_SIZE * i, &p, STRAUS_TABLE_SIZE);
        lc_ge25519_wnaf(nafs + 256 * i, scalars[i], STRAUS_WIDTH);
    }
    lc_ge25519_wnaf(nafs + 256 * count, base_scalar, GE25519_BASE_WNAF_WIDTH);
    int top = 255;
    while (top >= 0) {
        int any = 0;
        for (size_t i = 0; i <= count && !any; i++) any = nafs[256 * i + top] != 0;
        if (any) break;
        top--;
    }
    straus_loop(out, tables, nafs, count, top);
    free(tables);
    free(nafs);
    return LC_OK;
}

/* ---- Pippenger ---- */

static inline uint32_t window_bits(const uint64_t s[4], int pos, int width) {
    const int limb = pos >> 6, shift = pos & 63;
    if (limb >= 4) return 0;
    uint64_t w = s[limb] >> shift;
    if (shift + width > 64 && limb + 1 < 4) w |= s[limb + 1] << (64 - shift);
    return (uint32_t)(w & ((1u << width) - 1));
}

/* Signed radix-2^c digits in [-2^(c-1), 2^(c-1)), one per window, written with a stride. */
static void recode_signed(int16_t *digits, size_t stride, const uint64_t s[4], int c, int windows) {
    uint32_t carry = 0;
    for (int w = 0; w < windows; w++) {
        const uint32_t v = window_bits(s, w * c, c) + carry;
        carry = v >= (1u << (c - 1));
        digits[(size_t)w * stride] = (int16_t)((int32_t)v - (int32_t)(carry << c));
    }
    LC_ASSERT(carry == 0);
}

size_t lc_msm_bucket_count(const lc_msm_plan *plan) {
    return (size_t)1 << (plan->window - 1);
}

/* Adds every point into the bucket of its digit in window w; filled says which buckets hold a
 * point (the others are left as they were). */
static void bucket_accumulate(const lc_msm_plan *plan, int w, ge25519_p3 *buckets,
                              uint8_t *filled) {
    const size_t n = plan->count + 1;
    const int16_t *row = plan->digits + (size_t)w * n;
    memset(filled, 0, lc_msm_bucket_count(plan));
    for (size_t i = 0; i < n; i++) {
        const int digit = row[i];
        if (digit == 0) continue;
        const size_t b = (size_t)(digit > 0 ? digit : -digit) - 1;
        ge25519_p3 *bucket = &buckets[b];
        if (!filled[b]) {
            ge25519_affine_to_p3(bucket, i < plan->count ? &plan->affine[i] : &plan->base_affine);
            if (digit < 0) {
                fe51_neg(&bucket->X, &bucket->X);
                fe51_neg(&bucket->T, &bucket->T);
            }
            filled[b] = 1;
            continue;
        }
        const ge25519_niels *p = i < plan->count ? &plan->niels[i] : &plan->base_niels;
        ge25519_p1p1 t;
        if (digit > 0) {
            ge25519_madd(&t, bucket, p);
        } else {
            ge25519_msub(&t, bucket, p);
        }
        ge25519_p1p1_to_p3(bucket, &t);
    }
}

/* sum over b of (b + 1) buckets[b], as the sum of the running sums from the top bucket down.
 * Returns 0 when every bucket is empty. */
static int bucket_sum(const lc_msm_plan *plan, const ge25519_p3 *buckets, const uint8_t *filled,
                      ge25519_p3 *total) {
    ge25519_p3 running;
    ge25519_cached cached;
    ge25519_p1p1 t;
    int have_running = 0, have_total = 0;
    for (size_t b = lc_msm_bucket_count(plan); b-- > 0;) {
        if (filled[b]) {
            if (have_running) {
                ge25519_p3_to_cached(&cached, &buckets[b]);
                ge25519_add(&t, &running, &cached);
                ge25519_p1p1_to_p3(&running, &t);
            } else {
                running = buckets[b];
                have_running = 1;
            }
        }
        if (!have_running) continue;
        if (have_total) {
            ge25519_p3_to_cached(&cached, &running);
            ge25519_add(&t, total, &cached);
            ge25519_p1p1_to_p3(total, &t);
        } else {
            *total = running;
            have_total = 1;
        }
    }
    return have_total;
}

int lc_msm_plan_init(lc_msm_plan *plan, const ge25519_affine *affine, const ge25519_niels *niels,
                     size_t count, const uint64_t base_scalar[4], int window) {
    LC_ASSERT(count <= LC_BATCH_SIZE_MAX * 2u);
    LC_ASSERT(window >= PIPPENGER_WINDOW_MIN && window <= PIPPENGER_WINDOW_MAX);
    memset(plan, 0, sizeof *plan);
    plan->affine = affine;
    plan->niels = niels;
    plan->count = count;
    plan->window = window;
    plan->windows = (SCALAR_SPAN_BITS + window - 1) / window;
    base_point_forms(&plan->base_affine, &plan->base_niels);
    const size_t n = count + 1;
    plan->digits = malloc((size_t)plan->windows * n * sizeof *plan->digits);
    plan->window_sums = malloc((size_t)plan->windows * sizeof *plan->window_sums);
    plan->window_filled = malloc((size_t)plan->windows);
    if (plan->digits == NULL || plan->window_sums == NULL || plan->window_filled == NULL) {
        lc_msm_plan_free(plan);
        return LC_ERROR_MEMORY;
    }
    recode_signed(plan->digits + count, n, base_scalar, window, plan->windows);
    return LC_OK;
}

void lc_msm_plan_free(lc_msm_plan *plan) {
    free(plan->digits);
    free(plan->window_sums);
    free(plan->window_filled);
    plan->digits = NULL;
    plan->window_sums = NULL;
    plan->window_filled = NULL;
}

void lc_msm_plan_recode(lc_msm_plan *plan, const uint64_t (*scalars)[4], size_t start, size_t end) {
    LC_ASSERT(start <= end && end <= plan->count);
    for (size_t i = start; i < end; i++) {
        recode_signed(plan->digits + i, plan->count + 1, scalars[i], plan->window,
                      plan->windows);
    }
}

void lc_msm_plan_window(lc_msm_plan *plan, int w, ge25519_p3 *buckets, uint8_t *filled) {
    LC_ASSERT(w >= 0 && w < plan->windows);
    bucket_accumulate(plan, w, buckets, filled);
    plan->window_filled[w] = (uint8_t)bucket_sum(plan, buckets, filled, &plan->window_sums[w]);
}

void lc_msm_plan_finish(const lc_msm_plan *plan, ge25519_p3 *out) {
    ge25519_identity(out);
    for (int w = plan->windows - 1; w >= 0; w--) {
        if (w != plan->windows - 1) {
            ge25519_p1p1 t;
            ge25519_p2 q = {out->X, out->Y, out->Z};
            ge25519_p2_dbl(&t, &q);
            for (int i = 1; i < plan->window; i++) {
                ge25519_p1p1_to_p2(&q, &t);
                ge25519_p2_dbl(&t, &q);
            }
            ge25519_p1p1_to_p3(out, &t);
        }
        if (!plan->window_filled[w]) continue;
        ge25519_cached cached;
        ge25519_p1p1 t;
        ge25519_p3_to_cached(&cached, &plan->window_sums[w]);
        ge25519_add(&t, out, &cached);
        ge25519_p1p1_to_p3(out, &t);
    }
}

static int pippenger(ge25519_p3 *out, const ge25519_affine *affine, const ge25519_niels *niels,
                     const uint64_t (*scalars)[4], size_t count, const uint64_t base_scalar[4],
                     int window) {
    lc_msm_plan plan;
    int status = lc_msm_plan_init(&plan, affine, niels, count, base_scalar, window);
    if (status != LC_OK) return status;
    const size_t bucket_count = lc_msm_bucket_count(&plan);
    ge25519_p3 *buckets = malloc(bucket_count * sizeof *buckets);
    uint8_t *filled = malloc(bucket_count);
    if (buckets != NULL && filled != NULL) {
        lc_msm_plan_recode(&plan, scalars, 0, count);
        for (int w = 0; w < plan.windows; w++) lc_msm_plan_window(&plan, w, buckets, filled);
        lc_msm_plan_finish(&plan, out);
    } else {
        status = LC_ERROR_MEMORY;
    }
    free(buckets);
    free(filled);
    lc_msm_plan_free(&plan);
    return status;
}

int lc_ed25519_msm(ge25519_p3 *out, const ge25519_affine *affine, const ge25519_niels *niels,
                   const uint64_t (*scalars)[4], size_t count, const uint64_t base_scalar[4]) {
    LC_ASSERT(out != NULL);
    LC_ASSERT(count <= LC_BATCH_SIZE_MAX * 2u);
    const int window = lc_ed25519_msm_window(count);
    if (window == 0) return straus(out, affine, scalars, count, base_scalar);
    return pippenger(out, affine, niels, scalars, count, base_scalar, window);
}
