/**
 * Networks saved as TensorFlow.js Layers models: TensorFlow.js's own loader and `predict` give the classes the
 * engine gives (softmax or linear last layer, batch norm's running statistics, a normalised input); `loadModel`
 * gives a NetworkModel that predicts the same and resumes (steps add up, the same scaling); saving is atomic.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/engine/backend";
import { network, NetworkModel } from "../lib/model/network-model";
import { loadModel, saveModel } from "../lib/saved/model-io";
import { train } from "../lib/train/loop";
import { MNIST_NORMALIZATION } from "../lib/train/settings";
import { bnNet, lenet } from "./helpers/nets";
import { smallMnist } from "./helpers/small-mnist";

const folder = mkdtempSync(join(tmpdir(), "mie-saved-networks-"));
before(async () => {
  await initBackend();
});
after(() => rmSync(folder, { recursive: true, force: true }));

/** TensorFlow.js's own loader on the saved files (tf.io.fromMemory: the files as a browser would fetch them). */
async function tfjsLoad(dir: string): Promise<tf.LayersModel> {
  const json = JSON.parse(readFileSync(join(dir, "model.json"), "utf8"));
  const [group] = json.weightsManifest;
  const bytes = readFileSync(join(dir, group.paths[0]));
  const weightData = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length);
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: group.weights, weightData }));
}

/** TensorFlow.js's predicted classes for a split's first `count` images, scaled as the network trained. */
function tfjsClasses(model: tf.LayersModel, split: { images: Uint8Array }, count: number, scaling: { mean: number; std: number } | null): number[] {
  const { mean, std } = scaling ?? { mean: 0, std: 1 };
  return tf.tidy(() => {
    const pixels = Float32Array.from(split.images.subarray(0, count * 784), (byte) => (byte / 255 - mean) / std);
    const output = model.predict(tf.tensor4d(pixels, [count, 28, 28, 1])) as tf.Tensor;
    return Array.from(output.argMax(1).dataSync());
  });
}

test("a saved network: tf.loadLayersModel's predict gives net.predict's classes on 500 test images; loadModel predicts the same and resumes", async (t) => {
  const data = await smallMnist(640, 500);
  const cases = [
    { name: "lenet-softmax", net: network(lenet(), { init: "torch", seed: 1 }), options: { optimizer: "adam" as const, batchSize: 64 } },
    { name: "bn-dropout-linear", net: network(bnNet(), { init: "torch", seed: 2 }), options: { optimizer: "adam" as const, batchSize: 32, normalize: MNIST_NORMALIZATION } },
  ];
  for (const { name, net, options } of cases) {
    const run = await train(net, data, options);
    const dir = join(folder, name);
    const before = tf.memory().numTensors;
    await saveModel(net, dir);
    assert.equal(tf.memory().numTensors, before, `${name}: saving makes no tensors beyond the Layers model's own`);
    assert.deepEqual(readdirSync(dir).filter((file) => !/^weights-[0-9a-f]{16}\.bin$/.test(file)), ["model.json"], `${name}: model.json and one weights file, no temporary file`);
    const meta = JSON.parse(readFileSync(join(dir, "model.json"), "utf8")).userDefinedMetadata["@mie/lib"];
    assert.equal(meta.trainedSteps, run.steps);
    assert.deepEqual(meta.scaling, options.normalize ?? { mean: 0, std: 1 });
    const ours = net.predict(data.test).classes;
    const theirs = await tfjsLoad(dir);
    const classes = tfjsClasses(theirs, data.test, 500, net.scaling);
    theirs.dispose();
    const agree = classes.filter((c, i) => c === ours[i]).length;
    t.diagnostic(`${name}: TensorFlow.js's predict agrees with the engine on ${agree} of 500 test images (accuracy ${run.accuracy}%)`);
    assert.equal(agree, 500, `${name}: every class the same`);
    assert.ok(new Set(classes).size >= 5, `${name}: a net that tells digits apart (${new Set(classes).size} classes predicted)`);

    const numbers = tf.memory().numTensors;
    const loaded = await loadModel<NetworkModel>(dir);
    assert.equal(tf.memory().numTensors, numbers, `${name}: loading leaves no tensors (the Layers model is rebuilt when asked)`);
    assert.ok(loaded instanceof NetworkModel);
    assert.equal(loaded.init, "custom");
    assert.equal(loaded.trainedSteps, run.steps);
    assert.deepEqual(loaded.scaling, net.scaling);
    assert.deepEqual(loaded.predict(data.test).logits, net.predict(data.test).logits, `${name}: the reloaded network's logits, bit for bit`);
    await assert.rejects(train(loaded, data, options), /already trained/);
    const resumed = await train(loaded, data, { ...options, resume: true });
    const continued = await train(net, data, { ...options, resume: true });
    assert.equal(loaded.trainedSteps, 2 * run.steps, `${name}: steps add up`);
    assert.deepEqual(resumed.losses, continued.losses, `${name}: resuming the reloaded network = resuming the original`);
    await assert.rejects(train(loaded, data, { ...options, normalize: { mean: 0.5, std: 0.5 }, resume: true }), /normalize: this network trained with mean/);
    loaded.dispose();
    net.dispose();
  }
});

test("a tf.Sequential conv net saved by TensorFlow.js itself loads as a network; a broken one is named", async () => {
  const data = await smallMnist(64, 100);
  const model = lenet();
  const dir = join(folder, "by-tfjs");
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    const { weightData, weightSpecs, modelTopology } = artifacts;
    const { mkdirSync, writeFileSync } = await import("node:fs");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "w.bin"), new Uint8Array(weightData as ArrayBuffer));
    writeFileSync(join(dir, "model.json"), JSON.stringify({ modelTopology, weightsManifest: [{ paths: ["w.bin"], weights: weightSpecs }] }));
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
  }));
  const loaded = await loadModel<NetworkModel>(dir);
  const expected = tfjsClasses(model, data.test, 100, null);
  assert.deepEqual(Array.from(loaded.predict(data.test).classes), expected, "the engine predicts what TensorFlow.js does");
  assert.equal(loaded.trainedSteps, 0);
  loaded.dispose();
  model.dispose();
  const json = JSON.parse(readFileSync(join(dir, "model.json"), "utf8"));
  json.modelTopology.config.layers[0].class_name = "Conv3D";
  const { writeFileSync } = await import("node:fs");
  writeFileSync(join(dir, "model.json"), JSON.stringify(json));
  await assert.rejects(loadModel(dir), /by-tfjs\/model\.json: modelTopology: /);
});
