/**
 * Parallel coordinates over a set of runs, as Optuna's and W&B's sweep views: one vertical axis per setting that
 * varies and one for test accuracy, one line per run coloured by its accuracy, and beside it how much of the
 * accuracy's spread each setting explains on its own (η²). Drawn as SVG, not Plotly: the pinned cartesian bundle
 * has no `parcoords` trace, the full bundle would add 3.3 MB to every report and draws `parcoords` with WebGL. The
 * brushing (drag along an axis to keep the runs in a range) is a page script beside it (`show/parallel-script`).
 * Pure: plain runs in, an HTML string out.
 */
import { etaSquared } from "../math/metrics";
import { asList } from "./check";
import type { ExploreRun } from "./explore-grid";
import { formatValue } from "./explore-grid";
import { escapeHtml } from "./text";
import { variedSettings, type VariedSetting } from "./varied";

/**
 * A run as the parallel-coordinates chart reads it: its label, test accuracy and settings (a `Run`, a `LoadedRun`
 * or a plain object).
 * @example const run: ParallelRun = { label: "adam 0.001", accuracy: 97.1, settings: { optimizer: "adam", lr: 0.001, batchSize: 64 } };
 */
export type ParallelRun = Pick<ExploreRun, "label" | "accuracy" | "settings" | "layers" | "seed" | "init">;

/**
 * Options of `parallelFigure`.
 * @example const options: ParallelOptions = { title: "Every run of the notebook" };
 */
export interface ParallelOptions {
  title?: string;
}

/**
 * How much of the accuracy's spread one setting explains.
 * @example const top: SettingShare = settingShares(runs)[0]!; console.log(`${top.key}: η² ${top.share.toFixed(2)}`);
 */
export interface SettingShare {
  key: string;
  /** η² over the runs that were evaluated (NaN when their accuracy does not vary). */
  share: number;
  /** Distinct values of the setting among them. */
  values: number;
}

const WIDTH = 860;
const TOP = 56;
const PLOT = 280;
const BOTTOM = 20;
/** Room left of the first axis for its tick labels ("784-500-500-10"), and right of the last. */
const LEFT = 120;
const RIGHT = 60;
const DIVERGED_GAP = 22;
/** Viridis, as the heatmaps colour accuracy: low dark purple, high yellow. */
const VIRIDIS = ["#440154", "#482878", "#3e4989", "#31688e", "#26828e", "#1f9e89", "#35b779", "#6ece58", "#b5de2b", "#fde725"];

/**
 * The share of the spread of test accuracy each varied setting explains on its own: η², grouping the evaluated
 * runs by the setting's value (one-way ANOVA's effect size), largest first.
 * @example settingShares(runs)[0]; // { key: "lr", share: 0.71, values: 5 }
 */
export function settingShares(runs: readonly ParallelRun[]): SettingShare[] {
  const evaluated = runs.filter((run) => Number.isFinite(run.accuracy));
  const accuracies = evaluated.map((run) => run.accuracy);
  return variedSettings(evaluated)
    .map((setting) => ({ key: setting.key, share: etaSquared(accuracies, setting.values), values: new Set(setting.values).size }))
    .sort((a, b) => (Number.isNaN(b.share) ? -1 : b.share) - (Number.isNaN(a.share) ? -1 : a.share));
}

/**
 * Parallel coordinates of `runs` over every setting that varies among them, coloured by test accuracy, with a
 * table of each setting's η² beside it; diverged runs are grey, under the accuracy axis. Brushing needs the page
 * script `show.parallel` adds.
 * @example show.html(parallelFigure([...byLr, ...runs])); // show.parallel adds the brushing
 */
export function parallelFigure(runs: ParallelRun | readonly ParallelRun[], options: ParallelOptions = {}): string {
  const list = asList(runs, "parallelFigure: runs");
  list.forEach((run, i) => {
    if (!run || typeof run !== "object" || typeof run.label !== "string" || typeof run.accuracy !== "number") {
      throw new TypeError(`parallelFigure: runs[${i}]: expected a run { label, accuracy, settings }, got ${run === null ? "null" : typeof run}`);
    }
  });
  const varied = variedSettings(list);
  if (varied.length === 0) {
    throw new RangeError(`parallelFigure: runs: no setting varies among these ${list.length} runs; pass runs that differ in at least one setting`);
  }
  const axes = [...varied.map(settingAxis), accuracyAxis(list)];
  const step = (WIDTH - LEFT - RIGHT) / (axes.length - 1);
  const xOf = (k: number): number => LEFT + k * step;
  const height = TOP + PLOT + (list.some((run) => !Number.isFinite(run.accuracy)) ? DIVERGED_GAP : 0) + BOTTOM;
  const measured = list.map((run) => run.accuracy).filter(Number.isFinite);
  const [low, high] = [Math.min(...measured), Math.max(...measured)];
  // Best runs last, so they are drawn on top.
  const order = list.map((_, i) => i).sort((a, b) => orderKey(list[a]!) - orderKey(list[b]!));
  const lines = order.map((r) => {
    const run = list[r]!;
    const ys = axes.map((axis) => axis.y(r));
    const points = ys.map((y, k) => `${k === 0 ? "M" : "L"}${xOf(k).toFixed(1)},${y.toFixed(1)}`).join(" ");
    const finite = Number.isFinite(run.accuracy);
    const colour = finite ? viridis(high > low ? (run.accuracy - low) / (high - low) : 1) : "#999";
    const title = `${run.label}: ${finite ? `${run.accuracy.toFixed(2)}% test accuracy` : "diverged (not evaluated)"}`;
    return `<path class="mie-pc-line" d="${points}" data-y="${ys.map((y) => y.toFixed(1)).join(",")}" fill="none" stroke="${colour}" ` +
      `stroke-width="1.6" stroke-opacity="0.85"${finite ? "" : ' stroke-dasharray="4 3"'}><title>${escapeHtml(title)}</title></path>`;
  });
  const axisMarks = axes.map((axis, k) => {
    const x = xOf(k);
    const ticks = axis.ticks.map((tick) =>
      `<line x1="${x - 4}" x2="${x}" y1="${tick.y.toFixed(1)}" y2="${tick.y.toFixed(1)}" stroke="#444"/>` +
      `<text x="${x - 7}" y="${(tick.y + 4).toFixed(1)}" text-anchor="end" font-size="11" fill="#2a3f5f">${escapeHtml(tick.label)}</text>`).join("");
    return `<g><line x1="${x}" x2="${x}" y1="${TOP}" y2="${TOP + PLOT}" stroke="#444" stroke-width="1.2"/>${ticks}` +
      `<text x="${x}" y="${TOP - 14}" text-anchor="middle" font-size="12" font-weight="bold" fill="#2a3f5f">${escapeHtml(axis.title)}</text>` +
      `<rect class="mie-pc-brush" data-axis="${k}" x="${x - 7}" width="14" y="0" height="0" fill="rgba(214,39,40,0.18)" stroke="#d62728" visibility="hidden"/>` +
      `<rect class="mie-pc-axis" data-axis="${k}" x="${x - 12}" width="24" y="${TOP - 6}" height="${PLOT + DIVERGED_GAP + 12}" fill="transparent" style="cursor:crosshair"/></g>`;
  }).join("");
  const diverged = list.length - measured.length;
  const title = options.title ?? "Every setting that varies, and test accuracy";
  const subtitle = `${list.length} runs${diverged ? ` (${diverged} diverged: grey, dashed)` : ""} · colour: test accuracy ` +
    `${measured.length ? `${low.toFixed(1)}% (purple) to ${high.toFixed(1)}% (yellow)` : ""} · drag along an axis to keep the runs in a range; click an axis to clear it`;
  const svg =
    `<svg class="mie-pc-svg" viewBox="0 0 ${WIDTH} ${height}" width="100%" style="max-width:${WIDTH}px;font-family:sans-serif" xmlns="http://www.w3.org/2000/svg">` +
    `${lines.join("")}${axisMarks}</svg>`;
  return (
    `<div class="mie-parallel" data-mie-runs="${list.length}">` +
    `<div style="font-family:sans-serif;font-size:17px;color:#2a3f5f;margin:4px 0">${escapeHtml(title)}</div>` +
    `<div style="font-family:sans-serif;font-size:12px;color:#667">${escapeHtml(subtitle)}</div>` +
    `${svg}<div class="mie-pc-status" style="font-family:monospace;color:#667;padding:2px 0">all ${list.length} runs shown</div>` +
    `${sharesTable(settingShares(list), measured.length)}</div>`
  );
}

interface Axis {
  title: string;
  /** The vertical position of run r on this axis. */
  y(r: number): number;
  ticks: { y: number; label: string }[];
}

function settingAxis(setting: VariedSetting): Axis {
  const distinct = setting.numeric
    ? [...new Set(setting.values as number[])].sort((a, b) => a - b)
    : [...new Set(setting.values.map(String))];
  const bottom = TOP + PLOT;
  if (setting.numeric && distinct.length > 1) {
    const numbers = distinct as number[];
    const log = numbers[0]! > 0 && numbers[numbers.length - 1]! / numbers[0]! >= 10;
    const at = (v: number): number => (log ? Math.log10(v) : v);
    const [lo, hi] = [at(numbers[0]!), at(numbers[numbers.length - 1]!)];
    const y = (v: number): number => bottom - ((at(v) - lo) / (hi - lo)) * PLOT;
    const shown = numbers.length <= 10 ? numbers : numbers.filter((_, i) => i % Math.ceil(numbers.length / 8) === 0);
    return {
      title: `${setting.key}${log ? " (log)" : ""}`,
      y: (r) => y(setting.values[r] as number),
      ticks: shown.map((v) => ({ y: y(v), label: formatValue(v) })),
    };
  }
  const labels = distinct.map(String);
  const y = (label: string): number => (labels.length === 1 ? TOP + PLOT / 2 : bottom - (labels.indexOf(label) / (labels.length - 1)) * PLOT);
  return { title: setting.key, y: (r) => y(String(setting.values[r])), ticks: labels.map((label) => ({ y: y(label), label })) };
}

function accuracyAxis(runs: readonly ParallelRun[]): Axis {
  const measured = runs.map((run) => run.accuracy).filter(Number.isFinite);
  const bottom = TOP + PLOT;
  const lo = measured.length ? Math.min(...measured) : 0;
  const hi = measured.length ? Math.max(...measured) : 100;
  const y = (v: number): number => (hi > lo ? bottom - ((v - lo) / (hi - lo)) * PLOT : TOP + PLOT / 2);
  const ticks = hi > lo ? Array.from({ length: 5 }, (_, i) => lo + ((hi - lo) * i) / 4).map((v) => ({ y: y(v), label: `${v.toFixed(1)}%` })) : [{ y: y(lo), label: `${lo.toFixed(1)}%` }];
  const diverged = runs.some((run) => !Number.isFinite(run.accuracy));
  return {
    title: "test accuracy",
    y: (r) => (Number.isFinite(runs[r]!.accuracy) ? y(runs[r]!.accuracy) : bottom + DIVERGED_GAP),
    ticks: diverged ? [...ticks, { y: bottom + DIVERGED_GAP, label: "diverged" }] : ticks,
  };
}

function orderKey(run: ParallelRun): number {
  return Number.isFinite(run.accuracy) ? run.accuracy : -Infinity;
}

function viridis(t: number): string {
  const clamped = Math.min(1, Math.max(0, t));
  return VIRIDIS[Math.round(clamped * (VIRIDIS.length - 1))]!;
}

function sharesTable(shares: readonly SettingShare[], evaluated: number): string {
  const rows = shares.map(({ key, share, values }) => {
    const width = Number.isFinite(share) ? Math.round(share * 200) : 0;
    return `<tr><td style="text-align:left;padding:1px 8px">${escapeHtml(key)}</td><td style="text-align:right;padding:1px 8px">${values}</td>` +
      `<td style="text-align:right;padding:1px 8px">${Number.isFinite(share) ? share.toFixed(2) : "—"}</td>` +
      `<td style="padding:1px 8px"><div style="background:#35b779;height:10px;width:${width}px"></div></td></tr>`;
  }).join("");
  return (
    `<div style="font-family:sans-serif;font-size:13px;color:#2a3f5f;max-width:${WIDTH}px;margin-top:6px">How much of test accuracy's spread each setting explains on its own: ` +
    `η² (one-way ANOVA), the variance between the groups of runs that share the setting's value over the total variance, over the ` +
    `${evaluated} evaluated runs. Settings that vary together in these runs share their η² (it does not add up to 1 across settings).</div>` +
    `<table class="mie-pc-shares" style="font-family:sans-serif;font-size:13px;border-collapse:collapse;margin-top:4px"><thead><tr><th style="text-align:left;padding:1px 8px">setting</th><th style="padding:1px 8px">values</th><th style="padding:1px 8px">η²</th><th></th></tr></thead>` +
    `<tbody>${rows}</tbody></table>`
  );
}
