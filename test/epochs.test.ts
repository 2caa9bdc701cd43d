/** Several epochs: a new seeded order every epoch, and a step learning-rate schedule that changes the rate exactly. */
import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/engine/backend";
import type { Dataset } from "../lib/data/data";
import { mlp } from "../lib/model/model";
import { PYTORCH_DEFAULTS, type OptimizerName } from "../lib/model/optimizers";
import { permutation, seededRandom } from "../lib/math/random";
import { learningRate } from "../lib/train/settings";
import { train } from "../lib/train/loop";
import { smallMnist } from "./helpers/small-mnist";

before(async () => {
  await initBackend();
});

test("same shuffle seed, same numbers over several epochs with a schedule; another seed, other numbers", async () => {
  const data = await smallMnist(96, 30);
  const options = { lr: 0.1, batchSize: 16, epochs: 3, shuffle: true, shuffleSeed: 7, lrDecay: { factor: 0.5, every: 1 } };
  const [a, b, other] = [
    await train(mlp([784, 20, 10], { seed: 1 }), data, options),
    await train(mlp([784, 20, 10], { seed: 1 }), data, options),
    await train(mlp([784, 20, 10], { seed: 1 }), data, { ...options, shuffleSeed: 8 }),
  ];
  assert.equal(a.steps, 18);
  assert.deepEqual(a.losses, b.losses);
  assert.deepEqual(a.model.weights(0).kernel, b.model.weights(0).kernel);
  assert.equal(a.accuracy, b.accuracy);
  assert.notDeepEqual(a.losses, other.losses);
  [a, b, other].forEach((run) => run.model.dispose());
});

test("every epoch visits the training images in a new order, drawn from the shuffle seed", async () => {
  const data = await smallMnist(40, 10);
  // At lr 1e-30 no weight moves (each update is far below a float32 ulp), so at batch 1 a step's loss is that image's.
  const still = { lr: 1e-30, batchSize: 1, evaluate: false };
  const inOrder = await train(mlp([784, 10]), data, still);
  const shuffled = await train(mlp([784, 10]), data, { ...still, epochs: 3, shuffle: true, shuffleSeed: 5 });
  const random = seededRandom(5);
  const orders = [1, 2, 3].map(() => permutation(40, random));
  assert.notDeepEqual(orders[0], orders[1]);
  const expected = Float32Array.from(orders.flatMap((order) => Array.from(order, (image) => inOrder.losses[image]!)));
  assert.deepEqual(shuffled.losses, expected);
  inOrder.model.dispose();
  shuffled.model.dispose();
});

/** One linear layer trained by hand in float64: softmax cross-entropy gradients and PyTorch's update rules. */
function handTrained(data: Dataset, start: { kernel: Float32Array; bias: Float32Array }, optimizer: OptimizerName, lrs: number[], batchSize: number): Float64Array {
  const inputs = 784;
  const outputs = 10;
  // Parameters as [inputs + 1][outputs]: the kernel, then the bias row.
  const params = Float64Array.from([...start.kernel, ...start.bias]);
  const state = [new Float64Array(params.length), new Float64Array(params.length)];
  const { count, images, labels } = data.train;
  let t = 0;
  for (const lr of lrs) {
    for (let from = 0; from < count; from += batchSize) {
      const size = Math.min(batchSize, count - from);
      const grad = new Float64Array(params.length);
      for (let n = from; n < from + size; n++) {
        const x = [...Array.from(images.subarray(n * inputs, (n + 1) * inputs), (byte) => byte / 255), 1];
        const logits = Array.from({ length: outputs }, (_, j) => x.reduce((sum, xi, i) => sum + xi * params[i * outputs + j]!, 0));
        const top = Math.max(...logits);
        const exps = logits.map((z) => Math.exp(z - top));
        const total = exps.reduce((s, e) => s + e, 0);
        exps.forEach((e, j) => {
          const dz = (e / total - (labels[n] === j ? 1 : 0)) / size;
          x.forEach((xi, i) => (grad[i * outputs + j] += dz * xi));
        });
      }
      t++;
      const [s0, s1] = state as [Float64Array, Float64Array];
      const { beta1, beta2, eps } = PYTORCH_DEFAULTS.adam;
      grad.forEach((g, k) => {
        if (optimizer === "sgd") params[k] -= lr * g;
        else if (optimizer === "momentum") {
          s0[k] = t === 1 ? g : PYTORCH_DEFAULTS.momentum * s0[k]! + g;
          params[k] -= lr * s0[k]!;
        } else if (optimizer === "adam" || optimizer === "adamw") { // adamw without weight decay is adam
          s0[k] = beta1 * s0[k]! + (1 - beta1) * g;
          s1[k] = beta2 * s1[k]! + (1 - beta2) * g * g;
          params[k] -= (lr * s0[k]! / (1 - beta1 ** t)) / (Math.sqrt(s1[k]! / (1 - beta2 ** t)) + eps);
        } else if (optimizer === "adagrad") {
          s0[k] += g * g;
          params[k] -= (lr * g) / (Math.sqrt(s0[k]!) + PYTORCH_DEFAULTS.adagrad.eps);
        } else {
          const { alpha } = PYTORCH_DEFAULTS.rmsprop;
          s0[k] = alpha * s0[k]! + (1 - alpha) * g * g;
          params[k] -= (lr * g) / (Math.sqrt(s0[k]!) + PYTORCH_DEFAULTS.rmsprop.eps);
        }
      });
    }
  }
  return params;
}

const RATES: Record<OptimizerName, number> = { sgd: 0.1, momentum: 0.05, adam: 0.01, adamw: 0.01, adagrad: 0.05, rmsprop: 0.001 };

for (const [optimizer, lr] of Object.entries(RATES) as [OptimizerName, number][]) {
  test(`lrDecay changes ${optimizer}'s effective rate exactly: the weights of a hand computation at lr, lr, lr/2, lr/2`, async () => {
    const data = await smallMnist(24, 10);
    const model = mlp([784, 10], { seed: 3 });
    const start = model.weights(0);
    const lrDecay = { factor: 0.5, every: 2 };
    const lrs = [1, 2, 3, 4].map((epoch) => learningRate({ lr, lrDecay }, epoch));
    assert.deepEqual(lrs, [lr, lr, lr / 2, lr / 2]);
    const run = await train(model, data, { optimizer, lr, batchSize: 8, epochs: 4, lrDecay, evaluate: false });
    const { kernel, bias } = run.model.weights(0);
    const trained = [...kernel, ...bias];
    const scheduled = handTrained(data, start, optimizer, lrs, 8);
    const constant = handTrained(data, start, optimizer, [lr, lr, lr, lr], 8);
    const gap = (reference: Float64Array): number => Math.max(...trained.map((w, k) => Math.abs(w - reference[k]!)));
    assert.ok(gap(scheduled) < 1e-6, `largest difference from the scheduled hand computation: ${gap(scheduled)}`);
    assert.ok(gap(constant) > 1e-3, `the schedule must matter: ${gap(constant)} from a constant rate`);
    assert.match(run.label, /lr [\d.]+ ×0\.5 every 2 epochs batch 8 seed 3 4 epochs/);
    run.model.dispose();
  });
}

test("a schedule leaks no tensors, whatever the optimizer", async () => {
  const data = await smallMnist(48, 10);
  for (const optimizer of Object.keys(RATES) as OptimizerName[]) {
    const before = tf.memory().numTensors;
    const run = await train(mlp([784, 10]), data, { optimizer, lr: 0.01, batchSize: 16, epochs: 3, lrDecay: { factor: 0.1, every: 1 }, evaluate: false });
    run.model.dispose();
    assert.equal(tf.memory().numTensors, before, optimizer);
  }
});

test("bad lrDecay values fail before training, naming the field and what is expected", async () => {
  const data = await smallMnist(48, 10);
  const model = mlp([784, 10]);
  const bad = (lrDecay: unknown, epochs = 4) => train(model, data, { epochs, lrDecay: lrDecay as never });
  await assert.rejects(bad(0.5), /lrDecay: expected \{ factor: 0\.5, every: 2 \}.*got 0\.5/);
  await assert.rejects(bad({ factor: 0.5, every: 1, by: "epoch" }), /lrDecay: unknown key by/);
  await assert.rejects(bad({ factor: 1.5, every: 1 }), /lrDecay\.factor: expected a number between 0 and 1 \(exclusive\), got 1\.5/);
  await assert.rejects(bad({ factor: 0, every: 1 }), /lrDecay\.factor: .* got 0/);
  await assert.rejects(bad({ factor: 0.5 }), /lrDecay\.every: expected a positive integer \(epochs\), got undefined/);
  await assert.rejects(bad({ factor: 0.5, every: 4 }), /lrDecay\.every: 4 epochs, but the run has 4 epochs: the learning rate would never change/);
  await assert.rejects(bad({ factor: 0.5, every: 1 }, 1), /lrDecay\.every: 1 epochs, but the run has 1 epoch:/);
  assert.equal(model.trainedSteps, 0);
  model.dispose();
});
