/**
 * The engine: the compiled kernels on a memory of its own, its helper threads, and training sessions on them.
 * Made from options (`EngineOptions`: the kernels' form and the threads), never from globals, so two runs that
 * ask the same get the same engine and the same bits.
 */
import { EngineHeap } from "./heap";
import { INSTRUCTION_SETS, kernelsHeapBase, loadNativeAddon, minimumPages, nativeKernels, wasmKernels, type Kernels } from "./kernels";
import type { NetworkNumbers, NetworkSpec } from "./layers";
import { predictNetwork, startNetwork, type InputScaling, type NetworkSession, type NetworkSessionSpec } from "./network";
import { predictLogits, type ModelNumbers, type PredictInput } from "./predict";
import { startSession, type EngineSession, type SessionSpec } from "./session";
import { startTeam, type Team } from "./team";

/**
 * How the engine runs: native kernels where they load (else WebAssembly), and up to `threads` threads for big
 * products (helpers start only where `threads` > 1).
 * @example const engine = createEngine({ native: true, threads: 2 });
 */
export interface EngineOptions {
  native: boolean;
  threads: number;
}

/**
 * The engine: sessions on its heap, and a line saying which kernels run.
 * @example const engine = createEngine({ native: true, threads: 1 }); const session = engine.startSession(spec, false);
 */
export interface Engine {
  readonly options: EngineOptions;
  /** "native AVX2", "wasm", or "wasm (native kernels not built ...)". */
  readonly kernelsLine: string;
  /** Train a model on the heap; `split`: big products run on the helper threads. */
  startSession(spec: SessionSpec, split: boolean): EngineSession;
  /** Train a network of conv2d, pooling, dense… layers (`network.ts`); `split`: big products on the helper threads. */
  startNetwork(spec: NetworkSessionSpec, split: boolean): NetworkSession;
  /** Row-major logits [count][classes] of a network for many images, in evaluation mode. */
  predictNetwork(spec: NetworkSpec, numbers: NetworkNumbers, scaling: InputScaling, images: { bytes: Uint8Array; count: number }, batchSize: number): Float32Array;
  /** Row-major logits [count][outputs] of a model for many images, `batchSize` per pass, big products split. */
  predict(model: ModelNumbers, input: PredictInput, batchSize: number): Float32Array;
  /** Chunks of products the helper threads have run (0 without helpers). */
  helperChunks(): number;
}

const engines = new Map<string, Engine>();

/**
 * The engine for these options, made once per thread.
 * @example createEngine({ native: false, threads: 1 }).kernelsLine; // "wasm"
 */
export function createEngine(options: EngineOptions): Engine {
  if (!Number.isInteger(options.threads) || options.threads < 1) throw new RangeError(`createEngine threads: expected a whole number ≥ 1, got ${options.threads}`);
  const key = `${options.native} ${options.threads}`;
  let engine = engines.get(key);
  if (!engine) engines.set(key, (engine = buildEngine(options)));
  return engine;
}

function buildEngine(options: EngineOptions): Engine {
  const heap = new EngineHeap(kernelsHeapBase(), minimumPages());
  const wasm = wasmKernels(heap.memory);
  const addon = options.native ? loadNativeAddon() : null;
  const native = addon && typeof addon !== "string" ? nativeKernels(addon.addon, heap.memory) : null;
  const kernels: Kernels = native ? withSmallCallsInWasm(native, wasm) : wasm;
  const kernelsLine = native
    ? `native ${INSTRUCTION_SETS[(addon as Exclude<typeof addon, string | null>).addon.instructionSet()] ?? "kernels"}`
    : `wasm${typeof addon === "string" ? ` (${addon})` : ""}`;
  const team: Team | null = options.threads > 1 ? startTeam(heap.memory, options.threads - 1, [wasm, native ? kernels : wasm], native !== null) : null;
  const split = team?.kernels(native ? 1 : 0) ?? kernels;
  return {
    options,
    kernelsLine,
    startSession: (spec, splitProducts) => startSession(heap, { kernels, gemm: splitProducts ? split.gemm : kernels.gemm }, spec),
    predict: (model, input, batchSize) => predictLogits(heap, { kernels, gemm: split.gemm }, model, input, batchSize),
    // A conv net's col2im, pooling and activation gradients split too, where its products do.
    startNetwork: (spec, splitProducts) => startNetwork(heap, splitProducts ? { kernels: split, gemm: split.gemm } : { kernels, gemm: kernels.gemm }, spec),
    predictNetwork: (spec, numbers, scaling, images, batchSize) => predictNetwork(heap, { kernels: split, gemm: split.gemm }, spec, numbers, scaling, images, batchSize),
    helperChunks: () => team?.helperChunks() ?? 0,
  };
}

/** Below this many floats a transpose runs in WebAssembly: a call into the addon costs more than such a copy. */
const SMALL_TRANSPOSE = 4096;

/** Products with fewer columns than this run in WebAssembly: the addon's single-column tiles are slower (784-10 at
 *  batch 1, 10 × 785 × 1: 2.7 µs in wasm against 12.9 natively, scripts measured in docs/performance.md). */
const NARROW_PRODUCT = 4;

/**
 * The native kernels, with the calls that are too small to pay for crossing into the addon (a small model's pixels
 * and transposes, every step, and single-column products) kept in WebAssembly: both give the same bits, so only the
 * time changes.
 */
function withSmallCallsInWasm(native: Kernels, wasm: Kernels): Kernels {
  return {
    ...native,
    gemm: (a, sam, sak, b, ldb, c, ldc, extra, M, K, N, mode) => (N < NARROW_PRODUCT ? wasm : native).gemm(a, sam, sak, b, ldb, c, ldc, extra, M, K, N, mode),
    pixels: wasm.pixels,
    transpose: (src, dst, rows, cols) => (rows * cols < SMALL_TRANSPOSE ? wasm : native).transpose(src, dst, rows, cols),
  };
}
