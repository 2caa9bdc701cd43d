import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  CLASS_COLORSCALES,
  confusionFigure,
  downsample,
  escapeHtml,
  hiddenUnitsFigure,
  lossFigure,
  perClassFigure,
  plotlyText,
  progressText,
  referenceTable,
  resultsTable,
  samplesFigure,
  weightGridFigure,
  type Figure,
  type LayerWeightsLike,
  type RunResult,
} from "../lib/figures";
import { finalAverage } from "../lib/metrics";
import { referenceRows } from "../lib/reference";

/** Traces as loose records: the tests read fields of several trace types. */
type Trace = Record<string, any>;
const traces = (fig: Figure): Trace[] => fig.data as Trace[];
const ofType = (fig: Figure, type: string): Trace[] => traces(fig).filter((t) => t.type === type);
const annotationTexts = (fig: Figure): string[] => (fig.layout.annotations ?? []).map((a) => String(a.text));
const titleText = (fig: Figure): string => String((fig.layout.title as { text?: string }).text);
const subtitleText = (fig: Figure): string => String((fig.layout.title as { subtitle?: { text?: string } }).subtitle?.text);

const EVIL = `<script>alert("x")</script> & <img src=x onerror=alert(1)>`;
/** As HTML text (the results table). */
const EVIL_HTML = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;img src=x onerror=alert(1)&gt;";
/** As Plotly text: only &, < and > (Plotly would show "&quot;" literally). */
const EVIL_PLOTLY = '&lt;script&gt;alert("x")&lt;/script&gt; &amp; &lt;img src=x onerror=alert(1)&gt;';

/** Deterministic noise so tests do not depend on Math.random. */
function noise(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function run(label: string, steps: number, batchSize: number, extra: Partial<RunResult> = {}): RunResult {
  const r = noise(steps + batchSize);
  const losses = Float32Array.from({ length: steps }, (_, i) => 2.3 * Math.exp(-i / steps) + 0.3 * r());
  return { label, losses, batchSize, steps, seconds: steps / 1000, accuracy: 80 + batchSize / 100, ...extra };
}

/** A 784→outputs layer whose value at (pixel p, unit j) encodes both, so misplaced values are caught. */
function layer(outputs: number, inputs = 784): LayerWeightsLike {
  const kernel = new Float32Array(inputs * outputs);
  for (let p = 0; p < inputs; p++) {
    for (let j = 0; j < outputs; j++) kernel[p * outputs + j] = (j + 1) * (p % 2 === 0 ? 1 : -0.5) * (1 + p / 1000);
  }
  return { shape: [inputs, outputs], kernel, bias: new Float32Array(outputs) };
}

describe("escaping", () => {
  test("escapeHtml turns markup into HTML text; plotlyText escapes only what Plotly decodes", () => {
    assert.equal(escapeHtml(EVIL), EVIL_HTML);
    assert.equal(escapeHtml(5), "5");
    assert.equal(plotlyText(EVIL), EVIL_PLOTLY);
  });
});

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

  test("mismatched lengths are an error naming both", () => {
    assert.throws(() => downsample([1, 2], [1], 10), /x has 2 values but y has 1/);
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
    assert.match(subtitleText(fig), /min\/max of each bucket/);
    assert.match(ofType(fig, "scatter")[0]!.hovertemplate, /min\/max of \d+ steps/);
  });

  test("a diverged run: NaN become nulls (never NaN in JSON), an × marks the step, the legend says so", () => {
    const losses = Array.from({ length: 100 }, (_, i) => (i < 60 ? 1 : i < 70 ? Infinity : NaN));
    // `diverged.step` is the 1-based step of the first non-finite loss (as `train` reports it): losses[60].
    const fig = lossFigure(
      [run("ok", 100, 16), { label: "lr 50", losses, batchSize: 16, diverged: { step: 61 } }],
      { logY: true },
    );
    const line = ofType(fig, "scatter").find((t) => t.mode === "lines" && /lr 50/.test(t.name))!;
    assert.match(line.name, /diverged at step 61/);
    assert.equal(line.y[59], 1);
    assert.ok(line.y.slice(60).every((v: unknown) => v === null));
    const marker = ofType(fig, "scatter").find((t) => t.mode === "markers")!;
    assert.deepEqual(marker.x, [61]);
    assert.deepEqual(marker.y, [1]);
    assert.doesNotMatch(JSON.stringify(fig), /NaN|Infinity/);
    assert.equal((fig.layout.yaxis as Trace).type, "log");
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

describe("resultsTable", () => {
  test("one escaped row per run with accuracy, final smoothed loss, steps, seconds and divergence", () => {
    const runs = [
      { ...run("lr 0.001", 3750, 16), accuracy: 84.24, seconds: 2.25 },
      { ...run(EVIL, 60, 1000), accuracy: 19.1, diverged: { step: 42 } },
    ];
    const html = resultsTable(runs, { title: EVIL });
    assert.doesNotMatch(html, /<script|<img/);
    assert.ok(html.includes(EVIL_HTML));
    assert.equal(html.match(/<tr>/g)!.length, 3, "a header row and two runs");
    assert.match(html, /font-weight:bold">84\.24</);
    assert.match(html, />3,750</);
    assert.match(html, />2\.3</);
    assert.match(html, /diverged at step 42/);
    assert.ok(html.includes(`>${finalAverage(runs[0]!.losses, 10).toFixed(3)}<`));
  });

  test("final loss is the mean of the last 10 losses; a non-finite end shows as a dash", () => {
    const losses = Array.from({ length: 25 }, (_, i) => i);
    assert.match(resultsTable({ ...run("a", 25, 16), losses }), />19\.500</);
    const html = resultsTable({ ...run("nan", 20, 16), losses: [1, NaN] });
    assert.match(html, />—</);
    assert.match(html, /loss not finite/);
  });

  test("a run without accuracy is an error naming it", () => {
    assert.throws(() => resultsTable([{ label: "x", losses: [1] } as never]), /"x".*accuracy must be a number/);
  });
});

describe("weightGridFigure", () => {
  test("ten 28×28 heatmaps; class c's pixel (r, col) is kernel[(r*28+col)*10 + c]", () => {
    const weights = layer(10);
    const fig = weightGridFigure(weights);
    const maps = ofType(fig, "heatmap");
    assert.equal(maps.length, 10);
    for (const c of [0, 3, 9]) {
      const z = maps[c]!.z as number[][];
      assert.equal(z.length, 28);
      assert.equal(z[0]!.length, 28);
      for (const [r, col] of [[0, 0], [0, 1], [5, 17], [27, 27]] as const) {
        const expected = weights.kernel[(r * 28 + col) * 10 + c]!;
        assert.ok(Math.abs(z[r]![col]! - expected) <= Math.abs(expected) * 1e-3, `class ${c} (${r}, ${col})`);
      }
    }
    assert.deepEqual(annotationTexts(fig).slice(0, 2), ["class 0", "class 1"]);
  });

  test("colour ranges are symmetric (zmin = -zmax = -max |w| of the image), zero is white", () => {
    const weights = layer(10);
    const fig = weightGridFigure(weights);
    ofType(fig, "heatmap").forEach((map, c) => {
      let max = 0;
      for (let p = 0; p < 784; p++) max = Math.max(max, Math.abs(weights.kernel[p * 10 + c]!));
      assert.equal(map.zmin, -map.zmax);
      assert.ok(Math.abs(map.zmax - max) < 1e-6 * max, `class ${c}: ${map.zmax} vs ${max}`);
      const middle = (map.colorscale as [number, string][]).find(([stop]) => stop === 0.5);
      assert.equal(middle?.[1], "#ffffff");
    });
    const shared = ofType(weightGridFigure(weights, { sharedRange: true }), "heatmap").map((m) => m.zmax);
    assert.equal(new Set(shared).size, 1);
  });

  test("each class has its own colour scale, and the caller can replace them", () => {
    const maps = ofType(weightGridFigure(layer(10)), "heatmap");
    assert.equal(new Set(maps.map((m) => JSON.stringify(m.colorscale))).size, 10);
    assert.deepEqual(maps[4]!.colorscale, CLASS_COLORSCALES[4]);
    const one = ofType(weightGridFigure(layer(10), { colorscales: "RdBu" }), "heatmap");
    assert.ok(one.every((m) => m.colorscale === "RdBu"));
    const each = ofType(weightGridFigure(layer(10), { colorscales: ["Blues", "Reds"] }), "heatmap");
    assert.deepEqual(each.slice(0, 3).map((m) => m.colorscale), ["Blues", "Reds", "Blues"]);
  });

  test("all-zero weights (zero init) get a valid range and show white", () => {
    const zero = { shape: [784, 10], kernel: new Float32Array(7840), bias: new Float32Array(10) };
    for (const map of ofType(weightGridFigure(zero), "heatmap")) assert.deepEqual([map.zmin, map.zmax], [-1, 1]);
  });

  test("image rows run top to bottom with square pixels and no tick clutter", () => {
    const fig = weightGridFigure(layer(10));
    const x = fig.layout.xaxis as Trace;
    const y = fig.layout.yaxis as Trace;
    assert.ok(y.range[0] > y.range[1], "y axis reversed: row 0 at the top");
    assert.equal(y.scaleanchor, "x");
    assert.equal(x.visible, false);
    assert.equal(y.visible, false);
  });

  test("two labelled sets stack one above the other, with escaped headers", () => {
    const fig = weightGridFigure([
      { label: "lr 0.001", weights: layer(10) },
      { label: EVIL, weights: layer(10) },
    ]);
    const maps = ofType(fig, "heatmap");
    assert.equal(maps.length, 20);
    assert.ok(maps[10]!.y0 > maps[5]!.y0 + 28, "the second set starts below the first set's second row");
    assert.ok(annotationTexts(fig).includes("<b>lr 0.001</b>"));
    assert.ok(annotationTexts(fig).includes(`<b>${EVIL_PLOTLY}</b>`));
    assert.doesNotMatch(JSON.stringify(fig), /<script|<img/);
  });

  test("class names are escaped; wrong shapes are errors that say what was expected", () => {
    const names = [EVIL, ...Array.from({ length: 9 }, (_, i) => `c${i + 1}`)];
    assert.ok(annotationTexts(weightGridFigure(layer(10), { classNames: names })).includes(`class ${EVIL_PLOTLY}`));
    assert.throws(() => weightGridFigure(layer(10, 500)), /expected 784 inputs \(28×28 images\).*got 500.*layer: 0/);
    assert.throws(() => weightGridFigure(layer(500)), /500 outputs.*hiddenUnitsFigure/);
    assert.throws(
      () => weightGridFigure({ shape: [784, 10], kernel: new Float32Array(100), bias: new Float32Array(10) }),
      /kernel: 100 values, expected 784×10 = 7840/,
    );
    assert.throws(() => weightGridFigure(layer(10), { classNames: ["a"] }), /expected 10 names/);
    assert.throws(() => weightGridFigure({ kernel: [] } as never), /expected \{ shape: \[inputs, outputs\], kernel, bias \}/);
  });
});

describe("hiddenUnitsFigure", () => {
  test("draws the chosen units' incoming weights, each with a symmetric range", () => {
    const weights = layer(500);
    const fig = hiddenUnitsFigure(weights, { units: [0, 7, 499] });
    const maps = ofType(fig, "heatmap");
    assert.equal(maps.length, 3);
    assert.deepEqual(annotationTexts(fig), ["unit 0", "unit 7", "unit 499"]);
    const z = maps[2]!.z as number[][];
    assert.ok(Math.abs(z[3]![4]! - weights.kernel[(3 * 28 + 4) * 500 + 499]!) < 1e-2);
    for (const map of maps) assert.equal(map.zmin, -map.zmax);
    assert.equal(ofType(hiddenUnitsFigure(weights), "heatmap").length, 16, "default: the first 16 units");
  });

  test("a unit outside the layer is an error naming it", () => {
    assert.throws(() => hiddenUnitsFigure(layer(500), { units: [3, 500] }), /units\[1\] = 500; expected an integer in 0..499/);
  });
});

describe("samplesFigure", () => {
  const count = 12;
  const images = new Uint8Array(count * 784).map((_, i) => (i % 784 === 300 ? 255 : 0));
  const labels = Uint8Array.from({ length: count }, (_, i) => i % 10);

  test('titles say "This is a N", one 28×28 image per sample, dark ink on white', () => {
    const fig = samplesFigure(images, labels, { count: 5 });
    const maps = ofType(fig, "heatmap");
    assert.equal(maps.length, 5);
    assert.deepEqual(annotationTexts(fig), ["This is a 0", "This is a 1", "This is a 2", "This is a 3", "This is a 4"]);
    assert.equal((maps[0]!.z as number[][])[10]![20], 255, "pixel 300 is row 10, column 20");
    assert.deepEqual([maps[0]!.zmin, maps[0]!.zmax], [0, 255]);
  });

  test("with predictions, mistakes are red and framed", () => {
    const predictions = Uint8Array.from(labels, (l, i) => (i === 2 ? 7 : l));
    const fig = samplesFigure({ images, labels }, { count: 4, predictions });
    const annotations = fig.layout.annotations!;
    assert.equal(annotations[2]!.text, "label 2 · predicted 7");
    assert.equal(annotations[2]!.font?.color, "#d62728");
    assert.notEqual(annotations[1]!.font?.color, "#d62728");
    assert.equal(fig.layout.shapes!.length, 1);
    assert.match(subtitleText(fig), /1 of 4 wrong/);
  });

  test("class names are escaped; mismatched lengths are errors", () => {
    const names = [EVIL, "b", "c", "d", "e", "f", "g", "h", "i", "j"];
    assert.equal(annotationTexts(samplesFigure(images, labels, { count: 1, classNames: names }))[0], `This is a ${EVIL_PLOTLY}`);
    assert.throws(() => samplesFigure(images, labels.subarray(0, 5)), /12 images but 5 labels/);
    assert.throws(() => samplesFigure(images.subarray(0, 1000), labels), /1000 values, not a multiple of 28×28 = 784/);
    assert.throws(() => samplesFigure(images, labels, { count: 13 }), /images 0..12 requested but there are 12/);
    assert.throws(() => samplesFigure(images, labels, { predictions: [1, 2] }), /one class per label \(12\)/);
  });
});

describe("confusionFigure and perClassFigure", () => {
  const confusion = Array.from({ length: 10 }, (_, r) => Array.from({ length: 10 }, (_, c) => (r === c ? 900 + r : (r + c) % 4)));

  test("true classes are rows top to bottom, predicted classes columns; counts annotated", () => {
    const fig = confusionFigure(confusion, { title: EVIL });
    const [mistakes, correct] = ofType(fig, "heatmap");
    assert.equal(mistakes!.z[3][3], null, "the mistakes layer has no diagonal");
    assert.equal(correct!.z[3][3], 903);
    assert.equal(mistakes!.z[1][2], 3);
    assert.equal(mistakes!.zmax, 3, "mistakes use their own scale");
    assert.equal((fig.layout.yaxis as Trace).autorange, "reversed");
    const nonZero = confusion.flat().filter((v) => v !== 0).length;
    assert.equal(fig.layout.annotations!.length, nonZero);
    assert.match(String((fig.layout.xaxis as Trace).title.text), /predicted/);
    assert.match(String((fig.layout.yaxis as Trace).title.text), /true/);
    assert.equal(titleText(fig), EVIL_PLOTLY);
    assert.match(mistakes!.text[1][2], /true 1 · predicted 2<br>3 images/);
  });

  test("a non-square matrix is an error", () => {
    assert.throws(() => confusionFigure([[1, 2], [3]]), /confusion\[1\] has an array of 1; expected 2 counts/);
  });

  test("per-class accuracy: bars from numbers or from runs; the axis starts just below the worst class, and says so", () => {
    const values = [99, 98, 90, 91, 92, 89, 95, 93, 88, 90];
    const single = perClassFigure(values);
    assert.equal(ofType(single, "bar").length, 1);
    assert.deepEqual(ofType(single, "bar")[0]!.y, values);
    assert.deepEqual((single.layout.yaxis as Trace).range, [80, 100]);
    assert.match(JSON.stringify(single.layout.title), /the axis starts at 80%/);
    const poor = perClassFigure([3, 50, 97]);
    assert.deepEqual((poor.layout.yaxis as Trace).range, [0, 100]);
    assert.doesNotMatch(JSON.stringify(poor.layout.title), /axis starts/);
    const two = perClassFigure([
      { ...run("a", 10, 16), perClassAccuracy: values },
      { ...run(EVIL, 10, 16), perClassAccuracy: values },
    ]);
    assert.deepEqual(ofType(two, "bar").map((t) => t.name), ["a", EVIL_PLOTLY]);
    assert.throws(() => perClassFigure(run("none", 10, 16)), /"none".*has no perClassAccuracy/);
  });
});

describe("progressText", () => {
  test("says step of total, speed, loss and time, with the label escaped", () => {
    const text = progressText({
      label: EVIL,
      step: 1000,
      totalSteps: 3750,
      samplesSeen: 16000,
      seconds: 2.5,
      samplesPerSecond: 6400.4,
      loss: 0.43214,
      losses: [],
      done: false,
    });
    assert.ok(text.includes(EVIL_HTML));
    assert.match(text, /step 1,000 \/ 3,750 \(26%\) · 6,400 samples\/s · loss 0\.4321 · 2\.5 s/);
  });
});

test("referenceTable: three numbers per row, agreement marks, escaped text, and a clear error for no rows", () => {
  const html = referenceTable(referenceRows([["adam", 91.3], ["zeros 784-500-10 sgd 0.5", 9.8]]), { title: "vs <original>" });
  assert.match(html, /<caption[^>]*>vs &lt;original&gt;<\/caption>/);
  const rows = html.split("<tr>").slice(2);
  assert.equal(rows.length, 2);
  assert.match(rows[0]!, /784-10, Adam lr 0\.001/);
  assert.match(rows[0]!, /84\.00 <span style="color:#d62728">✗<\/span>/, "the original's Adam number is marked wrong");
  assert.match(rows[0]!, /91\.24 ± 0\.03 \[91\.21–91\.27\]/);
  assert.match(rows[0]!, /91\.30 <span style="color:#2ca02c">✓<\/span>/);
  assert.match(rows[1]!, /<td[^>]*>—<\/td>/, "no original number for a configuration it never ran");
  assert.match(rows[1]!, /<td[^>]*>9\.58<\/td>/, "an exact re-run shows no spread");
  assert.throws(() => referenceTable([]), /referenceTable: rows must be a non-empty array/);
});

test("samplesFigure with indices draws exactly those images, in order, and rejects ones outside the split", () => {
  const images = new Uint8Array(4 * 4).map((_, i) => Math.floor(i / 4) * 60);
  const split = { images, labels: Uint8Array.of(0, 1, 2, 3), rows: 2, cols: 2 };
  const fig = samplesFigure(split, { indices: [3, 1], predictions: Uint8Array.of(0, 7, 2, 3) });
  const heatmaps = fig.data.filter((trace) => trace.type === "heatmap") as unknown as { z: number[][] }[];
  assert.equal(heatmaps.length, 2);
  assert.deepEqual(heatmaps.map((h) => h.z[0]![0]), [180, 60]);
  assert.match(JSON.stringify(fig.layout), /1 of 2 wrong/);
  assert.throws(() => samplesFigure(split, { indices: [4] }), { message: "samplesFigure: image 4 requested but there are 4 (indices 0..3)" });
});
