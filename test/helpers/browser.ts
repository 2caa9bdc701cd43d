/**
 * Opening an exported report (or any local HTML file) in headless Chromium, offline, to check that its Plotly
 * charts were drawn. Uses the system Chromium through playwright-core; never downloads a browser.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium, type BrowserContext, type Page } from "playwright-core";

/** The system Chromium (Debian package `chromium`); `MIE_CHROMIUM` overrides. */
export const CHROMIUM = process.env.MIE_CHROMIUM ?? "/usr/bin/chromium";

const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

/** A page open in headless Chromium, with everything that went wrong on it so far. */
export interface OpenedPage {
  page: Page;
  /** Uncaught exceptions on the page (`pageerror`). */
  errors: string[];
  /** Console messages of type "error" (e.g. a script that failed to load). */
  consoleErrors: string[];
  /** Every URL the page requested other than the one opened. */
  requests: string[];
  /** Close the browser and delete its temporary profile. */
  close(): Promise<void>;
}

/** What a report looked like once its charts were drawn. */
export interface OpenedReport extends OpenedPage {
  /** Elements Plotly turned into plots (`.js-plotly-plot`). */
  plotCount: number;
  /** Of those, how many contain a drawn `svg.main-svg`. */
  plotsWithSvg: number;
}

/** Options for `openPage` and `openReport`. */
export interface OpenOptions {
  /** Milliseconds to wait for loading and for the charts (default 60 s: a 5 MB page takes ~6 s on 2 busy cores). */
  timeout?: number;
  viewport?: { width: number; height: number };
}

/**
 * Open a URL (a file:// report, or the notebook server) in headless system Chromium with a fresh profile,
 * recording page errors, console errors and requests. Always `close()` it, e.g. in a `finally`.
 * @example const opened = await openPage("http://127.0.0.1:8888/notebooks/x.ipynb"); try { ... } finally { await opened.close(); }
 */
export async function openPage(url: string, options: OpenOptions = {}): Promise<OpenedPage> {
  const profile = mkdtempSync(join(tmpdir(), "mie-chromium-"));
  let context: BrowserContext | undefined;
  const close = async (): Promise<void> => {
    await context?.close().catch(() => undefined);
    rmSync(profile, { recursive: true, force: true });
  };
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: options.viewport ?? { width: 1200, height: 900 },
    });
    const page = context.pages()[0] ?? (await context.newPage());
    const errors: string[] = [];
    const consoleErrors: string[] = [];
    const requests: string[] = [];
    page.on("pageerror", (error) => errors.push(error.stack ?? String(error)));
    page.on("console", (message) => {
      if (message.type() === "error") consoleErrors.push(message.text());
    });
    page.on("request", (request) => {
      if (request.url() !== url) requests.push(request.url());
    });
    await page.goto(url, { waitUntil: "load", timeout: options.timeout ?? 60_000 });
    return { page, errors, consoleErrors, requests, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * Open a local HTML file (an exported notebook) offline, wait until every chart placeholder (`.mie-plot`, or any
 * Plotly target) has been drawn or the timeout passes, and count the charts. Always `close()` it.
 * @example const report = await openReport("reports/OneLayerNetwork.html"); try { assert.equal(report.errors.length, 0); } finally { await report.close(); }
 */
export async function openReport(htmlPath: string, options: OpenOptions = {}): Promise<OpenedReport> {
  const opened = await openPage(pathToFileURL(resolve(htmlPath)).href, options);
  try {
    // A chart is done when Plotly has drawn its main SVG; untouched placeholders mean the bundle did not load.
    // Waiting ends either way: the caller's asserts say what was missing.
    await opened.page
      .waitForFunction(
        () => {
          const targets = document.querySelectorAll(".mie-plot, .js-plotly-plot");
          return Array.from(targets).every((el) => el.querySelector("svg.main-svg") !== null);
        },
        undefined,
        { timeout: options.timeout ?? 60_000, polling: 100 },
      )
      .catch(() => undefined);
    const counts = await opened.page.evaluate(() => {
      const plots = Array.from(document.querySelectorAll(".js-plotly-plot"));
      return {
        plotCount: plots.length,
        plotsWithSvg: plots.filter((el) => el.querySelector("svg.main-svg") !== null).length,
      };
    });
    return { ...opened, ...counts };
  } catch (error) {
    await opened.close();
    throw error;
  }
}
