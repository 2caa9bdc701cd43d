/**
 * A Layers model built with another copy of TensorFlow.js than the library's (a notebook's own `npm:` import on
 * Deno, another install beside the library) is not an `instanceof` the library's classes: `train` copies it (the
 * same config, with fresh layer names, and the same weights) and trains the copy, on the engine where it
 * implements every layer, else on TensorFlow.js. Here the other copy is tfjs's own UMD bundle, which brings its
 * own classes (and shares the one engine, which is why the copy's layers need new names).
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/engine/backend";
import { asLayersModel } from "../lib/model/layers-copy";
import { network } from "../lib/model/network-model";
import { train } from "../lib/train/loop";
import { smallMnist } from "./helpers/small-mnist";

type Tfjs = typeof tf;
let other: Tfjs;

before(async () => {
  await initBackend();
  const warn = console.warn;
  console.warn = () => {}; // the bundle registers every kernel again, each with a warning
  try {
    other = require("@tensorflow/tfjs/dist/tf.js") as Tfjs;
  } finally {
    console.warn = warn;
  }
});

test("a model of another tfjs copy is copied with its weights, and trains (engine or TensorFlow.js)", async () => {
  const data = await smallMnist(256, 64);
  const L = other.layers;
  const sequential = other.sequential({ layers: [L.flatten({ inputShape: [28, 28, 1] }), L.dense({ units: 16, activation: "relu" }), L.dense({ units: 10 })] });
  assert.ok(!((sequential as unknown) instanceof tf.LayersModel), "not an instance of the library's classes");
  const copy = asLayersModel(sequential)!;
  assert.ok(copy instanceof tf.LayersModel);
  const theirs = sequential.getWeights().map((weight) => Array.from(weight.dataSync()));
  assert.deepEqual(copy.getWeights().map((weight) => Array.from(weight.dataSync())), theirs, "the same weights");
  copy.dispose();

  const engineRun = await train(sequential, data, { batchSize: 32 });
  assert.equal(engineRun.model.trainer, "engine");
  assert.equal(engineRun.steps, 8);
  assert.ok(engineRun.losses.every(Number.isFinite));
  engineRun.model.dispose();

  const input = other.input({ shape: [28, 28, 1] });
  const flat = L.flatten().apply(input) as tf.SymbolicTensor;
  const merged = L.concatenate().apply([L.dense({ units: 8 }).apply(flat), L.dense({ units: 8, activation: "tanh" }).apply(flat)] as tf.SymbolicTensor[]);
  const functional = other.model({ inputs: input, outputs: L.dense({ units: 10 }).apply(merged) as tf.SymbolicTensor });
  // Seeded (its own initialisers from seed 0), so the accuracy below is a fixed number, not a draw's luck.
  const tfjsRun = await train(network(functional, { init: "seeded", seed: 0 }), data, { batchSize: 32, optimizer: "adam" });
  assert.equal(tfjsRun.model.trainer, "tfjs");
  assert.equal(tfjsRun.steps, 8);
  assert.ok(tfjsRun.accuracy > 20, `accuracy ${tfjsRun.accuracy}% (32.8% on every backend when written; chance is ~10%)`);
  functional.dispose();
  tfjsRun.model.dispose();
});

test("something that is not a Layers model is still refused by name", async () => {
  const data = await smallMnist(64, 16);
  await assert.rejects(train({ layers: [], getConfig: 1 } as never, data), /train: expected a Model/);
});
