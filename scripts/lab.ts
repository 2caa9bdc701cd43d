/**
 * This project in JupyterLab, from the project's own Python (`.venv`, set up if needed) with both kernels
 * registered project-locally, tslab ("TypeScript", the notebooks' own) and Deno's ("Deno"): `npm run lab` prints
 * the URL to open. Also used by the JupyterLab browser tests.
 *
 * usage: npm run lab [-- --port N]     (default: the first free port from 8888)
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { installKernels, jupyterEnv, ROOT } from "./jupyter";
import { manualInstallHelp, missingModules, projectPython } from "./python-env";
import { ensureNativeBackend } from "./native";
import { ensureNativeKernels } from "./build-kernels";

/** A running JupyterLab server. */
export interface LabServer {
  /** e.g. http://127.0.0.1:8888/ */
  base: string;
  token: string;
  /** URL that opens `path` (relative to the server root) in a fresh workspace, logged in with the token. */
  url(path: string, workspace?: string): string;
  /** Everything the server printed (last 20 kB). */
  log(): string;
  /** Resolves with the exit code when the server ends. */
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

export interface LabOptions {
  /** Server root (default: the project). */
  root?: string;
  /** Port (default: the first free one from 8888, or any free one when `anyPort`). */
  port?: number;
  anyPort?: boolean;
  /** Extra environment for the server and the kernels it starts, e.g. reduced data. */
  env?: NodeJS.ProcessEnv;
  /** Jupyter's config/data/runtime dirs live under `stateRoot`/.jupyter-local (default: the project). */
  stateRoot?: string;
  /** Extra `jupyter lab` arguments. */
  args?: string[];
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer();
    server.once("error", () => done(false));
    server.listen(port, "127.0.0.1", () => server.close(() => done(true)));
  });
}

async function choosePort(options: LabOptions): Promise<number> {
  if (options.port) return options.port;
  if (!options.anyPort) {
    for (let port = 8888; port < 8900; port++) if (await portIsFree(port)) return port;
  }
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => done(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/**
 * The token reaches JupyterLab in a file only this user can read (`JUPYTER_TOKEN_FILE`), deleted once the server
 * has read it: never on a command line, which every user of the machine can read in `ps` or `/proc/PID/cmdline`,
 * and never in the environment the server's kernels inherit.
 */
function tokenFile(token: string): { path: string; remove: () => void } {
  const folder = mkdtempSync(join(tmpdir(), "mie-lab-token-")); // mode 0700
  const path = join(folder, "token");
  writeFileSync(path, token, { mode: 0o600 });
  return { path, remove: () => rmSync(folder, { recursive: true, force: true }) };
}

/**
 * Start JupyterLab on 127.0.0.1 with a random token (passed in a private file, see `tokenFile`), project-local
 * Jupyter dirs and the project's kernels (tslab and Deno's); resolves once it answers. Always `stop()` it.
 * @example const lab = await startLab(); console.log(lab.url("notebooks/OneLayerNetwork.ipynb")); await lab.stop();
 */
export async function startLab(options: LabOptions = {}): Promise<LabServer> {
  const { python } = projectPython();
  const missing = missingModules(python, ["jupyterlab"]);
  if (missing.length > 0) throw new Error(`${python} has no JupyterLab. ${manualInstallHelp()}`);
  const root = options.root ?? ROOT;
  const port = await choosePort(options);
  const token = randomBytes(16).toString("hex");
  const secret = tokenFile(token);
  const env: NodeJS.ProcessEnv = { ...jupyterEnv(options.stateRoot ?? ROOT), ...options.env, JUPYTER_TOKEN_FILE: secret.path };
  // A JUPYTER_TOKEN of the caller's would win over the file.
  delete env.JUPYTER_TOKEN;
  installKernels(env.JUPYTER_DATA_DIR);
  const child: ChildProcess = spawn(
    python,
    [
      "-m", "jupyterlab",
      "--no-browser",
      "--ip=127.0.0.1",
      `--port=${port}`,
      "--port-retries=0",
      `--ServerApp.root_dir=${root}`,
      // jupyter-lsp's language-server search runs `npm prefix -g`, which writes a log into ~/.npm.
      "--LanguageServerManager.autodetect=False",
      ...(process.getuid?.() === 0 ? ["--allow-root"] : []),
      ...(options.args ?? []),
    ],
    { env, stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  const keep = (chunk: string): void => {
    output = (output + chunk).slice(-20_000);
  };
  child.stdout?.setEncoding("utf8").on("data", keep);
  child.stderr?.setEncoding("utf8").on("data", keep);
  const base = `http://127.0.0.1:${port}/`;
  const exited = new Promise<number | null>((done) => child.once("exit", (code) => done(code)));
  const stop = (): Promise<void> =>
    new Promise<void>((done) => {
      if (child.exitCode !== null || child.signalCode !== null) return done();
      child.once("exit", () => done());
      child.kill("SIGTERM");
      setTimeout(() => child.kill("SIGKILL"), 10_000).unref();
    });
  const deadline = Date.now() + 120_000;
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`jupyter lab exited with ${child.exitCode}:\n${output}`);
      try {
        if ((await fetch(`${base}api/status?token=${token}`)).ok) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`jupyter lab did not answer on ${base} within 120 s:\n${output}`);
      }
      await new Promise((wait) => setTimeout(wait, 250));
    }
  } finally {
    // Read by the server before it listens, so no longer needed once it answers (or when it failed).
    secret.remove();
  }
  return {
    base,
    token,
    url: (path, workspace) =>
      workspace
        ? `${base}lab/workspaces/${workspace}/tree/${encodeURI(path)}?token=${token}&reset`
        : `${base}lab/tree/${encodeURI(path)}?token=${token}`,
    log: () => output,
    exited,
    stop,
  };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  let port: number | undefined;
  if (args.length > 0) {
    port = Number(args[1]);
    if (args[0] !== "--port" || args.length !== 2 || !Number.isInteger(port)) {
      throw new Error(`expected no arguments or --port N, got: ${args.join(" ")}`);
    }
  }
  console.log(projectPython({ log: (line) => console.log(line) }).description);
  await ensureNativeKernels();
  ensureNativeBackend(projectPython().python);
  const lab = await startLab({ port });
  // The only place the token is shown: this terminal (the server's own log, which holds it too, stays in memory).
  console.log(`\nJupyterLab is running this project (kernels "TypeScript", tslab, and "Deno"; Kernel → Change Kernel…). Open:\n\n  ${lab.url("notebooks/OneLayerNetwork.ipynb")}\n`);
  console.log("Ctrl+C stops it.");
  const quit = (): void => {
    void lab.stop().then(() => process.exit(0));
  };
  process.once("SIGINT", quit);
  process.once("SIGTERM", quit);
  const code = await lab.exited;
  throw new Error(`jupyter lab stopped (exit code ${code}):\n${lab.log()}`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error((error as Error).message);
    process.exit(1);
  });
}
