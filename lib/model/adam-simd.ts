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
 * The module is a few hundred bytes, assembled below from named opcodes (no toolchain, no binary blob). It
 * imports the tfjs wasm module's memory, so it sees the tensors where they live.
 *
 * Caution: XNNPACK caches a product's packed right operand by tensor id, so a tensor changed in place must not
 * be one a product has used before (the optimizer updates a fresh copy of the parameters, never the originals).
 */
import * as tf from "@tensorflow/tfjs";

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
  return (p, m, v, g, c, e, beta1, beta2) => {
    const [P, M, V, G] = [p, m, v, g].map((t) => heapView(t));
    if (![M, V, G].every((view) => view!.length === P!.length) || [p, m, v, g].some((t) => t.dtype !== "float32")) {
      throw new RangeError(`adamKernel: expected four float32 tensors of one size, got sizes ${[P, M, V, G].map((view) => view!.length).join(", ")}`);
    }
    update(P!.byteOffset, M!.byteOffset, V!.byteOffset, G!.byteOffset, P!.length, c, e, beta1, beta2);
  };
}

// Opcodes (WebAssembly 2.0 core and fixed-width SIMD).
const I32 = 0x7f, F32 = 0x7d, V128 = 0x7b;
const BLOCK = 0x02, LOOP = 0x03, BR = 0x0c, BR_IF = 0x0d, END = 0x0b, VOID = 0x40;
const GET = 0x20, SET = 0x21, TEE = 0x22;
const I32_CONST = 0x41, I32_GE_U = 0x4f, I32_ADD = 0x6a, I32_AND = 0x71, I32_SHL = 0x74;
const F32_LOAD = 0x2a, F32_STORE = 0x38, F32_SQRT = 0x91, F32_ADD = 0x92, F32_SUB = 0x93, F32_MUL = 0x94, F32_DIV = 0x95;
const simd = (op: number) => [0xfd, ...leb(op)];
const V_LOAD = simd(0x00), V_STORE = simd(0x0b), SPLAT = simd(0x13);
const V_SQRT = simd(0xe3), V_ADD = simd(0xe4), V_SUB = simd(0xe5), V_MUL = simd(0xe6), V_DIV = simd(0xe7);
const MEM = [2, 0]; // memarg: 4-byte alignment hint, offset 0

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

/** The module; `shared` imports a shared memory (the threaded wasm build's), which must declare a maximum. */
function assemble(shared: boolean): Uint8Array {
  const splat = (from: number, to: number) => [GET, from, ...SPLAT, SET, to];
  const body = [
    3, 2, I32, 7, V128, 3, F32, // locals
    ...splat(C, CV), ...splat(E, EV), ...splat(B1, B1V), ...splat(B2, B2V),
    GET, N, I32_CONST, ...leb(-4, true), I32_AND, I32_CONST, 2, I32_SHL, SET, END_AT, // whole groups of four
    ...loop(16),
    GET, N, I32_CONST, 2, I32_SHL, SET, END_AT, // the rest, one by one
    ...loop(4),
    END,
  ];
  const type = [1, 0x60, 9, I32, I32, I32, I32, I32, F32, F32, F32, F32, 0];
  // Memory type: flags 0 (min only) or 3 (shared, min and max); a declared max of 4 GiB accepts any memory.
  const memoryType = shared ? [0x03, 0, ...leb(65536)] : [0x00, 0];
  const imports = [1, ...name("env"), ...name("memory"), 0x02, ...memoryType];
  const exports = [1, ...name("adam"), 0x00, 0];
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, type), ...section(2, imports), ...section(3, [1, 0]), ...section(7, exports),
    ...section(10, [1, ...leb(body.length), ...body]),
  ]);
}

function section(id: number, content: number[]): number[] {
  return [id, ...leb(content.length), ...content];
}

function name(text: string): number[] {
  return [text.length, ...Array.from(text, (ch) => ch.charCodeAt(0))];
}

/** LEB128: signed for i32.const immediates, unsigned for sizes, counts and opcodes. */
function leb(value: number, signed = false): number[] {
  const bytes: number[] = [];
  for (;;) {
    const byte = value & 0x7f;
    value = signed ? value >> 7 : value >>> 7;
    const done = signed ? (value === 0 && (byte & 0x40) === 0) || (value === -1 && (byte & 0x40) !== 0) : value === 0;
    bytes.push(done ? byte : byte | 0x80);
    if (done) return bytes;
  }
}
