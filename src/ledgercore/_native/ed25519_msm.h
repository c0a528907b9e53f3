/* Multi-scalar multiplication for batch verification (msm.c). */
#ifndef LC_ED25519_MSM_H
#define LC_ED25519_MSM_H

#include "ge25519.h"

/* out = [base_scalar] B + sum over i < count of [scalars[i]] P_i, where P_i is given twice, as
 * affine[i] and niels[i]. Every scalar is below 2^253. The algorithm is chosen by count: Straus
 * with width-5 wNAF for small counts, Pippenger's bucket method with a window fitted to count
 * otherwise. Returns LC_OK or LC_ERROR_MEMORY. */
int lc_ed25519_msm(ge25519_p3 *out, const ge25519_affine *affine, const ge25519_niels *niels,
                   const uint64_t (*scalars)[4], size_t count, const uint64_t base_scalar[4]);

/* The algorithm lc_ed25519_msm uses for count points: 0 for Straus, else Pippenger's window. */
int lc_ed25519_msm_window(size_t count);

/* Pippenger's method in steps that several threads can share: the points' digits are recoded in
 * ranges, each window's buckets are summed on its own (by whichever thread takes it, with its own
 * bucket memory), and lc_msm_plan_finish combines the window sums. Every range must be recoded
 * before any window is summed; the caller orders the steps (lc_ed25519_msm runs them all on one
 * thread). */
typedef struct {
    const ge25519_affine *affine;
    const ge25519_niels *niels;
    ge25519_affine base_affine;
    ge25519_niels base_niels;
    size_t count; /* points, the base point B being number count */
    int window;   /* bits per window */
    int windows;
    int16_t *digits; /* windows rows of count + 1 signed digits */
    ge25519_p3 *window_sums;
    uint8_t *window_filled; /* whether window w's sum holds a point */
} lc_msm_plan;

/* Sets up plan for [base_scalar] B + sum over i < count of [s_i] P_i with Pippenger windows of
 * `window` bits (lc_ed25519_msm_window, at least 4). The plan keeps the point arrays, which must
 * outlive it. Returns LC_OK or LC_ERROR_MEMORY (then nothing is left to free). */
int lc_msm_plan_init(lc_msm_plan *plan, const ge25519_affine *affine, const ge25519_niels *niels,
                     size_t count, const uint64_t base_scalar[4], int window);
/* Recodes points start..end-1, reading scalars[i] for point i. */
void lc_msm_plan_recode(lc_msm_plan *plan, const uint64_t (*scalars)[4], size_t start, size_t end);
/* The number of buckets (entries of `buckets` and `filled`) lc_msm_plan_window needs. */
size_t lc_msm_bucket_count(const lc_msm_plan *plan);
/* Sums window w (0 <= w < plan->windows) into plan->window_sums[w]. */
void lc_msm_plan_window(lc_msm_plan *plan, int w, ge25519_p3 *buckets, uint8_t *filled);
/* out = the whole sum, once every window is summed. */
void lc_msm_plan_finish(const lc_msm_plan *plan, ge25519_p3 *out);
void lc_msm_plan_free(lc_msm_plan *plan);

#endif
