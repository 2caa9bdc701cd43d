/**
 * Image grids: many small heatmaps (digits, weight images) laid out in rows, optionally in titled blocks, with
 * square pixels. The weight and sample figures describe panels; this module places them.
 */
import type { Annotation, ColorScale, Data, Shape } from "plotly.js-dist-min";
import { TEXT_COLOUR } from "./colours";
import { baseConfig, TARGET_WIDTH, titleOf, type Figure } from "./kit";

/** One image of a grid: a heatmap placed by the grid layout. */
export interface Panel {
  z: (number | null)[][];
  /** Already escaped. */
  title: string;
  titleColour?: string;
  colourScale: ColorScale;
  zmin: number;
  zmax: number;
  /** Already escaped; shown on hover above the value. */
  hover: string;
  valueFormat: string;
  border?: string;
}

/** Panels in rows of `perRow` images, optionally in blocks (one per setting) with a header above each. */
export interface GridSpec {
  blocks: { header?: string; panels: Panel[] }[];
  /** Images per row. */
  perRow: number;
  /** Height of each image in pixels. */
  rows: number;
  /** Width of each image in pixels. */
  cols: number;
  title: string;
  subtitle?: string;
}

/**
 * Many images on ONE pair of axes (heatmaps placed with x0/y0) rather than Plotly subplots: one square-pixel
 * constraint covers them all, titles are annotations in data units, and the spec stays small. The plot aims at
 * `TARGET_WIDTH`, capped so a single image is not blown up.
 * @example gridFigure({ blocks: [{ panels }], perRow: 5, rows: 28, cols: 28, title: "Training images" });
 */
export function gridFigure(spec: GridSpec): Figure {
  const { rows: h, cols: w, perRow } = spec;
  const gapX = Math.max(3, Math.round(w / 8));
  const titleSpace = Math.max(6, Math.round(h / 4.5));
  const cellW = w + gapX;
  const cellH = h + titleSpace + 2;
  const totalW = perRow * cellW - gapX;
  const data: Data[] = [];
  const annotations: Partial<Annotation>[] = [];
  const shapes: Partial<Shape>[] = [];
  let top = 0;
  for (const block of spec.blocks) {
    if (block.header !== undefined) {
      annotations.push(headerAnnotation(block.header, top + titleSpace + 1));
      top += titleSpace + 2;
    }
    block.panels.forEach((panel, i) => {
      const placed = placePanel(panel, (i % perRow) * cellW, top + Math.floor(i / perRow) * cellH + titleSpace, w, h);
      data.push(placed.heatmap);
      annotations.push(placed.title);
      if (placed.border) shapes.push(placed.border);
    });
    top += Math.ceil(block.panels.length / perRow) * cellH;
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

/** A block's bold header, its baseline at `y`. */
function headerAnnotation(text: string, y: number): Partial<Annotation> {
  return {
    text: `<b>${text}</b>`, x: -0.5, y, xref: "x", yref: "y", xanchor: "left", yanchor: "bottom", showarrow: false,
    font: { size: 15, color: TEXT_COLOUR },
  };
}

/** A panel as a heatmap whose top-left pixel is at (x0, y0), its title above it, and its border if it has one. */
function placePanel(panel: Panel, x0: number, y0: number, w: number, h: number) {
  const heatmap: Data = {
    type: "heatmap", z: panel.z, x0, dx: 1, y0, dy: 1, zmin: panel.zmin, zmax: panel.zmax, colorscale: panel.colourScale,
    showscale: false, hoverongaps: false, name: panel.hover,
    // The panel's text goes in through the name: inside the template, "%{...}" in a label would be interpreted.
    hovertemplate: `%{fullData.name}<br>value %{z:${panel.valueFormat}}<extra></extra>`,
  };
  const title: Partial<Annotation> = {
    text: panel.title, x: x0 + (w - 1) / 2, y: y0 - 0.5, xref: "x", yref: "y", xanchor: "center", yanchor: "bottom",
    showarrow: false, font: { size: 12, color: panel.titleColour ?? TEXT_COLOUR },
  };
  const border: Partial<Shape> | null = panel.border
    ? { type: "rect", xref: "x", yref: "y", x0: x0 - 1, x1: x0 + w, y0: y0 - 1, y1: y0 + h, line: { color: panel.border, width: 2 } }
    : null;
  return { heatmap, title, border };
}

/**
 * Row-major values to rows for a heatmap, rounded: 4 significant digits are plenty for colour and hover.
 * Non-finite values become null (a gap).
 * @example toRows([1, 2, 3, 4], 2, 2, 4); // [[1, 2], [3, 4]]
 */
export function toRows(values: ArrayLike<number>, rows: number, cols: number, digits: number): (number | null)[][] {
  return Array.from({ length: rows }, (_, r) =>
    Array.from({ length: cols }, (_, c) => {
      const v = values[r * cols + c]!;
      return Number.isFinite(v) ? Number(v.toPrecision(digits)) : null;
    }),
  );
}
