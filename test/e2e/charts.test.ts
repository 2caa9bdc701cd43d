/**
 * Every chart kind through real Jupyter: `charts.ipynb` is executed by nbclient with the tslab kernel (importing
 * the compiled `@mie/lib`), exported to HTML, and opened offline in headless Chromium.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { executeNotebook, ROOT } from "../../scripts/jupyter";
import { openReport, type OpenedReport } from "../helpers/browser";
import { htmlOutputs, type NotebookJson } from "../helpers/notebook";

/** Charts the notebook draws: loss, weights (two sets), hidden units, 2 × samples, confusion, per class, live, loss again. */
const CHARTS = 9;
/** A line of the bundle's licence header: present once per inlined copy. */
const BUNDLE_MARK = "Copyright 2012-2026, Plotly, Inc.";
const EVIL = '<img src=x onerror="window.__mieInjected = 1"> & <script>window.__mieInjected = 2</script>';

const count = (text: string, part: string): number => text.split(part).length - 1;

describe("charts in a notebook executed by Jupyter, exported to HTML, opened offline", () => {
  const out = mkdtempSync(join(tmpdir(), "mie-charts-"));
  let notebook: NotebookJson;
  let html: string;
  let report: OpenedReport | undefined;

  before(async () => {
    // The notebook imports the compiled library: testing stale JS would prove nothing about the sources.
    const sources = readdirSync(join(ROOT, "lib"), { recursive: true })
      .map(String)
      .filter((file) => file.endsWith(".ts") && !file.endsWith(".d.ts") && !file.startsWith("dist"));
    for (const file of sources) {
      const built = join(ROOT, "lib", "dist", file.replace(/\.ts$/, ".js"));
      const source = join(ROOT, "lib", file);
      let stale: boolean;
      try {
        stale = statSync(built).mtimeMs < statSync(source).mtimeMs;
      } catch {
        stale = true;
      }
      if (stale) throw new Error(`${built} is missing or older than ${source}: run \`npm run build\` first`);
    }
    await executeNotebook(join(ROOT, "test/e2e/charts.ipynb"), {
      outNotebook: join(out, "charts.ipynb"),
      outHtml: join(out, "charts.html"),
    });
    notebook = JSON.parse(readFileSync(join(out, "charts.ipynb"), "utf8")) as NotebookJson;
    html = readFileSync(join(out, "charts.html"), "utf8");
    report = await openReport(join(out, "charts.html"));
  });
  after(async () => {
    await report?.close();
    rmSync(out, { recursive: true, force: true });
  });

  test("the saved notebook holds the bundle once, in an output of its own, and one placeholder per chart", () => {
    const outputs = htmlOutputs(notebook);
    const withBundle = outputs.filter((output) => output.includes(BUNDLE_MARK));
    assert.equal(withBundle.length, 1);
    assert.doesNotMatch(withBundle[0]!, /class="mie-plot"/, "the bundle output carries no chart");
    assert.equal(outputs.reduce((sum, output) => sum + count(output, 'class="mie-plot"'), 0), CHARTS);
  });

  test("the live view left exactly one output, its final state", () => {
    const liveCell = notebook.cells.find((cell) => [cell.source].flat().join("").includes("show.live("))!;
    const outputs = (liveCell.outputs ?? []).filter((output) => output.data?.["text/html"] !== undefined);
    assert.equal(outputs.length, 1, "updates replaced the display instead of adding outputs");
    const final = [outputs[0]!.data!["text/html"]!].flat().join("");
    assert.match(final, /live run · done: step 400 \/ 400 \(100%\)/);
    assert.doesNotMatch(final, new RegExp(BUNDLE_MARK));
  });

  test("the HTML inlines the bundle exactly once and every chart is drawn", () => {
    assert.equal(count(html, BUNDLE_MARK), 1);
    assert.equal(report!.plotCount, CHARTS);
    assert.equal(report!.plotsWithSvg, CHARTS);
  });

  test("no page errors and no requests: the report works offline", () => {
    assert.deepEqual(report!.errors, []);
    assert.deepEqual(report!.consoleErrors, []);
    assert.deepEqual(report!.requests, []);
  });

  test("caller-given labels and titles show as text and never run", async () => {
    const page = report!.page;
    assert.equal(await page.evaluate(() => (window as unknown as { __mieInjected?: number }).__mieInjected), undefined);
    assert.equal(await page.locator(".mie-results caption").textContent(), EVIL);
    assert.equal(await page.locator(".mie-results tbody tr:nth-child(3) td:first-child").textContent(), EVIL);
    const firstChart = page.locator(".js-plotly-plot").first();
    assert.equal(await firstChart.locator(".gtitle").first().textContent(), EVIL);
    const legend = await firstChart.locator(".legendtext").allTextContents();
    assert.ok(
      legend.some((text) => text.startsWith(EVIL)),
      `legend entries: ${JSON.stringify(legend)}`,
    );
  });

  test("the live view's final chart and status line are in the exported page", async () => {
    const page = report!.page;
    assert.equal(await page.getByText("live run · done: step 400 / 400", { exact: false }).count(), 1);
    assert.equal(await page.locator(".js-plotly-plot .gtitle", { hasText: "Live training" }).count(), 1);
  });
});
