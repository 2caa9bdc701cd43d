import { test } from "node:test";
import assert from "node:assert/strict";
import { accuracy, argmaxRows, confusionMatrix, finalAverage, movingAverage, perClassAccuracy } from "../lib/math/metrics";

test("movingAverage is a trailing mean; the first window-1 points average what has been seen so far", () => {
  assert.deepEqual([...movingAverage([4, 2, 6, 0], 2)], [4, 3, 4, 3]);
  assert.deepEqual([...movingAverage([3, 6, 9, 12, 15], 3)], [3, 4.5, 6, 9, 12]);
  assert.deepEqual([...movingAverage([1, 5, 2], 1)], [1, 5, 2]);
  assert.deepEqual([...movingAverage([2, 4], 10)], [2, 3]);
  assert.equal(movingAverage([], 10).length, 0);
});

test("movingAverage defaults to a 10-step window and returns float32 like the losses it smooths", () => {
  const values = Array.from({ length: 20 }, (_, i) => i);
  const smooth = movingAverage(values);
  assert.ok(smooth instanceof Float32Array);
  assert.equal(smooth[9], 4.5);
  assert.equal(smooth[19], 14.5);
});

test("movingAverage: a NaN poisons exactly the windows that contain it", () => {
  const smooth = movingAverage([1, NaN, 3, 5, 7], 2);
  assert.equal(smooth[0], 1);
  assert.ok(Number.isNaN(smooth[1]) && Number.isNaN(smooth[2]));
  assert.equal(smooth[3], 4);
  assert.equal(smooth[4], 6);
});

test("movingAverage rejects a window that is not a positive integer", () => {
  assert.throws(() => movingAverage([1], 0), /window: expected a positive integer, got 0/);
  assert.throws(() => movingAverage([1], 2.5), /got 2.5/);
});

test("finalAverage is the last point of movingAverage, NaN for nothing", () => {
  assert.equal(finalAverage([9, 1, 2, 3], 3), 2);
  assert.equal(finalAverage([4, 8]), 6);
  assert.ok(Number.isNaN(finalAverage([])));
  const values = Float32Array.from({ length: 37 }, (_, i) => Math.sin(i));
  assert.equal(Math.fround(finalAverage(values)), movingAverage(values)[36]);
});

test("accuracy is the percentage of equal predictions and labels", () => {
  assert.equal(accuracy([1, 2, 3, 4], [1, 2, 0, 4]), 75);
  assert.equal(accuracy(Int32Array.of(0, 0, 0), Uint8Array.of(1, 1, 1)), 0);
  assert.throws(() => accuracy([1, 2], [1]), /2 predictions and 1 labels/);
  assert.throws(() => accuracy([], []), /at least one label/);
});

test("confusionMatrix counts [true][predicted] pairs, with room for extra model outputs", () => {
  assert.deepEqual(confusionMatrix([0, 1, 1], [0, 0, 1], 2), [[1, 0], [1, 1]]);
  assert.deepEqual(confusionMatrix([0, 1], [2, 1], 2, 3), [[0, 0, 1], [0, 1, 0]]);
  assert.throws(() => confusionMatrix([0, 1], [2, 1], 2), /pair 0 \(label 0, predicted 2\) is outside 2 classes × 2 predicted classes/);
  assert.throws(() => confusionMatrix([5], [0], 2), /label 5/);
});

test("perClassAccuracy reads the diagonal of each row; NaN for a class with no examples", () => {
  assert.deepEqual(perClassAccuracy([[1, 0], [1, 1]]), [100, 50]);
  const [first, second] = perClassAccuracy([[0, 0], [3, 1]]);
  assert.ok(Number.isNaN(first));
  assert.equal(second, 25);
});

test("argmaxRows picks the first largest value per row, and NaN like PyTorch", () => {
  assert.deepEqual([...argmaxRows(Float32Array.of(0, 2, 1, 5, 3, 4), 3)], [1, 0]);
  assert.deepEqual([...argmaxRows([7, 7, 1], 3)], [0]);
  assert.deepEqual([...argmaxRows([1, NaN, 9, 2], 4)], [1]);
  assert.throws(() => argmaxRows([1, 2, 3], 2), /3 values do not split into rows of 2 columns/);
});
