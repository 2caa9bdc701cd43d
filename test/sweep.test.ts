import { test, before } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { runInThisContext } from "node:vm";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/engine/backend";
import type { RunSpec } from "../lib/runs/spec";
import { closeWorkers } from "../lib/runs/pool";
import { trainAll, workerCount } from "../lib/runs/sweep";
import { smallMnist } from "./helpers/small-mnist";

before(async () => {
  await initBackend();
});

const threads = (): number => readdirSync("/proc/self/task").length;
const long: RunSpec[] = [0, 1].map((seed) => ({ layers: [784, 64, 10], seed }));
// Runs an interrupt must find still going: the engine trains an epoch of `long` in about a second, and a signal
// handled after a busy stretch could arrive once both had finished (seen once in CI).
const interrupted: RunSpec[] = long.map((spec) => ({ ...spec, epochs: 20 }));

test("the worker count: the option, else MIE_WORKERS, else the number of cores", (t) => {
  const saved = process.env.MIE_WORKERS;
  t.after(() => (saved === undefined ? delete process.env.MIE_WORKERS : (process.env.MIE_WORKERS = saved)));
  delete process.env.MIE_WORKERS;
  assert.equal(workerCount(), availableParallelism());
  process.env.MIE_WORKERS = "1";
  assert.equal(workerCount(), 1);
  assert.equal(workerCount(3), 3, "an explicit option wins over the environment");
  process.env.MIE_WORKERS = "two";
  assert.throws(() => workerCount(), /MIE_WORKERS: expected a positive integer number of workers, got "two"/);
  assert.throws(() => workerCount(0), /workers: expected a positive integer number of workers, got 0/);
});

test("MIE_WORKERS=1 trains one run after another in this thread: no worker starts", async (t) => {
  const saved = process.env.MIE_WORKERS;
  t.after(() => (saved === undefined ? delete process.env.MIE_WORKERS : (process.env.MIE_WORKERS = saved)));
  process.env.MIE_WORKERS = "1";
  const data = await smallMnist(2000, 20);
  // A first sweep starts what the process starts lazily anyway (V8's and libuv's helper threads), so the count
  // below sees only what a sweep itself would add (once, in CI, a helper thread appeared during the first one).
  (await trainAll(long, data)).forEach((run) => run.model.dispose());
  const baseline = threads();
  let most = 0;
  const runs = await trainAll(long, data, { onProgress: () => (most = Math.max(most, threads())) });
  assert.equal(most, baseline);
  runs.forEach((run) => run.model.dispose());
});

test("trainAll checks every spec and refuses two runs with one label, before training", async () => {
  const data = await smallMnist(32, 20);
  await assert.rejects(trainAll([], data), /trainAll: expected a non-empty array of runs/);
  await assert.rejects(trainAll([{ layers: [784, 10] }, { layers: [784, 10], lr: 0.001 }], data), /specs\[0\] and specs\[1\] are both labelled "784-10 sgd lr 0.001 batch 16"/);
  await assert.rejects(trainAll([{ layers: [784, 10] }, { layers: [784, 10], shuffleSeed: 2 }], data), /specs\[1\]: shuffleSeed: only used with shuffle: true/);
  await assert.rejects(trainAll([{ layers: [784, 10], onProgress: () => {} } as never], data), /specs\[0\]: unknown key onProgress; a run has layers, model, init, seed/);
  await assert.rejects(trainAll([{ layers: [784, 10], label: "x", lr: 0 }], data), /specs\[0\] \("x"\): lr: expected a finite number > 0, got 0/);
  const spec: RunSpec = { layers: [784, 10], seed: 2, optimizer: "adam", shuffle: true, shuffleSeed: 1, label: "plain data" };
  assert.deepEqual(JSON.parse(JSON.stringify(spec)), spec, "a spec survives JSON");
});

test("one run after another: a failing run is named, and the runs before it are disposed", async () => {
  const data = await smallMnist(2000, 20);
  const before = tf.memory().numTensors;
  const specs: RunSpec[] = [{ layers: [784, 10] }, { layers: [784, 10], seed: 1, label: "second" }];
  await assert.rejects(
    trainAll(specs, data, { workers: 1, onProgress: (p) => { if (p.label === "second" && p.step > 0) throw new Error("boom"); } }),
    /run "second": boom/,
  );
  assert.equal(tf.memory().numTensors, before, "the finished run's model and the failed run's are disposed");
});

test("one run after another can be aborted too, between its steps", async () => {
  const data = await smallMnist(20000, 20);
  const before = tf.memory().numTensors;
  const stop = new AbortController();
  await assert.rejects(
    trainAll(interrupted, data, { workers: 1, signal: stop.signal, onProgress: (p) => p.step > 0 && stop.abort(new Error("halt")) }),
    /halt/,
  );
  assert.equal(tf.memory().numTensors, before, "the interrupted run's model is disposed");
});

test("SIGINT while another listener handles it (as the tslab kernel does) stops the sweep and its workers", async () => {
  const data = await smallMnist(20000, 20);
  const kernel = (): void => {};
  process.on("SIGINT", kernel);
  try {
    await closeWorkers();
    const baseline = threads();
    let sent = false;
    await assert.rejects(
      trainAll(interrupted, data, {
        workers: 2,
        onProgress: (p) => {
          if (p.step > 0 && !sent) {
            sent = true;
            process.kill(process.pid, "SIGINT");
          }
        },
      }),
      /trainAll: interrupted \(SIGINT\)/,
    );
    assert.equal(threads(), baseline);
    assert.deepEqual(process.listeners("SIGINT"), [kernel], "the sweep's own listener is gone");
  } finally {
    process.removeListener("SIGINT", kernel);
  }
});

test("a sweep started from a notebook cell survives the kernel's interrupt: tslab runs cells with breakOnSigint", async () => {
  const data = await smallMnist(20000, 20);
  const kernel = (): void => {};
  process.on("SIGINT", kernel);
  try {
    let sent = false;
    const cell = { trainAll, long: interrupted, data, interrupt: (p: { step: number }) => {
      if (p.step > 0 && !sent) {
        sent = true;
        process.kill(process.pid, "SIGINT");
      }
    } };
    // As tslab's executor runs a cell: trainAll is called during the vm call.
    Object.assign(globalThis, { cell });
    const sweep = runInThisContext("cell.trainAll(cell.long, cell.data, { workers: 2, onProgress: cell.interrupt })", { breakOnSigint: true });
    await assert.rejects(sweep, /trainAll: interrupted \(SIGINT\)/, "the process is still alive and the sweep stopped");
  } finally {
    delete (globalThis as { cell?: unknown }).cell;
    process.removeListener("SIGINT", kernel);
  }
});

test("Ctrl-C in a script that runs a sweep ends the script, as it would without one", async () => {
  // Many epochs: the engine trains an epoch of these runs in a fraction of a second, and a sweep that ended before
  // the signal arrived would exit by itself (seen once in CI's WebAssembly-only pass).
  const endless = interrupted.map((spec) => ({ ...spec, epochs: 200 }));
  const script = `
    const { trainAll } = require("./lib/runs/sweep");
    const { loadMnist } = require("./lib/data/data");
    loadMnist({ train: { first: 20000 }, test: { first: 20 } }).then((data) =>
      trainAll(${JSON.stringify(endless)}, data, { workers: 2, onProgress: (p) => p.step > 0 && console.log("training") }));`;
  const child = spawn(process.execPath, ["--import", "tsx", "-e", script], { cwd: join(__dirname, ".."), stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk));
  child.stdout.once("data", () => child.kill("SIGINT"));
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on("exit", (...result) => resolve(result)));
  assert.deepEqual([code, signal], [null, "SIGINT"], `the script ended by the signal (stderr: ${stderr})`);
});
