import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/engine/backend";
import { evaluationSplits } from "../lib/train/evaluations";
import { accuracy } from "../lib/math/metrics";
import { mlp } from "../lib/model/model";
import { loadRuns, saveRuns } from "../lib/saved/runs-io";
import { trainAll } from "../lib/runs/sweep";
import { train } from "../lib/train/loop";
import type { Progress } from "../lib/train/progress";
import { smallMnist } from "./helpers/small-mnist";

const folder = mkdtempSync(join(tmpdir(), "mie-evaluations-"));

before(async () => {
  await initBackend();
});
after(() => rmSync(folder, { recursive: true, force: true }));

test("evalEvery measures every N steps and after the last; the last point is the final test accuracy", async () => {
  const data = await smallMnist(200, 100);
  const reports: Progress[] = [];
  // 200 images, batch 16: 13 steps; every 5 → steps 5, 10 and the last, 13.
  const run = await train(mlp([784, 10]), data, { lr: 0.1, batchSize: 16, evalEvery: 5, onProgress: (p) => reports.push(p) });
  assert.deepEqual(run.evaluations.map((point) => point.step), [5, 10, 13]);
  assert.equal(run.evaluations.at(-1)!.accuracy, run.accuracy);
  assert.ok(run.evaluations.every((point) => point.accuracy >= 0 && point.accuracy <= 100));
  assert.ok(run.evalSeconds > 0, `evalSeconds ${run.evalSeconds}`);
  const done = reports.at(-1)!;
  assert.equal(done.done, true);
  assert.deepEqual(done.evaluations, run.evaluations);
  assert.equal(done.evalSeconds, run.evalSeconds);
  run.model.dispose();
});

test("without evalEvery there is no curve and no cost; a step count that divides evenly is measured once", async () => {
  const data = await smallMnist(160, 50);
  const plain = await train(mlp([784, 10]), data, { batchSize: 16 });
  assert.deepEqual(plain.evaluations, []);
  assert.equal(plain.evalSeconds, 0);
  assert.equal(plain.settings.evalEvery, null);
  assert.equal(plain.settings.evalOn, null);
  const even = await train(mlp([784, 10]), data, { batchSize: 16, evalEvery: 5 });
  assert.deepEqual(even.evaluations.map((point) => point.step), [5, 10]);
  assert.equal(even.settings.evalOn, "test");
  plain.model.dispose();
  even.model.dispose();
});

test('evalEvery: "epoch" measures at the end of every epoch', async () => {
  const data = await smallMnist(100, 30);
  const run = await train(mlp([784, 10]), data, { batchSize: 16, epochs: 3, evalEvery: "epoch" });
  assert.deepEqual(run.evaluations.map((point) => point.step), [7, 14, 21]);
  run.model.dispose();
});

test("evalOn: { holdout: n } trains on the rest of the training split and measures on the last n images", async () => {
  const data = await smallMnist(200, 50);
  const run = await train(mlp([784, 10]), data, { lr: 0.1, batchSize: 10, evalEvery: 4, evalOn: { holdout: 60 } });
  assert.equal(run.samplesSeen, 140);
  assert.equal(run.steps, 14);
  assert.deepEqual(run.evaluations.map((point) => point.step), [4, 8, 12, 14]);
  const heldOut = evaluationSplits(data, { holdout: 60 }).curve!;
  assert.equal(heldOut.count, 60);
  assert.deepEqual(heldOut.labels, data.train.labels.subarray(140, 200));
  assert.equal(run.evaluations.at(-1)!.accuracy, accuracy(run.model.predict(heldOut).classes, heldOut.labels));
  assert.match(run.label, /holdout 60/);
  run.model.dispose();
});

test("measuring the curve leaks no tensors", async () => {
  const data = await smallMnist(120, 40);
  const before = tf.memory().numTensors;
  const run = await train(mlp([784, 20, 10]), data, { batchSize: 8, evalEvery: 3, evalOn: { holdout: 20 } });
  assert.equal(tf.memory().numTensors, before + 2, "only the model's two layers remain");
  run.model.dispose();
  assert.equal(tf.memory().numTensors, before);
});

test("bad evalEvery / evalOn values fail before training, naming the option and what is expected", async () => {
  const data = await smallMnist(100, 20);
  const model = mlp([784, 10]);
  await assert.rejects(train(model, data, { evalEvery: 0 }), /evalEvery: expected a positive integer \(steps\) or "epoch", got 0/);
  await assert.rejects(train(model, data, { evalEvery: 2.5 }), /evalEvery: expected a positive integer \(steps\) or "epoch", got 2.5/);
  await assert.rejects(train(model, data, { evalEvery: "epochs" as never }), /evalEvery: .* got "epochs"/);
  await assert.rejects(train(model, data, { evalOn: "test" }), /evalOn: only used with evalEvery/);
  await assert.rejects(train(model, data, { evalEvery: 5, evalOn: "train" as never }), /evalOn: expected "test" or \{ holdout: n \}/);
  await assert.rejects(train(model, data, { evalEvery: 5, evalOn: { holdout: 0 } }), /evalOn: expected "test" or \{ holdout: n \}/);
  await assert.rejects(train(model, data, { evalEvery: 5, evalOn: { holdout: 100 } }), /evalOn.holdout: 100 held-out images leave none of the 100/);
  await assert.rejects(
    train(model, data, { batchSize: 64, evalEvery: 5, evalOn: { holdout: 50 } }),
    /batchSize: 64 is more than the 50 training images/,
  );
  assert.equal(model.trainedSteps, 0);
  model.dispose();
});

test("the curve crosses worker threads and results files unchanged", async () => {
  const data = await smallMnist(192, 60);
  const specs = [
    { layers: [784, 10], lr: 0.1, evalEvery: 4 },
    { layers: [784, 10], lr: 0.05, evalEvery: 3, evalOn: { holdout: 32 } },
  ];
  const here = await trainAll(specs, data, { workers: 1 });
  const pooled = await trainAll(specs, data, { workers: 2 });
  assert.deepEqual(pooled.map((run) => run.evaluations), here.map((run) => run.evaluations));
  assert.deepEqual(pooled.map((run) => run.settings), here.map((run) => run.settings));
  assert.equal(here[1]!.steps, 10); // 160 images at batch 16
  const path = join(folder, "curves.json");
  await saveRuns(here, path);
  const loaded = await loadRuns(path);
  assert.deepEqual(loaded.map((run) => run.evaluations), here.map((run) => run.evaluations));
  assert.deepEqual(loaded.map((run) => run.evalSeconds), here.map((run) => run.evalSeconds));
  assert.deepEqual(loaded.map((run) => run.settings), here.map((run) => run.settings));
  [...here, ...pooled].forEach((run) => run.model.dispose());
});
