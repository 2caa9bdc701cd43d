import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/engine/backend";
import { mlp, type Model } from "../lib/model/model";
import { loadModel, saveModel } from "../lib/saved/model-io";
import { SavedFileError } from "../lib/saved/saved-files";
import { train } from "../lib/train/loop";
import { smallMnist } from "./helpers/small-mnist";

const folder = mkdtempSync(join(tmpdir(), "mie-model-io-"));
let trained: Model;

before(async () => {
  await initBackend();
  const data = await smallMnist(320, 100);
  trained = (await train(mlp([784, 40, 10], { seed: 3 }), data, { lr: 0.1, batchSize: 32, evaluate: false })).model;
});
after(() => rmSync(folder, { recursive: true, force: true }));

/** Float pixels in [0, 1] of the first `count` test images, row-major, as both loaders take them. */
async function testPixels(count: number): Promise<Float32Array> {
  const { test: split } = await smallMnist(1, count);
  return Float32Array.from(split.images.subarray(0, count * 784), (value) => value / 255);
}

function maxDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

/** tfjs's own browser loader (`tf.io.http`), with fetch answered from the folder instead of a web server. */
function overHttp(dir: string): tf.io.IOHandler {
  const fetchFunc = async (url: string | URL | Request): Promise<Response> => {
    const file = join(dir, basename(new URL(String(url)).pathname));
    try {
      return new Response(readFileSync(file), { status: 200 });
    } catch {
      return new Response("not found", { status: 404 });
    }
  };
  return tf.io.http("http://models.example/saved/model.json", { fetchFunc });
}

describe("saveModel and loadModel", () => {
  test("a saved and reloaded model gives the same logits, weights and training count, and trains on only with resume", async () => {
    const dir = join(folder, "round-trip");
    const pixels = await testPixels(100);
    const tensors = tf.memory().numTensors;
    const path = await saveModel(trained, dir);
    const loaded = await loadModel(dir);
    assert.equal(tf.memory().numTensors, tensors, "saving and loading make no tensors");
    assert.equal(path, join(dir, "model.json"));
    assert.ok(maxDifference(loaded.predict(pixels).logits, trained.predict(pixels).logits) <= 1e-6);
    assert.deepEqual(loaded.weights(1), trained.weights(1));
    assert.deepEqual([loaded.layers, loaded.init, loaded.trainedSteps], [[784, 40, 10], "custom", 10]);
    const data = await smallMnist(64, 10);
    await assert.rejects(train(loaded, data), /model already trained for 10 steps/);
    const resumed = await train(loaded, data, { lr: 0.1, batchSize: 32, resume: true, evaluate: false });
    assert.equal(resumed.model.trainedSteps, 12);
    loaded.dispose();
  });

  test("tfjs's own loader (tf.io.http, as in a browser) loads the files and predicts the same", async () => {
    const dir = join(folder, "for-tfjs");
    await saveModel(trained, dir);
    const pixels = await testPixels(100);
    const tensors = tf.memory().numTensors;
    const model = await tf.loadLayersModel(overHttp(dir));
    assert.deepEqual(model.layers.map((layer) => layer.getClassName()), ["Dense", "Dense"]);
    const output = tf.tidy(() => model.predict(tf.tensor2d(pixels, [100, 784])) as tf.Tensor);
    const theirs = output.dataSync();
    const ours = trained.predict(pixels);
    assert.ok(maxDifference(theirs, ours.logits) <= 1e-5, `logits differ by ${maxDifference(theirs, ours.logits)}`);
    const classes = output.argMax(1);
    assert.deepEqual(Array.from(classes.dataSync()), Array.from(ours.classes));
    classes.dispose();
    output.dispose();
    model.dispose();
    assert.equal(tf.memory().numTensors, tensors);
  });

  test("a plain MLP saved by tfjs itself loads and predicts as tfjs does", async () => {
    const dir = join(folder, "from-tfjs");
    const model = tf.sequential({
      layers: [tf.layers.dense({ units: 16, activation: "relu", inputShape: [784] }), tf.layers.dense({ units: 10 })],
    });
    await model.save(withFolder(dir));
    const pixels = await testPixels(20);
    const expected = tf.tidy(() => (model.predict(tf.tensor2d(pixels, [20, 784])) as tf.Tensor).dataSync());
    const loaded = await loadModel(dir);
    assert.ok(maxDifference(loaded.predict(pixels).logits, expected) <= 1e-5);
    assert.equal(loaded.trainedSteps, 0, "no training count recorded by tfjs");
    model.dispose();
    loaded.dispose();
  });

  test("saving over a model replaces it whole: its old weights file goes, no temporary file stays", async () => {
    const dir = join(folder, "replaced");
    await saveModel(mlp([784, 10], { seed: 1 }), dir);
    const first = readdirSync(dir);
    const second = mlp([784, 20, 10], { seed: 2 });
    await saveModel(second, dir);
    const files = readdirSync(dir).sort();
    assert.equal(files.length, 2, `model.json and one weights file, got ${files.join(", ")}`);
    assert.ok(!files.some((file) => first.includes(file) && file !== "model.json"), "the old weights file was removed");
    assert.deepEqual((await loadModel(dir)).weights(1), second.weights(1));
  });
});

describe("loadModel refuses bad files with a SavedFileError naming the file and the problem", () => {
  /** A fresh copy of a saved 784-40-10 model, its model.json edited by `edit`. */
  async function saved(name: string, edit: (json: any) => void = () => {}): Promise<{ dir: string; weights: string }> {
    const dir = join(folder, name);
    await saveModel(trained, dir);
    const path = join(dir, "model.json");
    const json = JSON.parse(readFileSync(path, "utf8"));
    edit(json);
    writeFileSync(path, JSON.stringify(json));
    return { dir, weights: join(dir, json.weightsManifest[0].paths[0]) };
  }
  const refuses = (dir: string, pattern: RegExp) =>
    assert.rejects(loadModel(dir), (error: unknown) => error instanceof SavedFileError && pattern.test(error.message));

  test("a missing folder, a folder without model.json, a missing or truncated weights file", async () => {
    await refuses(join(folder, "nowhere"), /nowhere: no such folder/);
    const empty = join(folder, "empty");
    await saved("empty");
    rmSync(join(empty, "model.json"));
    await refuses(empty, /empty\/model\.json: not found \(expected model\.json, as saveModel writes it\)/);
    const gone = await saved("gone");
    rmSync(gone.weights);
    await refuses(gone.dir, /weights-[0-9a-f]+\.bin: weights file named in model\.json .* not found/);
    const cut = await saved("cut");
    truncateSync(cut.weights, 1000);
    await refuses(cut.dir, /1,000 bytes where 127\.2 kB \(127,240 bytes\) were expected \(the float32 weights model\.json \(weightsManifest\[0\]\) describes\); truncated\?/);
    const half = await saved("half");
    writeFileSync(join(half.dir, "model.json"), readFileSync(join(half.dir, "model.json"), "utf8").slice(0, 200));
    await refuses(half.dir, /model\.json: not valid JSON .*truncated\?/);
  });

  test("wrong shapes", async () => {
    const swapped = await saved("swapped", (json) => {
      json.weightsManifest[0].weights[0].shape = [40, 784];
    });
    await refuses(swapped.dir, /weight "dense_1\/kernel" has shape \[40, 784\], expected \[784, 40\]/);
    const units = await saved("units", (json) => {
      json.modelTopology.config.layers[1].config.units = 12;
    });
    await refuses(units.dir, /weight "dense_2\/kernel" has shape \[40, 10\], expected \[40, 12\]/);
  });

  test("models that are not plain MLPs: another layer type, another activation, no bias, not Sequential", async () => {
    const conv = await saved("conv", (json) => {
      json.modelTopology.config.layers[0].class_name = "Conv2D";
    });
    // A Conv2D layer makes it a network, which TensorFlow.js then cannot build from a dense layer's config.
    await refuses(conv.dir, /model\.json: modelTopology: TensorFlow\.js cannot build this Layers model/);
    const sigmoid = await saved("sigmoid", (json) => {
      json.modelTopology.config.layers[0].config.activation = "sigmoid";
    });
    await refuses(sigmoid.dir, /layers\[0\]\.config\.activation: dense_1 has activation "sigmoid", expected "relu"/);
    const softmax = await saved("softmax", (json) => {
      json.modelTopology.config.layers[1].config.activation = "softmax";
    });
    await refuses(softmax.dir, /dense_2 has activation "softmax", expected "linear"/);
    const noBias = await saved("no-bias", (json) => {
      json.modelTopology.config.layers[1].config.use_bias = false;
    });
    await refuses(noBias.dir, /layers\[1\]\.config\.use_bias: dense_2 has no bias/);
    const lostBias = await saved("lost-bias", (json) => {
      json.weightsManifest[0].weights[3].name = "dense_2/gamma";
    });
    await refuses(lostBias.dir, /no weight "dense_2\/bias" for layer dense_2 \(a missing bias\)/);
    const functional = await saved("functional", (json) => {
      json.modelTopology.class_name = "Functional";
    });
    // Not a Sequential: read as a network (any Layers model is), whose functional config this one is not.
    await refuses(functional.dir, /model\.json: modelTopology: TensorFlow\.js cannot build this Layers model/);
    const graph = await saved("graph", (json) => {
      json.format = "graph-model";
    });
    await refuses(graph.dir, /format: expected "layers-model"/);
  });
});

/** A save handler that writes tfjs's artifacts as model.json + w.bin into `dir`. */
function withFolder(dir: string): tf.io.IOHandler {
  return tf.io.withSaveHandler(async (artifacts) => {
    const { weightData, weightSpecs, ...rest } = artifacts;
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "w.bin"), new Uint8Array(weightData as ArrayBuffer));
    writeFileSync(join(dir, "model.json"), JSON.stringify({ ...rest, weightsManifest: [{ paths: ["w.bin"], weights: weightSpecs }] }));
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
  });
}
