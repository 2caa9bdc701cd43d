/**
 * Compile lib's native product kernel (`lib/native/products.c`) into `lib/native/build/products.node`, with the
 * C compiler alone: no Node headers, no node-gyp, about a second. Run by `npm run build` (so by `npm ci` and
 * before the tests); does nothing when the addon is newer than its sources.
 *
 *   npx tsx scripts/native-products.ts        one line: built, up to date, or why not
 *
 * Without a C compiler it says so and exits 0: the wasm step keeps its own (slower, same bits) kernel. The
 * compiler is `$CC`, else `cc`. Written atomically: compiled beside the target under a temporary name, renamed.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from "node:fs";
import { join, resolve } from "node:path";

const NATIVE = resolve(__dirname, "..", "lib", "native");
const SOURCES = ["products.c", "products-kernel.h", "napi.h"].map((name) => join(NATIVE, name));
/**
 * Where the addon is built: in lib's folder, where lib's loader (`lib/model/native-products.ts`) looks for it.
 * @example existsSync(PRODUCTS_ADDON); // true after npm run build on a machine with a C compiler
 */
export const PRODUCTS_ADDON = join(NATIVE, "build", "products.node");
/**
 * -ffp-contract=off: a multiply and the add after it must stay two roundings, as in WebAssembly (no FMA), or the
 * sums lose their bit-for-bit match with the wasm kernel. No -march: the code picks AVX-512, AVX2 or SSE2 itself
 * at load, so one build runs on any x86-64 CPU.
 */
const FLAGS = ["-O3", "-ffp-contract=off", "-fno-math-errno", "-fPIC", "-shared", "-fvisibility=hidden", "-Wall"];

/**
 * What happened, as one line for the build's output.
 * @example const result: ProductsBuild = buildNativeProducts(); if (!result.ok) console.log(result.line);
 */
export type ProductsBuild = { ok: true; built: boolean; line: string } | { ok: false; line: string };

/**
 * Build the addon unless it is newer than its sources (`force`: in any case). The compiler is `$CC`, else `cc`.
 * @example const result = buildNativeProducts(); console.log(result.line); // "native products: built lib/native/build/products.node (cc, 0.8 s)"
 */
export function buildNativeProducts(options: { compiler?: string; force?: boolean } = {}): ProductsBuild {
  const compiler = options.compiler ?? (process.env.CC || "cc");
  if (!options.force && upToDate()) return { ok: true, built: false, line: "native products: up to date" };
  if (process.arch !== "x64") return { ok: false, line: `native products: skipped on ${process.arch} (the kernel is written for x86-64); the wasm kernel runs instead` };
  const probe = spawnSync(compiler, ["--version"], { encoding: "utf8" });
  if (probe.error || probe.status !== 0) {
    return { ok: false, line: `native products: no C compiler (${compiler}); the wasm kernel runs instead (Debian: apt-get install gcc, then npm run build)` };
  }
  mkdirSync(join(NATIVE, "build"), { recursive: true });
  const partial = `${PRODUCTS_ADDON}.${process.pid}.partial`;
  const start = performance.now();
  const result = spawnSync(compiler, [...FLAGS, join(NATIVE, "products.c"), "-o", partial], { encoding: "utf8" });
  if (result.status !== 0) {
    rmSync(partial, { force: true });
    const output = `${result.stderr ?? ""}${result.stdout ?? ""}`.trim().split("\n").slice(-12).join("\n");
    return { ok: false, line: `native products: ${compiler} failed (exit ${result.status}); the wasm kernel runs instead:\n${output}` };
  }
  renameSync(partial, PRODUCTS_ADDON);
  const seconds = ((performance.now() - start) / 1000).toFixed(1);
  return { ok: true, built: true, line: `native products: built lib/native/build/products.node (${compiler}, ${seconds} s)` };
}

/**
 * The quick start's step (`npm run reports`, `npm run lab`): where the addon is missing or older than its sources
 * (`npm ci` ran before a compiler was installed, or the sources changed), build it and print the one line; silent
 * when it is in place, and under `MIE_NATIVE_PRODUCTS=off`. Never throws: the wasm kernel runs whatever happens.
 * @example ensureNativeProducts(); // prints nothing after `npm ci` built it
 */
export function ensureNativeProducts(): void {
  if (process.env.MIE_NATIVE_PRODUCTS === "off" || upToDate()) return;
  try {
    console.log(buildNativeProducts().line);
  } catch (error) {
    console.log(`native products: not built, the wasm kernel runs instead: ${(error as Error).message.split("\n")[0]}`);
  }
}

function upToDate(): boolean {
  if (!existsSync(PRODUCTS_ADDON)) return false;
  const built = statSync(PRODUCTS_ADDON).mtimeMs;
  return SOURCES.every((source) => statSync(source).mtimeMs <= built);
}

if (require.main === module) console.log(buildNativeProducts().line);
