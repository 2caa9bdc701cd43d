import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/engine/backend";
import {
  accuracyPeak, bestRun, curveSummary, predictionAgreement, initialWeights, largestWeight, misclassified, predictedClasses, predictionCounts, seedSpread, weightChange,
} from "../lib/results/analysis";
import { mlp, modelFromWeights, type LayerWeights } from "../lib/model/model";
import { resolveSettings } from "../lib/train/settings";
import { train, type AnyRun, type Run } from "../lib/train/loop";
import type { NetworkModel } from "../lib/model/network-model";
import { accuracy } from "../lib/math/metrics";
import { smallMnist } from "./helpers/small-mnist";

before(async () => {
  await initBackend();
});

/** A finished run as far as the analysis reads it: label, accuracy, model settings and training settings. */
function fakeRun(label: string, accuracy: number, layers: number[], lr: number, seed: number): Run {
  const settings = { ...resolveSettings({ lr }), label };
  return { label, accuracy, layers, init: "torch", seed, settings, model: { seed } } as unknown as Run;
}

test("misclassified lists the first wrong test images of a run or a model, with every prediction", async () => {
  const data = await smallMnist(200, 100);
  const run = await train(mlp([784, 10], { seed: 1 }), data, { lr: 0.1 });
  const tensors = tf.memory().numTensors;
  const { classes } = run.model.predict(data.test);
  const expected = [...classes.keys()].filter((i) => classes[i] !== data.test.labels[i]).slice(0, 5);
  assert.ok(expected.length === 5, "a 200-image model should get at least 5 of 100 test images wrong");
  const wrong = misclassified(run, data.test, 5);
  assert.deepEqual(wrong.indices, expected);
  assert.deepEqual(wrong.predictions, classes);
  assert.deepEqual(misclassified(run.model, data.test, 5).indices, expected);
  assert.equal(misclassified(run, data.test, 1000).indices.length, [...classes.keys()].filter((i) => classes[i] !== data.test.labels[i]).length);
  assert.equal(tf.memory().numTensors, tensors, "no tensors leaked");
  assert.throws(() => misclassified(run, data.test, 0), /misclassified: count must be a positive integer, got 0/);
  run.model.dispose();
});

test("predictionCounts sums the confusion matrix's columns; predictedClasses keeps the classes predicted at all", () => {
  const run = { confusion: [[5, 0, 1], [2, 0, 0], [0, 0, 4]] };
  assert.deepEqual(predictionCounts(run), [7, 0, 5]);
  assert.deepEqual(predictedClasses(run), [0, 2]);
  assert.deepEqual(predictedClasses({ confusion: [[0, 3], [0, 2]] }), [1]);
  assert.throws(() => predictionCounts({ confusion: [] }), /no confusion matrix/);
});

test("largestWeight is the largest |kernel value|, biases left out", () => {
  const weights: LayerWeights = { shape: [2, 2], kernel: Float32Array.of(0.1, -0.7, 0.3, 0.2), bias: Float32Array.of(5, -9) };
  assert.equal(largestWeight(weights), Math.fround(0.7));
});

test("initialWeights rebuilds a trained model's start from its init and seed, without leaking", async () => {
  const data = await smallMnist(64, 10);
  const model = mlp([784, 20, 10], { init: "glorot", seed: 7 });
  const start = model.weights(0);
  const run = await train(model, data, { lr: 0.5, evaluate: false });
  assert.notDeepEqual(run.model.weights(0).kernel, start.kernel, "training moved the weights");
  const tensors = tf.memory().numTensors;
  assert.deepEqual(initialWeights(run.model, 0), start);
  assert.notDeepEqual(initialWeights(mlp([784, 20, 10], { seed: 7 }), 0).kernel, start.kernel, "the default init differs from glorot");
  assert.equal(tf.memory().numTensors, tensors, "the rebuilt start model is disposed");
  assert.throws(() => initialWeights(modelFromWeights([start]), 0), /built with modelFromWeights/);
  run.model.dispose();
});

test("weightChange measures each unit's move relative to its start, with the median and the unmoved count", () => {
  // Two inputs, three units: unit 0 stays, unit 1 doubles (moves 1× its size), unit 2 moves by 0.5%.
  const before: LayerWeights = { shape: [2, 3], kernel: Float32Array.of(1, 2, 4, 1, 2, 4), bias: new Float32Array(3) };
  const after: LayerWeights = { shape: [2, 3], kernel: Float32Array.of(1, 4, 4.02, 1, 4, 4.02), bias: new Float32Array(3) };
  const moved = weightChange(before, after);
  assert.equal(moved.perUnit[0], 0);
  assert.ok(Math.abs(moved.perUnit[1]! - 1) < 1e-6);
  assert.ok(Math.abs(moved.perUnit[2]! - 0.005) < 1e-5);
  assert.ok(Math.abs(moved.median - 0.005) < 1e-5);
  assert.equal(moved.unmoved, 2);
  assert.equal(weightChange(before, after, 0.001).unmoved, 1);
  assert.throws(() => weightChange(before, { ...after, shape: [3, 2] }), /before is 2×3 but after is 3×2/);
});

test("bestRun picks the most accurate run among those a predicate or a settings filter keeps", () => {
  const runs = [
    fakeRun("a", 95.2, [784, 500, 10], 0.5, 0),
    fakeRun("b", 97.1, [784, 500, 10], 0.1, 0),
    fakeRun("c", 97.6, [784, 500, 500, 10], 0.1, 0),
  ];
  assert.equal(bestRun(runs).label, "c");
  assert.equal(bestRun(runs, { layers: [784, 500, 10] }).label, "b");
  assert.equal(bestRun(runs, { layers: [784, 500, 10], lr: 0.5 }).label, "a");
  assert.equal(bestRun(runs, (run) => run.accuracy < 96).label, "a");
  assert.throws(() => bestRun(runs, { layers: [784, 10] }), /bestRun: no run matches \{"layers":\[784,10\]\} among 3 runs/);
  // Networks' runs too (their layers are short names), returned with their own type.
  const net = { ...fakeRun("net", 99.1, [], 0.001, 0), layers: ["conv8@5", "pool2", "10"] } as unknown as Run<NetworkModel>;
  const best: Run<NetworkModel> = bestRun([net]);
  assert.equal(best, net);
  const mixed: AnyRun[] = [...runs, net];
  assert.equal(bestRun(mixed).label, "net");
  assert.equal(bestRun(mixed, { layers: [784, 500, 10] }).label, "b");
});

test("seedSpread groups runs by a setting, in order, with each group's min, max, spread and mean", () => {
  const runs = [
    fakeRun("lr 0.5 seed 0", 95, [784, 500, 10], 0.5, 0),
    fakeRun("lr 0.5 seed 1", 93.5, [784, 500, 10], 0.5, 1),
    fakeRun("lr 0.1 seed 0", 96.25, [784, 500, 10], 0.1, 0),
    fakeRun("lr 0.1 seed 1", 96.75, [784, 500, 10], 0.1, 1),
  ];
  assert.deepEqual(seedSpread(runs, "lr"), [
    { value: 0.5, runs: 2, min: 93.5, max: 95, spread: 1.5, mean: 94.25 },
    { value: 0.1, runs: 2, min: 96.25, max: 96.75, spread: 0.5, mean: 96.5 },
  ]);
  assert.equal(seedSpread(runs, "layers").length, 1);
  assert.throws(() => seedSpread([], "lr"), /at least one run/);
  const withoutModels = runs.map(({ model: _model, ...saved }) => saved);
  assert.deepEqual(seedSpread(withoutModels, "lr"), seedSpread(runs, "lr"), "runs loaded from a file (no model) group alike");
});

test("accuracyPeak finds where the curve stopped improving (the earliest best point), in steps and epochs", () => {
  const settings = resolveSettings({ epochs: 3, evalEvery: 50 });
  const curve = (accuracies: number[]) => ({
    label: "r", steps: 300, settings: { ...settings, label: "r" }, diverged: null,
    evaluations: accuracies.map((accuracy, i) => ({ step: 50 * (i + 1), accuracy })),
  });
  assert.deepEqual(accuracyPeak(curve([90, 93, 95, 95, 94.5, 94])), { step: 150, epoch: 1.5, accuracy: 95, final: 94, atEnd: false });
  assert.deepEqual(accuracyPeak(curve([90, 93, 94, 95, 96, 97])), { step: 300, epoch: 3, accuracy: 97, final: 97, atEnd: true });
  assert.ok(Number.isNaN(accuracyPeak({ ...curve([90, 80]), diverged: { step: 120, loss: NaN } }).epoch));
  assert.throws(() => accuracyPeak(curve([])), /accuracyPeak: run "r" has no accuracy curve: train it with evalEvery/);
});

test("curveSummary puts a run's curve in one row: its peak, its final accuracy and what measuring cost", () => {
  const settings = { ...resolveSettings({ epochs: 2, evalEvery: 50 }), label: "r" };
  const run = {
    label: "r", accuracy: 94, steps: 200, settings, diverged: null, seconds: 10, evalSeconds: 0.5,
    evaluations: [{ step: 50, accuracy: 90 }, { step: 100, accuracy: 95 }, { step: 150, accuracy: 94.5 }, { step: 200, accuracy: 94 }],
  };
  assert.deepEqual(curveSummary(run), {
    label: "r", accuracy: 94, points: 4, seconds: 10, evalSeconds: 0.5, extraPercent: 5,
    peak: { step: 100, epoch: 1, accuracy: 95, final: 94, atEnd: false },
  });
  assert.ok(Number.isNaN(curveSummary({ ...run, seconds: 0 }).extraPercent), "no share of a run that took no time");
  assert.throws(() => curveSummary({ ...run, evaluations: [] }), /run "r" has no accuracy curve/);
});

test("predictionAgreement finds the images two models classify differently, and each one's accuracy", async () => {
  const data = await smallMnist(100, 50);
  const before = tf.memory().numTensors;
  const [a, b] = [mlp([784, 10], { seed: 1 }), mlp([784, 10], { seed: 2 })];
  const copy = modelFromWeights([a.weights(0)]);
  const same = predictionAgreement(a, copy, data.test);
  assert.deepEqual(same.differing, []);
  assert.equal(same.images, 50);
  assert.equal(same.accuracies[0], same.accuracies[1]);
  const other = predictionAgreement(a, b, data.test);
  const [pa, pb] = [a.predict(data.test).classes, b.predict(data.test).classes];
  assert.deepEqual(other.differing, [...pa.keys()].filter((i) => pa[i] !== pb[i]));
  assert.ok(other.differing.length > 0, "two seeds of an untrained model disagree somewhere");
  assert.deepEqual(other.accuracies, [accuracy(pa, data.test.labels), accuracy(pb, data.test.labels)]);
  [a, b, copy].forEach((model) => model.dispose());
  assert.equal(tf.memory().numTensors, before);
});
