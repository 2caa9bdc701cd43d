import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/backend";
import { mlp } from "../lib/model";
import { checkSpec, resolveSpec, specModel, trainSpec } from "../lib/spec";
import { train } from "../lib/train";
import { smallMnist } from "./helpers/small-mnist";

before(async () => {
  await initBackend();
});

test("a spec trains exactly what mlp + train with the same values train; its seed is the model's", async () => {
  const data = await smallMnist(200, 50);
  const before = tf.memory().numTensors;
  const spec = { layers: [784, 12, 10], init: "glorot", seed: 7, optimizer: "momentum", momentum: 0.5, lr: 0.05, batchSize: 20 } as const;
  const fromSpec = await trainSpec({ ...spec, layers: [...spec.layers] }, data);
  const byHand = await train(mlp([784, 12, 10], { init: "glorot", seed: 7 }), data, { optimizer: "momentum", momentum: 0.5, lr: 0.05, batchSize: 20 });
  assert.deepEqual(fromSpec.losses, byHand.losses);
  assert.equal(fromSpec.accuracy, byHand.accuracy);
  assert.equal(fromSpec.label, "784-12-10 momentum momentum 0.5 lr 0.05 batch 20 init glorot seed 7");
  assert.equal(specModel({ layers: [784, 10], seed: 3 }).seed, 3);
  [fromSpec, byHand].forEach((run) => run.model.dispose());
  assert.equal(tf.memory().numTensors, before);
});

test("checkSpec fills in the label and names the spec and the bad value; resolveSpec fills in defaults", async () => {
  const data = await smallMnist(32, 20);
  assert.equal(checkSpec({ layers: [784, 10], lr: 0.5 }, data, "s").label, "784-10 sgd lr 0.5 batch 16");
  assert.equal(checkSpec({ layers: [784, 10], label: "mine" }, data, "s").label, "mine");
  assert.deepEqual(resolveSpec({ layers: [784, 10] }), {
    init: "torch", seed: 0,
    settings: { optimizer: "sgd", lr: 0.001, batchSize: 16, epochs: 1, shuffle: false, shuffleSeed: null, momentum: null, evaluate: true, resume: false },
  });
  const cases: [unknown, RegExp][] = [
    [null, /^TypeError: s: expected a run such as \{ layers: \[784, 10\], lr: 0.001 \}, got null/],
    [{ layers: [784] }, /^RangeError: s: layers: expected at least two sizes/],
    [{ layers: [784, 10], seed: 1.5 }, /^RangeError: s: seed: expected an integer, got 1.5/],
    [{ layers: [784, 10], init: "he" }, /^RangeError: s: init: expected one of torch, glorot, zeros; got "he"/],
    [{ layers: [784, 10], shuffle: "yes" }, /^TypeError: s: shuffle: expected true or false, got "yes"/],
    [{ layers: [784, 10], evaluate: false }, /^RangeError: s: unknown key evaluate; a run has layers, init, seed, optimizer/],
    [{ layers: [784, 10], label: "big", batchSize: 0 }, /^RangeError: s \("big"\): batchSize: expected a positive integer, got 0/],
    [{ layers: [784, 9] }, /^RangeError: s: layers\[1\]: the model has 9 outputs, but MNIST has 10 classes/],
  ];
  for (const [spec, message] of cases) assert.throws(() => checkSpec(spec as never, data, "s"), (error: Error) => message.test(String(error)));
});
