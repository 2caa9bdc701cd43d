/*
 * Batch normalisation over planes [C][n] (n = B·H·W after a convolution, B after a dense layer, whose output is
 * [units][B]), forward and backward. Every sum runs along one channel's n contiguous floats, from 0, in order, one
 * float32 add per term: a scalar chain per channel, the same on every target (speed matters less here than bits).
 * The elementwise loops are vectorized by the compiler, which changes no operation. n enters as a float32, exact
 * up to 2²⁴. No restrict on the planes: y may be x, and dx may be dy (each element is read before it is written).
 */
#include <stddef.h>
#include "simd.h"
#include "kernels.h"

void KERNEL(batchNorm)(const float *x, float *y, const float *restrict gamma, const float *restrict beta, float *restrict mean, float *restrict invStd,
                       float *restrict runMean, float *restrict runVar, int C, int n, float eps, float momentum, int training) {
  float count = (float)n;
  for (int c = 0; c < C; c++) {
    const float *xc = x + (ptrdiff_t)c * n;
    float *yc = y + (ptrdiff_t)c * n;
    float m, inv;
    if (training) {
      float sum = 0.0f;
      for (int i = 0; i < n; i++) sum = sum + xc[i];
      m = sum / count;
      float squares = 0.0f;
      for (int i = 0; i < n; i++) {
        float d = xc[i] - m;
        float dd = d * d;
        squares = squares + dd;
      }
      float var = squares / count;
      inv = 1.0f / __builtin_sqrtf(var + eps);
      /* PyTorch's running statistics: the unbiased variance, squares / (n − 1), one division. */
      float keep = 1.0f - momentum;
      float oldMean = runMean[c] * keep, newMean = m * momentum;
      runMean[c] = oldMean + newMean;
      float unbiased = squares / (float)(n - 1);
      float oldVar = runVar[c] * keep, newVar = unbiased * momentum;
      runVar[c] = oldVar + newVar;
    } else {
      m = runMean[c];
      inv = 1.0f / __builtin_sqrtf(runVar[c] + eps);
    }
    mean[c] = m;
    invStd[c] = inv;
    float g = gamma[c], b = beta[c];
    for (int i = 0; i < n; i++) {
      float d = xc[i] - m;
      float xhat = d * inv;
      float scaled = xhat * g;
      yc[i] = scaled + b;
    }
  }
}

void KERNEL(batchNormBackward)(const float *dy, const float *restrict x, const float *restrict gamma, const float *restrict mean, const float *restrict invStd,
                               float *dx, float *restrict dGamma, float *restrict dBeta, int C, int n) {
  float count = (float)n;
  for (int c = 0; c < C; c++) {
    const float *dyc = dy + (ptrdiff_t)c * n, *xc = x + (ptrdiff_t)c * n;
    float *dxc = dx + (ptrdiff_t)c * n;
    float m = mean[c], inv = invStd[c];
    float sumDy = 0.0f, sumDyXhat = 0.0f;
    for (int i = 0; i < n; i++) {
      float d = xc[i] - m;
      float xhat = d * inv;
      float term = dyc[i] * xhat;
      sumDy = sumDy + dyc[i];
      sumDyXhat = sumDyXhat + term;
    }
    dBeta[c] = sumDy;
    dGamma[c] = sumDyXhat;
    float k = gamma[c] * inv;
    k = k / count;
    for (int i = 0; i < n; i++) {
      float d = xc[i] - m;
      float xhat = d * inv;
      float centred = dyc[i] * count;
      centred = centred - sumDy;
      float along = xhat * sumDyXhat;
      centred = centred - along;
      dxc[i] = k * centred;
    }
  }
}
