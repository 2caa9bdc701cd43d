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
import { adamScalars, PYTORCH_DEFAULTS, rmspropScalars, type OptimizerName } from "./update-rules";

/** The update rule and its settings. */
export interface UpdateRule {
  optimizer: OptimizerName;
  lr: number;
  /** Optimizer "momentum"'s coefficient (null: PyTorch's default). */
  momentum: number | null;
}

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
  const sgd = rule.optimizer === "sgd";
  const slots = { sgd: 0, momentum: 1, adam: 2, adagrad: 1, rmsprop: 1 }[rule.optimizer];
  const buffers: number[] = [];
  const floats = (count: number): number => {
    const at = heap.alloc(count * 4);
    buffers.push(at);
    return at;
  };
  // [current, other] for SGD (ping-pong), [params, gradient] for the others; then the rule's state slots.
  const params = counts.map((count, k) => {
    const at = floats(count);
    heap.floats(at, count).set(spec.params[k]!);
    return at;
  });
  const second = counts.map((count) => floats(count));
  const state = counts.map((count) => Array.from({ length: slots }, () => floats(count)));
  const scratch = allocateStepBuffers(heap, sizes, batchSize);
  const { kernels } = step;
  let lr = rule.lr;
  let steps = 0;
  const mu = rule.momentum ?? PYTORCH_DEFAULTS.momentum;

  const update = (): void => {
    steps++;
    counts.forEach((n, k) => {
      const [p, g, s] = [params[k]!, second[k]!, state[k]!];
      if (rule.optimizer === "momentum") kernels.momentum(p, s[0]!, g, n, mu);
      else if (rule.optimizer === "adam") {
        const { c, e } = adamScalars(lr, steps);
        kernels.adam(p, s[0]!, s[1]!, g, n, c, e, PYTORCH_DEFAULTS.adam.beta1, PYTORCH_DEFAULTS.adam.beta2);
      } else if (rule.optimizer === "adagrad") kernels.adagrad(p, s[0]!, g, n, lr, PYTORCH_DEFAULTS.adagrad.eps);
      else if (rule.optimizer === "rmsprop") {
        const { stepSize, eps } = rmspropScalars(lr);
        kernels.rmsprop(p, s[0]!, g, n, PYTORCH_DEFAULTS.rmsprop.alpha, stepSize, eps);
      }
    });
  };

  return {
    step(source) {
      // SGD and momentum take the gradient scaled by −lr (both rules are linear in it); the others the plain one.
      const gradientScale = sgd || rule.optimizer === "momentum" ? -lr : 1;
      const layers: StepLayer[] = counts.map((_, k) => ({ params: params[k]!, layout: layouts[k]!, out: second[k]! }));
      const loss = trainingStep(heap, step, scratch, sizes, layers, source, gradientScale, sgd ? "sgd" : "gradients");
      if (!Number.isFinite(Math.fround(loss))) return loss;
      if (sgd) counts.forEach((_, k) => ([params[k], second[k]] = [second[k]!, params[k]!]));
      else update();
      return loss;
    },
    read: () => counts.map((count, k) => heap.floats(params[k]!, count).slice()),
    setLr(next) {
      // Momentum's buffer holds −lr·b: rescaled so it holds −lr'·b, PyTorch's buffer b times the new rate.
      if (rule.optimizer === "momentum") counts.forEach((n, k) => kernels.scale(state[k]![0]!, n, next / lr));
      lr = next;
    },
    dispose() {
      for (const at of buffers.splice(0)) heap.release(at);
      releaseStepBuffers(heap, scratch);
    },
  };
}
