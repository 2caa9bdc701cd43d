/**
 * A sweep that survives its kernel (issue 17, item 3): a real tslab kernel runs store-resume.ipynb, a `compare` of
 * six runs one after another with the run store in a temporary folder; the test kills the kernel with SIGKILL as
 * soon as two runs are stored, then executes the notebook again in a new kernel. The runs stored before the kill
 * come from the store, and only the others train.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { executeNotebook, ROOT } from "../../scripts/jupyter";
import { streamText, type NotebookJson } from "../helpers/notebook";

const NOTEBOOK = join(ROOT, "test", "e2e", "store-resume.ipynb");
const RUNS = 6;
const out = mkdtempSync(join(tmpdir(), "mie-store-resume-"));
const store = join(out, "runs");
const pidFile = join(out, "kernel.pid");
// Small enough that the whole test takes well under a minute, large enough (~1 s a run) to kill mid-sweep.
const env = { MIE_RUNS: store, MIE_TEST_KERNEL_PID: pidFile, MIE_TRAIN_LIMIT: "3000", MIE_TEST_LIMIT: "500", MIE_BACKEND: "wasm" };

after(() => rmSync(out, { recursive: true, force: true }));

/** The finished entries in the store (an unfinished write is a hidden temporary folder). */
function entries(): string[] {
  return existsSync(store) ? readdirSync(store).filter((name) => !name.startsWith(".")).sort() : [];
}

test("a compare killed halfway trains only its unfinished runs when run again", async () => {
  const first = executeNotebook(NOTEBOOK, { outNotebook: join(out, "first.ipynb"), env }).then(
    () => assert.fail("the first kernel was not killed: its sweep finished before two runs were stored"),
    (error: unknown) => error as Error,
  );
  let killedWith: string[] = [];
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    if (entries().length >= 2 && existsSync(pidFile)) {
      process.kill(Number(readFileSync(pidFile, "utf8")), "SIGKILL");
      break;
    }
  }
  const error = await first;
  killedWith = entries(); // the kernel is dead: nothing more is written
  assert.match(error.message, /DeadKernelError|kernel died|Kernel died/i, `the first execution should fail on the dead kernel:\n${error.message}`);
  assert.ok(killedWith.length >= 2 && killedWith.length < RUNS, `expected 2 to ${RUNS - 1} stored runs at the kill, got ${killedWith.length}`);

  await executeNotebook(NOTEBOOK, { outNotebook: join(out, "second.ipynb"), env });
  const lines = streamText(JSON.parse(readFileSync(join(out, "second.ipynb"), "utf8")) as NotebookJson, "stdout").trim().split("\n");
  assert.equal(lines.length, RUNS, `one line per run:\n${lines.join("\n")}`);
  const stored = lines.filter((line) => line.includes(": stored,"));
  const trained = lines.filter((line) => line.includes(": trained,"));
  assert.equal(stored.length, killedWith.length, `the runs finished before the kill come from the store:\n${lines.join("\n")}`);
  assert.equal(trained.length, RUNS - killedWith.length, `only the unfinished runs train:\n${lines.join("\n")}`);
  // In spec order the stored ones come first: the sweep ran one after another and was killed after them.
  assert.deepEqual(lines.map((line) => line.includes(": stored,")), lines.map((_, i) => i < killedWith.length));
  assert.equal(entries().length, RUNS, "every run is stored after the second execution");
  for (const line of lines) assert.match(line, /accuracy \d+(\.\d+)?%/, `a real accuracy: ${line}`);
});
