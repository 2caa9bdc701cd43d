/** Dataset images in a grid, titled with their labels (and predictions, mistakes in red). */
import { assertPositiveInt, kindOf, isArrayLike } from "./check";
import { WRONG } from "./colours";
import { gridFigure, toRows, type Panel } from "./grid";
import type { Figure } from "./kit";
import { plotlyText } from "./text";

/** Images with their labels, e.g. a dataset split (`{ images, labels, rows, cols }`). */
export interface LabelledImages {
  /** `count * rows * cols` pixel values, 0–255 (or 0–1), row-major. */
  images: ArrayLike<number>;
  labels: ArrayLike<number>;
  rows?: number;
  cols?: number;
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
  perRow?: number;
  /** Image height and width in pixels when the split has no rows/cols (default 28×28). */
  rows?: number;
  cols?: number;
}

/**
 * A grid of images titled "This is a 5" (as the original), or "label 5 · predicted 3" with mistakes in red and
 * framed when `predictions` are given. Dark ink on white; hover shows the pixel value.
 * @example show.figure(samplesFigure(data.train, { count: 5 }));
 */
export function samplesFigure(split: LabelledImages, options: SamplesOptions = {}): Figure {
  const { pixels, labels, height, width, chosen, predictions } = checkSamples(split, options);
  const size = height * width;
  const name = (c: number): string =>
    options.classNames ? plotlyText(options.classNames[c] ?? c) : String(c);
  let brightest = 0;
  for (const index of chosen) {
    for (let i = index * size; i < (index + 1) * size; i++) brightest = Math.max(brightest, pixels[i]!);
  }
  // Pixels are either bytes (0–255) or already scaled to 0–1.
  const zmax = brightest > 1 ? 255 : 1;
  const panels = chosen.map((index): Panel => {
    const label = labels[index]!;
    const predicted = predictions?.[index];
    const wrong = predicted !== undefined && predicted !== label;
    const values = Array.prototype.slice.call(pixels, index * size, (index + 1) * size) as number[];
    return {
      z: toRows(values, height, width, 4),
      title: predicted === undefined ? `This is a ${name(label)}` : `label ${name(label)} · predicted ${name(predicted)}`,
      ...(wrong ? { titleColour: WRONG, border: WRONG } : {}),
      colourScale: [
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
  const perRow = options.perRow ?? Math.min(5, chosen.length);
  assertPositiveInt(perRow, "samplesFigure: options.perRow");
  return gridFigure({
    blocks: [{ panels }],
    perRow,
    rows: height,
    cols: width,
    title: options.title ?? (predictions ? "Test images and predictions" : "Training images"),
    ...(predictions ? { subtitle: `${mistakes} of ${chosen.length} wrong (red)` } : {}),
  });
}

/** The split's images and labels, their size, the images to draw and the predictions, after checking they fit. */
function checkSamples(split: LabelledImages, options: SamplesOptions) {
  if (!split || typeof split !== "object" || !isArrayLike(split.images)) {
    throw new TypeError(`samplesFigure: split must be { images, labels } (e.g. data.train), got ${kindOf(split)}`);
  }
  const { images: pixels, labels } = split;
  const height = options.rows ?? split.rows ?? 28;
  const width = options.cols ?? split.cols ?? 28;
  if (!isArrayLike(labels)) throw new TypeError(`samplesFigure: labels must be an array of classes, got ${kindOf(labels)}`);
  const size = height * width;
  if (pixels.length % size !== 0) {
    throw new RangeError(`samplesFigure: images has ${pixels.length} values, not a multiple of ${height}×${width} = ${size}`);
  }
  const available = pixels.length / size;
  if (labels.length !== available) {
    throw new RangeError(`samplesFigure: ${available} images but ${labels.length} labels; expected one label per image`);
  }
  const chosen = options.indices ?? firstImages(options, available);
  assertPositiveInt(chosen.length, "samplesFigure: options.indices.length");
  const outside = chosen.find((index) => !Number.isInteger(index) || index < 0 || index >= available);
  if (outside !== undefined) {
    throw new RangeError(`samplesFigure: image ${outside} requested but there are ${available} (indices 0..${available - 1})`);
  }
  const predictions = options.predictions;
  if (predictions !== undefined && (!isArrayLike(predictions) || predictions.length !== labels.length)) {
    throw new RangeError(
      `samplesFigure: options.predictions must have one class per label (${labels.length}), got ${kindOf(predictions)}`,
    );
  }
  return { pixels, labels, height, width, chosen, predictions };
}

/** The indices `start`, `start + 1`, … of `count` images (default: up to 10), checked against the split's size. */
function firstImages(options: SamplesOptions, available: number): number[] {
  const start = options.start ?? 0;
  const count = options.count ?? Math.min(10, available - start);
  assertPositiveInt(count, "samplesFigure: options.count");
  if (!Number.isInteger(start) || start < 0 || start + count > available) {
    throw new RangeError(`samplesFigure: images ${start}..${start + count - 1} requested but there are ${available}`);
  }
  return Array.from({ length: count }, (_, k) => start + k);
}
