/**
 * The classic Jupyter notebook UI (Debian's jupyter-notebook) served on 127.0.0.1 for "run all in a browser"
 * tests, with project-local Jupyter dirs and the project's tslab kernel.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createServer } from "node:net";
import { findJupyterPython, installKernel, jupyterEnv, ROOT } from "../../scripts/jupyter";

export interface NotebookServer {
  /** URL of a notebook path relative to the project root, with the token. */
  url(path: string): string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => done(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/** Start the server with the project root as its notebook dir; resolves once it answers HTTP. */
export async function startNotebookServer(env: NodeJS.ProcessEnv = {}): Promise<NotebookServer> {
  const python = findJupyterPython();
  if (!python) throw new Error("Jupyter not found: run scripts/system-deps.sh");
  const port = await freePort();
  const token = randomBytes(12).toString("hex");
  const fullEnv = { ...jupyterEnv(), ...env };
  installKernel(fullEnv.JUPYTER_DATA_DIR);
  const child: ChildProcess = spawn(
    python,
    [
      "-m", "notebook",
      "--no-browser",
      "--ip=127.0.0.1",
      `--port=${port}`,
      "--port-retries=0",
      `--NotebookApp.token=${token}`,
      `--NotebookApp.notebook_dir=${ROOT}`,
      "--allow-root",
    ],
    { env: fullEnv, stdio: ["ignore", "ignore", "pipe"] },
  );
  let log = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (log = (log + chunk).slice(-10_000)));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`jupyter notebook exited with ${child.exitCode}:\n${log}`);
    try {
      const response = await fetch(`${base}/api/status?token=${token}`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`jupyter notebook did not answer on ${base} within 60 s:\n${log}`);
    }
    await new Promise((wait) => setTimeout(wait, 250));
  }
  return {
    url: (path) => `${base}/notebooks/${path}?token=${token}`,
    stop: () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null) return done();
        child.once("exit", () => done());
        child.kill("SIGTERM");
        setTimeout(() => child.kill("SIGKILL"), 5_000).unref();
      }),
  };
}
