import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { NotebookJson } from "./helpers/notebook";

const folder = join(__dirname, "..", "notebooks");

function sourceOf(cell: NotebookJson["cells"][number] | undefined): string {
  return cell === undefined ? "" : Array.isArray(cell.source) ? cell.source.join("") : cell.source;
}
const committed = readdirSync(folder).filter((file) => file.endsWith(".ipynb"));

test("both notebooks of the original exist, and the ones that go beyond it", () => {
  assert.deepEqual(committed.sort(), ["BeyondOneEpoch.ipynb", "ConvNetwork.ipynb", "MoreLayerNetwork.ipynb", "OneLayerNetwork.ipynb"]);
});

for (const file of committed) {
  test(`${file} is committed clean: tslab kernel, no outputs, no execution counts`, () => {
    const notebook = JSON.parse(readFileSync(join(folder, file), "utf8")) as NotebookJson;
    assert.deepEqual(notebook.metadata.kernelspec, { display_name: "TypeScript", language: "typescript", name: "tslab" });
    notebook.cells.forEach((cell, index) => {
      if (cell.cell_type !== "code") return;
      assert.deepEqual(cell.outputs, [], `${file} cell ${index} has outputs: clear them before committing`);
      assert.equal(cell.execution_count, null, `${file} cell ${index} has an execution count`);
    });
  });

  test(`${file}: every code cell is at most 6 lines, not counting comments (the "Your settings" cell may be longer)`, () => {
    const cells = (JSON.parse(readFileSync(join(folder, file), "utf8")) as NotebookJson).cells;
    const long = cells.flatMap((cell, index) => {
      if (cell.cell_type !== "code") return [];
      const settings = /^#+ Your settings/m.test(sourceOf(cells[index - 1]));
      const lines = sourceOf(cell).split("\n").filter((line) => !/^\s*\/\//.test(line)).length;
      return lines > 6 && !settings ? [`cell ${index} has ${lines} lines`] : [];
    });
    assert.deepEqual(long, []);
  });

  test(`${file} imports the library by package name only`, () => {
    const sources = (JSON.parse(readFileSync(join(folder, file), "utf8")) as NotebookJson).cells
      .filter((cell) => cell.cell_type === "code")
      .map((cell) => (Array.isArray(cell.source) ? cell.source.join("") : cell.source));
    const imports = sources.join("\n").match(/from\s+"[^"]+"/g) ?? [];
    assert.ok(imports.length > 0);
    for (const statement of imports) assert.equal(statement, 'from "@mie/lib"', `${file}: ${statement}`);
  });
}
