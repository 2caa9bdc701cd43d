/**
 * The wasm backend on several threads under Node: tfjs-backend-wasm ships a threaded SIMD build (XNNPACK on a
 * pthreadpool over shared memory), but under Node tfjs never loads it (tensorflow/tfjs#3830): its feature check
 * answers "no threads" for Node, and its loader starts Emscripten's thread workers from `blob:` URLs, which
 * Node's `Worker` rejects. This module loads that same build itself and registers it as the "wasm" backend, so
 * every kernel registered for "wasm" runs on it unchanged:
 * - the thread workers start from code (`eval`), which requires the package's own worker script;
 * - each thread then loads the build's main script by path instead of from a blob;
 * - the size of XNNPACK's thread pool is fixed when the module starts, from the number of logical cores / 2 (for
 *   hyper-threading), which on a 2-core machine is 1: the core count it sees is set to twice the threads wanted.
 *
 * Why it keeps results bit-identical to the one-thread build (checked by test/wasm-threads.test.ts): XNNPACK
 * splits a product by tiles of the output, and each output number is still summed by one thread over the whole
 * inner dimension in the same order; elementwise kernels split by element. No sum changes order.
 *
 * The thread workers are unreferenced, so they never keep a finished process alive.
 */
import * as tf from "@tensorflow/tfjs";
import { dirname, join } from "node:path";

/** What Emscripten's module offers that this module uses. */
interface ThreadedModule {
  cwrap(name: string, returns: string | null, args: string[]): (...args: number[]) => number;
  PThread: { runningWorkers: { unref(): void }[]; unusedWorkers: { terminate(): void }[] };
  tfjs?: Record<string, unknown>;
}

/**
 * Register the threaded wasm build as tfjs's "wasm" backend with `threads` threads (not yet made current).
 * Throws where it cannot start (no shared memory, the package's files missing); the caller then keeps the
 * one-thread build.
 * @example await registerThreadedWasm(2); await tf.setBackend("wasm");
 */
export async function registerThreadedWasm(threads: number): Promise<void> {
  if (!Number.isInteger(threads) || threads < 2) throw new RangeError(`registerThreadedWasm: expected an integer ≥ 2 threads, got ${threads}`);
  if (typeof SharedArrayBuffer === "undefined") throw new Error("no SharedArrayBuffer in this runtime");
  // Replacing a started backend would drop its tensors.
  if (tf.findBackend("wasm")) throw new Error("the one-thread wasm backend had already started");
  const wasmPackage = require("@tensorflow/tfjs-backend-wasm") as {
    BackendWasm: new (module: unknown) => tf.KernelBackend;
    setThreadsCount(count: number): void;
  };
  const module = await startModule(threads);
  wasmPackage.setThreadsCount(threads);
  if (tf.findBackendFactory("wasm")) tf.removeBackend("wasm");
  tf.registerBackend("wasm", () => {
    const backend = new wasmPackage.BackendWasm(module); // starts XNNPACK's thread pool
    // Emscripten's spare workers (8 by default, ~10 MB each) would only serve threads that are never created.
    for (const worker of module.PThread.unusedWorkers.splice(0)) worker.terminate();
    for (const worker of module.PThread.runningWorkers) worker.unref();
    return backend;
  }, 2);
}

/**
 * How many threads the wasm backend runs on, after it started: XNNPACK's pool size (1 for the one-thread build).
 * @example wasmThreads(); // 2 on a 2-core machine under Node's main thread
 */
export function wasmThreads(): number {
  const backend = tf.findBackend("wasm") as unknown as { wasm?: { tfjs?: { getThreadsCount?: () => number } } } | null;
  return backend?.wasm?.tfjs?.getThreadsCount?.() ?? 1;
}

async function startModule(threads: number): Promise<ThreadedModule> {
  const mainScript = require.resolve("@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js");
  const folder = dirname(mainScript);
  const workerScript = join(folder, "tfjs-backend-wasm-threaded-simd.worker.js");
  const factory = require(mainScript) as (config: object) => Promise<ThreadedModule>;
  // Emscripten reads both of these once, while the module starts: put them back right after.
  const workerThreads = require("node:worker_threads") as { Worker: new (file: string, options?: object) => object };
  const os = require("node:os") as { cpus: () => unknown[] };
  const [NodeWorker, cpus] = [workerThreads.Worker, os.cpus];
  const marker = "mie-wasm-thread-worker";
  // The package's worker script exports its code as a string meant for a Blob, with its "\n" escapes unescaped.
  const workerCode = [
    `const { wasmWorkerContents } = require(${JSON.stringify(workerScript)});`,
    `globalThis.require = require; globalThis.__filename = ${JSON.stringify(mainScript)};`,
    `(0, eval)(wasmWorkerContents.replace(/\\n/g, "\\\\n"));`,
  ].join("\n");
  workerThreads.Worker = class extends NodeWorker {
    constructor(file: string, options?: object) {
      // stdout/stderr not piped into this process: 8 pipes trip Node's listener-leak warning (the threads
      // write their errors with fs.writeSync, straight to the file descriptors).
      if (file === marker) super(workerCode, { ...options, eval: true, stdout: true, stderr: true });
      else super(file, options);
    }
  };
  os.cpus = () => {
    const real = cpus();
    return Array.from({ length: 2 * threads }, (_, i) => real[i % real.length]);
  };
  let module: ThreadedModule;
  try {
    module = await factory({
      locateFile: (path: string, prefix: string) =>
        path.endsWith(".worker.js") ? marker : path.endsWith(".wasm") ? join(folder, "tfjs-backend-wasm-threaded-simd.wasm") : prefix + path,
      mainScriptUrlOrBlob: mainScript,
    });
  } finally {
    workerThreads.Worker = NodeWorker;
    os.cpus = cpus;
  }
  // What tfjs's own loader adds to the module (tfjs-backend-wasm's init()).
  module.tfjs = {
    init: module.cwrap("init", null, []),
    initWithThreadsCount: module.cwrap("init_with_threads_count", null, ["number"]),
    getThreadsCount: module.cwrap("get_threads_count", "number", []),
    registerTensor: module.cwrap("register_tensor", null, ["number", "number", "number"]),
    disposeData: module.cwrap("dispose_data", null, ["number"]),
    dispose: module.cwrap("dispose", null, []),
  };
  return module;
}
