// Vector loops of CEchoKernel.h (ec_kernel_*), compiled once per
// instruction set by ec_kernel.c and ec_channel.c (EC_FN gives each copy its
// names). Do not include elsewhere.

static float EC_FN(fir)(const float *h, const float *x, int taps) {
    vf16 a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
    for (int k = 0; k < taps; k += 64) {
        a0 += LOAD16(h + k) * LOAD16(x + k);
        a1 += LOAD16(h + k + 16) * LOAD16(x + k + 16);
        a2 += LOAD16(h + k + 32) * LOAD16(x + k + 32);
        a3 += LOAD16(h + k + 48) * LOAD16(x + k + 48);
    }
    float result;
    SUM16((a0 + a1) + (a2 + a3), result);
    return result;
}

static void EC_FN(fir_block)(const float *h, const float *x, int taps, float *y, int count) {
    // Four outputs share each coefficient load, which halves the memory
    // traffic compared with four independent dot products.
    int j = 0;
    for (; j + 4 <= count; j += 4) {
        const float *xj = x + j;
        vf16 a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
        for (int k = 0; k < taps; k += 16) {
            vf16 hk = LOAD16(h + k);
            a0 += hk * LOAD16(xj + k);
            a1 += hk * LOAD16(xj + k + 1);
            a2 += hk * LOAD16(xj + k + 2);
            a3 += hk * LOAD16(xj + k + 3);
        }
        SUM16(a0, y[j]);
        SUM16(a1, y[j + 1]);
        SUM16(a2, y[j + 2]);
        SUM16(a3, y[j + 3]);
    }
    // Same summation order as above, so an output does not depend on how
    // many outputs were requested together.
    for (; j < count; j++) {
        const float *xj = x + j;
        vf16 a0 = {0};
        for (int k = 0; k < taps; k += 16) a0 += LOAD16(h + k) * LOAD16(xj + k);
        SUM16(a0, y[j]);
    }
}

static float EC_FN(energy)(const float *x, int taps) {
    vf16 p0 = {0}, p1 = {0};
    for (int k = 0; k < taps; k += 32) {
        vf16 x0 = LOAD16(x + k), x1 = LOAD16(x + k + 16);
        p0 += x0 * x0;
        p1 += x1 * x1;
    }
    float result;
    SUM16(p0 + p1, result);
    return result;
}


#include "ec_fir_short_impl.h"

static void EC_FN(fir_short)(const float *h, const float *x, int taps, float *y, int count) {
    EC_FN(fir_short_add)(h, x, taps, NULL, y, count);
}
