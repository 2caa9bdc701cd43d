/**
 * The grid behind the explorer: which setting values a set of runs covers, where each run sits, and where each
 * cell's edges lie on the chart's axes (log10 of the value where the values span decades).
 */
import { kindOf } from "./check";
import type { TrainSettings } from "../train/settings";
import type { LossSeries } from "./runs";

/**
 * What the explorer reads of a run: its loss curve, its test accuracy and the settings it varies (a `Run`, a
 * `LoadedRun`, or a plain object).
 * @example const cell: ExploreRun = { label: "lr 0.5", losses: [2.3, 0.4], accuracy: 91.2, settings: { lr: 0.5 } };
 */
export type ExploreRun = Omit<LossSeries, "settings"> & {
  /** Percent of the test images correct; NaN for a diverged run. */
  accuracy: number;
  /** A run's settings (`lr`, `batchSize`, `optimizer`, …), which `by` names; `batchSize` also scales the x axis. */
  settings?: TrainSettings | Readonly<Record<string, unknown>>;
  /** An MLP's sizes, or a network's layers by short name. */
  layers?: readonly (number | string)[];
  seed?: number;
  init?: string;
};

/** One varied setting: its sorted values and where they sit on the chart's axis. */
export interface GridAxis {
  key: string;
  values: (number | string)[];
  /** Tick labels, e.g. "0.005", "1e-4", "sgd". */
  labels: string[];
  /** Cell centres on the axis: log10(value) on a log axis, the value on a linear one, the index for text. */
  centres: number[];
  /** The n + 1 cell edges (half-way between centres; the outer ones as far out as their neighbour's half gap). */
  edges: number[];
  log: boolean;
}

/** The runs laid out on one or two axes; `cells[i + columns * j]` is the index of the run at (x value i, y value j). */
export interface Grid {
  x: GridAxis;
  /** Absent when one setting varies. */
  y?: GridAxis;
  cells: (number | null)[];
}

/**
 * A run's value of a setting: `settings[key]` (lr, batchSize, optimizer, …) or the run's own `layers`, `seed`,
 * `init`. Layer lists read as "784-500-10".
 * @example settingValue(run, "lr"); // 0.5
 */
export function settingValue(run: ExploreRun, key: string, where: string): number | string {
  const fromSettings = run.settings && typeof run.settings === "object" ? (run.settings as Record<string, unknown>)[key] : undefined;
  const value = fromSettings !== undefined ? fromSettings : (run as unknown as Record<string, unknown>)[key];
  if (Array.isArray(value) && value.every((n) => typeof n === "number")) return value.join("-");
  if ((typeof value === "number" && Number.isFinite(value)) || typeof value === "string") return value;
  throw new TypeError(`${where}: has no usable value of "${key}" (expected a finite number or a string in run.settings.${key} or run.${key}), got ${kindOf(value)}`);
}

/**
 * Lay `runs` out by the settings `by` names: one cell per combination, at most one run per cell.
 * @example gridOf(runs, ["lr", "batchSize"]).x.labels; // ["1e-4", "2e-4", …, "50"]
 */
export function gridOf(runs: readonly ExploreRun[], by: readonly string[]): Grid {
  const values = runs.map((run, i) => by.map((key) => settingValue(run, key, `exploreFigure: runs[${i}] (${JSON.stringify(run.label)})`)));
  const axes = by.map((key, k) => axisOf(key, values.map((v) => v[k]!)));
  const [x, y] = axes as [GridAxis, GridAxis | undefined];
  const columns = x.values.length;
  const cells: (number | null)[] = new Array(columns * (y?.values.length ?? 1)).fill(null);
  values.forEach((v, r) => {
    const cell = x.values.indexOf(v[0]!) + columns * (y ? y.values.indexOf(v[1]!) : 0);
    const other = cells[cell];
    if (other !== null && other !== undefined) {
      throw new RangeError(
        `exploreFigure: runs[${other}] (${JSON.stringify(runs[other]!.label)}) and runs[${r}] (${JSON.stringify(runs[r]!.label)}) ` +
          `both have ${by.map((key, k) => `${key} ${v[k]}`).join(", ")}: the explorer draws one run per cell; ` +
          `vary at most the settings named in "by", or filter the runs first`,
      );
    }
    cells[cell] = r;
  });
  return y ? { x, y, cells } : { x, cells };
}

function axisOf(key: string, seen: (number | string)[]): GridAxis {
  const numeric = seen.every((v) => typeof v === "number");
  const values = numeric
    ? [...new Set(seen as number[])].sort((a, b) => a - b)
    : [...new Set(seen.map(String))];
  const numbers = values as number[];
  const log = numeric && numbers[0]! > 0 && numbers[numbers.length - 1]! / numbers[0]! >= 10;
  const centres = numeric ? numbers.map((v) => (log ? Math.log10(v) : v)) : values.map((_, i) => i);
  return { key, values, labels: values.map((v) => (typeof v === "number" ? formatValue(v) : v)), centres, edges: edgesOf(centres), log };
}

/** Cell edges as Plotly draws a heatmap's bricks: half-way between centres, the outer ones mirrored. */
function edgesOf(centres: number[]): number[] {
  if (centres.length === 1) return [centres[0]! - 0.5, centres[0]! + 0.5];
  const mids = centres.slice(1).map((c, i) => (c + centres[i]!) / 2);
  const first = centres[0]! - (mids[0]! - centres[0]!);
  const last = centres[centres.length - 1]! + (centres[centres.length - 1]! - mids[mids.length - 1]!);
  return [first, ...mids, last];
}

/**
 * A setting's value as a short label: 0.005, 1e-4, 50, 1000.
 * @example formatValue(0.0001); // "1e-4"
 */
export function formatValue(value: number): string {
  if (value !== 0 && (Math.abs(value) < 0.001 || Math.abs(value) >= 1e6)) {
    const [mantissa, exponent] = value.toExponential().split("e");
    return `${Number(Number(mantissa).toPrecision(3))}e${Number(exponent)}`;
  }
  return String(Number(value.toPrecision(4)));
}
