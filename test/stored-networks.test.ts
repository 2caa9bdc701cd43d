/**
 * Networks of tf.layers in the run store: keyed by their description, topology (not its layer names), initial
 * numbers, init and seed; a stored network run is the retrained run bit for bit, restored into the caller's network;
 * a damaged network.json is named and retrained; keys of runs without networks are unchanged (run-key.test.ts).
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/engine/backend";
import { network } from "../lib/model/network-model";
import { restoreNetwork, snapshotNetwork } from "../lib/model/snapshot";
import { modelPart } from "../lib/runs/run-key";
import { train } from "../lib/runs/train-with-store";
import { MNIST_NORMALIZATION } from "../lib/train/settings";
import { bnNet, lenet, networkBits } from "./helpers/nets";
import { smallMnist } from "./helpers/small-mnist";

before(async () => {
  await initBackend();
});

function tempStore(t: { after: (fn: () => void) => void }): string {
  const folder = mkdtempSync(join(tmpdir(), "mie-stored-networks-"));
  t.after(() => rmSync(folder, { recursive: true, force: true }));
  return folder;
}

const entries = (folder: string): string[] => readdirSync(folder).filter((name) => !name.startsWith("."));

test("a stored network run is the retrained run, bit for bit: losses, accuracy, confusion, params, batch-norm statistics, steps, scaling", async (t) => {
  const folder = tempStore(t);
  const data = await smallMnist(640, 500);
  const cases = [
    { name: "LeNet-like, adam", net: () => network(lenet(), { init: "torch", seed: 1 }), options: { optimizer: "adam" as const, batchSize: 64 } },
    {
      name: "batch norm and dropout, its own initial weights, every new setting",
      net: (() => {
        const tfModel = bnNet(); // "own" numbers are tfjs's random draw: one model, read twice, has the same ones
        return () => network(tfModel);
      })(),
      options: {
        optimizer: "adamw" as const, lr: 0.003, batchSize: 32, weightDecay: 0.01, normalize: MNIST_NORMALIZATION, augment: { shift: 2, seed: 3 },
        evalEvery: 10, epochs: 2, oneCycle: { maxLr: 0.01 },
      },
    },
  ];
  for (const { name, net, options } of cases) {
    const first = await train(net(), data, { ...options, store: folder });
    assert.equal(first.stored, undefined, `${name}: trained the first time`);
    const caller = net();
    const before = tf.memory().numTensors;
    const hit = await train(caller, data, { ...options, store: folder, label: "again" });
    assert.equal(tf.memory().numTensors, before, `${name}: reading a stored run makes no tensors`);
    assert.ok(hit.stored, `${name}: read from the store`);
    assert.equal(hit.label, "again");
    assert.equal(hit.model, caller, `${name}: the network passed in is the one returned, now trained`);
    const retrained = await train(net(), data, { ...options, store: "off" });
    assert.ok(retrained.steps > 0 && retrained.model.trainedSteps === retrained.steps);
    assert.deepEqual(networkBits(hit), networkBits(retrained), `${name}: the stored run is the retrained one, to the bit`);
    assert.deepEqual(networkBits(first), networkBits(retrained), `${name}: and the first run`);
    assert.deepEqual(hit.model.predict(data.test).logits, retrained.model.predict(data.test).logits, `${name}: the same predictions`);
    await assert.rejects(train(caller, data, { ...options, store: folder }), /already trained/, `${name}: a stored run counts as trained`);
    const resumed = await train(caller, data, { ...options, store: folder, resume: true, evaluate: false });
    assert.equal(resumed.stored, undefined, `${name}: a resumed run is another run`);
    assert.equal(caller.trainedSteps, 2 * hit.steps);
    t.diagnostic(`${name}: ${hit.accuracy}% from the store = retrained`);
    const tfModel = await hit.model.layersModel(); // rebuilt from the stored topology
    assert.equal(tfModel.layers.length, hit.model.sourceLayers[hit.model.sourceLayers.length - 1]! + 1);
    // The second case's networks share one Layers model: disposing one disposes it.
    (name.startsWith("LeNet") ? [first.model, retrained.model, caller] : [caller]).forEach((model) => model.dispose());
  }
  const [entry] = entries(folder).slice(0, 1);
  assert.deepEqual(readdirSync(join(folder, entry!)).sort(), ["entry.json", "network.json", "run.csv", "run.json", "weights.bin"]);
});

test("a network's key: its initial numbers, init, seed, description and topology; not its layers' names", async () => {
  const keyOf = (net: ReturnType<typeof network>): string => JSON.stringify(modelPart(net));
  const a = network(lenet(), { init: "torch", seed: 1 });
  const b = network(lenet(), { init: "torch", seed: 1 }); // new layer names (conv2d_Conv2D3, …), the same numbers
  assert.notEqual(a.topology, b.topology);
  assert.equal(keyOf(a), keyOf(b), "layer names decide no number");
  assert.notEqual(keyOf(network(lenet(), { init: "torch", seed: 2 })), keyOf(a), "another seed");
  const own = lenet();
  assert.notEqual(keyOf(network(own)), keyOf(network(lenet())), "tfjs's own random weights differ from model to model");
  assert.equal(keyOf(network(own)), keyOf(network(own)), "the same Layers model read twice");
  const relu = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [28, 28, 1] }), tf.layers.dense({ units: 10 })] });
  const softmax = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [28, 28, 1] }), tf.layers.dense({ units: 10, activation: "softmax" })] });
  assert.notEqual(keyOf(network(relu, { init: "torch" })), keyOf(network(softmax, { init: "torch" })), "the topology (here the last activation)");
  assert.deepEqual(modelPart(a), modelPart(restoreNetwork(snapshotNetwork(a))), "a network and its snapshot (a sweep's spec) share an entry");
});

test("a damaged network.json or weights.bin is named on stderr and the run retrains", async (t) => {
  const folder = tempStore(t);
  const data = await smallMnist(128, 50);
  const net = () => network(bnNet(), { init: "torch", seed: 4 });
  const first = await train(net(), data, { batchSize: 32, store: folder });
  const [entry] = entries(folder);
  for (const [file, damage] of [
    ["network.json", () => writeFileSync(join(folder, entry!, "network.json"), "{}\n")],
    ["weights.bin", () => writeFileSync(join(folder, entry!, "weights.bin"), new Uint8Array(8))],
  ] as const) {
    damage();
    const warn = t.mock.method(console, "warn", () => undefined);
    const run = await train(net(), data, { batchSize: 32, store: folder });
    warn.mock.restore();
    assert.equal(run.stored, undefined, `a damaged ${file} is not loaded`);
    const message = String(warn.mock.calls[0]?.arguments[0]);
    assert.ok(message.includes(join(folder, entry!, file)) && message.includes("training the run again"), message);
    assert.deepEqual(networkBits(run), networkBits(first));
    const hit = await train(net(), data, { batchSize: 32, store: folder });
    assert.ok(hit.stored, `the retrained run replaced the damaged entry (${file})`);
    [run, hit].forEach((r) => r.model.dispose());
  }
  first.model.dispose();
});
