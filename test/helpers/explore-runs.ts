/** Hand-made runs on an lr × batch grid for the explorer's tests: deterministic, one diverged, no tfjs. */
import type { ExploreRun } from "../../lib/figures/explore";

export const LRS = [0.0001, 0.001, 0.01, 0.1, 1, 10];
export const BATCHES = [1, 16, 100, 1000];

/** One run per (lr, batch): accuracy peaks in the middle; lr 10 at batch 1 diverges at step 7. */
export function gridRuns(lrs = LRS, batches = BATCHES): ExploreRun[] {
  return lrs.flatMap((lr, i) =>
    batches.map((batchSize, j): ExploreRun => {
      const steps = Math.max(4, Math.round(600 / batchSize));
      const diverges = lr === 10 && batchSize === 1;
      const losses = Float32Array.from({ length: diverges ? 7 : steps }, (_, s) => (diverges && s === 6 ? NaN : 2.3 / (1 + s * lr * (j + 1)) + 0.01 * i));
      return {
        label: `lr ${lr} batch ${batchSize}`,
        losses,
        accuracy: diverges ? NaN : 60 + 5 * i - 2 * j,
        settings: { lr, batchSize, optimizer: "sgd" },
        diverged: diverges ? { step: 7, loss: NaN } : null,
        ...(batchSize === 16 ? { evaluations: [{ step: steps / 2, accuracy: 50 + i }, { step: steps, accuracy: 60 + i }] } : {}),
      };
    }),
  );
}
