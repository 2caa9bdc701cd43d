/**
 * Running notebooks with a real Jupyter (nbclient + nbconvert) and the project's kernels (tslab, or Deno's), for
 * the report command and the end-to-end tests. Everything Jupyter writes goes under `.jupyter-local/` in the
 * project, and Deno's cache under `.deno/`: never into the user's home.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { projectPython } from "./python-env";

/** The project's root folder (this file lives in `scripts/`). */
export const ROOT = resolve(__dirname, "..");

/** The kernelspec name notebooks declare; users expect `tslab`. */
export const KERNEL_NAME = "tslab";

/** The kernels the project registers: tslab (the notebooks' own) and Deno's (`deno jupyter`). */
export const KERNELS = ["tslab", "deno"] as const;
export type KernelName = (typeof KERNELS)[number];

/**
 * Environment for every Jupyter process: project-local config, data and runtime folders (kernelspec included).
 * @example spawnSync("jupyter", ["kernelspec", "list"], { env: jupyterEnv() });
 */
export function jupyterEnv(root = ROOT, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const local = join(root, ".jupyter-local");
  return {
    ...base,
    JUPYTER_CONFIG_DIR: join(local, "config"),
    JUPYTER_DATA_DIR: join(local, "data"),
    JUPYTER_RUNTIME_DIR: join(local, "runtime"),
    JUPYTER_PATH: join(local, "data"),
    IPYTHONDIR: join(local, "ipython"),
    JUPYTER_PLATFORM_DIRS: "1",
    // Never import packages from ~/.local: a `pip install --user` there must not change what runs here.
    PYTHONNOUSERSITE: "1",
  };
}

/**
 * The tslab kernelspec: node (this one, by absolute path) running the project's tslab, so Jupyter needs
 * nothing on PATH. Written where `dataDir` says (project-local by default).
 * @example installKernel(); // .jupyter-local/data/kernels/tslab/kernel.json
 */
export function installKernel(dataDir = jupyterEnv().JUPYTER_DATA_DIR!, root = ROOT): string {
  const tslab = join(root, "node_modules", "tslab", "bin", "tslab");
  if (!existsSync(tslab)) {
    throw new Error(`${tslab}: tslab not installed (run npm ci in ${root})`);
  }
  const folder = join(dataDir, "kernels", KERNEL_NAME);
  mkdirSync(folder, { recursive: true });
  const spec = {
    argv: [process.execPath, tslab, "kernel", "--config-path", "{connection_file}"],
    display_name: "TypeScript",
    language: "typescript",
  };
  writeFileSync(join(folder, "kernel.json"), `${JSON.stringify(spec, null, 2)}\n`);
  return folder;
}

/**
 * The Deno binary npm installed (package `deno`, pinned in package.json): the native executable itself, so that
 * Jupyter's interrupt and shutdown signals reach the kernel and no Node process sits in between. npm links it as
 * `node_modules/deno/deno` when `deno`'s install script ran; otherwise it is in the platform's optional package.
 * @example denoBinary(); // "/home/me/mie/node_modules/deno/deno"
 */
export function denoBinary(root = ROOT): string {
  const platform = `${process.platform === "win32" ? "win32" : process.platform}-${process.arch}${process.platform === "linux" ? "-glibc" : ""}`;
  const exe = process.platform === "win32" ? "deno.exe" : "deno";
  const candidates = [join(root, "node_modules", "deno", exe), join(root, "node_modules", "@deno", platform, exe)];
  const found = candidates.find((path) => existsSync(path));
  if (!found) throw new Error(`Deno is not installed: none of ${candidates.join(", ")} exists (npm ci in ${root} installs the pinned deno package)`);
  return found;
}

/**
 * Deno's kernelspec, written by us rather than `deno jupyter --install` (which writes into the home folder whatever
 * JUPYTER_* says): Deno's own binary by absolute path, with its cache (`DENO_DIR`) in the project's `.deno/`.
 * @example installDenoKernel(); // .jupyter-local/data/kernels/deno/kernel.json
 */
export function installDenoKernel(dataDir = jupyterEnv().JUPYTER_DATA_DIR!, root = ROOT): string {
  const folder = join(dataDir, "kernels", "deno");
  mkdirSync(folder, { recursive: true });
  const spec = {
    argv: [denoBinary(root), "jupyter", "--kernel", "--conn", "{connection_file}"],
    display_name: "Deno",
    language: "typescript",
    env: { DENO_DIR: join(root, ".deno"), DENO_NO_UPDATE_CHECK: "1" },
  };
  writeFileSync(join(folder, "kernel.json"), `${JSON.stringify(spec, null, 2)}\n`);
  return folder;
}

/**
 * Register both kernels project-locally; returns their folders.
 * @example installKernels(); // [".jupyter-local/data/kernels/tslab", ".jupyter-local/data/kernels/deno"]
 */
export function installKernels(dataDir = jupyterEnv().JUPYTER_DATA_DIR!, root = ROOT): string[] {
  return [installKernel(dataDir, root), installDenoKernel(dataDir, root)];
}

/** One line of progress from the executor. */
export type NotebookEvent =
  | { event: "cell-start"; index: number; number: number; of: number; source: string }
  | { event: "cell-done"; index: number; status: string; seconds: number }
  /** A display update carrying a live view's progress line: its `<div class="mie-sweep" data-mie-…>` tag. */
  | { event: "sweep"; index: number; tag: string }
  | { event: "notebook-written" | "html-written"; path: string; bytes?: number }
  | { event: "error"; index: number | null; number: number | null; of: number; kind: string; source: string; stderr: string; message: string; kernel?: KernelEnding | null };

/** How a dead kernel's process ended, as the executor saw it, with its memory at the last look (bytes). */
export interface KernelEnding {
  /** Exit code; negative: killed by signal `-code`; null if unknown. */
  code: number | null;
  signal?: number;
  signalName?: string;
  memory: {
    /** The kernel's resident memory at the last sample, and its peak (VmHWM). */
    rss?: number;
    peak?: number;
    /** The machine's memory, and what was available at the last sample. */
    total?: number;
    available?: number;
    /** The kernel's memory cgroup: its limit (absent: none) and use at the last sample. */
    cgroupMax?: number;
    cgroupCurrent?: number;
    /** Out-of-memory kills in the kernel's cgroup while it ran (the oom_kill count of memory.events, or v1's memory.oom_control). */
    oomKills?: number;
  };
}

const gb = (bytes: number): string => `${(bytes / 2 ** 30).toFixed(1)} GiB`;

/**
 * One line on why a kernel died: its exit code or signal, and, for a SIGKILL, whether memory is the likely cause
 * (the cgroup's OOM killer fired, or the kernel, its cgroup or the machine was within 10% of the memory limit at
 * the last sample), since that is what a kill without a message usually is.
 * @example describeKernelDeath({ code: -9, signal: 9, signalName: "SIGKILL", memory: { oomKills: 1 } });
 */
export function describeKernelDeath(ending: KernelEnding | null | undefined): string {
  if (!ending || ending.code === null) return "The kernel's process ended; how (exit code or signal) could not be seen.";
  const { memory } = ending;
  const used = memory.peak !== undefined ? `; the kernel's memory at the last look: ${gb(memory.rss ?? 0)}, peak ${gb(memory.peak)}` : "";
  if (ending.signal === undefined) return `The kernel exited with code ${ending.code}${used}.`;
  const how = `The kernel was killed by signal ${ending.signal} (${ending.signalName ?? "unknown"})`;
  if (ending.signal !== 9) return `${how}${used}.`;
  const limit = Math.min(memory.cgroupMax ?? Infinity, memory.total ?? Infinity);
  const clues: string[] = [];
  if ((memory.oomKills ?? 0) > 0) clues.push(`the out-of-memory killer fired in its cgroup (${memory.oomKills} oom_kill while it ran)`);
  if (memory.peak !== undefined && Number.isFinite(limit) && memory.peak >= 0.9 * limit) clues.push(`the kernel reached ${gb(memory.peak)} of a ${gb(limit)} limit`);
  if (memory.cgroupMax !== undefined && memory.cgroupCurrent !== undefined && memory.cgroupCurrent >= 0.9 * memory.cgroupMax) {
    clues.push(`its cgroup used ${gb(memory.cgroupCurrent)} of its ${gb(memory.cgroupMax)} limit`);
  }
  if (memory.total !== undefined && memory.available !== undefined && memory.available <= 0.1 * memory.total) {
    clues.push(`the machine had ${gb(memory.available)} of ${gb(memory.total)} available`);
  }
  if (clues.length > 0) return `${how}: memory is the likely cause (the out-of-memory killer): ${clues.join("; ")}${used}.`;
  return `${how}, with memory not near its limit (so not the out-of-memory killer, most likely: a person or another program)${used}.`;
}

/** A notebook cell failed: carries the cell and the kernel's own error text (from the cell's stderr). */
export class NotebookError extends Error {
  constructor(
    readonly notebook: string,
    /** 1-based number among the notebook's code cells, as the progress lines count them. */
    readonly codeCell: number | null,
    readonly codeCells: number,
    readonly cellSource: string,
    readonly stderr: string,
  ) {
    super(
      `${notebook}: code cell ${codeCell ?? "?"} of ${codeCells} failed\n--- cell source ---\n${cellSource.trim()}\n` +
        `--- error ---\n${stderr.trim() || "(the kernel sent no error text)"}`,
    );
    this.name = "NotebookError";
  }
}

/** Options for `executeNotebook`. */
export interface ExecuteOptions {
  /** Where to write the executed notebook (atomically). */
  outNotebook: string;
  /** Where to write the HTML export (atomically), if wanted. */
  outHtml?: string;
  /** Extra environment for the kernel, e.g. `{ MIE_TRAIN_LIMIT: "2000" }`. */
  env?: NodeJS.ProcessEnv;
  /** Seconds a single cell may run. Default 1800. */
  cellTimeout?: number;
  /** Called for each progress event. */
  onEvent?: (event: NotebookEvent) => void;
  /** Python with nbclient; default: the project's (`projectPython()`, which sets up `.venv` if needed). */
  python?: string;
  /** The kernel that runs it, whatever the notebook declares (default `tslab`). */
  kernel?: KernelName;
}

/**
 * Execute a notebook with nbclient and the tslab kernel, or Deno's (`options.kernel`; installed project-locally
 * first), then export HTML.
 * Rejects with a `NotebookError` naming the failing cell and its real error text.
 * @example await executeNotebook("notebooks/OneLayerNetwork.ipynb", { outNotebook: "/tmp/out.ipynb", outHtml: "/tmp/out.html" });
 */
export async function executeNotebook(notebook: string, options: ExecuteOptions): Promise<void> {
  const path = resolve(notebook);
  if (!existsSync(path)) throw new Error(`${path}: notebook not found`);
  const python = options.python ?? projectPython().python;
  const env = { ...jupyterEnv(), ...options.env };
  const kernel = options.kernel ?? KERNEL_NAME;
  if (kernel === "deno") installDenoKernel(env.JUPYTER_DATA_DIR);
  else installKernel(env.JUPYTER_DATA_DIR);
  const args = [
    join(ROOT, "scripts", "execute_notebook.py"),
    path,
    "--kernel",
    kernel,
    "--out-notebook",
    resolve(options.outNotebook),
    "--timeout",
    String(options.cellTimeout ?? 1800),
  ];
  if (options.outHtml) args.push("--out-html", resolve(options.outHtml));

  const child = spawn(python, args, { env, stdio: ["ignore", "pipe", "pipe"] });
  let failure: NotebookEvent | undefined;
  let stderr = "";
  let pending = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    pending += chunk;
    let newline: number;
    while ((newline = pending.indexOf("\n")) >= 0) {
      const line = pending.slice(0, newline).trim();
      pending = pending.slice(newline + 1);
      if (!line.startsWith("{")) continue;
      const event = JSON.parse(line) as NotebookEvent;
      if (event.event === "error") failure = event;
      options.onEvent?.(event);
    }
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr = (stderr + chunk).slice(-20_000);
  });
  const code = await new Promise<number | null>((done) => child.on("close", done));
  if (failure?.event === "error") {
    // A kernel that died (a crash, the OOM killer) sends no error text: what it printed before dying went to the
    // executor's stderr, which is then the only clue.
    const dead = failure.kind === "DeadKernelError";
    const died = dead && stderr.trim() ? `\n--- the kernel's last output (stderr) ---\n${stderr.trim().slice(-4000)}` : "";
    const why = dead ? `\n${describeKernelDeath(failure.kernel)}` : "";
    throw new NotebookError(path, failure.number, failure.of, failure.source, (failure.stderr || failure.message) + why + died);
  }
  if (code !== 0) {
    throw new Error(`${path}: the notebook executor exited with ${code}\n${stderr.trim()}`);
  }
}
