/**
 * What a run is checked against before it trains: the dataset itself (`checkDataset`, once per call of `train`,
 * `trainAll` or `compare`), then whether a model of given layer sizes and settings fits it (`checkRunFits`). Code
 * further in takes a `CheckedDataset` and trusts it.
 */
import type { Dataset, Split } from "../data/data";
import { formatCount } from "../math/format";
import { describeValue, type ResolvedSettings } from "./settings";

declare const checked: unique symbol;

/**
 * A dataset `checkDataset` has passed: what the training loop, the sweep and the workers take, so the check runs
 * once per public call, not once per run.
 * @example const data: CheckedDataset = checkDataset(await loadMnist());
 */
export type CheckedDataset = Dataset & { readonly [checked]: true };

/**
 * Most optimizer steps one run may take: the loss of every step is kept (4 bytes each, 400 MB at the limit), and
 * at thousands of steps a second a run this long would already take days.
 * @example MAX_STEPS; // 100000000
 */
export const MAX_STEPS = 100_000_000;

/**
 * Throw unless `data` is a dataset as `loadMnist`/`loadIdx` make it: two splits whose images and labels are
 * as long as their counts say, images of one size, and a class count. Returns the same object, marked checked.
 * @example const checkedData = checkDataset(await loadMnist()); // passes
 */
export function checkDataset(data: Dataset): CheckedDataset {
  const expected = "a dataset from loadMnist() or loadIdx(folder)";
  if (typeof data !== "object" || data === null) throw new TypeError(`data: expected ${expected}, got ${describeValue(data)}`);
  for (const name of ["train", "test"] as const) checkSplit(name, data[name], expected);
  const { train: { rows, cols }, test } = data;
  if (test.rows !== rows || test.cols !== cols) {
    throw new RangeError(`data: training images are ${rows}×${cols} but test images are ${test.rows}×${test.cols}; both splits need one size`);
  }
  if (!Number.isInteger(data.classes) || data.classes < 1) {
    throw new TypeError(`data.classes: expected a positive integer number of classes, got ${describeValue(data.classes)}`);
  }
  return data as CheckedDataset;
}

/**
 * Check that a network of these layer sizes can train on `data` with these settings (and be evaluated on it),
 * before it is built: inputs and outputs that match the data, a holdout that leaves images to train on, a batch no
 * larger than the training split, and at most `MAX_STEPS` steps.
 * @example checkRunFits([784, 10], { batchSize: 16, epochs: 1, evaluate: true, evalOn: null }, checkDataset(data)); // throws for [28, 10] on MNIST
 */
export function checkRunFits(
  layers: readonly number[],
  settings: Pick<ResolvedSettings, "batchSize" | "epochs" | "evaluate" | "evalOn">,
  data: CheckedDataset,
): void {
  const { rows, cols } = data.train;
  const inputs = layers[0]!;
  if (inputs !== rows * cols) {
    throw new RangeError(`layers[0]: the model takes ${inputs} inputs, but ${data.name} images have ${rows}×${cols} = ${rows * cols} pixels`);
  }
  const outputs = layers[layers.length - 1]!;
  if (outputs < data.classes) {
    throw new RangeError(`layers[${layers.length - 1}]: the model has ${outputs} outputs, but ${data.name} has ${data.classes} classes (need at least ${data.classes}; ` +
      "a dataset's class count is its largest label + 1, or what loadIdx's { classes } option says)");
  }
  if (data.train.count < 1) throw new RangeError(`data.train: expected at least one training image, got ${data.train.count}`);
  if (settings.evaluate && data.test.count < 1) {
    throw new RangeError(`data.test: expected at least one test image to evaluate on, got ${data.test.count} (or pass evaluate: false)`);
  }
  const { evalOn } = settings;
  if (typeof evalOn === "object" && evalOn !== null && evalOn.holdout >= data.train.count) {
    throw new RangeError(`evalOn.holdout: ${evalOn.holdout} held-out images leave none of the ${data.train.count} training images to train on`);
  }
  checkSteps(settings, trainingImages(data, evalOn), data.name);
}

/**
 * How many images a run trains on: the training split, less the holdout its accuracy curve is measured on.
 * @example trainingImages(data, { holdout: 10000 }); // 50000 on MNIST
 */
export function trainingImages(data: Dataset, evalOn: ResolvedSettings["evalOn"]): number {
  return data.train.count - (typeof evalOn === "object" && evalOn !== null ? evalOn.holdout : 0);
}

function checkSteps({ batchSize, epochs }: Pick<ResolvedSettings, "batchSize" | "epochs">, images: number, name: string): void {
  if (batchSize > images) {
    // Refused rather than clipped: the run would be labelled "batch N" while each step saw fewer images.
    throw new RangeError(
      `batchSize: ${formatCount(batchSize)} is more than the ${formatCount(images)} training images of ${name}: every step would ` +
        `be the whole split, not a batch of ${formatCount(batchSize)}; use a batchSize of at most ${formatCount(images)}`,
    );
  }
  const steps = Math.ceil(images / batchSize) * epochs;
  if (steps > MAX_STEPS) {
    throw new RangeError(
      `epochs: ${formatCount(epochs)} epoch${epochs === 1 ? "" : "s"} of ${formatCount(Math.ceil(images / batchSize))} steps is ` +
        `${formatCount(steps)} steps; the limit is ${formatCount(MAX_STEPS)} steps per run (every step's loss is kept: 4 bytes each)`,
    );
  }
}

function checkSplit(name: "train" | "test", split: unknown, expected: string): void {
  if (typeof split !== "object" || split === null) {
    throw new TypeError(`data.${name}: expected a split { images, labels, count, rows, cols } (${expected}), got ${describeValue(split)}`);
  }
  const { images, labels, count: n, rows, cols } = split as Partial<Split>;
  if (![n, rows, cols].every((value) => Number.isInteger(value) && value! >= 0)) {
    const got = [n, rows, cols].map(describeValue).join(", ");
    throw new TypeError(`data.${name}: count, rows and cols must be whole numbers, got ${got}`);
  }
  const pixels = n! * rows! * cols!;
  const size = (array: unknown): string => (array instanceof Uint8Array ? formatCount(array.length) : describeValue(array));
  if (!(images instanceof Uint8Array) || images.length < pixels) {
    throw new TypeError(`data.${name}.images: expected a Uint8Array of ${formatCount(pixels)} pixels (${n} images of ${rows}×${cols}), got ${size(images)}`);
  }
  if (!(labels instanceof Uint8Array) || labels.length < n!) {
    throw new TypeError(`data.${name}.labels: expected a Uint8Array of ${formatCount(n!)} labels, got ${size(labels)}`);
  }
}
