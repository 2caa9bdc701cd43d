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
import { adamScalars, OPTIMIZERS, PYTORCH_DEFAULTS, rmspropScalars, type OptimizerName } from "../engine/update-rules";

export { OPTIMIZERS, PYTORCH_DEFAULTS, type OptimizerName } from "../engine/update-rules";

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
export function createOptimizer(name: OptimizerName, lr: number, momentum: number = PYTORCH_DEFAULTS.momentum, weightDecay = 0): Optimizer {
  const optimizer = ((): Stateful => {
    switch (name) {
      case "sgd":
        return new Sgd(lr);
      case "momentum":
        return new Momentum(lr, momentum);
      case "adam":
      case "adamw":
        return new Adam(lr, name);
      case "adagrad":
        return new Adagrad(lr);
      case "rmsprop":
        return new RmsProp(lr);
      default:
        throw new RangeError(`optimizer: expected one of ${OPTIMIZERS.join(", ")}; got "${String(name)}"`);
    }
  })();
  optimizer.weightDecay = weightDecay;
  return optimizer;
}

/** Per-layer state tensors (zeros at first), replaced every step; scalars made once. */
abstract class Stateful implements Optimizer {
  abstract readonly name: OptimizerName;
  gradientScale = 1;
  /** L2 weight decay (added to the gradient; AdamW: decoupled), 0 for none. */
  weightDecay = 0;
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

  /**
   * The gradients with weight decay's L2 term added, as the engine's kernels add it: g + p·wd, or, for the rules
   * whose gradient arrives scaled by −lr, g + p·(−lr·wd). Call inside `tf.tidy`.
   */
  protected decayed(params: readonly tf.Tensor2D[], grads: readonly tf.Tensor2D[]): readonly tf.Tensor2D[] {
    if (this.weightDecay === 0) return grads;
    const factor = this.gradientScale === 1 ? this.weightDecay : this.gradientScale * this.weightDecay;
    return grads.map((g, k) => tf.add(g, tf.mul(params[k]!, factor)) as tf.Tensor2D);
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
  apply(params: readonly tf.Tensor2D[], gradients: readonly tf.Tensor2D[]): tf.Tensor2D[] {
    const grads = this.decayed(params, gradients);
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
  apply(params: readonly tf.Tensor2D[], gradients: readonly tf.Tensor2D[]): tf.Tensor2D[] {
    const grads = this.decayed(params, gradients);
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
 * Algebraically identical; 10 elementwise ops per layer instead of 12. The engine's kernel (`engine/kernels/adam.c`)
 * makes the same float32 operations in the same order.
 */
class Adam extends Stateful {
  private readonly beta1: tf.Scalar;
  private readonly beta2: tf.Scalar;
  constructor(private lr: number, readonly name: "adam" | "adamw") {
    super();
    this.beta1 = this.constant(PYTORCH_DEFAULTS.adam.beta1);
    this.beta2 = this.constant(PYTORCH_DEFAULTS.adam.beta2);
  }
  setLr(lr: number): void {
    this.lr = lr;
  }
  apply(current: readonly tf.Tensor2D[], gradients: readonly tf.Tensor2D[]): tf.Tensor2D[] {
    const { c, e } = adamScalars(this.lr, ++this.steps);
    const stepSize = tf.scalar(c);
    const epsilon = tf.scalar(e);
    // AdamW shrinks the parameters first (PyTorch: p.mul_(1 − lr·wd)); Adam adds the decay to the gradient.
    const decoupled = this.name === "adamw" && this.weightDecay !== 0;
    const params = decoupled ? current.map((p) => tf.mul(p, 1 - this.lr * this.weightDecay) as tf.Tensor2D) : current;
    const grads = this.name === "adamw" ? gradients : this.decayed(current, gradients);
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
  apply(params: readonly tf.Tensor2D[], gradients: readonly tf.Tensor2D[]): tf.Tensor2D[] {
    const grads = this.decayed(params, gradients);
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
    const { stepSize, eps } = rmspropScalars(lr);
    this.stepSize = this.constant(stepSize);
    this.alpha = this.constant(PYTORCH_DEFAULTS.rmsprop.alpha);
    this.eps = this.constant(eps);
  }
  setLr(lr: number): void {
    this.stepSize = this.constant(rmspropScalars(lr).stepSize);
  }
  apply(params: readonly tf.Tensor2D[], gradients: readonly tf.Tensor2D[]): tf.Tensor2D[] {
    const grads = this.decayed(params, gradients);
    return params.map((p, k) => {
      const g = grads[k]!;
      const avg = this.setState(0, k, tf.add(tf.mul(this.state(0, k, p), this.alpha), tf.square(g)));
      return tf.sub(p, tf.mul(tf.div(g, tf.add(tf.sqrt(avg), this.eps)), this.stepSize));
    });
  }
}
