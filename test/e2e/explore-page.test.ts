/**
 * The explorer's sliders in a real page (headless Chromium, offline): each slider moves the bold curve and the
 * heatmap's red box, with no request and no page error. The page is what a report holds: the inlined bundle and
 * the chart's HTML from `figureHtml`, so this checks the page script beside the chart loader.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exploreFigure } from "../../lib/figures/explore";
import { figureHtml, plotlyBundleHtml } from "../../lib/show/chart-html";
import { openReport, type OpenedReport } from "../helpers/browser";
import { gridRuns } from "../helpers/explore-runs";
import { clickSliderStep, explorerState } from "../helpers/explorer-ui";

describe("the explorer in an offline page", () => {
  const dir = mkdtempSync(join(tmpdir(), "mie-explore-"));
  let page: OpenedReport;
  before(async () => {
    const runs = gridRuns();
    const html =
      "<!DOCTYPE html><html><head><meta charset='utf-8'></head><body>" +
      figureHtml(exploreFigure(runs, { by: ["lr", "batchSize"], pick: 0 }), "two") +
      figureHtml(exploreFigure(runs.filter((run) => (run.settings as { batchSize: number }).batchSize === 16), { by: ["lr"] }), "one") +
      plotlyBundleHtml() +
      "</body></html>";
    writeFileSync(join(dir, "explore.html"), html);
    page = await openReport(join(dir, "explore.html"));
  });
  after(async () => {
    await page?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("both charts are drawn, with a number in every measured cell", async () => {
    assert.equal(page.plotsWithSvg, 2);
    assert.equal((await explorerState(page.page, 0)).measuredCells, 23, "6 × 4 cells, one diverged");
    assert.equal((await explorerState(page.page, 1)).measuredCells, 6);
  });

  test("each slider of the two-setting explorer moves the bold curve, the red box and the text", async () => {
    const start = await explorerState(page.page, 0);
    assert.equal(start.boldCurves.length, 1, "exactly the picked run is bold");
    assert.match(start.box, /^M[\d.]+,/, "the red box is drawn");
    assert.match(start.text, /lr 1e-4 · batchSize 1:/);
    await clickSliderStep(page.page, 0, 3);
    const lrMoved = await explorerState(page.page, 0);
    assert.match(lrMoved.sliders[0]!, /lr: 0\.1/);
    assert.match(lrMoved.text, /lr 0\.1 · batchSize 1: .*75\.00% test accuracy/);
    assert.notEqual(lrMoved.box, start.box, "the box moved along the lr axis");
    assert.equal(lrMoved.boldCurves.length, 1);
    assert.notEqual(lrMoved.boldCurves[0], start.boldCurves[0], "another curve is bold");
    await clickSliderStep(page.page, 1, 2);
    const batchMoved = await explorerState(page.page, 0);
    assert.match(batchMoved.sliders[1]!, /batchSize: 100/);
    assert.match(batchMoved.text, /lr 0\.1 · batchSize 100: .*71\.00% test accuracy/);
    assert.notEqual(batchMoved.box, lrMoved.box);
    assert.notEqual(batchMoved.boldCurves[0], lrMoved.boldCurves[0]);
    await clickSliderStep(page.page, 1, 1); // batch 16: the runs that measured an accuracy curve
    await clickSliderStep(page.page, 0, 5);
    await clickSliderStep(page.page, 1, 0);
    const diverged = await explorerState(page.page, 0);
    assert.match(diverged.text, /lr 10 · batchSize 1: .*diverged at step 7/);
  });

  test("the one-setting explorer's slider moves its curve and box", async () => {
    const start = await explorerState(page.page, 1);
    assert.match(start.text, /^lr 10: .*83\.00% test accuracy/, "starts at the most accurate run");
    await clickSliderStep(page.page, 0, 1, 1);
    const moved = await explorerState(page.page, 1);
    assert.match(moved.text, /^lr 0\.001: .*63\.00% test accuracy/);
    assert.notEqual(moved.box, start.box);
    assert.notEqual(moved.boldCurves[0], start.boldCurves[0]);
  });

  test("no request and no page error", () => {
    assert.deepEqual(page.requests, []);
    assert.deepEqual(page.errors, []);
    assert.deepEqual(page.consoleErrors, []);
  });
});
