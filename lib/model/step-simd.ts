/**
 * The three WebAssembly SIMD kernels a whole training step is made of when it runs on the wasm backend's heap
 * (`wasm-step.ts`): a matrix product with its epilogue, pixels to floats, and a transpose.
 *
 * Why: a tfjs step is ~15–25 kernel calls, each with its JavaScript bookkeeping, an allocation and, for a product,
 * XNNPACK re-packing its right operand; at batch 16 on 784-10 that overhead is most of the step. These kernels
 * work in place on buffers that stay put, called straight from JavaScript.
 *
 * `gemm` sums each output over k in order, one float32 multiply then one add per term, starting from 0, as
 * XNNPACK's wasm SIMD products do (one accumulator per output, k in order); its epilogues are the elementwise
 * kernel that followed each product in the tensor-op step: `p + g` (tf.add), `x · step(mask)` (tf.mul by
 * tf.step) and ReLU as XNNPACK clamps it (`pmax(0, x)`). So the step's numbers can match the tensor ops bit for
 * bit; `test/wasm-step.test.ts` checks that they do.
 *
 * Like `adam-simd.ts`, the module is assembled here from named opcodes and imports the tfjs module's memory.
 */
import * as tf from "@tensorflow/tfjs";
import {
  BLOCK, BR, BR_IF, ELSE, END, F32, F32_ADD, F32_CONVERT_I32_U, F32_DIV, F32_GT, F32_LOAD, F32_LT, F32_MUL, F32_STORE, GET, I16_EXTEND_HIGH_U8,
  I16_EXTEND_LOW_U8, I32, I32_ADD, I32_AND, I32_EQ, I32_EQZ, I32_EXTEND_HIGH_U16, I32_EXTEND_LOW_U16, I32_GE_S, I32_GT_S, I32_LE_S, I32_LOAD,
  I32_LOAD8_U, I32_LT_S, I32_MUL, I32_SHL, I32_STORE, I32_SUB, IF, LOOP, SELECT, SET, SPLAT, TEE, V128, V_ADD, V_AND, V_CONVERT_I32_U, V_DIV,
  V_GT, V_LOAD, V_LOAD32_SPLAT, V_MUL, V_PMAX, V_STORE, VOID, assembleModule, f32Const, i32Const, mem, type WasmFunction,
} from "./wasm-asm";

/**
 * What `gemm` does with each output after the sum.
 * @example kernels.gemm(a, 785 * 4, 4, b, 16 * 4, c, 16 * 4, 0, 500, 785, 16, EPILOGUE.relu);
 */
export const EPILOGUE = { none: 0, addTo: 1, maskByStep: 2, relu: 3 } as const;

/** The kernels, on byte addresses in the wasm heap. */
export interface StepKernels {
  /**
   * C[m][n] = epilogue(Σ_k A(m, k) · B[k][n]) for m < M, n < N, k < K. A(m, k) is at `a + m·sam + k·sak` (byte
   * strides: either orientation of A costs the same); B and C are row-major with row strides `ldb`, `ldc`
   * (bytes). `extra` is read with C's layout: the parameters for `addTo` (C = extra + sum), the mask for
   * `maskByStep` (C = sum · (extra > 0 ? 1 : 0)). C must not overlap A, B or extra.
   */
  gemm(a: number, sam: number, sak: number, b: number, ldb: number, c: number, ldc: number, extra: number, M: number, K: number, N: number, epilogue: number): void;
  /** `count` rows of `inputs` bytes at `src` → rows of `inputs + 1` floats at `dst`: each byte / 255, then a 1. */
  pixels(src: number, dst: number, count: number, inputs: number): void;
  /** [rows][cols] float32 at `src` → [cols][rows] at `dst`. */
  transpose(src: number, dst: number, rows: number, cols: number): void;
}

/**
 * The wasm backend's internals the kernels use (tfjs 4.22's `BackendWasm`).
 * @example const offset = (tf.backend() as unknown as WasmHeapBackend).getMemoryOffset(tensor.dataId);
 */
export interface WasmHeapBackend {
  wasm: { asm?: { memory?: WebAssembly.Memory }; wasmMemory?: WebAssembly.Memory; HEAPU8: Uint8Array };
  getMemoryOffset(dataId: object): number;
  makeOutput(shape: number[], dtype: "float32"): tf.TensorInfo;
}

/** The kernels on one backend's heap, with the compiled module and that heap (for a second thread: `gemm-team`). */
export interface StepModule {
  kernels: StepKernels;
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
}

const cache = new WeakMap<object, StepModule | null>();

/**
 * The kernels for the current backend, or null where they cannot run (not wasm, or no wasm SIMD).
 * @example const kernels = stepKernels(); if (kernels) kernels.transpose(src, dst, 16, 785);
 */
export function stepKernels(): StepKernels | null {
  return stepModule()?.kernels ?? null;
}

/**
 * The kernels with their module and heap for the current backend, or null where they cannot run.
 * @example const built = stepModule(); built?.memory.buffer instanceof SharedArrayBuffer; // true on the threaded build
 */
export function stepModule(): StepModule | null {
  const backend = tf.backend() as unknown as Partial<WasmHeapBackend>;
  if (!cache.has(backend)) cache.set(backend, build(backend));
  return cache.get(backend)!;
}

function build(backend: Partial<WasmHeapBackend>): StepModule | null {
  const memory = backend.wasm?.asm?.memory ?? backend.wasm?.wasmMemory;
  if (tf.getBackend() !== "wasm" || !(memory instanceof WebAssembly.Memory)) return null;
  const shared = typeof SharedArrayBuffer !== "undefined" && memory.buffer instanceof SharedArrayBuffer;
  try {
    const module = new WebAssembly.Module(assembleModule([gemm(), pixels(), transpose()], shared));
    const kernels = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as StepKernels;
    return { kernels, module, memory };
  } catch {
    return null; // no wasm SIMD in this runtime: the caller keeps the tensor-op step
  }
}

// gemm's parameters, then locals, by index.
const A = 0, SAM = 1, SAK = 2, B = 3, LDB = 4, C = 5, LDC = 6, EXTRA = 7, M = 8, K = 9, N = 10, MODE = 11;
/**
 * A tile is 4 rows × 2 vectors (8 columns): 8 accumulators, 2 operand vectors and a splat in registers (V8 has 16
 * on x64). Measured in CPU time against 6 × 8, 4 × 12 and 2 × 16 on the step's products: 6 × 8 and 4 × 12 spill
 * (~20–30% slower), 2 × 16 ties on the big products and is ~50% slower where N is 10.
 */
const TILE_ROWS = 4, TILE_VECTORS = 2;
const MI = 12, NI = 13, KI = 14, BP = 15, OFF = 16;
const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);
const AROW = range(17, TILE_ROWS);
const V128_FROM = 17 + TILE_ROWS;
const ACC = range(0, TILE_ROWS).map((r) => range(V128_FROM + r * TILE_VECTORS, TILE_VECTORS));
const BV = range(V128_FROM + TILE_ROWS * TILE_VECTORS, TILE_VECTORS);
const AV = V128_FROM + TILE_ROWS * TILE_VECTORS + TILE_VECTORS, ZERO = AV + 1, ONE = AV + 2;
const SACC = range(ONE + 1, TILE_ROWS), SB = ONE + 1 + TILE_ROWS;

const add = (local: number, amount: number[]) => [GET, local, ...amount, I32_ADD, SET, local];

/**
 * One tile: rows MI..MI+rows−1, columns NI.. (`vectors` groups of four, or one column when 0), summed over all k,
 * then stored through the epilogue. 4 rows × 8 columns keeps 8 accumulators and 2 operand vectors in registers.
 */
function tile(rows: number, vectors: number): number[] {
  const scalar = vectors === 0;
  const vs = Array.from({ length: scalar ? 1 : vectors }, (_, v) => v);
  const rs = Array.from({ length: rows }, (_, r) => r);
  const code: number[] = [];
  for (const r of rs) {
    for (const v of vs) code.push(...(scalar ? [...f32Const(0), SET, SACC[r]!] : [GET, ZERO, SET, ACC[r]![v]!]));
    code.push(GET, A, GET, MI, ...(r ? [...i32Const(r), I32_ADD] : []), GET, SAM, I32_MUL, I32_ADD, SET, AROW[r]!);
  }
  code.push(GET, B, GET, NI, ...i32Const(2), I32_SHL, I32_ADD, SET, BP, GET, K, SET, KI);
  code.push(LOOP, VOID);
  if (scalar) code.push(GET, BP, F32_LOAD, ...mem(), SET, SB);
  else for (const v of vs) code.push(GET, BP, ...V_LOAD, ...mem(16 * v), SET, BV[v]!);
  for (const r of rs) {
    if (scalar) {
      code.push(GET, SACC[r]!, GET, AROW[r]!, F32_LOAD, ...mem(), GET, SB, F32_MUL, F32_ADD, SET, SACC[r]!);
    } else {
      // load32_splat: one instruction where a load and a splat were two (products 8–15% faster, A/B in one process).
      code.push(GET, AROW[r]!, ...V_LOAD32_SPLAT, ...mem(), SET, AV);
      for (const v of vs) code.push(GET, ACC[r]![v]!, GET, AV, GET, BV[v]!, ...V_MUL, ...V_ADD, SET, ACC[r]![v]!);
    }
    code.push(...add(AROW[r]!, [GET, SAK]));
  }
  code.push(...add(BP, [GET, LDB]), GET, KI, ...i32Const(1), I32_SUB, TEE, KI, BR_IF, 0, END);
  for (const r of rs) {
    code.push(GET, MI, ...(r ? [...i32Const(r), I32_ADD] : []), GET, LDC, I32_MUL, GET, NI, ...i32Const(2), I32_SHL, I32_ADD, SET, OFF);
    code.push(...epilogue(scalar, vs.map((v) => (scalar ? SACC[r]! : ACC[r]![v]!))));
  }
  return code;
}

/** Store each accumulator at C + OFF (+16 per vector) through the epilogue MODE selects. */
function epilogue(scalar: boolean, accs: number[]): number[] {
  const [load, store, addOp, mulOp] = scalar ? [[F32_LOAD], [F32_STORE], [F32_ADD], [F32_MUL]] : [V_LOAD, V_STORE, V_ADD, V_MUL];
  const at = (base: number, v: number) => [GET, base, GET, OFF, I32_ADD];
  const stores = (value: (acc: number, v: number) => number[]) =>
    accs.flatMap((acc, v) => [...at(C, v), ...value(acc, v), ...store, ...mem(16 * v)]);
  const extra = (v: number) => [...at(EXTRA, v), ...load, ...mem(16 * v)];
  const step = (v: number) => scalar
    ? [...f32Const(1), ...f32Const(0), ...extra(v), ...f32Const(0), F32_GT, SELECT]
    : [...extra(v), GET, ZERO, ...V_GT, GET, ONE, ...V_AND];
  const relu = (acc: number) => scalar ? [GET, acc, ...f32Const(0), ...f32Const(0), GET, acc, F32_LT, SELECT] : [GET, ZERO, GET, acc, ...V_PMAX];
  const is = (mode: number) => [GET, MODE, ...i32Const(mode), I32_EQ, IF, VOID];
  return [
    ...is(1), ...stores((acc, v) => [...extra(v), GET, acc, ...addOp]),
    ELSE, ...is(2), ...stores((acc, v) => [GET, acc, ...step(v), ...mulOp]),
    ELSE, ...is(3), ...stores((acc) => relu(acc)),
    ELSE, ...stores((acc) => [GET, acc]),
    END, END, END,
  ];
}

/** Every column of the current rows: tiles of 8, one of 4, then the last 4 again (overlapping) or single columns. */
function columns(rows: number): number[] {
  return [
    ...i32Const(0), SET, NI,
    BLOCK, VOID, LOOP, VOID,
    GET, NI, ...i32Const(4 * TILE_VECTORS), I32_ADD, GET, N, I32_GT_S, BR_IF, 1,
    ...tile(rows, TILE_VECTORS), ...add(NI, i32Const(4 * TILE_VECTORS)), BR, 0,
    END, END,
    BLOCK, VOID, LOOP, VOID,
    GET, NI, ...i32Const(4), I32_ADD, GET, N, I32_GT_S, BR_IF, 1,
    ...tile(rows, 1), ...add(NI, i32Const(4)), BR, 0,
    END, END,
    GET, NI, GET, N, I32_LT_S, IF, VOID,
    GET, N, ...i32Const(4), I32_GE_S, IF, VOID,
    GET, N, ...i32Const(4), I32_SUB, SET, NI, ...tile(rows, 1),
    ELSE,
    BLOCK, VOID, LOOP, VOID, GET, NI, GET, N, I32_GE_S, BR_IF, 1, ...tile(rows, 0), ...add(NI, i32Const(1)), BR, 0, END, END,
    END, END,
  ];
}

function gemm(): WasmFunction {
  return {
    name: "gemm",
    params: Array<number>(12).fill(I32),
    locals: [[5 + TILE_ROWS, I32], [TILE_ROWS * TILE_VECTORS + TILE_VECTORS + 3, V128], [TILE_ROWS + 1, F32]],
    body: [
      ...f32Const(1), ...SPLAT, SET, ONE,
      ...i32Const(0), SET, MI,
      BLOCK, VOID, LOOP, VOID,
      GET, MI, ...i32Const(TILE_ROWS), I32_ADD, GET, M, I32_GT_S, BR_IF, 1,
      ...columns(TILE_ROWS), ...add(MI, i32Const(TILE_ROWS)), BR, 0,
      END, END,
      BLOCK, VOID, LOOP, VOID,
      GET, MI, GET, M, I32_GE_S, BR_IF, 1,
      ...columns(1), ...add(MI, i32Const(1)), BR, 0,
      END, END,
      END,
    ],
  };
}

function pixels(): WasmFunction {
  const SRC = 0, DST = 1, COUNT = 2, INPUTS = 3, P = 4, S = 5, D = 6, VEND = 7, X = 8, H = 9, D255 = 10;
  const quarter = (extend: number[], offset: number) => [GET, D, GET, P, ...i32Const(2), I32_SHL, I32_ADD, GET, H, ...extend, ...V_CONVERT_I32_U, GET, D255, ...V_DIV, ...V_STORE, ...mem(offset)];
  return {
    name: "pixels",
    params: [I32, I32, I32, I32],
    locals: [[4, I32], [3, V128]],
    body: [
      ...f32Const(255), ...SPLAT, SET, D255,
      GET, INPUTS, ...i32Const(-16), I32_AND, SET, VEND,
      GET, SRC, SET, S, GET, DST, SET, D,
      BLOCK, VOID, LOOP, VOID,
      GET, COUNT, I32_EQZ, BR_IF, 1,
      ...i32Const(0), SET, P,
      BLOCK, VOID, LOOP, VOID,
      GET, P, GET, VEND, I32_GE_S, BR_IF, 1,
      GET, S, GET, P, I32_ADD, ...V_LOAD, ...mem(), SET, X,
      GET, X, ...I16_EXTEND_LOW_U8, SET, H, ...quarter(I32_EXTEND_LOW_U16, 0), ...quarter(I32_EXTEND_HIGH_U16, 16),
      GET, X, ...I16_EXTEND_HIGH_U8, SET, H, ...quarter(I32_EXTEND_LOW_U16, 32), ...quarter(I32_EXTEND_HIGH_U16, 48),
      ...add(P, i32Const(16)), BR, 0,
      END, END,
      BLOCK, VOID, LOOP, VOID,
      GET, P, GET, INPUTS, I32_GE_S, BR_IF, 1,
      GET, D, GET, P, ...i32Const(2), I32_SHL, I32_ADD, GET, S, GET, P, I32_ADD, I32_LOAD8_U, 0, 0, F32_CONVERT_I32_U, ...f32Const(255), F32_DIV, F32_STORE, ...mem(),
      ...add(P, i32Const(1)), BR, 0,
      END, END,
      GET, D, GET, INPUTS, ...i32Const(2), I32_SHL, I32_ADD, ...f32Const(1), F32_STORE, ...mem(),
      ...add(S, [GET, INPUTS]), GET, D, GET, INPUTS, ...i32Const(1), I32_ADD, ...i32Const(2), I32_SHL, I32_ADD, SET, D,
      GET, COUNT, ...i32Const(1), I32_SUB, SET, COUNT, BR, 0,
      END, END,
      END,
    ],
  };
}

function transpose(): WasmFunction {
  const SRC = 0, DST = 1, ROWS = 2, COLS = 3, CI = 4, R = 5, SP = 6, DP = 7, STRIDE = 8;
  return {
    name: "transpose",
    params: [I32, I32, I32, I32],
    locals: [[5, I32]],
    body: [
      GET, COLS, ...i32Const(2), I32_SHL, SET, STRIDE, GET, DST, SET, DP, ...i32Const(0), SET, CI,
      BLOCK, VOID, LOOP, VOID,
      GET, CI, GET, COLS, I32_GE_S, BR_IF, 1,
      GET, SRC, GET, CI, ...i32Const(2), I32_SHL, I32_ADD, SET, SP, GET, ROWS, SET, R,
      BLOCK, VOID, LOOP, VOID,
      GET, R, I32_EQZ, BR_IF, 1,
      GET, DP, GET, SP, I32_LOAD, ...mem(), I32_STORE, ...mem(),
      ...add(DP, i32Const(4)), ...add(SP, [GET, STRIDE]), GET, R, ...i32Const(1), I32_SUB, SET, R, BR, 0,
      END, END,
      ...add(CI, i32Const(1)), BR, 0,
      END, END,
      END,
    ],
  };
}
