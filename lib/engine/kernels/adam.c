/*
 * Adam's update in place, each operation rounded to float32 in this order (the order of the tensor ops it
 * replaces, and of the kernels before it): m ← β1·m + g; v ← β2·v + g·g; p ← p − (m / (√v + e))·c.
 * Square root and division are correctly rounded on every target, so every build gives the same bits; the
 * compiler vectorizes the loop to the target's width (-fno-math-errno lets it use the vector square root),
 * which only decides how many elements go at once.
 */
#include "simd.h"
#include "kernels.h"

void KERNEL(adam)(float *restrict p, float *restrict m, float *restrict v, const float *restrict g, int n, float c, float e, float beta1, float beta2) {
  for (int i = 0; i < n; i++) {
    float gi = g[i];
    float mi = beta1 * m[i];
    mi = mi + gi;
    float vi = beta2 * v[i];
    float gg = gi * gi;
    vi = vi + gg;
    float root = __builtin_sqrtf(vi);
    float step = mi / (root + e);
    step = step * c;
    m[i] = mi;
    v[i] = vi;
    p[i] = p[i] - step;
  }
}
