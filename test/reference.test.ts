import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { REFERENCE, referenceRows, type ReferenceKey } from "../lib/reference";

/** The table rows of docs/pytorch-reference.md: configuration → [original, re-run mean, std?, min?, max?]. */
function markdownTable(): Map<string, { original: number | null; mean: number; std: number | null; min: number | null; max: number | null }> {
  const text = readFileSync(join(__dirname, "..", "docs", "pytorch-reference.md"), "utf8");
  const rows = new Map();
  for (const line of text.split("\n")) {
    const cells = line.split("|").map((cell) => cell.trim());
    if (cells.length < 5 || !/^\*{0,2}[\d.]+/.test(cells[3] ?? "")) continue;
    const original = /^[\d.]+$/.test(cells[2]!) ? Number(cells[2]) : null;
    const rerun = cells[3]!.replace(/\*/g, "");
    const [, mean, std, min, max] = /^([\d.]+)(?: ± ([\d.]+))?(?: \[([\d.]+)–([\d.]+)\])?/.exec(rerun)!;
    rows.set(cells[1], { original, mean: Number(mean), std: std ? Number(std) : null, min: min ? Number(min) : null, max: max ? Number(max) : null });
  }
  return rows;
}

const MARKDOWN_NAMES: Record<ReferenceKey, string> = {
  baseline: "784-10, SGD lr 0.001, batch 16 (baseline)",
  "lr 0.005": "lr 0.005",
  "lr 0.5": "lr 0.5",
  "lr 50": "lr 50",
  adam: "Adam lr 0.001",
  adagrad: "Adagrad lr 0.001",
  "batch 1": "batch 1 (60,000 steps)",
  "batch 100": "batch 100",
  "batch 1000": "batch 1000 (60 steps)",
  "zeros 784-10": "784-10, all weights and biases zero",
  "784-500-10 sgd 0.5": "784-500-10 ReLU, SGD 0.5, batch 16",
  "zeros 784-500-10 sgd 0.5": "784-500-10, zero init, SGD 0.5",
  "zeros 784-500-10 sgd 0.001": "784-500-10, zero init, SGD 0.001",
  "784-500-500-10 sgd 0.1": "784-500-500-10, SGD 0.1, batch 16",
  "784-500-500-10 adam b64": "784-500-500-10, Adam 0.001, batch 64",
};

test("every reference entry matches the PyTorch re-run document, number for number", () => {
  const table = markdownTable();
  assert.equal(table.size, Object.keys(REFERENCE).length, "one entry per table row");
  for (const [key, name] of Object.entries(MARKDOWN_NAMES) as [ReferenceKey, string][]) {
    const row = table.get(name);
    assert.ok(row, `row "${name}" in docs/pytorch-reference.md`);
    const entry = REFERENCE[key];
    assert.equal(entry.original, row.original, `${key}: original`);
    assert.equal(entry.pytorch.mean, row.mean, `${key}: mean`);
    if (row.std !== null) assert.equal(entry.pytorch.std, row.std, `${key}: std`);
    if (row.min !== null) assert.deepEqual([entry.pytorch.min, entry.pytorch.max], [row.min, row.max], `${key}: range`);
  }
});

test("rows say who agrees with the re-run: ours, and the original", () => {
  const [adam, baseline, zeros] = referenceRows([["adam", 91.1], ["baseline", 80.0], ["zeros 784-500-10 sgd 0.5", 9.58]]);
  assert.equal(adam!.oursAgrees, true);
  assert.equal(adam!.originalAgrees, false, "the original's 84.00% is far from 91.24 ± 0.03");
  assert.match(adam!.why, /SGD optimizer/);
  assert.equal(baseline!.oursAgrees, false, "80% is outside 83.64–84.19 widened by one point");
  assert.equal(baseline!.originalAgrees, true);
  assert.equal(zeros!.originalAgrees, null, "the original ran no such configuration");
  assert.equal(referenceRows([["baseline", 82.7]], 1)[0]!.oursAgrees, true);
  assert.throws(() => referenceRows([["nope" as ReferenceKey, 1]]), /reference key: unknown "nope"/);
});
