#include "CDTMFKernel.h"

void dtmf_kernel_accumulate(const float *restrict cos_tab, const float *restrict sin_tab,
                            const float *restrict window, int position,
                            const int16_t *restrict samples, int count,
                            float *restrict re, float *restrict im, float *restrict energy) {
    // Locals, so the compiler keeps the eight sums in registers across the samples.
    float r[DTMF_KERNEL_TONES], i[DTMF_KERNEL_TONES];
    for (int k = 0; k < DTMF_KERNEL_TONES; k++) { r[k] = re[k]; i[k] = im[k]; }
    float e = *energy;
    const float *c = cos_tab + position * DTMF_KERNEL_TONES;
    const float *s = sin_tab + position * DTMF_KERNEL_TONES;
    for (int n = 0; n < count; n++) {
        float x = (float)samples[n];
        float xw = x * window[position + n];
        for (int k = 0; k < DTMF_KERNEL_TONES; k++) {
            r[k] += x * c[k];
            i[k] += x * s[k];
        }
        e += xw * xw;
        c += DTMF_KERNEL_TONES;
        s += DTMF_KERNEL_TONES;
    }
    for (int k = 0; k < DTMF_KERNEL_TONES; k++) { re[k] = r[k]; im[k] = i[k]; }
    *energy = e;
}
