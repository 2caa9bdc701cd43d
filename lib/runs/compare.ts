/**
 * Several runs that differ in one setting, or in a whole configuration: the notebooks' "what does the learning
 * rate do" cells in one line. `compare` turns a base run and what varies into a list of `RunSpec`s, each
 * labelled by what varies, and trains them with `trainAll` (in parallel on all cores).
 */
import type { Dataset } from "../data/data";
import { checkSpec, SPEC_KEYS, type AnyRunSpec, type CheckedSpec, type NetworkRunSpec, type RunSpec, type SpecFields } from "./spec";
import { trainAllChecked, type SweepOptions } from "./sweep";
import { checkDataset } from "../train/checks";
import { earlyStoppingLabel, scheduleLabel } from "../train/settings";
import type { AnyRun, Run } from "../train/loop";
import type { NetworkModel } from "../model/network-model";

/** A setting `compare` can vary: any key of a run but its label (`model`: networks to compare). */
export type VaryKey = Exclude<keyof SpecFields, "label">;

/**
 * What varies: exactly one setting with the values to try (`{ lr: [0.001, 0.5] }`, `{ seed: [0, 1, 2] }`,
 * `{ layers: [[784, 10], [784, 500, 10]] }`, `{ model: [lenet, bigger] }`), or whole configurations merged over the
 * base (`{ config: [{ layers: [784, 500, 10], optimizer: "adam" }, ...] }`).
 */
export type Vary = { [K in VaryKey]: { [P in K]: NonNullable<SpecFields[P]>[] } }[VaryKey] | { config: Partial<SpecFields>[] };

const VARY_KEYS: readonly string[] = [...SPEC_KEYS.filter((key) => key !== "label"), "config"];

/**
 * Train one fresh run per value of what varies, on top of `base`, and return them in that order. Runs are
 * labelled by their value ("lr 0.005", "adam", "batch 16", "seed 3", "init zeros", "784-500-10"; a configuration
 * by every key that varies across them: "784-500-500-10, adam 0.001, batch 64"), after `base.label` if there is
 * one. Varying `momentum` implies optimizer "momentum" unless the base names one. Every run is checked before
 * the first one trains.
 * A network's base (`{ model: net, ...settings }`) trains a copy of its initial numbers per run.
 * @example const byLr = await compare({ layers: [784, 10], batchSize: 16 }, { lr: [0.001, 0.005, 0.5, 50] }, data);
 */
export async function compare(base: Partial<NetworkRunSpec> & Pick<NetworkRunSpec, "model">, vary: Vary, data: Dataset, options?: SweepOptions<Run<NetworkModel>>): Promise<Run<NetworkModel>[]>;
export async function compare(base: Partial<RunSpec>, vary: Vary, data: Dataset, options?: SweepOptions): Promise<Run[]>;
export async function compare(base: Partial<SpecFields>, vary: Vary, data: Dataset, options?: SweepOptions<AnyRun>): Promise<AnyRun[]>;
export async function compare(
  base: Partial<SpecFields>, vary: Vary, data: Dataset, options: SweepOptions<AnyRun> | SweepOptions | SweepOptions<Run<NetworkModel>> = {},
): Promise<AnyRun[]> {
  if (typeof base !== "object" || base === null || Array.isArray(base)) {
    throw new TypeError(`compare: expected base to be a run such as { layers: [784, 10], batchSize: 16 }, got ${JSON.stringify(base)}`);
  }
  const checkedData = checkDataset(data);
  const [key, values] = singleVariation(vary);
  const variants: Partial<SpecFields>[] = key === "config" ? (values as Partial<SpecFields>[]) : values.map((value) => ({ [key]: value }));
  const varied = key === "config" ? variedKeys(variants) : [key];
  const specs = variants.map((variant, i): CheckedSpec => {
    const where = `vary.${key}[${i}]`;
    if (typeof variant !== "object" || variant === null || Array.isArray(variant)) {
      throw new TypeError(`${where}: expected a configuration such as { layers: [784, 500, 10], lr: 0.1 }, got ${JSON.stringify(variant)}`);
    }
    const spec = { ...base, ...variant } as Partial<SpecFields>;
    if (varied.includes("momentum") && base.optimizer === undefined && variant.optimizer === undefined) spec.optimizer = "momentum";
    if (spec.layers === undefined && spec.model === undefined) {
      throw new RangeError(`${where}: no layers: give them in base, e.g. { layers: [784, 10] } (or a network as { model }), or vary them`);
    }
    const checked = checkSpec(spec as AnyRunSpec, checkedData, where);
    const label = variant.label ?? describeVariant(checked, varied);
    return { ...checked, label: base.label ? `${base.label} ${label}` : label };
  });
  // The overloads pair each kind of base with its runs' callback.
  return trainAllChecked(specs, checkedData, options as SweepOptions<AnyRun>);
}

/**
 * Every combination of the given values, as configurations for `compare`'s `{ config }`; the first key varies
 * slowest, so runs of one value of it stay together in tables.
 * @example combinations({ lr: [0.5, 0.1], seed: [0, 1] }); // [{ lr: 0.5, seed: 0 }, { lr: 0.5, seed: 1 }, { lr: 0.1, seed: 0 }, { lr: 0.1, seed: 1 }]
 */
export function combinations(values: { [K in VaryKey]?: NonNullable<SpecFields[K]>[] }): Partial<SpecFields>[] {
  return Object.entries(values).reduce<Partial<SpecFields>[]>((configs, [key, options]) => {
    if (!VARY_KEYS.includes(key) || key === "config") throw new RangeError(`combinations: cannot vary ${key}; expected one of ${VARY_KEYS.slice(0, -1).join(", ")}`);
    if (!Array.isArray(options) || options.length === 0) {
      throw new RangeError(`combinations: ${key} needs a non-empty array of values, got ${JSON.stringify(options)}`);
    }
    return configs.flatMap((config) => options.map((value: unknown) => ({ ...config, [key]: value })));
  }, [{}]);
}

function singleVariation(vary: Vary): [VaryKey | "config", unknown[]] {
  if (typeof vary !== "object" || vary === null || Array.isArray(vary)) {
    throw new TypeError(`compare: expected vary to be an object such as { lr: [0.001, 0.01] }, got ${JSON.stringify(vary)}`);
  }
  const keys = Object.keys(vary);
  const unknown = keys.filter((key) => !VARY_KEYS.includes(key));
  if (unknown.length > 0) {
    throw new RangeError(`vary: cannot vary ${unknown.join(", ")}; expected one of ${VARY_KEYS.join(", ")}`);
  }
  if (keys.length !== 1) {
    throw new RangeError(
      `vary: expected exactly one setting to vary (one of ${VARY_KEYS.join(", ")}), got ${keys.length === 0 ? "none" : keys.join(" and ")}` +
        " (to vary several together, use { config: [{ ... }, ...] })",
    );
  }
  const key = keys[0] as VaryKey | "config";
  const values = (vary as Record<string, unknown>)[key];
  if (!Array.isArray(values) || values.length === 0) {
    throw new RangeError(`vary.${key}: expected a non-empty array of values, got ${JSON.stringify(values)}`);
  }
  return [key, values];
}

/** The keys any of the configurations sets, in the order a label names them. */
function variedKeys(configs: readonly Partial<SpecFields>[]): VaryKey[] {
  const set = new Set(configs.flatMap((config) => (config && typeof config === "object" ? Object.keys(config) : [])));
  return SPEC_KEYS.filter((key): key is VaryKey => key !== "label" && set.has(key));
}

function describeVariant(spec: CheckedSpec, varied: readonly VaryKey[]): string {
  const { init, seed, settings } = spec.resolved;
  const has = (key: VaryKey): boolean => varied.includes(key);
  const parts: string[] = [];
  if (has("layers") || has("model")) parts.push(spec.layers.join("-"));
  if (has("optimizer")) parts.push(has("lr") ? `${settings.optimizer} ${settings.lr}` : settings.optimizer);
  else if (has("lr")) parts.push(`lr ${settings.lr}`);
  if (has("momentum")) parts.push(`momentum ${settings.momentum}`);
  if (has("lrDecay")) {
    const decay = settings.lrDecay;
    parts.push(decay ? `lr ${scheduleLabel(decay)}` : "constant lr");
  }
  if (has("batchSize")) parts.push(`batch ${settings.batchSize}`);
  if (has("epochs")) parts.push(`${settings.epochs} epoch${settings.epochs === 1 ? "" : "s"}`);
  if (has("init")) parts.push(`init ${init}`);
  if (has("seed")) parts.push(`seed ${seed}`);
  if (has("shuffle")) parts.push(settings.shuffle ? "shuffled" : "in order");
  if (has("shuffleSeed")) parts.push(`shuffle seed ${settings.shuffleSeed}`);
  if (has("evalEvery")) parts.push(settings.evalEvery === null ? "no accuracy curve" : `accuracy every ${settings.evalEvery === "epoch" ? "epoch" : `${settings.evalEvery} step${settings.evalEvery === 1 ? "" : "s"}`}`);
  if (has("evalOn") && typeof settings.evalOn === "object" && settings.evalOn !== null) parts.push(`holdout ${settings.evalOn.holdout}`);
  if (has("earlyStopping")) parts.push(settings.earlyStopping ? earlyStoppingLabel(settings.earlyStopping) : "no early stopping");
  if (has("weightDecay")) parts.push(`wd ${settings.weightDecay}`);
  if (has("normalize")) parts.push(settings.normalize ? `normalised (${settings.normalize.mean}, ${settings.normalize.std})` : "pixel / 255");
  if (has("augment")) parts.push(settings.augment ? `shift ±${settings.augment.shift}${settings.augment.seed ? ` seed ${settings.augment.seed}` : ""}` : "no shifts");
  if (has("oneCycle")) parts.push(settings.oneCycle ? `one-cycle to ${settings.oneCycle.maxLr}` : has("lr") ? "" : `constant lr ${settings.lr}`);
  return parts.filter((part) => part !== "").join(", ");
}
