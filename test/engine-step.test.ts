/**
 * The engine's training step against the tensor route it must equal bit for bit (`engine/tensor-step.ts` and
 * `model/optimizers.ts` on tfjs's wasm backend): every loss and every parameter after every step, for each update
 * rule, layout, a short last batch, a shuffled order and a change of learning rate; on the WebAssembly and the
 * native kernels, with big products on one thread and split over two.
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/engine/backend";
import { splitBatch } from "../lib/data/batch";
import { createEngine, type EngineOptions } from "../lib/engine/engine";
import { loadNativeAddon } from "../lib/engine/kernels";
import { lossAndGradients, type EngineLayer, type LayerLayout } from "../lib/engine/tensor-step";
import { createOptimizer } from "../lib/model/optimizers";
import { OPTIMIZERS, type OptimizerName } from "../lib/engine/update-rules";
import { permutation, seededRandom } from "../lib/math/random";
import { smallMnist } from "./helpers/small-mnist";

before(async () => {
  await initBackend("wasm");
});

function randomValues(count: number, seed: number, scale: number): Float32Array {
  const random = seededRandom(seed);
  return Float32Array.from({ length: count }, () => scale * (2 * random() - 1));
}

function firstDifference(actual: ArrayLike<number>, expected: ArrayLike<number>): string | null {
  if (actual.length !== expected.length) return `length ${actual.length} vs ${expected.length}`;
  for (let i = 0; i < actual.length; i++) if (!Object.is(actual[i], expected[i])) return `[${i}]: ${actual[i]} vs ${expected[i]}`;
  return null;
}

const CASES: [number[], number, LayerLayout[], boolean][] = [
  [[784, 10], 16, ["inputMajor"], false],
  [[784, 10], 1, ["unitMajor"], false],
  [[784, 20, 15, 10], 5, ["unitMajor", "unitMajor", "inputMajor"], true],
  [[784, 20, 15, 10], 5, ["inputMajor", "inputMajor", "unitMajor"], false],
  [[784, 12, 10], 7, ["unitMajor", "inputMajor"], true],
];

const LR: Record<OptimizerName, number> = { sgd: 0.1, momentum: 0.05, adam: 0.01, adamw: 0.01, adagrad: 0.05, rmsprop: 0.01 };

/** Engines to compare: WebAssembly and, where built, native; one thread, and split products on two. */
const ENGINES: EngineOptions[] = [{ native: false, threads: 1 }, { native: true, threads: 1 }, { native: true, threads: 2 }];

async function trainBoth(options: EngineOptions, optimizer: OptimizerName, weightDecay: number, [sizes, batchSize, layouts, shuffle]: (typeof CASES)[number]): Promise<void> {
  const data = await smallMnist(40, 1); // 40 images: a short last batch for batch sizes 7 and 16
  const order = shuffle ? permutation(40, seededRandom(3)) : null;
  const before = tf.memory().numTensors;
  const initial = sizes.slice(1).map((outputs, k) => randomValues(outputs * (sizes[k]! + 1), 10 + k, 0.3));
  const shapeOf = (k: number): [number, number] => layouts[k] === "unitMajor" ? [sizes[k + 1]!, sizes[k]! + 1] : [sizes[k]! + 1, sizes[k + 1]!];
  const asLayers = (params: tf.Tensor2D[]): EngineLayer[] => params.map((p, k) => ({ params: p, layout: layouts[k]! }));
  const lr = LR[optimizer];
  const session = createEngine(options).startSession({ sizes, layouts, params: initial, batchSize, rule: { optimizer, lr, momentum: null, weightDecay } }, true);
  const reference = createOptimizer(optimizer, lr, undefined, weightDecay);
  let theirs = initial.map((values, k) => tf.tensor2d(values, shapeOf(k)));
  for (let epoch = 0; epoch < 2; epoch++) {
    if (epoch === 1) {
      session.setLr(lr / 3);
      reference.setLr(lr / 3);
    }
    for (let from = 0; from < 40; from += batchSize) {
      const to = Math.min(from + batchSize, 40);
      const loss = session.step({ split: data.train, from, to, order });
      const batch = splitBatch(data.train, from, to, order, true);
      let expected = NaN;
      const next = tf.tidy(() => {
        const result = lossAndGradients(asLayers(theirs), batch, reference.gradientScale);
        expected = result.loss;
        return reference.apply(theirs, result.grads!);
      });
      assert.ok(Object.is(loss, expected), `epoch ${epoch}, images ${from}–${to}: loss ${loss} vs ${expected}`);
      tf.dispose(theirs);
      theirs = next;
      const ours = session.read();
      ours.forEach((values, k) => assert.equal(firstDifference(values, theirs[k]!.dataSync()), null, `layer ${k} after images ${from}–${to}`));
    }
  }
  tf.dispose(theirs);
  reference.dispose();
  session.dispose();
  assert.equal(tf.memory().numTensors, before, "no tensor leaked");
}

const nativeMissing = typeof loadNativeAddon() === "string" ? (loadNativeAddon() as string) : false;
for (const options of ENGINES) {
  const name = `${options.native ? "native" : "WebAssembly"} kernels, ${options.threads} thread${options.threads > 1 ? "s" : ""}`;
  for (const optimizer of OPTIMIZERS) {
    test(`${name}: ${optimizer} trains bit-identically to the tensor route, every layout, shuffled, lr changed, with and without weight decay`, { skip: options.native && nativeMissing }, async () => {
      for (const weightDecay of [0, 0.01]) for (const c of CASES) await trainBoth(options, optimizer, weightDecay, c);
    });
  }
}

test("a step with a non-finite loss is not applied", async () => {
  const data = await smallMnist(4, 1);
  for (const optimizer of ["sgd", "adam"] as const) {
    const broken = new Float32Array(785 * 10).fill(NaN);
    const session = createEngine({ native: false, threads: 1 }).startSession({ sizes: [784, 10], layouts: ["inputMajor"], params: [broken], batchSize: 4, rule: { optimizer, lr: 0.1, momentum: null, weightDecay: 0 } }, false);
    const loss = session.step({ split: data.train, from: 0, to: 4, order: null });
    assert.ok(Number.isNaN(loss));
    assert.ok(session.read()[0]!.every(Number.isNaN), `${optimizer}: the parameters are as they were`);
    session.dispose();
  }
});

test("a session checks its parameters' sizes", () => {
  const engine = createEngine({ native: false, threads: 1 });
  assert.throws(
    () => engine.startSession({ sizes: [784, 10], layouts: ["unitMajor"], params: [new Float32Array(10)], batchSize: 1, rule: { optimizer: "sgd", lr: 1, momentum: null, weightDecay: 0 } }, false),
    /startSession: layer 0 has 10 parameters, expected 7850/,
  );
  assert.throws(() => createEngine({ native: false, threads: 0 }), /createEngine threads: expected a whole number ≥ 1, got 0/);
});
