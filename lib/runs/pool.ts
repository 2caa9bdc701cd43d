/**
 * Independent runs in parallel, one `worker_threads` worker per core, each with its own TensorFlow.js backend.
 * The dataset is copied once into shared memory and every worker reads that copy. A worker trains exactly what
 * `trainSpec` trains in this thread, so results are the same bit for bit; the trained model comes back as a
 * snapshot and is rebuilt here.
 *
 * Workers outlive a sweep that succeeds: they wait, unreferenced (they never keep a script alive), for the next
 * sweep, which then skips starting threads and loading TensorFlow (~0.5 s per sweep, more with libtensorflow).
 * After `MIE_WORKER_IDLE_SECONDS` (default 60) without a sweep they end, freeing their memory; `closeWorkers()`
 * ends them at once. A sweep that fails or is aborted (Ctrl-C, a kernel interrupt) terminates its own workers
 * and the idle ones before its promise settles, so no thread outlives it.
 */
import { Worker } from "node:worker_threads";
import { extname, join } from "node:path";
import { initBackend, type BackendName } from "../train/backend";
import type { Dataset, Split } from "../data/data";
import type { Progress } from "../train/settings";
import { restoreModel, type ModelSnapshot } from "../model/snapshot";
import type { RunSpec } from "./spec";
import type { Run } from "../train/train";

/**
 * One run for a worker, with the dataset in shared memory (posting it shares the buffers, nothing is copied) and
 * the backend request this thread made ("auto" lets each run pick by its size, as in this thread, so a run gives
 * the same result here and in a worker).
 */
export interface Job {
  index: number;
  spec: RunSpec & { label: string };
  data: Dataset;
  backend: BackendName | "auto";
}

/** What a worker reports: progress (only the losses added since its last report), a result, or a failure. */
export type WorkerMessage =
  | { type: "progress"; index: number; progress: Omit<Progress, "losses">; added: Float32Array }
  | { type: "done"; index: number; run: Omit<Run, "model">; model: ModelSnapshot }
  | { type: "failed"; index: number; message: string };

/** Options of `trainInWorkers`. */
export interface PoolOptions {
  /** Number of workers (at most one per spec is started). */
  workers: number;
  signal?: AbortSignal;
  onProgress?: (progress: Progress) => void;
  /** Called when a run starts, before its first progress report. */
  onStart?: (index: number) => void;
  onRun?: (run: Run, index: number) => void;
}

const shared = new WeakMap<Dataset, Dataset>();
/** Workers of finished sweeps, waiting for the next one, each with its listener that forgets it if it dies. */
const idle = new Map<Worker, () => void>();
let idleTimer: NodeJS.Timeout | undefined;

/**
 * The dataset with its images and labels in `SharedArrayBuffer`s, made once per dataset object: workers read
 * this copy instead of each receiving their own.
 * @example sharedDataset(data).train.images.buffer instanceof SharedArrayBuffer; // true
 */
export function sharedDataset(data: Dataset): Dataset {
  let copy = shared.get(data);
  if (!copy) {
    const [train, test] = [sharedSplit(data.train), sharedSplit(data.test)];
    copy = train === data.train && test === data.test ? data : { ...data, train, test };
    shared.set(data, copy);
  }
  return copy;
}

/**
 * Train checked specs (labels filled in) in `options.workers` worker threads, in spec order as workers free up.
 * Resolves with the runs in spec order; rejects with an error naming the failed run's label, or with the abort
 * reason, after terminating every worker and disposing the models of finished runs.
 * @example const runs = await trainInWorkers(checkedSpecs, data, { workers: 2 });
 */
export async function trainInWorkers(specs: readonly Job["spec"][], data: Dataset, options: PoolOptions): Promise<Run[]> {
  const { signal } = options;
  signal?.throwIfAborted();
  const setup = { data: sharedDataset(data), backend: (await initBackend()).requested };
  const idleSeconds = workerIdleSeconds(); // a bad value fails here, before any run
  const runs: Run[] = [];
  const losses = new Map<number, Float32Array>();
  const running = new Map<Worker, number>();
  const workers: Worker[] = [];
  let next = 0;
  let finished = 0;

  return new Promise<Run[]>((resolve, reject) => {
    let settled = false;
    const listeners = new Map<Worker, Listeners>();
    const stop = (error?: unknown): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener("abort", onAbort);
      listeners.forEach((own, worker) => detach(worker, own));
      if (error === undefined && idleSeconds > 0) {
        workers.forEach((worker) => keepIdle(worker));
        scheduleIdleEnd(idleSeconds);
        return resolve(runs);
      }
      void Promise.all([...workers.map((worker) => worker.terminate()), closeWorkers()]).then(() => {
        if (error === undefined) return resolve(runs);
        runs.forEach((run) => run.model.dispose());
        reject(error);
      });
    };
    const onAbort = (): void => stop(signal!.reason);
    const failed = (worker: Worker, message: string): void => {
      const index = running.get(worker);
      stop(new Error(index === undefined ? `trainAll: ${message}` : `run "${specs[index]!.label}": ${message}`));
    };
    // A throwing callback (or a model that cannot be rebuilt) fails the sweep instead of the worker's event handler.
    const guarded = (action: () => void): void => {
      try {
        action();
      } catch (error) {
        stop(error);
      }
    };
    const assign = (worker: Worker): void => {
      if (next >= specs.length) return;
      const index = next++;
      running.set(worker, index);
      options.onStart?.(index);
      worker.postMessage({ index, spec: specs[index]!, ...setup } satisfies Job);
    };
    const receive = (worker: Worker, message: WorkerMessage): void => {
      if (settled) return;
      if (message.type === "failed") return failed(worker, message.message);
      if (message.type === "progress") {
        const { progress, added } = message;
        let all = losses.get(message.index);
        if (!all) losses.set(message.index, (all = new Float32Array(progress.totalSteps)));
        all.set(added, progress.step - added.length);
        return options.onProgress?.({ ...progress, losses: all.subarray(0, progress.step) });
      }
      losses.delete(message.index);
      const run: Run = { ...message.run, model: restoreModel(message.model) };
      runs[message.index] = run;
      running.delete(worker);
      options.onRun?.(run, message.index);
      if (++finished === specs.length) return stop();
      assign(worker);
    };

    signal?.addEventListener("abort", onAbort, { once: true });
    if (signal?.aborted) onAbort();
    const count = Math.min(options.workers, specs.length);
    for (let k = 0; k < count && !settled; k++) {
      guarded(() => {
        const worker = takeWorker();
        workers.push(worker);
        const own: Listeners = {
          message: (message: WorkerMessage) => guarded(() => receive(worker, message)),
          error: (error: Error) => failed(worker, error.message),
          exit: (code: number) => failed(worker, `its worker stopped unexpectedly (exit code ${code})`),
        };
        listeners.set(worker, own);
        attach(worker, own);
        assign(worker);
      });
    }
  });
}

/**
 * End the idle workers now (they end by themselves after `MIE_WORKER_IDLE_SECONDS`), e.g. to free their memory
 * before something else needs it. Workers of a sweep in progress are not touched.
 * @example await closeWorkers();
 */
export async function closeWorkers(): Promise<void> {
  clearTimeout(idleTimer);
  const ending = [...idle.keys()];
  idle.clear();
  await Promise.all(ending.map((worker) => worker.terminate()));
}

/**
 * Seconds an idle worker waits for the next sweep: `MIE_WORKER_IDLE_SECONDS`, default 60; 0 ends workers with
 * their sweep.
 * @example process.env.MIE_WORKER_IDLE_SECONDS = "0"; workerIdleSeconds(); // 0
 */
export function workerIdleSeconds(): number {
  const raw = process.env.MIE_WORKER_IDLE_SECONDS;
  if (raw === undefined || raw === "") return 60;
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds < 0) {
    throw new RangeError(`MIE_WORKER_IDLE_SECONDS: expected a number of seconds ≥ 0, got ${JSON.stringify(raw)}`);
  }
  return seconds;
}

/**
 * How many finished sweeps' workers wait for the next sweep.
 * @example await trainAll(specs, data); idleWorkers(); // 2 on a 2-core machine
 */
export function idleWorkers(): number {
  return idle.size;
}

interface Listeners {
  message: (message: WorkerMessage) => void;
  error: (error: Error) => void;
  exit: (code: number) => void;
}

function attach(worker: Worker, own: Listeners): void {
  worker.on("message", own.message).on("error", own.error).on("exit", own.exit);
}

function detach(worker: Worker, own: Listeners): void {
  worker.off("message", own.message).off("error", own.error).off("exit", own.exit);
}

/** An idle worker (referenced again: it now belongs to a sweep), else a new one. */
function takeWorker(): Worker {
  const [entry] = idle;
  if (!entry) return startWorker();
  const [worker, forget] = entry;
  idle.delete(worker);
  worker.off("exit", forget).off("error", forget);
  worker.ref();
  return worker;
}

function keepIdle(worker: Worker): void {
  const forget = (): void => void idle.delete(worker);
  worker.on("exit", forget).on("error", forget);
  worker.unref();
  idle.set(worker, forget);
}

function scheduleIdleEnd(seconds: number): void {
  clearTimeout(idleTimer);
  idleTimer = setTimeout(() => void closeWorkers(), seconds * 1000);
  idleTimer.unref();
}

function sharedSplit(split: Split): Split {
  if (split.images.buffer instanceof SharedArrayBuffer && split.labels.buffer instanceof SharedArrayBuffer) return split;
  const buffer = new SharedArrayBuffer(split.images.length + split.labels.length);
  const images = new Uint8Array(buffer, 0, split.images.length);
  const labels = new Uint8Array(buffer, split.images.length, split.labels.length);
  images.set(split.images);
  labels.set(split.labels);
  return { ...split, images, labels };
}

/** A worker from the compiled `worker.js` beside this file, or from `worker.ts` when running under tsx. */
function startWorker(): Worker {
  const entry = join(__dirname, `worker${extname(__filename)}`);
  if (entry.endsWith(".js")) return new Worker(entry);
  // Node 20 loads a worker's .ts entry before `--import tsx` has registered its hooks; tsx's CommonJS hook,
  // installed first in an eval'd bootstrap, works.
  const bootstrap = `require(${JSON.stringify(require.resolve("tsx/cjs"))}); require(${JSON.stringify(entry)});`;
  return new Worker(bootstrap, { eval: true, execArgv: [] });
}
