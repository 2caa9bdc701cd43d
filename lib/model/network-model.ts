/**
 * A network built with TensorFlow.js's Layers API (`tf.sequential` of conv2d, maxPooling2d, flatten, dense,
 * dropout, batchNormalization, activation), as the library trains it: its description for the engine, its numbers
 * in the engine's layouts (the model's own initial weights, or PyTorch's defaults), how its input is scaled, and how
 * far it has trained. `layersModel()` gives the TensorFlow.js model back with the trained weights in it, to save or
 * to use with TensorFlow.js directly.
 */
import * as tf from "@tensorflow/tfjs";
import type { Split } from "../data/data";
import { networkEngine } from "../engine/backend";
import { forwardMultiplyAdds, type ImageShape, type NetworkNumbers, type NetworkSpec } from "../engine/layers";
import type { InputScaling } from "../engine/network";
import { formatCount } from "../math/format";
import { argmaxRows } from "../math/metrics";
import { ownNumbers, readLayersModel, torchNumbers, writeNumbers, type ReadNetwork } from "./layers-model";
import type { Prediction, PredictOptions } from "./model";

/**
 * Where a network's initial numbers came from: the model's own ("own"), PyTorch's defaults ("torch"), or a file
 * ("custom", `loadModel`).
 * @example const init: NetworkInit = network(lenet, { init: "torch" }).init; // "torch"
 */
export type NetworkInit = "own" | "torch" | "custom";

/**
 * How `network(...)` reads a Layers model.
 * @example network(lenet, { init: "torch", seed: 1 });
 */
export interface NetworkOptions {
  /** "own" (default): the weights TensorFlow.js initialised; "torch": PyTorch's defaults, drawn from `seed`. */
  init?: "own" | "torch";
  /** Seed of "torch" initial values (default 0). */
  seed?: number;
  /** The images' shape (default 28×28, one channel). */
  image?: ImageShape;
}

/** The images MNIST-like data sets hold. */
const MNIST_IMAGE: ImageShape = { channels: 1, height: 28, width: 28 };

/**
 * A Layers model in the library's hands. Build one with `network(tfModel, options)`; `train` also takes the
 * `tf.Sequential` itself.
 * @example const net = network(tf.sequential({ layers: [tf.layers.flatten({ inputShape: [28, 28, 1] }), tf.layers.dense({ units: 10 })] }));
 */
export class NetworkModel {
  readonly spec: NetworkSpec;
  readonly init: NetworkInit;
  readonly seed: number;
  /** How many weights, biases and batch-norm scales it trains. */
  readonly parameterCount: number;
  /** The layer sizes' stand-in for labels and keys: the description, e.g. ["conv8@5", "pool2", "conv16@5", "pool2", "10"]. */
  readonly layers: readonly string[];
  /** The model's topology as TensorFlow.js writes it (rebuilds the Layers model of a run read from the store). */
  readonly topology: string;
  private source: ReadNetwork["source"];
  private current: NetworkNumbers;
  private live: (() => NetworkNumbers) | null = null;
  private stale = false;
  private tfModel: tf.LayersModel | null;
  private steps = 0;
  private scale: InputScaling | null = null;
  private gone = false;

  /** Use `network(...)`. */
  constructor(read: ReadNetwork, numbers: NetworkNumbers, init: NetworkInit, seed: number, topology: string, tfModel: tf.LayersModel | null) {
    this.spec = read.spec;
    this.source = read.source;
    this.current = numbers;
    this.init = init;
    this.seed = seed;
    this.topology = topology;
    this.tfModel = tfModel;
    this.parameterCount = numbers.params.reduce((total, values) => total + values.length, 0);
    this.layers = describeLayers(read.spec);
  }

  /** Optimizer steps this model has trained for (0: fresh). */
  get trainedSteps(): number {
    return this.steps;
  }

  /** How its input is scaled ((byte / 255 − mean) / std), fixed by its first training; null before. */
  get scaling(): InputScaling | null {
    return this.scale;
  }

  /** Whether `dispose` was called. */
  get disposed(): boolean {
    return this.gone;
  }

  /**
   * Its numbers now (a training session's latest, once it has stepped).
   * @example const { params } = net.numbers();
   */
  numbers(): NetworkNumbers {
    this.check();
    if (this.live && this.stale) {
      this.current = this.live();
      this.stale = false;
    }
    return this.current;
  }

  /**
   * A readable description: each layer, its output and parameters.
   * @example console.log(net.summary());
   */
  summary(): string {
    const lines = [`Network ${this.layers.join(" → ")} (init ${this.init}${this.init === "torch" ? `, seed ${this.seed}` : ""}${this.steps ? `, trained ${formatCount(this.steps)} steps` : ""})`];
    for (const layer of this.spec.layers) lines.push(`  ${JSON.stringify(layer)}`);
    lines.push(`  Total ${formatCount(this.parameterCount)} params, ${formatCount(forwardMultiplyAdds(this.spec))} multiply-adds per image`);
    return lines.join("\n");
  }

  /**
   * Logits and classes for a split's images, on the engine (evaluation mode: batch norm's running statistics, no
   * dropout).
   * @example const { classes } = run.model.predict(data.test);
   */
  predict(input: Split, options: PredictOptions = {}): Prediction {
    this.check();
    const engine = networkEngine();
    const batchSize = options.batchSize ?? 100;
    const classes = this.classes;
    const logits = engine.predictNetwork(this.spec, this.numbers(), this.scale ?? { mean: 0, std: 1 }, { bytes: input.images, count: input.count }, batchSize);
    return { count: input.count, outputs: classes, logits, classes: argmaxRows(logits, classes) };
  }

  /** How many classes its last layer scores. */
  get classes(): number {
    const last = this.spec.layers[this.spec.layers.length - 1]!;
    return last.kind === "dense" ? last.units : 0;
  }

  /**
   * The TensorFlow.js model with the trained weights in it (rebuilt from its topology for a run read from the store).
   * @example const model = await run.model.layersModel(); await model.save(tf.io.withSaveHandler(...));
   */
  async layersModel(): Promise<tf.LayersModel> {
    this.check();
    this.tfModel ??= await tf.models.modelFromJSON(JSON.parse(this.topology));
    writeNumbers(this.tfModel, { spec: this.spec, source: this.source }, this.numbers());
    return this.tfModel;
  }

  /** Free its TensorFlow.js model's tensors (if it built one); it cannot be used afterwards. */
  dispose(): void {
    this.tfModel?.dispose();
    this.tfModel = null;
    this.gone = true;
  }

  /** What `console.log(net)` shows in a notebook. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.summary();
  }

  /** Training's side: the session's numbers are read from `read` until `endTraining`. */
  startTraining(read: () => NetworkNumbers, scaling: InputScaling): void {
    this.check();
    if (this.live) throw new Error(`network ${this.layers.join(" → ")} is already being trained`);
    if (this.scale && (this.scale.mean !== scaling.mean || this.scale.std !== scaling.std)) {
      throw new RangeError(`normalize: this network trained with mean ${this.scale.mean}, std ${this.scale.std}; resume it with the same`);
    }
    this.scale = scaling;
    this.live = read;
  }

  /** Count one step of the session. */
  stepped(): void {
    this.steps++;
    this.stale = true;
  }

  /** The session ends: its last numbers become the model's. */
  endTraining(): void {
    if (this.live && this.stale) this.current = this.live();
    this.live = null;
    this.stale = false;
  }

  /** Restore a snapshot's training count and scaling (the run store, workers), and its numbers when given. */
  restoreState(steps: number, scaling: InputScaling | null, numbers?: NetworkNumbers): void {
    this.check();
    if (this.live) throw new Error(`network ${this.layers.join(" → ")} is being trained: its numbers cannot be replaced now`);
    this.steps = steps;
    this.scale = scaling;
    if (numbers) this.current = numbers;
  }

  /** Which of the Layers model's layers each engine layer is. */
  get sourceLayers(): readonly number[] {
    return this.source;
  }

  private check(): void {
    if (this.gone) throw new Error(`network ${this.layers.join(" → ")} was disposed`);
  }
}

/**
 * A TensorFlow.js Layers model for the library: checked layer by layer now (an unsupported layer, a kernel larger
 * than its input or a dense layer on images is an error naming the layer's index, config and shapes), with its own
 * initial weights or PyTorch's.
 * @example const net = network(tf.sequential({ layers: [tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 8, kernelSize: 5, activation: "relu" }), tf.layers.flatten(), tf.layers.dense({ units: 10 })] }), { init: "torch" });
 */
export function network(model: tf.LayersModel, options: NetworkOptions = {}): NetworkModel {
  const init = options.init ?? "own";
  if (init !== "own" && init !== "torch") throw new RangeError(`init: expected "own" or "torch" for a Layers model; got ${JSON.stringify(init)}`);
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed)) throw new RangeError(`seed: expected an integer, got ${String(seed)}`);
  const read = readLayersModel(model, options.image ?? MNIST_IMAGE);
  const numbers = init === "torch" ? torchNumbers(read.spec, seed) : ownNumbers(model, read);
  return new NetworkModel(read, numbers, init, seed, JSON.stringify(model.toJSON(undefined, false)), model);
}

/** Short names of a network's layers, for labels: "conv8@5", "pool2", "bn", "drop0.25", "tanh", "10". */
function describeLayers(spec: NetworkSpec): string[] {
  const names: string[] = [];
  for (const layer of spec.layers) {
    if (layer.kind === "conv2d") names.push(`conv${layer.filters}@${layer.kernelHeight}${layer.stride > 1 ? `/${layer.stride}` : ""}${layer.padTop > 0 ? "p" : ""}${layer.activation === "relu" ? "" : ` ${layer.activation}`}`);
    else if (layer.kind === "maxPool") names.push(`pool${layer.size}`);
    else if (layer.kind === "dense") names.push(`${layer.units}${layer.activation === "relu" || layer.activation === "linear" ? "" : ` ${layer.activation}`}`);
    else if (layer.kind === "dropout") names.push(`drop${layer.rate}`);
    else if (layer.kind === "batchNorm") names.push("bn");
    else if (layer.kind === "activation") names.push(layer.activation);
  }
  return names;
}
