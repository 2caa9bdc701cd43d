import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { REFERENCE, referenceRows, seedStats, type ReferenceKey } from "../lib/results/reference";

interface MarkdownRow { original: number | null; mean: number; std: number; min: number; max: number; accuracies: number[] }

/** The table rows of docs/pytorch-reference.md: configuration → its printed numbers. */
function markdownTable(): Map<string, MarkdownRow> {
  const text = readFileSync(join(__dirname, "..", "docs", "pytorch-reference.md"), "utf8");
  const rows = new Map<string, MarkdownRow>();
  for (const line of text.split("\n")) {
    const cells = line.split("|").map((cell) => cell.trim());
    const stats = /^([\d.]+) ± ([\d.]+)$/.exec(cells[3] ?? "");
    if (cells.length !== 7 || !stats) continue;
    const [min, max] = cells[4]!.split("–").map(Number);
    rows.set(cells[1]!, {
      original: cells[2] === "—" ? null : Number(cells[2]),
      mean: Number(stats[1]), std: Number(stats[2]), min: min!, max: max!,
      accuracies: cells[5]!.split(",").map(Number),
    });
  }
  return rows;
}

const MARKDOWN_NAMES: Record<ReferenceKey, string> = {
  baseline: "784-10, SGD lr 0.001, batch 16 (baseline)",
  "lr 0.005": "784-10, SGD lr 0.005",
  "lr 0.5": "784-10, SGD lr 0.5",
  "lr 50": "784-10, SGD lr 50",
  adam: "784-10, Adam lr 0.001",
  adagrad: "784-10, Adagrad lr 0.001",
  "batch 1": "784-10, SGD 0.001, batch 1 (60,000 steps)",
  "batch 100": "784-10, SGD 0.001, batch 100",
  "batch 1000": "784-10, SGD 0.001, batch 1000 (60 steps)",
  "zeros 784-10": "784-10, all weights and biases zero, SGD 0.001",
  "784-500-10 sgd 0.5": "784-500-10 ReLU, SGD 0.5, batch 16",
  "zeros 784-500-10 sgd 0.5": "784-500-10, zero init, SGD 0.5",
  "zeros 784-500-10 sgd 0.001": "784-500-10, zero init, SGD 0.001",
  "784-500-500-10 sgd 0.1": "784-500-500-10, SGD 0.1, batch 16",
  "784-500-500-10 adam b64": "784-500-500-10, Adam 0.001, batch 64",
};

test("every reference entry is the ten measured seeds of the PyTorch re-run document, and its statistics agree", () => {
  const table = markdownTable();
  assert.equal(table.size, Object.keys(REFERENCE).length, "one entry per table row");
  for (const [key, name] of Object.entries(MARKDOWN_NAMES) as [ReferenceKey, string][]) {
    const row = table.get(name);
    assert.ok(row, `row "${name}" in docs/pytorch-reference.md`);
    const { original, pytorch } = REFERENCE[key];
    assert.equal(original, row.original, `${key}: original`);
    assert.deepEqual([...pytorch.accuracies], row.accuracies, `${key}: the measured accuracies`);
    assert.equal(pytorch.accuracies.length, 10, `${key}: ten seeds`);
    assert.deepEqual([pytorch.min, pytorch.max], [row.min, row.max], `${key}: range as printed`);
    // Printed to two decimals; 89.045 may print either way, so half a hundredth (plus float noise) is allowed.
    for (const stat of ["mean", "std"] as const) {
      assert.ok(Math.abs(pytorch[stat] - row[stat]) <= 0.005 + 1e-9, `${key}: ${stat} ${pytorch[stat]} prints as ${row[stat]}`);
    }
  }
});

test("seedStats: mean, sample standard deviation and range of what was measured", () => {
  const stats = seedStats([1, 2, 3, 6], [0, 1, 2, 3]);
  assert.deepEqual([stats.mean, stats.min, stats.max], [3, 1, 6]);
  assert.ok(Math.abs(stats.std - Math.sqrt(14 / 3)) < 1e-12);
  assert.equal(seedStats([84.07]).std, 0);
  assert.throws(() => seedStats([]), /seedStats: expected at least one accuracy/);
});

test("rows say who agrees with the re-run: ours, and the original, by the measured range widened by the tolerance", () => {
  const [adam, baseline, zeros] = referenceRows([["adam", 91.1], ["baseline", 80.0], ["zeros 784-500-10 sgd 0.5", 9.58]]);
  assert.equal(adam!.oursAgrees, true);
  assert.equal(adam!.originalAgrees, false, "the original's 84.00% is far from 91.06–91.29");
  assert.match(adam!.why, /SGD optimizer/);
  assert.equal(baseline!.oursAgrees, false, "80% is outside 83.38–84.19 widened by one point");
  assert.equal(baseline!.originalAgrees, true);
  assert.equal(zeros!.originalAgrees, null, "the original ran no such configuration");
  assert.equal(referenceRows([["baseline", 82.39]], 1)[0]!.oursAgrees, true);
  assert.equal(referenceRows([["baseline", 82.37]], 1)[0]!.oursAgrees, false);
  assert.equal(referenceRows([["baseline", 84.24]], 0)[0]!.oursAgrees, false, "tolerance 0 is the bare measured range");
  assert.equal(referenceRows([["baseline", NaN]])[0]!.oursAgrees, false, "a diverged run never agrees");
  assert.throws(() => referenceRows([["nope" as ReferenceKey, 1]]), /reference key: unknown "nope"/);
  assert.throws(() => referenceRows([["adam", 91]], -1), /tolerance: expected percentage points ≥ 0, got -1/);
});
