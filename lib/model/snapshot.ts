/**
 * Models as plain data and back: how a trained model crosses from a worker thread to the notebook's thread.
 * The snapshot keeps each layer in the layout the engine left it in, so the rebuilt model is the same, bit for bit.
 */
import * as tf from "@tensorflow/tfjs";
import type { LayerLayout } from "../engine/tensor-step";
import { checkMlp, Model, type Init } from "./model";
import { engineLayers, replaceTensors, setTrainedSteps } from "./model-state";

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
