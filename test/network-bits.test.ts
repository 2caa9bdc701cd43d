/**
 * A network trains to the same bits everywhere (issue 28, "Right"):
 * - a LeNet-like net with batch norm, dropout, tanh and augmentation, 30 steps of batch 64 on the first MNIST
 *   images: the same losses, trained numbers and evaluation logits on WebAssembly kernels, native kernels, and
 *   native kernels with a helper thread taking part in the products (32 filters at batch 64: big enough to split);
 * - `train` run twice gives the same bits (seeded dropout masks and shifts), and another seed changes them;
 * - an MLP built with tf.layers trains to the bits of `mlp()` under SGD and Adam: `torchNumbers` draws what `mlp`
 *   draws, and the network's dense products sum what the MLP step's sum, in the same order.
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/engine/backend";
import { createEngine } from "../lib/engine/engine";
import type { NetworkNumbers } from "../lib/engine/layers";
import { seededRandom } from "../lib/math/random";
import { mlp } from "../lib/model/model";
import { network } from "../lib/model/network-model";
import type { OptimizerName } from "../lib/model/optimizers";
import { train } from "../lib/train/loop";
import { smallMnist } from "./helpers/small-mnist";

before(async () => {
  await initBackend();
});

/** conv 32@5×5 tanh → pool → batch norm → conv 16@5×5 stride 2 same relu → dropout → flatten → dense 32 tanh → batch norm → dropout → dense 10. */
function lenet(): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 5, activation: "tanh" }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5 }),
      tf.layers.conv2d({ filters: 16, kernelSize: 5, strides: 2, padding: "same", activation: "relu" }),
      tf.layers.dropout({ rate: 0.25 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 32, activation: "tanh" }),
      tf.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5 }),
      tf.layers.dropout({ rate: 0.5 }),
      tf.layers.dense({ units: 10 }),
    ],
  });
}

const STEPS = 30;
const BATCH = 64;

/** 30 Adam steps (weight decay, normalised input, shifts of up to 2 pixels from a seeded stream) on one engine. */
async function trainOn(native: boolean, threads: number, split: boolean) {
  const data = await smallMnist(STEPS * BATCH, 200);
  const model = lenet();
  const net = network(model, { init: "torch", seed: 4 });
  const engine = createEngine({ native, threads });
  const session = engine.startNetwork({
    spec: net.spec, numbers: net.numbers(), batchSize: BATCH, seed: 4, scaling: { mean: 0.1307, std: 0.3081 },
    rule: { optimizer: "adam", lr: 0.003, momentum: null, weightDecay: 1e-4 },
  }, split);
  const random = seededRandom(9);
  const shifts = new Int8Array(2 * BATCH);
  const chunksBefore = engine.helperChunks();
  const losses: number[] = [];
  for (let from = 0; from < STEPS * BATCH; from += BATCH) {
    for (let k = 0; k < shifts.length; k++) shifts[k] = Math.floor(random() * 5) - 2;
    losses.push(session.step({ split: data.train, from, to: from + BATCH, order: null, shifts }));
  }
  const numbers = session.read();
  const logits = session.evaluate({ split: data.test, from: 0, to: BATCH, order: null, shifts: null });
  const helped = engine.helperChunks() - chunksBefore;
  session.dispose();
  net.dispose();
  return { losses, numbers, logits, kernels: engine.kernelsLine, helped };
}

function assertSameNumbers(actual: NetworkNumbers, expected: NetworkNumbers, what: string): void {
  assert.equal(actual.params.length, expected.params.length);
  actual.params.forEach((p, k) => assert.ok(Buffer.from(p.buffer).equals(Buffer.from(expected.params[k]!.buffer)), `${what}: trained array ${k} differs`));
  actual.stats.forEach((s, k) => assert.ok(Buffer.from(s.buffer).equals(Buffer.from(expected.stats[k]!.buffer)), `${what}: running statistics ${k} differ`));
}

test("a LeNet-like net with batch norm, dropout, tanh and shifts trains to the same bits on wasm, native, and native on two threads", async () => {
  const wasm = await trainOn(false, 1, false);
  assert.equal(wasm.kernels, "wasm");
  assert.ok(wasm.losses.every(Number.isFinite), "every loss is finite");
  assert.ok(wasm.losses.slice(-5).reduce((a, b) => a + b) < wasm.losses.slice(0, 5).reduce((a, b) => a + b), "the loss goes down");
  const native = await trainOn(true, 1, false);
  const twoThreads = await trainOn(true, 2, true);
  const wasmTwoThreads = await trainOn(false, 2, true);
  assert.ok(twoThreads.helped > 0 && wasmTwoThreads.helped > 0, `the helper thread ran chunks of the products (native ${twoThreads.helped}, wasm ${wasmTwoThreads.helped})`);
  for (const [name, run] of [["native", native], ["native, 2 threads", twoThreads], ["wasm, 2 threads", wasmTwoThreads]] as const) {
    assert.deepEqual(run.losses, wasm.losses, `${name} (${run.kernels}): the losses of wasm`);
    assertSameNumbers(run.numbers, wasm.numbers, name);
    assert.deepEqual(run.logits, wasm.logits, `${name}: the evaluation logits of wasm`);
  }
});

test("train() on a network repeats bit for bit (seeded dropout masks and shifts); other seeds draw other masks and shifts", async () => {
  const data = await smallMnist(640, 100);
  const settings = { optimizer: "adam", lr: 0.003, batchSize: 64, augment: { shift: 2, seed: 3 }, normalize: { mean: 0.1307, std: 0.3081 } } as const;
  const first = await train(network(lenet(), { init: "torch", seed: 1 }), data, settings);
  const second = await train(network(lenet(), { init: "torch", seed: 1 }), data, settings);
  assert.deepEqual(second.losses, first.losses);
  assertSameNumbers(second.model.numbers(), first.model.numbers(), "the same run twice");
  assert.equal(second.accuracy, first.accuracy);
  const shifted = await train(network(lenet(), { init: "torch", seed: 1 }), data, { ...settings, augment: { shift: 2, seed: 4 } });
  assert.notDeepEqual(shifted.losses, first.losses, "another augmentation seed, other shifts");
  // The network's seed draws its initial numbers and its dropout masks: the same initial numbers with another seed's
  // masks give other losses from the first step on.
  const numbers = network(lenet(), { init: "torch", seed: 1 }).numbers();
  const masked = network(lenet(), { init: "torch", seed: 2 });
  masked.numbers().params.forEach((p, k) => p.set(numbers.params[k]!));
  const otherMasks = await train(masked, data, settings);
  assert.notEqual(otherMasks.losses[0], first.losses[0], "other dropout masks, another first loss");
  for (const run of [first, second, shifted, otherMasks]) run.model.dispose();
});

for (const [optimizer, lr] of [["sgd", 0.1], ["adam", 0.001]] as [OptimizerName, number][]) {
  test(`an MLP of tf.layers (dense 500 relu, dense 10) trains to mlp([784, 500, 10])'s bits: ${optimizer}`, async () => {
    // mlp() trains on the engine on wasm (under MIE_BACKEND=tfjs-node it would take the tensor route, other bits).
    await initBackend("wasm");
    const data = await smallMnist(1024, 200);
    const seed = 6;
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [784], units: 500, activation: "relu" }), tf.layers.dense({ units: 10 })] });
    const net = network(model, { init: "torch", seed });
    const reference = mlp([784, 500, 10], { seed });
    // torchNumbers draws what mlp draws: the engine's [units][inputs + 1] against mlp's kernel [inputs][units] and bias.
    net.numbers().params.forEach((values, k) => {
      const { kernel, bias, shape: [inputs, units] } = reference.weights(k);
      for (let j = 0; j < units!; j++) {
        for (let i = 0; i < inputs!; i++) assert.equal(values[j * (inputs! + 1) + i], kernel[i * units! + j], `layer ${k} weight [${j}][${i}]`);
        assert.equal(values[j * (inputs! + 1) + inputs!], bias[j], `layer ${k} bias [${j}]`);
      }
    });
    for (const batchSize of [16, 64]) {
      const settings = { optimizer, lr, batchSize, evaluate: false };
      const ours = await train(network(model, { init: "torch", seed }), data, settings);
      const theirs = await train(mlp([784, 500, 10], { seed }), data, settings);
      // mlp() trains its last layer "inputMajor" (logits [batch][10], another product and softmax orientation); the
      // network every dense layer "unitMajor".
      assert.deepEqual(ours.losses, theirs.losses, `batch ${batchSize}: the losses of mlp() (${theirs.backend}; the network on ${ours.backend})`);
      ours.model.numbers().params.forEach((values, k) => {
        const { kernel, bias, shape: [inputs, units] } = theirs.model.weights(k);
        const same = new Float32Array(values.length);
        for (let j = 0; j < units!; j++) {
          for (let i = 0; i < inputs!; i++) same[j * (inputs! + 1) + i] = kernel[i * units! + j]!;
          same[j * (inputs! + 1) + inputs!] = bias[j]!;
        }
        assert.ok(Buffer.from(values.buffer).equals(Buffer.from(same.buffer)), `batch ${batchSize}: layer ${k}'s trained numbers are mlp()'s`);
      });
      theirs.model.dispose();
    }
    model.dispose(); // every network(model) above shares it
    reference.dispose();
  });
}
