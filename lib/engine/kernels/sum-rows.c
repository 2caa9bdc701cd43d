/*
 * dst[r] = Σ_c src[r][c], from 0 over c in order (bias gradients: a layer's output gradient summed over the
 * batch). One sum is one chain of adds, each waiting on the last; eight rows go side by side so eight chains are
 * under way, which changes no sum's order.
 */
#include <stddef.h>
#include "simd.h"
#include "kernels.h"

#define ROWS 8

void KERNEL(sumRows)(const float *restrict src, float *restrict dst, int rows, int cols) {
  int r = 0;
  for (; r + ROWS <= rows; r += ROWS) {
    float sum[ROWS] = {0};
    const float *row = src + (ptrdiff_t)r * cols;
    for (int c = 0; c < cols; c++) {
      for (int k = 0; k < ROWS; k++) sum[k] = sum[k] + row[(ptrdiff_t)k * cols + c];
    }
    for (int k = 0; k < ROWS; k++) dst[r + k] = sum[k];
  }
  for (; r < rows; r++) {
    float sum = 0.0f;
    const float *row = src + (ptrdiff_t)r * cols;
    for (int c = 0; c < cols; c++) sum = sum + row[c];
    dst[r] = sum;
  }
}
