/*
 * Dropout in place, forward and backward alike: x[i] ← mask[i] ? x[i]·scale : +0, the mask one byte per element
 * (drawn by the TypeScript side from a seeded generator, so a run repeats), scale 1/(1 − rate). A dropped element
 * is +0 whatever x held (NaN and −0 included), not x·0: the product's bits ANDed with all ones or all zeros.
 * LANES elements at a time (their mask bytes widened to ints, compared with 0), then the rest one by one.
 */
#include <stddef.h>
#include "simd.h"
#include "kernels.h"

typedef unsigned char u8xL __attribute__((vector_size(LANES), aligned(1), may_alias));
#define V F32X(LANES)
#define VI I32X(LANES)

void KERNEL(dropout)(float *restrict x, const unsigned char *restrict mask, int n, float scale) {
  int i = 0;
  for (; i + LANES <= n; i += LANES) {
    VI keep = __builtin_convertvector(*(const u8xL *)(mask + i), VI) != (VI){0};
    V kept = *(V *)(x + i) * scale;
    *(V *)(x + i) = (V)((VI)kept & keep);
  }
  for (; i < n; i++) x[i] = mask[i] ? x[i] * scale : 0.0f;
}
