/**
 * A conv net's filters and feature maps as image grids: each filter's weights as a small picture (zero white, blue
 * positive, red negative, each on its own ±max), and one image's maps at a layer (white 0 to dark, each on its own
 * range). Plain data in (`filterImages`, `featureMaps`), a Plotly figure out.
 */
import type { ColorScale } from "plotly.js-dist-min";
import type { FeatureMaps, FilterImages } from "../results/feature-maps";
import { assertPositiveInt, kindOf } from "./check";
import { positiveOr1, UNIT_COLOUR_SCALE } from "./colours";
import { gridFigure, toRows, type Panel } from "./grid";
import type { Figure } from "./kit";
import { plotlyText } from "./text";

/**
 * Options of `filtersFigure` and `featureMapsFigure`.
 * @example show.filters(net, { perRow: 4, title: "What the first layer looks for" });
 */
export interface FilterGridOptions {
  title?: string;
  /** Images per row (default 8). */
  perRow?: number;
  colourScale?: ColorScale;
}

/** Feature maps' scale: white for 0 (ReLU's silence), darker blue for stronger responses. */
const MAP_COLOUR_SCALE: Array<[number, string]> = [
  [0, "#ffffff"], [0.2, "#deebf7"], [0.4, "#9ecae1"], [0.6, "#4292c6"], [0.8, "#08519c"], [1, "#08306b"],
];

/**
 * A conv layer's filters as images, one per filter (per filter and input channel when there are several),
 * symmetric around zero so the sign of a weight reads directly.
 * @example show.figure(filtersFigure(filterImages(net)));
 */
export function filtersFigure(filters: FilterImages, options: FilterGridOptions = {}): Figure {
  checkImages(filters, "filtersFigure: filters", filters?.filters * filters?.channels);
  const perRow = options.perRow ?? Math.min(8, filters.images.length);
  assertPositiveInt(perRow, "filtersFigure: options.perRow");
  const panels = filters.images.map((values, k): Panel => {
    const filter = Math.floor(k / filters.channels);
    const title = filters.channels > 1 ? `${filter} · ch ${k % filters.channels}` : `filter ${filter}`;
    const zmax = positiveOr1(maxAbs(values));
    return {
      z: toRows(values, filters.height, filters.width, 4), title, hover: `${plotlyText(filters.name)} ${title}`,
      colourScale: options.colourScale ?? UNIT_COLOUR_SCALE, zmin: -zmax, zmax, valueFormat: ".4f",
    };
  });
  return gridFigure({
    blocks: [{ panels }], perRow, rows: filters.height, cols: filters.width,
    title: options.title ?? `Filters of layer ${filters.layer} (${plotlyText(filters.name)})`,
    subtitle: `${filters.height}×${filters.width} weights each · white = 0 · blue = positive · red = negative · each scaled to its own ±max`,
  });
}

/**
 * One image's feature maps at a layer, one image per channel, each on its own range from its smallest value
 * (white) to its largest (dark).
 * @example show.figure(featureMapsFigure(featureMaps(net, data.test.images.subarray(0, 784))));
 */
export function featureMapsFigure(maps: FeatureMaps, options: FilterGridOptions = {}): Figure {
  checkImages({ ...maps, images: maps?.maps }, "featureMapsFigure: maps", maps?.channels);
  const perRow = options.perRow ?? Math.min(8, maps.maps.length);
  assertPositiveInt(perRow, "featureMapsFigure: options.perRow");
  const panels = maps.maps.map((values, c): Panel => {
    const { min, max } = range(values);
    return {
      z: toRows(values, maps.height, maps.width, 4), title: `channel ${c}`, hover: `${plotlyText(maps.name)} channel ${c}`,
      colourScale: options.colourScale ?? MAP_COLOUR_SCALE, zmin: Math.min(0, min), zmax: max > Math.min(0, min) ? max : Math.min(0, min) + 1, valueFormat: ".3f",
    };
  });
  return gridFigure({
    blocks: [{ panels }], perRow, rows: maps.height, cols: maps.width,
    title: options.title ?? `Feature maps of layer ${maps.layer} (${plotlyText(maps.name)})`,
    subtitle: `${maps.channels} channel${maps.channels === 1 ? "" : "s"} of ${maps.height}×${maps.width} · white = 0 (or the map's least) · dark = its strongest response`,
  });
}

function checkImages(value: { height: number; width: number; images: readonly ArrayLike<number>[] } | undefined, where: string, count: number): void {
  if (!value || typeof value !== "object" || !Array.isArray(value.images)) {
    throw new TypeError(`${where}: expected the result of ${where.startsWith("filters") ? "filterImages(net)" : "featureMaps(net, image)"}, got ${kindOf(value)}`);
  }
  if (value.images.length === 0 || value.images.length !== count) throw new RangeError(`${where}: ${value.images.length} images, expected ${count} (one per filter and channel)`);
  value.images.forEach((values, i) => {
    if (values.length !== value.height * value.width) {
      throw new RangeError(`${where}: image ${i} has ${values.length} values, expected ${value.height}×${value.width} = ${value.height * value.width}`);
    }
  });
}

function maxAbs(values: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i]!)) max = Math.max(max, Math.abs(values[i]!));
  return max;
}

function range(values: ArrayLike<number>): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return Number.isFinite(min) ? { min, max } : { min: 0, max: 1 };
}
