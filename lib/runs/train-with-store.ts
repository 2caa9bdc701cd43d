/**
 * The run store, as `train`, `trainAll` and `compare` use it: before a run trains, its key (`run-key.ts`) is looked
 * up in the store folder (`saved/run-store.ts`); a hit is the run itself (runs are deterministic), returned with
 * its trained model and marked `run.stored`; a miss trains and is written as soon as it finishes, so a kernel that
 * dies mid-sweep keeps every finished run.
 *
 * Where: `MIE_RUNS` or the `store` option: a folder, "off", "fresh" (retrain everything, and store the new
 * results) or "fresh:FOLDER" (the same, in that folder). Default: `.mie-runs/` in the project (the nearest folder
 * above the kernel's working folder with a package.json), else beside the notebook. Off by default under
 * `node --test`, so tests train unless they ask.
 */
import { appendFileSync, existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { Dataset } from "../data/data";
import { Model } from "../model/model";
import { NetworkModel } from "../model/network-model";
import { isNetworkSnapshot, restoreModel, restoreNetwork } from "../model/snapshot";
import { readStoredRun, writeStoredRun, type StoredRun } from "../saved/run-store";
import { initBackend } from "../engine/backend";
import { evaluationSplits } from "../train/evaluations";
import { defaultLabel, describeValue, resolveSettings, type TrainOptions, type TrainSettings } from "../train/settings";
import type { Progress } from "../train/progress";
import { checkDataset, checkRunFits } from "../train/checks";
import { fitLayers, train as trainNow, trainable, type AnyRun, type Run, type TrainableModel } from "../train/loop";
import type * as tf from "@tensorflow/tfjs";
import { arithmeticDetail, backendDetail, keyParts, modelPart, plannedBackend, plannedTfjsBackend, runKey, type KeyParts } from "./run-key";
import { environment, type Environment } from "../config/environment";

/**
 * Where runs are stored: a folder, "off" (no store), "fresh" (train every run again and store it: in the folder
 * `MIE_RUNS` names, if it names one, else the default folder), or "fresh:FOLDER" (train every run again and store it
 * in FOLDER). Default: the environment variable `MIE_RUNS`, else `.mie-runs/` in the project.
 * @example const store: StoreSetting = "fresh"; await compare({ layers: [784, 10] }, { lr: [0.1, 0.5] }, data, { store });
 */
export type StoreSetting = "off" | "fresh" | (string & {});

/**
 * `train`'s options with the store's: `store` says where runs are kept (see `StoreSetting`).
 * @example const options: StoredTrainOptions = { lr: 0.5, store: "off" }; await train(mlp([784, 10]), data, options);
 */
export interface StoredTrainOptions extends TrainOptions {
  store?: StoreSetting;
}

/** A store in use: its folder, and whether to retrain instead of reading it. */
export interface RunStore {
  folder: string;
  fresh: boolean;
}

/** Everything the store needs to look up and then write one run. */
export interface StoreLookup {
  parts: KeyParts;
  key: string;
  hit: StoredRun | null;
}

/**
 * The folder runs are stored in for this setting (default: `MIE_RUNS`, else the project's `.mie-runs/`), or null
 * when the store is off.
 * @example runStoreFolder(); // "/home/me/model-improvement-experiments/.mie-runs"
 */
export function runStoreFolder(setting?: StoreSetting): string | null {
  return resolveStore(setting, "runStoreFolder")?.folder ?? null;
}

/**
 * The store a call uses: its option, else `MIE_RUNS`, else the default folder (off under `node --test`); null when
 * off. "fresh" retrains into the folder `MIE_RUNS` names (a folder or "fresh:FOLDER"), else the default folder.
 * `settings` holds `MIE_RUNS` and whether this runs under test, as the entry point read them (by default, now).
 * @example resolveStore("fresh", "train"); // { folder: ".../.mie-runs", fresh: true }
 * @example resolveStore("fresh", "train", { runs: "/data/runs", underTest: false }); // { folder: "/data/runs", fresh: true }
 */
export function resolveStore(
  setting: StoreSetting | undefined, where: string, settings: Pick<Environment, "runs" | "underTest"> = environment(),
): RunStore | null {
  const fromEnv = settings.runs;
  const name = setting !== undefined ? `${where}: store` : "MIE_RUNS";
  const value = setting ?? fromEnv ?? (settings.underTest ? "off" : "");
  const expected = `expected a folder, "off", "fresh" or "fresh:FOLDER"`;
  if (typeof value !== "string") throw new TypeError(`${name}: ${expected}, got ${describeValue(value)}`);
  if (value === "off") return null;
  if (value === "fresh") return { folder: namedFolder(fromEnv) ?? defaultFolder(), fresh: true };
  if (value.startsWith("fresh:")) {
    const folder = namedFolder(value);
    if (folder === null) throw new RangeError(`${name}: ${expected}, got "fresh:" with no folder after it`);
    return { folder, fresh: true };
  }
  if (setting === "") throw new RangeError(`${name}: ${expected}, got an empty string`);
  return { folder: value === "" ? defaultFolder() : resolve(value), fresh: false };
}

/** The folder a store setting names ("FOLDER" or "fresh:FOLDER", resolved), or null ("off", "fresh", unset). */
function namedFolder(setting: string | undefined): string | null {
  if (setting === undefined || setting === "" || setting === "off" || setting === "fresh") return null;
  const folder = setting.startsWith("fresh:") ? setting.slice("fresh:".length) : setting;
  return folder === "" ? null : resolve(folder);
}

/**
 * Look a run up: its key (with the backend its size will train on) and the stored run, if any. A damaged entry
 * is reported on stderr by name and counts as a miss (the run trains and replaces it).
 * @example const { hit } = await lookUp(store, settings, { layers: [784, 10], init: "torch", seed: 0 }, data, "lr 0.5");
 */
export async function lookUp(
  store: RunStore, settings: Omit<TrainSettings, "label">, model: KeyParts["model"], data: Dataset, label: string, tfjsNet?: NetworkModel,
): Promise<StoreLookup> {
  // A network TensorFlow.js trains: the backend (and its detail) it will train on, as the loop will choose it.
  const backend = tfjsNet ? await plannedTfjsBackend(tfjsNet) : await plannedBackend("network" in model ? "network" : model.layers, settings.batchSize);
  const parts = keyParts(settings, model, data, backend);
  const key = runKey(parts);
  if (store.fresh) return { parts, key, hit: null };
  try {
    return { parts, key, hit: await readStoredRun(store.folder, key) };
  } catch (error) {
    console.warn(`run store: "${label}": ${(error as Error).message}; not loaded, training the run again`);
    return { parts, key, hit: null };
  }
}

/**
 * Write a run that just trained under the key of the backend it actually used. A store that cannot be written
 * (a full disk, a read-only folder) is reported on stderr and the run is returned all the same.
 * @example await storeRun(store, lookup, run);
 */
export async function storeRun(store: RunStore, lookup: StoreLookup, run: AnyRun): Promise<void> {
  const info = await initBackend();
  // A network TensorFlow.js trained ran where `plannedTfjsBackend` planned (the same choice, made the same way).
  const tfjs = run.model instanceof NetworkModel && run.model.trainer === "tfjs" && run.backend === lookup.parts.backend;
  const parts = tfjs ? lookup.parts : { ...lookup.parts, backend: run.backend, detail: arithmeticDetail({ name: run.backend, detail: backendDetail(info, run.backend) }) };
  try {
    await writeStoredRun(store.folder, runKey(parts), run, parts);
  } catch (error) {
    console.warn(`run store: "${run.label}" trained but could not be stored in ${store.folder}: ${(error as Error).message}`);
  }
}

/**
 * A stored run as `train` returns it: relabelled, with `settings` as requested, its model rebuilt (into `into`
 * when given, e.g. the model the caller passed to `train`), and marked `stored`.
 * @example const run = storedRun(lookup.hit!, settings, "lr 0.5");
 */
export function storedRun(hit: StoredRun, settings: Omit<TrainSettings, "label">, label: string, into?: Model | NetworkModel): AnyRun {
  const model = isNetworkSnapshot(hit.model)
    ? restoreNetwork(hit.model, into instanceof NetworkModel ? into : undefined)
    : restoreModel(hit.model, into instanceof Model ? into : undefined);
  return { ...hit.run, label, settings: { ...settings, label }, init: model.init, seed: model.seed, model, stored: hit.mark };
}

/**
 * The one progress report of a stored run: done, with its whole curve, its test accuracy and its `stored` mark.
 * A sweep also sends it for each run it just trained, once that run's accuracy is measured.
 * @example onProgress?.(storedProgress(run, data));
 */
export function storedProgress(run: AnyRun, data: Dataset): Progress {
  const { batchSize, epochs, evalOn } = run.settings;
  const totalSteps = Math.ceil(evaluationSplits(data, evalOn).train.count / batchSize) * epochs;
  return {
    label: run.label, step: run.steps, totalSteps, batchSize, epoch: epochs, samplesSeen: run.samplesSeen, seconds: run.seconds,
    samplesPerSecond: run.samplesPerSecond, loss: run.finalLoss, losses: run.losses, diverged: run.diverged,
    ...(run.evaluations.length ? { evaluations: run.evaluations, evalSeconds: run.evalSeconds } : {}), done: true, stored: run.stored, accuracy: run.accuracy,
  };
}

/**
 * Note a finished run in the file `log` names (by default `MIE_RUNS_LOG`), one JSON line each (`npm run reports`
 * counts a report's stored runs from it and takes its best accuracy); nothing without it.
 * @example noteRun(run, environment().runsLog);
 */
export function noteRun(run: AnyRun, log: string | undefined = environment().runsLog): void {
  // accuracy is NaN for a diverged run, which JSON writes as null.
  if (log) appendFileSync(log, `${JSON.stringify({ label: run.label, stored: run.stored !== undefined, accuracy: run.accuracy, diverged: run.diverged !== null })}\n`);
}

/**
 * `train` (the training loop in `train/loop.ts`), reading the run store first: the same model, data and settings
 * on the same backend give the stored run, its model trained, in milliseconds (`run.stored` says when and where it
 * trained); otherwise it trains and stores the run. `options.store` chooses the store (see `StoreSetting`).
 * @example const run = await train(mlp([784, 10], { seed: 1 }), data, { lr: 0.5, onProgress: show.live("lr 0.5") }); run.stored; // set on a re-run
 */
export async function train(model: Model | (() => Model), data: Dataset, options?: StoredTrainOptions): Promise<Run>;
export async function train(model: NetworkModel | tf.LayersModel | (() => NetworkModel | tf.LayersModel), data: Dataset, options?: StoredTrainOptions): Promise<Run<NetworkModel>>;
export async function train(model: TrainableModel | (() => TrainableModel), data: Dataset, options?: StoredTrainOptions): Promise<AnyRun>;
export async function train(model: TrainableModel | (() => TrainableModel), data: Dataset, options: StoredTrainOptions = {}): Promise<AnyRun> {
  const { store: setting, ...trainOptions } = options;
  const env = environment(); // read here, once per call, and passed down
  const store = resolveStore(setting, "train", env);
  const noted = <R extends AnyRun>(run: R): R => {
    noteRun(run, env.runsLog);
    return run;
  };
  const given = typeof model === "function" ? model() : model;
  if (!store) return noted(await trainNow(given, data, trainOptions));
  const settings = resolveSettings(trainOptions);
  // Anything the loop would refuse goes to the loop, which throws its own named error.
  const net = storable(given, data, settings);
  if (!net) return noted(await trainNow(given, data, trainOptions));
  const label = trainOptions.label ?? defaultLabel(net, settings); // as the loop names it
  options.signal?.throwIfAborted();
  const lookup = await lookUp(store, settings, modelPart(net), data, label, net instanceof NetworkModel && net.trainer === "tfjs" ? net : undefined);
  if (lookup.hit) {
    const run = storedRun(lookup.hit, settings, label, net);
    options.onProgress?.(storedProgress(run, data));
    return noted(run);
  }
  const run = await trainNow(net, data, trainOptions);
  await storeRun(store, lookup, run);
  return noted(run);
}

/** The model as the loop will train it (a Layers model read as a network), if the loop would train it; else null. */
function storable(given: unknown, data: Dataset, settings: Omit<TrainSettings, "label">): Model | NetworkModel | null {
  try {
    const checked = checkDataset(data);
    const net = trainable(given, checked);
    if (!(net instanceof Model) && !(net instanceof NetworkModel)) return null;
    if (net.disposed || (net.trainedSteps > 0 && !settings.resume)) return null;
    if (net instanceof Model && (settings.augment || settings.normalize)) return null;
    checkRunFits(fitLayers(net), settings, checked);
    return net;
  } catch {
    return null;
  }
}

/** `.mie-runs/` in the nearest folder at or above the working folder with a package.json, else in the working folder. */
function defaultFolder(): string {
  const start = process.cwd();
  for (let folder = start; ; folder = dirname(folder)) {
    if (existsSync(join(folder, "package.json"))) return join(folder, ".mie-runs");
    if (dirname(folder) === folder) return join(start, ".mie-runs");
  }
}
