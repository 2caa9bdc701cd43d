import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { statSync } from "node:fs";
import { lossFigure, type LayerWeightsLike, type TrainingProgress } from "../lib/figures";
import { createShow, figureHtml, plotlyBundleHtml, plotlyBundlePath, show, type DisplaySink } from "../lib/show";

const BUNDLE = "/*FAKE-PLOTLY-BUNDLE*/ window.Plotly = {};";

/** A sink that records what a notebook would receive: plain outputs, and per live display its updates. */
function recorder() {
  const outputs: string[] = [];
  const displays: string[][] = [];
  const sink: DisplaySink = {
    html: (html) => outputs.push(html),
    markdown: (text) => outputs.push(`markdown:${text}`),
    newDisplay: () => {
      const updates: string[] = [];
      displays.push(updates);
      return { html: (html) => updates.push(html) };
    },
  };
  return { sink, outputs, displays };
}

const run = { label: "r", losses: [2, 1.5, 1.2, 1.1], batchSize: 16, steps: 4, seconds: 1, accuracy: 80 };

function progress(step: number, done = false): TrainingProgress {
  return {
    label: "lr 0.5",
    step,
    totalSteps: 100,
    samplesSeen: step * 16,
    seconds: step / 100,
    samplesPerSecond: 1600,
    loss: 1 / step,
    losses: Array.from({ length: step }, (_, i) => 1 / (i + 1)),
    done,
  };
}

describe("show", () => {
  test("the Plotly bundle is sent once, as its own first output, however many charts follow", () => {
    const { sink, outputs } = recorder();
    const s = createShow({ sink, loadBundle: () => BUNDLE });
    s.loss(run);
    s.loss(run);
    s.table(run);
    s.figure(lossFigure(run));
    const withBundle = outputs.filter((html) => html.includes("FAKE-PLOTLY-BUNDLE"));
    assert.equal(withBundle.length, 1);
    assert.ok(outputs[0]!.includes("FAKE-PLOTLY-BUNDLE"), "the bundle comes before the first chart");
    assert.equal(outputs.length, 5);
    assert.equal(outputs.filter((html) => html.includes("Plotly.newPlot")).length, 3);
  });

  test("a table alone needs no bundle", () => {
    const { sink, outputs } = recorder();
    createShow({ sink, loadBundle: () => BUNDLE }).table([run]);
    assert.equal(outputs.length, 1);
    assert.doesNotMatch(outputs[0]!, /FAKE-PLOTLY-BUNDLE/);
  });

  test("every chart gets its own element id", () => {
    const { sink, outputs } = recorder();
    const s = createShow({ sink, loadBundle: () => BUNDLE });
    for (let i = 0; i < 3; i++) s.loss(run);
    const ids = outputs.slice(1).map((html) => /<div id="([^"]+)"/.exec(html)![1]);
    assert.equal(new Set(ids).size, 3);
  });

  test("live view: bundle first and separately, one display updated in place, throttled, final state always drawn", () => {
    const { sink, outputs, displays } = recorder();
    let clock = 0;
    const s = createShow({ sink, loadBundle: () => BUNDLE, now: () => clock });
    const listener = s.live("Training", { interval: 500 });
    assert.equal(outputs.length, 1, "the bundle is displayed when the live view is created, before any update");
    assert.match(outputs[0]!, /FAKE-PLOTLY-BUNDLE/);
    for (let step = 1; step <= 99; step++) {
      clock += 10; // 99 reports in ~1 s
      listener(progress(step));
    }
    listener(progress(100, true));
    assert.equal(displays.length, 1, "one display entry");
    const updates = displays[0]!;
    assert.equal(updates.length, 3, "first report, one after 500 ms, and the final one");
    assert.ok(updates.every((html) => !html.includes("FAKE-PLOTLY-BUNDLE")), "updates never carry the bundle");
    assert.match(updates[2]!, /done: step 100 \/ 100/);
    assert.match(updates[2]!, /Plotly\.newPlot/);
    assert.equal(outputs.length, 1);
  });

  test("live view of a comparison: finished runs stay in the chart, overlaid with the one in flight", () => {
    const { sink, displays } = recorder();
    const s = createShow({ sink, loadBundle: () => BUNDLE, now: () => 0 });
    const listener = s.live("Loss by batch size", { x: "samples", interval: 0 });
    listener({ ...progress(100, true), label: "batch 16", batchSize: 16 });
    listener({ ...progress(3, false), label: "batch 100", totalSteps: 600, samplesSeen: 300, batchSize: 100 });
    const spec = (html: string) => JSON.parse(/var spec = (.*);\n/.exec(html)![1]!) as { data: { name?: string }[]; layout: { xaxis: { range?: number[] } } };
    const last = spec(displays[0]!.at(-1)!);
    const names = last.data.map((trace) => trace.name).filter(Boolean);
    assert.ok(names.includes("batch 16") && names.includes("batch 100"), `both runs drawn, got ${names.join(", ")}`);
    assert.deepEqual(last.layout.xaxis.range, [0, 60000], "x axis spans the longest run in images seen");
  });

  test("weights come from LayerWeights, a model's weights(layer) or a run's model; a Promise is refused", () => {
    const { sink, outputs } = recorder();
    const s = createShow({ sink, loadBundle: () => BUNDLE });
    const layer: LayerWeightsLike = { shape: [784, 10], kernel: new Float32Array(7840), bias: new Float32Array(10) };
    const asked: number[] = [];
    const model = {
      weights(index: number) {
        asked.push(index);
        return layer;
      },
    };
    s.weights(layer);
    s.weights(model, { layer: 2 });
    s.weights({ model });
    s.weights([
      { label: "a", weights: model },
      { label: "b", weights: layer },
    ]);
    assert.deepEqual(asked, [2, 0, 0]);
    assert.equal(outputs.length, 5);
    const lazy = { weights: async () => layer };
    assert.throws(() => s.weights(lazy as never), /weights\(0\) returned a Promise; await it/);
    assert.throws(() => s.weights({} as never), /show\.weights: source: expected layer weights/);
  });

  test("samples take a split with options, or images, labels and options", () => {
    const { sink, outputs } = recorder();
    const s = createShow({ sink, loadBundle: () => BUNDLE });
    const images = new Uint8Array(3 * 784);
    const labels = Uint8Array.of(4, 5, 6);
    s.samples({ images, labels }, { count: 2, title: "split form" });
    s.samples(images, labels, { count: 3, title: "array form" });
    assert.match(outputs[1]!, /split form/);
    assert.equal(outputs[1]!.match(/"type":"heatmap"/g)!.length, 2);
    assert.match(outputs[2]!, /array form/);
    assert.equal(outputs[2]!.match(/"type":"heatmap"/g)!.length, 3);
  });

  test("confusion needs a run that has a matrix", () => {
    const { sink } = recorder();
    const s = createShow({ sink, loadBundle: () => BUNDLE });
    assert.throws(() => s.confusion(run), /run "r" has no confusion matrix/);
  });

  test("outside a kernel, the real show explains instead of tslab's bare 'Not ready'", () => {
    assert.throws(() => show.html("<b>x</b>"), /no Jupyter kernel here/);
  });
});

describe("figureHtml", () => {
  test("labels cannot close the script: `<` is escaped inside the JSON spec", () => {
    const fig = lossFigure(run);
    fig.layout.title = { text: "</script><script>alert(1)</script>" };
    const html = figureHtml(fig, "plot-1");
    assert.equal(html.match(/<\/script>/g)!.length, 1, "only the closing tag of our own script");
    assert.match(html, /\\u003c\/script>/);
    const json = /var spec = (.*);\n/.exec(html)![1]!;
    assert.equal(JSON.parse(json).layout.title.text, "</script><script>alert(1)</script>");
  });

  test("typed arrays in a caller's figure become plain JSON arrays", () => {
    const html = figureHtml({ data: [{ type: "scatter", y: Float32Array.of(1, 2) }], layout: {}, config: {} }, "p");
    assert.match(html, /"y":\[1,2\]/);
  });

  test("bad ids and figures are refused", () => {
    assert.throws(() => figureHtml(lossFigure(run), 'x" onload="'), /id must be letters/);
    assert.throws(() => figureHtml({} as never, "p"), /fig must be \{ data/);
  });
});

describe("plotlyBundleHtml", () => {
  test("hides require.js's define while the bundle runs, and restores it", () => {
    const html = plotlyBundleHtml(BUNDLE);
    const hide = html.indexOf("window.define = undefined");
    const bundle = html.indexOf(BUNDLE);
    const restore = html.indexOf("window.define = window.__miePlotlyDefine");
    assert.ok(hide >= 0 && hide < bundle && bundle < restore);
    assert.throws(() => plotlyBundleHtml("a </script> b"), /contains "<\/script"/);
  });

  test("the pinned bundle is the one in node_modules and can be inlined", () => {
    assert.match(plotlyBundlePath(), /plotly\.js-(cartesian-)?dist-min[\\/]plotly(-cartesian)?\.min\.js$/);
    assert.ok(statSync(plotlyBundlePath()).size > 1_000_000);
    assert.match(plotlyBundleHtml(), /plotly\.js \(cartesian - minified\) v4\.1\.1/);
  });
});
