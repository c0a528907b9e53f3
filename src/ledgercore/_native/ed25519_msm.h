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

#endif
