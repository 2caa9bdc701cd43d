/**
 * A notebook on Deno's kernel in JupyterLab 4 (headless Chromium, reduced data): OneLayerNetwork, its code
 * unchanged, with the kernel picked in the notebook's metadata as a person picks it (Kernel → Change Kernel… saves
 * the same). A fresh kernel draws every chart, live training charts are updated in place (one output each); a tab
 * reopened while the kernel keeps running (the page never received the Plotly bundle) and a saved notebook reloaded
 * draw every chart too; HOME stays empty (Deno's cache goes to the project's .deno/). lab.test.ts does the same and
 * more on tslab.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { ROOT } from "../../scripts/jupyter";
import { NOTEBOOK_CHARTS, type NotebookJson } from "../helpers/notebook";
import { labOutputs, menu, startLabSession, waitForCharts, waitForNotebook, waitForRun, type LabSession } from "../helpers/lab-ui";

const REDUCED = { MIE_TRAIN_LIMIT: "2000", MIE_TEST_LIMIT: "500" };
const NAME = "OneLayerNetwork";
const CHARTS = NOTEBOOK_CHARTS[NAME];
const DENO = { display_name: "Deno", language: "typescript", name: "deno" };
/** A line of the Plotly bundle's licence header: present once per inlined copy. */
const BUNDLE_MARK = "Copyright 2012-2026, Plotly, Inc.";

async function runAll(page: Page): Promise<void> {
  await menu(page, "Run", "Run All Cells");
  await waitForRun(page);
}

async function expectCharts(page: Page, when: string): Promise<void> {
  const outputs = await waitForCharts(page, CHARTS);
  assert.deepEqual(outputs.failures, [], `${when}: cells failed`);
  assert.equal(outputs.drawn, CHARTS, `${when}: ${outputs.drawn} of ${CHARTS} charts drawn; the other boxes say ${JSON.stringify(outputs.undrawn)}`);
}

async function kernelIds(lab: LabSession, path: string): Promise<{ id: string; name: string }[]> {
  const response = await fetch(`${lab.server.base}api/sessions?token=${lab.server.token}`);
  const sessions = (await response.json()) as { path: string; kernel: { id: string; name: string } }[];
  return sessions.filter((session) => session.path === path).map((session) => ({ id: session.kernel.id, name: session.kernel.name }));
}

describe(`JupyterLab 4 on Deno's kernel: ${NAME}`, () => {
  let lab: LabSession;
  let path = "";
  let page: Page;
  let kernel: { id: string; name: string }[] = [];
  const pageErrors: string[] = [];
  const watch = (opened: Page): Page => {
    // Lab's debugger panel reports this for kernels without a debugger, such as Deno's.
    opened.on("pageerror", (error) => !/No active debugger session/.test(String(error)) && pageErrors.push(String(error)));
    return opened;
  };

  before(async () => {
    lab = await startLabSession(REDUCED);
    path = lab.copy(join(ROOT, "notebooks", `${NAME}.ipynb`));
    const notebook = JSON.parse(readFileSync(join(ROOT, path), "utf8")) as NotebookJson;
    notebook.metadata.kernelspec = DENO;
    writeFileSync(join(ROOT, path), JSON.stringify(notebook));
  });
  after(async () => {
    await page?.close();
    await lab?.close();
  });

  test("Run All on a fresh Deno kernel draws every chart", async () => {
    page = watch(await lab.open(path, "deno-fresh", "Deno"));
    await runAll(page);
    await expectCharts(page, "fresh kernel, Run All");
    kernel = await kernelIds(lab, path);
    assert.deepEqual(kernel.map((k) => k.name), ["deno"], "one Deno kernel session for the notebook");
  });

  test("saved: every live chart is one output updated in place to its final state, the bundle once", async () => {
    await menu(page, "File", "Save Notebook");
    await page.waitForFunction(() => document.querySelector(".jp-mod-dirty") === null, undefined, { timeout: 30_000 });
    const saved = readFileSync(join(ROOT, path), "utf8");
    assert.equal(saved.split(BUNDLE_MARK).length - 1, 1, "the bundle inlined once");
    const cells = (JSON.parse(saved) as { cells: { source: string | string[]; outputs?: { data?: Record<string, string | string[]> }[] }[] }).cells;
    const live = cells.filter((cell) => [cell.source].flat().join("").includes("show.live("));
    assert.ok(live.length >= 5, `the notebook's live views (got ${live.length})`);
    for (const cell of live) {
      const html = (cell.outputs ?? []).map((output) => [output.data?.["text/html"] ?? ""].flat().join(""));
      const views = html.filter((text) => text.includes("mie-sweep") || /done: step|· step \d/.test(text));
      assert.equal(views.length, 1, `one live output in: ${[cell.source].flat().join("").slice(0, 80)}`);
      assert.match(views[0]!, /done: step/, "the live output shows its final update");
    }
  });

  test("tab closed and reopened while the kernel keeps running, then Run All (the page never got the bundle)", async () => {
    await page.close();
    page = watch(await lab.open(path, "deno-reopened", "Deno"));
    assert.deepEqual(await kernelIds(lab, path), kernel, "the same kernel still runs");
    await runAll(page);
    await expectCharts(page, "reopened tab on a running kernel, Run All");
  });

  test("save, then reload the page: the charts load Plotly from the server", async () => {
    await menu(page, "File", "Save Notebook");
    await page.waitForFunction(() => document.querySelector(".jp-mod-dirty") === null, undefined, { timeout: 30_000 });
    assert.equal(readFileSync(join(ROOT, path), "utf8").split(BUNDLE_MARK).length - 1, 0, "the kernel sent the bundle to the first page only");
    await page.reload();
    await waitForNotebook(page, "Deno");
    await expectCharts(page, "saved and reloaded");
    assert.equal((await labOutputs(page)).boxes, CHARTS);
    assert.deepEqual(pageErrors, [], "no errors on any page");
  });

  test("JupyterLab and Deno's kernel wrote nothing into HOME (no ~/.cache/deno, ~/.local, ~/.jupyter)", () => {
    assert.deepEqual(readdirSync(lab.home, { recursive: true }), []);
  });
});
