/**
 * A sweep: several independent runs, described as data, trained on every core. Every spec is checked before
 * the first run starts; then the runs train in a worker pool (`pool.ts`), or one after another in this thread
 * with `workers: 1`. Both give the same numbers, bit for bit. Ctrl-C (SIGINT, which is also how Jupyter
 * interrupts a kernel) stops the sweep and its workers.
 */
import type { Dataset } from "../data/data";
import { checkDataset, trainingImages, type CheckedDataset } from "../train/checks";
import { poolAvailable, trainInWorkers, type PoolOptions } from "./pool";
import { coreCount } from "./pool-size";
import type { Progress, SweepMember } from "../train/progress";
import { checkSpec, trainSpec, type AnyRunSpec, type CheckedSpec, type NetworkRunSpec, type RunSpec } from "./spec";
import { lookUp, noteRun, resolveStore, storedProgress, storedRun, storeRun, type RunStore, type StoreLookup, type StoreSetting } from "./train-with-store";
import type { AnyRun, Run } from "../train/loop";
import type { NetworkModel } from "../model/network-model";
import { networkPart } from "./run-key";
import { restoreNetwork } from "../model/snapshot";
import { classesOfOwn } from "../model/tfjs-route";
import { environment, type Environment } from "../config/environment";

/** Options of `trainAll` and `compare` (`R`: the runs they give, `Run` for MLPs, `Run<NetworkModel>` for networks). */
export interface SweepOptions<R extends AnyRun = Run> {
  /** Runs trained at once, each in its own worker. Default: the environment variable `MIE_WORKERS`, else the
   *  number of cores (`os.availableParallelism()`, or `MIE_CORES`), never more than the number of runs nor than fit
   *  in memory. 1 trains one after another in this thread. */
  workers?: number;
  /** Progress of every run in flight (its `label` says which), starting with a step-0 report as each run starts and
   *  ending with one `done` report that carries its test accuracy. */
  onProgress?: (progress: Progress) => void;
  /** Called as each run finishes (in the order they finish), e.g. to update a table. */
  onRun?: (run: R, index: number) => void;
  /** Stops the sweep when aborted: workers are terminated and the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** The run store: a folder, "off", "fresh" or "fresh:FOLDER" (see `StoreSetting`). Default: `MIE_RUNS`, else the project's `.mie-runs/`. */
  store?: StoreSetting;
}

/**
 * Train every spec on `data`, in parallel on all cores, and return the runs in the order of `specs`. Each run
 * gets a fresh model from its layers, init and seed (a network spec: a copy of its network's initial numbers, or
 * PyTorch's drawn from its `seed` with `init: "torch"`); the returned models are trained (usable with `predict`,
 * `show.weights`, ...). If a run fails, the error names its label, the other runs are stopped and the models
 * of the runs that finished are disposed. Runs already in the run store come from it (marked `run.stored`, one
 * progress report each with the whole curve); the others train, and each is stored as soon as it finishes.
 * @example const runs = await trainAll([0, 1, 2].map((seed) => ({ layers: [784, 10], batchSize: 1000, seed })), data);
 * @example const nets = await trainAll([0, 1].map((seed) => ({ model: tf.sequential({ layers: [tf.layers.flatten({ inputShape: [28, 28, 1] }), tf.layers.dense({ units: 10 })] }), init: "torch" as const, seed })), data);
 */
export async function trainAll(specs: readonly NetworkRunSpec[], data: Dataset, options?: SweepOptions<Run<NetworkModel>>): Promise<Run<NetworkModel>[]>;
export async function trainAll(specs: readonly RunSpec[], data: Dataset, options?: SweepOptions): Promise<Run[]>;
export async function trainAll(specs: readonly AnyRunSpec[], data: Dataset, options?: SweepOptions<AnyRun>): Promise<AnyRun[]>;
export async function trainAll(specs: readonly AnyRunSpec[], data: Dataset, options: SweepOptions<AnyRun> | SweepOptions | SweepOptions<Run<NetworkModel>> = {}): Promise<AnyRun[]> {
  if (!Array.isArray(specs) || specs.length === 0) {
    throw new RangeError(`trainAll: expected a non-empty array of runs such as [{ layers: [784, 10] }], got ${JSON.stringify(specs)}`);
  }
  const checkedData = checkDataset(data); // before the specs, so a bad dataset is not blamed on the first run
  // The overloads pair each kind of spec with its runs' callback.
  return trainAllChecked(specs.map((spec, i) => checkSpec(spec, checkedData, `specs[${i}]`)), checkedData, options as SweepOptions<AnyRun>);
}

/**
 * `trainAll` on specs and data already checked (`checkSpec`, `checkDataset`): what `trainAll` and `compare` call
 * once their inputs passed, so a sweep checks its dataset once. Only the labels' uniqueness is checked here.
 * @example const runs = await trainAllChecked([checkSpec({ layers: [784, 10] }, checked, "specs[0]")], checked);
 */
export async function trainAllChecked(specs: readonly CheckedSpec[], data: CheckedDataset, options: SweepOptions<AnyRun> = {}): Promise<AnyRun[]> {
  checkUniqueLabels(specs);
  const env = environment(); // read here, once per sweep, and passed down
  const requested = workerCount(options.workers, env);
  options.signal?.throwIfAborted();
  // Every report says how many runs the sweep has and what they are, so a live view can say "run 12 of 72",
  // estimate the rest, and lay out the sweep's landscape before its runs finish.
  const sweep: SweepMember[] = specs.map((spec) => ({
    label: spec.label, layers: [...spec.layers], init: spec.resolved.init, seed: spec.resolved.seed, settings: spec.resolved.settings,
  }));
  const tell = options.onProgress && ((p: Progress): void => options.onProgress!({ ...p, runsInSweep: specs.length, sweep }));
  // A run's last report comes from the sweep, once the run's test accuracy is measured (`onRun` below), so a live
  // view can fill in its cell: the loop's own `done` report is held back, and each run still ends with one.
  const onProgress = tell && ((p: Progress): void => {
    if (!p.done) tell(p);
  });
  const store = resolveStore(options.store, "trainAll", env);
  const lookups = store ? await Promise.all(specs.map((spec) => lookUpSpec(store, spec, data))) : [];
  const runs: AnyRun[] = [];
  lookups.forEach((lookup, index) => {
    if (!lookup.hit) return;
    const spec = specs[index]!;
    const run = storedRun(lookup.hit, spec.resolved.settings, spec.label);
    noteRun(run, env.runsLog);
    runs[index] = run;
    tell?.(storedProgress(run, data));
    options.onRun?.(run, index);
  });
  const missing = specs.map((_, index) => index).filter((index) => !lookups[index]?.hit);
  if (missing.length === 0) return runs;
  const specsToTrain = missing.map((index) => specs[index]!);
  const workers = Math.min(requested, specsToTrain.length);
  const writes: Promise<void>[] = [];
  const onStart = (index: number): void => onProgress?.(startProgress(specsToTrain[index]!, data));
  const onRun = (run: AnyRun, index: number): void => {
    const original = missing[index]!;
    if (store) writes.push(storeRun(store, lookups[original]!, run));
    noteRun(run, env.runsLog); // apart from the optional call below, whose arguments are skipped without a callback
    // The run's last word, now with its test accuracy: a live view fills in its cell of the landscape.
    try {
      tell?.(storedProgress(run, data));
    } catch (error) {
      throw new Error(`run "${run.label}": ${(error as Error).message}`, { cause: error });
    }
    options.onRun?.(run, original);
  };
  const own = [...new Set(specsToTrain.flatMap((spec) => (spec.network?.tfjs ? classesOfOwn(spec.network.tfjs) : [])))];
  // A layer class registered in this process only: a worker could not rebuild the model, so the runs stay here.
  if (workers > 1 && own.length > 0) {
    console.warn(`trainAll: these runs train one after another in this thread, not in workers: the layer class${own.length > 1 ? "es" : ""} ${own.join(", ")} ${own.length > 1 ? "are" : "is"} registered in this process only, and a worker could not rebuild the model`);
  }
  try {
    const trained = await interruptible(options.signal, (signal) =>
      workers > 1 && poolAvailable() && own.length === 0
        ? trainInWorkers(specsToTrain, data, { workers, signal, onProgress, onStart, onRun, env })
        : trainInThisThread(specsToTrain, data, { signal, onProgress, onStart, onRun }, () => Promise.all(writes)));
    trained.forEach((run, index) => (runs[missing[index]!] = run));
    return runs;
  } catch (error) {
    runs.forEach((run) => run?.model.dispose());
    throw error;
  } finally {
    await Promise.all(writes); // each reports its own failure; a run that finished is on disk before trainAll returns
  }
}

function lookUpSpec(store: RunStore, spec: CheckedSpec, data: Dataset): Promise<StoreLookup> {
  const { init, seed, settings } = spec.resolved;
  const model = spec.network ? networkPart(spec.network) : { layers: [...(spec.layers as number[])], init, seed };
  if (!spec.network?.tfjs) return lookUp(store, settings, model, data, spec.label);
  // A network TensorFlow.js trains: its backend is planned on the model, rebuilt from the spec's snapshot.
  const net = restoreNetwork(spec.network);
  return lookUp(store, settings, model, data, spec.label, net).finally(() => net.dispose());
}

/**
 * How many workers a sweep asks for: `requested`, else `MIE_WORKERS`, else the number of cores (`MIE_CORES`
 * overrides it), the last two from `settings` (by default this process's environment); the pool starts fewer
 * where memory is short (`pool-size.ts`).
 * @example workerCount(1); // 1
 */
export function workerCount(requested?: number, settings: Pick<Environment, "workers" | "cores"> = environment()): number {
  if (requested === undefined) return settings.workers ?? coreCount(settings.cores);
  if (!Number.isInteger(requested) || requested < 1) {
    throw new RangeError(`workers: expected a positive integer number of workers, got ${JSON.stringify(requested)}`);
  }
  return requested;
}

/**
 * The pool's contract, one run after another in this thread: the same results, failures and clean-up. `stored`
 * settles once the runs so far are in the store: awaited before the next run, whose synchronous steps would
 * otherwise hold the write back (and a kernel killed meanwhile would lose the run).
 */
async function trainInThisThread(
  specs: readonly CheckedSpec[], data: CheckedDataset, options: Omit<PoolOptions, "workers">, stored?: () => Promise<unknown>,
): Promise<AnyRun[]> {
  const { signal, onProgress } = options;
  const runs: AnyRun[] = [];
  try {
    for (const [index, spec] of specs.entries()) {
      options.onStart?.(index);
      const run = await trainSpec(spec, data, { onProgress, signal }).catch((error: unknown) => {
        throw signal?.aborted ? error : new Error(`run "${spec.label}": ${(error as Error).message}`, { cause: error });
      });
      runs.push(run);
      options.onRun?.(run, index);
      await stored?.();
    }
    return runs;
  } catch (error) {
    runs.forEach((run) => run.model.dispose());
    throw error;
  }
}

function checkUniqueLabels(specs: readonly { label: string }[]): void {
  const first = new Map<string, number>();
  specs.forEach(({ label }, i) => {
    const earlier = first.get(label);
    if (earlier !== undefined) {
      throw new RangeError(`trainAll: specs[${earlier}] and specs[${i}] are both labelled "${label}"; give each run its own label`);
    }
    first.set(label, i);
  });
}

/** The report of a run about to take its first step: it puts the run on the live chart in spec order. */
function startProgress(spec: CheckedSpec, data: Dataset): Progress {
  const { batchSize, epochs, evalOn } = spec.resolved.settings;
  const images = trainingImages(data, evalOn);
  return {
    label: spec.label, step: 0, totalSteps: Math.ceil(images / batchSize) * epochs, batchSize, epoch: 1,
    samplesSeen: 0, seconds: 0, samplesPerSecond: 0, loss: NaN, losses: new Float32Array(0), done: false,
  };
}

/** Run `work` with a signal that aborts with `outer` or on SIGINT (Ctrl-C, and how Jupyter interrupts a kernel). */
async function interruptible<T>(outer: AbortSignal | undefined, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  outer?.throwIfAborted();
  // tslab runs a cell's synchronous code with vm's breakOnSigint, which detaches SIGINT listeners meanwhile and then
  // restores Node's exit-on-SIGINT handler: a listener added during that code would leave the kernel to die on an
  // interrupt. Attach once that code has returned.
  await new Promise((resolve) => setImmediate(resolve));
  const stop = new AbortController();
  const onAbort = (): void => stop.abort(outer!.reason);
  const onSigint = (): void => {
    stop.abort(new Error("trainAll: interrupted (SIGINT)"));
    // Alone, this listener would keep Ctrl-C from ending a script: pass the signal on to Node's default handling.
    if (process.listenerCount("SIGINT") === 1) {
      process.removeListener("SIGINT", onSigint);
      process.kill(process.pid, "SIGINT");
    }
  };
  outer?.addEventListener("abort", onAbort, { once: true });
  process.on("SIGINT", onSigint);
  try {
    outer?.throwIfAborted();
    return await work(stop.signal);
  } finally {
    process.removeListener("SIGINT", onSigint);
    outer?.removeEventListener("abort", onAbort);
  }
}
