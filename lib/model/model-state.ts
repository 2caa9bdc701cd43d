/**
 * Where a model's numbers live, hidden from notebook users: its initial values until first used, then one tensor
 * per layer in the layout the engine chose (see `engine.ts`). Every write goes through a named function of this
 * module (`replaceTensors`, `setTrainedSteps`, `useLayouts`, `disposeState`), called only from `model/`: `Model`,
 * `snapshot`, a training session (`training`). Other layers read through `Model`.
 */
import * as tf from "@tensorflow/tfjs";
import type { EngineLayer, LayerLayout } from "../engine/tensor-step";
/**
 * The model a state belongs to, seen only by its layer sizes: `model.ts` owns `Model` and imports this module, so
 * naming the class here would make the two modules import each other.
 */
type Model = { readonly layers: readonly number[] };

/** A model's numbers and training count. */
export interface ModelState {
  /** Initial values, [outputs][inputs + 1] per layer ("unitMajor"), until they become tensors. */
  values: Float32Array[] | null;
  /** Parameters as tensors once used, one engine layer each, in its own layout. */
  tensors: EngineLayer[] | null;
  trainedSteps: number;
  disposed: boolean;
}

const states = new WeakMap<Model, ModelState>();

/**
 * Give a new model its state: its initial values, [outputs][inputs + 1] per layer (the `Model` constructor does).
 * @example attachState(model, [new Float32Array(10 * 785)]); // a 784→10 layer, all zeros
 */
export function attachState(model: Model, values: Float32Array[]): void {
  states.set(model, { values, tensors: null, trainedSteps: 0, disposed: false });
}

/**
 * The model's internal state, to read (writes go through this module's named functions). Not part of the notebook API.
 * @example modelState(model).trainedSteps; // 0 for a fresh model
 */
export function modelState(model: Model): Readonly<ModelState> {
  return stateOf(model);
}

function stateOf(model: Model): ModelState {
  const state = states.get(model);
  if (!state) throw new TypeError("expected a Model built with mlp(...) or modelFromWeights(...)");
  return state;
}

/**
 * Replace the model's parameter tensors (kept, so no `tf.tidy` frees them): the old ones not among the new are
 * disposed, and the initial values are dropped.
 * @example replaceTensors(model, [{ params: tf.zeros([10, 785]), layout: "unitMajor" }]);
 */
export function replaceTensors(model: Model, tensors: EngineLayer[]): void {
  const state = liveState(model);
  state.tensors?.forEach((old) => {
    if (!tensors.some((layer) => layer.params === old.params)) old.params.dispose();
  });
  state.tensors = tensors.map((layer) => ({ params: tf.keep(layer.params), layout: layer.layout }));
  state.values = null;
}

/**
 * Record how many optimizer steps the model has been trained for (a training step, a snapshot or a saved file).
 * @example setTrainedSteps(model, 3750);
 */
export function setTrainedSteps(model: Model, steps: number): void {
  liveState(model).trainedSteps = steps;
}

/**
 * Free the model's tensors and mark it disposed: nothing can use it afterwards.
 * @example disposeState(model);
 */
export function disposeState(model: Model): void {
  const state = stateOf(model);
  state.tensors?.forEach((layer) => layer.params.dispose());
  state.tensors = null;
  state.values = null;
  state.disposed = true;
}

/**
 * The model's layers as the engine uses them, made from the initial values ("unitMajor") on first use.
 * @example engineLayers(mlp([784, 10]))[0].params.shape; // [10, 785]
 */
export function engineLayers(model: Model): EngineLayer[] {
  const state = liveState(model);
  if (!state.tensors) {
    state.tensors = state.values!.map((values, k) => ({
      params: tf.keep(tf.tensor2d(values, [model.layers[k + 1]!, model.layers[k]! + 1])),
      layout: "unitMajor" as const,
    }));
    state.values = null;
  }
  return state.tensors;
}

/**
 * Store each layer in the given layout (transposing the ones that differ, once), e.g. before training.
 * @example useLayouts(model, ["unitMajor", "inputMajor"]);
 */
export function useLayouts(model: Model, layouts: readonly LayerLayout[]): void {
  const current = engineLayers(model);
  replaceTensors(model, current.map((layer, k) => (layer.layout === layouts[k] ? layer : { params: tf.transpose(layer.params), layout: layouts[k]! })));
}

/**
 * The state of a model that has not been disposed; throws for a disposed one.
 * @example liveState(model).values; // the initial values until first used
 */
export function liveState(model: Model): ModelState {
  const state = stateOf(model);
  if (state.disposed) throw new Error(`model ${model.layers.join("→")} was disposed: build a new one with mlp(...)`);
  return state;
}
