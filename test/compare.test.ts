import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/backend";
import { compare } from "../lib/compare";
import { mlp } from "../lib/model";
import { train, type Progress, type Run } from "../lib/train";
import { smallMnist } from "./helpers/small-mnist";

before(async () => {
  await initBackend();
});

test("compare trains one fresh model per value, labelled by it, identical to separate train calls", async () => {
  const data = await smallMnist(160, 50);
  const before = tf.memory().numTensors;
  const labels: string[] = [];
  const finished: number[] = [];
  const runs = await compare(() => mlp([784, 10]), data, { batchSize: 16 }, { lr: [0.001, 0.5] }, {
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

test("compare labels optimizers, batch sizes and momentum by value; base.label becomes a prefix", async () => {
  const data = await smallMnist(64, 20);
  const cases: [Parameters<typeof compare>[3], Parameters<typeof compare>[2], string[]][] = [
    [{ optimizer: ["sgd", "adam"] }, {}, ["sgd", "adam"]],
    [{ batchSize: [16, 32] }, { label: "784-10" }, ["784-10 batch 16", "784-10 batch 32"]],
    [{ momentum: [0.5] }, {}, ["momentum 0.5"]],
  ];
  for (const [vary, base, expected] of cases) {
    const runs = await compare(() => mlp([784, 10]), data, { ...base, evaluate: false }, vary);
    assert.deepEqual(runs.map((r) => r.label), expected);
    runs.forEach((run) => run.model.dispose());
  }
});

test("compare over init passes each init to makeModel and refuses a makeModel that ignores it", async () => {
  const data = await smallMnist(32, 20);
  const runs = await compare((init) => mlp([784, 10], { init }), data, { evaluate: false }, { init: ["zeros", "glorot"] });
  assert.deepEqual(runs.map((r) => [r.label, r.init]), [["init zeros", "zeros"], ["init glorot", "glorot"]]);
  runs.forEach((run) => run.model.dispose());
  await assert.rejects(
    compare(() => mlp([784, 10]), data, {}, { init: ["zeros"] }),
    /vary.init asked for init "zeros" but makeModel built one with init "torch": pass the init through, e.g. \(init\) => mlp\(\[784, 10\], \{ init \}\)/,
  );
  await assert.rejects(compare((init) => mlp([784, 10], { init }), data, {}, { init: ["he" as never] }), /vary.init: expected values among torch, glorot, zeros; got "he"/);
});

test("compare needs exactly one varied setting and checks every value before training any", async () => {
  const data = await smallMnist(32, 20);
  const make = () => mlp([784, 10]);
  await assert.rejects(compare(make, data, {}, {}), /vary: expected exactly one setting to vary .* got none/);
  await assert.rejects(compare(make, data, {}, { lr: [0.1], batchSize: [16] }), /got lr and batchSize/);
  await assert.rejects(compare(make, data, {}, { epochs: [1, 2] } as never), /vary: cannot vary epochs; expected one of lr, optimizer, batchSize, momentum, init/);
  await assert.rejects(compare(make, data, {}, { lr: [] }), /vary.lr: expected a non-empty array of values, got \[\]/);
  const trained: Run[] = [];
  await assert.rejects(
    compare(make, data, {}, { lr: [0.1, -1] }, { onRun: (run) => trained.push(run) }),
    /lr: expected a finite number > 0, got -1/,
  );
  assert.equal(trained.length, 0, "the bad last value stopped everything before the first run");
  const progress: Progress[] = [];
  await assert.rejects(compare(make, data, { onProgress: (p) => progress.push(p) }, { batchSize: [8, 0] }), /batchSize: expected a positive integer, got 0/);
  assert.equal(progress.length, 0);
});
