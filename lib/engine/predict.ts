/**
 * Logits of a trained model for many images on the engine: batches of the images through the training step's own
 * forward pass (`step.ts`), so a prediction's numbers are those training computed.
 */
import type { EngineHeap } from "./heap";
import { allocateStepBuffers, forwardPass, releaseStepBuffers, type StepKernels } from "./step";
import type { LayerLayout } from "./tensor-step";

/** A model's numbers: layer sizes, each layer's matrix in its layout. */
export interface ModelNumbers {
  sizes: readonly number[];
  layouts: readonly LayerLayout[];
  params: readonly Float32Array[];
}

/** What to predict: `count` images of `sizes[0]` pixels, as bytes (0–255) or as floats. */
export type PredictInput = { bytes: Uint8Array; count: number } | { floats: Float32Array; count: number };

/**
 * Row-major logits [count][outputs] of `input`, `batchSize` images per forward pass.
 * @example const logits = predictLogits(heap, kernels, model, { bytes: data.test.images, count: 10000 }, 1000);
 */
export function predictLogits(heap: EngineHeap, { kernels, gemm }: StepKernels, model: ModelNumbers, input: PredictInput, batchSize: number): Float32Array {
  const { sizes, layouts } = model;
  const [inputs, outputs] = [sizes[0]!, sizes[sizes.length - 1]!];
  const count = input.count;
  const logits = new Float32Array(count * outputs);
  if (count === 0) return logits;
  const batch = Math.min(batchSize, count);
  const plan = allocateStepBuffers(heap, sizes, batch);
  const params = model.params.map((values) => {
    const at = heap.alloc(values.length * 4);
    heap.floats(at, values.length).set(values);
    return at;
  });
  const layers = params.map((at, k) => ({ params: at, layout: layouts[k]! }));
  try {
    for (let from = 0; from < count; from += batch) {
      const size = Math.min(batch, count - from);
      if ("bytes" in input) {
        heap.bytes(plan.stage, size * inputs).set(input.bytes.subarray(from * inputs, (from + size) * inputs));
        kernels.pixels(plan.stage, plan.rows[0]!, size, inputs);
      } else {
        const rows = heap.floats(plan.rows[0]!, size * (inputs + 1));
        for (let j = 0; j < size; j++) {
          rows.set(input.floats.subarray((from + j) * inputs, (from + j + 1) * inputs), j * (inputs + 1));
          rows[j * (inputs + 1) + inputs] = 1;
        }
      }
      kernels.transpose(plan.rows[0]!, plan.cols[0]!, size, inputs + 1);
      forwardPass(heap, gemm, kernels.transpose, plan, sizes, layers, size);
      const out = heap.floats(plan.logits, size * outputs);
      if (layouts[layouts.length - 1] === "inputMajor") logits.set(out, from * outputs);
      else for (let c = 0; c < outputs; c++) for (let j = 0; j < size; j++) logits[(from + j) * outputs + c] = out[c * size + j]!;
    }
  } finally {
    for (const at of params) heap.release(at);
    releaseStepBuffers(heap, plan);
  }
  return logits;
}
