/**
 * Filters and feature maps: the data (`filterImages`, `featureMaps`) against TensorFlow.js's own weights and layer
 * outputs, the figures' grids (values, symmetric ranges, titles), and the errors that name what is wrong.
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/engine/backend";
import { featureMapsFigure, filtersFigure } from "../../lib/figures/filters";
import { mlp } from "../../lib/model/model";
import { network } from "../../lib/model/network-model";
import { featureMaps, filterImages } from "../../lib/results/feature-maps";
import { createShow } from "../../lib/show/show";
import { train } from "../../lib/train/loop";
import { MNIST_NORMALIZATION } from "../../lib/train/settings";
import { bnNet, lenet } from "../helpers/nets";
import { smallMnist } from "../helpers/small-mnist";
import { ofType } from "../helpers/figures";

before(async () => {
  await initBackend();
});

test("filterImages: each filter's kh×kw weights as TensorFlow.js holds them (kernel [kh][kw][C][F]), the first conv layer by default", async () => {
  const data = await smallMnist(128, 10);
  const tfModel = lenet();
  const run = await train(network(tfModel, { init: "torch", seed: 3 }), data, { batchSize: 32, evaluate: false });
  const trained = await run.model.layersModel(); // the trained numbers written back into tfModel
  for (const [layer, channels, filters] of [[0, 1, 8], [2, 8, 16]] as const) {
    const images = filterImages(run, layer === 0 ? undefined : layer);
    assert.deepEqual([images.layer, images.channels, images.filters, images.height, images.width, images.images.length], [layer, channels, filters, 5, 5, channels * filters]);
    const [kernel, bias] = trained.layers[layer]!.getWeights().map((tensor) => tensor.dataSync());
    for (const [f, c, i, j] of [[0, 0, 0, 0], [filters - 1, channels - 1, 4, 4], [3, channels - 1, 2, 1]] as const) {
      assert.equal(images.images[f * channels + c]![i * 5 + j], kernel![((i * 5 + j) * channels + c) * filters + f], `layer ${layer} filter ${f} channel ${c} (${i}, ${j})`);
    }
    assert.deepEqual(Array.from(images.biases), Array.from(bias!));
  }
  assert.throws(() => filterImages(run, 1), /filterImages: layer 1 is a maxPool layer; expected a Conv2D layer \(the network's layers: 0: conv2d, 1: maxPool/);
  assert.throws(() => filterImages(run, 9), /filterImages: layer 9 is not one of the network's layers/);
  assert.throws(() => filterImages(mlp([784, 10]) as never), /filterImages: expected a network of tf.layers .* an mlp\(\.\.\.\) has no conv layers/);
  tfModel.dispose();
});

test("featureMaps: one image's maps at a layer are TensorFlow.js's own layer output (batch norm, normalised input, evaluation mode)", async () => {
  const data = await smallMnist(256, 10);
  const tfModel = bnNet();
  const run = await train(network(tfModel, { init: "torch", seed: 1 }), data, { batchSize: 32, normalize: MNIST_NORMALIZATION, evaluate: false });
  const trained = await run.model.layersModel();
  const image = data.test.images.subarray(0, 784);
  const before = tf.memory().numTensors;
  const ours = [0, 1, 2, 3].map((layer) => featureMaps(run.model, image, layer));
  assert.equal(tf.memory().numTensors, before, "no tensors");
  const input = Float32Array.from(image, (byte) => (byte / 255 - MNIST_NORMALIZATION.mean) / MNIST_NORMALIZATION.std);
  for (const maps of ours) {
    const upTo = tf.model({ inputs: trained.inputs, outputs: trained.layers[maps.layer]!.output as tf.SymbolicTensor });
    const theirs = tf.tidy(() => (upTo.predict(tf.tensor4d(input, [1, 28, 28, 1])) as tf.Tensor).dataSync());
    const [H, W, C] = [maps.height, maps.width, maps.channels];
    assert.equal(theirs.length, H * W * C);
    let worst = 0;
    for (let c = 0; c < C; c++) for (let p = 0; p < H * W; p++) worst = Math.max(worst, Math.abs(maps.maps[c]![p]! - theirs[p * C + c]!));
    assert.ok(worst < 1e-4, `layer ${maps.layer} (${maps.name}): ${C} maps of ${H}×${W} within ${worst} of TensorFlow.js's`);
  }
  assert.deepEqual(ours.map((maps) => [maps.name, maps.channels, maps.height]), [["conv4@3/2 linear", 4, 14], ["bn", 4, 14], ["relu", 4, 14], ["pool2", 4, 7]]);
  assert.throws(() => featureMaps(run.model, image.subarray(0, 100)), /featureMaps: image: expected the 784 bytes of one 28×28×1 image .*got 100 bytes/);
  assert.throws(() => featureMaps(run.model, image, 4), /featureMaps: layer 4 is a flatten layer/);
  tfModel.dispose();
});

test("filtersFigure and featureMapsFigure: a heatmap per image with its values, symmetric ranges for filters; bad input is named", () => {
  const filters = {
    layer: 0, name: "conv2@3", filters: 2, channels: 1, height: 3, width: 3, biases: new Float32Array(2),
    images: [Float32Array.from([1, -2, 0, 0, 0, 0, 0, 0, 0.5]), Float32Array.from([0, 0, 0, 0, 3, 0, 0, 0, 0])],
  };
  const fig = filtersFigure(filters);
  const maps = ofType(fig, "heatmap");
  assert.equal(maps.length, 2);
  assert.deepEqual(maps[0]!.z, [[1, -2, 0], [0, 0, 0], [0, 0, 0.5]]);
  assert.deepEqual([maps[0]!.zmin, maps[0]!.zmax, maps[1]!.zmin, maps[1]!.zmax], [-2, 2, -3, 3]);
  assert.match(String((fig.layout.title as { text: string }).text), /Filters of layer 0 \(conv2@3\)/);
  const feature = featureMapsFigure({ layer: 2, name: "pool2", channels: 1, height: 2, width: 2, maps: [Float32Array.from([0, 1, 2, 4])] });
  const [only] = ofType(feature, "heatmap");
  assert.deepEqual([only!.z, only!.zmin, only!.zmax], [[[0, 1], [2, 4]], 0, 4]);
  assert.throws(() => filtersFigure({ ...filters, images: [filters.images[0]!] }), /filtersFigure: filters: 1 images, expected 2/);
  assert.throws(() => filtersFigure({ ...filters, height: 2 }), /filtersFigure: filters: image 0 has 9 values, expected 2×3 = 6/);
  assert.throws(() => featureMapsFigure(null as never), /featureMapsFigure: maps: expected the result of featureMaps\(net, image\)/);
});

test("show.filters and show.featureMaps draw a network's; show.weights refuses a network with what to use instead", async () => {
  const outputs: string[] = [];
  const s = createShow({ sink: { display: (bundle) => void outputs.push(bundle["text/html"] ?? ""), update: () => {} }, loadBundle: () => "/* plotly */" });
  const data = await smallMnist(64, 10);
  const run = await train(network(lenet(), { init: "torch" }), data, { batchSize: 32, evaluate: false });
  s.filters(run);
  s.featureMaps(run, data.test.images.subarray(0, 784), { layer: 2, perRow: 4 });
  assert.equal(outputs.length, 3, "the bundle once, then two charts");
  assert.match(outputs[1]!, /Filters of layer 0 \(conv8@5\)/);
  assert.match(outputs[2]!, /Feature maps of layer 2 \(conv16@5\)/);
  assert.throws(() => s.weights(run as never), /show.weights: source: a network of tf.layers \(conv8@5 → pool2 → conv16@5 → pool2 → 10\) has no first layer of 28×28 weight images; show.filters\(run\)/);
  run.model.dispose();
});
