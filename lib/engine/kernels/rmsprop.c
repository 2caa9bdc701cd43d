/*
 * RMSprop in place (not centered, no momentum), as optimizers.ts's tensor ops round it (each op to float32, in
 * order): a ← a·alpha + g·g; p ← p − (g / (√a + eps))·stepSize. optimizers.ts keeps a scaled by 1/(1−α) and
 * folds the scale into eps and stepSize.
 */
#include "simd.h"
#include "kernels.h"

void KERNEL(rmsprop)(float *restrict p, float *restrict a, const float *restrict g, int n, float alpha, float stepSize, float eps) {
  for (int i = 0; i < n; i++) {
    float gi = g[i];
    float ai = a[i] * alpha;
    float gg = gi * gi;
    ai = ai + gg;
    float root = __builtin_sqrtf(ai);
    float step = gi / (root + eps);
    step = step * stepSize;
    a[i] = ai;
    p[i] = p[i] - step;
  }
}
