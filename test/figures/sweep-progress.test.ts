import { test } from "node:test";
import assert from "node:assert/strict";
import { durationText, sweepEstimate, sweepStatusHtml } from "../../lib/figures/sweep-progress";

test("the estimate counts finished runs as one and runs in flight by their share of steps", () => {
  const estimate = sweepEstimate({ of: 4, started: 2, done: 1, inFlight: [0.5], elapsed: 30 });
  assert.deepEqual(estimate, { run: 2, of: 4, done: 1, fraction: 0.375, secondsLeft: 50 });
  assert.equal(sweepEstimate({ of: 3, started: 0, done: 0, inFlight: [], elapsed: 0 }).secondsLeft, null, "nothing measured yet");
  assert.equal(sweepEstimate({ of: 2, started: 2, done: 2, inFlight: [], elapsed: 9 }).secondsLeft, 0);
  // 0.2% of a 10-run sweep after 5 s of worker start-up would extrapolate to 41 min: too early to say.
  assert.equal(sweepEstimate({ of: 10, started: 2, done: 0, inFlight: [0.01, 0.01], elapsed: 5 }).secondsLeft, null);
  assert.equal(sweepEstimate({ of: 10, started: 2, done: 0, inFlight: [0.1, 0.1], elapsed: 5 }).secondsLeft, 245);
});

test("the status line says it and carries the numbers for the report runner", () => {
  const html = sweepStatusHtml(sweepEstimate({ of: 72, started: 12, done: 10, inFlight: [0.5, 0.5], elapsed: 60 }));
  assert.match(html, /run 12 of 72 · 10 done · 15% · about 5 min 33 s left/);
  assert.match(html, /data-mie-run="12" data-mie-of="72" data-mie-done="10"/);
  assert.equal(durationText(40.4), "40 s");
  assert.equal(durationText(7505), "2 h 5 min");
});
