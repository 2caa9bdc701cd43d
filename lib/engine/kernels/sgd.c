/* Plain SGD in place, the gradient as it is: p ← p − g·lr (a multiply, then a subtraction). */
#include "simd.h"
#include "kernels.h"

void KERNEL(sgd)(float *restrict p, const float *restrict g, int n, float lr) {
  for (int i = 0; i < n; i++) {
    float step = g[i] * lr;
    p[i] = p[i] - step;
  }
}
