/**
 * What every figure shares: the `Figure` type and the layout pieces that make the charts look alike (a left-aligned
 * title with a subtitle, a legend below the plot, one config).
 */
import type { Config, Data, Layout } from "plotly.js-dist-min";
import { plotlyText } from "./text";

/**
 * A Plotly figure, ready for `Plotly.newPlot(div, data, layout, config)` (or `show.figure`).
 * @example const figure: Figure = lossFigure(run); figure.layout.height = 300; show.figure(figure);
 */
export interface Figure {
  data: Data[];
  layout: Partial<Layout>;
  config: Partial<Config>;
}

/**
 * Aim for this plot width in pixels: image grids scale to it, and the legend wraps at it.
 * @example const scale = Math.min(6, TARGET_WIDTH / gridWidth);
 */
export const TARGET_WIDTH = 860;

/**
 * A horizontal legend at the bottom of the figure, below the x axis title, with room made for it: Plotly's own
 * placement overlaps the axis title, and a legend on the right squeezes the plot when labels are long. The rows
 * are estimated from the label lengths (~7 px per character at 12 px), and the figure grows by their height so
 * the plot area keeps its size. No labels: no legend.
 * @example layout = { ...legendBelow(["lr 0.001", "lr 0.5"], 420, { t: 80, r: 20, b: 60, l: 70 }) };
 */
export function legendBelow(
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

/**
 * A left-aligned title (escaped: it may be the caller's text) with an optional smaller subtitle (ours, not escaped).
 * @example layout.title = titleOf("Training loss", "10-step moving average of the loss");
 */
export function titleOf(text: string, subtitle?: string): Partial<Layout["title"]> {
  return {
    text: plotlyText(text),
    x: 0.01,
    xanchor: "left",
    ...(subtitle ? { subtitle: { text: subtitle, font: { size: 12, color: "#667" } } } : {}),
  };
}

/**
 * The config of every figure: resizes with the page, no Plotly logo, no selection tools (nothing to select).
 * @example return { data, layout, config: baseConfig() };
 */
export function baseConfig(): Partial<Config> {
  return { responsive: true, displaylogo: false, modeBarButtonsToRemove: ["select2d", "lasso2d"] };
}
