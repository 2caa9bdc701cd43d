import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { useStepThreads } from "../lib/engine/team";
import { loadNativeProducts } from "../lib/engine/native-kernels";

/**
 * In a fresh process on the threaded wasm build (chosen once per process): the same random products through the
 * one-thread kernel and through the two-thread team, every epilogue, both orientations of A, until the helper
 * thread has run chunks of at least 20 products (it sits out stretches where it does not pay); the first differing bit, if any.
 */
const CHILD = `
  const tf = require("@tensorflow/tfjs");
  const { initBackend } = require("./lib/engine/backend");
  const { stepKernels } = require("./lib/model/step-simd");
  const { helperChunks, teamGemm, useStepThreads } = require("./lib/engine/team");
  const { useNativeProducts } = require("./lib/engine/native-kernels");
  const { seededRandom } = require("./lib/math/random");
  (async () => {
    const info = await initBackend("wasm");
    useStepThreads(2);
    // TEAM_KERNEL=native: the team runs the native kernel (on both threads) against the wasm one-thread kernel.
    useNativeProducts(process.env.TEAM_KERNEL === "native");
    const kernels = stepKernels();
    const gemm = teamGemm();
    const backend = tf.backend();
    const offset = (t) => backend.getMemoryOffset(t.dataId);
    const random = seededRandom(7);
    const shapes = [[500, 785, 16], [16, 785, 500], [785, 16, 500], [501, 10, 16], [97, 400, 13], [8, 20000, 4], [10, 785, 16]];
    let products = 0, helped = 0, difference = null;
    const start = Date.now();
    for (let round = 0; difference === null && (helped < 20 || round < 3) && Date.now() - start < 60000; round++) {
      for (const [M, K, N] of shapes) {
        const a = tf.tensor2d(Float32Array.from({ length: M * K }, () => 2 * random() - 1), [M, K]);
        const aT = tf.transpose(a);
        const b = tf.tensor2d(Float32Array.from({ length: K * N }, () => 2 * random() - 1), [K, N]);
        const extra = tf.tensor2d(Float32Array.from({ length: M * N }, () => 2 * random() - 1), [M, N]);
        for (const epilogue of [0, 1, 2, 3]) {
          for (const [source, sam, sak] of [[a, K * 4, 4], [aT, 4, M * 4]]) {
            const [one, two] = [tf.zeros([M, N]), tf.zeros([M, N])];
            const args = (c) => [offset(source), sam, sak, offset(b), N * 4, offset(c), N * 4, epilogue === 0 || epilogue === 3 ? 0 : offset(extra), M, K, N, epilogue];
            kernels.gemm(...args(one));
            const before = helperChunks();
            gemm(...args(two));
            if (helperChunks() > before) helped++;
            products++;
            const [x, y] = [one.dataSync(), two.dataSync()];
            for (let i = 0; i < x.length && difference === null; i++) {
              if (!Object.is(x[i], y[i])) difference = M + "x" + K + "x" + N + " epilogue " + epilogue + " [" + i + "]: " + x[i] + " vs " + y[i];
            }
            tf.dispose([one, two]);
          }
        }
        tf.dispose([a, aT, b, extra]);
      }
    }
    console.log(JSON.stringify({ products, helped, difference, shared: backend.wasm.HEAPU8.buffer instanceof SharedArrayBuffer, tensors: tf.memory().numTensors }));
  })();`;

function runTeam(kernel: "wasm" | "native") {
  const result = spawnSync(process.execPath, ["--import", "tsx", "-e", CHILD], {
    cwd: `${__dirname}/..`, env: { ...process.env, MIE_WASM_THREADS: "2", TEAM_KERNEL: kernel }, encoding: "utf8", timeout: 120_000,
  });
  assert.equal(result.status, 0, result.stderr);
  const outcome = JSON.parse(result.stdout.trim().split("\n").pop()!) as { products: number; helped: number; difference: string | null; shared: boolean; tensors: number };
  assert.equal(outcome.shared, true, "the threaded build's heap is shared");
  assert.equal(outcome.difference, null);
  assert.ok(outcome.helped >= 20, `the helper ran chunks of ${outcome.helped} of ${outcome.products} products`);
  assert.equal(outcome.tensors, 0, "no tensor left behind");
}

test("the two-thread product is bit-identical to the one-thread kernel, and the helper thread takes part", () => runTeam("wasm"));

test("on the native kernel too: both threads run it, and the bits are the one-thread wasm kernel's", { skip: typeof loadNativeProducts() === "string" && "native products not built here (test/native-products.test.ts says why, and fails where a compiler was there)" }, () => runTeam("native"));

test("useStepThreads takes a whole number of at least 1", () => {
  assert.throws(() => useStepThreads(0), /useStepThreads: expected a whole number ≥ 1, got 0/);
  assert.throws(() => useStepThreads(1.5), /got 1.5/);
});
