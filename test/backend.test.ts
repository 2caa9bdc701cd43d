import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as util from "node:util";
import * as tf from "@tensorflow/tfjs";
import { describeBackend, formatBackend, initBackend } from "../lib/backend";

const tfjsNodeInstalled = (() => {
  try {
    require.resolve("@tensorflow/tfjs-node");
    return true;
  } catch {
    return false;
  }
})();

/** Run a snippet in a fresh process (the backend is chosen once per process) and return its stdout/stderr. */
function inChild(code: string, env: NodeJS.ProcessEnv): { stdout: string; stderr: string; status: number | null } {
  const result = spawnSync(process.execPath, ["--import", "tsx", "-e", code], {
    cwd: `${__dirname}/..`,
    env: { ...process.env, ...env },
    encoding: "utf8",
  });
  return { stdout: result.stdout, stderr: result.stderr, status: result.status };
}

test("auto picks the first backend that starts, and says what it skipped", async () => {
  const info = await initBackend("auto");
  assert.equal(info.name, tfjsNodeInstalled ? "tfjs-node" : "wasm");
  assert.equal(tf.getBackend(), info.tfName);
  if (!tfjsNodeInstalled) assert.deepEqual(info.skipped, [{ name: "tfjs-node", reason: "not installed" }]);
  const line = await describeBackend("auto");
  assert.match(line, new RegExp(`^backend ${info.name} .*· tfjs 4\\.22\\.0 · Node ${process.version}`));
  if (info.name === "wasm") assert.match(line, /\(SIMD, 1 thread\)/);
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

test("an explicit request that cannot be met fails loudly instead of running something else", { skip: tfjsNodeInstalled && "tfjs-node is installed here" }, async () => {
  await assert.rejects(initBackend("tfjs-node"), {
    message: "backend tfjs-node: requested (argument or MIE_BACKEND) but could not start: not installed",
  });
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

test("MIE_BACKEND chooses the backend for the whole process; a bad value is named", () => {
  const code = 'require("./lib/backend").describeBackend().then((line) => console.log(line), (e) => { console.error(e.message); process.exit(3); })';
  const cpu = inChild(code, { MIE_BACKEND: "cpu" });
  assert.equal(cpu.status, 0, cpu.stderr);
  assert.match(cpu.stdout, /^backend cpu \(pure JavaScript, 1 thread\) · tfjs 4\.22\.0/);
  const bad = inChild(code, { MIE_BACKEND: "gpu" });
  assert.equal(bad.status, 3);
  assert.match(bad.stderr, /MIE_BACKEND: expected one of auto, tfjs-node, wasm, cpu; got "gpu"/);
});

test("an uncaught error after the wasm backend started prints the error, not the backend's minified glue code", () => {
  const code = 'require("./lib/backend").initBackend("wasm").then(() => { throw new Error("the user\'s own error"); })';
  const child = inChild(code, {});
  assert.notEqual(child.status, 0);
  assert.match(child.stderr, /Error: the user's own error/);
  const longest = Math.max(...child.stderr.split("\n").map((line) => line.length));
  assert.ok(longest < 500, `stderr has a ${longest}-character line (the Emscripten glue re-throwing):\n${child.stderr.slice(0, 300)}`);
  assert.doesNotMatch(child.stderr, /tfjs-backend-wasm\.js/);
});
