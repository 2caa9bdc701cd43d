import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../../scripts/jupyter";
import { userDirsWritten } from "../helpers/home";

function notebook(...cells: string[]): string {
  return JSON.stringify({
    cells: cells.map((source) => ({ cell_type: "code", execution_count: null, metadata: {}, outputs: [], source })),
    metadata: { kernelspec: { display_name: "TypeScript", language: "typescript", name: "tslab" } },
    nbformat: 4,
    nbformat_minor: 5,
  });
}

function runReport(args: string[], home: string, env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "scripts/report.ts"), ...args], {
    cwd: ROOT,
    env: { ...process.env, HOME: home, ...env },
    encoding: "utf8",
    timeout: 180_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

test("the report command writes HTML per notebook, and a failing cell keeps old reports and shows the real error", async () => {
  const dir = mkdtempSync(join(tmpdir(), "mie-report-"));
  const home = join(dir, "home");
  try {
    mkdirSync(home);
    const notebooks = join(dir, "notebooks");
    const out = join(dir, "reports");
    mkdirSync(notebooks);
    writeFileSync(join(notebooks, "A.ipynb"), notebook('console.log("hello from A")', "const x: number = 6 * 7;\nconsole.log(`x=${x}`)"));

    const ok = runReport(["--notebooks", notebooks, "--out", out], home);
    assert.equal(ok.status, 0, ok.stderr + ok.stdout);
    assert.match(ok.stdout, /^Python: .*\.venv\/bin\/python \(project venv\)$/m, "one line says which Python is used");
    assert.match(ok.stdout, /cell  1\/2  console\.log\("hello from A"\)/);
    assert.match(ok.stdout, /cell  2\/2  const x: number = 6 \* 7;/);
    const html = readFileSync(join(out, "A.html"), "utf8");
    assert.match(html, /x=42/);
    assert.doesNotMatch(html, /<script src="http/, "no CDN scripts in the offline report");
    assert.match(ok.stdout, /^Summary:\n {2}A +\d+\.\d s {2}no training runs\n {5}.*A\.html \(\d+\.\d MB\)\n {2}index: .*index\.html$/m, "a summary, then the index");
    assert.match(readFileSync(join(out, "index.html"), "utf8"), /<a href="A\.html">A<\/a>/, "the index links the report");
    for (const file of ["A.html", "A.ipynb", "index.html"]) {
      assert.equal(statSync(join(out, file)).mode & 0o777, 0o666 & ~process.umask(), `${file}: readable as the umask allows, not private`);
    }

    writeFileSync(join(notebooks, "B.ipynb"), notebook('console.log("B starts")', 'throw new Error("the real reason, 7301")'));
    writeFileSync(join(notebooks, "A.ipynb"), notebook('console.log("A changed")'));
    const failed = runReport(["--notebooks", notebooks, "--out", out, "--jobs", "2"], home);
    assert.equal(failed.status, 1);
    assert.match(failed.stdout, /^A {2}cell {2}1\/1 {2}console\.log\("A changed"\) {2}\(\d+\.\d s\)$/m, "side by side: whole lines, each naming its notebook");
    assert.match(failed.stdout, /^B failed after \d+\.\d s; its error follows at the end$/m);
    assert.match(failed.stderr, /B\.ipynb: code cell 2 of 2 failed/);
    assert.match(failed.stderr, /throw new Error\("the real reason, 7301"\)/);
    assert.match(failed.stderr, /--- error ---\n.*the real reason, 7301/s);
    assert.match(readFileSync(join(out, "A.html"), "utf8"), /x=42/, "the previous report is intact");
    assert.deepEqual(readdirSync(out).sort(), ["A.html", "A.ipynb", "index.html"], "no half-written or staging files left");

    writeFileSync(join(notebooks, "A.ipynb"), notebook('throw new Error("A broke too")'));
    const both = runReport(["--notebooks", notebooks, "--out", out, "--jobs", "1"], home);
    assert.equal(both.status, 1);
    assert.match(both.stderr, /A\.ipynb: code cell 1 of 1 failed.*A broke too.*B\.ipynb: code cell 2 of 2 failed.*the real reason, 7301/s, "every failure, one after another too");
    assert.match(readFileSync(join(out, "A.html"), "utf8"), /x=42/, "the previous report is still intact");

    const jobs = runReport(["--notebooks", notebooks, "--out", out, "--jobs", "0"], home);
    assert.equal(jobs.status, 1);
    assert.match(jobs.stderr, /--jobs: expected a positive whole number of notebooks at once, got "0"/);

    const unknown = runReport(["--notebooks", notebooks, "--out", out, "Nope"], home);
    assert.equal(unknown.status, 1);
    assert.match(unknown.stderr, /Nope: no such notebook in .*notebooks \(have: A\.ipynb, B\.ipynb\)/);
    assert.deepEqual(userDirsWritten(home), [], "the report command wrote into HOME");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a dead kernel is reported with its signal or exit code and what it printed last; a killed run's staging folder is removed by the next", () => {
  const dir = mkdtempSync(join(tmpdir(), "mie-report-died-"));
  const home = join(dir, "home");
  const reports = join(dir, "reports");
  try {
    mkdirSync(home);
    mkdirSync(join(dir, "notebooks"));
    writeFileSync(join(dir, "notebooks", "K.ipynb"), notebook(`require("fs").writeSync(2, "native note 4711\\n"); process.kill(process.pid, "SIGKILL");`));
    writeFileSync(join(dir, "notebooks", "X.ipynb"), notebook("process.exit(3);"));
    // A run killed outright leaves its staging folder; a pid that has ended owns it. A live run's (ours) stays.
    const gone = spawnSync(process.execPath, ["-e", "0"]).pid!;
    mkdirSync(join(reports, `.staging-${gone}-abc123`), { recursive: true });
    mkdirSync(join(reports, `.staging-${process.pid}-def456`));
    const died = runReport(["--notebooks", join(dir, "notebooks"), "--out", reports, "--jobs", "2"], home);
    assert.equal(died.status, 1);
    assert.match(died.stderr, /K\.ipynb: code cell 1 of 1 failed\n[\s\S]*--- error ---\nKernel died\nThe kernel was killed by signal 9 \(SIGKILL\), with memory not near its limit [^\n]*\n--- the kernel's last output \(stderr\) ---\n[\s\S]*native note 4711/);
    assert.match(died.stderr, /X\.ipynb: code cell 1 of 1 failed\n[\s\S]*--- error ---\nKernel died\nThe kernel exited with code 3/);
    assert.deepEqual(readdirSync(reports), [`.staging-${process.pid}-def456`], "the dead run's staging folder is gone, the live one's kept, and this run's own removed");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("--fresh retrains every run into the store folder MIE_RUNS names, not the default one", () => {
  // Inside the project (a git-ignored scratch folder), so that the notebook finds @mie/lib.
  const dir = mkdtempSync(join(ROOT, "test", "e2e", "ui-scratch-fresh-"));
  const home = join(dir, "home");
  const store = join(dir, "store");
  try {
    mkdirSync(home);
    mkdirSync(join(dir, "notebooks"));
    writeFileSync(join(dir, "notebooks", "F.ipynb"), notebook('import { loadMnist, compare } from "@mie/lib";\nconst data = await loadMnist();',
      'const runs = await compare({ layers: [784, 10], batchSize: 100 }, { lr: [0.1, 0.5] }, data);\nconsole.log(runs.length, "runs");'));
    const env = { MIE_RUNS: store, MIE_TRAIN_LIMIT: "1000", MIE_TEST_LIMIT: "200", MIE_BACKEND: "wasm" };
    const args = ["--notebooks", join(dir, "notebooks"), "--out", join(dir, "reports")];
    const first = runReport(args, home, env);
    assert.equal(first.status, 0, first.stderr + first.stdout);
    assert.match(first.stdout, /F +[\d.]+ s {2}2 runs, 0 from the store/);
    const entries = readdirSync(store).filter((name) => !name.startsWith("."));
    assert.equal(entries.length, 2, "both runs stored in MIE_RUNS's folder");
    const written = entries.map((name) => statSync(join(store, name)).mtimeMs);

    const fresh = runReport([...args, "--fresh"], home, env);
    assert.equal(fresh.status, 0, fresh.stderr + fresh.stdout);
    assert.match(fresh.stdout, new RegExp(`--fresh: retraining every run \\(and storing the new results in the run store, ${store.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\)`));
    assert.match(fresh.stdout, /F +[\d.]+ s {2}2 runs, 0 from the store/, "every run trained again");
    assert.deepEqual(readdirSync(store).filter((name) => !name.startsWith(".")).sort(), [...entries].sort(), "the same keys, in the same folder");
    entries.forEach((name, i) => assert.ok(statSync(join(store, name)).mtimeMs > written[i]!, `${name} was written again by --fresh`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
