/**
 * A network's bad input fails before training (issue 28, item 6), with an error naming the layer's index, its
 * config and the shapes: a kernel larger than its input, an input shape that is not the data's, a dense layer on
 * images, a dropout rate outside [0, 1), and batch norm over one value per channel (a batch of one image). What the
 * engine lacks is no mistake: a model with an activation or a layer the engine does not have trains on
 * TensorFlow.js, its `engineLacks` naming the layer, its index and config, and what the engine has. Then: no tensor
 * leaks through network(), train(), predict, writeNumbers and layersModel, for the engine's models and TensorFlow.js's.
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/engine/backend";
import { network, type NetworkModel } from "../lib/model/network-model";
import { writeNumbers } from "../lib/model/layers-model";
import { train } from "../lib/train/loop";
import { smallMnist } from "./helpers/small-mnist";

before(async () => {
  await initBackend();
});

const L = tf.layers;
const image = { inputShape: [28, 28, 1] };

/** `make()` is refused by network() and by train() (before any step), with exactly `message`. */
async function assertRefused(make: () => tf.Sequential, message: string): Promise<void> {
  const model = make();
  assert.throws(() => network(model), (error: unknown) => error instanceof RangeError && error.message === message ? true : assert.equal((error as Error).message, message));
  const data = await smallMnist(64, 10);
  let steps = 0;
  await assert.rejects(train(make(), data, { onProgress: () => steps++ }), { name: "RangeError", message });
  assert.equal(steps, 0, "no progress: nothing trained");
  model.dispose();
}

/** `make()` is no mistake but something the engine lacks: network() hands it to TensorFlow.js, saying exactly `why`, and train() trains it. */
async function assertTfjsTrains(make: () => tf.Sequential, why: string): Promise<void> {
  const model = make();
  const net = network(model);
  assert.equal(net.trainer, "tfjs");
  assert.equal(net.engineLacks, why);
  model.dispose();
  const data = await smallMnist(64, 10);
  const run = await train(make(), data, { batchSize: 32 });
  assert.equal(run.model.trainer, "tfjs");
  assert.equal(run.model.engineLacks, why);
  assert.ok(run.steps > 0);
  assert.equal(run.losses.length, run.steps);
  assert.ok(run.losses.every(Number.isFinite), `finite losses: ${run.losses.join(", ")}`);
  run.model.dispose();
}

test("a kernel larger than its input names the layer, its config and its input", async () => {
  await assertRefused(
    () => tf.sequential({ layers: [L.conv2d({ ...image, filters: 4, kernelSize: 5 }), L.maxPooling2d({ poolSize: 4 }), L.conv2d({ filters: 8, kernelSize: 7 }), L.flatten(), L.dense({ units: 10 })] }),
    'layer 2 (Conv2D { filters: 8, kernelSize: [7,7], strides: [1,1], padding: "valid", activation: "linear" }): its 7×7 kernel is larger than its input ' +
      '6×6×4 (height × width × channels) (use padding "same", or fewer poolings before it)',
  );
});

test("an input shape that is not the data's names layer 0 and both shapes", async () => {
  await assertRefused(
    () => tf.sequential({ layers: [L.conv2d({ inputShape: [32, 32, 1], filters: 4, kernelSize: 5 }), L.flatten(), L.dense({ units: 10 })] }),
    'layer 0 (Conv2D { filters: 4, kernelSize: [5,5], strides: [1,1], padding: "valid", activation: "linear" }): the model\'s input shape is [32, 32, 1] ' +
      "but the data's images are 28×28×1 (expected inputShape [28, 28, 1] or [784])",
  );
  await assertRefused(
    () => tf.sequential({ layers: [L.dense({ inputShape: [28 * 28 * 3], units: 10 })] }),
    "layer 0 (Dense { units: 10, activation: \"linear\" }): the model's input shape is [2352] but the data's images are 28×28×1 (expected inputShape [784])",
  );
});

test("a dense layer on images (no flatten before it) names the layer and its input", async () => {
  await assertRefused(
    () => tf.sequential({ layers: [L.conv2d({ ...image, filters: 4, kernelSize: 5 }), L.dense({ units: 10 })] }),
    'layer 1 (Dense { units: 10, activation: "linear" }): its input is 24×24×4 (height × width × channels) (images), but the engine\'s dense layers ' +
      "read a flat vector: put tf.layers.flatten() before it",
  );
});

test("a dropout rate outside [0, 1) names the layer and the rate; TensorFlow.js itself makes a negative rate 0", async () => {
  await assertRefused(
    () => tf.sequential({ layers: [L.flatten(image), L.dropout({ rate: 1 }), L.dense({ units: 10 })] }),
    "layer 1 (Dropout { rate: 1 }): rate must be in [0, 1), got 1 (TensorFlow.js makes any rate ≥ 1 a rate of 1: every value dropped)",
  );
  await assertRefused(
    () => tf.sequential({ layers: [L.flatten(image), L.dropout({ rate: 1.5 }), L.dense({ units: 10 })] }),
    "layer 1 (Dropout { rate: 1 }): rate must be in [0, 1), got 1 (TensorFlow.js makes any rate ≥ 1 a rate of 1: every value dropped)",
  );
  await assertRefused(
    () => tf.sequential({ layers: [L.flatten(image), L.dropout({ rate: NaN }), L.dense({ units: 10 })] }),
    "layer 1 (Dropout { rate: null }): rate must be in [0, 1), got NaN",
  );
  // tf.layers.dropout clamps its rate into [0, 1] when it is made: no config says -0.1 any more.
  const model = tf.sequential({ layers: [L.flatten(image), L.dropout({ rate: -0.1 }), L.dense({ units: 10 })] });
  assert.deepEqual(network(model).spec.layers[1], { kind: "dropout", rate: 0, shape: { layout: "features", features: 784 } });
  model.dispose();
});

test("an activation the engine does not have: TensorFlow.js trains the model; engineLacks names the layer and the activations the engine has", async () => {
  await assertTfjsTrains(
    () => tf.sequential({ layers: [L.flatten(image), L.dense({ units: 32, activation: "softplus" }), L.dense({ units: 10 })] }),
    'layer 1 (Dense { units: 32, activation: "softplus" }): the engine has no activation "softplus" (the engine has linear, relu, tanh, sigmoid)',
  );
  await assertTfjsTrains(
    () => tf.sequential({ layers: [L.conv2d({ ...image, filters: 4, kernelSize: 3, activation: "elu" }), L.flatten(), L.dense({ units: 10 })] }),
    'layer 0 (Conv2D { filters: 4, kernelSize: [3,3], strides: [1,1], padding: "valid", activation: "elu" }): the engine has no activation "elu" (the engine has linear, relu, tanh, sigmoid)',
  );
  await assertTfjsTrains(
    () => tf.sequential({ layers: [L.flatten(image), L.dense({ units: 32 }), L.activation({ activation: "softmax" }), L.dense({ units: 10, activation: "softmax" })] }),
    'layer 2 (Activation { activation: "softmax" }): the engine has no activation "softmax" (the engine has linear, relu, tanh, sigmoid)',
  );
  // On the last layer softmax is the engine's too.
  await assertTfjsTrains(
    () => tf.sequential({ layers: [L.flatten(image), L.dense({ units: 10, activation: "softplus" })] }),
    'layer 1 (Dense { units: 10, activation: "softplus" }): the engine has no activation "softplus" (the engine has linear, relu, tanh, sigmoid, and softmax on the last layer)',
  );
});

test("a layer the engine does not implement: TensorFlow.js trains the model; engineLacks names the layer, its index, what the engine trains, and its input", async () => {
  await assertTfjsTrains(
    () => tf.sequential({ layers: [L.conv2d({ ...image, filters: 4, kernelSize: 5 }), L.averagePooling2d({ poolSize: 2 }), L.flatten(), L.dense({ units: 10 })] }),
    'layer 1 (AveragePooling2D { strides: [2,2], padding: "valid", poolSize: [2,2] }): the engine does not implement AveragePooling2D layers (it trains ' +
      "Conv2D, MaxPooling2D, Flatten, Dense, Dropout, BatchNormalization, Activation); its input is 24×24×4 (height × width × channels)",
  );
});

test("batch norm over one value per channel (a batch of one image) fails before training, naming the layer and the batch", async () => {
  const net = () => tf.sequential({
    layers: [L.conv2d({ ...image, filters: 4, kernelSize: 5 }), L.batchNormalization(), L.flatten(), L.dense({ units: 8 }), L.batchNormalization(), L.dense({ units: 10 })],
  });
  const data = await smallMnist(65, 10);
  const refused = async (options: { batchSize: number }, message: string) => {
    let steps = 0;
    await assert.rejects(train(net(), data, { ...options, onProgress: () => steps++ }), { name: "RangeError", message });
    assert.equal(steps, 0, "nothing trained");
  };
  await refused({ batchSize: 1 },
    "layer 4 (BatchNormalization, input 8 features): in training it normalises each channel over the batch, but batchSize 1 gives it 1 value per " +
      "channel, whose variance is undefined (the running variance would become NaN); use a batchSize of at least 2");
  // 65 images in batches of 16: the last batch holds one.
  await refused({ batchSize: 16 },
    "layer 4 (BatchNormalization, input 8 features): in training it normalises each channel over the batch, but the last batch of each epoch (65 " +
      "training images in batches of 16) holds 1 image, which gives it 1 value per channel, whose variance is undefined (the running variance would " +
      "become NaN); use a batchSize that leaves the last batch none or at least 2 images");
  // Over planes, one image still gives 24·24 values per channel; a batch of 2 gives two per feature.
  const run = await train(tf.sequential({ layers: [L.conv2d({ ...image, filters: 4, kernelSize: 5 }), L.batchNormalization(), L.flatten(), L.dense({ units: 10 })] }), data, { batchSize: 1, evaluate: false });
  assert.ok(run.model.numbers().stats.every((s) => s.every(Number.isFinite)), "batch norm over planes trains at batch 1");
  run.model.dispose();
  const two = await train(net(), data, { batchSize: 10, evaluate: false });
  assert.ok(two.model.numbers().stats.every((s) => s.every(Number.isFinite)));
  two.model.dispose();
});

test("no tensor leaks: network(), train(), predict, writeNumbers, layersModel, models TensorFlow.js trains and refused models", async () => {
  const data = await smallMnist(256, 100);
  const make = () => tf.sequential({
    layers: [
      L.conv2d({ ...image, filters: 4, kernelSize: 5, activation: "relu" }), L.maxPooling2d({ poolSize: 2 }), L.batchNormalization(),
      L.dropout({ rate: 0.25 }), L.flatten(), L.dense({ units: 16, activation: "tanh" }), L.dense({ units: 10 }),
    ],
  });
  const start = tf.memory().numTensors;
  const model = make();
  const withModel = tf.memory().numTensors;
  const counted = (what: string, action: () => unknown) => {
    const before = tf.memory().numTensors;
    const result = action();
    assert.equal(tf.memory().numTensors, before, `${what} leaves no tensor behind`);
    return result;
  };
  const net = counted("network()", () => network(model, { init: "torch", seed: 2 })) as NetworkModel;
  counted("network() of the same model again", () => network(model));
  const before = tf.memory().numTensors;
  const run = await train(net, data, { batchSize: 32, optimizer: "adam", lr: 0.01 });
  assert.equal(tf.memory().numTensors, before, "train() (and its evaluation) leaves no tensor behind");
  counted("predict", () => run.model.predict(data.test));
  counted("writeNumbers", () => writeNumbers(model, { spec: net.spec, source: [...net.sourceLayers] }, net.numbers()));
  const layersModel = await run.model.layersModel();
  assert.equal(layersModel, model);
  assert.equal(tf.memory().numTensors, withModel, "layersModel() leaves no tensor behind");
  for (const bad of [
    () => tf.sequential({ layers: [L.conv2d({ ...image, filters: 4, kernelSize: 5 }), L.dense({ units: 10 })] }),
    () => tf.sequential({ layers: [L.flatten(image), L.dropout({ rate: 1 }), L.dense({ units: 10 })] }),
  ]) {
    const refused = bad();
    counted("a refused model", () => assert.throws(() => network(refused), RangeError));
    refused.dispose();
  }
  // A tf.Sequential given to train() directly: its run's model owns it, and disposing the run's model frees it.
  const direct = await train(make(), data, { batchSize: 64, evaluate: false });
  direct.model.dispose();
  run.model.dispose();
  assert.equal(tf.memory().numTensors, start, "every model's tensors freed");

  // A model TensorFlow.js trains (average pooling), seeded: network() trains a copy, so the caller disposes the original.
  // Few images: where tfjs's wasm backend lacks its conv's gradient kernel, the cpu backend trains it, slowly.
  const few = await smallMnist(64, 20);
  const lacking = () => tf.sequential({
    layers: [L.conv2d({ ...image, filters: 4, kernelSize: 5, activation: "relu" }), L.averagePooling2d({ poolSize: 2 }), L.dropout({ rate: 0.25 }), L.flatten(), L.dense({ units: 10 })],
  });
  const original = lacking();
  const withOriginal = tf.memory().numTensors;
  const seeded = network(original, { init: "seeded", seed: 1 });
  assert.equal(seeded.trainer, "tfjs");
  const tfjsBefore = tf.memory().numTensors;
  const tfjsRun = await train(seeded, few, { batchSize: 32, optimizer: "adam", lr: 0.01 });
  assert.equal(tf.memory().numTensors, tfjsBefore, "train() on TensorFlow.js (and its evaluation) leaves no tensor behind");
  counted("predict of a model TensorFlow.js trained", () => tfjsRun.model.predict(few.test));
  const copy = await tfjsRun.model.layersModel();
  assert.notEqual(copy, original, "init \"seeded\" trained a copy");
  assert.equal(tf.memory().numTensors, tfjsBefore, "layersModel() leaves no tensor behind");
  tfjsRun.model.dispose();
  assert.equal(tf.memory().numTensors, withOriginal, "disposing the run's model frees the copy");
  original.dispose();
  // With its own weights, the run's model is the one given: disposing it frees it.
  const ownRun = await train(network(lacking()), few, { batchSize: 32 });
  ownRun.model.dispose();
  assert.equal(tf.memory().numTensors, start, "every model's tensors freed");
});
