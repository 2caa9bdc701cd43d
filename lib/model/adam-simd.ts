/**
 * Adam's elementwise update as ONE WebAssembly SIMD loop over the wasm backend's own heap, in place.
 *
 * Why: written as tensor ops, Adam is 10 elementwise kernels per layer, each reading and writing whole
 * parameter-sized arrays and allocating its output: ~1.9 ms per step for 784-500-500-10 (a quarter of the step;
 * wasm's Sqrt alone is ~0.25 ms per layer). A plain JavaScript loop over the heap was slower still (2.4 ms).
 * This loop reads g, m, v, p once and writes m, v, p once, in place. It computes in float32 with the
 * same operations in the same order as the kernels (β1·m + g; β2·v + g·g; p − (m / (√v + e))·c, each rounded
 * to float32), so its results are bit-identical to them.
 *
 * The module is a few hundred bytes, assembled below from named opcodes (`wasm-asm.ts`: no toolchain, no binary blob). It
 * imports the tfjs wasm module's memory, so it sees the tensors where they live.
 *
 * Where the whole step's products run on the compiled kernel (`native-products.ts`), this update does too: the
 * same operations in the same order in C (`lib/native/products.c`), vectorized to the CPU's width; square root and
 * division are correctly rounded in both, so the bits are the same (`test/native-products.test.ts`).
 *
 * Caution: XNNPACK caches a product's packed right operand by tensor id, so a tensor changed in place must not
 * be one a product has used before (the optimizer updates a fresh copy of the parameters, never the originals).
 */
import * as tf from "@tensorflow/tfjs";
import { nativeAdam, nativeProductsInUse } from "../engine/native-kernels";
import {
  BLOCK, BR, BR_IF, END, F32, F32_ADD, F32_DIV, F32_LOAD, F32_MUL, F32_SQRT, F32_STORE, F32_SUB, GET, I32, I32_ADD, I32_AND, I32_CONST,
  I32_GE_U, I32_SHL, LOOP, SET, SPLAT, TEE, V128, V_ADD, V_DIV, V_LOAD, V_MUL, V_SQRT, V_STORE, V_SUB, VOID, assembleModule, leb, mem,
} from "./wasm-asm";

/** The in-place update m ← β1·m + g, v ← β2·v + g², p ← p − (m / (√v + e))·c over four float32 tensors of one size. */
export type AdamKernel = (p: tf.Tensor, m: tf.Tensor, v: tf.Tensor, g: tf.Tensor, c: number, e: number, beta1: number, beta2: number) => void;

interface WasmBackendInternals {
  /** The heap: exported by the one-thread build, imported (and kept as `wasmMemory`) by the threaded one. */
  wasm?: { asm?: { memory?: WebAssembly.Memory }; wasmMemory?: WebAssembly.Memory };
  typedArrayFromHeap?: (tensor: tf.TensorInfo) => Float32Array;
}

const cache = new WeakMap<object, AdamKernel | null>();

/**
 * The SIMD kernel for the current backend, or null where it cannot run (not wasm, or no wasm SIMD).
 * @example const kernel = adamKernel(); if (kernel) kernel(p, m, v, g, stepSize, epsilon, 0.9, 0.999);
 */
export function adamKernel(): AdamKernel | null {
  const backend = tf.backend() as unknown as WasmBackendInternals;
  if (!cache.has(backend)) cache.set(backend, build(backend));
  return cache.get(backend)!;
}

function build(backend: WasmBackendInternals): AdamKernel | null {
  const memory = backend.wasm?.asm?.memory ?? backend.wasm?.wasmMemory;
  const heapView = backend.typedArrayFromHeap?.bind(backend);
  if (tf.getBackend() !== "wasm" || !(memory instanceof WebAssembly.Memory) || !heapView) return null;
  const shared = typeof SharedArrayBuffer !== "undefined" && memory.buffer instanceof SharedArrayBuffer;
  let update: (p: number, m: number, v: number, g: number, n: number, c: number, e: number, b1: number, b2: number) => void;
  try {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(assemble(shared)), { env: { memory } });
    update = instance.exports.adam as typeof update;
  } catch {
    return null; // no wasm SIMD in this runtime: the caller uses tensor ops
  }
  let native: { addon: object; update: typeof update } | null = null;
  return (p, m, v, g, c, e, beta1, beta2) => {
    // Where the step's products run natively, so does this loop (lib/native/products.c): the same bits, wider.
    const inUse = nativeProductsInUse();
    if (inUse && native?.addon !== inUse.addon) native = { addon: inUse.addon, update: nativeAdam(inUse.addon, memory) };
    const [P, M, V, G] = [p, m, v, g].map((t) => heapView(t));
    if (![M, V, G].every((view) => view!.length === P!.length) || [p, m, v, g].some((t) => t.dtype !== "float32")) {
      throw new RangeError(`adamKernel: expected four float32 tensors of one size, got sizes ${[P, M, V, G].map((view) => view!.length).join(", ")}`);
    }
    (inUse ? native!.update : update)(P!.byteOffset, M!.byteOffset, V!.byteOffset, G!.byteOffset, P!.length, c, e, beta1, beta2);
  };
}

const MEM = mem();

// Parameters, then locals, by index.
const P = 0, M = 1, V = 2, G = 3, N = 4, C = 5, E = 6, B1 = 7, B2 = 8;
const OFFSET = 9, END_AT = 10, GV = 11, MV = 12, VV = 13, CV = 14, EV = 15, B1V = 16, B2V = 17, GS = 18, MS = 19, VS = 20;

/** The update over [OFFSET, END_AT) in steps of `width` bytes, with vector or scalar ops. */
function loop(width: 4 | 16): number[] {
  const vector = width === 16;
  const [load, store, add, sub, mul, div, sqrt] = vector
    ? [V_LOAD, V_STORE, V_ADD, V_SUB, V_MUL, V_DIV, V_SQRT]
    : [[F32_LOAD], [F32_STORE], [F32_ADD], [F32_SUB], [F32_MUL], [F32_DIV], [F32_SQRT]];
  const [g, m, v] = vector ? [GV, MV, VV] : [GS, MS, VS];
  const [c, e, b1, b2] = vector ? [CV, EV, B1V, B2V] : [C, E, B1, B2];
  const at = (base: number) => [GET, base, GET, OFFSET, I32_ADD];
  return [
    BLOCK, VOID, LOOP, VOID,
    GET, OFFSET, GET, END_AT, I32_GE_U, BR_IF, 1,
    ...at(G), ...load, ...MEM, SET, g,
    ...at(M), GET, b1, ...at(M), ...load, ...MEM, ...mul, GET, g, ...add, TEE, m, ...store, ...MEM,
    ...at(V), GET, b2, ...at(V), ...load, ...MEM, ...mul, GET, g, GET, g, ...mul, ...add, TEE, v, ...store, ...MEM,
    ...at(P), ...at(P), ...load, ...MEM, GET, m, GET, v, ...sqrt, GET, e, ...add, ...div, GET, c, ...mul, ...sub, ...store, ...MEM,
    GET, OFFSET, I32_CONST, ...leb(width, true), I32_ADD, SET, OFFSET,
    BR, 0, END, END,
  ];
}

/** The module; `shared` imports a shared memory (the threaded wasm build's). */
function assemble(shared: boolean): Uint8Array {
  const splat = (from: number, to: number) => [GET, from, ...SPLAT, SET, to];
  const body = [
    ...splat(C, CV), ...splat(E, EV), ...splat(B1, B1V), ...splat(B2, B2V),
    GET, N, I32_CONST, ...leb(-4, true), I32_AND, I32_CONST, 2, I32_SHL, SET, END_AT, // whole groups of four
    ...loop(16),
    GET, N, I32_CONST, 2, I32_SHL, SET, END_AT, // the rest, one by one
    ...loop(4),
    END,
  ];
  const params = [I32, I32, I32, I32, I32, F32, F32, F32, F32];
  return assembleModule([{ name: "adam", params, locals: [[2, I32], [7, V128], [3, F32]], body }], shared);
}
