/**
 * Build `@tensorflow/tfjs-node` here from registry packages only. It is not a dependency of this project: no
 * notebook needs it (every run trains on the engine, lib/engine), and it is 1.1 GB of node_modules once built, so
 * `npm ci` leaves it out and it is built only when asked for (issue 29).
 *
 *   npm run native        (idempotent: does nothing where tfjs-node already loads)
 *
 * Steps (issue 13; ~25–100 s on our machines, most of it downloading and unpacking the wheel and compiling):
 * 1. tfjs-node's files and its dependencies with `npm install --no-save --ignore-scripts`, at the version
 *    lib/package.json's optional peer dependency names: without running its install script (it downloads
 *    libtensorflow from a host these machines cannot reach), and without changing package.json or package-lock.json.
 * 2. `pip download --no-deps tensorflow-cpu==2.21.0` into a temporary folder (no pip cache, no retries), and from
 *    the wheel `libtensorflow_cc.so.2`, `libtensorflow_framework.so.2` and the whole `include/` tree (the C API's
 *    headers include `xla/tsl/...` ones) into the package's `deps/`. The addon links `-ltensorflow` and looks for
 *    the wheel library's SONAME, `libtensorflow_cc.so.2`, so both names point at it.
 * 3. The addon with npm's bundled node-gyp against Node's installed headers (no download), copied to
 *    `lib/napi-v8/` where tfjs-node looks for it; then a check that it loads and multiplies.
 *
 * Writes only inside the project (node_modules/@tensorflow/tfjs-node and its dependencies) and a temporary folder
 * it deletes.
 *
 * `npm run reports`, `npm run lab` and `npm test` (its `pretest`) call `ensureNativeBackend()` first: only where
 * MIE_BACKEND=tfjs-node asks for it (`nativeBuildRequested`) does it build tfjs-node, in one line, as `.venv` is
 * created. Under auto nothing is built: runs stay on the engine. The library itself never installs anything; it
 * names `npm run native` when tfjs-node is asked for and missing (lib/engine/backend.ts).
 */
import { spawnSync, type SpawnSyncOptions } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { environment } from "../lib/config/environment";

const PROJECT = resolve(__dirname, "..");
const PACKAGE = "@tensorflow/tfjs-node";
const PACKAGE_DIR = join(PROJECT, "node_modules", "@tensorflow", "tfjs-node");
/** The TensorFlow release whose C API tfjs-node 4.22 builds against (checked: 2.21.0 works). */
const WHEEL = "tensorflow-cpu==2.21.0";
const NAPI_VERSION = 8;
const ADDON = join(PACKAGE_DIR, "lib", `napi-v${NAPI_VERSION}`, "tfjs_binding.node");
const LIBRARIES = ["libtensorflow_cc.so.2", "libtensorflow_framework.so.2"];

class NativeError extends Error {}

/** Step-by-step lines for `npm run native`; the build `ensureNativeBackend` starts prints one line only. */
let quiet = false;

function log(line: string): void {
  if (!quiet) console.log(`native: ${line}`);
}

function run(command: string, args: string[], options: SpawnSyncOptions & { what: string }): string {
  const result = spawnSync(command, args, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024, ...options });
  if (result.error) throw new NativeError(`${options.what}: could not run ${command}: ${result.error.message}`);
  if (result.status !== 0) {
    const output = `${result.stdout ?? ""}${result.stderr ?? ""}`.trim().split("\n").slice(-25).join("\n");
    throw new NativeError(`${options.what} failed (${command} exited ${result.status}):\n${output}`);
  }
  return String(result.stdout ?? "");
}

/**
 * Whether tfjs-node loads and multiplies, in a fresh process through the library's own backend module: the
 * line `describeBackend` prints, or null with the reason.
 */
function probe(): { ok: true; line: string } | { ok: false; reason: string } {
  const code =
    'const tf = require("@tensorflow/tfjs"); require("./lib/engine/backend").describeBackend("tfjs-node").then((line) => {' +
    " const product = tf.matMul(tf.ones([2, 3]), tf.ones([3, 2])).dataSync();" +
    ' if (product.join() !== "3,3,3,3") throw new Error("wrong product " + product.join());' +
    " console.log(line); }, (e) => { console.error(e.message); process.exit(3); })";
  const result = spawnSync(process.execPath, ["--import", "tsx", "-e", code], {
    cwd: PROJECT, encoding: "utf8", env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: "2" },
  });
  if (result.status === 0) return { ok: true, line: result.stdout.trim().split("\n").pop() ?? "" };
  return { ok: false, reason: (result.stderr || result.stdout).trim().split("\n").pop() ?? `exit ${result.status}` };
}

/** The prerequisites, checked before anything is downloaded; every missing one is named with what to install. */
function checkTools(preferred?: string): { python: string; nodeGyp: string; nodeDir: string } {
  const missing: string[] = [];
  const has = (command: string, args: string[]) => spawnSync(command, args, { encoding: "utf8" }).status === 0;
  const python = process.env.MIE_NATIVE_PYTHON ?? preferred ?? "python3";
  if (!has(python, ["-m", "pip", "--version"])) missing.push(`${python} with pip (Debian: apt-get install python3-pip python3-venv; or set MIE_NATIVE_PYTHON)`);
  for (const tool of ["g++", "make"]) if (!has(tool, ["--version"])) missing.push(`${tool} (Debian: apt-get install g++ make)`);
  const nodeDir = dirname(dirname(process.execPath));
  if (!["node_api.h", "common.gypi"].every((file) => existsSync(join(nodeDir, "include", "node", file)))) {
    missing.push(`Node's headers in ${join(nodeDir, "include", "node")} (install Node with its headers, e.g. Debian's nodejs or a nodejs.org tarball)`);
  }
  const nodeGyp = npmNodeGyp();
  if (!nodeGyp) missing.push("node-gyp (npm's bundled copy was not found beside npm)");
  if (missing.length > 0) throw new NativeError(`cannot build tfjs-node; missing:\n  - ${missing.join("\n  - ")}`);
  return { python, nodeGyp: nodeGyp!, nodeDir };
}

/** npm's own node-gyp (npm ships one for building addons), found from the npm that runs this script. */
function npmNodeGyp(): string | null {
  const npmCli = process.env.npm_execpath;
  const candidates = [
    ...(npmCli ? [join(dirname(npmCli), "..", "node_modules", "node-gyp", "bin", "node-gyp.js")] : []),
    join(dirname(dirname(process.execPath)), "lib", "node_modules", "npm", "node_modules", "node-gyp", "bin", "node-gyp.js"),
  ];
  return candidates.find((file) => existsSync(file)) ?? null;
}

/**
 * The tfjs-node version lib/package.json's optional peer dependency names (tfjs-node must match @tensorflow/tfjs).
 * @example tfjsNodeVersion(); // "4.22.0"
 */
export function tfjsNodeVersion(): string {
  const lib = require(join(PROJECT, "lib", "package.json")) as { peerDependencies?: Record<string, string> };
  const version = lib.peerDependencies?.[PACKAGE];
  if (!version || !/^\d+\.\d+\.\d+$/.test(version)) {
    throw new NativeError(`lib/package.json: expected an exact version of ${PACKAGE} in peerDependencies, found ${JSON.stringify(version ?? null)}`);
  }
  return version;
}

/**
 * tfjs-node's files and dependencies, without its install script. Its dependencies are not in package-lock.json
 * (it is no dependency of the project), so npm resolves them from the registry within tfjs-node's own ranges.
 */
function ensurePackage(scratch: string): void {
  const dependenciesPresent = (): boolean => {
    const probeDeps = spawnSync(process.execPath, ["-e", `const p = require(${JSON.stringify(join(PACKAGE_DIR, "package.json"))});` +
      " for (const d of Object.keys(p.dependencies)) require.resolve(d + '/package.json', { paths: [" + JSON.stringify(PACKAGE_DIR) + "] });"], { cwd: PROJECT });
    return probeDeps.status === 0;
  };
  if (existsSync(join(PACKAGE_DIR, "binding.gyp")) && dependenciesPresent()) return;
  const version = tfjsNodeVersion();
  log(`${PACKAGE}@${version} is not installed (\`npm ci\` leaves it out): adding its files and dependencies without its install script`);
  run("npm", ["install", "--no-save", "--ignore-scripts", "--no-audit", "--no-fund", `${PACKAGE}@${version}`], {
    cwd: PROJECT, what: `npm install ${PACKAGE}`, env: { ...process.env, npm_config_cache: join(scratch, "npm-cache") }, // no cache in HOME
  });
  if (!existsSync(join(PACKAGE_DIR, "binding.gyp")) || !dependenciesPresent()) {
    throw new NativeError(`npm install ${PACKAGE}: finished but ${PACKAGE_DIR} or its dependencies are still missing`);
  }
}

/** libtensorflow and its headers from the TensorFlow CPU wheel into deps/ (replaced whole, never half-written). */
function ensureLibtensorflow(python: string, scratch: string): void {
  const deps = join(PACKAGE_DIR, "deps");
  const complete = ["libtensorflow.so", "libtensorflow.so.2", "libtensorflow_framework.so"].every((name) => existsSync(join(deps, "lib", name))) &&
    existsSync(join(deps, "include", "tensorflow", "c", "c_api.h"));
  if (complete) return;
  log(`downloading ${WHEEL} with pip (about 270 MB; no pip cache, no retries)`);
  const wheels = join(scratch, "wheel");
  run(python, ["-m", "pip", "download", "--no-deps", "--no-cache-dir", "--retries", "0", "--timeout", "5", "--only-binary=:all:", "--dest", wheels, WHEEL], {
    what: `pip download ${WHEEL} (is it on pip's configured index?)`, env: { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: "1" },
  });
  const wheel = readdirSync(wheels).find((name) => name.endsWith(".whl"));
  if (!wheel) throw new NativeError(`pip download ${WHEEL}: no wheel in ${wheels}`);
  const staged = join(scratch, "deps");
  log(`extracting libtensorflow and include/ from ${wheel}`);
  const extract = [
    "import sys, zipfile, os",
    "wheel, out, libs = sys.argv[1], sys.argv[2], sys.argv[3:]",
    "z = zipfile.ZipFile(wheel)",
    "names = z.namelist()",
    "missing = [l for l in libs if 'tensorflow/' + l not in names]",
    "missing and sys.exit('the wheel lacks ' + ', '.join(missing))",
    "for l in libs:",
    "  with z.open('tensorflow/' + l) as src, open(os.path.join(out, 'lib', l), 'wb') as dst: dst.write(src.read())",
    "for n in names:",
    "  if n.startswith('tensorflow/include/') and not n.endswith('/'):",
    "    target = os.path.join(out, 'include', n[len('tensorflow/include/'):])",
    "    os.makedirs(os.path.dirname(target), exist_ok=True)",
    "    with z.open(n) as src, open(target, 'wb') as dst: dst.write(src.read())",
  ].join("\n");
  mkdirSync(join(staged, "lib"), { recursive: true });
  run(python, ["-c", extract, join(wheels, wheel), staged, ...LIBRARIES], { what: `extracting from ${wheel}` });
  const lib = join(staged, "lib");
  for (const name of ["libtensorflow.so", "libtensorflow.so.2"]) symlinkSync("libtensorflow_cc.so.2", join(lib, name));
  symlinkSync("libtensorflow_framework.so.2", join(lib, "libtensorflow_framework.so"));
  rmSync(deps, { recursive: true, force: true });
  renameSync(staged, deps);
}

/** The addon, built with node-gyp against Node's installed headers, into lib/napi-v8/. */
function buildAddon(nodeGyp: string, nodeDir: string, scratch: string): void {
  log(`compiling the addon with npm's node-gyp (headers from ${nodeDir})`);
  run(process.execPath, [
    nodeGyp, "rebuild", `--nodedir=${nodeDir}`, `--devdir=${join(scratch, "node-gyp")}`, "--module_name=tfjs_binding",
    `--module_path=./lib/napi-v${NAPI_VERSION}`, `--napi_build_version=${NAPI_VERSION}`, "--jobs=max",
  ], { cwd: PACKAGE_DIR, what: "node-gyp rebuild", env: { ...process.env, npm_config_cache: join(scratch, "npm-cache") } });
  mkdirSync(dirname(ADDON), { recursive: true });
  copyFileSync(join(PACKAGE_DIR, "build", "Release", "tfjs_binding.node"), ADDON);
}

/** Build tfjs-node (the steps above); returns the backend line of the built package. */
function build(python?: string): string {
  const { python: pip, nodeGyp, nodeDir } = checkTools(python);
  const scratch = mkdtempSync(join(tmpdir(), "mie-native-"));
  try {
    ensurePackage(scratch);
    ensureLibtensorflow(pip, scratch);
    buildAddon(nodeGyp, nodeDir, scratch);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  const after = probe();
  if (!after.ok) throw new NativeError(`built, but tfjs-node still does not load: ${after.reason}`);
  return after.line;
}

function main(): void {
  const start = performance.now();
  const before = probe();
  if (before.ok) {
    log(`tfjs-node already works, nothing to do (${before.line})`);
    return;
  }
  log(`tfjs-node does not load (${before.reason}): building it`);
  const line = build();
  log(`done in ${((performance.now() - start) / 1000).toFixed(0)} s: ${line}`);
}

/**
 * Whether the scripts' setup (`npm run reports`, `npm run lab`, `npm test`) builds tfjs-node: only where
 * MIE_BACKEND=tfjs-node asks for it. Under auto (MIE_BACKEND unset) nothing is built and big runs stay on the
 * engine, so a newcomer's `npm ci && npm run reports` never downloads or compiles libtensorflow.
 * @example nativeBuildRequested({}); // false
 */
export function nativeBuildRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  return environment(env).backend === "tfjs-node";
}

/** What `ensureNativeBackend` did. */
export type NativeSetup = "not requested" | "present" | "built";

/**
 * The scripts' step before any kernel starts: where MIE_BACKEND=tfjs-node asks for tfjs-node and it is not built
 * yet, build it (once, ~30 s plus a ~270 MB download) and say so in one line, as `.venv` is created. Where it cannot
 * be built, throw with the reason in a few lines (`npm run native` shows every step): the user asked for tfjs-node,
 * so nothing should run on another backend instead. Otherwise does nothing.
 * `python` is a Python with pip for the download (the project's .venv).
 * @example ensureNativeBackend(projectPython().python); // "native: building tfjs-node, as MIE_BACKEND=tfjs-node asks … done in 31 s"
 */
export function ensureNativeBackend(python?: string, env: NodeJS.ProcessEnv = process.env): NativeSetup {
  if (!nativeBuildRequested(env)) return "not requested";
  if (existsSync(ADDON) && existsSync(join(PACKAGE_DIR, "deps", "lib", "libtensorflow.so.2"))) return "present";
  const start = performance.now();
  process.stdout.write("native: building tfjs-node, as MIE_BACKEND=tfjs-node asks (once; about 30 s and a 270 MB download) …");
  quiet = true;
  try {
    const line = build(python);
    console.log(` done in ${((performance.now() - start) / 1000).toFixed(0)} s (${line.split(" · ")[0]})`);
    return "built";
  } catch (error) {
    const reason = (error instanceof NativeError ? error.message : String(error)).split("\n").map((part) => part.trim().replace(/^- /, "")).filter(Boolean).slice(0, 3).join(" ");
    console.log(" failed");
    throw new NativeError(`tfjs-node could not be built (MIE_BACKEND=tfjs-node asks for it): ${reason}\n` +
      "`npm run native` shows every step; without MIE_BACKEND=tfjs-node everything runs on the engine.");
  } finally {
    quiet = false;
  }
}

/** `--if-requested` (npm test's pretest): `ensureNativeBackend`, so only under MIE_BACKEND=tfjs-node. */
function cli(args: string[]): void {
  if (args.length === 0) return main();
  if (args.length === 1 && args[0] === "--if-requested") {
    ensureNativeBackend();
    return;
  }
  throw new NativeError(`expected no arguments or --if-requested, got: ${args.join(" ")}`);
}

if (require.main === module) {
  try {
    cli(process.argv.slice(2));
  } catch (error) {
    console.error(error instanceof NativeError ? `native: ${error.message}` : error);
    process.exitCode = 1;
  }
}
