/* BLAKE3 lanes kernel for NEON: four inputs at once, one per 32-bit lane of a Q register.
 * NEON is part of every AArch64 CPU, so this file needs no flags of its own and the dispatcher
 * needs no run-time check; it is linked only into arm64 builds. AArch64 Linux and macOS are
 * little-endian, so a byte load is already the words the specification reads. */
#include <arm_neon.h>

#include "blake3_impl.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "blake3_neon.c loads message words as little-endian bytes"
#endif

#define LANE_COUNT 4
#define HASH_LANES_FN lc_b3_hash_lanes_neon

typedef uint32x4_t vec;

LC_ALWAYS_INLINE vec add(vec a, vec b) { return vaddq_u32(a, b); }
LC_ALWAYS_INLINE vec xor_(vec a, vec b) { return veorq_u32(a, b); }
LC_ALWAYS_INLINE vec set1(uint32_t w) { return vdupq_n_u32(w); }
LC_ALWAYS_INLINE vec load_u32(const uint32_t *w) { return vld1q_u32(w); }
LC_ALWAYS_INLINE vec load_bytes(const uint8_t *p) { return vreinterpretq_u32_u8(vld1q_u8(p)); }
LC_ALWAYS_INLINE void store_bytes(uint8_t *p, vec x) { vst1q_u8(p, vreinterpretq_u8_u32(x)); }

/* A rotation by 16 swaps the halves of each word. The others shift left, then insert the bits
 * shifted right (SRI), two instructions with no separate or. */
LC_ALWAYS_INLINE vec rot16(vec x) { return vreinterpretq_u32_u16(vrev32q_u16(vreinterpretq_u16_u32(x))); }
LC_ALWAYS_INLINE vec rot12(vec x) { return vsriq_n_u32(vshlq_n_u32(x, 20), x, 12); }
LC_ALWAYS_INLINE vec rot8(vec x) { return vsriq_n_u32(vshlq_n_u32(x, 24), x, 8); }
LC_ALWAYS_INLINE vec rot7(vec x) { return vsriq_n_u32(vshlq_n_u32(x, 25), x, 7); }

/* Transposes a 4x4 matrix of 32-bit words held as four row vectors, in place: TRN pairs the
 * words of two rows, then the 64-bit halves of those pairs are recombined. */
LC_ALWAYS_INLINE void transpose4(vec *r0, vec *r1, vec *r2, vec *r3) {
    uint32x4x2_t t01 = vtrnq_u32(*r0, *r1);
    uint32x4x2_t t23 = vtrnq_u32(*r2, *r3);
    *r0 = vcombine_u32(vget_low_u32(t01.val[0]), vget_low_u32(t23.val[0]));
    *r1 = vcombine_u32(vget_low_u32(t01.val[1]), vget_low_u32(t23.val[1]));
    *r2 = vcombine_u32(vget_high_u32(t01.val[0]), vget_high_u32(t23.val[0]));
    *r3 = vcombine_u32(vget_high_u32(t01.val[1]), vget_high_u32(t23.val[1]));
}

LC_ALWAYS_INLINE void load_message(const uint8_t *const blocks[4], vec m[16]) {
    for (int quarter = 0; quarter < 4; quarter++) {
        vec *q = m + 4 * quarter;
        for (int lane = 0; lane < 4; lane++) q[lane] = load_bytes(blocks[lane] + 16 * quarter);
        transpose4(&q[0], &q[1], &q[2], &q[3]);
    }
}

LC_ALWAYS_INLINE void store_cvs(vec cv[8], uint8_t *const outs[4]) {
    transpose4(&cv[0], &cv[1], &cv[2], &cv[3]);
    transpose4(&cv[4], &cv[5], &cv[6], &cv[7]);
    for (int lane = 0; lane < 4; lane++) {
        store_bytes(outs[lane], cv[lane]);
        store_bytes(outs[lane] + 16, cv[lane + 4]);
    }
}

#include "blake3_lanes.h"
