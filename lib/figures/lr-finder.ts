/**
 * The learning-rate range test's chart: loss against the rising rate (log x axis), each step's loss faint and the
 * smoothed loss bold, the lowest point and the suggested rate marked, the rule that picked it in the subtitle.
 */
import type { Data } from "plotly.js-dist-min";
import { formatValue } from "./explore-grid";
import { baseConfig, legendBelow, titleOf, type Figure } from "./kit";
import { RUN_COLOURS } from "./colours";
import { plotlyText, round } from "./text";

/**
 * What the chart reads of a range test (`findLr`'s result, or plain numbers).
 * @example const finding: LrFindingData = { label: "toy", rates: [0.01, 0.1, 1], losses: [2.3, 1.9, 4], smoothed: [2.3, 2.1, 2.6], usable: 3, lowest: 0.1, suggestion: 0.01, rule: "a tenth of the lowest" };
 */
export interface LrFindingData {
  label: string;
  rates: readonly number[];
  losses: readonly number[];
  smoothed: readonly number[];
  /** Steps drawn: those before the smoothed loss passed 4× its lowest. */
  usable: number;
  lowest: number;
  suggestion: number;
  rule: string;
}

/**
 * Loss against learning rate, as fastai's `lr_find` plot, with the suggestion and its rule.
 * @example const found = await findLr(mlp([784, 10]), data); show.figure(lrFinderFigure({ ...found, label: found.run.label }));
 */
export function lrFinderFigure(finding: LrFindingData, options: { title?: string } = {}): Figure {
  const { rates, losses, smoothed, usable, lowest, suggestion, rule } = finding ?? ({} as LrFindingData);
  if (!Array.isArray(rates) || !Array.isArray(losses) || !Array.isArray(smoothed) || rates.length !== losses.length || smoothed.length !== losses.length) {
    throw new TypeError("lrFinderFigure: finding: expected { rates, losses, smoothed } of one length (findLr's result)");
  }
  if (!Number.isInteger(usable) || usable < 2 || usable > rates.length) {
    throw new RangeError(`lrFinderFigure: finding.usable: expected 2 … ${rates.length} steps, got ${usable}`);
  }
  const x = rates.slice(0, usable);
  const line = smoothed.slice(0, usable).map((v) => (Number.isFinite(v) ? round(v, 5) : null));
  const smooth = line.filter((v): v is number => v !== null);
  // The axis fits the smoothed curve (with room above it): single steps' spikes past it are left out, and counted.
  const [low, high] = [Math.min(...smooth), Math.max(...smooth)];
  const range: [number, number] = [Math.max(0, low - 0.15 * (high - low + 0.1)), high + 0.3 * (high - low + 0.1)];
  let spikes = 0;
  const raw = losses.slice(0, usable).map((v) => {
    if (!Number.isFinite(v)) return null;
    if (v > range[1] || v < range[0]) {
      spikes++;
      return null;
    }
    return round(v, 5);
  });
  const lowestIndex = rates.indexOf(lowest);
  const data: Data[] = [
    { type: "scatter", mode: "lines", name: "loss of each step", x, y: raw, line: { color: "rgba(31,119,180,0.3)", width: 1 }, hovertemplate: "lr %{x:.3g}<br>loss %{y:.4f}<extra></extra>" },
    { type: "scatter", mode: "lines", name: "smoothed (EMA, β 0.98)", x, y: line, line: { color: RUN_COLOURS[0]!, width: 2.5 }, hovertemplate: "lr %{x:.3g}<br>smoothed %{y:.4f}<extra></extra>" },
    {
      type: "scatter", mode: "markers", name: `lowest: lr ${formatValue(round(lowest, 2))}`, x: [lowest], y: [lowestIndex >= 0 ? line[lowestIndex] ?? null : null],
      marker: { size: 10, color: RUN_COLOURS[3]!, symbol: "circle-open", line: { width: 2 } }, hovertemplate: "lowest smoothed loss at lr %{x:.3g}<extra></extra>",
    },
    {
      type: "scatter", mode: "lines", name: `suggested: lr ${formatValue(round(suggestion, 2))}`, x: [suggestion, suggestion], y: [low, high],
      line: { color: RUN_COLOURS[2]!, width: 2, dash: "dash" }, hovertemplate: "suggested lr %{x:.3g}<extra></extra>",
    },
  ];
  const notes = [
    ...(usable < rates.length ? [`after step ${usable} of ${rates.length} the loss had passed 4× its lowest (not drawn)`] : []),
    ...(spikes > 0 ? [`${spikes} single steps' losses off the chart (not drawn)`] : []),
  ];
  const cut = notes.length > 0 ? `<br>${notes.join(" · ")}` : "";
  const labels = data.map((trace) => String(trace.name));
  return {
    data,
    layout: {
      title: titleOf(options.title ?? `Learning-rate range test: ${finding.label}`, `suggested: ${plotlyText(rule)}${cut}`),
      ...legendBelow(labels, 400, { t: 96, r: 20, b: 60, l: 70 }),
      xaxis: { type: "log", title: { text: "learning rate (rising every step; log scale)" }, exponentformat: "power" },
      yaxis: { title: { text: "training loss" }, range, autorange: false },
      hovermode: "closest",
    },
    config: baseConfig(),
  };
}
