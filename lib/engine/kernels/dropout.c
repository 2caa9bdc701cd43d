/*
 * Dropout in place, forward and backward alike: x[i] ← mask[i] ? x[i]·scale : +0, the mask one byte per element
 * (drawn by dropoutMask below from the run's seeded generator, so a run repeats), scale 1/(1 − rate). A dropped element
 * is +0 whatever x held (NaN and −0 included), not x·0: the product's bits ANDed with all ones or all zeros.
 * LANES elements at a time (their mask bytes widened to ints, compared with 0), then the rest one by one.
 */
#include <stddef.h>
#include "simd.h"
#include "kernels.h"

typedef unsigned char u8xL __attribute__((vector_size(LANES), aligned(1), may_alias));
#define V F32X(LANES)
#define VI I32X(LANES)

void KERNEL(dropout)(float *restrict x, const unsigned char *restrict mask, int n, float scale) {
  int i = 0;
  for (; i + LANES <= n; i += LANES) {
    VI keep = __builtin_convertvector(*(const u8xL *)(mask + i), VI) != (VI){0};
    V kept = *(V *)(x + i) * scale;
    *(V *)(x + i) = (V)((VI)kept & keep);
  }
  for (; i < n; i++) x[i] = mask[i] ? x[i] * scale : 0.0f;
}

/*
 * The dropout mask: mask[k] = 1 where the (k + 1)-th draw of mulberry32 (lib/math/random.ts) from `state` is at least
 * `keep`/2³², else 0; the same bytes as `random() >= rate` in TypeScript with keep = ⌈rate·2³²⌉ (2³² drops all).
 * mulberry32's state only adds a constant per draw, so draw k is a function of state + (k + 1)·constant, and LANES
 * draws go side by side. state and keep arrive as 16-bit halves (high, low): the addon's whole numbers are below 2³¹.
 * Drawn in TypeScript, the examples net's masks (590k bytes a step) took 7 ms of its 85 ms step; here 0.4 ms.
 */
typedef unsigned u32xL __attribute__((vector_size(LANES * 4), aligned(4), may_alias));
typedef unsigned char u8xLmask __attribute__((vector_size(LANES), aligned(1), may_alias));

static inline unsigned draw(unsigned t) {
  t = (t ^ (t >> 15)) * (t | 1);
  t ^= t + (t ^ (t >> 7)) * (t | 61);
  return t ^ (t >> 14);
}

static inline u32xL draws(u32xL t) {
  t = (t ^ (t >> 15)) * (t | 1);
  t ^= t + (t ^ (t >> 7)) * (t | 61);
  return t ^ (t >> 14);
}

void KERNEL(dropoutMask)(unsigned char *restrict mask, int n, int stateHigh, int stateLow, int keepHigh, int keepLow) {
  const unsigned step = 0x6d2b79f5u;
  unsigned state = ((unsigned)stateHigh << 16) + (unsigned)stateLow;
  unsigned long long keep = ((unsigned long long)keepHigh << 16) + (unsigned long long)keepLow;
  if (keep > 0xffffffffull) {
    for (int k = 0; k < n; k++) mask[k] = 0;
    return;
  }
  u32xL lane;
  for (int j = 0; j < LANES; j++) lane[j] = (unsigned)(j + 1);
  int k = 0;
  for (; k + LANES <= n; k += LANES) {
    VI kept = draws(state + (lane + (unsigned)k) * step) >= (unsigned)keep; /* all ones where kept */
    *(u8xLmask *)(mask + k) = __builtin_convertvector(kept & 1, u8xLmask);
  }
  for (; k < n; k++) mask[k] = draw(state + (unsigned)(k + 1) * step) >= keep;
}
