import { test } from "node:test";
import assert from "node:assert/strict";
import { parseTimeLine, sharedRatio } from "../../scripts/bench-reports";

test("the reports ratio compares only the notebooks both runs executed", () => {
  const baseline = { source: "7fb7d07", ...parseTimeLine("Time: One: 15.0 s, More: 60.0 s; total 75.0 s") };
  const current = { source: "this tree", ...parseTimeLine("Time: Beyond: 40.0 s, More: 45.0 s, One: 15.0 s; total 100.0 s") };
  assert.deepEqual(sharedRatio(current, baseline), { names: ["More", "One"], current: 60, baseline: 75, ratio: 0.8 });
  assert.throws(() => sharedRatio({ ...current, notebooks: [{ name: "Beyond", seconds: 1 }] }, baseline), /no notebook ran in both 7fb7d07 and this tree/);
});
