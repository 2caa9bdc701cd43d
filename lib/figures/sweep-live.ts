/**
 * The live view of a big sweep: past a handful of runs, N growing curves and an N-entry legend are a wall of lines.
 * This draws instead the sweep's landscape (test accuracy over the one or two settings it varies) filling in as
 * runs finish, the cells of runs in flight marked with how far they are, and below it the loss curves of the best
 * few finished runs and of the runs in flight. Pure: plain data in, a figure out; `show.live` feeds it.
 */
import type { Data, Layout, Shape } from "plotly.js-dist-min";
import { gridOf, type ExploreRun, type Grid, type GridAxis } from "./explore-grid";
import { baseConfig, legendBelow, titleOf, type Figure } from "./kit";
import { lossFigure, type LossFigureOptions } from "./loss";
import { landscapeAxes } from "./varied";
import { plotlyText, round } from "./text";

/**
 * One run of a sweep as the live view knows it: the explorer's fields (accuracy NaN until measured) and where it is.
 * @example const run: SweepLiveRun = { label: "lr 0.5", losses: [], accuracy: NaN, settings: { lr: 0.5 }, state: "waiting", share: 0 };
 */
export type SweepLiveRun = ExploreRun & {
  /** Not started yet, training, or finished (diverged ones included). */
  state: "waiting" | "running" | "done";
  /** Share of its steps done, 0 to 1. */
  share: number;
};

/**
 * Options of `sweepLiveFigure`: the loss chart's (`maxPoints` defaults to 200 here, as in the explorer: a batch-1
 * run's curve is then the mean of each window of 300 images), and the landscape's.
 * @example const options: SweepLiveOptions = { title: "The landscape", best: 5, x: "samples", logY: true };
 */
export interface SweepLiveOptions extends Pick<LossFigureOptions, "x" | "logY" | "smooth" | "maxPoints"> {
  title?: string;
  /** Finished runs whose curves are drawn: the most accurate ones (default 5). */
  best?: number;
  /** The settings the landscape is laid out by; default: the one or two that vary (none or more than two: no
   *  landscape, only the curves). */
  by?: readonly [string] | readonly [string, string];
}

/** The marker of a cell whose run is training. */
const RUNNING = "#ff7f0e";
const TOP = 80;
const ROW = 34;
const AXIS = 56;
const GAP = 30;
const CURVES = 300;
const BOTTOM = 60;

/**
 * The live view of a sweep of many runs: its landscape filling in, and the best few curves.
 * @example show.figure(sweepLiveFigure(runs.map((run) => ({ ...run, state: "done", share: 1 })), { title: "12 learning rates × 4 batch sizes", x: "samples", logY: true }));
 */
export function sweepLiveFigure(runs: readonly SweepLiveRun[], options: SweepLiveOptions = {}): Figure {
  if (!Array.isArray(runs) || runs.length === 0) throw new RangeError("sweepLiveFigure: runs: expected a non-empty list of runs");
  const best = options.best ?? 5;
  if (!Number.isInteger(best) || best < 1 || best > 10) throw new RangeError(`sweepLiveFigure: options.best must be an integer from 1 to 10, got ${options.best}`);
  const done = runs.filter((run) => run.state === "done");
  const ranked = done.filter((run) => Number.isFinite(run.accuracy)).sort((a, b) => b.accuracy - a.accuracy).slice(0, best);
  const running = runs.filter((run) => run.state === "running");
  const drawn = [...ranked, ...running];
  const curvesTitle = `best ${ranked.length} of ${done.length} finished${running.length ? `, ${running.length} in flight (grey)` : ""}`;
  const curves = lossFigure(drawn.length > 0 ? drawn : [{ label: "no run finished yet", losses: [] }], {
    x: options.x, logY: options.logY, smooth: options.smooth, maxPoints: options.maxPoints ?? 200, title: options.title ?? "Sweep", height: CURVES,
  });
  greyRunning(curves.data, ranked.length);
  const by = options.by ?? landscapeAxes(runs);
  let grid: Grid | null = null;
  if (by) {
    try {
      grid = gridOf(runs, by);
    } catch {
      grid = null; // e.g. two runs in one cell: the curves alone
    }
  }
  const status = `${done.length} of ${runs.length} runs finished · ${curvesTitle}`;
  if (!grid) {
    return { ...curves, layout: { ...curves.layout, title: titleOf(options.title ?? "Sweep", status) } };
  }
  return withLandscape(curves, runs, grid, options.title ?? "Sweep", status, drawn.length > 1 ? drawn.map((run) => run.label) : []);
}

/** Runs in flight drawn thin, grey and dashed, and named so in the legend: they share one entry. */
function greyRunning(data: Data[], rankedCount: number): void {
  let first = true;
  for (const trace of data) {
    const t = trace as { legendgroup?: string; line?: { color?: string; width?: number; dash?: string }; showlegend?: boolean; name?: string; legendrank?: number };
    const index = Number(/^run(\d+)$/.exec(t.legendgroup ?? "")?.[1] ?? -1);
    if (index < rankedCount) continue;
    t.legendgroup = "running";
    t.line = { ...t.line, color: "#999", width: 1, dash: "dot" };
    if ((trace as { yaxis?: string }).yaxis === undefined && (trace as { mode?: string }).mode === "lines" && first) {
      first = false;
      t.showlegend = true;
      t.legendrank = 100;
    } else {
      t.showlegend = false;
    }
  }
}

function withLandscape(curves: Figure, runs: readonly SweepLiveRun[], grid: Grid, title: string, status: string, labels: string[]): Figure {
  const rows = grid.y?.values.length ?? 1;
  const heat = rows * ROW;
  const height = TOP + heat + AXIS + GAP + CURVES + BOTTOM;
  const plotHeight = height - TOP - BOTTOM;
  const heatBottom = (CURVES + GAP + AXIS) / plotHeight;
  const curvesTop = CURVES / plotHeight;
  // The curves move to the lower axes (x2, y2; their accuracy axis to y3).
  const data: Data[] = [heatmapTrace(runs, grid, Math.max(heat, 120)), cellTextTrace(runs, grid)];
  for (const trace of curves.data) {
    const t = trace as { xaxis?: string; yaxis?: string };
    data.push({ ...trace, xaxis: "x2", yaxis: t.yaxis === "y2" ? "y3" : "y2" } as Data);
  }
  const lossLayout = curves.layout;
  const legendLabels = (curves.data as { showlegend?: boolean; name?: string }[])
    .filter((trace) => trace.showlegend !== false && labels.length > 0)
    .map((trace) => String(trace.name ?? ""));
  const layout: Partial<Layout> = {
    title: titleOf(title, status),
    ...legendBelow(legendLabels, height, { t: TOP, b: BOTTOM, l: 80, r: 110 }),
    hovermode: "closest",
    xaxis: axisLayout(grid.x),
    yaxis: { ...(grid.y ? axisLayout(grid.y) : { tickvals: [0], ticktext: [""], range: [-0.5, 0.5] }), domain: [heatBottom, 1], fixedrange: true },
    xaxis2: { ...(lossLayout.xaxis as object), anchor: "y2" },
    yaxis2: { ...(lossLayout.yaxis as object), anchor: "x2", domain: [0, curvesTop] },
    ...(lossLayout.yaxis2 ? { yaxis3: { ...(lossLayout.yaxis2 as object), overlaying: "y2" } } : {}),
    shapes: runningShapes(runs, grid),
  } as Partial<Layout>;
  return { data, layout, config: { ...baseConfig(), scrollZoom: false } };
}

function axisLayout(axis: GridAxis): Partial<Layout["xaxis"]> {
  return {
    title: { text: `${axis.key}${axis.log ? " (log scale)" : ""}` },
    tickvals: axis.centres,
    ticktext: axis.labels,
    range: [axis.edges[0]!, axis.edges[axis.edges.length - 1]!],
    fixedrange: true,
    showgrid: false,
    zeroline: false,
  };
}

function yEdges(grid: Grid): number[] {
  return grid.y?.edges ?? [-0.5, 0.5];
}

/** The landscape's heatmap; its colour bar is `barPixels` tall (at least readable over a grid of one or two rows). */
function heatmapTrace(runs: readonly SweepLiveRun[], grid: Grid, barPixels: number): Data {
  const columns = grid.x.values.length;
  const rows = grid.y?.values.length ?? 1;
  const z: (number | null)[][] = [];
  const hover: string[][] = [];
  for (let j = 0; j < rows; j++) {
    z.push([]);
    hover.push([]);
    for (let i = 0; i < columns; i++) {
      const r = grid.cells[i + columns * j];
      const run = r === null || r === undefined ? null : runs[r]!;
      const measured = run && run.state === "done" && Number.isFinite(run.accuracy);
      z[j]!.push(measured ? round(run!.accuracy, 5) : null);
      hover[j]!.push(run ? `${plotlyText(run.label)}: ${cellState(run)}` : "no run");
    }
  }
  return {
    type: "heatmap", x: grid.x.edges, y: yEdges(grid), z, text: hover as unknown as string[], hovertemplate: "%{text}<extra></extra>",
    colorscale: "Viridis", xgap: 1, ygap: 1,
    colorbar: { title: { text: "test accuracy (%)" }, ticksuffix: "%", y: 1, yanchor: "top", len: barPixels, lenmode: "pixels", thickness: 14 },
  } as Data;
}

function cellState(run: SweepLiveRun): string {
  if (run.state === "waiting") return "waiting";
  if (run.state === "running") return `training, ${Math.floor(100 * run.share)}% done`;
  return Number.isFinite(run.accuracy) ? `${run.accuracy.toFixed(2)}% test accuracy` : run.diverged ? "diverged" : "not evaluated";
}

/** Each finished run's accuracy in its cell, "diverged" where it diverged, and a running run's share done. */
function cellTextTrace(runs: readonly SweepLiveRun[], grid: Grid): Data {
  const measured = runs.filter((run) => run.state === "done").map((run) => run.accuracy).filter(Number.isFinite);
  const low = Math.min(...measured);
  const high = Math.max(...measured);
  const x: number[] = [];
  const y: number[] = [];
  const text: string[] = [];
  const colours: string[] = [];
  grid.cells.forEach((r, c) => {
    if (r === null) return;
    const run = runs[r]!;
    if (run.state === "waiting") return;
    x.push(grid.x.centres[c % grid.x.values.length]!);
    y.push(grid.y ? grid.y.centres[Math.floor(c / grid.x.values.length)]! : 0);
    if (run.state === "running") {
      text.push(`${Math.floor(100 * run.share)}%`);
      colours.push(RUNNING);
      return;
    }
    const finite = Number.isFinite(run.accuracy);
    text.push(finite ? run.accuracy.toFixed(run.accuracy >= 99.95 ? 0 : 1) : "diverged");
    colours.push(!finite ? "#555" : high > low && (run.accuracy - low) / (high - low) < 0.55 ? "white" : "black");
  });
  return { type: "scatter", mode: "text", x, y, text, textfont: { size: 10, color: colours }, hoverinfo: "skip", showlegend: false } as Data;
}

/** An orange frame on every cell whose run is training. */
function runningShapes(runs: readonly SweepLiveRun[], grid: Grid): Partial<Shape>[] {
  const columns = grid.x.values.length;
  const shapes: Partial<Shape>[] = [];
  grid.cells.forEach((r, c) => {
    if (r === null || runs[r]!.state !== "running") return;
    const i = c % columns;
    const j = Math.floor(c / columns);
    shapes.push({
      type: "rect", xref: "x", yref: "y", layer: "above", line: { color: RUNNING, width: 2.5 }, fillcolor: "rgba(0,0,0,0)",
      x0: grid.x.edges[i], x1: grid.x.edges[i + 1], y0: yEdges(grid)[j], y1: yEdges(grid)[j + 1],
    });
  });
  return shapes;
}
