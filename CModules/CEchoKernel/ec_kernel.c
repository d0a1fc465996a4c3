// Vector loops for the adaptive filter (the bodies are in ec_kernel_impl.h).
// Each is compiled for AVX-512 (F, VL, DQ, BW), for AVX2 with FMA and for
// baseline x86-64, and the loader picks the best copy for the CPU through an
// ifunc. (target_clones("avx512f", "avx2") measured almost twice as slow
// here: its copies miss FMA or the 256-bit forms of the AVX-512 shuffles.)
//
// The code uses GCC/Clang vector extensions of 16 floats with independent
// accumulators; the vector width maps onto one zmm, two ymm or four xmm
// registers depending on the copy.
#include "CEchoKernel.h"

#include <stddef.h>

typedef float vf16 __attribute__((vector_size(64), aligned(4), may_alias));

typedef float vf8 __attribute__((vector_size(32), aligned(4), may_alias));

// Helpers are macros: a function passing a 64-byte vector by value would
// have a different ABI in each copy.
#define LOAD16(p) (*(const vf16 *)(p))
#define STORE16(p, v) (*(vf16 *)(p) = (v))

static inline float sum_of_16(const float *lanes) {
    float s = 0.0f;
    for (int i = 0; i < 16; i++) s += lanes[i];
    return s;
}

#define SUM16(v, result)              \
    do {                              \
        float lanes_[16];             \
        STORE16(lanes_, (v));         \
        (result) = sum_of_16(lanes_); \
    } while (0)

#define EC_FN(name) ec_kernel_##name##_generic
#include "ec_kernel_impl.h"
#undef EC_FN

#if defined(__x86_64__) && defined(__clang__) && defined(__ELF__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#define EC_FN(name) ec_kernel_##name##_avx2
#include "ec_kernel_impl.h"
#undef EC_FN
#pragma clang attribute pop

#pragma clang attribute push(__attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,avx2,fma"))), apply_to = function)
#define EC_FN(name) ec_kernel_##name##_avx512
#include "ec_kernel_impl.h"
#undef EC_FN
#pragma clang attribute pop

static int ec_kernel_level(void) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw"))
        return 2;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 1;
    return 0;
}

#define EC_RESOLVER(name, type)                                              \
    static type *ec_kernel_##name##_resolve(void) {                          \
        switch (ec_kernel_level()) {                                         \
        case 2: return ec_kernel_##name##_avx512;                            \
        case 1: return ec_kernel_##name##_avx2;                              \
        default: return ec_kernel_##name##_generic;                          \
        }                                                                    \
    }

typedef float fir_fn(const float *, const float *, int);
typedef void fir_block_fn(const float *, const float *, int, float *, int);
typedef float energy_fn(const float *, int);
EC_RESOLVER(fir, fir_fn)
EC_RESOLVER(fir_block, fir_block_fn)
EC_RESOLVER(energy, energy_fn)
EC_RESOLVER(fir_short, fir_block_fn)

float ec_kernel_fir(const float *h, const float *x, int taps) __attribute__((ifunc("ec_kernel_fir_resolve")));
void ec_kernel_fir_block(const float *h, const float *x, int taps, float *y, int count)
    __attribute__((ifunc("ec_kernel_fir_block_resolve")));
float ec_kernel_energy(const float *x, int taps) __attribute__((ifunc("ec_kernel_energy_resolve")));
void ec_kernel_fir_short(const float *h, const float *x, int taps, float *y, int count)
    __attribute__((ifunc("ec_kernel_fir_short_resolve")));
#else
float ec_kernel_fir(const float *h, const float *x, int taps) { return ec_kernel_fir_generic(h, x, taps); }
void ec_kernel_fir_block(const float *h, const float *x, int taps, float *y, int count) {
    ec_kernel_fir_block_generic(h, x, taps, y, count);
}
float ec_kernel_energy(const float *x, int taps) { return ec_kernel_energy_generic(x, taps); }
void ec_kernel_fir_short(const float *h, const float *x, int taps, float *y, int count) {
    ec_kernel_fir_short_generic(h, x, taps, y, count);
}
#endif
