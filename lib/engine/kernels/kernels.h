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

/* activation's and activationBackward's `kind`: 0 (linear) and any other leave the floats as they are. */
#define ACTIVATION_LINEAR 0
#define ACTIVATION_TANH 1
#define ACTIVATION_SIGMOID 2
#define ACTIVATION_RELU 3

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
/* The same for a block of larger matrices: src's rows ss floats apart, dst's ds apart (transpose: ss = cols, ds = rows). */
void KERNEL(transposeStrided)(const float *src, float *dst, int rows, int cols, int ss, int ds);
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

/*
 * Convolutions, on planes: activations [C][B][H][W] (channel-major, then the batch), so that a convolution is one
 * gemm over the whole batch. `pad` is the padding before the first row and column; the last ones are implied by
 * OH and OW (an input position past H or W reads 0), so TensorFlow's uneven `same` padding is OH, OW and its top pad.
 */
/*
 * src planes [C][B][H][W] → dst rows [C·kh·kw + 1][B·OH·OW]: row (c·kh + i)·kw + j, column (b·OH + oy)·OW + ox
 * holds src[c][b][oy·stride + i − pad][ox·stride + j − pad], 0 outside the planes; the last row is all 1 (the
 * bias's). gemm(W [F][C·kh·kw + 1], dst) is then the convolution, planes [F][B][OH][OW].
 */
void KERNEL(im2col)(const float *src, float *dst, int C, int B, int H, int W, int kh, int kw, int stride, int pad, int OH, int OW);
/* im2col's C·kh·kw rows without the row of ones (a team's chunk of channels, before the last). */
void KERNEL(im2colRows)(const float *src, float *dst, int C, int B, int H, int W, int kh, int kw, int stride, int pad, int OH, int OW);
/*
 * im2col's adjoint: dst planes [C][B][H][W] ← 0, then for rows r = 0..C·kh·kw − 1 in order and columns q in order,
 * dst[the pixel im2col read for (r, q)] += src[r][q] (positions in the padding skipped; the bias row not read).
 * Each pixel's terms arrive with r ascending: a float32 add each, from 0.
 */
void KERNEL(col2im)(const float *src, float *dst, int C, int B, int H, int W, int kh, int kw, int stride, int pad, int OH, int OW);
/*
 * Per plane of [planes][H][W]: dst[p][oy][ox] = the maximum of the size × size window at (oy·stride, ox·stride),
 * argmax[p][oy][ox] (int32) its index y·W + x in the plane. Row-major scan, replaced where greater or NaN (PyTorch's
 * rule): ties keep the first, a NaN in the window gives NaN at the last NaN. Valid windows: (OH − 1)·stride + size ≤ H,
 * (OW − 1)·stride + size ≤ W.
 */
void KERNEL(maxPool)(const float *src, float *dst, int *argmax, int planes, int H, int W, int size, int stride, int OH, int OW);
/* dIn [planes][H][W] ← 0, then for each output in order dIn[p][argmax[p][o]] += dOut[p][o] (an index outside the plane skipped). */
void KERNEL(maxPoolBackward)(const float *dOut, const int *argmax, float *dIn, int planes, int H, int W, int OH, int OW);
/* In place, forward and backward: x[i] ← mask[i] ? x[i]·scale : +0 (mask: n bytes, nonzero keeps). */
void KERNEL(dropout)(float *x, const unsigned char *mask, int n, float scale);
/*
 * mask[k] ← 1 where mulberry32's (k + 1)-th draw from `state` (lib/math/random.ts) is at least keep/2³², else 0: the
 * bytes of `random() >= rate` with keep = ⌈rate·2³²⌉. state and keep as 16-bit halves (high, low).
 */
void KERNEL(dropoutMask)(unsigned char *mask, int n, int stateHigh, int stateLow, int keepHigh, int keepLow);
/* count·pixels bytes → floats ((byte / 255) − mean)·invStd, each op rounded in that order (mean 0, invStd 1: byte / 255). */
void KERNEL(planes)(const unsigned char *src, float *dst, int count, int pixels, float mean, float invStd);
/* g ← g + p·factor (weight decay added to the gradient, PyTorch's L2). */
void KERNEL(addScaled)(float *g, const float *p, int n, float factor);
/* p ← p − g·lr. */
void KERNEL(sgd)(float *p, const float *g, int n, float lr);
/* dst[r] = Σ_c src[r][c] for r < rows, from 0 over c in order. */
void KERNEL(sumRows)(const float *src, float *dst, int rows, int cols);
/*
 * Batch normalisation over planes [C][n] (n = B·H·W for a convolution, B for a dense layer's [units][B]); y may be x.
 * training ≠ 0: per channel, mean = (Σ x from 0, in order) / n; squares = Σ (x − mean)·(x − mean) from 0, in order;
 * var = squares / n (biased, to normalise); invStd = 1 / √(var + eps); runMean ← runMean·(1 − momentum) +
 * mean·momentum; runVar ← runVar·(1 − momentum) + (squares / (n − 1))·momentum (unbiased, PyTorch's; n = 1 makes it
 * NaN: PyTorch refuses one value per channel in training). training = 0: mean = runMean, invStd = 1 / √(runVar + eps),
 * the running statistics untouched. Both: mean and invStd written per channel (for the backward), then
 * y = ((x − mean)·invStd)·gamma + beta, each op rounded in that order.
 */
void KERNEL(batchNorm)(const float *x, float *y, const float *gamma, const float *beta, float *mean, float *invStd, float *runMean, float *runVar,
                       int C, int n, float eps, float momentum, int training);
/*
 * Its gradient, from forward's mean and invStd; dx may be dy. Per channel, xhat = (x − mean)·invStd (forward's bits);
 * dBeta = Σ dy and dGamma = Σ dy·xhat (from 0, in order; written, not added to); k = (gamma·invStd) / n; then
 * dx = k·(((dy·n) − dBeta) − xhat·dGamma), each op rounded in that order.
 */
void KERNEL(batchNormBackward)(const float *dy, const float *x, const float *gamma, const float *mean, const float *invStd, float *dx, float *dGamma, float *dBeta,
                               int C, int n);
/*
 * In place: x ← tanh(x) (kind 1), sigmoid(x) (2) or relu(x) (3: x where 0 < x, else +0, −0 and NaN too, gemm's ReLU).
 * tanh and sigmoid from activation.c's own e^x (+, −, ×, ÷ and bits; no libm), within 1.3 and 2.2 ulps of the exact values;
 * NaN stays NaN, tanh(±0) = ±0, tanh(±∞) = ±1, sigmoid(−∞) = 0, sigmoid(+∞) = 1.
 */
void KERNEL(activation)(float *x, int n, int kind);
/*
 * In place, from the activation's output y: dy ← dy·(1 − y·y) (tanh), dy ← dy·(y·(1 − y)) (sigmoid),
 * dy ← y > 0 ? dy : +0 (relu), each op rounded in that order.
 */
void KERNEL(activationBackward)(const float *y, float *dy, int n, int kind);
