/**
 * Every chart of every report in `reports/` (what `npm run reports` wrote; `MIE_REPORTS=DIR` for another folder),
 * opened offline in Chromium and read from Plotly's own layout: legends of at most 12 entries, log axes of at most
 * 8 decades, no drawn point outside its axis (helpers/chart-rules.ts). The notebook suites apply the same rules to
 * the reports they export on reduced data; this one reads the full-data reports, where the sweeps' extremes live
 * (batch 1 at lr 50 reaches losses of exactly 0). Skipped, saying so, where no report has been written yet.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ROOT } from "../../scripts/jupyter";
import { figureHtml, plotlyBundleHtml } from "../../lib/show/chart-html";
import { openReport } from "../helpers/browser";
import { chartProblems, readCharts } from "../helpers/chart-rules";

test("the rules catch each break: 13 legend entries, a log axis of 10 decades, a point outside a fixed range", async () => {
  const folder = mkdtempSync(join(tmpdir(), "mie-chart-rules-"));
  const traces = Array.from({ length: 13 }, (_, i) => ({ type: "scatter", mode: "lines", name: `run ${i}`, x: [1, 2], y: [1e-9, 10 + i] }));
  const broken = { data: [...traces, { type: "scatter", mode: "markers", name: "stray", x: [5], y: [1] }], layout: { xaxis: { range: [0, 3] }, yaxis: { type: "log" } }, config: {} };
  const fine = { data: traces.slice(0, 3).map((trace) => ({ ...trace, y: [1, 10] })), layout: { yaxis: { type: "log", range: [-1, 2] } }, config: {} };
  const page = `<html><body>${plotlyBundleHtml()}${figureHtml(broken as never, "broken")}${figureHtml(fine as never, "fine")}</body></html>`;
  writeFileSync(join(folder, "rules.html"), page);
  const report = await openReport(join(folder, "rules.html"));
  try {
    const problems = chartProblems(await readCharts(report.page));
    assert.equal(problems.length, 3, problems.join("\n"));
    assert.match(problems[0]!, /chart 1 .*legend has 14 entries/);
    assert.match(problems[1]!, /chart 1 .*log yaxis spans 1\d\.\d decades/);
    assert.match(problems[2]!, /chart 1 .*stray: \(5, 1\) outside x \[0, 3\]/);
  } finally {
    await report.close();
    rmSync(folder, { recursive: true, force: true });
  }
});

const folder = resolve(process.env.MIE_REPORTS ?? join(ROOT, "reports"));
const reports = existsSync(folder) ? readdirSync(folder).filter((name) => name.endsWith(".html") && name !== "index.html").sort() : [];

describe(`every chart of every report in ${folder}`, () => {
  if (reports.length === 0) {
    test("no reports to read", { skip: `no reports in ${folder}: run \`npm run reports\` first` }, () => undefined);
    return;
  }
  for (const name of reports) {
    test(`${name}: legends ≤ 12 entries, log axes ≤ 8 decades, every point inside its axes`, async () => {
      const report = await openReport(join(folder, name));
      try {
        assert.equal(report.plotsWithSvg, report.plotCount, "every chart is drawn");
        const charts = await readCharts(report.page);
        assert.ok(charts.length > 0, `${name} has charts`);
        assert.deepEqual(chartProblems(charts), []);
      } finally {
        await report.close();
      }
    });
  }
});
