// Per-sample part of the echo canceller: DC blocking, the Goertzel sums of
// the 2100 Hz tone detectors, the far-end window energy, the Geigel
// double-talk detector, the foreground's residual, the ERLE meter and the
// non-linear processor. See CEchoKernel.h.
#include "CEchoKernel.h"

#include <stddef.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

void ec_channel_init(ec_channel *c, int taps, int geigel_hangover, int nlp_hangover,
                     float noise_initial, float noise_floor, float noise_ceiling) {
    memset(c, 0, sizeof *c);
    c->taps = taps;
    c->geigel_block_count = (taps + EC_GEIGEL_BLOCK - 1) / EC_GEIGEL_BLOCK;
    c->geigel_hangover = geigel_hangover;
    c->nlp_hangover = nlp_hangover;
    c->noise_power = noise_initial;
    c->noise_initial = noise_initial;
    c->noise_floor = noise_floor;
    c->noise_ceiling = noise_ceiling;
    c->random = 0x12345678u;
}

void ec_channel_reset(ec_channel *c) {
    ec_channel_init(c, c->taps, c->geigel_hangover, c->nlp_hangover, c->noise_initial,
                    c->noise_floor, c->noise_ceiling);
}

// First-order DC-blocking high-pass, y[n] = x[n] - x[n-1] + 0.99 y[n-1].
// Denormals are flushed once per filter block (ec_channel_end_block), not
// per sample: a test in the recursion would lengthen its dependency chain,
// the critical path of the per-sample passes, by half.
static inline __attribute__((always_inline)) float dc_block(float x, float *previous_in, float *previous_out) {
    float y = x - *previous_in + 0.99f * *previous_out;
    *previous_in = x;
    *previous_out = y;
    return y;
}

// The far end's DC blocker (the same filter) unrolled four samples ahead:
// y[n] = d[n] + a d[n-1] + a^2 d[n-2] + a^3 d[n-3] + a^4 y[n-4], with
// d[n] = x[n] - x[n-1] and a = 0.99. Its recursion then spans four samples,
// so a chunk's outputs come four at a time instead of one per multiply-add
// latency: the far-end pass, which the head filter waits for, was bound by
// that chain. Every output is computed by the same expression whatever the
// chunking, so the output still does not depend on the caller's block length.
#define EC_DC_A1 0.99f
#define EC_DC_A2 0.9801f
#define EC_DC_A3 0.970299f
#define EC_DC_A4 0.96059601f

static inline __attribute__((always_inline)) float max_f(float a, float b) { return a > b ? a : b; }

// Saturates to 16 bits and rounds to nearest even (the FPU's default mode).
static inline __attribute__((always_inline)) int16_t round_to_int16(float y) {
    float clamped = y > 32767.0f ? 32767.0f : y;
    clamped = clamped < -32768.0f ? -32768.0f : clamped;
#if defined(__x86_64__)
    return (int16_t)_mm_cvtss_si32(_mm_set_ss(clamped));
#else
    // Adding and removing 1.5 * 2^23 rounds to nearest even.
    return (int16_t)((clamped + 12582912.0f) - 12582912.0f);
#endif
}

typedef float vf4 __attribute__((vector_size(16), aligned(4), may_alias));
typedef float vf8 __attribute__((vector_size(32), aligned(4), may_alias));
typedef float vf16 __attribute__((vector_size(64), aligned(4), may_alias));
#define LOAD16(p) (*(const vf16 *)(p))

// One step of the output guard's powers (see EC_FN(guard) in
// ec_channel_impl.h), shared by the loop and the guard so that both compute
// the same values.
static inline __attribute__((always_inline)) void guard_step(float *estimate_power, float *cross_power,
                                                             float d, float estimate) {
    *estimate_power += 0.25f * (estimate * estimate - *estimate_power);
    *cross_power += 0.25f * (d * estimate - *cross_power);
}

// Largest of the Geigel ring's block maxima: eight independent lanes rather
// than one chain of compares (entries past `count` stay zero).
static inline __attribute__((always_inline)) float ring_max(const float *ring, int count) {
    vf8 m = *(const vf8 *)ring;
    for (int b = 8; b < count; b += 8) m = __builtin_elementwise_max(m, *(const vf8 *)(ring + b));
    float r = m[0];
    for (int i = 1; i < 8; i++) r = max_f(r, m[i]);
    return r;
}

// The near pass's result: bit 0 a tone block closed, EC_NEAR_GUARD some
// sample needs the output guard.
#define EC_NEAR_GUARD 2

// Goertzel coefficient 2 cos(2 pi 2100 / 8000).
#define EC_TONE_COEFFICIENT (-0.15691819145568975f)

// The passes are serial recursions (DC blockers, Goertzel, meters): FMA
// shortens their dependency chains, so they are compiled for x86-64 with
// AVX2 + FMA (and AVX-512) as well as for the baseline, and the loader
// picks one.
#define EC_FN(name) ec_channel_##name##_generic
#include "ec_channel_impl.h"
#undef EC_FN

#if defined(__x86_64__) && defined(__clang__) && defined(__ELF__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#define EC_FN(name) ec_channel_##name##_fma
#include "ec_channel_impl.h"
#undef EC_FN
#pragma clang attribute pop

#pragma clang attribute push(__attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,avx2,fma"))), apply_to = function)
#define EC_FN(name) ec_channel_##name##_avx512
#include "ec_channel_impl.h"
#undef EC_FN
#pragma clang attribute pop

typedef int ec_channel_process_fn(ec_channel *, const ec_chunk *, const int16_t *, const int16_t *,
                                  int16_t *, int);

static ec_channel_process_fn *ec_channel_process_resolve(void) {
    __builtin_cpu_init();
    // AVX-512 mainly for its 32 vector registers: the loop keeps about 25
    // values live across samples.
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw"))
        return ec_channel_process_avx512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return ec_channel_process_fma;
    return ec_channel_process_generic;
}

int ec_channel_process(ec_channel *c, const ec_chunk *k, const int16_t *reference,
                       const int16_t *near, int16_t *out, int count)
    __attribute__((ifunc("ec_channel_process_resolve")));

typedef int ec_block_summary_fn(const uint8_t *, const float *, const float *, const float *, float *,
                                int, ec_block_sums *);

static ec_block_summary_fn *ec_block_summary_resolve(void) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw"))
        return ec_channel_block_summary_avx512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return ec_channel_block_summary_fma;
    return ec_channel_block_summary_generic;
}

int ec_block_summary(const uint8_t *flags, const float *near, const float *residual,
                     const float *background_error, float *learn_error, int count,
                     ec_block_sums *sums) __attribute__((ifunc("ec_block_summary_resolve")));
#else
int ec_channel_process(ec_channel *c, const ec_chunk *k, const int16_t *reference,
                       const int16_t *near, int16_t *out, int count) {
    return ec_channel_process_generic(c, k, reference, near, out, count);
}

int ec_block_summary(const uint8_t *flags, const float *near, const float *residual,
                     const float *background_error, float *learn_error, int count,
                     ec_block_sums *sums) {
    return ec_channel_block_summary_generic(flags, near, residual, background_error, learn_error, count, sums);
}
#endif

// Inputs are integers, so a blocker's output is 0 or decays from at least
// about 1; flushing below 1e-20 once per 64 samples (0.99^64 ≈ 0.53) keeps it
// far from the denormal range (1.2e-38) and the output silent after silence.
void ec_channel_end_block(ec_channel *c) {
    for (int i = 0; i < 4; i++)
        if (__builtin_fabsf(c->far_out[i]) < 1e-20f) c->far_out[i] = 0;
    if (__builtin_fabsf(c->near_previous_out) < 1e-20f) c->near_previous_out = 0;
    // The output guard's powers decay by 3/4 per sample once the estimate
    // is silent (a few hundred samples to the denormal range).
    if (c->guard_estimate_power < 1e-20f) c->guard_estimate_power = 0;
    if (__builtin_fabsf(c->guard_cross_power) < 1e-20f) c->guard_cross_power = 0;
}

