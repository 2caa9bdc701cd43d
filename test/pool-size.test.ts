/**
 * The pool's size: cores (or `MIE_CORES`) and the memory budget bound it. A faked 64-core machine with a memory
 * limit starts only the workers that fit, and the whole process tree's peak RSS stays under the limit.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { coreCount, memoryBudgetMB, memoryShareMB, workerCostMB, workersThatFit, WORKER_MB } from "../lib/runs/pool-size";
import { workerKind } from "../lib/runs/pool";
import type { BackendInfo } from "../lib/engine/backend";
import { samplePeakRss } from "../scripts/bench/process-tree";
import { smallMnist } from "./helpers/small-mnist";

const ENV = ["MIE_CORES", "MIE_MEMORY_BUDGET_MB", "MIE_MEMORY_LIMIT_MB", "MIE_WORKER_KIND"] as const;

/** Run `body` with these variables set (the others of ENV unset), restoring them after. */
function withEnv(values: Partial<Record<(typeof ENV)[number], string>>, body: () => void): void {
  const saved = ENV.map((key) => [key, process.env[key]] as const);
  try {
    ENV.forEach((key) => (values[key] === undefined ? delete process.env[key] : (process.env[key] = values[key])));
    body();
  } finally {
    saved.forEach(([key, value]) => (value === undefined ? delete process.env[key] : (process.env[key] = value)));
  }
}

test("MIE_CORES replaces the core count; a bad value is named", () => {
  withEnv({ MIE_CORES: "64" }, () => assert.equal(coreCount(), 64));
  withEnv({}, () => assert.ok(coreCount() >= 1));
  for (const bad of ["0", "2.5", "many"]) {
    withEnv({ MIE_CORES: bad }, () => assert.throws(() => coreCount(), new RegExp(`MIE_CORES: expected a positive whole number of cores, got "${bad}"`)));
  }
});

test("the budget: MIE_MEMORY_BUDGET_MB, else MIE_MEMORY_LIMIT_MB, else 80% of the free memory plus this process's own", () => {
  withEnv({ MIE_MEMORY_BUDGET_MB: "3000", MIE_MEMORY_LIMIT_MB: "9000" }, () => assert.equal(memoryBudgetMB(), 3000));
  withEnv({ MIE_MEMORY_LIMIT_MB: "9000" }, () => assert.equal(memoryBudgetMB(), 9000));
  withEnv({}, () => {
    const own = process.memoryUsage().rss / 2 ** 20;
    assert.ok(memoryBudgetMB() > own, `${memoryBudgetMB()} MB budget, ${own} MB used by this process`);
  });
  withEnv({ MIE_MEMORY_LIMIT_MB: "-1" }, () => assert.throws(() => memoryBudgetMB(), /MIE_MEMORY_LIMIT_MB: expected a positive number of megabytes, got "-1"/));
  withEnv({ MIE_MEMORY_LIMIT_MB: "9000" }, () => assert.equal(memoryShareMB(3), 3000, "side by side, each gets its share"));
});

test("workers that fit: the budget left beside this process, divided by a worker's cost, at least one", async () => {
  assert.equal(workersThatFit(150, 400, 1000), 4);
  assert.equal(workersThatFit(150, 400, 500), 1, "always one, so a sweep runs");
  const data = await smallMnist(1000, 100);
  assert.equal(workerCostMB("thread", false, data), WORKER_MB.wasmThread, "threads share the dataset");
  const dataMB = Math.ceil((1000 * 785 + 100 * 785) / 2 ** 20);
  assert.equal(workerCostMB("process", true, data), WORKER_MB.nativeProcess + dataMB, "a process holds its own copy");
  assert.equal(workerCostMB("process", false, data), WORKER_MB.wasmProcess + dataMB);
});

test("workers are processes wherever libtensorflow may run (a big MLP, a network TensorFlow.js trains), threads elsewhere; MIE_WORKER_KIND overrides", () => {
  const wasm = { name: "wasm", requested: "auto" } as BackendInfo;
  const auto = { ...wasm, nativeFrom: { minMultiplyAdds: 3_000_000, detail: "" } } as BackendInfo;
  const small = [{ layers: [784, 10] }];
  const big = [...small, { layers: [784, 500, 10], batchSize: 16 }];
  withEnv({}, () => {
    assert.equal(workerKind(wasm, big), "thread");
    assert.equal(workerKind(auto, small), "thread", "auto: small runs stay on wasm");
    assert.equal(workerKind(auto, big), "process", "auto: a big run uses tfjs-node");
    assert.equal(workerKind({ ...wasm, name: "tfjs-node" }, small), "process");
    // tfjs-node's binding crashes when two threads of one process run its ops (CI saw it, in test/tfjs-pool.test.ts).
    const engineNet = [{ layers: [], network: {} }] as unknown as typeof small;
    const tfjsNet = [{ layers: [], network: { tfjs: {} } }] as unknown as typeof small;
    assert.equal(workerKind(auto, engineNet), "thread", "a network the engine trains never reaches libtensorflow");
    assert.equal(workerKind(auto, tfjsNet), "process", "one TensorFlow.js trains goes to tfjs-node where it loads");
    assert.equal(workerKind(wasm, tfjsNet), "thread", "without tfjs-node it trains on wasm or cpu, which threads share safely");
  });
  withEnv({ MIE_WORKER_KIND: "thread" }, () => assert.equal(workerKind(auto, big), "thread"));
  withEnv({ MIE_WORKER_KIND: "fiber" }, () => assert.throws(() => workerKind(auto, big), /MIE_WORKER_KIND: expected one of thread, process; got "fiber"/));
});

/** A script that trains 12 runs with every default, on a machine faked by the environment; prints workers at once. */
const SWEEP = `
  const { trainAll } = require("./lib/runs/sweep");
  const { loadMnist } = require("./lib/data/data");
  let inFlight = 0, most = 0;
  loadMnist({ train: { first: 3000 }, test: { first: 100 } })
    .then((data) => trainAll(Array.from({ length: 12 }, (_, seed) => ({ layers: [784, 64, 10], seed })), data,
      { onProgress: (p) => { if (p.step === 0) most = Math.max(most, ++inFlight); if (p.done) inFlight--; } }))
    .then(() => console.log("workers at once: " + most));`;

for (const kind of ["thread", "process"] as const) {
  test(`64 cores faked with a memory limit: ${kind} workers as fit, the process tree's peak RSS under the limit`, async (t) => {
    const limit = kind === "thread" ? 900 : 1300;
    const env = { ...process.env, MIE_BACKEND: "wasm", MIE_WORKER_KIND: kind, MIE_CORES: "64", MIE_MEMORY_LIMIT_MB: String(limit), MIE_WORKER_IDLE_SECONDS: "0" };
    const child = spawn(process.execPath, ["--import", "tsx", "-e", SWEEP], { cwd: join(__dirname, ".."), env, stdio: ["ignore", "pipe", "pipe"] });
    const sampler = samplePeakRss(child.pid!, 20);
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    const peak = sampler.stop();
    assert.equal(code, 0, output);
    const workers = Number(/workers at once: (\d+)/.exec(output)?.[1]);
    t.diagnostic(`${workers} ${kind} workers, peak RSS of the process tree ${peak.toFixed(0)} MB, limit ${limit} MB`);
    assert.ok(workers >= 2 && workers < 12, `memory, not the 64 cores or the 12 runs, bounded the pool: ${workers} workers`);
    assert.ok(peak < limit, `peak RSS of the process tree ${peak.toFixed(0)} MB, limit ${limit} MB`);
  });
}
