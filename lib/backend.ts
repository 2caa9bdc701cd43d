/**
 * The one place that decides which TensorFlow.js backend runs: native `tfjs-node` when it is installed and
 * loads, else WebAssembly, else the pure-JS `cpu` backend. The rest of lib imports only `@tensorflow/tfjs`.
 *
 * Override with `initBackend("wasm")` or the environment variable `MIE_BACKEND=tfjs-node|wasm|cpu`.
 */
import * as tf from "@tensorflow/tfjs";
import * as util from "node:util";

/** Our names for the backends, in order of preference. */
export const BACKENDS = ["tfjs-node", "wasm", "cpu"] as const;
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
}

const TF_NAMES: Record<BackendName, string> = { "tfjs-node": "tensorflow", wasm: "wasm", cpu: "cpu" };

let current: Promise<BackendInfo> | undefined;
let currentRequest: BackendName | "auto" | undefined;

/**
 * Choose and initialise the backend once per process; later calls with the same request return the same
 * answer. An explicit request that cannot be met throws rather than silently running something slower.
 * @example const info = await initBackend(); info.name; // "wasm" on machines without tfjs-node
 */
export function initBackend(requested?: BackendName | "auto"): Promise<BackendInfo> {
  const wanted = requested ?? backendFromEnv();
  if (current && (currentRequest === wanted || requested === undefined)) return current;
  currentRequest = wanted;
  current = choose(wanted);
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
  return formatBackend(await initBackend(requested));
}

/**
 * Format a `BackendInfo` as the one-line description.
 * @example formatBackend(info); // "backend cpu · tfjs 4.22.0 · Node v20.20.2"
 */
export function formatBackend(info: BackendInfo): string {
  const parts = [
    `backend ${info.name}${info.detail ? ` (${info.detail})` : ""}`,
    `tfjs ${info.tfjsVersion}`,
    `Node ${info.nodeVersion}`,
  ];
  for (const skip of info.skipped) parts.push(`${skip.name} skipped: ${skip.reason}`);
  return parts.join(" · ");
}

function backendFromEnv(): BackendName | "auto" {
  const raw = process.env.MIE_BACKEND;
  if (raw === undefined || raw === "" || raw === "auto") return "auto";
  if ((BACKENDS as readonly string[]).includes(raw)) return raw as BackendName;
  throw new RangeError(`MIE_BACKEND: expected one of auto, ${BACKENDS.join(", ")}; got "${raw}"`);
}

async function choose(requested: BackendName | "auto"): Promise<BackendInfo> {
  const order: readonly BackendName[] = requested === "auto" ? BACKENDS : [requested];
  const skipped: BackendInfo["skipped"] = [];
  for (const name of order) {
    try {
      const detail = await activate(name);
      return {
        name,
        tfName: TF_NAMES[name],
        requested,
        skipped,
        tfjsVersion: tf.version.tfjs,
        nodeVersion: process.version,
        detail,
      };
    } catch (error) {
      const reason = (error as Error).message.split("\n")[0] ?? "failed";
      if (requested !== "auto") {
        throw new Error(`backend ${name}: requested (argument or MIE_BACKEND) but could not start: ${reason}`);
      }
      skipped.push({ name, reason });
    }
  }
  throw new Error(`no TensorFlow.js backend could start: ${skipped.map((s) => `${s.name}: ${s.reason}`).join("; ")}`);
}

/** Register (if needed) and switch to a backend; returns a short detail string or throws why it cannot. */
async function activate(name: BackendName): Promise<string> {
  if (name === "tfjs-node") {
    shimNodeUtil();
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
  if (name === "wasm") {
    const simd = tf.env().getBool("WASM_HAS_SIMD_SUPPORT") ? "SIMD" : "no SIMD";
    const threads = tf.env().getBool("WASM_HAS_MULTITHREAD_SUPPORT") ? "multi-threaded" : "1 thread";
    return `${simd}, ${threads}`;
  }
  if (name === "tfjs-node") {
    const threads = process.env.TF_NUM_INTRAOP_THREADS;
    return threads ? `libtensorflow, ${threads} intra-op threads` : "libtensorflow";
  }
  return "pure JavaScript, 1 thread";
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

function requireOptional(pkg: string): void {
  try {
    require(pkg);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "MODULE_NOT_FOUND" && String((error as Error).message).includes(`'${pkg}'`)) {
      throw new Error("not installed");
    }
    throw error;
  }
}
