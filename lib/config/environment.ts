/**
 * The library's settings from the environment: the only module that touches `process.env` (reads it, hands it to a
 * child process, sets libtensorflow's defaults; `test/architecture.test.ts` checks this). Each setting is parsed
 * when it is read, with an error that names the variable and what was expected; entry points (`initBackend`,
 * `train`, `trainAll`, `loadMnist`) read what they need once per call and pass it down as options.
 *
 * | variable | setting |
 * |---|---|
 * | MIE_BACKEND | `backend`: auto, tfjs-node, wasm or cpu |
 * | MIE_NATIVE_KERNELS (MIE_NATIVE_PRODUCTS, its old name) | `nativeKernels`: on or off |
 * | MIE_WASM_THREADS | `threads`: the engine's threads for one big run |
 * | MIE_RUNS, MIE_RUNS_LOG | `runs` (the run store), `runsLog` |
 * | MIE_WORKERS, MIE_WORKER_KIND, MIE_WORKER_IDLE_SECONDS | the sweep pool |
 * | MIE_CORES, MIE_MEMORY_BUDGET_MB, MIE_MEMORY_LIMIT_MB | what the pool is sized by |
 * | MIE_TRAIN_LIMIT, MIE_TEST_LIMIT | the first N images of each split |
 * | TF_NUM_INTRAOP_THREADS | tfjs-node's threads (read by libtensorflow itself) |
 */

type Env = Record<string, string | undefined>;

/**
 * The settings, parsed from `env` as each is read.
 * @example environment().backend; // "auto" unless MIE_BACKEND says otherwise
 */
export interface Environment {
  readonly backend: "auto" | "tfjs-node" | "wasm" | "cpu";
  readonly nativeKernels: boolean;
  /** Null: the default (two where there are two cores, in the main thread). */
  readonly threads: number | null;
  /** MIE_RUNS as written (undefined when unset or empty). */
  readonly runs: string | undefined;
  readonly runsLog: string | undefined;
  /** Whether this runs under `node --test` (the run store is off there unless asked for). */
  readonly underTest: boolean;
  readonly workers: number | undefined;
  readonly workerKind: "thread" | "process" | undefined;
  readonly workerIdleSeconds: number;
  readonly cores: number | undefined;
  readonly memoryBudgetMB: number | undefined;
  readonly memoryLimitMB: number | undefined;
  readonly trainLimit: number | undefined;
  readonly testLimit: number | undefined;
  readonly tfIntraOpThreads: number | undefined;
}

/**
 * The environment's settings (`env`: by default this process's).
 * @example const { backend, threads } = environment();
 */
export function environment(env: Env = process.env): Environment {
  const raw = (name: string): string | undefined => (env[name] === "" ? undefined : env[name]);
  const oneOf = <T extends string>(name: string, allowed: readonly T[], fallback: T): T => {
    const value = raw(name) ?? fallback;
    if (!(allowed as readonly string[]).includes(value)) throw new RangeError(`${name}: expected one of ${allowed.join(", ")}; got "${value}"`);
    return value as T;
  };
  const number = (name: string, expected: string, ok: (value: number) => boolean): number | undefined => {
    const text = raw(name);
    if (text === undefined) return undefined;
    const value = Number(text);
    if (!ok(value)) throw new RangeError(`${name}: expected ${expected}, got ${JSON.stringify(text)}`);
    return value;
  };
  const whole = (value: number) => Number.isInteger(value) && value >= 1;
  const positive = (value: number) => Number.isFinite(value) && value > 0;
  return {
    get backend() {
      return oneOf("MIE_BACKEND", ["auto", "tfjs-node", "wasm", "cpu"] as const, "auto");
    },
    get nativeKernels() {
      const name = raw("MIE_NATIVE_KERNELS") !== undefined ? "MIE_NATIVE_KERNELS" : "MIE_NATIVE_PRODUCTS";
      return oneOf(name, ["on", "off"] as const, "on") === "on";
    },
    get threads() {
      return number("MIE_WASM_THREADS", "a whole number ≥ 1", whole) ?? null;
    },
    get runs() {
      return raw("MIE_RUNS");
    },
    get runsLog() {
      return raw("MIE_RUNS_LOG");
    },
    get underTest() {
      return raw("NODE_TEST_CONTEXT") !== undefined;
    },
    get workers() {
      return number("MIE_WORKERS", "a positive integer number of workers", whole);
    },
    get workerKind() {
      return raw("MIE_WORKER_KIND") === undefined ? undefined : oneOf("MIE_WORKER_KIND", ["thread", "process"] as const, "thread");
    },
    get workerIdleSeconds() {
      return number("MIE_WORKER_IDLE_SECONDS", "a number of seconds ≥ 0", (value) => Number.isFinite(value) && value >= 0) ?? 60;
    },
    get cores() {
      return number("MIE_CORES", "a positive whole number of cores", whole);
    },
    get memoryBudgetMB() {
      return number("MIE_MEMORY_BUDGET_MB", "a positive number of megabytes", positive);
    },
    get memoryLimitMB() {
      return number("MIE_MEMORY_LIMIT_MB", "a positive number of megabytes", positive);
    },
    get trainLimit() {
      return number("MIE_TRAIN_LIMIT", "a positive integer number of images", whole);
    },
    get testLimit() {
      return number("MIE_TEST_LIMIT", "a positive integer number of images", whole);
    },
    get tfIntraOpThreads() {
      return number("TF_NUM_INTRAOP_THREADS", "a whole number ≥ 1", whole);
    },
  };
}

/**
 * This process's environment with `overrides`, for a child process. A child is a process of its own whose entry
 * point reads its settings with `environment()`, as every entry point does, so what it must do differently (one
 * engine thread in a pool worker) goes to it the same way.
 * @example fork(entry, [], { env: childEnvironment({ MIE_WASM_THREADS: "1" }) });
 */
export function childEnvironment(overrides: Env): Env {
  return { ...process.env, ...overrides };
}

/**
 * Give each variable that is unset or empty a default, for a library that reads its settings from the environment
 * only, once, when it starts (libtensorflow: `TF_NUM_INTRAOP_THREADS`). A value the user set is kept.
 * @example setDefaultVariables({ TF_NUM_INTRAOP_THREADS: "1", TF_NUM_INTEROP_THREADS: "1" });
 */
export function setDefaultVariables(defaults: Readonly<Record<string, string>>): void {
  for (const [name, value] of Object.entries(defaults)) process.env[name] ||= value;
}
