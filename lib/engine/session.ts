/**
 * A model in training on the engine: its parameters, the update rule's state and the step's scratch buffers, all
 * on the engine's heap for the whole run, updated in place by the kernels; nothing is allocated per step.
 *
 * Plain SGD fuses its update into the gradient product (p + (−lr)·g written as the product's epilogue), so each
 * layer keeps two parameter buffers and the step writes the new parameters into the other one: a product's tiles
 * may overlap at the right edge, so it cannot read and write the same buffer. The other rules write the gradient
 * into a buffer of its own and update the parameters in place with their kernel, in PyTorch's arithmetic
 * (`model/optimizers.ts` has the same rules as tensor ops, for the tensor route).
 */
import type { EngineHeap } from "./heap";
import { allocateStepBuffers, releaseStepBuffers, trainingStep, type BatchSource, type StepKernels, type StepLayer } from "./step";
import type { LayerLayout } from "./tensor-step";
import { createUpdater, type UpdateRule } from "./updates";

export type { UpdateRule } from "./updates";

/** What a session trains: layer sizes, each layer's parameters (in its layout) and the batch size. */
export interface SessionSpec {
  sizes: readonly number[];
  layouts: readonly LayerLayout[];
  /** Each layer's matrix in its layout: [outputs][inputs + 1] ("unitMajor") or [inputs + 1][outputs]. */
  params: readonly Float32Array[];
  batchSize: number;
  rule: UpdateRule;
}

/**
 * A model in training on the engine: one step at a time; `read` copies the current parameters out.
 * @example const session = engine.startSession(spec); const loss = session.step(source); const params = session.read(); session.dispose();
 */
export interface EngineSession {
  /** One optimizer step; its loss. The update is applied only when the loss is finite. */
  step(source: BatchSource): number;
  /** The current parameters, one copy per layer, in the layouts of the spec. */
  read(): Float32Array[];
  /** Use learning rate `lr` from the next step on; the rule's state carries on. */
  setLr(lr: number): void;
  /** Give every buffer back to the heap. */
  dispose(): void;
}

/**
 * Start a session on `heap` with `kernels` (`threads`: whether big products may be split).
 * @example const session = startSession(heap, { kernels, gemm }, spec);
 */
export function startSession(heap: EngineHeap, step: StepKernels, spec: SessionSpec): EngineSession {
  const { sizes, layouts, batchSize, rule } = spec;
  const counts = sizes.slice(1).map((outputs, k) => outputs * (sizes[k]! + 1));
  spec.params.forEach((values, k) => {
    if (values.length !== counts[k]) throw new RangeError(`startSession: layer ${k} has ${values.length} parameters, expected ${counts[k]}`);
  });
  // Plain SGD without weight decay fuses its update into the gradient product.
  const fused = rule.optimizer === "sgd" && rule.weightDecay === 0;
  const buffers: number[] = [];
  const floats = (count: number): number => {
    const at = heap.alloc(count * 4);
    buffers.push(at);
    return at;
  };
  // [current, other] for fused SGD (ping-pong), [params, gradient] for the others, whose rule has its own state.
  const params = counts.map((count, k) => {
    const at = floats(count);
    heap.floats(at, count).set(spec.params[k]!);
    return at;
  });
  const second = counts.map((count) => floats(count));
  const updater = createUpdater(step.kernels, rule, counts.map((length, k) => ({ params: params[k]!, grads: second[k]!, length })), floats);
  const scratch = allocateStepBuffers(heap, sizes, batchSize);

  return {
    step(source) {
      const layers: StepLayer[] = counts.map((_, k) => ({ params: params[k]!, layout: layouts[k]!, out: second[k]! }));
      const loss = trainingStep(heap, step, scratch, sizes, layers, source, updater.gradientScale, fused ? "sgd" : "gradients");
      if (!Number.isFinite(Math.fround(loss))) return loss;
      if (fused) counts.forEach((_, k) => ([params[k], second[k]] = [second[k]!, params[k]!]));
      else updater.apply();
      return loss;
    },
    read: () => counts.map((count, k) => heap.floats(params[k]!, count).slice()),
    setLr: (lr) => updater.setLr(lr),
    dispose() {
      for (const at of buffers.splice(0)) heap.release(at);
      releaseStepBuffers(heap, scratch);
    },
  };
}
