/**
 * `npm run reports -- --kernel deno`: the notebooks execute on Deno's kernel (registered project-locally by our own
 * code), and a failing cell is reported with Deno's own error text; HOME is left alone (Deno's cache goes to the
 * project's .deno/). A bad --kernel value is named.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../../scripts/jupyter";
import { USER_DIRS } from "../helpers/home";

function notebook(...cells: string[]): string {
  return JSON.stringify({
    cells: cells.map((source) => ({ cell_type: "code", execution_count: null, metadata: {}, outputs: [], source })),
    metadata: { kernelspec: { display_name: "TypeScript", language: "typescript", name: "tslab" } },
    nbformat: 4,
    nbformat_minor: 5,
  });
}

function runReport(args: string[], home: string): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "scripts/report.ts"), ...args], {
    cwd: ROOT, env: { ...process.env, HOME: home }, encoding: "utf8", timeout: 180_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

test("--kernel deno executes the notebooks on Deno's kernel, with its errors, and writes nothing into HOME", () => {
  const dir = mkdtempSync(join(tmpdir(), "mie-report-deno-"));
  const home = join(dir, "home");
  try {
    mkdirSync(home);
    const notebooks = join(dir, "notebooks");
    const out = join(dir, "reports");
    mkdirSync(notebooks);
    // Outside the project, the built library by its path, from a folder with a package.json, which is what makes
    // Deno read lib/package.json's "type": "commonjs" (README: "On Deno's Jupyter kernel").
    writeFileSync(join(notebooks, "package.json"), '{ "name": "my-notebooks", "private": true }\n');
    writeFileSync(join(notebooks, "A.ipynb"), notebook(
      `import { show } from ${JSON.stringify(join(ROOT, "lib", "dist", "index.js"))};\nconsole.log(\`on Deno \${Deno.version.deno}\`);`,
      'show.table({ label: "from Deno", losses: [1, 0.5], steps: 2, seconds: 1, accuracy: 91.5 });',
    ));
    const ok = runReport(["--notebooks", notebooks, "--out", out, "--kernel", "deno"], home);
    assert.equal(ok.status, 0, ok.stderr + ok.stdout);
    assert.match(ok.stdout, /Executing 1 notebook\(s\) on the Deno kernel/);
    const html = readFileSync(join(out, "A.html"), "utf8");
    assert.match(html, /on Deno 2\.9\.6/, "the pinned Deno ran it");
    assert.match(html, /<table class="mie-results"[^]*from Deno[^]*91\.50/, "show.table drew through Deno's display");

    writeFileSync(join(notebooks, "A.ipynb"), notebook('throw new Error("the real reason, 4417")'));
    const failed = runReport(["--notebooks", notebooks, "--out", out, "--kernel", "deno"], home);
    assert.equal(failed.status, 1);
    assert.match(failed.stderr, /A\.ipynb: code cell 1 of 1 failed[^]*--- error ---[^]*the real reason, 4417/);
    assert.match(readFileSync(join(out, "A.html"), "utf8"), /on Deno 2\.9\.6/, "the previous report is intact");

    const bad = runReport(["--notebooks", notebooks, "--out", out, "--kernel", "python"], home);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /--kernel: expected tslab or deno, got "python"/);
    assert.deepEqual(readdirSync(home), [], `HOME stays empty (no ${[...USER_DIRS, ".cache/deno"].join(", ")})`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
