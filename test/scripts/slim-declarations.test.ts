/**
 * lib's declarations name tfjs's tensor types from the tfjs-core files that declare them (scripts/slim-declarations.ts,
 * part of `npm run build`), so tslab's compile of every notebook cell skips the ~600 declaration files of all of
 * @tensorflow/tfjs; the types stay the same types, and a file that uses another tfjs name keeps its import.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";
import { ROOT } from "../../scripts/jupyter";
import { slimDeclarations, TENSOR_TYPES } from "../../scripts/slim-declarations";

const TFJS_INDEX = join("@tensorflow", "tfjs", "dist", "index.d.ts");

/** Type-check files with lib checking on; returns the diagnostics' text and the files the program read. */
function check(files: string[], skipLibCheck: boolean): { errors: string[]; files: string[] } {
  const program = ts.createProgram(files, { noEmit: true, strict: true, types: [], skipLibCheck, moduleResolution: ts.ModuleResolutionKind.Node10, target: ts.ScriptTarget.ES2022 });
  const errors = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
  return { errors, files: program.getSourceFiles().map((file) => file.fileName) };
}

test("an import used only for tensor types is pointed at tfjs-core's tensor files; the types are the same, other names keep all of tfjs", (t) => {
  // Inside the project, so that @tensorflow/* resolve from its node_modules.
  const dist = mkdtempSync(join(ROOT, "node_modules", ".mie-slim-test-"));
  t.after(() => rmSync(dist, { recursive: true, force: true }));
  mkdirSync(join(dist, "model"));
  const tensorsOnly = 'import * as tf from "@tensorflow/tfjs";\n/** Call inside `tf.tidy`. */\nexport declare function step(params: tf.Tensor2D[]): tf.TensorInfo;\n';
  writeFileSync(join(dist, "model", "engine.d.ts"), tensorsOnly);
  writeFileSync(join(dist, "top.d.ts"), 'import * as tf from "@tensorflow/tfjs";\nexport type Grad = (g: tf.Tensor) => tf.Tensor;\n');
  const layers = 'import * as tf from "@tensorflow/tfjs";\nexport declare const net: tf.LayersModel;\nexport declare const x: tf.Tensor;\n';
  writeFileSync(join(dist, "layers.d.ts"), layers);
  writeFileSync(join(dist, "plain.d.ts"), "export declare const n: number;\n");
  const whole = 'import * as tfjs from "@tensorflow/tfjs";\nexport declare const tf: typeof tfjs;\n';
  writeFileSync(join(dist, "whole.d.ts"), whole);

  const results = slimDeclarations(dist);
  assert.deepEqual(results.map(({ file, names, missing }) => ({ file: file.slice(dist.length + 1), names, missing })).sort((a, b) => a.file.localeCompare(b.file)), [
    { file: "layers.d.ts", names: ["LayersModel", "Tensor"], missing: ["LayersModel"] },
    { file: join("model", "engine.d.ts"), names: ["Tensor2D", "TensorInfo"], missing: [] },
    { file: "top.d.ts", names: ["Tensor"], missing: [] },
    { file: "whole.d.ts", names: ["*"], missing: ["*"] },
  ], "tf.tidy in a comment is not a use; typeof tfjs uses all of it");
  assert.ok(existsSync(join(dist, TENSOR_TYPES)));
  assert.equal(readFileSync(join(dist, "model", "engine.d.ts"), "utf8"), tensorsOnly.replace('import * as tf from "@tensorflow/tfjs";', 'import type * as tf from "../tensor-types";'));
  assert.match(readFileSync(join(dist, "top.d.ts"), "utf8"), /^import type \* as tf from "\.\/tensor-types";$/m);
  assert.equal(readFileSync(join(dist, "layers.d.ts"), "utf8"), layers, "a file using a name that is not a tensor type is left as it was");
  assert.equal(readFileSync(join(dist, "whole.d.ts"), "utf8"), whole, "nor a file that uses the namespace itself");

  const slim = check([join(dist, "model", "engine.d.ts"), join(dist, "top.d.ts")], false);
  assert.deepEqual(slim.errors, [], "the rewritten declarations check with lib checking on");
  assert.ok(!slim.files.some((file) => file.endsWith(TFJS_INDEX)), "and load none of @tensorflow/tfjs's own declarations");
  assert.ok(slim.files.filter((file) => file.includes("@tensorflow")).length <= 5, slim.files.filter((file) => file.includes("@tensorflow")).join("\n"));

  // The same types as @tensorflow/tfjs's: its tensors go in and its TensorInfo comes out, with no cast.
  const user = join(dist, "user.ts");
  writeFileSync(user, 'import * as tf from "@tensorflow/tfjs";\nimport { step } from "./model/engine";\nimport type { Grad } from "./top";\n' +
    "declare const w: tf.Tensor2D;\nconst info: tf.TensorInfo = step([w, tf.zeros([2, 2])]);\nconst g: Grad = (x) => tf.relu(x);\nexport { info, g };\n");
  assert.deepEqual(check([user], true).errors, []);
});

test("the built lib's declarations type-check (with tfjs's own skipped), and every notebook's cells compile in tslab", () => {
  const dist = join(ROOT, "lib", "dist");
  assert.ok(existsSync(join(dist, "index.d.ts")), "lib/dist is built (npm run build)");
  assert.ok(existsSync(join(dist, TENSOR_TYPES)), "npm run build ran scripts/slim-declarations.ts");
  // Since lib exports `tf` and networks of tf.layers (issue 28), its declarations load tfjs's own, whose files do not
  // pass a strict lib check themselves (e.g. 'Long'): the library's files must, and the notebooks' cells must compile.
  const built = check([join(dist, "index.d.ts")], true);
  assert.deepEqual(built.errors, []);

  // tslab's own compiler, as the kernel runs it on each cell (its fixed options, its bundled TypeScript).
  const tslabTs = require(join(ROOT, "node_modules", "@tslab", "typescript-for-tslab")) as typeof ts;
  const read: string[] = [];
  const readFile = tslabTs.sys.readFile;
  tslabTs.sys.readFile = (path, encoding) => {
    read.push(path);
    return readFile(path, encoding);
  };
  const cwd = process.cwd();
  const notebooks = join(ROOT, "notebooks");
  process.chdir(notebooks);
  try {
    const { createConverter } = require(join(ROOT, "node_modules", "tslab", "dist", "converter.js")) as {
      createConverter: () => { convert: (prev: string, src: string) => { diagnostics: { messageText: string }[]; declOutput?: string }; close: () => void };
    };
    const converter = createConverter();
    try {
      for (const name of readdirSync(notebooks).filter((file) => file.endsWith(".ipynb"))) {
        const cells = (JSON.parse(readFileSync(join(notebooks, name), "utf8")) as { cells: { cell_type: string; source: string | string[] }[] }).cells;
        let declarations = "";
        cells.filter((cell) => cell.cell_type === "code").forEach((cell, index) => {
          const out = converter.convert(declarations, ([] as string[]).concat(cell.source).join(""));
          assert.deepEqual(out.diagnostics.map((d) => d.messageText), [], `${name}, code cell ${index + 1}`);
          declarations = out.declOutput ?? declarations;
        });
      }
    } finally {
      converter.close();
    }
  } finally {
    process.chdir(cwd);
    tslabTs.sys.readFile = readFile;
  }
  assert.ok(read.some((path) => path.endsWith(join("lib", "dist", "index.d.ts"))), "the notebooks' compile read @mie/lib's declarations");
});
