import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { MIN_POINTS, windowMeans } from "../../lib/figures/downsample";

describe("windowMeans", () => {
  test("short series pass through, non-finite values become null (gaps)", () => {
    const out = windowMeans([1, 2, 3], [0.5, NaN, Infinity], 10);
    assert.deepEqual(out, { x: [1, 2, 3], y: [0.5, null, null], window: 1 });
  });

  test("long series fit the budget as the mean of each window, drawn at the window's last x: a line, not a comb", () => {
    const n = 60_000;
    const x = Array.from({ length: n }, (_, i) => i + 1);
    // Alternating 0 and 2 (a batch-1 run's exact zeros beside real losses): every window's mean is 1.
    const y = x.map((i) => (i % 2 === 0 ? 0 : 2));
    const out = windowMeans(x, y, 2000);
    assert.equal(out.window, 30);
    assert.equal(out.x.length, 2000);
    assert.deepEqual(new Set(out.y), new Set([1]), "no min/max comb: every point is a window's mean");
    assert.deepEqual([out.x[0], out.x[out.x.length - 1]], [30, n], "each point sits at its window's last step; the last one at the run's end");
  });

  test("the mean of the window, exactly, and a short last window", () => {
    const out = windowMeans([1, 2, 3, 4, 5, 6, 7], [5, 1, 4, 2, 6, 3, 9], 5);
    assert.equal(out.window, 2);
    assert.deepEqual(out.x, [2, 4, 6, 7]);
    assert.deepEqual(out.y, [3, 3, 4.5, 9]);
  });

  test("a window with a non-finite value gets a null, so a diverged tail is a gap", () => {
    const y = Array.from({ length: 1000 }, (_, i) => (i < 500 ? 1 : NaN));
    const out = windowMeans(y.map((_, i) => i), y, 30);
    assert.ok(out.y.length <= 30);
    assert.equal(out.y[out.y.length - 1], null);
    assert.ok(out.y.some((v) => v === 1));
  });

  test("bad input: maxPoints under 5 or not an integer is an error naming the minimum", () => {
    const y = Array.from({ length: 50 }, (_, i) => i);
    for (const maxPoints of [3, 4, 2.5]) {
      assert.throws(() => windowMeans(y, y, maxPoints), new RegExp(`^RangeError: windowMeans: maxPoints must be an integer >= 5 \\(points per curve\\), got ${maxPoints}$`));
    }
    assert.equal(windowMeans(y, y, MIN_POINTS).y.length, 5);
  });

  test("mismatched lengths are an error naming both", () => {
    assert.throws(() => windowMeans([1, 2], [1], 10), /x has 2 values but y has 1/);
  });
});
