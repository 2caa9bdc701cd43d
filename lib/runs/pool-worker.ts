/**
 * One pool worker behind one interface, either a `worker_threads` thread or a child process (`child_process.fork`).
 * A thread starts faster and reads the dataset from shared memory, but a native crash in it (libtensorflow under
 * tfjs-node) ends the whole process, the kernel included. A child process holds its own copy of the dataset and
 * costs more to start, but when it crashes only it ends: the pool sees the signal and retries the run elsewhere.
 * Measured in docs/performance.md ("Pool workers: threads or processes").
 *
 * Under Deno a thread is a Web Worker (Deno's own `Worker`): Deno's `node:worker_threads` serializes a message's
 * bytes slowly (a 47 MB dataset took 10–12 s per worker here, shared memory or not), while a Web Worker receives
 * the shared dataset at once (docs/performance.md, "The pool under Deno").
 */
import { Worker } from "node:worker_threads";
import { fork, type ChildProcess } from "node:child_process";
import { extname, join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Dataset } from "../data/data";
import type { BackendName } from "../engine/backend";
import type { Progress } from "../train/progress";
import type { ModelSnapshot, NetworkSnapshot } from "../model/snapshot";
import type { AnyRun } from "../train/loop";
import type { CheckedSpec } from "./spec";
import { childEnvironment } from "../config/environment";

/**
 * One run for a worker, with the backend request this thread made ("auto" lets each run pick by its size, as in
 * this thread, so a run gives the same result here and in a worker). The dataset comes with a worker's first job
 * of a sweep; later jobs name it by `dataId`.
 * @example const job: Job = { index: 0, spec: checkSpec({ layers: [784, 10] }, checked, "spec"), backend: "auto", dataId: 1, data };
 */
export interface Job {
  index: number;
  spec: CheckedSpec;
  backend: BackendName | "auto";
  dataId: number;
  data?: Dataset;
}

/**
 * What a worker reports: progress (only the losses added since its last report), a result, or a failure.
 * @example const message: WorkerMessage = { type: "failed", index: 0, message: "lr: expected a finite number > 0" };
 */
export type WorkerMessage =
  | { type: "progress"; index: number; progress: Omit<Progress, "losses">; added: Float32Array }
  | { type: "done"; index: number; run: Omit<AnyRun, "model">; model: ModelSnapshot | NetworkSnapshot }
  | { type: "failed"; index: number; message: string };

/**
 * A job as the pool hands it out; the worker adds which dataset it is for.
 * @example worker.send({ index: 0, spec: checkSpec({ layers: [784, 10] }, checked, "spec"), backend: "auto" } satisfies JobOrder, data);
 */
export type JobOrder = Omit<Job, "dataId" | "data">;

/**
 * Where a worker runs: a thread of this process or a child process of its own.
 * @example const kind: WorkerKind = "process";
 */
export type WorkerKind = "thread" | "process";

/**
 * What a pool worker tells its owner: a message from its run, or that it ended (with why, e.g. "signal SIGSEGV").
 * @example const stopListening = worker.listen({ message: (m) => console.log(m.type), ended: (reason) => console.error(reason) });
 */
export interface WorkerListeners {
  message: (message: WorkerMessage) => void;
  ended: (reason: string) => void;
}

/**
 * A started worker of either kind. `send` brings the dataset along only when this worker has not seen it yet.
 * @example const worker = startPoolWorker("process"); worker.listen({ message: console.log, ended: console.error }); await worker.terminate();
 */
export interface PoolWorker {
  readonly kind: WorkerKind;
  /** The child's process id, or this process's for a thread. */
  readonly pid: number;
  send(job: JobOrder, data: Dataset): void;
  /** Attach listeners; returns the function that detaches them. */
  listen(listeners: WorkerListeners): () => void;
  /** A referenced worker keeps the process alive; an unreferenced (idle) one never does. */
  ref(): void;
  unref(): void;
  /** End it; resolves once it has ended. */
  terminate(): Promise<void>;
}

/**
 * Start a worker of this kind, running `worker.js` beside this file (or `worker.ts` when running under tsx).
 * @example const worker = startPoolWorker("thread"); await worker.terminate();
 */
export function startPoolWorker(kind: WorkerKind): PoolWorker {
  if (kind === "process") return new ProcessWorker();
  return "Deno" in globalThis ? new WebThreadWorker() : new ThreadWorker();
}

/**
 * Whether this runtime can start pool workers: always under Node; under Deno when it has Web Workers.
 * @example if (!poolWorkersAvailable()) console.log("one run at a time");
 */
export function poolWorkersAvailable(): boolean {
  return !("Deno" in globalThis) || typeof (globalThis as { Worker?: unknown }).Worker === "function";
}

/** The worker's entry beside this file: the compiled `worker.js`, or `worker.ts` when running under tsx. */
function workerEntry(): string {
  return join(__dirname, `worker${extname(__filename)}`);
}

/** The id of each dataset object, so a worker is sent a dataset only once. */
const datasetIds = new WeakMap<Dataset, number>();
let lastDatasetId = 0;

function datasetId(data: Dataset): number {
  let id = datasetIds.get(data);
  if (id === undefined) datasetIds.set(data, (id = ++lastDatasetId));
  return id;
}

abstract class BaseWorker {
  private seen: number | undefined;

  /** The job as posted: with the dataset the first time this worker sees it, else with its id only. */
  protected message(job: JobOrder, data: Dataset): Job {
    const dataId = datasetId(data);
    if (dataId === this.seen) return { ...job, dataId };
    this.seen = dataId;
    return { ...job, dataId, data: this.prepare(data) };
  }

  protected abstract prepare(data: Dataset): Dataset;
}

class ThreadWorker extends BaseWorker implements PoolWorker {
  readonly kind = "thread";
  readonly pid = process.pid;
  private readonly worker = startThread();

  send(job: JobOrder, data: Dataset): void {
    this.worker.postMessage(this.message(job, data));
  }

  /** Posting a dataset in shared memory shares its buffers: nothing is copied. */
  protected prepare(data: Dataset): Dataset {
    return data;
  }

  listen(listeners: WorkerListeners): () => void {
    const onError = (error: Error): void => listeners.ended(`its worker thread failed: ${error.message}`);
    const onExit = (code: number): void => listeners.ended(`its worker thread stopped unexpectedly (exit code ${code})`);
    this.worker.on("message", listeners.message).on("error", onError).on("exit", onExit);
    return () => void this.worker.off("message", listeners.message).off("error", onError).off("exit", onExit);
  }

  ref(): void {
    this.worker.ref();
  }

  unref(): void {
    this.worker.unref();
  }

  async terminate(): Promise<void> {
    await this.worker.terminate();
  }
}

/** Deno's Web Worker, the part the pool uses (the library is compiled against Node's types). */
interface WebWorker {
  postMessage(message: unknown): void;
  addEventListener(type: string, listener: (event: { data?: unknown; message?: string; preventDefault?: () => void }) => void): void;
  removeEventListener(type: string, listener: (event: { data?: unknown; message?: string; preventDefault?: () => void }) => void): void;
  terminate(): void;
}

/**
 * A thread under Deno: a Web Worker running the same entry. A Web Worker cannot be unreferenced, so under
 * `deno run` an idle one keeps the script alive until `closeWorkers()` or its idle time ends; in a kernel, which
 * never ends by itself, that changes nothing.
 */
class WebThreadWorker extends BaseWorker implements PoolWorker {
  readonly kind = "thread";
  readonly pid = process.pid;
  private readonly worker: WebWorker;
  private readonly ended: Promise<void>;
  private end!: () => void;

  constructor() {
    super();
    const Web = (globalThis as unknown as { Worker: new (url: string, options: { type: "module" }) => WebWorker }).Worker;
    this.worker = new Web(pathToFileURL(workerEntry()).href, { type: "module" });
    this.ended = new Promise((resolve) => (this.end = resolve));
  }

  send(job: JobOrder, data: Dataset): void {
    this.worker.postMessage(this.message(job, data));
  }

  /** Posting a dataset in shared memory shares its buffers: nothing is copied. */
  protected prepare(data: Dataset): Dataset {
    return data;
  }

  listen(listeners: WorkerListeners): () => void {
    const onMessage = (event: { data?: unknown }): void => listeners.message(event.data as WorkerMessage);
    const onError = (event: { message?: string; preventDefault?: () => void }): void => {
      event.preventDefault?.(); // handled here: it must not end the kernel
      listeners.ended(`its worker thread failed: ${event.message ?? "unknown error"}`);
    };
    this.worker.addEventListener("message", onMessage);
    this.worker.addEventListener("error", onError);
    this.worker.addEventListener("messageerror", onError);
    return () => {
      this.worker.removeEventListener("message", onMessage);
      this.worker.removeEventListener("error", onError);
      this.worker.removeEventListener("messageerror", onError);
    };
  }

  ref(): void {}

  unref(): void {}

  async terminate(): Promise<void> {
    this.worker.terminate();
    this.end();
    await this.ended;
  }
}

function startThread(): Worker {
  const entry = workerEntry();
  if (entry.endsWith(".js")) return new Worker(entry);
  // Node 20 loads a worker's .ts entry before `--import tsx` has registered its hooks; tsx's CommonJS hook,
  // installed first in an eval'd bootstrap, works.
  const bootstrap = `require(${JSON.stringify(require.resolve("tsx/cjs"))}); require(${JSON.stringify(entry)});`;
  return new Worker(bootstrap, { eval: true, execArgv: [] });
}

class ProcessWorker extends BaseWorker implements PoolWorker {
  readonly kind = "process";
  private readonly child: ChildProcess = startProcess();
  private readonly exited: Promise<void>;

  constructor() {
    super();
    this.exited = new Promise((resolve) => this.child.once("exit", () => resolve()));
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  send(job: JobOrder, data: Dataset): void {
    this.child.send(this.message(job, data));
  }

  /** A process gets its own compact copy (a view's whole underlying buffer would be serialized otherwise). */
  protected prepare(data: Dataset): Dataset {
    return compactDataset(data);
  }

  listen(listeners: WorkerListeners): () => void {
    const onMessage = (message: unknown): void => listeners.message(message as WorkerMessage);
    const onError = (error: Error): void => listeners.ended(`its worker process failed: ${error.message}`);
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void =>
      listeners.ended(`its worker process ${signal ? `was killed by signal ${signal}` : `exited with code ${code}`}`);
    this.child.on("message", onMessage).on("error", onError).on("exit", onExit);
    return () => void this.child.off("message", onMessage).off("error", onError).off("exit", onExit);
  }

  ref(): void {
    this.child.ref();
    this.child.channel?.ref();
  }

  unref(): void {
    this.child.unref();
    this.child.channel?.unref();
  }

  async terminate(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.ref(); // an idle (unreferenced) child's exit would otherwise not keep the process waiting for it
      this.child.kill("SIGKILL");
    }
    await this.exited;
  }
}

function startProcess(): ChildProcess {
  const entry = workerEntry();
  // The kernel's own flags (an inspector port, tslab's) are not the worker's; tsx only where the entry is .ts.
  const execArgv = entry.endsWith(".ts") ? ["--require", require.resolve("tsx/cjs")] : [];
  // "advanced" serialization carries typed arrays as bytes, not as JSON objects of numbered keys. One engine thread:
  // the pool already runs one run per core. The child is a process of its own whose `initBackend` reads its
  // settings from its environment, so the setting goes there (a worker thread runs one by itself: not the main thread).
  const env = childEnvironment({ MIE_WASM_THREADS: "1" });
  return fork(entry, [], { execArgv, env, serialization: "advanced", stdio: ["ignore", "inherit", "inherit", "ipc"] });
}

/** Views that cover their whole (non-shared) buffer as they are, others copied: made once per worker, then garbage. */
function compactDataset(data: Dataset): Dataset {
  const whole = (bytes: Uint8Array): Uint8Array =>
    bytes.buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
  const split = (s: Dataset["train"]): Dataset["train"] => ({ ...s, images: whole(s.images), labels: whole(s.labels) });
  return { ...data, train: split(data.train), test: split(data.test) };
}
