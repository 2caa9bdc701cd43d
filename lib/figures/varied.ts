/**
 * Which settings a set of runs varies: what the live view of a sweep lays its landscape out by, and what the
 * parallel-coordinates chart draws an axis for.
 */
import type { ExploreRun } from "./explore-grid";

/** Settings a run can vary, in the order charts name them: the model's, then training's. */
const CANDIDATES = [
  "layers", "init", "seed", "optimizer", "lr", "momentum", "batchSize", "epochs", "lrDecay", "shuffle", "shuffleSeed", "evalEvery",
  "evalOn", "earlyStopping",
] as const;

/** One setting that varies: its key and each run's value of it (a number where every run has a number). */
export interface VariedSetting {
  key: string;
  /** Each run's value, in the runs' order: numbers, or text ("784-500-10", "adam", "×0.5 every epoch", "none"). */
  values: (number | string)[];
  numeric: boolean;
}

/**
 * The settings whose value differs between `runs`: `settings[key]` or the run's own `layers`, `seed`, `init`.
 * Layer lists read "784-500-10", objects (a schedule, a holdout, early stopping) as compact JSON, absent ones "none".
 * @example variedSettings(landscape).map((setting) => setting.key); // ["lr", "batchSize"]
 */
export function variedSettings(runs: readonly Pick<ExploreRun, "settings" | "layers" | "seed" | "init">[]): VariedSetting[] {
  const found: VariedSetting[] = [];
  for (const key of CANDIDATES) {
    const values = runs.map((run) => valueOf(run, key));
    if (new Set(values.map((value) => JSON.stringify(value))).size < 2) continue;
    const numeric = values.every((value) => typeof value === "number");
    found.push({ key, values: numeric ? values : values.map(String), numeric });
  }
  return found;
}

function valueOf(run: Pick<ExploreRun, "settings" | "layers" | "seed" | "init">, key: string): number | string {
  const settings = (run.settings ?? {}) as Record<string, unknown>;
  const value = key in settings ? settings[key] : (run as Record<string, unknown>)[key];
  if (value === undefined || value === null) return "none";
  if (Array.isArray(value)) return value.join("-");
  if (typeof value === "number" || typeof value === "string") return value;
  if (typeof value === "boolean") return String(value);
  return JSON.stringify(value).replace(/"/g, "");
}

/**
 * The one or two settings a landscape of these runs is drawn by: of those that vary, numeric ones with the most
 * values first (the x axis), then the others; null when none or more than two vary.
 * @example landscapeAxes(runsOfLrTimesBatch); // ["lr", "batchSize"]
 */
export function landscapeAxes(runs: readonly Pick<ExploreRun, "settings" | "layers" | "seed" | "init">[]): [string] | [string, string] | null {
  const varied = variedSettings(runs);
  if (varied.length === 0 || varied.length > 2) return null;
  const count = (setting: VariedSetting): number => new Set(setting.values).size;
  const sorted = [...varied].sort((a, b) => Number(b.numeric) - Number(a.numeric) || count(b) - count(a));
  return sorted.map((setting) => setting.key) as [string] | [string, string];
}
