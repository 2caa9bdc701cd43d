import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/engine/backend";
import { mlp } from "../lib/model/model";
import { engineLayers } from "../lib/model/model-state";
import { restoreModel, snapshotModel } from "../lib/model/snapshot";
import { train } from "../lib/train/loop";
import { smallMnist } from "./helpers/small-mnist";

before(async () => {
  await initBackend();
});

test("a snapshot rebuilds the same model: layouts, weights and predictions bit for bit, and its training count", async () => {
  const data = await smallMnist(320, 100);
  const run = await train(mlp([784, 40, 10], { init: "glorot", seed: 4 }), data, { lr: 0.1, batchSize: 32, evaluate: false });
  const before = tf.memory().numTensors;
  const snapshot = snapshotModel(run.model);
  assert.deepEqual(JSON.parse(JSON.stringify({ ...snapshot, params: [] })), { ...snapshot, params: [] }, "plain data around the arrays");
  const copy = restoreModel(snapshot);
  assert.equal(tf.memory().numTensors, before + 2, "one tensor per layer");
  assert.deepEqual(engineLayers(copy).map((layer) => layer.layout), engineLayers(run.model).map((layer) => layer.layout));
  assert.deepEqual([copy.layers, copy.init, copy.seed, copy.trainedSteps], [run.model.layers, "glorot", 4, 10]);
  assert.deepEqual(copy.weights(0), run.model.weights(0));
  assert.deepEqual(copy.predict(data.test).logits, run.model.predict(data.test).logits);
  await assert.rejects(train(copy, data), /model already trained for 10 steps/);
  copy.dispose();
  run.model.dispose();
  assert.equal(tf.memory().numTensors, before - 2);
});

test("restoreModel refuses parameters that do not match the layers", () => {
  const model = mlp([784, 10]);
  const snapshot = snapshotModel(model);
  model.dispose();
  assert.throws(() => restoreModel({ ...snapshot, layers: [784, 20, 10] }), /restoreModel: expected 2 layers of parameters for 784→20→10, got 1/);
  assert.throws(() => restoreModel({ ...snapshot, layers: [784, 0] }), /layers\[1\]: expected a positive integer number of units, got 0/);
});
