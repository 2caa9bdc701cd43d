/**
 * Plotly charts as notebook HTML outputs. The pinned bundle is inlined once per kernel session (so an exported
 * report is self-contained and offline); each chart draws with `window.Plotly` when the page has it, and
 * otherwise loads the bundle itself, once per page, from the Jupyter server's `files/` route. That covers pages
 * that never received the inlined copy: a reloaded tab or a second tab on a running kernel, a notebook whose
 * bundle output was cleared. Where nothing can load it, the chart's box says what to do.
 */
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { relative } from "node:path";
import type { Figure } from "../figures";
import { exploreScript } from "./explore-script";

/**
 * Path of the Plotly bundle to inline: the pinned `plotly.js-cartesian-dist-min` (1.5 MB against the full
 * bundle's 4.8 MB), which has every trace type `figures` draws (scatter, bar, heatmap). `figures` takes its
 * types from the full `plotly.js-dist-min` package, which is never sent to the browser.
 * @example statSync(plotlyBundlePath()).size; // ~1.5 MB
 */
export function plotlyBundlePath(): string {
  return require.resolve("plotly.js-cartesian-dist-min/plotly-cartesian.min.js");
}

/**
 * The pinned Plotly bundle as an HTML fragment that defines `window.Plotly`. The classic notebook has require.js,
 * and a bundle that sees `window.define` may register as an anonymous AMD module (which require.js rejects)
 * instead of setting the global, as Plotly's older bundles did. v4's wrapper only checks `module`, but hiding
 * `define` while the bundle runs (restored after) keeps the charts independent of such details.
 * @example tslab.display.html(plotlyBundleHtml());
 */
export function plotlyBundleHtml(source: string = readFileSync(plotlyBundlePath(), "utf8")): string {
  // The bundle sits inside a <script>: a literal "</script" in it would end the element early.
  if (/<\/script/i.test(source)) throw new Error(`${plotlyBundlePath()}: contains "</script", cannot be inlined`);
  return (
    "<script>window.__miePlotlyDefine = window.define; window.define = undefined;</script>\n" +
    `<script>${source}</script>\n` +
    "<script>window.define = window.__miePlotlyDefine; delete window.__miePlotlyDefine;</script>"
  );
}

/**
 * Where the kernel finds the bundle: its path as Jupyter writes the server's root (a path under the home folder
 * starts with "~", as jupyter_server abbreviates it), and relative to the kernel's working folder (the notebook's
 * folder).
 */
export interface BundleLocation {
  path: string;
  fromCwd: string;
}

/**
 * The bundle's location as this kernel sees it. Under the home folder the path starts with "~": that is how
 * JupyterLab's page names a server root there, and it keeps the user's home path out of saved notebooks and reports.
 * @example bundleLocation(); // { path: "~/mie/node_modules/plotly.js-…/plotly-cartesian.min.js", fromCwd: "../node_modules/…" }
 */
export function bundleLocation(path = plotlyBundlePath(), cwd = process.cwd(), home = homedir()): BundleLocation {
  const homeFolder = home.replace(/\/+$/, "");
  const underHome = homeFolder !== "" && path.startsWith(`${homeFolder}/`);
  return { path: underHome ? `~${path.slice(homeFolder.length)}` : path, fromCwd: relative(cwd, path).split("\\").join("/") };
}

/** Shown by a chart's box until its script replaces it: seen only where scripts do not run. */
export const UNTRUSTED_NOTE = "Chart not drawn: its script did not run. Trust the notebook (File → Trust Notebook) or re-run the cell.";

/**
 * Runs in the page: resolves once `window.Plotly` exists, loading the bundle from the Jupyter server if needed
 * (one shared promise per page). JupyterLab's page config names the server root ("~/…" under the home folder,
 * like the bundle's path), so a bundle path under it maps to `{baseUrl}files/…`; Notebook 7
 * (`{baseUrl}notebooks/PATH`) and the classic notebook (body attributes) give the notebook's folder, the kernel's
 * working folder. Rejects with a one-line message.
 */
const LOADER = `function (bundle) {
  if (window.Plotly) return Promise.resolve();
  if (window.__mieLoadingPlotly) return window.__mieLoadingPlotly;
  var say = function (text) { return Promise.reject(new Error(text)); };
  var again = "restart the kernel and run all cells (Kernel menu)";
  var encode = function (path) { return path.split("/").map(encodeURIComponent).join("/"); };
  var url = null, outside = null;
  var configElement = document.getElementById("jupyter-config-data");
  var config = {};
  try { config = configElement ? JSON.parse(configElement.textContent) : {}; } catch (e) { config = {}; }
  var body = document.body;
  if (config.baseUrl && typeof config.serverRoot === "string") {
    var root = config.serverRoot.replace(/\\/+$/, "");
    if (bundle.path.indexOf(root + "/") === 0) url = config.baseUrl + "files/" + encode(bundle.path.slice(root.length + 1));
    // A root written out in full while the bundle's path starts with "~": Jupyter does not abbreviate a root that is
    // the home folder itself, so try that (a wrong guess ends in a 404, which the box reports).
    else if (bundle.path.indexOf("~/") === 0 && root.charAt(0) === "/") url = config.baseUrl + "files/" + encode(bundle.path.slice(2));
    else outside = root;
  } else if (config.baseUrl && location.pathname.indexOf(config.baseUrl + "notebooks/") === 0) {
    var notebook = decodeURIComponent(location.pathname.slice((config.baseUrl + "notebooks/").length));
    url = config.baseUrl + "files/" + encode(notebook.slice(0, notebook.lastIndexOf("/") + 1) + bundle.fromCwd);
  } else if (body && body.getAttribute("data-notebook-path") !== null) {
    var path = body.getAttribute("data-notebook-path");
    url = (body.getAttribute("data-base-url") || "/") + "files/" + encode(path.slice(0, path.lastIndexOf("/") + 1) + bundle.fromCwd);
  }
  if (!url) {
    return say(outside !== null
      ? "Chart not drawn: Plotly was sent to another page, and its bundle (" + bundle.path + ") lies outside this Jupyter server's root (" + outside + "): " + again + "."
      : "Chart not drawn: this page has no Plotly (an export without the bundle?): " + again + ", then export again.");
  }
  url = new URL(url, location.href).href;
  window.__mieLoadingPlotly = fetch(url, { credentials: "same-origin" }).then(function (response) {
    if (!response.ok) throw new Error("Chart not drawn: loading Plotly from " + url + " gave HTTP " + response.status + ": " + again + ".");
    return response.text();
  }).then(function (source) {
    if (window.Plotly) return;
    var define = window.define;
    window.define = undefined;
    try { (0, eval)(source); } finally { window.define = define; }
    if (!window.Plotly) throw new Error("Chart not drawn: " + url + " did not define Plotly.");
  });
  window.__mieLoadingPlotly.catch(function () { window.__mieLoadingPlotly = undefined; });
  return window.__mieLoadingPlotly;
}`;

/**
 * A figure as HTML: a `<div>` plus a script that draws it with `window.Plotly`, loading the bundle itself when
 * this page has none (see `LOADER`); meanwhile the box says "Loading…", and on failure it says what to do. An
 * exported page waits for its own inlined bundle (which may come later in the page) and never requests anything.
 * The spec is JSON with `<` escaped, so text such as `</script>` inside labels cannot end the script.
 * @example show.html(figureHtml(lossFigure(run), "loss-1"));
 */
export function figureHtml(fig: Figure, id: string, bundle: BundleLocation = bundleLocation()): string {
  if (!/^[A-Za-z][\w-]*$/.test(id)) throw new RangeError(`figureHtml: id must be letters, digits, - or _, got ${JSON.stringify(id)}`);
  if (!fig || !Array.isArray(fig.data) || typeof fig.layout !== "object") {
    throw new TypeError("figureHtml: fig must be { data: [...traces], layout: {...}, config?: {...} }");
  }
  const spec = scriptSafeJson({ data: fig.data, layout: fig.layout, config: fig.config ?? {} });
  const height = typeof fig.layout.height === "number" ? fig.layout.height : 450;
  const follow = exploreScript(fig, "window.Plotly", "el");
  return (
    `<div id="${id}" class="mie-plot" style="width:100%;min-height:${height}px">${UNTRUSTED_NOTE}</div>\n` +
    `<script>(function () {\n` +
    `  var spec = ${spec};\n` +
    `  var bundle = ${scriptSafeJson(bundle)};\n` +
    `  var box = function () { return document.getElementById("${id}"); };\n` +
    `  var note = function (text) { var el = box(); if (el) { el.textContent = text; el.style.minHeight = "0"; } };\n` +
    `  var draw = function () {\n` +
    `    var el = box();\n` +
    `    if (!el) return;\n` +
    `    el.textContent = "";\n` +
    `    el.style.minHeight = "${height}px";\n` +
    `    window.Plotly.newPlot(el, spec.data, spec.layout, spec.config)` +
    (follow ? `.then(function () { ${follow} })` : "") +
    `;\n` +
    `  };\n` +
    `  if (window.Plotly) return draw();\n` +
    `  note("Loading the chart…");\n` +
    `  var load = window.__mieEnsurePlotly = window.__mieEnsurePlotly || ${LOADER};\n` +
    `  var start = function () { load(bundle).then(draw, function (error) { note(error.message); }); };\n` +
    // An exported page inlines the bundle once, possibly after this chart: wait until the page has loaded.
    `  if (document.readyState === "loading") window.addEventListener("load", start); else start();\n` +
    `})();</script>`
  );
}

/** JSON that is safe inside a <script>: typed arrays as arrays, `<` and line separators escaped. */
export function scriptSafeJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    ArrayBuffer.isView(v) && !(v instanceof DataView) ? Array.from(v as unknown as ArrayLike<number>) : v,
  )
    .replace(/</g, "\\u003c")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}
