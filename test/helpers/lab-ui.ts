/**
 * JupyterLab 4 driven in headless Chromium, as a person uses it: the project's JupyterLab (`.venv`) serving the
 * project root, notebooks copied to a scratch folder under the project (so "@mie/lib" resolves from the kernel's
 * folder and the committed notebooks are never touched), tabs opened, reloaded and closed, Run All from the menu.
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, relative } from "node:path";
import type { Page } from "playwright-core";
import { ROOT } from "../../scripts/jupyter";
import { startLab, type LabServer } from "../../scripts/lab";
import { launchBrowser, type Browser } from "./browser";

/**
 * Test-only JupyterLab settings: every cell stays in the DOM (Lab 4 otherwise detaches cells far off-screen, and
 * their charts could not be counted), no autosave, so a notebook is on disk only when a test saves it, and no
 * news or update checks (no network).
 */
const TEST_SETTINGS = {
  "@jupyterlab/notebook-extension:tracker": { windowingMode: "none" },
  "@jupyterlab/docmanager-extension:plugin": { autosave: false },
  "@jupyterlab/apputils-extension:notification": { fetchNews: "false", checkForUpdates: false },
};

/** A JupyterLab server, a browser, and scratch copies of notebooks. */
export interface LabSession {
  server: LabServer;
  browser: Browser;
  /** The scratch folder's path relative to the server root, e.g. "test/e2e/ui-scratch-123". */
  scratch: string;
  /** The HOME the server and its kernels ran with (see helpers/home.ts). */
  home: string;
  /** Copy a notebook into the scratch folder; returns its path relative to the server root. */
  copy(notebook: string): string;
  /** Open a notebook in a new tab (its own workspace) and wait until its cells are there and its kernel (by display
   *  name, default "TypeScript", tslab's; "Deno" for Deno's) is idle. */
  open(path: string, workspace: string, kernel?: string): Promise<Page>;
  close(): Promise<void>;
}

/**
 * Start JupyterLab (HOME pointed at an empty temporary folder, `env` passed to kernels) and a browser.
 * @example const lab = await startLabSession({ MIE_TRAIN_LIMIT: "2000" }); try { ... } finally { await lab.close(); }
 */
export async function startLabSession(env: NodeJS.ProcessEnv = {}): Promise<LabSession> {
  const scratch = join(ROOT, "test", "e2e", `ui-scratch-${process.pid}`);
  const settings = join(scratch, ".lab-settings");
  const home = mkdtempSync(join(tmpdir(), "mie-home-"));
  mkdirSync(settings, { recursive: true });
  writeFileSync(join(settings, "overrides.json"), JSON.stringify(TEST_SETTINGS, null, 2));
  const cleanUp = (): void => {
    rmSync(scratch, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  };
  let server: LabServer | undefined;
  let browser: Browser | undefined;
  try {
    server = await startLab({
      anyPort: true,
      stateRoot: scratch,
      env: { ...env, HOME: home },
      args: [`--LabApp.app_settings_dir=${settings}`],
    });
    browser = await launchBrowser({ viewport: { width: 1400, height: 1000 } });
  } catch (error) {
    await server?.stop();
    cleanUp();
    throw error;
  }
  const lab = server;
  const context = browser.context;
  return {
    server: lab,
    browser,
    scratch: relative(ROOT, scratch),
    home,
    copy(notebook) {
      const target = join(scratch, basename(notebook));
      cpSync(notebook, target);
      return relative(ROOT, target);
    },
    async open(path, workspace, kernel) {
      const page = await context.newPage();
      await page.goto(lab.url(path, workspace), { waitUntil: "load", timeout: 120_000 });
      await waitForNotebook(page, kernel);
      return page;
    },
    async close() {
      await browser?.close();
      await lab.stop();
      cleanUp();
    },
  };
}

/** Wait until the notebook is on the page with its kernel idle (status bar "TypeScript | Idle", or `kernel`'s name). */
export async function waitForNotebook(page: Page, kernel = "TypeScript"): Promise<void> {
  await page.waitForFunction(
    (name) =>
      document.querySelector(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell .jp-InputArea") !== null &&
      (document.querySelector(".jp-StatusBar-Widget, #jp-main-statusbar")?.textContent ?? "").includes(`${name} | Idle`),
    kernel,
    { timeout: 120_000, polling: 250 },
  );
}

/** Click a top menu entry, then an item in it, e.g. `menu(page, "Run", "Run All Cells")`. */
export async function menu(page: Page, top: string, item: string): Promise<void> {
  await page.locator(".lm-MenuBar-itemLabel", { hasText: new RegExp(`^${top}$`) }).click();
  await page.locator(".lm-Menu-itemLabel", { hasText: new RegExp(`^${item}$`) }).first().click();
}

/** Wait until every cell that was queued has run (no prompt shows `*`), or one failed. */
export async function waitForRun(page: Page, timeout = 600_000): Promise<void> {
  // The whole queue is marked `*` at once; a run too quick to see is over by then, so not seeing it is fine.
  await page
    .waitForFunction(() => Array.from(document.querySelectorAll(".jp-InputArea-prompt")).some((el) => el.textContent?.includes("*")), undefined, {
      timeout: 10_000,
      polling: 50,
    })
    .catch(() => undefined);
  await page.waitForFunction(
    () => !Array.from(document.querySelectorAll(".jp-InputArea-prompt")).some((el) => el.textContent?.includes("*")),
    undefined,
    { timeout, polling: 500 },
  );
}

/** What the notebook on the page shows now. */
export interface LabOutputs {
  /** Charts Plotly drew: `.jp-OutputArea .js-plotly-plot` containing `svg.main-svg`. */
  drawn: number;
  /** Chart boxes (`.mie-plot`) in outputs, drawn or not. */
  boxes: number;
  /** The text of boxes that show no chart (e.g. "Chart not drawn: …"). */
  undrawn: string[];
  /** Text of error and stderr outputs. */
  failures: string[];
}

/** Count the charts and collect failures on the page. */
export async function labOutputs(page: Page): Promise<LabOutputs> {
  return page.evaluate(() => {
    const boxes = Array.from(document.querySelectorAll(".jp-OutputArea .mie-plot"));
    return {
      drawn: Array.from(document.querySelectorAll(".jp-OutputArea .js-plotly-plot")).filter((el) => el.querySelector("svg.main-svg")).length,
      boxes: boxes.length,
      undrawn: boxes.filter((el) => !el.querySelector("svg.main-svg")).map((el) => el.textContent ?? ""),
      failures: Array.from(
        document.querySelectorAll('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"], .jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"]'),
      ).map((el) => el.textContent ?? ""),
    };
  });
}

/** Wait (up to `timeout` ms) until `charts` charts are drawn, then report what the page shows either way. */
export async function waitForCharts(page: Page, charts: number, timeout = 60_000): Promise<LabOutputs> {
  await page
    .waitForFunction(
      (expected) =>
        Array.from(document.querySelectorAll(".jp-OutputArea .js-plotly-plot")).filter((el) => el.querySelector("svg.main-svg")).length >= expected,
      charts,
      { timeout, polling: 250 },
    )
    .catch(() => undefined);
  return labOutputs(page);
}
