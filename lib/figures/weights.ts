/**
 * Weights as images: each output unit's 784 incoming weights drawn as a 28×28 picture, for the classes of a
 * 784→10 layer (`weightGridFigure`) or chosen hidden units of a 784→N layer (`hiddenUnitsFigure`).
 */
import type { ColorScale } from "plotly.js-dist-min";
import type { LayerWeights } from "../model/model";
import { assertPositiveInt, classNames, kindOf, isArrayLike } from "./check";
import { pickScale, positiveOr1, UNIT_COLOUR_SCALE, type NamedOrStops } from "./colours";
import { gridFigure, toRows, type Panel } from "./grid";
import type { Figure } from "./kit";
import { plotlyText } from "./text";

/** One labelled set of weights, for comparing settings one above the other. */
export interface WeightSet {
  label: string;
  weights: LayerWeights;
}

/** Options for `weightGridFigure`. */
export interface WeightGridOptions {
  title?: string;
  /** One name per output unit (default "0".."9"). */
  classNames?: readonly string[];
  /**
   * One scale for every class (a Plotly name such as "RdBu", or [stop, colour] pairs), or a list with one per
   * class (default `CLASS_COLOUR_SCALES`).
   */
  colourScales?: NamedOrStops | readonly NamedOrStops[];
  /** Scale every image to the largest |weight| of its set instead of its own (compares magnitudes). */
  sharedRange?: boolean;
  /** Images per row (default 5: the original's 2×5). */
  perRow?: number;
}

/**
 * Each output unit's incoming weights of a 784→10 layer as a 28×28 image (class c is `kernel[p * 10 + c]`), in a
 * 2×5 grid, one colour scale per class. The range is symmetric (zmin = -zmax, per image by default) so zero is
 * white and the sign of a weight reads directly. Several `{ label, weights }` sets are stacked one above the
 * other with their label as a header (e.g. lr 0.001 over lr 0.5, as the original's figure).
 * @example show.figure(weightGridFigure([{ label: "lr 0.001", weights: a }, { label: "lr 0.5", weights: b }]));
 */
export function weightGridFigure(weights: LayerWeights | readonly WeightSet[], options: WeightGridOptions = {}): Figure {
  const sets: { label?: string; weights: LayerWeights }[] = Array.isArray(weights)
    ? (weights as readonly WeightSet[]).map((set, i) => {
        if (!set || typeof set !== "object" || !("weights" in set)) {
          throw new TypeError(`weightGridFigure: weights[${i}] must be { label, weights }, got ${kindOf(set)}`);
        }
        return { label: String(set.label), weights: set.weights };
      })
    : [{ weights: weights as LayerWeights }];
  if (sets.length === 0) throw new RangeError("weightGridFigure: weights is an empty list; pass at least one set");
  const perRow = options.perRow ?? 5;
  assertPositiveInt(perRow, "weightGridFigure: options.perRow");
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
    const panels = images.map((values, unit) =>
      weightPanel(values, side, options.sharedRange ? shared : maxAbs(values), {
        title: `class ${names[unit]}`,
        hover: `class ${names[unit]}${set.label !== undefined ? ` · ${plotlyText(set.label)}` : ""}`,
        colourScale: pickScale(options.colourScales, unit),
      }),
    );
    return { ...(set.label !== undefined ? { header: plotlyText(set.label) } : {}), panels };
  });
  const sides = new Set(sets.map((set) => set.weights.shape[0]));
  if (sides.size > 1) {
    throw new RangeError(`weightGridFigure: the sets have different input sizes (${[...sides].join(", ")}); compare like with like`);
  }
  const side = Math.sqrt(sets[0]!.weights.shape[0]!);
  return gridFigure({
    blocks,
    perRow,
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
  perRow?: number;
  colourScale?: ColorScale;
}

/**
 * The incoming weights of chosen hidden units of a first layer (784→N) as 28×28 images, each scaled to its own
 * symmetric range (white = 0, blue positive, red negative): what each unit "looks for" in the image.
 * @example show.figure(hiddenUnitsFigure(model.weights(0), { units: [0, 1, 2, 3] }));
 */
export function hiddenUnitsFigure(weights: LayerWeights, options: HiddenUnitsOptions = {}): Figure {
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
  const perRow = options.perRow ?? Math.min(8, units.length);
  assertPositiveInt(perRow, "hiddenUnitsFigure: options.perRow");
  const panels = units.map((unit) => {
    const values = columnOf(weights.kernel, inputs, outputs, unit);
    return weightPanel(values, side, maxAbs(values), {
      title: `unit ${unit}`,
      hover: `unit ${unit}`,
      colourScale: options.colourScale ?? UNIT_COLOUR_SCALE,
    });
  });
  return gridFigure({
    blocks: [{ panels }],
    perRow,
    rows: side,
    cols: side,
    title: options.title ?? `Input weights of ${units.length} of ${outputs} hidden units`,
    subtitle: "white = 0 · blue = positive · red = negative · each image scaled to its own ±max |weight|",
  });
}

/** One unit's weights as a side×side image on the range ±`largest`, so zero is the scale's white middle. */
function weightPanel(
  values: readonly number[],
  side: number,
  largest: number,
  text: { title: string; hover: string; colourScale: ColorScale },
): Panel {
  const zmax = positiveOr1(largest);
  return { z: toRows(values, side, side, 4), ...text, zmin: -zmax, zmax, valueFormat: ".4f" };
}

/** The layer's sizes, after checking it is a first layer whose inputs form a square image. */
function checkWeights(weights: LayerWeights, where: string): { inputs: number; outputs: number; side: number } {
  if (!weights || typeof weights !== "object" || !Array.isArray(weights.shape) || !isArrayLike(weights.kernel)) {
    throw new TypeError(`${where}: expected { shape: [inputs, outputs], kernel, bias }, got ${kindOf(weights)}`);
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

/** The incoming weights of one unit: a column of the row-major kernel. */
function columnOf(kernel: ArrayLike<number>, inputs: number, outputs: number, unit: number): number[] {
  const out = new Array<number>(inputs);
  for (let p = 0; p < inputs; p++) out[p] = kernel[p * outputs + unit]!;
  return out;
}

/** The largest finite |value|. */
function maxAbs(values: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < values.length; i++) {
    const v = Math.abs(values[i]!);
    if (v > max && Number.isFinite(v)) max = v;
  }
  return max;
}
