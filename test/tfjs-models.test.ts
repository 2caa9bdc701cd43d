/**
 * Any TensorFlow.js Layers model trains: where the engine lacks something (a layer, an activation, a functional
 * tf.model), `network()` hands the model to TensorFlow.js, which trains it with the library's loop. Small models
 * prove that:
 * - a Sequential with layers the engine lacks (LeakyReLU, LayerNormalization, ZeroPadding2D, AveragePooling2D,
 *   DepthwiseConv2D, GlobalAveragePooling2D), a functional model of two branches merged (concatenate, add) and
 *   recurrent layers on image rows train into a `Run` like any other: one loss per step, an accuracy, a label of
 *   the layers' short names;
 * - the run repeats bit for bit (seeded initial weights, shuffle and dropout masks), and another seed changes it,
 *   on the backend this process picks, and in a child process on WebAssembly (a model whose every kernel it has)
 *   and on the cpu backend (a conv net, whose gradient wasm lacks a kernel of, with a note naming the layer once);
 *   tfjs-node on its one intra-op thread promises the same (no `notRepeatable`);
 * - an output of softmax probabilities trains as the same model's logits do;
 * - every optimizer and option (normalize, augment, oneCycle, resume, evalEvery) applies;
 * - bad input fails before training, naming the shapes or the reason; no tensor leaks;
 * - `trainingKernels` and `layerNeeding` find the kernel tfjs's wasm backend lacks and the layer that needs it.
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as tf from "@tensorflow/tfjs";
// Registers the wasm backend's kernels (for tf.getKernel) whichever backend this process runs on.
import "@tensorflow/tfjs-backend-wasm";
import { initBackend, type BackendInfo } from "../lib/engine/backend";
import { network, type NetworkModel } from "../lib/model/network-model";
import { layerNeeding, trainingKernels } from "../lib/model/tfjs-route";
import { train, type Run } from "../lib/train/loop";
import { MNIST_NORMALIZATION, type TrainOptions } from "../lib/train/settings";
import { smallMnist } from "./helpers/small-mnist";
import { convNet, embeddingNet, hashOf, leakyNet, seededRun, type RunBits } from "./helpers/tfjs-nets";

let info: BackendInfo;
before(async () => {
  info = await initBackend();
});

const L = tf.layers;
const image = { inputShape: [28, 28, 1] };

/** The backend `backendForTfjs` picks here for a model whose training step needs a kernel wasm lacks, or not. */
function expectedBackend(wasmLacksAKernel: boolean): string {
  if (info.name === "tfjs-node" || info.nativeFrom) return "tfjs-node";
  return info.name === "wasm" && !wasmLacksAKernel ? "wasm" : "cpu";
}

/** A finished run of a TensorFlow.js-trained model: one finite loss per step, a percentage, its layers' names. */
function assertTrained(run: Run<NetworkModel>, names: string[], steps: number): void {
  assert.equal(run.model.trainer, "tfjs");
  assert.equal(run.steps, steps);
  assert.equal(run.losses.length, steps);
  assert.ok(run.losses.every(Number.isFinite), `finite losses: ${run.losses.join(", ")}`);
  assert.ok(Number.isFinite(run.accuracy) && run.accuracy >= 0 && run.accuracy <= 100, `accuracy ${run.accuracy}`);
  assert.equal(run.diverged, null);
  assert.deepEqual(run.layers, names);
  assert.ok(run.label.startsWith(`${names.join("-")} `), run.label);
  assert.equal(run.model.trainedSteps, steps);
}

/** Train `make()` (seeded, so its original is disposed here) and free everything, checking no tensor is left. */
async function trainAndFree(make: () => tf.LayersModel, images: number, options: TrainOptions = {}): Promise<Run<NetworkModel>> {
  const data = await smallMnist(images, 100);
  const start = tf.memory().numTensors;
  const original = make();
  const run = await train(network(original, { init: "seeded", seed: 1 }), data, { batchSize: 32, ...options });
  run.model.predict(data.test);
  await run.model.layersModel();
  run.model.dispose();
  original.dispose();
  assert.equal(tf.memory().numTensors, start, "no tensor left behind");
  return run;
}

/** A functional model: flatten, then two dense branches merged by `merge`, then dense 10. */
function twoBranches(merge: "concatenate" | "add", dropout = 0): tf.LayersModel {
  const input = tf.input({ shape: [28, 28, 1] });
  const flat = L.flatten().apply(input) as tf.SymbolicTensor;
  const a = L.dense({ units: 16, activation: "relu" }).apply(flat) as tf.SymbolicTensor;
  const b = L.dense({ units: 16, activation: "tanh" }).apply(flat) as tf.SymbolicTensor;
  const merged = (merge === "add" ? L.add() : L.concatenate()).apply([a, b]) as tf.SymbolicTensor;
  const dropped = dropout > 0 ? (L.dropout({ rate: dropout }).apply(merged) as tf.SymbolicTensor) : merged;
  return tf.model({ inputs: input, outputs: L.dense({ units: 10 }).apply(dropped) as tf.SymbolicTensor });
}

test("a Sequential with layers the engine lacks trains: one loss per step, an accuracy, a label of its layers", async () => {
  const cases: { make: () => tf.Sequential; lacks: RegExp; names: string[]; wasmLacks: boolean; images: number }[] = [
    {
      make: () => tf.sequential({ layers: [L.flatten(image), L.dense({ units: 32 }), L.leakyReLU(), L.layerNormalization(), L.dense({ units: 10 })] }),
      lacks: /^layer 2 \(LeakyReLU \{  \}\): the engine does not implement LeakyReLU layers \(it trains Conv2D, .*\); its input is 32 features$/,
      names: ["32", "LeakyReLU", "LayerNormalization", "10"], wasmLacks: false, images: 256,
    },
    {
      make: () => tf.sequential({ layers: [L.zeroPadding2d({ ...image, padding: 2 }), L.averagePooling2d({ poolSize: 4 }), L.flatten(), L.dense({ units: 10 })] }),
      lacks: /^layer 0 \(ZeroPadding2D \{ padding: \[\[2,2\],\[2,2\]\] \}\): the engine does not implement ZeroPadding2D layers .*its input is 28×28×1/,
      names: ["ZeroPadding2D", "AveragePooling2D", "10"], wasmLacks: false, images: 256,
    },
    {
      make: () => tf.sequential({
        layers: [
          L.conv2d({ ...image, filters: 4, kernelSize: 3, strides: 2, activation: "relu" }), L.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2 }),
          L.globalAveragePooling2d({}), L.dense({ units: 10 }),
        ],
      }),
      lacks: /^layer 1 \(DepthwiseConv2D \{ kernelSize: \[3,3\], .*\): the engine does not implement DepthwiseConv2D layers .*its input is 13×13×4/,
      names: ["conv4@3", "DepthwiseConv2D", "GlobalAveragePooling2D", "10"], wasmLacks: false, images: 64,
    },
  ];
  for (const { make, lacks, names, wasmLacks, images } of cases) {
    const model = make();
    const net = network(model);
    assert.equal(net.trainer, "tfjs");
    assert.match(net.engineLacks!, lacks);
    assert.equal(net.tfjsRead!.sequential, true);
    assert.match(net.summary(), /trained by TensorFlow\.js: layer \d/);
    model.dispose();
    const run = await trainAndFree(make, images);
    assertTrained(run, names, images / 32);
    assert.equal(run.backend, expectedBackend(wasmLacks));
  }
});

test("a functional tf.model of two branches merged (concatenate, add) trains", async () => {
  for (const merge of ["concatenate", "add"] as const) {
    const model = twoBranches(merge);
    const net = network(model);
    assert.equal(net.trainer, "tfjs");
    assert.equal(net.engineLacks, "it is a functional tf.model whose layers are not one chain (branches, or several inputs or outputs): the engine trains a chain of layers");
    assert.equal(net.tfjsRead!.sequential, false);
    model.dispose();
    const run = await trainAndFree(() => twoBranches(merge), 256, { optimizer: "adam", lr: 0.01 });
    assertTrained(run, ["16", "16", merge === "add" ? "Add" : "Concatenate", "10"], 8);
    assert.ok(run.accuracy > 30, `${merge}: 8 Adam steps learn something (${run.accuracy}%)`);
  }
});

test("recurrent layers on image rows train: a SimpleRNN on [28, 28] input, an LSTM after a reshape", async () => {
  const rnn = () => {
    const input = tf.input({ shape: [28, 28] });
    return tf.model({ inputs: input, outputs: L.dense({ units: 10 }).apply(L.simpleRNN({ units: 8 }).apply(input)) as tf.SymbolicTensor });
  };
  const lstm = () => tf.sequential({ layers: [L.reshape({ inputShape: [784], targetShape: [28, 28] }), L.lstm({ units: 4 }), L.dense({ units: 10 })] });
  const model = rnn();
  assert.deepEqual(network(model).tfjsRead!.inputShape, [28, 28]);
  model.dispose();
  assertTrained(await trainAndFree(rnn, 128), ["SimpleRNN", "10"], 4);
  assertTrained(await trainAndFree(lstm, 128), ["Reshape", "LSTM", "10"], 4);
});

test("a run repeats bit for bit (seeded weights, shuffle and dropout); another seed changes it; so in a child on wasm and cpu", async () => {
  const first = await seededRun(leakyNet, 256, 3);
  const again = await seededRun(leakyNet, 256, 3);
  assert.equal(first.bits.backend, expectedBackend(false));
  assert.equal(first.bits.steps, 8);
  assert.deepEqual(again, first, "the same initial numbers, losses and trained numbers");
  const other = await seededRun(leakyNet, 256, 4);
  assert.notEqual(other.initial, first.initial, "seed 4 draws other initial numbers");
  assert.notEqual(other.bits.losses, first.bits.losses);
  assert.notEqual(other.bits.numbers, first.bits.numbers);
  const undropped = await seededRun(() => leakyNet(0), 256, 3);
  assert.equal(undropped.initial, first.initial, "dropout has no weights: the same initial numbers");
  assert.notEqual(undropped.bits.losses, first.bits.losses, "dropout drops: its masks are in the losses");

  // A child on wasm: leakyNet's every kernel is wasm's, convNet's too once the library registers the conv gradients
  // wasm lacks; embeddingNet's gradient needs one it still lacks (UnsortedSegmentSum), so it trains on cpu.
  const child = spawnSync(process.execPath, ["--import", "tsx", "-e",
    'require("./test/helpers/tfjs-nets").childReport().then((report) => console.log("REPORT " + JSON.stringify(report)))'], {
    cwd: `${__dirname}/..`, env: { ...process.env, MIE_BACKEND: "wasm" }, encoding: "utf8",
  });
  assert.equal(child.status, 0, child.stderr);
  const line = child.stdout.split("\n").find((text) => text.startsWith("REPORT "));
  assert.ok(line, child.stdout);
  const report = JSON.parse(line.slice("REPORT ".length)) as Record<"leaky" | "conv" | "embedding", { initial: string; bits: RunBits }[]>;
  assert.equal(report.leaky[0]!.initial, first.initial, "init \"seeded\" draws the same numbers in another process, on another backend");
  for (const [name, backend] of [["leaky", "wasm"], ["conv", "wasm"], ["embedding", "cpu"]] as const) {
    const [a, b] = report[name];
    assert.equal(a!.bits.backend, backend, `${name} trains on ${backend}`);
    assert.equal(a!.bits.notRepeatable, null);
    assert.deepEqual(b, a, `${name} on ${backend}: the same bits twice`);
  }
  const notes = child.stderr.split("\n").filter((text) => text.includes("needs kernel"));
  assert.deepEqual(notes, [
    "train: layer 0 (Embedding) needs kernel UnsortedSegmentSum, which TensorFlow.js's wasm backend lacks: its cpu backend trains it (pure JavaScript, " +
      `slow); in this project \`npm run native\` builds it; elsewhere \`npm install @tensorflow/tfjs-node@${tf.version.tfjs}\` (every kernel, native)`,
  ], "one note, once, naming the layer and the kernel");
});

test("tfjs-node on one intra-op thread repeats bit for bit and says so (no notRepeatable); so do wasm and cpu", async () => {
  const make = () => twoBranches("add", 0.5);
  const twice = [await seededRun(make, 128, 5), await seededRun(make, 128, 5)];
  const [a, b] = twice.map(({ bits }) => bits) as [RunBits, RunBits];
  if (a.backend === "tfjs-node") {
    assert.equal(info.name === "tfjs-node" || info.nativeFrom !== undefined, true);
    assert.equal(process.env.TF_NUM_INTRAOP_THREADS ?? "1", "1", "the test runs tfjs-node on one intra-op thread");
  } else {
    assert.ok(a.backend === "wasm" || a.backend === "cpu", a.backend);
  }
  assert.equal(a.notRepeatable, null);
  assert.deepEqual(b, a);
});

test("an output of softmax probabilities trains as the same model's logits do", async () => {
  const data = await smallMnist(256, 100);
  const make = (last: "dense softmax" | "activation softmax" | "logits") => tf.sequential({
    layers: [
      L.flatten(image), L.dense({ units: 32 }), L.leakyReLU(),
      ...(last === "dense softmax" ? [L.dense({ units: 10, activation: "softmax" })]
        : last === "activation softmax" ? [L.dense({ units: 10 }), L.activation({ activation: "softmax" })]
        : [L.dense({ units: 10 })]),
    ],
  });
  const runs: Run<NetworkModel>[] = [];
  for (const last of ["logits", "dense softmax", "activation softmax"] as const) {
    const original = make(last);
    const net = network(original, { init: "seeded", seed: 2 });
    original.dispose();
    assert.equal(net.tfjsRead!.probabilities, last !== "logits", last);
    runs.push(await train(net, data, { batchSize: 32, optimizer: "adam", lr: 0.01 }));
  }
  const [logits, ...probabilities] = runs as [Run<NetworkModel>, ...Run<NetworkModel>[]];
  assert.ok(Math.abs(logits.losses[0]! - Math.log(10)) < 0.3, `a first loss near ln 10: ${logits.losses[0]}`);
  for (const run of probabilities) {
    assert.equal(run.steps, 8);
    // The same weights: cross-entropy of the probabilities is that of softmax(logits), up to rounding and clipping.
    for (let k = 0; k < run.steps; k++) assert.ok(Math.abs(run.losses[k]! - logits.losses[k]!) < 1e-3, `step ${k}: ${run.losses[k]} vs ${logits.losses[k]}`);
    assert.ok(Math.abs(run.accuracy - logits.accuracy) <= 2, `${run.accuracy}% vs ${logits.accuracy}%`);
    const scores = run.model.predict(data.test).logits;
    for (let i = 0; i < 10; i++) {
      const row = scores.subarray(i * 10, i * 10 + 10);
      assert.ok(Math.abs(row.reduce((sum, p) => sum + p, 0) - 1) < 1e-5, "predict gives the model's output: probabilities");
    }
  }
  runs.forEach((run) => run.model.dispose());
});

test("every optimizer and option applies to a model TensorFlow.js trains", async () => {
  const data = await smallMnist(256, 100);
  const start = tf.memory().numTensors;
  const run = async (options: TrainOptions) => {
    const original = leakyNet();
    const net = network(original, { init: "seeded", seed: 1 });
    original.dispose();
    const result = await train(net, data, { batchSize: 32, evaluate: false, ...options });
    result.model.dispose();
    assert.equal(result.losses.length, 8);
    assert.ok(result.losses.every(Number.isFinite), `${JSON.stringify(options)}: ${result.losses.join(", ")}`);
    return result.losses;
  };
  const bytes = (losses: Float32Array) => hashOf(losses);
  const base = await run({});
  const variants: { options: TrainOptions; sameFirstLoss: boolean }[] = [
    { options: { optimizer: "sgd", lr: 0.05 }, sameFirstLoss: true },
    { options: { optimizer: "momentum", lr: 0.01 }, sameFirstLoss: true },
    { options: { optimizer: "adam", lr: 0.01 }, sameFirstLoss: true },
    { options: { optimizer: "adamw", lr: 0.01, weightDecay: 0.1 }, sameFirstLoss: true },
    { options: { oneCycle: { maxLr: 0.05 } }, sameFirstLoss: true },
    { options: { normalize: MNIST_NORMALIZATION }, sameFirstLoss: false },
    { options: { augment: { shift: 2, seed: 1 } }, sameFirstLoss: false },
  ];
  const seen = new Set([bytes(base)]);
  for (const { options, sameFirstLoss } of variants) {
    const losses = await run(options);
    const what = JSON.stringify(options);
    // The first loss is measured before any update: only what changes the input changes it.
    if (sameFirstLoss) assert.equal(losses[0], base[0], `${what}: the same first batch, weights and dropout masks`);
    else assert.notEqual(losses[0], base[0], `${what} changes the input`);
    assert.ok(!seen.has(bytes(losses)), `${what} changes the losses`);
    seen.add(bytes(losses));
  }
  // AdamW without weight decay is Adam.
  assert.equal(bytes(await run({ optimizer: "adamw", lr: 0.01 })), bytes(await run({ optimizer: "adam", lr: 0.01 })));
  assert.equal(tf.memory().numTensors, start, "no tensor left behind");
});

test("resume: true continues a model TensorFlow.js trains; without it a trained model is refused", async () => {
  const data = await smallMnist(256, 100);
  const start = tf.memory().numTensors;
  const original = leakyNet();
  const net = network(original, { init: "seeded", seed: 1 });
  original.dispose();
  const first = await train(net, data, { batchSize: 32, optimizer: "adam", lr: 0.01 });
  assert.equal(first.model.trainedSteps, 8);
  const before = hashOf(...net.numbers().params);
  const second = await train(first.model, data, { batchSize: 32, optimizer: "adam", lr: 0.01, resume: true });
  assert.equal(second.model, net);
  assert.equal(second.steps, 8);
  assert.equal(net.trainedSteps, 16, "the steps add up");
  assert.notEqual(hashOf(...net.numbers().params), before, "it trained on");
  assert.ok(second.losses[0]! < first.losses[0]!, `it starts where the first run ended: ${second.losses[0]} < ${first.losses[0]}`);
  let steps = 0;
  await assert.rejects(train(net, data, { batchSize: 32, onProgress: () => steps++ }), {
    message: "train: model already trained for 16 steps: build a new one with mlp(...), or pass { resume: true } to continue",
  });
  await assert.rejects(train(net, data, { batchSize: 32, resume: true, normalize: MNIST_NORMALIZATION }), {
    message: "normalize: this network trained with mean 0, std 1; resume it with the same",
  });
  assert.equal(steps, 0);
  assert.equal(net.trainedSteps, 16, "a refused run trains nothing");
  net.dispose();
  assert.equal(tf.memory().numTensors, start, "no tensor left behind");
});

test("evalEvery: 20 gives an accuracy curve whose last point is the run's accuracy", async () => {
  const run = await trainAndFree(leakyNet, 1024, { batchSize: 16, evalEvery: 20, optimizer: "adam", lr: 0.01 });
  assert.deepEqual(run.evaluations.map((point) => point.step), [20, 40, 60, 64]);
  assert.ok(run.evaluations.every((point) => Number.isFinite(point.accuracy) && point.accuracy >= 0 && point.accuracy <= 100));
  assert.equal(run.evaluations.at(-1)!.accuracy, run.accuracy);
  assert.ok(run.evalSeconds > 0);
});

test("bad input fails before training: two inputs, an output that is not a score per class, init \"torch\"", async () => {
  const data = await smallMnist(64, 10);
  const start = tf.memory().numTensors;
  const refused = async (make: () => tf.LayersModel, message: string, options: { init?: "torch" } = {}) => {
    const model = make();
    assert.throws(() => network(model, options), { name: "RangeError", message });
    let steps = 0;
    const again = make();
    await assert.rejects(train(options.init ? () => network(again, options) : again, data, { onProgress: () => steps++ }), { name: "RangeError", message });
    assert.equal(steps, 0, "nothing trained");
    model.dispose();
    again.dispose();
  };
  await refused(() => {
    const [a, b] = [tf.input({ shape: [784] }), tf.input({ shape: [784] })];
    return tf.model({ inputs: [a, b], outputs: L.dense({ units: 10 }).apply(L.concatenate().apply([a, b])) as tf.SymbolicTensor });
  }, "the model has 2 inputs and 1 outputs; the library trains models of one input (the images) and one output (a score per class)");
  await refused(() => {
    const input = tf.input({ shape: [28, 28] });
    return tf.model({ inputs: input, outputs: L.simpleRNN({ units: 10, returnSequences: true }).apply(input) as tf.SymbolicTensor });
  }, "the model's output shape is [null, 28, 10]; expected one score per class, [batch, classes] (end with a dense layer, or flatten before it)");
  await refused(
    () => tf.sequential({ layers: [L.zeroPadding2d({ ...image, padding: 1 }), L.dense({ units: 10 })] }),
    "the model's output shape is [null, 30, 30, 10]; expected one score per class, [batch, classes] (end with a dense layer, or flatten before it)",
  );
  await refused(() => {
    const input = tf.input({ shape: [32, 32, 1] });
    return tf.model({ inputs: input, outputs: L.dense({ units: 10 }).apply(L.flatten().apply(input)) as tf.SymbolicTensor });
  },
    // A chain of layers the engine has: the engine's reader refuses it.
    "layer 1 (Flatten {  }): the model's input shape is [32, 32, 1] but the data's images are 28×28×1 (expected inputShape [28, 28, 1] or [784])",
  );
  await refused(
    leakyNet,
    'init: "torch" draws PyTorch\'s initial values for the engine\'s layers, but TensorFlow.js trains this model (layer 2 (LeakyReLU {  }): the engine ' +
      "does not implement LeakyReLU layers (it trains Conv2D, MaxPooling2D, Flatten, Dense, Dropout, BatchNormalization, Activation); its input is 32 " +
      'features); use init "seeded" (its own initialisers, seeded) or "own"',
    { init: "torch" },
  );
  assert.equal(tf.memory().numTensors, start, "no tensor left behind");
});

test("no tensor leaks: network(), train(), predict, layersModel and dispose, with the model's own weights or seeded", async () => {
  const data = await smallMnist(128, 100);
  const start = tf.memory().numTensors;
  for (const make of [leakyNet, () => twoBranches("concatenate", 0.25)]) {
    // "own": the run's model is the one given, and disposing the run's model frees it.
    const own = make();
    const withModel = tf.memory().numTensors;
    const run = await train(network(own), data, { batchSize: 32, optimizer: "adamw", weightDecay: 0.01, evalEvery: 2, augment: { shift: 1 } });
    assert.equal(tf.memory().numTensors, withModel, "train() leaves no tensor behind");
    run.model.predict(data.test);
    assert.equal(await run.model.layersModel(), own);
    assert.equal(tf.memory().numTensors, withModel, "predict and layersModel() leave no tensor behind");
    run.model.dispose();
    assert.equal(tf.memory().numTensors, start);
    // A model given to train() directly.
    const direct = await train(make(), data, { batchSize: 32, evaluate: false });
    direct.model.dispose();
    assert.equal(tf.memory().numTensors, start);
    // "seeded" trains a copy: the caller disposes the original.
    const original = make();
    const seeded = await train(network(original, { init: "seeded" }), data, { batchSize: 32 });
    assert.notEqual(await seeded.model.layersModel(), original);
    seeded.model.dispose();
    original.dispose();
    assert.equal(tf.memory().numTensors, start, "every model's tensors freed");
  }
});

test("trainingKernels lists a step's kernels (wasm has a conv net's once the library registers its gradients), and layerNeeding the layer of a kernel wasm lacks", async () => {
  const previous = tf.getBackend();
  const conv = convNet();
  const leaky = leakyNet();
  const depthwise = tf.sequential({ layers: [L.depthwiseConv2d({ ...image, kernelSize: 5, strides: 2 }), L.flatten(), L.dense({ units: 10 })] });
  const read = (model: tf.LayersModel) => network(model).tfjsRead!;
  const start = tf.memory().numTensors;
  await tf.setBackend("cpu");
  try {
    const before = hashOf(...network(conv).numbers().params);
    const kernels = await trainingKernels(conv, read(conv));
    assert.ok(kernels.includes("Conv2DBackpropFilter") && kernels.includes("Conv2D") && kernels.includes("AvgPoolGrad"), kernels.join(", "));
    assert.ok(kernels.every((kernel) => tf.getKernel(kernel, "cpu") !== undefined), "kernels the backend ran, not ops");
    assert.equal(tf.getKernel("Conv2D", "wasm")?.kernelName, "Conv2D", "wasm's kernels are registered");
    assert.deepEqual(kernels.filter((kernel) => !tf.getKernel(kernel, "wasm")), [], "Conv2DBackpropFilter registered for wasm by trainingKernels");
    assert.equal(hashOf(...network(conv).numbers().params), before, "the weights are put back");
    assert.equal(await layerNeeding(conv, "Conv2DBackpropFilter"), "layer 0 (Conv2D)");
    assert.equal(await layerNeeding(conv, "AvgPoolGrad"), "layer 1 (AveragePooling2D)");
    assert.equal(await layerNeeding(conv, "NoSuchKernel"), null);

    const dense = await trainingKernels(leaky, read(leaky));
    assert.ok(dense.includes("LeakyRelu"), dense.join(", "));
    assert.deepEqual(dense.filter((kernel) => !tf.getKernel(kernel, "wasm")), [], "wasm has every kernel of a dense net");

    const depth = await trainingKernels(depthwise, read(depthwise));
    assert.ok(depth.includes("DepthwiseConv2dNativeBackpropFilter"), depth.join(", "));
    assert.equal(await layerNeeding(depthwise, "DepthwiseConv2dNativeBackpropFilter"), "layer 0 (DepthwiseConv2D)");

    const embedding = embeddingNet();
    const gather = await trainingKernels(embedding, read(embedding));
    assert.deepEqual(gather.filter((kernel) => !tf.getKernel(kernel, "wasm")), ["UnsortedSegmentSum"], "what wasm still lacks");
    assert.equal(await layerNeeding(embedding, "UnsortedSegmentSum"), "layer 0 (Embedding)");
    embedding.dispose();
    assert.equal(tf.memory().numTensors, start, "no tensor left behind");
  } finally {
    await tf.setBackend(previous);
    [conv, leaky, depthwise].forEach((model) => model.dispose());
  }
});
