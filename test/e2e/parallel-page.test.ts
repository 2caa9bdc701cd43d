/**
 * The parallel-coordinates chart's brushing in a real page, offline: drag along the accuracy axis to keep the best
 * runs, click the axis to clear. Built as `show.parallel` outputs it (chart + page script), opened in Chromium.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parallelFigure } from "../../lib/figures/parallel";
import { parallelHtml } from "../../lib/show/parallel-script";
import { openReport } from "../helpers/browser";

test("brushing an axis keeps the runs in its range, clicking clears it: in the page, no request, no error", async () => {
  const runs = ["sgd", "momentum", "adam"].flatMap((optimizer, o) => [1e-4, 1e-3, 1e-2, 0.1].map((lr, i) => ({
    label: `${optimizer} ${lr}`, accuracy: 70 + 8 * o + 2 * i, settings: { optimizer, lr },
  })));
  const folder = mkdtempSync(join(tmpdir(), "mie-parallel-"));
  writeFileSync(join(folder, "page.html"), `<html><body style="width:900px">${parallelHtml(parallelFigure(runs), "pc")}</body></html>`);
  const report = await openReport(join(folder, "page.html"));
  try {
    const { page } = report;
    const status = page.locator("#pc .mie-pc-status");
    assert.equal(await status.textContent(), "all 12 runs shown");
    const axis = page.locator('#pc .mie-pc-axis[data-axis="2"]');
    await axis.scrollIntoViewIfNeeded(); // the mouse moves in the viewport's coordinates
    const box = (await axis.boundingBox())!;
    // From above the top of the accuracy axis down to about its middle: the better half of the runs.
    await page.mouse.move(box.x + box.width / 2, box.y + 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 2, box.y + box.height * 0.45, { steps: 5 });
    await page.mouse.up();
    const text = (await status.textContent())!;
    const kept = Number(/^(\d+) of 12 runs in the selected ranges$/.exec(text)?.[1]);
    assert.ok(kept > 0 && kept < 12, text);
    const lines = await page.locator("#pc .mie-pc-line").evaluateAll((paths) =>
      paths.map((path) => ({ kept: path.getAttribute("stroke-opacity") === "0.85", accuracy: Number(/: ([\d.]+)%/.exec(path.textContent ?? "")?.[1]) })));
    assert.equal(lines.filter((line) => line.kept).length, kept);
    const worstKept = Math.min(...lines.filter((line) => line.kept).map((line) => line.accuracy));
    const bestFaded = Math.max(...lines.filter((line) => !line.kept).map((line) => line.accuracy));
    assert.ok(worstKept > bestFaded, `kept the best runs: worst kept ${worstKept}%, best faded ${bestFaded}%`);
    await axis.click();
    assert.equal(await status.textContent(), "all 12 runs shown");
    assert.deepEqual(report.requests, []);
    assert.deepEqual(report.errors, []);
  } finally {
    await report.close();
    rmSync(folder, { recursive: true, force: true });
  }
});
