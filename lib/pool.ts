/**
 * Independent runs in parallel, one `worker_threads` worker per core, each with its own TensorFlow.js backend.
 * The dataset is copied once into shared memory and every worker reads that copy. A worker trains exactly what
 * `trainSpec` trains in this thread, so results are the same bit for bit; the trained model comes back as a
 * snapshot and is rebuilt here. The pool lives for one sweep: when it ends, fails or is aborted, every worker is
 * terminated before the promise settles, so no thread outlives it.
 */
import { Worker } from "node:worker_threads";
import { extname, join } from "node:path";
import { initBackend, type BackendName } from "./backend";
import type { Dataset, Split } from "./data";
import type { Progress } from "./settings";
import { restoreModel, type ModelSnapshot } from "./snapshot";
import type { RunSpec } from "./spec";
import type { Run } from "./train";

/**
 * What every worker gets at start: the shared dataset and the backend request this thread made ("auto" lets each
 * run pick by its size, as in this thread, so a run gives the same result here and in a worker).
 */
export interface WorkerSetup {
  data: Dataset;
  backend: BackendName | "auto";
}

/** One run for a worker. */
export interface Job {
  index: number;
  spec: RunSpec & { label: string };
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
  const setup: WorkerSetup = { data: sharedDataset(data), backend: (await initBackend()).requested };
  const runs: Run[] = [];
  const losses = new Map<number, Float32Array>();
  const running = new Map<Worker, number>();
  const workers: Worker[] = [];
  let next = 0;
  let finished = 0;

  return new Promise<Run[]>((resolve, reject) => {
    let settled = false;
    const stop = (error?: unknown): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener("abort", onAbort);
      void Promise.all(workers.map((worker) => worker.terminate())).then(() => {
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
      worker.postMessage({ index, spec: specs[index]! } satisfies Job);
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
        const worker = startWorker(setup);
        workers.push(worker);
        worker.on("message", (message: WorkerMessage) => guarded(() => receive(worker, message)));
        worker.on("error", (error) => failed(worker, error.message));
        worker.on("exit", (code) => failed(worker, `its worker stopped unexpectedly (exit code ${code})`));
        assign(worker);
      });
    }
  });
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
function startWorker(setup: WorkerSetup): Worker {
  const entry = join(__dirname, `worker${extname(__filename)}`);
  if (entry.endsWith(".js")) return new Worker(entry, { workerData: setup });
  // Node 20 loads a worker's .ts entry before `--import tsx` has registered its hooks; tsx's CommonJS hook,
  // installed first in an eval'd bootstrap, works.
  const bootstrap = `require(${JSON.stringify(require.resolve("tsx/cjs"))}); require(${JSON.stringify(entry)});`;
  return new Worker(bootstrap, { eval: true, execArgv: [], workerData: setup });
}
