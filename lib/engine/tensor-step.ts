/**
 * The tensor math of one training step of a ReLU MLP: the tensor route (tfjs-node, cpu), and the layouts the
 * engine's step (`step.ts`) shares with it, so both give the same bits. It was first written for TensorFlow.js's wasm
 * backend, whose XNNPACK products explain the layouts (the engine's own kernels take either at the same cost and
 * keep them so the two routes stay one arithmetic):
 * - wasm multiplies fast (XNNPACK, 11–16 G multiply-adds/s) only when neither operand is transposed; a
 *   transposed product runs a naive loop ~10× slower. Every product here is untransposed; where math needs a
 *   transpose, a `tf.transpose` of the smaller side makes it explicit (on tfjs-node, see `onTensorFlow`).
 * - XNNPACK re-packs the RIGHT operand of a product whenever that tensor is new, at ~3 ns per number: 1.3 ms
 *   for a 784×500 weight matrix, i.e. every step, since the weights change every step. So each layer stores its
 *   parameters in whichever orientation puts fewer numbers on the right per step (`preferredLayout`):
 *   "unitMajor" [outputs][inputs + 1] (PyTorch's layout, weights on the LEFT, activations travel transposed) for
 *   wide layers such as 784→500; "inputMajor" [inputs + 1][outputs] (weights on the right, but only
 *   (inputs + 1) × outputs numbers) for narrow ones such as 784→10 at batch 16. The bias is the last column
 *   (row) and every input gets an appended 1, so one product computes "weights · input + bias".
 * - Gradients are written out by hand instead of recorded on a tape: fewer kernels per step and no tape.
 * - The softmax cross-entropy and its gradient, (softmax(logits) − onehot) / batch, are computed in JavaScript
 *   from the logits read back each step (classes × batch numbers): that replaces about 10 kernels, and gives
 *   the exact loss of every step (float64 log-sum-exp, so a large finite loss is never mistaken for Infinity)
 *   and immediate divergence detection at no extra cost on a synchronous backend.
 */
import * as tf from "@tensorflow/tfjs";
import type { Batch } from "../data/batch";

/** How a layer's parameter matrix is stored; see the module comment. */
export type LayerLayout = "unitMajor" | "inputMajor";

/** One dense layer as the engine sees it. */
export interface EngineLayer {
  /** [outputs][inputs + 1] ("unitMajor") or [inputs + 1][outputs] ("inputMajor"), bias last. */
  params: tf.Tensor2D;
  layout: LayerLayout;
}

/** A layer input (a batch, or a hidden activation with a ones column appended) in one or both orientations. */
export interface LayerInput {
  /** [batch][inputs + 1]. */
  rows: tf.Tensor2D | null;
  /** [inputs + 1][batch]. */
  columns: tf.Tensor2D | null;
}

/** What the forward pass keeps for the backward pass. */
export interface ForwardPass {
  /** Logits: [batch][outputs] when `logitsByRow`, else [outputs][batch]. */
  logits: tf.Tensor2D;
  logitsByRow: boolean;
  /** Each layer's input in both orientations (the forward uses one, the backward the other). */
  inputs: { rows: tf.Tensor2D; columns: tf.Tensor2D }[];
}

/**
 * The orientation that makes XNNPACK pack fewer numbers per training step for a layer (packing is ~3× the
 * per-number cost of a transpose, which is what the other orientation pays instead for a hidden layer's
 * backward pass).
 * @example preferredLayout(784, 10, 16, true); // "inputMajor"; preferredLayout(784, 500, 16, true) // "unitMajor"
 */
export function preferredLayout(inputs: number, outputs: number, batchSize: number, first: boolean): LayerLayout {
  const stride = inputs + 1;
  const unitMajor = 2 * stride * batchSize + (first ? 0 : outputs * batchSize + (stride * outputs) / 3);
  const inputMajor = stride * outputs + (first ? 1 : 2) * outputs * batchSize;
  return inputMajor < unitMajor ? "inputMajor" : "unitMajor";
}

/**
 * Forward pass. `input` is the batch with its ones column, in the orientation(s) available; the other is made
 * when needed. With `keepBoth`, every layer's input is kept in both orientations for `backward`.
 * Call inside `tf.tidy`.
 * @example const pass = forward(layers, { rows: tf.tensor2d(batch.x, [16, 785]), columns: null }, false);
 */
export function forward(layers: readonly EngineLayer[], input: LayerInput, keepBoth: boolean): ForwardPass {
  const inputs: ForwardPass["inputs"] = [];
  let rows = input.rows;
  let columns = input.columns;
  for (let k = 0; ; k++) {
    const { params, layout } = layers[k]!;
    const last = k === layers.length - 1;
    const activation = last ? "linear" : "relu";
    if (layout === "unitMajor") columns ??= tf.transpose(rows!);
    else rows ??= tf.transpose(columns!);
    if (keepBoth) inputs.push({ rows: rows ?? tf.transpose(columns!), columns: columns ?? tf.transpose(rows!) });
    const out = layout === "unitMajor"
      ? (tf.fused.matMul({ a: params, b: columns!, activation }) as tf.Tensor2D)
      : (tf.fused.matMul({ a: rows!, b: params, activation }) as tf.Tensor2D);
    if (last) return { logits: out, logitsByRow: layout === "inputMajor", inputs };
    const size = layout === "unitMajor" ? out.shape[1] : out.shape[0];
    if (layout === "unitMajor") {
      columns = tf.concat([out, tf.ones([1, size])], 0) as tf.Tensor2D;
      rows = null;
    } else {
      rows = tf.concat([out, tf.ones([size, 1])], 1) as tf.Tensor2D;
      columns = null;
    }
  }
}

/**
 * Whether a forward-only batch should carry the transposed pixels (`xT`): what the first layer multiplies with.
 * @example const batch = splitBatch(data.test, 0, 1000, null, wantsColumns(layers));
 */
export function wantsColumns(layers: readonly EngineLayer[]): boolean {
  return layers[0]!.layout === "unitMajor";
}

/**
 * The logits of a forward-only batch, row-major [batch][outputs] whatever the layers' layouts: the one place
 * outside training that knows how the engine stores things. Uses `xT` when the batch has it, else `x`.
 * @example const logits = forwardLogits(layers, splitBatch(data.test, 0, 100, null, wantsColumns(layers)));
 */
export function forwardLogits(layers: readonly EngineLayer[], batch: Batch): Float32Array {
  const { size, inputs } = batch;
  const logits = tf.tidy(() => {
    const input = batch.xT
      ? { rows: null, columns: tf.tensor2d(batch.xT, [inputs + 1, size]) }
      : { rows: tf.tensor2d(batch.x, [size, inputs + 1]), columns: null };
    const pass = forward(layers, input, false);
    return pass.logitsByRow ? pass.logits : tf.transpose(pass.logits);
  });
  const values = logits.dataSync() as Float32Array;
  logits.dispose();
  return values;
}

/** The logits' gradient in both orientations: [batch][outputs] and [outputs][batch]. */
export interface LogitsGradient {
  rows: tf.Tensor2D;
  columns: tf.Tensor2D;
}

/**
 * Gradients of the loss with respect to each layer's parameters (same shape and layout), given the forward
 * pass (made with `keepBoth`) and the logits' gradient. Call inside `tf.tidy`.
 * @example const grads = backward(layers, pass, { rows: dLogits, columns: dLogitsT });
 */
export function backward(layers: readonly EngineLayer[], pass: ForwardPass, dLogits: LogitsGradient): tf.Tensor2D[] {
  const grads = new Array<tf.Tensor2D>(layers.length);
  let dRows: tf.Tensor2D | null = dLogits.rows;
  let dColumns = dLogits.columns;
  for (let k = layers.length - 1; k >= 0; k--) {
    const { params, layout } = layers[k]!;
    const input = pass.inputs[k]!;
    if (layout === "unitMajor") {
      grads[k] = tf.matMul(dColumns, input.rows);
    } else {
      dRows ??= tf.transpose(dColumns);
      grads[k] = tf.matMul(input.columns, dRows);
    }
    if (k === 0) break;
    // Gradient with respect to this layer's input, [inputs + 1][batch]; its last row belongs to the appended
    // ones (not a unit) and is dropped after the ReLU mask (which is 1 there).
    const native = onTensorFlow();
    const product = layout === "inputMajor"
      ? tf.matMul(params, dColumns)
      : native
        ? tf.matMul(params, dColumns, true, false)
        : tf.matMul(tf.transpose(params), dColumns);
    const dInput = tf.mul(product, native ? tf.sign(input.columns) : tf.step(input.columns)) as tf.Tensor2D;
    dColumns = tf.slice(dInput, [0, 0], [dInput.shape[0] - 1, dInput.shape[1]]);
    dRows = null;
  }
  return grads;
}

/**
 * Whether TensorFlow (tfjs-node) runs the step, which changes two things in the backward pass, both measured
 * there (docs/performance.md): it multiplies a transposed operand at full speed, so the explicit transpose of a
 * 500×501 weight matrix (~40 µs a step) is left out; and its step() is five TensorFlow ops (~65 µs for 500 units
 * at batch 16), while sign() is one and gives the same mask on ReLU outputs (≥ 0) and the ones row. wasm keeps
 * step(): its sign() returns 0 for small positive values such as 1e-30.
 */
function onTensorFlow(): boolean {
  return tf.getBackend() === "tensorflow";
}

/**
 * Mean softmax cross-entropy (PyTorch's `CrossEntropyLoss` on logits) of a batch. Reads logits [batch][outputs]
 * (or [outputs][batch] when `byRow` is false) and writes `scale` × the gradient with respect to the logits into
 * `gradRows` ([batch][outputs]) and `gradColumns` ([outputs][batch]). NaN or ±Infinity for non-finite logits.
 * @example const loss = softmaxCrossEntropy(logits, true, labels, 10, 16, 1, new Float32Array(160), new Float32Array(160));
 */
export function softmaxCrossEntropy(
  logits: Float32Array,
  byRow: boolean,
  labels: ArrayLike<number>,
  outputs: number,
  size: number,
  scale: number,
  gradRows: Float32Array,
  gradColumns: Float32Array,
): number {
  const classStride = byRow ? 1 : size;
  const sampleStride = byRow ? outputs : 1;
  const perSample = scale / size;
  const exps = new Float64Array(outputs);
  let total = 0;
  for (let j = 0; j < size; j++) {
    const base = j * sampleStride;
    let max = -Infinity;
    for (let c = 0; c < outputs; c++) max = Math.max(max, logits[base + c * classStride]!);
    let sum = 0;
    for (let c = 0; c < outputs; c++) sum += exps[c] = Math.exp(logits[base + c * classStride]! - max);
    const label = labels[j]!;
    total += max + Math.log(sum) - logits[base + label * classStride]!;
    for (let c = 0; c < outputs; c++) {
      const p = exps[c]! / sum;
      const g = perSample * (c === label ? p - 1 : p);
      gradRows[j * outputs + c] = g;
      gradColumns[c * size + j] = g;
    }
  }
  return total / size;
}

/** The loss of one step and, unless it is not finite, the gradients (scaled by `gradientScale`). */
export interface StepResult {
  loss: number;
  grads: tf.Tensor2D[] | null;
}

/**
 * Forward pass, loss and backward pass for one batch (built with both orientations). The gradients are
 * multiplied by `gradientScale` (plain SGD passes −lr, so its update is a single add). A non-finite loss
 * skips the backward pass. Call inside `tf.tidy`.
 * @example const { loss, grads } = lossAndGradients(layers, batch, 1);
 */
export function lossAndGradients(layers: readonly EngineLayer[], batch: Batch, gradientScale: number): StepResult {
  if (!batch.xT) throw new Error("lossAndGradients: the batch needs both orientations (splitBatch(..., withColumns: true))");
  const { size, inputs } = batch;
  const last = layers[layers.length - 1]!;
  const outputs = last.layout === "unitMajor" ? last.params.shape[0] : last.params.shape[1];
  const pass = forward(layers, { rows: tf.tensor2d(batch.x, [size, inputs + 1]), columns: tf.tensor2d(batch.xT, [inputs + 1, size]) }, true);
  const gradRows = new Float32Array(outputs * size);
  const gradColumns = new Float32Array(outputs * size);
  const logits = pass.logits.dataSync() as Float32Array;
  const loss = softmaxCrossEntropy(logits, pass.logitsByRow, batch.labels, outputs, size, gradientScale, gradRows, gradColumns);
  if (!Number.isFinite(Math.fround(loss))) return { loss, grads: null };
  const dLogits = { rows: tf.tensor2d(gradRows, [size, outputs]), columns: tf.tensor2d(gradColumns, [outputs, size]) };
  return { loss, grads: backward(layers, pass, dLogits) };
}
