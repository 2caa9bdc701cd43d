/**
 * A run's key in the run store: the sha256 of everything that decides its numbers, and nothing else (not its
 * label, not the callbacks). Its parts, written as canonical JSON (keys sorted) before hashing:
 *
 * - `settings`: the resolved training settings (optimizer, lr, momentum, batch size, epochs, shuffling and its
 *   seed, lr schedule, evaluate, evalEvery, evalOn, early stopping and a range test's rates where set), every default filled in;
 * - `model`: `{ layers, init, seed }` for a fresh seeded model (a `RunSpec`, or an untrained `mlp(...)`), else
 *   the sha256 of its current weights and its trained step count (`modelFromWeights`, `resume`);
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
import { ARITHMETIC_VERSION } from "../model/arithmetic";
import type { Model } from "../model/model";
import { initBackend, stepMultiplyAdds, type BackendInfo } from "../train/backend";
import type { TrainSettings } from "../train/settings";

/** What a run's key is made of (see the module comment). */
export interface KeyParts {
  settings: Omit<TrainSettings, "label" | "resume" | "earlyStopping" | "lrRange"> & Partial<Pick<TrainSettings, "earlyStopping" | "lrRange">>;
  model: { layers: number[]; init: string; seed: number } | { layers: number[]; weights: string; trainedSteps: number };
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
  const { label: _label, resume: _resume, earlyStopping, lrRange, ...numeric } = settings as TrainSettings;
  return {
    // A run without early stopping or a range test keeps the key it had before they existed (its entry stays valid).
    settings: { ...numeric, ...(earlyStopping ? { earlyStopping } : {}), ...(lrRange ? { lrRange } : {}) }, model, data: dataFingerprint(data), backend: backend.name, detail: arithmeticDetail(backend),
    arithmetic: ARITHMETIC_VERSION, tfjs: tf.version.tfjs,
  };
}

/**
 * The part of a backend's detail that decides a run's numbers: on wasm, SIMD or not, not its threads (two threads
 * split each product by output rows and give the same bits: test/gemm-team.test.ts, test/wasm-threads.test.ts);
 * elsewhere all of it.
 * @example arithmeticDetail({ name: "wasm", detail: "SIMD, 2 threads from 3,000,000 multiply-adds per step" }); // "SIMD"
 */
export function arithmeticDetail(backend: { name: string; detail: string }): string {
  return backend.name === "wasm" ? backend.detail.split(",")[0]!.trim() : backend.detail;
}

/**
 * How a model enters a key: layers, init and seed for a fresh seeded one (so `train(mlp(layers, { seed }))` and
 * `trainAll([{ layers, seed }])` share an entry); the sha256 of its weights and its step count otherwise.
 * @example modelPart(mlp([784, 10], { seed: 3 })); // { layers: [784, 10], init: "torch", seed: 3 }
 */
export function modelPart(model: Model): KeyParts["model"] {
  const layers = [...model.layers];
  if (model.init !== "custom" && model.trainedSteps === 0) return { layers, init: model.init, seed: model.seed };
  const hash = createHash("sha256");
  for (let k = 0; k < layers.length - 1; k++) {
    const { kernel, bias } = model.weights(k);
    hash.update(bytesOf(kernel)).update(bytesOf(bias));
  }
  return { layers, weights: hash.digest("hex"), trainedSteps: model.trainedSteps };
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
 * @example (await plannedBackend([784, 10], 16)).name; // "wasm" under auto
 */
export async function plannedBackend(layers: readonly number[], batchSize: number): Promise<{ name: string; detail: string }> {
  const info = await initBackend();
  const big = info.nativeFrom !== undefined && stepMultiplyAdds(layers, batchSize) >= info.nativeFrom.minMultiplyAdds;
  return big ? { name: "tfjs-node", detail: info.nativeFrom!.detail } : { name: info.name, detail: info.detail };
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
