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
  /** While the engine trains the model in its own memory: where the current numbers are read from. */
  live: LiveParams | null;
  /** Whether `tensors` are behind `live` (a step was taken since they were made). */
  stale: boolean;
  trainedSteps: number;
  disposed: boolean;
}

const states = new WeakMap<Model, ModelState>();

/**
 * Give a new model its state: its initial values, [outputs][inputs + 1] per layer (the `Model` constructor does).
 * @example attachState(model, [new Float32Array(10 * 785)]); // a 784→10 layer, all zeros
 */
export function attachState(model: Model, values: Float32Array[]): void {
  states.set(model, { values, tensors: null, live: null, stale: false, trainedSteps: 0, disposed: false });
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
 * A model's numbers while a training session of the engine holds them: each layer's matrix, in the layouts its
 * tensors had when the session started.
 */
export interface LiveParams {
  read(): Float32Array[];
}

/**
 * From now on the model's numbers are `live`'s: each `liveStep` counts a step, and the tensors are made from them
 * when someone reads the model (an evaluation), until `endLive`.
 * @example startLive(model, { read: () => session.read() });
 */
export function startLive(model: Model, live: LiveParams): void {
  const state = liveState(model);
  if (state.live) throw new Error(`model ${model.layers.join("→")} is already being trained`);
  state.live = live;
}

/**
 * Count one training step of a live model: its tensors are behind until read again.
 * @example liveStep(model);
 */
export function liveStep(model: Model): void {
  const state = liveState(model);
  state.trainedSteps++;
  state.stale = true;
}

/**
 * The session ends: the model's tensors take its last numbers.
 * @example endLive(model); session.dispose();
 */
export function endLive(model: Model): void {
  const state = stateOf(model);
  if (!state.disposed) syncLive(model, state);
  state.live = null;
}

function syncLive(model: Model, state: ModelState): void {
  if (!state.live || !state.stale || !state.tensors) return;
  const values = state.live.read();
  replaceTensors(model, state.tensors.map((layer, k) => ({ params: tf.tensor2d(values[k]!, layer.params.shape), layout: layer.layout })));
  state.stale = false;
}

/**
 * The model's layers as the engine uses them, made from the initial values ("unitMajor") on first use.
 * @example engineLayers(mlp([784, 10]))[0].params.shape; // [10, 785]
 */
export function engineLayers(model: Model): EngineLayer[] {
  const state = liveState(model);
  syncLive(model, state);
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
