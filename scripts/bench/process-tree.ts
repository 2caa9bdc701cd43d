/**
 * Resident memory of a whole process tree (a process, its threads and every descendant process), read from
 * /proc: what a machine actually gives a kernel and its pool workers. Linux only.
 */
import { readdirSync, readFileSync } from "node:fs";

/**
 * Process ids of `pid` and all its descendants.
 * @example treePids(process.pid); // [1234, 1240, 1241]
 */
export function treePids(pid: number): number[] {
  const all = [pid];
  for (let i = 0; i < all.length; i++) all.push(...childPids(all[i]!));
  return all;
}

/**
 * Child processes of `pid` (over all its threads); none once it has ended.
 * @example childPids(process.pid).length; // 2 with two process workers
 */
export function childPids(pid: number): number[] {
  try {
    const tasks = readdirSync(`/proc/${pid}/task`);
    return tasks.flatMap((task) => readText(`/proc/${pid}/task/${task}/children`).split(" ").filter(Boolean).map(Number));
  } catch {
    return [];
  }
}

/**
 * Sum of VmRSS over the tree, in MB (processes that end while it is read count as 0).
 * @example treeRssMB(process.pid); // 412.5
 */
export function treeRssMB(pid: number): number {
  let kb = 0;
  for (const each of treePids(pid)) {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readText(`/proc/${each}/status`));
    if (match) kb += Number(match[1]);
  }
  return kb / 1024;
}

/**
 * Sample the tree's RSS every `ms` until `stop()`, which returns the peak in MB.
 * @example const sampler = samplePeakRss(child.pid!); await done; console.log(sampler.stop());
 */
export function samplePeakRss(pid: number, ms = 50): { stop: () => number } {
  let peak = treeRssMB(pid);
  const timer = setInterval(() => (peak = Math.max(peak, treeRssMB(pid))), ms);
  return { stop: () => (clearInterval(timer), Math.max(peak, treeRssMB(pid))) };
}

function readText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}
