/**
 * One training step of a ReLU MLP on the engine's heap: the batch built from the uint8 pixels straight into the
 * heap, the forward pass, softmax cross-entropy, the backward pass and, for plain SGD, the update fused into the
 * gradient product, as a dozen kernel calls on buffers that stay put.
 *
 * Each layer's parameters are one matrix, bias last, in the layout `tensor-step.ts` explains ("unitMajor"
 * [outputs][inputs + 1], "inputMajor" [inputs + 1][outputs]), and every input carries an appended 1. The
 * arithmetic is the tensor route's (`tensor-step.ts`): the same products summed in the same order, the same
 * JavaScript softmax, so the two give the same bits (`test/engine-step.test.ts`).
 */
import type { Split } from "../data/data";
import { EPILOGUE, type Kernels } from "./kernels";
import type { EngineHeap } from "./heap";
import { softmaxCrossEntropy, type LayerLayout } from "./tensor-step";

/** The batch a step trains on: images `from`..`to` (exclusive) of `split`, or of `order` (a permutation) when shuffling. */
export interface BatchSource {
  split: Split;
  from: number;
  to: number;
  order: Uint32Array | null;
}

/** Byte offsets of a step's scratch buffers in the heap, for the largest batch. */
export interface StepBuffers {
  stage: number;
  /** Each layer's input, [batch][inputs + 1] and [inputs + 1][batch]. */
  rows: number[];
  cols: number[];
  logits: number;
  dRows: number;
  dCols: [number, number];
}

/**
 * The scratch buffers of a step for layer sizes `sizes` at batches of up to `batch`, allocated on `heap`.
 * @example const buffers = allocateStepBuffers(heap, [784, 500, 10], 64);
 */
export function allocateStepBuffers(heap: EngineHeap, sizes: readonly number[], batch: number): StepBuffers {
  const floats = (count: number) => heap.alloc(count * 4);
  const widest = Math.max(...sizes.slice(1));
  return {
    stage: heap.alloc(batch * sizes[0]!),
    rows: sizes.slice(0, -1).map((inputs) => floats(batch * (inputs + 1))),
    cols: sizes.slice(0, -1).map((inputs) => floats(batch * (inputs + 1))),
    logits: floats(batch * sizes[sizes.length - 1]!),
    dRows: floats(batch * widest),
    dCols: [floats(batch * widest), floats(batch * widest)],
  };
}

/**
 * Free a step's scratch buffers.
 * @example releaseStepBuffers(heap, buffers);
 */
export function releaseStepBuffers(heap: EngineHeap, buffers: StepBuffers): void {
  for (const at of [buffers.stage, ...buffers.rows, ...buffers.cols, buffers.logits, buffers.dRows, ...buffers.dCols]) heap.release(at);
}

/** One layer's parameters for a step: where they are, their layout, and where its result goes. */
export interface StepLayer {
  params: number;
  layout: LayerLayout;
  /** Where the new parameters (`"sgd"`: params + gradient) or the gradient (`"gradients"`) are written. */
  out: number;
}

/** The kernels a step calls, with the product that may be split over threads. */
export interface StepKernels {
  kernels: Kernels;
  gemm: Kernels["gemm"];
}

/**
 * One step on `source`, with the gradients scaled by `gradientScale`; its loss. Unless the loss is not finite,
 * each layer's `out` receives p + gradient (`"sgd"`) or the gradient (`"gradients"`).
 * @example const loss = trainingStep(heap, run, buffers, [784, 10], layers, source, -0.1, "sgd");
 */
export function trainingStep(
  heap: EngineHeap, { kernels, gemm }: StepKernels, plan: StepBuffers, sizes: readonly number[], layers: readonly StepLayer[],
  source: BatchSource, gradientScale: number, output: "sgd" | "gradients",
): number {
  const { pixels, transpose } = kernels;
  const { split, from, to, order } = source;
  const size = to - from;
  const inputs = sizes[0]!;
  const last = layers.length - 1;

  // The batch: pixel bytes into the heap, then floats in both orientations; labels in JavaScript.
  let labels: Uint8Array;
  const stage = heap.bytes(plan.stage, size * inputs);
  if (order) {
    labels = new Uint8Array(size);
    for (let j = 0; j < size; j++) {
      const sample = order[from + j]!;
      labels[j] = split.labels[sample]!;
      stage.set(split.images.subarray(sample * inputs, (sample + 1) * inputs), j * inputs);
    }
  } else {
    labels = split.labels.subarray(from, to);
    stage.set(split.images.subarray(from * inputs, to * inputs));
  }
  pixels(plan.stage, plan.rows[0]!, size, inputs);
  transpose(plan.rows[0]!, plan.cols[0]!, size, inputs + 1);

  forwardPass(heap, gemm, transpose, plan, sizes, layers, size);
  const outputs = sizes[sizes.length - 1]!;
  const byRow = layers[last]!.layout === "inputMajor";
  const gradRows = heap.floats(plan.dRows, size * outputs);
  const gradCols = heap.floats(plan.dCols[0], size * outputs);
  const loss = softmaxCrossEntropy(heap.floats(plan.logits, size * outputs), byRow, labels, outputs, size, gradientScale, gradRows, gradCols);
  if (!Number.isFinite(Math.fround(loss))) return loss;

  // Backward from the old parameters: each layer's p + gradient (or the gradient) into its `out`, then the
  // gradient with respect to its input (masked by the ReLU's step, the ones row dropped) for the layer below.
  const epilogue = output === "sgd" ? EPILOGUE.addTo : EPILOGUE.none;
  let dCols = 0;
  let dRowsValid = true;
  for (let k = last; k >= 0; k--) {
    const { params, layout, out } = layers[k]!;
    const extra = output === "sgd" ? params : 0;
    const [width, units] = [sizes[k]! + 1, sizes[k + 1]!];
    const d = plan.dCols[dCols]!;
    if (layout === "unitMajor") {
      gemm(d, size * 4, 4, plan.rows[k]!, width * 4, out, width * 4, extra, units, size, width, epilogue);
    } else {
      if (!dRowsValid) transpose(d, plan.dRows, units, size);
      gemm(plan.cols[k]!, size * 4, 4, plan.dRows, units * 4, out, units * 4, extra, width, size, units, epilogue);
    }
    if (k === 0) break;
    const below = plan.dCols[1 - dCols]!;
    const [sam, sak] = layout === "inputMajor" ? [units * 4, 4] : [4, width * 4];
    gemm(params, sam, sak, d, size * 4, below, size * 4, plan.cols[k]!, width - 1, units, size, EPILOGUE.maskByStep);
    dCols = 1 - dCols;
    dRowsValid = false;
  }
  return loss;
}

/**
 * The forward pass of a batch of `size` whose input is in `plan.rows[0]` and `plan.cols[0]` (both orientations,
 * with the ones column): each hidden activation gets its ones row (column) and both orientations, for the backward
 * pass; the logits land in `plan.logits`, [outputs][size] where the last layer is "unitMajor", else [size][outputs].
 * @example forwardPass(heap, kernels.gemm, kernels.transpose, plan, [784, 10], layers, 16);
 */
export function forwardPass(
  heap: EngineHeap, gemm: Kernels["gemm"], transpose: Kernels["transpose"], plan: StepBuffers, sizes: readonly number[],
  layers: readonly Pick<StepLayer, "params" | "layout">[], size: number,
): void {
  const last = layers.length - 1;
  for (let k = 0; k <= last; k++) {
    const [width, units] = [sizes[k]! + 1, sizes[k + 1]!];
    const epilogue = k === last ? EPILOGUE.none : EPILOGUE.relu;
    const params = layers[k]!.params;
    if (layers[k]!.layout === "unitMajor") {
      const out = k === last ? plan.logits : plan.cols[k + 1]!;
      gemm(params, width * 4, 4, plan.cols[k]!, size * 4, out, size * 4, 0, units, width, size, epilogue);
      if (k === last) break;
      heap.floats(out + units * size * 4, size).fill(1);
      transpose(out, plan.rows[k + 1]!, units + 1, size);
    } else {
      const out = k === last ? plan.logits : plan.rows[k + 1]!;
      const stride = k === last ? units : units + 1;
      gemm(plan.rows[k]!, width * 4, 4, params, units * 4, out, stride * 4, 0, size, width, units, epilogue);
      if (k === last) break;
      const view = heap.floats(out, size * stride);
      for (let j = 0; j < size; j++) view[j * stride + units] = 1;
      transpose(out, plan.cols[k + 1]!, size, units + 1);
    }
  }
}
