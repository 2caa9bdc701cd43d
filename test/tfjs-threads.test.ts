/**
 * Where a backend cannot promise to repeat a run bit for bit, its runs say so: tfjs-node on two intra-op threads
 * (`TF_NUM_INTRAOP_THREADS=2`) marks a run of a model TensorFlow.js trains `notRepeatable`, its results table row
 * "not bit-exact", and its store entry `bitExact: false`; on one thread (the library's default) none of them, and
 * the thread count is part of the run's key. Runs in child processes, since libtensorflow reads its threads once.
 * Needs tfjs-node (`npm run native`; CI builds it): where it is not built the test is reported skipped, saying so
 * (never passed).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { childEnvironment } from "../lib/config/environment";

function child(threads: string): Record<string, unknown> {
  const store = mkdtempSync(join(tmpdir(), "mie-threads-"));
  try {
    const result = spawnSync(process.execPath, ["--import", "tsx", join(__dirname, "helpers", "tfjs-threads-child.ts"), store], {
      env: childEnvironment({ MIE_BACKEND: "tfjs-node", TF_NUM_INTRAOP_THREADS: threads, NODE_TEST_CONTEXT: undefined }), encoding: "utf8",
    });
    assert.equal(result.status, 0, `child on ${threads} thread(s) failed (is tfjs-node built? npm run native):\n${result.stderr}`);
    const line = result.stdout.split("\n").find((text) => text.startsWith("REPORT "));
    assert.ok(line, result.stdout);
    return JSON.parse(line.slice("REPORT ".length)) as Record<string, unknown>;
  } finally {
    rmSync(store, { recursive: true, force: true });
  }
}

/** Whether tfjs-node is installed here (resolvable; `npm run native` builds it). */
function tfjsNodeBuilt(): boolean {
  try {
    require.resolve("@tensorflow/tfjs-node");
    return true;
  } catch {
    return false;
  }
}

test("tfjs-node on two intra-op threads: the run, its table row and its store entry say it is not bit-exact; on one, none do", { skip: tfjsNodeBuilt() ? false : "tfjs-node is not built here (npm run native builds it; CI does)" }, () => {
  const two = child("2");
  assert.equal(two.backend, "tfjs-node");
  assert.match(String(two.notRepeatable), /^trained by tfjs-node on 2 intra-op threads/);
  assert.equal(two.table, true, "the results table says not bit-exact");
  assert.equal(two.bitExact, false);
  assert.equal(two.entryNote, two.notRepeatable);
  assert.match(String(two.detail), /^libtensorflow, 2 intra-op threads, /);
  const one = child("1");
  assert.equal(one.backend, "tfjs-node");
  assert.equal(one.notRepeatable, null);
  assert.equal(one.table, false);
  assert.equal(one.bitExact, true);
  assert.match(String(one.detail), /^libtensorflow, 1 intra-op thread, /);
});
