/* Plain SGD in place: p ← p + g, the gradient arriving scaled by −lr (tf.add's rounding). */
#include "simd.h"
#include "kernels.h"

void KERNEL(addTo)(float *restrict p, const float *restrict g, int n) {
  for (int i = 0; i < n; i++) p[i] = p[i] + g[i];
}
