import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { adamKernel } from "../lib/model/adam-simd";
import { initBackend } from "../lib/engine/backend";
import { seededRandom } from "../lib/math/random";

before(async () => {
  await initBackend("wasm");
});

function randomTensor(shape: [number, number], seed: number, positive = false): tf.Tensor2D {
  const random = seededRandom(seed);
  return tf.tensor2d(Float32Array.from({ length: shape[0] * shape[1] }, () => (positive ? random() : 2 * random() - 1)), shape);
}

// Sizes with a remainder after the groups of four (the scalar tail) and without.
for (const shape of [[10, 501], [4, 4], [1, 3], [64, 785]] as [number, number][]) {
  test(`the SIMD Adam update is bit-identical to the same update as tensor ops: ${shape.join("×")}`, () => {
    const kernel = adamKernel();
    assert.ok(kernel, "wasm backend: the SIMD kernel is available");
    const before = tf.memory().numTensors;
    const [p, m, v, g] = [randomTensor(shape, 1), randomTensor(shape, 2), randomTensor(shape, 3, true), randomTensor(shape, 4)];
    const [c, e, beta1, beta2] = [0.00123, 1e-8 * 3.3, 0.9, 0.999];
    const expected = tf.tidy(() => {
      const m2 = tf.add(tf.mul(m, tf.scalar(beta1)), g);
      const v2 = tf.add(tf.mul(v, tf.scalar(beta2)), tf.square(g));
      const p2 = tf.sub(p, tf.mul(tf.div(m2, tf.add(tf.sqrt(v2), tf.scalar(e))), tf.scalar(c)));
      return [p2, m2, v2].map((t) => t.dataSync().slice());
    });
    const gradient = g.dataSync().slice();
    kernel(p, m, v, g, c, e, beta1, beta2);
    [p, m, v].forEach((tensor, k) => {
      const actual = tensor.dataSync();
      const first = actual.findIndex((x, i) => !Object.is(x, expected[k]![i]));
      assert.equal(first, -1, `${"pmv"[k]}[${first}]: ${actual[first]} vs tensor ops ${expected[k]![first]}`);
    });
    assert.deepEqual(g.dataSync(), gradient, "the gradient is left alone");
    tf.dispose([p, m, v, g]);
    assert.equal(tf.memory().numTensors, before);
  });
}
