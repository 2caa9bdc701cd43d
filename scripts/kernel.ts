/**
 * Register the project's tslab kernel with your own Jupyter / JupyterLab, so you can open notebooks/ there.
 * (`npm run lab` needs none of this: it runs the project's own JupyterLab with a project-local kernelspec.)
 *
 * usage: npm run kernel            (installs into your Jupyter's data dir, as `jupyter --data-dir` prints)
 *        npm run kernel -- DIR     (installs into DIR/kernels/tslab)
 */
import { spawnSync } from "node:child_process";
import { installKernel } from "./jupyter";

/** Your Jupyter's data dir: asked from the `jupyter` on PATH, the one you will start. */
function userDataDir(): string {
  const probe = spawnSync("jupyter", ["--data-dir"], { encoding: "utf8" });
  const dir = probe.stdout?.trim();
  if (probe.status !== 0 || !dir) {
    throw new Error(
      "No `jupyter` on PATH to ask for its data dir. Pass one (npm run kernel -- DIR), or use `npm run lab`, " +
        "which opens this project in its own JupyterLab.",
    );
  }
  return dir;
}

try {
  const folder = installKernel(process.argv[2] ?? userDataDir());
  console.log(`Installed the "tslab" (TypeScript) kernel in ${folder}`);
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}
