/**
 * Three choices `npm run reports` (scripts/report.ts) makes from the machine and the environment: how many notebooks
 * execute at once when `--jobs` is not given, how many threads each kernel's engine uses, and what `MIE_RUNS` its
 * kernels get under `--fresh`.
 */
import { availableParallelism } from "node:os";
import { memoryShareMB, WORKER_MB } from "../lib/runs/pool-size";

/**
 * Resident memory of one notebook's kernel, rounded up: tslab (with its TypeScript compiler), TensorFlow.js,
 * libtensorflow and the data. Measured peak RSS 653–724 MB per tslab kernel with tfjs-node, three notebooks side
 * by side with every run stored (2026-12-06, /proc/PID/status VmHWM sampled every 0.5 s).
 * @example KERNEL_MB; // 750
 */
export const KERNEL_MB = 750;

/**
 * Notebooks to execute at once by default: one per notebook when each kernel's share of the memory budget
 * (`memoryShareMB`, the budget `report.ts` hands each kernel) holds the kernel and one tfjs-node pool worker,
 * else one per core as before. With every run stored a notebook is a chain of short steps with waits between
 * them (kernel start, cells, export), so three notebooks on two cores overlap better than two then one; training
 * shares the cores either way, since each kernel's pool sizes itself by cores and by its memory share.
 * @example defaultJobs(3, 2, () => 6000); // 3
 * @example defaultJobs(3, 2, () => 1000); // 2: a third of the memory is too little for a kernel and a worker
 */
export function defaultJobs(notebooks: number, cores = availableParallelism(), shareMB: (jobs: number) => number = memoryShareMB): number {
  if (notebooks <= 1) return 1;
  if (shareMB(notebooks) >= KERNEL_MB + WORKER_MB.nativeProcess) return notebooks;
  return Math.max(1, Math.min(cores, notebooks));
}

/**
 * The engine threads (`MIE_WASM_THREADS`) each kernel gets when `jobs` notebooks execute at once: the cores shared
 * out, at least one; undefined (the engine's default) where `current`, the user's setting, says. Several kernels
 * each splitting their steps over every core only oversubscribe the cores: the four notebooks' first
 * `npm run reports` (2 cores, empty run store, 2026-12-07) took 185.2 s with two engine threads per kernel, 148.2 s
 * with one (docs/performance.md).
 * @example engineThreadsPerKernel(4, 2, undefined); // "1"
 * @example engineThreadsPerKernel(1, 2, undefined); // "2"
 */
export function engineThreadsPerKernel(jobs: number, cores = availableParallelism(), current = process.env.MIE_WASM_THREADS): string | undefined {
  if (current !== undefined && current !== "") return undefined;
  return String(Math.max(1, Math.floor(cores / Math.max(1, jobs))));
}

/**
 * The run store setting (`MIE_RUNS`) the kernels get under `--fresh`: retrain every run, storing it where the
 * user's `MIE_RUNS` says (`fresh:FOLDER`, see lib/runs/stored.ts), in the default folder when it names none, and
 * nowhere when it is `off` (every run trains anyway). Without `--fresh`, the user's setting as it is.
 * @example freshStoreSetting(true, "/data/runs"); // "fresh:/data/runs"
 * @example freshStoreSetting(true, undefined); // "fresh"
 */
export function freshStoreSetting(fresh: boolean, current: string | undefined): string | undefined {
  if (!fresh) return current;
  if (current === undefined || current === "") return "fresh";
  if (current === "off" || current === "fresh" || current.startsWith("fresh:")) return current;
  // Unresolved, as without --fresh: the kernel resolves a relative folder from its own working folder.
  return `fresh:${current}`;
}
