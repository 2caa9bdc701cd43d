import { test } from "node:test";
import assert from "node:assert/strict";
import { defaultJobs, engineThreadsPerKernel, freshStoreSetting, KERNEL_MB } from "../../scripts/report-options";
import { WORKER_MB } from "../../lib/runs/pool-size";

test("by default every notebook gets its kernel at once when each share of memory holds a kernel and a worker, else one per core", () => {
  const enough = KERNEL_MB + WORKER_MB.nativeProcess;
  const asked: number[] = [];
  const share = (total: number) => (jobs: number) => {
    asked.push(jobs);
    return Math.floor(total / jobs);
  };
  assert.equal(defaultJobs(3, 2, share(3 * enough)), 3, "3 notebooks on 2 cores, memory for 3 kernels: all at once");
  assert.deepEqual(asked, [3], "the share asked for is each of the 3 kernels'");
  assert.equal(defaultJobs(3, 2, share(3 * enough - 3)), 2, "a little short for 3: one per core, as before");
  assert.equal(defaultJobs(3, 64, share(100)), 3, "never more than the notebooks");
  assert.equal(defaultJobs(5, 4, share(1000)), 4);
  assert.equal(defaultJobs(1, 2, share(0)), 1);
});

test("--fresh keeps the folder MIE_RUNS names, keeps off off, and leaves the setting alone without --fresh", () => {
  assert.equal(freshStoreSetting(true, undefined), "fresh");
  assert.equal(freshStoreSetting(true, ""), "fresh");
  assert.equal(freshStoreSetting(true, "/data/runs"), "fresh:/data/runs");
  assert.equal(freshStoreSetting(true, "runs"), "fresh:runs", "relative, resolved by the kernel as without --fresh");
  assert.equal(freshStoreSetting(true, "fresh:/data/runs"), "fresh:/data/runs");
  assert.equal(freshStoreSetting(true, "fresh"), "fresh");
  assert.equal(freshStoreSetting(true, "off"), "off");
  assert.equal(freshStoreSetting(false, "/data/runs"), "/data/runs");
  assert.equal(freshStoreSetting(false, undefined), undefined);
});

test("each kernel's engine threads: the cores shared out among the notebooks at once, at least one; the user's MIE_WASM_THREADS kept", () => {
  assert.equal(engineThreadsPerKernel(4, 2, undefined), "1", "four notebooks on two cores: one thread each");
  assert.equal(engineThreadsPerKernel(1, 2, undefined), "2", "one notebook: both cores");
  assert.equal(engineThreadsPerKernel(2, 8, ""), "4");
  assert.equal(engineThreadsPerKernel(3, 2, "2"), undefined, "the user's setting stays");
});
