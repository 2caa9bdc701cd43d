/**
 * The notebooks end to end, on a reduced dataset (MIE_TRAIN_LIMIT / MIE_TEST_LIMIT): executed by a real Jupyter
 * with one kernel (tslab or Deno's), exported to HTML and opened offline in Chromium; the same checks for both
 * kernels (e2e/notebooks.test.ts, e2e/notebooks-deno.test.ts). lab.test.ts runs them live in JupyterLab.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { executeNotebook, ROOT, type KernelName } from "../../scripts/jupyter";
import { openReport } from "./browser";
import { chartProblems, readCharts } from "./chart-rules";
import { clickSliderStep, explorerState } from "./explorer-ui";
import { htmlOutputs, NOTEBOOK_CHARTS, streamText, type NotebookJson } from "./notebook";

export const REDUCED = { MIE_TRAIN_LIMIT: "2000", MIE_TEST_LIMIT: "500" };
export const NOTEBOOKS = ["OneLayerNetwork", "MoreLayerNetwork", "BeyondOneEpoch", "ConvNetwork"] as const;
const CHARTS: Record<(typeof NOTEBOOKS)[number], number> = NOTEBOOK_CHARTS;
/**
 * Lowest acceptable "Test accuracy: …%" of each such line, in notebook order, on the reduced data: a broken trainer
 * (one class for every image: ~10%) cannot pass. Measured with trainAll on the first 2,000 / 500 images, seeds
 * 0–9 of each notebook setting: OneLayer baseline (784-10, SGD 0.001, batch 16) 19.8–36.2% (seed 0: 36.2);
 * MoreLayer's original (784-500-10, SGD 0.5, batch 16) 79.6–86.2% (seed 0: 79.6); its "your settings" cell
 * (784-500-500-10, momentum 0.01, batch 32) 58.4–65.0% (seed 0: 58.4); BeyondOneEpoch's three shuffled epochs
 * (SGD 0.1, batch 16) of 784-500-10 86.8–88.2% (seed 0: 87.6), with lr halved every epoch 86.0–87.4% (86.6),
 * 784-500-500-10 86.4–88.6% (88.2), halved 85.0–86.0% (85.0), and the reloaded best of the four 87.4–88.6% (88.2)
 * (BeyondOneEpoch shows them in its curve table and its reloaded model's `predictionAgreement`).
 * ConvNetwork (seeds 0–9 of init and shifts): the MLP at Adam 0.001, batch 64, pixels / 255 80.4–83.4% (seed 0:
 * 80.4), normalised 83.0–85.0% (83.6); the LeNet-like net 58.6–74.8% (67.4), with batch norm 73.4–82.2% (78.4), and
 * shifts 67.6–78.4% (78.4); the 24-48 conv net with shifts and one-cycle 87.6–92.0% (92.0).
 * Floors sit about 5 points under the lowest seed.
 */
const ACCURACY_FLOORS: Record<(typeof NOTEBOOKS)[number], number[]> = {
  OneLayerNetwork: [15], MoreLayerNetwork: [70, 50], BeyondOneEpoch: [81, 81, 81, 80, 82],
  ConvNetwork: [75, 78, 53, 68, 62, 82],
};

/** The "Test accuracy: …%" lines a notebook printed, in order. */
export const printedAccuracies = (stdout: string): number[] => [...stdout.matchAll(/Test accuracy: (\d+\.\d\d)%/g)].map((match) => Number(match[1]));

/**
 * BeyondOneEpoch's accuracies: each run's final test accuracy from its curve table (`curveTable`), then the reloaded
 * best model's from the `predictionAgreement` it printed, which must show no differing prediction and equal accuracies.
 */
function beyondAccuracies(notebook: NotebookJson, stdout: string): number[] {
  const table = htmlOutputs(notebook).find((html) => html.includes('class="mie-curves"')) ?? "";
  const runs = [...table.matchAll(/<tr><td[^>]*>[^<]*<\/td><td[^>]*>(\d+\.\d\d)<\/td>/g)].map((match) => Number(match[1]));
  const agreement = stdout.match(/differing: \[\],\s+accuracies: \[ ([\d.]+), ([\d.]+) \]/);
  assert.ok(agreement, `the reloaded model's agreement is printed with no differing prediction:\n${stdout}`);
  assert.equal(agreement[1], agreement[2], "the reloaded model's accuracy is the trained one's");
  return [...runs, Number(agreement[2])];
}

/**
 * The notebooks' explorers: measured cells (every run of the grid: none diverges on the reduced data), the sliders'
 * names, and slider moves [slider, tick] from the corner (both sliders at their first tick) that each pick another
 * cell.
 */
const EXPLORERS: Record<string, { cells: number; sliders: string[]; moves: [number, number][] }> = {
  OneLayerNetwork: { cells: 48, sliders: ["lr", "batchSize"], moves: [[1, 3], [0, 11], [1, 1]] },
  MoreLayerNetwork: { cells: 15, sliders: ["lr", "optimizer"], moves: [[1, 2], [0, 4], [1, 1]] },
};

const plotPlaceholders = (notebook: NotebookJson) =>
  htmlOutputs(notebook).reduce((sum, html) => sum + (html.match(/class="mie-plot"/g) ?? []).length, 0);

/**
 * Execute every notebook on `kernel` (reduced data), then check each: its cells ran, printing backend and
 * accuracies over their floors and nothing on stderr; its report draws every chart offline. Returns the executed
 * notebooks by name (filled once the suite's `before` has run), for a caller's further tests.
 * @example notebookSuite("deno");
 */
export function notebookSuite(kernel: KernelName): Map<string, NotebookJson> {
  const executed = new Map<string, NotebookJson>();
  describe(`notebooks on the ${kernel} kernel, executed headless and exported`, () => {
    const out = mkdtempSync(join(tmpdir(), `mie-notebooks-${kernel}-`));

    before(async () => {
      for (const name of NOTEBOOKS) {
        await executeNotebook(join(ROOT, "notebooks", `${name}.ipynb`), {
          outNotebook: join(out, `${name}.ipynb`),
          outHtml: join(out, `${name}.html`),
          env: REDUCED,
          kernel,
        });
        executed.set(name, JSON.parse(readFileSync(join(out, `${name}.ipynb`), "utf8")) as NotebookJson);
      }
    });
    after(() => rmSync(out, { recursive: true, force: true }));

    for (const name of NOTEBOOKS) {
      test(`${name}: every cell ran, on the reduced data, printing backend and accuracies`, () => {
        const notebook = executed.get(name)!;
        const stdout = streamText(notebook, "stdout");
        assert.match(stdout, /^backend (tfjs-node|wasm|cpu)/m);
        // CI also executes the notebooks with MIE_BACKEND=tfjs-node: the kernel must then really run on it.
        const requested = process.env.MIE_BACKEND;
        if (requested && requested !== "auto") assert.match(stdout, new RegExp(`^backend ${requested} `, "m"));
        assert.match(stdout, /MNIST: 2,000 of 60,000 train \/ 500 of 10,000 test/);
        const accuracies = name === "BeyondOneEpoch" ? beyondAccuracies(notebook, stdout) : printedAccuracies(stdout);
        assert.equal(accuracies.length, ACCURACY_FLOORS[name].length, `${name}: one accuracy per floor`);
        accuracies.forEach((accuracy, i) => {
          const floor = ACCURACY_FLOORS[name][i]!;
          assert.ok(accuracy >= floor, `${name}: test accuracy ${accuracy}% (line ${i + 1}) is under its floor of ${floor}%`);
        });
        assert.equal(streamText(notebook, "stderr"), "", "nothing printed to stderr");
      });

      test(`${name}: the HTML report draws every chart offline, with one Plotly bundle and no errors`, async () => {
        const html = readFileSync(join(out, `${name}.html`), "utf8");
        const expected = plotPlaceholders(executed.get(name)!);
        assert.equal(expected, CHARTS[name], `${name}: charts in the executed notebook`);
        assert.equal(html.split("Copyright 2012-2026, Plotly, Inc.").length - 1, 1, "the bundle is inlined exactly once");
        const report = await openReport(join(out, `${name}.html`));
        try {
          assert.deepEqual(report.errors, []);
          assert.deepEqual(report.requests, [], "an offline report requests nothing");
          assert.equal(report.plotCount, expected);
          assert.equal(report.plotsWithSvg, expected);
          // Every chart readable: legends of at most 12 entries, log axes of at most 8 decades, every point on its axes.
          assert.deepEqual(chartProblems(await readCharts(report.page)), []);
        } finally {
          await report.close();
        }
      });
    }

    test("MoreLayerNetwork: the report's parallel coordinates brush offline: a range on the accuracy axis keeps the best runs", async () => {
      const report = await openReport(join(out, "MoreLayerNetwork.html"));
      try {
        const { page } = report;
        const chart = page.locator(".mie-parallel").first();
        const status = chart.locator(".mie-pc-status");
        const total = Number(/^all (\d+) runs shown$/.exec((await status.textContent()) ?? "")?.[1]);
        assert.ok(total > 10, `all runs shown at first: ${await status.textContent()}`);
        const axes = chart.locator(".mie-pc-axis");
        const accuracy = axes.nth((await axes.count()) - 1);
        await accuracy.scrollIntoViewIfNeeded(); // the mouse moves in the viewport's coordinates
        const box = (await accuracy.boundingBox())!;
        await page.mouse.move(box.x + box.width / 2, box.y + 2);
        await page.mouse.down();
        await page.mouse.move(box.x + box.width / 2, box.y + box.height * 0.3, { steps: 5 });
        await page.mouse.up();
        const kept = Number(new RegExp(`^(\\d+) of ${total} runs in the selected ranges$`).exec((await status.textContent()) ?? "")?.[1]);
        assert.ok(kept > 0 && kept < total, `${await status.textContent()}`);
        assert.equal(await chart.locator('.mie-pc-line[stroke-opacity="0.85"]').count(), kept);
        assert.deepEqual(report.requests, []);
        assert.deepEqual(report.errors, []);
      } finally {
        await report.close();
      }
    });

    for (const [name, explorer] of Object.entries(EXPLORERS)) {
      test(`${name}: the report's explorer has ${explorer.cells} measured cells, and each slider moves its curve and box, offline`, async () => {
        const report = await openReport(join(out, `${name}.html`));
        try {
          const { page } = report;
          const start = await explorerState(page);
          assert.equal(start.measuredCells, explorer.cells, "every run of the grid has its accuracy in its cell");
          assert.deepEqual(start.sliders.map((label) => label.split(":")[0]), explorer.sliders);
          // To a corner first: from there, each move below must pick another cell.
          await clickSliderStep(page, 0, 0);
          await clickSliderStep(page, 1, 0);
          let previous = await explorerState(page);
          for (const [slider, step] of explorer.moves) {
            await clickSliderStep(page, slider, step);
            const now = await explorerState(page);
            assert.equal(now.boldCurves.length, 1, `slider ${slider} → tick ${step}: exactly the picked run is bold`);
            assert.notEqual(now.boldCurves[0], previous.boldCurves[0], `slider ${slider} → tick ${step}: another curve is bold`);
            assert.notEqual(now.box, previous.box, `slider ${slider} → tick ${step}: the red box moved`);
            previous = now;
          }
          assert.deepEqual(report.requests, [], "moving the sliders requested nothing");
          assert.deepEqual(report.errors, []);
        } finally {
          await report.close();
        }
      });
    }
  });
  return executed;
}
