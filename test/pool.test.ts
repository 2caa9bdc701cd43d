import { test, before } from "node:test";
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/engine/backend";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { closeWorkers, idleWorkers, sharedDataset, trainInWorkers, workerIdleSeconds } from "../lib/runs/pool";
import type { Progress } from "../lib/train/progress";
import { checkSpec, type RunSpec } from "../lib/runs/spec";
import { evaluate, train, type Run } from "../lib/train/loop";
import type { Model } from "../lib/model/model";
import { checkDataset } from "../lib/train/checks";
import { trainAll } from "../lib/runs/sweep";
import { smallMnist } from "./helpers/small-mnist";
import { childPids } from "../scripts/bench/process-tree";

before(async () => {
  await initBackend();
});

/** Threads of this process (worker threads included) plus its child processes (process workers): workers alive. */
const threads = (): number => readdirSync("/proc/self/task").length + childPids(process.pid).length;

const specs: RunSpec[] = [
  { layers: [784, 32, 10], lr: 0.1, seed: 0 },
  { layers: [784, 32, 10], lr: 0.1, seed: 1 },
  { layers: [784, 10], optimizer: "adam", batchSize: 64, shuffle: true, shuffleSeed: 4, epochs: 2 },
];

const bits = (values: Float32Array): Buffer => Buffer.from(values.buffer, values.byteOffset, values.byteLength);

test("runs trained in workers are bit-identical to the same runs one after another in this thread", async () => {
  const data = await smallMnist(2000, 500);
  const before = tf.memory().numTensors;
  const pooled = await trainAll(specs, data, { workers: 2 });
  const inProcess = await trainAll(specs, data, { workers: 1 });
  assert.deepEqual(pooled.map((run) => run.label), inProcess.map((run) => run.label));
  pooled.forEach((run, i) => {
    const other = inProcess[i]!;
    assert.ok(bits(run.losses).equals(bits(other.losses)), `${run.label}: losses bit for bit`);
    assert.equal(run.accuracy, other.accuracy, run.label);
    assert.deepEqual(run.confusion, other.confusion, run.label);
    assert.deepEqual(run.settings, other.settings, run.label);
    for (let layer = 0; layer < run.layers.length - 1; layer++) {
      assert.ok(bits(run.model.weights(layer).kernel).equals(bits(other.model.weights(layer).kernel)), `${run.label}: layer ${layer}`);
    }
  });
  const tensorsPerRun = (run: Run) => run.layers.length - 1;
  assert.equal(tf.memory().numTensors, before + 2 * pooled.reduce((sum, run) => sum + tensorsPerRun(run), 0));
  [...pooled, ...inProcess].forEach((run) => run.model.dispose());
  assert.equal(tf.memory().numTensors, before, "no tensor leaked by the pool or by rebuilding its models");
});

test("models from workers come back trained and usable: predict, evaluate, weights; training again needs resume", async () => {
  const data = await smallMnist(600, 300);
  const checked = checkDataset(data);
  const [run] = await trainInWorkers([checkSpec({ layers: [784, 16, 10], lr: 0.1 }, checked, "spec")], checked, { workers: 1 });
  const model = run!.model as Model; // an MLP's run
  assert.equal(model.trainedSteps, run!.steps);
  assert.equal(evaluate(model, data).accuracy, run!.accuracy, "the rebuilt model predicts what the worker's did");
  assert.deepEqual(model.weights(1).shape, [16, 10]);
  await assert.rejects(train(model, data), /model already trained for 38 steps/);
  const resumed = await train(model, data, { lr: 0.1, resume: true, evaluate: false });
  assert.equal(resumed.model.trainedSteps, 76);
  model.dispose();
});

test("the dataset is copied into shared memory once per dataset; a dataset already in shared memory is used as it is", async () => {
  const data = await smallMnist(64, 20);
  const shared = sharedDataset(data);
  assert.equal(sharedDataset(data), shared, "made once per dataset");
  for (const split of [shared.train, shared.test]) {
    assert.ok(split.images.buffer instanceof SharedArrayBuffer && split.labels.buffer instanceof SharedArrayBuffer);
  }
  assert.ok(Buffer.from(shared.train.images).equals(Buffer.from(data.train.images)));
  assert.ok(Buffer.from(shared.test.labels).equals(Buffer.from(data.test.labels)));
  assert.equal(sharedDataset(shared), shared, "an already shared dataset is used as it is");
});

test("every run in flight reports progress, each starting with a step-0 report, and ends with one done report", async () => {
  const data = await smallMnist(20000, 20);
  const reports: Progress[] = [];
  // Runs of a few seconds each, so that both are in flight together even when one worker starts late on a busy machine.
  const long: RunSpec[] = [0, 1].map((seed) => ({ layers: [784, 256, 10], lr: 0.01, seed }));
  const runs = await trainAll(long, data, { workers: 2, onProgress: (p) => reports.push({ ...p, losses: p.losses.slice() }) });
  const labels = runs.map((run) => run.label);
  assert.deepEqual(reports.slice(0, 2).map((p) => [p.label, p.step]), [[labels[0], 0], [labels[1], 0]], "started in spec order");
  for (const run of runs) {
    const own = reports.filter((p) => p.label === run.label);
    assert.ok(own.length >= 3, `${run.label}: ${own.length} reports`);
    assert.deepEqual(own.filter((p) => p.done).length, 1);
    assert.deepEqual(own[own.length - 1]!.losses, run.losses, "the done report carries every loss");
  }
  const firstDone = reports.findIndex((p) => p.done);
  const inFlightBeforeDone = new Set(reports.slice(0, firstDone).filter((p) => p.step > 0).map((p) => p.label));
  assert.equal(inFlightBeforeDone.size, 2, "both runs progressed before either finished");
  runs.forEach((run) => run.model.dispose());
});

test("a failing run rejects with its label, stops the other workers and leaves no thread behind", async () => {
  const data = await smallMnist(3000, 20);
  await trainAll(specs.slice(0, 2), data, { workers: 2 }).then((runs) => runs.forEach((run) => run.model.dispose()));
  assert.equal(idleWorkers(), 2, "the warm-up sweep's workers wait for the next sweep");
  await closeWorkers();
  const baseline = threads();
  const before = tf.memory().numTensors;
  // 1e38 overflows float32: that run diverges (not an error); a throwing onRun callback is one.
  await assert.rejects(
    trainAll(specs.slice(0, 2), data, { workers: 2, onRun: (run) => { throw new Error(`refused ${run.label}`); } }),
    /refused 784-32-10 sgd lr 0.1 batch 16/,
  );
  assert.equal(tf.memory().numTensors, before, "the finished run's model was disposed with the failed sweep");
  assert.equal(threads(), baseline);
  assert.equal(idleWorkers(), 0, "a failed sweep keeps no worker");
  // Workers trust checked specs; a spec altered after its check still fails there, named by its label.
  const checked = checkDataset(data);
  const bad = checkSpec({ layers: [784, 10] }, checked, "spec");
  await assert.rejects(
    trainInWorkers([checkSpec(specs[0]!, checked, "spec"), { ...bad, label: "bad one", layers: [784, 0] }], checked, { workers: 2 }),
    /run "bad one": layers\[1\]: expected a positive integer number of units, got 0/,
  );
  assert.equal(threads(), baseline);
});

test("aborting a sweep terminates its workers before it rejects: no thread outlives it", async () => {
  const data = await smallMnist(20000, 20);
  const big: RunSpec[] = [0, 1, 2].map((seed) => ({ layers: [784, 64, 10], seed }));
  await trainAll(big.slice(0, 2), await smallMnist(64, 20), { workers: 2 }).then((runs) => runs.forEach((run) => run.model.dispose()));
  await closeWorkers();
  const baseline = threads();
  // Three idle workers, one more than the aborted sweep takes: the interrupt ends that one too.
  await trainAll(big, await smallMnist(64, 20), { workers: 3 }).then((runs) => runs.forEach((run) => run.model.dispose()));
  assert.equal(idleWorkers(), 3);
  const before = tf.memory().numTensors;
  const stop = new AbortController();
  const started = performance.now();
  let during = 0;
  await assert.rejects(
    trainAll(big, data, {
      workers: 2,
      signal: stop.signal,
      onProgress: (p) => {
        during = Math.max(during, threads());
        if (p.step > 0) stop.abort(new Error("enough"));
      },
    }),
    /enough/,
  );
  assert.ok(performance.now() - started < 10000, "stopped long before three runs of 1,250 steps could finish");
  assert.ok(during >= baseline + 2, `two workers ran (${during} threads during, ${baseline} before)`);
  assert.equal(threads(), baseline, "the sweep's workers and the idle ones ended");
  assert.equal(idleWorkers(), 0);
  assert.equal(tf.memory().numTensors, before);
  await assert.rejects(trainAll(big, data, { signal: AbortSignal.abort(new Error("never started")) }), /never started/);
});

test("a second sweep trains on the first sweep's idle workers and gives the same bits", async () => {
  const data = await smallMnist(2000, 100);
  await closeWorkers();
  const first = await trainAll(specs, data, { workers: 2 });
  assert.equal(idleWorkers(), 2);
  let idleDuring = -1;
  const second = await trainAll(specs, data, { workers: 2, onProgress: (p) => { if (p.step > 0) idleDuring = Math.max(idleDuring, idleWorkers()); } });
  assert.equal(idleDuring, 0, "both idle workers were taken: none started");
  assert.equal(idleWorkers(), 2, "and they wait again");
  first.forEach((run, i) => {
    assert.ok(bits(run.losses).equals(bits(second[i]!.losses)), `${run.label}: losses bit for bit`);
    assert.ok(bits(run.model.weights(0).kernel).equals(bits(second[i]!.model.weights(0).kernel)), `${run.label}: weights`);
  });
  // Another dataset object: the jobs bring their data, so the same workers train on it.
  const other = await trainAll(specs.slice(0, 1), await smallMnist(1000, 100), { workers: 2 });
  assert.notEqual(other[0]!.steps, first[0]!.steps);
  assert.equal(idleWorkers(), 2, "one worker used, one left waiting");
  [...first, ...second, ...other].forEach((run) => run.model.dispose());
  await closeWorkers();
});

test("idle workers end after MIE_WORKER_IDLE_SECONDS, at once with 0; a bad value is named before training", async (t) => {
  const saved = process.env.MIE_WORKER_IDLE_SECONDS;
  t.after(() => (saved === undefined ? delete process.env.MIE_WORKER_IDLE_SECONDS : (process.env.MIE_WORKER_IDLE_SECONDS = saved)));
  const data = await smallMnist(640, 20);
  await closeWorkers();
  const baseline = threads();
  process.env.MIE_WORKER_IDLE_SECONDS = "0";
  await trainAll(specs.slice(0, 2), data, { workers: 2 }).then((runs) => runs.forEach((run) => run.model.dispose()));
  assert.deepEqual([idleWorkers(), threads()], [0, baseline], "0: the workers ended with their sweep");
  process.env.MIE_WORKER_IDLE_SECONDS = "0.3";
  await trainAll(specs.slice(0, 2), data, { workers: 2 }).then((runs) => runs.forEach((run) => run.model.dispose()));
  assert.equal(idleWorkers(), 2);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  assert.deepEqual([idleWorkers(), threads()], [0, baseline], "they ended after 0.3 s without a sweep");
  process.env.MIE_WORKER_IDLE_SECONDS = "soon";
  assert.throws(() => workerIdleSeconds(), /MIE_WORKER_IDLE_SECONDS: expected a number of seconds ≥ 0, got "soon"/);
  await assert.rejects(trainAll(specs.slice(0, 2), data, { workers: 2 }), /MIE_WORKER_IDLE_SECONDS: expected a number of seconds ≥ 0, got "soon"/);
  assert.equal(threads(), baseline);
});

test("idle workers never keep a script alive: it ends when its work does", async () => {
  const script = `
    const { trainAll } = require("./lib/runs/sweep");
    const { loadMnist } = require("./lib/data/data");
    loadMnist({ train: { first: 640 }, test: { first: 20 } })
      .then((data) => trainAll([{ layers: [784, 10] }, { layers: [784, 10], seed: 1 }], data, { workers: 2 }))
      .then(() => console.log(require("./lib/runs/pool").idleWorkers() + " idle"));`;
  const started = performance.now();
  const child = spawn(process.execPath, ["--import", "tsx", "-e", script], { cwd: join(__dirname, ".."), stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, MIE_WORKER_IDLE_SECONDS: "600" } });
  let output = "";
  child.stdout.on("data", (chunk) => (output += chunk));
  child.stderr.on("data", (chunk) => (output += chunk));
  const timer = setTimeout(() => child.kill(), 120_000);
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  clearTimeout(timer);
  assert.equal(code, 0, output);
  assert.match(output, /2 idle/);
  assert.ok(performance.now() - started < 120_000, "ended on its own, long before the 600 s idle time");
});
