/**
 * Models saved in the TensorFlow.js Layers format: `model.json` (a Sequential of Dense layers, ReLU between them,
 * linear last) plus one weights file, which stock `tf.loadLayersModel` loads from disk (tfjs-node, `file://…`)
 * or over HTTP in a browser and runs with the same predictions. A network of tf.layers is saved as the Layers model
 * it is (TensorFlow.js writes its topology and weights, `tf.io.withSaveHandler`), with what the library needs to
 * resume it (its input scaling, steps, seed) in `userDefinedMetadata`.
 *
 * Written without tfjs: the format is plain JSON and little-endian float32s, and a Dense kernel is [inputs][outputs]
 * row-major, exactly what `Model.weights` returns. The weights file is named by a hash of its contents and
 * `model.json` is renamed into place last, so a reader never pairs a new `model.json` with old weights or the
 * reverse, even while a model is saved over an older one.
 */
import { createHash } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import { rm } from "node:fs/promises";
import { isAbsolute, join, normalize } from "node:path";
import * as tf from "@tensorflow/tfjs";
import type { ImageShape } from "../engine/layers";
import type { InputScaling } from "../engine/network";
import { Model, modelFromWeights, type LayerWeights } from "../model/model";
import { setTrainedSteps } from "../model/model-state";
import { network, NetworkModel } from "../model/network-model";
import { restoreNetwork, snapshotNetwork } from "../model/snapshot";
import { checkSize, FileCheckError, openRegularFile, readRegularFile, type OpenedFile } from "../data/checked-files";
import { libraryVersion, readSavedJson, SavedFileError, writeFileAtomic } from "./saved-files";

const MODEL_FILE = "model.json";
const WEIGHTS_FILE = /^weights-[0-9a-f]+\.bin$/;
/** A model.json of Dense layers is a few kB; anything near this is not one, and is refused before it is read. */
const MODEL_JSON_LIMIT = 16e6;
const PLAIN_MLP = "loadModel reads plain MLPs: Dense layers with biases, ReLU between them, linear last";

/** What this library adds to `model.json` (tfjs keeps it as the model's user-defined metadata). */
interface Provenance {
  layers: number[];
  init: string;
  seed: number;
  trainedSteps: number;
  savedBy: string;
}

/** What this library adds to a network's `model.json`. */
interface NetworkProvenance {
  kind: "network";
  layers: string[];
  image: ImageShape;
  init: string;
  seed: number;
  trainedSteps: number;
  /** The input TensorFlow.js's `predict` expects: ((pixel / 255) − mean) / std, channels last. */
  scaling: InputScaling | null;
  savedBy: string;
}

interface WeightSpec {
  name: string;
  shape: number[];
  dtype?: string;
  quantization?: unknown;
}

/**
 * Save a model in the TensorFlow.js Layers format: `dir/model.json` and its weights file (the folder is created).
 * Returns the path of `model.json`. Saving again into the same folder replaces the model atomically.
 * @example await saveModel(run.model, "models/784-500-10"); // tf.loadLayersModel("file://models/784-500-10/model.json") loads it too
 */
export async function saveModel(model: Model | NetworkModel, dir: string): Promise<string> {
  if (!(model instanceof Model) && !(model instanceof NetworkModel)) {
    throw new TypeError(`saveModel: expected a Model or a NetworkModel (e.g. run.model), got ${typeof model}`);
  }
  if (typeof dir !== "string" || dir === "") throw new TypeError(`saveModel: expected a folder path, got ${String(dir)}`);
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new SavedFileError(dir, "", "saveModel needs a folder, but this is a file");
  if (model instanceof NetworkModel) return saveNetwork(model, dir);
  const weights = model.layers.slice(1).map((_, k) => model.weights(k));
  const data = new Uint8Array(weights.reduce((total, layer) => total + 4 * (layer.kernel.length + layer.bias.length), 0));
  let offset = 0;
  for (const part of weights.flatMap((layer) => [layer.kernel, layer.bias])) {
    data.set(new Uint8Array(part.buffer, part.byteOffset, part.byteLength), offset);
    offset += part.byteLength;
  }
  const weightsFile = `weights-${createHash("sha256").update(data).digest("hex").slice(0, 16)}.bin`;
  const provenance: Provenance = {
    layers: [...model.layers], init: model.init, seed: model.seed, trainedSteps: model.trainedSteps, savedBy: libraryVersion(),
  };
  const json = {
    format: "layers-model",
    generatedBy: libraryVersion(),
    convertedBy: null,
    modelTopology: { class_name: "Sequential", config: { name: "mlp", layers: weights.map(denseConfig) }, keras_version: "tfjs-layers 4.22.0", backend: "tensor_flow.js" },
    weightsManifest: [{ paths: [weightsFile], weights: weights.flatMap(weightSpecs) }],
    userDefinedMetadata: { "@mie/lib": provenance },
  };
  return writeModelFiles(dir, json, weightsFile, data);
}

/**
 * A network as TensorFlow.js saves its Layers model (the trained numbers written into it first), with the library's
 * metadata; the same files and atomic replacement as an MLP's.
 */
async function saveNetwork(net: NetworkModel, dir: string): Promise<string> {
  const tfModel = await net.layersModel();
  let artifacts: tf.io.ModelArtifacts | undefined;
  await tfModel.save(tf.io.withSaveHandler(async (given) => {
    artifacts = given;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
  }));
  const { modelTopology, weightSpecs, weightData } = artifacts!;
  const parts = weightData === undefined ? [] : Array.isArray(weightData) ? weightData : [weightData];
  const data = new Uint8Array(parts.reduce((total, part) => total + part.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    data.set(new Uint8Array(part), offset);
    offset += part.byteLength;
  }
  const weightsFile = `weights-${createHash("sha256").update(data).digest("hex").slice(0, 16)}.bin`;
  const provenance: NetworkProvenance = {
    kind: "network", layers: [...net.layers], image: net.spec.input, init: net.init, seed: net.seed, trainedSteps: net.trainedSteps,
    scaling: net.scaling, savedBy: libraryVersion(),
  };
  const json = {
    format: "layers-model", generatedBy: libraryVersion(), convertedBy: null, modelTopology,
    weightsManifest: [{ paths: [weightsFile], weights: weightSpecs ?? [] }], userDefinedMetadata: { "@mie/lib": provenance },
  };
  return writeModelFiles(dir, json, weightsFile, data);
}

/** The weights file, then model.json renamed into place last; files the replaced model.json named are removed. */
async function writeModelFiles(dir: string, json: object, weightsFile: string, data: Uint8Array): Promise<string> {
  const path = join(dir, MODEL_FILE);
  const previous = await previousWeightsFiles(path);
  const weightsPath = join(dir, weightsFile);
  const weightsExisted = existsSync(weightsPath);
  await writeFileAtomic(weightsPath, data);
  try {
    await writeFileAtomic(path, `${JSON.stringify(json, null, 1)}\n`);
  } catch (error) {
    // The old model stays whole; a weights file no model.json names would only be litter.
    if (!weightsExisted) await rm(weightsPath, { force: true });
    throw error;
  }
  // Only files the replaced model.json named, and only ones this function writes.
  for (const old of previous) if (old !== weightsFile) await rm(join(dir, old), { force: true });
  return path;
}

/**
 * Load a model saved by `saveModel`, or any TensorFlow.js Layers model: a plain MLP (Dense layers, ReLU between
 * them, linear last) as a `Model`, anything else as a network (the engine's layers trained by the engine, others
 * by TensorFlow.js). It predicts (and an MLP shows its
 * weights) like any model; its `init` is "custom" (the values came from the file), and one saved after training
 * counts as trained, so `train` continues it only with `resume: true` (a network with the scaling it trained with).
 * Fails with a `SavedFileError` naming the file and what is wrong. The type says which kind the folder holds
 * (`Model` unless told: `loadModel<NetworkModel>(dir)`); `instanceof` tells at run time.
 * @example const model = await loadModel("models/784-500-10"); model.predict(data.test).classes;
 * @example const net = await loadModel<NetworkModel>("models/lenet"); await train(net, data, { resume: true });
 */
export async function loadModel<M extends Model | NetworkModel = Model>(dir: string): Promise<M> {
  return (await loadAnyModel(dir)) as M;
}

async function loadAnyModel(dir: string): Promise<Model | NetworkModel> {
  if (typeof dir !== "string" || dir === "") throw new TypeError(`loadModel: expected a folder path, got ${String(dir)}`);
  if (!existsSync(dir)) throw new SavedFileError(dir, "", "no such folder (expected one written by saveModel, holding model.json)");
  const path = join(dir, MODEL_FILE);
  const json = await readJson(path);
  if (json.format !== undefined && json.format !== "layers-model") {
    throw new SavedFileError(path, "format", `expected "layers-model" (a TensorFlow.js Layers model), got ${JSON.stringify(json.format)}`);
  }
  if (isNetwork(json)) return loadNetwork(path, dir, json);
  const dense = denseLayers(path, json.modelTopology);
  const weights = await readWeights(path, dir, json.weightsManifest);
  const layerWeights = dense.map((layer, k): LayerWeights => {
    const inputs = k === 0 ? layer.inputs ?? weights.get(`${layer.name}/kernel`)?.shape[0] : dense[k - 1]!.units;
    const kernel = weightOf(path, weights, layer.name, "kernel", [inputs ?? NaN, layer.units]);
    const bias = weightOf(path, weights, layer.name, "bias", [layer.units]);
    return { shape: [inputs!, layer.units], kernel, bias };
  });
  const model = modelFromWeights(layerWeights);
  setTrainedSteps(model, trainedSteps(json.userDefinedMetadata));
  return model;
}

/** The layer classes of a plain MLP's file (anything else makes it a network). */
const MLP_LAYERS = ["Dense", "InputLayer"];

/** Saved by `saveModel` from a network, a functional model, or a Sequential with a layer an MLP has not. */
function isNetwork(json: Record<string, unknown>): boolean {
  if (record(record(json.userDefinedMetadata)?.["@mie/lib"])?.kind === "network") return true;
  const model = record(record(json.modelTopology)?.model_config ?? json.modelTopology);
  if (model?.class_name !== undefined && model.class_name !== "Sequential") return true;
  const list: unknown = Array.isArray(model?.config) ? model?.config : record(model?.config)?.layers;
  return Array.isArray(list) && list.some((layer) => !MLP_LAYERS.includes(String(record(layer)?.class_name)));
}

/**
 * A network's model.json and weights, checked as an MLP's are, read by TensorFlow.js (`tf.io.fromMemory`) and then
 * as the engine trains it; its steps, seed and input scaling from the library's metadata.
 */
async function loadNetwork(path: string, dir: string, json: Record<string, unknown>): Promise<NetworkModel> {
  const weights = await readWeights(path, dir, json.weightsManifest);
  const weightSpecs = [...weights].map(([name, { shape }]) => ({ name, shape, dtype: "float32" as const }));
  const weightData = new Uint8Array([...weights.values()].reduce((total, { values }) => total + values.byteLength, 0));
  let offset = 0;
  for (const { values } of weights.values()) {
    weightData.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), offset);
    offset += values.byteLength;
  }
  const meta = record(record(json.userDefinedMetadata)?.["@mie/lib"]) ?? {};
  let tfModel: tf.LayersModel;
  try {
    tfModel = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology as tf.io.ModelJSON["modelTopology"], weightSpecs, weightData: weightData.buffer }));
  } catch (error) {
    throw new SavedFileError(path, "modelTopology", `TensorFlow.js cannot build this Layers model: ${(error as Error).message}`);
  }
  let read: NetworkModel;
  try {
    read = network(tfModel, { image: imageOf(meta.image, tfModel) });
  } catch (error) {
    tfModel.dispose();
    throw new SavedFileError(path, "modelTopology", (error as Error).message);
  }
  const scaling = record(meta.scaling);
  const steps = trainedSteps(json.userDefinedMetadata);
  const seed = Number.isInteger(meta.seed) ? (meta.seed as number) : 0;
  const snapshot = snapshotNetwork(read);
  read.dispose(); // its Layers model: the loaded network rebuilds one from the topology when asked
  const validScaling = scaling && typeof scaling.mean === "number" && typeof scaling.std === "number" && scaling.std > 0;
  if (scaling && !validScaling) throw new SavedFileError(path, "userDefinedMetadata.@mie/lib.scaling", `expected { mean, std > 0 }, got ${JSON.stringify(scaling)}`);
  return restoreNetwork({
    ...snapshot, init: "custom", seed, trainedSteps: steps, scaling: validScaling ? { mean: scaling.mean as number, std: scaling.std as number } : null,
  });
}

/** The images a network reads: as saved, else from its input shape ([H, W, C], or N flat pixels of a square image). */
function imageOf(saved: unknown, tfModel: tf.LayersModel): ImageShape {
  const image = record(saved);
  if (image && [image.channels, image.height, image.width].every((n) => Number.isInteger(n) && (n as number) > 0)) return image as unknown as ImageShape;
  const shape = tfModel.inputs[0]!.shape.slice(1) as number[];
  if (shape.length === 3) return { height: shape[0]!, width: shape[1]!, channels: shape[2]! };
  if (shape.length === 2) return { height: shape[0]!, width: shape[1]!, channels: 1 }; // rows of one channel (a recurrent net's input)
  const side = Math.round(Math.sqrt(shape[0] ?? 0));
  return { channels: 1, height: side, width: side };
}

function denseConfig(layer: LayerWeights, k: number, all: LayerWeights[]): object {
  const [inputs, units] = layer.shape;
  return {
    class_name: "Dense",
    config: {
      units,
      activation: k < all.length - 1 ? "relu" : "linear",
      use_bias: true,
      name: `dense_${k + 1}`,
      trainable: true,
      dtype: "float32",
      ...(k === 0 ? { batch_input_shape: [null, inputs] } : {}),
    },
  };
}

function weightSpecs(layer: LayerWeights, k: number): WeightSpec[] {
  return [
    { name: `dense_${k + 1}/kernel`, shape: [...layer.shape], dtype: "float32" },
    { name: `dense_${k + 1}/bias`, shape: [layer.shape[1]], dtype: "float32" },
  ];
}

async function previousWeightsFiles(path: string): Promise<string[]> {
  try {
    const old = JSON.parse((await readRegularFile(path, { maxBytes: MODEL_JSON_LIMIT })).toString("utf8")) as { weightsManifest?: { paths?: unknown[] }[] };
    return (old.weightsManifest ?? []).flatMap((group) => group.paths ?? []).filter((file): file is string => typeof file === "string" && WEIGHTS_FILE.test(file));
  } catch {
    return [];
  }
}

async function readJson(path: string): Promise<Record<string, unknown>> {
  const json = await readSavedJson(path, "model.json, as saveModel writes it", MODEL_JSON_LIMIT);
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw new SavedFileError(path, "", "expected a JSON object");
  return json as Record<string, unknown>;
}

interface DenseLayer {
  name: string;
  units: number;
  /** From the first layer's (or an InputLayer's) batch input shape; null when the file does not say. */
  inputs: number | null;
}

function denseLayers(path: string, topology: unknown): DenseLayer[] {
  const root = record(topology)?.model_config ?? topology;
  const model = record(root);
  if (!model) throw new SavedFileError(path, "modelTopology", "missing: not a Layers model (a graph model cannot be loaded as an MLP)");
  if (model.class_name !== "Sequential") {
    throw new SavedFileError(path, "modelTopology.class_name", `expected "Sequential", got ${JSON.stringify(model.class_name)}: ${PLAIN_MLP}`);
  }
  const config = model.config;
  const list: unknown = Array.isArray(config) ? config : record(config)?.layers;
  if (!Array.isArray(list) || list.length === 0) throw new SavedFileError(path, "modelTopology.config.layers", "expected a list of layers");
  let inputs: number | null = null;
  const dense: DenseLayer[] = [];
  list.forEach((entry, i) => {
    const field = `modelTopology.config.layers[${i}]`;
    const layer = record(entry);
    const layerConfig = record(layer?.config) ?? {};
    const name = typeof layerConfig.name === "string" ? layerConfig.name : `layer ${i}`;
    const shape = layerConfig.batch_input_shape ?? layerConfig.batch_shape;
    if (Array.isArray(shape)) {
      if (shape.length !== 2 || !Number.isInteger(shape[1])) {
        throw new SavedFileError(path, `${field}.config.batch_input_shape`, `expected [null, inputs] (flat input vectors), got ${JSON.stringify(shape)}`);
      }
      inputs = shape[1] as number;
    }
    if (layer?.class_name === "InputLayer" && i === 0) return;
    if (layer?.class_name !== "Dense") {
      throw new SavedFileError(path, field, `${name} is a ${String(layer?.class_name)} layer: ${PLAIN_MLP}`);
    }
    const activation = layerConfig.activation ?? "linear";
    const wanted = i === list.length - 1 ? "linear" : "relu";
    if (activation !== wanted) {
      throw new SavedFileError(path, `${field}.config.activation`, `${name} has activation ${JSON.stringify(activation)}, expected "${wanted}": ${PLAIN_MLP}`);
    }
    if (layerConfig.use_bias === false) throw new SavedFileError(path, `${field}.config.use_bias`, `${name} has no bias: ${PLAIN_MLP}`);
    const units = layerConfig.units;
    if (!Number.isInteger(units) || (units as number) < 1) {
      throw new SavedFileError(path, `${field}.config.units`, `expected a positive integer, got ${JSON.stringify(units)}`);
    }
    dense.push({ name, units: units as number, inputs: dense.length === 0 ? inputs : null });
  });
  if (dense.length === 0) throw new SavedFileError(path, "modelTopology.config.layers", `no Dense layers: ${PLAIN_MLP}`);
  return dense;
}

async function readWeights(path: string, dir: string, manifest: unknown): Promise<Map<string, { shape: number[]; values: Float32Array }>> {
  if (!Array.isArray(manifest)) throw new SavedFileError(path, "weightsManifest", "expected a list of { paths, weights } groups");
  const found = new Map<string, { shape: number[]; values: Float32Array }>();
  for (const [g, group] of manifest.entries()) {
    const field = `weightsManifest[${g}]`;
    const { paths, weights } = record(group) ?? {};
    if (!Array.isArray(paths) || !Array.isArray(weights)) throw new SavedFileError(path, field, "expected { paths: [...], weights: [...] }");
    const specs = weights.map((spec, w) => checkWeightEntry(path, `${field}.weights[${w}]`, spec));
    const files = paths.map((file, p) => {
      if (typeof file !== "string" || isAbsolute(file) || normalize(file).startsWith("..") || file.includes("://")) {
        throw new SavedFileError(path, `${field}.paths[${p}]`, `expected a file name beside model.json, got ${JSON.stringify(file)}`);
      }
      return join(dir, file);
    });
    const needed = specs.reduce((total, spec) => total + 4 * spec.shape.reduce((a, b) => a * b, 1), 0);
    const bytes = await readWeightFiles(files, needed, field);
    const values = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
    let offset = 0;
    for (const spec of specs) {
      const size = spec.shape.reduce((a, b) => a * b, 1);
      found.set(spec.name, { shape: spec.shape, values: values.slice(offset, offset + size) });
      offset += size;
    }
  }
  return found;
}

/**
 * The weights files of one manifest group, concatenated: each checked to be a regular file, and their sizes
 * checked against the manifest's byte count before a byte is read.
 */
async function readWeightFiles(files: string[], needed: number, field: string): Promise<Buffer> {
  const opened: OpenedFile[] = [];
  const named = `${MODEL_FILE} (${field}.paths)`;
  try {
    for (const file of files) {
      opened.push(await openRegularFile(file).catch((error: unknown) => {
        if (!(error instanceof FileCheckError)) throw error;
        throw new SavedFileError(file, "", error.problem === "not found" ? `weights file named in ${named} not found` : `${error.problem} (a weights file named in ${named})`);
      }));
    }
    const size = opened.reduce((total, file) => total + file.size, 0);
    const path = files.join(" + ");
    try {
      checkSize({ path, size }, { bytes: needed, expected: `the float32 weights ${MODEL_FILE} (${field}) describes` });
      return Buffer.concat(await Promise.all(opened.map((file) => file.readAll())));
    } catch (error) {
      if (error instanceof FileCheckError) throw new SavedFileError(error.path, "", error.problem);
      throw error;
    }
  } finally {
    await Promise.all(opened.map((file) => file.close()));
  }
}

function checkWeightEntry(path: string, field: string, raw: unknown): WeightSpec {
  const spec = record(raw);
  if (!spec || typeof spec.name !== "string" || !Array.isArray(spec.shape) || !spec.shape.every((n) => Number.isInteger(n) && n >= 0)) {
    throw new SavedFileError(path, field, "expected { name, shape: [integers], dtype }");
  }
  if (spec.quantization !== undefined) throw new SavedFileError(path, `${field}.quantization`, "quantized weights are not supported (save float32)");
  if ((spec.dtype ?? "float32") !== "float32") {
    throw new SavedFileError(path, `${field}.dtype`, `expected "float32", got ${JSON.stringify(spec.dtype)}`);
  }
  return spec as unknown as WeightSpec;
}

function weightOf(
  path: string, weights: Map<string, { shape: number[]; values: Float32Array }>, layer: string, kind: "kernel" | "bias", shape: number[],
): Float32Array {
  const name = `${layer}/${kind}`;
  const weight = weights.get(name);
  if (!weight) throw new SavedFileError(path, "weightsManifest", `no weight "${name}" for layer ${layer}${kind === "bias" ? ` (a missing bias): ${PLAIN_MLP}` : ""}`);
  if (weight.shape.length !== shape.length || weight.shape.some((n, i) => n !== shape[i])) {
    throw new SavedFileError(path, "weightsManifest", `weight "${name}" has shape [${weight.shape.join(", ")}], expected [${shape.join(", ")}]`);
  }
  return weight.values;
}

function trainedSteps(metadata: unknown): number {
  const steps = record(record(metadata)?.["@mie/lib"])?.trainedSteps;
  return Number.isInteger(steps) && (steps as number) >= 0 ? (steps as number) : 0;
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}
