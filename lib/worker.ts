/**
 * A pool worker (see `pool.ts`): its own TensorFlow.js backend, the shared dataset, and one run at a time.
 * Progress goes back as the losses added since the last report, the result as plain data plus a model snapshot.
 */
import { parentPort, workerData } from "node:worker_threads";
import { initBackend } from "./backend";
import { snapshotModel } from "./snapshot";
import { trainSpec } from "./spec";
import type { Job, WorkerMessage, WorkerSetup } from "./pool";

const { data, backend } = workerData as WorkerSetup;
const port = parentPort!;
const ready = initBackend(backend);

port.on("message", (job: Job) => {
  void run(job);
});

async function run({ index, spec }: Job): Promise<void> {
  try {
    await ready;
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
