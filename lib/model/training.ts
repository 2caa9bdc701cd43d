/**
 * A model being trained: the one place that runs an optimizer step and writes the result into the model. `train`
 * walks the batches and asks this session for each step; which layout each layer trains in, how the loss and
 * gradients are computed (`engine`) and how the update is made (`optimizers`) stay behind it, so a faster step
 * (e.g. one fused kernel) changes this module and nothing above it.
 */
import * as tf from "@tensorflow/tfjs";
import { splitBatch } from "../data/batch";
import { lossAndGradients, preferredLayout, type EngineLayer } from "../engine/tensor-step";
import { engineLayers, replaceTensors, setTrainedSteps, useLayouts } from "./model-state";
import type { Model } from "./model";
import { createOptimizer, type OptimizerName } from "./optimizers";
import { wasmStep, type BatchSource } from "../engine/step";

export type { BatchSource } from "../engine/step";

/** What a training session needs to know: the update rule and the batch size it will see. */
export interface SessionSettings {
  optimizer: OptimizerName;
  lr: number;
  /** Optimizer "momentum"'s coefficient (null: PyTorch's default). */
  momentum: number | null;
  batchSize: number;
}

/** What one step did: its loss, and whether its update was applied (not when the loss is NaN or infinite). */
export interface StepOutcome {
  loss: number;
  applied: boolean;
}

/** A model in training: one optimizer step at a time, then `dispose` (the model keeps its trained parameters). */
export interface TrainingSession {
  /** One optimizer step on the batch `source` names (images `from`..`to` of a split, maybe through a shuffle order). */
  applyStep(source: BatchSource): StepOutcome;
  /** Use learning rate `lr` from the next step on; the optimizer's state carries on. */
  setLr(lr: number): void;
  /** Free the optimizer's state. */
  dispose(): void;
}

/**
 * Start training `model`: each layer moves into the layout that trains fastest at this batch size, and a fresh
 * optimizer is made. Each `applyStep` replaces the model's parameters and counts the step.
 * @example const session = startTraining(model, { optimizer: "sgd", lr: 0.1, momentum: null, batchSize: 16 }); session.applyStep({ split: data.train, from: 0, to: 16, order: null }); session.dispose();
 */
export function startTraining(model: Model, settings: SessionSettings): TrainingSession {
  const { layers } = model;
  useLayouts(model, layers.slice(1).map((outputs, k) => preferredLayout(layers[k]!, outputs, settings.batchSize, k === 0)));
  const optimizer = createOptimizer(settings.optimizer, settings.lr, settings.momentum ?? undefined);
  // On wasm the forward and backward pass run as SIMD kernels on the wasm heap (wasm-step.ts), bit-identical to
  // the tensor-op step below with far fewer calls; plain SGD's update is fused in, other rules get the gradients.
  const whole = wasmStep(layers, settings.batchSize);
  const output = settings.optimizer === "sgd" ? "sgd" : "gradients";
  const update = (current: EngineLayer[], source: BatchSource): { loss: number; next: tf.Tensor2D[] | null } => {
    const params = current.map((layer) => layer.params);
    if (whole) {
      const { loss, tensors } = whole.step(current, source, optimizer.gradientScale, output);
      if (!tensors || output === "sgd") return { loss, next: tensors };
      const next = tf.tidy(() => optimizer.apply(params, tensors));
      tf.dispose(tensors);
      return { loss, next };
    }
    const batch = splitBatch(source.split, source.from, source.to, source.order, true);
    let loss = NaN;
    const next = tf.tidy(() => {
      const result = lossAndGradients(current, batch, optimizer.gradientScale);
      loss = result.loss;
      return result.grads ? optimizer.apply(params, result.grads) : [];
    });
    return { loss, next: next.length > 0 ? next : null };
  };
  return {
    applyStep(source: BatchSource): StepOutcome {
      const current = engineLayers(model);
      const { loss, next } = update(current, source);
      if (!next) return { loss, applied: false };
      replaceTensors(model, current.map((layer, k) => ({ params: next[k]!, layout: layer.layout })));
      setTrainedSteps(model, model.trainedSteps + 1);
      return { loss, applied: true };
    },
    setLr: (lr) => optimizer.setLr(lr),
    dispose: () => {
      optimizer.dispose();
      whole?.dispose();
    },
  };
}
