import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/engine/backend";
import { splitBatch } from "../lib/data/batch";
import { forwardLogits, lossAndGradients, preferredLayout, softmaxCrossEntropy, type EngineLayer, type LayerLayout } from "../lib/engine/tensor-step";
import { mlp } from "../lib/model/model";
import { engineLayers, useLayouts } from "../lib/model/model-state";
import { seededRandom } from "../lib/math/random";
import { smallMnist } from "./helpers/small-mnist";

before(async () => {
  await initBackend();
});

/** Random parameters, [outputs][inputs + 1] per layer with the bias in the last column (the "unitMajor" layout). */
function randomParams(layers: number[], seed: number): tf.Tensor2D[] {
  const random = seededRandom(seed);
  return layers.slice(1).map((outputs, k) => {
    const values = Float32Array.from({ length: outputs * (layers[k]! + 1) }, () => (2 * random() - 1) * 0.3);
    return tf.tensor2d(values, [outputs, layers[k]! + 1]);
  });
}

/** The same parameters as engine layers in the given layouts ("inputMajor" stores the transpose). */
function asLayers(params: tf.Tensor2D[], layouts: LayerLayout[]): EngineLayer[] {
  return params.map((p, k) => ({ params: layouts[k] === "unitMajor" ? p : tf.transpose(p), layout: layouts[k]! }));
}

/** The textbook formulation, differentiated by tfjs's own autodiff: [batch][features] activations. */
function autodiffGradients(params: tf.Tensor2D[], x: tf.Tensor2D, labels: Uint8Array): { loss: number; grads: tf.Tensor[] } {
  const outputs = params[params.length - 1]!.shape[0];
  const onehot = tf.oneHot(tf.tensor1d(labels, "int32"), outputs);
  const lossOf = (...ps: tf.Tensor[]) => {
    let a: tf.Tensor = x;
    ps.forEach((p, k) => {
      const inputs = p.shape[1]! - 1;
      const z = tf.add(tf.matMul(a, tf.slice(p, [0, 0], [-1, inputs]), false, true), tf.slice(p, [0, inputs], [-1, 1]).reshape([-1]));
      a = k < ps.length - 1 ? tf.relu(z) : z;
    });
    return tf.losses.softmaxCrossEntropy(onehot, a) as tf.Scalar;
  };
  const { value, grads } = tf.valueAndGrads(lossOf)(params);
  return { loss: value.dataSync()[0]!, grads };
}

const CASES: [number[], number, LayerLayout[]][] = [
  [[784, 10], 16, ["unitMajor"]],
  [[784, 10], 16, ["inputMajor"]],
  [[784, 20, 15, 10], 5, ["unitMajor", "unitMajor", "unitMajor"]],
  [[784, 20, 15, 10], 5, ["inputMajor", "unitMajor", "inputMajor"]],
  [[784, 20, 15, 10], 5, ["unitMajor", "inputMajor", "inputMajor"]],
  [[784, 12, 10], 1, ["unitMajor", "unitMajor"]],
];

for (const [layers, batchSize, layouts] of CASES) {
  test(`hand-written gradients equal tfjs autodiff: ${layers.join("-")}, batch ${batchSize}, ${layouts.join("/")}`, async () => {
    const data = await smallMnist(batchSize, 1);
    const batch = splitBatch(data.train, 0, batchSize, null, true);
    const params = randomParams(layers, 7);
    tf.tidy(() => {
      const ours = lossAndGradients(asLayers(params, layouts), batch, 1);
      const x = tf.tensor2d(Float32Array.from(data.train.images.subarray(0, batchSize * 784), (b) => b / 255), [batchSize, 784]);
      const reference = autodiffGradients(params, x, batch.labels);
      assert.ok(Math.abs(ours.loss - reference.loss) < 1e-5, `loss ${ours.loss} vs ${reference.loss}`);
      ours.grads!.forEach((grad, k) => {
        const unitMajor = layouts[k] === "unitMajor" ? grad : tf.transpose(grad);
        assert.deepEqual(unitMajor.shape, params[k]!.shape);
        const difference = tf.max(tf.abs(tf.sub(unitMajor, reference.grads[k]!))).dataSync()[0]!;
        const scale = tf.max(tf.abs(reference.grads[k]!)).dataSync()[0]!;
        assert.ok(scale > 0 && difference <= 1e-5 * Math.max(1, scale), `layer ${k}: max |difference| ${difference} (largest gradient ${scale})`);
      });
    });
    tf.dispose(params);
  });
}

test("a barely active ReLU unit (output 1e-30) passes its gradient back, on every backend", async () => {
  // (wasm's sign() is 0 for such values: a mask made with it would silently stop this unit learning.)
  const data = await smallMnist(4, 1);
  const batch = splitBatch(data.train, 0, 4, null, true);
  const [first, second] = randomParams([784, 3, 10], 11);
  const firstValues = first!.dataSync().slice();
  firstValues.fill(0, 0, 785); // unit 0: no weights, bias 1e-30 → output 1e-30 for every image
  firstValues[784] = 1e-30;
  const params = [tf.tensor2d(firstValues, [3, 785]), second!];
  for (const layouts of [["unitMajor", "unitMajor"], ["inputMajor", "inputMajor"]] as LayerLayout[][]) {
    tf.tidy(() => {
      const ours = lossAndGradients(asLayers(params, layouts), batch, 1).grads![0]!;
      const biasGradient = (layouts[0] === "unitMajor" ? ours : tf.transpose(ours)).dataSync()[784]!;
      const x = tf.tensor2d(Float32Array.from(data.train.images.subarray(0, 4 * 784), (b) => b / 255), [4, 784]);
      const reference = autodiffGradients(params, x, batch.labels).grads[0]!.dataSync()[784]!;
      assert.ok(reference !== 0 && Math.abs(biasGradient - reference) <= 1e-6 * Math.abs(reference), `${layouts}: ${biasGradient} vs autodiff ${reference}`);
    });
  }
  tf.dispose(params);
});

test("preferredLayout puts the smaller operand on the packed side", () => {
  assert.equal(preferredLayout(784, 10, 16, true), "inputMajor");
  assert.equal(preferredLayout(784, 10, 1, true), "unitMajor");
  assert.equal(preferredLayout(784, 500, 16, true), "unitMajor");
  assert.equal(preferredLayout(500, 500, 64, false), "unitMajor");
  assert.equal(preferredLayout(500, 10, 16, false), "inputMajor");
});

test("gradients come scaled by gradientScale; a non-finite loss skips the backward pass", async () => {
  const data = await smallMnist(4, 1);
  const batch = splitBatch(data.train, 0, 4, null, true);
  const params = randomParams([784, 10], 3);
  tf.tidy(() => {
    const layers = asLayers(params, ["unitMajor"]);
    const plain = lossAndGradients(layers, batch, 1);
    const scaled = lossAndGradients(layers, batch, -0.5);
    const ratio = tf.div(scaled.grads![0]!, plain.grads![0]!).dataSync().filter(Number.isFinite);
    assert.ok(ratio.length > 0 && ratio.every((r) => Math.abs(r + 0.5) < 1e-6));
    const broken: EngineLayer[] = [{ params: tf.fill([10, 785], NaN) as tf.Tensor2D, layout: "unitMajor" }];
    const result = lossAndGradients(broken, batch, 1);
    assert.ok(Number.isNaN(result.loss));
    assert.equal(result.grads, null);
  });
  tf.dispose(params);
});

test("softmaxCrossEntropy: exact for huge finite logits, gradient (softmax − onehot) / batch in both orientations", () => {
  // Two samples, three classes: sample 0 has logits [1000, -1000, 0] and label 2, sample 1 has [0, 0, 0] and label 1.
  const byRow = Float32Array.of(1000, -1000, 0, 0, 0, 0);
  const byColumn = Float32Array.of(1000, 0, -1000, 0, 0, 0);
  const expectedRows = [0.5, 0, -0.5, 1 / 6, -1 / 3, 1 / 6];
  const expectedColumns = [0.5, 1 / 6, 0, -1 / 3, -0.5, 1 / 6];
  for (const [logits, rowMajor] of [[byRow, true], [byColumn, false]] as const) {
    const rows = new Float32Array(6);
    const columns = new Float32Array(6);
    const loss = softmaxCrossEntropy(logits, rowMajor, [2, 1], 3, 2, 1, rows, columns);
    // Sample 0: log-sum-exp 1000 minus the label's logit 0 (−log of a float32 softmax would be Infinity). Sample 1: log 3.
    assert.ok(Math.abs(loss - (1000 + Math.log(3)) / 2) < 1e-9, `loss ${loss}`);
    rows.forEach((g, n) => assert.ok(Math.abs(g - expectedRows[n]!) < 1e-7, `row-major gradient ${n}: ${g}`));
    columns.forEach((g, n) => assert.ok(Math.abs(g - expectedColumns[n]!) < 1e-7, `column-major gradient ${n}: ${g}`));
  }
  assert.ok(Number.isNaN(softmaxCrossEntropy(Float32Array.of(Infinity, 0), true, [0], 2, 1, 1, new Float32Array(2), new Float32Array(2))));
});

test("forwardLogits gives row-major logits whatever the layout, from either orientation of the batch", async () => {
  const data = await smallMnist(16, 20);
  const model = mlp([784, 30, 10], { seed: 3 });
  const layers = engineLayers(model);
  const byRows = forwardLogits(layers, splitBatch(data.test, 0, 20, null, false));
  const byColumns = forwardLogits(layers, splitBatch(data.test, 0, 20, null, true));
  assert.deepEqual(byColumns, byRows);
  assert.equal(byRows.length, 20 * 10);
  useLayouts(model, ["inputMajor", "inputMajor"]);
  const tensors = tf.memory().numTensors;
  const transposed = forwardLogits(engineLayers(model), splitBatch(data.test, 0, 20, null, false));
  assert.equal(tf.memory().numTensors, tensors, "no tensors leaked");
  transposed.forEach((value, i) => assert.ok(Math.abs(value - byRows[i]!) < 1e-4, `logit ${i}: ${value} vs ${byRows[i]}`));
  model.dispose();
});
