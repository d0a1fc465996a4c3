#ifndef CECHOKERNEL_H
#define CECHOKERNEL_H

/// Hot loops of the echo canceller: the time-domain FIRs (`ec_kernel_*`),
/// the frequency-domain adaptive filter (`ec_mdf_*`) and the per-sample
/// channel processing (`ec_channel_*`). Every vector routine is compiled for
/// AVX-512, AVX2 + FMA and baseline x86-64; the best copy is picked for the
/// CPU at load time (or, for `ec_mdf`, when a filter is created).
///
/// Conventions: coefficients `h` are stored time-reversed, so `h[k]` multiplies
/// `x[k]` where `x` points at the oldest sample of the filter's window and
/// `x[taps - 1]` is the newest. `taps` must be a positive multiple of
/// `EC_KERNEL_TAP_QUANTUM`. Pointers need no particular alignment.

#define EC_KERNEL_TAP_QUANTUM 64

#include <stdint.h>

/// Dot product of `taps` coefficients with the window starting at `x`.
float ec_kernel_fir(const float *h, const float *x, int taps);

/// Filters `count` consecutive outputs with fixed coefficients:
/// `y[j] = sum_k h[k] * x[j + k]`, so `x` must hold `taps + count - 1` samples.
void ec_kernel_fir_block(const float *h, const float *x, int taps,
                         float *y, int count);

/// Same as `ec_kernel_fir_block` for short filters (`taps` a multiple of 16),
/// computing eight outputs per pass: `x` must be readable up to
/// `x[taps + 8 * ceil(count / 8) - 2]` (the extra outputs are discarded).
/// An output does not depend on how many are requested together.
void ec_kernel_fir_short(const float *h, const float *x, int taps, float *y, int count);

/// Energy of the window, `sum_k x[k]^2`.
float ec_kernel_energy(const float *x, int taps);

/// Samples per block of the frequency-domain filter (one partition).
#define EC_MDF_BLOCK 64
/// Longest tail: 2048 taps.
#define EC_MDF_MAX_PARTITIONS 32

/// Partitioned-block frequency-domain adaptive filter (MDF) with a
/// background estimate that adapts and a foreground copy that produces the
/// output. `taps` (a multiple of `EC_MDF_BLOCK`) are split into partitions of
/// 64; block b covers reference samples [64b, 64b + 64).
///
/// Zero added latency: the foreground's first partition (lags 0...63) is
/// applied in the time domain per sample (`ec_mdf_head`, kernel order, with
/// `ec_kernel_fir_block`); the echo of lags 64... for the whole of the next
/// block only needs reference samples that have already arrived, and is
/// computed in the frequency domain at the end of each block
/// (`ec_mdf_tail`).
///
/// At the end of block b, in this order:
///  1. `ec_mdf_filter_background` — transforms the newest 128 reference
///     samples (blocks b − 1 and b, oldest first), filters with the
///     background, returns its error on block b, and prepares the
///     foreground's tail echo for block b + 1;
///  2. optionally `ec_mdf_copy_to_foreground` (which prepares the tail echo
///     again) or `ec_mdf_restore_background`;
///  3. optionally `ec_mdf_adapt` with the (masked) background error.
/// All memory is allocated by `ec_mdf_create`; nothing else allocates.
typedef struct ec_mdf ec_mdf;

ec_mdf *ec_mdf_create(int taps);
void ec_mdf_destroy(ec_mdf *state);
void ec_mdf_reset(ec_mdf *state);
int ec_mdf_partitions(const ec_mdf *state);
/// Foreground lags 0...63, time reversed (`ec_kernel_fir_block` order).
const float *ec_mdf_head(const ec_mdf *state);
/// Foreground echo from lags ≥ 64 for each sample of the current block.
const float *ec_mdf_tail(const ec_mdf *state);

/// `frame`: 128 reference samples; `near`: the block's 64 near-end samples;
/// `error` receives near − background echo (64 samples).
void ec_mdf_filter_background(ec_mdf *state, const float *frame, const float *near, float *error);
/// One block-NLMS step of the background with the error of the last
/// `ec_mdf_filter_background` (samples not to learn from set to 0).
/// `step`: NLMS-equivalent step size; `regularisation`: power (mean square)
/// added to the normaliser; `proportionality`: IPNLMS α per partition.
void ec_mdf_adapt(ec_mdf *state, const float *error, float step, float regularisation,
                  float proportionality);
void ec_mdf_copy_to_foreground(ec_mdf *state);
void ec_mdf_restore_background(ec_mdf *state);

/// The 128-point real DFT the filter uses (unnormalised), packed as re[64],
/// im[64] with the Nyquist bin in im[0]; and its inverse (with 1/128).
void ec_fft_real128(const float *x, float *re, float *im);
void ec_fft_inverse_real128(const float *re, const float *im, float *x);

/// Samples per Geigel block (the tail maximum is kept per block).
#define EC_GEIGEL_BLOCK 16
/// Largest tail: 2048 taps.
#define EC_GEIGEL_MAX_BLOCKS 128
/// Samples per tone-detector (Goertzel) block: 10 ms.
#define EC_TONE_BLOCK 80
#define EC_FLAG_FAR_ACTIVE 1
#define EC_FLAG_DOUBLE_TALK 2
/// The output guard corrects the sample (the residual is louder than the
/// input, and the NLP did not replace the output).
#define EC_FLAG_GUARD 4

/// Per-sample state of one canceller channel (plain data; index 0 of the
/// tone arrays is the far end, 1 the near end). Read-only for Swift apart
/// from `ec_channel_init` / `ec_channel_reset`.
typedef struct {
    int taps;
    /// The far end's DC blocker (four samples ahead, see ec_channel.c): its
    /// last four differences and outputs, oldest first, and its last input.
    float far_difference[4], far_out[4];
    float far_previous_in;
    float near_previous_in, near_previous_out;
    /// Goertzel recursion and energy of the current tone block; both
    /// directions count the same samples.
    float tone_s1[2], tone_s2[2], tone_energy[2];
    int tone_count;
    /// The last completed tone block (valid when a call returned 1).
    float tone_block_s1[2], tone_block_s2[2], tone_block_energy[2];
    /// Far-end energy over the tail window (refreshed exactly by the caller).
    float window_energy;
    float geigel_blocks[EC_GEIGEL_MAX_BLOCKS];
    int geigel_block_count, geigel_index, geigel_in_block;
    float geigel_current_max, geigel_tail_max;
    int geigel_hangover, geigel_hangover_left;
    /// ERLE meter: smoothed near-end and residual power.
    float near_power, residual_power;
    /// Output guard: short-term (about 0.5 ms) power of the foreground's echo
    /// estimate and its cross power with the near end (see ec_channel_impl.h).
    float guard_estimate_power, guard_cross_power;
    int nlp_hangover, nlp_hangover_left;
    float short_term_power, noise_power;
    float noise_initial, noise_floor, noise_ceiling;
    uint32_t random;
} ec_channel;

/// What `ec_channel_process` reads and writes for one chunk of a block.
typedef struct {
    /// Where the chunk's filtered reference samples go; `line[-taps]` and up
    /// to 8 floats past the chunk must be valid.
    float *line;
    /// Foreground lags 0...63 (`ec_mdf_head`) and the tail echo of lags
    /// ≥ 64 for the chunk's samples (`ec_mdf_tail` + offset in the block).
    const float *head;
    const float *tail_echo;
    /// Out: near end after DC blocking, foreground residual, EC_FLAG_* bits.
    float *near;
    float *residual;
    uint8_t *flags;
    float geigel_threshold;
    float far_active_energy;
    int nlp;
    int comfort_noise;
} ec_chunk;

void ec_channel_init(ec_channel *channel, int taps, int geigel_hangover, int nlp_hangover,
                     float noise_initial, float noise_floor, float noise_ceiling);
void ec_channel_reset(ec_channel *channel);
/// Processes `count` (≤ 64) samples within one filter block: far end (tone
/// sums, DC blocking into `line`), foreground echo, near end (tone sums, DC
/// blocking, residual, Geigel, ERLE meter, output guard, NLP) up to the
/// 16-bit output. `residual` receives the foreground's own error (before the
/// guard): the two-path comparison and the ERLE meter judge the filter.
/// Returns 1 when a tone block completed (see `tone_block_*`).
int ec_channel_process(ec_channel *channel, const ec_chunk *chunk, const int16_t *reference,
                       const int16_t *near, int16_t *out, int count);
/// At the end of every filter block (every `EC_MDF_BLOCK` samples of the
/// stream, whatever the chunking): flushes the DC blockers' tiny outputs to
/// zero, so that silence never produces denormals.
void ec_channel_end_block(ec_channel *channel);

/// Comparison sums of one filter block over its far-active samples.
typedef struct {
    float background_error_energy;
    float foreground_error_energy;
    float near_energy;
    int compared;
    /// Some far-active sample was flagged as double talk.
    int double_talk;
} ec_block_sums;

/// Fills `sums` for the block and writes into `learn_error` the background
/// error on samples to learn from (far end active, no double talk) and 0
/// elsewhere; returns the number of such samples. `count`: a multiple of 8.
int ec_block_summary(const uint8_t *flags, const float *near, const float *residual,
                     const float *background_error, float *learn_error, int count,
                     ec_block_sums *sums);

#endif
