import { test } from "node:test";
import assert from "node:assert/strict";
import { parseSweepTag, ProgressThrottle, sweepProgressText } from "../../scripts/report-progress";
import { sweepEstimate, sweepStatusHtml } from "../../lib/figures/sweep-progress";

/** The opening tag of the live view's progress line, as execute_notebook.py passes it on. */
const tagOf = (html: string): string => /<div class="mie-sweep"[^>]*>/.exec(html)![0];

test("the live view's own progress line parses back to its numbers", () => {
  const estimate = sweepEstimate({ of: 48, started: 12, done: 10, inFlight: [0.5, 0.25], elapsed: 30 });
  const parsed = parseSweepTag(tagOf(sweepStatusHtml(estimate)));
  assert.ok(parsed);
  assert.equal(parsed.run, 12);
  assert.equal(parsed.of, 48);
  assert.equal(parsed.done, 10);
  assert.equal(parsed.fraction, Math.round(estimate.fraction * 1000) / 1000);
  assert.equal(parsed.secondsLeft, Math.round(estimate.secondsLeft! * 10) / 10);
  assert.equal(sweepProgressText(parsed), "run 12 of 48 · 10 done · 22% · about 1 min 44 s left"); // 30 s for 10.75 of 48 runs
});

test("no estimate yet, finished, and long waits read as people say them", () => {
  const early = parseSweepTag(tagOf(sweepStatusHtml(sweepEstimate({ of: 4, started: 1, done: 0, inFlight: [0], elapsed: 0 }))));
  assert.deepEqual(early, { run: 1, of: 4, done: 0, fraction: 0, secondsLeft: null });
  assert.equal(sweepProgressText(early!), "run 1 of 4 · 0 done · 0%");
  assert.equal(sweepProgressText({ run: 4, of: 4, done: 4, fraction: 1, secondsLeft: 0 }), "run 4 of 4 · 4 done · 100% · finishing");
  assert.equal(sweepProgressText({ run: 15, of: 15, done: 14, fraction: 0.99, secondsLeft: 0.3 }), "run 15 of 15 · 14 done · 99% · finishing", "not \"about 0 s left\"");
  assert.equal(sweepProgressText({ run: 12, of: 72, done: 10, fraction: 0.16, secondsLeft: 185 }), "run 12 of 72 · 10 done · 16% · about 3 min 5 s left");
});

test("tags that are not a progress line, or lack a number, are ignored rather than stopping the report", () => {
  assert.equal(parseSweepTag('<div class="mie-plot" data-mie-run="1">'), null);
  assert.equal(parseSweepTag('<div class="mie-sweep" data-mie-of="4" data-mie-done="0" data-mie-fraction="0">'), null, "no run");
  assert.equal(parseSweepTag('<div class="mie-sweep" data-mie-run="x" data-mie-of="4" data-mie-done="0" data-mie-fraction="0">'), null);
  assert.equal(parseSweepTag('<div class="mie-sweep" data-mie-run="1" data-mie-of="0" data-mie-done="0" data-mie-fraction="0">'), null, "a sweep of 0 runs");
  assert.equal(parseSweepTag(""), null);
});

test("the throttle keeps short cells quiet and prints at most one line every few seconds, never the same twice", () => {
  const tag = (run: number, left: number): string =>
    `<div class="mie-sweep" data-mie-run="${run}" data-mie-of="48" data-mie-done="${run - 1}" data-mie-fraction="${(run - 1) / 48}" data-mie-left="${left}">`;
  const throttle = new ProgressThrottle({ quietSeconds: 5, everySeconds: 5 });
  assert.equal(throttle.offer("A", tag(1, 90), 1), null, "before any cell started");
  throttle.cellStarted("A", 0);
  throttle.cellStarted("B", 0);
  // Updates every half second, as the live view sends them, for 20 s.
  const printed: { at: number; line: string }[] = [];
  for (let t = 0.5; t <= 20; t += 0.5) {
    const line = throttle.offer("A", tag(1 + Math.floor(t), 90 - t), t);
    if (line !== null) printed.push({ at: t, line });
  }
  assert.deepEqual(printed.map((p) => p.at), [5, 10, 15, 20], "nothing in the first 5 s, then one line per 5 s");
  assert.equal(printed[0]!.line, "run 6 of 48 · 5 done · 10% · about 1 min 25 s left");
  assert.ok(throttle.printedInCell("A"));
  assert.ok(!throttle.printedInCell("B"), "each notebook has its own clock");
  assert.equal(throttle.offer("B", tag(2, 50), 4.9), null, "B's cell is still in its quiet seconds");
  assert.notEqual(throttle.offer("B", tag(2, 50), 5), null);
  assert.equal(throttle.offer("B", tag(2, 50), 30), null, "the same text again is not printed");
  throttle.cellStarted("A", 21);
  assert.ok(!throttle.printedInCell("A"), "a new cell starts quiet");
  assert.equal(throttle.offer("A", tag(40, 5), 25), null);
});
