/*
 * The matrix product with its epilogue (signature and meaning: kernels.h), the one kernel the training step
 * spends its time in. Written once (gemm-tile.h) over vectors of several widths; this file chooses, per
 * instruction set, the widths and the register tile of each (BLIS's principle: only the tile shape is per
 * instruction set). The tiles were measured on the step's products (784-500-500-10 at batch 64, 784-10 at 16):
 *
 *   WebAssembly SIMD, SSE2   4 rows × 2 vectors of 4: 8 accumulators, 2 operand vectors and the broadcasts in
 *                            V8's 16 registers on x64. Against it (V8 12, Zen 4): 6 × 2 and 4 × 3 spill (24–31%
 *                            slower), 3 × 2 and 5 × 2 are 7–15% slower, 8 × 1 ~75%; 2 × 4 ties on the big
 *                            products and is 50–90% slower where N is 10.
 *   AVX2                     6 rows × 2 vectors of 8 (12 of the 16 ymm registers).
 *   AVX-512                  4 rows × 4 vectors of 16: fastest of 6×2, 8×2, 8×3, 12×2, 6×4 and 4×4 (Zen 4).
 * Columns left over (N not a multiple of the tile) go in narrower vectors, 8 rows × 1 vector, down to single
 * columns (4 rows at once, so four sums are under way) where N is under 4.
 *
 * Rows outside, in blocks of four tiles, and columns inside: the block's rows of A stay in cache while B streams
 * past. Against columns outside, it is 5–8% faster in wasm where A is read by columns (input gradients) or N is
 * wide (weight gradients), and the same natively. Where B is over 256 KiB (a conv layer's product over the whole
 * batch: [C·kh·kw + 1][B·OH·OW], tens of MB), the same in blocks of B's columns, each read from memory once:
 * 0.62× the time of row blocks alone on the examples net's conv2 (forward and input gradient, AVX-512).
 */
#include <stddef.h>
#include "simd.h"
#include "kernels.h"

struct product {
  const char *a, *b, *extra;
  char *c;
  ptrdiff_t sam, sak, ldb, ldc;
  int M, K, N, mode;
  int blocked; /* k goes in blocks: every column in one tile (no overlapping last vector) */
  int resume;  /* this block of k carries on the sums in C (every block after the first) */
};

#define NAME columns_1
#define WIDTH 1
#define ROWS 4
#define VECTORS 1
#include "gemm-tile.h"

#define NAME columns_4
#define WIDTH 4
#define ROWS (LANES == 4 ? 4 : 8)
#define VECTORS (LANES == 4 ? 2 : 1)
#define NARROW columns_1
#include "gemm-tile.h"

#if LANES >= 8
#define NAME columns_8
#define WIDTH 8
#define ROWS (LANES == 8 ? 6 : 8)
#define VECTORS (LANES == 8 ? 2 : 1)
#define NARROW columns_4
#include "gemm-tile.h"
#endif

#if LANES >= 16
#define NAME columns_16
#define WIDTH 16
#define ROWS 4
#define VECTORS 4
#define NARROW columns_8
#include "gemm-tile.h"
#endif

/* The widest tile's rows, four times; its columns. */
#define ROW_BLOCK (4 * (LANES == 8 ? 6 : 4))
#define TILE_COLUMNS (LANES == 16 ? 64 : LANES == 8 ? 16 : 8)
/* What a block of B's columns (K rows of them) may fill: a quarter of a 1 MiB L2, with room for A's block and C. */
#ifndef B_BLOCK_BYTES
#define B_BLOCK_BYTES (256 * 1024)
#endif

/* What a block of k (B's [depth][N] rows) may fill where B's columns alone cannot be blocked enough: 64 KiB (256 k at
 * N = 64) measured 0.93× on conv2's weight gradient and 0.85× on conv1's (AVX-512, loaded machine); 128 and 256 KiB 0.97–0.98×. */
#ifndef K_BLOCK_BYTES
#define K_BLOCK_BYTES (64 * 1024)
#endif

void KERNEL(gemm)(const char *a, int sam, int sak, const char *b, int ldb, char *c, int ldc, const char *extra, int M, int K, int N, int mode) {
  struct product p = { .a = a, .b = b, .extra = extra, .c = c, .sam = sam, .sak = sak, .ldb = ldb, .ldc = ldc, .M = M, .K = K, .N = N, .mode = mode };
  /*
   * Where K is so deep that not even one tile's columns of B fit in B_BLOCK_BYTES (a weight gradient over the whole
   * batch: K = B·OH·OW, N the filters), k goes in blocks of `depth`, each B's [depth][N] rows (and A's [M][depth]
   * columns) staying in L2 while every row and column passes over them: B is read from memory once, not once per
   * tile of rows. Each sum runs in float32 through the blocks in k order: after a block its float32 value is stored
   * in C, the next block loads it (both exact) and carries on, and the epilogue comes after the last block only:
   * the same bits as one pass over k. The MLP's products (B under 256 KiB) are one block.
   */
  int depth = K;
  if (K > 0 && (ptrdiff_t)K * 4 * (N < TILE_COLUMNS ? N : TILE_COLUMNS) > B_BLOCK_BYTES) {
    ptrdiff_t fit = K_BLOCK_BYTES / ((ptrdiff_t)(N > 0 ? N : 1) * 4) / 16 * 16;
    depth = fit < 256 ? 256 : fit < K ? (int)fit : K;
  }
  p.blocked = depth < K;
  /*
   * Where B (a block of its k) is larger than B_BLOCK_BYTES and wide (a convolution's product over the whole batch:
   * N = B·OH·OW, B tens of MB), its columns go in blocks that stay in L2 while every row block of A passes over them:
   * B is then read from memory once, not once per row block. The MLP's B (at most 785 columns, under 256 KiB) is one block.
   */
  int columns = N;
  ptrdiff_t fit = depth > 0 ? B_BLOCK_BYTES / ((ptrdiff_t)depth * 4) / TILE_COLUMNS * TILE_COLUMNS : N;
  if (fit < N) columns = fit < TILE_COLUMNS ? TILE_COLUMNS : (int)fit;
  for (int k = 0;; k += depth) {
    int last = K - k <= depth;
    p.K = last ? K - k : depth;
    p.a = a + (ptrdiff_t)k * sak;
    p.b = b + (ptrdiff_t)k * ldb;
    p.resume = k > 0;
    p.mode = last ? mode : EPILOGUE_NONE; /* the epilogue after the last block only */
    for (int n = 0; n < N; n += columns) {
      int n_end = n + columns < N ? n + columns : N;
      for (int m = 0; m < M; m += ROW_BLOCK) CAT(columns_, LANES)(&p, m, m + ROW_BLOCK < M ? m + ROW_BLOCK : M, n, n_end);
    }
    if (last) break;
  }
}
