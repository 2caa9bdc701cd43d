import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { copyNotebooks, parseTimeLine, reportsRatio, sharedNotebooks } from "../../scripts/bench/reports";

test("the reports ratio is of wall times, and only of runs of the same notebooks", () => {
  const baseline = { source: "7fb7d07", ...parseTimeLine("Time: More: 60.0 s, One: 15.0 s; total 76.0 s") };
  const current = { source: "this tree", ...parseTimeLine("Time: More: 30.0 s, One: 14.0 s; total 30.4 s (2 notebooks at once)") };
  assert.equal(current.totalSeconds, 30.4);
  assert.ok(Math.abs(reportsRatio(current, baseline) - 0.4) < 1e-12);
  const more = { source: "this tree", ...parseTimeLine("Time: Beyond: 40.0 s, More: 30.0 s, One: 14.0 s; total 50.0 s") };
  assert.throws(() => reportsRatio(more, baseline), /this tree ran Beyond, More, One but 7fb7d07 ran More, One; compare the same notebooks/);
});

test("the notebooks both trees have", () => {
  const root = mkdtempSync(join(tmpdir(), "mie-shared-"));
  try {
    for (const [tree, files] of [["a", ["One.ipynb", "More.ipynb", "Beyond.ipynb", "notes.md"]], ["b", ["More.ipynb", "One.ipynb"]], ["c", ["Other.ipynb"]]] as const) {
      mkdirSync(join(root, tree, "notebooks"), { recursive: true });
      for (const file of files) writeFileSync(join(root, tree, "notebooks", file), "{}");
    }
    assert.deepEqual(sharedNotebooks(join(root, "a"), join(root, "b")), ["More", "One"]);
    assert.throws(() => sharedNotebooks(join(root, "a"), join(root, "c")), /no notebook in both .*a\/notebooks and .*c\/notebooks/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("the baseline's notebooks are copied inside this project, where they import this tree's @mie/lib, and removed after", () => {
  const baseline = mkdtempSync(join(tmpdir(), "mie-baseline-"));
  try {
    mkdirSync(join(baseline, "notebooks"));
    writeFileSync(join(baseline, "notebooks", "One.ipynb"), '{"cells": []}');
    const copy = copyNotebooks(baseline, "0c8820c");
    assert.ok(copy.folder.startsWith(join(__dirname, "..", "..", "node_modules", ".cache", "mie-bench-notebooks-0c8820c-")), copy.folder);
    assert.equal(readFileSync(join(copy.folder, "One.ipynb"), "utf8"), '{"cells": []}');
    copy.dispose();
    assert.equal(existsSync(copy.folder), false);
  } finally {
    rmSync(baseline, { recursive: true, force: true });
  }
});
