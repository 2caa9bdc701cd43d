/**
 * Early stopping (`earlyStopping: { patience, minDelta, restoreBest }`): measured on a holdout, it stops the run
 * once patience runs out, gives the model back its best measurement's weights (the same bits as a run that stopped
 * there), is part of the run's settings and store key, and refuses the test split.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { mlp } from "../lib/model/model";
import { train as trainNow } from "../lib/train/loop";
import { train } from "../lib/runs/train-with-store";
import { keyParts, runKey } from "../lib/runs/run-key";
import { resolveSettings } from "../lib/train/settings";
import { compare } from "../lib/runs/compare";
import { earlyStopSummary } from "../lib/results/analysis";
import { smallMnist } from "./helpers/small-mnist";

const bits = (values: Float32Array): Buffer => Buffer.from(values.buffer, values.byteOffset, values.byteLength);
/** 2,000 training images, the last 500 held out: 1,500 to train on, 94 steps of 16 per epoch. */
const options = { lr: 0.1, epochs: 4, evalEvery: 25, evalOn: { holdout: 500 } } as const;

test("patience runs out: the run stops there, and its model is the best measurement's, bit for bit, with that model's test accuracy", async () => {
  const data = await smallMnist(2000, 300);
  const before = tf.memory().numTensors;
  // No rise can beat the first measurement by 100 points: patience 2 runs out at the third measurement, step 75.
  const run = await trainNow(mlp([784, 32, 10]), data, { ...options, earlyStopping: { patience: 2, minDelta: 100 } });
  assert.deepEqual(run.earlyStop, { stoppedAt: 75, bestStep: 25, bestAccuracy: run.evaluations[0]!.accuracy, restored: true, totalSteps: 94 * 4 });
  assert.equal(run.steps, 75);
  assert.equal(run.losses.length, 75);
  assert.deepEqual(run.evaluations.map((point) => point.step), [25, 50, 75]);
  assert.equal(run.model.trainedSteps, 25, "the model is the one of step 25");
  // The same first 25 batches (in order, no shuffle): a run on the first 400 images alone.
  const first25 = await trainNow(mlp([784, 32, 10]), await smallMnist(400, 300), { lr: 0.1 });
  assert.equal(first25.steps, 25);
  for (const layer of [0, 1]) {
    assert.ok(bits(run.model.weights(layer).kernel).equals(bits(first25.model.weights(layer).kernel)), `layer ${layer}: the best weights, restored`);
  }
  assert.equal(run.accuracy, first25.accuracy, "test accuracy is the restored model's");
  const summary = earlyStopSummary(run);
  assert.deepEqual([summary.stoppedAfterEpoch, summary.bestEpoch, summary.savedSteps, summary.restored], [0.8, 0.27, 301, true]);
  assert.match(summary.text, /: stopped after epoch 0\.8; kept epoch 0\.27's weights \(holdout accuracy [\d.]+%\); saved 301 of 376 steps \(80%\); test accuracy/);
  assert.throws(() => earlyStopSummary(first25), /earlyStopSummary: run "784-32-10 sgd lr 0\.1 batch 16" was trained without earlyStopping/);
  run.model.dispose();
  first25.model.dispose();
  assert.equal(tf.memory().numTensors, before, "no tensor left behind (the snapshot is plain data)");
});

test("restoreBest: false keeps the last step's weights; a run whose patience never runs out takes every step", async () => {
  const data = await smallMnist(2000, 300);
  const last = await trainNow(mlp([784, 32, 10]), data, { ...options, earlyStopping: { patience: 2, minDelta: 100, restoreBest: false } });
  assert.equal(last.model.trainedSteps, 75);
  assert.equal(last.earlyStop!.restored, false);
  const patient = await trainNow(mlp([784, 32, 10]), data, { ...options, epochs: 1, earlyStopping: { patience: 1000 } });
  assert.equal(patient.earlyStop!.stoppedAt, null);
  assert.equal(patient.steps, 94);
  const best = patient.evaluations.reduce((a, b) => (b.accuracy > a.accuracy ? b : a));
  assert.equal(patient.earlyStop!.bestStep, best.step, "the first of the best measurements");
  assert.equal(patient.model.trainedSteps, best.step);
  [last, patient].forEach((run) => run.model.dispose());
});

test("bad input: each mistake is named, with what was expected", () => {
  assert.throws(() => resolveSettings({ earlyStopping: { patience: 2 } }), /^RangeError: earlyStopping: needs an accuracy curve to watch: set evalEvery/);
  assert.throws(() => resolveSettings({ evalEvery: 10, earlyStopping: { patience: 2 } }), /earlyStopping: measured on the test split.*evalOn: \{ holdout: n \}/);
  const held = { evalEvery: 10, evalOn: { holdout: 100 } } as const;
  assert.throws(() => resolveSettings({ ...held, earlyStopping: { patience: 0 } }), /earlyStopping\.patience: expected a positive integer .* got 0/);
  assert.throws(() => resolveSettings({ ...held, earlyStopping: { patience: 2, minDelta: -1 } }), /earlyStopping\.minDelta: expected a number >= 0/);
  assert.throws(() => resolveSettings({ ...held, earlyStopping: { patience: 2, wait: 3 } as never }), /earlyStopping: unknown key wait/);
  assert.deepEqual(resolveSettings({ ...held, earlyStopping: { patience: 2 } }).earlyStopping, { patience: 2, minDelta: 0, restoreBest: true });
});

test("part of the run's settings, label and store key; a run without it keeps its old key; a stored run is the retrained one", async () => {
  const data = await smallMnist(2000, 300);
  const backend = { name: "wasm", detail: "SIMD" };
  const model = { layers: [784, 32, 10], init: "torch", seed: 0 };
  const plain = keyParts(resolveSettings(options), model, data, backend);
  assert.equal("earlyStopping" in plain.settings, false, "no early stopping: not in the key at all");
  const stopping = keyParts(resolveSettings({ ...options, earlyStopping: { patience: 2 } }), model, data, backend);
  const patient = keyParts(resolveSettings({ ...options, earlyStopping: { patience: 3 } }), model, data, backend);
  assert.equal(new Set([runKey(plain), runKey(stopping), runKey(patient)]).size, 3);
  const folder = mkdtempSync(join(tmpdir(), "mie-early-"));
  try {
    const spec = { ...options, earlyStopping: { patience: 2, minDelta: 100 }, store: folder };
    const trained = await train(mlp([784, 32, 10]), data, spec);
    assert.match(trained.label, /early stopping \(patience 2, min delta 100\)/);
    const stored = await train(mlp([784, 32, 10]), data, spec);
    assert.ok(stored.stored, "the second call reads the store");
    assert.deepEqual(stored.earlyStop, trained.earlyStop);
    assert.ok(bits(stored.model.weights(0).kernel).equals(bits(trained.model.weights(0).kernel)));
    assert.equal(stored.model.trainedSteps, 25);
    [trained, stored].forEach((run) => run.model.dispose());
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});

test("compare can vary it, and labels the runs by it", async () => {
  const data = await smallMnist(2000, 300);
  const runs = await compare({ layers: [784, 16, 10], ...options, epochs: 1 }, { earlyStopping: [{ patience: 1, minDelta: 100 }, { patience: 2, minDelta: 100 }] }, data, { workers: 1, store: "off" });
  assert.deepEqual(runs.map((run) => run.label), ["early stopping (patience 1, min delta 100)", "early stopping (patience 2, min delta 100)"]);
  assert.deepEqual(runs.map((run) => run.steps), [50, 75]);
  runs.forEach((run) => run.model.dispose());
});
