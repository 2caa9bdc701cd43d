/**
 * `findLr`, the learning-rate range test: one seeded run whose rate rises exponentially every step, read as loss
 * against rate with a suggestion; stored and read back like any run.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { mlp } from "../lib/model/model";
import { findLr } from "../lib/runs/lr-finder";
import { resolveSettings } from "../lib/train/settings";
import { lrFinderFigure } from "../lib/figures/lr-finder";
import { smallMnist } from "./helpers/small-mnist";

const bits = (values: Float32Array): Buffer => Buffer.from(values.buffer, values.byteOffset, values.byteLength);

test("the rate rises exponentially from `from` to `to`, the loss is read against it, and the suggestion is a tenth of the smoothed minimum's rate", async () => {
  const data = await smallMnist(2000, 100);
  const before = tf.memory().numTensors;
  const found = await findLr(mlp([784, 10], { seed: 0 }), data, { from: 1e-4, to: 100, steps: 100, store: "off" });
  assert.equal(found.run.steps, 100);
  assert.equal(found.rates.length, 100);
  assert.ok(Math.abs(found.rates[0]! - 1e-4) < 1e-12 && Math.abs(found.rates[99]! - 100) < 1e-9, `${found.rates[0]} … ${found.rates[99]}`);
  assert.ok(Math.abs(found.rates[50]! / found.rates[49]! - found.rates[1]! / found.rates[0]!) < 1e-9, "the same factor every step");
  assert.ok(Number.isNaN(found.run.accuracy), "not evaluated on the test split");
  const window = found.smoothed.slice(0, found.usable);
  const lowestAt = window.indexOf(Math.min(...window));
  assert.equal(found.lowest, found.rates[lowestAt]);
  assert.equal(found.suggestion, found.lowest / 10);
  assert.match(found.rule, /a tenth of the rate where the smoothed loss is lowest/);
  // On the first 1,600 images the loss of a fresh 784-10 net falls, then rises past 4x its low before lr 100.
  assert.ok(found.smoothed[lowestAt]! < found.smoothed[0]! - 0.2, `the loss fell: ${found.smoothed[0]} to ${found.smoothed[lowestAt]}`);
  assert.ok(found.usable < 100, `the climb was cut at step ${found.usable}`);
  found.run.model.dispose();
  assert.equal(tf.memory().numTensors, before);
});

test("seeded and stored like any run: the same call gives the same bits, and the second comes from the store", async () => {
  const data = await smallMnist(2000, 100);
  const folder = mkdtempSync(join(tmpdir(), "mie-lr-find-"));
  try {
    const first = await findLr(mlp([784, 10], { seed: 3 }), data, { steps: 50, store: folder });
    const again = await findLr(mlp([784, 10], { seed: 3 }), data, { steps: 50, store: folder });
    assert.equal(first.run.stored, undefined);
    assert.ok(again.run.stored, "read from the store");
    assert.ok(bits(again.run.losses).equals(bits(first.run.losses)));
    assert.equal(again.suggestion, first.suggestion);
    assert.deepEqual(again.run.settings.lrRange, { from: 1e-5, to: 10 });
    const fresh = await findLr(mlp([784, 10], { seed: 3 }), data, { steps: 50, store: "off" });
    assert.ok(bits(fresh.run.losses).equals(bits(first.run.losses)), "retraining gives the stored numbers");
    [first, again, fresh].forEach((found) => found.run.model.dispose());
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});

test("bad input names the option and what was expected", async () => {
  const data = await smallMnist(500, 100);
  await assert.rejects(findLr(mlp([784, 10]), data, { steps: 5 }), /findLr: options\.steps: expected an integer >= 10/);
  await assert.rejects(findLr(mlp([784, 10]), data, { steps: 100, batchSize: 16 }), /findLr: 100 steps of 16 need 1600 training images; the data has 500/);
  await assert.rejects(findLr(mlp([784, 10]), data, { steps: 10, from: 1, to: 0.1 }), /lrRange\.to: expected a finite number above from \(1\), got 0\.1/);
  assert.throws(() => resolveSettings({ lrRange: { from: 1e-5, to: 1 }, lr: 0.1 }), /lr: the range test starts at lrRange\.from/);
  assert.throws(() => resolveSettings({ lrRange: { from: 1e-5, to: 1 }, epochs: 2, lrDecay: { factor: 0.5, every: 1 } }), /cannot be combined with lrDecay/);
});

test("the chart: loss against rate on a log axis, the suggestion drawn, the rule in the subtitle, nothing past the cut", () => {
  const rates = Array.from({ length: 20 }, (_, i) => 1e-3 * 10 ** (i / 4));
  const losses = rates.map((_, i) => (i < 12 ? 2.3 - 0.15 * i : 2 * (i - 10)));
  const fig = lrFinderFigure({ label: "toy", rates, losses, smoothed: losses, usable: 15, lowest: rates[11]!, suggestion: rates[11]! / 10, rule: "a tenth of …" });
  const [raw, , lowest, suggestion] = fig.data as { x: number[]; y: (number | null)[] }[];
  assert.equal(raw!.x.length, 15, "drawn up to the cut");
  assert.deepEqual(lowest!.x, [rates[11]]);
  assert.deepEqual(suggestion!.x, [rates[11]! / 10, rates[11]! / 10]);
  assert.equal((fig.layout.xaxis as { type: string }).type, "log");
  assert.match(JSON.stringify(fig.layout.title), /suggested: a tenth of …/);
  assert.match(JSON.stringify(fig.layout.title), /<br>after step 15 of 20/);
  assert.throws(() => lrFinderFigure({ label: "x", rates: [1], losses: [], smoothed: [], usable: 1, lowest: 1, suggestion: 0.1, rule: "" }), /expected \{ rates, losses, smoothed \} of one length/);
});
