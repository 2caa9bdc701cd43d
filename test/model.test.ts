import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/engine/backend";
import { checkMlp, MAX_PARAMETERS, mlp, modelFromWeights, type LayerWeights } from "../lib/model/model";
import { smallMnist } from "./helpers/small-mnist";

before(async () => {
  await initBackend();
});

/** Layer weights from a formula, so expected outputs can be computed independently in plain JavaScript. */
function formulaWeights(layers: number[]): LayerWeights[] {
  return layers.slice(1).map((outputs, k) => {
    const inputs = layers[k]!;
    const kernel = Float32Array.from({ length: inputs * outputs }, (_, n) => (((n * 7 + k) % 13) - 6) / (6 * Math.sqrt(inputs)));
    const bias = Float32Array.from({ length: outputs }, (_, j) => ((j % 5) - 2) / 10);
    return { shape: [inputs, outputs], kernel, bias };
  });
}

/** Plain float64 forward pass: ReLU between layers, logits out. */
function referenceLogits(weights: LayerWeights[], input: ArrayLike<number>): number[] {
  let activation = Array.from(input);
  weights.forEach(({ shape: [inputs, outputs], kernel, bias }, k) => {
    const next = Array.from(bias);
    for (let i = 0; i < inputs; i++) for (let j = 0; j < outputs; j++) next[j]! += activation[i]! * kernel[i * outputs + j]!;
    activation = k < weights.length - 1 ? next.map((v) => Math.max(0, v)) : next;
  });
  return activation;
}

test("mlp torch init: weights and biases uniform in ±1/√fan_in, reproducible from the seed", () => {
  const model = mlp([784, 500, 10]);
  assert.equal(model.init, "torch");
  assert.equal(model.seed, 0);
  for (const [layer, fanIn] of [[0, 784], [1, 500]] as const) {
    const { kernel, bias } = model.weights(layer);
    const bound = 1 / Math.sqrt(fanIn);
    const maxKernel = kernel.reduce((a, b) => Math.max(a, Math.abs(b)), 0);
    assert.ok(maxKernel <= bound && maxKernel > 0.99 * bound, `layer ${layer}: max |w| ${maxKernel} vs bound ${bound}`);
    assert.ok(bias.every((b) => Math.abs(b) <= bound) && bias.some((b) => b !== 0), `layer ${layer}: biases within ±${bound}`);
    // Uniform in ±bound has mean 0 and mean |value| bound/2.
    const meanAbs = kernel.reduce((a, b) => a + Math.abs(b), 0) / kernel.length;
    assert.ok(Math.abs(meanAbs / bound - 0.5) < 0.01, `layer ${layer}: mean |w| / bound = ${meanAbs / bound}`);
  }
  assert.deepEqual(mlp([784, 500, 10]).weights(1), model.weights(1));
  assert.notDeepEqual(mlp([784, 500, 10], { seed: 1 }).weights(1).kernel, model.weights(1).kernel);
});

test("mlp glorot init: weights in ±√(6/(fan_in + fan_out)), zero biases; zeros init: all zero", () => {
  const glorot = mlp([784, 10], { init: "glorot", seed: 3 }).weights(0);
  const limit = Math.sqrt(6 / 794);
  const max = glorot.kernel.reduce((a, b) => Math.max(a, Math.abs(b)), 0);
  assert.ok(max <= limit && max > 0.99 * limit, `max |w| ${max} vs limit ${limit}`);
  assert.ok(glorot.bias.every((b) => b === 0));
  const zeros = mlp([784, 500, 10], { init: "zeros" });
  for (const layer of [0, 1]) {
    const { kernel, bias } = zeros.weights(layer);
    assert.ok(kernel.every((w) => w === 0) && bias.every((b) => b === 0));
  }
});

test("mlp rejects bad layers, init and seed with messages naming them", () => {
  assert.throws(() => mlp([784]), /layers: expected at least two sizes .* got \[784\]/);
  assert.throws(() => mlp([784, 0, 10]), /layers\[1\]: expected a positive integer number of units, got 0/);
  assert.throws(() => mlp([784, 10], { init: "he" as never }), /init: expected one of torch, glorot, zeros; got "he"/);
  assert.throws(() => mlp([784, 10], { seed: 0.5 }), /seed: expected an integer, got 0.5/);
});

test("parameterCount and summary describe every layer", () => {
  const model = mlp([784, 500, 10]);
  assert.equal(model.parameterCount, 784 * 500 + 500 + 500 * 10 + 10);
  assert.equal(
    model.summary(),
    [
      "MLP 784→500→10 (init torch, seed 0)",
      "  Dense 784→500 (392,500 params)",
      "  ReLU",
      "  Dense 500→10 (5,010 params)",
      "  Total 397,510 params",
    ].join("\n"),
  );
  assert.equal(mlp([784, 10], { init: "zeros", seed: 2 }).summary().split("\n")[1], "  Dense 784→10 (7,850 params)");
});

test("weights(layer) returns a row-major [inputs][outputs] kernel and names the valid range when out of it", () => {
  const given = formulaWeights([6, 4, 3]);
  const model = modelFromWeights(given);
  assert.deepEqual(model.layers, [6, 4, 3]);
  assert.equal(model.init, "custom");
  assert.deepEqual(model.weights(0), given[0]);
  assert.deepEqual(model.weights(1), given[1]);
  // The same after the values became tensors.
  model.predict(new Float32Array(6));
  assert.deepEqual(model.weights(1), given[1]);
  assert.throws(() => model.weights(2), /weights\(layer\): expected a layer index from 0 to 1 \(this model has 2 dense layers: 6→4→3\), got 2/);
  assert.throws(() => model.weights(-1), /from 0 to 1 .* got -1/);
  model.dispose();
});

test("bad input: weights(\"0\") says a string was given, and a one-layer model's only index is 0", () => {
  assert.throws(
    () => mlp([784, 10]).weights("0" as never),
    /^RangeError: weights\(layer\): expected a layer index 0 \(this model has 1 dense layer: 784→10\), got the string "0" \(pass a number\)$/,
  );
});

test("bad input: a model too big for memory names the layer, its size in bytes and the limit, before allocating", () => {
  assert.throws(
    () => mlp([784, 1e9, 10]),
    /^RangeError: layers\[1\]: a layer of 1,000,000,000 units on 784 inputs has 785,000,000,000 weights and biases, which need 3\.1 TB as float32; the limit is 125,000,000 per model \(500 MB\), so that training's copies of them fit in the wasm backend's 4 GB of memory$/,
  );
  // No single layer over the limit, but the whole model is.
  assert.throws(() => mlp([784, 10_000, 10_000, 10_000, 10]), /^RangeError: layers: the model 784→10000→10000→10000→10 has 207,970,010 weights and biases, which need 831\.9 MB as float32; the limit is 125,000,000/);
  assert.throws(() => modelFromWeights([{ shape: [784, 1e9], kernel: new Float32Array(0), bias: new Float32Array(0) }]), /layers\[1\]: a layer of 1,000,000,000 units/);
  assert.equal(MAX_PARAMETERS, 125_000_000);
  assert.deepEqual(checkMlp([784, 100_000, 10], {}), { init: "torch", seed: 0 }, "79.6 million parameters: under the limit");
});

test("modelFromWeights checks that the layers chain", () => {
  const [first] = formulaWeights([6, 4]);
  const wrong: LayerWeights = { shape: [5, 3], kernel: new Float32Array(15), bias: new Float32Array(3) };
  assert.throws(() => modelFromWeights([first!, wrong]), /layer 1 expected a 4×3 kernel/);
  assert.throws(() => modelFromWeights([]), /at least one layer/);
});

test("predict computes ReLU-MLP logits and argmax classes, in any batch size", async () => {
  const data = await smallMnist(10, 37);
  const weights = formulaWeights([784, 12, 10]);
  const model = modelFromWeights(weights);
  const prediction = model.predict(data.test, { batchSize: 10 });
  assert.equal(prediction.count, 37);
  assert.equal(prediction.outputs, 10);
  for (const index of [0, 13, 36]) {
    const pixels = Array.from(data.test.images.subarray(index * 784, (index + 1) * 784), (b) => b / 255);
    const expected = referenceLogits(weights, pixels);
    const actual = prediction.logits.subarray(index * 10, index * 10 + 10);
    expected.forEach((value, c) => assert.ok(Math.abs(actual[c]! - value) < 1e-5, `image ${index} class ${c}: ${actual[c]} vs ${value}`));
    assert.equal(prediction.classes[index], expected.indexOf(Math.max(...expected)));
  }
  assert.deepEqual(model.predict(data.test).logits, prediction.logits);
  model.dispose();
});

test("predict accepts float pixels and rejects inputs of the wrong size", async () => {
  const data = await smallMnist(10, 5);
  const model = mlp([784, 10], { seed: 4 });
  const pixels = Float32Array.from(data.test.images, (b) => b / 255);
  assert.deepEqual(model.predict(pixels).logits, model.predict(data.test).logits);
  assert.throws(() => model.predict(new Float32Array(100)), /whole images of 784 values, got 100 values/);
  const wrongShape = { ...data.test, rows: 14, cols: 14 };
  assert.throws(() => model.predict(wrongShape), /the model takes 784 inputs but the images have 14×14 = 196 pixels/);
  assert.throws(() => model.predict(data.test, { batchSize: 0 }), /batchSize: expected a positive integer, got 0/);
  model.dispose();
});

test("a model holds one tensor per layer once used, predict leaks none, dispose frees them", async () => {
  const data = await smallMnist(10, 50);
  const before = tf.memory().numTensors;
  const model = mlp([784, 30, 20, 10]);
  assert.equal(tf.memory().numTensors, before, "a fresh model holds no tensors yet");
  model.predict(data.test);
  assert.equal(tf.memory().numTensors, before + 3);
  model.predict(data.test, { batchSize: 7 });
  assert.equal(tf.memory().numTensors, before + 3);
  model.dispose();
  assert.equal(tf.memory().numTensors, before);
  assert.throws(() => model.weights(0), /was disposed: build a new one with mlp/);
});
