/**
 * Multi-layer perceptrons: layer sizes, seeded initialisation, a readable summary, weights read back as plain
 * arrays, and prediction in batches.
 *
 * Initial values are generated in JavaScript from `lib/random`, so a seed means the same weights on every
 * backend, and they only become tensors when first used (after `train` has initialised the backend).
 * Each layer is stored as ONE matrix, weights plus the bias as a last column or row, in the orientation the
 * engine multiplies fastest (see `engine.ts`). `weights()` turns it into the [inputs][outputs] kernel and the
 * bias vector the charts expect.
 */
import type { Split } from "../data/data";
import { pixelBatch, splitBatch } from "../data/batch";
import { predictionEngine } from "../engine/backend";
import { forwardLogits, wantsColumns } from "../engine/tensor-step";
import { attachState, disposeState, engineLayers, liveState, modelState } from "./model-state";
import { argmaxRows } from "../math/metrics";
import { formatCount } from "../math/format";
import { seededRandom } from "../math/random";

/**
 * Initialisations `mlp` knows.
 * @example for (const init of INITS) mlp([784, 10], { init });
 */
export const INITS = ["torch", "glorot", "zeros"] as const;
/**
 * `torch`: PyTorch's nn.Linear default, weights and biases uniform in ±1/√fan_in. `glorot`: Glorot-uniform
 * weights (±√(6/(fan_in + fan_out))), zero biases. `zeros`: every weight and bias 0.
 * @example const init: Init = "zeros"; mlp([784, 10], { init });
 */
export type Init = (typeof INITS)[number];

/** Options of `mlp`. */
export interface MlpOptions {
  /** Default "torch" (what the original PyTorch notebooks used). */
  init?: Init;
  /** Seed of the initial values. Default 0. */
  seed?: number;
}

/**
 * One dense layer's parameters as plain arrays. `kernel` is row-major [inputs][outputs]: the weight from input
 * i to unit j is at `i * outputs + j`.
 * @example const { shape: [inputs, outputs], kernel }: LayerWeights = model.weights(0); kernel[3 * outputs + 2]; // pixel 3 → unit 2
 */
export interface LayerWeights {
  shape: [inputs: number, outputs: number];
  kernel: Float32Array;
  bias: Float32Array;
}

/** Output of `Model.predict`: logits row-major [count][outputs] and the predicted class of each input. */
export interface Prediction {
  count: number;
  outputs: number;
  logits: Float32Array;
  classes: Int32Array;
}

/** Options of `Model.predict`. */
export interface PredictOptions {
  /** Images per forward pass. Default 1000 (large batches are fastest; memory stays small). */
  batchSize?: number;
}

/**
 * A ReLU multi-layer perceptron that outputs logits. Build one with `mlp` (or `modelFromWeights`).
 * @example const model = mlp([784, 500, 10]); console.log(model.summary());
 */
export class Model {
  /** Layer sizes, inputs first: [784, 500, 10]. */
  readonly layers: readonly number[];
  /** How the initial values were made ("custom" for `modelFromWeights`). */
  readonly init: Init | "custom";
  readonly seed: number;
  /** Number of weights and biases. */
  readonly parameterCount: number;

  /** Use `mlp(...)` or `modelFromWeights(...)`; `values` are [outputs][inputs + 1] per layer. */
  constructor(layers: readonly number[], init: Init | "custom", seed: number, values: Float32Array[]) {
    this.layers = Object.freeze([...layers]);
    this.init = init;
    this.seed = seed;
    this.parameterCount = layers.slice(1).reduce((total, units, k) => total + units * (layers[k]! + 1), 0);
    attachState(this, values);
  }

  /** Optimizer steps this model has been trained for (0: fresh). */
  get trainedSteps(): number {
    return modelState(this).trainedSteps;
  }

  /**
   * A readable description: each layer, its parameter count, the ReLUs, the total.
   * @example mlp([784, 10]).summary(); // "MLP 784→10 (init torch, seed 0)\n  Dense 784→10 (7,850 params)\n  Total 7,850 params"
   */
  summary(): string {
    const lines = [`MLP ${this.layers.join("→")} (init ${this.init}, seed ${this.seed}${this.trainedSteps ? `, trained ${formatCount(this.trainedSteps)} steps` : ""})`];
    for (let k = 1; k < this.layers.length; k++) {
      const inputs = this.layers[k - 1]!;
      const outputs = this.layers[k]!;
      lines.push(`  Dense ${inputs}→${outputs} (${formatCount(outputs * (inputs + 1))} params)`);
      if (k < this.layers.length - 1) lines.push("  ReLU");
    }
    lines.push(`  Total ${formatCount(this.parameterCount)} params`);
    return lines.join("\n");
  }

  /**
   * Layer `layer`'s weights and biases as plain arrays (layer 0 is the first dense layer).
   * @example const { kernel, shape: [inputs, outputs] } = run.model.weights(0); // 784 × 10 for mlp([784, 10])
   */
  weights(layer: number): LayerWeights {
    const layerCount = this.layers.length - 1;
    if (!Number.isInteger(layer) || layer < 0 || layer >= layerCount) {
      const allowed = layerCount === 1 ? "0" : `from 0 to ${layerCount - 1}`;
      const given = typeof layer === "string" ? `the string "${layer}" (pass a number)` : String(layer);
      throw new RangeError(
        `weights(layer): expected a layer index ${allowed} (this model has ${layerCount} dense ` +
          `layer${layerCount === 1 ? "" : "s"}: ${this.layers.join("→")}), got ${given}`,
      );
    }
    const state = liveState(this);
    const inputs = this.layers[layer]!;
    const outputs = this.layers[layer + 1]!;
    const stored = state.tensors ? engineLayers(this)[layer]! : null;
    const values = stored ? (stored.params.dataSync() as Float32Array) : state.values![layer]!;
    if (stored?.layout === "inputMajor") {
      // [inputs + 1][outputs]: the kernel followed by the bias row.
      return { shape: [inputs, outputs], kernel: values.slice(0, inputs * outputs), bias: values.slice(inputs * outputs) };
    }
    const kernel = new Float32Array(inputs * outputs);
    const bias = new Float32Array(outputs);
    for (let j = 0; j < outputs; j++) {
      const row = j * (inputs + 1);
      for (let i = 0; i < inputs; i++) kernel[i * outputs + j] = values[row + i]!;
      bias[j] = values[row + inputs]!;
    }
    return { shape: [inputs, outputs], kernel, bias };
  }

  /**
   * Logits and predicted classes for a split's images, or for float pixels row-major [count][inputs], on the
   * backend `initBackend` chose (call it, or `describeBackend`, first; `train` does).
   * @example const { classes } = run.model.predict(data.test); classes[0]; // 7
   */
  predict(input: Split | Float32Array, options: PredictOptions = {}): Prediction {
    const batchSize = options.batchSize ?? 1000;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new RangeError(`predict batchSize: expected a positive integer, got ${String(batchSize)}`);
    }
    const inputs = this.layers[0]!;
    const outputs = this.layers[this.layers.length - 1]!;
    const total = inputCount(input, inputs);
    const tensors = engineLayers(this);
    const engine = predictionEngine();
    if (engine) {
      const numbers = { sizes: this.layers, layouts: tensors.map((layer) => layer.layout), params: tensors.map((layer) => layer.params.dataSync() as Float32Array) };
      const images = input instanceof Float32Array ? { floats: input, count: total } : { bytes: input.images, count: total };
      const logits = engine.predict(numbers, images, batchSize);
      return { count: total, outputs, logits, classes: argmaxRows(logits, outputs) };
    }
    const withColumns = wantsColumns(tensors);
    const logits = new Float32Array(total * outputs);
    for (let from = 0; from < total; from += batchSize) {
      const to = Math.min(from + batchSize, total);
      const batch = input instanceof Float32Array
        ? pixelBatch(input, inputs, from, to, withColumns)
        : splitBatch(input, from, to, null, withColumns);
      logits.set(forwardLogits(tensors, batch), from * outputs);
    }
    return { count: total, outputs, logits, classes: argmaxRows(logits, outputs) };
  }

  /** Whether `dispose` was called: a disposed model cannot predict, train or be saved. */
  get disposed(): boolean {
    return modelState(this).disposed;
  }

  /** Free the model's tensors; it cannot be used afterwards. */
  dispose(): void {
    disposeState(this);
  }

  /** What `console.log(model)` shows in a notebook. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.summary();
  }
}

/**
 * A ReLU MLP with layer sizes `layers` (inputs first, logits last), seeded initial values.
 * @example const model = mlp([784, 500, 10], { init: "glorot", seed: 1 });
 */
export function mlp(layers: readonly number[], options: MlpOptions = {}): Model {
  const { init, seed } = checkMlp(layers, options);
  const random = seededRandom(seed);
  const values = layers.slice(1).map((outputs, k) => {
    const inputs = layers[k]!;
    const layer = new Float32Array(outputs * (inputs + 1));
    if (init === "zeros") return layer;
    // PyTorch order: the [out][in] weights row by row, then the biases.
    const bound = init === "torch" ? 1 / Math.sqrt(inputs) : Math.sqrt(6 / (inputs + outputs));
    for (let j = 0; j < outputs; j++) {
      for (let i = 0; i < inputs; i++) layer[j * (inputs + 1) + i] = (2 * random() - 1) * bound;
    }
    if (init === "torch") for (let j = 0; j < outputs; j++) layer[j * (inputs + 1) + inputs] = (2 * random() - 1) * bound;
    return layer;
  });
  return new Model(layers, init, seed, values);
}

/**
 * Check `mlp`'s arguments without building the model (e.g. a whole sweep before its first run), filling in defaults.
 * @example checkMlp([784, 10], {}); // { init: "torch", seed: 0 }
 */
export function checkMlp(layers: readonly number[], options: MlpOptions): Required<MlpOptions> {
  checkLayers(layers);
  const init = options.init ?? "torch";
  const seed = options.seed ?? 0;
  if (!(INITS as readonly string[]).includes(init)) {
    throw new RangeError(`init: expected one of ${INITS.join(", ")}; got "${String(init)}"`);
  }
  if (!Number.isInteger(seed)) throw new RangeError(`seed: expected an integer, got ${String(seed)}`);
  return { init, seed };
}

/**
 * A model with given weights, e.g. to reproduce a PyTorch run exactly or to continue from saved weights.
 * @example const copy = modelFromWeights([run.model.weights(0)]);
 */
export function modelFromWeights(weights: readonly LayerWeights[]): Model {
  if (weights.length === 0) throw new RangeError("modelFromWeights: expected at least one layer, got none");
  const layers = [weights[0]!.shape[0], ...weights.map((w) => w.shape[1])];
  checkLayers(layers);
  const values = weights.map((w, k) => {
    const [inputs, outputs] = w.shape;
    if (inputs !== layers[k] || w.kernel.length !== inputs * outputs || w.bias.length !== outputs) {
      throw new RangeError(
        `modelFromWeights: layer ${k} expected a ${layers[k]}×${outputs} kernel (${layers[k]! * outputs} values) and ` +
          `${outputs} biases; got shape ${inputs}×${outputs}, ${w.kernel.length} kernel values, ${w.bias.length} biases`,
      );
    }
    const layer = new Float32Array(outputs * (inputs + 1));
    for (let j = 0; j < outputs; j++) {
      for (let i = 0; i < inputs; i++) layer[j * (inputs + 1) + i] = w.kernel[i * outputs + j]!;
      layer[j * (inputs + 1) + inputs] = w.bias[j]!;
    }
    return layer;
  });
  return new Model(layers, "custom", 0, values);
}

/**
 * Most weights and biases one model may have (500 MB as float32). Training holds several copies of them at once
 * (gradients, the updated values, Adam's two moments) in the wasm backend's memory, which cannot grow past 4 GB.
 * @example mlp([784, 100_000, 10]); // 79 million: fine
 */
export const MAX_PARAMETERS = 125_000_000;

function checkLayers(layers: readonly number[]): void {
  if (!Array.isArray(layers) || layers.length < 2) {
    throw new RangeError(`layers: expected at least two sizes (inputs, then outputs), e.g. [784, 10]; got ${JSON.stringify(layers)}`);
  }
  const bad = layers.findIndex((size) => !Number.isInteger(size) || size < 1);
  if (bad >= 0) {
    throw new RangeError(`layers[${bad}]: expected a positive integer number of units, got ${String(layers[bad])}`);
  }
  const sizes = layers.slice(1).map((units, k) => units * (layers[k]! + 1));
  const total = sizes.reduce((a, b) => a + b, 0);
  if (total > MAX_PARAMETERS) {
    const k = sizes.indexOf(Math.max(...sizes));
    const [what, size] = sizes[k]! > MAX_PARAMETERS
      ? [`layers[${k + 1}]: a layer of ${formatCount(layers[k + 1]!)} units on ${formatCount(layers[k]!)} inputs has`, sizes[k]!]
      : [`layers: the model ${layers.join("→")} has`, total];
    throw new RangeError(
      `${what} ${formatCount(size)} weights and biases, which need ${bytes(4 * size)} as float32; the limit is ${formatCount(MAX_PARAMETERS)} ` +
        `per model (${bytes(4 * MAX_PARAMETERS)}), so that training's copies of them fit in the wasm backend's 4 GB of memory`,
    );
  }
}

function bytes(n: number): string {
  const units = ["bytes", "kB", "MB", "GB", "TB", "PB"];
  const power = Math.min(units.length - 1, Math.floor(Math.log10(Math.max(1, n)) / 3));
  return `${(n / 1000 ** power).toFixed(power === 0 ? 0 : 1).replace(/\.0$/, "")} ${units[power]}`;
}

function inputCount(input: Split | Float32Array, inputs: number): number {
  if (input instanceof Float32Array) {
    if (input.length === 0 || input.length % inputs !== 0) {
      throw new RangeError(`predict: expected pixels for whole images of ${inputs} values, got ${input.length} values`);
    }
    return input.length / inputs;
  }
  if (input.rows * input.cols !== inputs) {
    throw new RangeError(
      `predict: the model takes ${inputs} inputs but the images have ${input.rows}×${input.cols} = ${input.rows * input.cols} pixels`,
    );
  }
  return input.count;
}
