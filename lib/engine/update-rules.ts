/**
 * The update rules' names, PyTorch's defaults, and the scalars each step's update uses: shared by the engine's
 * kernels (`session.ts`) and the tensor route (`model/optimizers.ts`), so both compute them the same way.
 */

/**
 * The optimizers `train` accepts.
 * @example OPTIMIZERS.includes("adam"); // true
 */
export const OPTIMIZERS = ["sgd", "momentum", "adam", "adamw", "adagrad", "rmsprop"] as const;
/**
 * One of `OPTIMIZERS`.
 * @example const optimizer: OptimizerName = "adam"; await train(mlp([784, 10]), data, { optimizer, lr: 0.001 });
 */
export type OptimizerName = (typeof OPTIMIZERS)[number];

/**
 * PyTorch's defaults, which these rules use.
 * @example PYTORCH_DEFAULTS.adam.eps; // 1e-8
 */
export const PYTORCH_DEFAULTS = {
  /** torch.optim.SGD(momentum=0.9), dampening 0, no Nesterov. */
  momentum: 0.9,
  adam: { beta1: 0.9, beta2: 0.999, eps: 1e-8 },
  /** initial_accumulator_value 0, lr_decay 0. */
  adagrad: { eps: 1e-10 },
  /** Not centered, no momentum. */
  rmsprop: { alpha: 0.99, eps: 1e-8 },
} as const;

/**
 * Adam's step size c and epsilon e at step t (from 1), for its state kept as M = m/(1−β1) and V = v/(1−β2):
 * p ← p − c·M / (√V + e), c = lr·(1−β1)·√(1−β2ᵗ) / ((1−β1ᵗ)·√(1−β2)), e = ε·√(1−β2ᵗ)/√(1−β2). PyTorch's update,
 * algebraically.
 * @example adamScalars(0.001, 1); // { c: 0.001..., e: ... }
 */
export function adamScalars(lr: number, t: number): { c: number; e: number } {
  const { beta1, beta2, eps } = PYTORCH_DEFAULTS.adam;
  const correction2 = Math.sqrt(1 - beta2 ** t) / Math.sqrt(1 - beta2);
  return { c: (lr * (1 - beta1) * correction2) / (1 - beta1 ** t), e: eps * correction2 };
}

/**
 * RMSprop's step size and epsilon for its state kept as A = a/(1−α): p ← p − (lr/√(1−α))·g / (√A + ε/√(1−α)).
 * @example rmspropScalars(0.01).stepSize; // 0.1
 */
export function rmspropScalars(lr: number): { stepSize: number; eps: number } {
  const { alpha, eps } = PYTORCH_DEFAULTS.rmsprop;
  const scale = Math.sqrt(1 - alpha);
  return { stepSize: lr / scale, eps: eps / scale };
}
