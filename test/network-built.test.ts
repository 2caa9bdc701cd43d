/**
 * A model the engine implements trains on the engine, with the engine's bits, whichever way it was built: a
 * `tf.sequential({ layers })`, layers added one by one with `model.add`, a functional `tf.model` whose layers are one
 * chain, or a file `loadModel` read. Branches send a functional model to TensorFlow.js instead, saying why.
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/engine/backend";
import { network, type NetworkModel } from "../lib/model/network-model";
import { train } from "../lib/train/loop";
import { loadModel, saveModel } from "../lib/saved/model-io";
import { smallMnist } from "./helpers/small-mnist";

before(async () => {
  await initBackend();
});

const L = tf.layers;
const conv = () => L.conv2d({ filters: 4, kernelSize: 5, activation: "relu" });

const ways: Record<string, () => tf.LayersModel> = {
  "tf.sequential({ layers })": () => tf.sequential({
    layers: [L.conv2d({ inputShape: [28, 28, 1], filters: 4, kernelSize: 5, activation: "relu" }), L.maxPooling2d({ poolSize: 2 }), L.flatten(), L.dropout({ rate: 0.25 }), L.dense({ units: 10 })],
  }),
  "model.add": () => {
    const model = tf.sequential();
    model.add(L.conv2d({ inputShape: [28, 28, 1], filters: 4, kernelSize: 5, activation: "relu" }));
    for (const layer of [L.maxPooling2d({ poolSize: 2 }), L.flatten(), L.dropout({ rate: 0.25 }), L.dense({ units: 10 })]) model.add(layer);
    return model;
  },
  "a functional chain": () => {
    const input = tf.input({ shape: [28, 28, 1] });
    let x = conv().apply(input) as tf.SymbolicTensor;
    for (const layer of [L.maxPooling2d({ poolSize: 2 }), L.flatten(), L.dropout({ rate: 0.25 }), L.dense({ units: 10 })]) x = layer.apply(x) as tf.SymbolicTensor;
    return tf.model({ inputs: input, outputs: x });
  },
};

const bits = (values: Float32Array) => Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString("base64");

test("the same net built three ways trains on the engine to the same bits (PyTorch's initial values, seed 1)", async () => {
  const data = await smallMnist(256, 64);
  const runs: Record<string, { losses: string; numbers: string; accuracy: number }> = {};
  const before = tf.memory().numTensors;
  for (const [way, make] of Object.entries(ways)) {
    const model = make();
    const net = network(model, { init: "torch", seed: 1 });
    assert.equal(net.trainer, "engine", way);
    assert.deepEqual(net.layers, ["conv4@5", "pool2", "drop0.25", "10"], way);
    const run = await train(net, data, { optimizer: "adam", batchSize: 32 });
    assert.equal(run.backend, "wasm", `${way}: the engine`);
    const { params, stats } = run.model.numbers();
    runs[way] = { losses: bits(run.losses), numbers: [...params, ...stats].map(bits).join(), accuracy: run.accuracy };
    run.model.dispose();
  }
  const [first, ...others] = Object.values(runs);
  for (const other of others) assert.deepEqual(other, first);
  assert.equal(tf.memory().numTensors, before, "no tensor left");
});

test("saved and loaded, a functional chain is still the engine's; a model with branches is TensorFlow.js's, saying why", async () => {
  const folder = mkdtempSync(join(tmpdir(), "mie-built-"));
  try {
    const data = await smallMnist(128, 64);
    const run = await train(network(ways["a functional chain"]!(), { init: "torch" }), data, { batchSize: 32 });
    await saveModel(run.model, folder);
    const loaded = await loadModel<NetworkModel>(folder);
    assert.equal(loaded.trainer, "engine");
    assert.deepEqual(loaded.predict(data.test).classes, run.model.predict(data.test).classes);
    loaded.dispose();
    run.model.dispose();
    const input = tf.input({ shape: [28, 28, 1] });
    const branches = L.concatenate().apply([conv().apply(input), conv().apply(input)] as tf.SymbolicTensor[]) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: L.dense({ units: 10 }).apply(L.flatten().apply(branches)) as tf.SymbolicTensor });
    const net = network(model);
    assert.equal(net.trainer, "tfjs");
    assert.match(net.engineLacks!, /^it is a functional tf\.model whose layers are not one chain/);
    net.dispose();
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});
