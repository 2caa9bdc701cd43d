/**
 * Models TensorFlow.js trains go to the worker pool like the engine's: each worker rebuilds the model from its
 * config and gives the bits `train` gives in this thread. A model with a layer class registered in this process
 * only cannot be rebuilt in a worker: its runs train here, one after another, and a sentence says why.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/engine/backend";
import { network, type NetworkModel } from "../lib/model/network-model";
import { closeWorkers } from "../lib/runs/pool";
import { trainAll } from "../lib/runs/sweep";
import { train, type Run } from "../lib/train/loop";
import { leakyNet } from "./helpers/tfjs-nets";
import { smallMnist } from "./helpers/small-mnist";

after(closeWorkers);

const bits = (run: Run<NetworkModel>) => {
  const { params, stats } = run.model.numbers();
  return [run.losses, ...params, ...stats].map((values) => Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString("base64")).join();
};

test("runs of a model TensorFlow.js trains, on two workers, give the bits of train() in this thread", async () => {
  await initBackend();
  const data = await smallMnist(256, 50);
  const settings = { optimizer: "adam" as const, batchSize: 32, shuffle: true };
  const pooled = await trainAll([1, 2].map((seed) => ({ model: leakyNet(), init: "seeded" as const, seed, ...settings })), data, { workers: 2, store: "off" });
  for (const [k, seed] of [1, 2].entries()) {
    assert.equal(pooled[k]!.model.trainer, "tfjs");
    const here = await train(network(leakyNet(), { init: "seeded", seed }), data, settings);
    assert.equal(bits(pooled[k]!), bits(here), `seed ${seed}: the same losses and numbers`);
    here.model.dispose();
    pooled[k]!.model.dispose();
  }
});

class Doubled extends tf.layers.Layer {
  static className = "DoubledForTheTest";
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => tf.mul(Array.isArray(inputs) ? inputs[0]! : inputs, 2));
  }
}
tf.serialization.registerClass(Doubled);

test("a layer class of one's own keeps a sweep in this thread, and a sentence names the class", async () => {
  await initBackend();
  const data = await smallMnist(128, 50);
  const make = () => tf.sequential({ layers: [tf.layers.flatten({ inputShape: [28, 28, 1] }), new Doubled({}), tf.layers.dense({ units: 10 })] });
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => warnings.push(args.join(" "));
  let runs: Run<NetworkModel>[];
  try {
    runs = await trainAll([1, 2].map((seed) => ({ model: make(), init: "seeded" as const, seed })), data, { workers: 2, store: "off" });
  } finally {
    console.warn = warn;
  }
  assert.deepEqual(warnings, [
    "trainAll: these runs train one after another in this thread, not in workers: the layer class DoubledForTheTest is registered in this process only, and a worker could not rebuild the model",
  ]);
  assert.deepEqual(runs.map((run) => run.layers), [["DoubledForTheTest", "10"], ["DoubledForTheTest", "10"]]);
  assert.ok(runs.every((run) => run.steps === 8 && Number.isFinite(run.accuracy)));
  runs.forEach((run) => run.model.dispose());
});
