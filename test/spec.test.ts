import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/engine/backend";
import { mlp } from "../lib/model/model";
import { compare } from "../lib/runs/compare";
import type { Progress } from "../lib/train/progress";
import { checkSpec, resolveSpec, specModel, trainSpec, type RunSpec } from "../lib/runs/spec";
import { trainAll } from "../lib/runs/sweep";
import { train, type Run } from "../lib/train/loop";
import { checkDataset } from "../lib/train/checks";
import { smallMnist } from "./helpers/small-mnist";

before(async () => {
  await initBackend();
});

test("a spec trains exactly what mlp + train with the same values train; its seed is the model's", async () => {
  const data = await smallMnist(200, 50);
  const before = tf.memory().numTensors;
  const spec = { layers: [784, 12, 10], init: "glorot", seed: 7, optimizer: "momentum", momentum: 0.5, lr: 0.05, batchSize: 20 } as const;
  const fromSpec = await trainSpec(checkSpec({ ...spec, layers: [...spec.layers] }, checkDataset(data), "spec"), checkDataset(data));
  const byHand = await train(mlp([784, 12, 10], { init: "glorot", seed: 7 }), data, { optimizer: "momentum", momentum: 0.5, lr: 0.05, batchSize: 20 });
  assert.deepEqual(fromSpec.losses, byHand.losses);
  assert.equal(fromSpec.accuracy, byHand.accuracy);
  assert.equal(fromSpec.label, "784-12-10 momentum momentum 0.5 lr 0.05 batch 20 init glorot seed 7");
  assert.equal(specModel({ layers: [784, 10], seed: 3 }).seed, 3);
  [fromSpec, byHand].forEach((run) => run.model.dispose());
  assert.equal(tf.memory().numTensors, before);
});

test("checkSpec fills in the label and names the spec and the bad value; resolveSpec fills in defaults", async () => {
  const data = checkDataset(await smallMnist(32, 20));
  assert.equal(checkSpec({ layers: [784, 10], lr: 0.5 }, data, "s").label, "784-10 sgd lr 0.5 batch 16");
  assert.equal(checkSpec({ layers: [784, 10], label: "mine" }, data, "s").label, "mine");
  assert.deepEqual(resolveSpec({ layers: [784, 10] }), {
    init: "torch", seed: 0,
    settings: {
      optimizer: "sgd", lr: 0.001, batchSize: 16, epochs: 1, shuffle: false, shuffleSeed: null, momentum: null, lrDecay: null, lrRange: null,
      evaluate: true, evalEvery: null, evalOn: null, earlyStopping: null, resume: false, weightDecay: 0, normalize: null, augment: null, oneCycle: null,
    },
  });
  const cases: [unknown, RegExp][] = [
    [null, /^TypeError: s: expected a run such as \{ layers: \[784, 10\], lr: 0.001 \}, got null/],
    [{ layers: [784] }, /^RangeError: s: layers: expected at least two sizes/],
    [{ layers: [784, 10], seed: 1.5 }, /^RangeError: s: seed: expected an integer, got 1.5/],
    [{ layers: [784, 10], init: "he" }, /^RangeError: s: init: expected one of torch, glorot, zeros; got "he"/],
    [{ layers: [784, 10], shuffle: "yes" }, /^TypeError: s: shuffle: expected true or false, got "yes"/],
    [{ layers: [784, 10], evaluate: false }, /^RangeError: s: unknown key evaluate; a run has layers, model, init, seed, optimizer/],
    [{ layers: [784, 10], label: "big", batchSize: 0 }, /^RangeError: s \("big"\): batchSize: expected a positive integer, got 0/],
    [{ layers: [784, 9] }, /^RangeError: s: layers\[1\]: the model has 9 outputs, but MNIST has 10 classes/],
  ];
  for (const [spec, message] of cases) assert.throws(() => checkSpec(spec as never, data, "s"), (error: Error) => message.test(String(error)));
});

test("bad input through runs as data: each error names the spec (or vary.x[i]) before any run trains", async () => {
  const data = await smallMnist(100, 20);
  const trained: Run[] = [];
  const onRun = (run: Run): void => {
    trained.push(run);
  };
  const cases: [Promise<unknown>, RegExp][] = [
    [trainAll([{ layers: [784, 10] }], null as never), /^TypeError: data: expected a dataset from loadMnist\(\) or loadIdx\(folder\), got null$/],
    [trainAll([{ layers: [784, 10] }], {} as never), /^TypeError: data\.train: expected a split/],
    [
      trainAll([{ layers: [784, 10] }, { layers: [784, 10], label: "huge batch", batchSize: 101 }], data, { onRun }),
      /^RangeError: specs\[1\] \("huge batch"\): batchSize: 101 is more than the 100 training images of MNIST/,
    ],
    [trainAll([{ layers: [784, 10], epochs: 1e12 }], data), /^RangeError: specs\[0\]: epochs: 1,000,000,000,000 epochs of 7 steps is 7,000,000,000,000 steps; the limit is 100,000,000/],
    [trainAll([{ layers: [784, 1e9, 10], label: "wide" }], data), /^RangeError: specs\[0\] \("wide"\): layers\[1\]: a layer of 1,000,000,000 units on 784 inputs .* 3\.1 TB .* the limit is 125,000,000/],
    [compare({ layers: [784, 10] }, { batchSize: [16, 1000] }, data, { onRun }), /^RangeError: vary\.batchSize\[1\]: batchSize: 1,000 is more than the 100 training images/],
    [compare({ layers: [784, 10] }, { epochs: [1, 1e12] }, data, { onRun }), /^RangeError: vary\.epochs\[1\]: epochs: 1,000,000,000,000 epochs/],
    [compare({ layers: [784, 10] }, { layers: [[784, 10], [784, 1e9, 10]] }, data, { onRun }), /^RangeError: vary\.layers\[1\]: layers\[1\]: a layer of 1,000,000,000 units/],
    [compare({ layers: [784, 10] }, { lr: [0.1] }, null as never), /^TypeError: data: expected a dataset/],
  ];
  for (const [promise, message] of cases) await assert.rejects(promise, (error: Error) => message.test(String(error)) || assert.fail(String(error)));
  assert.equal(trained.length, 0, "nothing trained");
});

test("a diverged run keeps its NaN accuracy and divergence through a worker, the same as in this thread", async () => {
  const data = await smallMnist(640, 100);
  const specs: RunSpec[] = [{ layers: [784, 100, 10], lr: 1e6, label: "exploding" }, { layers: [784, 10], lr: 0.1, label: "fine" }];
  const progress: Progress[] = [];
  const pooled = await trainAll(specs, data, { workers: 2, onProgress: (p) => progress.push(p) });
  const inThread = await trainAll(specs, data, { workers: 1 });
  const [exploding, fine] = pooled;
  assert.ok(exploding!.diverged, "784-100-10 at lr 1e6 diverges");
  assert.ok(Number.isNaN(exploding!.accuracy));
  assert.deepEqual(exploding!.diverged, inThread[0]!.diverged);
  assert.ok(Number.isNaN(exploding!.diverged.loss) || !Number.isFinite(exploding!.diverged.loss), "the bad loss survives the transfer");
  assert.deepEqual(progress.find((p) => p.label === "exploding" && p.done)?.diverged, exploding!.diverged, "the worker's last report says it diverged");
  assert.ok(fine!.diverged === null && fine!.accuracy > 50, `the other run is unaffected (${fine!.accuracy}%)`);
  [...pooled, ...inThread].forEach((run) => run.model.dispose());
});
