// Per-sample passes of ec_channel.c, compiled once per instruction set
// (EC_FN gives each copy its names). Do not include elsewhere.

#include "ec_fir_short_impl.h"

// Far end: DC blocking into line[0..<count], which the head filter needs
// before the near-end pass (see EC_DC_A1 in ec_channel.c), four samples at
// a time. The far end's tone sums run in the near-end pass, which counts
// the samples of both.
static inline __attribute__((always_inline)) void EC_FN(far_pass)(ec_channel *restrict c, const int16_t *restrict reference,
                           float *restrict line, int count) {
    vf4 dp = *(const vf4 *)c->far_difference, yp = *(const vf4 *)c->far_out;
    float xl = c->far_previous_in;
    int j = 0;
    for (; j + 4 <= count; j += 4) {
        vf4 x = {(float)reference[j], (float)reference[j + 1], (float)reference[j + 2], (float)reference[j + 3]};
        vf4 xs = {xl, x[0], x[1], x[2]};
        vf4 d = x - xs;
        vf4 d1 = __builtin_shufflevector(dp, d, 3, 4, 5, 6);
        vf4 d2 = __builtin_shufflevector(dp, d, 2, 3, 4, 5);
        vf4 d3 = __builtin_shufflevector(dp, d, 1, 2, 3, 4);
        vf4 z = ((d + EC_DC_A1 * d1) + EC_DC_A2 * d2) + EC_DC_A3 * d3;
        vf4 y = z + EC_DC_A4 * yp;
        *(vf4 *)(line + j) = y;
        dp = d;
        yp = y;
        xl = x[3];
    }
    // The same expressions one sample at a time.
    for (; j < count; j++) {
        float x = (float)reference[j];
        float d = x - xl;
        float z = ((d + EC_DC_A1 * dp[3]) + EC_DC_A2 * dp[2]) + EC_DC_A3 * dp[1];
        float y = z + EC_DC_A4 * yp[0];
        line[j] = y;
        dp = __builtin_shufflevector(dp, dp, 1, 2, 3, 3);
        dp[3] = d;
        yp = __builtin_shufflevector(yp, yp, 1, 2, 3, 3);
        yp[3] = y;
        xl = x;
    }
    *(vf4 *)c->far_difference = dp;
    *(vf4 *)c->far_out = yp;
    c->far_previous_in = xl;
}

// The near-end pass, specialised on the NLP settings (`nlp` and
// `comfort_noise` are constants in each copy) so that the per-sample loop
// tests neither.
static inline __attribute__((always_inline)) int EC_FN(near_run)(ec_channel *restrict c, const ec_chunk *restrict k,
                            const float *restrict echo, const int16_t *restrict reference,
                            const int16_t *restrict near, int16_t *restrict out, int count,
                            const int nlp, const int comfort_noise) {
    const float *restrict line = k->line;
    const float *restrict leaving_line = k->line - c->taps;
    float *restrict near_out = k->near;
    float *restrict residual_out = k->residual;
    uint8_t *restrict flags_out = k->flags;
    const float threshold = k->geigel_threshold;
    const float far_active_energy = k->far_active_energy;
    const int geigel_hangover = c->geigel_hangover, nlp_hangover = c->nlp_hangover;
    const float noise_floor = c->noise_floor, noise_ceiling = c->noise_ceiling;
    float window_energy = c->window_energy;
    float previous_in = c->near_previous_in, previous_out = c->near_previous_out;
    float s1 = c->tone_s1[1], s2 = c->tone_s2[1], tone_energy = c->tone_energy[1];
    float far_s1 = c->tone_s1[0], far_s2 = c->tone_s2[0], far_energy = c->tone_energy[0];
    int n = c->tone_count;
    int closed = 0;
    int all_flags = 0;
    float current_max = c->geigel_current_max, tail_max = c->geigel_tail_max;
    int in_block = c->geigel_in_block, hangover_left = c->geigel_hangover_left;
    float near_power = c->near_power, residual_power = c->residual_power;
    float guard_estimate = c->guard_estimate_power, guard_cross = c->guard_cross_power;
    int nlp_left = c->nlp_hangover_left;
    float short_term = c->short_term_power, noise = c->noise_power;
    // Comfort-noise amplitude: uniform on [-a, a] has power a^2 / 3.
    float amplitude = __builtin_sqrtf(3 * noise);
    uint32_t random = c->random;

    // The tone and Geigel blocks end between runs, not inside them, so the
    // per-sample loop carries no block counters.
    int j = 0;
    while (j < count) {
        int stop = count;
        if (j + (EC_TONE_BLOCK - n) < stop) stop = j + (EC_TONE_BLOCK - n);
        if (j + (EC_GEIGEL_BLOCK - in_block) < stop) stop = j + (EC_GEIGEL_BLOCK - in_block);
        n += stop - j;
        in_block += stop - j;
        for (; j < stop; j++) {
            float x = line[j];
            float leaving = leaving_line[j];
            window_energy = max_f(0, window_energy + (x * x - leaving * leaving));

            float far_raw = (float)reference[j];
            float far_s0 = (far_raw - far_s2) + EC_TONE_COEFFICIENT * far_s1;
            far_s2 = far_s1;
            far_s1 = far_s0;
            far_energy += far_raw * far_raw;
            float raw = (float)near[j];
            float s0 = (raw - s2) + EC_TONE_COEFFICIENT * s1;
            s2 = s1;
            s1 = s0;
            tone_energy += raw * raw;
            float d = dc_block(raw, &previous_in, &previous_out);
            float estimate = echo[j];
            float residual = d - estimate;

            // Geigel on the foreground's residual: near-end louder than
            // `threshold` times the largest far-end magnitude within the tail.
            current_max = max_f(current_max, __builtin_fabsf(x));
            if (__builtin_fabsf(residual) > threshold * max_f(tail_max, current_max)) {
                hangover_left = geigel_hangover;
            } else if (hangover_left > 0) {
                hangover_left--;
            }
            int double_talk = hangover_left > 0;
            int far_active = window_energy > far_active_energy;
            near_out[j] = d;
            residual_out[j] = residual;
            int suppress = far_active && !double_talk;
            if (suppress) {
                // ERLE meter, about 128 ms of smoothing.
                near_power = near_power * (1 - 1.0f / 1024) + (d * d) * (1.0f / 1024);
                residual_power = residual_power * (1 - 1.0f / 1024) + (residual * residual) * (1.0f / 1024);
            }

            // Output guard (see EC_FN(guard)): only its test here.
            guard_step(&guard_estimate, &guard_cross, d, estimate);
            int over = guard_estimate > 2 * guard_cross ? EC_FLAG_GUARD : 0;
            float y = residual;
            int replaced = 0;
            if (nlp) {
                // Non-linear processor: while the far end talks alone (and for a
                // hangover after), replace the residual echo with comfort noise at
                // the level of the near end's background noise, or with silence.
                if (suppress) {
                    nlp_left = nlp_hangover;
                } else if (nlp_left > 0) {
                    nlp_left--;
                }
                if (nlp_left == 0) {
                    // The noise floor is learnt only from what passes unprocessed:
                    // it follows the short-term power down at once and rises
                    // about 3 dB/s.
                    short_term += (1.0f / 128) * (residual * residual - short_term);
                    noise = noise * 1.00009f;
                    noise = noise < noise_floor ? noise_floor : noise;
                    noise = noise > noise_ceiling ? noise_ceiling : noise;
                    if (short_term < noise) noise = max_f(short_term, noise_floor);
                    amplitude = -1;  // recomputed when next needed
                } else if (comfort_noise) {
                    if (amplitude < 0) {
                        // A real branch: as a select, the square root would
                        // be computed on every replaced sample.
                        __asm__ volatile("");
                        amplitude = __builtin_sqrtf(3 * noise);
                    }
                    random = random * 1664525u + 1013904223u;
                    float uniform = (float)(int32_t)random * (1.0f / 2147483648.0f);
                    y = uniform * amplitude;
                    replaced = 1;
                } else {
                    y = 0;
                    replaced = 1;
                }
            }
            int flags = (far_active ? EC_FLAG_FAR_ACTIVE : 0) | (double_talk ? EC_FLAG_DOUBLE_TALK : 0) |
                        (replaced ? 0 : over);
            flags_out[j] = (uint8_t)flags;
            all_flags |= flags;
            out[j] = round_to_int16(y);
        }
        if (n == EC_TONE_BLOCK) {
            c->tone_block_s1[0] = far_s1;
            c->tone_block_s2[0] = far_s2;
            c->tone_block_energy[0] = far_energy;
            far_s1 = far_s2 = far_energy = 0;
            c->tone_block_s1[1] = s1;
            c->tone_block_s2[1] = s2;
            c->tone_block_energy[1] = tone_energy;
            s1 = s2 = tone_energy = 0;
            n = 0;
            closed = 1;
        }
        if (in_block == EC_GEIGEL_BLOCK) {
            // The ring's maximum changes only through the block coming in or
            // the one leaving: rescan only when the one leaving held it.
            float leaving_max = c->geigel_blocks[c->geigel_index];
            c->geigel_blocks[c->geigel_index] = current_max;
            c->geigel_index = c->geigel_index + 1 == c->geigel_block_count ? 0 : c->geigel_index + 1;
            if (current_max >= tail_max) {
                tail_max = current_max;
            } else if (leaving_max == tail_max) {
                tail_max = ring_max(c->geigel_blocks, c->geigel_block_count);
            }
            in_block = 0;
            current_max = 0;
        }
    }

    c->window_energy = window_energy;
    c->near_previous_in = previous_in;
    c->near_previous_out = previous_out;
    c->tone_s1[1] = s1;
    c->tone_s2[1] = s2;
    c->tone_energy[1] = tone_energy;
    c->tone_s1[0] = far_s1;
    c->tone_s2[0] = far_s2;
    c->tone_energy[0] = far_energy;
    c->tone_count = n;
    c->geigel_current_max = current_max;
    c->geigel_tail_max = tail_max;
    c->geigel_in_block = in_block;
    c->geigel_hangover_left = hangover_left;
    c->near_power = near_power;
    c->residual_power = residual_power;
    c->guard_estimate_power = guard_estimate;
    c->guard_cross_power = guard_cross;
    c->nlp_hangover_left = nlp_left;
    c->short_term_power = short_term;
    c->noise_power = noise;
    c->random = random;
    return closed | (all_flags & EC_FLAG_GUARD ? EC_NEAR_GUARD : 0);
}

static inline __attribute__((always_inline)) int EC_FN(near_pass)(ec_channel *restrict c, const ec_chunk *restrict k,
                            const float *restrict echo, const int16_t *restrict reference,
                            const int16_t *restrict near, int16_t *restrict out, int count) {
    if (!k->nlp) return EC_FN(near_run)(c, k, echo, reference, near, out, count, 0, 0);
    if (k->comfort_noise) return EC_FN(near_run)(c, k, echo, reference, near, out, count, 1, 1);
    return EC_FN(near_run)(c, k, echo, reference, near, out, count, 1, 0);
}

// Output guard: the canceller must never make the echo louder. An estimate
// learnt on a tone is right at that frequency only: when the tone changes or
// stops (the estimate then rings on for as long as the tail) the residual
// can exceed the input. With E the estimate's short-term power and C its
// cross power with the near end (about 0.5 ms, current sample included),
// removing the estimate scaled by g leaves P(d) - 2 g C + g^2 E: g = 1 while
// that is at most P(d) (E <= 2 C: the normal case, the output is the
// residual exactly); otherwise g = 2 C / E, which leaves P(d), or 0 for an
// anti-correlated estimate (the input passes). Samples the NLP replaced keep
// their noise. The per-sample loop only keeps E and C and flags the samples
// with E > 2 C; this pass, rarely needed, recomputes E and C from the
// chunk's start (the same arithmetic, so the same values) and corrects the
// flagged samples: a branch and a division per sample in the loop cost the
// canceller a twentieth of its time (the test flips from sample to sample in
// speech pauses).
static void EC_FN(guard)(const ec_chunk *k, const float *echo,
                         float estimate_power, float cross_power, int16_t *out, int count) {
    for (int j = 0; j < count; j++) {
        float d = k->near[j];
        float estimate = echo[j];
        guard_step(&estimate_power, &cross_power, d, estimate);
        if (!(k->flags[j] & EC_FLAG_GUARD)) continue;
        float g = cross_power > 0 ? 2 * cross_power / estimate_power : 0;
        out[j] = round_to_int16(d - g * estimate);
    }
}

static int EC_FN(process)(ec_channel *c, const ec_chunk *k, const int16_t *reference,
                         const int16_t *near, int16_t *out, int count) {
    float *line = k->line;
    EC_FN(far_pass)(c, reference, line, count);
    // The foreground's echo estimate: lags 0...63 filtered here, plus the
    // tail's echo (prepared per block).
    float echo[EC_MDF_BLOCK] __attribute__((aligned(32)));
    EC_FN(fir_short_add)(k->head, line - (EC_MDF_BLOCK - 1), EC_MDF_BLOCK, k->tail_echo, echo, count);
    float estimate_power = c->guard_estimate_power, cross_power = c->guard_cross_power;
    int result = EC_FN(near_pass)(c, k, echo, reference, near, out, count);
    if (__builtin_expect(result & EC_NEAR_GUARD, 0)) EC_FN(guard)(k, echo, estimate_power, cross_power, out, count);
    return result & 1;
}

static int EC_FN(block_summary)(const uint8_t *flags, const float *near, const float *residual,
                                const float *background_error, float *learn_error, int count,
                                ec_block_sums *sums) {
    // Eight lanes of partial sums (the block is a multiple of 8 samples).
    typedef uint8_t vu8 __attribute__((vector_size(8), aligned(1)));
    vf8 background = {0}, foreground = {0}, near_energy = {0}, compared = {0}, talk = {0}, learn = {0};
    for (int j = 0; j < count; j += 8) {
        // Eight flag bytes at once, as 0/1 floats.
        vu8 f = *(const vu8 *)(flags + j);
        vf8 active = __builtin_convertvector(f & EC_FLAG_FAR_ACTIVE, vf8);
        vf8 doubling = __builtin_convertvector((f & EC_FLAG_DOUBLE_TALK) >> 1, vf8);
        vf8 b = *(const vf8 *)(background_error + j), r = *(const vf8 *)(residual + j);
        vf8 d = *(const vf8 *)(near + j);
        background += active * (b * b);
        foreground += active * (r * r);
        near_energy += active * (d * d);
        compared += active;
        vf8 both = active * doubling;
        talk += both;
        vf8 l = active - both;
        learn += l;
        *(vf8 *)(learn_error + j) = l * b;
    }
    float sum[6] = {0};
    for (int i = 0; i < 8; i++) {
        sum[0] += background[i];
        sum[1] += foreground[i];
        sum[2] += near_energy[i];
        sum[3] += compared[i];
        sum[4] += talk[i];
        sum[5] += learn[i];
    }
    sums->background_error_energy = sum[0];
    sums->foreground_error_energy = sum[1];
    sums->near_energy = sum[2];
    sums->compared = (int)sum[3];
    sums->double_talk = sum[4] > 0;
    return (int)sum[5];
}
