/*
 * Dropout in place, forward and backward alike: x[i] ← mask[i] ? x[i]·scale : +0, the mask one byte per element
 * (drawn by the TypeScript side from a seeded generator, so a run repeats), scale 1/(1 − rate). A dropped element
 * is +0 whatever x held (NaN and −0 included), not x·0.
 */
#include "simd.h"
#include "kernels.h"

void KERNEL(dropout)(float *restrict x, const unsigned char *restrict mask, int n, float scale) {
  for (int i = 0; i < n; i++) x[i] = mask[i] ? x[i] * scale : 0.0f;
}
