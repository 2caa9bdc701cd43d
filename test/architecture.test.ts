/**
 * docs/architecture.md's rules, checked on lib/'s imports: no module imports from a layer above its own, figures
 * stay pure (values only from figures, metrics and reference; anything else as types), and only `show` knows tslab.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve, dirname } from "node:path";

const LIB = join(__dirname, "..", "lib");

/** The layers, bottom first, as docs/architecture.md draws them. `figures/*` is every file in lib/figures. */
const LAYERS: readonly (readonly string[])[] = [
  ["random", "idx", "metrics", "reference", "backend", "saved-files"],
  ["data", "batch"],
  ["engine", "adam-simd", "optimizers", "model", "model-state", "snapshot", "model-io"],
  ["evaluations", "settings", "train", "spec", "pool", "worker", "sweep", "compare", "analysis", "runs-io"],
  ["figures/*"],
  ["chart-html", "show"],
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

function layerOf(module: string): number {
  const name = module.startsWith("figures/") ? "figures/*" : module;
  const layer = LAYERS.findIndex((names) => names.includes(name));
  assert.ok(layer >= 0, `lib/${module}.ts is in no layer: add it to docs/architecture.md and to LAYERS in this test`);
  return layer;
}

const all = modules();
const local = all.flatMap(imports).filter((entry) => !entry.to.includes("/") || entry.to.startsWith("figures/"))
  .filter((entry) => all.includes(entry.to) || entry.to === "figures" || entry.to === "pytorch-seeds");

test("every lib module belongs to a layer, and no import runs up the layers", () => {
  const upward = local
    .filter((entry) => entry.to !== "pytorch-seeds")
    .map((entry) => ({ ...entry, to: entry.to === "figures" ? "figures/index" : entry.to }))
    .filter((entry) => layerOf(entry.to) > layerOf(entry.from))
    .map((entry) => `lib/${entry.from}.ts imports ${entry.to}`);
  all.forEach(layerOf);
  assert.deepEqual(upward, []);
});

test("figures stay pure: values only from figures, metrics and reference; training types as types only", () => {
  const impure = all.filter((module) => module.startsWith("figures/")).flatMap(imports)
    .filter((entry) => !entry.typeOnly && !entry.to.startsWith("figures/") && !["metrics", "reference"].includes(entry.to))
    .map((entry) => `lib/${entry.from}.ts imports ${entry.to}`);
  assert.deepEqual(impure, []);
});

test("only show.ts imports tslab", () => {
  const users = all.filter((module) => imports(module).some((entry) => entry.to === "tslab"));
  assert.deepEqual(users, ["show"]);
});
