// Partitioned-block frequency-domain adaptive filter (MDF / PBFDAF) for the
// echo canceller, with a foreground (output) copy and a background (adapting)
// estimate. See CEchoKernel.h for the interface and the block conventions.
//
// Transforms: a 128-point real FFT computed as a 64-point complex FFT of the
// even/odd samples plus a split step. The 64-point FFT is "four-step" over an
// 8 x 8 matrix held in 8-float vectors: eight FFT-8s run side by side across
// vectors, twiddles, one 8 x 8 transpose, eight FFT-8s again. Everything stays
// in registers and the output comes out in natural order.
//
// The hot code (ec_mdf_impl.h) is compiled three times — AVX-512 (with VL
// for the 8-lane shuffles), AVX2 with FMA, and baseline x86-64 — and
// `ec_mdf_create` picks the best copy for the CPU once per channel. (Plain
// target_clones("avx512f", "avx2") would leave the AVX2 copy without FMA and
// the AVX-512 copy without 256-bit two-source permutes.)
//
// Spectra are stored as re[64] followed by im[64]; bins 0 (DC) and 64
// (Nyquist) are both real, so bin 64 is kept in im[0]. Products treat lane 0
// of the first vector separately.
#include "CEchoKernel.h"
#include "ec_fft_tables.h"

#include <stdlib.h>
#include <string.h>

#define EC_INLINE static inline __attribute__((always_inline))

typedef float vf8 __attribute__((vector_size(32), aligned(32), may_alias));
typedef float vf16 __attribute__((vector_size(64), aligned(64), may_alias));

#define BLOCK EC_MDF_BLOCK            // 64 samples per block
#define FRAME (2 * EC_MDF_BLOCK)      // 128-point transforms
#define SPECTRUM (2 * EC_MDF_BLOCK)   // floats per packed spectrum

struct ec_mdf_ops;

struct ec_mdf {
    const struct ec_mdf_ops *ops;
    int partitions;
    int newest;           // ring slot of the newest reference spectrum
    int next_constraint;  // constraint slot: partition x steps per constraint (see adapt)
    float *spectra;       // ring of reference spectra, partitions x SPECTRUM
    float *background;    // partitions x SPECTRUM
    float *foreground;    // partitions x SPECTRUM
    float *gains;         // proportionate gain per partition
    float *norms;         // each partition's L2 norm when last measured
    int norm_parity;      // partitions whose norm the next step measures (p & 1)
    float *head;          // foreground partition 0, time reversed (kernel order)
    float *tail;          // foreground echo of partitions 1... for the current block
    float *power;         // gain-weighted reference power per bin (re layout) + Nyquist at [64]
    float *work;          // scratch: 2 x SPECTRUM
    void *memory;
};


// ---------------------------------------------------------------------------
// One copy of the hot code per instruction set

struct ec_mdf_ops {
    void (*filter_background)(ec_mdf *, const float *, const float *, float *);
    void (*adapt)(ec_mdf *, const float *, float, float, float);
    void (*copy_to_foreground)(ec_mdf *);
    void (*fft_real128)(const float *, float *, float *);
    void (*fft_inverse_real128)(const float *, const float *, float *);
};

#define EC_OPS(suffix)                                                        \
    static const struct ec_mdf_ops ec_mdf_ops_##suffix = {                    \
        ec_mdf_filter_background_##suffix, ec_mdf_adapt_##suffix,             \
        ec_mdf_copy_to_foreground_##suffix,                                   \
        ec_mdf_fft_real128_##suffix, ec_mdf_fft_inverse_real128_##suffix};

#define EC_FN(name) ec_mdf_##name##_generic
#include "ec_mdf_impl.h"
#undef EC_FN
EC_OPS(generic)

#if defined(__x86_64__) && defined(__clang__)
#define EC_MDF_X86_COPIES 1
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#define EC_FN(name) ec_mdf_##name##_avx2
#include "ec_mdf_impl.h"
#undef EC_FN
#pragma clang attribute pop
EC_OPS(avx2)

#pragma clang attribute push(__attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,avx2,fma"))), apply_to = function)
#define EC_FN(name) ec_mdf_##name##_avx512
#include "ec_mdf_impl.h"
#undef EC_FN
#pragma clang attribute pop
EC_OPS(avx512)
#endif

static const struct ec_mdf_ops *ec_mdf_best_ops(void) {
#ifdef EC_MDF_X86_COPIES
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw"))
        return &ec_mdf_ops_avx512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return &ec_mdf_ops_avx2;
#endif
    return &ec_mdf_ops_generic;
}

// ---------------------------------------------------------------------------
// Filter state

ec_mdf *ec_mdf_create(int taps) {
    if (taps < BLOCK || taps % BLOCK != 0 || taps / BLOCK > EC_MDF_MAX_PARTITIONS) return NULL;
    int m = taps / BLOCK;
    size_t floats = (size_t)3 * m * SPECTRUM  // spectra, background, foreground
                    + 2 * 16 * ((m + 15) / 16)  // gains, norms
                    + BLOCK + BLOCK           // head, tail
                    + 2 * BLOCK               // power (65 used)
                    + 2 * SPECTRUM;           // work
    void *memory = NULL;
    if (posix_memalign(&memory, 64, floats * sizeof(float)) != 0) return NULL;
    ec_mdf *s = malloc(sizeof *s);
    if (!s) {
        free(memory);
        return NULL;
    }
    float *p = memory;
    s->memory = memory;
    s->ops = ec_mdf_best_ops();
    s->partitions = m;
    s->spectra = p; p += (size_t)m * SPECTRUM;
    s->background = p; p += (size_t)m * SPECTRUM;
    s->foreground = p; p += (size_t)m * SPECTRUM;
    s->gains = p; p += 16 * ((m + 15) / 16);
    s->norms = p; p += 16 * ((m + 15) / 16);
    s->head = p; p += BLOCK;
    s->tail = p; p += BLOCK;
    s->power = p; p += 2 * BLOCK;
    s->work = p;
    ec_mdf_reset(s);
    return s;
}

void ec_mdf_destroy(ec_mdf *s) {
    if (!s) return;
    free(s->memory);
    free(s);
}

void ec_mdf_reset(ec_mdf *s) {
    int m = s->partitions;
    memset(s->spectra, 0, sizeof(float) * (size_t)m * SPECTRUM);
    memset(s->background, 0, sizeof(float) * (size_t)m * SPECTRUM);
    memset(s->foreground, 0, sizeof(float) * (size_t)m * SPECTRUM);
    for (int p = 0; p < m; p++) s->gains[p] = 1.0f / (float)m;
    for (int p = 0; p < m; p++) s->norms[p] = 0;
    s->norm_parity = 0;
    memset(s->head, 0, sizeof(float) * BLOCK);
    memset(s->tail, 0, sizeof(float) * BLOCK);
    memset(s->power, 0, sizeof(float) * 2 * BLOCK);
    s->newest = 0;
    s->next_constraint = 0;
}

int ec_mdf_partitions(const ec_mdf *s) { return s->partitions; }
const float *ec_mdf_head(const ec_mdf *s) { return s->head; }
const float *ec_mdf_tail(const ec_mdf *s) { return s->tail; }


void ec_mdf_filter_background(ec_mdf *s, const float *frame, const float *near, float *error) {
    s->ops->filter_background(s, frame, near, error);
}

void ec_mdf_adapt(ec_mdf *s, const float *error, float step, float regularisation, float proportionality) {
    s->ops->adapt(s, error, step, regularisation, proportionality);
}

void ec_mdf_copy_to_foreground(ec_mdf *s) { s->ops->copy_to_foreground(s); }

void ec_mdf_restore_background(ec_mdf *s) {
    memcpy(s->background, s->foreground, sizeof(float) * (size_t)s->partitions * SPECTRUM);
}


void ec_fft_real128(const float *x, float *re, float *im) { ec_mdf_best_ops()->fft_real128(x, re, im); }

void ec_fft_inverse_real128(const float *re, const float *im, float *x) {
    ec_mdf_best_ops()->fft_inverse_real128(re, im, x);
}
