/**
 * Opening an exported report (or any local HTML file) in headless Chromium, offline, to check that its Plotly
 * charts were drawn. Uses the system Chromium through playwright-core; never downloads a browser.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
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

/** A headless Chromium with a fresh profile (deleted on `close()`); its pages share cookies, like tabs. */
export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/**
 * Start the system Chromium headless with a throw-away profile. Fails with how to install Chromium when it is
 * missing: the browser tests never download one, and never pass without one.
 * @example const browser = await launchBrowser(); try { const page = await browser.context.newPage(); } finally { await browser.close(); }
 */
export async function launchBrowser(options: OpenOptions = {}): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM}: the browser tests need it. Install it (Debian/Ubuntu: \`sudo apt-get install chromium\`, ` +
        "or `sudo bash scripts/system-deps.sh`) or set MIE_CHROMIUM to a Chromium binary.",
    );
  }
  const profile = mkdtempSync(join(tmpdir(), "mie-chromium-"));
  try {
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      // Chromium writes crash-report and dconf folders under HOME (~/.config/chromium, ~/.cache/dconf) whatever its
      // profile: give it the throw-away profile as HOME so the tests leave the user's home as it was.
      env: { ...process.env, HOME: profile, XDG_CONFIG_HOME: join(profile, ".config"), XDG_CACHE_HOME: join(profile, ".cache") },
      viewport: options.viewport ?? { width: 1200, height: 900 },
    });
    return {
      context,
      close: async () => {
        await context.close().catch(() => undefined);
        rmSync(profile, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(profile, { recursive: true, force: true });
    throw error;
  }
}

/**
 * Open a URL (a file:// report, or the notebook server) in headless system Chromium with a fresh profile,
 * recording page errors, console errors and requests. Always `close()` it, e.g. in a `finally`.
 * @example const opened = await openPage("http://127.0.0.1:8888/lab/tree/x.ipynb"); try { ... } finally { await opened.close(); }
 */
export async function openPage(url: string, options: OpenOptions = {}): Promise<OpenedPage> {
  const browser = await launchBrowser(options);
  try {
    const page = browser.context.pages()[0] ?? (await browser.context.newPage());
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
    return { page, errors, consoleErrors, requests, close: browser.close };
  } catch (error) {
    await browser.close();
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

/**
 * Open an exported report offline and check that it draws its `charts` charts with no page error and no request.
 * @example await assertDrawsOffline("executed.html", 2);
 */
export async function assertDrawsOffline(htmlPath: string, charts: number): Promise<void> {
  const report = await openReport(htmlPath);
  try {
    assert.deepEqual(report.errors, []);
    assert.deepEqual(report.requests, [], "an offline report requests nothing");
    assert.equal(report.plotsWithSvg, charts);
  } finally {
    await report.close();
  }
}
