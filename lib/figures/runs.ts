/**
 * What the figures read of a training run: plain numbers and arrays, so a finished run from `train`, a live one
 * or a hand-made object all draw alike, and no figure depends on tfjs.
 */
import type { Run } from "../train/loop";
import { kindOf, isArrayLike } from "./check";

/**
 * What a loss chart needs of a run: its name and the loss of every step (a finished run from `train`, a live one,
 * or a plain object). Charts number steps from 1: `losses[i]` is drawn at step i + 1.
 */
export interface LossSeries {
  label: string;
  /** Loss of every training step, in order. May contain NaN/Infinity (a diverged run). */
  losses: ArrayLike<number>;
  /** Images per step, for an x axis in samples; `settings.batchSize` (a `train` run) is used when absent. */
  batchSize?: number;
  settings?: { batchSize?: number };
  /** Set when the loss became non-finite: `step` (1-based) is the step whose loss was the first NaN/Infinity,
   *  `loss` that loss. */
  diverged?: { step: number; loss?: number } | null;
  /** Accuracy (percent) measured during training after `step` steps (`evalEvery`): drawn on a second y axis. */
  evaluations?: readonly { step: number; accuracy: number }[];
}

/** The plain numbers of a `Run` that tables and class charts read: a run from `train`, or a hand-made object. */
export type RunNumbers = LossSeries & Pick<Run, "steps" | "seconds" | "accuracy"> & Partial<Pick<Run, "perClassAccuracy" | "confusion" | "stored" | "notRepeatable">>;

/**
 * Throw unless `run` has a string label and an array of losses; `where` names the run in the message.
 * @example assertSeries(run, `lossFigure: runs[0] ("lr 0.5")`);
 */
export function assertSeries(run: LossSeries, where: string): void {
  if (!run || typeof run !== "object") throw new TypeError(`${where}: expected a run { label, losses }, got ${kindOf(run)}`);
  if (typeof run.label !== "string") throw new TypeError(`${where}: label must be a string, got ${kindOf(run.label)}`);
  if (!isArrayLike(run.losses)) throw new TypeError(`${where}: losses must be an array of numbers, got ${kindOf(run.losses)}`);
}

/**
 * The 1-based step (as on the charts' x axis) of the first non-finite loss, or null.
 * @example divergedStep({ label: "lr 50", losses, diverged: { step: 61 } }); // 61
 */
export function divergedStep(run: LossSeries): number | null {
  return run.diverged && Number.isFinite(run.diverged.step) ? run.diverged.step : null;
}
