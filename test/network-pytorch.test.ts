/**
 * Networks of tf.layers on the engine against PyTorch (test/fixtures/network-fixture.json, written by
 * scripts/pytorch-network-fixture.py), layer by layer and whole nets:
 * - each layer kind in a small net (a linear conv before it, so its gradient with respect to its input shows in
 *   that conv's weights; flatten and a dense layer after it): every layer's output in training and evaluation mode
 *   (`session.activations`), the loss, every trained array's gradient (from one SGD step at lr 1: p − p′), and batch
 *   norm's running statistics after the step;
 * - a tiny LeNet-like net with batch norm, dropout and tanh trained two steps by `train` (SGD, Adam): the losses,
 *   the first step's gradients, the trained arrays and running statistics after, and the evaluation-mode logits;
 * - the TensorFlow.js model itself, given the numbers by `writeNumbers`, predicts what PyTorch's eval mode gives
 *   (the layouts and TensorFlow's "same" padding and flatten order are the engine's).
 * The initial numbers are `torchNumbers(spec, seed)` (the fixture script draws the same), batch norm's γ, β and
 * running statistics a formula both sides evaluate, the dropout masks the engine's seeded stream (ported there).
 *
 * Tolerance: float32 work summed in different orders than PyTorch's (its convolutions and products block their
 * sums), so |ours − PyTorch's| ≤ 1e-6 + 1e-5·|PyTorch's|, except where said: a gradient read from a parameter's
 * change also carries that subtraction's rounding (half an ulp of the parameter, over lr). Measured against a float64
 * run of the same script, PyTorch's float32 is within 0.6 of this tolerance everywhere and ours within 0.98, the
 * largest where batch norm sums a channel in float32 from 0 in order (PyTorch accumulates in double): its outputs
 * near 0 (0.89), and the bias of the conv before it, whose gradient is exactly 0 in exact arithmetic and rounding
 * noise on both sides (ours −9.2e-7, PyTorch's 6.7e-8).
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/engine/backend";
import { createEngine, type Engine } from "../lib/engine/engine";
import { paramSizes, type NetworkNumbers, type NetworkSpec } from "../lib/engine/layers";
import type { NetworkBatch } from "../lib/engine/network";
import { writeNumbers } from "../lib/model/layers-model";
import { network } from "../lib/model/network-model";
import type { Dataset, Split } from "../lib/data/data";
import { train } from "../lib/train/loop";

interface FixtureLayer { kind: string; filters?: number; kernel?: number; stride?: number; padding?: string; activation?: string; size?: number; rate?: number; units?: number }
interface Image { channels: number; height: number; width: number }
interface LayerCase {
  name: string;
  layers: FixtureLayer[];
  image: Image;
  seed: number;
  train: { loss: number; outputs: (number[] | null)[]; grads: number[][]; stats: number[][] };
  eval?: { outputs: (number[] | null)[] };
}
interface NetCase {
  name: string;
  layers: FixtureLayer[];
  image: Image;
  seed: number;
  optimizer: "sgd" | "adam";
  lr: number;
  batchSize: number;
  steps: { loss: number; grads?: number[][]; stats: number[][] }[];
  params: number[][];
  evalLogits: number[];
}
const fixture = JSON.parse(readFileSync(join(__dirname, "fixtures", "network-fixture.json"), "utf8")) as {
  layerImages: number[]; layerLabels: number[]; netImages: number[]; netLabels: number[]; cases: LayerCase[]; nets: NetCase[];
};

before(async () => {
  await initBackend();
});

/** The fixture's net as a tf.Sequential: PyTorch's batch norm (momentum 0.1 is TensorFlow's 0.9; eps 1e-5). */
function tfModel(layers: FixtureLayer[], image: Image): tf.Sequential {
  const inputShape = [image.height, image.width, image.channels];
  return tf.sequential({
    layers: layers.map((layer, i) => {
      const first = i === 0 ? { inputShape } : {};
      const activation = layer.activation as "relu" | undefined;
      switch (layer.kind) {
        case "conv2d": return tf.layers.conv2d({ ...first, filters: layer.filters!, kernelSize: layer.kernel!, strides: layer.stride!, padding: layer.padding as "same", activation });
        case "maxPool": return tf.layers.maxPooling2d({ ...first, poolSize: layer.size! });
        case "flatten": return tf.layers.flatten(first);
        case "dense": return tf.layers.dense({ ...first, units: layer.units!, activation });
        case "dropout": return tf.layers.dropout({ ...first, rate: layer.rate! });
        case "batchNorm": return tf.layers.batchNormalization({ ...first, momentum: 0.9, epsilon: 1e-5 });
        case "activation": return tf.layers.activation({ ...first, activation: activation! });
        default: throw new Error(`unknown fixture layer ${layer.kind}`);
      }
    }),
  });
}

/** Batch norm's γ, β, running mean and variance of the fixture script's `bn_values`. */
function bnValues(channels: number): Float32Array[] {
  const c = Array.from({ length: channels }, (_, k) => k);
  return [
    Float32Array.from(c, (k) => 1 + 0.25 * ((k % 3) - 1)), Float32Array.from(c, (k) => 0.1 * ((k % 4) - 1.5)),
    Float32Array.from(c, (k) => 0.05 * k - 0.1), Float32Array.from(c, (k) => 0.5 + 0.25 * k),
  ];
}

/** torchNumbers' draws (through `network(model, { init: "torch" })`), batch norm's values from the formula. */
function fixtureNumbers(spec: NetworkSpec, numbers: NetworkNumbers): NetworkNumbers {
  const params = numbers.params.map((p) => p.slice());
  const stats = numbers.stats.map((s) => s.slice());
  let param = 0;
  let stat = 0;
  for (const layer of spec.layers) {
    if (layer.kind === "batchNorm") {
      const [gamma, beta, mean, variance] = bnValues(paramSizes(layer)[0]!);
      params[param++] = gamma!;
      params[param++] = beta!;
      stats[stat++] = mean!;
      stats[stat++] = variance!;
    } else param += paramSizes(layer).length;
  }
  return { params, stats };
}

function split(bytes: number[], labels: number[], image: Image): Split {
  return { images: Uint8Array.from(bytes), labels: Uint8Array.from(labels), count: labels.length, rows: image.height, cols: image.width };
}

/**
 * Every |actual − expected| ≤ abs + rel·|expected| (+ `slack[k]`), else a failure naming the worst element.
 */
function assertClose(actual: ArrayLike<number>, expected: readonly number[], what: string, { rel = 1e-5, abs = 1e-6, slack }: { rel?: number; abs?: number; slack?: (k: number) => number } = {}): void {
  assert.equal(actual.length, expected.length, `${what}: ${actual.length} values, PyTorch has ${expected.length}`);
  let worst = -1;
  let excess = 0;
  for (let k = 0; k < expected.length; k++) {
    const over = Math.abs(actual[k]! - expected[k]!) - (abs + rel * Math.abs(expected[k]!) + (slack?.(k) ?? 0));
    if (!(over <= excess)) [worst, excess] = [k, Number.isNaN(over) ? Infinity : over];
  }
  assert.ok(worst < 0, `${what}[${worst}]: ours ${actual[worst]}, PyTorch ${expected[worst]} (beyond the tolerance by ${excess})`);
}

/** Half an ulp of a float32 (the rounding of p − lr·g when the gradient is read back from p's change). */
function halfUlp(value: number): number {
  const magnitude = Math.abs(value);
  return magnitude === 0 ? 0 : 2 ** (Math.floor(Math.log2(magnitude)) - 24);
}

const ENGINES: [string, () => Engine][] = [
  ["wasm", () => createEngine({ native: false, threads: 1 })],
  ["native", () => createEngine({ native: true, threads: 1 })],
];

for (const expected of fixture.cases) {
  for (const [engineName, makeEngine] of ENGINES) {
    test(`${expected.name} (${engineName}): outputs, loss, gradients and running statistics match PyTorch`, () => {
      const model = tfModel(expected.layers, expected.image);
      const net = network(model, { init: "torch", seed: expected.seed, image: expected.image });
      const numbers = fixtureNumbers(net.spec, net.numbers());
      const engine = makeEngine();
      const data = split(fixture.layerImages, fixture.layerLabels, expected.image);
      const batch: NetworkBatch = { split: data, from: 0, to: data.count, order: null, shifts: null };
      const start = () => engine.startNetwork({
        spec: net.spec, numbers, batchSize: data.count, seed: expected.seed, scaling: { mean: 0, std: 1 },
        rule: { optimizer: "sgd", lr: 1, momentum: null, weightDecay: 0 },
      }, false);

      // Training mode: the forward pass of a step (the same dropout masks: a fresh session from the same seed).
      const forward = start();
      const outputs = forward.activations(batch, true);
      expected.train.outputs.forEach((output, i) => {
        if (output) assertClose(outputs[i]!, output, `training-mode output of layer ${i} (${net.spec.layers[i]!.kind})`);
      });
      assertClose(forward.read().stats.flatMap((s) => [...s]), expected.train.stats.flat(), "running statistics after a training forward pass");
      forward.dispose();

      const session = start();
      const loss = session.step(batch);
      assertClose([loss], [expected.train.loss], "loss");
      const after = session.read();
      after.params.forEach((p, k) => {
        const before = numbers.params[k]!;
        const gradient = Array.from(p, (value, j) => before[j]! - value);
        // lr 1: the gradient is p − p′, exact but for p′'s rounding (half an ulp of p′).
        assertClose(gradient, expected.train.grads[k]!, `gradient of trained array ${k}`, { slack: (j) => halfUlp(p[j]!) });
      });
      assertClose(after.stats.flatMap((s) => [...s]), expected.train.stats.flat(), "running statistics after the step");
      session.dispose();

      if (expected.eval) {
        const evaluation = start();
        const evalOutputs = evaluation.activations(batch);
        expected.eval.outputs.forEach((output, i) => {
          if (output) assertClose(evalOutputs[i]!, output, `evaluation-mode output of layer ${i} (${net.spec.layers[i]!.kind})`);
        });
        assert.deepEqual(evaluation.evaluate(batch), evalOutputs[evalOutputs.length - 1], "evaluate gives the last layer's activations");
        assert.deepEqual(evaluation.read().stats, numbers.stats, "evaluation leaves the running statistics alone");
        evaluation.dispose();
      }
      net.dispose();
    });
  }
}

test("the TensorFlow.js model given the numbers (writeNumbers) predicts PyTorch's evaluation-mode logits", () => {
  for (const expected of fixture.cases) {
    const model = tfModel(expected.layers, expected.image);
    const net = network(model, { init: "torch", seed: expected.seed, image: expected.image });
    writeNumbers(model, { spec: net.spec, source: net.sourceLayers as number[] }, fixtureNumbers(net.spec, net.numbers()));
    const { height, width } = expected.image;
    const logits = tf.tidy(() => {
      const x = tf.tensor4d(Float32Array.from(fixture.layerImages, (v) => v / 255), [fixture.layerLabels.length, height, width, 1]);
      return (model.predict(x) as tf.Tensor).transpose().dataSync() as Float32Array;
    });
    const outputs = (expected.eval ?? expected.train).outputs;
    // TensorFlow.js's own kernels (its backend's convolutions and batch norm): float32, other orders again.
    assertClose(logits, outputs[outputs.length - 1]!, `${expected.name}: TensorFlow.js's logits`);
    net.dispose();
  }
});

for (const expected of fixture.nets) {
  test(`${expected.name}: train() takes two steps of PyTorch's (losses, gradients, trained arrays, running statistics, evaluation logits)`, async () => {
    const data: Dataset = {
      name: "MNIST crops", description: `${expected.image.height}×${expected.image.width} crops`, classes: 10,
      train: split(fixture.netImages, fixture.netLabels, expected.image), test: split(fixture.netImages, fixture.netLabels, expected.image),
    };
    const options = { optimizer: expected.optimizer, lr: expected.lr, batchSize: expected.batchSize, evaluate: false };
    /** The net with the fixture's numbers as its own weights (writeNumbers, read back by network()), masks from `seed`. */
    const fresh = () => {
      const model = tfModel(expected.layers, expected.image);
      const drawn = network(model, { init: "torch", seed: expected.seed, image: expected.image });
      const numbers = fixtureNumbers(drawn.spec, drawn.numbers());
      writeNumbers(model, { spec: drawn.spec, source: drawn.sourceLayers as number[] }, numbers);
      const net = network(model, { seed: expected.seed, image: expected.image });
      assert.deepEqual(net.numbers(), numbers, "the model's own weights read back are the numbers written");
      return { net, numbers };
    };

    const run = await train(fresh().net, data, options);
    assert.equal(run.steps, expected.steps.length);
    expected.steps.forEach((step, k) => assertClose([run.losses[k]!], [step.loss], `loss of step ${k}`));
    // Two steps of float32 work (Adam: a division by √v) compound the differences of the first: 1e-5 → 2e-5.
    assertClose(run.model.numbers().params.flatMap((p) => [...p]), expected.params.flat(), "trained arrays after two steps", { rel: 2e-5, abs: 2e-6 });
    assertClose(run.model.numbers().stats.flatMap((s) => [...s]), expected.steps[expected.steps.length - 1]!.stats.flat(), "running statistics after two steps");
    const { logits } = run.model.predict(data.test);
    const classes = 10;
    const byClass = Array.from({ length: logits.length }, (_, k) => logits[(k % data.test.count) * classes + Math.floor(k / data.test.count)]!);
    assertClose(byClass, expected.evalLogits, "evaluation-mode logits after training", { rel: 2e-5, abs: 2e-6 });
    run.model.dispose();

    if (expected.optimizer === "sgd") {
      // The first step alone: every gradient from the parameters' change, (p − p′)/lr.
      const { net, numbers } = fresh();
      const first = { ...data, train: { ...data.train, count: expected.batchSize } };
      const one = await train(net, first, options);
      assertClose([one.losses[0]!], [expected.steps[0]!.loss], "loss of the first step");
      one.model.numbers().params.forEach((p, k) => {
        const gradient = Array.from(p, (value, j) => (numbers.params[k]![j]! - value) / expected.lr);
        assertClose(gradient, expected.steps[0]!.grads![k]!, `first step's gradient of trained array ${k}`, { slack: (j) => halfUlp(p[j]!) / expected.lr });
      });
      assertClose(one.model.numbers().stats.flatMap((s) => [...s]), expected.steps[0]!.stats.flat(), "running statistics after the first step");
      one.model.dispose();
    }
  });
}
