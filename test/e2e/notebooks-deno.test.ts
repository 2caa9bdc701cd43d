/**
 * The three notebooks, unchanged, on Deno's Jupyter kernel (`deno jupyter`, from the pinned npm package), on
 * reduced data: the same checks as on tslab (helpers/notebook-suite.ts: every cell ran, accuracies over their
 * floors, nothing on stderr, every chart drawn offline in the report); then OneLayerNetwork executed on both
 * kernels gives the same numbers in every table (all but the seconds) and every printed accuracy.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { executeNotebook, ROOT } from "../../scripts/jupyter";
import { htmlOutputs, streamText, type NotebookJson } from "../helpers/notebook";
import { notebookSuite, printedAccuracies, REDUCED } from "../helpers/notebook-suite";

const onDeno = notebookSuite("deno");

/** Every row of a notebook's results and reference tables, as cell texts, without the "seconds" column. */
function tableRows(notebook: NotebookJson): string[][] {
  const text = (html: string) => html.replace(/<[^>]+>/g, "").trim();
  return htmlOutputs(notebook).filter((html) => html.includes("<table")).flatMap((table) => {
    const headers = [...table.matchAll(/<th[^>]*>(.*?)<\/th>/g)].map((match) => text(match[1]!));
    const seconds = headers.indexOf("seconds");
    return [...table.matchAll(/<tr>(.*?)<\/tr>/g)].map((row) =>
      [...row[1]!.matchAll(/<t[dh][^>]*>(.*?)<\/t[dh]>/g)].map((cell) => text(cell[1]!)).filter((_, i) => i !== seconds));
  });
}

describe("Deno's kernel gives tslab's numbers", () => {
  const out = mkdtempSync(join(tmpdir(), "mie-notebooks-both-"));
  let onTslab: NotebookJson;
  before(async () => {
    await executeNotebook(join(ROOT, "notebooks", "OneLayerNetwork.ipynb"), { outNotebook: join(out, "tslab.ipynb"), env: REDUCED, kernel: "tslab" });
    onTslab = JSON.parse(readFileSync(join(out, "tslab.ipynb"), "utf8")) as NotebookJson;
  });
  after(() => rmSync(out, { recursive: true, force: true }));

  test("OneLayerNetwork: every table row (accuracy, final loss, steps, note) and every printed accuracy are the same", () => {
    const deno = onDeno.get("OneLayerNetwork");
    assert.ok(deno, "the Deno suite executed OneLayerNetwork");
    const rows = tableRows(onTslab);
    assert.ok(rows.length >= 30, `the tables have their rows (got ${rows.length})`);
    assert.deepEqual(tableRows(deno), rows);
    assert.deepEqual(printedAccuracies(streamText(deno, "stdout")), printedAccuracies(streamText(onTslab, "stdout")));
  });
});
