/**
 * Accuracy measured while a run trains (`evalEvery`): on the test split, or on a held-out part of the training
 * split that the run never trains on. Timed apart from training, so a run says what its accuracy curve cost.
 */
import type { Dataset, Split } from "../data/data";
import { accuracy } from "../math/metrics";
import type { Prediction } from "../model/model";

/**
 * One point of a run's accuracy curve: percent correct after `step` optimizer steps.
 * @example const best: Evaluation = run.evaluations.reduce((a, b) => (b.accuracy > a.accuracy ? b : a)); best.step; // 7500
 */
export interface Evaluation {
  step: number;
  accuracy: number;
}

/**
 * Where `evalEvery` measures: "test" (the test split), or `{ holdout: n }`: the last n training images, which the
 * run then does not train on (the test split stays untouched until the end).
 * @example const evalOn: EvalOn = { holdout: 5000 }; await train(mlp([784, 10]), data, { evalEvery: 500, evalOn });
 */
export type EvalOn = "test" | { holdout: number };

/** The part of the training split a run trains on, and the images its accuracy curve is measured on. */
export interface EvaluationSplits {
  train: Split;
  curve: Split | null;
}

/**
 * Check an `evalOn` value's form (whether a holdout leaves images to train on is `checkRunFits`'s question: it knows
 * the dataset).
 * @example checkEvalOn({ holdout: 5000 }); // { holdout: 5000 }
 */
export function checkEvalOn(value: unknown): EvalOn {
  if (value === "test") return value;
  const holdout = typeof value === "object" && value !== null && !Array.isArray(value) ? (value as { holdout?: unknown }).holdout : undefined;
  const keys = typeof value === "object" && value !== null ? Object.keys(value) : [];
  if (!(Number.isInteger(holdout) && (holdout as number) >= 1) || keys.length !== 1) {
    throw new RangeError(`evalOn: expected "test" or { holdout: n } (n a positive integer: the last n training images), got ${JSON.stringify(value)}`);
  }
  return { holdout: holdout as number };
}

/**
 * What a run trains on and measures its curve on: with `{ holdout: n }` the training split loses its last n images
 * to the curve; with "test" it keeps them all; with no curve (`null`) there is nothing to measure. Trusts `evalOn`
 * (checked by `resolveSettings` and `checkRunFits`).
 * @example evaluationSplits(data, { holdout: 10000 }).train.count; // 50000 on MNIST
 */
export function evaluationSplits(data: Dataset, evalOn: EvalOn | null): EvaluationSplits {
  if (evalOn === null) return { train: data.train, curve: null };
  if (evalOn === "test") return { train: data.train, curve: data.test };
  const kept = data.train.count - evalOn.holdout;
  return { train: slice(data.train, 0, kept), curve: slice(data.train, kept, data.train.count) };
}

/**
 * Measures a model's accuracy on one split at chosen steps, keeping the points and the time they took.
 * @example const curve = new AccuracyCurve(model, data.test); curve.measure(500); curve.points; // [{ step: 500, accuracy: 91.3 }]
 */
export class AccuracyCurve {
  readonly points: Evaluation[] = [];
  /** Wall time spent measuring, in seconds. */
  seconds = 0;

  constructor(private readonly model: { predict(split: Split): Prediction }, private readonly split: Split) {}

  /** Measure after `step` steps (once per step: a second call for the same step keeps the first point). */
  measure(step: number): void {
    if (this.points.at(-1)?.step === step) return;
    const start = performance.now();
    const { classes } = this.model.predict(this.split);
    this.points.push({ step, accuracy: accuracy(classes, this.split.labels) });
    this.seconds += (performance.now() - start) / 1000;
  }
}

function slice(split: Split, from: number, to: number): Split {
  const size = split.rows * split.cols;
  return { ...split, count: to - from, images: split.images.subarray(from * size, to * size), labels: split.labels.subarray(from, to) };
}
