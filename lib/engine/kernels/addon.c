/*
 * The kernels as a Node-API addon, for machines where a C compiler built them (scripts/build-kernels.ts): the
 * same sources as kernels.wasm, compiled once per instruction set (SSE2, AVX2, AVX-512) and chosen at load, so
 * a core does up to four times the multiply-adds per instruction that WebAssembly's 128 bits allow, with the
 * same bits. Every kernel takes the heap first (a Uint8Array over the engine's memory), then the wasm export's
 * arguments: byte offsets into that heap, sizes and float scalars. Each operand is checked to lie inside the
 * heap, and float arrays to be float-aligned, before any kernel runs; a bad call throws a RangeError naming the
 * kernel. instructionSet() says which build runs: "avx512", "avx2" or "sse2"; useInstructionSet(name) switches
 * to another the CPU supports, for the tests and benchmarks (for the whole process: every thread shares it).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "napi.h"

#define ISA avx512
#include "kernels.h"
#undef ISA
#define ISA avx2
#include "kernels.h"
#undef ISA
#define ISA sse2
#include "kernels.h"
#undef ISA

struct kernels {
  const char *name;
  void (*gemm)(const char *, int, int, const char *, int, char *, int, const char *, int, int, int, int);
  void (*pixels)(const unsigned char *, float *, int, int);
  void (*transpose)(const float *, float *, int, int);
  void (*transposeStrided)(const float *, float *, int, int, int, int);
  void (*adam)(float *, float *, float *, const float *, int, float, float, float, float);
  void (*momentum)(float *, float *, const float *, int, float);
  void (*adagrad)(float *, float *, const float *, int, float, float);
  void (*rmsprop)(float *, float *, const float *, int, float, float, float);
  void (*addTo)(float *, const float *, int);
  void (*scale)(float *, int, float);
  void (*im2col)(const float *, float *, int, int, int, int, int, int, int, int, int, int);
  void (*im2colRows)(const float *, float *, int, int, int, int, int, int, int, int, int, int);
  void (*col2im)(const float *, float *, int, int, int, int, int, int, int, int, int, int);
  void (*maxPool)(const float *, float *, int *, int, int, int, int, int, int, int);
  void (*maxPoolBackward)(const float *, const int *, float *, int, int, int, int, int);
  void (*dropout)(float *, const unsigned char *, int, float);
  void (*dropoutMask)(unsigned char *, int, int, int, int, int);
  void (*planes)(const unsigned char *, float *, int, int, float, float);
  void (*addScaled)(float *, const float *, int, float);
  void (*sgd)(float *, const float *, int, float);
  void (*sumRows)(const float *, float *, int, int);
  void (*batchNorm)(const float *, float *, const float *, const float *, float *, float *, float *, float *, int, int, float, float, int);
  void (*batchNormBackward)(const float *, const float *, const float *, const float *, const float *, float *, float *, float *, int, int);
  void (*activation)(float *, int, int);
  void (*activationBackward)(const float *, float *, int, int);
};
#define BUILD(isa) { #isa, gemm_##isa, pixels_##isa, transpose_##isa, transposeStrided_##isa, adam_##isa, momentum_##isa, adagrad_##isa, rmsprop_##isa, addTo_##isa, scale_##isa, \
  im2col_##isa, im2colRows_##isa, col2im_##isa, maxPool_##isa, maxPoolBackward_##isa, dropout_##isa, dropoutMask_##isa, planes_##isa, addScaled_##isa, sgd_##isa, sumRows_##isa, \
  batchNorm_##isa, batchNormBackward_##isa, activation_##isa, activationBackward_##isa }
static const struct kernels avx512 = BUILD(avx512), avx2 = BUILD(avx2), sse2 = BUILD(sse2);
static const struct kernels *kernels;

static void choose_build(void) {
  __builtin_cpu_init();
  kernels = __builtin_cpu_supports("avx512f") ? &avx512 : __builtin_cpu_supports("avx2") ? &avx2 : &sse2;
}

/* The build called `name`, if this CPU runs it; else NULL. */
static const struct kernels *build_named(const char *name) {
  if (strcmp(name, "avx512") == 0) return __builtin_cpu_supports("avx512f") ? &avx512 : NULL;
  if (strcmp(name, "avx2") == 0) return __builtin_cpu_supports("avx2") ? &avx2 : NULL;
  return strcmp(name, "sse2") == 0 ? &sse2 : NULL;
}

/* One call's arguments: the heap, then whole numbers (offsets, strides, sizes) and float scalars, in order. */
struct call {
  char *heap;
  uint64_t length;
  uint32_t whole[12];
  float scalar[4];
};

/*
 * Read `wholes` whole numbers, then `scalars` floats, then `trailing` whole numbers (into whole[wholes..]) after the
 * heap; false (a RangeError thrown) if they are not there.
 */
static int read_arguments(napi_env env, napi_callback_info info, const char *usage, int wholes, int scalars, int trailing, struct call *call) {
  char message[200];
  size_t argc = 16, expected = 1 + wholes + scalars + trailing;
  napi_value argv[16];
  napi_typedarray_type type;
  size_t length;
  void *data;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != expected) {
    snprintf(message, sizeof message, "%s: expected %zu arguments", usage, expected);
  } else if (napi_get_typedarray_info(env, argv[0], &type, &length, &data, NULL, NULL) != napi_ok || type != napi_uint8_array) {
    snprintf(message, sizeof message, "%s: heap must be a Uint8Array over the engine's memory", usage);
  } else {
    call->heap = data, call->length = length;
    for (int i = 0; i < wholes; i++) {
      if (napi_get_value_uint32(env, argv[1 + i], &call->whole[i]) != napi_ok || call->whole[i] > INT32_MAX) {
        snprintf(message, sizeof message, "%s: argument %d must be a whole number below 2³¹", usage, 2 + i);
        goto fail;
      }
    }
    for (int i = 0; i < scalars; i++) {
      double value;
      if (napi_get_value_double(env, argv[1 + wholes + i], &value) != napi_ok) {
        snprintf(message, sizeof message, "%s: argument %d must be a number", usage, 2 + wholes + i);
        goto fail;
      }
      call->scalar[i] = (float)value; /* to nearest, as a wasm f32 parameter rounds a JavaScript number */
    }
    for (int i = wholes; i < wholes + trailing; i++) {
      if (napi_get_value_uint32(env, argv[1 + scalars + i], &call->whole[i]) != napi_ok || call->whole[i] > INT32_MAX) {
        snprintf(message, sizeof message, "%s: argument %d must be a whole number below 2³¹", usage, 2 + scalars + i);
        goto fail;
      }
    }
    return 1;
  }
fail:
  napi_throw_range_error(env, NULL, message);
  return 0;
}

static int arguments(napi_env env, napi_callback_info info, const char *usage, int wholes, int scalars, struct call *call) {
  return read_arguments(env, info, usage, wholes, scalars, 0, call);
}

/* Whether `count` floats at byte offset `at` are float-aligned and inside the heap; else a RangeError naming `what`. */
static int floats_inside(napi_env env, const struct call *call, const char *kernel, const char *what, uint64_t at, uint64_t count) {
  if (at % 4 == 0 && at + 4 * count <= call->length) return 1;
  char message[200];
  snprintf(message, sizeof message, "%s: %s (%llu floats at byte %llu) is not float-aligned or reaches past the end of the heap (%llu bytes)",
           kernel, what, (unsigned long long)count, (unsigned long long)at, (unsigned long long)call->length);
  napi_throw_range_error(env, NULL, message);
  return 0;
}

/* Whether `count` bytes at byte offset `at` are inside the heap; else a RangeError naming `what`. */
static int bytes_inside(napi_env env, const struct call *call, const char *kernel, const char *what, uint64_t at, uint64_t count) {
  if (at + count <= call->length) return 1;
  char message[200];
  snprintf(message, sizeof message, "%s: %s (%llu bytes at byte %llu) reaches past the end of the heap (%llu bytes)",
           kernel, what, (unsigned long long)count, (unsigned long long)at, (unsigned long long)call->length);
  napi_throw_range_error(env, NULL, message);
  return 0;
}

/* a·b, or 2⁶⁰ where it is more (no heap is that large): sizes multiplied without overflow, then checked. */
#define TOO_MANY ((uint64_t)1 << 60)
static uint64_t times(uint64_t a, uint64_t b) {
  return a != 0 && b > TOO_MANY / a ? TOO_MANY : a * b;
}

/* A RangeError "kernel: message" (false, for `return refuse(...)`). */
static int refuse(napi_env env, const char *kernel, const char *message) {
  char text[200];
  snprintf(text, sizeof text, "%s: %s", kernel, message);
  napi_throw_range_error(env, NULL, text);
  return 0;
}

/* The byte just past a matrix's last float: at + (rows − 1)·rowStride + (cols − 1)·colStride + 4. */
static uint64_t end_of(uint64_t at, uint64_t rows, uint64_t row_stride, uint64_t cols, uint64_t col_stride) {
  return at + (rows - 1) * row_stride + (cols - 1) * col_stride + 4;
}

static int matrix_inside(napi_env env, const struct call *call, const char *what, uint64_t at, uint64_t rows, uint64_t row_stride, uint64_t cols, uint64_t col_stride) {
  if (at % 4 == 0 && row_stride % 4 == 0 && col_stride % 4 == 0 && end_of(at, rows, row_stride, cols, col_stride) <= call->length) return 1;
  char message[200];
  snprintf(message, sizeof message, "gemm: %s (%llu × %llu at byte %llu) is not float-aligned or reaches past the end of the heap (%llu bytes)",
           what, (unsigned long long)rows, (unsigned long long)cols, (unsigned long long)at, (unsigned long long)call->length);
  napi_throw_range_error(env, NULL, message);
  return 0;
}

static napi_value gemm(napi_env env, napi_callback_info info) {
  struct call call;
  if (!arguments(env, info, "gemm(heap, a, sam, sak, b, ldb, c, ldc, extra, M, K, N, epilogue)", 12, 0, &call)) return NULL;
  uint32_t a = call.whole[0], sam = call.whole[1], sak = call.whole[2], b = call.whole[3], ldb = call.whole[4], c = call.whole[5];
  uint32_t ldc = call.whole[6], extra = call.whole[7], M = call.whole[8], K = call.whole[9], N = call.whole[10], mode = call.whole[11];
  if (mode > EPILOGUE_RELU) return napi_throw_range_error(env, NULL, "gemm: epilogue must be 0 (none), 1 (addTo), 2 (maskByStep) or 3 (relu)"), NULL;
  if (M == 0 || N == 0) return NULL;
  if (!matrix_inside(env, &call, "C", c, M, ldc, N, 4)) return NULL;
  if (K > 0 && !(matrix_inside(env, &call, "A", a, M, sam, K, sak) && matrix_inside(env, &call, "B", b, K, ldb, N, 4))) return NULL;
  if ((mode == EPILOGUE_ADD_TO || mode == EPILOGUE_MASK_BY_STEP) && !matrix_inside(env, &call, "extra", extra, M, ldc, N, 4)) return NULL;
  char *heap = call.heap;
  kernels->gemm(heap + a, sam, sak, heap + b, ldb, heap + c, ldc, heap + extra, M, K, N, mode);
  return NULL;
}

static napi_value pixels(napi_env env, napi_callback_info info) {
  struct call call;
  if (!arguments(env, info, "pixels(heap, src, dst, count, inputs)", 4, 0, &call)) return NULL;
  uint64_t src = call.whole[0], dst = call.whole[1], count = call.whole[2], inputs = call.whole[3];
  if (src + count * inputs > call.length) return napi_throw_range_error(env, NULL, "pixels: src (count × inputs bytes) reaches past the end of the heap"), NULL;
  if (!floats_inside(env, &call, "pixels", "dst", dst, count * (inputs + 1))) return NULL;
  kernels->pixels((const unsigned char *)call.heap + src, (float *)(call.heap + dst), (int)count, (int)inputs);
  return NULL;
}

static napi_value transpose(napi_env env, napi_callback_info info) {
  struct call call;
  if (!arguments(env, info, "transpose(heap, src, dst, rows, cols)", 4, 0, &call)) return NULL;
  uint64_t src = call.whole[0], dst = call.whole[1], count = (uint64_t)call.whole[2] * call.whole[3];
  if (!floats_inside(env, &call, "transpose", "src", src, count) || !floats_inside(env, &call, "transpose", "dst", dst, count)) return NULL;
  kernels->transpose((const float *)(call.heap + src), (float *)(call.heap + dst), (int)call.whole[2], (int)call.whole[3]);
  return NULL;
}


static napi_value transposeStrided(napi_env env, napi_callback_info info) {
  struct call call;
  if (!arguments(env, info, "transposeStrided(heap, src, dst, rows, cols, ss, ds)", 6, 0, &call)) return NULL;
  uint64_t src = call.whole[0], dst = call.whole[1], rows = call.whole[2], cols = call.whole[3], ss = call.whole[4], ds = call.whole[5];
  if (rows > 0 && cols > 0 && (ss < cols || ds < rows)) return refuse(env, "transposeStrided", "rows overlap: expected ss ≥ cols and ds ≥ rows"), NULL;
  uint64_t srcFloats = rows == 0 || cols == 0 ? 0 : times(rows - 1, ss) + cols, dstFloats = rows == 0 || cols == 0 ? 0 : times(cols - 1, ds) + rows;
  if (!floats_inside(env, &call, "transposeStrided", "src", src, srcFloats) || !floats_inside(env, &call, "transposeStrided", "dst", dst, dstFloats)) return NULL;
  kernels->transposeStrided((const float *)(call.heap + src), (float *)(call.heap + dst), (int)rows, (int)cols, (int)ss, (int)ds);
  return NULL;
}

/* The elementwise kernels: `arrays` arrays of n floats at the first offsets, n after them, then the scalars. */
static int elementwise(napi_env env, napi_callback_info info, const char *kernel, const char *usage, const char *const *names, int arrays, int scalars, struct call *call) {
  if (!arguments(env, info, usage, arrays + 1, scalars, call)) return 0;
  for (int i = 0; i < arrays; i++) {
    if (!floats_inside(env, call, kernel, names[i], call->whole[i], call->whole[arrays])) return 0;
  }
  return 1;
}
#define FLOATS(i) ((float *)(call.heap + call.whole[i]))

static napi_value adam(napi_env env, napi_callback_info info) {
  static const char *const names[] = { "p", "m", "v", "g" };
  struct call call;
  if (!elementwise(env, info, "adam", "adam(heap, p, m, v, g, n, c, e, beta1, beta2)", names, 4, 4, &call)) return NULL;
  kernels->adam(FLOATS(0), FLOATS(1), FLOATS(2), FLOATS(3), (int)call.whole[4], call.scalar[0], call.scalar[1], call.scalar[2], call.scalar[3]);
  return NULL;
}

static napi_value momentum(napi_env env, napi_callback_info info) {
  static const char *const names[] = { "p", "b", "g" };
  struct call call;
  if (!elementwise(env, info, "momentum", "momentum(heap, p, b, g, n, mu)", names, 3, 1, &call)) return NULL;
  kernels->momentum(FLOATS(0), FLOATS(1), FLOATS(2), (int)call.whole[3], call.scalar[0]);
  return NULL;
}

static napi_value adagrad(napi_env env, napi_callback_info info) {
  static const char *const names[] = { "p", "s", "g" };
  struct call call;
  if (!elementwise(env, info, "adagrad", "adagrad(heap, p, s, g, n, lr, eps)", names, 3, 2, &call)) return NULL;
  kernels->adagrad(FLOATS(0), FLOATS(1), FLOATS(2), (int)call.whole[3], call.scalar[0], call.scalar[1]);
  return NULL;
}

static napi_value rmsprop(napi_env env, napi_callback_info info) {
  static const char *const names[] = { "p", "a", "g" };
  struct call call;
  if (!elementwise(env, info, "rmsprop", "rmsprop(heap, p, a, g, n, alpha, stepSize, eps)", names, 3, 3, &call)) return NULL;
  kernels->rmsprop(FLOATS(0), FLOATS(1), FLOATS(2), (int)call.whole[3], call.scalar[0], call.scalar[1], call.scalar[2]);
  return NULL;
}

static napi_value addTo(napi_env env, napi_callback_info info) {
  static const char *const names[] = { "p", "g" };
  struct call call;
  if (!elementwise(env, info, "addTo", "addTo(heap, p, g, n)", names, 2, 0, &call)) return NULL;
  kernels->addTo(FLOATS(0), FLOATS(1), (int)call.whole[2]);
  return NULL;
}

static napi_value scale(napi_env env, napi_callback_info info) {
  static const char *const names[] = { "x" };
  struct call call;
  if (!elementwise(env, info, "scale", "scale(heap, x, n, factor)", names, 1, 1, &call)) return NULL;
  kernels->scale(FLOATS(0), (int)call.whole[1], call.scalar[0]);
  return NULL;
}

/* im2col and col2im: the planes (C·B·H·W floats), the rows ((C·kh·kw + 1)·B·OH·OW floats, the bias row only im2col's). */
static int convolution_arguments(napi_env env, napi_callback_info info, const char *kernel, const char *usage, int bias_row, struct call *call) {
  if (!arguments(env, info, usage, 12, 0, call)) return 0;
  uint64_t C = call->whole[2], B = call->whole[3], H = call->whole[4], W = call->whole[5], kh = call->whole[6], kw = call->whole[7];
  uint64_t OH = call->whole[10], OW = call->whole[11];
  if (call->whole[8] == 0) return refuse(env, kernel, "stride must be at least 1");
  uint64_t planes = times(times(C, B), times(H, W)), rows = times(times(C, kh), kw) + bias_row, cols = times(B, times(OH, OW));
  uint64_t src = call->whole[0], dst = call->whole[1];
  if (bias_row) return floats_inside(env, call, kernel, "src", src, planes) && floats_inside(env, call, kernel, "dst", dst, times(rows, cols));
  return floats_inside(env, call, kernel, "src", src, times(rows, cols)) && floats_inside(env, call, kernel, "dst", dst, planes);
}
#define CONVOLUTION_ARGS (const float *)(call.heap + call.whole[0]), (float *)(call.heap + call.whole[1]), (int)call.whole[2], (int)call.whole[3], \
  (int)call.whole[4], (int)call.whole[5], (int)call.whole[6], (int)call.whole[7], (int)call.whole[8], (int)call.whole[9], (int)call.whole[10], (int)call.whole[11]

static napi_value im2col(napi_env env, napi_callback_info info) {
  struct call call;
  if (!convolution_arguments(env, info, "im2col", "im2col(heap, src, dst, C, B, H, W, kh, kw, stride, pad, OH, OW)", 1, &call)) return NULL;
  kernels->im2col(CONVOLUTION_ARGS);
  return NULL;
}

static napi_value im2colRows(napi_env env, napi_callback_info info) {
  struct call call;
  if (!convolution_arguments(env, info, "im2colRows", "im2colRows(heap, src, dst, C, B, H, W, kh, kw, stride, pad, OH, OW)", 1, &call)) return NULL;
  kernels->im2colRows(CONVOLUTION_ARGS);
  return NULL;
}

static napi_value col2im(napi_env env, napi_callback_info info) {
  struct call call;
  if (!convolution_arguments(env, info, "col2im", "col2im(heap, src, dst, C, B, H, W, kh, kw, stride, pad, OH, OW)", 0, &call)) return NULL;
  kernels->col2im(CONVOLUTION_ARGS);
  return NULL;
}

static napi_value maxPool(napi_env env, napi_callback_info info) {
  struct call call;
  if (!arguments(env, info, "maxPool(heap, src, dst, argmax, planes, H, W, size, stride, OH, OW)", 10, 0, &call)) return NULL;
  uint64_t src = call.whole[0], dst = call.whole[1], argmax = call.whole[2], planes = call.whole[3], H = call.whole[4], W = call.whole[5];
  uint64_t size = call.whole[6], stride = call.whole[7], OH = call.whole[8], OW = call.whole[9];
  if (size == 0 || stride == 0) return refuse(env, "maxPool", "size and stride must be at least 1"), NULL;
  if ((OH > 0 && (OH - 1) * stride + size > H) || (OW > 0 && (OW - 1) * stride + size > W)) {
    return refuse(env, "maxPool", "a window reaches past its plane: expected (OH − 1)·stride + size ≤ H and (OW − 1)·stride + size ≤ W"), NULL;
  }
  uint64_t outputs = times(planes, times(OH, OW));
  if (!floats_inside(env, &call, "maxPool", "src", src, times(planes, times(H, W))) || !floats_inside(env, &call, "maxPool", "dst", dst, outputs) ||
      !floats_inside(env, &call, "maxPool", "argmax", argmax, outputs)) return NULL;
  kernels->maxPool((const float *)(call.heap + src), (float *)(call.heap + dst), (int *)(call.heap + argmax), (int)planes, (int)H, (int)W, (int)size, (int)stride, (int)OH, (int)OW);
  return NULL;
}

static napi_value maxPoolBackward(napi_env env, napi_callback_info info) {
  struct call call;
  if (!arguments(env, info, "maxPoolBackward(heap, dOut, argmax, dIn, planes, H, W, OH, OW)", 8, 0, &call)) return NULL;
  uint64_t dOut = call.whole[0], argmax = call.whole[1], dIn = call.whole[2], planes = call.whole[3], H = call.whole[4], W = call.whole[5];
  uint64_t OH = call.whole[6], OW = call.whole[7], outputs = times(planes, times(OH, OW));
  if (!floats_inside(env, &call, "maxPoolBackward", "dOut", dOut, outputs) || !floats_inside(env, &call, "maxPoolBackward", "argmax", argmax, outputs) ||
      !floats_inside(env, &call, "maxPoolBackward", "dIn", dIn, times(planes, times(H, W)))) return NULL;
  kernels->maxPoolBackward((const float *)(call.heap + dOut), (const int *)(call.heap + argmax), (float *)(call.heap + dIn), (int)planes, (int)H, (int)W, (int)OH, (int)OW);
  return NULL;
}

static napi_value dropout(napi_env env, napi_callback_info info) {
  struct call call;
  if (!arguments(env, info, "dropout(heap, x, mask, n, scale)", 3, 1, &call)) return NULL;
  uint64_t x = call.whole[0], mask = call.whole[1], n = call.whole[2];
  if (!floats_inside(env, &call, "dropout", "x", x, n) || !bytes_inside(env, &call, "dropout", "mask", mask, n)) return NULL;
  kernels->dropout((float *)(call.heap + x), (const unsigned char *)call.heap + mask, (int)n, call.scalar[0]);
  return NULL;
}

static napi_value dropoutMask(napi_env env, napi_callback_info info) {
  struct call call;
  if (!arguments(env, info, "dropoutMask(heap, mask, n, stateHigh, stateLow, keepHigh, keepLow)", 6, 0, &call)) return NULL;
  uint64_t mask = call.whole[0], n = call.whole[1];
  if (!bytes_inside(env, &call, "dropoutMask", "mask", mask, n)) return NULL;
  if (call.whole[2] > 0xffff || call.whole[3] > 0xffff || call.whole[4] > 0x10000 || call.whole[5] > 0xffff)
    return napi_throw_range_error(env, NULL, "dropoutMask: state and keep are 16-bit halves (keep's high half at most 65536)"), NULL;
  kernels->dropoutMask((unsigned char *)call.heap + mask, (int)n, (int)call.whole[2], (int)call.whole[3], (int)call.whole[4], (int)call.whole[5]);
  return NULL;
}

static napi_value planes(napi_env env, napi_callback_info info) {
  struct call call;
  if (!arguments(env, info, "planes(heap, src, dst, count, pixels, mean, invStd)", 4, 2, &call)) return NULL;
  uint64_t src = call.whole[0], dst = call.whole[1], n = times(call.whole[2], call.whole[3]);
  if (!bytes_inside(env, &call, "planes", "src", src, n) || !floats_inside(env, &call, "planes", "dst", dst, n)) return NULL;
  kernels->planes((const unsigned char *)call.heap + src, (float *)(call.heap + dst), (int)call.whole[2], (int)call.whole[3], call.scalar[0], call.scalar[1]);
  return NULL;
}

static napi_value addScaled(napi_env env, napi_callback_info info) {
  static const char *const names[] = { "g", "p" };
  struct call call;
  if (!elementwise(env, info, "addScaled", "addScaled(heap, g, p, n, factor)", names, 2, 1, &call)) return NULL;
  kernels->addScaled(FLOATS(0), FLOATS(1), (int)call.whole[2], call.scalar[0]);
  return NULL;
}

static napi_value sgd(napi_env env, napi_callback_info info) {
  static const char *const names[] = { "p", "g" };
  struct call call;
  if (!elementwise(env, info, "sgd", "sgd(heap, p, g, n, lr)", names, 2, 1, &call)) return NULL;
  kernels->sgd(FLOATS(0), FLOATS(1), (int)call.whole[2], call.scalar[0]);
  return NULL;
}

static napi_value sumRows(napi_env env, napi_callback_info info) {
  struct call call;
  if (!arguments(env, info, "sumRows(heap, src, dst, rows, cols)", 4, 0, &call)) return NULL;
  uint64_t src = call.whole[0], dst = call.whole[1], rows = call.whole[2], cols = call.whole[3];
  if (!floats_inside(env, &call, "sumRows", "src", src, times(rows, cols)) || !floats_inside(env, &call, "sumRows", "dst", dst, rows)) return NULL;
  kernels->sumRows(FLOATS(0), FLOATS(1), (int)rows, (int)cols);
  return NULL;
}

/* The planes (C·n floats) at the first `planes` offsets, one float per channel at the next `channels`, then C and n. */
static int channel_arguments(napi_env env, const struct call *call, const char *kernel, const char *const *names, int planes, int channels) {
  uint64_t C = call->whole[planes + channels], n = call->whole[planes + channels + 1];
  for (int i = 0; i < planes + channels; i++) {
    if (!floats_inside(env, call, kernel, names[i], call->whole[i], i < planes ? times(C, n) : C)) return 0;
  }
  return 1;
}

static napi_value batchNorm(napi_env env, napi_callback_info info) {
  static const char *const names[] = { "x", "y", "gamma", "beta", "mean", "invStd", "runMean", "runVar" };
  struct call call;
  if (!read_arguments(env, info, "batchNorm(heap, x, y, gamma, beta, mean, invStd, runMean, runVar, C, n, eps, momentum, training)", 10, 2, 1, &call)) return NULL;
  if (call.whole[10] > 1) return refuse(env, "batchNorm", "training must be 0 (running statistics) or 1 (the batch's)"), NULL;
  if (!channel_arguments(env, &call, "batchNorm", names, 2, 6)) return NULL;
  kernels->batchNorm(FLOATS(0), FLOATS(1), FLOATS(2), FLOATS(3), FLOATS(4), FLOATS(5), FLOATS(6), FLOATS(7), (int)call.whole[8], (int)call.whole[9],
                     call.scalar[0], call.scalar[1], (int)call.whole[10]);
  return NULL;
}

static napi_value batchNormBackward(napi_env env, napi_callback_info info) {
  static const char *const names[] = { "dy", "x", "dx", "gamma", "mean", "invStd", "dGamma", "dBeta" };
  struct call call;
  if (!arguments(env, info, "batchNormBackward(heap, dy, x, gamma, mean, invStd, dx, dGamma, dBeta, C, n)", 10, 0, &call)) return NULL;
  /* In the order channel_arguments checks them: the planes dy, x, dx, then the channels' floats. */
  struct call ordered = call;
  const int order[] = { 0, 1, 5, 2, 3, 4, 6, 7, 8, 9 };
  for (int i = 0; i < 10; i++) ordered.whole[i] = call.whole[order[i]];
  if (!channel_arguments(env, &ordered, "batchNormBackward", names, 3, 5)) return NULL;
  kernels->batchNormBackward(FLOATS(0), FLOATS(1), FLOATS(2), FLOATS(3), FLOATS(4), FLOATS(5), FLOATS(6), FLOATS(7), (int)call.whole[8], (int)call.whole[9]);
  return NULL;
}

static napi_value activation(napi_env env, napi_callback_info info) {
  struct call call;
  if (!arguments(env, info, "activation(heap, x, n, kind)", 3, 0, &call)) return NULL;
  if (call.whole[2] > ACTIVATION_RELU) return refuse(env, "activation", "kind must be 0 (linear), 1 (tanh), 2 (sigmoid) or 3 (relu)"), NULL;
  if (!floats_inside(env, &call, "activation", "x", call.whole[0], call.whole[1])) return NULL;
  kernels->activation(FLOATS(0), (int)call.whole[1], (int)call.whole[2]);
  return NULL;
}

static napi_value activationBackward(napi_env env, napi_callback_info info) {
  struct call call;
  if (!arguments(env, info, "activationBackward(heap, y, dy, n, kind)", 4, 0, &call)) return NULL;
  if (call.whole[3] > ACTIVATION_RELU) return refuse(env, "activationBackward", "kind must be 0 (linear), 1 (tanh), 2 (sigmoid) or 3 (relu)"), NULL;
  if (!floats_inside(env, &call, "activationBackward", "y", call.whole[0], call.whole[2]) ||
      !floats_inside(env, &call, "activationBackward", "dy", call.whole[1], call.whole[2])) return NULL;
  kernels->activationBackward(FLOATS(0), FLOATS(1), (int)call.whole[2], (int)call.whole[3]);
  return NULL;
}

static napi_value instructionSet(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  napi_create_string_utf8(env, kernels->name, NAPI_AUTO_LENGTH, &result);
  return result;
}

static napi_value useInstructionSet(napi_env env, napi_callback_info info) {
  size_t argc = 1, length;
  napi_value argv[1];
  char name[16] = "";
  const struct kernels *chosen = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) == napi_ok && argc == 1 &&
      napi_get_value_string_utf8(env, argv[0], name, sizeof name, &length) == napi_ok) chosen = build_named(name);
  if (!chosen) return napi_throw_range_error(env, NULL, "useInstructionSet: expected \"avx512\", \"avx2\" or \"sse2\", one this CPU supports"), NULL;
  kernels = chosen;
  return NULL;
}

NAPI_MODULE_INIT() {
  if (!kernels) choose_build();
#define EXPORT(name) { #name, NULL, name, NULL, NULL, NULL, napi_enumerable, NULL }
  napi_property_descriptor properties[] = {
    EXPORT(gemm), EXPORT(pixels), EXPORT(transpose), EXPORT(transposeStrided), EXPORT(adam), EXPORT(momentum), EXPORT(adagrad), EXPORT(rmsprop), EXPORT(addTo),
    EXPORT(scale), EXPORT(im2col), EXPORT(im2colRows), EXPORT(col2im), EXPORT(maxPool), EXPORT(maxPoolBackward), EXPORT(dropout), EXPORT(dropoutMask), EXPORT(planes), EXPORT(addScaled),
    EXPORT(sgd), EXPORT(sumRows), EXPORT(batchNorm), EXPORT(batchNormBackward), EXPORT(activation),
    EXPORT(activationBackward), EXPORT(instructionSet), EXPORT(useInstructionSet),
  };
  napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties);
  return exports;
}
