/**
 * The figures' colours: a colour per run, the "wrong" red, and the symmetric per-class scales of weight images.
 */
import type { ColorScale } from "plotly.js-dist-min";

/**
 * Plotly's default colour cycle (D3 category10), spelled out so a run's marker can share its line's colour.
 * @example const colour = RUN_COLOURS[index % RUN_COLOURS.length]!;
 */
export const RUN_COLOURS = [
  "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
];

/**
 * Mistakes and warnings: a wrong prediction's title and frame, a diverged run's note.
 * @example font: { color: WRONG }
 */
export const WRONG = "#d62728";

/**
 * Plotly's own text colour, for annotations drawn by the figures (they do not inherit it).
 * @example font: { size: 12, color: TEXT_COLOUR }
 */
export const TEXT_COLOUR = "#2a3f5f";

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
 * @example weightGridFigure(weights, { colourScales: CLASS_COLOUR_SCALES.map(() => UNIT_COLOUR_SCALE) });
 */
export const CLASS_COLOUR_SCALES: ReadonlyArray<Array<[number, string]>> = [
  "YlGnBu", "Purples", "Blues", "Greys", "Greens", "Oranges", "Reds", "RdPu", "BuPu", "BuGn",
].map((name) => twoSided(name === "Greys" ? NEGATIVE_BROWN : NEGATIVE_GREY, SEQUENTIAL[name]!));

/**
 * Scale for weights that belong to no class (hidden units): ColorBrewer RdBu, red negative, white 0, blue positive.
 * @example weightGridFigure(weights, { colourScales: UNIT_COLOUR_SCALE });
 */
export const UNIT_COLOUR_SCALE: Array<[number, string]> = twoSided(
  ["#fddbc7", "#f4a582", "#d6604d", "#b2182b", "#67001f"],
  ["#d1e5f0", "#92c5de", "#4393c3", "#2166ac", "#053061"],
);

/** A colour scale: a Plotly scale name ("Blues", "RdBu", …) or [stop, colour] pairs with stops 0..1. */
export type NamedOrStops = string | Array<[number, string]>;

/**
 * The scale of one class: `CLASS_COLOUR_SCALES` by default, else the caller's one scale for all, or their list's
 * entry for this class (repeating when the list is shorter).
 * @example pickScale(["Blues", "Reds"], 2); // "Blues"
 */
export function pickScale(scales: NamedOrStops | readonly NamedOrStops[] | undefined, unit: number): ColorScale {
  if (scales === undefined) return CLASS_COLOUR_SCALES[unit % CLASS_COLOUR_SCALES.length]!;
  if (typeof scales === "string") return scales;
  // A list of [stop, colour] pairs is one scale; any other list holds one scale per class.
  if (Array.isArray(scales[0]) && typeof scales[0][0] === "number") return scales as Array<[number, string]>;
  return (scales as readonly NamedOrStops[])[unit % scales.length]!;
}

/**
 * A colour range's top: a range of zero (all-zero weights, e.g. zero init) would be invalid for Plotly, so ±1
 * instead, and zeros show white.
 * @example positiveOr1(0); // 1
 */
export function positiveOr1(value: number): number {
  return value > 0 && Number.isFinite(value) ? value : 1;
}
