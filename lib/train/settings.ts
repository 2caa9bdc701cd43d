/**
 * What `train` is told: its options, their checks and defaults, and the label a run gets when it has none.
 * Kept apart from the loop so a sweep can check every run's settings before the first one trains.
 */
import { checkEarlyStopping, type EarlyStopping } from "./early-stopping";
import type { InputScaling } from "../engine/network";
import { checkEvalOn, type EvalOn } from "./evaluations";
import type { Progress } from "./progress";
import { OPTIMIZERS, PYTORCH_DEFAULTS, type OptimizerName } from "../model/optimizers";
import type { Init } from "../model/model";

/**
 * Options of `train`; every one has a default.
 * @example const options: TrainOptions = { optimizer: "sgd", lr: 0.5, batchSize: 16 }; await train(mlp([784, 10]), data, options);
 */
export interface TrainOptions {
  /** Default "sgd". */
  optimizer?: OptimizerName;
  /** Learning rate, > 0. Default 0.001. */
  lr?: number;
  /** Images per step, a positive integer. Default 16. */
  batchSize?: number;
  /** Passes over the training split. Default 1. */
  epochs?: number;
  /** Visit the training images in a seeded random order each epoch. Default false (the original's order). */
  shuffle?: boolean;
  /** Seed of the shuffled order; needs `shuffle: true`. Default 0. (The initial weights' seed is the model's:
   *  `mlp(layers, { seed })`.) */
  shuffleSeed?: number;
  /** Momentum coefficient of optimizer "momentum", in [0, 1). Default 0.9. */
  momentum?: number;
  /** A step schedule: multiply the learning rate by `factor` (between 0 and 1) every `every` epochs, e.g.
   *  `{ factor: 0.5, every: 2 }`: lr for epochs 1–2, lr/2 for 3–4, … Default: none (one rate throughout). */
  lrDecay?: LrDecay;
  /** The learning-rate range test's schedule: the rate rises exponentially from `from` at the first step to `to` at
   *  the last (`lr` is then `from`); what `findLr` trains. Not with `lrDecay`. Default: none. */
  lrRange?: LrRange;
  /** Name of the run in charts and tables. Default: describes the setting, e.g. "784-10 sgd lr 0.001 batch 16". */
  label?: string;
  /** Called at most every ~250 ms while training, and once with `done: true` at the end. */
  onProgress?: (progress: Progress) => void;
  /** Measure test accuracy after training. Default true; when false, `accuracy` is NaN and the per-class results are empty. */
  evaluate?: boolean;
  /** Measure accuracy every N optimizer steps, or at the end of every `"epoch"`, and after the last step, into
   *  `run.evaluations` (an accuracy curve; its cost is `run.evalSeconds`, apart from `seconds`). Default: none (only
   *  the final `accuracy`). "epoch" costs about 7% of the training time of 784-500-10 at batch 16 (10,000 test images). */
  evalEvery?: number | "epoch";
  /** What `evalEvery` measures on: "test" (default) or `{ holdout: n }`, the last n training images, which the run
   *  then does not train on. Needs `evalEvery`. */
  evalOn?: EvalOn;
  /** Stop once `patience` measurements of the accuracy curve in a row did not improve on the best, and give the
   *  model back the best measurement's weights (Keras's `EarlyStopping(restore_best_weights=True)`); measured on
   *  `evalOn: { holdout: n }`, never the test split. Needs `evalEvery`. Default: none (every step of every epoch). */
  earlyStopping?: EarlyStopping;
  /** Continue training an already trained model (with a fresh optimizer state). Default false. */
  resume?: boolean;
  /** Weight decay, PyTorch's: added to the gradient as wd·p (optimizer "adamw": decoupled, p ← p·(1 − lr·wd)). Default 0. */
  weightDecay?: number;
  /** Scale the input to ((pixel / 255) − mean) / std, e.g. `MNIST_NORMALIZATION` (needs a Layers model). Default: pixel / 255. */
  normalize?: InputScaling | null;
  /** Seeded augmentation: each training image moved by up to `shift` pixels each way, drawn anew for every image of
   *  every epoch from `seed` (default 0); zeros fill in. Needs a Layers model. Default: none. */
  augment?: Augmentation | null;
  /** The one-cycle learning-rate schedule (PyTorch's OneCycleLR without momentum cycling, cosine): from maxLr / 25 up
   *  to `maxLr` over the first `pctStart` (default 0.25) of all steps, then down to maxLr / 25 / 10⁴; `lr` is
   *  unused with it. Default: none. */
  oneCycle?: OneCycle | null;
  /** Stops the run (rejecting with the signal's reason) when aborted; checked every ~250 ms. */
  signal?: AbortSignal;
}

/** The resolved options a run used (everything but the callbacks and the signal). */
export interface TrainSettings {
  optimizer: OptimizerName;
  lr: number;
  batchSize: number;
  epochs: number;
  shuffle: boolean;
  /** Seed of the shuffled order, or null when not shuffling. */
  shuffleSeed: number | null;
  /** The momentum coefficient for optimizer "momentum", else null. */
  momentum: number | null;
  /** The learning-rate schedule, or null for one rate throughout. */
  lrDecay: LrDecay | null;
  /** The range test's rising rate, or null. */
  lrRange: LrRange | null;
  weightDecay: number;
  normalize: InputScaling | null;
  augment: Required<Augmentation> | null;
  oneCycle: Required<OneCycle> | null;
  label: string;
  evaluate: boolean;
  /** Steps between two points of the accuracy curve, "epoch" for one per epoch, or null for no curve. */
  evalEvery: number | "epoch" | null;
  /** What the curve is measured on; null without `evalEvery`. */
  evalOn: EvalOn | null;
  /** The early-stopping rule with its defaults, or null (every step is taken). */
  earlyStopping: Required<EarlyStopping> | null;
  resume: boolean;
}

/**
 * A run's settings checked and with every default filled in, before the run has a label (the default label also
 * describes the model): what `resolveSettings` returns, once per run.
 * @example const settings: ResolvedSettings = resolveSettings({ lr: 0.5 }); settings.batchSize; // 16
 */
export type ResolvedSettings = Omit<TrainSettings, "label">;

export type { InputScaling } from "../engine/network";

/**
 * MNIST's training pixels' mean and standard deviation (of pixel / 255), as PyTorch's examples normalise them.
 * @example await train(net, data, { normalize: MNIST_NORMALIZATION });
 */
export const MNIST_NORMALIZATION: InputScaling = { mean: 0.1307, std: 0.3081 };

/**
 * Random shifts of the training images.
 * @example const augment: Augmentation = { shift: 2 };
 */
export interface Augmentation {
  /** Up to this many pixels each way, 1–8. */
  shift: number;
  seed?: number;
}

/**
 * The one-cycle schedule's settings.
 * @example const oneCycle: OneCycle = { maxLr: 0.003 };
 */
export interface OneCycle {
  maxLr: number;
  pctStart?: number;
}

/**
 * The learning rate of step `step` (from 0) of `total` under a one-cycle schedule, as PyTorch's OneCycleLR with
 * anneal_strategy "cos", div_factor 25, final_div_factor 10⁴ computes it.
 * @example oneCycleLr({ maxLr: 0.003, pctStart: 0.25 }, 0, 938); // 0.00012
 */
export function oneCycleLr(oneCycle: Required<OneCycle>, step: number, total: number): number {
  const initial = oneCycle.maxLr / 25;
  const final = initial / 1e4;
  const peak = oneCycle.pctStart * total - 1;
  const cos = (from: number, to: number, pct: number) => to + ((from - to) / 2) * (Math.cos(Math.PI * pct) + 1);
  if (step <= peak) return cos(initial, oneCycle.maxLr, peak > 0 ? step / peak : 1);
  return cos(oneCycle.maxLr, final, (step - peak) / (total - 1 - peak));
}

/**
 * A step learning-rate schedule: epoch e (from 1) trains at lr × factor^⌊(e − 1) / every⌋.
 * @example const lrDecay: LrDecay = { factor: 0.5, every: 2 }; await train(mlp([784, 10]), data, { epochs: 4, lrDecay });
 */
export interface LrDecay {
  factor: number;
  every: number;
}

/**
 * The learning-rate range test's schedule: step i of n trains at from × (to / from)^(i / (n − 1)).
 * @example const lrRange: LrRange = { from: 1e-5, to: 10 }; await train(mlp([784, 10]), data, { lrRange, evaluate: false });
 */
export interface LrRange {
  from: number;
  to: number;
}

/** What a default label says about the model. */
export interface ModelDescription {
  layers: readonly (number | string)[];
  init: Init | "custom" | "own" | "seeded";
  seed: number;
}

const OPTION_NAMES: readonly (keyof TrainOptions)[] = [
  "optimizer", "lr", "batchSize", "epochs", "shuffle", "shuffleSeed", "momentum", "lrDecay", "lrRange", "label", "onProgress", "evaluate",
  "evalEvery", "evalOn", "earlyStopping", "resume", "signal", "weightDecay", "normalize", "augment", "oneCycle",
];

/**
 * Check options and fill in defaults, throwing before any training on a bad value. The label is resolved
 * by `train` (the default one describes the model too).
 * @example resolveSettings({ lr: 0.5 }).batchSize; // 16
 */
export function resolveSettings(options: TrainOptions): ResolvedSettings {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`train options: expected an object such as { lr: 0.001 }, got ${describeValue(options)}`);
  }
  const unknown = Object.keys(options).filter((key) => !(OPTION_NAMES as readonly string[]).includes(key));
  if (unknown.length > 0) {
    const hint = unknown.includes("seed") ? " (the weights' seed is the model's, mlp(layers, { seed }); shuffling's is shuffleSeed)" : "";
    throw new RangeError(
      `train options: unknown option${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")}${hint}; expected ${OPTION_NAMES.join(", ")}`,
    );
  }
  const optimizer = options.optimizer ?? "sgd";
  if (!(OPTIMIZERS as readonly string[]).includes(optimizer)) {
    throw new RangeError(`optimizer: expected one of ${OPTIMIZERS.join(", ")}; got ${describeValue(optimizer)}`);
  }
  const lr = options.lr ?? 0.001;
  if (typeof lr !== "number" || !Number.isFinite(lr) || lr <= 0) {
    throw new RangeError(`lr: expected a finite number > 0, got ${describeValue(lr)}`);
  }
  const batchSize = positiveInteger("batchSize", options.batchSize ?? 16);
  const epochs = positiveInteger("epochs", options.epochs ?? 1);
  if (options.momentum !== undefined && optimizer !== "momentum") {
    throw new RangeError(`momentum: only used by optimizer "momentum", but optimizer is "${optimizer}" (set optimizer: "momentum")`);
  }
  const momentum = options.momentum ?? PYTORCH_DEFAULTS.momentum;
  if (typeof momentum !== "number" || !(momentum >= 0 && momentum < 1)) {
    throw new RangeError(`momentum: expected a number from 0 up to (not including) 1, got ${describeValue(momentum)}`);
  }
  for (const flag of ["shuffle", "evaluate", "resume"] as const) {
    if (options[flag] !== undefined && typeof options[flag] !== "boolean") {
      throw new TypeError(`${flag}: expected true or false, got ${describeValue(options[flag])}`);
    }
  }
  const shuffle = options.shuffle ?? false;
  if (options.shuffleSeed !== undefined && !shuffle) {
    throw new RangeError(`shuffleSeed: only used with shuffle: true, but shuffle is ${String(shuffle)} (the weights' seed is the model's, mlp(layers, { seed }))`);
  }
  const shuffleSeed = options.shuffleSeed ?? 0;
  if (!Number.isInteger(shuffleSeed)) throw new RangeError(`shuffleSeed: expected an integer, got ${describeValue(shuffleSeed)}`);
  if (options.onProgress !== undefined && typeof options.onProgress !== "function") {
    throw new TypeError(`onProgress: expected a function, got ${describeValue(options.onProgress)}`);
  }
  if (options.label !== undefined && typeof options.label !== "string") {
    throw new TypeError(`label: expected a string, got ${describeValue(options.label)}`);
  }
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
    throw new TypeError(`signal: expected an AbortSignal, got ${describeValue(options.signal)}`);
  }
  const lrDecay = options.lrDecay === undefined ? null : checkLrDecay(options.lrDecay, epochs);
  const lrRange = options.lrRange === undefined ? null : checkLrRange(options.lrRange, lrDecay, options.lr);
  const evalEvery = options.evalEvery === undefined || options.evalEvery === "epoch"
    ? options.evalEvery ?? null
    : positiveInteger("evalEvery", options.evalEvery, ' (steps) or "epoch"');
  if (options.evalOn !== undefined && evalEvery === null) {
    throw new RangeError(`evalOn: only used with evalEvery (steps between measurements), e.g. { evalEvery: 500, evalOn: ${JSON.stringify(options.evalOn)} }`);
  }
  const evalOn = evalEvery === null ? null : checkEvalOn(options.evalOn ?? "test");
  const earlyStopping = options.earlyStopping === undefined ? null : checkEarlyStopping(options.earlyStopping, evalOn);
  const weightDecay = options.weightDecay ?? 0;
  if (typeof weightDecay !== "number" || !(weightDecay >= 0 && weightDecay < 1)) {
    throw new RangeError(`weightDecay: expected a number from 0 up to (not including) 1, got ${describeValue(weightDecay)}`);
  }
  // null as a run's settings write "none" (a run read back from a file passes its settings as options).
  const normalize = options.normalize == null ? null : checkNormalize(options.normalize);
  const augment = options.augment == null ? null : checkAugment(options.augment);
  const oneCycle = options.oneCycle == null ? null : checkOneCycle(options.oneCycle);
  if (oneCycle && (options.lrDecay || lrRange)) throw new RangeError("oneCycle: a run has one schedule; drop lrDecay or lrRange, or oneCycle");
  return {
    optimizer, lr: lrRange ? lrRange.from : lr, batchSize, epochs, shuffle, shuffleSeed: shuffle ? shuffleSeed : null,
    momentum: optimizer === "momentum" ? momentum : null, lrDecay, lrRange, evaluate: options.evaluate ?? true, evalEvery, evalOn,
    earlyStopping, resume: options.resume ?? false, weightDecay, normalize, augment, oneCycle,
  };
}

/**
 * The label of a run that was given none: the layers, then every setting that differs from the defaults'
 * story (the optimizer, lr and batch size always).
 * @example defaultLabel(mlp([784, 10], { seed: 2 }), resolveSettings({ lr: 0.5 })); // "784-10 sgd lr 0.5 batch 16 seed 2"
 */
export function defaultLabel(model: ModelDescription, settings: ResolvedSettings): string {
  const parts = [model.layers.join("-"), settings.optimizer];
  if (settings.momentum !== null && settings.momentum !== PYTORCH_DEFAULTS.momentum) parts.push(`momentum ${settings.momentum}`);
  parts.push(settings.lrRange ? `lr rising ${settings.lrRange.from} → ${settings.lrRange.to}` : `lr ${settings.lr}`);
  if (settings.lrDecay) parts.push(scheduleLabel(settings.lrDecay));
  if (settings.oneCycle) parts.push(`one-cycle to ${settings.oneCycle.maxLr}`);
  if (settings.weightDecay) parts.push(`wd ${settings.weightDecay}`);
  if (settings.normalize) parts.push("normalised");
  if (settings.augment) parts.push(`shift ±${settings.augment.shift}`);
  parts.push(`batch ${settings.batchSize}`);
  if (model.init !== "torch") parts.push(`init ${model.init}`);
  if (model.seed !== 0) parts.push(`seed ${model.seed}`);
  if (settings.epochs !== 1) parts.push(`${settings.epochs} epochs`);
  if (settings.shuffleSeed !== null) parts.push(`shuffled (shuffle seed ${settings.shuffleSeed})`);
  if (typeof settings.evalOn === "object" && settings.evalOn !== null) parts.push(`holdout ${settings.evalOn.holdout}`);
  if (settings.earlyStopping) parts.push(earlyStoppingLabel(settings.earlyStopping));
  if (settings.resume) parts.push("resumed");
  return parts.join(" ");
}

/**
 * How labels, tables and files name a learning-rate schedule.
 * @example scheduleLabel({ factor: 0.5, every: 2 }); // "×0.5 every 2 epochs"
 */
export function scheduleLabel(lrDecay: LrDecay): string {
  return `×${lrDecay.factor} every ${lrDecay.every === 1 ? "epoch" : `${lrDecay.every} epochs`}`;
}

/**
 * How labels and tables name an early-stopping rule.
 * @example earlyStoppingLabel({ patience: 2, minDelta: 0, restoreBest: true }); // "early stopping (patience 2)"
 */
export function earlyStoppingLabel(rule: Required<EarlyStopping>): string {
  const extra = [`patience ${rule.patience}`, ...(rule.minDelta > 0 ? [`min delta ${rule.minDelta}`] : []), ...(rule.restoreBest ? [] : ["last weights kept"])];
  return `early stopping (${extra.join(", ")})`;
}

/**
 * A value as error messages quote it: strings in quotes, arrays as JSON, functions as "a function", objects by
 * their class or their keys (never "[object Object]").
 * @example describeValue("adamw"); // "\"adamw\""
 */
export function describeValue(value: unknown): string {
  if (typeof value === "string") return `"${value}"`;
  if (typeof value === "function") return "a function";
  if (Array.isArray(value)) return `an array ${JSON.stringify(value)}`;
  if (typeof value === "object" && value !== null) {
    const name = Object.getPrototypeOf(value)?.constructor?.name;
    if (name && name !== "Object") return `a ${name}`;
    const keys = Object.keys(value);
    return keys.length === 0 ? "an empty object {}" : `an object with keys ${keys.slice(0, 6).join(", ")}${keys.length > 6 ? ", …" : ""}`;
  }
  return String(value);
}

/**
 * The learning rate epoch `epoch` (from 1) trains at.
 * @example learningRate({ lr: 0.1, lrDecay: { factor: 0.5, every: 2 } }, 3); // 0.05
 */
export function learningRate(settings: Pick<TrainSettings, "lr" | "lrDecay">, epoch: number): number {
  const { lr, lrDecay } = settings;
  return lrDecay ? lr * lrDecay.factor ** Math.floor((epoch - 1) / lrDecay.every) : lr;
}

/**
 * The rate of step `step` (from 0) of `totalSteps` under a range test's schedule.
 * @example rangeRate({ from: 1e-4, to: 1 }, 50, 101); // 0.01
 */
export function rangeRate(range: LrRange, step: number, totalSteps: number): number {
  return totalSteps <= 1 ? range.from : range.from * (range.to / range.from) ** (step / (totalSteps - 1));
}

function checkLrRange(value: unknown, lrDecay: LrDecay | null, lr: unknown): LrRange {
  const example = "{ from: 1e-5, to: 10 } (the rate rises exponentially from 1e-5 to 10)";
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new TypeError(`lrRange: expected ${example}, got ${describeValue(value)}`);
  const unknown = Object.keys(value).filter((key) => key !== "from" && key !== "to");
  if (unknown.length > 0) throw new RangeError(`lrRange: unknown key${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")}; expected ${example}`);
  const { from, to } = value as Partial<LrRange>;
  if (typeof from !== "number" || !Number.isFinite(from) || from <= 0) throw new RangeError(`lrRange.from: expected a finite number > 0, got ${describeValue(from)}`);
  if (typeof to !== "number" || !Number.isFinite(to) || !(to > from)) throw new RangeError(`lrRange.to: expected a finite number above from (${from}), got ${describeValue(to)}`);
  if (lrDecay) throw new RangeError("lrRange: the range test sets the rate of every step; it cannot be combined with lrDecay");
  if (lr !== undefined && lr !== from) throw new RangeError(`lr: the range test starts at lrRange.from (${from}); leave lr out, got ${describeValue(lr)}`);
  return { from, to };
}

function plainObject(name: string, value: unknown, example: string, keys: readonly string[]): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new TypeError(`${name}: expected ${example}, got ${describeValue(value)}`);
  const unknown = Object.keys(value).filter((key) => !keys.includes(key));
  if (unknown.length > 0) throw new RangeError(`${name}: unknown key${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")}; expected ${example}`);
  return value as Record<string, unknown>;
}

function checkNormalize(value: unknown): InputScaling {
  const { mean, std } = plainObject("normalize", value, "{ mean, std } (e.g. MNIST_NORMALIZATION)", ["mean", "std"]);
  if (typeof mean !== "number" || !Number.isFinite(mean)) throw new RangeError(`normalize.mean: expected a finite number, got ${describeValue(mean)}`);
  if (typeof std !== "number" || !(std > 0) || !Number.isFinite(std)) throw new RangeError(`normalize.std: expected a finite number > 0, got ${describeValue(std)}`);
  return { mean, std };
}

function checkAugment(value: unknown): Required<Augmentation> {
  const { shift, seed = 0 } = plainObject("augment", value, "{ shift: 2 } (random shifts of up to 2 pixels)", ["shift", "seed"]);
  if (typeof shift !== "number" || !Number.isInteger(shift) || shift < 1 || shift > 8) throw new RangeError(`augment.shift: expected a whole number of pixels from 1 to 8, got ${describeValue(shift)}`);
  if (typeof seed !== "number" || !Number.isInteger(seed)) throw new RangeError(`augment.seed: expected an integer, got ${describeValue(seed)}`);
  return { shift, seed };
}

function checkOneCycle(value: unknown): Required<OneCycle> {
  const { maxLr, pctStart = 0.25 } = plainObject("oneCycle", value, "{ maxLr: 0.003 } (and pctStart, default 0.25)", ["maxLr", "pctStart"]);
  if (typeof maxLr !== "number" || !(maxLr > 0) || !Number.isFinite(maxLr)) throw new RangeError(`oneCycle.maxLr: expected a finite number > 0, got ${describeValue(maxLr)}`);
  if (typeof pctStart !== "number" || !(pctStart > 0 && pctStart < 1)) throw new RangeError(`oneCycle.pctStart: expected a number between 0 and 1 (exclusive), got ${describeValue(pctStart)}`);
  return { maxLr, pctStart };
}

function checkLrDecay(value: unknown, epochs: number): LrDecay {
  const example = "{ factor: 0.5, every: 2 } (multiply lr by 0.5 every 2 epochs)";
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(`lrDecay: expected ${example}, got ${describeValue(value)}`);
  }
  const unknown = Object.keys(value).filter((key) => key !== "factor" && key !== "every");
  if (unknown.length > 0) throw new RangeError(`lrDecay: unknown key${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")}; expected ${example}`);
  const { factor, every } = value as Partial<LrDecay>;
  if (typeof factor !== "number" || !(factor > 0 && factor < 1)) {
    throw new RangeError(`lrDecay.factor: expected a number between 0 and 1 (exclusive), got ${describeValue(factor)}`);
  }
  positiveInteger("lrDecay.every", every, " (epochs)");
  if (every! >= epochs) {
    // Refused rather than ignored: the label would promise a schedule the run never applies.
    throw new RangeError(`lrDecay.every: ${every} epochs, but the run has ${epochs} epoch${epochs === 1 ? "" : "s"}: the learning rate would never change (use more epochs or a smaller every)`);
  }
  return { factor, every: every! };
}

function positiveInteger(name: string, value: unknown, or = ""): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    throw new RangeError(`${name}: expected a positive integer${or}, got ${describeValue(value)}`);
  }
  return value;
}
