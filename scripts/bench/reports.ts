/**
 * The reports row of `npm run bench -- --reports [--reports-baseline REV]`: seconds of `npm run reports`, for
 * this tree and (optionally, measured first) for an earlier commit in the same command. With a baseline, both
 * execute exactly the notebooks both trees have (a notebook added since has nothing to compare with), and the
 * ratio is of the two wall times: this tree runs notebooks side by side, so per-notebook seconds overlap.
 *
 * The baseline is exported with `git archive` into a temporary folder (read-only for the repository: no
 * worktree, no checkout), gets its own node_modules (links to ours when package-lock.json is the same, with
 * `@mie/lib` pointing at the baseline's own lib; `npm ci` otherwise), is built by its own build steps (its native
 * kernels too, so `--speed-baseline` compares each tree's own kernels), and runs its own
 * scripts/report.ts into a temporary out folder. Both runs use the same Jupyter Python and start from an empty
 * run store. With a baseline, this tree also runs the baseline's own notebooks: the notebooks have grown since
 * older commits (more runs), so only that row compares the same work.
 */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The project folder (this file is scripts/bench/reports.ts). */
const ROOT = join(__dirname, "..", "..");

/** Seconds of one `npm run reports`: per notebook (overlapping when they run side by side) and in total (wall
 *  time), as its "Time:" line prints them. */
export interface ReportsTiming {
  source: string;
  notebooks: { name: string; seconds: number }[];
  totalSeconds: number;
}

/**
 * The Jupyter Python both runs use: `MIE_PYTHON`, else the project's .venv, if it imports nbclient, nbconvert and
 * jupyter_client. Passed to both as MIE_PYTHON, because an older tree without one may fall back to installing
 * Jupyter with `pip install --user` (into the home folder) — never wanted from a benchmark.
 * @example jupyterPython(); // "/work/main/.venv/bin/python"
 */
export function jupyterPython(): string {
  const candidates = [process.env.MIE_PYTHON, join(ROOT, ".venv", "bin", "python")].filter((p): p is string => Boolean(p));
  for (const python of candidates) {
    if (spawnSync(python, ["-c", "import nbclient, nbconvert, jupyter_client"], { stdio: "ignore" }).status === 0) return python;
  }
  throw new Error(
    `bench --reports: no Jupyter Python (tried ${candidates.join(", ")}): run \`npm run reports\` once to create .venv, ` +
      "or set MIE_PYTHON to a Python that can import nbclient, nbconvert and jupyter_client.",
  );
}

/**
 * Run scripts/report.ts of the tree at `root` into a temporary folder, with Jupyter Python `python`, on the
 * notebooks `names` (all of them when empty) of `notebooks` (default: the tree's own notebooks/), with an empty
 * run store (every run trains, as in a tree without one), and read its timing line.
 * @example timeReports(ROOT, "this tree", jupyterPython(), ["OneLayerNetwork"]).totalSeconds;
 */
export function timeReports(root: string, source: string, python: string, names: readonly string[] = [], notebooks?: string): ReportsTiming {
  const out = mkdtempSync(join(tmpdir(), "mie-bench-reports-"));
  const store = mkdtempSync(join(tmpdir(), "mie-bench-store-"));
  try {
    const env = { ...process.env, MIE_PYTHON: python, MIE_RUNS: store };
    const args = ["scripts/report.ts", "--out", out, ...(notebooks ? ["--notebooks", notebooks] : []), ...names];
    const run = spawnSync(process.execPath, [join(root, "node_modules", "tsx", "dist", "cli.mjs"), ...args], {
      cwd: root, env, encoding: "utf8", maxBuffer: 64 * 1024 * 1024,
    });
    const line = run.stdout.split("\n").find((l) => l.startsWith("Time: "));
    if (run.status !== 0 || !line) {
      throw new Error(`bench --reports: npm run reports failed in ${source} (exit ${run.status}):\n${(run.stdout + run.stderr).slice(-3000)}`);
    }
    return { source, ...parseTimeLine(line) };
  } finally {
    rmSync(out, { recursive: true, force: true });
    rmSync(store, { recursive: true, force: true });
  }
}

/**
 * A copy of the baseline's notebooks inside this project (under node_modules/.cache, so they import this tree's
 * `@mie/lib`), to time this tree on exactly the baseline's work; `dispose` removes it.
 * @example const copy = copyNotebooks(baseline.root, "0c8820c"); timeReports(ROOT, "this tree", python, names, copy.folder);
 */
export function copyNotebooks(baselineRoot: string, rev: string): { folder: string; dispose: () => void } {
  const parent = join(ROOT, "node_modules", ".cache");
  mkdirSync(parent, { recursive: true });
  const folder = mkdtempSync(join(parent, `mie-bench-notebooks-${rev.replace(/[^\w.-]/g, "_")}-`));
  cpSync(join(baselineRoot, "notebooks"), folder, { recursive: true });
  return { folder, dispose: () => rmSync(folder, { recursive: true, force: true }) };
}

/**
 * "Time: OneLayerNetwork: 50.1 s, MoreLayerNetwork: 175.0 s; total 226.0 s" → numbers.
 * @example parseTimeLine("Time: A: 1.0 s; total 1.5 s").totalSeconds; // 1.5
 */
export function parseTimeLine(line: string): Omit<ReportsTiming, "source"> {
  const match = /^Time: (.*); total ([\d.]+) s/.exec(line);
  if (!match) throw new Error(`bench --reports: cannot read the timing line "${line}"`);
  const notebooks = match[1]!.split(", ").map((part) => {
    const item = /^(.*): ([\d.]+) s$/.exec(part);
    if (!item) throw new Error(`bench --reports: cannot read "${part}" in "${line}"`);
    return { name: item[1]!, seconds: Number(item[2]) };
  });
  return { notebooks, totalSeconds: Number(match[2]) };
}

/**
 * Export commit `rev` into a temporary folder, give it node_modules and build it as its own `npm run build` did
 * (lib/dist, then the steps after tsc: its native kernels where it had them); `dispose` removes it.
 * @example const baseline = prepareBaseline("7fb7d07"); try { timeReports(baseline.root, ...) } finally { baseline.dispose() }
 */
export function prepareBaseline(rev: string, log: (line: string) => void): { root: string; dispose: () => void } {
  const root = mkdtempSync(join(tmpdir(), `mie-baseline-${rev.replace(/[^\w.-]/g, "_")}-`));
  const dispose = () => rmSync(root, { recursive: true, force: true });
  try {
    const archive = spawnSync("bash", ["-c", `git -C "$1" archive --format=tar "$2" | tar -x -C "$3"`, "_", ROOT, rev, root], { encoding: "utf8" });
    if (archive.status !== 0 || !existsSync(join(root, "package.json"))) {
      throw new Error(`bench: baseline ${rev}: cannot export it with git archive: ${archive.stderr.trim()}`);
    }
    if (sameFile(join(root, "package-lock.json"), join(ROOT, "package-lock.json"))) {
      log(`  baseline ${rev}: same package-lock.json, linking our node_modules (its @mie/lib is its own lib)`);
      linkNodeModules(root);
    } else {
      log(`  baseline ${rev}: different package-lock.json, running npm ci`);
      run("npm", ["ci", "--ignore-scripts", "--no-audit", "--no-fund"], root, "npm ci");
    }
    // An old tree may not type-check under today's compiler and @types (0c8820c does not: SharedArrayBuffer in
    // BufferSource); tsc still emits its JavaScript, which is what the notebooks run.
    const build = spawnSync(process.execPath, [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", "lib"], { cwd: root, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    if (build.status !== 0) {
      if (build.status !== 2 || !existsSync(join(root, "lib", "dist", "index.js"))) {
        throw new Error(`bench: baseline ${rev}: build failed in ${root}:\n${(build.stdout + build.stderr).slice(-2000)}`);
      }
      log(`  baseline ${rev}: type errors under today's TypeScript (${build.stdout.split("\n").filter((line) => /error TS/.test(line)).length}); its emitted JavaScript is used`);
    }
    // The rest of its own build: a tree that compiled native kernels runs its own, as its users' did.
    for (const step of buildStepsAfterTsc(root)) {
      const result = spawnSync("bash", ["-c", step], {
        cwd: root, encoding: "utf8", maxBuffer: 64 * 1024 * 1024, env: { ...process.env, PATH: `${join(root, "node_modules", ".bin")}:${process.env.PATH ?? ""}` },
      });
      if (result.status !== 0) throw new Error(`bench: baseline ${rev}: ${step} failed in ${root}:\n${(result.stdout + result.stderr).slice(-2000)}`);
      const said = result.stdout.trim().split("\n").filter(Boolean).at(-1);
      log(`  baseline ${rev}: ${step}${said ? `: ${said}` : ""}`);
    }
    return { root, dispose };
  } catch (error) {
    dispose();
    throw error;
  }
}

/**
 * The steps of a tree's own `npm run build` after its `tsc -p lib` (declarations, native kernels), as written in
 * its package.json; none where the build is `tsc -p lib` alone.
 * @example buildStepsAfterTsc(baseline.root); // ["tsx scripts/slim-declarations.ts", "tsx scripts/native-products.ts"] at 4b72628
 */
export function buildStepsAfterTsc(root: string): string[] {
  const build = (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { scripts?: { build?: string } }).scripts?.build ?? "";
  const steps = build.split("&&").map((step) => step.trim()).filter(Boolean);
  const tsc = steps.findIndex((step) => /^tsc -p lib$/.test(step));
  return tsc < 0 ? [] : steps.slice(tsc + 1);
}

/**
 * `npm run build` in this tree, before timing it: the notebooks run lib/dist and the engine its built native
 * kernels, so a stale build would time old code.
 * @example buildThisTree(console.log);
 */
export function buildThisTree(log: (line: string) => void): void {
  log("this tree: npm run build (lib/dist and the native kernels)");
  const build = spawnSync("npm", ["run", "build"], { cwd: ROOT, encoding: "utf8" });
  if (build.status !== 0) throw new Error(`bench: npm run build failed in ${ROOT}:\n${(build.stdout + build.stderr).slice(-2000)}`);
}

function sameFile(a: string, b: string): boolean {
  return existsSync(a) && existsSync(b) && readFileSync(a).equals(readFileSync(b));
}

/** Every top-level package of ours by link, except the workspace package, which must be the baseline's. */
function linkNodeModules(root: string): void {
  const ours = join(ROOT, "node_modules");
  const theirs = join(root, "node_modules");
  mkdirSync(join(theirs, "@mie"), { recursive: true });
  for (const entry of readdirSync(ours)) {
    if (entry !== "@mie") symlinkSync(join(ours, entry), join(theirs, entry));
  }
  symlinkSync("../../lib", join(theirs, "@mie", "lib"));
}

function run(command: string, args: string[], cwd: string, what: string): void {
  const result = spawnSync(command, args, { cwd, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`bench: baseline: ${what} failed in ${cwd}:\n${(result.stdout + result.stderr).slice(-2000)}`);
}

/**
 * The notebooks (names without .ipynb) that both trees have in notebooks/, in order.
 * @example sharedNotebooks(ROOT, baseline.root); // ["MoreLayerNetwork", "OneLayerNetwork"]
 */
export function sharedNotebooks(current: string, baseline: string): string[] {
  const names = (root: string): string[] =>
    readdirSync(join(root, "notebooks")).filter((file) => file.endsWith(".ipynb")).map((file) => file.slice(0, -".ipynb".length)).sort();
  const theirs = new Set(names(baseline));
  const shared = names(current).filter((name) => theirs.has(name));
  if (shared.length === 0) throw new Error(`bench --reports-baseline: no notebook in both ${current}/notebooks and ${baseline}/notebooks`);
  return shared;
}

/**
 * This tree's wall time over the baseline's, both having run the same notebooks.
 * @example reportsRatio(current, baseline); // 0.43
 */
export function reportsRatio(current: ReportsTiming, baseline: ReportsTiming): number {
  const names = (timing: ReportsTiming) => timing.notebooks.map((n) => n.name).sort().join(", ");
  if (names(current) !== names(baseline)) {
    throw new Error(`reports: ${current.source} ran ${names(current)} but ${baseline.source} ran ${names(baseline)}; compare the same notebooks`);
  }
  return current.totalSeconds / baseline.totalSeconds;
}
