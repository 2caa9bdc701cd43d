/**
 * A whole training step on the wasm backend's heap: the batch built from the uint8 pixels straight into wasm
 * memory, the forward pass, softmax cross-entropy, the backward pass and, for plain SGD, the update (fused into
 * the gradient product), as a dozen calls of `step-simd`'s kernels on buffers that stay put, with no tensor op or
 * XNNPACK re-pack per step. Other update rules get the gradients as tensors and apply them as before.
 *
 * It is the engine's step (`engine.ts`: the same layouts, products and order of every float sum; the same
 * JavaScript softmax) written without tensors, so its numbers are bit-identical to the tensor-op step's
 * (`test/wasm-step.test.ts` trains both and compares every loss and parameter). The new parameters go into a
 * fresh tensor each step, never into the old one in place: XNNPACK caches a product's packed right operand by
 * tensor id (see `adam-simd.ts`), and the old parameters may have been multiplied by an evaluation.
 */
import * as tf from "@tensorflow/tfjs";
import type { Split } from "../data/data";
import { softmaxCrossEntropy, type EngineLayer } from "./tensor-step";
import { teamGemm } from "./team";
import { EPILOGUE, stepKernels, type StepKernels, type WasmHeapBackend } from "../model/step-simd";

/** The batch a step trains on: images `from`..`to` (exclusive) of `split`, or of `order` (a permutation) when shuffling. */
export interface BatchSource {
  split: Split;
  from: number;
  to: number;
  order: Uint32Array | null;
}

/**
 * One step's loss and, unless it is not finite, per layer (layout unchanged) either the new parameters (`"sgd"`:
 * p + gradient, the gradient scaled by −lr) or the scaled gradients (`"gradients"`, for another update rule).
 */
export interface WasmStepResult {
  loss: number;
  tensors: tf.Tensor2D[] | null;
}

/** What a whole step hands back: SGD's new parameters, or the gradients for the optimizer to apply. */
export type WasmStepOutput = "sgd" | "gradients";

/** A whole training step for one layer structure and batch size, with its buffers; `dispose` frees them. */
export interface WasmStep {
  /** One step on `source` from the parameters `layers`, the gradients scaled by `gradientScale`. */
  step(layers: readonly EngineLayer[], source: BatchSource, gradientScale: number, output: WasmStepOutput): WasmStepResult;
  dispose(): void;
}

/** Byte offsets into the scratch buffer, for the largest batch. */
interface Plan {
  floats: number;
  stage: number;
  /** Each layer's input ([batch][inputs + 1] and [inputs + 1][batch]); index L holds nothing. */
  rows: number[];
  cols: number[];
  logits: number;
  dRows: number;
  dCols: [number, number];
}

/**
 * The whole step for `sizes` (e.g. [784, 500, 10]) at batches of up to `batchSize`, or null where the wasm
 * kernels cannot run (another backend, no wasm SIMD).
 * @example const whole = wasmStep([784, 10], 16); const { loss, tensors } = whole!.step(layers, { split, from: 0, to: 16, order: null }, -0.1, "sgd");
 */
export function wasmStep(sizes: readonly number[], batchSize: number): WasmStep | null {
  const kernels = stepKernels();
  if (!kernels) return null;
  const backend = tf.backend() as unknown as WasmHeapBackend;
  const plan = planBuffers(sizes, batchSize);
  const scratch = tf.keep(tf.zeros([plan.floats]));
  const base = backend.getMemoryOffset(scratch.dataId);
  return {
    step: (layers, source, gradientScale, output) => step(kernels, backend, base, plan, sizes, layers, source, gradientScale, output),
    dispose: () => scratch.dispose(),
  };
}

function planBuffers(sizes: readonly number[], batch: number): Plan {
  let bytes = 0;
  const take = (count: number) => {
    const at = bytes;
    bytes += Math.ceil(count / 4) * 16; // 16-byte aligned, room for `count` floats
    return at;
  };
  const stage = take(Math.ceil((batch * sizes[0]!) / 4));
  const rows: number[] = [];
  const cols: number[] = [];
  for (let k = 0; k < sizes.length - 1; k++) {
    rows.push(take(batch * (sizes[k]! + 1)));
    cols.push(take(batch * (sizes[k]! + 1)));
  }
  const widest = Math.max(...sizes.slice(1));
  const logits = take(batch * sizes[sizes.length - 1]!);
  const dRows = take(batch * widest);
  const dCols: [number, number] = [take(batch * widest), take(batch * widest)];
  return { floats: bytes / 4, stage, rows, cols, logits, dRows, dCols };
}

function step(
  kernels: StepKernels, backend: WasmHeapBackend, base: number, plan: Plan, sizes: readonly number[], layers: readonly EngineLayer[],
  source: BatchSource, gradientScale: number, output: WasmStepOutput,
): WasmStepResult {
  const { pixels, transpose } = kernels;
  const gemm = teamGemm() ?? kernels.gemm;
  const { split, from, to, order } = source;
  const size = to - from;
  const inputs = sizes[0]!;
  const last = layers.length - 1;
  const at = (offset: number) => base + offset;
  const floats = (offset: number, count: number) => new Float32Array(backend.wasm.HEAPU8.buffer, base + offset, count);

  // The batch: pixel bytes into the heap, then floats in both orientations; labels in JavaScript.
  const heap = backend.wasm.HEAPU8;
  let labels: Uint8Array;
  if (order) {
    labels = new Uint8Array(size);
    for (let j = 0; j < size; j++) {
      const sample = order[from + j]!;
      labels[j] = split.labels[sample]!;
      heap.set(split.images.subarray(sample * inputs, (sample + 1) * inputs), at(plan.stage) + j * inputs);
    }
  } else {
    labels = split.labels.subarray(from, to);
    heap.set(split.images.subarray(from * inputs, to * inputs), at(plan.stage));
  }
  pixels(at(plan.stage), at(plan.rows[0]!), size, inputs);
  transpose(at(plan.rows[0]!), at(plan.cols[0]!), size, inputs + 1);

  // Forward: each hidden activation gets its ones row (column) and both orientations, as `forward(..., true)`.
  const params = layers.map((layer) => backend.getMemoryOffset(layer.params.dataId));
  const outputs = sizes[sizes.length - 1]!;
  for (let k = 0; k <= last; k++) {
    const [width, units] = [sizes[k]! + 1, sizes[k + 1]!];
    const epilogue = k === last ? EPILOGUE.none : EPILOGUE.relu;
    if (layers[k]!.layout === "unitMajor") {
      const out = k === last ? plan.logits : plan.cols[k + 1]!;
      gemm(params[k]!, width * 4, 4, at(plan.cols[k]!), size * 4, at(out), size * 4, 0, units, width, size, epilogue);
      if (k === last) break;
      floats(out + units * size * 4, size).fill(1);
      transpose(at(out), at(plan.rows[k + 1]!), units + 1, size);
    } else {
      const out = k === last ? plan.logits : plan.rows[k + 1]!;
      const stride = k === last ? units : units + 1;
      gemm(at(plan.rows[k]!), width * 4, 4, params[k]!, units * 4, at(out), stride * 4, 0, size, width, units, epilogue);
      if (k === last) break;
      const view = floats(out, size * stride);
      for (let j = 0; j < size; j++) view[j * stride + units] = 1;
      transpose(at(out), at(plan.cols[k + 1]!), size, units + 1);
    }
  }

  const byRow = layers[last]!.layout === "inputMajor";
  const gradRows = floats(plan.dRows, size * outputs);
  const gradCols = floats(plan.dCols[0], size * outputs);
  const loss = softmaxCrossEntropy(floats(plan.logits, size * outputs), byRow, labels, outputs, size, gradientScale, gradRows, gradCols);
  if (!Number.isFinite(Math.fround(loss))) return { loss, tensors: null };

  // Backward from the old parameters: each layer's p + gradient (or the gradient) into a new tensor, then the
  // gradient with respect to its input (masked by the ReLU's step, the ones row dropped) for the layer below.
  const tensors = new Array<tf.Tensor2D>(layers.length);
  const [epilogue, extra] = output === "sgd" ? [EPILOGUE.addTo, params] : [EPILOGUE.none, params.map(() => 0)];
  let dCols = 0;
  let dRowsValid = true;
  for (let k = last; k >= 0; k--) {
    const { params: p, layout } = layers[k]!;
    const [width, units] = [sizes[k]! + 1, sizes[k + 1]!];
    const info = backend.makeOutput(p.shape, "float32");
    tensors[k] = tf.engine().makeTensorFromTensorInfo(info) as tf.Tensor2D;
    const q = backend.getMemoryOffset(info.dataId);
    const d = at(plan.dCols[dCols]!);
    if (layout === "unitMajor") {
      gemm(d, size * 4, 4, at(plan.rows[k]!), width * 4, q, width * 4, extra[k]!, units, size, width, epilogue);
    } else {
      if (!dRowsValid) transpose(d, at(plan.dRows), units, size);
      gemm(at(plan.cols[k]!), size * 4, 4, at(plan.dRows), units * 4, q, units * 4, extra[k]!, width, size, units, epilogue);
    }
    if (k === 0) break;
    const below = at(plan.dCols[1 - dCols]!);
    const [sam, sak] = layout === "inputMajor" ? [units * 4, 4] : [4, width * 4];
    gemm(params[k]!, sam, sak, d, size * 4, below, size * 4, at(plan.cols[k]!), width - 1, units, size, EPILOGUE.maskByStep);
    dCols = 1 - dCols;
    dRowsValid = false;
  }
  return { loss, tensors };
}
