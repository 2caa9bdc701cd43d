import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { downsample, MIN_POINTS } from "../../lib/figures/downsample";

describe("downsample", () => {
  test("short series pass through, non-finite values become null (gaps)", () => {
    const out = downsample([1, 2, 3], [0.5, NaN, Infinity], 10);
    assert.deepEqual(out, { x: [1, 2, 3], y: [0.5, null, null], bucket: 1 });
  });

  test("long series fit the budget and keep every bucket's min and max in order", () => {
    const n = 60_000;
    const x = Array.from({ length: n }, (_, i) => i + 1);
    const y = x.map((i) => Math.sin(i / 50) + (i === 12_345 ? 10 : 0) - (i === 54_321 ? 10 : 0));
    const out = downsample(x, y, 2000);
    assert.ok(out.x.length <= 2000 && out.x.length > 1000, `${out.x.length} points`);
    assert.equal(out.bucket, Math.ceil(n / 666));
    assert.ok(out.y.includes(y[12_344]!), "the spike up survives");
    assert.ok(out.y.includes(y[54_320]!), "the spike down survives");
    assert.deepEqual(out.x, [...out.x].sort((a, b) => a - b), "x stays increasing");
    assert.deepEqual([out.x[0], out.x[out.x.length - 1]], [1, n], "the line spans the whole run");
    assert.deepEqual([out.y[0], out.y[out.y.length - 1]], [y[0], y[n - 1]]);
  });

  test("a bucket with non-finite values gets a null, so a diverged tail is a gap", () => {
    const y = Array.from({ length: 1000 }, (_, i) => (i < 500 ? 1 : NaN));
    const out = downsample(y.map((_, i) => i), y, 30);
    assert.ok(out.y.length <= 30);
    assert.equal(out.y[out.y.length - 1], null);
    assert.ok(out.y.some((v) => v === 1));
  });

  test("bad input: maxPoints 3 or 4 has no room for one bucket and the ends: an error naming the minimum, 5", () => {
    const y = Array.from({ length: 50 }, (_, i) => i);
    for (const maxPoints of [3, 4, 2.5]) {
      assert.throws(() => downsample(y, y, maxPoints), new RegExp(`^RangeError: downsample: maxPoints must be an integer >= 5 \\(a bucket's min, max and gap, plus the first and last points\\), got ${maxPoints}$`));
    }
    const out = downsample(y, y, MIN_POINTS);
    assert.deepEqual(out, { x: [0, 49], y: [0, 49], bucket: 50 }, "one bucket of the whole curve: a finite bucket size");
  });

  test("mismatched lengths are an error naming both", () => {
    assert.throws(() => downsample([1, 2], [1], 10), /x has 2 values but y has 1/);
  });
});
