/**
 * Parameter updates with PyTorch's semantics and defaults (torch.optim in 1.13), written as a few tensor ops
 * per layer. tfjs's own optimizers differ in details (Adagrad starts its accumulator at 0.1, Adam puts epsilon
 * elsewhere, momentum scales differently), and the engine's parameters are plain tensors, not variables.
 *
 * The engine's gradients arrive multiplied by `gradientScale`: plain SGD and momentum ask for −lr, so the
 * learning rate is applied once to the small logits gradient instead of once per parameter (both rules are
 * linear in the gradient, so this is the same update). Adam, Adagrad and RMSprop are not linear (their
 * epsilon fixes a scale), so they take the plain gradient.
 */
import * as tf from "@tensorflow/tfjs";
import { adamKernel } from "./adam-simd";

/**
 * The optimizers `train` accepts.
 * @example OPTIMIZERS.includes("adam"); // true
 */
export const OPTIMIZERS = ["sgd", "momentum", "adam", "adagrad", "rmsprop"] as const;
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

/** An optimizer for one training run: it owns its state tensors until `dispose`. */
export interface Optimizer {
  readonly name: OptimizerName;
  /** What the engine multiplies the gradients by before handing them to `apply`. */
  readonly gradientScale: number;
  /** New parameters from the current ones and the (scaled) gradients. Call inside `tf.tidy`. */
  apply(params: readonly tf.Tensor2D[], grads: readonly tf.Tensor2D[]): tf.Tensor2D[];
  /** Use learning rate `lr` from the next step on, as PyTorch does when a scheduler sets a param group's lr: the
   *  optimizer's state (moments, sums, momentum buffer) carries on. */
  setLr(lr: number): void;
  /** Free the state tensors (momentum buffers, moment estimates). */
  dispose(): void;
}

/**
 * An optimizer with PyTorch's update rule for `name`. `momentum` is used by "momentum" only.
 * @example const opt = createOptimizer("adam", 0.001); const next = tf.tidy(() => opt.apply(params, grads));
 */
export function createOptimizer(name: OptimizerName, lr: number, momentum: number = PYTORCH_DEFAULTS.momentum): Optimizer {
  switch (name) {
    case "sgd":
      return new Sgd(lr);
    case "momentum":
      return new Momentum(lr, momentum);
    case "adam":
      return new Adam(lr);
    case "adagrad":
      return new Adagrad(lr);
    case "rmsprop":
      return new RmsProp(lr);
    default:
      throw new RangeError(`optimizer: expected one of ${OPTIMIZERS.join(", ")}; got "${String(name)}"`);
  }
}

/** Per-layer state tensors (zeros at first), replaced every step; scalars made once. */
abstract class Stateful implements Optimizer {
  abstract readonly name: OptimizerName;
  gradientScale = 1;
  private readonly slots: tf.Tensor2D[][] = [];
  private readonly constants: tf.Scalar[] = [];
  protected steps = 0;

  abstract apply(params: readonly tf.Tensor2D[], grads: readonly tf.Tensor2D[]): tf.Tensor2D[];
  abstract setLr(lr: number): void;

  /** State `slot` of layer `layer`, created as zeros shaped like `like` on first use. */
  protected state(slot: number, layer: number, like: tf.Tensor2D): tf.Tensor2D {
    const slots = (this.slots[slot] ??= []);
    return (slots[layer] ??= tf.keep(tf.zerosLike(like)));
  }

  /** Replace a state tensor, keeping the new one past the enclosing tidy. */
  protected setState(slot: number, layer: number, value: tf.Tensor2D): tf.Tensor2D {
    const slots = this.slots[slot]!;
    slots[layer]!.dispose();
    slots[layer] = tf.keep(value);
    return value;
  }

  /** Multiply every layer's state `slot` by `factor`. */
  protected scaleState(slot: number, factor: number): void {
    const slots = this.slots[slot] ?? [];
    slots.forEach((tensor, layer) => {
      slots[layer] = tf.keep(tf.tidy(() => tf.mul(tensor, factor)));
      tensor.dispose();
    });
  }

  protected constant(value: number): tf.Scalar {
    const scalar = tf.keep(tf.scalar(value));
    this.constants.push(scalar);
    return scalar;
  }

  dispose(): void {
    for (const slots of this.slots) for (const tensor of slots) tensor?.dispose();
    for (const scalar of this.constants) scalar.dispose();
    this.slots.length = 0;
    this.constants.length = 0;
  }
}

/** p ← p − lr·g (the gradient arrives as −lr·g). */
class Sgd extends Stateful {
  readonly name = "sgd";
  constructor(lr: number) {
    super();
    this.gradientScale = -lr;
  }
  setLr(lr: number): void {
    this.gradientScale = -lr;
  }
  apply(params: readonly tf.Tensor2D[], grads: readonly tf.Tensor2D[]): tf.Tensor2D[] {
    return params.map((p, k) => tf.add(p, grads[k]!));
  }
}

/**
 * PyTorch SGD with momentum μ: b ← μ·b + g (b = g at the first step), p ← p − lr·b. With the gradient arriving
 * as −lr·g the buffer holds −lr·b, and p ← p + buffer.
 */
class Momentum extends Stateful {
  readonly name = "momentum";
  private readonly mu: tf.Scalar;
  constructor(private lr: number, momentum: number) {
    super();
    this.gradientScale = -lr;
    this.mu = this.constant(momentum);
  }
  /** The buffer holds −lr·b: rescaled so it holds −lr'·b, PyTorch's buffer b times the new rate. */
  setLr(lr: number): void {
    this.scaleState(0, lr / this.lr);
    this.lr = lr;
    this.gradientScale = -lr;
  }
  apply(params: readonly tf.Tensor2D[], grads: readonly tf.Tensor2D[]): tf.Tensor2D[] {
    return params.map((p, k) => {
      const buffer = tf.add(tf.mul(this.state(0, k, p), this.mu), grads[k]!) as tf.Tensor2D;
      return tf.add(p, this.setState(0, k, buffer));
    });
  }
}

/**
 * PyTorch Adam: m ← β1·m + (1−β1)·g, v ← β2·v + (1−β2)·g², p ← p − (lr/(1−β1ᵗ))·m / (√v/√(1−β2ᵗ) + ε).
 * The state is kept as M = m/(1−β1) and V = v/(1−β2), which update with one multiply fewer each
 * (M ← β1·M + g), and the constants move into two scalars per step:
 * p ← p − c·M / (√V + e) with c = lr·(1−β1)·√(1−β2ᵗ) / ((1−β1ᵗ)·√(1−β2)) and e = ε·√(1−β2ᵗ)/√(1−β2).
 * Algebraically identical; 10 elementwise ops per layer instead of 12. On wasm the whole update is one SIMD
 * loop in place instead (`adam-simd.ts`): the same float32 operations in the same order, bit-identical results.
 */
class Adam extends Stateful {
  readonly name = "adam";
  private readonly beta1: tf.Scalar;
  private readonly beta2: tf.Scalar;
  constructor(private lr: number) {
    super();
    this.beta1 = this.constant(PYTORCH_DEFAULTS.adam.beta1);
    this.beta2 = this.constant(PYTORCH_DEFAULTS.adam.beta2);
  }
  setLr(lr: number): void {
    this.lr = lr;
  }
  apply(params: readonly tf.Tensor2D[], grads: readonly tf.Tensor2D[]): tf.Tensor2D[] {
    const { beta1, beta2, eps } = PYTORCH_DEFAULTS.adam;
    const t = ++this.steps;
    const correction2 = Math.sqrt(1 - beta2 ** t) / Math.sqrt(1 - beta2);
    const c = (this.lr * (1 - beta1) * correction2) / (1 - beta1 ** t);
    const e = eps * correction2;
    const kernel = adamKernel();
    if (kernel) {
      // One SIMD pass per layer (adam-simd.ts): the moments in place, the parameters into a copy. The copy
      // matters: XNNPACK caches a product's packed right operand by tensor id, so parameters changed in place
      // under the same id would multiply stale weights.
      return params.map((p, k) => {
        const next = tf.clone(p);
        kernel(next, this.state(0, k, p), this.state(1, k, p), grads[k]!, c, e, beta1, beta2);
        return next;
      });
    }
    const stepSize = tf.scalar(c);
    const epsilon = tf.scalar(e);
    return params.map((p, k) => {
      const g = grads[k]!;
      const m = this.setState(0, k, tf.add(tf.mul(this.state(0, k, p), this.beta1), g));
      const v = this.setState(1, k, tf.add(tf.mul(this.state(1, k, p), this.beta2), tf.square(g)));
      return tf.sub(p, tf.mul(tf.div(m, tf.add(tf.sqrt(v), epsilon)), stepSize));
    });
  }
}

/** PyTorch Adagrad: s ← s + g² (s starts at 0), p ← p − lr·g / (√s + ε). */
class Adagrad extends Stateful {
  readonly name = "adagrad";
  private lrScalar: tf.Scalar;
  private readonly eps: tf.Scalar;
  constructor(lr: number) {
    super();
    this.lrScalar = this.constant(lr);
    this.eps = this.constant(PYTORCH_DEFAULTS.adagrad.eps);
  }
  /** The old rate's scalar is freed with the optimizer, like every constant. */
  setLr(lr: number): void {
    this.lrScalar = this.constant(lr);
  }
  apply(params: readonly tf.Tensor2D[], grads: readonly tf.Tensor2D[]): tf.Tensor2D[] {
    return params.map((p, k) => {
      const g = grads[k]!;
      const sum = this.setState(0, k, tf.add(this.state(0, k, p), tf.square(g)));
      return tf.sub(p, tf.mul(tf.div(g, tf.add(tf.sqrt(sum), this.eps)), this.lrScalar));
    });
  }
}

/**
 * PyTorch RMSprop: a ← α·a + (1−α)·g², p ← p − lr·g / (√a + ε). Kept as A = a/(1−α) (A ← α·A + g², one
 * multiply fewer): p ← p − (lr/√(1−α))·g / (√A + ε/√(1−α)).
 */
class RmsProp extends Stateful {
  readonly name = "rmsprop";
  private stepSize: tf.Scalar;
  private readonly alpha: tf.Scalar;
  private readonly eps: tf.Scalar;
  constructor(lr: number) {
    super();
    const { alpha, eps } = PYTORCH_DEFAULTS.rmsprop;
    const scale = Math.sqrt(1 - alpha);
    this.stepSize = this.constant(lr / scale);
    this.alpha = this.constant(alpha);
    this.eps = this.constant(eps / scale);
  }
  setLr(lr: number): void {
    this.stepSize = this.constant(lr / Math.sqrt(1 - PYTORCH_DEFAULTS.rmsprop.alpha));
  }
  apply(params: readonly tf.Tensor2D[], grads: readonly tf.Tensor2D[]): tf.Tensor2D[] {
    return params.map((p, k) => {
      const g = grads[k]!;
      const avg = this.setState(0, k, tf.add(tf.mul(this.state(0, k, p), this.alpha), tf.square(g)));
      return tf.sub(p, tf.mul(tf.div(g, tf.add(tf.sqrt(avg), this.eps)), this.stepSize));
    });
  }
}
