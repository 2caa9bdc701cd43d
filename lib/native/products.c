/*
 * step-simd's matrix product (lib/model/step-simd.ts) as native code, for the whole wasm step on machines where
 * a C compiler built it (scripts/native-products.ts). Same arguments, same heap, same bits: each output is summed
 * from 0 over k in order, one float32 multiply then one add per term, never fused (-ffp-contract=off). What it
 * adds is width: WebAssembly SIMD is 128 bits, and these loops use AVX-512 or AVX2 registers where the CPU has
 * them (chosen at load), so a Zen 5 core does four times the multiply-adds per instruction.
 *
 *   gemm(heap, a, sam, sak, b, ldb, c, ldc, extra, M, K, N, epilogue)   byte offsets into `heap` (a Uint8Array
 *                                                                       over the wasm memory), as step-simd's
 *   adam(heap, p, m, v, g, n, c, e, beta1, beta2)                       adam-simd's update, in place, the same bits
 *   instructionSet()                                                    "avx512", "avx2" or "sse2"
 */
#include <stddef.h>
#include <stdint.h>
#include "napi.h"

#define EPILOGUE_ADD_TO 1
#define EPILOGUE_MASK_BY_STEP 2
#define EPILOGUE_RELU 3

struct product {
  const char *a, *b, *extra;
  char *c;
  ptrdiff_t sam, sak, ldb, ldc;
  int M, K, N, mode;
};

#define CAT2(x, y) x##y
#define CAT(x, y) CAT2(x, y)

static inline float epilogue(const struct product *p, float acc, ptrdiff_t at) {
  if (p->mode == EPILOGUE_ADD_TO) return *(const float *)(p->extra + at) + acc;
  if (p->mode == EPILOGUE_MASK_BY_STEP) return acc * (*(const float *)(p->extra + at) > 0 ? 1.0f : 0.0f);
  if (p->mode == EPILOGUE_RELU) return 0 < acc ? acc : 0;
  return acc;
}

/* Columns n0..N−1 one at a time, for N under 4; four rows side by side, so four sums are under way at once. */
static void scalar_columns(const struct product *p, int n0) {
  for (int n = n0; n < p->N; n++) {
    const char *b = p->b + (ptrdiff_t)n * 4;
    int m = 0;
    for (; m + 4 <= p->M; m += 4) {
      float acc[4] = {0, 0, 0, 0};
      const char *a = p->a + (ptrdiff_t)m * p->sam;
      for (int k = 0; k < p->K; k++) {
        float x = *(const float *)(b + (ptrdiff_t)k * p->ldb);
        for (int r = 0; r < 4; r++) {
          float product = *(const float *)(a + r * p->sam + (ptrdiff_t)k * p->sak) * x;
          acc[r] = acc[r] + product;
        }
      }
      for (int r = 0; r < 4; r++) {
        ptrdiff_t at = (ptrdiff_t)(m + r) * p->ldc + (ptrdiff_t)n * 4;
        *(float *)(p->c + at) = epilogue(p, acc[r], at);
      }
    }
    for (; m < p->M; m++) {
      float acc = 0;
      const char *a = p->a + (ptrdiff_t)m * p->sam;
      for (int k = 0; k < p->K; k++) {
        float product = *(const float *)(a + (ptrdiff_t)k * p->sak) * *(const float *)(b + (ptrdiff_t)k * p->ldb);
        acc = acc + product;
      }
      ptrdiff_t at = (ptrdiff_t)m * p->ldc + (ptrdiff_t)n * 4;
      *(float *)(p->c + at) = epilogue(p, acc, at);
    }
  }
}

/*
 * Each instruction set: its widest vectors, then narrower ones for outputs under a vector wide (NARROW), down to
 * single columns. ROWS × VECTORS is the register tile (≤ 8 rows: see products-kernel.h).
 */
#define NAME sse2_product
#define LANES 4
#define ROWS 4
#define VECTORS 2
#define NARROW scalar_columns
#include "products-kernel.h"
#undef NAME
#undef LANES
#undef ROWS
#undef VECTORS
#undef NARROW

#pragma GCC push_options
#pragma GCC target("avx2")
#define NAME avx2_narrow4
#define LANES 4
#define ROWS 8
#define VECTORS 1
#define NARROW scalar_columns
#include "products-kernel.h"
#undef NAME
#undef LANES
#undef ROWS
#undef VECTORS
#undef NARROW
#define NAME avx2_product
#define LANES 8
#define ROWS 6
#define VECTORS 2
#define NARROW avx2_narrow4
#include "products-kernel.h"
#undef NAME
#undef LANES
#undef ROWS
#undef VECTORS
#undef NARROW
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("avx512f")
#define NAME avx512_narrow4
#define LANES 4
#define ROWS 8
#define VECTORS 1
#define NARROW scalar_columns
#include "products-kernel.h"
#undef NAME
#undef LANES
#undef NARROW
#define NAME avx512_narrow8
#define LANES 8
#define NARROW avx512_narrow4
#include "products-kernel.h"
#undef NAME
#undef LANES
#undef ROWS
#undef VECTORS
#undef NARROW
/* 4 × 4 vectors of 16: fastest of 6×2, 8×2, 8×3, 12×2, 6×4 and 4×4 on the step's products (Zen 4, whose 512-bit
   units run at AVX2's rate: ~48 G multiply-adds/s, near its peak of 16 a cycle). */
#define NAME avx512_product
#define LANES 16
#define ROWS 4
#define VECTORS 4
#define NARROW avx512_narrow8
#include "products-kernel.h"
#undef NAME
#undef LANES
#undef ROWS
#undef VECTORS
#undef NARROW
#pragma GCC pop_options

#define ADAM_ARGS float *restrict p, float *restrict m, float *restrict v, const float *restrict g, size_t n, float c, float e, float b1, float b2
typedef void (*adam_fn)(ADAM_ARGS);
static adam_fn adam_kernel;
static void adam_avx512(ADAM_ARGS), adam_avx2(ADAM_ARGS), adam_sse2(ADAM_ARGS);

typedef void (*product_fn)(const struct product *, int);
static product_fn product_kernel;
static const char *instruction_set;

static void choose_kernel(void) {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) product_kernel = avx512_product, adam_kernel = adam_avx512, instruction_set = "avx512";
  else if (__builtin_cpu_supports("avx2")) product_kernel = avx2_product, adam_kernel = adam_avx2, instruction_set = "avx2";
  else product_kernel = sse2_product, adam_kernel = adam_sse2, instruction_set = "sse2";
}

static napi_value fail(napi_env env, const char *message) {
  napi_throw_range_error(env, NULL, message);
  return NULL;
}

/* The last byte an operand touches, plus one: rows × row stride + columns × column stride, from its offset. */
static uint64_t end_of(uint64_t at, uint64_t rows, uint64_t row_stride, uint64_t cols, uint64_t col_stride) {
  return at + (rows - 1) * row_stride + (cols - 1) * col_stride + 4;
}

static napi_value gemm(napi_env env, napi_callback_info info) {
  size_t argc = 13;
  napi_value argv[13];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 13) return fail(env, "gemm: expected 13 arguments (heap, a, sam, sak, b, ldb, c, ldc, extra, M, K, N, epilogue)");
  napi_typedarray_type type;
  size_t length;
  void *data;
  if (napi_get_typedarray_info(env, argv[0], &type, &length, &data, NULL, NULL) != napi_ok || type != napi_uint8_array) return fail(env, "gemm: heap must be a Uint8Array over the wasm memory");
  uint32_t arg[12];
  for (int i = 0; i < 12; i++) {
    if (napi_get_value_uint32(env, argv[i + 1], &arg[i]) != napi_ok) return fail(env, "gemm: offsets, strides and sizes must be numbers");
  }
  uint32_t a = arg[0], sam = arg[1], sak = arg[2], b = arg[3], ldb = arg[4], c = arg[5], ldc = arg[6], extra = arg[7];
  uint32_t M = arg[8], K = arg[9], N = arg[10], mode = arg[11];
  if (M == 0 || N == 0) return NULL;
  if (K == 0 || M > INT32_MAX || K > INT32_MAX || N > INT32_MAX || mode > 3) return fail(env, "gemm: expected K ≥ 1 and an epilogue of 0–3");
  uint64_t used = end_of(c, M, ldc, N, 4);
  if (K > 0 && end_of(a, M, sam, K, sak) > used) used = end_of(a, M, sam, K, sak);
  if (end_of(b, K, ldb, N, 4) > used) used = end_of(b, K, ldb, N, 4);
  if ((mode == EPILOGUE_ADD_TO || mode == EPILOGUE_MASK_BY_STEP) && end_of(extra, M, ldc, N, 4) > used) used = end_of(extra, M, ldc, N, 4);
  if (used > length) return fail(env, "gemm: an operand reaches past the end of the heap");
  const char *heap = data;
  struct product p = {
    .a = heap + a, .b = heap + b, .extra = heap + extra, .c = (char *)heap + c,
    .sam = sam, .sak = sak, .ldb = ldb, .ldc = ldc, .M = (int)M, .K = (int)K, .N = (int)N, .mode = (int)mode,
  };
  product_kernel(&p, 0);
  return NULL;
}

/*
 * Adam's update in place, as adam-simd.ts's WebAssembly loop computes it, each operation rounded to float32 in the
 * same order: m ← β1·m + g; v ← β2·v + g·g; p ← p − (m / (√v + e))·c. Square root and division are correctly
 * rounded in both, so the bits are the same; the compiler vectorizes the loop to the CPU's width (-fno-math-errno
 * lets it use the vector square root), which only decides how many elements go at once.
 */
#define ADAM_LOOP                                                  \
  for (size_t i = 0; i < n; i++) {                                 \
    float gi = g[i];                                               \
    float mi = b1 * m[i];                                          \
    mi = mi + gi;                                                  \
    float vi = b2 * v[i];                                          \
    float gg = gi * gi;                                            \
    vi = vi + gg;                                                  \
    float root = __builtin_sqrtf(vi);                              \
    float step = mi / (root + e);                                  \
    step = step * c;                                               \
    m[i] = mi;                                                     \
    v[i] = vi;                                                     \
    p[i] = p[i] - step;                                            \
  }
__attribute__((target("avx512f"))) static void adam_avx512(ADAM_ARGS) { ADAM_LOOP }
__attribute__((target("avx2"))) static void adam_avx2(ADAM_ARGS) { ADAM_LOOP }
static void adam_sse2(ADAM_ARGS) { ADAM_LOOP }

static napi_value adam(napi_env env, napi_callback_info info) {
  size_t argc = 10;
  napi_value argv[10];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 10) return fail(env, "adam: expected 10 arguments (heap, p, m, v, g, n, c, e, beta1, beta2)");
  napi_typedarray_type type;
  size_t length;
  void *data;
  if (napi_get_typedarray_info(env, argv[0], &type, &length, &data, NULL, NULL) != napi_ok || type != napi_uint8_array) return fail(env, "adam: heap must be a Uint8Array over the wasm memory");
  uint32_t at[5];
  for (int i = 0; i < 5; i++) {
    if (napi_get_value_uint32(env, argv[i + 1], &at[i]) != napi_ok) return fail(env, "adam: offsets and the count must be numbers");
  }
  double scalars[4];
  for (int i = 0; i < 4; i++) {
    if (napi_get_value_double(env, argv[i + 6], &scalars[i]) != napi_ok) return fail(env, "adam: c, e, beta1 and beta2 must be numbers");
  }
  uint64_t n = at[4];
  for (int i = 0; i < 4; i++) {
    if (at[i] % 4 != 0 || at[i] + 4 * n > length) return fail(env, "adam: an array reaches past the end of the heap or is not float-aligned");
  }
  char *heap = data;
  /* JavaScript hands float64s; wasm's f32 parameters round them the same way (to nearest). */
  adam_kernel((float *)(heap + at[0]), (float *)(heap + at[1]), (float *)(heap + at[2]), (const float *)(heap + at[3]), (size_t)n,
              (float)scalars[0], (float)scalars[1], (float)scalars[2], (float)scalars[3]);
  return NULL;
}

static napi_value which(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  napi_create_string_utf8(env, instruction_set, NAPI_AUTO_LENGTH, &result);
  return result;
}

NAPI_MODULE_INIT() {
  if (!product_kernel) choose_kernel();
  napi_property_descriptor properties[] = {
    { "gemm", NULL, gemm, NULL, NULL, NULL, napi_enumerable, NULL },
    { "adam", NULL, adam, NULL, NULL, NULL, napi_enumerable, NULL },
    { "instructionSet", NULL, which, NULL, NULL, NULL, napi_enumerable, NULL },
  };
  napi_define_properties(env, exports, 3, properties);
  return exports;
}
