/**
 * A helper thread of a team (`team.ts`): the kernels on the engine's shared memory, then split calls served
 * until the process ends. Between calls it spins briefly, then sleeps (`Atomics.wait`), so an idle engine
 * costs no CPU.
 */
import { workerData } from "node:worker_threads";
import { loadNativeAddon, nativeKernels, wasmKernels } from "./kernels";
import { CHUNK_BITS, CLAIM, HELPED, READY, runChunks } from "./team-chunks";

/** What `team.ts` hands each helper. */
export interface HelperData {
  memory: WebAssembly.Memory;
  control: SharedArrayBuffer;
  spinMs: number;
  /** Whether to load the native kernels too (the calling thread did). */
  native: boolean;
}

const { memory, control: buffer, spinMs, native } = workerData as HelperData;
const wasm = wasmKernels(memory);
const addon = native ? loadNativeAddon() : "not wanted";
const sets = [wasm, typeof addon === "string" ? wasm : nativeKernels(addon.addon, memory)];
const control = new Int32Array(buffer);
Atomics.add(control, READY, 1);
let last = Atomics.load(control, CLAIM) >>> CHUNK_BITS;
for (;;) {
  let word = Atomics.load(control, CLAIM);
  let since = performance.now();
  while (word >>> CHUNK_BITS === last) {
    if (performance.now() - since > spinMs) {
      Atomics.wait(control, CLAIM, word);
      since = performance.now();
    }
    word = Atomics.load(control, CLAIM);
  }
  last = word >>> CHUNK_BITS;
  try {
    Atomics.add(control, HELPED, runChunks(control, sets, last));
  } catch {
    // FAILED is set: the caller throws
  }
}
