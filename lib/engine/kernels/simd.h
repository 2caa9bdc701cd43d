/*
 * The vector layer every kernel is written over (the pattern of ggml's simd-mappings.h and OpenBLAS's intrin_*.h,
 * reduced to what the kernels need). Which instruction set a compilation targets comes from the compiler's own
 * flags: `-msimd128` (WebAssembly SIMD), `-mavx512f`, `-mavx2`, or none (x86-64's SSE2). That decides
 *
 *   LANES  the floats in the widest vector (4, 8 or 16), and
 *   ISA    the suffix of the kernels' names in the native addon, which links one build per instruction set
 *          (gemm_avx2); WebAssembly has one build and exports the plain names.
 *
 * The vectors are GCC/Clang vector extensions: `+`, `*`, `>` and `&` act lane by lane, a scalar operand is
 * broadcast to every lane, and one body compiles to wasm SIMD, SSE2, AVX2 and AVX-512. They load and store at
 * any 4-byte-aligned address (the heap's floats) and may alias floats.
 */
#ifndef KERNELS_SIMD_H
#define KERNELS_SIMD_H

#if defined(__wasm_simd128__)
#define LANES 4
#elif defined(__AVX512F__)
#define ISA avx512
#define LANES 16
#elif defined(__AVX2__)
#define ISA avx2
#define LANES 8
#elif defined(__SSE2__)
#define ISA sse2
#define LANES 4
#else
#error "kernels: expected WebAssembly SIMD (-msimd128) or x86-64"
#endif

/* f32x4: 4 floats; i32x4: 4 ints of the same lanes, what a comparison gives (all ones where true). */
typedef float f32x1 __attribute__((vector_size(4), aligned(4), may_alias));
typedef float f32x4 __attribute__((vector_size(16), aligned(4), may_alias));
typedef float f32x8 __attribute__((vector_size(32), aligned(4), may_alias));
typedef float f32x16 __attribute__((vector_size(64), aligned(4), may_alias));
typedef int i32x1 __attribute__((vector_size(4), aligned(4), may_alias));
typedef int i32x4 __attribute__((vector_size(16), aligned(4), may_alias));
typedef int i32x8 __attribute__((vector_size(32), aligned(4), may_alias));
typedef int i32x16 __attribute__((vector_size(64), aligned(4), may_alias));

#define CAT2(x, y) x##y
#define CAT(x, y) CAT2(x, y)
/* The vector types of `width` lanes (1, 4, 8 or 16), for code written once for several widths. */
#define F32X(width) CAT(f32x, width)
#define I32X(width) CAT(i32x, width)

/*
 * pmax(0, x) lane by lane: x where 0 < x, else +0 (for −0 and NaN too): the ReLU of wasm's f32x4.pmax(0, x) and
 * XNNPACK's clamp. The comparison's mask ANDed with x's bits gives it at any width; in WebAssembly clang turns
 * that into a three-instruction bitselect, so there it is the one instruction itself.
 */
#define PMAX0_BY_MASK(V, VI) \
  static inline V pmax0_##V(V x) { return (V)((x > (V){0}) & (VI)x); }
PMAX0_BY_MASK(f32x1, i32x1)
#if defined(__wasm_simd128__)
static inline f32x4 pmax0_f32x4(f32x4 x) { return __builtin_wasm_pmax_f32x4((f32x4){0}, x); }
#else
PMAX0_BY_MASK(f32x4, i32x4)
#endif
#if LANES >= 8
PMAX0_BY_MASK(f32x8, i32x8)
#endif
#if LANES >= 16
PMAX0_BY_MASK(f32x16, i32x16)
#endif

#endif
