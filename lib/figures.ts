/**
 * Charts and tables from training results: plain data in, a Plotly figure (or an HTML string) out.
 * Pure on purpose: no tslab, no tfjs, so every chart can be built and tested in plain Node; `show` displays them.
 * Every caller-given text (run labels, titles, class names) is escaped, because Plotly renders a subset of HTML in
 * titles, legends and annotations (`plotlyText`), and the results table is HTML (`escapeHtml`).
 */
import type { Annotation, ColorScale, Config, Data, Layout, Shape } from "plotly.js-dist-min";
import type { ReferenceRow } from "./reference";
import { finalAverage, movingAverage } from "./metrics";

/** A Plotly figure, ready for `Plotly.newPlot(div, data, layout, config)` (or `show.figure`). */
export interface Figure {
  data: Data[];
  layout: Partial<Layout>;
  config: Partial<Config>;
}

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
  /** Set when the loss became non-finite: `step` (1-based) is the step whose loss was the first NaN/Infinity. */
  diverged?: { step: number } | null;
}

/** A finished run as `train` reports it (only the plain numbers and arrays are read). */
export interface RunResult extends LossSeries {
  steps: number;
  seconds: number;
  /** Test accuracy in percent. */
  accuracy: number;
  /** Test accuracy of each class in percent. */
  perClassAccuracy?: ArrayLike<number>;
  /** Test images counted by true class (rows) and predicted class (columns). */
  confusion?: ArrayLike<ArrayLike<number>>;
}

/**
 * A dense layer's parameters, tfjs layout: the kernel is row-major `[inputs][outputs]`. `model.weights(layer)`
 * returns one; plain objects with number arrays work too.
 */
export interface LayerWeightsLike {
  /** `[inputs, outputs]`. */
  shape: readonly number[];
  /** Value for input i and unit j at `i * outputs + j`. */
  kernel: ArrayLike<number>;
  bias: ArrayLike<number>;
}

/** One labelled set of weights, for comparing settings one above the other. */
export interface WeightSet {
  label: string;
  weights: LayerWeightsLike;
}

/** Images with their labels, e.g. a dataset split (`{ images, labels, rows, cols }`). */
export interface LabelledImages {
  /** `count * rows * cols` pixel values, 0–255 (or 0–1), row-major. */
  images: ArrayLike<number>;
  labels: ArrayLike<number>;
  rows?: number;
  cols?: number;
}

/** One progress report from a running training (what `show.live` receives). */
export interface TrainingProgress {
  label: string;
  step: number;
  totalSteps: number;
  /** Images per step (the last batch of an epoch may be shorter). */
  batchSize?: number;
  samplesSeen: number;
  seconds: number;
  samplesPerSecond: number;
  /** Latest smoothed loss. */
  loss: number;
  losses: ArrayLike<number>;
  done: boolean;
}

/** Plotly's default colour cycle (D3 category10), spelled out so a run's marker can share its line's colour. */
const RUN_COLOURS = [
  "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
];
const WRONG = "#d62728";
const TEXT = "#2a3f5f";

/**
 * Escape text for HTML (the results table, status lines), so a label such as `<script>` shows as text.
 * @example escapeHtml("a<b & c"); // "a&lt;b &amp; c"
 */
export function escapeHtml(text: unknown): string {
  return String(text)
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

/**
 * Escape text for Plotly's titles, legends, hover labels and annotations. Plotly renders a few HTML-like tags there
 * (`<b>`, `<br>`, `<a href>`…) and decodes only some entities (`&quot;` would show literally), so exactly `&`, `<`
 * and `>` are escaped.
 * @example plotlyText("<b>lr</b> & co"); // "&lt;b&gt;lr&lt;/b&gt; &amp; co"
 */
export function plotlyText(text: unknown): string {
  return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Points chosen for display, with how many original points each bucket of them stands for. */
export interface Downsampled {
  x: number[];
  y: (number | null)[];
  /** Original points per bucket (1 = nothing dropped). */
  bucket: number;
}

/**
 * Thin a long curve for display: at most `maxPoints` points, keeping the min and the max of each bucket in order
 * (so spikes and the band of a noisy batch-1 curve survive, which plain striding would lose). Non-finite values
 * become `null` (a gap in the line), one per bucket that has any. The first and last points are always kept.
 * @example downsample([1, 2, 3, 4, 5, 6], [5, 1, 4, 2, 6, 3], 4).y; // [5, 1, 6, 3]
 */
export function downsample(x: ArrayLike<number>, y: ArrayLike<number>, maxPoints = 2000): Downsampled {
  assertArrayLike(x, "x");
  assertArrayLike(y, "y");
  if (x.length !== y.length) throw new RangeError(`downsample: x has ${x.length} values but y has ${y.length}`);
  if (!Number.isInteger(maxPoints) || maxPoints < 3) {
    throw new RangeError(`downsample: maxPoints must be an integer >= 3, got ${maxPoints}`);
  }
  const n = y.length;
  if (n <= maxPoints) {
    return { x: Array.from(x), y: Array.from(y, (v) => (Number.isFinite(v) ? v : null)), bucket: 1 };
  }
  // A bucket gives up to 3 points (min, max, a gap), plus the very first and last points so the line spans the
  // whole run: (maxPoints - 2) / 3 buckets keep the promise.
  const bucket = Math.ceil(n / Math.floor((maxPoints - 2) / 3));
  const out: Downsampled = { x: [], y: [], bucket };
  for (let start = 0; start < n; start += bucket) {
    const end = Math.min(n, start + bucket);
    let lo = -1;
    let hi = -1;
    let gap = -1;
    for (let i = start; i < end; i++) {
      const v = y[i]!;
      if (!Number.isFinite(v)) {
        if (gap < 0) gap = i;
      } else {
        if (lo < 0 || v < y[lo]!) lo = i;
        if (hi < 0 || v > y[hi]!) hi = i;
      }
    }
    const ends = [start === 0 ? 0 : -1, end === n ? n - 1 : -1];
    const keep = [...new Set([lo, hi, gap, ...ends].filter((i) => i >= 0))].sort((a, b) => a - b);
    for (const i of keep) {
      out.x.push(x[i]!);
      out.y.push(Number.isFinite(y[i]) ? y[i]! : null);
    }
  }
  return out;
}

/** Options for `lossFigure`. */
export interface LossFigureOptions {
  /** "steps" (default): one point per optimizer step. "samples": step × batchSize, so batch sizes compare. */
  x?: "steps" | "samples";
  /** Moving-average window in steps; 10 (default) as the original; 1 plots raw losses. */
  smooth?: number;
  title?: string;
  /** Log y axis: keeps curves apart when one run's loss is orders of magnitude larger. */
  logY?: boolean;
  /** Display budget per run (default 2000); longer curves are thinned by `downsample`. */
  maxPoints?: number;
  /** Fix the x axis to [0, xMax] (a live chart that grows towards its total). */
  xMax?: number;
  /** Chart height in pixels (default 420). */
  height?: number;
}

/**
 * Loss per step as the original plots it: the 10-step trailing moving average, one line per run with a legend.
 * The first 9 points average the losses seen so far (1, 2, … 9) rather than being dropped, so the curve starts at
 * step 1 and short runs (batch 1000: 60 steps) keep every step; from step 10 on it is the original's curve. Runs
 * longer than `maxPoints` are thinned for display only (min/max per bucket; the subtitle and hover say so).
 * A NaN/Infinity makes the windows containing it a gap; a diverged run ends with an × at its last finite value.
 * @example show.figure(lossFigure([runA, runB], { x: "samples", title: "Batch size" }));
 */
export function lossFigure(runs: LossSeries | readonly LossSeries[], options: LossFigureOptions = {}): Figure {
  const list = asList(runs, "lossFigure: runs");
  const xMode = options.x ?? "steps";
  if (xMode !== "steps" && xMode !== "samples") {
    throw new RangeError(`lossFigure: options.x must be "steps" or "samples", got ${JSON.stringify(options.x)}`);
  }
  const smooth = options.smooth ?? 10;
  if (!Number.isInteger(smooth) || smooth < 1) {
    throw new RangeError(`lossFigure: options.smooth must be an integer >= 1 (steps), got ${options.smooth}`);
  }
  const maxPoints = options.maxPoints ?? 2000;
  const data: Data[] = [];
  const legend: string[] = [];
  let thinned = false;
  list.forEach((run, index) => {
    const where = `lossFigure: runs[${index}] (${JSON.stringify(run?.label)})`;
    assertSeries(run, where);
    let scale = 1;
    if (xMode === "samples") {
      const batchSize = run.batchSize ?? run.settings?.batchSize;
      if (!(typeof batchSize === "number" && batchSize > 0)) {
        throw new RangeError(`${where}: x: "samples" needs a positive batchSize, got ${batchSize}`);
      }
      scale = batchSize;
    }
    const colour = RUN_COLOURS[index % RUN_COLOURS.length]!;
    const smoothed = movingAverage(run.losses, smooth);
    const xs = Float64Array.from({ length: smoothed.length }, (_, i) => (i + 1) * scale);
    const shown = downsample(xs, smoothed, maxPoints);
    thinned ||= shown.bucket > 1;
    const divergedAt = divergedStep(run);
    const diverged = divergedAt !== null ? ` (diverged at step ${fmtInt(divergedAt)})` : "";
    const name = plotlyText(run.label) + diverged;
    legend.push(run.label + diverged);
    const detail = shown.bucket > 1 ? `<br>min/max of ${shown.bucket} steps (display only)` : "";
    data.push({
      type: "scatter",
      mode: "lines",
      name,
      legendgroup: `run${index}`,
      legendrank: index + 1,
      x: shown.x,
      y: shown.y.map((v) => (v === null ? null : round(v, 5))),
      line: { color: colour, width: 1.5 },
      hovertemplate:
        `%{fullData.name}<br>${xMode === "steps" ? "step %{x:,}" : "%{x:,} samples"}<br>` +
        `loss %{y:.4f}${detail}<extra></extra>`,
    });
    if (divergedAt !== null) {
      const step = divergedAt;
      const last = lastFinite(smoothed, Math.min(smoothed.length, step));
      data.push({
        type: "scatter",
        mode: "markers",
        name: `${plotlyText(run.label)} diverged`,
        legendgroup: `run${index}`,
        showlegend: false,
        x: [step * scale],
        y: [last ?? null],
        marker: { symbol: "x", size: 11, color: colour, line: { width: 2, color: colour } },
        text: [`${plotlyText(run.label)}: diverged at step ${fmtInt(step)}`],
        hovertemplate: "%{text}<extra></extra>",
      });
    }
  });
  const what = smooth === 1 ? "loss of every step" : `${smooth}-step moving average of the loss`;
  const subtitle = thinned
    ? `${what} · long runs drawn as the min/max of each bucket of steps (at most ${fmtInt(maxPoints)} points; hover says how many)`
    : what;
  // Draw the longest (noisiest) runs first, underneath; the legend keeps the caller's order through legendrank.
  const order = data.map((trace, i) => ({ trace, i, n: ((trace as { x?: unknown[] }).x ?? []).length }));
  order.sort((a, b) => b.n - a.n || a.i - b.i);
  return {
    data: order.map((entry) => entry.trace),
    layout: {
      title: titleOf(options.title ?? (list.length === 1 ? `Training loss: ${list[0]!.label}` : "Training loss"), subtitle),
      ...legendBelow(list.length > 1 ? legend : [], options.height ?? 420, { t: 80, r: 20, b: 60, l: 70 }),
      xaxis: {
        title: { text: xMode === "steps" ? "step (one batch each)" : "training images seen" },
        ...(options.xMax !== undefined ? { range: [0, options.xMax] } : { rangemode: "tozero" as const }),
        tickformat: ",",
      },
      yaxis: {
        title: { text: "loss (cross-entropy)" },
        ...(options.logY ? { type: "log" as const, exponentformat: "power" as const } : {}),
      },
      hovermode: "closest",
    },
    config: baseConfig(),
  };
}

/** Options for `resultsTable`. */
export interface ResultsTableOptions {
  title?: string;
  /** Window of the "final loss" moving average (default 10, as the loss charts). */
  smooth?: number;
}

/**
 * One row per run: setting, test accuracy (%), final smoothed loss, steps, seconds and a divergence note, as an
 * HTML table (text escaped). The best accuracy is bold.
 * @example show.html(resultsTable(byLr, { title: "Learning rate" }));
 */
export function resultsTable(runs: RunResult | readonly RunResult[], options: ResultsTableOptions = {}): string {
  const list = asList(runs, "resultsTable: runs");
  const smooth = options.smooth ?? 10;
  list.forEach((run, index) => {
    const where = `resultsTable: runs[${index}] (${JSON.stringify(run?.label)})`;
    assertSeries(run, where);
    for (const key of ["accuracy", "steps", "seconds"] as const) {
      if (typeof run[key] !== "number") throw new TypeError(`${where}: ${key} must be a number, got ${run[key]}`);
    }
  });
  const best = Math.max(...list.map((run) => (Number.isFinite(run.accuracy) ? run.accuracy : -Infinity)));
  const cell = (text: string, align: "left" | "right" = "right", extra = ""): string =>
    `<td style="text-align:${align};padding:4px 10px;${extra}">${text}</td>`;
  const head = (text: string, align: "left" | "right" = "right"): string =>
    `<th style="text-align:${align};padding:4px 10px">${text}</th>`;
  const rows = list.map((run) => {
    const loss = finalAverage(run.losses, smooth);
    const divergedAt = divergedStep(run);
    const note = divergedAt !== null
      ? `diverged at step ${fmtInt(divergedAt)}`
      : Number.isFinite(loss)
        ? ""
        : "loss not finite";
    return (
      "<tr>" +
      cell(escapeHtml(run.label), "left") +
      cell(fmtFixed(run.accuracy, 2), "right", run.accuracy === best ? "font-weight:bold" : "") +
      cell(fmtLoss(loss)) +
      cell(fmtInt(run.steps)) +
      cell(fmtFixed(run.seconds, 1)) +
      cell(note, "left", note ? `color:${WRONG}` : "") +
      "</tr>"
    );
  });
  const caption = options.title
    ? `<caption style="caption-side:top;text-align:left;font-weight:bold;padding:4px 0">${escapeHtml(options.title)}</caption>`
    : "";
  return (
    `<table class="mie-results" style="border-collapse:collapse">${caption}<thead><tr>` +
    head("setting", "left") +
    head("test accuracy (%)") +
    head(`final loss (${smooth}-step mean)`) +
    head("steps") +
    head("seconds") +
    head("note", "left") +
    `</tr></thead><tbody>${rows.join("")}</tbody></table>`
  );
}

/** Options for `referenceTable`. */
export interface ReferenceTableOptions {
  title?: string;
}

/**
 * HTML table of our accuracies beside the original's reported numbers and the PyTorch re-run (rows from
 * `referenceRows`): each number marked as agreeing with the re-run or not, with the reason where the original differs.
 * @example show.html(referenceTable(referenceRows([["adam", run.accuracy]])));
 */
export function referenceTable(rows: readonly ReferenceRow[], options: ReferenceTableOptions = {}): string {
  if (!Array.isArray(rows) || rows.length === 0) {
    throw new TypeError(`referenceTable: rows must be a non-empty array from referenceRows(...), got ${describe(rows)}`);
  }
  const mark = (agrees: boolean | null): string =>
    agrees === null ? "" : agrees ? ' <span style="color:#2ca02c">✓</span>' : ` <span style="color:${WRONG}">✗</span>`;
  const cell = (text: string, align: "left" | "right" = "right"): string =>
    `<td style="text-align:${align};padding:4px 10px;vertical-align:top">${text}</td>`;
  const head = (text: string, align: "left" | "right" = "right"): string =>
    `<th style="text-align:${align};padding:4px 10px">${text}</th>`;
  const pytorch = (row: ReferenceRow): string =>
    row.pytorch.std === 0 ? fmtFixed(row.pytorch.mean, 2)
      : `${fmtFixed(row.pytorch.mean, 2)} ± ${fmtFixed(row.pytorch.std, 2)} [${fmtFixed(row.pytorch.min, 2)}–${fmtFixed(row.pytorch.max, 2)}]`;
  const body = rows.map((row) =>
    "<tr>" +
    cell(escapeHtml(row.setting), "left") +
    cell(row.original === null ? "—" : fmtFixed(row.original, 2) + mark(row.originalAgrees)) +
    cell(pytorch(row)) +
    cell(fmtFixed(row.ours, 2) + mark(row.oursAgrees)) +
    cell(escapeHtml(row.why), "left") +
    "</tr>");
  const caption = options.title
    ? `<caption style="caption-side:top;text-align:left;font-weight:bold;padding:4px 0">${escapeHtml(options.title)}</caption>`
    : "";
  return (
    `<table class="mie-reference" style="border-collapse:collapse">${caption}<thead><tr>` +
    head("setting", "left") + head("original reported (%)") + head("PyTorch re-run, 3 seeds (%)") + head("ours (%)") +
    head("why they differ", "left") +
    `</tr></thead><tbody>${body.join("")}</tbody></table>` +
    '<p style="font-size:smaller">✓ within the PyTorch seed range ±1 point, ✗ outside it.</p>'
  );
}

/**
 * ColorBrewer sequential scales (light to dark), the original's per-class matplotlib colour maps, without their
 * near-white first step (zero is pure white here). YlGnBu also drops its yellow end, which would read as a
 * second hue next to white.
 */
const SEQUENTIAL: Record<string, readonly string[]> = {
  YlGnBu: ["#c7e9b4", "#7fcdbb", "#41b6c4", "#1d91c0", "#225ea8", "#253494", "#081d58"],
  Purples: ["#efedf5", "#dadaeb", "#bcbddc", "#9e9ac8", "#807dba", "#6a51a3", "#54278f", "#3f007d"],
  Blues: ["#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c", "#08306b"],
  Greys: ["#f0f0f0", "#d9d9d9", "#bdbdbd", "#969696", "#737373", "#525252", "#252525", "#000000"],
  Greens: ["#e5f5e0", "#c7e9c0", "#a1d99b", "#74c476", "#41ab5d", "#238b45", "#006d2c", "#00441b"],
  Oranges: ["#fee6ce", "#fdd0a2", "#fdae6b", "#fd8d3c", "#f16913", "#d94801", "#a63603", "#7f2704"],
  Reds: ["#fee0d2", "#fcbba1", "#fc9272", "#fb6a4a", "#ef3b2c", "#cb181d", "#a50f15", "#67000d"],
  RdPu: ["#fde0dd", "#fcc5c0", "#fa9fb5", "#f768a1", "#dd3497", "#ae017e", "#7a0177", "#49006a"],
  BuPu: ["#e0ecf4", "#bfd3e6", "#9ebcda", "#8c96c6", "#8c6bb1", "#88419d", "#810f7c", "#4d004b"],
  BuGn: ["#e5f5f9", "#ccece6", "#99d8c9", "#66c2a4", "#41ae76", "#238b45", "#006d2c", "#00441b"],
};

/** Negative weights: one neutral grey for every class (lighter at its end than the hues, so the digit leads). */
const NEGATIVE_GREY = ["#f0f0f0", "#d9d9d9", "#bdbdbd", "#969696", "#737373", "#525252"];
/** Class 3's own colour is grey, so its negative side is brown instead. */
const NEGATIVE_BROWN = ["#f6e8c3", "#dfc27d", "#bf812d", "#8c510a", "#543005"];

/** A symmetric scale: `negative` from white (0) to dark (-max) on the lower half, `positive` on the upper half. */
function twoSided(negative: readonly string[], positive: readonly string[]): Array<[number, string]> {
  const lower = [...negative].reverse().map((colour, i): [number, string] => [(0.5 * i) / negative.length, colour]);
  const upper = positive.map((colour, i): [number, string] => [0.5 + (0.5 * (i + 1)) / positive.length, colour]);
  return [...lower, [0.5, "#ffffff"], ...upper];
}

/**
 * Per-class colour scales for weight images, symmetric around zero (use with zmin = -zmax). Zero is white;
 * positive weights (ink there counts for the class) take the original's colour map for that class (YlGnBu,
 * Purples, Blues, Greys, Greens / Oranges, Reds, RdPu, BuPu, BuGn), so the digit's shape keeps the original's
 * hue; negative weights are the same grey in every class (brown for class 3, whose own colour is grey), so
 * "grey = evidence against" reads the same everywhere.
 * @example weightGridFigure(weights, { colorscales: CLASS_COLORSCALES.map(() => UNIT_COLORSCALE) });
 */
export const CLASS_COLORSCALES: ReadonlyArray<Array<[number, string]>> = [
  "YlGnBu", "Purples", "Blues", "Greys", "Greens", "Oranges", "Reds", "RdPu", "BuPu", "BuGn",
].map((name) => twoSided(name === "Greys" ? NEGATIVE_BROWN : NEGATIVE_GREY, SEQUENTIAL[name]!));

/**
 * Scale for weights that belong to no class (hidden units): ColorBrewer RdBu, red negative, white 0, blue positive.
 * @example weightGridFigure(weights, { colorscales: UNIT_COLORSCALE });
 */
export const UNIT_COLORSCALE: Array<[number, string]> = twoSided(
  ["#fddbc7", "#f4a582", "#d6604d", "#b2182b", "#67001f"],
  ["#d1e5f0", "#92c5de", "#4393c3", "#2166ac", "#053061"],
);

/** One image of a grid: a heatmap placed by the grid layout. */
interface Panel {
  z: (number | null)[][];
  /** Already escaped. */
  title: string;
  titleColour?: string;
  colorscale: ColorScale;
  zmin: number;
  zmax: number;
  /** Already escaped; shown on hover above the value. */
  hover: string;
  valueFormat: string;
  border?: string;
}

/** Panels in rows of `columns`, optionally in blocks (one per setting) with a header above each. */
interface GridSpec {
  blocks: { header?: string; panels: Panel[] }[];
  columns: number;
  rows: number;
  cols: number;
  title: string;
  subtitle?: string;
}

/** Aim for this plot width; scaled down for many columns, capped so a single image is not blown up. */
const TARGET_WIDTH = 860;

/**
 * Many images on ONE pair of axes (heatmaps placed with x0/y0) rather than Plotly subplots: one square-pixel
 * constraint covers them all, titles are annotations in data units, and the spec stays small.
 */
function gridFigure(spec: GridSpec): Figure {
  const { rows: h, cols: w, columns } = spec;
  const gapX = Math.max(3, Math.round(w / 8));
  const titleSpace = Math.max(6, Math.round(h / 4.5));
  const headerSpace = titleSpace + 2;
  const cellW = w + gapX;
  const cellH = h + titleSpace + 2;
  const totalW = columns * cellW - gapX;
  const data: Data[] = [];
  const annotations: Partial<Annotation>[] = [];
  const shapes: Partial<Shape>[] = [];
  let top = 0;
  for (const block of spec.blocks) {
    if (block.header !== undefined) {
      annotations.push({
        text: `<b>${block.header}</b>`,
        x: -0.5,
        y: top + headerSpace - 1,
        xref: "x",
        yref: "y",
        xanchor: "left",
        yanchor: "bottom",
        showarrow: false,
        font: { size: 15, color: TEXT },
      });
      top += headerSpace;
    }
    block.panels.forEach((panel, i) => {
      const x0 = (i % columns) * cellW;
      const y0 = top + Math.floor(i / columns) * cellH + titleSpace;
      data.push({
        type: "heatmap",
        z: panel.z,
        x0,
        dx: 1,
        y0,
        dy: 1,
        zmin: panel.zmin,
        zmax: panel.zmax,
        colorscale: panel.colorscale,
        showscale: false,
        hoverongaps: false,
        name: panel.hover,
        // The panel's text goes in through the name: inside the template, "%{...}" in a label would be interpreted.
        hovertemplate: `%{fullData.name}<br>value %{z:${panel.valueFormat}}<extra></extra>`,
      });
      annotations.push({
        text: panel.title,
        x: x0 + (w - 1) / 2,
        y: y0 - 0.5,
        xref: "x",
        yref: "y",
        xanchor: "center",
        yanchor: "bottom",
        showarrow: false,
        font: { size: 12, color: panel.titleColour ?? TEXT },
      });
      if (panel.border) {
        shapes.push({
          type: "rect",
          xref: "x",
          yref: "y",
          x0: x0 - 1,
          x1: x0 + w,
          y0: y0 - 1,
          y1: y0 + h,
          line: { color: panel.border, width: 2 },
        });
      }
    });
    top += Math.ceil(block.panels.length / columns) * cellH;
  }
  const totalH = top - 2;
  const scale = Math.min(6, TARGET_WIDTH / totalW);
  const margin = { t: spec.subtitle ? 80 : 60, r: 10, b: 10, l: 10 };
  const hidden = { visible: false, showgrid: false, zeroline: false, fixedrange: true, constrain: "domain" as const };
  return {
    data,
    layout: {
      title: titleOf(spec.title, spec.subtitle),
      height: Math.round(totalH * scale + margin.t + margin.b),
      margin,
      xaxis: { ...hidden, range: [-1.5, totalW + 0.5] },
      // Reversed (bottom value first) so image row 0 is at the top; scaleanchor keeps pixels square.
      yaxis: { ...hidden, range: [totalH + 0.5, -1.5], scaleanchor: "x", scaleratio: 1 },
      annotations,
      shapes,
      plot_bgcolor: "#ffffff",
      hovermode: "closest",
    },
    config: baseConfig(),
  };
}

/** A colour scale: a Plotly scale name ("Blues", "RdBu", …) or [stop, colour] pairs with stops 0..1. */
export type NamedOrStops = string | Array<[number, string]>;

/** Options for `weightGridFigure`. */
export interface WeightGridOptions {
  title?: string;
  /** One name per output unit (default "0".."9"). */
  classNames?: readonly string[];
  /**
   * One scale for every class (a Plotly name such as "RdBu", or [stop, colour] pairs), or a list with one per
   * class (default `CLASS_COLORSCALES`).
   */
  colorscales?: NamedOrStops | readonly NamedOrStops[];
  /** Scale every image to the largest |weight| of its set instead of its own (compares magnitudes). */
  sharedRange?: boolean;
  /** Images per row (default 5: the original's 2×5). */
  columns?: number;
}

/**
 * Each output unit's incoming weights of a 784→10 layer as a 28×28 image (class c is `kernel[p * 10 + c]`), in a
 * 2×5 grid, one colour scale per class. The range is symmetric (zmin = -zmax, per image by default) so zero is
 * white and the sign of a weight reads directly. Several `{ label, weights }` sets are stacked one above the
 * other with their label as a header (e.g. lr 0.001 over lr 0.5, as the original's figure).
 * @example show.figure(weightGridFigure([{ label: "lr 0.001", weights: a }, { label: "lr 0.5", weights: b }]));
 */
export function weightGridFigure(weights: LayerWeightsLike | readonly WeightSet[], options: WeightGridOptions = {}): Figure {
  const sets: { label?: string; weights: LayerWeightsLike }[] = Array.isArray(weights)
    ? (weights as readonly WeightSet[]).map((set, i) => {
        if (!set || typeof set !== "object" || !("weights" in set)) {
          throw new TypeError(`weightGridFigure: weights[${i}] must be { label, weights }, got ${describe(set)}`);
        }
        return { label: String(set.label), weights: set.weights };
      })
    : [{ weights: weights as LayerWeightsLike }];
  if (sets.length === 0) throw new RangeError("weightGridFigure: weights is an empty list; pass at least one set");
  const columns = options.columns ?? 5;
  assertPositiveInt(columns, "weightGridFigure: options.columns");
  const blocks = sets.map((set, s) => {
    const where = sets.length > 1 ? `weightGridFigure: weights[${s}].weights` : "weightGridFigure: weights";
    const { inputs, outputs, side } = checkWeights(set.weights, where);
    if (outputs > 20) {
      throw new RangeError(
        `${where}: ${outputs} outputs; this grid shows one image per class (10 for MNIST). ` +
          "For a hidden layer use hiddenUnitsFigure(weights, { units: [...] }).",
      );
    }
    const names = classNames(options.classNames, outputs, "weightGridFigure: options.classNames");
    const images = Array.from({ length: outputs }, (_, unit) => columnOf(set.weights.kernel, inputs, outputs, unit));
    const shared = options.sharedRange ? Math.max(...images.map(maxAbs)) : 0;
    const panels = images.map((values, unit): Panel => {
      const zmax = positiveOr1(options.sharedRange ? shared : maxAbs(values));
      return {
        z: toRows(values, side, side, 4),
        title: `class ${names[unit]}`,
        colorscale: pickScale(options.colorscales, unit),
        zmin: -zmax,
        zmax,
        hover: `class ${names[unit]}${set.label !== undefined ? ` · ${plotlyText(set.label)}` : ""}`,
        valueFormat: ".4f",
      };
    });
    return { ...(set.label !== undefined ? { header: plotlyText(set.label) } : {}), panels };
  });
  const sides = new Set(sets.map((set) => set.weights.shape[0]));
  if (sides.size > 1) {
    throw new RangeError(`weightGridFigure: the sets have different input sizes (${[...sides].join(", ")}); compare like with like`);
  }
  const side = Math.sqrt(sets[0]!.weights.shape[0]!);
  return gridFigure({
    blocks,
    columns,
    rows: side,
    cols: side,
    title: options.title ?? "Weights of each class",
    subtitle:
      "white = 0 · class colour = positive weight (ink there counts for the class) · grey = negative (class 3: brown) · " +
      (options.sharedRange ? "one range per set" : "each image scaled to its own ±max |weight|"),
  });
}

/** Options for `hiddenUnitsFigure`. */
export interface HiddenUnitsOptions {
  /** Which units (columns of the kernel) to draw; default the first 16. */
  units?: readonly number[];
  title?: string;
  /** Images per row (default 8). */
  columns?: number;
  colorscale?: ColorScale;
}

/**
 * The incoming weights of chosen hidden units of a first layer (784→N) as 28×28 images, each scaled to its own
 * symmetric range (white = 0, blue positive, red negative): what each unit "looks for" in the image.
 * @example show.figure(hiddenUnitsFigure(model.weights(0), { units: [0, 1, 2, 3] }));
 */
export function hiddenUnitsFigure(weights: LayerWeightsLike, options: HiddenUnitsOptions = {}): Figure {
  const { inputs, outputs, side } = checkWeights(weights, "hiddenUnitsFigure: weights");
  const units = options.units ?? Array.from({ length: Math.min(16, outputs) }, (_, i) => i);
  if (!Array.isArray(units) || units.length === 0) {
    throw new RangeError("hiddenUnitsFigure: options.units must be a non-empty list of unit indices");
  }
  units.forEach((unit, i) => {
    if (!Number.isInteger(unit) || unit < 0 || unit >= outputs) {
      throw new RangeError(`hiddenUnitsFigure: options.units[${i}] = ${unit}; expected an integer in 0..${outputs - 1}`);
    }
  });
  const columns = options.columns ?? Math.min(8, units.length);
  assertPositiveInt(columns, "hiddenUnitsFigure: options.columns");
  const panels = units.map((unit): Panel => {
    const values = columnOf(weights.kernel, inputs, outputs, unit);
    const zmax = positiveOr1(maxAbs(values));
    return {
      z: toRows(values, side, side, 4),
      title: `unit ${unit}`,
      colorscale: options.colorscale ?? UNIT_COLORSCALE,
      zmin: -zmax,
      zmax,
      hover: `unit ${unit}`,
      valueFormat: ".4f",
    };
  });
  return gridFigure({
    blocks: [{ panels }],
    columns,
    rows: side,
    cols: side,
    title: options.title ?? `Input weights of ${units.length} of ${outputs} hidden units`,
    subtitle: "white = 0 · blue = positive · red = negative · each image scaled to its own ±max |weight|",
  });
}

/** Options for `samplesFigure`. */
export interface SamplesOptions {
  /** How many images (default 10). */
  count?: number;
  /** Index of the first image (default 0). */
  start?: number;
  /** Exactly these images, in this order (e.g. the misclassified ones); replaces `start` and `count`. */
  indices?: readonly number[];
  /** Predicted class of every image (same indexing as labels): titles say label and prediction, mistakes in red. */
  predictions?: ArrayLike<number>;
  classNames?: readonly string[];
  title?: string;
  /** Images per row (default up to 5). */
  columns?: number;
  /** Image height and width in pixels when `images` has no rows/cols (default 28×28). */
  rows?: number;
  cols?: number;
}

/**
 * A grid of images titled "This is a 5" (as the original), or "label 5 · predicted 3" with mistakes in red and
 * framed when `predictions` are given. Dark ink on white; hover shows the pixel value.
 * @example show.figure(samplesFigure(data.train, { count: 5 }));
 */
export function samplesFigure(split: LabelledImages, options?: SamplesOptions): Figure;
export function samplesFigure(
  images: ArrayLike<number> | LabelledImages,
  labels?: ArrayLike<number>,
  options?: SamplesOptions,
): Figure;
export function samplesFigure(
  images: ArrayLike<number> | LabelledImages,
  labelsOrOptions?: ArrayLike<number> | SamplesOptions,
  maybeOptions: SamplesOptions = {},
): Figure {
  // samplesFigure(split, options) as well as samplesFigure(images, labels, options).
  const optionsSecond = labelsOrOptions !== undefined && !isArrayLike(labelsOrOptions);
  let labels = optionsSecond ? undefined : (labelsOrOptions as ArrayLike<number> | undefined);
  const options = optionsSecond ? (labelsOrOptions as SamplesOptions) : maybeOptions;
  let pixels: ArrayLike<number>;
  let rows = options.rows;
  let cols = options.cols;
  if (isArrayLike(images)) {
    pixels = images;
  } else if (images && typeof images === "object" && isArrayLike((images as LabelledImages).images)) {
    const split = images as LabelledImages;
    pixels = split.images;
    labels ??= split.labels;
    rows ??= split.rows;
    cols ??= split.cols;
  } else {
    throw new TypeError(`samplesFigure: images must be pixel values or { images, labels }, got ${describe(images)}`);
  }
  const height = rows ?? 28;
  const width = cols ?? 28;
  if (!isArrayLike(labels)) throw new TypeError(`samplesFigure: labels must be an array of classes, got ${describe(labels)}`);
  const classes: ArrayLike<number> = labels;
  const size = height * width;
  if (pixels.length % size !== 0) {
    throw new RangeError(`samplesFigure: images has ${pixels.length} values, not a multiple of ${height}×${width} = ${size}`);
  }
  const available = pixels.length / size;
  if (labels.length !== available) {
    throw new RangeError(`samplesFigure: ${available} images but ${labels.length} labels; expected one label per image`);
  }
  if (!options.indices) {
    const start = options.start ?? 0;
    const wanted = options.count ?? Math.min(10, available - start);
    assertPositiveInt(wanted, "samplesFigure: options.count");
    if (!Number.isInteger(start) || start < 0 || start + wanted > available) {
      throw new RangeError(`samplesFigure: images ${start}..${start + wanted - 1} requested but there are ${available}`);
    }
  }
  const chosen = options.indices ?? range(options.start ?? 0, options.count ?? Math.min(10, available - (options.start ?? 0)));
  const count = chosen.length;
  assertPositiveInt(count, "samplesFigure: options.indices.length");
  const outside = chosen.find((index) => !Number.isInteger(index) || index < 0 || index >= available);
  if (outside !== undefined) {
    throw new RangeError(`samplesFigure: image ${outside} requested but there are ${available} (indices 0..${available - 1})`);
  }
  const predictions = options.predictions;
  if (predictions !== undefined && (!isArrayLike(predictions) || predictions.length !== labels.length)) {
    throw new RangeError(
      `samplesFigure: options.predictions must have one class per label (${labels.length}), got ${describe(predictions)}`,
    );
  }
  const name = (c: number): string =>
    options.classNames ? plotlyText(options.classNames[c] ?? c) : String(c);
  let brightest = 0;
  for (const index of chosen) {
    for (let i = index * size; i < (index + 1) * size; i++) brightest = Math.max(brightest, pixels[i]!);
  }
  const zmax = brightest > 1 ? 255 : 1;
  const panels = chosen.map((index): Panel => {
    const label = classes[index]!;
    const predicted = predictions?.[index];
    const wrong = predicted !== undefined && predicted !== label;
    const values = Array.prototype.slice.call(pixels, index * size, (index + 1) * size) as number[];
    return {
      z: toRows(values, height, width, 4),
      title: predicted === undefined ? `This is a ${name(label)}` : `label ${name(label)} · predicted ${name(predicted)}`,
      ...(wrong ? { titleColour: WRONG, border: WRONG } : {}),
      colorscale: [
        [0, "#ffffff"],
        [1, "#000000"],
      ],
      zmin: 0,
      zmax,
      hover: `image ${index} · label ${name(label)}${predicted === undefined ? "" : ` · predicted ${name(predicted)}`}`,
      valueFormat: zmax > 1 ? "d" : ".2f",
    };
  });
  const mistakes = predictions ? panels.filter((p) => p.border).length : 0;
  return gridFigure({
    blocks: [{ panels }],
    columns: options.columns ?? Math.min(5, count),
    rows: height,
    cols: width,
    title: options.title ?? (predictions ? "Test images and predictions" : "Training images"),
    ...(predictions ? { subtitle: `${mistakes} of ${count} wrong (red)` } : {}),
  });
}

/** Options for `confusionFigure`. */
export interface ConfusionOptions {
  title?: string;
  classNames?: readonly string[];
}

/**
 * Confusion matrix: true class in rows (top to bottom), predicted class in columns, counts written in the cells.
 * Correct predictions (the diagonal) are green, mistakes red on their own scale, so the few hundred mistakes
 * are visible next to diagonals of ~1000.
 * @example show.figure(confusionFigure(run.confusion!, { title: "784-10, lr 0.5" }));
 */
export function confusionFigure(confusion: ArrayLike<ArrayLike<number>>, options: ConfusionOptions = {}): Figure {
  if (!isArrayLike(confusion) || confusion.length === 0) {
    throw new TypeError(`confusionFigure: confusion must be a square matrix of counts, got ${describe(confusion)}`);
  }
  const n = confusion.length;
  const matrix = Array.from({ length: n }, (_, r) => {
    const row = confusion[r];
    if (!isArrayLike(row) || row.length !== n) {
      throw new RangeError(`confusionFigure: confusion[${r}] has ${describe(row)}; expected ${n} counts (square matrix)`);
    }
    return Array.from(row, (v, c) => {
      if (!Number.isFinite(v) || v < 0) throw new RangeError(`confusionFigure: confusion[${r}][${c}] = ${v}; expected a count`);
      return v;
    });
  });
  const names = classNames(options.classNames, n, "confusionFigure: options.classNames");
  const offDiagonal = matrix.map((row, r) => row.map((v, c) => (r === c ? null : v)));
  const diagonal = matrix.map((row, r) => row.map((v, c) => (r === c ? v : null)));
  const maxMistake = Math.max(0, ...matrix.flatMap((row, r) => row.filter((_, c) => c !== r)));
  const maxCorrect = Math.max(0, ...matrix.map((row, r) => row[r]!));
  const rowTotals = matrix.map((row) => row.reduce((a, b) => a + b, 0));
  const text = matrix.map((row, r) =>
    row.map((v, c) => {
      const share = rowTotals[r]! > 0 ? ` (${((100 * v) / rowTotals[r]!).toFixed(1)}% of true ${names[r]})` : "";
      return `true ${names[r]} · predicted ${names[c]}<br>${fmtInt(v)} images${share}`;
    }),
  );
  const common = { x0: 0, dx: 1, y0: 0, dy: 1, text, hovertemplate: "%{text}<extra></extra>", hoverongaps: false, xgap: 1, ygap: 1 };
  const annotations: Partial<Annotation>[] = [];
  matrix.forEach((row, r) =>
    row.forEach((v, c) => {
      if (v === 0) return;
      const strength = r === c ? v / positiveOr1(maxCorrect) : v / positiveOr1(maxMistake);
      annotations.push({
        text: String(v),
        x: c,
        y: r,
        xref: "x",
        yref: "y",
        showarrow: false,
        font: { size: n > 12 ? 9 : 11, color: strength > 0.55 ? "#ffffff" : TEXT },
      });
    }),
  );
  const ticks = { tickvals: names.map((_, i) => i), ticktext: names, ticks: "" as const, showgrid: false, zeroline: false };
  return {
    data: [
      {
        type: "heatmap",
        ...common,
        z: offDiagonal,
        zmin: 0,
        zmax: positiveOr1(maxMistake),
        colorscale: [
          [0, "#fff5f0"],
          [0.5, "#fb6a4a"],
          [1, "#67000d"],
        ],
        colorbar: { title: { text: "mistakes" }, thickness: 12, len: 0.6 },
      },
      {
        type: "heatmap",
        ...common,
        z: diagonal,
        zmin: 0,
        zmax: positiveOr1(maxCorrect),
        colorscale: [
          [0, "#f7fcf5"],
          [0.5, "#74c476"],
          [1, "#00441b"],
        ],
        showscale: false,
      },
    ],
    layout: {
      title: titleOf(options.title ?? "Confusion matrix (test set)", "green: correct · red: mistakes, on their own scale"),
      // Fixed width: a square matrix gains nothing from a wide cell, and its colour bar stays next to it.
      height: 560,
      width: 660,
      margin: { t: 80, r: 20, b: 60, l: 70 },
      xaxis: { ...ticks, title: { text: "predicted class" }, side: "bottom", constrain: "domain" },
      yaxis: { ...ticks, title: { text: "true class" }, autorange: "reversed", scaleanchor: "x", constrain: "domain" },
      annotations,
      plot_bgcolor: "#ffffff",
    },
    config: baseConfig(),
  };
}

/** Options for `perClassFigure`. */
export interface PerClassOptions {
  title?: string;
  classNames?: readonly string[];
}

/**
 * Test accuracy of each class as bars (0–100 %), one colour per run when several runs are given.
 * @example show.figure(perClassFigure([runA, runB]));
 */
export function perClassFigure(
  perClass: ArrayLike<number> | RunResult | readonly RunResult[],
  options: PerClassOptions = {},
): Figure {
  let series: { label?: string; values: ArrayLike<number> }[];
  if (isArrayLike(perClass) && (perClass.length === 0 || typeof perClass[0] === "number")) {
    series = [{ values: perClass as ArrayLike<number> }];
  } else {
    series = asList(perClass as RunResult | readonly RunResult[], "perClassFigure: perClass").map((run, i) => {
      if (!run || !isArrayLike(run.perClassAccuracy)) {
        throw new TypeError(
          `perClassFigure: run ${i} (${JSON.stringify(run?.label)}) has no perClassAccuracy; pass numbers or runs that have it`,
        );
      }
      return { label: String(run.label), values: run.perClassAccuracy };
    });
  }
  const n = series[0]!.values.length;
  if (n === 0) throw new RangeError("perClassFigure: perClass is empty; expected one accuracy (%) per class");
  series.forEach((s, i) => {
    if (s.values.length !== n) {
      throw new RangeError(`perClassFigure: run ${i} has ${s.values.length} classes, run 0 has ${n}`);
    }
  });
  const names = classNames(options.classNames, n, "perClassFigure: options.classNames");
  const data: Data[] = series.map((s, i) => ({
    type: "bar",
    name: s.label !== undefined ? plotlyText(s.label) : "accuracy",
    x: names,
    y: Array.from(s.values, (v) => (Number.isFinite(v) ? round(v, 4) : null)),
    marker: { color: RUN_COLOURS[i % RUN_COLOURS.length]! },
    text: Array.from(s.values, (v) => (Number.isFinite(v) ? v.toFixed(1) : "")),
    textposition: series.length > 2 ? "none" : "inside",
    textangle: 0,
    insidetextanchor: "end",
    textfont: { size: 10 },
    hovertemplate: `${s.label !== undefined ? "%{fullData.name}<br>" : ""}class %{x}: %{y:.2f}%<extra></extra>`,
  }));
  // Start the axis just below the worst class, so differences of a few points between classes stay visible.
  const finite = series.flatMap((s) => Array.from(s.values)).filter(Number.isFinite);
  const low = finite.length ? Math.max(0, Math.floor((Math.min(...finite) - 5) / 10) * 10) : 0;
  return {
    data,
    layout: {
      title: titleOf(options.title ?? "Test accuracy per class", low > 0 ? `the axis starts at ${low}%` : undefined),
      ...legendBelow(series.length > 1 ? series.map((s) => s.label ?? "") : [], 380, { t: 60, r: 20, b: 60, l: 70 }),
      barmode: "group",
      xaxis: { title: { text: "class" }, type: "category" },
      yaxis: { title: { text: "test accuracy (%)" }, range: [low, 100] },
    },
    config: baseConfig(),
  };
}

/**
 * The one-line status of a live training view (HTML): step of total, speed, running loss, time.
 * @example show.html(progressText(progress)); // "lr 0.5 · step 100 / 3,750 (2%) · 6,400 samples/s · loss 0.8123 · 0.3 s"
 */
export function progressText(p: TrainingProgress): string {
  const percent = p.totalSteps > 0 ? ` (${Math.floor((100 * p.step) / p.totalSteps)}%)` : "";
  const loss = Number.isFinite(p.loss) ? p.loss.toFixed(4) : String(p.loss);
  const state = p.done ? "done: " : "";
  return (
    `<div style="font-family:monospace;padding:2px 0">${escapeHtml(p.label)} · ${state}step ${fmtInt(p.step)} / ` +
    `${fmtInt(p.totalSteps)}${percent} · ${fmtInt(Math.round(p.samplesPerSecond))} samples/s · loss ${loss} · ` +
    `${p.seconds.toFixed(1)} s</div>`
  );
}

/**
 * A horizontal legend at the bottom of the figure, below the x axis title, with room made for it: Plotly's own
 * placement overlaps the axis title, and a legend on the right squeezes the plot when labels are long. The rows
 * are estimated from the label lengths (~7 px per character at 12 px), and the figure grows by their height so
 * the plot area keeps its size.
 */
function legendBelow(
  labels: readonly string[],
  height: number,
  margin: { t: number; r: number; b: number; l: number },
): Pick<Partial<Layout>, "height" | "margin" | "showlegend" | "legend"> {
  if (labels.length === 0) return { height, margin, showlegend: false };
  let rows = 1;
  let used = 0;
  for (const label of labels) {
    const width = 45 + 7 * label.length;
    if (used > 0 && used + width > TARGET_WIDTH) {
      rows++;
      used = 0;
    }
    used += width;
  }
  const extra = 10 + 21 * rows;
  return {
    height: height + extra,
    margin: { ...margin, b: margin.b + extra },
    showlegend: true,
    legend: { orientation: "h", x: 0, xanchor: "left", yref: "container", y: 0, yanchor: "bottom" },
  };
}

function titleOf(text: string, subtitle?: string): Partial<Layout["title"]> {
  return {
    text: plotlyText(text),
    x: 0.01,
    xanchor: "left",
    ...(subtitle ? { subtitle: { text: subtitle, font: { size: 12, color: "#667" } } } : {}),
  };
}

function baseConfig(): Partial<Config> {
  return { responsive: true, displaylogo: false, modeBarButtonsToRemove: ["select2d", "lasso2d"] };
}

function checkWeights(weights: LayerWeightsLike, where: string): { inputs: number; outputs: number; side: number } {
  if (!weights || typeof weights !== "object" || !Array.isArray(weights.shape) || !isArrayLike(weights.kernel)) {
    throw new TypeError(`${where}: expected { shape: [inputs, outputs], kernel, bias }, got ${describe(weights)}`);
  }
  if (weights.shape.length !== 2) {
    throw new RangeError(`${where}.shape: expected [inputs, outputs], got [${weights.shape.join(", ")}]`);
  }
  const [inputs, outputs] = weights.shape as [number, number];
  const side = Math.round(Math.sqrt(inputs));
  if (side * side !== inputs) {
    throw new RangeError(
      `${where}.shape: expected 784 inputs (28×28 images) or another square, got ${inputs}; ` +
        "only the first layer's weights are images (pass { layer: 0 })",
    );
  }
  if (weights.kernel.length !== inputs * outputs) {
    throw new RangeError(`${where}.kernel: ${weights.kernel.length} values, expected ${inputs}×${outputs} = ${inputs * outputs}`);
  }
  return { inputs, outputs, side };
}

function columnOf(kernel: ArrayLike<number>, inputs: number, outputs: number, unit: number): number[] {
  const out = new Array<number>(inputs);
  for (let p = 0; p < inputs; p++) out[p] = kernel[p * outputs + unit]!;
  return out;
}

/** Row-major values to rows for a heatmap, rounded: 4 significant digits are plenty for colour and hover. */
function toRows(values: ArrayLike<number>, rows: number, cols: number, digits: number): (number | null)[][] {
  return Array.from({ length: rows }, (_, r) =>
    Array.from({ length: cols }, (_, c) => {
      const v = values[r * cols + c]!;
      return Number.isFinite(v) ? Number(v.toPrecision(digits)) : null;
    }),
  );
}

function maxAbs(values: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < values.length; i++) {
    const v = Math.abs(values[i]!);
    if (v > max && Number.isFinite(v)) max = v;
  }
  return max;
}

/** A range of zero (all-zero weights, e.g. zero init) would be invalid for Plotly: use ±1 so zeros show white. */
function positiveOr1(value: number): number {
  return value > 0 && Number.isFinite(value) ? value : 1;
}

function pickScale(scales: WeightGridOptions["colorscales"], unit: number): ColorScale {
  if (scales === undefined) return CLASS_COLORSCALES[unit % CLASS_COLORSCALES.length]!;
  if (typeof scales === "string") return scales;
  // A list of [stop, colour] pairs is one scale; any other list holds one scale per class.
  if (Array.isArray(scales[0]) && typeof scales[0][0] === "number") return scales as Array<[number, string]>;
  return (scales as readonly NamedOrStops[])[unit % scales.length]!;
}

function classNames(names: readonly string[] | undefined, n: number, where: string): string[] {
  if (names === undefined) return Array.from({ length: n }, (_, i) => String(i));
  if (!Array.isArray(names) || names.length !== n) {
    throw new RangeError(`${where}: expected ${n} names (one per class), got ${describe(names)}`);
  }
  return names.map(plotlyText);
}

function assertSeries(run: LossSeries, where: string): void {
  if (!run || typeof run !== "object") throw new TypeError(`${where}: expected a run { label, losses }, got ${describe(run)}`);
  if (typeof run.label !== "string") throw new TypeError(`${where}: label must be a string, got ${describe(run.label)}`);
  if (!isArrayLike(run.losses)) throw new TypeError(`${where}: losses must be an array of numbers, got ${describe(run.losses)}`);
}

function asList<T>(value: T | readonly T[], where: string): readonly T[] {
  const list = Array.isArray(value) ? (value as readonly T[]) : [value as T];
  if (list.length === 0) throw new RangeError(`${where}: empty list; pass at least one run`);
  return list;
}

function assertArrayLike(value: unknown, where: string): asserts value is ArrayLike<number> {
  if (!isArrayLike(value)) throw new TypeError(`${where}: expected an array of numbers, got ${describe(value)}`);
}

function assertPositiveInt(value: number, where: string): void {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${where} must be an integer >= 1, got ${value}`);
}

function isArrayLike(value: unknown): value is ArrayLike<unknown> {
  return value !== null && typeof value === "object" && typeof (value as { length?: unknown }).length === "number";
}

function describe(value: unknown): string {
  if (value === undefined || value === null) return String(value);
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name} of ${(value as unknown as ArrayLike<number>).length}`;
  if (typeof value === "object") return `an object with keys ${Object.keys(value).slice(0, 6).join(", ") || "(none)"}`;
  return `${typeof value} ${JSON.stringify(value)}`;
}

/** The 1-based step (as on the charts' x axis) of the first non-finite loss, or null. */
function divergedStep(run: LossSeries): number | null {
  return run.diverged && Number.isFinite(run.diverged.step) ? run.diverged.step : null;
}

function lastFinite(values: ArrayLike<number>, end: number): number | undefined {
  for (let i = end - 1; i >= 0; i--) if (Number.isFinite(values[i])) return values[i];
  return undefined;
}

function range(start: number, count: number): number[] {
  return Array.from({ length: Math.max(0, count) }, (_, k) => start + k);
}

function round(value: number, significant: number): number {
  return Number(value.toPrecision(significant));
}

function fmtInt(value: number): string {
  return Number.isFinite(value) ? Math.round(value).toLocaleString("en-US") : String(value);
}

/** Three decimals, but small losses (a batch-1 run near zero) keep two significant digits instead of "0.000". */
function fmtLoss(value: number): string {
  if (!Number.isFinite(value)) return "—";
  return Math.abs(value) >= 0.01 || value === 0 ? value.toFixed(3) : value.toPrecision(2);
}

function fmtFixed(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toFixed(digits) : "—";
}
