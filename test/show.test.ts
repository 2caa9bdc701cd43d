import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { statSync } from "node:fs";
import { createContext, runInContext } from "node:vm";
import { bundleLocation, UNTRUSTED_NOTE, type BundleLocation } from "../lib/show/chart-html";
import { lossFigure } from "../lib/figures";
import type { LayerWeights } from "../lib/model/model";
import { resolveSettings } from "../lib/train/settings";
import type { Progress, SweepMember } from "../lib/train/progress";
import { createShow, figureHtml, plotlyBundleHtml, plotlyBundlePath, show, type DisplaySink, type MimeBundle } from "../lib/show/show";

const BUNDLE = "/*FAKE-PLOTLY-BUNDLE*/ window.Plotly = {};";

/** A sink that records what a notebook would receive: plain outputs, and per live display its updates. */
function recorder() {
  const outputs: string[] = [];
  const displays: string[][] = [];
  const byId = new Map<string, string[]>();
  const text = (bundle: MimeBundle) => bundle["text/html"] ?? `markdown:${bundle["text/markdown"]}`;
  const sink: DisplaySink = {
    display: (bundle, id) => {
      if (id === undefined) return void outputs.push(text(bundle));
      assert.ok(!byId.has(id), `display id ${id} displayed twice`);
      const updates = [text(bundle)];
      byId.set(id, updates);
      displays.push(updates);
    },
    update: (id, bundle) => {
      const updates = byId.get(id);
      assert.ok(updates, `update of display id ${id}, never displayed`);
      updates.push(text(bundle));
    },
  };
  return { sink, outputs, displays };
}

const run = { label: "r", losses: [2, 1.5, 1.2, 1.1], batchSize: 16, steps: 4, seconds: 1, accuracy: 80 };

function progress(step: number, done = false): Progress {
  return {
    label: "lr 0.5",
    step,
    totalSteps: 100,
    samplesSeen: step * 16,
    seconds: step / 100,
    samplesPerSecond: 1600,
    loss: 1 / step,
    losses: Float32Array.from({ length: step }, (_, i) => 1 / (i + 1)),
    batchSize: 16,
    epoch: 1,
    diverged: null,
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

  test("live view of a sweep from the run store: finished runs are throttled too, and the sweep's last report draws every curve", () => {
    const { sink, displays } = recorder();
    let clock = 0;
    const s = createShow({ sink, loadBundle: () => BUNDLE, now: () => clock });
    const listener = s.live("Landscape", { interval: 500 });
    for (let i = 0; i < 48; i++) {
      clock += 2; // stored runs report their whole curve one after another, milliseconds apart
      listener({ ...progress(100, true), label: `run ${i}`, runsInSweep: 48 });
    }
    const updates = displays[0]!;
    assert.equal(updates.length, 2, "the first report and the last, not one redraw of every curve per run");
    const names = (JSON.parse(/var spec = (.*);\n/.exec(updates[1]!)![1]!) as { data: { name?: string }[] }).data.map((trace) => trace.name).filter(Boolean);
    assert.equal(new Set(names.filter((name) => name!.startsWith("run "))).size, 48, "the last redraw holds all 48 curves");
  });

  test("live view of a sweep of 48 runs (lr × batch size): the landscape fills in, running cells are marked, the best 5 curves drawn, the legend stays small", () => {
    const { sink, displays } = recorder();
    const s = createShow({ sink, loadBundle: () => BUNDLE, now: () => 0 });
    const listener = s.live("Landscape", { interval: 0, logY: true });
    const lrs = [1e-4, 5e-4, 1e-3, 5e-3, 1e-2, 5e-2, 0.1, 0.5, 1, 5, 10, 50];
    const sweep: SweepMember[] = lrs.flatMap((lr) => [1, 16, 100, 1000].map((batchSize) => ({
      label: `lr ${lr}, batch ${batchSize}`, layers: [784, 10], init: "torch", seed: 0, settings: resolveSettings({ lr, batchSize }),
    })));
    const report = (i: number, step: number, done: boolean) => listener({
      ...progress(step, done), label: sweep[i]!.label, runsInSweep: 48, sweep, ...(done ? { accuracy: 50 + i } : {}),
    });
    for (let i = 0; i < 10; i++) report(i, 100, true);
    report(10, 40, false);
    report(11, 0, false);
    const html = displays[0]!.at(-1)!;
    const fig = JSON.parse(/var spec = (.*);\n/.exec(html)![1]!) as {
      data: { type: string; name?: string; showlegend?: boolean; text?: string[]; z?: (number | null)[][]; xaxis?: string }[];
      layout: { shapes: { line: { color: string } }[]; xaxis: { title: { text: string } }; yaxis: { title: { text: string } } };
    };
    const heatmap = fig.data.find((trace) => trace.type === "heatmap")!;
    assert.equal(heatmap.z!.flat().filter((v) => v !== null).length, 10, "ten finished cells coloured, the others empty");
    assert.deepEqual([fig.layout.xaxis.title.text, fig.layout.yaxis.title.text], ["lr (log scale)", "batchSize (log scale)"]);
    assert.equal(fig.layout.shapes.length, 2, "both runs in flight framed");
    const cellText = fig.data.find((trace) => trace.type === "scatter" && trace.text)!.text!;
    assert.ok(cellText.includes("40%") && cellText.includes("59.0"), `cells: ${cellText.join(" ")}`);
    const curves = fig.data.filter((trace) => trace.type === "scatter" && trace.xaxis === "x2" && trace.name && !/accuracy|diverged/.test(trace.name));
    const named = curves.map((trace) => trace.name);
    assert.deepEqual(named.slice(0, 5).sort(), [5, 6, 7, 8, 9].map((i) => sweep[i]!.label).sort(), "the five most accurate finished runs");
    assert.equal(curves.length, 7, "and the two in flight");
    assert.ok(fig.data.filter((trace) => trace.showlegend !== false && trace.xaxis === "x2").length <= 12);
    assert.match(html, /class="mie-sweep"[^>]*>run 12 of 48 · 10 done/, "the progress line stays");
    assert.match(html, /Landscape/);
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

  test("live view of a sweep: runs in flight at once each keep one curve and one status line, in the order they started", () => {
    const { sink, displays } = recorder();
    const s = createShow({ sink, loadBundle: () => BUNDLE, now: () => 0 });
    const listener = s.live("Seeds", { interval: 0 });
    const report = (label: string, step: number, done = false) => listener({ ...progress(step, done), label });
    report("seed 0", 0);
    report("seed 1", 0);
    report("seed 1", 10);
    report("seed 0", 5);
    report("seed 1", 20);
    type Trace = { name: string; legendrank: number };
    // Legend order (the chart draws longer curves first, underneath).
    const named = (html: string) => (JSON.parse(/var spec = (.*);\n/.exec(html)![1]!) as { data: Trace[] }).data
      .sort((a, b) => a.legendrank - b.legendrank).map((trace) => trace.name);
    const during = displays[0]!.at(-1)!;
    assert.deepEqual(named(during), ["seed 0", "seed 1"], "one curve per run, in start order");
    assert.deepEqual([...during.matchAll(/(seed \d) · step (\d+)/g)].map((m) => `${m[1]} ${m[2]}`), ["seed 0 5", "seed 1 20"]);
    report("seed 1", 100, true);
    report("seed 2", 0);
    report("seed 0", 100, true);
    report("seed 2", 100, true);
    const end = displays[0]!.at(-1)!;
    assert.deepEqual(named(end), ["seed 0", "seed 1", "seed 2"]);
    assert.match(end, /seed 2 · done: step 100/);
  });

  test("live view of a diverged run: its status line says where and stays in sight, the chart marks the step", () => {
    const { sink, displays } = recorder();
    const s = createShow({ sink, loadBundle: () => BUNDLE, now: () => 0 });
    const listener = s.live("Learning rates", { interval: 0 });
    listener({ ...progress(10), label: "lr 0.1" });
    const losses = Float32Array.from([2.3, 40, 900, 1e5, 1e9, NaN]);
    listener({ ...progress(6, true), label: "lr 1e6", losses, loss: NaN, diverged: { step: 6, loss: NaN } });
    listener({ ...progress(50), label: "lr 0.1" });
    const html = displays[0]!.at(-1)!;
    assert.match(html, /lr 1e6 · diverged at step 6 \(loss NaN\)/, "the finished diverged run keeps its status line");
    assert.match(html, /lr 0\.1 · step 50 \/ 100/);
    const data = (JSON.parse(/var spec = (.*);\n/.exec(html)![1]!) as { data: { name?: string; mode?: string; x?: number[] }[] }).data;
    assert.ok(data.some((trace) => trace.name === "lr 1e6 · diverged at step 6 (loss NaN)"), "the legend says it diverged");
    assert.deepEqual(data.find((trace) => trace.mode === "markers")?.x, [6], "an × at the step it diverged");
  });

  test("live view of a run with an accuracy curve: the curve on the second axis, the latest point in its status line", () => {
    const { sink, displays } = recorder();
    const s = createShow({ sink, loadBundle: () => BUNDLE, now: () => 0 });
    const listener = s.live("Curve", { interval: 0 });
    const evaluations = [{ step: 20, accuracy: 85 }, { step: 40, accuracy: 88.5 }];
    listener({ ...progress(40), evaluations, evalSeconds: 0.02 });
    const html = displays[0]!.at(-1)!;
    assert.match(html, /accuracy 88\.50% at step 40 · measuring 0\.0 s \(5% of training\)/);
    const spec = JSON.parse(/var spec = (.*);\n/.exec(html)![1]!) as { data: { yaxis?: string; x?: number[]; y?: number[] }[]; layout: { yaxis2?: unknown } };
    const curve = spec.data.find((trace) => trace.yaxis === "y2");
    assert.deepEqual(curve?.y, [85, 88.5]);
    assert.deepEqual(curve?.x, [20, 40]);
    assert.ok(spec.layout.yaxis2, "a second y axis");
  });

  test("weights come from LayerWeights, a model's weights(layer) or a run's model; a Promise is refused", () => {
    const { sink, outputs } = recorder();
    const s = createShow({ sink, loadBundle: () => BUNDLE });
    const layer: LayerWeights = { shape: [784, 10], kernel: new Float32Array(7840), bias: new Float32Array(10) };
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

  test("samples take a split with options; bare pixels are refused", () => {
    const { sink, outputs } = recorder();
    const s = createShow({ sink, loadBundle: () => BUNDLE });
    const images = new Uint8Array(3 * 784);
    const labels = Uint8Array.of(4, 5, 6);
    s.samples({ images, labels }, { count: 2, title: "split form" });
    s.samples({ images, labels, rows: 28, cols: 28 }, { count: 3, title: "sized split" });
    assert.match(outputs[1]!, /split form/);
    assert.equal(outputs[1]!.match(/"type":"heatmap"/g)!.length, 2);
    assert.match(outputs[2]!, /sized split/);
    assert.equal(outputs[2]!.match(/"type":"heatmap"/g)!.length, 3);
    assert.throws(() => s.samples(images as never), /samplesFigure: split must be \{ images, labels \}/);
  });

  test("confusion needs a run that has a matrix", () => {
    const { sink } = recorder();
    const s = createShow({ sink, loadBundle: () => BUNDLE });
    assert.throws(() => s.confusion(run), /run "r" has no confusion matrix/);
    const diverged = { ...run, accuracy: NaN, confusion: [], perClassAccuracy: [], diverged: { step: 6, loss: NaN } };
    assert.throws(() => s.confusion(diverged), /show\.confusion: run "r" diverged at step 6 and was not evaluated: there is no confusion matrix/);
    assert.throws(() => s.perClass(diverged), /perClassFigure: run 0 \("r"\) diverged at step 6 and was not evaluated/);
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

/** A fake page to run a chart's script in: just the DOM, location and fetch the script touches. */
function chartPage(options: {
  plotly?: boolean;
  config?: Record<string, unknown>;
  href?: string;
  body?: Record<string, string>;
  loading?: boolean;
  respond?: (url: string) => { status: number; text: string };
}) {
  const boxes = new Map<string, { textContent: string; style: Record<string, string>; drawn?: string }>();
  const fetched: string[] = [];
  const listeners: (() => void)[] = [];
  const defineDuringLoad: unknown[] = [];
  const define = () => undefined;
  const window: Record<string, unknown> = {};
  Object.assign(window, {
    window,
    define,
    URL,
    location: new URL(options.href ?? "http://127.0.0.1:8888/lab/tree/nb.ipynb"),
    document: {
      readyState: options.loading ? "loading" : "complete",
      body: { getAttribute: (name: string) => options.body?.[name] ?? null },
      getElementById: (id: string) =>
        id === "jupyter-config-data" ? (options.config ? { textContent: JSON.stringify(options.config) } : null) : boxes.get(id) ?? null,
    },
    addEventListener: (event: string, listener: () => void) => event === "load" && listeners.push(listener),
    fetch: async (url: string) => {
      fetched.push(url);
      const { status, text } = options.respond?.(url) ?? { status: 200, text: "window.__loaded()" };
      return { ok: status === 200, status, text: async () => text };
    },
    // What the fetched bundle runs: record whether require.js's define was hidden, then define Plotly.
    __loaded: () => {
      defineDuringLoad.push(window.define);
      window.Plotly = fakePlotly("loaded");
    },
  });
  const fakePlotly = (by: string) => ({ newPlot: (el: { drawn?: string }) => (el.drawn = by) });
  if (options.plotly) window.Plotly = fakePlotly("page");
  const context = createContext(window);
  const settle = () => new Promise((done) => setTimeout(done, 10));
  return {
    window,
    fetched,
    defineDuringLoad,
    boxes,
    /** Render a chart output: its box, then its script. */
    render(html: string) {
      const id = /<div id="([^"]+)"/.exec(html)![1]!;
      const note = />([^<]*)<\/div>/.exec(html)![1]!;
      boxes.set(id, { textContent: note, style: {} });
      runInContext(/<script>([\s\S]*)<\/script>/.exec(html)![1]!, context);
      return boxes.get(id)!;
    },
    settle,
    async load() {
      (window.document as { readyState: string }).readyState = "complete";
      listeners.splice(0).forEach((listener) => listener());
      await settle();
    },
  };
}

describe("figureHtml in the page: loads Plotly itself where the page never received the bundle", () => {
  const bundle: BundleLocation = { path: "/srv/my project/node_modules/plotly/plotly.min.js", fromCwd: "../node_modules/plotly/plotly.min.js" };
  const chart = (id: string) => figureHtml(lossFigure(run), id, bundle);
  const lab = { baseUrl: "/base/", serverRoot: "/srv/my project" };

  test("with Plotly on the page it draws at once and requests nothing", () => {
    const page = chartPage({ plotly: true, config: lab });
    const box = page.render(chart("c1"));
    assert.equal(box.drawn, "page");
    assert.equal(box.textContent, "");
    assert.deepEqual(page.fetched, []);
  });

  test("JupyterLab without Plotly: says it is loading, fetches the bundle once from files/ under the server root, draws every chart", async () => {
    const page = chartPage({ config: lab, href: "http://127.0.0.1:8888/base/lab/tree/nb.ipynb" });
    const first = page.render(chart("c1"));
    const second = page.render(chart("c2"));
    assert.equal(first.textContent, "Loading the chart…");
    await page.settle();
    assert.deepEqual(page.fetched, ["http://127.0.0.1:8888/base/files/node_modules/plotly/plotly.min.js"]);
    assert.deepEqual([first.drawn, second.drawn], ["loaded", "loaded"]);
    assert.deepEqual(page.defineDuringLoad, [undefined], "require.js's define is hidden while the bundle runs");
    assert.equal(typeof page.window.define, "function", "and restored after");
  });

  test("Notebook 7 (no serverRoot): the bundle is found from the notebook's folder, the kernel's working folder", async () => {
    const page = chartPage({ config: { baseUrl: "/" }, href: "http://h:1/notebooks/notebooks/My%20Net.ipynb" });
    page.render(chart("c1"));
    await page.settle();
    assert.deepEqual(page.fetched, ["http://h:1/files/node_modules/plotly/plotly.min.js"]);
  });

  test("the classic notebook: from its body's base URL and notebook path", async () => {
    const page = chartPage({ body: { "data-base-url": "/nb/", "data-notebook-path": "notebooks/a.ipynb" }, href: "http://h:1/nb/notebooks/notebooks/a.ipynb" });
    page.render(chart("c1"));
    await page.settle();
    assert.deepEqual(page.fetched, ["http://h:1/nb/files/node_modules/plotly/plotly.min.js"]);
  });

  test("a server that cannot serve it: the box says why and what to do", async () => {
    const page = chartPage({ config: lab, respond: () => ({ status: 404, text: "" }) });
    const box = page.render(chart("c1"));
    await page.settle();
    assert.equal(box.drawn, undefined);
    assert.match(box.textContent, /^Chart not drawn: loading Plotly from .* gave HTTP 404: restart the kernel and run all cells/);
  });

  test("under the home folder: the bundle's path starts with ~, as JupyterLab writes the server root there", async () => {
    assert.deepEqual(bundleLocation("/home/me/p/node_modules/plotly/plotly.min.js", "/home/me/p/notebooks", "/home/me/"),
      { path: "~/p/node_modules/plotly/plotly.min.js", fromCwd: "../node_modules/plotly/plotly.min.js" });
    assert.equal(bundleLocation("/home/meow/p/x.js", "/", "/home/me").path, "/home/meow/p/x.js", "a sibling folder is not home");
    assert.equal(bundleLocation("/srv/p/x.js", "/", "/home/me").path, "/srv/p/x.js");
    assert.equal(bundleLocation("/p/x.js", "/", "/").path, "/p/x.js", "HOME=/ abbreviates nothing (nor does Jupyter)");
    const underHome: BundleLocation = { path: "~/p/node_modules/plotly/plotly.min.js", fromCwd: "../node_modules/plotly/plotly.min.js" };
    const page = chartPage({ config: { baseUrl: "/", serverRoot: "~/p" } });
    page.render(figureHtml(lossFigure(run), "c1", underHome));
    await page.settle();
    assert.deepEqual(page.fetched, ["http://127.0.0.1:8888/files/node_modules/plotly/plotly.min.js"]);
    // Jupyter writes a root that is the home folder itself in full: the bundle is then under it.
    const homeRoot = chartPage({ config: { baseUrl: "/", serverRoot: "/home/me" } });
    homeRoot.render(figureHtml(lossFigure(run), "c1", underHome));
    await homeRoot.settle();
    assert.deepEqual(homeRoot.fetched, ["http://127.0.0.1:8888/files/p/node_modules/plotly/plotly.min.js"]);
  });

  test("a bundle outside the server's root is not requested; the box says so", async () => {
    const page = chartPage({ config: { baseUrl: "/", serverRoot: "/home/me/elsewhere" } });
    const box = page.render(chart("c1"));
    await page.settle();
    assert.deepEqual(page.fetched, []);
    assert.match(box.textContent, /lies outside this Jupyter server's root \(\/home\/me\/elsewhere\): restart the kernel/);
  });

  test("an exported page waits for its inlined bundle until the page has loaded, and never requests anything", async () => {
    const page = chartPage({ loading: true, href: "file:///tmp/report.html" });
    const box = page.render(chart("c1"));
    assert.equal(box.textContent, "Loading the chart…");
    page.window.Plotly = { newPlot: (el: { drawn?: string }) => (el.drawn = "inlined later") };
    await page.load();
    assert.equal(box.drawn, "inlined later");
    assert.deepEqual(page.fetched, []);
  });

  test("an exported page without the bundle says so instead of a blank box", async () => {
    const page = chartPage({ loading: true, href: "file:///tmp/report.html" });
    const box = page.render(chart("c1"));
    await page.load();
    assert.deepEqual(page.fetched, []);
    assert.match(box.textContent, /^Chart not drawn: this page has no Plotly .*restart the kernel and run all cells/);
  });

  test("where scripts do not run (an untrusted notebook) the box itself says what to do", () => {
    assert.match(chart("c1"), new RegExp(`^<div id="c1" class="mie-plot" style="[^"]*">${UNTRUSTED_NOTE.replace(/[().]/g, "\\$&")}</div>`));
    assert.match(UNTRUSTED_NOTE, /Trust the notebook/);
  });
});
