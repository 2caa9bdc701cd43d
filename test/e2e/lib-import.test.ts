import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { executeNotebook, ROOT } from "../../scripts/jupyter";
import { labelCounts, loadMnist } from "../../lib/data/data";
import { streamText } from "../helpers/notebook";

test("a notebook in another folder imports the compiled lib by name with the stock tslab kernel", async () => {
  const out = mkdtempSync(join(tmpdir(), "mie-import-"));
  try {
    const executed = join(out, "executed.ipynb");
    await executeNotebook(join(ROOT, "test/e2e/elsewhere/deeper/import-lib.ipynb"), { outNotebook: executed });
    const stdout = streamText(JSON.parse(readFileSync(executed, "utf8")), "stdout");
    assert.match(stdout, /backend (tfjs-node|wasm|cpu)/);
    assert.match(stdout, /MNIST: 100 of 60,000 train \/ 50 of 10,000 test/);
    const expected = labelCounts((await loadMnist({ train: { first: 100 }, test: { first: 50 } })).test);
    assert.match(stdout, new RegExp(`LABELS ${JSON.stringify(expected).replace(/[[\]]/g, "\\$&")}`));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
