#ifndef CG168_H
#define CG168_H
#include <stdint.h>
// The ITU-T G.168 Annex D hybrid echo path models, as spandsp ships them in
// <spandsp/g168models.h>. That header defines its arrays without `static`, so it may be
// included by one translation unit only; this module is that unit.

/// Number of models (D.2 ... D.9).
int cg168_model_count(void);
/// Impulse response of model `index` (0 = D.2 ... 7 = D.9): coefficient count, or 0 if out of range.
int cg168_model_length(int index);
/// Coefficients of model `index`, integer-scaled as in G.168.
const int32_t *cg168_model_coeffs(int index);
/// The scale factor G.168 gives with each model (multiply coefficients by it).
float cg168_model_gain(int index);

/// The same models by G.168 model number (2 ... 9, as D.2 ... D.9): coefficients, with their
/// count and scale written through the pointers; NULL for an unknown model.
const int32_t *g168_echo_path(int model, int *count, float *gain);

/// The voiced segments of G.168's composite source signal (CSS), for speech-like test signals.
const int *g168_css_voiced_c1(int *count);
const int *g168_css_voiced_c3(int *count);
#endif
