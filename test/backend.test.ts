import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as util from "node:util";
import * as tf from "@tensorflow/tfjs";
import { loadNativeAddon } from "../lib/engine/kernels";
import {
  backendForRun, describeBackend, formatBackend, initBackend, NATIVE_MIN_MULTIPLY_ADDS, NATIVE_MIN_MULTIPLY_ADDS_WITH_NATIVE_PRODUCTS, stepMultiplyAdds,
} from "../lib/engine/backend";

/** Whether tfjs-node loads here: `npm ci` leaves it out, `npm run native` builds it (CI does). */
const tfjsNodeInstalled = (() => {
  try {
    require.resolve("@tensorflow/tfjs-node");
  } catch {
    return false;
  }
  return inChild('require("./lib/engine/backend").initBackend("tfjs-node").catch(() => process.exit(3))', {}).status === 0;
})();

/** Whether `npm run build` compiled the native kernels (test/native-kernels.test.ts fails where it could and did not). */
const nativeBuilt = typeof loadNativeAddon() !== "string";
/** Whether the engine runs them (CI's wasm pass turns them off). */
const kernelsOff = (process.env.MIE_NATIVE_KERNELS || process.env.MIE_NATIVE_PRODUCTS) === "off";
const nativeProducts = nativeBuilt && !kernelsOff;
/** What the wasm detail says of the engine's kernels. */
const kernelsDetail = kernelsOff
  ? ", kernels in wasm \\(MIE_NATIVE_KERNELS=off\\)"
  : nativeBuilt ? ", kernels native (?:AVX-512|AVX2|SSE2)" : ", kernels wasm \\(native kernels not built \\(npm run build compiles them where a C compiler is installed\\)\\)";
/** The wasm detail under auto: SIMD, the engine's threads and kernels. */
const wasmDetail = `SIMD, (?:1 thread|\\d threads from 3,000,000 multiply-adds per step)${kernelsDetail}`;

/** Run a snippet in a fresh process (the backend is chosen once per process) and return its stdout/stderr. */
function inChild(code: string, env: NodeJS.ProcessEnv): { stdout: string; stderr: string; status: number | null } {
  const result = spawnSync(process.execPath, ["--import", "tsx", "-e", code], {
    cwd: `${__dirname}/..`,
    env: { ...process.env, ...env },
    encoding: "utf8",
  });
  return { stdout: result.stdout, stderr: result.stderr, status: result.status };
}

test("auto starts wasm, and tfjs-node too where it loads; the line says which runs what", async () => {
  const info = await initBackend("auto");
  assert.equal(info.name, "wasm");
  assert.equal(tf.getBackend(), "wasm");
  const line = await describeBackend("auto");
  assert.equal(tf.getBackend(), "wasm", "describing (which starts tfjs-node to check it) does not switch backends");
  if (tfjsNodeInstalled) {
    assert.deepEqual(info.skipped, []);
    const from = nativeProducts ? NATIVE_MIN_MULTIPLY_ADDS_WITH_NATIVE_PRODUCTS : NATIVE_MIN_MULTIPLY_ADDS;
    assert.deepEqual(info.nativeFrom, { minMultiplyAdds: from, detail: "libtensorflow, 1 intra-op thread" });
    const under = from.toLocaleString("en-US");
    assert.match(line, new RegExp(`^backend wasm \\(${wasmDetail}\\) for training steps under ${under} multiply-adds, tfjs-node \\(libtensorflow, 1 intra-op thread\\) from there · tfjs 4\\.22\\.0 · `));
  } else {
    assert.deepEqual(info.skipped, [{ name: "tfjs-node", reason: "not installed" }]);
    assert.equal(info.nativeFrom, undefined);
    assert.match(line, new RegExp(`^backend wasm \\(${wasmDetail}\\) · tfjs 4\\.22\\.0 · `));
  }
  assert.match(line, new RegExp(`· Node ${process.version}`));
});

test("stepMultiplyAdds counts a step's forward products, bias included", () => {
  assert.equal(stepMultiplyAdds([784, 10], 16), 16 * 785 * 10);
  assert.equal(stepMultiplyAdds([784, 500, 500, 10], 64), 64 * (785 * 500 + 501 * 500 + 501 * 10));
});

test("backendForRun: under auto, big runs go to tfjs-node where it loads, small ones stay on wasm; tensors follow", async () => {
  await initBackend("auto");
  const small = await backendForRun([784, 10], 16);
  assert.equal(small.name, "wasm");
  assert.equal(tf.getBackend(), "wasm");
  const made = tf.tensor1d([1, 2, 3]);
  const big = await backendForRun([784, 2000, 2000, 10], 128); // 716M multiply-adds a step: over both lines
  assert.equal(big.name, tfjsNodeInstalled ? "tfjs-node" : "wasm");
  assert.equal(tf.getBackend(), big.tfName);
  assert.match(formatBackend(big), tfjsNodeInstalled ? /^backend tfjs-node \(libtensorflow, 1 intra-op thread\) · / : /^backend wasm /);
  assert.deepEqual(tf.add(made, made).dataSync(), Float32Array.of(2, 4, 6), "a tensor made on wasm is usable on the run's backend");
  made.dispose();
  assert.equal((await backendForRun([784, 10], 16)).name, "wasm", "and the next small run is back on wasm");
  await initBackend("wasm");
  assert.equal((await backendForRun([784, 2000, 2000, 10], 128)).name, "wasm", "an explicit request holds for every size");
  assert.equal(tf.getBackend(), "wasm");
});

test("under auto, a process whose runs are all small never loads libtensorflow (~300 MB); a big run loads it", () => {
  const code = (layers: number[]) => `const tf = require("@tensorflow/tfjs"); require("./lib/engine/backend").backendForRun(${JSON.stringify(layers)}, 16)` +
    '.then((info) => console.log(info.name, tf.findBackendFactory("tensorflow") ? "loaded" : "not loaded"))';
  const small = inChild(code([784, 10]), { MIE_BACKEND: "auto" });
  assert.equal(small.stdout.trim(), "wasm not loaded", small.stderr);
  const big = inChild(code([784, 50000, 10]), { MIE_BACKEND: "auto" }); // 636M multiply-adds a step at batch 16
  assert.equal(big.stdout.trim(), tfjsNodeInstalled ? "tfjs-node loaded" : "wasm not loaded", big.stderr);
});

test("a function argument overrides the choice, and the backend really runs", async () => {
  const info = await initBackend("cpu");
  assert.equal(info.name, "cpu");
  assert.equal(tf.getBackend(), "cpu");
  assert.deepEqual(tf.add(tf.scalar(2), tf.scalar(3)).dataSync(), Float32Array.of(5));
  const wasm = await initBackend("wasm");
  assert.equal(tf.getBackend(), "wasm");
  assert.equal(formatBackend(wasm).startsWith("backend wasm"), true);
});

/**
 * Code that makes `@tensorflow/tfjs-node` unresolvable in a child, as after `npm ci` (it is no dependency of the
 * project), whether or not `npm run native` built it on this machine.
 */
const hideTfjsNode = 'const Module = require("node:module"); const resolve = Module._resolveFilename; ' +
  'Module._resolveFilename = function (request, ...rest) { if (request === "@tensorflow/tfjs-node") ' +
  '{ const error = new Error("Cannot find module \'@tensorflow/tfjs-node\'"); error.code = "MODULE_NOT_FOUND"; throw error; } ' +
  'return resolve.call(this, request, ...rest); };';

test("an explicit request that cannot be met fails loudly instead of running something else, and says how to install", () => {
  const child = inChild(`${hideTfjsNode} require("./lib/engine/backend").initBackend("tfjs-node").then(() => console.log("started"), (e) => console.log(e.message))`, {});
  assert.equal(child.status, 0, child.stderr);
  assert.equal(child.stdout.trim(), "backend tfjs-node: requested (argument or MIE_BACKEND) but could not start: not installed " +
    "(in this project `npm run native` builds it; elsewhere `npm install @tensorflow/tfjs-node@4.22.0`)");
});

test("under auto without tfjs-node (as after npm ci) the line says it is not installed, and a big run stays on the engine", () => {
  const code = `${hideTfjsNode} const tf = require("@tensorflow/tfjs"); const backend = require("./lib/engine/backend");` +
    " backend.describeBackend().then(async (line) => { console.log(line);" +
    " const big = await backend.backendForRun([784, 2000, 2000, 10], 1024);" + // 5.7G multiply-adds a step: over both lines
    ' console.log(big.name, big.route.engine ? "engine" : "tensor ops", tf.findBackendFactory("tensorflow") ? "loaded" : "not loaded"); })';
  const child = inChild(code, { MIE_BACKEND: "" });
  assert.equal(child.status, 0, child.stderr);
  const [line, big] = child.stdout.trim().split("\n");
  assert.match(line!, new RegExp(`^backend wasm \\(${wasmDetail}\\) · tfjs 4\\.22\\.0 · Node v[\\d.]+ · tfjs-node skipped: not installed$`));
  assert.equal(big, "wasm engine not loaded");
});

test("tfjs-node's missing util.isNullOrUndefined (Node 23+) is shimmed before tfjs-node loads", async () => {
  const nodeUtil = require("node:util") as Record<string, unknown>;
  const original = nodeUtil.isNullOrUndefined;
  delete nodeUtil.isNullOrUndefined;
  try {
    await initBackend("tfjs-node").catch(() => undefined);
    const shim = nodeUtil.isNullOrUndefined as (value: unknown) => boolean;
    assert.equal(typeof shim, "function");
    assert.deepEqual([shim(null), shim(undefined), shim(0), shim("")], [true, true, false, false]);
    assert.equal(typeof (util as unknown as Record<string, unknown>).isNullOrUndefined, "function");
  } finally {
    nodeUtil.isNullOrUndefined = original;
  }
});

test("tfjs-node runs one TensorFlow thread unless TF_NUM_INTRAOP_THREADS says otherwise", { skip: !tfjsNodeInstalled && "tfjs-node does not load here (npm run native builds it)" }, () => {
  const code = 'require("./lib/engine/backend").describeBackend().then((line) => console.log(line), (e) => { console.error(e.message); process.exit(3); })';
  const one = inChild(code, { MIE_BACKEND: "tfjs-node", TF_NUM_INTRAOP_THREADS: "", TF_NUM_INTEROP_THREADS: "" });
  assert.match(one.stdout, /^backend tfjs-node \(libtensorflow, 1 intra-op thread\) · tfjs 4\.22\.0/, one.stderr);
  const two = inChild(code, { MIE_BACKEND: "tfjs-node", TF_NUM_INTRAOP_THREADS: "2" });
  assert.match(two.stdout, /^backend tfjs-node \(libtensorflow, 2 intra-op threads\) · /, two.stderr);
});

test("MIE_BACKEND chooses the backend for the whole process; a bad value is named", () => {
  const code = 'require("./lib/engine/backend").describeBackend().then((line) => console.log(line), (e) => { console.error(e.message); process.exit(3); })';
  const cpu = inChild(code, { MIE_BACKEND: "cpu" });
  assert.equal(cpu.status, 0, cpu.stderr);
  assert.match(cpu.stdout, /^backend cpu \(pure JavaScript, 1 thread\) · tfjs 4\.22\.0/);
  const bad = inChild(code, { MIE_BACKEND: "gpu" });
  assert.equal(bad.status, 3);
  assert.match(bad.stderr, /MIE_BACKEND: expected one of auto, tfjs-node, wasm, cpu; got "gpu"/);
});

test("an uncaught error after the wasm backend started prints the error, not the backend's minified glue code", () => {
  const code = 'require("./lib/engine/backend").initBackend("wasm").then(() => { throw new Error("the user\'s own error"); })';
  const child = inChild(code, {});
  assert.notEqual(child.status, 0);
  assert.match(child.stderr, /Error: the user's own error/);
  const longest = Math.max(...child.stderr.split("\n").map((line) => line.length));
  assert.ok(longest < 500, `stderr has a ${longest}-character line (the Emscripten glue re-throwing):\n${child.stderr.slice(0, 300)}`);
  assert.doesNotMatch(child.stderr, /tfjs-backend-wasm\.js/);
});
