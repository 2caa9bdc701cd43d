/**
 * `reports/index.html` in headless Chromium, offline: it loads nothing, shows each report's numbers, and each of
 * its links opens its report (file names with spaces included).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { factsTag, reportFacts, writeIndex } from "../../scripts/report-index";
import { openPage } from "../helpers/browser";

const executed = (stdout: string): string =>
  JSON.stringify({ cells: [{ cell_type: "code", outputs: [{ output_type: "stream", name: "stdout", text: stdout }] }] });

test("the index opens offline, requests nothing, and each link opens its report", async () => {
  const dir = mkdtempSync(join(tmpdir(), "mie-index-page-"));
  try {
    const names = ["Alpha", "Beta Two"];
    names.forEach((name, i) => {
      const facts = reportFacts({
        name, seconds: 10 + i, written: "2026-12-06T15:00:00.000Z", notebook: executed(`Test accuracy: 9${i}.50% after 3750 steps\n`),
        runLog: `{"label":"run of ${name}","stored":${i === 1},"accuracy":9${i}.75,"diverged":false}\n`,
      });
      writeFileSync(join(dir, `${name}.html`), `<!DOCTYPE html><html><head><title>${name} report</title></head><body>\n${factsTag(facts)}<h1>${name} report body</h1></body></html>`);
    });
    const index = writeIndex(dir);
    const url = pathToFileURL(index).href;
    const opened = await openPage(url);
    try {
      const { page } = opened;
      assert.deepEqual(opened.requests, [], "the index loads nothing");
      assert.deepEqual(opened.errors, []);
      assert.deepEqual(opened.consoleErrors, []);
      const rows = await page.locator("table.mie-reports tbody tr").allInnerTexts();
      assert.equal(rows.length, 2);
      assert.match(rows[0]!, /Alpha.*Test accuracy: 90\.50%.*best run: 90\.75% \(run of Alpha\).*10\.0 s.*1 run, 0 from the store/s);
      assert.match(rows[1]!, /Beta Two.*Test accuracy: 91\.50%.*best run: 91\.75%.*11\.0 s.*1 run, 1 from the store/s);
      for (const name of names) {
        await page.goto(url);
        await Promise.all([page.waitForURL((target) => target.href !== url), page.getByRole("link", { name }).click()]);
        assert.equal(page.url(), pathToFileURL(join(dir, `${name}.html`)).href, `${name}: the link points at its report`);
        assert.equal(await page.locator("h1").innerText(), `${name} report body`, `${name}: the report opened`);
      }
      const reportRequests = opened.requests.filter((request) => request !== url);
      assert.deepEqual(reportRequests, names.map((name) => pathToFileURL(join(dir, `${name}.html`)).href), "only the reports clicked were loaded");
      assert.deepEqual(opened.errors, []);
    } finally {
      await opened.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
