/**
 * Where a runtime cannot start pool workers (a Deno without Web Workers), a sweep trains one run at a time in this
 * thread, says so once, and gives the pool's numbers. Simulated here with a stand-in `Deno` global (Node 20 has no
 * global `Worker`).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { poolAvailable } from "../lib/runs/pool";
import { poolWorkersAvailable } from "../lib/runs/pool-worker";
import { trainAll } from "../lib/runs/sweep";
import { smallMnist } from "./helpers/small-mnist";

test("without workers a sweep trains one run at a time, says so once, with the same numbers", async (t) => {
  const data = await smallMnist(200, 50);
  const specs = [{ layers: [784, 10], lr: 0.1, label: "a" }, { layers: [784, 10], lr: 0.5, label: "b" }];
  const pooled = await trainAll(specs, data, { workers: 2 });
  assert.equal(poolWorkersAvailable(), true, "under Node the pool is available");
  const said: string[] = [];
  t.mock.method(console, "warn", (line: string) => void said.push(line));
  // A Deno without Web Workers. (Emscripten's threaded wasm build, started under Node, sets a global Worker.)
  const nodeWorker = (globalThis as { Worker?: unknown }).Worker;
  delete (globalThis as { Worker?: unknown }).Worker;
  (globalThis as { Deno?: unknown }).Deno = {};
  try {
    assert.equal(poolWorkersAvailable(), false);
    const alone = await trainAll(specs, data, { workers: 2 });
    await trainAll(specs, data, { workers: 2 });
    assert.deepEqual(alone.map((run) => [...run.losses]), pooled.map((run) => [...run.losses]));
    assert.deepEqual(alone.map((run) => run.accuracy), pooled.map((run) => run.accuracy));
    assert.deepEqual(said, ["trainAll/compare: this runtime cannot start worker threads, so runs train one at a time (the same results)"]);
    assert.equal(poolAvailable(), false);
    [...alone, ...pooled].forEach((run) => run.model.dispose());
  } finally {
    delete (globalThis as { Deno?: unknown }).Deno;
    if (nodeWorker) (globalThis as { Worker?: unknown }).Worker = nodeWorker;
  }
});
