/**
 * Several runs that differ in exactly one setting: the notebooks' "what does the learning rate do" cells.
 * Every run trains a fresh model from `makeModel`, one after another, and is labelled by its value.
 */
import type { Dataset } from "./data";
import { INITS, type Init, type Model } from "./model";
import { resolveSettings, train, type Progress, type Run, type TrainOptions } from "./train";

/** The settings `compare` can vary, each with the values to try. */
export interface Variation {
  lr?: number[];
  optimizer?: TrainOptions["optimizer"][];
  batchSize?: number[];
  momentum?: number[];
  /** Passed to `makeModel(init)`, which must build the model with it. */
  init?: Init[];
}

/** Options of `compare`. */
export interface CompareOptions {
  /** Progress of the run in flight (its `label` says which). Overrides `base.onProgress`. */
  onProgress?: (progress: Progress) => void;
  /** Called after each run finishes, e.g. to update a table. */
  onRun?: (run: Run, index: number) => void;
}

const VARIED = ["lr", "optimizer", "batchSize", "momentum", "init"] as const;
type Varied = (typeof VARIED)[number];

/**
 * Train one run per value of the single varied setting, on fresh models. Runs are labelled by their value
 * ("lr 0.001", "adam", "batch 16", "momentum 0.5", "init zeros"), after `base.label` if there is one.
 * `makeModel` receives the init being tried when `init` varies (and `undefined` otherwise), so write
 * `(init) => mlp([784, 10], { init })` for that.
 * @example const byLr = await compare(() => mlp([784, 10]), data, { batchSize: 16 }, { lr: [0.001, 0.005, 0.5, 50] });
 */
export async function compare(
  makeModel: (init?: Init) => Model,
  data: Dataset,
  base: TrainOptions,
  vary: Variation,
  options: CompareOptions = {},
): Promise<Run[]> {
  if (typeof makeModel !== "function") {
    throw new TypeError("compare: expected makeModel to be a function returning a fresh model, e.g. () => mlp([784, 10])");
  }
  const [key, values] = singleVariation(vary);
  if (key === "init") {
    const bad = values.find((value) => !(INITS as readonly unknown[]).includes(value));
    if (bad !== undefined) throw new RangeError(`vary.init: expected values among ${INITS.join(", ")}; got ${JSON.stringify(bad)}`);
  }
  const runOptions = values.map((value): TrainOptions => {
    const settings: TrainOptions = key === "init" ? { ...base } : { ...base, [key]: value };
    if (key === "momentum" && settings.optimizer === undefined) settings.optimizer = "momentum";
    settings.label = base.label ? `${base.label} ${labelFor(key, value)}` : labelFor(key, value);
    settings.onProgress = options.onProgress ?? base.onProgress;
    return settings;
  });
  // Check every run's settings before the first one trains, so a bad last value does not waste the others.
  runOptions.forEach((settings) => resolveSettings(settings));

  const runs: Run[] = [];
  for (const [index, settings] of runOptions.entries()) {
    const init = key === "init" ? (values[index] as Init) : undefined;
    const run = await train(() => buildModel(makeModel, init), data, settings);
    runs.push(run);
    options.onRun?.(run, index);
  }
  return runs;
}

function singleVariation(vary: Variation): [Varied, unknown[]] {
  if (typeof vary !== "object" || vary === null) {
    throw new TypeError(`compare: expected vary to be an object such as { lr: [0.001, 0.01] }, got ${String(vary)}`);
  }
  const keys = Object.keys(vary);
  const unknown = keys.filter((key) => !(VARIED as readonly string[]).includes(key));
  if (unknown.length > 0) {
    throw new RangeError(`vary: cannot vary ${unknown.join(", ")}; expected one of ${VARIED.join(", ")}`);
  }
  if (keys.length !== 1) {
    throw new RangeError(
      `vary: expected exactly one setting to vary (one of ${VARIED.join(", ")}), got ${keys.length === 0 ? "none" : keys.join(" and ")}`,
    );
  }
  const key = keys[0] as Varied;
  const values = vary[key];
  if (!Array.isArray(values) || values.length === 0) {
    throw new RangeError(`vary.${key}: expected a non-empty array of values, got ${JSON.stringify(values)}`);
  }
  return [key, values];
}

function buildModel(makeModel: (init?: Init) => Model, init: Init | undefined): Model {
  const model = makeModel(init);
  if (init !== undefined && model.init !== init) {
    model.dispose();
    throw new Error(
      `compare: vary.init asked for init "${init}" but makeModel built one with init "${model.init}": ` +
        "pass the init through, e.g. (init) => mlp([784, 10], { init })",
    );
  }
  return model;
}

function labelFor(key: Varied, value: unknown): string {
  switch (key) {
    case "lr":
      return `lr ${String(value)}`;
    case "optimizer":
      return String(value);
    case "batchSize":
      return `batch ${String(value)}`;
    case "momentum":
      return `momentum ${String(value)}`;
    case "init":
      return `init ${String(value)}`;
  }
}
