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

/** ConvNetwork's ids ("conv-…"): docs/pytorch-reference.md gives each a section of its own (`#### \`id\``). */
type ConvKey = Extract<ReferenceKey, `conv-${string}`>;
const isConv = (key: string): key is ConvKey => key.startsWith("conv-");

/** The ConvNetwork sections of docs/pytorch-reference.md: id → its ten accuracies and its printed range and mean. */
function convSections(): Map<string, { accuracies: number[]; min: number; max: number; mean: number }> {
  const text = readFileSync(join(__dirname, "..", "docs", "pytorch-reference.md"), "utf8");
  const sections = new Map<string, { accuracies: number[]; min: number; max: number; mean: number }>();
  for (const section of text.split(/^#### /m).slice(1)) {
    const id = /^`(conv-[\w-]+)`/.exec(section)?.[1];
    const seeds = /^\| test accuracy %, seeds 0–9 \| ([^|]+) \|/m.exec(section)?.[1];
    const range = /^\| min–max, mean \(std\) \| ([\d.]+)–([\d.]+), mean ([\d.]+)/m.exec(section);
    if (!id || !seeds || !range) continue;
    sections.set(id, { accuracies: seeds.split(",").map(Number), min: Number(range[1]), max: Number(range[2]), mean: Number(range[3]) });
  }
  return sections;
}

const MARKDOWN_NAMES: Record<Exclude<ReferenceKey, ConvKey>, string> = {
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
  assert.equal(table.size, Object.keys(REFERENCE).filter((key) => !isConv(key)).length, "one entry per table row");
  for (const [key, name] of Object.entries(MARKDOWN_NAMES) as [Exclude<ReferenceKey, ConvKey>, string][]) {
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

test("every ConvNetwork entry is the ten seeds of its section in the PyTorch re-run document", () => {
  const sections = convSections();
  const keys = Object.keys(REFERENCE).filter(isConv);
  assert.ok(keys.length >= 8, "the ConvNetwork notebook's configurations");
  for (const key of keys) {
    const section = sections.get(key);
    assert.ok(section, `docs/pytorch-reference.md: a section #### \`${key}\` with its ten accuracies`);
    const { pytorch } = REFERENCE[key];
    assert.deepEqual([...pytorch.accuracies], section.accuracies, `${key}: the measured accuracies`);
    assert.deepEqual([pytorch.min, pytorch.max], [section.min, section.max], `${key}: range as printed`);
    assert.ok(Math.abs(pytorch.mean - section.mean) <= 0.005 + 1e-9, `${key}: mean ${pytorch.mean} prints as ${section.mean}`);
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
