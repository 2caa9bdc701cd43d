/**
 * The engine's kernels, from one C source each (`kernels/*.c`), in the two forms it runs them:
 * - WebAssembly SIMD: `kernels/kernels.wasm`, compiled by clang (`npm run kernels:wasm`) and committed, so a
 *   machine without clang runs it; `test/engine-kernels.test.ts` rebuilds it and compares the bytes;
 * - native: `kernels/build/kernels.node`, the same sources compiled by the C compiler for AVX-512, AVX2 or SSE2
 *   (chosen when it loads), by `npm run build`; absent where there is no compiler.
 * Both give the same bits: every sum runs in the same order, one float32 multiply then one add, never fused.
 *
 * Both work on the engine's heap (`heap.ts`) by byte offset, so either can run any call, on any thread that shares
 * the heap.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** What gemm does with each output after its sum (kernels/kernels.h). */
export const EPILOGUE = { none: 0, addTo: 1, maskByStep: 2, relu: 3 } as const;

/** activation's and activationBackward's `kind` (kernels/kernels.h); linear leaves the floats as they are. */
export const ACTIVATION = { linear: 0, tanh: 1, sigmoid: 2, relu: 3 } as const;

/**
 * The kernels, on byte offsets into the engine's heap (see `kernels/kernels.h` for each one's arithmetic).
 * @example kernels.gemm(a, 785 * 4, 4, b, 16 * 4, c, 16 * 4, 0, 500, 785, 16, EPILOGUE.relu);
 */
export interface Kernels {
  /** C[m][n] = epilogue(Σ_k A(m, k) · B[k][n]); A(m, k) at a + m·sam + k·sak; B, C row-major (byte strides). */
  gemm(a: number, sam: number, sak: number, b: number, ldb: number, c: number, ldc: number, extra: number, M: number, K: number, N: number, mode: number): void;
  /** `count` rows of `inputs` bytes → rows of `inputs + 1` floats: each byte / 255, then a 1. */
  pixels(src: number, dst: number, count: number, inputs: number): void;
  /** [rows][cols] floats → [cols][rows]. */
  transpose(src: number, dst: number, rows: number, cols: number): void;
  /** The same for a block of larger matrices: src's rows `ss` floats apart, dst's `ds` apart (a team's chunk). */
  transposeStrided(src: number, dst: number, rows: number, cols: number, ss: number, ds: number): void;
  adam(p: number, m: number, v: number, g: number, n: number, c: number, e: number, beta1: number, beta2: number): void;
  momentum(p: number, b: number, g: number, n: number, mu: number): void;
  adagrad(p: number, s: number, g: number, n: number, lr: number, eps: number): void;
  rmsprop(p: number, a: number, g: number, n: number, alpha: number, stepSize: number, eps: number): void;
  addTo(p: number, g: number, n: number): void;
  scale(x: number, n: number, factor: number): void;
  /**
   * Planes [C][B][H][W] → rows [C·kh·kw + 1][B·OH·OW] for a convolution as one gemm; 0 in the padding, the last row
   * all 1 (the bias's). `pad` is the top and left padding; OH and OW imply the bottom and right.
   */
  im2col(src: number, dst: number, C: number, B: number, H: number, W: number, kh: number, kw: number, stride: number, pad: number, OH: number, OW: number): void;
  /** im2col's C·kh·kw rows without the row of ones (a team's chunk of channels before the last). */
  im2colRows(src: number, dst: number, C: number, B: number, H: number, W: number, kh: number, kw: number, stride: number, pad: number, OH: number, OW: number): void;
  /** im2col's adjoint: planes ← 0, then each row's values added back where im2col took them (rows in order, then columns). */
  col2im(src: number, dst: number, C: number, B: number, H: number, W: number, kh: number, kw: number, stride: number, pad: number, OH: number, OW: number): void;
  /** Each plane's size × size windows at stride (valid): the maximum (PyTorch's rule: first of ties, NaN wins) and its index y·W + x (int32). */
  maxPool(src: number, dst: number, argmax: number, planes: number, H: number, W: number, size: number, stride: number, OH: number, OW: number): void;
  /** dIn ← 0, then dIn[p][argmax[p][o]] += dOut[p][o] for each output in order. */
  maxPoolBackward(dOut: number, argmax: number, dIn: number, planes: number, H: number, W: number, OH: number, OW: number): void;
  /** In place, forward and backward: x[i] ← mask[i] ? x[i]·scale : +0 (mask: n bytes). */
  dropout(x: number, mask: number, n: number, scale: number): void;
  /**
   * mask[k] ← 1 where mulberry32's (k + 1)-th draw from `state` is at least keep/2³², else 0: with keep =
   * ⌈rate·2³²⌉, the bytes of `seededRandom`'s `random() >= rate` (`seedState`, `afterDraws`); state and keep as
   * 16-bit halves.
   */
  dropoutMask(mask: number, n: number, stateHigh: number, stateLow: number, keepHigh: number, keepLow: number): void;
  /** count·pixels bytes → floats ((byte / 255) − mean)·invStd, rounded after each op (mean 0, invStd 1: byte / 255). */
  planes(src: number, dst: number, count: number, pixels: number, mean: number, invStd: number): void;
  /** g ← g + p·factor (PyTorch's weight decay). */
  addScaled(g: number, p: number, n: number, factor: number): void;
  /** p ← p − g·lr. */
  sgd(p: number, g: number, n: number, lr: number): void;
  /** dst[r] = Σ_c src[r][c], from 0 over c in order. */
  sumRows(src: number, dst: number, rows: number, cols: number): void;
  /**
   * Batch normalisation over planes [C][n]: training 1 normalises by the batch's statistics (writing mean and invStd
   * per channel, updating runMean and runVar, PyTorch's unbiased), 0 by the running ones; y may be x.
   */
  batchNorm(x: number, y: number, gamma: number, beta: number, mean: number, invStd: number, runMean: number, runVar: number, C: number, n: number, eps: number, momentum: number, training: number): void;
  /** Its gradient from forward's mean and invStd: dGamma, dBeta written (not added to), dx (which may be dy). */
  batchNormBackward(dy: number, x: number, gamma: number, mean: number, invStd: number, dx: number, dGamma: number, dBeta: number, C: number, n: number): void;
  /** In place: tanh, sigmoid (the kernels' own e^x, the same bits everywhere) or relu (+0 for −0 and NaN), by `ACTIVATION`. */
  activation(x: number, n: number, kind: number): void;
  /** In place from the output y: dy·(1 − y·y), dy·(y·(1 − y)) or y > 0 ? dy : +0. */
  activationBackward(y: number, dy: number, n: number, kind: number): void;
}

/** The kernels' names, as both forms export them. */
const NAMES = [
  "gemm", "pixels", "transpose", "transposeStrided", "adam", "momentum", "adagrad", "rmsprop", "addTo", "scale",
  "im2col", "im2colRows", "col2im", "maxPool", "maxPoolBackward", "dropout", "dropoutMask", "planes", "addScaled", "sgd", "sumRows",
  "batchNorm", "batchNormBackward", "activation", "activationBackward",
] as const;

/**
 * The folder of the kernels' sources and builds, from lib's source (tsx) or its compiled `dist/engine/`.
 * @example existsSync(join(kernelsFolder(), "kernels.wasm")); // true
 */
export function kernelsFolder(): string {
  const candidates = [join(__dirname, "kernels"), join(__dirname, "..", "..", "engine", "kernels")];
  return candidates.find((dir) => existsSync(join(dir, "kernels.wasm"))) ?? candidates[0]!;
}

let wasmModule: WebAssembly.Module | undefined;

/**
 * The compiled WebAssembly module (compiled once per thread; a helper thread can be handed it).
 * @example const instance = new WebAssembly.Instance(kernelsModule(), { env: { memory } });
 */
export function kernelsModule(): WebAssembly.Module {
  wasmModule ??= new WebAssembly.Module(readFileSync(join(kernelsFolder(), "kernels.wasm")));
  return wasmModule;
}

/**
 * Where the kernels' module leaves memory free (above its stack): where the heap starts.
 * @example new EngineHeap(kernelsHeapBase());
 */
export function kernelsHeapBase(): number {
  const probe = new WebAssembly.Instance(kernelsModule(), { env: { memory: new WebAssembly.Memory({ initial: minimumPages(), maximum: 65536, shared: true } as WebAssembly.MemoryDescriptor) } });
  return (probe.exports.__heap_base as WebAssembly.Global).value as number;
}

/**
 * The pages the module asks of its memory at least.
 * @example new WebAssembly.Memory({ initial: minimumPages(), maximum: 65536, shared: true });
 */
export function minimumPages(): number {
  const imported = WebAssembly.Module.imports(kernelsModule()).find((entry) => entry.kind === "memory");
  const type = (imported as { type?: { minimum?: number } } | undefined)?.type;
  return type?.minimum ?? 2;
}

/**
 * The WebAssembly kernels on `memory`.
 * @example const kernels = wasmKernels(heap.memory); kernels.transpose(src, dst, 16, 785);
 */
export function wasmKernels(memory: WebAssembly.Memory): Kernels {
  const exports = new WebAssembly.Instance(kernelsModule(), { env: { memory } }).exports;
  return Object.fromEntries(NAMES.map((name) => [name, exports[name]])) as unknown as Kernels;
}

/** The native addon's exports: each kernel with the heap (a Uint8Array over the engine's memory) first. */
export interface NativeAddon {
  gemm(heap: Uint8Array, ...args: Parameters<Kernels["gemm"]>): void;
  pixels(heap: Uint8Array, ...args: Parameters<Kernels["pixels"]>): void;
  transpose(heap: Uint8Array, ...args: Parameters<Kernels["transpose"]>): void;
  transposeStrided(heap: Uint8Array, ...args: Parameters<Kernels["transposeStrided"]>): void;
  adam(heap: Uint8Array, ...args: Parameters<Kernels["adam"]>): void;
  momentum(heap: Uint8Array, ...args: Parameters<Kernels["momentum"]>): void;
  adagrad(heap: Uint8Array, ...args: Parameters<Kernels["adagrad"]>): void;
  rmsprop(heap: Uint8Array, ...args: Parameters<Kernels["rmsprop"]>): void;
  addTo(heap: Uint8Array, ...args: Parameters<Kernels["addTo"]>): void;
  scale(heap: Uint8Array, ...args: Parameters<Kernels["scale"]>): void;
  im2col(heap: Uint8Array, ...args: Parameters<Kernels["im2col"]>): void;
  im2colRows(heap: Uint8Array, ...args: Parameters<Kernels["im2colRows"]>): void;
  col2im(heap: Uint8Array, ...args: Parameters<Kernels["col2im"]>): void;
  maxPool(heap: Uint8Array, ...args: Parameters<Kernels["maxPool"]>): void;
  maxPoolBackward(heap: Uint8Array, ...args: Parameters<Kernels["maxPoolBackward"]>): void;
  dropout(heap: Uint8Array, ...args: Parameters<Kernels["dropout"]>): void;
  dropoutMask(heap: Uint8Array, ...args: Parameters<Kernels["dropoutMask"]>): void;
  planes(heap: Uint8Array, ...args: Parameters<Kernels["planes"]>): void;
  addScaled(heap: Uint8Array, ...args: Parameters<Kernels["addScaled"]>): void;
  sgd(heap: Uint8Array, ...args: Parameters<Kernels["sgd"]>): void;
  sumRows(heap: Uint8Array, ...args: Parameters<Kernels["sumRows"]>): void;
  batchNorm(heap: Uint8Array, ...args: Parameters<Kernels["batchNorm"]>): void;
  batchNormBackward(heap: Uint8Array, ...args: Parameters<Kernels["batchNormBackward"]>): void;
  activation(heap: Uint8Array, ...args: Parameters<Kernels["activation"]>): void;
  activationBackward(heap: Uint8Array, ...args: Parameters<Kernels["activationBackward"]>): void;
  /** "avx512", "avx2" or "sse2": the instruction set chosen at load. */
  instructionSet(): string;
}

/**
 * Where `npm run build` puts the native addon.
 * @example nativeAddonPath(); // "/home/me/mie/lib/engine/kernels/build/kernels.node"
 */
export function nativeAddonPath(): string {
  return join(kernelsFolder(), "build", "kernels.node");
}

let addon: { addon: NativeAddon; path: string } | string | undefined;

/**
 * The native addon, loaded once per thread, or why it cannot run here (a sentence for the backend line).
 * @example const native = loadNativeAddon(); typeof native === "string" ? native : native.addon.instructionSet(); // "avx2"
 */
export function loadNativeAddon(): { addon: NativeAddon; path: string } | string {
  if (addon !== undefined) return addon;
  const path = nativeAddonPath();
  if (!existsSync(path)) addon = "native kernels not built (npm run build compiles them where a C compiler is installed)";
  else {
    try {
      addon = { addon: require(path) as NativeAddon, path };
    } catch (error) {
      addon = `native kernels did not load: ${String((error as Error).message).split("\n")[0]}`;
    }
  }
  return addon;
}

/** The addon's names for its instruction sets, as the backend line writes them. */
export const INSTRUCTION_SETS: Record<string, string> = { avx512: "AVX-512", avx2: "AVX2", sse2: "SSE2" };

/**
 * The native kernels on `memory` (the heap's view made afresh after the memory grows).
 * @example const kernels = nativeKernels(addon, heap.memory); kernels.gemm(...);
 */
export function nativeKernels(native: NativeAddon, memory: WebAssembly.Memory): Kernels {
  let heap = new Uint8Array(memory.buffer);
  const view = (): Uint8Array => (heap.byteLength === memory.buffer.byteLength ? heap : (heap = new Uint8Array(memory.buffer)));
  // Fixed-arity wrappers: a rest parameter would allocate an array on every call, and a step of a small model makes
  // a dozen calls (784-10 at batch 1: 60,000 steps an epoch).
  type Raw = (heap: Uint8Array, ...args: number[]) => void;
  const wrap = (kernel: Raw, arity: number): ((...args: number[]) => void) => {
    switch (arity) {
      case 3: return (a, b, c) => kernel(view(), a!, b!, c!);
      case 4: return (a, b, c, d) => kernel(view(), a!, b!, c!, d!);
      case 5: return (a, b, c, d, e) => kernel(view(), a!, b!, c!, d!, e!);
      case 6: return (a, b, c, d, e, f) => kernel(view(), a!, b!, c!, d!, e!, f!);
      case 7: return (a, b, c, d, e, f, g) => kernel(view(), a!, b!, c!, d!, e!, f!, g!);
      case 8: return (a, b, c, d, e, f, g, h) => kernel(view(), a!, b!, c!, d!, e!, f!, g!, h!);
      case 9: return (a, b, c, d, e, f, g, h, i) => kernel(view(), a!, b!, c!, d!, e!, f!, g!, h!, i!);
      case 10: return (a, b, c, d, e, f, g, h, i, j) => kernel(view(), a!, b!, c!, d!, e!, f!, g!, h!, i!, j!);
      case 12: return (a, b, c, d, e, f, g, h, i, j, k, l) => kernel(view(), a!, b!, c!, d!, e!, f!, g!, h!, i!, j!, k!, l!);
      default: return (...args) => kernel(view(), ...args);
    }
  };
  const wasmArity = new WebAssembly.Instance(kernelsModule(), { env: { memory } }).exports;
  return Object.fromEntries(NAMES.map((name) => [name, wrap(native[name] as Raw, (wasmArity[name] as (...args: number[]) => void).length)])) as unknown as Kernels;
}
