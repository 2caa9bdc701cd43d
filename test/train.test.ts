import { test, before } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/engine/backend";
import { mlp, modelFromWeights, type LayerWeights, type Model } from "../lib/model/model";
import type { OptimizerName } from "../lib/model/optimizers";
import { train } from "../lib/train/loop";
import { MAX_STEPS } from "../lib/train/checks";
import type { Progress } from "../lib/train/progress";
import { smallMnist } from "./helpers/small-mnist";

before(async () => {
  await initBackend();
});

interface FixtureLayer {
  kernelSum: number;
  kernelAbsSum: number;
  kernelRowIndex: number;
  kernelRow: number[];
  bias: number[];
}
interface FixtureRun {
  case: string;
  layers: number[];
  init: "zeros" | "formula";
  optimizer: OptimizerName;
  lr: number;
  batchSize: number;
  losses: number[];
  layersAfter: FixtureLayer[];
}
const fixture = JSON.parse(readFileSync(join(__dirname, "fixtures", "pytorch-steps.json"), "utf8")) as { runs: FixtureRun[] };

/** The initial weights of scripts/pytorch-fixture.py's "formula" case: the same expression, evaluated here. */
function formulaModel(layers: number[]): Model {
  const weights = layers.slice(1).map((outputs, k): LayerWeights => {
    const inputs = layers[k]!;
    const kernel = new Float32Array(inputs * outputs);
    for (let i = 0; i < inputs; i++) {
      for (let j = 0; j < outputs; j++) kernel[i * outputs + j] = (((7 * j + 13 * i + 5 * k) % 17) - 8) / (8 * Math.sqrt(inputs));
    }
    const bias = Float32Array.from({ length: outputs }, (_, j) => (((3 * j + k) % 5) - 2) / 10);
    return { shape: [inputs, outputs], kernel, bias };
  });
  return modelFromWeights(weights);
}

function assertClose(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} vs PyTorch ${expected} (tolerance ${tolerance})`);
}

for (const expected of fixture.runs) {
  test(`matches PyTorch step by step: ${expected.case}, ${expected.optimizer} lr ${expected.lr}`, async () => {
    const data = await smallMnist(88);
    const model = expected.init === "zeros" ? mlp(expected.layers, { init: "zeros" }) : formulaModel(expected.layers);
    const run = await train(model, data, { optimizer: expected.optimizer, lr: expected.lr, batchSize: expected.batchSize, evaluate: false });
    assert.equal(run.steps, expected.losses.length);
    expected.losses.forEach((loss, step) => assertClose(run.losses[step]!, loss, 1e-5, `loss of step ${step}`));
    expected.layersAfter.forEach((layer, k) => {
      const { kernel, bias, shape } = run.model.weights(k);
      const sum = kernel.reduce((a, b) => a + b, 0);
      const absSum = kernel.reduce((a, b) => a + Math.abs(b), 0);
      assertClose(sum, layer.kernelSum, 1e-5 * Math.max(1, layer.kernelAbsSum), `layer ${k} kernel sum`);
      assertClose(absSum, layer.kernelAbsSum, 1e-5 * Math.max(1, layer.kernelAbsSum), `layer ${k} kernel |sum|`);
      layer.kernelRow.forEach((w, j) => assertClose(kernel[layer.kernelRowIndex * shape[1] + j]!, w, 1e-5, `layer ${k} kernel[${layer.kernelRowIndex}][${j}]`));
      layer.bias.forEach((b, j) => assertClose(bias[j]!, b, 1e-5, `layer ${k} bias[${j}]`));
    });
    run.model.dispose();
  });
}

test("the same settings give bit-identical losses and accuracy, run after run", async () => {
  const data = await smallMnist(800, 200);
  const settings = { optimizer: "adam", lr: 0.003, batchSize: 32, epochs: 2, shuffle: true, shuffleSeed: 5 } as const;
  const first = await train(() => mlp([784, 24, 10], { seed: 9 }), data, settings);
  const second = await train(() => mlp([784, 24, 10], { seed: 9 }), data, settings);
  assert.deepEqual(second.losses, first.losses);
  assert.equal(second.accuracy, first.accuracy);
  assert.deepEqual(second.model.weights(0).kernel, first.model.weights(0).kernel);
  const reshuffled = await train(() => mlp([784, 24, 10], { seed: 9 }), data, { ...settings, shuffleSeed: 6 });
  assert.notDeepEqual(reshuffled.losses, first.losses, "another shuffling seed, another order");
  [first, second, reshuffled].forEach((run) => run.model.dispose());
});

test("a run records every step's loss, keeps the last short batch and reports its results", async () => {
  const data = await smallMnist(1000, 300);
  const run = await train(mlp([784, 10]), data, { optimizer: "sgd", lr: 0.05, batchSize: 64 });
  assert.equal(run.steps, 16);
  assert.equal(run.samplesSeen, 1000);
  assert.equal(run.losses.length, 16);
  assert.ok(run.losses.every(Number.isFinite));
  assert.ok(run.losses[15]! < run.losses[0]!, "the loss goes down");
  assert.equal(run.label, "784-10 sgd lr 0.05 batch 64");
  assert.deepEqual(run.settings, {
    optimizer: "sgd", lr: 0.05, batchSize: 64, epochs: 1, shuffle: false, shuffleSeed: null, momentum: null, lrDecay: null, lrRange: null,
    evaluate: true, evalEvery: null, evalOn: null, earlyStopping: null, resume: false, weightDecay: 0, normalize: null, augment: null, oneCycle: null,
    label: "784-10 sgd lr 0.05 batch 64",
  });
  assert.deepEqual(run.layers, [784, 10]);
  assert.equal(run.init, "torch");
  // The backend is MIE_BACKEND's when set (CI runs this file on wasm and on tfjs-node); under auto a run this
  // small (64 × 785 × 10 multiply-adds per step) trains on wasm even where tfjs-node is installed.
  const requested = process.env.MIE_BACKEND;
  assert.equal(run.backend, requested && requested !== "auto" ? requested : "wasm");
  assert.ok(run.seconds > 0 && Math.abs(run.samplesPerSecond - 1000 / run.seconds) < 1e-6);
  const lastTen = Array.from(run.losses.subarray(6));
  assert.ok(Math.abs(run.finalLoss - lastTen.reduce((a, b) => a + b, 0) / 10) < 1e-9);
  assert.equal(run.confusion.length, 10);
  assert.equal(run.confusion.flat().reduce((a, b) => a + b, 0), 300);
  const correct = run.confusion.reduce((sum, row, label) => sum + row[label]!, 0);
  assert.equal(run.accuracy, (100 * correct) / 300);
  assert.ok(run.accuracy > 60, `accuracy ${run.accuracy}% after 1000 images`);
  assert.equal(run.perClassAccuracy.length, 10);
  assert.equal(run.diverged, null);
  assert.equal(run.model.trainedSteps, 16);
  run.model.dispose();
});

test("training leaks no tensors: only the model's own (one per layer) remain, and go with it", async () => {
  const data = await smallMnist(200, 100);
  for (const optimizer of ["sgd", "momentum", "adam", "adagrad", "rmsprop"] as const) {
    const before = tf.memory().numTensors;
    const run = await train(() => mlp([784, 16, 12, 10]), data, { optimizer, batchSize: 50 });
    assert.equal(tf.memory().numTensors, before + 3, optimizer);
    run.model.dispose();
    assert.equal(tf.memory().numTensors, before, optimizer);
  }
});

test("a NaN or infinite loss ends the run at the first bad step; a large finite loss does not", async () => {
  const data = await smallMnist(640, 100);
  const exploded = await train(mlp([784, 10]), data, { lr: 1e38, batchSize: 16 });
  assert.ok(exploded.diverged, "lr 1e38 overflows float32");
  const { step, loss } = exploded.diverged;
  assert.ok(step > 1 && step <= 40);
  assert.ok(!Number.isFinite(loss));
  assert.equal(exploded.steps, step, "the run ends with the bad step");
  assert.ok(!Number.isFinite(exploded.losses[step - 1]!));
  assert.ok(exploded.losses.subarray(0, step - 1).every(Number.isFinite));
  assert.equal(exploded.samplesSeen, 16 * step);
  exploded.model.dispose();

  const wild = await train(mlp([784, 10]), data, { lr: 50, batchSize: 16 });
  assert.equal(wild.diverged, null);
  assert.equal(wild.steps, 40);
  assert.ok(Math.max(...wild.losses) > 20, `lr 50 reaches large losses (max ${Math.max(...wild.losses)})`);
  wild.model.dispose();
});

test("invalid settings throw before training, naming the parameter, the value and what is allowed", async () => {
  const data = await smallMnist(32, 10);
  const model = mlp([784, 10]);
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ lr: 0 }, /lr: expected a finite number > 0, got 0/],
    [{ lr: -1 }, /lr: .* got -1/],
    [{ lr: NaN }, /lr: .* got NaN/],
    [{ batchSize: 1.5 }, /batchSize: expected a positive integer, got 1.5/],
    [{ batchSize: 0 }, /batchSize: expected a positive integer, got 0/],
    [{ epochs: 0 }, /epochs: expected a positive integer, got 0/],
    [{ optimizer: "nadam" }, /optimizer: expected one of sgd, momentum, adam, adamw, adagrad, rmsprop; got "nadam"/],
    [{ momentum: 0.5 }, /momentum: only used by optimizer "momentum", but optimizer is "sgd"/],
    [{ optimizer: "momentum", momentum: 1 }, /momentum: expected a number from 0 up to \(not including\) 1, got 1/],
    [{ shuffle: true, shuffleSeed: 0.5 }, /shuffleSeed: expected an integer, got 0.5/],
    [{ shuffleSeed: 3 }, /shuffleSeed: only used with shuffle: true, but shuffle is false/],
    [{ seed: 1 }, /unknown option seed \(the weights' seed is the model's, mlp\(layers, \{ seed \}\); shuffling's is shuffleSeed\)/],
    [{ signal: "stop" }, /signal: expected an AbortSignal, got "stop"/],
    [{ learningRate: 0.1 }, /unknown option learningRate; expected optimizer, lr, batchSize/],
    [{ shuffle: "yes" }, /shuffle: expected true or false, got "yes"/],
  ];
  for (const [options, message] of cases) {
    await assert.rejects(train(model, data, options as never), message);
  }
  await assert.rejects(train(mlp([28, 10]), data), /layers\[0\]: the model takes 28 inputs, but MNIST images have 28×28 = 784 pixels/);
  await assert.rejects(train(mlp([784, 9]), data), /layers\[1\]: the model has 9 outputs, but MNIST has 10 classes/);
  assert.equal(model.trainedSteps, 0, "nothing trained");
});

test("bad input: train(model, null), train(model, {}) and train({}) say what was expected, before training", async () => {
  const model = mlp([784, 10]);
  await assert.rejects(train(model, null as never), /^TypeError: data: expected a dataset from loadMnist\(\) or loadIdx\(folder\), got null$/);
  await assert.rejects(
    train(model, {} as never),
    /^TypeError: data\.train: expected a split \{ images, labels, count, rows, cols \} \(a dataset from loadMnist\(\) or loadIdx\(folder\)\), got undefined$/,
  );
  await assert.rejects((train as (model: unknown) => Promise<unknown>)({}), /^TypeError: train: expected a Model \(e\.g\. mlp\(\[784, 10\]\)\) or a function returning one, got an empty object \{\}$/);
  const data = await smallMnist(32, 10);
  await assert.rejects(train(data as never, model as never), /got an object with keys .*train, test.* \(the model comes first: train\(model, data, options\)\)/);
  const halfSplit = { ...data, train: { ...data.train, images: data.train.images.subarray(0, 100) } };
  await assert.rejects(train(model, halfSplit), /^TypeError: data\.train\.images: expected a Uint8Array of 25,088 pixels \(32 images of 28×28\), got 100$/);
  const smallTest = { ...data, test: { ...data.test, rows: 14, cols: 14 } };
  await assert.rejects(train(model, smallTest), /^RangeError: data: training images are 28×28 but test images are 14×14; both splits need one size$/);
  assert.equal(model.trainedSteps, 0, "nothing trained");
});

test("bad input: epochs: 1e12 names the step limit and why it exists, before allocating anything", async () => {
  const data = await smallMnist(64, 10);
  await assert.rejects(
    train(mlp([784, 10]), data, { epochs: 1e12 }),
    /^RangeError: epochs: 1,000,000,000,000 epochs of 4 steps is 4,000,000,000,000 steps; the limit is 100,000,000 steps per run \(every step's loss is kept: 4 bytes each\)$/,
  );
  assert.equal(MAX_STEPS, 100_000_000);
});

test("bad input: a batch larger than the training split is refused, naming both sizes; a batch of all of it trains one step", async () => {
  const data = await smallMnist(100, 10);
  await assert.rejects(
    train(mlp([784, 10]), data, { batchSize: 101 }),
    /^RangeError: batchSize: 101 is more than the 100 training images of MNIST: every step would be the whole split, not a batch of 101; use a batchSize of at most 100$/,
  );
  const whole = await train(mlp([784, 10]), data, { batchSize: 100, evaluate: false });
  assert.equal(whole.steps, 1);
  whole.model.dispose();
});

test("a diverged run stops at its bad step and is not evaluated: accuracy NaN, no per-class results, and its last progress says so", async () => {
  const data = await smallMnist(640, 100);
  // A ReLU hidden layer at lr 1e6 overflows float32 within a few steps (784-10 at lr 50 does not: see below).
  const events: Progress[] = [];
  const before = tf.memory().numTensors;
  const run = await train(mlp([784, 100, 10]), data, { lr: 1e6, onProgress: (p) => events.push({ ...p, losses: p.losses.slice() }) });
  assert.ok(run.diverged, "784-100-10 at lr 1e6 diverges");
  assert.ok(run.steps === run.diverged.step && run.steps < 40, `stopped at step ${run.steps} of 40`);
  assert.ok(Number.isNaN(run.accuracy), `accuracy ${run.accuracy}: a diverged run has no accuracy`);
  assert.deepEqual([run.perClassAccuracy, run.confusion], [[], []]);
  assert.ok(Number.isNaN(run.finalLoss));
  const last = events[events.length - 1]!;
  assert.equal(last.done, true);
  assert.deepEqual(last.diverged, run.diverged);
  assert.ok(events.slice(0, -1).every((p) => !p.diverged), "only the last report carries the divergence");
  run.model.dispose();
  assert.equal(tf.memory().numTensors, before, "no tensors leak from a diverged run");
});

test("an already trained model is refused unless resume: true, which continues from its weights", async () => {
  const data = await smallMnist(96, 50);
  const run = await train(mlp([784, 10]), data, { lr: 0.1 });
  await assert.rejects(
    train(run.model, data),
    /model already trained for 6 steps: build a new one with mlp\(\.\.\.\), or pass \{ resume: true \} to continue/,
  );
  const resumed = await train(run.model, data, { lr: 0.1, resume: true });
  assert.equal(resumed.model, run.model);
  assert.equal(resumed.model.trainedSteps, 12);
  assert.ok(resumed.losses[0]! < run.losses[0]!, "the second pass starts where the first ended");
  assert.match(resumed.label, /resumed$/);
  const twoEpochs = await train(mlp([784, 10]), data, { lr: 0.1, epochs: 2 });
  assert.deepEqual(twoEpochs.losses, Float32Array.from([...run.losses, ...resumed.losses]));
  run.model.dispose();
  twoEpochs.model.dispose();
});

test("progress ends with one done event carrying every loss; shuffle changes the order of the batches", async () => {
  const data = await smallMnist(320, 20);
  const events: Progress[] = [];
  const run = await train(mlp([784, 10]), data, { lr: 0.1, batchSize: 32, label: "mine", onProgress: (p) => events.push({ ...p, losses: p.losses.slice() }) });
  const last = events[events.length - 1]!;
  assert.equal(events.filter((p) => p.done).length, 1);
  assert.deepEqual(
    { label: last.label, step: last.step, totalSteps: last.totalSteps, epoch: last.epoch, samplesSeen: last.samplesSeen, done: last.done },
    { label: "mine", step: 10, totalSteps: 10, epoch: 1, samplesSeen: 320, done: true },
  );
  assert.deepEqual(last.losses, run.losses);
  assert.equal(last.loss, run.finalLoss);
  const shuffled = await train(mlp([784, 10]), data, { lr: 0.1, batchSize: 32, shuffle: true, evaluate: false });
  assert.notDeepEqual(shuffled.losses, run.losses);
  assert.ok(Number.isNaN(shuffled.accuracy) && shuffled.confusion.length === 0);
  run.model.dispose();
  shuffled.model.dispose();
});

test("a default label names the model's seed and the shuffle seed when they are not the defaults", async () => {
  const data = await smallMnist(64, 20);
  const run = await train(mlp([784, 10], { seed: 3 }), data, { lr: 0.1, shuffle: true, shuffleSeed: 2, evaluate: false });
  assert.equal(run.label, "784-10 sgd lr 0.1 batch 16 seed 3 shuffled (shuffle seed 2)");
  assert.equal(run.settings.shuffleSeed, 2);
  run.model.dispose();
});

test("an aborted signal stops a run at its next check and rejects with the signal's reason, leaking no tensors", async () => {
  const data = await smallMnist(20000, 20);
  const before = tf.memory().numTensors;
  const model = mlp([784, 64, 10]);
  const stop = new AbortController();
  let reports = 0;
  await assert.rejects(
    // Batch 1: 20,000 steps, long enough for a progress report on any backend (the whole-step wasm kernels can
    // finish 1,250 steps of batch 16 before the first one is due).
    train(model, data, {
      batchSize: 1,
      signal: stop.signal,
      onProgress: () => {
        if (++reports === 1) stop.abort(new Error("stop here"));
      },
    }),
    /stop here/,
  );
  assert.ok(model.trainedSteps > 0 && model.trainedSteps < 20000, `stopped after ${model.trainedSteps} of 20,000 steps`);
  model.dispose();
  assert.equal(tf.memory().numTensors, before);
  const aborted = AbortSignal.abort(new Error("already stopped"));
  await assert.rejects(train(mlp([784, 10]), data, { signal: aborted }), /already stopped/);
});
