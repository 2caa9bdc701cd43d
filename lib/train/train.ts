/**
 * The training loop: settings in, a `Run` of plain results out. One epoch by default, no shuffling and the last
 * short batch kept, as in the original PyTorch notebooks. The math of a step lives in `engine.ts`, the update
 * rules in `optimizers.ts`; this module validates settings, walks the batches, records every step's loss,
 * stops on divergence, reports progress, and evaluates on the test split.
 */
import * as tf from "@tensorflow/tfjs";
import { backendForRun } from "./backend";
import { splitBatch } from "../data/batch";
import type { Dataset } from "../data/data";
import { checkDataset, checkRunFits, type CheckedDataset } from "./checks";
import { lossAndGradients, preferredLayout } from "../model/engine";
import { AccuracyCurve, evaluationSplits, type Evaluation } from "./evaluations";
import { accuracy, confusionMatrix, finalAverage, perClassAccuracy } from "../math/metrics";
import { Model, type Init } from "../model/model";
import { engineLayers, modelState, useLayouts } from "../model/model-state";
import { createOptimizer } from "../model/optimizers";
import { permutation, seededRandom } from "../math/random";
import {
  defaultLabel, describeValue, learningRate, resolveSettings, type Divergence, type Progress, type ResolvedSettings, type TrainOptions,
  type TrainSettings,
} from "./settings";

export type { Divergence, Progress, TrainOptions, TrainSettings } from "./settings";

/**
 * Everything a finished run produced: plain numbers and arrays, plus the trained model.
 * @example const run: Run = await train(mlp([784, 10]), data); run.accuracy; // 84.2 (percent)
 */
export interface Run {
  label: string;
  settings: TrainSettings;
  layers: number[];
  init: Init | "custom";
  /** The model's seed (what drew its initial weights). */
  seed: number;
  /** Loss of every step, in order. */
  losses: Float32Array;
  steps: number;
  samplesSeen: number;
  /** Wall time of the training loop (not data loading or evaluation). */
  seconds: number;
  /** The accuracy curve of `evalEvery` (every N steps and after the last), on `settings.evalOn`; empty without it. */
  evaluations: Evaluation[];
  /** Wall time of measuring `evaluations`, apart from `seconds`. */
  evalSeconds: number;
  samplesPerSecond: number;
  /** Percent of the test images classified correctly. NaN when the run diverged (its weights are not evaluated as
   *  if training had worked) or with `evaluate: false`. */
  accuracy: number;
  /** Percent correct for each true class; empty when `accuracy` is NaN. */
  perClassAccuracy: number[];
  /** Counts `confusion[trueClass][predictedClass]` on the test split; empty when `accuracy` is NaN. */
  confusion: number[][];
  /** Mean loss of the last 10 steps. */
  finalLoss: number;
  /** Set when a loss was NaN or infinite: the run stopped there and was not evaluated. */
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
  const net = typeof model === "function" ? model() : model;
  if (!(net instanceof Model)) {
    const hint = isDatasetLike(net)
      ? " (the model comes first: train(model, data, options))"
      : describeValue(net) === "a Model" ? " from another copy of the library (import mlp and train from the same module)" : "";
    throw new TypeError(`train: expected a Model (e.g. mlp([784, 10])) or a function returning one, got ${describeValue(net)}${hint}`);
  }
  checkModelState(net, resolved);
  const checked = checkDataset(data);
  checkRunFits(net.layers, resolved, checked);
  const settings: TrainSettings = { ...resolved, label: options.label ?? defaultLabel(net, resolved) };
  return trainChecked(net, checked, settings, options);
}

/** What a run reports to while it trains, and what stops it: `train`'s callbacks, apart from its settings. */
export type RunHooks = Pick<TrainOptions, "onProgress" | "signal">;

/**
 * `train` on inputs already checked: a model that fits `data` (`checkRunFits`) and may train, resolved settings
 * with a label. What `train` and a sweep's runs call once their inputs passed, so nothing is checked twice.
 * @example const run = await trainChecked(mlp([784, 10]), checkDataset(data), { ...resolveSettings({}), label: "a" });
 */
export async function trainChecked(net: Model, data: CheckedDataset, settings: TrainSettings, hooks: RunHooks = {}): Promise<Run> {
  const backend = await backendForRun(net.layers, settings.batchSize);
  const { onProgress, signal } = hooks;
  signal?.throwIfAborted();

  const { train: split, curve: curveSplit } = evaluationSplits(data, settings.evalOn);
  const curve = curveSplit && settings.evalEvery ? new AccuracyCurve(net, curveSplit) : null;
  const stepsPerEpoch = Math.ceil(split.count / settings.batchSize);
  const totalSteps = stepsPerEpoch * settings.epochs;
  const evalEvery = settings.evalEvery === "epoch" ? stepsPerEpoch : settings.evalEvery ?? Infinity;
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
  const trainingSeconds = (): number => (performance.now() - start) / 1000 - (curve?.seconds ?? 0);
  const progress = (done: boolean): Progress => {
    const seconds = trainingSeconds();
    const seen = losses.subarray(0, steps);
    return {
      label: settings.label, step: steps, totalSteps, batchSize: settings.batchSize, epoch, samplesSeen, seconds,
      samplesPerSecond: seconds > 0 ? samplesSeen / seconds : 0, loss: finalAverage(seen), losses: seen, diverged,
      ...(curve ? { evaluations: curve.points, evalSeconds: curve.seconds } : {}), done,
    };
  };

  try {
    for (let pass = 1; pass <= settings.epochs && !diverged; pass++) {
      epoch = pass;
      if (pass > 1 && settings.lrDecay) optimizer.setLr(learningRate(settings, pass));
      const order = settings.shuffle ? permutation(split.count, random) : null;
      for (let from = 0; from < split.count; from += settings.batchSize) {
        const batch = splitBatch(split, from, Math.min(from + settings.batchSize, split.count), order, true);
        const layers = engineLayers(net);
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
        state.tensors = layers.map((layer, k) => ({ params: next[k]!, layout: layer.layout }));
        state.trainedSteps++;
        if (curve && steps % evalEvery === 0) curve.measure(steps);
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
  if (curve && !diverged) curve.measure(steps);
  const seconds = trainingSeconds();
  onProgress?.(progress(true));

  // A diverged run's weights are those before its bad step: evaluating them would report a normal-looking number
  // (e.g. 26%) for a run that failed.
  const evaluation = settings.evaluate && !diverged ? evaluate(net, data) : { accuracy: NaN, perClassAccuracy: [], confusion: [] };
  const recorded = steps === totalSteps ? losses : losses.slice(0, steps);
  return {
    label: settings.label,
    settings,
    layers: [...net.layers],
    init: net.init,
    seed: net.seed,
    losses: recorded,
    steps,
    samplesSeen,
    seconds,
    samplesPerSecond: seconds > 0 ? samplesSeen / seconds : 0,
    evaluations: curve?.points ?? [],
    evalSeconds: curve?.seconds ?? 0,
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

function checkModelState(model: Model, settings: ResolvedSettings): void {
  const state = modelState(model);
  if (state.disposed) throw new Error(`train: the model ${model.layers.join("→")} was disposed: build a new one with mlp(...)`);
  if (state.trainedSteps > 0 && !settings.resume) {
    throw new Error(
      `train: model already trained for ${state.trainedSteps} steps: build a new one with mlp(...), or pass { resume: true } to continue`,
    );
  }
}

function isDatasetLike(value: unknown): boolean {
  return typeof value === "object" && value !== null && "train" in value && "test" in value;
}
