/**
 * The run store: a stored run is the run (a retrain gives it back to the bit, on each backend the runs use), a
 * damaged entry is named and retrained, never loaded, and the store's folder and modes follow MIE_RUNS / `store`.
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, truncateSync, utimesSync, writeFileSync, readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/engine/backend";
import { mlp } from "../lib/model/model";
import { snapshotModel } from "../lib/model/snapshot";
import { closeWorkers } from "../lib/runs/pool";
import type { RunSpec } from "../lib/runs/spec";
import { trainAll } from "../lib/runs/sweep";
import { resolveStore, runStoreFolder, train } from "../lib/runs/train-with-store";
import { removeAbandonedWrites } from "../lib/saved/run-store";
import type { Progress } from "../lib/train/progress";
import type { Run } from "../lib/train/loop";
import { smallMnist } from "./helpers/small-mnist";

before(async () => {
  await initBackend();
});

const entries = (folder: string): string[] => readdirSync(folder).filter((name) => !name.startsWith("."));

function tempStore(t: { after: (fn: () => void) => void }): string {
  const folder = mkdtempSync(join(tmpdir(), "mie-run-store-"));
  t.after(() => rmSync(folder, { recursive: true, force: true }));
  return folder;
}

/** Every number of a run and every bit of its weights, for comparing two runs exactly. */
function bits(run: Run): unknown {
  const { model, seconds: _s, samplesPerSecond: _r, evalSeconds: _e, stored: _m, ...numbers } = run;
  const weights = snapshotModel(model).params.map(({ values, layout }) => ({ layout, bytes: Buffer.from(values.buffer).toString("base64") }));
  return { ...numbers, losses: Buffer.from(run.losses.buffer, run.losses.byteOffset, run.losses.byteLength).toString("base64"), weights };
}

test("a stored run equals a retrain of its spec to the bit, on each backend the runs train on", async (t) => {
  const folder = tempStore(t);
  const data = await smallMnist(512, 100);
  // Under "auto" with tfjs-node installed the small run trains on wasm and the big one (102M multiply-adds a step)
  // on tfjs-node; with MIE_BACKEND set (CI runs the unit tests on each backend alone) both train on that one.
  const specs: RunSpec[] = [
    { layers: [784, 10], seed: 2, lr: 0.1, evalEvery: 8, shuffle: true },
    { layers: [784, 1000, 10], seed: 1, lr: 0.01, optimizer: "adam", batchSize: 128 },
  ];
  const trained = await trainAll(specs, data, { workers: 2, store: folder }); // in workers, stored by this thread
  await closeWorkers();
  assert.ok(trained.every((run) => run.stored === undefined));
  const hits = await trainAll(specs, data, { workers: 1, store: folder });
  const retrained = await withEnv("MIE_RUNS", "fresh", () => withCwd(folder, () => trainAll(specs, data, { workers: 1 })));
  assert.equal(entries(join(folder, ".mie-runs")).length, specs.length, "fresh retrains, and stores what it trained (in the default folder)");
  for (const [i, hit] of hits.entries()) {
    assert.ok(hit.stored, `${hit.label}: from the store`);
    assert.equal(retrained[i]!.stored, undefined, `${hit.label}: "fresh" retrains`);
    assert.equal(hit.backend, retrained[i]!.backend);
    assert.deepEqual(bits(hit), bits(retrained[i]!), `${hit.label} on ${hit.backend}: the stored run is the retrained one, to the bit`);
    assert.deepEqual(bits(hit), bits(trained[i]!), `${hit.label}: and the one trained in a worker`);
    t.diagnostic(`${hit.label}: identical on ${hit.backend}`);
  }
  [...trained, ...hits, ...retrained].forEach((run) => run.model.dispose());
});

test("train with a stored run: the caller's model gets the trained weights, one done report with the whole curve, no tensor leaks", async (t) => {
  const folder = tempStore(t);
  const data = await smallMnist(256, 50);
  const first = await train(mlp([784, 10], { seed: 4 }), data, { lr: 0.2, store: folder });
  const before = tf.memory().numTensors;
  const model = mlp([784, 10], { seed: 4 });
  const reports: Progress[] = [];
  const start = performance.now();
  const hit = await train(model, data, { lr: 0.2, store: folder, onProgress: (p) => reports.push(p), label: "again" });
  t.diagnostic(`a stored run in ${(performance.now() - start).toFixed(0)} ms`);
  assert.equal(hit.model, model, "the model passed in is the model returned, now trained");
  assert.equal(model.trainedSteps, first.steps);
  assert.deepEqual(model.predict(data.test).classes, first.model.predict(data.test).classes);
  assert.equal(hit.label, "again");
  assert.equal(hit.settings.label, "again");
  assert.equal(reports.length, 1);
  assert.equal(reports[0]!.done, true);
  assert.equal(reports[0]!.stored, hit.stored);
  assert.equal(reports[0]!.losses.length, first.steps, "the whole curve at once");
  assert.deepEqual(Object.keys(hit.stored!).sort(), ["at", "backend", "entry", "host", "seconds"]);
  assert.equal(hit.stored!.seconds, first.seconds, "the seconds it took when it trained");
  await assert.rejects(train(model, data, { lr: 0.2, store: folder }), /model already trained for 16 steps/, "the loop's own checks still apply");
  hit.model.dispose();
  assert.equal(tf.memory().numTensors, before, "a hit makes only the model's own tensors");
  first.model.dispose();
});

test("a damaged entry is named on stderr, retrained and replaced, never loaded", async (t) => {
  const folder = tempStore(t);
  const data = await smallMnist(128, 20);
  const spec: RunSpec = { layers: [784, 10], seed: 5, lr: 0.1 };
  const [original] = await trainAll([spec], data, { workers: 1, store: folder });
  const [entry] = entries(folder);
  const damages: [string, () => void][] = [
    ["weights.bin", () => truncateSync(join(folder, entry!, "weights.bin"), 100)],
    ["run.json", () => writeFileSync(join(folder, entry!, "run.json"), readFileSync(join(folder, entry!, "run.json"), "utf8").replace('"accuracy":', '"accuracy":1'))],
    ["entry.json", () => writeFileSync(join(folder, entry!, "entry.json"), "{ not json")],
    ["weights.bin", () => rmSync(join(folder, entry!, "weights.bin"))],
  ];
  for (const [file, damage] of damages) {
    damage();
    const warn = t.mock.method(console, "warn", () => undefined);
    const [run] = await trainAll([spec], data, { workers: 1, store: folder });
    warn.mock.restore();
    assert.equal(run!.stored, undefined, `a damaged ${file} is not loaded`);
    assert.equal(warn.mock.callCount(), 1);
    const message = String(warn.mock.calls[0]!.arguments[0]);
    assert.ok(message.includes(join(folder, entry!, file)) && message.includes("training the run again"), message);
    assert.equal(run!.accuracy, original!.accuracy);
    const [hit] = await trainAll([spec], data, { workers: 1, store: folder });
    assert.ok(hit!.stored, `the retrained run replaced the damaged entry (${file})`);
    assert.deepEqual(entries(folder), [entry]);
    [run, hit].forEach((r) => r!.model.dispose());
  }
  original!.model.dispose();
});

test("a killed writer's temporary entry is removed; a live writer's is left alone unless it is over an hour old", async (t) => {
  const folder = tempStore(t);
  const gone = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" }).stdout;
  const temporary = (pid: number | string, tag: string): string => {
    const name = `.${"ab".repeat(32)}.${pid}.${tag}.tmp`;
    mkdirSync(join(folder, name));
    writeFileSync(join(folder, name, "run.json"), "{");
    return name;
  };
  const killed = temporary(gone, "00000001");
  const live = temporary(process.pid, "00000002");
  const stale = temporary(process.pid, "00000003");
  const hoursAgo = new Date(Date.now() - 2 * 3600_000);
  utimesSync(join(folder, stale), hoursAgo, hoursAgo);
  writeFileSync(join(folder, ".not-ours.tmp"), "");
  assert.equal(await removeAbandonedWrites(folder), 2);
  assert.deepEqual(readdirSync(folder).sort(), [".not-ours.tmp", live].sort(), `left: ${killed} and ${stale} are gone`);
  assert.equal(await removeAbandonedWrites(join(folder, "absent")), 0, "a store folder not made yet has nothing to remove");
});

test("MIE_RUNS and the store option: a folder, off, fresh, fresh:FOLDER (fresh keeps a named folder); the default folder is the project's .mie-runs", async (t) => {
  const data = await smallMnist(64, 10);
  const folder = tempStore(t);
  const spec: RunSpec = { layers: [784, 10], batchSize: 32 };
  await withEnv("MIE_RUNS", folder, async () => {
    const [run] = await trainAll([spec], data, { workers: 1 });
    assert.equal(entries(folder).length, 1, "MIE_RUNS=<folder> stores there");
    const [off] = await trainAll([spec], data, { workers: 1, store: "off" });
    assert.equal(off!.stored, undefined, "the option wins over the environment");
    const [fresh] = await trainAll([spec], data, { workers: 1, store: folder });
    assert.ok(fresh!.stored);
    [run, off, fresh].forEach((r) => r!.model.dispose());
  });
  assert.equal(resolveStore(undefined, "train"), null, "off by default under node --test");
  assert.equal(resolveStore("off", "train"), null);
  assert.throws(() => resolveStore(3 as unknown as string, "train"), /train: store: expected a folder, "off", "fresh" or "fresh:FOLDER", got 3/);
  assert.throws(() => resolveStore("", "trainAll"), /trainAll: store: expected a folder, "off", "fresh" or "fresh:FOLDER", got an empty string/);
  assert.throws(() => resolveStore("fresh:", "train"), /train: store: expected a folder, "off", "fresh" or "fresh:FOLDER", got "fresh:" with no folder after it/);
  assert.deepEqual(resolveStore(`fresh:${folder}`, "train"), { folder, fresh: true }, "fresh:FOLDER retrains into that folder");
  await withEnv("MIE_RUNS", `fresh:${folder}`, async () => {
    assert.deepEqual(resolveStore(undefined, "train"), { folder, fresh: true }, "MIE_RUNS=fresh:FOLDER, as npm run reports -- --fresh passes a named folder");
  });
  await withEnv("MIE_RUNS", folder, async () => {
    assert.deepEqual(resolveStore("fresh", "train"), { folder, fresh: true }, "the option fresh retrains into the folder MIE_RUNS names, not the default");
    const [retrained] = await trainAll([spec], data, { workers: 1, store: "fresh" });
    assert.equal(retrained!.stored, undefined, "fresh trains although the run is in that folder");
    assert.equal(entries(folder).length, 1, "and stores it there again, under the same key");
    retrained!.model.dispose();
  });

  const project = realpathSync(tempStore(t));
  writeFileSync(join(project, "package.json"), "{}");
  mkdirSync(join(project, "notebooks"));
  const outside = realpathSync(tempStore(t));
  const cwd = process.cwd();
  t.after(() => process.chdir(cwd));
  await withEnv("NODE_TEST_CONTEXT", undefined, async () => {
    process.chdir(join(project, "notebooks"));
    assert.equal(runStoreFolder(), join(project, ".mie-runs"), "a notebook in the project: the project's folder");
    assert.deepEqual(resolveStore("fresh", "train"), { folder: join(project, ".mie-runs"), fresh: true });
    process.chdir(outside);
    assert.equal(runStoreFolder(), join(outside, ".mie-runs"), "a notebook outside any project: beside it");
  });
});

/** Run `body` in another working folder (a "fresh" store is the default folder, found from there). */
async function withCwd<T>(folder: string, body: () => Promise<T>): Promise<T> {
  const cwd = process.cwd();
  process.chdir(folder);
  try {
    return await body();
  } finally {
    process.chdir(cwd);
  }
}

async function withEnv<T>(name: string, value: string | undefined, body: () => Promise<T>): Promise<T> {
  const saved = process.env[name];
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
  try {
    return await body();
  } finally {
    if (saved === undefined) delete process.env[name];
    else process.env[name] = saved;
  }
}
