/**
 * Early stopping, as Keras's `EarlyStopping(restore_best_weights=True)`: after each accuracy measurement of a run
 * (`evalEvery`, on held-out training images, `evalOn: { holdout }`), the run stops once `patience` measurements in
 * a row have not beaten the best by more than `minDelta` points, and the model gets back the weights of its best
 * measurement. The test split plays no part, so the run's test accuracy stays an untouched number.
 */
import type { Model } from "../model/model";
import { restoreModel, snapshotModel, type ModelSnapshot } from "../model/snapshot";
import type { Evaluation } from "./evaluations";

/**
 * When to stop a run: `patience` measurements without an improvement. Needs `evalEvery` and `evalOn: { holdout }`.
 * @example await train(mlp([784, 500, 10]), data, { epochs: 10, evalEvery: "epoch", evalOn: { holdout: 10000 }, earlyStopping: { patience: 2 } });
 */
export interface EarlyStopping {
  /** Measurements in a row without an improvement before the run stops (a positive integer). */
  patience: number;
  /** Smallest rise in accuracy, in percentage points, that counts as an improvement. Default 0. */
  minDelta?: number;
  /** Give the model back the weights of its best measurement when the run ends. Default true. */
  restoreBest?: boolean;
}

/**
 * What early stopping did in a run.
 * @example const { stoppedAt, bestStep, totalSteps } = run.earlyStop!; // stoppedAt null: it ran every step
 */
export interface EarlyStop {
  /** The step it stopped after, or null when patience never ran out (every step of the schedule was taken). */
  stoppedAt: number | null;
  /** The best measurement: after which step, and its accuracy on the holdout. */
  bestStep: number;
  bestAccuracy: number;
  /** Whether the model was given back the best measurement's weights (they differ from the last step's). */
  restored: boolean;
  /** Steps the whole schedule has: `totalSteps - run.steps` is what stopping saved. */
  totalSteps: number;
}

/**
 * Check `earlyStopping` and fill in its defaults; it needs an accuracy curve on a holdout.
 * @example checkEarlyStopping({ patience: 2 }, { holdout: 10000 }); // { patience: 2, minDelta: 0, restoreBest: true }
 */
export function checkEarlyStopping(value: unknown, evalOn: unknown): Required<EarlyStopping> {
  const example = "{ patience: 2 } (stop after 2 measurements without an improvement)";
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(`earlyStopping: expected ${example}, got ${JSON.stringify(value)}`);
  }
  const unknown = Object.keys(value).filter((key) => !["patience", "minDelta", "restoreBest"].includes(key));
  if (unknown.length > 0) throw new RangeError(`earlyStopping: unknown key${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")}; expected patience, minDelta, restoreBest`);
  const { patience, minDelta = 0, restoreBest = true } = value as EarlyStopping;
  if (!Number.isInteger(patience) || patience < 1) {
    throw new RangeError(`earlyStopping.patience: expected a positive integer (measurements without an improvement), got ${JSON.stringify(patience)}`);
  }
  if (typeof minDelta !== "number" || !Number.isFinite(minDelta) || minDelta < 0) {
    throw new RangeError(`earlyStopping.minDelta: expected a number >= 0 (percentage points), got ${JSON.stringify(minDelta)}`);
  }
  if (typeof restoreBest !== "boolean") throw new TypeError(`earlyStopping.restoreBest: expected true or false, got ${JSON.stringify(restoreBest)}`);
  if (evalOn === null || evalOn === undefined) {
    throw new RangeError("earlyStopping: needs an accuracy curve to watch: set evalEvery (steps or \"epoch\") and evalOn: { holdout: n }");
  }
  if (evalOn === "test") {
    throw new RangeError("earlyStopping: measured on the test split, the test split would choose the model and its accuracy would no longer be an " +
      "untouched number; set evalOn: { holdout: n } (the last n training images)");
  }
  return { patience, minDelta, restoreBest };
}

/**
 * Watches a run's accuracy curve: keeps the best measurement (and its weights, to give back), says when patience
 * has run out.
 * @example const stopper = new EarlyStopper(model, rule); if (stopper.observe(point)) break; const stop = stopper.finish(steps, totalSteps, false);
 */
export class EarlyStopper {
  private best: Evaluation | null = null;
  private waited = 0;
  private snapshot: ModelSnapshot | null = null;
  private stoppedAt: number | null = null;

  constructor(private readonly model: Model, private readonly rule: Required<EarlyStopping>) {}

  /** After a measurement: true when the run should stop here. */
  observe(point: Evaluation): boolean {
    if (this.best === null || point.accuracy > this.best.accuracy + this.rule.minDelta) {
      this.best = point;
      this.waited = 0;
      if (this.rule.restoreBest) this.snapshot = snapshotModel(this.model);
      return false;
    }
    this.waited++;
    if (this.waited < this.rule.patience) return false;
    this.stoppedAt = point.step;
    return true;
  }

  /** The run has ended after `steps` steps: give back the best weights (unless it diverged) and say what happened. */
  finish(steps: number, totalSteps: number, diverged: boolean): EarlyStop {
    const best = this.best ?? { step: 0, accuracy: NaN };
    const restored = !diverged && this.snapshot !== null && best.step !== steps;
    if (restored) restoreModel(this.snapshot!, this.model);
    this.snapshot = null;
    return { stoppedAt: this.stoppedAt, bestStep: best.step, bestAccuracy: best.accuracy, restored, totalSteps };
  }
}
