/**
 * Models as plain data and back: how a trained model crosses from a worker thread to the notebook's thread, and
 * how the run store keeps it. An MLP's snapshot keeps each layer in the layout the engine left it in; a network's
 * keeps its description, its Layers model's topology and its numbers in the engine's layouts. Either way the
 * rebuilt model is the same, bit for bit.
 */
import * as tf from "@tensorflow/tfjs";
import { channelsOf, paramSizes, type NetworkNumbers, type NetworkSpec } from "../engine/layers";
import type { InputScaling } from "../engine/network";
import type { LayerLayout } from "../engine/tensor-step";
import { checkMlp, Model, type Init } from "./model";
import { engineLayers, replaceTensors, setTrainedSteps } from "./model-state";
import { NetworkModel, type NetworkInit } from "./network-model";
import type { TfjsRead } from "./tfjs-route";

/** A model's parameters and training count as plain data, in the engine's layouts: what a worker sends back. */
export interface ModelSnapshot {
  layers: number[];
  init: Init | "custom";
  seed: number;
  /** Each layer's matrix, [outputs][inputs + 1] ("unitMajor") or [inputs + 1][outputs] ("inputMajor"). */
  params: { values: Float32Array; layout: LayerLayout }[];
  trainedSteps: number;
}

/**
 * A model as plain data that `restoreModel` turns back into the same model, bit for bit.
 * @example const copy = restoreModel(snapshotModel(run.model));
 */
export function snapshotModel(model: Model): ModelSnapshot {
  const params = engineLayers(model).map((layer) => ({ values: Float32Array.from(layer.params.dataSync()), layout: layer.layout }));
  return { layers: [...model.layers], init: model.init, seed: model.seed, params, trainedSteps: model.trainedSteps };
}

/**
 * Rebuild a model from `snapshotModel`'s data, on this thread's backend (`initBackend` must have run). It counts
 * as trained as far as the snapshot was, so `train` refuses it without `resume`. With `into` (a model of the same
 * layers, e.g. the one a caller passed to `train` when the run store had its run), that model takes the numbers.
 * @example const model = restoreModel(message.model); model.predict(data.test);
 */
export function restoreModel(snapshot: ModelSnapshot, into?: Model): Model {
  const { layers, params } = snapshot;
  checkMlp(layers, {});
  if (params.length !== layers.length - 1) {
    throw new RangeError(`restoreModel: expected ${layers.length - 1} layers of parameters for ${layers.join("→")}, got ${params.length}`);
  }
  if (into && into.layers.join() !== layers.join()) {
    throw new RangeError(`restoreModel: the snapshot is ${layers.join("→")}, the model to restore into ${into.layers.join("→")}`);
  }
  const model = into ?? new Model(layers, snapshot.init, snapshot.seed, []);
  replaceTensors(model, params.map(({ values, layout }, k) => {
    const shape: [number, number] = layout === "unitMajor" ? [layers[k + 1]!, layers[k]! + 1] : [layers[k]! + 1, layers[k + 1]!];
    return { params: tf.tensor2d(values, shape), layout };
  }));
  setTrainedSteps(model, snapshot.trainedSteps);
  return model;
}

/**
 * A network as plain data (structured-cloneable: it crosses into a worker and back, and the run store writes it):
 * its description, which of its Layers model's layers each engine layer is, the Layers model's topology (to rebuild
 * it), where its initial numbers came from, its input scaling, its training count and its numbers.
 * @example const copy = restoreNetwork(snapshotNetwork(run.model));
 */
export interface NetworkSnapshot {
  kind: "network";
  spec: NetworkSpec;
  source: number[];
  topology: string;
  init: NetworkInit;
  seed: number;
  scaling: InputScaling | null;
  trainedSteps: number;
  params: Float32Array[];
  stats: Float32Array[];
  /** Set for a network TensorFlow.js trains (the engine lacks one of its layers): its config and shapes. */
  tfjs?: TfjsRead;
}

/**
 * A network as plain data, its numbers copied (the network may train on without changing the snapshot).
 * @example const snapshot = snapshotNetwork(run.model); snapshot.params.length; // 3 for conv → conv → dense
 */
export function snapshotNetwork(net: NetworkModel): NetworkSnapshot {
  const { params, stats } = net.numbers();
  return {
    kind: "network", spec: net.spec, source: [...net.sourceLayers], topology: net.topology, init: net.init, seed: net.seed,
    scaling: net.scaling ? { ...net.scaling } : null, trainedSteps: net.trainedSteps, params: params.map((values) => values.slice()),
    stats: stats.map((values) => values.slice()), ...(net.tfjsRead ? { tfjs: net.tfjsRead } : {}),
  };
}

/**
 * Rebuild a network from `snapshotNetwork`'s data (its Layers model is rebuilt from the topology only when
 * `layersModel()` asks). The numbers are checked against the description first. With `into` (a network of the same
 * description, e.g. the one a caller passed to `train` when the run store had its run), that network takes them.
 * @example const net = restoreNetwork(message.model); net.predict(data.test);
 */
export function restoreNetwork(snapshot: NetworkSnapshot, into?: NetworkModel): NetworkModel {
  // A TensorFlow.js-trained network's numbers are checked against its model's weights when written into it.
  if (!snapshot.tfjs) checkNetworkNumbers(snapshot.spec, snapshot, "restoreNetwork");
  const numbers: NetworkNumbers = { params: snapshot.params.map((values) => values.slice()), stats: snapshot.stats.map((values) => values.slice()) };
  // The run store matched the topology without layer names (which tfjs numbers per process): so do these.
  const sameTfjs = (into?.tfjsRead?.names.join() === snapshot.tfjs?.names.join()) && into?.tfjsRead?.classes === snapshot.tfjs?.classes;
  if (into && (JSON.stringify(into.spec) !== JSON.stringify(snapshot.spec) || (snapshot.tfjs || into.tfjsRead ? !sameTfjs : false))) {
    throw new RangeError(`restoreNetwork: the snapshot is ${snapshot.tfjs ? `a network of ${snapshot.tfjs.names.join(" → ")} trained by TensorFlow.js` : describeSpec(snapshot.spec)}, the network to restore into ${into.layers.join(" → ")}`);
  }
  const read = { spec: snapshot.spec, source: [...snapshot.source], ...(snapshot.tfjs ? { tfjs: snapshot.tfjs } : {}) };
  const net = into ?? new NetworkModel(read, numbers, snapshot.init, snapshot.seed, snapshot.topology, null);
  net.restoreState(snapshot.trainedSteps, snapshot.scaling ? { ...snapshot.scaling } : null, numbers);
  return net;
}

/**
 * Check that `numbers` are what `spec` trains: one array per trained array of each layer, of its length, and two
 * running statistics per batch-norm layer. Throws a RangeError starting with `where` and naming the layer.
 * @example checkNetworkNumbers(spec, { params, stats }, "weights.bin");
 */
export function checkNetworkNumbers(spec: NetworkSpec, numbers: NetworkNumbers, where: string): void {
  const params = spec.layers.flatMap((layer, i) => paramSizes(layer).map((length) => ({ i, kind: layer.kind, length })));
  const stats = spec.layers.flatMap((layer, i) => (layer.kind === "batchNorm" ? [0, 1].map(() => ({ i, kind: layer.kind, length: channelsOf(layer.shape) })) : []));
  for (const [name, wanted, given] of [["params", params, numbers.params], ["stats", stats, numbers.stats]] as const) {
    if (!Array.isArray(given) || given.length !== wanted.length) {
      throw new RangeError(`${where}: expected ${wanted.length} ${name} arrays for ${describeSpec(spec)}, got ${Array.isArray(given) ? given.length : String(given)}`);
    }
    wanted.forEach(({ i, kind, length }, k) => {
      const values = given[k];
      if (!(values instanceof Float32Array) || values.length !== length) {
        throw new RangeError(`${where}: ${name}[${k}] (layer ${i}, ${kind}) expected ${length} float32 numbers, got ${values instanceof Float32Array ? values.length : String(values)}`);
      }
    });
  }
}

/**
 * Either kind of model as plain data.
 * @example const snapshot = snapshotAny(run.model);
 */
export function snapshotAny(model: Model | NetworkModel): ModelSnapshot | NetworkSnapshot {
  return model instanceof NetworkModel ? snapshotNetwork(model) : snapshotModel(model);
}

/**
 * Either kind of model back from its snapshot.
 * @example const model = restoreAny(message.model);
 */
export function restoreAny(snapshot: ModelSnapshot | NetworkSnapshot): Model | NetworkModel {
  return isNetworkSnapshot(snapshot) ? restoreNetwork(snapshot) : restoreModel(snapshot);
}

/**
 * Whether a snapshot is a network's.
 * @example if (isNetworkSnapshot(snapshot)) snapshot.spec.layers.length;
 */
export function isNetworkSnapshot(snapshot: ModelSnapshot | NetworkSnapshot): snapshot is NetworkSnapshot {
  return (snapshot as NetworkSnapshot).kind === "network";
}

/**
 * The buffers a snapshot's numbers live in, to transfer to another thread instead of copying them.
 * @example post(message, snapshotBuffers(snapshot));
 */
export function snapshotBuffers(snapshot: ModelSnapshot | NetworkSnapshot): ArrayBuffer[] {
  const arrays = isNetworkSnapshot(snapshot) ? [...snapshot.params, ...snapshot.stats] : snapshot.params.map((layer) => layer.values);
  return arrays.map((values) => values.buffer as ArrayBuffer);
}

function describeSpec(spec: NetworkSpec): string {
  return `a network of ${spec.layers.length} layers (${spec.layers.map((layer) => layer.kind).join(", ")})`;
}
