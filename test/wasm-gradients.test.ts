/**
 * The conv gradients the library registers for TensorFlow.js's wasm backend (which lacks them, tfjs#8474) give what
 * its cpu backend's own kernels give, to float32 rounding, over strides, padding, dilation-free kernels of several
 * shapes and depthwise multipliers; they repeat bit for bit; they leak nothing. So a conv net the engine cannot
 * train runs its step on wasm rather than on pure JavaScript.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/engine/backend";
import { registerWasmGradients } from "../lib/model/wasm-gradients";

let previous = "";
before(async () => {
  await initBackend();
  previous = tf.getBackend();
  registerWasmGradients();
  // The wasm backend may not be the one this process runs (MIE_BACKEND=tfjs-node): start it for these tests.
  await import("@tensorflow/tfjs-backend-wasm");
});
after(async () => {
  await tf.setBackend(previous);
});

const CASES = [
  { x: [3, 9, 8, 2], kernel: [3, 3], filters: 5, strides: 1, pad: "valid" },
  { x: [2, 10, 10, 3], kernel: [5, 5], filters: 4, strides: 2, pad: "same" },
  { x: [2, 7, 9, 1], kernel: [3, 2], filters: 6, strides: [2, 1], pad: "same" },
  { x: [4, 28, 28, 1], kernel: [3, 3], filters: 8, strides: 1, pad: "valid" },
] as const;

/** Gradients of Σ conv(x, w)² with respect to x and w, as one array, on `backend`. */
async function gradients(backend: string, depthwise: boolean, c: (typeof CASES)[number]): Promise<Float32Array> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const channels = c.x[3];
    const x = tf.randomNormal([...c.x], 0, 1, "float32", 1) as tf.Tensor4D;
    const w = tf.randomNormal([c.kernel[0], c.kernel[1], channels, depthwise ? 2 : c.filters], 0, 1, "float32", 2) as tf.Tensor4D;
    const strides = c.strides as [number, number] | number;
    const loss = (a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.square(depthwise ? tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, strides, c.pad) : tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, strides, c.pad)));
    const [dx, dw] = tf.grads(loss)([x, w]);
    return Float32Array.from([...dx!.dataSync(), ...dw!.dataSync()]);
  });
}

test("wasm has the conv gradients it lacked, and they equal the cpu backend's to float32 rounding", async () => {
  for (const name of ["Conv2DBackpropFilter", "DepthwiseConv2dNativeBackpropFilter", "DepthwiseConv2dNativeBackpropInput"]) {
    assert.ok(tf.getKernel(name, "wasm"), `${name} registered for wasm`);
  }
  for (const c of CASES) {
    for (const depthwise of [false, true]) {
      const ours = await gradients("wasm", depthwise, c);
      const cpu = await gradients("cpu", depthwise, c);
      assert.equal(ours.length, cpu.length);
      const scale = Math.max(...cpu.map(Math.abs));
      const worst = Math.max(...ours.map((value, i) => Math.abs(value - cpu[i]!)));
      assert.ok(worst <= 1e-6 * scale, `${depthwise ? "depthwise" : "conv"} ${JSON.stringify(c)}: largest difference ${worst} of ${scale}`);
    }
  }
});

test("the registered gradients repeat bit for bit and leak no tensors", async () => {
  await tf.setBackend("wasm");
  const before = tf.memory().numTensors;
  for (const depthwise of [false, true]) {
    const first = await gradients("wasm", depthwise, CASES[1]);
    const second = await gradients("wasm", depthwise, CASES[1]);
    assert.ok(Buffer.from(first.buffer).equals(Buffer.from(second.buffer)), depthwise ? "depthwise" : "conv");
  }
  assert.equal(tf.memory().numTensors, before);
});
