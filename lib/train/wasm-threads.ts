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
 * Small steps stay on one thread (`useWasmThreads(false)`): each parallel kernel waits for its slowest thread, so
 * small kernels pay the hand-over, and on a busy machine a thread that is not scheduled (784-10 at batch 16 ran
 * 2–4× slower on 2 threads while other jobs loaded the cores). tfjs keeps XNNPACK's pool in one C global that every
 * kernel passes on; with NULL there, XNNPACK runs each kernel on the calling thread. Its address is read from the
 * build's `get_threads_count` function, whose code must be exactly the expected few instructions, or threads
 * are not used at all. The thread workers are unreferenced, so they never keep a finished process alive.
 */
import * as tf from "@tensorflow/tfjs";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";

/** What Emscripten's module offers that this module uses. */
interface ThreadedModule {
  cwrap(name: string, returns: string | null, args: string[]): (...args: number[]) => number;
  PThread: { runningWorkers: { unref(): void }[]; unusedWorkers: { terminate(): void }[] };
  wasmMemory: WebAssembly.Memory;
  tfjs?: Record<string, unknown>;
}

/** The started threaded build: its heap and where its thread pool pointer lives, with the pool's value. */
let started: { memory: WebAssembly.Memory; poolAddress: number; pool: number; threads: number } | undefined;

/**
 * Register the threaded wasm build as tfjs's "wasm" backend with `threads` threads (not yet made current).
 * Throws where its module cannot start (no shared memory, the package's files missing), leaving the one-thread
 * build registered; if it starts but its thread pool is not what was asked, the backend falls back to the
 * one-thread build when tfjs first creates it (`threadedWasmFailure` says why).
 * @example await registerThreadedWasm(2); await tf.setBackend("wasm");
 */
export async function registerThreadedWasm(threads: number): Promise<void> {
  if (!Number.isInteger(threads) || threads < 2) throw new RangeError(`registerThreadedWasm: expected an integer ≥ 2 threads, got ${threads}`);
  if (typeof SharedArrayBuffer === "undefined") throw new Error("no SharedArrayBuffer in this runtime");
  // Replacing a started backend would drop its tensors.
  if (tf.findBackend("wasm")) throw new Error("the one-thread wasm backend had already started");
  if (started) return;
  const wasmPackage = require("@tensorflow/tfjs-backend-wasm") as {
    BackendWasm: new (module: unknown) => tf.KernelBackend;
    setThreadsCount(count: number): void;
  };
  const poolAddress = threadPoolAddress(require.resolve("@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.wasm"));
  const module = await startModule(threads);
  wasmPackage.setThreadsCount(threads);
  const plain = tf.findBackendFactory("wasm") as (() => tf.KernelBackend | Promise<tf.KernelBackend>) | null;
  if (plain) tf.removeBackend("wasm");
  tf.registerBackend("wasm", async () => {
    try {
      const backend = new wasmPackage.BackendWasm(module); // starts XNNPACK's thread pool
      // Emscripten's spare workers (8 by default, ~10 MB each) would only serve threads that are never created.
      for (const worker of module.PThread.unusedWorkers.splice(0)) worker.terminate();
      for (const worker of module.PThread.runningWorkers) worker.unref();
      const pool = new Int32Array(module.wasmMemory.buffer)[poolAddress / 4]!;
      const count = (module.tfjs!.getThreadsCount as () => number)();
      if (pool === 0 || count !== threads) throw new Error(`the threaded wasm build started ${count} threads instead of ${threads}`);
      started = { memory: module.wasmMemory, poolAddress, pool, threads };
      useWasmThreads(false);
      return backend;
    } catch (error) {
      if (!plain) throw error;
      failure = (error as Error).message.split("\n")[0];
      return await plain(); // the one-thread build, as without this module
    }
  }, 2);
}

let failure: string | undefined;

/**
 * Why the threaded build, once registered, could not start and the one-thread build runs instead (else undefined).
 * @example threadedWasmFailure(); // undefined where 2 threads run
 */
export function threadedWasmFailure(): string | undefined {
  return failure;
}

/**
 * How many threads big training steps on wasm run on, once the backend started (1 for the one-thread build).
 * @example wasmThreads(); // 2 on a 2-core machine under Node's main thread
 */
export function wasmThreads(): number {
  return started?.threads ?? 1;
}

/**
 * Run the next kernels on the thread pool (true) or on the calling thread (false). No effect before the threaded
 * build started, or where it did not.
 * @example useWasmThreads(stepMultiplyAdds(layers, batchSize) >= WASM_THREADS_MIN_MULTIPLY_ADDS);
 */
export function useWasmThreads(on: boolean): void {
  if (started) new Int32Array(started.memory.buffer)[started.poolAddress / 4] = on ? started.pool : 0;
}

/**
 * The linear-memory address of tfjs's \`threadpool\` global, read from the code of \`get_threads_count\` in the
 * build (\`if (!(p = threadpool)) return -1; return pthreadpool_get_threads_count(p);\`). Throws unless the
 * function is exactly that code.
 */
function threadPoolAddress(wasmFile: string): number {
  const bytes = readFileSync(wasmFile);
  let at = 8;
  const leb = (): number => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = bytes[at++]!;
      value |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return value >>> 0;
    }
  };
  const skipLimits = (): void => {
    const flags = bytes[at++]!;
    leb();
    if (flags & 1) leb();
  };
  let importedFunctions = 0;
  let exported = -1;
  let code = -1;
  while (at < bytes.length) {
    const id = bytes[at++]!;
    const end = leb() + at;
    if (id === 2) {
      for (let n = leb(); n > 0; n--) {
        for (let names = 0; names < 2; names++) {
          const length = leb(); // not `at += leb()`: that adds to the value `at` had before leb() moved it
          at += length;
        }
        const kind = bytes[at++]!;
        if (kind === 0) (leb(), importedFunctions++);
        else if (kind === 1) (at++, skipLimits());
        else if (kind === 2) skipLimits();
        else at += 2;
      }
    } else if (id === 7) {
      for (let n = leb(); n > 0; n--) {
        const length = leb();
        const name = bytes.subarray(at, at + length).toString();
        at += length;
        const kind = bytes[at++]!;
        const index = leb();
        if (kind === 0 && name === "get_threads_count") exported = index;
      }
    } else if (id === 10) code = at;
    at = end;
  }
  if (exported < importedFunctions || code < 0) throw new Error("the threaded wasm build has no get_threads_count function");
  at = code;
  for (let n = leb(), k = 0; k < n; k++) {
    const size = leb();
    if (k === exported - importedFunctions) {
      const body = bytes.subarray(at, at + size);
      // 1 local i32; i32.const ADDRESS; i32.load; local.tee 0; i32.eqz; if; i32.const -1; return; end; local.get 0; call; end
      const match = /^01017f41((?:[89a-f][0-9a-f])*[0-7][0-9a-f])2802002200450440417f0f0b200010(?:[89a-f][0-9a-f])*[0-7][0-9a-f]0b$/.exec(body.toString("hex"));
      if (!match) throw new Error("the threaded wasm build's get_threads_count is not the expected code");
      const address = Buffer.from(match[1]!, "hex");
      let value = 0;
      address.forEach((byte, i) => (value += (byte & 0x7f) * 2 ** (7 * i)));
      if (value % 4 !== 0) throw new Error("the threaded wasm build's thread pool pointer is not aligned");
      return value;
    }
    at += size;
  }
  throw new Error("the threaded wasm build has no code for get_threads_count");
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
