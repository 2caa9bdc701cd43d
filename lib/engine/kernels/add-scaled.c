/* g ← g + p·factor in place: PyTorch's weight decay (L2), the decay times the weights added to the gradient. */
#include "simd.h"
#include "kernels.h"

void KERNEL(addScaled)(float *restrict g, const float *restrict p, int n, float factor) {
  for (int i = 0; i < n; i++) {
    float decay = p[i] * factor;
    g[i] = g[i] + decay;
  }
}
