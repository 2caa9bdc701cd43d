/**
 * Register the project's tslab kernel with your own Jupyter / JupyterLab, so you can open notebooks/ there.
 *
 * usage: npm run kernel            (installs into your Jupyter data dir, as `jupyter kernelspec list` shows)
 *        npm run kernel -- DIR     (installs into DIR/kernels/tslab)
 */
import { spawnSync } from "node:child_process";
import { findJupyterPython, installKernel } from "./jupyter";

function userDataDir(): string {
  const python = findJupyterPython() ?? "python3";
  const probe = spawnSync(python, ["-c", "from jupyter_core.paths import jupyter_data_dir; print(jupyter_data_dir())"], {
    encoding: "utf8",
  });
  const dir = probe.stdout.trim();
  if (probe.status !== 0 || !dir) {
    throw new Error("Could not ask Jupyter for its data dir (is Jupyter installed?). Pass one: npm run kernel -- DIR");
  }
  return dir;
}

const folder = installKernel(process.argv[2] ?? userDataDir());
console.log(`Installed the "tslab" (TypeScript) kernel in ${folder}`);
