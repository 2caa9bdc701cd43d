import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { lossFigure } from "../../lib/figures/loss";
import { EVIL, EVIL_PLOTLY, noise, ofType, run, subtitleText, titleText, traces, type Trace } from "../helpers/figures";

describe("the loss curve's moving average", () => {
  const curve = (losses: number[], smooth = 10): (number | null)[] =>
    ofType(lossFigure({ label: "a", losses }, { smooth }), "scatter")[0]!.y;

  test("is the trailing mean of the last `smooth` losses; the first points average what exists so far", () => {
    assert.deepEqual(curve([1, 2, 3, 4, 5, 6], 3), [1, 1.5, 2, 3, 4, 5]);
    assert.deepEqual(curve([1, 2, 3], 1), [1, 2, 3]);
  });

  test("from step 10 on it equals a naive 10-step mean (the original's curve)", () => {
    const r = noise(7);
    const values = Array.from({ length: 200 }, () => r() * 3);
    const smoothed = curve(values);
    for (let i = 9; i < values.length; i++) {
      const naive = values.slice(i - 9, i + 1).reduce((a, b) => a + b, 0) / 10;
      assert.ok(Math.abs(smoothed[i]! - naive) < 1e-4 * naive, `step ${i + 1}: ${smoothed[i]} vs ${naive}`);
    }
  });

  test("a NaN makes exactly the windows that contain it gaps; a huge loss leaves no residue", () => {
    const smoothed = curve([1, 1, 1, NaN, 1, 1, 1, 1e30, 1, 1, 1, 1], 3);
    assert.deepEqual(
      smoothed.map((v) => v === null),
      [false, false, false, true, true, true, false, false, false, false, false, false],
    );
    assert.equal(smoothed[11], 1, "once 1e30 has left the window the mean is exactly 1 again");
  });
});

describe("lossFigure", () => {
  test("one line per run, x in steps 1..n, y the 10-step moving average", () => {
    const a = run("a", 100, 16);
    const b = run("b", 50, 32);
    const fig = lossFigure([a, b]);
    const lines = ofType(fig, "scatter");
    assert.equal(lines.length, 2);
    const lineA = lines.find((t) => t.name === "a")!;
    assert.deepEqual(lineA.x.slice(0, 3), [1, 2, 3]);
    assert.equal(lineA.x.length, 100);
    const expected = Array.from(a.losses).slice(0, 10).reduce((s, v) => s + v, 0) / 10;
    assert.ok(Math.abs(lineA.y[9] - expected) < 1e-4, `${lineA.y[9]} vs ${expected}`);
    assert.match(subtitleText(fig), /10-step moving average/);
    assert.equal(fig.layout.showlegend, true);
    assert.match(String((fig.layout.xaxis as Trace).title.text), /step/);
    assert.match(String((fig.layout.yaxis as Trace).title.text), /loss/);
  });

  test("a train() run keeps its batch size in settings", () => {
    const { batchSize: _, ...rest } = run("settings", 10, 100);
    const fig = lossFigure({ ...rest, settings: { batchSize: 100 } }, { x: "samples" });
    assert.equal(ofType(fig, "scatter")[0]!.x[9], 1000);
  });

  test('x: "samples" multiplies by batch size, so different batch sizes end at the same x', () => {
    const fig = lossFigure([run("b16", 3750, 16), run("b1000", 60, 1000)], { x: "samples" });
    const ends = ofType(fig, "scatter").map((t) => t.x[t.x.length - 1]);
    assert.deepEqual(ends.sort(), [60_000, 60_000]);
    assert.equal(ofType(fig, "scatter").find((t) => t.name === "b1000")!.x[0], 1000);
    assert.match(String((fig.layout.xaxis as Trace).title.text), /images seen/);
  });

  test("x: samples without a batch size is an error naming the run", () => {
    assert.throws(() => lossFigure({ label: "live", losses: [1, 2] }, { x: "samples" }), /"live".*batchSize/);
  });

  test("five batch-1 runs (60,000 steps each) stay small: at most 2,000 points per line, and it says so", () => {
    const runs = Array.from({ length: 5 }, (_, i) => run(`run ${i}`, 60_000, 1));
    const fig = lossFigure(runs, { x: "samples" });
    for (const line of ofType(fig, "scatter")) assert.ok(line.x.length <= 2000, `${line.name}: ${line.x.length}`);
    const bytes = JSON.stringify(fig).length;
    assert.ok(bytes < 500_000, `figure JSON is ${bytes} bytes`);
    assert.match(subtitleText(fig), /mean of each window of steps/);
    assert.match(ofType(fig, "scatter")[0]!.hovertemplate, /mean of 30 steps \(30 images\)/);
  });

  test("a log loss axis spans at most 8 decades: exact zeros and losses of 1e-18 are left out, and the subtitle counts them", () => {
    const tiny = { label: "batch 1, lr 50", losses: Array.from({ length: 100 }, (_, i) => (i % 3 === 0 ? 0 : i % 3 === 1 ? 1e-18 : 40)), batchSize: 1 };
    const fig = lossFigure([run("ok", 100, 16), tiny], { logY: true, smooth: 1 });
    const axis = fig.layout.yaxis as { range: [number, number]; type: string };
    assert.equal(axis.type, "log");
    assert.ok(axis.range[1] - axis.range[0] <= 8, `range ${axis.range}`);
    assert.ok(axis.range[1] >= Math.log10(40), "the top value is inside");
    const line = ofType(fig, "scatter").find((t) => t.name === "batch 1, lr 50")!;
    assert.ok(line.y.every((v: number | null) => v === null || Math.log10(v) >= axis.range[0]), "no drawn point under the axis");
    assert.equal(line.y.filter((v: number | null) => v === null).length, 67, "34 zeros and 33 losses of 1e-18 left out");
    assert.match(subtitleText(fig), /67 points under 8 decades below the top \(or 0\) not drawn/);
  });

  test("a log axis over data within 8 decades fits the data itself", () => {
    const fig = lossFigure([{ label: "a", losses: [2, 0.2, 0.02], batchSize: 1 }], { logY: true, smooth: 1 });
    const [low, high] = (fig.layout.yaxis as { range: [number, number] }).range;
    assert.ok(Math.abs(low - (Math.log10(0.02) - 0.05)) < 1e-9 && Math.abs(high - (Math.log10(2) + 0.05)) < 1e-9, `${low}, ${high}`);
  });

  test("48 runs: a legend of 12 entries, the first 11 runs and one for the other 37, whose names stay on hover", () => {
    const runs = Array.from({ length: 48 }, (_, i) => run(`run ${i}`, 50, 16));
    const fig = lossFigure(runs);
    const inLegend = ofType(fig, "scatter").filter((t) => t.showlegend !== false);
    assert.equal(inLegend.length, 12);
    assert.deepEqual(inLegend.slice(0, 11).map((t) => t.name).sort(), Array.from({ length: 11 }, (_, i) => `run ${i}`).sort());
    assert.equal(inLegend.find((t) => t.legendgroup === "rest")!.name, "37 more runs (names on hover)");
    const last = ofType(fig, "scatter").find((t) => t.name === "run 47")!;
    assert.equal(last.legendgroup, "rest");
    assert.match(last.hovertemplate, /%\{fullData.name\}/);
    assert.equal(lossFigure(runs.slice(0, 12)).data.filter((t) => (t as Trace).showlegend !== false).length, 12, "12 runs: one entry each");
  });

  test("a diverged run: NaN become nulls (never NaN in JSON), an × marks the step, the legend says so", () => {
    const losses = Array.from({ length: 100 }, (_, i) => (i < 60 ? 1 : i < 70 ? Infinity : NaN));
    // `diverged.step` is the 1-based step of the first non-finite loss (as `train` reports it): losses[60].
    const fig = lossFigure(
      [run("ok", 100, 16), { label: "lr 50", losses, batchSize: 16, diverged: { step: 61, loss: Infinity } }],
      { logY: true },
    );
    const line = ofType(fig, "scatter").find((t) => t.mode === "lines" && /lr 50/.test(t.name))!;
    assert.equal(line.name, "lr 50 · diverged at step 61 (loss Infinity)");
    assert.equal(line.y[59], 1);
    assert.ok(line.y.slice(60).every((v: unknown) => v === null));
    const marker = ofType(fig, "scatter").find((t) => t.mode === "markers")!;
    assert.deepEqual(marker.x, [61]);
    assert.deepEqual(marker.y, [1]);
    assert.equal(marker.text[0], "lr 50: diverged at step 61 (loss Infinity)");
    assert.doesNotMatch(JSON.stringify(ofType(fig, "scatter").map((t) => [t.x, t.y])), /NaN|Infinity/, "no non-finite number in the data");
    assert.equal((fig.layout.yaxis as Trace).type, "log");
  });

  test("bad input: maxPoints below 5 is an error naming the option, before any curve is thinned", () => {
    assert.throws(() => lossFigure(run("a", 100, 16), { maxPoints: 4 }), /^RangeError: lossFigure: options\.maxPoints must be an integer >= 5 \(points per run\), got 4$/);
  });

  test("labels and titles are escaped in legend names, hover text and title", () => {
    const fig = lossFigure(
      [run(EVIL, 20, 16), { ...run("x", 20, 16), label: EVIL + "2", diverged: { step: 5 } }],
      { title: EVIL },
    );
    const json = JSON.stringify(fig);
    assert.doesNotMatch(json, /<script|<img/);
    assert.equal(titleText(fig), EVIL_PLOTLY);
    assert.ok(traces(fig).some((t) => t.name === EVIL_PLOTLY));
    // Caller text never goes into a hovertemplate, where "%{...}" would be interpreted.
    for (const t of traces(fig)) assert.doesNotMatch(String(t.hovertemplate), /alert/);
  });

  test("the longest run is drawn first (underneath) but the legend keeps the caller's order", () => {
    const fig = lossFigure([run("short", 50, 100), run("long", 5000, 1)]);
    assert.deepEqual(traces(fig).map((t) => t.name), ["long", "short"]);
    assert.deepEqual(traces(fig).map((t) => t.legendrank), [2, 1]);
  });

  test("a single run needs no legend and is named in the title; bad options are errors", () => {
    const fig = lossFigure(run("baseline", 30, 16));
    assert.equal(fig.layout.showlegend, false);
    assert.match(titleText(fig), /baseline/);
    assert.throws(() => lossFigure(run("a", 3, 1), { smooth: 0 }), /options.smooth must be an integer >= 1/);
    assert.throws(() => lossFigure(run("a", 3, 1), { x: "epochs" as never }), /options.x must be "steps" or "samples"/);
    assert.throws(() => lossFigure([]), /empty list/);
    assert.throws(() => lossFigure({ label: "a", losses: undefined as never }), /"a".*losses must be an array/);
  });
});

describe("accuracy measured during training", () => {
  test("draws on a second y axis in percent, in its run's colour, dotted, at the measured steps (× batch for samples)", () => {
    const evaluations = [{ step: 5, accuracy: 71.234 }, { step: 10, accuracy: 80.5 }];
    const fig = lossFigure([run("a", 10, 16), { ...run("b", 10, 16), evaluations }], { x: "samples" });
    const lines = traces(fig);
    const curve = lines.find((trace) => trace.yaxis === "y2")!;
    const loss = lines.find((trace) => trace.name === "b" && trace.yaxis === undefined)!;
    assert.deepEqual(curve.x, [80, 160]);
    assert.deepEqual(curve.y, [71.234, 80.5]);
    assert.equal(curve.line.color, loss.line.color);
    assert.equal(curve.line.dash, "dot");
    assert.equal(curve.showlegend, false);
    assert.equal(curve.legendgroup, loss.legendgroup);
    assert.equal(lines.filter((trace) => trace.yaxis === "y2").length, 1, "only the run with a curve has one");
    const axis = fig.layout.yaxis2 as { overlaying: string; side: string; title: { text: string } };
    assert.equal(axis.overlaying, "y");
    assert.equal(axis.side, "right");
    assert.match(axis.title.text, /accuracy \(%\)/);
    assert.match(subtitleText(fig), /dotted: accuracy \(right axis\)/);
  });

  test("no curve, no second axis", () => {
    const fig = lossFigure([run("a", 10, 16), { ...run("b", 10, 16), evaluations: [] }]);
    assert.equal(fig.layout.yaxis2, undefined);
    assert.ok(traces(fig).every((trace) => trace.yaxis === undefined));
  });
});
