/**
 * A pool worker's entry (see `pool.ts`, `pool-worker.ts`), in a worker thread or a child process: its own
 * TensorFlow.js backend, one run at a time on the dataset the first job of a sweep brings (later jobs name it
 * by id), for as many sweeps as the pool keeps it. Progress goes back as the losses added since the last report,
 * the result as plain data plus a model snapshot.
 */
import { parentPort } from "node:worker_threads";
import { initBackend } from "../engine/backend";
import { snapshotAny, snapshotBuffers } from "../model/snapshot";
import type { CheckedDataset } from "../train/checks";
import { trainSpec } from "./spec";
import type { Job, WorkerMessage } from "./pool-worker";

/** Under Deno, a Web Worker's own scope (see pool-worker.ts); the library is compiled against Node's types. */
interface WebWorkerScope {
  postMessage(message: unknown, transfer: ArrayBuffer[]): void;
  addEventListener(type: "message", listener: (event: { data: Job }) => void): void;
}
const webScope = (globalThis as { WorkerGlobalScope?: new () => unknown }).WorkerGlobalScope !== undefined && !parentPort
  ? (globalThis as unknown as WebWorkerScope) : undefined;

/** This worker's way back: the thread's port, a Web Worker's scope, or the child process's IPC channel. */
const post: (message: WorkerMessage, transfer?: ArrayBuffer[]) => void = parentPort
  ? (message, transfer = []) => parentPort!.postMessage(message, transfer)
  : webScope
    ? (message, transfer = []) => webScope.postMessage(message, transfer)
    : (message) => void process.send!(message);

/** The last dataset sent, kept for the jobs that name it by id (one at a time: a new one replaces it). Only a
 *  dataset its sweep checked is ever sent (`trainInWorkers` takes a `CheckedDataset`), so it is trusted here. */
let dataset: { id: number; data: CheckedDataset } | undefined;

const onJob = (job: Job): void => void run(job);
if (parentPort) parentPort.on("message", onJob);
else if (webScope) webScope.addEventListener("message", (event) => onJob(event.data));
else {
  process.on("message", onJob);
  // The pool's process ended (even killed): this worker has no one left to work for.
  process.on("disconnect", () => process.exit(0));
}

async function run({ index, spec, backend, dataId, data }: Job): Promise<void> {
  try {
    if (data) dataset = { id: dataId, data: data as CheckedDataset };
    if (dataset?.id !== dataId) throw new Error(`pool worker: job ${index} names dataset ${dataId}, which it was never sent`);
    await initBackend(backend); // the sweep thread's request: the same as the last job's returns the backend already chosen
    let sent = 0;
    const { model, ...result } = await trainSpec(spec, dataset.data, {
      onProgress: ({ losses, ...progress }) => {
        const added = losses.slice(sent, progress.step);
        sent = progress.step;
        post({ type: "progress", index, progress, added }, [added.buffer]);
      },
    });
    const snapshot = snapshotAny(model);
    model.dispose();
    post({ type: "done", index, run: result, model: snapshot }, snapshotBuffers(snapshot));
  } catch (error) {
    post({ type: "failed", index, message: error instanceof Error ? error.message : String(error) });
  }
}
