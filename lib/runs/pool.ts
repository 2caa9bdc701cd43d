/**
 * Independent runs in parallel, each worker with its own TensorFlow.js backend. A worker trains exactly what
 * `trainSpec` trains in this thread, so results are the same bit for bit; the trained model comes back as a
 * snapshot and is rebuilt here.
 *
 * Where libtensorflow (tfjs-node) may run, workers are child processes, so that a native crash ends only its
 * worker and not this process (a kernel): the run it was training is retried once in a new worker, and a run
 * whose worker crashes twice fails the sweep with its label and the signal or exit code. Elsewhere (wasm, cpu)
 * workers are threads, which start faster and read the dataset from one copy in shared memory
 * (docs/performance.md, "Pool workers"). The pool starts no more workers than the cores (`pool-size.ts`) and the
 * memory budget allow.
 *
 * Workers outlive a sweep that succeeds: they wait, unreferenced (they never keep a script alive), for the next
 * sweep, which then skips starting them and loading TensorFlow (~0.5 s per sweep, more with libtensorflow).
 * After `MIE_WORKER_IDLE_SECONDS` (default 60) without a sweep they end, freeing their memory; `closeWorkers()`
 * ends them at once. A sweep that fails or is aborted (Ctrl-C, a kernel interrupt) terminates its own workers
 * and the idle ones before its promise settles, so no worker outlives it.
 */
import { initBackend, stepMultiplyAdds, type BackendInfo, type BackendName } from "../engine/backend";
import type { Dataset, Split } from "../data/data";
import { resolveSettings } from "../train/settings";
import type { Progress } from "../train/progress";
import { restoreAny } from "../model/snapshot";
import type { CheckedDataset } from "../train/checks";
import type { CheckedSpec } from "./spec";
import type { AnyRun } from "../train/loop";
import { poolWorkersAvailable, startPoolWorker, type Job, type PoolWorker, type WorkerKind, type WorkerMessage } from "./pool-worker";
import { memoryBudgetMB, WORKER_MB, workerCostMB, workersThatFit, type MemorySettings } from "./pool-size";
import { environment, type Environment } from "../config/environment";

export type { Job, WorkerMessage } from "./pool-worker";

/**
 * Options of `trainInWorkers`.
 * @example const options: PoolOptions = { workers: 4, onRun: (run, index) => console.log(index, run.accuracy) };
 */
export interface PoolOptions {
  /** Most workers to start (at most one per spec, and as many as fit in memory, are started). */
  workers: number;
  signal?: AbortSignal;
  onProgress?: (progress: Progress) => void;
  /** Called when a run starts, before its first progress report (again if its worker crashed and it restarts). */
  onStart?: (index: number) => void;
  /** Called on this thread as each run finishes, in the order they finish (e.g. to store it at once). */
  onRun?: (run: AnyRun, index: number) => void;
  /** The settings the pool reads (`MIE_WORKER_KIND`, `MIE_WORKER_IDLE_SECONDS`, the memory budget), as the sweep
   *  read them. Default: this process's environment. */
  env?: PoolSettings;
}

/** What the pool reads of the environment. */
export type PoolSettings = Pick<Environment, "workerKind" | "workerIdleSeconds"> & MemorySettings;

const shared = new WeakMap<Dataset, Dataset>();
/** Workers of finished sweeps, waiting for the next one, each with the function that stops listening for its end. */
const idle = new Map<PoolWorker, () => void>();
let idleTimer: NodeJS.Timeout | undefined;

/**
 * The dataset with its images and labels in `SharedArrayBuffer`s, made once per dataset object: worker threads
 * read this copy instead of each receiving their own.
 * @example sharedDataset(data).train.images.buffer instanceof SharedArrayBuffer; // true
 */
export function sharedDataset<D extends Dataset>(data: D): D {
  let copy = shared.get(data);
  if (!copy) {
    const [train, test] = [sharedSplit(data.train), sharedSplit(data.test)];
    copy = train === data.train && test === data.test ? data : { ...data, train, test };
    shared.set(data, copy);
  }
  return copy as D;
}

/**
 * Train checked specs (labels filled in) in at most `options.workers` workers, in spec order as workers free up.
 * Resolves with the runs in spec order; rejects with an error naming the failed run's label, or with the abort
 * reason, after terminating every worker and disposing the models of finished runs.
 * @example const runs = await trainInWorkers(checkedSpecs, data, { workers: 2 });
 */
export async function trainInWorkers(specs: readonly CheckedSpec[], data: CheckedDataset, options: PoolOptions): Promise<AnyRun[]> {
  options.signal?.throwIfAborted();
  const env = options.env ?? environment();
  const info = await initBackend();
  const idleSeconds = workerIdleSeconds(env); // a bad value fails here, before any run
  const kind = workerKind(info, specs, env.workerKind);
  await closeIdle((worker) => worker.kind !== kind); // idle workers of the other kind would only hold memory
  const native = info.name === "tfjs-node" || (info.nativeFrom !== undefined && kind === "process");
  // Two threads of one process running tfjs-node's ops crash it (a SIGSEGV in its binding's op-attribute cache, seen
  // in CI): where libtensorflow must run in threads (Deno, or MIE_WORKER_KIND=thread), one worker at a time.
  const threadSafe = kind === "process" || !onLibtensorflow(info, specs);
  const count = Math.min(threadSafe ? options.workers : 1, specs.length, workersThatFit(workerCostMB(kind, native, data), usedMB(), memoryBudgetMB(env)));
  const sweep = new Sweep(specs, kind === "thread" ? sharedDataset(data) : data, options, { kind, backend: info.requested, idleSeconds });
  return sweep.start(count);
}

let saidNoWorkers = false;

/**
 * Whether sweeps can use the pool here; where they cannot (a Deno without Web Workers), says once that runs train
 * one at a time instead, with the same results.
 * @example const pooled = workers > 1 && poolAvailable();
 */
export function poolAvailable(log: (line: string) => void = console.warn): boolean {
  if (poolWorkersAvailable()) return true;
  if (!saidNoWorkers) log("trainAll/compare: this runtime cannot start worker threads, so runs train one at a time (the same results)");
  saidNoWorkers = true;
  return false;
}

/**
 * The kind of worker a sweep uses: a child process wherever libtensorflow may run (a crash there is contained, and
 * tfjs-node's binding is not thread-safe), else a thread (always a thread under Deno). `forced` (by default
 * `MIE_WORKER_KIND=thread|process`) overrides it, to measure or test either kind.
 * @example workerKind(await initBackend("wasm"), specs); // "thread"
 */
export function workerKind(info: BackendInfo, specs: readonly SpecShape[], forced: WorkerKind | undefined = environment().workerKind): WorkerKind {
  if (forced !== undefined) return forced;
  // Deno's node:child_process may lack the "advanced" IPC serialization the process workers' typed arrays need.
  if ("Deno" in globalThis) return "thread";
  return onLibtensorflow(info, specs) ? "process" : "thread";
}

type SpecShape = Pick<CheckedSpec, "layers" | "batchSize" | "network">;

/**
 * Whether some run of a sweep trains on libtensorflow: every run on tfjs-node; under auto, a big MLP, and a network
 * TensorFlow.js trains (tfjs-node wherever it loads). A network the engine trains never reaches it.
 */
function onLibtensorflow(info: BackendInfo, specs: readonly SpecShape[]): boolean {
  if (info.name === "tfjs-node") return true;
  const native = info.nativeFrom;
  if (native === undefined) return false;
  return specs.some((spec) =>
    spec.network
      ? spec.network.tfjs !== undefined
      : stepMultiplyAdds(spec.layers as number[], resolveSettings({ batchSize: spec.batchSize }).batchSize) >= native.minMultiplyAdds);
}

/** This process's resident memory in MB without its idle worker threads, which a sweep reuses. */
function usedMB(): number {
  const idleThreads = [...idle.keys()].filter((worker) => worker.kind === "thread").length;
  return process.memoryUsage().rss / (1024 * 1024) - idleThreads * WORKER_MB.wasmThread;
}

interface SweepSetup {
  kind: WorkerKind;
  backend: BackendName | "auto";
  idleSeconds: number;
}

/** One sweep on the pool: hands out runs, gathers results, retries a run once when its worker dies. */
class Sweep {
  private readonly runs: AnyRun[] = [];
  private readonly losses = new Map<number, Float32Array>();
  /** Each worker of this sweep, with the function that stops listening to it. */
  private readonly workers = new Map<PoolWorker, () => void>();
  private readonly running = new Map<PoolWorker, number>();
  /** Runs not yet handed out, first first; a crashed run goes back to the front. */
  private readonly pending: number[];
  /** Why the worker of a run ended the first time, for runs that were retried. */
  private readonly crashes = new Map<number, string>();
  private finished = 0;
  private settled = false;
  private resolve!: (runs: AnyRun[]) => void;
  private reject!: (error: unknown) => void;

  constructor(
    private readonly specs: readonly CheckedSpec[],
    private readonly data: CheckedDataset,
    private readonly options: PoolOptions,
    private readonly setup: SweepSetup,
  ) {
    this.pending = specs.map((_, index) => index);
  }

  start(count: number): Promise<AnyRun[]> {
    return new Promise<AnyRun[]>((resolve, reject) => {
      [this.resolve, this.reject] = [resolve, reject];
      this.options.signal?.addEventListener("abort", this.onAbort, { once: true });
      if (this.options.signal?.aborted) return this.onAbort();
      for (let k = 0; k < count && !this.settled; k++) this.guarded(() => this.add(takeWorker(this.setup.kind)));
    });
  }

  private readonly onAbort = (): void => this.stop(this.options.signal!.reason);

  /** A throwing callback (or a model that cannot be rebuilt) fails the sweep instead of a worker's event handler. */
  private guarded(action: () => void): void {
    try {
      action();
    } catch (error) {
      this.stop(error);
    }
  }

  private add(worker: PoolWorker): void {
    const stopListening = worker.listen({
      message: (message) => this.guarded(() => this.receive(worker, message)),
      ended: (reason) => this.guarded(() => this.ended(worker, reason)),
    });
    this.workers.set(worker, stopListening);
    this.assign(worker);
  }

  private assign(worker: PoolWorker): void {
    const index = this.pending.shift();
    if (index === undefined) return;
    this.running.set(worker, index);
    this.losses.delete(index);
    this.options.onStart?.(index);
    worker.send({ index, spec: this.specs[index]!, backend: this.setup.backend }, this.data);
  }

  private receive(worker: PoolWorker, message: WorkerMessage): void {
    if (this.settled) return;
    if (message.type === "failed") return this.stop(new Error(`run "${this.specs[message.index]!.label}": ${message.message}`));
    if (message.type === "progress") return this.progress(message);
    this.losses.delete(message.index);
    const run: AnyRun = { ...message.run, model: restoreAny(message.model) };
    this.runs[message.index] = run;
    this.running.delete(worker);
    this.options.onRun?.(run, message.index);
    if (++this.finished === this.specs.length) return this.stop();
    this.assign(worker);
  }

  private progress({ index, progress, added }: Extract<WorkerMessage, { type: "progress" }>): void {
    let all = this.losses.get(index);
    if (!all) this.losses.set(index, (all = new Float32Array(progress.totalSteps)));
    all.set(added, progress.step - added.length);
    this.options.onProgress?.({ ...progress, losses: all.subarray(0, progress.step) });
  }

  /** A worker died (a native crash, killed, out of memory): retry its run once in a new worker. */
  private ended(worker: PoolWorker, reason: string): void {
    if (this.settled) return;
    this.workers.get(worker)?.();
    this.workers.delete(worker);
    void worker.terminate();
    const index = this.running.get(worker);
    this.running.delete(worker);
    if (index !== undefined) {
      const first = this.crashes.get(index);
      if (first !== undefined) {
        const again = first === reason ? "again on its retry" : `on its retry: ${reason}`;
        return this.stop(new Error(`run "${this.specs[index]!.label}": ${first}, and ${again}`));
      }
      this.crashes.set(index, reason);
      this.pending.unshift(index);
    }
    if (this.pending.length > 0) this.add(startPoolWorker(this.setup.kind));
  }

  private stop(error?: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.options.signal?.removeEventListener("abort", this.onAbort);
    this.workers.forEach((stopListening) => stopListening());
    const workers = [...this.workers.keys()];
    if (error === undefined && this.setup.idleSeconds > 0) {
      workers.forEach(keepIdle);
      scheduleIdleEnd(this.setup.idleSeconds);
      return this.resolve(this.runs);
    }
    void Promise.all([...workers.map((worker) => worker.terminate()), closeWorkers()]).then(() => {
      if (error === undefined) return this.resolve(this.runs);
      this.runs.forEach((run) => run?.model.dispose());
      this.reject(error);
    });
  }
}

/**
 * End the idle workers now (they end by themselves after `MIE_WORKER_IDLE_SECONDS`), e.g. to free their memory
 * before something else needs it. Workers of a sweep in progress are not touched.
 * @example await closeWorkers();
 */
export async function closeWorkers(): Promise<void> {
  await closeIdle(() => true);
}

async function closeIdle(which: (worker: PoolWorker) => boolean): Promise<void> {
  const ending = [...idle.keys()].filter(which);
  ending.forEach((worker) => {
    idle.get(worker)!();
    idle.delete(worker);
  });
  if (idle.size === 0) clearTimeout(idleTimer);
  await Promise.all(ending.map((worker) => worker.terminate()));
}

/**
 * Seconds an idle worker waits for the next sweep: `MIE_WORKER_IDLE_SECONDS` (from `settings`, by default this
 * process's environment), default 60; 0 ends workers with their sweep.
 * @example workerIdleSeconds({ workerIdleSeconds: 0 }); // 0
 */
export function workerIdleSeconds(settings: Pick<Environment, "workerIdleSeconds"> = environment()): number {
  return settings.workerIdleSeconds;
}

/**
 * How many finished sweeps' workers wait for the next sweep.
 * @example await trainAll(specs, data); idleWorkers(); // 2 on a 2-core machine
 */
export function idleWorkers(): number {
  return idle.size;
}

/** An idle worker of this kind (referenced again: it now belongs to a sweep), else a new one. */
function takeWorker(kind: WorkerKind): PoolWorker {
  const worker = [...idle.keys()].find((candidate) => candidate.kind === kind);
  if (!worker) return startPoolWorker(kind);
  idle.get(worker)!();
  idle.delete(worker);
  worker.ref();
  return worker;
}

function keepIdle(worker: PoolWorker): void {
  const stopListening = worker.listen({ message: () => {}, ended: () => void idle.delete(worker) });
  worker.unref();
  idle.set(worker, stopListening);
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
