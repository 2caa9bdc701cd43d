/*
 * The kernels' signatures: the same for WebAssembly (where pointers are i32 byte offsets into the engine's
 * memory, and these are the module's exports) and for the native addon (addon.c turns the heap and byte offsets
 * into pointers and checks the bounds). Names are the exports' names, as the TypeScript side calls them.
 *
 * No include guard: addon.c includes it once per instruction set, with ISA defined, to declare gemm_avx512,
 * gemm_avx2 and gemm_sse2; a kernel source includes it after simd.h, which defines ISA for native builds.
 */
#undef KERNEL
#ifdef ISA
#define KERNEL(name) CAT(name, CAT(_, ISA))
#else
#define KERNEL(name) name
#endif
#ifndef CAT
#define CAT2(x, y) x##y
#define CAT(x, y) CAT2(x, y)
#endif

/* What gemm does with each output after its sum (`mode`). */
#define EPILOGUE_NONE 0
#define EPILOGUE_ADD_TO 1
#define EPILOGUE_MASK_BY_STEP 2
#define EPILOGUE_RELU 3

/*
 * C[m][n] = epilogue(Σ_k A(m, k) · B[k][n]) for m < M, n < N, summed from 0 over k in order, one float32 multiply
 * then one add per term. A(m, k) is the float at a + m·sam + k·sak (byte strides: either orientation of A); B and
 * C are row-major with byte row strides ldb and ldc; `extra` has C's layout and is read by addTo (C = extra + sum)
 * and maskByStep (C = sum · (extra > 0 ? 1 : 0)); relu is pmax(0, sum). C must not overlap A, B or extra.
 */
void KERNEL(gemm)(const char *a, int sam, int sak, const char *b, int ldb, char *c, int ldc, const char *extra, int M, int K, int N, int mode);
/* `count` rows of `inputs` bytes → rows of inputs + 1 floats: each byte / 255, then a 1. */
void KERNEL(pixels)(const unsigned char *src, float *dst, int count, int inputs);
/* [rows][cols] floats → [cols][rows]. */
void KERNEL(transpose)(const float *src, float *dst, int rows, int cols);
/* Adam in place: m ← β1·m + g; v ← β2·v + g·g; p ← p − (m / (√v + e))·c. */
void KERNEL(adam)(float *p, float *m, float *v, const float *g, int n, float c, float e, float beta1, float beta2);
/* SGD with momentum in place: b ← b·mu + g; p ← p + b. */
void KERNEL(momentum)(float *p, float *b, const float *g, int n, float mu);
/* Adagrad in place: s ← s + g·g; p ← p − (g / (√s + eps))·lr. */
void KERNEL(adagrad)(float *p, float *s, const float *g, int n, float lr, float eps);
/* RMSprop in place: a ← a·alpha + g·g; p ← p − (g / (√a + eps))·stepSize. */
void KERNEL(rmsprop)(float *p, float *a, const float *g, int n, float alpha, float stepSize, float eps);
/* p ← p + g (plain SGD, the gradient arriving scaled by −lr). */
void KERNEL(addTo)(float *p, const float *g, int n);
/* x ← x·factor. */
void KERNEL(scale)(float *x, int n, float factor);
