/**
 * The explorer: a heatmap of test accuracy over one or two settings (the landscape), and below it the loss curve
 * of the run picked with one slider per setting, every other run faint behind it. Pure: the figure is plain data;
 * what a slider does is described in `layout.meta.mieExplore`, which the page script beside the chart loader
 * (`show/explore-script`) reads, so moving a slider needs no kernel and no network.
 */
import type { Data, Layout, Shape } from "plotly.js-dist-min";
import { movingAverage } from "../math/metrics";
import { asList } from "./check";
import { RUN_COLOURS, TEXT_COLOUR } from "./colours";
import { MIN_POINTS, windowMeans } from "./downsample";
import { clipBelow, logRange } from "./log-axis";
import { gridOf, type ExploreRun, type Grid, type GridAxis } from "./explore-grid";
import { baseConfig, titleOf, type Figure } from "./kit";
import { divergenceText } from "./progress";
import { assertSeries, divergedStep } from "./runs";
import { plotlyText, round } from "./text";

export type { ExploreRun } from "./explore-grid";

/**
 * Options for `exploreFigure`.
 * @example const options: ExploreOptions = { by: ["lr", "batchSize"], title: "One epoch of SGD" };
 */
export interface ExploreOptions {
  /** The one or two settings the runs vary: keys of `run.settings` ("lr", "batchSize", "optimizer", …) or
   *  "layers", "seed", "init". The first is the heatmap's x axis (and the first slider). */
  by: readonly [string] | readonly [string, string];
  title?: string;
  /** Index (in `runs`) of the run picked at first; default: the most accurate. */
  pick?: number;
  /** Moving-average window of the loss curves in steps (default 10, as `lossFigure`). */
  smooth?: number;
  /** Points per curve at most (default 200): every run's curve is in the page, so a long one is drawn as the mean
   *  of each window of steps (the hover says how many images). */
  maxPoints?: number;
}

/** What the page script needs to follow the sliders: per cell, which traces to highlight and what to say. */
export interface ExploreMeta {
  /** Cells per row (x values) and rows (y values). */
  shape: [number, number];
  /** Trace indices of every run's loss curve, and of the accuracy curves (runs that measured one). */
  curves: number[];
  accuracies: number[];
  picked: { color: string; width: number };
  faint: { color: string; width: number };
  /** `cells[i + shape[0] * j]`: the cell at slider positions (i, j). */
  cells: { curve: number | null; accuracy: number | null; text: string; box: [number, number, number, number] }[];
}

const FAINT = { color: "rgba(110,110,130,0.22)", width: 1 };
const PICKED = { color: RUN_COLOURS[0]!, width: 2.5 };
// Vertical layout in pixels, top to bottom: title, heatmap, its x axis, the sliders, the picked run's line, curves.
const TOP = 80;
const ROW = 34;
const AXIS = 48;
const SLIDER = 76;
const LINE = 34;
const CURVES = 300;
const BOTTOM = 56;

/**
 * The accuracy landscape of runs that vary one or two settings, and the loss (and accuracy) curve of the run
 * picked with the sliders. Log axes where a setting's values span a decade or more; diverged runs are grey cells
 * marked "diverged", not a colour; a combination without a run stays empty.
 * @example show.figure(exploreFigure(runs, { by: ["lr", "batchSize"] }));
 */
export function exploreFigure(runs: ExploreRun | readonly ExploreRun[], options: ExploreOptions): Figure {
  const list = asList(runs, "exploreFigure: runs");
  const by = options?.by;
  if (!Array.isArray(by) || by.length < 1 || by.length > 2 || !by.every((key) => typeof key === "string") || by[0] === by[1]) {
    throw new TypeError(`exploreFigure: options.by must name one or two different settings, e.g. ["lr", "batchSize"], got ${JSON.stringify(by)}`);
  }
  const smooth = options.smooth ?? 10;
  if (!Number.isInteger(smooth) || smooth < 1) throw new RangeError(`exploreFigure: options.smooth must be an integer >= 1 (steps), got ${options.smooth}`);
  const maxPoints = options.maxPoints ?? 200;
  if (!Number.isInteger(maxPoints) || maxPoints < MIN_POINTS) {
    throw new RangeError(`exploreFigure: options.maxPoints must be an integer >= ${MIN_POINTS}, got ${options.maxPoints}`);
  }
  list.forEach((run, i) => {
    assertSeries(run, `exploreFigure: runs[${i}] (${JSON.stringify(run?.label)})`);
    if (typeof run.accuracy !== "number") throw new TypeError(`exploreFigure: runs[${i}] (${JSON.stringify(run.label)}): accuracy must be a number (NaN if diverged), got ${typeof run.accuracy}`);
  });
  const grid = gridOf(list, by);
  const pick = options.pick ?? bestRun(list);
  if (!Number.isInteger(pick) || pick < 0 || pick >= list.length) {
    throw new RangeError(`exploreFigure: options.pick must be the index of a run (0 … ${list.length - 1}), got ${options.pick}`);
  }
  const rows = grid.y?.values.length ?? 1;
  const heat = rows * ROW;
  const height = TOP + heat + AXIS + SLIDER * by.length + LINE + CURVES + BOTTOM;
  const paper = (fromBottom: number): number => fromBottom / (height - TOP - BOTTOM);
  const curvesTop = paper(CURVES);
  const heatBottom = paper(CURVES + LINE + SLIDER * by.length + AXIS);

  const data: Data[] = [heatmapTrace(list, grid, heatBottom), cellTextTrace(list, grid)];
  const curves: number[] = [];
  const accuracies: number[] = [];
  const curveOf = new Map<number, number>();
  const accuracyOf = new Map<number, number>();
  list.forEach((run, r) => {
    curveOf.set(r, data.length);
    curves.push(data.length);
    data.push(curveTrace(run, r === pick, smooth, maxPoints));
  });
  list.forEach((run, r) => {
    if (!run.evaluations || run.evaluations.length === 0) return;
    accuracyOf.set(r, data.length);
    accuracies.push(data.length);
    data.push(accuracyTrace(run, r === pick));
  });
  const cells = grid.cells.map((run, c) => {
    const i = c % grid.x.values.length;
    const j = Math.floor(c / grid.x.values.length);
    return {
      curve: run === null ? null : curveOf.get(run)!,
      accuracy: run === null ? null : accuracyOf.get(run) ?? null,
      text: pickedText(list, grid, run, i, j),
      box: [grid.x.edges[i]!, grid.x.edges[i + 1]!, yEdges(grid)[j]!, yEdges(grid)[j + 1]!] as [number, number, number, number],
    };
  });
  const start = grid.cells.indexOf(pick);
  const meta: ExploreMeta = { shape: [grid.x.values.length, rows], curves, accuracies, picked: PICKED, faint: FAINT, cells };
  const first = cells[start]!;
  const logLoss = spansDecades(list) ? fitLogAxis(curves.map((index) => data[index] as { y: (number | null)[] })) : null;
  const layout: Partial<Layout> = {
    title: titleOf(options.title ?? "Accuracy landscape", subtitleOf(list, grid)),
    height,
    margin: { t: TOP, b: BOTTOM, l: 80, r: 110 },
    showlegend: false,
    hovermode: "closest",
    xaxis: axisLayout(grid.x),
    yaxis: { ...(grid.y ? axisLayout(grid.y) : { tickvals: [0], ticktext: [""], range: [-0.5, 0.5] }), domain: [heatBottom, 1], fixedrange: true },
    xaxis2: { anchor: "y2", title: { text: "training images seen" }, tickformat: ",", rangemode: "tozero" },
    yaxis2: { anchor: "x2", domain: [0, curvesTop], title: { text: "loss (cross-entropy)" }, ...(logLoss ? { type: "log", exponentformat: "power", dtick: "D2", range: logLoss, autorange: false } : {}) },
    ...(accuracies.length > 0
      ? { yaxis3: { overlaying: "y2", side: "right", title: { text: "accuracy (%)" }, ticksuffix: "%", showgrid: false, range: [0, 100] } }
      : {}),
    shapes: [highlightShape(first.box), ...divergedShapes(list, grid)],
    annotations: [
      { text: first.text, xref: "paper", yref: "paper", x: 0, y: paper(CURVES + LINE / 2), xanchor: "left", yanchor: "middle", showarrow: false, font: { size: 13, color: TEXT_COLOUR } },
    ],
    sliders: [grid.x, ...(grid.y ? [grid.y] : [])].map((axis, k) => sliderOf(axis, k, start, grid, paper(CURVES + LINE + SLIDER * (by.length - k)))),
    meta: { mieExplore: meta } as unknown as Layout["meta"],
  } as Partial<Layout>;
  return { data, layout, config: { ...baseConfig(), scrollZoom: false } };
}

function yEdges(grid: Grid): number[] {
  return grid.y?.edges ?? [-0.5, 0.5];
}

function bestRun(runs: readonly ExploreRun[]): number {
  let best = 0;
  runs.forEach((run, i) => {
    if (Number.isFinite(run.accuracy) && !(run.accuracy <= runs[best]!.accuracy)) best = i;
  });
  return best;
}

function axisLayout(axis: GridAxis): Partial<Layout["xaxis"]> {
  return {
    title: { text: axisTitle(axis) },
    tickvals: axis.centres,
    ticktext: axis.labels,
    range: [axis.edges[0]!, axis.edges[axis.edges.length - 1]!],
    fixedrange: true,
    showgrid: false,
    zeroline: false,
  };
}

function axisTitle(axis: GridAxis): string {
  return `${axis.key}${axis.log ? " (log scale)" : ""}`;
}

function heatmapTrace(runs: readonly ExploreRun[], grid: Grid, bottom: number): Data {
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
      z[j]!.push(run && Number.isFinite(run.accuracy) ? round(run.accuracy, 5) : null);
      hover[j]!.push(pickedText(runs, grid, r ?? null, i, j));
    }
  }
  return {
    type: "heatmap",
    x: grid.x.edges,
    y: yEdges(grid),
    z,
    text: hover as unknown as string[],
    hovertemplate: "%{text}<extra></extra>",
    colorscale: "Viridis",
    xgap: 1,
    ygap: 1,
    colorbar: { title: { text: "test accuracy (%)" }, ticksuffix: "%", y: 1, yanchor: "top", len: 1 - bottom, lenmode: "fraction", thickness: 14 },
  } as Data;
}

/** The accuracy written in each cell (dark text on light colours), "diverged" in a diverged run's grey cell. */
function cellTextTrace(runs: readonly ExploreRun[], grid: Grid): Data {
  const measured = runs.map((run) => run.accuracy).filter(Number.isFinite);
  const low = Math.min(...measured);
  const high = Math.max(...measured);
  const x: number[] = [];
  const y: number[] = [];
  const text: string[] = [];
  const colours: string[] = [];
  grid.cells.forEach((r, c) => {
    if (r === null) return;
    const run = runs[r]!;
    x.push(grid.x.centres[c % grid.x.values.length]!);
    y.push(grid.y ? grid.y.centres[Math.floor(c / grid.x.values.length)]! : 0);
    const finite = Number.isFinite(run.accuracy);
    text.push(finite ? run.accuracy.toFixed(run.accuracy >= 99.95 ? 0 : 1) : "diverged");
    // Viridis is dark below about the middle: white text there.
    colours.push(!finite ? "#555" : high > low && (run.accuracy - low) / (high - low) < 0.55 ? "white" : "black");
  });
  return { type: "scatter", mode: "text", x, y, text, textfont: { size: 10, color: colours }, hoverinfo: "skip" } as Data;
}

function curveTrace(run: ExploreRun, picked: boolean, smooth: number, maxPoints: number): Data {
  const scale = imagesPerStep(run);
  const smoothed = movingAverage(run.losses, smooth);
  const shown = windowMeans(Float64Array.from({ length: smoothed.length }, (_, i) => (i + 1) * scale), smoothed, maxPoints);
  const style = picked ? PICKED : FAINT;
  const detail = shown.window > 1 ? `<br>mean of ${(shown.window * scale).toLocaleString("en-US")} images (display only)` : "";
  return {
    type: "scatter",
    mode: "lines",
    name: plotlyText(run.label),
    xaxis: "x2",
    yaxis: "y2",
    x: shown.x,
    y: shown.y.map((v) => (v === null ? null : round(v, 4))),
    line: { color: style.color, width: style.width },
    hovertemplate: `%{fullData.name}<br>%{x:,} images<br>loss %{y:.4f}${detail}<extra></extra>`,
  };
}

/** The loss panel's log range (at most `MAX_DECADES`, see `log-axis`), every curve's points under it left out. */
function fitLogAxis(curves: { y: (number | null)[] }[]): [number, number] | null {
  const fitted = logRange(curves.map((curve) => curve.y));
  if (!fitted) return null;
  for (const curve of curves) curve.y = clipBelow(curve.y, fitted.floor).y;
  return fitted.range;
}

function accuracyTrace(run: ExploreRun, picked: boolean): Data {
  const scale = imagesPerStep(run);
  return {
    type: "scatter",
    mode: "lines+markers",
    name: `${plotlyText(run.label)} accuracy`,
    xaxis: "x2",
    yaxis: "y3",
    visible: picked,
    x: run.evaluations!.map((point) => point.step * scale),
    y: run.evaluations!.map((point) => (Number.isFinite(point.accuracy) ? round(point.accuracy, 5) : null)),
    line: { color: RUN_COLOURS[1]!, width: 1.5, dash: "dot" },
    marker: { size: 5, color: RUN_COLOURS[1]! },
    hovertemplate: "%{fullData.name}<br>%{x:,} images<br>accuracy %{y:.2f}%<extra></extra>",
  };
}

/** What the line above the curves says of the picked cell. */
function pickedText(runs: readonly ExploreRun[], grid: Grid, r: number | null, i: number, j: number): string {
  const where = [`${grid.x.key} ${grid.x.labels[i]}`, ...(grid.y ? [`${grid.y.key} ${grid.y.labels[j]}`] : [])].join(" · ");
  if (r === null) return `${plotlyText(where)}: no run`;
  const run = runs[r]!;
  const step = divergedStep(run);
  const outcome = step !== null ? divergenceText(run.diverged!) : Number.isFinite(run.accuracy) ? `${run.accuracy.toFixed(2)}% test accuracy` : "not evaluated";
  return `${plotlyText(where)}: <b>${plotlyText(outcome)}</b> (${plotlyText(run.label)})`;
}

function subtitleOf(runs: readonly ExploreRun[], grid: Grid): string {
  const diverged = runs.filter((run) => divergedStep(run) !== null).length;
  const cells = `${runs.length - diverged} measured cells${diverged > 0 ? `, ${diverged} diverged (grey)` : ""}`;
  return `test accuracy per setting · ${cells} · move the sliders: the picked run's loss curve is drawn bold, the others faint`;
}

function highlightShape([x0, x1, y0, y1]: [number, number, number, number]): Partial<Shape> {
  return { type: "rect", xref: "x", yref: "y", x0, x1, y0, y1, line: { color: "#d62728", width: 3 }, fillcolor: "rgba(0,0,0,0)", layer: "above" };
}

function divergedShapes(runs: readonly ExploreRun[], grid: Grid): Partial<Shape>[] {
  const shapes: Partial<Shape>[] = [];
  const columns = grid.x.values.length;
  grid.cells.forEach((r, c) => {
    if (r === null || Number.isFinite(runs[r]!.accuracy)) return;
    const i = c % columns;
    const j = Math.floor(c / columns);
    shapes.push({
      type: "rect", xref: "x", yref: "y", layer: "below", line: { width: 0 }, fillcolor: "#dddddd",
      x0: grid.x.edges[i], x1: grid.x.edges[i + 1], y0: yEdges(grid)[j], y1: yEdges(grid)[j + 1],
    });
  });
  return shapes;
}

function sliderOf(axis: GridAxis, k: number, start: number, grid: Grid, top: number): object {
  const columns = grid.x.values.length;
  const active = k === 0 ? start % columns : Math.floor(start / columns);
  return {
    active,
    x: 0,
    len: 1,
    y: top,
    yanchor: "top",
    pad: { t: 8, b: 0 },
    currentvalue: { prefix: `${axis.key}: `, font: { size: 12 }, xanchor: "left" },
    // "skip": Plotly moves the slider and emits plotly_sliderchange; the page script restyles from meta.
    steps: axis.labels.map((label, i) => ({ label, value: String(i), method: "skip", args: [] })),
  };
}

function spansDecades(runs: readonly ExploreRun[]): boolean {
  let low = Infinity;
  let high = 0;
  for (const run of runs) {
    for (let i = 0; i < run.losses.length; i++) {
      const v = run.losses[i]!;
      if (Number.isFinite(v) && v > 0) {
        if (v < low) low = v;
        if (v > high) high = v;
      }
    }
  }
  return high / low >= 30;
}

/** Images per step, so every run's curve spans the same x axis (training images seen) whatever its batch size. */
function imagesPerStep(run: ExploreRun): number {
  const batch = run.batchSize ?? (run.settings as { batchSize?: unknown } | undefined)?.batchSize;
  return typeof batch === "number" && batch > 0 ? batch : 1;
}
