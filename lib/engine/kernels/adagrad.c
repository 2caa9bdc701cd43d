/*
 * Adagrad in place, as optimizers.ts's tensor ops round it (each op to float32, in order):
 * s ← s + g·g; p ← p − (g / (√s + eps))·lr.
 */
#include "simd.h"
#include "kernels.h"

void KERNEL(adagrad)(float *restrict p, float *restrict s, const float *restrict g, int n, float lr, float eps) {
  for (int i = 0; i < n; i++) {
    float gi = g[i];
    float gg = gi * gi;
    float si = s[i] + gg;
    float root = __builtin_sqrtf(si);
    float step = gi / (root + eps);
    step = step * lr;
    s[i] = si;
    p[i] = p[i] - step;
  }
}
