import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/engine/backend";
import { checkDataset, checkRunFits, trainingImages } from "../lib/train/checks";
import { resolveSettings } from "../lib/train/settings";
import { compare } from "../lib/runs/compare";
import { trainAll } from "../lib/runs/sweep";
import type { Dataset } from "../lib/data/data";
import { smallMnist } from "./helpers/small-mnist";

before(async () => {
  await initBackend();
});

/** The dataset, and how many of its property reads came from inside `checkDataset` so far. */
function watched(data: Dataset): { data: Dataset; checkReads: () => number } {
  let reads = 0;
  const proxy = new Proxy(data, {
    get(target, key, receiver) {
      if (/\bcheckDataset\b/.test(new Error().stack ?? "")) reads++;
      return Reflect.get(target, key, receiver);
    },
  });
  return { data: proxy, checkReads: () => reads };
}

test("a sweep checks its dataset once, however many runs it has (compare used to check it 3N+2 times)", async () => {
  const data = await smallMnist(64, 20);
  const once = watched(data);
  checkDataset(once.data);
  const perCheck = once.checkReads();
  assert.ok(perCheck > 0, "the check reads the dataset (else this test could not see it)");
  const before = tf.memory().numTensors;
  for (const sweep of [
    (d: Dataset) => compare({ layers: [784, 10], batchSize: 32 }, { lr: [0.1, 0.2, 0.3] }, d, { workers: 1 }),
    (d: Dataset) => trainAll([1, 2, 3].map((seed) => ({ layers: [784, 10], batchSize: 32, seed })), d, { workers: 1 }),
  ]) {
    const counted = watched(data);
    const runs = await sweep(counted.data);
    assert.equal(runs.length, 3);
    assert.equal(counted.checkReads(), perCheck, "one check for the whole sweep");
    runs.forEach((run) => run.model.dispose());
  }
  assert.equal(tf.memory().numTensors, before);
});

test("checkRunFits asks what a checked dataset cannot answer alone: the model's fit, the holdout, the batch", async () => {
  const data = checkDataset(await smallMnist(64, 20));
  const settings = (options: Parameters<typeof resolveSettings>[0]) => resolveSettings(options);
  assert.throws(() => checkRunFits([28, 10], settings({}), data), /^RangeError: layers\[0\]: the model takes 28 inputs, but MNIST images have 28×28 = 784 pixels/);
  assert.throws(
    () => checkRunFits([784, 10], settings({ evalEvery: 1, evalOn: { holdout: 64 } }), data),
    /evalOn.holdout: 64 held-out images leave none of the 64 training images to train on/,
  );
  assert.throws(() => checkRunFits([784, 10], settings({ batchSize: 65 }), data), /batchSize: 65 is more than the 64 training images of MNIST/);
  assert.equal(trainingImages(data, { holdout: 14 }), 50);
  assert.equal(trainingImages(data, "test"), 64);
});
