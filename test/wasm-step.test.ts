import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/engine/backend";
import { splitBatch } from "../lib/data/batch";
import { lossAndGradients, type EngineLayer, type LayerLayout } from "../lib/engine/tensor-step";
import { createOptimizer } from "../lib/model/optimizers";
import { EPILOGUE, stepKernels, type WasmHeapBackend } from "../lib/model/step-simd";
import { wasmStep } from "../lib/engine/step";
import { permutation, seededRandom } from "../lib/math/random";
import { smallMnist } from "./helpers/small-mnist";

before(async () => {
  await initBackend("wasm");
});

function randomTensor(shape: [number, number], seed: number): tf.Tensor2D {
  const random = seededRandom(seed);
  return tf.tensor2d(Float32Array.from({ length: shape[0] * shape[1] }, () => 2 * random() - 1), shape);
}

function firstDifference(actual: ArrayLike<number>, expected: ArrayLike<number>): string | null {
  if (actual.length !== expected.length) return `length ${actual.length} vs ${expected.length}`;
  for (let i = 0; i < actual.length; i++) if (!Object.is(actual[i], expected[i])) return `[${i}]: ${actual[i]} vs ${expected[i]}`;
  return null;
}

const offset = (t: tf.Tensor) => (tf.backend() as unknown as WasmHeapBackend).getMemoryOffset(t.dataId);

// Shapes [M, K, N] of the step's products (784-10 and 784-500-10 at batch 16, batch 1) and ones with every kind of
// remainder: fewer than 4 columns, a partial group of 4 (overlapped), fewer than 4 rows.
const SHAPES = [[16, 785, 10], [500, 785, 16], [10, 16, 785], [501, 16, 10], [10, 785, 1], [10, 1, 785], [3, 7, 2], [5, 9, 13], [1, 4, 4]];

for (const [M, K, N] of SHAPES as [number, number, number][]) {
  test(`gemm is bit-identical to the tensor ops it replaces: ${M}×${K} · ${K}×${N}, A either way round`, () => {
    const kernels = stepKernels();
    assert.ok(kernels, "wasm backend: the kernels assemble");
    const before = tf.memory().numTensors;
    const [a, b, extra] = [randomTensor([M, K], 1), randomTensor([K, N], 2), randomTensor([M, N], 3)];
    const aT = tf.transpose(a);
    const expected = {
      [EPILOGUE.none]: tf.matMul(a, b),
      [EPILOGUE.addTo]: tf.tidy(() => tf.add(extra, tf.matMul(a, b))),
      [EPILOGUE.maskByStep]: tf.tidy(() => tf.mul(tf.matMul(a, b), tf.step(extra))),
      [EPILOGUE.relu]: tf.fused.matMul({ a, b, activation: "relu" }),
    };
    for (const [epilogue, want] of Object.entries(expected)) {
      for (const [source, sam, sak] of [[a, K * 4, 4], [aT, 4, M * 4]] as const) {
        const c = tf.zeros([M, N]);
        kernels.gemm(offset(source), sam, sak, offset(b), N * 4, offset(c), N * 4, offset(extra), M, K, N, Number(epilogue));
        assert.equal(firstDifference(c.dataSync(), want.dataSync()), null, `epilogue ${epilogue}, A ${source === a ? "as is" : "transposed"}`);
        c.dispose();
      }
    }
    tf.dispose([a, b, extra, aT, ...Object.values(expected)]);
    assert.equal(tf.memory().numTensors, before);
  });
}

test("pixels: every byte value / 255 as JavaScript rounds it, a 1 after each row; transpose", () => {
  const kernels = stepKernels()!;
  const [count, inputs] = [3, 790]; // 790 = 49 groups of 16 and a tail of 6
  const bytes = Uint8Array.from({ length: count * inputs }, (_, i) => (i * 37) % 256);
  const stage = tf.zeros([Math.ceil(bytes.length / 4)]);
  (tf.backend() as unknown as WasmHeapBackend).wasm.HEAPU8.set(bytes, offset(stage));
  const rows = tf.zeros([count, inputs + 1]);
  kernels.pixels(offset(stage), offset(rows), count, inputs);
  const expected = new Float32Array(count * (inputs + 1));
  for (let j = 0; j < count; j++) {
    for (let i = 0; i < inputs; i++) expected[j * (inputs + 1) + i] = bytes[j * inputs + i]! / 255;
    expected[j * (inputs + 1) + inputs] = 1;
  }
  assert.equal(firstDifference(rows.dataSync(), expected), null);
  const columns = tf.zeros([inputs + 1, count]);
  kernels.transpose(offset(rows), offset(columns), count, inputs + 1);
  const transposed = tf.transpose(rows);
  assert.equal(firstDifference(columns.dataSync(), transposed.dataSync()), null);
  tf.dispose([stage, rows, columns, transposed]);
});

const CASES: [number[], number, LayerLayout[], boolean][] = [
  [[784, 10], 16, ["inputMajor"], false],
  [[784, 10], 1, ["unitMajor"], false],
  [[784, 20, 15, 10], 5, ["unitMajor", "unitMajor", "inputMajor"], true],
  [[784, 20, 15, 10], 5, ["inputMajor", "inputMajor", "unitMajor"], false],
  [[784, 12, 10], 7, ["unitMajor", "inputMajor"], true],
];

for (const [sizes, batchSize, layouts, shuffle] of CASES) {
  test(`the whole wasm SGD step trains bit-identically to the tensor-op step: ${sizes.join("-")}, batch ${batchSize}, ${layouts.join("/")}${shuffle ? ", shuffled" : ""}`, async () => {
    const data = await smallMnist(40, 1); // 40 images: a short last batch for batch sizes 7 and 16
    const order = shuffle ? permutation(40, seededRandom(3)) : null;
    const before = tf.memory().numTensors;
    const initial = sizes.slice(1).map((outputs, k) => {
      const unitMajor = tf.tidy(() => tf.mul(randomTensor([outputs, sizes[k]! + 1], 10 + k), 0.3) as tf.Tensor2D);
      if (layouts[k] === "unitMajor") return unitMajor;
      const inputMajor = tf.transpose(unitMajor);
      unitMajor.dispose();
      return inputMajor;
    });
    const asLayers = (params: tf.Tensor2D[]): EngineLayer[] => params.map((p, k) => ({ params: p, layout: layouts[k]! }));
    const lr = 0.1;
    const whole = wasmStep(sizes, batchSize)!;
    const sgd = createOptimizer("sgd", lr);
    let ours = initial.map((p) => tf.clone(p));
    let theirs = initial.map((p) => tf.clone(p));
    for (let epoch = 0; epoch < 2; epoch++) {
      for (let from = 0; from < 40; from += batchSize) {
        const to = Math.min(from + batchSize, 40);
        const step = whole.step(asLayers(ours), { split: data.train, from, to, order }, -lr, "sgd");
        const batch = splitBatch(data.train, from, to, order, true);
        let loss = NaN;
        const next = tf.tidy(() => {
          const result = lossAndGradients(asLayers(theirs), batch, -lr);
          loss = result.loss;
          return sgd.apply(theirs, result.grads!);
        });
        assert.ok(Object.is(step.loss, loss), `epoch ${epoch}, images ${from}–${to}: loss ${step.loss} vs ${loss}`);
        tf.dispose([...ours, ...theirs]);
        [ours, theirs] = [step.tensors!, next];
        ours.forEach((p, k) => assert.equal(firstDifference(p.dataSync(), theirs[k]!.dataSync()), null, `layer ${k} after images ${from}–${to}`));
        ours.forEach((p, k) => assert.deepEqual(p.shape, theirs[k]!.shape));
      }
    }
    tf.dispose([...ours, ...theirs, ...initial]);
    whole.dispose();
    sgd.dispose();
    assert.equal(tf.memory().numTensors, before, "no tensor leaked");
  });
}

for (const [sizes, batchSize, layouts, shuffle] of CASES) {
  test(`the whole step's gradients (for other update rules) are bit-identical to lossAndGradients': ${sizes.join("-")}, batch ${batchSize}, ${layouts.join("/")}`, async () => {
    const data = await smallMnist(40, 1);
    const order = shuffle ? permutation(40, seededRandom(5)) : null;
    const before = tf.memory().numTensors;
    const layers: EngineLayer[] = sizes.slice(1).map((outputs, k) => {
      const shape: [number, number] = layouts[k] === "unitMajor" ? [outputs, sizes[k]! + 1] : [sizes[k]! + 1, outputs];
      return { params: tf.tidy(() => tf.mul(randomTensor(shape, 20 + k), 0.3) as tf.Tensor2D), layout: layouts[k]! };
    });
    const whole = wasmStep(sizes, batchSize)!;
    for (const scale of [1, -0.05]) {
      const to = Math.min(batchSize, 40);
      const ours = whole.step(layers, { split: data.train, from: 0, to, order }, scale, "gradients");
      let theirs!: ReturnType<typeof lossAndGradients>;
      const kept = tf.tidy(() => {
        theirs = lossAndGradients(layers, splitBatch(data.train, 0, to, order, true), scale);
        return theirs.grads!;
      });
      assert.ok(Object.is(ours.loss, theirs.loss), `loss ${ours.loss} vs ${theirs.loss}`);
      ours.tensors!.forEach((g, k) => assert.equal(firstDifference(g.dataSync(), kept[k]!.dataSync()), null, `scale ${scale}, layer ${k}`));
      tf.dispose([...ours.tensors!, ...kept]);
    }
    whole.dispose();
    tf.dispose(layers.map((layer) => layer.params));
    assert.equal(tf.memory().numTensors, before, "no tensor leaked");
  });
}

test("the whole step skips the update on a non-finite loss and leaks nothing", async () => {
  const data = await smallMnist(4, 1);
  const before = tf.memory().numTensors;
  const whole = wasmStep([784, 10], 4)!;
  const broken = tf.fill([785, 10], NaN) as tf.Tensor2D;
  for (const output of ["sgd", "gradients"] as const) {
    const result = whole.step([{ params: broken, layout: "inputMajor" }], { split: data.train, from: 0, to: 4, order: null }, -0.1, output);
    assert.ok(Number.isNaN(result.loss));
    assert.equal(result.tensors, null);
  }
  broken.dispose();
  whole.dispose();
  assert.equal(tf.memory().numTensors, before);
});
