/**
 * A run's key in the run store: the sha256 of everything that decides its numbers, and nothing else (not its
 * label, not the callbacks). Its parts, written as canonical JSON (keys sorted) before hashing:
 *
 * - `settings`: the resolved training settings (optimizer, lr, momentum, batch size, epochs, shuffling and its
 *   seed, lr schedule, evaluate, evalEvery, evalOn, early stopping and a range test's rates where set), every default filled in;
 * - `model`: `{ layers, init, seed }` for a fresh seeded model (a `RunSpec`, or an untrained `mlp(...)`), else
 *   the sha256 of its current weights and its trained step count (`modelFromWeights`, `resume`); a network of
 *   tf.layers by its description, its Layers model's topology (without layer names, which only count how many
 *   layers the process made), the sha256 of its numbers (params and batch norm's statistics), init, seed, input
 *   scaling and trained step count (`networkPart`);
 * - `data`: `dataFingerprint`, the sha256 of both splits' bytes, sizes and the class count;
 * - `backend` and the part of its `detail` that decides numbers (`arithmeticDetail`: results differ by backend;
 *   under "auto" it is the backend the run's size picks);
 * - `arithmetic`: `ARITHMETIC_VERSION` (engine, optimizers, initialisers) and the TensorFlow.js version.
 *
 * Changing any one of them gives another key (test/run-key.test.ts), so the store misses and the run trains.
 */
import { createHash } from "node:crypto";
import * as tf from "@tensorflow/tfjs";
import type { Dataset, Split } from "../data/data";
import { ARITHMETIC_VERSION } from "../engine/arithmetic";
import type { NetworkNumbers, NetworkSpec } from "../engine/layers";
import type { InputScaling } from "../engine/network";
import type { Model } from "../model/model";
import { NetworkModel } from "../model/network-model";
import { backendForTfjs, initBackend, stepMultiplyAdds, type BackendInfo } from "../engine/backend";
import { layerNeeding, trainingKernels } from "../model/tfjs-route";
import type { TrainSettings } from "../train/settings";

/** What a run's key is made of (see the module comment). */
export interface KeyParts {
  settings: Omit<TrainSettings, "label" | "resume">;
  model: { layers: number[]; init: string; seed: number } | { layers: number[]; weights: string; trainedSteps: number } | NetworkKeyPart;
  data: string;
  backend: string;
  detail: string;
  arithmetic: number;
  tfjs: string;
}

/**
 * The key of a run made of these parts: 64 hex digits.
 * @example runKey(parts); // "9c1e…"
 */
export function runKey(parts: KeyParts): string {
  return createHash("sha256").update(canonicalJson(parts)).digest("hex");
}

/**
 * Every part of a run's key but the backend's, for a seeded model (`{ layers, init, seed }`) or a given one.
 * @example const parts = keyParts(settings, { layers: [784, 10], init: "torch", seed: 0 }, data, backend);
 */
export function keyParts(
  settings: Omit<TrainSettings, "label">, model: KeyParts["model"], data: Dataset, backend: { name: string; detail: string },
): KeyParts {
  const { label: _label, resume: _resume, ...all } = settings as TrainSettings;
  // Settings added after runs were first stored enter a key only when set, so those runs keep their keys.
  const numeric = Object.fromEntries(Object.entries(all).filter(([name, value]) => !(ADDED_SETTINGS.includes(name) && (value === null || value === undefined || value === 0)))) as KeyParts["settings"];
  return {
    settings: numeric, model, data: dataFingerprint(data), backend: backend.name, detail: arithmeticDetail(backend),
    arithmetic: ARITHMETIC_VERSION, tfjs: tf.version.tfjs,
  };
}

/** Settings that came after the store: weight decay 0 and no normalisation, augmentation, one-cycle schedule, early
 *  stopping or range test leave a key as it was (its entry stays valid). */
const ADDED_SETTINGS = ["weightDecay", "normalize", "augment", "oneCycle", "earlyStopping", "lrRange"];

/**
 * The part of a backend's detail that decides a run's numbers: on wasm, SIMD or not, not its threads (two threads
 * split each product by output rows and give the same bits: test/engine-team.test.ts, test/native-kernels.test.ts);
 * elsewhere all of it.
 * @example arithmeticDetail({ name: "wasm", detail: "SIMD, 2 threads from 3,000,000 multiply-adds per step" }); // "SIMD"
 */
export function arithmeticDetail(backend: { name: string; detail: string }): string {
  return backend.name === "wasm" ? backend.detail.split(",")[0]!.trim() : backend.detail;
}

/** How a network enters a key (`networkPart`). */
export interface NetworkKeyPart {
  network: NetworkSpec;
  topology: unknown;
  numbers: string;
  init: string;
  seed: number;
  scaling: InputScaling | null;
  trainedSteps: number;
}

/**
 * How a model enters a key: layers, init and seed for a fresh seeded one (so `train(mlp(layers, { seed }))` and
 * `trainAll([{ layers, seed }])` share an entry); the sha256 of its weights and its step count otherwise. A network
 * enters by `networkPart`.
 * @example modelPart(mlp([784, 10], { seed: 3 })); // { layers: [784, 10], init: "torch", seed: 3 }
 */
export function modelPart(model: Model | NetworkModel): KeyParts["model"] {
  if (model instanceof NetworkModel) {
    return networkPart({ ...model.numbers(), spec: model.spec, topology: model.topology, init: model.init, seed: model.seed, scaling: model.scaling, trainedSteps: model.trainedSteps });
  }
  const layers = [...model.layers];
  if (model.init !== "custom" && model.trainedSteps === 0) return { layers, init: model.init, seed: model.seed };
  const hash = createHash("sha256");
  for (let k = 0; k < layers.length - 1; k++) {
    const { kernel, bias } = model.weights(k);
    hash.update(bytesOf(kernel)).update(bytesOf(bias));
  }
  return { layers, weights: hash.digest("hex"), trainedSteps: model.trainedSteps };
}

/**
 * How a network enters a key: its description, its Layers model's topology with the layer and model names left out
 * (tfjs numbers them by how many layers the process has made: they change no number), the sha256 of its numbers
 * (every trained array, then batch norm's statistics, in order), its init, seed, input scaling and trained steps. A
 * `NetworkModel` and its snapshot (a `trainAll` spec) give the same part, so they share an entry.
 * @example networkPart({ ...snapshotNetwork(net) }).numbers; // "5be1…"
 */
export function networkPart(net: NetworkNumbers & {
  spec: NetworkSpec; topology: string; init: string; seed: number; scaling: InputScaling | null; trainedSteps: number;
}): NetworkKeyPart {
  const hash = createHash("sha256");
  for (const values of net.params) hash.update(bytesOf(values));
  hash.update("stats");
  for (const values of net.stats) hash.update(bytesOf(values));
  return {
    network: net.spec, topology: withoutNames(JSON.parse(net.topology)), numbers: hash.digest("hex"), init: net.init, seed: net.seed,
    scaling: net.scaling, trainedSteps: net.trainedSteps,
  };
}

/**
 * A Layers topology without its model's and layers' names. A Sequential's layers lose their names; a functional
 * model's names, which also wire its layers together (`inbound_nodes`, `input_layers`, `output_layers`), become
 * their layer's index, so the same graph built twice gives the same part.
 */
function withoutNames(topology: unknown): unknown {
  const model = topology as { class_name?: unknown; config?: { name?: unknown; layers?: { name?: unknown; config?: Record<string, unknown> }[] } };
  if (!model?.config || !Array.isArray(model.config.layers)) return topology;
  const { name: _name, layers, ...rest } = model.config;
  if (model.class_name !== "Sequential") {
    const index = new Map(layers.map((layer, k) => [String(layer.name ?? layer.config?.name), `layer ${k}`]));
    const renamed = (value: unknown): unknown =>
      typeof value === "string" ? index.get(value) ?? value
        : Array.isArray(value) ? value.map(renamed)
        : value && typeof value === "object" ? Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, renamed(inner)])) : value;
    return { ...model, config: renamed(rest) && { ...(renamed(rest) as object), layers: layers.map((layer) => renamed(layer)) } };
  }
  return {
    ...model,
    config: { ...rest, layers: layers.map((layer) => {
      const { name: _layerName, ...config } = layer.config ?? {};
      return { ...layer, config };
    }) },
  };
}

const fingerprints = new WeakMap<Dataset, string>();

/**
 * The sha256 of a dataset's bytes (images and labels of both splits, their sizes, the class count), computed once
 * per dataset object: about 0.1 s for all of MNIST (docs/run-store.md), then free.
 * @example dataFingerprint(data); // "5be1…"
 */
export function dataFingerprint(data: Dataset): string {
  let fingerprint = fingerprints.get(data);
  if (fingerprint === undefined) {
    const hash = createHash("sha256").update(`classes ${data.classes}\n`);
    for (const [name, split] of [["train", data.train], ["test", data.test]] as const) addSplit(hash, name, split);
    fingerprint = hash.digest("hex");
    fingerprints.set(data, fingerprint);
  }
  return fingerprint;
}

/**
 * The backend a run of this size will train on, without starting it: under "auto" with tfjs-node installed,
 * tfjs-node from `nativeFrom.minMultiplyAdds` per step (as `backendForRun` decides), otherwise the one backend.
 * A network of tf.layers (`"network"`) always trains on the engine ("wasm").
 * @example (await plannedBackend([784, 10], 16)).name; // "wasm" under auto
 */
export async function plannedBackend(layers: readonly number[] | "network", batchSize: number): Promise<{ name: string; detail: string }> {
  const info = await initBackend();
  // A network always trains on the engine, which `backendForNetwork` reports as "wasm".
  if (layers === "network") return { name: "wasm", detail: backendDetail(info, "wasm") };
  const big = info.nativeFrom !== undefined && stepMultiplyAdds(layers, batchSize) >= info.nativeFrom.minMultiplyAdds;
  return big ? { name: "tfjs-node", detail: info.nativeFrom!.detail } : { name: info.name, detail: info.detail };
}

/**
 * The backend a network TensorFlow.js trains will train on, and its detail (tfjs-node with its threads and the
 * CPU, whose instructions choose oneDNN's code; wasm; or cpu), chosen as the training loop chooses it.
 * @example (await plannedTfjsBackend(net)).name; // "tfjs-node" where it is installed
 */
export async function plannedTfjsBackend(net: NetworkModel): Promise<{ name: string; detail: string }> {
  const model = net.trainingModel();
  const { name, detail } = await backendForTfjs(() => trainingKernels(model, net.tfjsRead!), (kernel) => layerNeeding(model, kernel));
  return { name, detail };
}

/**
 * The detail of the backend a run reports it used, from the info `plannedBackend` read (they differ only when
 * tfjs-node was planned but could not start, and the run fell back).
 * @example backendDetail(await initBackend(), run.backend); // "SIMD, 1 thread"
 */
export function backendDetail(info: BackendInfo, name: string): string {
  if (name === info.name) return info.detail;
  return name === "tfjs-node" && info.nativeFrom ? info.nativeFrom.detail : "";
}

function addSplit(hash: ReturnType<typeof createHash>, name: string, split: Split): void {
  const pixels = split.count * split.rows * split.cols;
  hash.update(`${name} ${split.count} ${split.rows} ${split.cols}\n`);
  hash.update(split.images.subarray(0, pixels)).update(split.labels.subarray(0, split.count));
}

function bytesOf(values: Float32Array): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

/** JSON with every object's keys sorted, so equal parts always give equal text. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_, inner: unknown) =>
    inner && typeof inner === "object" && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : inner);
}
