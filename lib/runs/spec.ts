/**
 * Runs described as data. A `RunSpec` names the model (layers, init, seed) and its training settings as plain,
 * JSON-serialisable values, so a sweep is a list of them: checked before the first run trains, labelled, and
 * trained in this thread or in a worker with the same result.
 */
import type { EarlyStopping } from "../train/early-stopping";
import type { EvalOn } from "../train/evaluations";
import { checkMlp, mlp, type Init, type Model } from "../model/model";
import type { OptimizerName } from "../model/optimizers";
import { checkRunFits, type CheckedDataset } from "../train/checks";
import { defaultLabel, describeValue, resolveSettings, type LrDecay, type ResolvedSettings, type TrainOptions } from "../train/settings";
import { trainChecked, type RunHooks, type Run } from "../train/loop";

/**
 * One training run as plain data: `JSON.stringify` keeps all of it.
 * @example const spec: RunSpec = { layers: [784, 500, 10], seed: 1, optimizer: "sgd", lr: 0.1 }; await trainAll([spec], data);
 */
export interface RunSpec {
  /** Layer sizes, inputs first: [784, 500, 10]. */
  layers: number[];
  /** Initial weights: "torch" (default), "glorot" or "zeros". */
  init?: Init;
  /** The model's seed: draws the initial weights (default 0), as `mlp(layers, { seed })`. */
  seed?: number;
  /** Default "sgd". */
  optimizer?: OptimizerName;
  /** Default 0.001. */
  lr?: number;
  /** Default 16. */
  batchSize?: number;
  /** Default 1. */
  epochs?: number;
  /** Momentum coefficient of optimizer "momentum". Default 0.9. */
  momentum?: number;
  /** Multiply lr by `factor` every `every` epochs, e.g. { factor: 0.5, every: 2 }. Default: none. */
  lrDecay?: LrDecay;
  /** Visit the training images in a seeded random order. Default false (the original's order). */
  shuffle?: boolean;
  /** Seed of the shuffled order; giving it without `shuffle: true` is an error. */
  shuffleSeed?: number;
  /** Measure accuracy every N steps (or every "epoch") and at the end, into `run.evaluations`. Default: none. */
  evalEvery?: number | "epoch";
  /** What `evalEvery` measures on: "test" (default) or `{ holdout: n }` (the last n training images, not trained on). */
  evalOn?: EvalOn;
  /** Stop after `patience` measurements on the holdout without an improvement, and keep the best weights. Needs
   *  `evalEvery` and `evalOn: { holdout: n }`. Default: none. */
  earlyStopping?: EarlyStopping;
  /** Name in charts and tables. Default: describes the run, e.g. "784-10 sgd lr 0.001 batch 16 seed 3". */
  label?: string;
}

/**
 * Every key a `RunSpec` may have.
 * @example SPEC_KEYS.includes("seed"); // true
 */
export const SPEC_KEYS = [
  "layers", "init", "seed", "optimizer", "lr", "batchSize", "epochs", "momentum", "lrDecay", "shuffle", "shuffleSeed", "evalEvery",
  "evalOn", "earlyStopping", "label",
] as const satisfies readonly (keyof RunSpec)[];

/** A spec's model options and training settings with every default filled in. */
export interface ResolvedSpec {
  init: Init;
  seed: number;
  settings: ResolvedSettings;
}

/**
 * A spec that `checkSpec` passed: its label filled in and its resolved values beside it, so a sweep and its
 * workers train it without checking or resolving it again. Plain data: it crosses into a worker as is.
 * @example const spec: CheckedSpec = checkSpec({ layers: [784, 10] }, checkDataset(data), "specs[0]"); spec.resolved.settings.lr; // 0.001
 */
export interface CheckedSpec extends RunSpec {
  label: string;
  resolved: ResolvedSpec;
}

/**
 * Check a spec completely (model, settings, and that its layers, batch size and steps fit `data`), throwing an
 * error that starts with `where` and names the bad value. Returns the spec with its label filled in and resolved.
 * @example const checked = checkSpec({ layers: [784, 10], lr: 0.5 }, checkDataset(data), "specs[0]"); checked.label; // "784-10 sgd lr 0.5 batch 16"
 */
export function checkSpec(spec: RunSpec, data: CheckedDataset, where: string): CheckedSpec {
  if (typeof spec !== "object" || spec === null || Array.isArray(spec)) {
    throw new TypeError(`${where}: expected a run such as { layers: [784, 10], lr: 0.001 }, got ${describeValue(spec)}`);
  }
  const unknown = Object.keys(spec).filter((key) => !(SPEC_KEYS as readonly string[]).includes(key));
  if (unknown.length > 0) {
    throw new RangeError(`${where}: unknown key${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")}; a run has ${SPEC_KEYS.join(", ")}`);
  }
  const named = typeof spec.label === "string" ? `${where} ("${spec.label}")` : where;
  try {
    const resolved = resolveSpec(spec);
    checkRunFits(spec.layers, resolved.settings, data);
    return { ...spec, label: spec.label ?? defaultLabel({ layers: spec.layers, ...resolved }, resolved.settings), resolved };
  } catch (error) {
    const Type = error instanceof TypeError ? TypeError : RangeError;
    throw new Type(`${named}: ${(error as Error).message}`);
  }
}

/**
 * A spec's model options and training settings with every default filled in; throws on a bad value.
 * @example resolveSpec({ layers: [784, 10] }).settings.lr; // 0.001
 */
export function resolveSpec(spec: RunSpec): ResolvedSpec {
  const { init, seed } = checkMlp(spec.layers, { init: spec.init, seed: spec.seed });
  return { init, seed, settings: resolveSettings(specTrainOptions(spec)) };
}

/**
 * Train one checked spec in this thread (or a worker's): a fresh model from its layers, init and seed, then its
 * resolved settings, trusted. If training fails or is aborted, the model (which no one else holds) is disposed.
 * @example const run = await trainSpec(checkSpec({ layers: [784, 10], seed: 3 }, checked, "spec"), checked);
 */
export async function trainSpec(spec: CheckedSpec, data: CheckedDataset, hooks: RunHooks = {}): Promise<Run> {
  const model = specModel(spec);
  try {
    // An MLP's run: its model is the `Model` built here.
    return (await trainChecked(model, data, { ...spec.resolved.settings, label: spec.label }, hooks)) as Run;
  } catch (error) {
    model.dispose();
    throw error;
  }
}

/**
 * The fresh, untrained model a spec describes.
 * @example specModel({ layers: [784, 500, 10], seed: 1 }).summary();
 */
export function specModel(spec: RunSpec): Model {
  return mlp(spec.layers, { init: spec.init, seed: spec.seed });
}

/** `train`'s options for a spec: everything but the model's own keys, leaving out unset ones (so defaults apply). */
function specTrainOptions(spec: RunSpec): TrainOptions {
  const { layers: _layers, init: _init, seed: _seed, ...settings } = spec;
  return Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined)) as TrainOptions;
}
