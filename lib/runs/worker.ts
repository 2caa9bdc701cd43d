/**
 * A pool worker (see `pool.ts`): its own TensorFlow.js backend, one run at a time on the shared dataset each job
 * brings, for as many sweeps as the pool keeps it. Progress goes back as the losses added since the last report,
 * the result as plain data plus a model snapshot.
 */
import { parentPort } from "node:worker_threads";
import { initBackend } from "../train/backend";
import { snapshotModel } from "../model/snapshot";
import { trainSpec } from "./spec";
import type { Job, WorkerMessage } from "./pool";

const port = parentPort!;

port.on("message", (job: Job) => {
  void run(job);
});

async function run({ index, spec, data, backend }: Job): Promise<void> {
  try {
    await initBackend(backend); // the sweep thread's request: the same as the last job's returns the backend already chosen
    let sent = 0;
    const { model, ...result } = await trainSpec(spec, data, {
      onProgress: ({ losses, ...progress }) => {
        const added = losses.slice(sent, progress.step);
        sent = progress.step;
        post({ type: "progress", index, progress, added }, [added.buffer]);
      },
    });
    const snapshot = snapshotModel(model);
    model.dispose();
    post({ type: "done", index, run: result, model: snapshot }, snapshot.params.map((layer) => layer.values.buffer));
  } catch (error) {
    post({ type: "failed", index, message: error instanceof Error ? error.message : String(error) });
  }
}

function post(message: WorkerMessage, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}
