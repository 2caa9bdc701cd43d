/**
 * The project's one Python: a virtual environment in `.venv/` (git-ignored) holding the pinned Jupyter of
 * scripts/python-requirements.txt, created on first use by `npm run reports`, `npm test` and `npm run lab`.
 * Nothing is installed outside the project: no `pip install --user`, no pip cache in the home folder. Debian's
 * Jupyter packages are a fallback only where a venv or pip cannot work.
 *
 * usage: tsx scripts/python-env.ts     (set up .venv if needed and print which Python is used)
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";

const PROJECT = resolve(__dirname, "..");

/** The project's virtual environment. */
export const VENV = join(PROJECT, ".venv");

/** Pinned Python packages for `.venv`. */
export const REQUIREMENTS = join(PROJECT, "scripts", "python-requirements.txt");

/** Modules every step needs (execute, export, JupyterLab): a Python missing any of them is never picked. */
export const REQUIRED_MODULES = ["nbclient", "nbconvert", "jupyter_client", "jupyterlab", "notebook"];

/** Debian packages for the fallback: a headless Jupyter that executes and exports notebooks (no JupyterLab). */
export const DEBIAN_JUPYTER = ["jupyter-nbconvert", "python3-nbclient", "jupyter-client"];
const DEBIAN_PYTHON = "/usr/bin/python3";

/** The Python to use and how it was found. */
export interface PythonEnv {
  python: string;
  /** "venv": .venv; "MIE_PYTHON": the user's choice; "debian": Debian's Python with Debian's Jupyter (fallback). */
  kind: "venv" | "MIE_PYTHON" | "debian";
  /** The one line that says which path was taken. */
  description: string;
}

export interface PythonEnvOptions {
  /** Create or update `.venv` when it is missing or out of date (default true). */
  install?: boolean;
  log?: (line: string) => void;
  /** Where the venv lives (tests use a scratch folder). */
  venv?: string;
  /** Environment for pip and the probes (tests point pip at an unreachable index). */
  env?: NodeJS.ProcessEnv;
  /** Allow the Debian fallback (default: when root with apt-get, or when Debian's Jupyter is already there). */
  debianFallback?: boolean;
}

/** Modules of `modules` that `python` cannot import ([] when all import; all of them when python does not run). */
export function missingModules(python: string, modules: readonly string[], env: NodeJS.ProcessEnv = process.env): string[] {
  const probe = spawnSync(
    python,
    ["-c", "import importlib.util, sys; print(' '.join(m for m in sys.argv[1:] if importlib.util.find_spec(m) is None))", ...modules],
    { encoding: "utf8", env, timeout: 30_000 },
  );
  if (probe.status !== 0) return [...modules];
  return probe.stdout.trim().split(/\s+/).filter(Boolean);
}

/** What to run by hand when the automatic set-up cannot work. */
export function manualInstallHelp(venv = VENV): string {
  return (
    `Set it up by hand: \`python3 -m venv ${shortPath(venv)} && ${shortPath(join(venv, "bin", "pip"))} install -r ${shortPath(REQUIREMENTS)}\` ` +
    "(Debian: `apt-get install python3-venv` first; pip needs an index that has these packages), " +
    `or set MIE_PYTHON to a Python that has ${REQUIRED_MODULES.join(", ")}. ` +
    `Reports only (no JupyterLab): \`sudo apt-get install ${DEBIAN_JUPYTER.join(" ")}\`.`
  );
}

/** A path relative to the working folder when it lies inside it, else absolute. */
function shortPath(path: string): string {
  const inside = relative(process.cwd(), path);
  return inside && !inside.startsWith("..") ? inside : path;
}

const stampPath = (venv: string): string => join(venv, ".mie-requirements");
const venvPython = (venv: string): string => join(venv, "bin", "python");

function venvIsCurrent(venv: string, env: NodeJS.ProcessEnv): boolean {
  const stamp = stampPath(venv);
  return (
    existsSync(venvPython(venv)) &&
    existsSync(stamp) &&
    readFileSync(stamp, "utf8") === readFileSync(REQUIREMENTS, "utf8") &&
    missingModules(venvPython(venv), REQUIRED_MODULES, env).length === 0
  );
}

/** Create (or repair) the venv and install the pinned packages; returns why it failed, or null. */
function buildVenv(venv: string, env: NodeJS.ProcessEnv, log: (line: string) => void): string | null {
  if (!existsSync(venvPython(venv)) || spawnSync(venvPython(venv), ["-m", "pip", "--version"], { env, stdio: "ignore" }).status !== 0) {
    const bases = ["python3", DEBIAN_PYTHON].filter((python, i, all) => all.indexOf(python) === i);
    const made = bases.find((base) => {
      const result = spawnSync(base, ["-m", "venv", "--clear", venv], { env, encoding: "utf8", timeout: 120_000 });
      return result.status === 0;
    });
    if (!made) return `\`python3 -m venv\` failed with ${bases.join(" and ")} (no python3-venv / ensurepip?)`;
    log(`Python: creating ${venv} from ${made}`);
  }
  log(`Python: installing ${relative(PROJECT, REQUIREMENTS)} into ${venv} (pip, project-local)`);
  // --retries 0 and a short timeout: an unreachable index fails in seconds, not minutes of retries. No cache in ~.
  const pip = spawnSync(
    venvPython(venv),
    ["-m", "pip", "install", "--quiet", "--retries", "0", "--timeout", "5", "--no-cache-dir", "--disable-pip-version-check",
      "-r", REQUIREMENTS],
    { env: { ...env, PIP_USER: "0", PYTHONNOUSERSITE: "1" }, encoding: "utf8", timeout: 600_000 },
  );
  if (pip.status !== 0) {
    const lastLines = `${pip.stderr ?? ""}${pip.stdout ?? ""}`.trim().split("\n").slice(-4).join("\n");
    return `pip could not install the pinned packages:\n${lastLines}`;
  }
  const missing = missingModules(venvPython(venv), REQUIRED_MODULES, env);
  if (missing.length > 0) return `after pip install, ${venv} still lacks ${missing.join(", ")}`;
  writeFileSync(stampPath(venv), readFileSync(REQUIREMENTS, "utf8"));
  return null;
}

/** Debian's Python with Debian's Jupyter, installing the packages when root; null when that cannot work. */
function debianJupyter(env: NodeJS.ProcessEnv, log: (line: string) => void, install: boolean): string | null {
  const modules = ["nbclient", "nbconvert", "jupyter_client"];
  if (existsSync(DEBIAN_PYTHON) && missingModules(DEBIAN_PYTHON, modules, env).length === 0) return DEBIAN_PYTHON;
  if (!install || process.getuid?.() !== 0 || !existsSync("/usr/bin/apt-get")) return null;
  log(`Python: installing Debian packages ${DEBIAN_JUPYTER.join(" ")}`);
  const aptEnv = { ...env, DEBIAN_FRONTEND: "noninteractive" };
  spawnSync("apt-get", ["update", "-qq"], { stdio: "inherit", env: aptEnv });
  spawnSync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...DEBIAN_JUPYTER], { stdio: "inherit", env: aptEnv });
  return missingModules(DEBIAN_PYTHON, modules, env).length === 0 ? DEBIAN_PYTHON : null;
}

let cached: PythonEnv | undefined;

/**
 * The one Python for executing, exporting and serving notebooks. `MIE_PYTHON` wins (it must have every required
 * module); else `.venv`, created and brought up to date with pip when `install` is set; else, only where venv or
 * pip cannot work, Debian's Python with Debian's Jupyter. Throws with what to install by hand otherwise.
 * @example const { python, description } = projectPython({ log: console.log }); // ".venv/bin/python"
 */
export function projectPython(options: PythonEnvOptions = {}): PythonEnv {
  const venv = options.venv ?? VENV;
  const env = options.env ?? process.env;
  const useCache = options.venv === undefined && options.env === undefined;
  if (useCache && cached) return cached;
  const log = options.log ?? (() => undefined);
  const found = findPython(venv, env, log, options);
  if (useCache) cached = found;
  return found;
}

function findPython(venv: string, env: NodeJS.ProcessEnv, log: (line: string) => void, options: PythonEnvOptions): PythonEnv {
  const chosen = env.MIE_PYTHON;
  if (chosen) {
    const missing = missingModules(chosen, REQUIRED_MODULES, env);
    if (missing.length > 0) throw new Error(`MIE_PYTHON=${chosen} cannot import ${missing.join(", ")}: install them there or unset MIE_PYTHON`);
    return { python: chosen, kind: "MIE_PYTHON", description: `Python: ${chosen} (MIE_PYTHON)` };
  }
  const venvEnv: PythonEnv = { python: venvPython(venv), kind: "venv", description: `Python: ${venvPython(venv)} (project venv)` };
  if (venvIsCurrent(venv, env)) return venvEnv;
  const install = options.install ?? true;
  if (!install) {
    throw new Error(`${venv}: the project's Python environment is missing or out of date. Run \`npx tsx scripts/python-env.ts\`. ${manualInstallHelp(venv)}`);
  }
  const failure = buildVenv(venv, env, log);
  if (failure === null) return venvEnv;
  const debian = options.debianFallback === false ? null : debianJupyter(env, log, true);
  if (debian) {
    return {
      python: debian,
      kind: "debian",
      description: `Python: ${debian} with Debian's Jupyter packages (fallback, no JupyterLab: ${failure.split("\n")[0]})`,
    };
  }
  throw new Error(`Could not set up the project's Python in ${venv}: ${failure}\n${manualInstallHelp(venv)}`);
}

if (require.main === module) {
  try {
    console.log(projectPython({ log: (line) => console.log(line) }).description);
  } catch (error) {
    console.error((error as Error).message);
    process.exit(1);
  }
}
