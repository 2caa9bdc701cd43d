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
import { createOptimizer, OPTIMIZERS, PYTORCH_DEFAULTS, type OptimizerName } from "./optimizers";
import { permutation, seededRandom } from "./random";

/** Options of `train`; every one has a default. */
export interface TrainOptions {
  /** Default "sgd". */
  optimizer?: OptimizerName;
  /** Learning rate, > 0. Default 0.001. */
  lr?: number;
  /** Images per step, a positive integer. Default 16. */
  batchSize?: number;
  /** Passes over the training split. Default 1. */
  epochs?: number;
  /** Visit the training images in a seeded random order each epoch. Default false (the original's order). */
  shuffle?: boolean;
  /** Seed of the shuffling. Default 0. (The initial weights' seed is the model's: `mlp(layers, { seed })`.) */
  seed?: number;
  /** Momentum coefficient of optimizer "momentum", in [0, 1). Default 0.9. */
  momentum?: number;
  /** Name of the run in charts and tables. Default: describes the setting, e.g. "784-10 sgd lr 0.001 batch 16". */
  label?: string;
  /** Called at most every ~250 ms while training, and once with `done: true` at the end. */
  onProgress?: (progress: Progress) => void;
  /** Measure test accuracy after training. Default true; when false, `accuracy` is NaN and the per-class results are empty. */
  evaluate?: boolean;
  /** Continue training an already trained model (with a fresh optimizer state). Default false. */
  resume?: boolean;
}

/** The resolved options a run used (everything but `onProgress`). */
export interface TrainSettings {
  optimizer: OptimizerName;
  lr: number;
  batchSize: number;
  epochs: number;
  shuffle: boolean;
  seed: number;
  /** The momentum coefficient for optimizer "momentum", else null. */
  momentum: number | null;
  label: string;
  evaluate: boolean;
  resume: boolean;
}

/** A snapshot of a run in progress, for live charts. */
export interface Progress {
  label: string;
  /** Steps done so far. */
  step: number;
  totalSteps: number;
  /** Images per step (the run's setting; the last batch of an epoch may be shorter). */
  batchSize: number;
  /** Current epoch, from 1. */
  epoch: number;
  samplesSeen: number;
  seconds: number;
  samplesPerSecond: number;
  /** Mean loss of the latest 10 steps. */
  loss: number;
  /** Loss of every step so far (a view: copy it to keep it). */
  losses: Float32Array;
  done: boolean;
}

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

const OPTION_NAMES: readonly (keyof TrainOptions)[] = [
  "optimizer", "lr", "batchSize", "epochs", "shuffle", "seed", "momentum", "label", "onProgress", "evaluate", "resume",
];

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
    throw new TypeError(`train: expected a Model (e.g. mlp([784, 10])) or a function returning one, got ${describe(net)}`);
  }
  checkModelFits(net, data, resolved.resume, resolved.evaluate);
  const settings: TrainSettings = { ...resolved, label: options.label ?? defaultLabel(net, resolved) };
  const onProgress = options.onProgress;

  const split = data.train;
  const stepsPerEpoch = Math.ceil(split.count / settings.batchSize);
  const totalSteps = stepsPerEpoch * settings.epochs;
  const losses = new Float32Array(totalSteps);
  const state = modelState(net);
  const optimizer = createOptimizer(settings.optimizer, settings.lr, settings.momentum ?? undefined);
  const random = seededRandom(settings.seed);
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
        if (onProgress && performance.now() - lastReport >= PROGRESS_INTERVAL_MS) {
          onProgress(progress(false));
          // Let the notebook kernel send the updated chart before the next stretch of synchronous steps.
          await new Promise((resolve) => setImmediate(resolve));
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
 * Check options and fill in defaults, throwing before any training on a bad value. The label is resolved
 * by `train` (the default one describes the model too).
 * @example resolveSettings({ lr: 0.5 }).batchSize; // 16
 */
export function resolveSettings(options: TrainOptions): Omit<TrainSettings, "label"> {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`train options: expected an object such as { lr: 0.001 }, got ${describe(options)}`);
  }
  const unknown = Object.keys(options).filter((key) => !(OPTION_NAMES as readonly string[]).includes(key));
  if (unknown.length > 0) {
    throw new RangeError(`train options: unknown option${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")}; expected ${OPTION_NAMES.join(", ")}`);
  }
  const optimizer = options.optimizer ?? "sgd";
  if (!(OPTIMIZERS as readonly string[]).includes(optimizer)) {
    throw new RangeError(`optimizer: expected one of ${OPTIMIZERS.join(", ")}; got ${describe(optimizer)}`);
  }
  const lr = options.lr ?? 0.001;
  if (typeof lr !== "number" || !Number.isFinite(lr) || lr <= 0) {
    throw new RangeError(`lr: expected a finite number > 0, got ${describe(lr)}`);
  }
  const batchSize = positiveInteger("batchSize", options.batchSize ?? 16);
  const epochs = positiveInteger("epochs", options.epochs ?? 1);
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed)) throw new RangeError(`seed: expected an integer, got ${describe(seed)}`);
  if (options.momentum !== undefined && optimizer !== "momentum") {
    throw new RangeError(`momentum: only used by optimizer "momentum", but optimizer is "${optimizer}" (set optimizer: "momentum")`);
  }
  const momentum = options.momentum ?? PYTORCH_DEFAULTS.momentum;
  if (typeof momentum !== "number" || !(momentum >= 0 && momentum < 1)) {
    throw new RangeError(`momentum: expected a number from 0 up to (not including) 1, got ${describe(momentum)}`);
  }
  for (const flag of ["shuffle", "evaluate", "resume"] as const) {
    if (options[flag] !== undefined && typeof options[flag] !== "boolean") {
      throw new TypeError(`${flag}: expected true or false, got ${describe(options[flag])}`);
    }
  }
  if (options.onProgress !== undefined && typeof options.onProgress !== "function") {
    throw new TypeError(`onProgress: expected a function, got ${describe(options.onProgress)}`);
  }
  if (options.label !== undefined && typeof options.label !== "string") {
    throw new TypeError(`label: expected a string, got ${describe(options.label)}`);
  }
  return {
    optimizer, lr, batchSize, epochs, shuffle: options.shuffle ?? false, seed,
    momentum: optimizer === "momentum" ? momentum : null, evaluate: options.evaluate ?? true, resume: options.resume ?? false,
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

function checkModelFits(model: Model, data: Dataset, resume: boolean, evaluate: boolean): void {
  const state = modelState(model);
  if (state.disposed) throw new Error(`train: the model ${model.layers.join("→")} was disposed: build a new one with mlp(...)`);
  if (state.trainedSteps > 0 && !resume) {
    throw new Error(
      `train: model already trained for ${state.trainedSteps} steps: build a new one with mlp(...), or pass { resume: true } to continue`,
    );
  }
  const { rows, cols } = data.train;
  const inputs = model.layers[0]!;
  if (inputs !== rows * cols) {
    throw new RangeError(`layers[0]: the model takes ${inputs} inputs, but ${data.name} images have ${rows}×${cols} = ${rows * cols} pixels`);
  }
  const outputs = model.layers[model.layers.length - 1]!;
  if (outputs < data.classes) {
    throw new RangeError(`layers[${model.layers.length - 1}]: the model has ${outputs} outputs, but ${data.name} has ${data.classes} classes (need at least ${data.classes})`);
  }
  if (data.train.count < 1) throw new RangeError(`data.train: expected at least one training image, got ${data.train.count}`);
  if (evaluate && data.test.count < 1) {
    throw new RangeError(`data.test: expected at least one test image to evaluate on, got ${data.test.count} (or pass evaluate: false)`);
  }
}

function defaultLabel(model: Model, settings: Omit<TrainSettings, "label">): string {
  const parts = [model.layers.join("-"), settings.optimizer];
  if (settings.momentum !== null && settings.momentum !== PYTORCH_DEFAULTS.momentum) parts.push(`momentum ${settings.momentum}`);
  parts.push(`lr ${settings.lr}`, `batch ${settings.batchSize}`);
  if (model.init !== "torch") parts.push(`init ${model.init}`);
  if (settings.epochs !== 1) parts.push(`${settings.epochs} epochs`);
  if (settings.shuffle) parts.push(`shuffled (seed ${settings.seed})`);
  if (settings.resume) parts.push("resumed");
  return parts.join(" ");
}

function positiveInteger(name: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    throw new RangeError(`${name}: expected a positive integer, got ${describe(value)}`);
  }
  return value;
}

function describe(value: unknown): string {
  if (typeof value === "string") return `"${value}"`;
  if (typeof value === "function") return "a function";
  if (Array.isArray(value)) return `an array ${JSON.stringify(value)}`;
  return String(value);
}
