/**
 * The one place that decides which TensorFlow.js backend runs: native `tfjs-node` when it is installed and
 * loads, else WebAssembly, else the pure-JS `cpu` backend. The rest of lib imports only `@tensorflow/tfjs`.
 * tfjs-node is an optional peer dependency, not installed by the project's `npm ci` (`npm run native` builds it);
 * nothing here installs it.
 *
 * With tfjs-node installed, "auto" starts wasm and each training run takes the faster backend for its size
 * (`backendForRun`): a whole wasm step has no per-op cost, so steps up to `NATIVE_MIN_MULTIPLY_ADDS` (60M) run
 * faster on wasm, and up to `NATIVE_MIN_MULTIPLY_ADDS_WITH_NATIVE_PRODUCTS` (500M) where its products run on the
 * compiled kernel; bigger ones on libtensorflow's products. Measured in docs/performance.md.
 * libtensorflow (~300 MB resident) loads at the first big run, or when `describeBackend` checks that it starts.
 *
 * Override with `initBackend("wasm")` or the environment variable `MIE_BACKEND=tfjs-node|wasm|cpu`. On wasm, training
 * runs on the engine (`engine.ts`): its kernels native where `npm run build` compiled them (the same bits;
 * `MIE_NATIVE_KERNELS=off` keeps them in WebAssembly), its big products on two threads; TensorFlow.js's wasm
 * backend runs the rest (evaluations, figures).
 */
import * as tf from "@tensorflow/tfjs";
import { availableParallelism, cpus } from "node:os";
import * as util from "node:util";
import { isMainThread } from "node:worker_threads";
import { environment, setDefaultVariables } from "../config/environment";
import { createEngine, type Engine, type EngineOptions } from "./engine";

/** Our names for the backends, in order of preference. */
export const BACKENDS = ["tfjs-node", "wasm", "cpu"] as const;
/**
 * One of `BACKENDS`.
 * @example const backend: BackendName = "wasm"; await initBackend(backend);
 */
export type BackendName = (typeof BACKENDS)[number];

/** What runs: the backend, why it was chosen, what was tried before it, and versions. */
export interface BackendInfo {
  name: BackendName;
  /** TensorFlow.js's own name for it ("tensorflow", "wasm", "cpu"). */
  tfName: string;
  requested: BackendName | "auto";
  /** Backends tried before this one and why each was skipped. */
  skipped: { name: BackendName; reason: string }[];
  tfjsVersion: string;
  nodeVersion: string;
  /** e.g. "SIMD, 1 thread" for wasm. */
  detail: string;
  /** On wasm: how the engine trains (its kernels and threads); null on the other backends. */
  engine: EngineOptions | null;
  /**
   * Set under "auto" where tfjs-node is installed: training runs of at least this many multiply-adds per step use
   * tfjs-node, smaller ones `name` (wasm, current until the first big run). See `backendForRun`. Removed (and
   * tfjs-node listed in `skipped`) if tfjs-node then fails to start.
   */
  nativeFrom?: { minMultiplyAdds: number; detail: string };
}

/**
 * Under "auto", training steps of at least this many multiply-adds (batch × Σ (inputs + 1) × outputs) run on
 * tfjs-node, smaller ones on wasm. Since a wasm step runs its forward and backward pass as a few SIMD kernels
 * with no per-op cost (the engine's step, `step.ts`), on one thread wasm takes less CPU time than tfjs-node up to ~25M
 * and they tie around 41.5M (784-500-500-10 Adam at batch 64); on two threads (`team.ts`, a single run
 * in the kernel) wasm is faster up to ~80M (784-500-500-10 SGD at batch 128 ties). One line for both, so a pooled
 * run and a single one train on the same backend and give the same numbers: 60M, where one-thread wasm costs
 * about what tfjs-node does and two-thread wasm is still faster. See docs/performance.md.
 */
export const NATIVE_MIN_MULTIPLY_ADDS = 60_000_000;

/**
 * The same line where the engine runs its native kernels (`kernels.ts`; measured with 4b72628's native products):
 * measured on one thread, so that pooled and single runs agree, wasm with native AVX-512 products beats tfjs-node
 * up to 784-500-500-10 at batch 256 (166M: 0.85 against 0.96 s), ties at batch 1024 (663M), and loses at
 * 784-2000-2000-10 at batch 256 (1.4G: 5.5 against 3.5 s), whose weights no longer fit in cache.
 */
export const NATIVE_MIN_MULTIPLY_ADDS_WITH_NATIVE_PRODUCTS = 500_000_000;

/**
 * On wasm, training steps of at least this many multiply-adds split their big products over the engine's threads
 * (`team.ts`), smaller ones run on one: below it the hand-over to a second thread costs more than the thread gives.
 */
const WASM_THREADS_MIN_MULTIPLY_ADDS = 3_000_000;

const TF_NAMES: Record<BackendName, string> = { "tfjs-node": "tensorflow", wasm: "wasm", cpu: "cpu" };

let current: Promise<BackendInfo> | undefined;
/** The backend `current` resolved to, once it has. */
let resolved: BackendInfo | undefined;
let currentRequest: BackendName | "auto" | undefined;

/**
 * Choose and initialise the backend once per process; later calls with the same request return the same
 * answer. An explicit request that cannot be met throws rather than silently running something slower.
 * @example const info = await initBackend(); info.name; // "wasm" on machines without tfjs-node
 */
export function initBackend(requested?: BackendName | "auto"): Promise<BackendInfo> {
  const wanted = requested ?? environment().backend;
  if (current && (currentRequest === wanted || requested === undefined)) return current;
  currentRequest = wanted;
  current = choose(wanted).then(withEngine);
  current.then((info) => (resolved = info), () => undefined);
  current.catch(() => {
    current = undefined;
    currentRequest = undefined;
  });
  return current;
}

/**
 * One line saying what runs, for the first cell of every notebook and the benchmark's header.
 * @example console.log(await describeBackend()); // "backend wasm (SIMD, 1 thread) · tfjs 4.22.0 · Node v20.20.2 · tfjs-node skipped: not installed"
 */
export async function describeBackend(requested?: BackendName | "auto"): Promise<string> {
  const info = await initBackend(requested);
  if (info.nativeFrom) {
    // Say only what is true: start tfjs-node now (as the first big run would) and stay on the current backend.
    const before = tf.getBackend();
    if (await startNative(info)) await tf.setBackend(before);
  }
  return formatBackend(info);
}

/**
 * Format a `BackendInfo` as the one-line description.
 * @example formatBackend(info); // "backend cpu · tfjs 4.22.0 · Node v20.20.2"
 */
export function formatBackend(info: BackendInfo): string {
  const named = (name: string, detail: string) => `${name}${detail ? ` (${detail})` : ""}`;
  const parts = [
    info.nativeFrom
      ? `backend ${named(info.name, info.detail)} for training steps under ${info.nativeFrom.minMultiplyAdds.toLocaleString("en-US")} multiply-adds, ` +
        named("tfjs-node", info.nativeFrom.detail) + " from there"
      : `backend ${named(info.name, info.detail)}`,
    `tfjs ${info.tfjsVersion}`,
    `Node ${info.nodeVersion}`,
  ];
  for (const skip of info.skipped) parts.push(`${skip.name} skipped: ${skip.reason}`);
  return parts.join(" · ");
}

/**
 * Multiply-adds of one training step's forward products for a net of these layer sizes (the backward pass does
 * about twice as many more, in the same proportion), the measure `NATIVE_MIN_MULTIPLY_ADDS` is in.
 * @example stepMultiplyAdds([784, 10], 16); // 125600
 */
export function stepMultiplyAdds(layers: readonly number[], batchSize: number): number {
  let total = 0;
  for (let k = 1; k < layers.length; k++) total += (layers[k - 1]! + 1) * layers[k]!;
  return total * batchSize;
}

/**
 * The backend a training run of this size uses, made current: under "auto" with both tfjs-node and wasm
 * started, tfjs-node from `NATIVE_MIN_MULTIPLY_ADDS` per step and wasm below; otherwise the one backend chosen.
 * Tensors made on the other backend (a model trained before) move over on first use, by tfjs itself.
 * @example const info = await backendForRun([784, 500, 10], 16); info.name; // "tfjs-node" where it is installed, else "wasm"
 */
export async function backendForRun(layers: readonly number[], batchSize: number): Promise<RunBackend> {
  const info = await initBackend();
  const big = info.nativeFrom !== undefined && stepMultiplyAdds(layers, batchSize) >= info.nativeFrom.minMultiplyAdds;
  const name: BackendName = big && (await startNative(info)) ? "tfjs-node" : info.name;
  if (tf.getBackend() !== TF_NAMES[name]) await tf.setBackend(TF_NAMES[name]);
  const { nativeFrom, ...single } = info;
  const ran = name === info.name ? single : { ...single, name, tfName: TF_NAMES[name], detail: nativeFrom!.detail, engine: null };
  const engine = name === "wasm" && info.engine ? createEngine(info.engine) : null;
  const split = stepMultiplyAdds(layers, batchSize) >= WASM_THREADS_MIN_MULTIPLY_ADDS;
  return { ...ran, route: engine ? { engine, split } : { engine: null } };
}

/**
 * Where a network (conv2d, pooling… layers) trains: always on the engine, whatever TensorFlow.js's backend is (the
 * engine does not use it), with the options `initBackend` chose on wasm or the defaults elsewhere; big steps
 * (`multiplyAddsPerStep`) split their products over the engine's threads.
 * @example const { route } = await backendForNetwork(289_000 * 64); route.engine?.kernelsLine; // "native AVX2"
 */
export async function backendForNetwork(multiplyAddsPerStep: number): Promise<RunBackend> {
  const info = await initBackend();
  const options = info.engine ?? { native: environment().nativeKernels, threads: engineThreads() };
  const engine = createEngine(options);
  const { nativeFrom: _nativeFrom, ...single } = info;
  const detail = info.engine ? info.detail : `SIMD, ${options.threads} thread${options.threads > 1 ? "s" : ""}, kernels ${engine.kernelsLine}`;
  return { ...single, name: "wasm", tfName: "wasm", detail, engine: options, route: { engine, split: multiplyAddsPerStep >= WASM_THREADS_MIN_MULTIPLY_ADDS } };
}

/**
 * Where a model TensorFlow.js trains runs (one with a layer, activation or setting the engine lacks): tfjs-node
 * where it is installed and starts (it has every kernel); else TensorFlow.js's wasm backend when it registers every
 * kernel the model's training step runs (`kernels`, recorded on the cpu backend); else the cpu backend (pure
 * JavaScript: slow), with a note naming the layer and kernel wasm lacks (`whoNeeds`) and how to build tfjs-node.
 * Throws, naming the cause, when not even the cpu backend can run the step.
 * @example const backend = await backendForTfjs(() => trainingKernels(model, read), (kernel) => layerNeeding(model, kernel));
 */
export async function backendForTfjs(
  kernels: () => Promise<string[]>, whoNeeds: (kernel: string) => Promise<string | null>,
): Promise<RunBackend & { notRepeatable?: string }> {
  const info = await initBackend();
  const { nativeFrom: _nativeFrom, ...single } = info;
  const ran = (name: BackendName, detail: string, notRepeatable?: string): RunBackend & { notRepeatable?: string } => ({
    ...single, name, tfName: TF_NAMES[name], detail, engine: null, route: { engine: null }, ...(notRepeatable ? { notRepeatable } : {}),
  });
  if (info.name === "tfjs-node" || (info.nativeFrom && (await startNative(info)))) {
    if (tf.getBackend() !== TF_NAMES["tfjs-node"]) await tf.setBackend(TF_NAMES["tfjs-node"]);
    const threads = environment().tfIntraOpThreads ?? 1;
    const notRepeatable = threads > 1
      ? `trained by tfjs-node on ${threads} intra-op threads, whose kernels may add in another order each time: retraining may differ in the last bits`
      : undefined;
    // oneDNN picks its code by the CPU's instructions: the CPU is part of what decides the numbers.
    return ran("tfjs-node", `${describeDetail("tfjs-node")}, ${cpus()[0]?.model.trim() ?? "unknown CPU"}`, notRepeatable);
  }
  if (tf.getBackend() !== "cpu") await tf.setBackend("cpu");
  quietCpu();
  let needed: string[];
  try {
    needed = await kernels();
  } catch (error) {
    throw new Error(`TensorFlow.js cannot train this model on its cpu backend: ${(error as Error).message}; tfjs-node (${howToInstall("tfjs-node")}) has every TensorFlow kernel`, { cause: error });
  }
  if (info.name === "wasm") {
    const missing = needed.filter((kernel) => !tf.getKernel(kernel, "wasm"));
    if (missing.length === 0) {
      await tf.setBackend("wasm");
      return ran("wasm", `${describeDetail("wasm")}, TensorFlow.js's own kernels`);
    }
    const who = await whoNeeds(missing[0]!);
    noteOnce(`${who ?? "this model"} needs kernel ${missing[0]}${missing.length > 1 ? ` (and ${missing.slice(1).join(", ")})` : ""}, which TensorFlow.js's wasm backend lacks: ` +
      `its cpu backend trains it (pure JavaScript, slow); ${howToInstall("tfjs-node")} (every kernel, native)`);
  }
  return ran("cpu", describeDetail("cpu"));
}

/**
 * Run `body` on TensorFlow.js's cpu backend, then switch back, synchronously (both backends are set up, so
 * `tf.setBackend` completes at once): for numbers that must not depend on the backend, such as initialisers that
 * run a QR decomposition (the orthogonal initialiser of recurrent layers), whose last bits differ by backend.
 * @example const copy = onCpuBackend(() => seededCopy(model, 0));
 */
export function onCpuBackend<T>(body: () => T): T {
  const before = tf.getBackend();
  if (before === "cpu") return body();
  void tf.setBackend("cpu");
  if (tf.getBackend() !== "cpu") throw new Error("onCpuBackend: TensorFlow.js's cpu backend did not start at once");
  quietCpu();
  try {
    return body();
  } finally {
    if (before) void tf.setBackend(before);
  }
}

/**
 * Use the (current) cpu backend once with TensorFlow.js's PROD flag set: its first tensor would print an advert for
 * tfjs-node on stderr, in the kernel and in each worker, when the library only visits it (the library's own note
 * says when tfjs-node would matter).
 */
function quietCpu(): void {
  const prod = tf.env().getBool("PROD");
  tf.env().set("PROD", true);
  try {
    tf.tensor([0]).dispose();
  } finally {
    tf.env().set("PROD", prod);
  }
}

const noted = new Set<string>();

/** Say `line` once per process (on stderr, which notebooks show under the cell). */
function noteOnce(line: string): void {
  if (noted.has(line)) return;
  noted.add(line);
  console.warn(`train: ${line}`);
}

/**
 * The engine networks predict on (the one they train on).
 * @example networkEngine().predictNetwork(spec, numbers, scaling, images, 500);
 */
export function networkEngine(): Engine {
  return createEngine(resolved?.engine ?? { native: environment().nativeKernels, threads: engineThreads() });
}

/**
 * The backend a training run uses, and where its steps run: on the engine (its big products split over the
 * engine's threads when `split`), or as TensorFlow.js tensor ops.
 * @example const { name, route } = await backendForRun([784, 10], 16); route.engine?.kernelsLine; // "native AVX2"
 */
export interface RunBackend extends BackendInfo {
  route: { engine: Engine; split: boolean } | { engine: null };
}

/**
 * The engine that runs forward passes now, or null: on wasm (TensorFlow.js's current backend, as after
 * `backendForRun`), the engine `initBackend` set up; elsewhere the tensor route runs them, as it trains.
 * @example const engine = predictionEngine(); engine ? engine.predict(numbers, { bytes, count }, 1000) : forwardLogits(layers, batch);
 */
export function predictionEngine(): Engine | null {
  return resolved?.engine && tf.getBackend() === "wasm" ? createEngine(resolved.engine) : null;
}

/** Starting tfjs-node under "auto": null once it runs, else why it could not start. */
let nativeStart: Promise<string | null> | undefined;

/**
 * Start tfjs-node once per process (it becomes current) for an "auto" info whose `nativeFrom` promised it; true
 * when it runs. Where it cannot start, the info stops promising it and lists it as skipped, so later lines say
 * what runs.
 */
async function startNative(info: BackendInfo): Promise<boolean> {
  nativeStart ??= activate("tfjs-node").then(() => null, (error: unknown) => (error as Error).message.split("\n")[0] ?? "failed");
  const failure = await nativeStart;
  if (failure !== null && info.nativeFrom) {
    delete info.nativeFrom;
    info.skipped.push({ name: "tfjs-node", reason: failure });
  }
  return failure === null;
}

async function choose(requested: BackendName | "auto"): Promise<BackendInfo> {
  if (requested === "auto" && installed("@tensorflow/tfjs-node")) {
    const info = await choose("wasm").catch(() => null);
    // The detail tfjs-node will have: its thread settings are fixed here, before it loads.
    oneTensorFlowThread();
    if (info) return { ...info, requested, nativeFrom: { minMultiplyAdds: NATIVE_MIN_MULTIPLY_ADDS, detail: describeDetail("tfjs-node") } };
  }
  const order: readonly BackendName[] = requested === "auto" ? BACKENDS : [requested];
  const skipped: BackendInfo["skipped"] = [];
  for (const name of order) {
    try {
      const detail = await activate(name);
      return { name, tfName: TF_NAMES[name], requested, skipped, tfjsVersion: tf.version.tfjs, nodeVersion: process.version, detail, engine: null };
    } catch (error) {
      const reason = (error as Error).message.split("\n")[0] ?? "failed";
      if (requested !== "auto") {
        const how = reason === NOT_INSTALLED ? howToInstall(name) : "";
        throw new Error(`backend ${name}: requested (argument or MIE_BACKEND) but could not start: ${reason}${how ? ` (${how})` : ""}`);
      }
      skipped.push({ name, reason });
    }
  }
  throw new Error(`no TensorFlow.js backend could start: ${skipped.map((s) => `${s.name}: ${s.reason}`).join("; ")}`);
}

/**
 * On wasm, training runs on the engine: its kernels native where `npm run build` compiled them (the same bits,
 * wider registers) unless `MIE_NATIVE_KERNELS=off` keeps them in WebAssembly (as on a machine with no C
 * compiler), and its big products on `engineThreads()` threads. The detail says which, or why the native kernels
 * are missing; with them, tfjs-node's line under "auto" moves up to `NATIVE_MIN_MULTIPLY_ADDS_WITH_NATIVE_PRODUCTS`.
 */
function withEngine(info: BackendInfo): BackendInfo {
  if (info.name !== "wasm") return info;
  const options: EngineOptions = { native: environment().nativeKernels, threads: engineThreads() };
  const engine = createEngine(options);
  const kernels = options.native ? `kernels ${engine.kernelsLine}` : "kernels in wasm (MIE_NATIVE_KERNELS=off)";
  const threads = options.threads > 1
    ? `${options.threads} threads from ${WASM_THREADS_MIN_MULTIPLY_ADDS.toLocaleString("en-US")} multiply-adds per step`
    : "1 thread";
  const nativeKernels = engine.kernelsLine.startsWith("native");
  const nativeFrom = info.nativeFrom && nativeKernels ? { ...info.nativeFrom, minMultiplyAdds: NATIVE_MIN_MULTIPLY_ADDS_WITH_NATIVE_PRODUCTS } : info.nativeFrom;
  return { ...info, detail: `${info.detail}, ${threads}, ${kernels}`, engine: options, ...(nativeFrom ? { nativeFrom } : {}) };
}

/** Register (if needed) and switch to a backend; returns a short detail string or throws why it cannot. */
async function activate(name: BackendName): Promise<string> {
  if (name === "tfjs-node") {
    shimNodeUtil();
    oneTensorFlowThread();
    requireOptional("@tensorflow/tfjs-node");
  } else if (name === "wasm") {
    requireOptional("@tensorflow/tfjs-backend-wasm");
  }
  await withoutNewProcessHandlers(async () => {
    const ok = await tf.setBackend(TF_NAMES[name]);
    if (!ok || tf.getBackend() !== TF_NAMES[name]) {
      throw new Error(`tf.setBackend("${TF_NAMES[name]}") did not take effect`);
    }
    await tf.ready();
  });
  return describeDetail(name);
}

const PROCESS_EVENTS = ["uncaughtException", "unhandledRejection"] as const;

/**
 * Run `body`, then remove the process-wide error handlers it added. The wasm backend's Emscripten glue installs
 * handlers that re-throw every uncaught error from inside its own minified file, so Node printed a 30 KB line of
 * glue code before the user's message; without them Node reports errors as usual.
 */
async function withoutNewProcessHandlers(body: () => Promise<void>): Promise<void> {
  // Node's typings overload listeners() per event name; the loop only compares and removes the functions.
  const listeners = (event: string): ((...args: unknown[]) => void)[] =>
    (process.listeners as (name: string) => ((...args: unknown[]) => void)[])(event);
  const before = new Map(PROCESS_EVENTS.map((event) => [event, new Set(listeners(event))]));
  try {
    await body();
  } finally {
    for (const event of PROCESS_EVENTS) {
      for (const listener of listeners(event)) {
        if (!before.get(event)!.has(listener)) process.removeListener(event, listener);
      }
    }
  }
}

function describeDetail(name: BackendName): string {
  if (name === "wasm") return tf.env().getBool("WASM_HAS_SIMD_SUPPORT") ? "SIMD" : "no SIMD";
  if (name === "tfjs-node") {
    const threads = environment().tfIntraOpThreads ?? 1;
    return `libtensorflow, ${threads} intra-op thread${threads === 1 ? "" : "s"}`;
  }
  return "pure JavaScript, 1 thread";
}

/**
 * The threads a big training run on the engine uses: `MIE_WASM_THREADS`, by default 2 where there are two cores, in
 * the main thread only, under Node and Deno alike (the worker pool already gives each run of a sweep its own core). Two, not every core: a
 * step's products are a few hundred rows, measured on two (docs/performance.md, "Both cores on one run, on wasm").
 */
function engineThreads(): number {
  const wanted = environment().threads;
  return isMainThread ? Math.min(wanted ?? 2, availableParallelism()) : 1;
}

/**
 * One TensorFlow thread unless the user set TF_NUM_INTRAOP_THREADS / TF_NUM_INTEROP_THREADS (read once, when
 * libtensorflow starts). Measured on our 2-core machines: one thread trained every benchmark configuration
 * faster than TensorFlow's default (a thread per core), 1.3–2× on the small ones, where handing each small op to
 * a thread pool costs more than it saves; and the worker pool already runs one training run per core.
 */
function oneTensorFlowThread(): void {
  setDefaultVariables({ TF_NUM_INTRAOP_THREADS: "1", TF_NUM_INTEROP_THREADS: "1" });
}

/**
 * tfjs-node 4.22 calls `util.isNullOrUndefined`, which Node 23 removed; put it back before loading it.
 * Harmless on older Node, where the function still exists.
 */
function shimNodeUtil(): void {
  const nodeUtil = util as unknown as Record<string, unknown>;
  if (typeof nodeUtil.isNullOrUndefined !== "function") {
    try {
      nodeUtil.isNullOrUndefined = (value: unknown) => value === null || value === undefined;
    } catch {
      // An ESM namespace is frozen; the CommonJS module object that tfjs-node requires is patched below.
    }
    const cjsUtil = require("node:util") as Record<string, unknown>;
    if (typeof cjsUtil.isNullOrUndefined !== "function") {
      cjsUtil.isNullOrUndefined = (value: unknown) => value === null || value === undefined;
    }
  }
}

/** Whether a package is installed (resolvable), without loading it. */
function installed(pkg: string): boolean {
  try {
    require.resolve(pkg);
    return true;
  } catch {
    return false;
  }
}

/** Why an optional backend package did not load when it is simply absent; under auto the backend line says just this. */
const NOT_INSTALLED = "not installed";

/**
 * How to install a backend's package, for an explicit request that found it missing. tfjs-node is no dependency of
 * the project (1.1 GB built; no notebook needs it): `npm run native` builds it here; a folder of one's own installs
 * it from the registry, at the version of @tensorflow/tfjs it must match.
 */
function howToInstall(name: BackendName): string {
  return name === "tfjs-node"
    ? `in this project \`npm run native\` builds it; elsewhere \`npm install @tensorflow/tfjs-node@${tf.version.tfjs}\``
    : "";
}

function requireOptional(pkg: string): void {
  try {
    require(pkg);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "MODULE_NOT_FOUND" && String((error as Error).message).includes(`'${pkg}'`)) {
      throw new Error(NOT_INSTALLED);
    }
    throw error;
  }
}
