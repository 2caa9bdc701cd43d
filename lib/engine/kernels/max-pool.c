/*
 * Max pooling over planes ([planes][H][W], a plane per channel and image), valid windows only, and its gradient.
 * The window is scanned row by row from its top left, and a value replaces the maximum so far where it is greater
 * or NaN: PyTorch's CPU rule (aten/src/ATen/native/cpu/MaxPoolKernel.cpp), so ties keep the first maximum and a
 * window holding a NaN gives NaN, its argmax the last NaN. Comparisons only: the same bits on every target.
 */
#include <stddef.h>
#include "simd.h"
#include "kernels.h"

/* The greater-or-NaN rule for one more value of the window, in scan order. */
#define CONSIDER(value, index) do { float v = (value); int k = (index); if (v > max || v != v) max = v, at = k; } while (0)

void KERNEL(maxPool)(const float *restrict src, float *restrict dst, int *restrict argmax, int planes, int H, int W, int size, int stride, int OH, int OW) {
  for (int p = 0; p < planes; p++) {
    const float *plane = src + (ptrdiff_t)p * H * W;
    if (size == 2 && stride == 2) {
      /* The nets' pooling, its four values in the same scan order, straight-line, so the compiler can keep a row of
         outputs in vectors. */
      for (int oy = 0; oy < OH; oy++) {
        const float *top = plane + (ptrdiff_t)2 * oy * W, *bottom = top + W;
        int index = 2 * oy * W;
        for (int ox = 0; ox < OW; ox++) {
          float max = -__builtin_inff();
          int at = index + 2 * ox;
          CONSIDER(top[2 * ox], index + 2 * ox);
          CONSIDER(top[2 * ox + 1], index + 2 * ox + 1);
          CONSIDER(bottom[2 * ox], index + W + 2 * ox);
          CONSIDER(bottom[2 * ox + 1], index + W + 2 * ox + 1);
          dst[ox] = max;
          argmax[ox] = at;
        }
        dst += OW;
        argmax += OW;
      }
      continue;
    }
    for (int oy = 0; oy < OH; oy++) {
      for (int ox = 0; ox < OW; ox++) {
        int top = oy * stride, left = ox * stride;
        float max = -__builtin_inff();
        int at = top * W + left;
        for (int y = top; y < top + size; y++) {
          for (int x = left; x < left + size; x++) {
            CONSIDER(plane[y * W + x], y * W + x);
          }
        }
        *dst++ = max;
        *argmax++ = at;
      }
    }
  }
}

void KERNEL(maxPoolBackward)(const float *restrict dOut, const int *restrict argmax, float *restrict dIn, int planes, int H, int W, int OH, int OW) {
  unsigned pixels = (unsigned)H * (unsigned)W;
  for (ptrdiff_t at = 0; at < (ptrdiff_t)planes * pixels; at++) dIn[at] = 0.0f;
  for (int p = 0; p < planes; p++) {
    float *plane = dIn + (ptrdiff_t)p * pixels;
    for (int o = 0; o < OH * OW; o++) {
      unsigned at = (unsigned)*argmax++;
      float d = *dOut++;
      /* An index outside the plane (never one maxPool wrote) is skipped, so no call writes outside dIn. */
      if (at < pixels) plane[at] = plane[at] + d;
    }
  }
}
