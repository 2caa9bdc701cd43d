import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/engine/backend";
import { combinations, compare, type Vary } from "../lib/runs/compare";
import { mlp } from "../lib/model/model";
import type { RunSpec } from "../lib/runs/spec";
import { train, type Run } from "../lib/train/loop";
import type { Progress } from "../lib/train/progress";
import { smallMnist } from "./helpers/small-mnist";

before(async () => {
  await initBackend();
});

const oneLayer = { layers: [784, 10] };

test("compare trains one fresh model per value, labelled by it, identical to separate train calls", async () => {
  const data = await smallMnist(160, 50);
  const before = tf.memory().numTensors;
  const labels: string[] = [];
  const finished: number[] = [];
  const runs = await compare({ ...oneLayer, batchSize: 16 }, { lr: [0.001, 0.5] }, data, {
    workers: 1,
    onProgress: (p) => labels.push(p.label),
    onRun: (_, index) => finished.push(index),
  });
  assert.deepEqual(runs.map((r) => r.label), ["lr 0.001", "lr 0.5"]);
  assert.deepEqual(runs.map((r) => r.settings.lr), [0.001, 0.5]);
  assert.deepEqual([...new Set(labels)], ["lr 0.001", "lr 0.5"]);
  assert.deepEqual(finished, [0, 1]);
  assert.notEqual(runs[0]!.model, runs[1]!.model);
  const single = await train(mlp([784, 10]), data, { batchSize: 16, lr: 0.5 });
  assert.deepEqual(runs[1]!.losses, single.losses);
  assert.equal(tf.memory().numTensors, before + 3, "one tensor per model kept by its run");
  [...runs, single].forEach((run) => run.model.dispose());
  assert.equal(tf.memory().numTensors, before);
});

test("compare labels each run by what varies; base.label becomes a prefix", async () => {
  const data = await smallMnist(64, 20);
  const cases: [Partial<RunSpec>, Vary, string[]][] = [
    [oneLayer, { optimizer: ["sgd", "adam"] }, ["sgd", "adam"]],
    [{ ...oneLayer, label: "784-10" }, { batchSize: [16, 32] }, ["784-10 batch 16", "784-10 batch 32"]],
    [oneLayer, { momentum: [0.5] }, ["momentum 0.5"]],
    [oneLayer, { init: ["zeros", "glorot"] }, ["init zeros", "init glorot"]],
    [oneLayer, { seed: [0, 3] }, ["seed 0", "seed 3"]],
    [{}, { layers: [[784, 10], [784, 8, 10]] }, ["784-10", "784-8-10"]],
    [oneLayer, { epochs: [1, 2] }, ["1 epoch", "2 epochs"]],
    [{ ...oneLayer, shuffle: true }, { shuffleSeed: [1, 2] }, ["shuffle seed 1", "shuffle seed 2"]],
  ];
  for (const [base, vary, expected] of cases) {
    const runs = await compare(base, vary, data, { workers: 1 });
    assert.deepEqual(runs.map((r) => r.label), expected);
    runs.forEach((run) => run.model.dispose());
  }
});

test("varying the seed varies the initial weights (the model's seed), not the order of the batches", async () => {
  const data = await smallMnist(64, 20);
  const runs = await compare({ ...oneLayer, lr: 0.1 }, { seed: [0, 1] }, data, { workers: 1 });
  assert.deepEqual(runs.map((run) => run.model.seed), [0, 1]);
  assert.deepEqual(runs.map((run) => run.settings.shuffle), [false, false]);
  const byHand = await train(mlp([784, 10], { seed: 1 }), data, { lr: 0.1 });
  assert.deepEqual(runs[1]!.losses, byHand.losses);
  assert.notDeepEqual(runs[0]!.losses, runs[1]!.losses);
  [...runs, byHand].forEach((run) => run.model.dispose());
});

test("compare varies whole configurations, labelled by every key that differs, or by their own labels", async () => {
  const data = await smallMnist(64, 20);
  const runs = await compare({ batchSize: 32 }, {
    config: [
      { layers: [784, 10], optimizer: "adam", lr: 0.001, batchSize: 64 },
      { layers: [784, 8, 10], optimizer: "sgd", lr: 0.1 },
      { layers: [784, 10], optimizer: "momentum", lr: 0.01, label: "mine" },
    ],
  }, data, { workers: 1 });
  assert.deepEqual(runs.map((run) => run.label), ["784-10, adam 0.001, batch 64", "784-8-10, sgd 0.1, batch 32", "mine"]);
  assert.deepEqual(runs.map((run) => [run.layers, run.settings.optimizer, run.settings.batchSize]), [
    [[784, 10], "adam", 64], [[784, 8, 10], "sgd", 32], [[784, 10], "momentum", 32],
  ]);
  runs.forEach((run) => run.model.dispose());
});

test("compare labels a varied schedule and accuracy curve by what they do", async () => {
  const data = await smallMnist(64, 20);
  const runs = await compare({ layers: [784, 10], batchSize: 32, epochs: 2 }, {
    config: [{}, { lrDecay: { factor: 0.5, every: 1 }, evalEvery: "epoch" }, { evalEvery: 1, evalOn: { holdout: 32 } }],
  }, data, { workers: 1 });
  assert.deepEqual(runs.map((run) => run.label), [
    "constant lr, no accuracy curve", "lr ×0.5 every epoch, accuracy every epoch", "constant lr, accuracy every 1 step, holdout 32",
  ]);
  assert.deepEqual(runs.map((run) => run.evaluations.length), [0, 2, 2]);
  runs.forEach((run) => run.model.dispose());
});

test("compare needs exactly one varied setting and checks every value before training any", async () => {
  const data = await smallMnist(32, 20);
  await assert.rejects(compare(oneLayer, {} as Vary, data), /vary: expected exactly one setting to vary .* got none/);
  await assert.rejects(compare(oneLayer, { lr: [0.1], batchSize: [16] } as Vary, data), /got lr and batchSize \(to vary several together, use \{ config/);
  await assert.rejects(compare(oneLayer, { label: ["a"] } as never, data), /vary: cannot vary label; expected one of layers, model, init, seed/);
  await assert.rejects(compare(oneLayer, { lr: [] }, data), /vary.lr: expected a non-empty array of values, got \[\]/);
  await assert.rejects(compare({}, { lr: [0.1] }, data), /vary.lr\[0\]: no layers: give them in base/);
  await assert.rejects(compare(oneLayer, { init: ["he" as never] }, data), /vary.init\[0\]: init: expected one of torch, glorot, zeros; got "he"/);
  await assert.rejects(compare(oneLayer, { config: [{ lr: 0.1, learningRate: 2 } as never] }, data), /vary.config\[0\]: unknown key learningRate/);
  await assert.rejects(compare(oneLayer, { lr: [0.1, 0.1] }, data), /specs\[0\] and specs\[1\] are both labelled "lr 0.1"/);
  const trained: Run[] = [];
  await assert.rejects(
    compare(oneLayer, { lr: [0.1, -1] }, data, { onRun: (run) => trained.push(run) }),
    /vary.lr\[1\]: lr: expected a finite number > 0, got -1/,
  );
  assert.equal(trained.length, 0, "the bad last value stopped everything before the first run");
  const progress: Progress[] = [];
  await assert.rejects(compare(oneLayer, { batchSize: [8, 0] }, data, { onProgress: (p) => progress.push(p) }), /batchSize: expected a positive integer, got 0/);
  assert.equal(progress.length, 0);
  await assert.rejects(compare(oneLayer, { layers: [[28, 10]] }, data), /vary.layers\[0\]: layers\[0\]: the model takes 28 inputs, but MNIST images have 28×28/);
});

test("combinations lists every combination of the values, the first key slowest, and refuses what compare cannot vary", () => {
  assert.deepEqual(combinations({ lr: [0.5, 0.1], seed: [0, 1] }), [
    { lr: 0.5, seed: 0 }, { lr: 0.5, seed: 1 }, { lr: 0.1, seed: 0 }, { lr: 0.1, seed: 1 },
  ]);
  assert.deepEqual(combinations({ layers: [[784, 10]] }), [{ layers: [784, 10] }]);
  assert.throws(() => combinations({ lr: [] }), /combinations: lr needs a non-empty array of values, got \[\]/);
  assert.throws(() => combinations({ label: ["x"] } as never), /combinations: cannot vary label/);
});
