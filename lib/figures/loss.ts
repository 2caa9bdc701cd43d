/** The training-loss chart: one smoothed line per run, long runs averaged over windows, divergence marked. */
import type { Data, Layout } from "plotly.js-dist-min";
import { movingAverage } from "../math/metrics";
import { asList } from "./check";
import { RUN_COLOURS } from "./colours";
import { MIN_POINTS, windowMeans } from "./downsample";
import { baseConfig, legendBelow, titleOf, type Figure } from "./kit";
import { clipBelow, logRange, MAX_DECADES } from "./log-axis";
import { divergenceText } from "./progress";
import { assertSeries, divergedStep, type LossSeries } from "./runs";
import { formatCount } from "../math/format";
import { plotlyText, round } from "./text";

/** Options for `lossFigure`. */
export interface LossFigureOptions {
  /** "steps" (default): one point per optimizer step. "samples": step × batchSize, so batch sizes compare. */
  x?: "steps" | "samples";
  /** Moving-average window in steps; 10 (default) as the original; 1 plots raw losses. */
  smooth?: number;
  title?: string;
  /** Log y axis: keeps curves apart when one run's loss is orders of magnitude larger. It spans at most 8 decades
   *  below the highest value drawn (exact zeros and anything lower are left out, and the subtitle says how many). */
  logY?: boolean;
  /** Display budget per run (default 2000); a longer curve is drawn as the mean of each window of steps. */
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
 * longer than `maxPoints` steps are drawn as the mean of each window of steps (a window of images: the hover says
 * how many), for display only. More than 12 runs: the first 11 have a legend entry, the others one entry together
 * and their names on hover. A NaN/Infinity makes the windows containing it a gap; a diverged run ends with an × at
 * its last finite value.
 * @example show.figure(lossFigure(runs, { x: "samples", title: "Batch size" }));
 */
export function lossFigure(runs: LossSeries | readonly LossSeries[], options: LossFigureOptions = {}): Figure {
  const list = asList(runs, "lossFigure: runs");
  const checked = checkOptions(options);
  const perRun = list.map((run, index) => runTraces(run, index, checked, list.length));
  const thinned = perRun.some((run) => run.thinned);
  const curves = perRun.some((run) => run.curve);
  const log = options.logY ? fitLogAxis(perRun.flatMap((run) => run.traces)) : null;
  const what = checked.smooth === 1 ? "loss of every step" : `${checked.smooth}-step moving average of the loss`;
  const subtitle = (thinned
    ? `${what} · long runs drawn as the mean of each window of steps (at most ${formatCount(checked.maxPoints)} points; hover says how many images)`
    : what) + (curves ? " · dotted: accuracy (right axis)" : "") + (log?.clipped ? ` · ${formatCount(log.clipped)} points under ${MAX_DECADES} decades below the top (or 0) not drawn` : "");
  // Draw the longest (noisiest) runs first, underneath; the legend keeps the caller's order through legendrank.
  const order = perRun.flatMap((run) => run.traces).map((trace, i) => ({ trace, i, n: ((trace as { x?: unknown[] }).x ?? []).length }));
  order.sort((a, b) => b.n - a.n || a.i - b.i);
  const title = titleOf(options.title ?? (list.length === 1 ? `Training loss: ${list[0]!.label}` : "Training loss"), subtitle);
  const shared = list.length > MAX_LEGEND ? [restEntry(list.length - (MAX_LEGEND - 1))] : [];
  const legend = list.length > 1 ? [...perRun.slice(0, MAX_LEGEND - 1).map((run) => run.legend), ...shared.map((trace) => String(trace.name))] : [];
  return {
    data: [...order.map((entry) => entry.trace), ...shared],
    layout: {
      title,
      ...legendBelow(legend, options.height ?? 420, { t: 80, r: curves ? 70 : 20, b: 60, l: 70 }),
      ...axes(checked.xMode, options, curves, log?.range ?? null),
      hovermode: "closest",
    },
    config: baseConfig(),
  };
}

interface CheckedOptions {
  xMode: "steps" | "samples";
  smooth: number;
  maxPoints: number;
}

function checkOptions(options: LossFigureOptions): CheckedOptions {
  const xMode = options.x ?? "steps";
  if (xMode !== "steps" && xMode !== "samples") {
    throw new RangeError(`lossFigure: options.x must be "steps" or "samples", got ${JSON.stringify(options.x)}`);
  }
  const smooth = options.smooth ?? 10;
  if (!Number.isInteger(smooth) || smooth < 1) {
    throw new RangeError(`lossFigure: options.smooth must be an integer >= 1 (steps), got ${options.smooth}`);
  }
  const maxPoints = options.maxPoints ?? 2000;
  if (!Number.isInteger(maxPoints) || maxPoints < MIN_POINTS) {
    throw new RangeError(`lossFigure: options.maxPoints must be an integer >= ${MIN_POINTS} (points per run), got ${options.maxPoints}`);
  }
  return { xMode, smooth, maxPoints };
}

/**
 * Most entries a loss chart's legend has: past it, the runs after the first 11 share one entry (their names are
 * on hover), so a legend never becomes a wall of labels.
 * @example lossFigure(fortyEightRuns).data.filter((trace) => trace.showlegend !== false).length; // 12
 */
export const MAX_LEGEND = 12;

/** The one legend entry the runs past the first 11 share: an empty trace, grey. */
function restEntry(count: number): Data {
  return {
    type: "scatter", mode: "lines", x: [], y: [], name: `${count} more runs (names on hover)`, legendgroup: "rest",
    legendrank: MAX_LEGEND, line: { color: "#aab", width: 1.5 }, hoverinfo: "skip",
  };
}

/** The loss axis's log range, with every loss trace's points under its floor left out (in place). */
function fitLogAxis(traces: Data[]): { range: [number, number]; clipped: number } | null {
  const losses = traces.filter((trace) => (trace as { yaxis?: string }).yaxis === undefined) as { y: (number | null)[] }[];
  const fitted = logRange(losses.map((trace) => trace.y));
  if (!fitted) return null;
  let clipped = 0;
  for (const trace of losses) {
    const cut = clipBelow(trace.y, fitted.floor);
    trace.y = cut.y;
    clipped += cut.clipped;
  }
  return { range: fitted.range, clipped };
}

/** One run's traces (its loss line, its accuracy curve, its divergence ×), its legend entry, and what they show. */
function runTraces(run: LossSeries, index: number, { xMode, smooth, maxPoints }: CheckedOptions, runs: number) {
  const where = `lossFigure: runs[${index}] (${JSON.stringify(run?.label)})`;
  assertSeries(run, where);
  const scale = xMode === "samples" ? batchSizeOf(run, where) : 1;
  const colour = RUN_COLOURS[index % RUN_COLOURS.length]!;
  const smoothed = movingAverage(run.losses, smooth);
  const xs = Float64Array.from({ length: smoothed.length }, (_, i) => (i + 1) * scale);
  const shown = windowMeans(xs, smoothed, maxPoints);
  const divergedAt = divergedStep(run);
  const diverged = divergedAt !== null ? ` · ${divergenceText(run.diverged!)}` : "";
  const images = shown.window * (xMode === "samples" ? scale : batchSizeOr(run, 0));
  const detail = shown.window > 1 ? `<br>mean of ${formatCount(shown.window)} steps${images > 0 ? ` (${formatCount(images)} images)` : ""} (display only)` : "";
  const grouped = runs > MAX_LEGEND && index >= MAX_LEGEND - 1;
  const traces: Data[] = [{
    type: "scatter",
    mode: "lines",
    name: plotlyText(run.label) + diverged,
    legendgroup: grouped ? "rest" : `run${index}`,
    ...(grouped ? { showlegend: false } : {}),
    legendrank: index + 1,
    x: shown.x,
    y: shown.y.map((v) => (v === null ? null : round(v, 5))),
    line: { color: colour, width: 1.5 },
    hovertemplate: `%{fullData.name}<br>${xLabel(xMode)}<br>loss %{y:.4f}${detail}<extra></extra>`,
  }];
  const curve = (run.evaluations?.length ?? 0) > 0;
  if (curve) traces.push(accuracyTrace(run.label, run.evaluations!, scale, index, xMode));
  if (divergedAt !== null) traces.push(divergenceMarker(run, lastFinite(smoothed, Math.min(smoothed.length, divergedAt)), divergedAt * scale, index));
  return { traces, legend: run.label + diverged, thinned: shown.window > 1, curve };
}

/** A run's batch size where it has one, else `or` (a steps chart needs none). */
function batchSizeOr(run: LossSeries, or: number): number {
  const batchSize = run.batchSize ?? run.settings?.batchSize;
  return typeof batchSize === "number" && batchSize > 0 ? batchSize : or;
}

function batchSizeOf(run: LossSeries, where: string): number {
  const batchSize = run.batchSize ?? run.settings?.batchSize;
  if (!(typeof batchSize === "number" && batchSize > 0)) {
    throw new RangeError(`${where}: x: "samples" needs a positive batchSize, got ${batchSize}`);
  }
  return batchSize;
}

/** The × at a diverged run's last finite value. */
function divergenceMarker(run: LossSeries, last: number | undefined, x: number, index: number): Data {
  const colour = RUN_COLOURS[index % RUN_COLOURS.length]!;
  return {
    type: "scatter",
    mode: "markers",
    name: `${plotlyText(run.label)} diverged`,
    legendgroup: `run${index}`,
    showlegend: false,
    x: [x],
    y: [last ?? null],
    marker: { symbol: "x", size: 11, color: colour, line: { width: 2, color: colour } },
    text: [`${plotlyText(run.label)}: ${plotlyText(divergenceText(run.diverged!))}`],
    hovertemplate: "%{text}<extra></extra>",
  };
}

function xLabel(xMode: CheckedOptions["xMode"]): string {
  return xMode === "steps" ? "step %{x:,}" : "%{x:,} samples";
}

/** The x axis (steps or images), the loss axis, and the accuracy axis on the right when a run has a curve. */
function axes(xMode: CheckedOptions["xMode"], options: LossFigureOptions, curves: boolean, logRange: [number, number] | null): Partial<Layout> {
  return {
    xaxis: {
      title: { text: xMode === "steps" ? "step (one batch each)" : "training images seen" },
      ...(options.xMax !== undefined ? { range: [0, options.xMax] } : { rangemode: "tozero" as const }),
      tickformat: ",",
    },
    yaxis: {
      title: { text: "loss (cross-entropy)" },
      ...(options.logY ? { type: "log" as const, exponentformat: "power" as const, ...(logRange ? { range: logRange, autorange: false } : {}) } : {}),
    },
    ...(curves
      ? {
          // Ticks of its own: synced to the loss axis's grid (Plotly's default for an overlay) they land on odd values.
          yaxis2: { title: { text: "accuracy (%)" }, overlaying: "y" as const, side: "right" as const, tickmode: "auto" as const, ticksuffix: "%", showgrid: false },
        }
      : {}),
  };
}

/** A run's accuracy curve on the right-hand axis: its colour, dotted, a dot per measurement. */
function accuracyTrace(
  label: string,
  points: readonly { step: number; accuracy: number }[],
  scale: number,
  index: number,
  xMode: "steps" | "samples",
): Data {
  const colour = RUN_COLOURS[index % RUN_COLOURS.length]!;
  return {
    type: "scatter",
    mode: "lines+markers",
    name: `${plotlyText(label)} accuracy`,
    legendgroup: `run${index}`,
    showlegend: false,
    yaxis: "y2",
    x: points.map((point) => point.step * scale),
    y: points.map((point) => (Number.isFinite(point.accuracy) ? round(point.accuracy, 5) : null)),
    line: { color: colour, width: 1.5, dash: "dot" },
    marker: { size: 5, color: colour },
    hovertemplate: `%{fullData.name}<br>${xLabel(xMode)}<br>accuracy %{y:.2f}%<extra></extra>`,
  };
}

/** The last finite value before index `end`: where a diverged run's × goes. */
function lastFinite(values: ArrayLike<number>, end: number): number | undefined {
  for (let i = end - 1; i >= 0; i--) if (Number.isFinite(values[i])) return values[i];
  return undefined;
}
