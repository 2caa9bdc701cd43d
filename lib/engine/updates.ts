/**
 * The update rules on the engine's heap: each trained array and its gradient, the rule's state beside them, one
 * kernel per array per step, in place. PyTorch's arithmetic (`model/optimizers.ts` has the same rules as tensor
 * ops, for the tensor route): weight decay adds wd·p to the gradient (L2, torch.optim's `weight_decay`), AdamW
 * shrinks the parameters by (1 − lr·wd) before Adam's step.
 */
import type { Kernels } from "./kernels";
import { adamScalars, PYTORCH_DEFAULTS, rmspropScalars, type OptimizerName } from "./update-rules";

/** The update rule and its settings. */
export interface UpdateRule {
  optimizer: OptimizerName;
  lr: number;
  /** Optimizer "momentum"'s coefficient (null: PyTorch's default). */
  momentum: number | null;
  /** L2 (Adam, SGD…: added to the gradient) or decoupled (AdamW) weight decay; 0 for none. */
  weightDecay: number;
}

/** A trained array and its gradient, on the heap. */
export interface Trained {
  params: number;
  grads: number;
  length: number;
}

/**
 * The rule over `arrays`: `gradientScale` is what the loss's gradient must be multiplied by (−lr for SGD and
 * momentum, whose updates are linear in it; 1 for the others), `apply` updates every array from its gradient.
 * @example const updater = createUpdater(kernels, rule, arrays, (n) => heap.alloc(n * 4)); updater.apply();
 */
export function createUpdater(kernels: Kernels, rule: UpdateRule, arrays: readonly Trained[], allocate: (floats: number) => number) {
  const slots = { sgd: 0, momentum: 1, adam: 2, adamw: 2, adagrad: 1, rmsprop: 1 }[rule.optimizer];
  const state = arrays.map((array) => Array.from({ length: slots }, () => allocate(array.length)));
  const linear = rule.optimizer === "sgd" || rule.optimizer === "momentum";
  const mu = rule.momentum ?? PYTORCH_DEFAULTS.momentum;
  const decay = rule.weightDecay;
  let lr = rule.lr;
  let steps = 0;
  return {
    get gradientScale(): number {
      return linear ? -lr : 1;
    },
    apply(): void {
      steps++;
      const adam = rule.optimizer === "adam" || rule.optimizer === "adamw" ? adamScalars(lr, steps) : null;
      arrays.forEach(({ params: p, grads: g, length: n }, k) => {
        const s = state[k]!;
        // L2 decay joins the gradient, which arrives scaled by −lr for the linear rules.
        if (decay !== 0 && rule.optimizer !== "adamw") kernels.addScaled(g, p, n, linear ? -lr * decay : decay);
        if (rule.optimizer === "sgd") kernels.addTo(p, g, n);
        else if (rule.optimizer === "momentum") kernels.momentum(p, s[0]!, g, n, mu);
        else if (adam) {
          if (rule.optimizer === "adamw" && decay !== 0) kernels.scale(p, n, 1 - lr * decay);
          kernels.adam(p, s[0]!, s[1]!, g, n, adam.c, adam.e, PYTORCH_DEFAULTS.adam.beta1, PYTORCH_DEFAULTS.adam.beta2);
        } else if (rule.optimizer === "adagrad") kernels.adagrad(p, s[0]!, g, n, lr, PYTORCH_DEFAULTS.adagrad.eps);
        else {
          const { stepSize, eps } = rmspropScalars(lr);
          kernels.rmsprop(p, s[0]!, g, n, PYTORCH_DEFAULTS.rmsprop.alpha, stepSize, eps);
        }
      });
    },
    /** From the next step on; the state carries on (momentum's buffer, which holds −lr·b, is rescaled). */
    setLr(next: number): void {
      if (rule.optimizer === "momentum") arrays.forEach(({ length }, k) => kernels.scale(state[k]![0]!, length, next / lr));
      lr = next;
    },
  };
}
