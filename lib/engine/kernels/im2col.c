/*
 * A convolution as one matrix product over the whole batch: im2col lays out, for every output pixel of every image
 * (a column), the kh × kw window of every input channel it sees (the rows), so that W [F][C·kh·kw + 1] times these
 * [C·kh·kw + 1][B·OH·OW] rows is the layer's output, planes [F][B][OH][OW]. The last row is all ones: the bias's.
 * col2im is its adjoint, the input gradient from the rows' gradient. Meaning and order: kernels.h.
 *
 * Both walk a row (channel c, kernel offset i, j) image by image, output row by output row, so the inner loop runs
 * along ox: contiguous in the rows, and in the planes too where stride is 1. The outputs whose window reaches into
 * the padding are worked out per row (`inside`), so the inner loops test nothing.
 */
#include <stddef.h>
#include "simd.h"
#include "kernels.h"

/*
 * The outputs o in [0, count) whose input o·stride + offset lies in [0, size): [*first, *end). In 64 bits, so that
 * no size the addon lets through overflows.
 */
static void inside(long long offset, int stride, int size, int count, int *first, int *end) {
  long long lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  long long hi = size - offset <= 0 ? 0 : (size - offset + stride - 1) / stride;
  if (hi > count) hi = count;
  if (lo > hi) lo = hi;
  *first = (int)lo, *end = (int)hi;
}

/* The C·kh·kw rows; where the row of ones goes, returned. */
static float *window_rows(const float *restrict src, float *restrict dst, int C, int B, int H, int W, int kh, int kw, int stride, int pad, int OH, int OW) {
  ptrdiff_t plane = (ptrdiff_t)H * W;
  for (int c = 0; c < C; c++) {
    for (int i = 0; i < kh; i++) {
      int oy0, oy1;
      inside((long long)i - pad, stride, H, OH, &oy0, &oy1);
      for (int j = 0; j < kw; j++) {
        int ox0, ox1;
        inside((long long)j - pad, stride, W, OW, &ox0, &ox1);
        for (int b = 0; b < B; b++) {
          const float *image = src + ((ptrdiff_t)c * B + b) * plane;
          for (int oy = 0; oy < OH; oy++) {
            float *out = dst + (ptrdiff_t)oy * OW;
            if (oy < oy0 || oy >= oy1) {
              for (int ox = 0; ox < OW; ox++) out[ox] = 0.0f;
              continue;
            }
            const float *in = image + (ptrdiff_t)((long long)oy * stride + i - pad) * W;
            int shift = j - pad;
            for (int ox = 0; ox < ox0; ox++) out[ox] = 0.0f;
            if (stride == 1) for (int ox = ox0; ox < ox1; ox++) out[ox] = in[ox + shift];
            else for (int ox = ox0; ox < ox1; ox++) out[ox] = in[(ptrdiff_t)ox * stride + shift];
            for (int ox = ox1; ox < OW; ox++) out[ox] = 0.0f;
          }
          dst += (ptrdiff_t)OH * OW;
        }
      }
    }
  }
  return dst;
}

void KERNEL(im2col)(const float *restrict src, float *restrict dst, int C, int B, int H, int W, int kh, int kw, int stride, int pad, int OH, int OW) {
  float *ones = window_rows(src, dst, C, B, H, W, kh, kw, stride, pad, OH, OW);
  for (ptrdiff_t q = 0, cols = (ptrdiff_t)B * OH * OW; q < cols; q++) ones[q] = 1.0f;
}

/* im2col without the row of ones: a team's chunk of channels (the last chunk's im2col writes the row). */
void KERNEL(im2colRows)(const float *restrict src, float *restrict dst, int C, int B, int H, int W, int kh, int kw, int stride, int pad, int OH, int OW) {
  window_rows(src, dst, C, B, H, W, kh, kw, stride, pad, OH, OW);
}

void KERNEL(col2im)(const float *restrict src, float *restrict dst, int C, int B, int H, int W, int kh, int kw, int stride, int pad, int OH, int OW) {
  ptrdiff_t plane = (ptrdiff_t)H * W;
  for (ptrdiff_t at = 0; at < (ptrdiff_t)C * B * plane; at++) dst[at] = 0.0f;
  /* Rows in order, and within a row the columns in order: each input pixel gets its terms with r ascending (one
     column at most per row reaches it), whatever the loops' vectors. */
  for (int c = 0; c < C; c++) {
    for (int i = 0; i < kh; i++) {
      int oy0, oy1;
      inside((long long)i - pad, stride, H, OH, &oy0, &oy1);
      for (int j = 0; j < kw; j++) {
        int ox0, ox1;
        inside((long long)j - pad, stride, W, OW, &ox0, &ox1);
        for (int b = 0; b < B; b++) {
          float *image = dst + ((ptrdiff_t)c * B + b) * plane;
          for (int oy = oy0; oy < oy1; oy++) {
            const float *row = src + (ptrdiff_t)oy * OW;
            float *in = image + (ptrdiff_t)((long long)oy * stride + i - pad) * W;
            int shift = j - pad;
            if (stride == 1) for (int ox = ox0; ox < ox1; ox++) in[ox + shift] = in[ox + shift] + row[ox];
            else for (int ox = ox0; ox < ox1; ox++) in[(ptrdiff_t)ox * stride + shift] = in[(ptrdiff_t)ox * stride + shift] + row[ox];
          }
          src += (ptrdiff_t)OH * OW;
        }
      }
    }
  }
}
