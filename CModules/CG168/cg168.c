#include "cg168.h"
#include <spandsp/g168models.h>

#define MODEL(n) { line_model_d##n##_coeffs, (int)(sizeof(line_model_d##n##_coeffs) / sizeof(int32_t)), LINE_MODEL_D##n##_GAIN }

static const struct { const int32_t *coeffs; int length; float gain; } models[] = {
    MODEL(2), MODEL(3), MODEL(4), MODEL(5), MODEL(6), MODEL(7), MODEL(8), MODEL(9),
};

int cg168_model_count(void) { return (int)(sizeof(models) / sizeof(models[0])); }
int cg168_model_length(int i) { return (i >= 0 && i < cg168_model_count()) ? models[i].length : 0; }
const int32_t *cg168_model_coeffs(int i) { return (i >= 0 && i < cg168_model_count()) ? models[i].coeffs : 0; }
float cg168_model_gain(int i) { return (i >= 0 && i < cg168_model_count()) ? models[i].gain : 0.0f; }

const int32_t *g168_echo_path(int model, int *count, float *gain) {
    int index = model - 2;
    if (index < 0 || index >= cg168_model_count()) return 0;
    *count = models[index].length;
    *gain = models[index].gain;
    return models[index].coeffs;
}

const int *g168_css_voiced_c1(int *count) {
    *count = (int)(sizeof(css_c1) / sizeof(css_c1[0]));
    return css_c1;
}

const int *g168_css_voiced_c3(int *count) {
    *count = (int)(sizeof(css_c3) / sizeof(css_c3[0]));
    return css_c3;
}
