/* x ← x·factor in place (tf.mul's rounding): an optimizer's state rescaled when the learning rate changes. */
#include "simd.h"
#include "kernels.h"

void KERNEL(scale)(float *x, int n, float factor) {
  for (int i = 0; i < n; i++) x[i] = x[i] * factor;
}
