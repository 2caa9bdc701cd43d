/**
 * The engine's native kernels in use: `npm run build` compiled them wherever a C compiler is installed, a whole
 * training run gives the bits of WebAssembly alone under auto and wasm, on one thread and two, and the setting that
 * turns them off is checked. (Each kernel's bits, shape by shape, are test/engine-kernels.test.ts's.)
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { loadNativeAddon, nativeAddonPath } from "../lib/engine/kernels";

const ROOT = join(__dirname, "..");
/** Whether this machine can build the kernels: x86-64 and a C compiler (`$CC`, else `cc`). */
const canBuild = process.arch === "x64" && spawnSync(process.env.CC || "cc", ["--version"]).status === 0;
const loaded = loadNativeAddon();
const native = typeof loaded === "string" ? null : loaded;
const needsNative = { skip: !native && `native kernels not built here: ${loaded as string}` };

test("npm run build compiled the native kernels wherever a C compiler is installed, and they load", () => {
  if (canBuild) {
    assert.ok(native, `a C compiler is here, yet: ${loaded as string}`);
    assert.match(native.addon.instructionSet(), /^(avx512|avx2|sse2)$/);
    assert.equal(native.path, nativeAddonPath());
  } else {
    assert.equal(loaded, "native kernels not built (npm run build compiles them where a C compiler is installed)");
  }
});

/**
 * A training run in a fresh process (the backend is chosen once per process): every loss's bits and the trained
 * parameters' hash, what the backend line says, and how many chunks the engine's helper thread ran.
 */
function trainInChild(env: NodeJS.ProcessEnv, spec: string): { losses: string; params: string; line: string; helped: number } {
  const code = `
    const { createHash } = require("node:crypto");
    const { backendForRun, describeBackend } = require("./lib/engine/backend");
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
      const { route } = await backendForRun(layers, batchSize);
      console.log(JSON.stringify({ losses: hash(new Uint8Array(run.losses.buffer)), params, line, helped: route.engine ? route.engine.helperChunks() : 0 }));
    })();`;
  const result = spawnSync(process.execPath, ["--import", "tsx", "-e", code], { cwd: ROOT, env: { ...process.env, ...env }, encoding: "utf8", timeout: 300_000 });
  assert.equal(result.status, 0, result.stderr);
  return JSON.parse(result.stdout.trim().split("\n").pop()!);
}

test("training on the native kernels gives the bits of WebAssembly alone, under auto and wasm, on one thread and on two", needsNative, () => {
  for (const spec of ["[[784, 100, 10], 16, 'sgd', 3000]", "[[784, 500, 500, 10], 64, 'adam', 2048]"]) {
    const wasm = trainInChild({ MIE_BACKEND: "wasm", MIE_WASM_THREADS: "1", MIE_NATIVE_KERNELS: "off" }, spec);
    assert.match(wasm.line, /^backend wasm \(SIMD, 1 thread, kernels in wasm \(MIE_NATIVE_KERNELS=off\)\) · /);
    for (const [backend, threads] of [["auto", "1"], ["auto", "2"], ["wasm", "2"]]) {
      const onNative = trainInChild({ MIE_BACKEND: backend, MIE_WASM_THREADS: threads, MIE_NATIVE_KERNELS: "" }, spec);
      assert.match(onNative.line, /^backend wasm \(SIMD, .*kernels native (AVX-512|AVX2|SSE2)\)/);
      const what = `${spec} under ${backend} on ${threads} thread(s)`;
      assert.equal(onNative.losses, wasm.losses, `${what}: every loss`);
      assert.equal(onNative.params, wasm.params, `${what}: the trained parameters`);
      if (threads === "2" && spec.includes("500, 500")) assert.ok(onNative.helped > 0, `${what}: the helper thread ran native chunks`);
    }
  }
});

test("MIE_NATIVE_KERNELS (or its old name MIE_NATIVE_PRODUCTS) takes on or off, and names a bad value", () => {
  const code = 'require("./lib/engine/backend").initBackend("wasm").then(() => console.log("started"), (e) => { console.log(e.message); process.exit(3); })';
  for (const name of ["MIE_NATIVE_KERNELS", "MIE_NATIVE_PRODUCTS"]) {
    const result = spawnSync(process.execPath, ["--import", "tsx", "-e", code], { cwd: ROOT, env: { ...process.env, MIE_NATIVE_KERNELS: "", MIE_NATIVE_PRODUCTS: "", [name]: "yes" }, encoding: "utf8" });
    assert.equal(result.status, 3, result.stderr);
    assert.equal(result.stdout.trim(), `${name}: expected one of on, off; got "yes"`);
  }
});
