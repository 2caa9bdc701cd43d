/*
 * A batch's pixels to normalised planes: `count` images of `pixels` bytes → as many floats, each
 * ((byte / 255) − mean) · invStd, every operation rounded to float32 in that order. With mean 0 and invStd 1 that
 * is exactly byte / 255 (x − 0 and x · 1 are exact), pixels' value. For one channel, [count][pixels] is the planes
 * layout [1][B][H][W].
 */
#include <stddef.h>
#include "simd.h"
#include "kernels.h"

void KERNEL(planes)(const unsigned char *restrict src, float *restrict dst, int count, int pixels, float mean, float invStd) {
  ptrdiff_t n = (ptrdiff_t)count * pixels;
  for (ptrdiff_t i = 0; i < n; i++) {
    float x = (float)src[i] / 255.0f;
    x = x - mean;
    dst[i] = x * invStd;
  }
}
