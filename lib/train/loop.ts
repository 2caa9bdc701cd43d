/**
 * The training loop: settings in, a `Run` of plain results out. One epoch by default, no shuffling and the last
 * short batch kept, as in the original PyTorch notebooks. A step itself (its math, the update rule, the write into
 * the model) is the model layer's (`model/training`); this module checks its inputs once, walks the batches,
 * records every step's loss (`run-log`), stops on divergence, reports progress, and evaluates on the test split.
 */
import * as tf from "@tensorflow/tfjs";
import { backendForNetwork, backendForRun, backendForTfjs } from "../engine/backend";
import { forwardMultiplyAdds } from "../engine/layers";
import type { Dataset, Split } from "../data/data";
import { checkDataset, checkRunFits, trainingImages, type CheckedDataset } from "./checks";
import { EarlyStopper, type EarlyStop } from "./early-stopping";
import { AccuracyCurve, evaluationSplits, type Evaluation } from "./evaluations";
import { accuracy, confusionMatrix, finalAverage, perClassAccuracy } from "../math/metrics";
import { describeShape } from "../model/layers-model";
import { Model, type Init } from "../model/model";
import { asLayersModel } from "../model/layers-copy";
import { network, NetworkModel, type NetworkInit } from "../model/network-model";
import { startTraining, type TrainingSession } from "../model/training";
import { layerNeeding, trainingKernels } from "../model/tfjs-route";
import { permutation, seededRandom } from "../math/random";
import { RunLog } from "./run-log";
import {
  defaultLabel, describeValue, learningRate, oneCycleLr, rangeRate, resolveSettings, type ResolvedSettings, type TrainOptions, type TrainSettings,
} from "./settings";
import type { Divergence, StoredMark } from "./progress";


/**
 * Everything a finished run produced: plain numbers and arrays, plus the trained model.
 * @example const run: Run = await train(mlp([784, 10]), data); run.accuracy; // 84.2 (percent)
 */
export interface Run<M extends Model | NetworkModel = Model> {
  label: string;
  settings: TrainSettings;
  /** The MLP's layer sizes, or a network's layers by short name (e.g. "conv8@5", "pool2", "10"). */
  layers: (number | string)[];
  init: Init | NetworkInit;
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
  model: M;
  /** Backend that ran it: "wasm", "tfjs-node" or "cpu". */
  backend: string;
  /** Set when the run was read from the run store instead of trained now (see `runs/train-with-store.ts`). */
  stored?: StoredMark;
  /** Set when retraining on this backend may not give these bits, saying why (tfjs-node on several threads). */
  notRepeatable?: string;
  /** What `earlyStopping` did (where it stopped, the best measurement, whether its weights were given back); null
   *  without it. */
  earlyStop: EarlyStop | null;
}

/** Minimum time between two progress reports. */
const PROGRESS_INTERVAL_MS = 250;

/**
 * Train a model on `data.train` and evaluate it on `data.test`. Pass a factory (or a fresh `mlp(...)`) so every
 * call trains a new model; passing an already trained model throws unless `resume: true`.
 * @example const run = await train(mlp([784, 10]), data, { optimizer: "sgd", lr: 0.001, batchSize: 16 });
 */
export async function train(model: Model | (() => Model), data: Dataset, options?: TrainOptions): Promise<Run>;
export async function train(model: NetworkModel | tf.LayersModel | (() => NetworkModel | tf.LayersModel), data: Dataset, options?: TrainOptions): Promise<Run<NetworkModel>>;
export async function train(model: TrainableModel | (() => TrainableModel), data: Dataset, options?: TrainOptions): Promise<AnyRun>;
export async function train(model: TrainableModel | (() => TrainableModel), data: Dataset, options: TrainOptions = {}): Promise<AnyRun> {
  const resolved = resolveSettings(options);
  const given = typeof model === "function" ? model() : model;
  // A Layers model (one of another TensorFlow.js copy becomes ours here, once).
  const layersModel = given instanceof Model || given instanceof NetworkModel ? null : asLayersModel(given);
  // The model is checked first (its error is the likelier mistake), a Layers model once the data gives its image.
  if (!layersModel) checkModel(given, resolved);
  const checked = checkDataset(data);
  const net = checkModel(trainable(layersModel ?? given, checked), resolved);
  checkRunFits(fitLayers(net), resolved, checked);
  const settings: TrainSettings = { ...resolved, label: options.label ?? defaultLabel(net, resolved) };
  return trainChecked(net, checked, settings, options);
}

/** A run of either kind of model. */
export type AnyRun = Run<Model | NetworkModel>;

/**
 * What `train` takes: an `mlp(...)`, a `network(...)`, or a `tf.Sequential` of `tf.layers` (read as `network(model)`).
 * @example await train(tf.sequential({ layers: [tf.layers.flatten({ inputShape: [28, 28, 1] }), tf.layers.dense({ units: 10 })] }), data);
 */
export type TrainableModel = Model | NetworkModel | tf.LayersModel;

/** A Layers model read as a network for `data`'s images; anything else as it is (checked by `checkModel`). */
export function trainable(model: unknown, data: Dataset): unknown {
  const layersModel = model instanceof NetworkModel || model instanceof Model ? null : asLayersModel(model);
  if (layersModel) {
    const image = { channels: 1, height: data.train.rows, width: data.train.cols };
    return network(layersModel, { image });
  }
  return model;
}

/** The sizes `checkRunFits` checks against the data: an MLP's layers, a network's pixels and classes. */
export function fitLayers(net: Model | NetworkModel): readonly number[] {
  if (net instanceof Model) return net.layers;
  const { channels, height, width } = net.spec.input;
  return [channels * height * width, net.classes];
}

/** What a run reports to while it trains, and what stops it: `train`'s callbacks, apart from its settings. */
export type RunHooks = Pick<TrainOptions, "onProgress" | "signal">;

/**
 * `train` on inputs already checked: a model that fits `data` (`checkRunFits`) and may train, resolved settings
 * with a label. What `train` and a sweep's runs call once their inputs passed, so nothing is checked twice.
 * @example const run = await trainChecked(mlp([784, 10]), checkDataset(data), { ...resolveSettings({}), label: "a" });
 */
export async function trainChecked(net: Model | NetworkModel, data: CheckedDataset, settings: TrainSettings, hooks: RunHooks = {}): Promise<AnyRun> {
  checkBatchNorm(net, settings, data);
  const backend = net instanceof NetworkModel
    ? net.trainer === "tfjs"
      ? await backendForTfjs(() => trainingKernels(net.trainingModel(), net.tfjsRead!), (kernel) => layerNeeding(net.trainingModel(), kernel))
      : await backendForNetwork(forwardMultiplyAdds(net.spec) * settings.batchSize)
    : await backendForRun(net.layers, settings.batchSize);
  hooks.signal?.throwIfAborted();
  const { train: split, curve: curveSplit } = evaluationSplits(data, settings.evalOn);
  const curve = curveSplit && settings.evalEvery ? new AccuracyCurve(net, curveSplit) : null;
  const session = startTraining(net, settings, backend.route);
  const log = new RunLog(settings, split.count, curve);
  const stopper = curve && settings.earlyStopping && net instanceof Model ? new EarlyStopper(net, settings.earlyStopping) : null;
  try {
    await trainEpochs(session, split, settings, log, hooks, stopper);
  } finally {
    session.dispose();
  }
  if (curve && !log.diverged && curve.points.at(-1)?.step !== log.steps) {
    curve.measure(log.steps);
    stopper?.observe(curve.points.at(-1)!);
  }
  const seconds = log.trainingSeconds();
  // The best weights go back before the test split is measured: the run's accuracy is the model it returns.
  const earlyStop = stopper?.finish(log.steps, log.totalSteps, log.diverged !== null) ?? null;
  hooks.onProgress?.(log.progress(true));
  const run = runOf(net, data, settings, log, seconds, backend.name, earlyStop);
  return "notRepeatable" in backend && backend.notRepeatable ? { ...run, notRepeatable: backend.notRepeatable as string } : run;
}

/**
 * Throw unless each batch norm layer of a network sees more than one value per channel in every training batch, the
 * last short one too: with one, the batch's variance is 0 and the running variance's unbiased update is 0/0, NaN
 * (PyTorch refuses it too: "Expected more than 1 value per channel when training"). Run by `trainChecked`, which
 * every run passes through before its first step.
 * @example checkBatchNorm(net, { batchSize: 1, evalOn: null }, data); // throws when net has a batchNormalization after a dense layer
 */
export function checkBatchNorm(net: Model | NetworkModel, settings: Pick<TrainSettings, "batchSize" | "evalOn">, data: CheckedDataset): void {
  if (!(net instanceof NetworkModel)) return;
  const { batchSize } = settings;
  const images = trainingImages(data, settings.evalOn);
  const smallest = images % batchSize || batchSize;
  net.spec.layers.forEach((layer, k) => {
    if (layer.kind !== "batchNorm") return;
    const perImage = layer.shape.layout === "planes" ? layer.shape.height * layer.shape.width : 1;
    if (smallest * perImage > 1) return;
    const batch = smallest === batchSize
      ? `batchSize ${batchSize} gives it`
      : `the last batch of each epoch (${images} training images in batches of ${batchSize}) holds 1 image, which gives it`;
    const fix = smallest === batchSize ? "use a batchSize of at least 2" : "use a batchSize that leaves the last batch none or at least 2 images";
    throw new RangeError(
      `layer ${net.sourceLayers[k]} (BatchNormalization, input ${describeShape(layer.shape)}): in training it normalises each channel over ` +
        `the batch, but ${batch} 1 value per channel, whose variance is undefined (the running variance would become NaN); ${fix}`,
    );
  });
}

/** Every epoch's batches, one step each, until the last, a divergence or early stopping; progress every ~250 ms. */
async function trainEpochs(
  session: TrainingSession, split: Split, settings: TrainSettings, log: RunLog, hooks: RunHooks, stopper: EarlyStopper | null,
): Promise<void> {
  const { onProgress, signal } = hooks;
  const random = seededRandom(settings.shuffleSeed ?? 0);
  const shifts = settings.augment ? shiftDrawer(settings.augment, settings.batchSize) : null;
  const totalSteps = log.stepsPerEpoch * settings.epochs;
  const evalEvery = settings.evalEvery === "epoch" ? log.stepsPerEpoch : settings.evalEvery ?? Infinity;
  let lastReport = performance.now();
  for (let epoch = 1; epoch <= settings.epochs && !log.diverged; epoch++) {
    log.epoch = epoch;
    if (epoch > 1 && settings.lrDecay) session.setLr(learningRate(settings, epoch));
    const order = settings.shuffle ? permutation(split.count, random) : null;
    for (let from = 0; from < split.count; from += settings.batchSize) {
      const to = Math.min(from + settings.batchSize, split.count);
      if (settings.lrRange) session.setLr(rangeRate(settings.lrRange, log.steps, log.totalSteps));
      if (settings.oneCycle) session.setLr(oneCycleLr(settings.oneCycle, log.steps, totalSteps));
      log.record(session.applyStep({ split, from, to, order, shifts: shifts?.(to - from) ?? null }), to - from);
      if (log.diverged) break;
      if (log.curve && log.steps % evalEvery === 0) {
        log.curve.measure(log.steps);
        if (stopper?.observe(log.curve.points.at(-1)!)) return;
      }
      if ((onProgress || signal) && performance.now() - lastReport >= PROGRESS_INTERVAL_MS) {
        onProgress?.(log.progress(false));
        // Let the notebook kernel send the updated chart, and a SIGINT handler abort `signal`, before the next
        // stretch of synchronous steps.
        await new Promise((resolve) => setImmediate(resolve));
        signal?.throwIfAborted();
        lastReport = performance.now();
      }
    }
  }
}

/**
 * Each image's random shift, (dx, dy) in −shift..shift, drawn in order from one seeded stream for the whole run, so
 * every epoch draws anew and a rerun draws the same.
 */
function shiftDrawer(augment: NonNullable<TrainSettings["augment"]>, batchSize: number): (size: number) => Int8Array {
  const random = seededRandom(augment.seed);
  const shifts = new Int8Array(2 * batchSize);
  const span = 2 * augment.shift + 1;
  return (size) => {
    for (let k = 0; k < 2 * size; k++) shifts[k] = Math.floor(random() * span) - augment.shift;
    return shifts;
  };
}

/** The finished run as plain results, evaluated on the test split unless it diverged or `evaluate` is false. */
function runOf(
  net: Model | NetworkModel, data: Dataset, settings: TrainSettings, log: RunLog, seconds: number, backend: string, earlyStop: EarlyStop | null,
): AnyRun {
  // A diverged run's weights are those before its bad step: evaluating them would report a normal-looking number
  // (e.g. 26%) for a run that failed.
  const evaluation = settings.evaluate && !log.diverged ? evaluate(net, data) : { accuracy: NaN, perClassAccuracy: [], confusion: [] };
  const losses = log.recordedLosses();
  const { steps, samplesSeen, diverged, curve } = log;
  return {
    label: settings.label, settings, layers: [...net.layers], init: net.init, seed: net.seed, losses, steps, samplesSeen, seconds,
    samplesPerSecond: seconds > 0 ? samplesSeen / seconds : 0, evaluations: curve?.points ?? [], evalSeconds: curve?.seconds ?? 0,
    ...evaluation, finalLoss: finalAverage(losses), diverged, model: net, backend, earlyStop,
  };
}

/**
 * Test accuracy, per-class accuracy and confusion matrix of a model on `data.test`.
 * @example evaluate(run.model, data).accuracy; // 91.2
 */
export function evaluate(model: Model | NetworkModel, data: Dataset): Pick<Run, "accuracy" | "perClassAccuracy" | "confusion"> {
  const { classes } = model.predict(data.test);
  const outputs = model instanceof Model ? model.layers[model.layers.length - 1] : model.classes;
  const confusion = confusionMatrix(data.test.labels, classes, data.classes, outputs);
  return { accuracy: accuracy(classes, data.test.labels), perClassAccuracy: perClassAccuracy(confusion), confusion };
}

/** `model` as a `Model` that may train with these settings: built by this library, not disposed, fresh or resumed. */
function checkModel(model: unknown, settings: ResolvedSettings): Model | NetworkModel {
  if (model instanceof Model && settings.augment) throw new RangeError("augment: needs a model built with tf.layers (network(...) or a tf.Sequential); an mlp(...) reads flat pixels");
  if (model instanceof NetworkModel && settings.earlyStopping) throw new RangeError("earlyStopping: works with an mlp(...) for now; a network of tf.layers trains its full epochs");
  if (!(model instanceof Model) && !(model instanceof NetworkModel)) {
    const hint = isDatasetLike(model)
      ? " (the model comes first: train(model, data, options))"
      : describeValue(model) === "a Model" ? " from another copy of the library (import mlp and train from the same module)" : "";
    throw new TypeError(`train: expected a Model (e.g. mlp([784, 10])) or a function returning one, got ${describeValue(model)}${hint}`);
  }
  if (model.disposed) throw new Error(`train: the model ${model.layers.join("→")} was disposed: build a new one with mlp(...)`);
  if (model.trainedSteps > 0 && !settings.resume) {
    throw new Error(
      `train: model already trained for ${model.trainedSteps} steps: build a new one with mlp(...), or pass { resume: true } to continue`,
    );
  }
  return model;
}

function isDatasetLike(value: unknown): boolean {
  return typeof value === "object" && value !== null && "train" in value && "test" in value;
}
