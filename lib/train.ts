/**
 * The training loop: settings in, a `Run` of plain results out. One epoch by default, no shuffling and the last
 * short batch kept, as in the original PyTorch notebooks. The math of a step lives in `engine.ts`, the update
 * rules in `optimizers.ts`; this module validates settings, walks the batches, records every step's loss,
 * stops on divergence, reports progress, and evaluates on the test split.
 */
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "./backend";
import { splitBatch } from "./batch";
import type { Dataset } from "./data";
import { lossAndGradients, preferredLayout } from "./engine";
import { accuracy, confusionMatrix, finalAverage, perClassAccuracy } from "./metrics";
import { Model, modelLayers, modelState, useLayouts, type Init } from "./model";
import { createOptimizer } from "./optimizers";
import { permutation, seededRandom } from "./random";
import { defaultLabel, describeValue, resolveSettings, type Progress, type TrainOptions, type TrainSettings } from "./settings";

export type { Progress, TrainOptions, TrainSettings } from "./settings";

/** Where a run stopped because its loss stopped being a finite number. */
export interface Divergence {
  /** The step (1-based, as on the charts' x axis) whose loss was NaN or infinite: `losses[step - 1]`, the last
   *  entry of `losses`. That step's update was not applied. */
  step: number;
  loss: number;
}

/** Everything a finished run produced: plain numbers and arrays, plus the trained model. */
export interface Run {
  label: string;
  settings: TrainSettings;
  layers: number[];
  init: Init | "custom";
  /** Loss of every step, in order. */
  losses: Float32Array;
  steps: number;
  samplesSeen: number;
  /** Wall time of the training loop (not data loading or evaluation). */
  seconds: number;
  samplesPerSecond: number;
  /** Percent of the test images classified correctly. */
  accuracy: number;
  /** Percent correct for each true class. */
  perClassAccuracy: number[];
  /** Counts `confusion[trueClass][predictedClass]` on the test split. */
  confusion: number[][];
  /** Mean loss of the last 10 steps. */
  finalLoss: number;
  diverged: Divergence | null;
  model: Model;
  /** Backend that ran it: "wasm", "tfjs-node" or "cpu". */
  backend: string;
}

/** Minimum time between two progress reports. */
const PROGRESS_INTERVAL_MS = 250;

/**
 * Train a model on `data.train` and evaluate it on `data.test`. Pass a factory (or a fresh `mlp(...)`) so every
 * call trains a new model; passing an already trained model throws unless `resume: true`.
 * @example const run = await train(mlp([784, 10]), data, { optimizer: "sgd", lr: 0.001, batchSize: 16 });
 */
export async function train(model: Model | (() => Model), data: Dataset, options: TrainOptions = {}): Promise<Run> {
  const resolved = resolveSettings(options);
  const backend = await initBackend();
  const net = typeof model === "function" ? model() : model;
  if (!(net instanceof Model)) {
    throw new TypeError(`train: expected a Model (e.g. mlp([784, 10])) or a function returning one, got ${describeValue(net)}`);
  }
  checkModelFits(net, data, resolved.resume, resolved.evaluate);
  const settings: TrainSettings = { ...resolved, label: options.label ?? defaultLabel(net, resolved) };
  const { onProgress, signal } = options;
  signal?.throwIfAborted();

  const split = data.train;
  const stepsPerEpoch = Math.ceil(split.count / settings.batchSize);
  const totalSteps = stepsPerEpoch * settings.epochs;
  const losses = new Float32Array(totalSteps);
  const state = modelState(net);
  const optimizer = createOptimizer(settings.optimizer, settings.lr, settings.momentum ?? undefined);
  const random = seededRandom(settings.shuffleSeed ?? 0);
  useLayouts(net, net.layers.slice(1).map((outputs, k) => preferredLayout(net.layers[k]!, outputs, settings.batchSize, k === 0)));
  let steps = 0;
  let samplesSeen = 0;
  let diverged: Divergence | null = null;
  let epoch = 1;
  const start = performance.now();
  let lastReport = start;
  const progress = (done: boolean): Progress => {
    const seconds = (performance.now() - start) / 1000;
    const seen = losses.subarray(0, steps);
    return {
      label: settings.label, step: steps, totalSteps, batchSize: settings.batchSize, epoch, samplesSeen, seconds,
      samplesPerSecond: seconds > 0 ? samplesSeen / seconds : 0, loss: finalAverage(seen), losses: seen, done,
    };
  };

  try {
    for (let pass = 1; pass <= settings.epochs && !diverged; pass++) {
      epoch = pass;
      const order = settings.shuffle ? permutation(split.count, random) : null;
      for (let from = 0; from < split.count; from += settings.batchSize) {
        const batch = splitBatch(split, from, Math.min(from + settings.batchSize, split.count), order, true);
        const layers = modelLayers(net);
        let loss = NaN;
        const next = tf.tidy(() => {
          const result = lossAndGradients(layers, batch, optimizer.gradientScale);
          loss = result.loss;
          return result.grads ? optimizer.apply(layers.map((layer) => layer.params), result.grads) : [];
        });
        losses[steps++] = loss;
        samplesSeen += batch.size;
        if (next.length === 0) {
          diverged = { step: steps, loss };
          break;
        }
        layers.forEach((layer) => layer.params.dispose());
        state.layers = layers.map((layer, k) => ({ params: next[k]!, layout: layer.layout }));
        state.trainedSteps++;
        if ((onProgress || signal) && performance.now() - lastReport >= PROGRESS_INTERVAL_MS) {
          onProgress?.(progress(false));
          // Let the notebook kernel send the updated chart, and a SIGINT handler abort `signal`, before the next
          // stretch of synchronous steps.
          await new Promise((resolve) => setImmediate(resolve));
          signal?.throwIfAborted();
          lastReport = performance.now();
        }
      }
    }
  } finally {
    optimizer.dispose();
  }
  const seconds = (performance.now() - start) / 1000;
  onProgress?.(progress(true));

  const evaluation = settings.evaluate ? evaluate(net, data) : { accuracy: NaN, perClassAccuracy: [], confusion: [] };
  const recorded = steps === totalSteps ? losses : losses.slice(0, steps);
  return {
    label: settings.label,
    settings,
    layers: [...net.layers],
    init: net.init,
    losses: recorded,
    steps,
    samplesSeen,
    seconds,
    samplesPerSecond: seconds > 0 ? samplesSeen / seconds : 0,
    ...evaluation,
    finalLoss: finalAverage(recorded),
    diverged,
    model: net,
    backend: backend.name,
  };
}

/**
 * Test accuracy, per-class accuracy and confusion matrix of a model on `data.test`.
 * @example evaluate(run.model, data).accuracy; // 91.2
 */
export function evaluate(model: Model, data: Dataset): Pick<Run, "accuracy" | "perClassAccuracy" | "confusion"> {
  const { classes } = model.predict(data.test);
  const confusion = confusionMatrix(data.test.labels, classes, data.classes, model.layers[model.layers.length - 1]);
  return { accuracy: accuracy(classes, data.test.labels), perClassAccuracy: perClassAccuracy(confusion), confusion };
}

/**
 * Check that a network of these layer sizes can train on `data` (and be evaluated on it), before it is built.
 * @example checkLayersFit([784, 10], data, true); // throws for [28, 10] on MNIST
 */
export function checkLayersFit(layers: readonly number[], data: Dataset, evaluate: boolean): void {
  const { rows, cols } = data.train;
  const inputs = layers[0]!;
  if (inputs !== rows * cols) {
    throw new RangeError(`layers[0]: the model takes ${inputs} inputs, but ${data.name} images have ${rows}×${cols} = ${rows * cols} pixels`);
  }
  const outputs = layers[layers.length - 1]!;
  if (outputs < data.classes) {
    throw new RangeError(`layers[${layers.length - 1}]: the model has ${outputs} outputs, but ${data.name} has ${data.classes} classes (need at least ${data.classes})`);
  }
  if (data.train.count < 1) throw new RangeError(`data.train: expected at least one training image, got ${data.train.count}`);
  if (evaluate && data.test.count < 1) {
    throw new RangeError(`data.test: expected at least one test image to evaluate on, got ${data.test.count} (or pass evaluate: false)`);
  }
}

function checkModelFits(model: Model, data: Dataset, resume: boolean, evaluate: boolean): void {
  const state = modelState(model);
  if (state.disposed) throw new Error(`train: the model ${model.layers.join("→")} was disposed: build a new one with mlp(...)`);
  if (state.trainedSteps > 0 && !resume) {
    throw new Error(
      `train: model already trained for ${state.trainedSteps} steps: build a new one with mlp(...), or pass { resume: true } to continue`,
    );
  }
  checkLayersFit(model.layers, data, evaluate);
}
