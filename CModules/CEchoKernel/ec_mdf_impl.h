// Hot code of the MDF filter, compiled once per instruction set by ec_mdf.c
// (which defines EC_FN(name) to give each copy its own names and wraps the
// inclusion in a target attribute). Do not include elsewhere.

// ---------------------------------------------------------------------------
// FFT

#define SQRT1_2 0.70710678118654752f

// Eight FFT-8s in parallel, one per lane: r[n], i[n] hold sample n of each.
EC_INLINE void EC_FN(fft8_lanes)(vf8 *r, vf8 *i) {
    vf8 b0r = r[0] + r[4], b0i = i[0] + i[4];
    vf8 b1r = r[0] - r[4], b1i = i[0] - i[4];
    vf8 b2r = r[2] + r[6], b2i = i[2] + i[6];
    vf8 b3r = r[2] - r[6], b3i = i[2] - i[6];
    vf8 b4r = r[1] + r[5], b4i = i[1] + i[5];
    vf8 b5r = r[1] - r[5], b5i = i[1] - i[5];
    vf8 b6r = r[3] + r[7], b6i = i[3] + i[7];
    vf8 b7r = r[3] - r[7], b7i = i[3] - i[7];
    // FFT-4 of the even samples (E) and of the odd samples (O).
    vf8 e0r = b0r + b2r, e0i = b0i + b2i;
    vf8 e2r = b0r - b2r, e2i = b0i - b2i;
    vf8 e1r = b1r + b3i, e1i = b1i - b3r;
    vf8 e3r = b1r - b3i, e3i = b1i + b3r;
    vf8 o0r = b4r + b6r, o0i = b4i + b6i;
    vf8 o2r = b4r - b6r, o2i = b4i - b6i;
    vf8 o1r = b5r + b7i, o1i = b5i - b7r;
    vf8 o3r = b5r - b7i, o3i = b5i + b7r;
    // Twiddles W8^1 = (1 - i)/sqrt 2, W8^2 = -i, W8^3 = -(1 + i)/sqrt 2.
    vf8 t1r = (o1r + o1i) * SQRT1_2, t1i = (o1i - o1r) * SQRT1_2;
    vf8 t2r = o2i, t2i = -o2r;
    vf8 t3r = (o3i - o3r) * SQRT1_2, t3i = -(o3i + o3r) * SQRT1_2;
    r[0] = e0r + o0r; i[0] = e0i + o0i;
    r[4] = e0r - o0r; i[4] = e0i - o0i;
    r[1] = e1r + t1r; i[1] = e1i + t1i;
    r[5] = e1r - t1r; i[5] = e1i - t1i;
    r[2] = e2r + t2r; i[2] = e2i + t2i;
    r[6] = e2r - t2r; i[6] = e2i - t2i;
    r[3] = e3r + t3r; i[3] = e3i + t3i;
    r[7] = e3r - t3r; i[7] = e3i - t3i;
}

EC_INLINE void EC_FN(transpose8)(vf8 *v) {
    vf8 t0 = __builtin_shufflevector(v[0], v[1], 0, 8, 1, 9, 4, 12, 5, 13);
    vf8 t1 = __builtin_shufflevector(v[0], v[1], 2, 10, 3, 11, 6, 14, 7, 15);
    vf8 t2 = __builtin_shufflevector(v[2], v[3], 0, 8, 1, 9, 4, 12, 5, 13);
    vf8 t3 = __builtin_shufflevector(v[2], v[3], 2, 10, 3, 11, 6, 14, 7, 15);
    vf8 t4 = __builtin_shufflevector(v[4], v[5], 0, 8, 1, 9, 4, 12, 5, 13);
    vf8 t5 = __builtin_shufflevector(v[4], v[5], 2, 10, 3, 11, 6, 14, 7, 15);
    vf8 t6 = __builtin_shufflevector(v[6], v[7], 0, 8, 1, 9, 4, 12, 5, 13);
    vf8 t7 = __builtin_shufflevector(v[6], v[7], 2, 10, 3, 11, 6, 14, 7, 15);
    vf8 s0 = __builtin_shufflevector(t0, t2, 0, 1, 8, 9, 4, 5, 12, 13);
    vf8 s1 = __builtin_shufflevector(t0, t2, 2, 3, 10, 11, 6, 7, 14, 15);
    vf8 s2 = __builtin_shufflevector(t1, t3, 0, 1, 8, 9, 4, 5, 12, 13);
    vf8 s3 = __builtin_shufflevector(t1, t3, 2, 3, 10, 11, 6, 7, 14, 15);
    vf8 s4 = __builtin_shufflevector(t4, t6, 0, 1, 8, 9, 4, 5, 12, 13);
    vf8 s5 = __builtin_shufflevector(t4, t6, 2, 3, 10, 11, 6, 7, 14, 15);
    vf8 s6 = __builtin_shufflevector(t5, t7, 0, 1, 8, 9, 4, 5, 12, 13);
    vf8 s7 = __builtin_shufflevector(t5, t7, 2, 3, 10, 11, 6, 7, 14, 15);
    v[0] = __builtin_shufflevector(s0, s4, 0, 1, 2, 3, 8, 9, 10, 11);
    v[4] = __builtin_shufflevector(s0, s4, 4, 5, 6, 7, 12, 13, 14, 15);
    v[1] = __builtin_shufflevector(s1, s5, 0, 1, 2, 3, 8, 9, 10, 11);
    v[5] = __builtin_shufflevector(s1, s5, 4, 5, 6, 7, 12, 13, 14, 15);
    v[2] = __builtin_shufflevector(s2, s6, 0, 1, 2, 3, 8, 9, 10, 11);
    v[6] = __builtin_shufflevector(s2, s6, 4, 5, 6, 7, 12, 13, 14, 15);
    v[3] = __builtin_shufflevector(s3, s7, 0, 1, 2, 3, 8, 9, 10, 11);
    v[7] = __builtin_shufflevector(s3, s7, 4, 5, 6, 7, 12, 13, 14, 15);
}

// In-place 64-point complex DFT (unnormalised, W64 = exp(-2 pi i / 64)) of
// z[8j + l] = r[j] lane l + i * i[j] lane l, result in the same layout.
EC_INLINE void EC_FN(fft64)(vf8 *r, vf8 *i) {
    EC_FN(fft8_lanes)(r, i);
    for (int k = 1; k < 8; k++) {
        vf8 wr = *(const vf8 *)(ec_fft_t64_re + 8 * k);
        vf8 wi = *(const vf8 *)(ec_fft_t64_im + 8 * k);
        vf8 xr = r[k], xi = i[k];
        r[k] = xr * wr - xi * wi;
        i[k] = xr * wi + xi * wr;
    }
    EC_FN(transpose8)(r);
    EC_FN(transpose8)(i);
    EC_FN(fft8_lanes)(r, i);
}

// X = DFT128(x) for real x[0..127], packed into re[64], im[64].
EC_INLINE void EC_FN(rfft128)(const float *x, float *re, float *im) {
    vf8 r[8], i[8];
    for (int j = 0; j < 8; j++) {
        vf8 a = *(const vf8 *)(x + 16 * j), b = *(const vf8 *)(x + 16 * j + 8);
        r[j] = __builtin_shufflevector(a, b, 0, 2, 4, 6, 8, 10, 12, 14);
        i[j] = __builtin_shufflevector(a, b, 1, 3, 5, 7, 9, 11, 13, 15);
    }
    EC_FN(fft64)(r, i);
    // Split: Z[k] and conj(Z[64 - k]) give the even and odd samples' spectra.
    float nyquist = r[0][0] - i[0][0];
    vf8 xr[8], xi[8];
    for (int c = 0; c < 8; c++) {
        vf8 mr = __builtin_shufflevector(r[7 - c], r[(8 - c) & 7], 8, 7, 6, 5, 4, 3, 2, 1);
        vf8 mi = __builtin_shufflevector(i[7 - c], i[(8 - c) & 7], 8, 7, 6, 5, 4, 3, 2, 1);
        vf8 fer = 0.5f * (r[c] + mr), fei = 0.5f * (i[c] - mi);
        vf8 for_ = 0.5f * (i[c] + mi), foi = -0.5f * (r[c] - mr);
        vf8 wr = *(const vf8 *)(ec_fft_w128_re + 8 * c);
        vf8 wi = *(const vf8 *)(ec_fft_w128_im + 8 * c);
        xr[c] = fer + wr * for_ - wi * foi;
        xi[c] = fei + wr * foi + wi * for_;
    }
    xi[0][0] = nyquist;
    for (int c = 0; c < 8; c++) {
        *(vf8 *)(re + 8 * c) = xr[c];
        *(vf8 *)(im + 8 * c) = xi[c];
    }
}

// x = IDFT128(X) (with the 1/128) from a packed spectrum. Writes the
// samples [first, first + 64) of the 128 to out; first is 0 or 64.
EC_INLINE void EC_FN(irfft128_half)(const float *re, const float *im, float *out, int first) {
    vf8 xr[8], xi[8];
    for (int c = 0; c < 8; c++) {
        xr[c] = *(const vf8 *)(re + 8 * c);
        xi[c] = *(const vf8 *)(im + 8 * c);
    }
    float nyquist = xi[0][0];
    xi[0][0] = 0;
    // Fe = (X[k] + conj X[64-k]) / 2, Fo = (X[k] - conj X[64-k]) conj(W^k) / 2,
    // Z = Fe + i Fo; the 1/64 of the inverse FFT-64 is folded in.
    const float half = 0.5f / 64;
    vf8 zr[8], zi[8];
    for (int c = 0; c < 8; c++) {
        vf8 mr = __builtin_shufflevector(xr[7 - c], xr[(8 - c) & 7], 8, 7, 6, 5, 4, 3, 2, 1);
        vf8 mi = __builtin_shufflevector(xi[7 - c], xi[(8 - c) & 7], 8, 7, 6, 5, 4, 3, 2, 1);
        if (c == 0) {
            mr[0] = nyquist;
            mi[0] = 0;
        }
        vf8 fer = half * (xr[c] + mr), fei = half * (xi[c] - mi);
        vf8 dr = half * (xr[c] - mr), di = half * (xi[c] + mi);
        vf8 wr = *(const vf8 *)(ec_fft_w128_re + 8 * c);
        vf8 wi = *(const vf8 *)(ec_fft_w128_im + 8 * c);
        // (dr + i di)(wr - i wi)
        vf8 for_ = dr * wr + di * wi, foi = di * wr - dr * wi;
        zr[c] = fer - foi;
        zi[c] = fei + for_;
    }
    // Inverse FFT as a forward FFT with real and imaginary parts swapped.
    EC_FN(fft64)(zi, zr);
    int j0 = first / 16;
    for (int j = j0; j < j0 + 4; j++) {
        vf8 a = __builtin_shufflevector(zr[j], zi[j], 0, 8, 1, 9, 2, 10, 3, 11);
        vf8 b = __builtin_shufflevector(zr[j], zi[j], 4, 12, 5, 13, 6, 14, 7, 15);
        *(vf8 *)(out + 16 * (j - j0)) = a;
        *(vf8 *)(out + 16 * (j - j0) + 8) = b;
    }
}

// Exposed for the tests: full transforms, out-of-place.
static void EC_FN(fft_real128)(const float *x, float *re, float *im) {
    float buffer[FRAME] __attribute__((aligned(64)));
    memcpy(buffer, x, sizeof buffer);
    float sr[BLOCK] __attribute__((aligned(64))), si[BLOCK] __attribute__((aligned(64)));
    EC_FN(rfft128)(buffer, sr, si);
    memcpy(re, sr, sizeof sr);
    memcpy(im, si, sizeof si);
}

static void EC_FN(fft_inverse_real128)(const float *re, const float *im, float *x) {
    float sr[BLOCK] __attribute__((aligned(64))), si[BLOCK] __attribute__((aligned(64)));
    memcpy(sr, re, sizeof sr);
    memcpy(si, im, sizeof si);
    float out[FRAME] __attribute__((aligned(64)));
    EC_FN(irfft128_half)(sr, si, out, 0);
    EC_FN(irfft128_half)(sr, si, out + BLOCK, BLOCK);
    memcpy(x, out, sizeof out);
}

static inline const float *EC_FN(spectrum_at)(const ec_mdf *s, int age) {
    int m = s->partitions;
    int slot = s->newest - age;
    if (slot < 0) slot += m;
    return s->spectra + (size_t)slot * SPECTRUM;
}

// Sum over partitions of W[p] X(b - p - age0), p in [first, partitions).
EC_INLINE void EC_FN(filter_spectrum)(const ec_mdf *s, const float *w, int first, int age0,
                               float *restrict yr, float *restrict yi) {
    float dc = 0, ny = 0;
    for (int k = 0; k < BLOCK; k++) yr[k] = yi[k] = 0;
    for (int p = first; p < s->partitions; p++) {
        const float *restrict wr = w + (size_t)p * SPECTRUM, *restrict wi = wr + BLOCK;
        const float *restrict xr = EC_FN(spectrum_at)(s, p - first + age0), *restrict xi = xr + BLOCK;
        dc += wr[0] * xr[0];
        ny += wi[0] * xi[0];
        for (int k = 0; k < BLOCK; k++) {
            yr[k] += wr[k] * xr[k] - wi[k] * xi[k];
            yi[k] += wr[k] * xi[k] + wi[k] * xr[k];
        }
    }
    yr[0] = dc;
    yi[0] = ny;
}

static void EC_FN(filter_background)(ec_mdf *s, const float *frame, const float *near, float *error) {
    int m = s->partitions;
    s->newest = s->newest + 1 == m ? 0 : s->newest + 1;
    float *x = s->spectra + (size_t)s->newest * SPECTRUM;
    float buffer[FRAME] __attribute__((aligned(64)));
    memcpy(buffer, frame, sizeof buffer);
    EC_FN(rfft128)(buffer, x, x + BLOCK);

    // One pass over the reference spectra: the background's echo for block
    // b (partition p with X(b - p)), the foreground's tail echo for block
    // b + 1 (partition p + 1 with X(b - p)), and the gain-weighted power of
    // the spectra (the step normaliser). Bins go 32 at a time in the outer
    // loop so that the sums stay in registers across the partitions.
    const float *xs[EC_MDF_MAX_PARTITIONS];
    for (int p = 0; p < m; p++) xs[p] = EC_FN(spectrum_at)(s, p);
    float br[BLOCK] __attribute__((aligned(64))), bi[BLOCK] __attribute__((aligned(64)));
    float fr[BLOCK] __attribute__((aligned(64))), fi[BLOCK] __attribute__((aligned(64)));
    float *restrict d = s->power;
    const float *restrict gains = s->gains;
    const float *restrict background = s->background;
    const float *restrict foreground = s->foreground;
    for (int c = 0; c < BLOCK; c += 32) {
        // Two groups of 16 bins per pass share the pointer and gain loads;
        // the ten sums stay in registers (32 zmm).
        vf16 ar0 = {0}, ai0 = {0}, vr0 = {0}, vi0 = {0}, pw0 = {0};
        vf16 ar1 = {0}, ai1 = {0}, vr1 = {0}, vi1 = {0}, pw1 = {0};
#define EC_ACCUMULATE_BACKGROUND(k, ar, ai, pw, a, b)                  \
    do {                                                               \
        const float *w_ = background + (size_t)p * SPECTRUM + (k);     \
        vf16 wr_ = *(const vf16 *)w_, wi_ = *(const vf16 *)(w_ + BLOCK); \
        /* One product per statement: each is a fused multiply-add. */ \
        ar += wr_ * a;                                                 \
        ar -= wi_ * b;                                                 \
        ai += wr_ * b;                                                 \
        ai += wi_ * a;                                                 \
        vf16 xx_ = a * a;                                              \
        xx_ += b * b;                                                  \
        pw += g * xx_;                                                 \
    } while (0)
#define EC_ACCUMULATE_FOREGROUND(k, vr, vi, a, b)                          \
    do {                                                                   \
        const float *v_ = foreground + (size_t)(p + 1) * SPECTRUM + (k);   \
        vf16 ur_ = *(const vf16 *)v_, ui_ = *(const vf16 *)(v_ + BLOCK);   \
        vr += ur_ * a;                                                     \
        vr -= ui_ * b;                                                     \
        vi += ur_ * b;                                                     \
        vi += ui_ * a;                                                     \
    } while (0)
        for (int p = 0; p < m; p++) {
            float g = gains[p];
            vf16 a0 = *(const vf16 *)(xs[p] + c), b0 = *(const vf16 *)(xs[p] + BLOCK + c);
            vf16 a1 = *(const vf16 *)(xs[p] + c + 16), b1 = *(const vf16 *)(xs[p] + BLOCK + c + 16);
            EC_ACCUMULATE_BACKGROUND(c, ar0, ai0, pw0, a0, b0);
            EC_ACCUMULATE_BACKGROUND(c + 16, ar1, ai1, pw1, a1, b1);
            if (p + 1 < m) {
                EC_ACCUMULATE_FOREGROUND(c, vr0, vi0, a0, b0);
                EC_ACCUMULATE_FOREGROUND(c + 16, vr1, vi1, a1, b1);
            }
        }
#undef EC_ACCUMULATE_BACKGROUND
#undef EC_ACCUMULATE_FOREGROUND
        *(vf16 *)(br + c) = ar0;
        *(vf16 *)(bi + c) = ai0;
        *(vf16 *)(fr + c) = vr0;
        *(vf16 *)(fi + c) = vi0;
        *(vf16 *)(d + c) = pw0;
        *(vf16 *)(br + c + 16) = ar1;
        *(vf16 *)(bi + c + 16) = ai1;
        *(vf16 *)(fr + c + 16) = vr1;
        *(vf16 *)(fi + c + 16) = vi1;
        *(vf16 *)(d + c + 16) = pw1;
    }
    // Bins 0 and 64 are real and share lane 0 (re[0], im[0]).
    float b_dc = 0, b_ny = 0, f_dc = 0, f_ny = 0, d_dc = 0, d_ny = 0;
    for (int p = 0; p < m; p++) {
        const float *xr = xs[p], *xi = xr + BLOCK;
        const float *wr = background + (size_t)p * SPECTRUM, *wi = wr + BLOCK;
        b_dc += wr[0] * xr[0];
        b_ny += wi[0] * xi[0];
        d_dc += gains[p] * xr[0] * xr[0];
        d_ny += gains[p] * xi[0] * xi[0];
        if (p + 1 < m) {
            const float *vr = foreground + (size_t)(p + 1) * SPECTRUM, *vi = vr + BLOCK;
            f_dc += vr[0] * xr[0];
            f_ny += vi[0] * xi[0];
        }
    }
    br[0] = b_dc;
    bi[0] = b_ny;
    fr[0] = f_dc;
    fi[0] = f_ny;
    d[0] = d_dc;
    d[BLOCK] = d_ny;

    float y[BLOCK] __attribute__((aligned(64)));
    EC_FN(irfft128_half)(br, bi, y, BLOCK);
    for (int j = 0; j < BLOCK; j++) error[j] = near[j] - y[j];
    if (m > 1) EC_FN(irfft128_half)(fr, fi, s->tail, BLOCK);
}

// Gradient constraint of one partition: back to the time domain, the second
// half (the circular-convolution part) cleared, forward again. Returns the
// first half in `taps` (may be NULL).
EC_INLINE void EC_FN(constrain)(float *w, float *taps) {
    float t[FRAME] __attribute__((aligned(64)));
    EC_FN(irfft128_half)(w, w + BLOCK, t, 0);
    memset(t + BLOCK, 0, sizeof(float) * BLOCK);
    if (taps) memcpy(taps, t, sizeof(float) * BLOCK);
    EC_FN(rfft128)(t, w, w + BLOCK);
}

static void EC_FN(adapt)(ec_mdf *s, const float *error, float step, float regularisation,
                  float proportionality) {
    int m = s->partitions;
    float frame[FRAME] __attribute__((aligned(64)));
    memset(frame, 0, sizeof(float) * BLOCK);
    memcpy(frame + BLOCK, error, sizeof(float) * BLOCK);
    float *restrict er = s->work, *restrict ei = s->work + BLOCK;
    EC_FN(rfft128)(frame, er, ei);
    // F = E / (D + delta); the factor 2 makes `step` the NLMS-equivalent
    // step (DFT-128 power of a 64-sample block is 128 times its mean square,
    // the gains sum to about one).
    const float *restrict d = s->power;
    float delta = regularisation * FRAME;
    float fny = ei[0] / (d[BLOCK] + delta);
    for (int k = 0; k < BLOCK; k++) {
        float inv = 1.0f / (d[k] + delta);
        er[k] *= inv;
        ei[k] *= inv;
    }
    ei[0] = fny;
    // Update, and the partitions' L2 norms (Parseval) for the proportionate
    // gains, while each partition is in cache: half of them per step (even
    // and odd partitions in turn), the others keep the norm of the step
    // before (a partition's norm moves little in one step).
    float *restrict norms = s->norms;
    const int parity = s->norm_parity;
    s->norm_parity = parity ^ 1;
    // F in locals: the coefficient stores below go through may_alias vector
    // types, so reading F from memory would reload it for every partition.
    vf16 fr[BLOCK / 16], fi[BLOCK / 16];
    for (int c = 0; c < BLOCK / 16; c++) {
        fr[c] = *(const vf16 *)(er + 16 * c);
        fi[c] = *(const vf16 *)(ei + 16 * c);
    }
    const float f_dc = er[0], f_ny = ei[0];
    for (int p = 0; p < m; p++) {
        float *restrict wr = s->background + (size_t)p * SPECTRUM, *restrict wi = wr + BLOCK;
        const float *restrict xr = EC_FN(spectrum_at)(s, p), *restrict xi = xr + BLOCK;
        float mu = 2 * step * s->gains[p];
        float dc = wr[0] + mu * xr[0] * f_dc;
        float ny = wi[0] + mu * xi[0] * f_ny;
        const int measure = (p & 1) == parity;
        vf16 acc = {0};
        for (int c = 0; c < BLOCK / 16; c++) {
            vf16 a = *(const vf16 *)(xr + 16 * c), b = *(const vf16 *)(xi + 16 * c);
            vf16 u = fr[c], v = fi[c];
            // W += mu conj(X) F
            vf16 nr = *(const vf16 *)(wr + 16 * c) + mu * (a * u + b * v);
            vf16 ni = *(const vf16 *)(wi + 16 * c) + mu * (a * v - b * u);
            if (c == 0) {
                nr[0] = dc;
                ni[0] = ny;
            }
            *(vf16 *)(wr + 16 * c) = nr;
            *(vf16 *)(wi + 16 * c) = ni;
            if (measure) acc += nr * nr + ni * ni;
        }
        if (measure) {
            vf8 half = __builtin_shufflevector(acc, acc, 0, 1, 2, 3, 4, 5, 6, 7) +
                       __builtin_shufflevector(acc, acc, 8, 9, 10, 11, 12, 13, 14, 15);
            float e = ((half[0] + half[1]) + (half[2] + half[3])) + ((half[4] + half[5]) + (half[6] + half[7]));
            e = 2 * e - dc * dc - ny * ny;
            norms[p] = __builtin_sqrtf(e > 0 ? e : 0);
        }
    }
    float total = 0;
    for (int p = 0; p < m; p++) total += norms[p];
    // The constraint (one partition per adaptation, in turn; from 16
    // partitions (1024 taps) on, one every other adaptation, so that each
    // partition's circular part is removed every 2 m steps) changes a norm
    // only by the circular part it removes; the gains use the norms from
    // above. Measured on the G.168 cases: every other step saves its two
    // transforms half the time at 1024 taps for 0.15 dB of ERLE (median
    // time to 20 dB 0.85 -> 0.90 s, limit 1.5 s), but at 256 taps it moves
    // the median time to 20 dB from 0.45 s to the 0.5 s limit.
    int every = m >= 16 ? 2 : 1;
    int q = s->next_constraint;
    if (q % every == 0) EC_FN(constrain)(s->background + (size_t)(q / every) * SPECTRUM, NULL);
    s->next_constraint = q + 1 == every * m ? 0 : q + 1;

    float uniform = (1 - proportionality) / (2 * (float)m);
    float scale = (1 + proportionality) / (2 * total + 1e-6f);
    for (int p = 0; p < m; p++) s->gains[p] = uniform + scale * norms[p];
}

static void EC_FN(prepare_foreground)(ec_mdf *s) {
    if (s->partitions == 1) return;
    float *restrict yr = s->work, *restrict yi = s->work + BLOCK;
    // Partition p >= 1 of block b + 1 reads the spectrum X(b + 1 - p).
    EC_FN(filter_spectrum)(s, s->foreground, 1, 0, yr, yi);
    EC_FN(irfft128_half)(yr, yi, s->tail, BLOCK);
}

static void EC_FN(copy_to_foreground)(ec_mdf *s) {
    float taps[BLOCK] __attribute__((aligned(64)));
    EC_FN(constrain)(s->background, taps);
    for (int k = 0; k < BLOCK; k++) s->head[BLOCK - 1 - k] = taps[k];
    memcpy(s->foreground, s->background, sizeof(float) * (size_t)s->partitions * SPECTRUM);
    EC_FN(prepare_foreground)(s);
}

