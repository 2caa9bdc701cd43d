/**
 * After `tsc -p lib` (part of `npm run build`): point lib's declaration files at the few tfjs-core files that
 * declare the tensor types they name, instead of all of `@tensorflow/tfjs`.
 *
 * Why: tslab type-checks every notebook cell against everything `@mie/lib`'s declarations import. A declaration
 * file with `import * as tf from "@tensorflow/tfjs"` pulls in every tfjs package's declarations, about 600 files
 * (tfjs-core, layers, data, converter, the backends), which cost each kernel about 1.5 s of CPU to parse, bind and
 * re-index on every cell, for the handful of names lib's declarations use (`tf.Tensor2D`, `tf.TensorInfo`). The
 * same names from the tfjs-core files that declare them (`dist/tensor.d.ts`, `tensor_info.d.ts`, `types.d.ts`, 3
 * files; `@tensorflow/tfjs` re-exports these very declarations) are the same types.
 *
 * Only an import whose every use is such a name is rewritten; a declaration file that uses any other tfjs name
 * keeps its import of all of `@tensorflow/tfjs`, and this says which (so types are never lost, only speed).
 *
 * usage: tsx scripts/slim-declarations.ts [DIST]   (default lib/dist)
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";

/** The file (in DIST) that re-exports the tensor types from where tfjs-core declares them. */
export const TENSOR_TYPES = "tensor-types.d.ts";

const TENSOR_TYPES_TEXT = `/**
 * TensorFlow.js's tensor types from the tfjs-core files that declare them (the very declarations
 * \`@tensorflow/tfjs\` re-exports), so that lib's declarations need not load all of tfjs's: written by
 * scripts/slim-declarations.ts.
 */
export * from "@tensorflow/tfjs-core/dist/tensor";
export * from "@tensorflow/tfjs-core/dist/tensor_info";
export * from "@tensorflow/tfjs-core/dist/types";
`;

const TFJS_IMPORT = /^import \* as (\w+) from "@tensorflow\/tfjs";$/m;

/** What happened to one declaration file that imported `@tensorflow/tfjs`. */
export interface SlimResult {
  file: string;
  /** The tfjs names it uses. */
  names: string[];
  /** Names not among the tensor types: when any, the file keeps its import of all of tfjs. */
  missing: string[];
}

/**
 * Rewrite every declaration file under `dist` whose `import * as tf from "@tensorflow/tfjs"` is used only for
 * tensor types, to import them from `dist/tensor-types.d.ts` (written here). Returns one result per such file.
 * @example slimDeclarations("lib/dist"); // [{ file: "lib/dist/model/engine.d.ts", names: ["Tensor2D"], missing: [] }, …]
 */
export function slimDeclarations(dist: string): SlimResult[] {
  const root = resolve(dist);
  const typesFile = join(root, TENSOR_TYPES);
  writeFileSync(typesFile, TENSOR_TYPES_TEXT);
  const available = exportedNames(typesFile);
  const results: SlimResult[] = [];
  for (const file of declarationFiles(root)) {
    const text = readFileSync(file, "utf8");
    const match = TFJS_IMPORT.exec(text);
    if (!match) continue;
    const names = namespaceUses(file, text, match[1]!);
    const missing = names.filter((name) => !available.has(name));
    results.push({ file, names, missing });
    if (missing.length > 0) continue;
    let target = relative(dirname(file), typesFile).replace(/\\/g, "/").replace(/\.d\.ts$/, "");
    if (!target.startsWith(".")) target = `./${target}`;
    // One line for one line: the declaration map's line numbers stay right.
    writeFileSync(file, text.replace(TFJS_IMPORT, `import type * as ${match[1]} from "${target}";`));
  }
  return results;
}

/** The names a module exports (through `export *` too), as the compiler resolves them. */
function exportedNames(file: string): Set<string> {
  const program = ts.createProgram([file], { noEmit: true, types: [], skipLibCheck: true, moduleResolution: ts.ModuleResolutionKind.Node10 });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(file);
  const symbol = source && checker.getSymbolAtLocation(source);
  if (!symbol) throw new Error(`${file}: the compiler found no module in it (is @tensorflow/tfjs-core installed?)`);
  const names = new Set(checker.getExportsOfModule(symbol).map((exported) => exported.name));
  for (const name of ["Tensor", "Tensor2D", "TensorInfo"]) {
    if (!names.has(name)) throw new Error(`${file}: expected tfjs-core's tensor modules to export ${name}; they export ${[...names].join(", ")}`);
  }
  return names;
}

/** Every name used as `ns.Name` in a declaration file (in types and in expressions such as `extends ns.Base`), sorted. */
function namespaceUses(file: string, text: string, ns: string): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false);
  const names = new Set<string>();
  const visit = (node: ts.Node): void => {
    if (ts.isQualifiedName(node) && ts.isIdentifier(node.left) && node.left.text === ns) names.add(node.right.text);
    if (ts.isPropertyAccessExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === ns) names.add(node.name.text);
    // `typeof tf`, or `export import tf = tfjs`: the whole namespace, which only all of tfjs declares.
    if (ts.isTypeQueryNode(node) && ts.isIdentifier(node.exprName) && node.exprName.text === ns) names.add("*");
    if (ts.isImportEqualsDeclaration(node) && ts.isIdentifier(node.moduleReference) && node.moduleReference.text === ns) names.add("*");
    ts.forEachChild(node, visit);
  };
  visit(source);
  return [...names].sort();
}

function declarationFiles(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return declarationFiles(path);
    return entry.name.endsWith(".d.ts") && entry.name !== TENSOR_TYPES ? [path] : [];
  });
}

if (require.main === module) {
  const dist = process.argv[2] ?? join(__dirname, "..", "lib", "dist");
  const results = slimDeclarations(dist);
  const kept = results.filter((result) => result.missing.length > 0);
  for (const result of kept) {
    console.log(`${relative(process.cwd(), result.file)}: keeps all of @tensorflow/tfjs's types (uses ${result.missing.map((name) => `tf.${name}`).join(", ")}, not a tensor type)`);
  }
  console.log(`slim declarations: ${results.length - kept.length} of ${results.length} files import tfjs's tensor types only (${TENSOR_TYPES})`);
}
