/**
 * The learning-rate range test (fastai's `lr_find`, after Leslie Smith): one short run from a seeded model whose
 * learning rate rises exponentially at every step, read as loss against rate. The loss first stays flat (steps too
 * small), then falls (useful rates), then climbs and explodes (too large). The run is an ordinary run with an
 * `lrRange` schedule, trained by `train` and so kept in the run store like any other.
 */
import type { Dataset } from "../data/data";
import type { Model } from "../model/model";
import type { OptimizerName } from "../model/optimizers";
import { describeValue, rangeRate } from "../train/settings";
import type { Progress } from "../train/progress";
import type { Run } from "../train/loop";
import { train, type StoreSetting } from "./train-with-store";

/**
 * Options of `findLr`.
 * @example const options: FindLrOptions = { from: 1e-5, to: 10, steps: 100, batchSize: 16 };
 */
export interface FindLrOptions {
  /** The first and last step's rate (default 1e-5 and 10). */
  from?: number;
  to?: number;
  /** Steps of the run (default 100); it trains on the first steps × batchSize training images, in order. */
  steps?: number;
  /** Default 16. */
  batchSize?: number;
  /** Default "sgd". */
  optimizer?: OptimizerName;
  /** Momentum coefficient of optimizer "momentum". */
  momentum?: number;
  label?: string;
  store?: StoreSetting;
  onProgress?: (progress: Progress) => void;
}

/**
 * What the range test found.
 * @example const found: LrFinding = await findLr(mlp([784, 10]), data); console.log(found.suggestion, found.rule);
 */
export interface LrFinding {
  /** The run itself (not evaluated on the test split: accuracy NaN), as stored. */
  run: Run;
  /** Each step's rate and loss, and the loss smoothed (an exponential moving average, bias-corrected, β = 0.98). */
  rates: number[];
  losses: number[];
  smoothed: number[];
  /** Steps read for the suggestion: up to where the smoothed loss passed 4× its lowest (or a loss was not finite). */
  usable: number;
  /** The rate where the smoothed loss is lowest, and the suggestion: a tenth of it. */
  lowest: number;
  suggestion: number;
  /** The rule that made the suggestion, in words. */
  rule: string;
}

/** How the suggestion is made (fastai's `lr_min / 10`). */
const RULE = "a tenth of the rate where the smoothed loss is lowest (fastai's lr_min / 10), read before the smoothed loss passes 4× its lowest";
const BETA = 0.98;

/**
 * The learning-rate range test: train `model` (fresh, seeded) for `steps` steps while the rate rises exponentially
 * from `from` to `to`, and suggest a rate. Stored and read back like any run.
 * @example const found = await findLr(mlp([784, 10], { seed: 0 }), data, { batchSize: 16 }); show.lrFind(found); found.suggestion;
 */
export async function findLr(model: Model | (() => Model), data: Dataset, options: FindLrOptions = {}): Promise<LrFinding> {
  if (typeof options !== "object" || options === null) throw new TypeError(`findLr: options: expected an object such as { batchSize: 16 }, got ${describeValue(options)}`);
  const { from = 1e-5, to = 10, steps = 100, batchSize = 16, optimizer, momentum, label, store, onProgress } = options;
  if (!Number.isInteger(steps) || steps < 10) throw new RangeError(`findLr: options.steps: expected an integer >= 10 (steps of the run), got ${describeValue(steps)}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`findLr: options.batchSize: expected a positive integer, got ${describeValue(batchSize)}`);
  const images = steps * batchSize;
  if (!data || typeof data !== "object" || !data.train || data.train.count < images) {
    throw new RangeError(`findLr: ${steps} steps of ${batchSize} need ${images} training images; the data has ${data?.train?.count ?? "none"} (use fewer steps or a smaller batchSize)`);
  }
  const size = data.train.rows * data.train.cols;
  const first = { ...data.train, count: images, images: data.train.images.subarray(0, images * size), labels: data.train.labels.subarray(0, images) };
  const run = await train(model, { ...data, train: first }, {
    lrRange: { from, to }, batchSize, evaluate: false, ...(optimizer ? { optimizer } : {}), ...(momentum !== undefined ? { momentum } : {}),
    ...(label ? { label } : {}), ...(store !== undefined ? { store } : {}), ...(onProgress ? { onProgress } : {}),
  });
  return reading(run, from, to, steps);
}

/**
 * Read a range test's run: rates, smoothed losses, the usable stretch and the suggestion.
 * (Used by findLr; stored runs are read the same way.)
 */
function reading(run: Run, from: number, to: number, steps: number): LrFinding {
  const losses = Array.from(run.losses);
  const rates = losses.map((_, i) => rangeRate({ from, to }, i, steps));
  const smoothed: number[] = [];
  let average = 0;
  let usable = losses.length;
  let lowestAt = 0;
  for (let i = 0; i < losses.length; i++) {
    const loss = losses[i]!;
    if (!Number.isFinite(loss)) {
      usable = Math.min(usable, i);
      smoothed.push(NaN);
      continue;
    }
    average = BETA * average + (1 - BETA) * loss;
    const value = average / (1 - BETA ** (i + 1));
    smoothed.push(value);
    if (i >= usable) continue;
    if (value < smoothed[lowestAt]!) lowestAt = i;
    if (value > 4 * smoothed[lowestAt]!) usable = i;
  }
  const lowest = rates[lowestAt]!;
  return { run, rates, losses, smoothed, usable, lowest, suggestion: lowest / 10, rule: RULE };
}
