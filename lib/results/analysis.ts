/**
 * Questions a notebook asks of finished runs, answered with plain numbers: which images a model gets wrong, which
 * classes it predicts at all, how far training moved each unit's weights, which run is best, how much the seed
 * moves a result. Kept here so a notebook cell is a call and a printout, not a loop.
 */
import type { Split } from "../data/data";
import { mlp, Model, type LayerWeights } from "../model/model";
import { accuracy } from "../math/metrics";
import { seedStats } from "./reference";
import type { RunSpec } from "../runs/spec";
import type { AnyRun, Run } from "../train/loop";

/** The misclassified images of a split, in the shape `show.samples` takes (`{ ...wrong, title }`). */
export interface Misclassified {
  /** Indices into the split of the first wrong predictions, in order. */
  indices: number[];
  /** The predicted class of every image of the split (titles show label and prediction). */
  predictions: Int32Array;
}

/**
 * The first `count` images of `split` that a run's model (or a model) classifies wrongly.
 * @example const wrong = misclassified(run, data.test, 20); show.samples(data.test, { ...wrong, title: "Mistakes" });
 */
export function misclassified(source: Run | Model, split: Split, count: number): Misclassified {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`misclassified: count must be a positive integer, got ${String(count)}`);
  const model = source instanceof Model ? source : source.model;
  const predictions = model.predict(split).classes;
  const indices: number[] = [];
  for (let i = 0; i < split.count && indices.length < count; i++) if (predictions[i] !== split.labels[i]) indices.push(i);
  return { indices, predictions };
}

/**
 * How many test images a run predicted as each class: the column sums of its confusion matrix.
 * @example predictionCounts({ confusion: [[3, 1], [0, 2]] }); // [3, 3]
 */
export function predictionCounts(run: Pick<Run, "confusion">): number[] {
  const rows = run.confusion;
  if (!Array.isArray(rows) || rows.length === 0) throw new RangeError("predictionCounts: the run has no confusion matrix (was it evaluated?)");
  return rows[0]!.map((_, predicted) => rows.reduce((sum, row) => sum + row[predicted]!, 0));
}

/**
 * The classes a run predicted for at least one test image, in order.
 * @example predictedClasses({ confusion: [[0, 3], [0, 2]] }); // [1]: it says "1" for every image
 */
export function predictedClasses(run: Pick<Run, "confusion">): number[] {
  return predictionCounts(run).flatMap((count, c) => (count > 0 ? [c] : []));
}

/**
 * The largest |weight| of a layer (its kernel, not the biases).
 * @example largestWeight(run.model.weights(0)); // 0.254
 */
export function largestWeight(weights: LayerWeights): number {
  let largest = 0;
  for (const value of weights.kernel) largest = Math.max(largest, Math.abs(value));
  return largest;
}

/**
 * The weights a model started from: a fresh model with the same layers, init and seed (so a model trained in a
 * worker, whose seed and init travel with it, rebuilds the same start).
 * @example const start = initialWeights(run.model, 0); start.shape; // [784, 500]
 */
export function initialWeights(model: Model, layer: number): LayerWeights {
  if (model.init === "custom") {
    throw new RangeError("initialWeights: the model was built with modelFromWeights, so its start cannot be rebuilt from a seed");
  }
  const start = mlp(model.layers, { init: model.init, seed: model.seed });
  try {
    return start.weights(layer);
  } finally {
    start.dispose();
  }
}

/** How far each unit's incoming weights moved, relative to their starting size. */
export interface WeightChange {
  /** For unit j: ‖after − before‖ / ‖before‖ over its incoming weights (Infinity if it started at zero and moved). */
  perUnit: number[];
  median: number;
  /** Units that moved less than the threshold (default 1%). */
  unmoved: number;
}

/**
 * Per unit of a layer, the size of the change of its incoming weights relative to their initial size, with the
 * median and the number of units that barely moved (a ReLU unit that never fires keeps its start).
 * @example const moved = weightChange(initialWeights(run.model, 0), run.model.weights(0)); moved.median; // 0.8
 */
export function weightChange(before: LayerWeights, after: LayerWeights, threshold = 0.01): WeightChange {
  const [inputs, units] = after.shape;
  if (before.shape[0] !== inputs || before.shape[1] !== units) {
    throw new RangeError(`weightChange: before is ${before.shape.join("×")} but after is ${after.shape.join("×")}; compare the same layer`);
  }
  const perUnit = Array.from({ length: units }, (_, j) => {
    let change = 0;
    let size = 0;
    for (let i = 0; i < inputs; i++) {
      const start = before.kernel[i * units + j]!;
      change += (after.kernel[i * units + j]! - start) ** 2;
      size += start ** 2;
    }
    return change === 0 ? 0 : Math.sqrt(change / size);
  });
  return { perUnit, median: median(perUnit), unmoved: perUnit.filter((moved) => moved < threshold).length };
}

/** Which runs `bestRun` considers: a test, or settings a run must have (`{ layers: [784, 500, 10] }`). */
export type RunFilter<R extends AnyRun = Run> = ((run: R) => boolean) | Partial<Omit<RunSpec, "label">>;

/**
 * The run with the highest test accuracy among those that pass `filter` (all runs without one), of MLPs or networks.
 * @example const best = bestRun(runs, { layers: [784, 500, 10] }); best.accuracy; // 97.1
 */
export function bestRun<R extends AnyRun = Run>(runs: readonly R[], filter: RunFilter<R> = () => true): R {
  const test = typeof filter === "function" ? filter : (run: R) => matches(run, filter);
  const candidates = runs.filter(test);
  if (candidates.length === 0) {
    throw new RangeError(`bestRun: no run matches ${typeof filter === "function" ? "the filter" : JSON.stringify(filter)} among ${runs.length} runs`);
  }
  return candidates.reduce((best, run) => (run.accuracy > best.accuracy ? run : best));
}

/** What grouping and filtering read of a run (its spec values and accuracy): a run from `train`, or one from `loadRuns` (which has no model). */
type RunOutline = Pick<Run, "layers" | "init" | "seed" | "settings" | "accuracy">;

/** The accuracies of one group of runs that differ only in their seeds. */
export interface SeedSpread {
  /** The value of the grouping setting these runs share, e.g. the learning rate 0.5. */
  value: unknown;
  runs: number;
  min: number;
  max: number;
  /** max − min, in percentage points. */
  spread: number;
  mean: number;
}

/**
 * Group runs by one setting (`"lr"`, `"optimizer"`, `"layers"`, ...) and give each group's lowest and highest test
 * accuracy and their spread: how much of a single run's number is its seed. Groups keep the runs' order.
 * @example for (const g of seedSpread(runs, "lr")) console.log(`lr ${g.value}: spread ${g.spread.toFixed(2)} points`);
 */
export function seedSpread(runs: readonly RunOutline[], by: Exclude<keyof RunSpec, "label" | "seed">): SeedSpread[] {
  if (runs.length === 0) throw new RangeError("seedSpread: expected at least one run");
  const groups = new Map<string, { value: unknown; accuracies: number[] }>();
  for (const run of runs) {
    const value = specValueOf(run, by);
    const key = JSON.stringify(value);
    const group = groups.get(key) ?? { value, accuracies: [] };
    group.accuracies.push(run.accuracy);
    groups.set(key, group);
  }
  return [...groups.values()].map(({ value, accuracies }) => {
    const { min, max, mean } = seedStats(accuracies);
    return { value, runs: accuracies.length, min, max, spread: max - min, mean };
  });
}

/** A run's value of a `RunSpec` key: its model's layers, init and seed, or its training settings. */
function specValueOf(run: RunOutline, key: Exclude<keyof RunSpec, "label">): unknown {
  if (key === "layers") return run.layers;
  if (key === "init") return run.init;
  if (key === "seed") return run.seed;
  return run.settings[key];
}

function matches(run: RunOutline, wanted: Partial<Omit<RunSpec, "label">>): boolean {
  return (Object.keys(wanted) as Exclude<keyof RunSpec, "label">[])
    .every((key) => JSON.stringify(specValueOf(run, key)) === JSON.stringify(wanted[key]));
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Where a run's accuracy curve peaked, and what came after. */
export interface AccuracyPeak {
  step: number;
  /** The step in epochs: 1.5 is halfway through the second epoch (NaN for a diverged run). */
  epoch: number;
  accuracy: number;
  /** The last measurement's accuracy: where the run ended. */
  final: number;
  /** True when the best measurement is the last one: accuracy was still improving when the run ended. */
  atEnd: boolean;
}

/**
 * Where accuracy stopped improving: the best point of a run's curve (`evalEvery`), the earliest one when tied.
 * @example const peak = accuracyPeak(run); console.log(peak.atEnd ? "still improving" : `best at epoch ${peak.epoch}`);
 */
export function accuracyPeak(run: Pick<Run, "label" | "evaluations" | "steps" | "settings" | "diverged">): AccuracyPeak {
  if (run.evaluations.length === 0) {
    throw new RangeError(`accuracyPeak: run ${JSON.stringify(run.label)} has no accuracy curve: train it with evalEvery (e.g. evalEvery: "epoch")`);
  }
  const best = run.evaluations.reduce((peak, point) => (point.accuracy > peak.accuracy ? point : peak));
  const last = run.evaluations.at(-1)!;
  const stepsPerEpoch = run.diverged ? NaN : run.steps / run.settings.epochs;
  return { step: best.step, epoch: best.step / stepsPerEpoch, accuracy: best.accuracy, final: last.accuracy, atEnd: best === last };
}

/** What a run's accuracy curve found, and what measuring it cost: one row of `curveTable`. */
export interface CurveSummary {
  label: string;
  /** The final test accuracy (percent). */
  accuracy: number;
  /** Where the curve peaked (`accuracyPeak`). */
  peak: AccuracyPeak;
  /** Points measured on the curve. */
  points: number;
  /** Seconds of training, and of measuring the curve (apart from training). */
  seconds: number;
  evalSeconds: number;
  /** Measuring's cost as a percentage of the training time (NaN for a run that took no time). */
  extraPercent: number;
}

/**
 * A run's accuracy curve in one row: its peak, its final accuracy, and what measuring it cost.
 * @example show.html(curveTable(runs.map(curveSummary)));
 */
export function curveSummary(run: Pick<Run, "label" | "accuracy" | "evaluations" | "steps" | "settings" | "diverged" | "seconds" | "evalSeconds">): CurveSummary {
  const { label, accuracy, seconds, evalSeconds } = run;
  const extraPercent = seconds > 0 ? (100 * evalSeconds) / seconds : NaN;
  return { label, accuracy, peak: accuracyPeak(run), points: run.evaluations.length, seconds, evalSeconds, extraPercent };
}

/** Whether two models predict alike: how many images they classify differently, and each one's accuracy. */
export interface PredictionAgreement {
  images: number;
  /** Indices of the images the two classify differently (empty when they agree on every one). */
  differing: number[];
  /** Percent correct of the first and of the second model. */
  accuracies: [number, number];
}

/**
 * Compare two models' predictions on a split, e.g. a trained model and its copy loaded back from disk.
 * @example const { differing } = predictionAgreement(run.model, await loadModel("models/best"), data.test); differing.length; // 0
 */
export function predictionAgreement(first: Model, second: Model, split: Split): PredictionAgreement {
  const [a, b] = [first.predict(split).classes, second.predict(split).classes];
  const differing: number[] = [];
  for (let i = 0; i < split.count; i++) if (a[i] !== b[i]) differing.push(i);
  return { images: split.count, differing, accuracies: [accuracy(a, split.labels), accuracy(b, split.labels)] };
}

/**
 * What early stopping did in a run, in epochs: where it stopped (null: it ran every epoch), which epoch's weights it
 * kept, and the steps it saved, with a sentence saying so.
 * @example runs.map(earlyStopSummary).forEach((summary: EarlyStopSummary) => console.log(summary.text));
 */
export interface EarlyStopSummary {
  label: string;
  /** The epoch after which the run stopped (fractional when `evalEvery` counts steps), or null. */
  stoppedAfterEpoch: number | null;
  bestEpoch: number;
  bestAccuracy: number;
  restored: boolean;
  savedSteps: number;
  totalSteps: number;
  /** The run's test accuracy (of the weights it kept). */
  accuracy: number;
  text: string;
}

/**
 * A run's early stopping summed up in epochs and steps saved; throws for a run trained without `earlyStopping`.
 * @example console.log(earlyStopSummary(run).text); // "784-500-500-10: stopped after epoch 7; kept epoch 5's weights …"
 */
export function earlyStopSummary(run: Pick<Run, "label" | "earlyStop" | "steps" | "accuracy" | "settings">): EarlyStopSummary {
  const stop = run.earlyStop;
  if (!stop) throw new RangeError(`earlyStopSummary: run ${JSON.stringify(run.label)} was trained without earlyStopping (its earlyStop is null)`);
  const perEpoch = stop.totalSteps / run.settings.epochs;
  const epoch = (step: number): number => Math.round((100 * step) / perEpoch) / 100;
  const stoppedAfterEpoch = stop.stoppedAt === null ? null : epoch(stop.stoppedAt);
  const savedSteps = stop.totalSteps - run.steps;
  const text = `${run.label}: ${stoppedAfterEpoch === null ? `ran all ${run.settings.epochs} epochs` : `stopped after epoch ${stoppedAfterEpoch}`}; ` +
    `${stop.restored ? `kept epoch ${epoch(stop.bestStep)}'s weights` : `best at epoch ${epoch(stop.bestStep)}`} (holdout accuracy ${stop.bestAccuracy.toFixed(2)}%); ` +
    `saved ${savedSteps} of ${stop.totalSteps} steps (${Math.round((100 * savedSteps) / stop.totalSteps)}%); test accuracy ${run.accuracy.toFixed(2)}%`;
  return {
    label: run.label, stoppedAfterEpoch, bestEpoch: epoch(stop.bestStep), bestAccuracy: stop.bestAccuracy, restored: stop.restored, savedSteps,
    totalSteps: stop.totalSteps, accuracy: run.accuracy, text,
  };
}
