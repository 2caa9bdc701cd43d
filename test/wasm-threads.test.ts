import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";

/**
 * Train a short run in a fresh process (the wasm build is chosen once per process) with `threads` wasm threads;
 * its backend line and every loss bit.
 */
function trainInChild(threads: number, layers: number[], optimizer: string): { line: string; losses: string } {
  const code = `
    const { describeBackend } = require("./lib/engine/backend");
    const { loadMnist, subset } = require("./lib/data/data");
    const { mlp } = require("./lib/model/model");
    const { train } = require("./lib/train/loop");
    (async () => {
      const line = await describeBackend("wasm");
      const data = await loadMnist();
      const small = { ...data, train: subset(data.train, { first: 1280 }) };
      const run = await train(mlp(${JSON.stringify(layers)}), small, { optimizer: "${optimizer}", lr: 0.01, batchSize: 64, evaluate: false });
      console.log(JSON.stringify({ line, losses: Buffer.from(new Float64Array(run.losses).buffer).toString("base64") }));
    })();`;
  const result = spawnSync(process.execPath, ["--import", "tsx", "-e", code], {
    // The wasm kernel's threads (the native kernel's: test/native-products.test.ts).
    cwd: `${__dirname}/..`, env: { ...process.env, MIE_WASM_THREADS: String(threads), MIE_NATIVE_PRODUCTS: "off" }, encoding: "utf8", timeout: 120_000,
  });
  assert.equal(result.status, 0, result.stderr);
  return JSON.parse(result.stdout.trim().split("\n").pop()!) as { line: string; losses: string };
}

for (const [layers, optimizer] of [[[784, 100, 100, 10], "sgd"], [[784, 100, 10], "adam"]] as const) {
  test(`wasm on 2 threads trains ${layers.join("-")} ${optimizer} to the same bits as on 1 thread, and the process ends`, () => {
    const one = trainInChild(1, [...layers], optimizer);
    const two = trainInChild(2, [...layers], optimizer);
    assert.match(one.line, /^backend wasm \(SIMD, 1 thread, products in wasm \(MIE_NATIVE_PRODUCTS=off\)\) · /);
    assert.match(two.line, /^backend wasm \(SIMD, 2 threads from 3,000,000 multiply-adds per step, products in wasm \(MIE_NATIVE_PRODUCTS=off\)\) · /);
    assert.ok(one.losses.length > 100, "20 steps of losses"); // batch 64: ≥ 3M multiply-adds a step, so on 2 threads
    assert.equal(two.losses, one.losses);
  });
}

test("MIE_WASM_THREADS must be a whole number of at least 1", () => {
  const result = spawnSync(process.execPath, ["--import", "tsx", "-e", 'require("./lib/engine/backend").initBackend("wasm").catch((e) => { console.log(e.message); process.exit(3); })'], {
    cwd: `${__dirname}/..`, env: { ...process.env, MIE_WASM_THREADS: "two" }, encoding: "utf8",
  });
  assert.equal(result.status, 3);
  assert.match(result.stdout, /MIE_WASM_THREADS: expected a whole number ≥ 1, got "two"/);
});
