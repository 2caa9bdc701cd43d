/**
 * The public API as a contract: every export of lib/index.ts has a JSDoc `@example` that compiles against the
 * package, and README.md's module table names exactly these exports, each under the module that defines it.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join, relative } from "node:path";
import ts from "typescript";

const ROOT = join(__dirname, "..");
const INDEX = join(ROOT, "lib", "index.ts");
const EXAMPLES = join(ROOT, "test", "api-examples.generated.ts");

/** Names the examples may use without defining them: the notebooks' usual variables. */
const PRELUDE = `
declare const data: Dataset;
declare const model: Model;
declare const run: Run;
declare const runs: Run[];
declare const byLr: Run[];
declare const progress: Progress;
declare const weights: LayerWeights;
declare const a: LayerWeights;
declare const b: LayerWeights;
declare const bytes: Uint8Array;
declare const net: NetworkModel;
declare const netRun: Run<NetworkModel>;
declare const lenet: import("@tensorflow/tfjs").Sequential;
`;

interface PublicExport {
  name: string;
  /** The module that declares it, as the README names it: "model", "figures", ... */
  module: string;
  isType: boolean;
  examples: string[];
}

function compilerOptions(): ts.CompilerOptions {
  const config = ts.getParsedCommandLineOfConfigFile(join(ROOT, "tsconfig.json"), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (diagnostic) => assert.fail(ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n")),
  })!;
  // The examples import the package by name; resolve it to the source so the check needs no build.
  return { ...config.options, noEmit: true, paths: { "@mie/lib": [INDEX] } };
}

function publicExports(): PublicExport[] {
  const program = ts.createProgram([INDEX], compilerOptions());
  const checker = program.getTypeChecker();
  const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(INDEX)!)!;
  return checker.getExportsOfModule(moduleSymbol).map((symbol) => {
    // Follow re-exports to where lib declares the name: through lib's modules, never into another package (for
    // `tf`, `export import tf = tfjs` in model/tfjs.ts, not the `import * as tfjs` it names, nor tfjs's index).
    let target = symbol;
    while (target.flags & ts.SymbolFlags.Alias) {
      const next = checker.getImmediateAliasedSymbol(target);
      const declared = next?.declarations?.[0];
      if (!declared || !declared.getSourceFile().fileName.startsWith(join(ROOT, "lib")) || ts.isNamespaceImport(declared)) break;
      target = next!;
    }
    const value = target.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(target) : target;
    const declaration = target.declarations![0]!;
    const file = relative(join(ROOT, "lib"), declaration.getSourceFile().fileName).replace(/\.ts$/, "");
    const examples = ts.getJSDocTags(declaration)
      .filter((tag) => tag.tagName.text === "example")
      .map((tag) => ts.getTextOfJSDocComment(tag.comment)?.trim() ?? "")
      .filter((text) => text.length > 0);
    // TypeScript attaches no JSDoc to `export import x = y`: read its leading comment's @example lines.
    if (examples.length === 0 && ts.isImportEqualsDeclaration(declaration)) {
      const text = declaration.getSourceFile().getFullText();
      for (const range of ts.getLeadingCommentRanges(text, declaration.pos) ?? []) {
        for (const match of text.slice(range.pos, range.end).matchAll(/@example (.+)/g)) examples.push(match[1]!.trim());
      }
    }
    return {
      name: symbol.name,
      module: file.startsWith("figures/") ? "figures" : file,
      isType: !(value.flags & ts.SymbolFlags.Value),
      examples,
    };
  });
}

const exports = publicExports();

test("lib/index.ts names every export (no export *)", () => {
  const source = readFileSync(INDEX, "utf8");
  assert.doesNotMatch(source, /export \*/);
  assert.ok(exports.length > 20, `expected the public API, got ${exports.length} names`);
});

test("every public export has a JSDoc @example", () => {
  const missing = exports.filter((entry) => entry.examples.length === 0).map((entry) => `${entry.name} (lib/${entry.module})`);
  assert.deepEqual(missing, [], `add an @example to the JSDoc of: ${missing.join(", ")}`);
});

/** README's code example for users' own notebooks: its import line, and the code after it. */
function readmeExample(): { imported: string[]; code: string } {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const block = readme.split("## Using the library from your own notebook")[1]?.match(/```ts\n([\s\S]*?)```/)?.[1];
  assert.ok(block, "README.md: no ```ts example under 'Using the library from your own notebook'");
  const importLine = block.match(/^import \{([^}]*)\} from "@mie\/lib";\n/);
  assert.ok(importLine, "README.md's example starts with an import from \"@mie/lib\"");
  return { imported: importLine[1]!.split(",").map((name) => name.trim()), code: block.slice(importLine[0].length) };
}

test("README's example imports public names only", () => {
  const missing = readmeExample().imported.filter((name) => !exports.some((entry) => entry.name === name));
  assert.deepEqual(missing, []);
});

test("every @example, and README's example, compiles against the package", () => {
  const names = exports.map((entry) => (entry.isType ? `type ${entry.name}` : entry.name));
  const blocks = exports.flatMap((entry) => entry.examples.map((example, i) => ({ label: `${entry.name} @example ${i + 1}`, example })));
  blocks.push({ label: "README.md's example", example: readmeExample().code });
  let text = `import { ${names.join(", ")} } from "@mie/lib";\n${PRELUDE}\n`;
  const starts: { line: number; label: string }[] = [];
  blocks.forEach(({ label, example }, i) => {
    starts.push({ line: text.split("\n").length, label });
    text += `export async function example${i}(): Promise<void> {\n${example}\n}\n`;
  });
  const options = compilerOptions();
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.fileExists = ((exists) => (file: string) => file === EXAMPLES || exists(file))(host.fileExists.bind(host));
  host.readFile = (file) => (file === EXAMPLES ? text : readFile(file));
  host.getSourceFile = (file, language, ...rest) =>
    file === EXAMPLES ? ts.createSourceFile(file, text, language, true) : getSourceFile(file, language, ...rest);
  const program = ts.createProgram([EXAMPLES], options, host);
  const problems = ts.getPreEmitDiagnostics(program, program.getSourceFile(EXAMPLES)).map((diagnostic) => {
    const line = diagnostic.file && diagnostic.start !== undefined ? diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start).line + 1 : 0;
    const owner = [...starts].reverse().find((start) => start.line <= line)?.label ?? "the import line";
    return `${owner}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, " ")}`;
  });
  assert.deepEqual(problems, []);
});

test("README's module table lists exactly the public exports, each under its module", () => {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const section = readme.split("What lib offers, by module")[1];
  assert.ok(section, "README.md: no section 'What lib offers, by module'");
  const rows = section.split("\n\n")[1]!.split("\n").filter((line) => line.startsWith("| `"));
  assert.ok(rows.length > 5, "README.md: the module table has too few rows");
  const listed = new Map<string, string[]>();
  for (const row of rows) {
    const [modules, names] = row.split("|").slice(1, 3).map((cell) => [...cell.matchAll(/`([A-Za-z_][\w/-]*)`/g)].map((m) => m[1]!));
    for (const name of names!) {
      assert.ok(!listed.has(name), `README.md lists ${name} twice`);
      listed.set(name, modules!);
    }
  }
  const exported = exports.map((entry) => entry.name).sort();
  assert.deepEqual([...listed.keys()].sort(), exported, "README.md's module table and lib/index.ts name different exports");
  const misplaced = exports.filter((entry) => !listed.get(entry.name)!.includes(entry.module));
  assert.deepEqual(misplaced.map((entry) => `${entry.name} is in lib/${entry.module}`), []);
});
