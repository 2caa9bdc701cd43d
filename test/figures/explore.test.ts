import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { exploreFigure, type ExploreMeta } from "../../lib/figures/explore";
import { formatValue, gridOf } from "../../lib/figures/explore-grid";
import { BATCHES, gridRuns, LRS } from "../helpers/explore-runs";
import { annotationTexts, EVIL, EVIL_PLOTLY, ofType, subtitleText, traces } from "../helpers/figures";

const metaOf = (fig: ReturnType<typeof exploreFigure>): ExploreMeta => (fig.layout.meta as unknown as { mieExplore: ExploreMeta }).mieExplore;

describe("exploreFigure's landscape", () => {
  const runs = gridRuns();
  const fig = exploreFigure(runs, { by: ["lr", "batchSize"] });
  const heat = ofType(fig, "heatmap")[0]!;

  test("one heatmap cell per (lr, batch): rows are batch sizes, columns learning rates, z the accuracy", () => {
    assert.equal(heat.z.length, BATCHES.length);
    assert.equal(heat.z[0].length, LRS.length);
    assert.equal(heat.z[1][2], 60 + 5 * 2 - 2 * 1, "lr 0.01, batch 16");
  });

  test("learning rates and batch sizes span decades: log axes (cells at log10 of the value), labelled by value", () => {
    assert.deepEqual(fig.layout.xaxis!.tickvals, LRS.map(Math.log10));
    assert.deepEqual(fig.layout.xaxis!.ticktext, ["1e-4", "0.001", "0.01", "0.1", "1", "10"]);
    assert.match(String((fig.layout.xaxis!.title as { text: string }).text), /lr \(log scale\)/);
    assert.deepEqual(fig.layout.yaxis!.tickvals, BATCHES.map(Math.log10));
    assert.equal(heat.x.length, LRS.length + 1, "brick edges, one more than cells");
  });

  test("a diverged run is no colour: z is null, its cell grey and marked \"diverged\"", () => {
    assert.equal(heat.z[0][5], null, "lr 10, batch 1");
    const texts = ofType(fig, "scatter").find((t) => t.mode === "text")!;
    assert.equal(texts.text.filter((t: string) => t === "diverged").length, 1);
    assert.equal(texts.text.length, 24);
    const grey = (fig.layout.shapes ?? []).filter((s) => s.fillcolor === "#dddddd");
    assert.equal(grey.length, 1);
    assert.match(subtitleText(fig), /23 measured cells, 1 diverged/);
  });

  test("values within a decade get a linear axis; text values one column each", () => {
    const close = gridRuns([0.1, 0.2, 0.5], [16]);
    const linear = exploreFigure(close, { by: ["lr"] });
    assert.deepEqual(linear.layout.xaxis!.tickvals, [0.1, 0.2, 0.5]);
    const byOptimizer = gridOf(
      [{ label: "a", losses: [1], accuracy: 1, settings: { optimizer: "sgd" } }, { label: "b", losses: [1], accuracy: 2, settings: { optimizer: "adam" } }],
      ["optimizer"],
    );
    assert.deepEqual(byOptimizer.x.labels, ["sgd", "adam"]);
    assert.deepEqual(byOptimizer.x.centres, [0, 1]);
    assert.equal(formatValue(0.0002), "2e-4");
    assert.equal(formatValue(50), "50");
  });
});

describe("exploreFigure's curves and sliders", () => {
  const runs = gridRuns();

  test("one slider per setting, each step a value; starts at the most accurate run, bold, the others faint", () => {
    const fig = exploreFigure(runs, { by: ["lr", "batchSize"] });
    const sliders = fig.layout.sliders!;
    assert.equal(sliders.length, 2);
    assert.deepEqual(sliders[0]!.steps!.map((s) => s.label), ["1e-4", "0.001", "0.01", "0.1", "1", "10"]);
    assert.deepEqual(sliders[1]!.steps!.map((s) => s.label), ["1", "16", "100", "1000"]);
    assert.ok(sliders.every((s) => s.steps!.every((step) => step.method === "skip")), "the page script acts, not a Plotly method");
    assert.deepEqual([sliders[0]!.active, sliders[1]!.active], [5, 1], "lr 10, batch 16: 83%");
    const curves = traces(fig).filter((t) => t.yaxis === "y2");
    assert.equal(curves.length, runs.length);
    assert.equal(curves.filter((t) => t.line.width === 2.5).length, 1);
    assert.equal(curves.find((t) => t.line.width === 2.5)!.name, "lr 10 batch 16");
    assert.match(annotationTexts(fig)[0]!, /lr 10 · batchSize 16: <b>83\.00% test accuracy/);
    assert.equal(traces(fig).filter((t) => t.yaxis === "y3" && t.visible === true).length, 1, "its accuracy curve shows");
  });

  test("meta maps every slider position to its run's curve, box and text, as the page script reads it", () => {
    const fig = exploreFigure(runs, { by: ["lr", "batchSize"], pick: 0 });
    const meta = metaOf(fig);
    assert.deepEqual(meta.shape, [6, 4]);
    const cell = meta.cells[3 + 6 * 2]!; // lr 0.1, batch 100
    assert.equal(traces(fig)[cell.curve!]!.name, "lr 0.1 batch 100");
    assert.equal(cell.accuracy, null, "batch 100 measured no accuracy curve");
    assert.equal(traces(fig)[meta.cells[3 + 6]!.accuracy!]!.name, "lr 0.1 batch 16 accuracy");
    assert.deepEqual(cell.box, [(Math.log10(0.01) + Math.log10(0.1)) / 2, (Math.log10(0.1) + 0) / 2, (Math.log10(16) + 2) / 2, 2.5]);
    assert.match(meta.cells[5]!.text, /diverged at step 7/);
    const shape = fig.layout.shapes![0]!;
    assert.deepEqual([shape.x0, shape.x1, shape.y0, shape.y1], meta.cells[0]!.box, "the box starts on the picked cell");
  });

  test("loss curves share one x axis, training images seen, whatever the batch size", () => {
    const fig = exploreFigure(runs, { by: ["lr", "batchSize"] });
    const curves = traces(fig).filter((t) => t.yaxis === "y2");
    curves.forEach((t, i) => {
      const run = runs[i]!;
      assert.equal(t.xaxis, "x2");
      assert.equal(t.x[t.x.length - 1], run.losses.length * (run.settings as { batchSize: number }).batchSize, run.label);
    });
  });

  test("a missing combination is an empty cell that says so", () => {
    const fig = exploreFigure(runs.slice(1), { by: ["lr", "batchSize"] });
    assert.equal(ofType(fig, "heatmap")[0]!.z[0][0], null);
    assert.match(metaOf(fig).cells[0]!.text, /lr 1e-4 · batchSize 1: no run/);
    assert.equal(metaOf(fig).cells[0]!.curve, null);
  });

  test("labels are text, never markup", () => {
    const fig = exploreFigure([{ label: EVIL, losses: [1, 0.5], accuracy: 90, settings: { lr: 0.1 } }], { by: ["lr"] });
    assert.ok(annotationTexts(fig)[0]!.includes(EVIL_PLOTLY));
    assert.ok(!JSON.stringify(fig).includes("<script>"));
  });
});

describe("exploreFigure rejects what it cannot draw, naming it", () => {
  const runs = gridRuns();
  test("two runs in one cell", () => {
    assert.throws(() => exploreFigure(runs, { by: ["lr"] }), /runs\[0\] \("lr 0.0001 batch 1"\) and runs\[1\] \("lr 0.0001 batch 16"\) both have lr 0.0001/);
  });
  test("bad by, pick, smooth, maxPoints; no runs; a run without the setting or an accuracy", () => {
    assert.throws(() => exploreFigure(runs, { by: [] as unknown as ["lr"] }), /options.by must name one or two different settings/);
    assert.throws(() => exploreFigure(runs, { by: ["lr", "lr"] }), /options.by must name one or two different/);
    assert.throws(() => exploreFigure(runs, { by: ["lr", "batchSize"], pick: 99 }), /options.pick must be the index of a run \(0 … 23\), got 99/);
    assert.throws(() => exploreFigure(runs, { by: ["lr", "batchSize"], smooth: 0 }), /options.smooth/);
    assert.throws(() => exploreFigure(runs, { by: ["lr", "batchSize"], maxPoints: 2 }), /options.maxPoints/);
    assert.throws(() => exploreFigure([], { by: ["lr"] }), /runs: empty list/);
    assert.throws(() => exploreFigure(runs, { by: ["lr", "momentum"] }), /runs\[0\] \("lr 0.0001 batch 1"\): has no usable value of "momentum"/);
    assert.throws(() => exploreFigure([{ label: "x", losses: [1], settings: { lr: 1 } } as never], { by: ["lr"] }), /accuracy must be a number/);
  });
});
