/*
 * SGD with momentum in place, as optimizers.ts's tensor ops round it (each op to float32, in order):
 * b ← b·mu + g; p ← p + b. The gradient arrives scaled by −lr, so b holds −lr times PyTorch's buffer.
 */
#include "simd.h"
#include "kernels.h"

void KERNEL(momentum)(float *restrict p, float *restrict b, const float *restrict g, int n, float mu) {
  for (int i = 0; i < n; i++) {
    float bi = b[i] * mu;
    bi = bi + g[i];
    b[i] = bi;
    p[i] = p[i] + bi;
  }
}
