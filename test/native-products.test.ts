import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/engine/backend";
import { loadNativeProducts, nativeAdam, nativeGemm, nativeProductsPath, useNativeProducts, type NativeProducts } from "../lib/engine/native-kernels";
import { adamKernel } from "../lib/model/adam-simd";
import { stepModule, type WasmHeapBackend } from "../lib/model/step-simd";
import { seededRandom } from "../lib/math/random";
import { buildNativeProducts, ensureNativeProducts } from "../scripts/native-products";

const ROOT = join(__dirname, "..");
/** Whether this machine can build the kernel: x86-64 and a C compiler (`$CC`, else `cc`). */
const canBuild = process.arch === "x64" && spawnSync(process.env.CC || "cc", ["--version"]).status === 0;
const loaded = loadNativeProducts();
const native = typeof loaded === "string" ? null : loaded;
const needsNative = { skip: !native && `native products not built here: ${loaded as string}` };

test("npm run build compiled the native product kernel wherever a C compiler is installed, and it loads", () => {
  if (canBuild) {
    assert.ok(native, `a C compiler is here, yet: ${loaded as string}`);
    assert.match(native.addon.instructionSet(), /^(avx512|avx2|sse2)$/);
    assert.equal(native.path, nativeProductsPath());
  } else {
    assert.equal(loaded, "native products not built (npm run build compiles them where a C compiler is installed)");
  }
});

/** Random floats in [−1, 1) with exact zeros sprinkled in (so the ReLU and the step mask see 0 and −0 sums). */
function randomFloats(count: number, random: () => number): Float32Array {
  return Float32Array.from({ length: count }, () => (random() < 0.05 ? 0 : 2 * random() - 1));
}

test("the native kernel gives the wasm kernel's bits: every epilogue, both orientations of A, odd and narrow shapes", needsNative, async () => {
  await initBackend("wasm");
  const built = stepModule()!;
  const backend = tf.backend() as unknown as WasmHeapBackend;
  const gemm = nativeGemm(native!.addon, built.memory);
  const offset = (t: tf.Tensor) => backend.getMemoryOffset(t.dataId);
  const random = seededRandom(11);
  const before = tf.memory().numTensors;
  const shapes = [[1, 1, 1], [1, 785, 10], [10, 785, 1], [3, 7, 5], [5, 5, 3], [13, 17, 33], [16, 785, 10], [10, 16, 785], [7, 3, 17], [9, 100, 15], [23, 64, 31], [64, 501, 10], [500, 785, 64], [64, 785, 500], [785, 64, 500]];
  let compared = 0;
  for (const [M, K, N] of shapes as [number, number, number][]) {
    const a = tf.tensor2d(randomFloats(M * K, random), [M, K]);
    const aT = tf.transpose(a);
    const b = tf.tensor2d(randomFloats(K * N, random), [K, N]);
    const extra = tf.tensor2d(randomFloats(M * N, random), [M, N]);
    for (const epilogue of [0, 1, 2, 3]) {
      for (const [source, sam, sak] of [[a, K * 4, 4], [aT, 4, M * 4]] as const) {
        const [wasm, ours] = [tf.fill([M, N], 7), tf.fill([M, N], 7)];
        const args = (c: tf.Tensor) => [offset(source), sam, sak, offset(b), N * 4, offset(c), N * 4, epilogue === 1 || epilogue === 2 ? offset(extra) : 0, M, K, N, epilogue] as const;
        built.kernels.gemm(...args(wasm));
        gemm(...args(ours));
        const [x, y] = [new Uint32Array(wasm.dataSync().buffer), new Uint32Array(ours.dataSync().buffer)];
        const at = x.findIndex((bits, i) => bits !== y[i]);
        assert.equal(at, -1, `${M}×${K}×${N}, epilogue ${epilogue}, A ${sam === 4 ? "transposed" : "by rows"}: element ${at} differs`);
        compared += M * N;
        tf.dispose([wasm, ours]);
      }
    }
    tf.dispose([a, aT, b, extra]);
  }
  assert.ok(compared > 1_000_000, `compared ${compared} outputs`);
  assert.equal(tf.memory().numTensors, before, "no tensor left behind");
});

test("the native Adam update gives the WebAssembly loop's bits, every length (vector bodies and tails)", needsNative, async (t) => {
  await initBackend("wasm");
  const built = stepModule()!;
  const backend = tf.backend() as unknown as WasmHeapBackend;
  const update = nativeAdam(native!.addon, built.memory);
  const wasm = adamKernel()!;
  useNativeProducts(false); // so that adamKernel runs its WebAssembly loop
  t.after(() => useNativeProducts(true));
  const random = seededRandom(5);
  const before = tf.memory().numTensors;
  for (const n of [1, 3, 4, 5, 15, 16, 17, 33, 1000, 250_500]) {
    const g = tf.tensor1d(randomFloats(n, random));
    // v ≥ 0, with zeros (√0 + e); m and p anywhere.
    const start = [randomFloats(n, random), randomFloats(n, random).map((x) => x * x), randomFloats(n, random)];
    const ours = start.map((values) => tf.tensor1d(values));
    const theirs = start.map((values) => tf.tensor1d(values));
    const [c, e] = [0.001 * Math.sqrt(1 - 0.999 ** 3) / (1 - 0.9 ** 3), 1e-8];
    wasm(theirs[2]!, theirs[0]!, theirs[1]!, g, c, e, 0.9, 0.999);
    const offset = (t: tf.Tensor) => backend.getMemoryOffset(t.dataId);
    update(offset(ours[2]!), offset(ours[0]!), offset(ours[1]!), offset(g), n, c, e, 0.9, 0.999);
    for (const [i, name] of ["m", "v", "p"].entries()) {
      const [x, y] = [new Uint32Array(theirs[i]!.dataSync().buffer), new Uint32Array(ours[i]!.dataSync().buffer)];
      const at = x.findIndex((bits, j) => bits !== y[j]);
      assert.equal(at, -1, `n = ${n}: ${name}[${at}] differs`);
    }
    tf.dispose([g, ...ours, ...theirs]);
  }
  assert.equal(tf.memory().numTensors, before, "no tensor left behind");
});

test("an operand past the end of the heap is a named RangeError, not a crash", needsNative, async () => {
  await initBackend("wasm");
  const built = stepModule()!;
  const heap = new Uint8Array(built.memory.buffer);
  const end = heap.byteLength;
  assert.throws(() => native!.addon.gemm(heap, end - 8, 16, 4, 0, 16, 0, 16, 0, 2, 4, 4, 0), /gemm: an operand reaches past the end of the heap/);
  assert.throws(() => native!.addon.gemm(heap, 0, 4, 4, 0, 4, 64, 4, 0, 1, 1, 1, 9), /gemm: expected K ≥ 1 and an epilogue of 0–3/);
  assert.throws(() => (native!.addon.gemm as (...args: unknown[]) => void)(heap, 0, 4), /gemm: expected 13 arguments/);
  assert.throws(() => (native!.addon.gemm as (...args: unknown[]) => void)(new Float32Array(4), 0, 4, 4, 0, 4, 64, 4, 0, 1, 1, 1, 0), /heap must be a Uint8Array/);
  assert.throws(() => native!.addon.adam(heap, 0, 16, 32, end - 8, 4, 1, 1, 0.9, 0.999), /adam: an array reaches past the end of the heap or is not float-aligned/);
  assert.throws(() => native!.addon.adam(heap, 2, 16, 32, 48, 1, 1, 1, 0.9, 0.999), /not float-aligned/);
  assert.throws(() => (native!.addon.adam as (...args: unknown[]) => void)(heap, 0, 16), /adam: expected 10 arguments/);
});

/**
 * A training run in a fresh process (the backend is chosen once per process): every loss's bits and the trained
 * parameters' hash, and what the backend line says.
 */
function trainInChild(env: NodeJS.ProcessEnv, spec: string): { losses: string; params: string; line: string; helped: number } {
  const code = `
    const tf = require("@tensorflow/tfjs");
    const { createHash } = require("node:crypto");
    const { describeBackend } = require("./lib/engine/backend");
    const { helperChunks } = require("./lib/engine/team");
    const { loadMnist, subset } = require("./lib/data/data");
    const { mlp } = require("./lib/model/model");
    const { train } = require("./lib/train/loop");
    (async () => {
      const [layers, batchSize, optimizer, count] = ${spec};
      const line = await describeBackend();
      const data = await loadMnist();
      const model = mlp(layers, { seed: 5 });
      const run = await train(model, { ...data, train: subset(data.train, { first: count }) }, { lr: optimizer === "adam" ? 0.001 : 0.1, optimizer, batchSize, evaluate: false });
      const hash = (bytes) => createHash("sha256").update(bytes).digest("hex");
      const weights = layers.slice(1).map((_, k) => model.weights(k));
      const params = hash(Buffer.concat(weights.flatMap((w) => [Buffer.from(w.kernel.buffer), Buffer.from(w.bias.buffer)])));
      console.log(JSON.stringify({ losses: hash(new Uint8Array(run.losses.buffer)), params, line, helped: helperChunks() }));
    })();`;
  const result = spawnSync(process.execPath, ["--import", "tsx", "-e", code], { cwd: ROOT, env: { ...process.env, ...env }, encoding: "utf8", timeout: 300_000 });
  assert.equal(result.status, 0, result.stderr);
  return JSON.parse(result.stdout.trim().split("\n").pop()!);
}

test("training with native products gives the bits of WebAssembly alone, under auto and wasm, on one thread and on two", needsNative, () => {
  for (const spec of ["[[784, 100, 10], 16, 'sgd', 3000]", "[[784, 500, 500, 10], 64, 'adam', 2048]"]) {
    const wasm = trainInChild({ MIE_BACKEND: "wasm", MIE_WASM_THREADS: "1", MIE_NATIVE_PRODUCTS: "off" }, spec);
    assert.match(wasm.line, /^backend wasm \(SIMD, 1 thread, products in wasm \(MIE_NATIVE_PRODUCTS=off\)\) · /);
    for (const [backend, threads] of [["auto", "1"], ["auto", "2"], ["wasm", "2"]]) {
      const native = trainInChild({ MIE_BACKEND: backend, MIE_WASM_THREADS: threads, MIE_NATIVE_PRODUCTS: "" }, spec);
      assert.match(native.line, /^backend wasm \(SIMD, .*products native (AVX-512|AVX2|SSE2)\)/);
      const what = `${spec} under ${backend} on ${threads} thread(s)`;
      assert.equal(native.losses, wasm.losses, `${what}: every loss`);
      assert.equal(native.params, wasm.params, `${what}: the trained parameters`);
      if (threads === "2" && spec.includes("500, 500")) assert.ok(native.helped > 0, `${what}: the helper thread ran native chunks`);
    }
  }
});

test("MIE_NATIVE_PRODUCTS takes on or off, and names a bad value", () => {
  const code = 'require("./lib/engine/backend").initBackend("wasm").then(() => console.log("started"), (e) => { console.log(e.message); process.exit(3); })';
  const result = spawnSync(process.execPath, ["--import", "tsx", "-e", code], { cwd: ROOT, env: { ...process.env, MIE_NATIVE_PRODUCTS: "yes" }, encoding: "utf8" });
  assert.equal(result.status, 3, result.stderr);
  assert.equal(result.stdout.trim(), 'MIE_NATIVE_PRODUCTS: expected on or off; got "yes"');
});

test("the build script: one line, up to date when nothing changed, and no compiler is said plainly", () => {
  if (canBuild) assert.match(buildNativeProducts().line, /^native products: (up to date|built lib\/native\/build\/products\.node)/);
  const none = buildNativeProducts({ compiler: "no-such-compiler-here", force: true });
  assert.equal(none.ok, false);
  assert.equal(none.line, "native products: no C compiler (no-such-compiler-here); the wasm kernel runs instead (Debian: apt-get install gcc, then npm run build)");
  // A compiler that fails leaves the built addon as it was, and no partial file.
  const dir = mkdtempSync(join(tmpdir(), "mie-cc-"));
  try {
    const failing = join(dir, "cc");
    writeFileSync(failing, "#!/bin/sh\nif [ \"$1\" = --version ]; then echo fake; exit 0; fi\necho 'products.c:1: error: broken on purpose' >&2\nexit 1\n", { mode: 0o755 });
    const broken = buildNativeProducts({ compiler: failing, force: true });
    assert.equal(broken.ok, false);
    assert.match(broken.line, /^native products: .*cc failed \(exit 1\); the wasm kernel runs instead:\nproducts\.c:1: error: broken on purpose$/);
    if (native) assert.ok(existsSync(nativeProductsPath()), "the addon built before is still there");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the quick start's step is silent when the addon is in place, and under MIE_NATIVE_PRODUCTS=off", { skip: !canBuild && "no C compiler here" }, (t) => {
  buildNativeProducts();
  const lines: unknown[] = [];
  t.mock.method(console, "log", (line: unknown) => lines.push(line));
  ensureNativeProducts();
  const saved = process.env.MIE_NATIVE_PRODUCTS;
  process.env.MIE_NATIVE_PRODUCTS = "off";
  try {
    ensureNativeProducts();
  } finally {
    if (saved === undefined) delete process.env.MIE_NATIVE_PRODUCTS;
    else process.env.MIE_NATIVE_PRODUCTS = saved;
  }
  assert.deepEqual(lines, []);
});

export type { NativeProducts };
