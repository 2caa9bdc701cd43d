import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { factsTag, indexHtml, readFacts, reportFacts, summaryText, writeIndex, type ReportFacts } from "../../scripts/report-index";

/** An executed notebook's JSON with these stdout texts, one output each. */
const executed = (...stdout: string[]): string =>
  JSON.stringify({ cells: stdout.map((text) => ({ cell_type: "code", outputs: [{ output_type: "stream", name: "stdout", text: [text] }] })) });

const runLog = [
  { label: "lr 0.001", stored: true, accuracy: 83.92, diverged: false },
  { label: "lr 0.5", stored: false, accuracy: 91.57, diverged: false },
  { label: "lr 50 <b>", stored: false, accuracy: null, diverged: true },
].map((run) => JSON.stringify(run)).join("\n") + "\n";

test("a report's facts: runs, stored and diverged counts, the best evaluated run, the printed accuracy lines", () => {
  const facts = reportFacts({
    name: "One", seconds: 12.345, runLog, written: "2026-12-06T15:00:00.000Z",
    notebook: executed("backend wasm\n", "Test accuracy: 83.92% after 3750 steps in 0.4 s\nother\n", "  The original's run. Test accuracy: 95.10% (3750 steps)\n"),
  });
  assert.deepEqual(facts, {
    name: "One", seconds: 12.3, runs: 3, stored: 1, diverged: 1, best: { label: "lr 0.5", accuracy: 91.57 },
    printed: ["Test accuracy: 83.92% after 3750 steps in 0.4 s", "The original's run. Test accuracy: 95.10% (3750 steps)"],
    written: "2026-12-06T15:00:00.000Z", data: "",
  });
  const none = reportFacts({ name: "Empty", seconds: 1, runLog: "", notebook: executed(), written: "2026-12-06T15:00:00.000Z" });
  assert.equal(none.runs, 0);
  assert.equal(none.best, null);
  // A run log from before accuracies were logged still counts its runs.
  const old = reportFacts({ name: "Old", seconds: 1, runLog: '{"label":"a","stored":false}\n', notebook: executed(), written: "x" });
  assert.equal(old.runs, 1);
  assert.equal(old.best, null);
});

test("the facts travel inside the report's HTML and come back whole, whatever a label contains", () => {
  const facts: ReportFacts = {
    name: "One", seconds: 5, runs: 1, stored: 0, diverged: 0, best: { label: 'x </script><script>alert(1)</script> "', accuracy: 90 },
    printed: [], written: "2026-12-06T15:00:00.000Z", data: "",
  };
  const html = `<html><body>\n${factsTag(facts)}<p>report</p></body></html>`;
  assert.equal(html.match(/<\/script>/g)?.length, 1, "a label cannot end the JSON block");
  assert.deepEqual(readFacts(html), facts);
  assert.equal(readFacts("<html><body>an old report</body></html>"), null);
});

test("the summary fits one screen: per report time, runs and stored, headline accuracies, path", () => {
  const facts = reportFacts({
    name: "OneLayerNetwork", seconds: 41.26, runLog, written: "2026-12-06T15:00:00.000Z",
    notebook: executed("Test accuracy: 83.92% after 3750 steps in 0.4 s\n"),
  });
  const lines = summaryText([facts, { ...facts, name: "B", runs: 0, stored: 0, diverged: 0, best: null, printed: [] }], (name) => `reports/${name}.html (1.0 MB)`);
  assert.deepEqual(lines, [
    "Summary:",
    "  OneLayerNetwork    41.3 s  3 runs, 1 from the store, 1 diverged",
    "                   printed 83.92%; best run 91.57% (lr 0.5)",
    "                   reports/OneLayerNetwork.html (1.0 MB)",
    "  B                  41.3 s  no training runs",
    "                   reports/B.html (1.0 MB)",
  ]);
});

test("the index lists every report with its numbers and a relative link, needs no script or network, and is replaced atomically", () => {
  const dir = mkdtempSync(join(tmpdir(), "mie-index-"));
  try {
    const facts = reportFacts({
      name: "One Layer", seconds: 41.26, runLog, written: "2026-12-06T15:00:00.000Z", data: "reduced data (MIE_TRAIN_LIMIT=2000)",
      notebook: executed("Test accuracy: 83.92% after 3750 steps in 0.4 s\n"),
    });
    writeFileSync(join(dir, "One Layer.html"), `<html><body>\n${factsTag(facts)}</body></html>`);
    writeFileSync(join(dir, "Old.html"), "<html><body>older report</body></html>");
    writeFileSync(join(dir, "index.html"), "the previous index");
    writeFileSync(join(dir, "One Layer.ipynb"), "{}");
    const path = writeIndex(dir);
    assert.equal(path, join(dir, "index.html"));
    assert.deepEqual(readdirSync(dir).sort(), ["Old.html", "One Layer.html", "One Layer.ipynb", "index.html"], "no temporary file left");
    const html = readFileSync(path, "utf8");
    assert.match(html, /<a href="One%20Layer\.html">One Layer<\/a>/);
    assert.match(html, /<a href="Old\.html">Old<\/a>.*written before reports carried their numbers/);
    assert.match(html, /Test accuracy: 83\.92% after 3750 steps in 0\.4 s/);
    assert.match(html, /best run: <b>91\.57%<\/b> \(lr 0\.5\)/);
    assert.match(html, /3 runs, 1 from the store, 1 diverged/);
    assert.match(html, /41\.3 s/);
    assert.match(html, /2026-12-06 15:00:00 UTC/);
    assert.match(html, /reduced data \(MIE_TRAIN_LIMIT=2000\)/);
    assert.ok(html.indexOf("Old.html") < html.indexOf("One%20Layer.html"), "reports in name order");
    assert.doesNotMatch(html, /<script|<link|src=|https?:/i, "nothing to load or run");
    assert.doesNotMatch(indexHtml([{ file: "x.html", bytes: 1, facts: { ...facts, best: { label: "<img src=x>", accuracy: 1 } } }]), /<img/, "labels are escaped");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
