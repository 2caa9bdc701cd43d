/**
 * How many workers a sweep may start: never more than the cores, and never more than fit in the memory this
 * process may use. Each worker's cost is measured (docs/performance.md, "Pool workers"): a worker thread on wasm
 * adds about `WORKER_MB.wasmThread` to this process; a child process costs its own Node and TensorFlow.js plus a copy of
 * the dataset, and libtensorflow where tfjs-node runs.
 *
 * The memory a process tree may use (this process and its workers) is its budget: `MIE_MEMORY_BUDGET_MB` when
 * set (`npm run reports` gives each notebook's kernel its share of the machine this way, so notebooks executing
 * side by side share one budget), else `MIE_MEMORY_LIMIT_MB` (a machine with that much memory free, for tests),
 * else 80% of what the machine has available now plus what this process already uses.
 */
import { availableParallelism, freemem } from "node:os";
import { readFileSync } from "node:fs";
import type { Dataset } from "../data/data";
import type { WorkerKind } from "./pool-worker";
import { environment, type Environment } from "../config/environment";

const MB = 1024 * 1024;

/**
 * Resident memory one worker adds, measured at its peak on 784-500-500-10 runs (docs/performance.md), rounded up.
 * @example WORKER_MB.nativeProcess; // 560
 */
export const WORKER_MB = {
  /** A `worker_threads` thread training on wasm: its own V8 heap, TensorFlow.js and wasm memory. */
  wasmThread: 150,
  /** A child process training on wasm, without the dataset it copies. */
  wasmProcess: 320,
  /** A child process that has started libtensorflow, without the dataset it copies. */
  nativeProcess: 560,
} as const;

/** The settings the pool is sized by (`environment()`'s `MIE_MEMORY_BUDGET_MB` and `MIE_MEMORY_LIMIT_MB`). */
export type MemorySettings = Pick<Environment, "memoryBudgetMB" | "memoryLimitMB">;

/**
 * Cores to size the pool by: `cores` (by default `MIE_CORES`, e.g. to try a 64-core machine's pool here), else
 * `os.availableParallelism()`.
 * @example coreCount(64); // 64
 */
export function coreCount(cores: number | undefined = environment().cores): number {
  return cores ?? availableParallelism();
}

/**
 * Megabytes this process and its workers may use together (see the module comment for where it comes from).
 * @example memoryBudgetMB({ memoryBudgetMB: 4000, memoryLimitMB: undefined }); // 4000
 */
export function memoryBudgetMB(settings: MemorySettings = environment()): number {
  return settings.memoryBudgetMB ?? settings.memoryLimitMB ?? Math.floor(0.8 * availableMemoryMB() + process.memoryUsage().rss / MB);
}

/**
 * Each of `jobs` process trees' share of the memory available now (`MIE_MEMORY_BUDGET_MB` or
 * `MIE_MEMORY_LIMIT_MB` when set, else 80% of what is available), for processes that run side by side.
 * @example memoryShareMB(3); // a third of 80% of the free memory, e.g. 6400 on a machine with 24 GB free
 */
export function memoryShareMB(jobs: number, settings: MemorySettings = environment()): number {
  const total = settings.memoryBudgetMB ?? settings.memoryLimitMB ?? 0.8 * availableMemoryMB();
  return Math.floor(total / jobs);
}

/**
 * Megabytes one worker of this kind costs for this dataset, with tfjs-node or without.
 * @example workerCostMB("thread", false, data); // 150
 */
export function workerCostMB(kind: WorkerKind, native: boolean, data: Dataset): number {
  if (kind === "thread") return WORKER_MB.wasmThread; // reads the shared dataset; tfjs-node never runs in a thread
  const dataMB = (data.train.images.length + data.train.labels.length + data.test.images.length + data.test.labels.length) / MB;
  return (native ? WORKER_MB.nativeProcess : WORKER_MB.wasmProcess) + Math.ceil(dataMB);
}

/**
 * How many workers of `costMB` fit beside what this process uses now (`usedMB`, its idle workers not counted:
 * a sweep reuses them) in the budget: at least one, so a sweep always runs.
 * @example workersThatFit(150, 400, 1000); // 4
 */
export function workersThatFit(costMB: number, usedMB: number, budgetMB = memoryBudgetMB()): number {
  return Math.max(1, Math.floor((budgetMB - usedMB) / costMB));
}

/** Memory the machine can give now: cgroup room where a cgroup limit is set, else MemAvailable, else `os.freemem()`. */
function availableMemoryMB(): number {
  const available = meminfoAvailable() ?? freemem();
  const room = cgroupRoom();
  return Math.min(available, room ?? Infinity) / MB;
}

function meminfoAvailable(): number | undefined {
  try {
    const match = /^MemAvailable:\s+(\d+) kB/m.exec(readFileSync("/proc/meminfo", "utf8"));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined; // not Linux
  }
}

/** cgroup v2: bytes left under memory.max ("max" or no cgroup: none). */
function cgroupRoom(): number | undefined {
  try {
    const max = readFileSync("/sys/fs/cgroup/memory.max", "utf8").trim();
    if (max === "max") return undefined;
    return Number(max) - Number(readFileSync("/sys/fs/cgroup/memory.current", "utf8"));
  } catch {
    return undefined;
  }
}
