/* Chooses the BLAKE3 kernel once, from what this build linked in and what CPUID says the CPU and
 * the operating system support (NEON needs no check: every AArch64 CPU has it), widest first.
 * lc_blake3_set_kernel pins another one (tests and LEDGERCORE_SIMD), refusing a kernel the CPU
 * cannot run. */
#include <string.h>

#include "blake3_impl.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>
#define LC_X86_64 1
#endif

#if defined(LC_HAVE_SSE41)
static const lc_b3_kernel kernel_sse41 = {"sse41", 4, lc_b3_hash_lanes_sse41};
#endif
#if defined(LC_HAVE_AVX2)
static const lc_b3_kernel kernel_avx2 = {"avx2", 8, lc_b3_hash_lanes_avx2};
#endif
#if defined(LC_HAVE_AVX512)
static const lc_b3_kernel kernel_avx512 = {"avx512", 16, lc_b3_hash_lanes_avx512};
#endif
#if defined(LC_HAVE_NEON)
static const lc_b3_kernel kernel_neon = {"neon", 4, lc_b3_hash_lanes_neon};
#endif

/* Widest first: the default is the first one the CPU supports. */
static const lc_b3_kernel *const KERNELS[] = {
#if defined(LC_HAVE_NEON)
    &kernel_neon,
#endif
#if defined(LC_HAVE_AVX512)
    &kernel_avx512,
#endif
#if defined(LC_HAVE_AVX2)
    &kernel_avx2,
#endif
#if defined(LC_HAVE_SSE41)
    &kernel_sse41,
#endif
    &lc_b3_kernel_portable,
};
#define KERNEL_COUNT (sizeof KERNELS / sizeof KERNELS[0])

#if defined(LC_X86_64)
static uint64_t xgetbv0(void) {
    uint32_t eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((uint64_t)edx << 32) | eax;
}

/* XCR0 bits the OS sets when it saves a register file across context switches: SSE (bit 1) and
 * AVX (bit 2) for the YMM registers; AVX-512 adds the opmask registers (5), the upper halves of
 * ZMM0-15 (6) and ZMM16-31 (7). A CPU feature bit alone is not enough: without the OS's support
 * the first use of those registers faults or their contents are lost. */
#define XCR0_YMM 0x06u
#define XCR0_ZMM 0xE6u

/* Each wider x86-64 kernel also requires the narrower ones' features: -mavx512f lets the compiler
 * emit AVX2 instructions in that file, and -mavx2 SSE4.1 ones. */
static bool x86_supports(const char *name) {
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return false;
    bool sse41 = (ecx & bit_SSE4_1) != 0;
    if (strcmp(name, "sse41") == 0) return sse41;
    /* xgetbv exists only when the OS has set OSXSAVE. */
    bool osxsave = (ecx & bit_OSXSAVE) != 0;
    if (!sse41 || !osxsave || __get_cpuid_max(0, NULL) < 7) return false;
    uint64_t xcr0 = xgetbv0();
    __cpuid_count(7, 0, eax, ebx, ecx, edx);
    bool avx2 = (ebx & bit_AVX2) != 0 && (xcr0 & XCR0_YMM) == XCR0_YMM;
    if (strcmp(name, "avx2") == 0) return avx2;
    if (strcmp(name, "avx512") == 0) {
        return avx2 && (ebx & bit_AVX512F) != 0 && (xcr0 & XCR0_ZMM) == XCR0_ZMM;
    }
    return false;
}
#endif

static bool cpu_supports(const lc_b3_kernel *kernel) {
    if (kernel == &lc_b3_kernel_portable) return true;
#if defined(LC_X86_64)
    if (x86_supports(kernel->name)) return true;
#endif
#if defined(LC_HAVE_NEON)
    /* NEON is mandatory on AArch64; a build that linked the kernel elsewhere still refuses it. */
    if (strcmp(kernel->name, "neon") == 0) {
#if defined(__aarch64__) && defined(__ARM_NEON)
        return true;
#else
        return false;
#endif
    }
#endif
    return false;
}

static const lc_b3_kernel *selected = NULL;

const lc_b3_kernel *lc_b3_kernel_selected(void) {
    const lc_b3_kernel *kernel = __atomic_load_n(&selected, __ATOMIC_ACQUIRE);
    if (LC_LIKELY(kernel != NULL)) return kernel;
    /* Two threads racing here pick the same kernel, so the race is harmless. */
    for (size_t i = 0; i < KERNEL_COUNT; i++) {
        if (cpu_supports(KERNELS[i])) {
            kernel = KERNELS[i];
            break;
        }
    }
    LC_ASSERT(kernel != NULL);
    LC_ASSERT(kernel->lane_count <= LC_B3_LANES_MAX);
    __atomic_store_n(&selected, kernel, __ATOMIC_RELEASE);
    return kernel;
}

const char *lc_blake3_kernel_name(void) { return lc_b3_kernel_selected()->name; }

static const lc_b3_kernel *find_kernel(const char *name) {
    for (size_t i = 0; i < KERNEL_COUNT; i++) {
        if (strcmp(KERNELS[i]->name, name) == 0) return KERNELS[i];
    }
    return NULL;
}

static bool known_name(const char *name) {
    return strcmp(name, "portable") == 0 || strcmp(name, "sse41") == 0 ||
           strcmp(name, "avx2") == 0 || strcmp(name, "avx512") == 0 || strcmp(name, "neon") == 0;
}

int lc_blake3_kernel_available(const char *name) {
    const lc_b3_kernel *kernel = find_kernel(name);
    return kernel != NULL && cpu_supports(kernel);
}

int lc_blake3_set_kernel(const char *name) {
    if (name == NULL || !known_name(name)) return LC_ERROR_ARGUMENT;
    const lc_b3_kernel *kernel = find_kernel(name);
    if (kernel == NULL || !cpu_supports(kernel)) return LC_ERROR_UNSUPPORTED;
    LC_ASSERT(kernel->lane_count <= LC_B3_LANES_MAX);
    __atomic_store_n(&selected, kernel, __ATOMIC_RELEASE);
    return LC_OK;
}
