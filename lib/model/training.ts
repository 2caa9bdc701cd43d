/**
 * A model being trained: the one place that runs an optimizer step and writes the result into the model. `train`
 * walks the batches and asks this session for each step. Two routes, the same for everything above:
 * - the engine (`engine/`): the model's numbers move into the engine's memory for the run, every step runs there
 *   as a few compiled kernel calls, and the model reads them back when it is read (an evaluation) and at the end;
 * - the tensor route (`engine/tensor-step.ts` and `optimizers.ts`), on TensorFlow.js's backend (tfjs-node, cpu);
 * - for a network the engine lacks a layer of, TensorFlow.js's own layers on its backend (`tfjs-route.ts`).
 */
import * as tf from "@tensorflow/tfjs";
import { splitBatch } from "../data/batch";
import type { Engine } from "../engine/engine";
import type { NetworkBatch } from "../engine/network";
import type { BatchSource } from "../engine/step";
import { lossAndGradients, preferredLayout } from "../engine/tensor-step";
import { endLive, engineLayers, liveStep, replaceTensors, setTrainedSteps, startLive, useLayouts } from "./model-state";
import type { Model } from "./model";
import { NetworkModel } from "./network-model";
import { createOptimizer, type OptimizerName } from "./optimizers";
import { startTfjsSession, tfjsNumbers } from "./tfjs-route";

export type { BatchSource } from "../engine/step";

/** What a training session needs to know: the update rule, the batch size it will see, the input's scaling. */
export interface SessionSettings {
  optimizer: OptimizerName;
  lr: number;
  /** Optimizer "momentum"'s coefficient (null: PyTorch's default). */
  momentum: number | null;
  batchSize: number;
  weightDecay: number;
  /** A network's input scaling (null: pixel / 255). */
  normalize: { mean: number; std: number } | null;
}

/** Where a run's steps run: on `engine` (big products split over its threads when `split`), or tfjs's tensors. */
export type StepRoute = { engine: Engine; split: boolean } | { engine: null };

/** What one step did: its loss, and whether its update was applied (not when the loss is NaN or infinite). */
export interface StepOutcome {
  loss: number;
  applied: boolean;
}

/** A model in training: one optimizer step at a time, then `dispose` (the model keeps its trained parameters). */
export interface TrainingSession {
  /** One optimizer step on the batch `source` names (images `from`..`to` of a split, maybe through a shuffle order,
   *  and for a network each image's shift). */
  applyStep(source: BatchSource & { shifts?: Int8Array | null }): StepOutcome;
  /** Use learning rate `lr` from the next step on; the optimizer's state carries on. */
  setLr(lr: number): void;
  /** Free the optimizer's state; the model keeps the trained numbers. */
  dispose(): void;
}

/**
 * Start training `model`: each layer moves into the layout that trains fastest at this batch size, and a fresh
 * optimizer is made. Each `applyStep` updates the model's parameters and counts the step.
 * @example const session = startTraining(model, { optimizer: "sgd", lr: 0.1, momentum: null, batchSize: 16 }, { engine: createEngine({ native: true, threads: 1 }), split: false });
 */
export function startTraining(model: Model | NetworkModel, settings: SessionSettings, route: StepRoute): TrainingSession {
  if (model instanceof NetworkModel && model.trainer === "tfjs") return onTfjs(model, settings);
  if (model instanceof NetworkModel) {
    if (!route.engine) throw new Error("train: a network of tf.layers trains on the engine (backendForNetwork gives its route)");
    return onNetwork(model, settings, route.engine, route.split);
  }
  if (settings.normalize) throw new RangeError("normalize: needs a model built with tf.layers (an mlp(...) reads pixel / 255)");
  const { layers } = model;
  useLayouts(model, layers.slice(1).map((outputs, k) => preferredLayout(layers[k]!, outputs, settings.batchSize, k === 0)));
  return route.engine ? onEngine(model, settings, route.engine, route.split) : onTensors(model, settings);
}

function onEngine(model: Model, settings: SessionSettings, engine: Engine, split: boolean): TrainingSession {
  const current = engineLayers(model);
  const session = engine.startSession({
    sizes: model.layers,
    layouts: current.map((layer) => layer.layout),
    params: current.map((layer) => layer.params.dataSync() as Float32Array),
    batchSize: settings.batchSize,
    rule: { optimizer: settings.optimizer, lr: settings.lr, momentum: settings.momentum, weightDecay: settings.weightDecay },
  }, split);
  startLive(model, { read: () => session.read() });
  return {
    applyStep(source) {
      const loss = session.step(source);
      const applied = Number.isFinite(Math.fround(loss));
      if (applied) liveStep(model);
      return { loss, applied };
    },
    setLr: (lr) => session.setLr(lr),
    dispose() {
      endLive(model);
      session.dispose();
    },
  };
}

function onNetwork(model: NetworkModel, settings: SessionSettings, engine: Engine, split: boolean): TrainingSession {
  const scaling = settings.normalize ?? { mean: 0, std: 1 };
  const session = engine.startNetwork({
    spec: model.spec, numbers: model.numbers(), batchSize: settings.batchSize, scaling, seed: model.seed,
    rule: { optimizer: settings.optimizer, lr: settings.lr, momentum: settings.momentum, weightDecay: settings.weightDecay },
  }, split);
  model.startTraining(() => session.read(), scaling);
  return {
    applyStep(source) {
      const loss = session.step({ ...source, shifts: source.shifts ?? null } as NetworkBatch);
      const applied = Number.isFinite(Math.fround(loss));
      if (applied) model.stepped();
      return { loss, applied };
    },
    setLr: (lr) => session.setLr(lr),
    dispose() {
      model.endTraining();
      session.dispose();
    },
  };
}

/** A network the engine lacks a layer of, on TensorFlow.js's current backend (`tfjs-route.ts`). */
function onTfjs(model: NetworkModel, settings: SessionSettings): TrainingSession {
  const scaling = settings.normalize ?? { mean: 0, std: 1 };
  const tfModel = model.trainingModel();
  const session = startTfjsSession(tfModel, model.tfjsRead!, model.spec.input, settings, model.seed);
  model.startTraining(() => tfjsNumbers(tfModel), scaling);
  return {
    applyStep(source) {
      const outcome = session.step({ ...source, shifts: source.shifts ?? null });
      if (outcome.applied) model.stepped();
      return outcome;
    },
    setLr: (lr) => session.setLr(lr),
    dispose() {
      model.endTraining();
      session.dispose();
    },
  };
}

function onTensors(model: Model, settings: SessionSettings): TrainingSession {
  const optimizer = createOptimizer(settings.optimizer, settings.lr, settings.momentum ?? undefined, settings.weightDecay);
  return {
    applyStep(source) {
      const current = engineLayers(model);
      const params = current.map((layer) => layer.params);
      const batch = splitBatch(source.split, source.from, source.to, source.order, true);
      let loss = NaN;
      const next = tf.tidy(() => {
        const result = lossAndGradients(current, batch, optimizer.gradientScale);
        loss = result.loss;
        return result.grads ? optimizer.apply(params, result.grads) : [];
      });
      if (next.length === 0) return { loss, applied: false };
      replaceTensors(model, current.map((layer, k) => ({ params: next[k]!, layout: layer.layout })));
      setTrainedSteps(model, model.trainedSteps + 1);
      return { loss, applied: true };
    },
    setLr: (lr) => optimizer.setLr(lr),
    dispose: () => optimizer.dispose(),
  };
}
