/**
 * step-simd's matrix product, and adam-simd's update, as native code (`lib/native/products.c`), for the whole wasm
 * step where a C compiler built it (`npm run build`). Same arguments, same wasm heap, same bits: each output is summed from 0 over k in
 * order, one float32 multiply then one add, never fused; only the registers are wider (AVX-512 or AVX2 where the
 * CPU has them, against WebAssembly's 128 bits). `test/native-products.test.ts` compares it with the wasm kernel
 * bit for bit on every epilogue and shape, and a training run's every loss.
 *
 * Used wherever the whole wasm step runs (under auto and wasm), unless `MIE_NATIVE_PRODUCTS=off`
 * (`train/backend.ts` decides and says so in the backend line); Adam's update follows the products
 * (`adam-simd.ts`).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { StepKernels } from "../model/step-simd";

/** The addon's exports. */
export interface NativeProductsAddon {
  /** step-simd's `gemm`, with the heap (a Uint8Array over the wasm memory) first. */
  gemm(heap: Uint8Array, ...args: Parameters<StepKernels["gemm"]>): void;
  /** adam-simd's update in place: byte offsets of p, m, v, g in the heap, then n floats, c, e, β1, β2. */
  adam(heap: Uint8Array, p: number, m: number, v: number, g: number, n: number, c: number, e: number, beta1: number, beta2: number): void;
  /** "avx512", "avx2" or "sse2": the instruction set chosen at load. */
  instructionSet(): string;
}

/** The loaded addon and where it came from. */
export interface NativeProducts {
  addon: NativeProductsAddon;
  path: string;
}

/**
 * Where `npm run build` puts the addon: `lib/native/build/products.node`, from lib's source (tsx) or its `dist/`.
 * @example nativeProductsPath(); // "/home/me/mie/lib/native/build/products.node"
 */
export function nativeProductsPath(): string {
  const libRoot = [join(__dirname, ".."), join(__dirname, "..", "..")].find((dir) => existsSync(join(dir, "native", "products.c")));
  return join(libRoot ?? join(__dirname, ".."), "native", "build", "products.node");
}

let loaded: NativeProducts | string | undefined;

/**
 * The addon, loaded once per thread, or why it cannot run here (a sentence for the backend line).
 * @example const products = loadNativeProducts(); typeof products === "string" ? products : products.addon.instructionSet(); // "avx512"
 */
export function loadNativeProducts(): NativeProducts | string {
  if (loaded !== undefined) return loaded;
  const path = nativeProductsPath();
  if (!existsSync(path)) {
    loaded = "native products not built (npm run build compiles them where a C compiler is installed)";
  } else {
    try {
      loaded = { addon: require(path) as NativeProductsAddon, path };
    } catch (error) {
      loaded = `native products did not load: ${String((error as Error).message).split("\n")[0]}`;
    }
  }
  return loaded;
}

let enabled = false;

/**
 * Whether whole wasm steps run their products on the native kernel (set by the backend where it loads and
 * `MIE_NATIVE_PRODUCTS` is not off); false keeps step-simd's wasm kernel. Either gives the same bits.
 * @example useNativeProducts(typeof loadNativeProducts() !== "string");
 */
export function useNativeProducts(on: boolean): void {
  enabled = on && typeof loadNativeProducts() !== "string";
}

/**
 * The native kernel when whole steps should use it, else null.
 * @example const native = nativeProductsInUse(); if (native) console.log(native.addon.instructionSet());
 */
export function nativeProductsInUse(): NativeProducts | null {
  return enabled ? (loadNativeProducts() as NativeProducts) : null;
}

/**
 * adam-simd's update on the native kernel, over `memory` (re-viewed after the heap grows): byte offsets of p, m, v
 * and g, the count, then c, e, β1, β2.
 * @example const adam = nativeAdam(addon, memory); adam(p, m, v, g, 392500, c, e, 0.9, 0.999);
 */
export function nativeAdam(addon: NativeProductsAddon, memory: WebAssembly.Memory): (p: number, m: number, v: number, g: number, n: number, c: number, e: number, beta1: number, beta2: number) => void {
  let heap = new Uint8Array(memory.buffer);
  return (p, m, v, g, n, c, e, beta1, beta2) => {
    if (heap.byteLength !== memory.buffer.byteLength) heap = new Uint8Array(memory.buffer);
    addon.adam(heap, p, m, v, g, n, c, e, beta1, beta2);
  };
}

/**
 * step-simd's `gemm` signature on the native kernel, over `memory` (re-viewed after the heap grows).
 * @example const gemm = nativeGemm(addon, memory); gemm(a, 785 * 4, 4, b, 64 * 4, c, 64 * 4, 0, 500, 785, 64, EPILOGUE.relu);
 */
export function nativeGemm(addon: NativeProductsAddon, memory: WebAssembly.Memory): StepKernels["gemm"] {
  let heap = new Uint8Array(memory.buffer);
  return (a, sam, sak, b, ldb, c, ldc, extra, M, K, N, mode) => {
    if (heap.byteLength !== memory.buffer.byteLength) heap = new Uint8Array(memory.buffer);
    addon.gemm(heap, a, sam, sak, b, ldb, c, ldc, extra, M, K, N, mode);
  };
}
