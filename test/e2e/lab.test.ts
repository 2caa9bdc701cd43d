/**
 * The notebooks in JupyterLab 4, in headless Chromium, on reduced data: every chart must be drawn however the
 * page came to be: a fresh kernel; a tab reopened while the kernel keeps running (the page never received the
 * Plotly bundle the kernel sent earlier); a saved notebook reloaded; an untrusted copy (no script runs: the
 * boxes must say so); a second tab; cleared outputs and one cell; the same notebook in Notebook 7.
 * The cases run in order on one server and build on each other, as a person's session does.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { UNTRUSTED_NOTE } from "../../lib/show/chart-html";
import { ROOT } from "../../scripts/jupyter";
import { allCommandLines } from "../helpers/command-lines";
import { NOTEBOOK_CHARTS } from "../helpers/notebook";
import { labOutputs, menu, startLabSession, waitForCharts, waitForNotebook, waitForRun, type LabSession } from "../helpers/lab-ui";

const REDUCED = { MIE_TRAIN_LIMIT: "2000", MIE_TEST_LIMIT: "500" };
const CHARTS = NOTEBOOK_CHARTS;
/** A line of the Plotly bundle's licence header: present once per inlined copy. */
const BUNDLE_MARK = "Copyright 2012-2026, Plotly, Inc.";

async function runAll(page: Page): Promise<void> {
  await menu(page, "Run", "Run All Cells");
  await waitForRun(page);
}

async function save(page: Page, path: string): Promise<string> {
  await menu(page, "File", "Save Notebook");
  await page.waitForFunction(() => document.querySelector(".jp-mod-dirty") === null, undefined, { timeout: 30_000 });
  return readFileSync(join(ROOT, path), "utf8");
}

/** Assert that exactly `charts` charts are drawn (after waiting for them), with what the others show if not. */
async function expectCharts(page: Page, charts: number, when: string): Promise<void> {
  const outputs = await waitForCharts(page, charts);
  assert.deepEqual(outputs.failures, [], `${when}: cells failed`);
  assert.equal(
    outputs.drawn,
    charts,
    `${when}: ${outputs.drawn} of ${charts} charts drawn; the other boxes say ${JSON.stringify(outputs.undrawn)}`,
  );
}

/** Kernel ids of the server's sessions for `path`. */
async function kernels(lab: LabSession, path: string): Promise<string[]> {
  const response = await fetch(`${lab.server.base}api/sessions?token=${lab.server.token}`);
  const sessions = (await response.json()) as { path: string; kernel: { id: string } }[];
  return sessions.filter((session) => session.path === path).map((session) => session.kernel.id);
}

const count = (text: string, part: string): number => text.split(part).length - 1;

describe("JupyterLab 4: every chart is drawn, however the page came to be", () => {
  let lab: LabSession;
  before(async () => {
    lab = await startLabSession(REDUCED);
  });
  after(async () => {
    await lab?.close();
  });

  test("the token is on no process's command line (the server's, the kernels', Chromium's)", () => {
    const lines = allCommandLines();
    assert.match(lines, /jupyterlab/, "the server's command line is in the list");
    assert.ok(!lines.includes(lab.server.token), "the token is on a command line, where every user can read it");
  });

  for (const name of Object.keys(CHARTS) as (keyof typeof CHARTS)[]) {
    describe(name, () => {
      const charts = CHARTS[name];
      let path = "";
      let page: Page;
      let kernel: string[] = [];
      let chartCell = -1;
      let pageErrors: string[] = [];
      const watch = (opened: Page): Page => {
        // Lab's debugger panel reports this for kernels without a debugger, such as tslab.
        opened.on("pageerror", (error) => !/No active debugger session/.test(String(error)) && pageErrors.push(String(error)));
        return opened;
      };
      before(() => {
        path = lab.copy(join(ROOT, "notebooks", `${name}.ipynb`));
        pageErrors = [];
      });
      after(async () => {
        await page?.close();
      });

      test("Run All on a fresh kernel", async () => {
        page = watch(await lab.open(path, `${name}-fresh`));
        await runAll(page);
        await expectCharts(page, charts, "fresh kernel, Run All");
        kernel = await kernels(lab, path);
        assert.equal(kernel.length, 1, "one kernel session for the notebook");
        chartCell = await page.evaluate(() =>
          Array.from(document.querySelectorAll(".jp-Notebook .jp-Cell")).findIndex((cell) => cell.querySelector(".js-plotly-plot") !== null),
        );
        assert.ok(chartCell >= 0);
      });

      test("tab closed and reopened while the kernel keeps running, then Run All (the page never got the bundle)", async () => {
        await page.close();
        page = watch(await lab.open(path, `${name}-reopened`));
        assert.equal((await labOutputs(page)).boxes, 0, "nothing was saved: the reopened page starts without outputs");
        assert.deepEqual(await kernels(lab, path), kernel, "the same kernel still runs");
        await runAll(page);
        await expectCharts(page, charts, "reopened tab on a running kernel, Run All");
      });

      test("save, then reload the page", async () => {
        const saved = await save(page, path);
        assert.equal(count(saved, 'class=\\"mie-plot\\"'), charts, "the saved notebook holds every chart");
        assert.equal(count(saved, BUNDLE_MARK), 0, "the kernel sent the bundle to the first page only: these charts load it themselves");
        await page.reload();
        await waitForNotebook(page);
        await expectCharts(page, charts, "saved and reloaded");
      });

      test("an untrusted copy of the saved notebook: every chart box says what to do instead of staying blank", async () => {
        // Changing any cell breaks JupyterLab's signature, so the copy opens untrusted and its scripts never run.
        const notebook = JSON.parse(readFileSync(join(ROOT, path), "utf8")) as { cells: { source: string | string[] }[] };
        notebook.cells[0]!.source = `${[notebook.cells[0]!.source].flat().join("")}\n`;
        const untrusted = path.replace(/\.ipynb$/, "-untrusted.ipynb");
        writeFileSync(join(ROOT, untrusted), JSON.stringify(notebook));
        const opened = await lab.open(untrusted, `${name}-untrusted`);
        try {
          const outputs = await labOutputs(opened);
          assert.equal(outputs.drawn, 0, "no script ran");
          assert.equal(outputs.boxes, charts);
          assert.deepEqual(new Set(outputs.undrawn), new Set([UNTRUSTED_NOTE]));
        } finally {
          await opened.close();
        }
      });

      test("the same notebook in a second tab, run there", async () => {
        const second = watch(await lab.open(path, `${name}-second`));
        try {
          await runAll(second);
          await expectCharts(second, charts, "second tab, Run All");
        } finally {
          await second.close();
        }
      });

      test("Clear All Outputs, save, reopen, then run one chart cell", async () => {
        await page.bringToFront();
        await menu(page, "Edit", "Clear Outputs of All Cells");
        const saved = await save(page, path);
        assert.equal(count(saved, "mie-plot"), 0, "outputs cleared on disk");
        await page.close();
        page = watch(await lab.open(path, `${name}-cleared`));
        const cell = page.locator(".jp-Notebook .jp-Cell").nth(chartCell);
        await cell.locator(".jp-InputPrompt").click();
        await page.keyboard.press("Shift+Enter");
        await waitForRun(page);
        await expectCharts(page, 1, `cleared, reopened, cell ${chartCell + 1} run alone`);
        assert.equal(await cell.locator(".js-plotly-plot svg.main-svg").count() > 0, true, "the chart is in the cell that was run");
        assert.deepEqual(pageErrors, [], "no errors on any page");
      });

      test("Notebook 7 (the same server's /notebooks/ page): a chart cell run there draws", async () => {
        // Notebook 7 is built from JupyterLab's parts, but its page has its own URL and page config.
        const notebook7 = await lab.browser.context.newPage();
        try {
          await notebook7.goto(`${lab.server.base}notebooks/${path}?token=${lab.server.token}`, { waitUntil: "load" });
          await notebook7.waitForFunction(
            () =>
              document.querySelector(".jp-Toolbar-kernelName")?.textContent?.includes("TypeScript") === true &&
              document.querySelector(".jp-Notebook-ExecutionIndicator")?.getAttribute("data-status") === "idle",
            undefined,
            { timeout: 120_000, polling: 250 },
          );
          const cell = notebook7.locator(".jp-Notebook .jp-Cell").nth(chartCell);
          await cell.locator(".jp-InputPrompt").click();
          await notebook7.keyboard.press("Shift+Enter");
          await waitForRun(notebook7);
          await expectCharts(notebook7, 1, `Notebook 7, cell ${chartCell + 1} run alone`);
        } finally {
          await notebook7.close();
        }
      });
    });
  }

  test("JupyterLab and its kernels wrote nothing at all into HOME (no ~/.local, ~/.jupyter, ~/.ipython, ~/.npm)", () => {
    assert.deepEqual(readdirSync(lab.home, { recursive: true }), []);
  });
});
