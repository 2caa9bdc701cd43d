import { test } from "node:test";
import assert from "node:assert/strict";
import { describeKernelDeath, type KernelEnding } from "../../scripts/jupyter";

const GIB = 2 ** 30;
const killed = (memory: KernelEnding["memory"]): KernelEnding => ({ code: -9, signal: 9, signalName: "SIGKILL", memory });

test("a dead kernel's exit code or signal is named, and a SIGKILL near the memory limit blames memory", () => {
  assert.equal(describeKernelDeath({ code: 3, memory: {} }), "The kernel exited with code 3.");
  assert.match(describeKernelDeath({ code: -11, signal: 11, signalName: "SIGSEGV", memory: {} }), /^The kernel was killed by signal 11 \(SIGSEGV\)\.$/);
  assert.match(describeKernelDeath(null), /could not be seen/);

  const quiet = { rss: 0.3 * GIB, peak: 0.4 * GIB, total: 24 * GIB, available: 12 * GIB };
  assert.match(describeKernelDeath(killed(quiet)), /signal 9 \(SIGKILL\), with memory not near its limit .*peak 0\.4 GiB/);
  assert.match(describeKernelDeath(killed({ ...quiet, oomKills: 1 })), /memory is the likely cause .*out-of-memory killer fired in its cgroup \(1 oom_kill while it ran\)/);
  assert.match(describeKernelDeath(killed({ ...quiet, peak: 23 * GIB })), /memory is the likely cause .*the kernel reached 23\.0 GiB of a 24\.0 GiB limit/);
  assert.match(describeKernelDeath(killed({ ...quiet, cgroupMax: 4 * GIB, cgroupCurrent: 3.9 * GIB })), /memory is the likely cause .*cgroup used 3\.9 GiB of its 4\.0 GiB limit/);
  assert.match(describeKernelDeath(killed({ ...quiet, available: 0.5 * GIB })), /memory is the likely cause .*machine had 0\.5 GiB of 24\.0 GiB available/);
  assert.match(describeKernelDeath({ code: -15, signal: 15, signalName: "SIGTERM", memory: { ...quiet, available: 0.5 * GIB } }), /^The kernel was killed by signal 15 \(SIGTERM\);/, "only a SIGKILL is the OOM killer's");
});
