/*
 * [rows][cols] floats → [cols][rows], for the step's activations in both orientations. Each output row is one
 * column of the input, read down with a stride and written contiguously.
 */
#include <stddef.h>
#include "simd.h"
#include "kernels.h"

void KERNEL(transpose)(const float *restrict src, float *restrict dst, int rows, int cols) {
  for (int col = 0; col < cols; col++) {
    for (int row = 0; row < rows; row++) dst[row] = src[(ptrdiff_t)row * cols + col];
    dst += rows;
  }
}
