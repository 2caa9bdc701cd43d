/**
 * "Run all" in the classic Jupyter notebook UI, in headless Chromium: the way a person runs a notebook, with
 * require.js on the page and outputs arriving live over the kernel's websocket.
 */
import { cpSync, mkdirSync, rmSync } from "node:fs";
import { basename, join, relative } from "node:path";
import { ROOT } from "../../scripts/jupyter";
import { openPage, type OpenedPage } from "./browser";
import { startNotebookServer } from "./notebook-server";

export interface RunAllResult extends OpenedPage {
  /** Text of every error or stderr output after the run. */
  failures: string[];
  /** Plotly charts drawn (`.js-plotly-plot` containing `svg.main-svg`). */
  drawn: number;
}

/**
 * Copy `notebook` to a scratch folder under the project (so "@mie/lib" resolves; never the committed file, since
 * the UI autosaves; not a dot-folder, which the server answers 404 for), serve it, run all cells and wait until
 * every code cell has run and `charts` charts are drawn, or a cell fails. Call `close()` afterwards.
 */
export async function runAllInClassicUi(
  notebook: string,
  options: { charts: number; env?: NodeJS.ProcessEnv; timeout?: number },
): Promise<RunAllResult> {
  const scratch = join(ROOT, "test", "e2e", `ui-scratch-${process.pid}`);
  mkdirSync(scratch, { recursive: true });
  const copy = join(scratch, basename(notebook));
  cpSync(notebook, copy);
  const server = await startNotebookServer(options.env);
  const cleanUp = async (): Promise<void> => {
    await server.stop();
    rmSync(scratch, { recursive: true, force: true });
  };
  let opened: OpenedPage;
  try {
    opened = await openPage(server.url(relative(ROOT, copy)));
  } catch (error) {
    await cleanUp();
    throw error;
  }
  const close = async (): Promise<void> => {
    await opened.close();
    await cleanUp();
  };
  try {
    const page = opened.page;
    await page.waitForFunction(
      () => {
        const w = window as unknown as { Jupyter?: { notebook?: { kernel?: { is_connected(): boolean } } } };
        return w.Jupyter?.notebook?.kernel?.is_connected() === true;
      },
      undefined,
      { timeout: 60_000 },
    );
    await page.evaluate(() => {
      (window as unknown as { Jupyter: { notebook: { execute_all_cells(): void } } }).Jupyter.notebook.execute_all_cells();
    });
    await page.waitForFunction(
      (charts) => {
        if (document.querySelector(".output_error") !== null) return true;
        const ran = Array.from(document.querySelectorAll(".code_cell")).every((cell) =>
          /\[\d+\]/.test(cell.querySelector(".input_prompt")?.textContent ?? ""));
        const idle = document.querySelector("#kernel_indicator_icon")?.classList.contains("kernel_idle_icon") === true;
        const drawn = Array.from(document.querySelectorAll(".js-plotly-plot")).filter((n) => n.querySelector("svg.main-svg")).length;
        return ran && idle && drawn >= charts;
      },
      options.charts,
      { timeout: options.timeout ?? 300_000, polling: 500 },
    );
    const failures = await page.$$eval(".output_error, .output_stderr", (nodes) => nodes.map((n) => n.textContent ?? ""));
    const drawn = await page.$$eval(".js-plotly-plot", (nodes) => nodes.filter((n) => n.querySelector("svg.main-svg")).length);
    return { ...opened, failures, drawn, close };
  } catch (error) {
    await close();
    throw error;
  }
}
