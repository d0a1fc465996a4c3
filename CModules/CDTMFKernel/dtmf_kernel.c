// The loop is compiled twice, for baseline x86-64 (two SSE registers per 8 floats) and for
// AVX2 with FMA (one ymm register, fused multiply-adds); the loader picks the copy for the
// CPU through an ifunc, as CEchoKernel does.
#include "CDTMFKernel.h"

#define DTMF_KERNEL_BODY                                                                       \
    {                                                                                          \
        /* Locals, so the compiler keeps the sixteen sums in registers across the samples. */  \
        float r[DTMF_KERNEL_TONES], i[DTMF_KERNEL_TONES];                                      \
        for (int k = 0; k < DTMF_KERNEL_TONES; k++) { r[k] = re[k]; i[k] = im[k]; }            \
        float e = *energy;                                                                     \
        const float *c = cos_tab + position * DTMF_KERNEL_TONES;                               \
        const float *s = sin_tab + position * DTMF_KERNEL_TONES;                               \
        for (int n = 0; n < count; n++) {                                                      \
            float x = (float)samples[n];                                                       \
            float xw = x * window[position + n];                                               \
            for (int k = 0; k < DTMF_KERNEL_TONES; k++) {                                      \
                r[k] += x * c[k];                                                              \
                i[k] += x * s[k];                                                              \
            }                                                                                  \
            e += xw * xw;                                                                      \
            c += DTMF_KERNEL_TONES;                                                            \
            s += DTMF_KERNEL_TONES;                                                            \
        }                                                                                      \
        for (int k = 0; k < DTMF_KERNEL_TONES; k++) { re[k] = r[k]; im[k] = i[k]; }            \
        *energy = e;                                                                           \
    }

#define DTMF_KERNEL_PARAMETERS                                                                 \
    (const float *restrict cos_tab, const float *restrict sin_tab, const float *restrict window, \
     int position, const int16_t *restrict samples, int count, float *restrict re,             \
     float *restrict im, float *restrict energy)

static void dtmf_kernel_accumulate_generic DTMF_KERNEL_PARAMETERS DTMF_KERNEL_BODY

#if defined(__x86_64__) && defined(__clang__) && defined(__ELF__)
__attribute__((target("avx2,fma")))
static void dtmf_kernel_accumulate_avx2 DTMF_KERNEL_PARAMETERS DTMF_KERNEL_BODY

typedef void accumulate_fn(const float *, const float *, const float *, int, const int16_t *, int,
                           float *, float *, float *);

static accumulate_fn *dtmf_kernel_accumulate_resolve(void) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return dtmf_kernel_accumulate_avx2;
    return dtmf_kernel_accumulate_generic;
}

void dtmf_kernel_accumulate(const float *cos_tab, const float *sin_tab, const float *window, int position,
                            const int16_t *samples, int count, float *re, float *im, float *energy)
    __attribute__((ifunc("dtmf_kernel_accumulate_resolve")));
#else
void dtmf_kernel_accumulate(const float *cos_tab, const float *sin_tab, const float *window, int position,
                            const int16_t *samples, int count, float *re, float *im, float *energy) {
    dtmf_kernel_accumulate_generic(cos_tab, sin_tab, window, position, samples, count, re, im, energy);
}
#endif
