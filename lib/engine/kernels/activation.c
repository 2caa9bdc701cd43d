/*
 * Activations in place, and their gradients from their outputs. tanh and sigmoid need e^x, and WebAssembly has no
 * libm (a native one could round differently), so e^x is written here from +, −, ×, ÷ and bit operations (Cephes'
 * expf: x = n·ln 2 + r with |r| ≤ ln 2 / 2, a degree-7 polynomial for e^r, 2^n from the exponent bits), each op a
 * correctly rounded float32 operation in a fixed order (never fused: -ffp-contract=off): the same bits on every
 * target. Accuracy against float64's Math.tanh and 1 / (1 + Math.exp(−x)), over −20..20 densely and the special
 * values: test/engine-conv-kernels.test.ts. Every branch is a select (both sides computed), so the compiler
 * vectorizes the loops; that changes no operation.
 */
#include <stddef.h>
#include "simd.h"
#include "kernels.h"

static inline float from_bits(int bits) {
  union { int i; float f; } u = { .i = bits };
  return u.f;
}

/*
 * e^x for every float but NaN (the callers keep NaN themselves): x clamped to [−104, 89], past which e^x rounds to 0
 * and overflows, so n is in [−150, 129]; 2^n is two normal factors 2^⌊n/2⌋·2^(n−⌊n/2⌋), so the result is rounded
 * once even where it is subnormal, and overflows to +∞ where it should.
 */
static inline float exp_f32(float x) {
  x = x < 89.0f ? x : 89.0f;
  x = x > -104.0f ? x : -104.0f;
  /* n = round(x·log₂e) to nearest even: adding and subtracting 1.5·2²³ leaves the integer part. */
  float scaled = x * 1.44269504088896341f;
  float n = scaled + 12582912.0f;
  n = n - 12582912.0f;
  /* r = x − n·ln 2, ln 2 in two parts (the first exact times any n here). */
  float high = n * 0.693359375f, low = n * -2.12194440e-4f;
  float r = x - high;
  r = r - low;
  float p = 1.9875691500e-4f * r;
  p = p + 1.3981999507e-3f;
  p = p * r;
  p = p + 8.3334519073e-3f;
  p = p * r;
  p = p + 4.1665795894e-2f;
  p = p * r;
  p = p + 1.6666665459e-1f;
  p = p * r;
  p = p + 5.0000001201e-1f;
  float rr = r * r;
  p = p * rr;
  p = p + r;
  p = p + 1.0f;
  int k = (int)n, half = k >> 1;
  float first = p * from_bits((half + 127) << 23);
  return first * from_bits((k - half + 127) << 23);
}

/*
 * tanh: for |x| < 0.625 Cephes' odd polynomial, x + ((p(x²)·x²)·x); beyond, 1 − 2 / (e^(2|x|) + 1) with x's sign
 * (e^(2|x|) = +∞ from |x| ≈ 44.4 gives exactly 1). ±0 stays ±0; NaN is returned as it came.
 */
static inline float tanh_f32(float x) {
  float z = x * x;
  float p = -5.70498872745e-3f * z;
  p = p + 2.06390887954e-2f;
  p = p * z;
  p = p - 5.37397155531e-2f;
  p = p * z;
  p = p + 1.33314422036e-1f;
  p = p * z;
  p = p - 3.33332819422e-1f;
  p = p * z;
  p = p * x;
  float small = x + p;
  float t = x < 0.0f ? -x : x;
  float e = exp_f32(t + t);
  float large = 2.0f / (e + 1.0f);
  large = 1.0f - large;
  large = x < 0.0f ? -large : large;
  float y = t < 0.625f ? small : large;
  /* ±0 as it came: the polynomial's x + (+0) would make −0 into +0. */
  return x != x || x == 0.0f ? x : y;
}

/*
 * sigmoid: with e = e^(−|x|) (never overflowing), 1 / (1 + e) for x ≥ 0 and e / (1 + e) below, so tiny outputs keep
 * their digits down to the subnormals. sigmoid(±0) = 0.5; NaN is returned as it came.
 */
static inline float sigmoid_f32(float x) {
  float t = x < 0.0f ? x : -x;
  float e = exp_f32(t);
  float numerator = x < 0.0f ? e : 1.0f;
  float y = numerator / (1.0f + e);
  return x != x ? x : y;
}

void KERNEL(activation)(float *restrict x, int n, int kind) {
  switch (kind) {
    case ACTIVATION_TANH:
      for (int i = 0; i < n; i++) x[i] = tanh_f32(x[i]);
      break;
    case ACTIVATION_SIGMOID:
      for (int i = 0; i < n; i++) x[i] = sigmoid_f32(x[i]);
      break;
    case ACTIVATION_RELU:
      /* gemm's ReLU: x where 0 < x, else +0 (−0 and NaN too). */
      for (int i = 0; i < n; i++) x[i] = x[i] > 0.0f ? x[i] : 0.0f;
      break;
    default:
      break;
  }
}

void KERNEL(activationBackward)(const float *restrict y, float *restrict dy, int n, int kind) {
  switch (kind) {
    case ACTIVATION_TANH:
      for (int i = 0; i < n; i++) {
        float slope = y[i] * y[i];
        slope = 1.0f - slope;
        dy[i] = dy[i] * slope;
      }
      break;
    case ACTIVATION_SIGMOID:
      for (int i = 0; i < n; i++) {
        float slope = 1.0f - y[i];
        slope = y[i] * slope;
        dy[i] = dy[i] * slope;
      }
      break;
    case ACTIVATION_RELU:
      for (int i = 0; i < n; i++) dy[i] = y[i] > 0.0f ? dy[i] : 0.0f;
      break;
    default:
      break;
  }
}
