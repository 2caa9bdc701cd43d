/**
 * docs/architecture.md's rules, checked on lib/'s imports and sources. The layer table (floors, folders, modules) is
 * read from the page itself, so the page and the code cannot drift apart: no module imports from a layer above its
 * own, no import circle, configuration only in config/, the engine entered by its front door only, nothing that
 * reads another package's binary or memory, figures pure, and only `show` knows a Jupyter kernel.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve, dirname } from "node:path";

const LIB = join(__dirname, "..", "lib");
const PAGE = join(__dirname, "..", "docs", "architecture.md");

/** One row of the page's layer table: `| floor | folder | modules | job |`. */
interface Layer {
  floor: number;
  /** lib/'s folders on this row ("index" for lib/index.ts). */
  folders: string[];
  /** The modules the row names, folder-less (`random`), or null where it names them all (`figures/*`) or none. */
  modules: string[] | null;
}

/** The page's layer table, as written: a row per folder (or folders), floors numbered bottom first. */
function layerTable(): Layer[] {
  const rows = readFileSync(PAGE, "utf8").split("\n").filter((line) => /^\|\s*\d+\s*\|/.test(line));
  return rows.map((line) => {
    const [floor, folders, modules] = line.split("|").slice(1, 4).map((cell) => cell.trim());
    const names = (cell: string): string[] => [...cell.matchAll(/`([^`]+)`/g)].map((match) => match[1]!);
    const listed = names(modules!).filter((name) => /^[a-z0-9-]+$/.test(name));
    return {
      floor: Number(floor),
      folders: names(folders!).map((name) => name.replace(/\/$|\.ts$/, "")),
      modules: listed.length > 0 && !modules!.includes("*") ? listed : null,
    };
  });
}

const LAYERS = layerTable();
/** Each folder's floor, from the page. */
const FLOOR = new Map(LAYERS.flatMap((layer) => layer.folders.map((folder) => [folder, layer.floor] as const)));

interface Import {
  from: string;
  to: string;
  typeOnly: boolean;
}

function modules(): string[] {
  const files = readdirSync(LIB, { recursive: true, encoding: "utf8" });
  return files.filter((file) => file.endsWith(".ts") && !file.startsWith("dist") && !file.endsWith(".d.ts")).map((file) => file.replace(/\.ts$/, ""));
}

function source(module: string): string {
  return readFileSync(join(LIB, `${module}.ts`), "utf8");
}

/** A module's source without its comments (a comment may name what the code must not do). */
function code(module: string): string {
  return source(module).replace(/\/\*[^]*?\*\/|(?<![:"'`\\])\/\/.*$/gm, "");
}

function imports(module: string): Import[] {
  const found = source(module).matchAll(/^(?:import|export)\s+(type\s+)?(?:[^;]*?\s+from\s+)?"([^"]+)";/gms);
  return [...found].map((match) => {
    const target = match[2]!;
    const to = target.startsWith(".") ? relative(LIB, resolve(dirname(join(LIB, module)), target)).replace(/\.json$/, "") : target;
    return { from: module, to, typeOnly: Boolean(match[1]) };
  });
}

/** A module's folder: "runs/pool" → "runs"; "index" → "index"; "figures" (the folder's index) → "figures". */
function folderOf(module: string): string {
  return module.split("/")[0]!;
}

function floorOf(module: string): number {
  const floor = FLOOR.get(folderOf(module));
  assert.ok(floor !== undefined, `lib/${module}.ts is in no layer folder: add its folder to the table in docs/architecture.md`);
  return floor;
}

const all = modules();
const local = all.flatMap(imports).filter((entry) => !entry.to.startsWith(".") && FLOOR.has(folderOf(entry.to)));

test("docs/architecture.md's layer table is there and names every module of each folder, and only those", () => {
  assert.ok(LAYERS.length >= 10 && FLOOR.has("engine") && FLOOR.has("config"), `read ${LAYERS.length} rows from ${PAGE}'s table`);
  const drift = LAYERS.filter((layer) => layer.modules !== null).flatMap((layer) => {
    const actual = all.filter((module) => layer.folders.includes(folderOf(module))).map((module) => module.split("/").pop()!);
    const missing = actual.filter((name) => !layer.modules!.includes(name)).map((name) => `${layer.folders.join(", ")}: ${name} is not in the table`);
    const gone = layer.modules!.filter((name) => !actual.includes(name)).map((name) => `${layer.folders.join(", ")}: the table names ${name}, which is not there`);
    return [...missing, ...gone];
  });
  assert.deepEqual(drift, []);
});

test("every lib module lives in a layer folder, and no import runs up the floors", () => {
  all.forEach(floorOf);
  const upward = local
    .filter((entry) => floorOf(entry.to) > floorOf(entry.from))
    .map((entry) => `lib/${entry.from}.ts imports ${entry.to}`);
  assert.deepEqual(upward, []);
});

// Type-only imports count: they vanish at run time, but a reader still needs the other module to understand this
// one, and a circle of types is how a circle of values starts (the next edit imports a value the same way).
test("no import circle among lib modules, type-only imports included", () => {
  const edges = new Map<string, string[]>();
  for (const entry of local) edges.set(entry.from, [...(edges.get(entry.from) ?? []), entry.to]);
  const state = new Map<string, "open" | "done">();
  const circles: string[] = [];
  const path: string[] = [];
  const visit = (module: string): void => {
    state.set(module, "open");
    path.push(module);
    for (const next of edges.get(module) ?? []) {
      if (state.get(next) === "open") circles.push([...path.slice(path.indexOf(next)), next].join(" -> "));
      else if (!state.has(next)) visit(next);
    }
    path.pop();
    state.set(module, "done");
  };
  all.forEach((module) => state.has(module) || visit(module));
  assert.deepEqual(circles, []);
});

test("every layer folder says what lives there and what it may import", () => {
  const silent = [...FLOOR.keys()].filter((folder) => folder !== "index")
    .filter((folder) => !/may import/i.test(readFileSync(join(LIB, folder, "README.md"), "utf8")));
  assert.deepEqual(silent, []);
});

test("configuration is read in one place: process.env appears in no lib module but config/environment", () => {
  const readers = all.filter((module) => module !== "config/environment" && /\bprocess\s*(?:\.\s*env\b|\[\s*["'`]env["'`]\s*\])/.test(code(module)));
  assert.deepEqual(readers, []);
});

/**
 * The engine's front door: what modules outside engine/ may import from it (docs/architecture.md lists the same).
 * "types": only as `import type`.
 */
const ENGINE_SURFACE: Record<string, "values" | "types"> = {
  "engine/backend": "values",
  "engine/tensor-step": "values",
  "engine/update-rules": "values",
  "engine/arithmetic": "values",
  "engine/engine": "types",
  "engine/step": "types",
  "engine/layers": "values",
  "engine/network": "types",
};

test("outside engine/, modules use the engine's front door only (docs/architecture.md names it)", () => {
  const page = readFileSync(PAGE, "utf8");
  assert.deepEqual(Object.keys(ENGINE_SURFACE).filter((module) => !page.includes(`\`${module}\``)), [], "docs/architecture.md names each module of the front door");
  const inside = local.filter((entry) => entry.to.startsWith("engine/") && !entry.from.startsWith("engine/"))
    .filter((entry) => ENGINE_SURFACE[entry.to] === undefined || (ENGINE_SURFACE[entry.to] === "types" && !entry.typeOnly))
    .map((entry) => `lib/${entry.from}.ts imports ${entry.to}${entry.typeOnly ? " (types)" : ""}`);
  assert.deepEqual(inside, []);
});

test("nothing in lib reads another package's binary or memory (tfjs-backend-wasm's heap, its .wasm files)", () => {
  const reaches = [
    /\bgetMemoryOffset\b/, /\bHEAP(?:U?8|U?16|U?32|F32|F64)\b/, /\bwasmMemory\b/,
    /require\.resolve\(\s*["'`]@tensorflow\/[^"'`]*wasm/, /["'`][^"'`\n]*\.wasm["'`]/,
  ];
  const found = all.flatMap((module) => {
    // The engine's own kernels.wasm (lib/engine/kernels/) is the one .wasm lib may read.
    const text = code(module).replaceAll(/["'`]kernels\.wasm["'`]/g, "");
    return reaches.filter((pattern) => pattern.test(text)).map((pattern) => `lib/${module}.ts matches ${pattern}`);
  });
  assert.deepEqual(found, []);
});

test("figures stay pure: values only from figures, math/metrics, math/format and results/reference; training types as types only", () => {
  const impure = all.filter((module) => module.startsWith("figures/")).flatMap(imports)
    .filter((entry) => !entry.typeOnly && !entry.to.startsWith("figures/") && !["math/metrics", "math/format", "results/reference"].includes(entry.to))
    .map((entry) => `lib/${entry.from}.ts imports ${entry.to}`);
  assert.deepEqual(impure, []);
});

test("train/ asks the model layer for each step: it imports neither the engine's sessions nor model/model-state", () => {
  const reaching = all.filter((module) => module.startsWith("train/")).flatMap(imports)
    .filter((entry) => ["engine/engine", "engine/step", "engine/tensor-step", "model/model-state"].includes(entry.to))
    .map((entry) => `lib/${entry.from}.ts imports ${entry.to}`);
  assert.deepEqual(reaching, []);
});

test("a model's state is written only in model/ and saved/model-io, through model-state's named functions", () => {
  const writers = all.filter((module) => !module.startsWith("model/") && module !== "saved/model-io")
    .filter((module) => imports(module).some((entry) => entry.to === "model/model-state"));
  assert.deepEqual(writers, []);
});

test("only engine/backend picks a TensorFlow.js backend (tf.setBackend)", () => {
  const pickers = all.filter((module) => /\bsetBackend\s*\(/.test(code(module)));
  assert.deepEqual(pickers, ["engine/backend"]);
});

test("only the show folder imports tslab", () => {
  const users = all.filter((module) => imports(module).some((entry) => entry.to === "tslab"));
  assert.ok(users.length > 0 && users.every((module) => module.startsWith("show/")), `tslab imported by ${users.join(", ")}`);
});

test("only the show folder touches Deno's kernel (Deno.jupyter)", () => {
  const users = all.filter((module) => /\bjupyter\b/i.test(code(module)));
  assert.ok(users.length > 0 && users.every((module) => module.startsWith("show/")), `Deno.jupyter touched by ${users.join(", ")}`);
});
