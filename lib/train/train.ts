/**
 * The training loop: settings in, a `Run` of plain results out. One epoch by default, no shuffling and the last
 * short batch kept, as in the original PyTorch notebooks. A step itself (its math, the update rule, the write into
 * the model) is the model layer's (`model/training`); this module checks its inputs once, walks the batches,
 * records every step's loss (`run-log`), stops on divergence, reports progress, and evaluates on the test split.
 */
import { backendForRun } from "./backend";
import type { Dataset, Split } from "../data/data";
import { checkDataset, checkRunFits, type CheckedDataset } from "./checks";
import { EarlyStopper, type EarlyStop } from "./early-stopping";
import { AccuracyCurve, evaluationSplits, type Evaluation } from "./evaluations";
import { accuracy, confusionMatrix, finalAverage, perClassAccuracy } from "../math/metrics";
import { Model, type Init } from "../model/model";
import { startTraining, type TrainingSession } from "../model/training";
import { permutation, seededRandom } from "../math/random";
import { RunLog } from "./run-log";
import {
  defaultLabel, describeValue, learningRate, rangeRate, resolveSettings, type Divergence, type ResolvedSettings, type StoredMark, type TrainOptions, type TrainSettings,
} from "./settings";


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
  /** Set when the run was read from the run store instead of trained now (see `runs/stored.ts`). */
  stored?: StoredMark;
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
export async function train(model: Model | (() => Model), data: Dataset, options: TrainOptions = {}): Promise<Run> {
  const resolved = resolveSettings(options);
  const net = checkModel(typeof model === "function" ? model() : model, resolved);
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
  hooks.signal?.throwIfAborted();
  const { train: split, curve: curveSplit } = evaluationSplits(data, settings.evalOn);
  const curve = curveSplit && settings.evalEvery ? new AccuracyCurve(net, curveSplit) : null;
  const session = startTraining(net, settings);
  const log = new RunLog(settings, split.count, curve);
  const stopper = curve && settings.earlyStopping ? new EarlyStopper(net, settings.earlyStopping) : null;
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
  return runOf(net, data, settings, log, seconds, backend.name, earlyStop);
}

/** Every epoch's batches, one step each, until the last, a divergence or early stopping; progress every ~250 ms. */
async function trainEpochs(
  session: TrainingSession, split: Split, settings: TrainSettings, log: RunLog, hooks: RunHooks, stopper: EarlyStopper | null,
): Promise<void> {
  const { onProgress, signal } = hooks;
  const random = seededRandom(settings.shuffleSeed ?? 0);
  const evalEvery = settings.evalEvery === "epoch" ? log.stepsPerEpoch : settings.evalEvery ?? Infinity;
  let lastReport = performance.now();
  for (let epoch = 1; epoch <= settings.epochs && !log.diverged; epoch++) {
    log.epoch = epoch;
    if (epoch > 1 && settings.lrDecay) session.setLr(learningRate(settings, epoch));
    const order = settings.shuffle ? permutation(split.count, random) : null;
    for (let from = 0; from < split.count; from += settings.batchSize) {
      const to = Math.min(from + settings.batchSize, split.count);
      if (settings.lrRange) session.setLr(rangeRate(settings.lrRange, log.steps, log.totalSteps));
      log.record(session.applyStep({ split, from, to, order }), to - from);
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

/** The finished run as plain results, evaluated on the test split unless it diverged or `evaluate` is false. */
function runOf(net: Model, data: Dataset, settings: TrainSettings, log: RunLog, seconds: number, backend: string, earlyStop: EarlyStop | null): Run {
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
export function evaluate(model: Model, data: Dataset): Pick<Run, "accuracy" | "perClassAccuracy" | "confusion"> {
  const { classes } = model.predict(data.test);
  const confusion = confusionMatrix(data.test.labels, classes, data.classes, model.layers[model.layers.length - 1]);
  return { accuracy: accuracy(classes, data.test.labels), perClassAccuracy: perClassAccuracy(confusion), confusion };
}

/** `model` as a `Model` that may train with these settings: built by this library, not disposed, fresh or resumed. */
function checkModel(model: unknown, settings: ResolvedSettings): Model {
  if (!(model instanceof Model)) {
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
