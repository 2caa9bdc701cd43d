/**
 * docs/architecture.md's rules, checked on lib/'s imports: no module imports from a layer above its own, figures
 * stay pure (values only from figures, metrics and reference; anything else as types), and only `show` knows tslab.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve, dirname } from "node:path";

const LIB = join(__dirname, "..", "lib");

/** The floors, bottom first, as docs/architecture.md draws them: each is a folder of lib/ (index.ts on top). */
const FLOORS: readonly (readonly string[])[] = [
  ["math"],
  ["data"],
  ["model"],
  ["train"],
  ["runs", "saved"],
  ["results"],
  ["figures"],
  ["show"],
  ["index"],
];

interface Import {
  from: string;
  to: string;
  typeOnly: boolean;
}

function modules(): string[] {
  const files = readdirSync(LIB, { recursive: true, encoding: "utf8" });
  return files.filter((file) => file.endsWith(".ts") && !file.startsWith("dist") && !file.endsWith(".d.ts")).map((file) => file.replace(/\.ts$/, ""));
}

function imports(module: string): Import[] {
  const source = readFileSync(join(LIB, `${module}.ts`), "utf8");
  const found = source.matchAll(/^(?:import|export)\s+(type\s+)?(?:[^;]*?\s+from\s+)?"([^"]+)";/gms);
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
  const floor = FLOORS.findIndex((names) => names.includes(folderOf(module)));
  assert.ok(floor >= 0, `lib/${module}.ts is in no layer folder: add its folder to docs/architecture.md and to FLOORS in this test`);
  return floor;
}

const all = modules();
const local = all.flatMap(imports).filter((entry) => !entry.to.startsWith(".") && FLOORS.flat().includes(folderOf(entry.to)));

test("every lib module lives in a layer folder, and no import runs up the floors", () => {
  const upward = local
    .filter((entry) => floorOf(entry.to) > floorOf(entry.from))
    .map((entry) => `lib/${entry.from}.ts imports ${entry.to}`);
  all.forEach(floorOf);
  assert.deepEqual(upward, []);
});

test("no two lib modules import each other, even as types", () => {
  const pairs = new Set(local.map((entry) => `${entry.from} -> ${entry.to}`));
  const circles = local.filter((entry) => entry.from < entry.to && pairs.has(`${entry.to} -> ${entry.from}`))
    .map((entry) => `${entry.from} <-> ${entry.to}`);
  assert.deepEqual(circles, []);
});

test("every layer folder says what lives there and what it may import", () => {
  const silent = FLOORS.flat().filter((folder) => folder !== "index")
    .filter((folder) => !/may import/i.test(readFileSync(join(LIB, folder, "README.md"), "utf8")));
  assert.deepEqual(silent, []);
});

test("figures stay pure: values only from figures, math/metrics, math/format and results/reference; training types as types only", () => {
  const impure = all.filter((module) => module.startsWith("figures/")).flatMap(imports)
    .filter((entry) => !entry.typeOnly && !entry.to.startsWith("figures/") && !["math/metrics", "math/format", "results/reference"].includes(entry.to))
    .map((entry) => `lib/${entry.from}.ts imports ${entry.to}`);
  assert.deepEqual(impure, []);
});

test("train/ asks the model layer for each step: it imports neither model/engine nor model/model-state", () => {
  const reaching = all.filter((module) => module.startsWith("train/")).flatMap(imports)
    .filter((entry) => ["model/engine", "model/model-state"].includes(entry.to))
    .map((entry) => `lib/${entry.from}.ts imports ${entry.to}`);
  assert.deepEqual(reaching, []);
});

test("a model's state is written only in model/ and saved/model-io, through model-state's named functions", () => {
  const writers = all.filter((module) => !module.startsWith("model/") && module !== "saved/model-io")
    .filter((module) => imports(module).some((entry) => entry.to === "model/model-state"));
  assert.deepEqual(writers, []);
});

test("only the show folder imports tslab", () => {
  const users = all.filter((module) => imports(module).some((entry) => entry.to === "tslab"));
  assert.ok(users.length > 0 && users.every((module) => module.startsWith("show/")), `tslab imported by ${users.join(", ")}`);
});

test("only the show folder touches Deno's kernel (Deno.jupyter)", () => {
  const users = all.filter((module) => /\bjupyter\b/i.test(readFileSync(join(LIB, `${module}.ts`), "utf8").replace(/\/\*[^]*?\*\/|\/\/.*$/gm, "")));
  assert.ok(users.length > 0 && users.every((module) => module.startsWith("show/")), `Deno.jupyter touched by ${users.join(", ")}`);
});
