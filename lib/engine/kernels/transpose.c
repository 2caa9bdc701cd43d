/*
 * [rows][cols] floats → [cols][rows], for the step's activations in both orientations, the conv layers' output
 * gradients and flatten. In tiles of TILE × TILE floats, a tile in 4 × 4 blocks each transposed in registers (four
 * 4-float loads, eight shuffles, four stores): a tile reads TILE rows of the input and writes TILE rows of the
 * output, a cache line of each, so both stay in L1 whatever the strides (a column read straight down a
 * [64][36864] matrix would touch a new line, and a new page, at every float). Edges narrower than 4 go one float
 * at a time.
 *
 * The blocks run along the side with the longer rows, so that the lines reused from block to block are the other
 * side's: a long row can be a multiple of 4 KiB (36864 floats), which puts all of a tile's lines in one L1 set,
 * more than it holds.
 */
#include <stddef.h>
#include "simd.h"
#include "kernels.h"

#define TILE 16

/* The 4 × 4 block at src (row stride ss floats) transposed to dst (row stride ds floats). */
static inline void block4(const float *src, ptrdiff_t ss, float *dst, ptrdiff_t ds) {
  f32x4 r0 = *(const f32x4 *)src, r1 = *(const f32x4 *)(src + ss), r2 = *(const f32x4 *)(src + 2 * ss), r3 = *(const f32x4 *)(src + 3 * ss);
  f32x4 t0 = __builtin_shufflevector(r0, r1, 0, 4, 1, 5), t1 = __builtin_shufflevector(r2, r3, 0, 4, 1, 5);
  f32x4 t2 = __builtin_shufflevector(r0, r1, 2, 6, 3, 7), t3 = __builtin_shufflevector(r2, r3, 2, 6, 3, 7);
  *(f32x4 *)dst = __builtin_shufflevector(t0, t1, 0, 1, 4, 5);
  *(f32x4 *)(dst + ds) = __builtin_shufflevector(t0, t1, 2, 3, 6, 7);
  *(f32x4 *)(dst + 2 * ds) = __builtin_shufflevector(t2, t3, 0, 1, 4, 5);
  *(f32x4 *)(dst + 3 * ds) = __builtin_shufflevector(t2, t3, 2, 3, 6, 7);
}

/* [rows][cols] → [cols][rows], the rows of src `ss` floats apart and those of dst `ds` apart. */
static void transpose_strided(const float *restrict src, float *restrict dst, int rows, int cols, ptrdiff_t ss, ptrdiff_t ds) {
  int rows4 = rows & ~3, cols4 = cols & ~3;
  for (int row0 = 0; row0 < rows4; row0 += TILE) {
    int row1 = row0 + TILE < rows4 ? row0 + TILE : rows4;
    for (int col0 = 0; col0 < cols4; col0 += TILE) {
      int col1 = col0 + TILE < cols4 ? col0 + TILE : cols4;
      if (cols > rows) {
        for (int row = row0; row < row1; row += 4)
          for (int col = col0; col < col1; col += 4) block4(src + (ptrdiff_t)row * ss + col, ss, dst + (ptrdiff_t)col * ds + row, ds);
      } else {
        for (int col = col0; col < col1; col += 4)
          for (int row = row0; row < row1; row += 4) block4(src + (ptrdiff_t)row * ss + col, ss, dst + (ptrdiff_t)col * ds + row, ds);
      }
    }
  }
  /* The last rows % 4 rows, then the last cols % 4 columns of the others. */
  for (int row = rows4; row < rows; row++)
    for (int col = 0; col < cols; col++) dst[(ptrdiff_t)col * ds + row] = src[(ptrdiff_t)row * ss + col];
  for (int col = cols4; col < cols; col++)
    for (int row = 0; row < rows4; row++) dst[(ptrdiff_t)col * ds + row] = src[(ptrdiff_t)row * ss + col];
}

void KERNEL(transpose)(const float *restrict src, float *restrict dst, int rows, int cols) {
  transpose_strided(src, dst, rows, cols, cols, rows);
}

/* A block of a larger transpose (a team's chunk): src's rows `ss` floats apart, dst's `ds` apart. */
void KERNEL(transposeStrided)(const float *restrict src, float *restrict dst, int rows, int cols, int ss, int ds) {
  transpose_strided(src, dst, rows, cols, ss, ds);
}
