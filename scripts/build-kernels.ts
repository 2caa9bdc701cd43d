/**
 * Build the engine's kernels (`lib/engine/kernels/*.c`) two ways from the same sources:
 *
 *   npx tsx scripts/build-kernels.ts          the native addon, lib/engine/kernels/build/kernels.node: the C
 *                                             compiler alone (`$CC`, else `cc`), about a second; run by `npm run
 *                                             build`; one line: built, up to date, or why not
 *   npx tsx scripts/build-kernels.ts --wasm   lib/engine/kernels/kernels.wasm, committed (a newcomer may have no
 *                                             clang): needs clang and wasm-ld (Debian: apt-get install clang lld)
 *
 * Both compile with -ffp-contract=off: a multiply and the add after it stay two roundings, as in WebAssembly (no
 * FMA), so every build gives the same bits. The addon is compiled once per instruction set (SSE2, AVX2,
 * AVX-512: the flags alone choose each build's vectors and tiles, lib/engine/kernels/simd.h) and picks one at
 * load, so one build runs on any x86-64 CPU; no -march. Written atomically: built under a temporary name, renamed.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const KERNELS = resolve(__dirname, "..", "lib", "engine", "kernels");
/** The kernel sources, each compiled into both the wasm module and every native build. */
const SOURCES = [
  "gemm.c", "pixels.c", "transpose.c", "adam.c", "momentum.c", "adagrad.c", "rmsprop.c", "add-to.c", "scale.c",
  "im2col.c", "max-pool.c", "dropout.c", "planes.c", "add-scaled.c", "sgd.c", "sum-rows.c", "batch-norm.c", "activation.c",
];
/** What the wasm module exports: the kernels, and where the memory above its stack starts. */
const EXPORTS = [
  "gemm", "pixels", "transpose", "transposeStrided", "adam", "momentum", "adagrad", "rmsprop", "addTo", "scale",
  "im2col", "im2colRows", "col2im", "maxPool", "maxPoolBackward", "dropout", "dropoutMask", "planes", "addScaled", "sgd", "sumRows",
  "batchNorm", "batchNormBackward", "activation", "activationBackward", "__heap_base",
];

/**
 * The committed WebAssembly module.
 * @example new WebAssembly.Module(readFileSync(KERNELS_WASM));
 */
export const KERNELS_WASM = join(KERNELS, "kernels.wasm");
/**
 * Where the native addon is built (git-ignored).
 * @example existsSync(KERNELS_ADDON); // true after npm run build on x86-64 with a C compiler
 */
export const KERNELS_ADDON = join(KERNELS, "build", "kernels.node");

/**
 * The wasm module's compile command, run in lib/engine/kernels on relative names (nothing of this machine's
 * paths reaches the output; no debug info). It imports a shared `env.memory` of up to 4 GiB, and bulk memory
 * keeps clang from calling a `memset` that -nostdlib cannot provide.
 */
function wasmCommand(output: string): string[] {
  return [
    "clang", "--target=wasm32", "-O3", "-msimd128", "-mbulk-memory", "-matomics", "-ffp-contract=off", "-fno-math-errno", "-nostdlib", "-Wall", "-Werror",
    "-Wl,--no-entry", "-Wl,--import-memory", "-Wl,--shared-memory", `-Wl,--max-memory=${4 * 1024 ** 3}`,
    ...EXPORTS.map((name) => `-Wl,--export=${name}`), ...SOURCES, "-o", output,
  ];
}
/** x86-64 builds: the compiler flags that choose each instruction set (simd.h reads the compiler's macros). */
const INSTRUCTION_SETS: Record<string, string[]> = { sse2: [], avx2: ["-mavx2"], avx512: ["-mavx512f"] };
const NATIVE_FLAGS = ["-O3", "-ffp-contract=off", "-fno-math-errno", "-fPIC", "-fvisibility=hidden", "-Wall", "-Werror"];

/**
 * What happened, as one line for the build's output.
 * @example const result = buildKernels(); if (!result.ok) console.log(result.line);
 */
export type KernelsBuild = { ok: true; built: boolean; line: string } | { ok: false; line: string };

/**
 * Build the native addon unless it is newer than every source (`force`: in any case). The compiler is `$CC`, else `cc`.
 * `sources` and `output` build another copy of the sources (a benchmark's old commit) elsewhere; always built.
 * @example (await buildKernels()).line; // "kernels: built lib/engine/kernels/build/kernels.node (cc, 1.6 s)"
 */
export async function buildKernels(options: { compiler?: string; force?: boolean; sources?: string; output?: string } = {}): Promise<KernelsBuild> {
  const compiler = options.compiler ?? (process.env.CC || "cc");
  const folder = options.sources ?? KERNELS;
  const output = options.output ?? KERNELS_ADDON;
  const elsewhere = folder !== KERNELS || output !== KERNELS_ADDON;
  if (!options.force && !elsewhere && upToDate()) return { ok: true, built: false, line: "kernels: up to date" };
  if (process.arch !== "x64") return { ok: false, line: `kernels: native build skipped on ${process.arch} (x86-64 only); the wasm kernels run instead` };
  const probe = spawnSync(compiler, ["--version"], { encoding: "utf8" });
  if (probe.error || probe.status !== 0) {
    return { ok: false, line: `kernels: no C compiler (${compiler}); the wasm kernels run instead (Debian: apt-get install gcc, then npm run build)` };
  }
  mkdirSync(dirname(output), { recursive: true });
  const partial = `${output}.${process.pid}.partial`;
  const objects = Object.keys(INSTRUCTION_SETS).map((name) => `${partial}.${name}.o`);
  const start = performance.now();
  try {
    // One relocatable object per instruction set (`-r`: its kernels linked together, gemm_avx2 and so on), all
    // three at once (a second each), then the addon over them.
    const builds = Object.entries(INSTRUCTION_SETS).map(([name, flags], index) =>
      run(compiler, [...NATIVE_FLAGS, ...flags, "-r", "-nostdlib", ...SOURCES, "-o", objects[index]!], folder).then((failure) => failure && `the ${name} build: ${failure}`));
    const failed = (await Promise.all(builds)).find((failure) => failure);
    if (failed) return { ok: false, line: `kernels: ${compiler} failed on ${failed}; the wasm kernels run instead` };
    const failure = await run(compiler, [...NATIVE_FLAGS, "-shared", "addon.c", ...objects, "-o", partial], folder);
    if (failure) return { ok: false, line: `kernels: ${compiler} failed on the addon; the wasm kernels run instead:\n${failure}` };
    renameSync(partial, output);
  } finally {
    for (const file of [partial, ...objects]) rmSync(file, { force: true });
  }
  const seconds = ((performance.now() - start) / 1000).toFixed(1);
  return { ok: true, built: true, line: `kernels: built ${relative(process.cwd(), output)} (${compiler}, ${seconds} s)` };
}

/**
 * The quick start's step (`npm run reports`, `npm run lab`): where the addon is missing or older than its sources
 * (`npm ci` ran before a compiler was installed, or the sources changed), build it and print the one line; silent
 * when it is in place, and under `MIE_NATIVE_KERNELS=off`. Never throws: the wasm kernels run whatever happens.
 * @example await ensureNativeKernels(); // prints nothing after `npm ci` built it
 */
export async function ensureNativeKernels(): Promise<void> {
  const off = [process.env.MIE_NATIVE_KERNELS, process.env.MIE_NATIVE_PRODUCTS].includes("off");
  if (off || upToDate()) return;
  try {
    console.log((await buildKernels()).line);
  } catch (error) {
    console.log(`kernels: not built, the wasm kernels run instead: ${(error as Error).message.split("\n")[0]}`);
  }
}

/**
 * Compile kernels.wasm to `output` (default: the committed file). Throws, with clang's output, where it fails.
 * @example await buildWasm("/tmp/kernels.wasm");
 */
export async function buildWasm(output = KERNELS_WASM): Promise<string> {
  const partial = `${output}.${process.pid}.partial`;
  const command = wasmCommand(partial);
  try {
    const failure = await run(command[0]!, command.slice(1));
    if (failure) throw new Error(`kernels --wasm: clang failed (Debian: apt-get install clang lld):\n${failure}`);
    renameSync(partial, output);
  } finally {
    rmSync(partial, { force: true });
  }
  return `kernels: built ${relative(process.cwd(), output)} (${statSync(output).size} bytes)`;
}

/** Run a compiler in the kernels' folder (or `cwd`): null when it succeeded, else its last lines of output. */
function run(command: string, args: string[], cwd = KERNELS): Promise<string | null> {
  return new Promise((done) => {
    const child = spawn(command, args, { cwd });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    child.on("error", (error) => done(`${command}: ${error.message}`));
    child.on("close", (status) => done(status === 0 ? null : `${command} exited with ${status}:\n${output.trim().split("\n").slice(-12).join("\n")}`));
  });
}

function upToDate(): boolean {
  if (!existsSync(KERNELS_ADDON)) return false;
  const built = statSync(KERNELS_ADDON).mtimeMs;
  return readdirSync(KERNELS).filter((name) => /\.[ch]$/.test(name)).every((name) => statSync(join(KERNELS, name)).mtimeMs <= built);
}

if (require.main === module) {
  (process.argv.includes("--wasm") ? buildWasm() : buildKernels().then((result) => result.line)).then(console.log, (error: Error) => {
    console.error(error.message);
    process.exitCode = 1;
  });
}
