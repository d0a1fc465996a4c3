// Head of the foreground filter (see ec_kernel_fir_short), compiled into
// ec_kernel.c and, inlined, into ec_channel.c, where each output also gets
// the tail's echo added (`add`, NULL for none) before it is stored.
static inline __attribute__((always_inline)) void EC_FN(fir_short_add)(const float *h, const float *x, int taps,
                                                                      const float *add, float *y, int count) {
    // Eight outputs per pass. Each output gets its own 16-lane accumulator
    // (taps in lanes), then the eight accumulators are reduced together by
    // shuffles: at every step lane i of an output is added to lane i + 8,
    // + 4, + 2, + 1 of the same output, so every output is computed with the
    // same operations in the same order whatever its position in the pass.
    for (int j = 0; j < count; j += 8) {
        const float *xj = x + j;
        vf16 a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0}, a4 = {0}, a5 = {0}, a6 = {0}, a7 = {0};
        for (int k = 0; k < taps; k += 16) {
            vf16 hk = LOAD16(h + k);
            a0 += hk * LOAD16(xj + k);
            a1 += hk * LOAD16(xj + k + 1);
            a2 += hk * LOAD16(xj + k + 2);
            a3 += hk * LOAD16(xj + k + 3);
            a4 += hk * LOAD16(xj + k + 4);
            a5 += hk * LOAD16(xj + k + 5);
            a6 += hk * LOAD16(xj + k + 6);
            a7 += hk * LOAD16(xj + k + 7);
        }
#define FOLD8(p, q)                                                                                    \
    (__builtin_shufflevector(p, q, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23) +           \
     __builtin_shufflevector(p, q, 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31))
#define FOLD4(p, q)                                                                                    \
    (__builtin_shufflevector(p, q, 0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27) +         \
     __builtin_shufflevector(p, q, 4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31))
#define FOLD2(p, q)                                                                                    \
    (__builtin_shufflevector(p, q, 0, 1, 4, 5, 8, 9, 12, 13, 16, 17, 20, 21, 24, 25, 28, 29) +         \
     __builtin_shufflevector(p, q, 2, 3, 6, 7, 10, 11, 14, 15, 18, 19, 22, 23, 26, 27, 30, 31))
        // FOLD8: lanes 0-7 of output A then of output B (each i + (i + 8));
        // FOLD4 on two such pairs: four lanes for each of four outputs; FOLD2:
        // two lanes for each of eight outputs; the last step adds the pairs.
        vf16 b01 = FOLD8(a0, a1), b23 = FOLD8(a2, a3), b45 = FOLD8(a4, a5), b67 = FOLD8(a6, a7);
        vf16 c0123 = FOLD4(b01, b23), c4567 = FOLD4(b45, b67);
        vf16 d = FOLD2(c0123, c4567);
        vf8 sum = __builtin_shufflevector(d, d, 0, 2, 4, 6, 8, 10, 12, 14) +
                  __builtin_shufflevector(d, d, 1, 3, 5, 7, 9, 11, 13, 15);
#undef FOLD8
#undef FOLD4
#undef FOLD2
        if (count - j >= 8) {
            // One vector store rather than eight lane extractions.
            if (add) sum += *(const vf8 *)(add + j);
            *(vf8 *)(y + j) = sum;
        } else {
            for (int i = 0; i < count - j; i++) y[j + i] = add ? sum[i] + add[j + i] : sum[i];
        }
    }
}
