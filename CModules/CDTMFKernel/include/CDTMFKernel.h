// The DTMF receiver's per-sample work: correlating samples with the eight DTMF frequencies.
// In C so that it is compiled optimised (and vectorised) in debug builds too, where the
// 30-minute talk-off tests run it over 14 million samples.
#ifndef CDTMFKERNEL_H
#define CDTMFKERNEL_H

#include <stdint.h>

/// Number of frequencies correlated at once (the 4 row and 4 column tones).
#define DTMF_KERNEL_TONES 8

/// Adds `count` samples, which sit at positions `position`… of the current block, to the
/// block's running correlations: re[k] += x·cos_tab[pos][k], im[k] += x·sin_tab[pos][k] and
/// *energy += (window[pos]·x)². The cos/sin tables hold DTMF_KERNEL_TONES floats per block
/// position, the window already applied; `window` one float per position.
void dtmf_kernel_accumulate(const float *cos_tab, const float *sin_tab, const float *window, int position,
                            const int16_t *samples, int count,
                            float *re, float *im, float *energy);

#endif
