/*
 * A batch's pixels to the first layer's input: `count` rows of `inputs` bytes → rows of inputs + 1 floats, each
 * byte / 255 (a float32 division, correctly rounded everywhere) and then a 1, the bias's input. The compiler
 * vectorizes the inner loop to the target's width.
 */
#include "simd.h"
#include "kernels.h"

void KERNEL(pixels)(const unsigned char *restrict src, float *restrict dst, int count, int inputs) {
  for (int row = 0; row < count; row++) {
    for (int i = 0; i < inputs; i++) dst[i] = (float)src[i] / 255.0f;
    dst[inputs] = 1.0f;
    src += inputs;
    dst += inputs + 1;
  }
}
