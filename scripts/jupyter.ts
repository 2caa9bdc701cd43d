/**
 * Running notebooks with a real Jupyter (nbclient + nbconvert) and the project's tslab kernel, for the report
 * command and the end-to-end tests. Everything Jupyter writes goes under `.jupyter-local/` in the project,
 * never into the user's home.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { projectPython } from "./python-env";

/** The project's root folder (this file lives in `scripts/`). */
export const ROOT = resolve(__dirname, "..");

/** The kernelspec name notebooks declare; users expect `tslab`. */
export const KERNEL_NAME = "tslab";

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

/** One line of progress from the executor. */
export type NotebookEvent =
  | { event: "cell-start"; index: number; number: number; of: number; source: string }
  | { event: "cell-done"; index: number; status: string; seconds: number }
  | { event: "notebook-written" | "html-written"; path: string; bytes?: number }
  | { event: "error"; index: number | null; number: number | null; of: number; kind: string; source: string; stderr: string; message: string };

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
}

/**
 * Execute a notebook with nbclient and the tslab kernel (installed project-locally first), then export HTML.
 * Rejects with a `NotebookError` naming the failing cell and its real error text.
 * @example await executeNotebook("notebooks/OneLayerNetwork.ipynb", { outNotebook: "/tmp/out.ipynb", outHtml: "/tmp/out.html" });
 */
export async function executeNotebook(notebook: string, options: ExecuteOptions): Promise<void> {
  const path = resolve(notebook);
  if (!existsSync(path)) throw new Error(`${path}: notebook not found`);
  const python = options.python ?? projectPython().python;
  const env = { ...jupyterEnv(), ...options.env };
  installKernel(env.JUPYTER_DATA_DIR);
  const args = [
    join(ROOT, "scripts", "execute_notebook.py"),
    path,
    "--kernel",
    KERNEL_NAME,
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
    const died = failure.kind === "DeadKernelError" && stderr.trim() ? `\n--- the kernel's last output (stderr) ---\n${stderr.trim().slice(-4000)}` : "";
    throw new NotebookError(path, failure.number, failure.of, failure.source, (failure.stderr || failure.message) + died);
  }
  if (code !== 0) {
    throw new Error(`${path}: the notebook executor exited with ${code}\n${stderr.trim()}`);
  }
}
