/**
 * Batches in the layout the training engine multiplies with, built in JavaScript from the uint8 images so no
 * big dataset tensor is ever sliced. Each input row gets a trailing 1: the engine stores each layer's bias as
 * the last column of its weight matrix, so one matrix product computes "weights · input + bias".
 *
 * Two orientations of the same numbers, because the engine multiplies with both (see `engine.ts`): `x` is
 * [size][inputs + 1] (one row per image) and `xT` is [inputs + 1][size] (one column per image). Transposing here
 * costs about as much as a transpose kernel, without the kernel.
 */
import type { Split } from "./data";

/** One batch: `size` images, their labels, and the pixels in the two layouts described above. */
export interface Batch {
  size: number;
  /** Pixels per image (rows × cols), without the appended 1. */
  inputs: number;
  /** [size][inputs + 1], row j = image j then a 1. */
  x: Float32Array;
  /** [inputs + 1][size], column j = image j then a 1; null unless asked for. */
  xT: Float32Array | null;
  labels: Uint8Array;
}

/**
 * Images `from`..`to` (exclusive) of a split, or of `order` (a permutation of the split) when shuffling;
 * `withColumns` adds the transposed orientation.
 * @example const batch = splitBatch(data.train, 0, 16, null, true); batch.xT!.length; // 785 * 16
 */
export function splitBatch(split: Split, from: number, to: number, order: Uint32Array | null, withColumns: boolean): Batch {
  const size = to - from;
  const inputs = split.rows * split.cols;
  const stride = inputs + 1;
  const x = new Float32Array(stride * size);
  const labels = order ? new Uint8Array(size) : split.labels.subarray(from, to);
  const images = split.images;
  for (let j = 0; j < size; j++) {
    const sample = order ? order[from + j]! : from + j;
    if (order) labels[j] = split.labels[sample]!;
    const row = j * stride;
    // A native uint8 → float32 copy, then b / 255 in float64 rounded to float32 on store: equal to PyTorch's
    // float32 b / 255 (float64 carries more than twice float32's precision, so no double-rounding error).
    // Faster than converting element by element or through a lookup table.
    x.set(images.subarray(sample * inputs, (sample + 1) * inputs), row);
    for (let p = row; p < row + inputs; p++) x[p] = x[p]! / 255;
    x[row + inputs] = 1;
  }
  return { size, inputs, x, xT: withColumns ? transposeRows(x, size, stride) : null, labels };
}

/**
 * Rows `from`..`to` of row-major float pixels ([count][inputs]) as a forward-only batch (no labels).
 * @example pixelBatch(new Float32Array(100 * 784), 784, 0, 100, false).size; // 100
 */
export function pixelBatch(values: Float32Array, inputs: number, from: number, to: number, withColumns: boolean): Batch {
  const size = to - from;
  const stride = inputs + 1;
  const x = new Float32Array(stride * size);
  for (let j = 0; j < size; j++) {
    x.set(values.subarray((from + j) * inputs, (from + j + 1) * inputs), j * stride);
    x[j * stride + inputs] = 1;
  }
  return { size, inputs, x, xT: withColumns ? transposeRows(x, size, stride) : null, labels: new Uint8Array(0) };
}

/** [rows][columns] → [columns][rows]. One row is its own transpose (same numbers, same order): no copy. */
function transposeRows(x: Float32Array, rows: number, columns: number): Float32Array {
  if (rows === 1) return x;
  const xT = new Float32Array(x.length);
  for (let c = 0; c < columns; c++) {
    const out = c * rows;
    for (let r = 0; r < rows; r++) xT[out + r] = x[r * columns + c]!;
  }
  return xT;
}

/**
 * `image` (width × height bytes) moved by (dx, dy) pixels into `out`, zeros where nothing moved in: the shift
 * augmentation draws for each image (the engine's and TensorFlow.js's routes alike).
 * @example shiftImage(image, out, 28, 28, 2, -1); // out[y][x] = image[y + 1][x − 2]
 */
export function shiftImage(image: Uint8Array, out: Uint8Array, width: number, height: number, dx: number, dy: number): void {
  out.fill(0);
  for (let y = 0; y < height; y++) {
    const sy = y - dy;
    if (sy < 0 || sy >= height) continue;
    for (let x = 0; x < width; x++) {
      const sx = x - dx;
      if (sx >= 0 && sx < width) out[y * width + x] = image[sy * width + sx]!;
    }
  }
}
