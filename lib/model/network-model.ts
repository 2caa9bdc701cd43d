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
import { seededRandom } from "../math/random";
import { EngineLacks, ownNumbers, readLayersModel, torchNumbers, writeNumbers, type ReadNetwork } from "./layers-model";
import { asLayersModel } from "./layers-copy";
import { predictTfjs, readTfjsModel, seededCopy, tfjsNumbers, withSeededRandom, writeTfjsNumbers, type TfjsRead } from "./tfjs-route";
import type { Prediction, PredictOptions } from "./model";

/**
 * Where a network's initial numbers came from: the model's own as given ("own"), its own initialisers drawn anew
 * from a seed ("seeded"), PyTorch's defaults ("torch"), or a file ("custom", `loadModel`).
 * @example const init: NetworkInit = network(lenet, { init: "torch" }).init; // "torch"
 */
export type NetworkInit = "own" | "seeded" | "torch" | "custom";

/**
 * How `network(...)` reads a Layers model.
 * @example network(lenet, { init: "torch", seed: 1 });
 */
export interface NetworkOptions {
  /** "own" (default): the weights TensorFlow.js initialised; "seeded": the model's own initialisers drawn anew from
   *  `seed`, the same in every process (so a rerun finds its runs in the run store); "torch": PyTorch's defaults,
   *  drawn from `seed` (the engine's layers only). */
  init?: "own" | "seeded" | "torch";
  /** Seed of "seeded" and "torch" initial values (default 0). */
  seed?: number;
  /** The images' shape (default 28×28, one channel). */
  image?: ImageShape;
}

/** The images MNIST-like data sets hold. */
const MNIST_IMAGE: ImageShape = { channels: 1, height: 28, width: 28 };

/**
 * A Layers model in the library's hands. Build one with `network(tfModel, options)`; `train` also takes the
 * Layers model itself. The engine trains it where it implements every layer (`trainer` "engine"); otherwise
 * TensorFlow.js does (`trainer` "tfjs", `engineLacks` says why; its `spec` then has no layers, and its numbers are
 * the model's weights in TensorFlow.js's layouts).
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
  private readonly tfjs: TfjsRead | null;
  /** Whether `tfModel`'s weights are `current` (a TensorFlow.js-trained model's predictions read them). */
  private tfModelCurrent: boolean;

  /** Use `network(...)`. */
  constructor(read: ReadNetwork, numbers: NetworkNumbers, init: NetworkInit, seed: number, topology: string, tfModel: tf.LayersModel | null) {
    this.spec = read.spec;
    this.source = read.source;
    this.current = numbers;
    this.init = init;
    this.seed = seed;
    this.topology = topology;
    this.tfModel = tfModel;
    this.tfjs = read.tfjs ?? null;
    this.tfModelCurrent = tfModel !== null;
    this.parameterCount = numbers.params.reduce((total, values) => total + values.length, 0);
    this.layers = this.tfjs ? this.tfjs.names : describeLayers(read.spec);
  }

  /** Who trains it: the engine, or TensorFlow.js for a model with a layer, activation or setting the engine lacks. */
  get trainer(): "engine" | "tfjs" {
    return this.tfjs ? "tfjs" : "engine";
  }

  /** Why the engine does not train it (naming the layer), or null when it does. */
  get engineLacks(): string | null {
    return this.tfjs?.why ?? null;
  }

  /** What the TensorFlow.js route knows of it (input shape, classes, output kind), or null for the engine's. */
  get tfjsRead(): TfjsRead | null {
    return this.tfjs;
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
    if (this.tfjs) {
      const model = this.trainingModel();
      const lines = [`Network ${this.layers.join(" → ")} (init ${this.init}${this.init === "seeded" ? `, seed ${this.seed}` : ""}${this.steps ? `, trained ${formatCount(this.steps)} steps` : ""}), trained by TensorFlow.js: ${this.tfjs.why}`];
      for (const layer of model.layers) lines.push(`  ${layer.getClassName()} → [${JSON.stringify(layer.outputShape).slice(1, -1)}], ${formatCount(layer.countParams())} params`);
      lines.push(`  Total ${formatCount(this.parameterCount)} trainable params`);
      return lines.join("\n");
    }
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
    const batchSize = options.batchSize ?? 100;
    const classes = this.classes;
    if (this.tfjs) {
      const scores = predictTfjs(this.trainingModel(), this.tfjs, this.spec.input, input, batchSize, this.scale);
      return { count: input.count, outputs: classes, logits: scores, classes: argmaxRows(scores, classes) };
    }
    const engine = networkEngine();
    const logits = engine.predictNetwork(this.spec, this.numbers(), this.scale ?? { mean: 0, std: 1 }, { bytes: input.images, count: input.count }, batchSize);
    return { count: input.count, outputs: classes, logits, classes: argmaxRows(logits, classes) };
  }

  /** How many classes its last layer scores. */
  get classes(): number {
    if (this.tfjs) return this.tfjs.classes;
    const last = this.spec.layers[this.spec.layers.length - 1]!;
    return last.kind === "dense" ? last.units : 0;
  }

  /**
   * The TensorFlow.js model with the trained weights in it (rebuilt from its topology for a run read from the store).
   * @example const model = await run.model.layersModel(); await model.save(tf.io.withSaveHandler(...));
   */
  async layersModel(): Promise<tf.LayersModel> {
    this.check();
    if (this.tfjs) return this.trainingModel();
    this.tfModel ??= await tf.models.modelFromJSON(JSON.parse(this.topology));
    writeNumbers(this.tfModel, { spec: this.spec, source: this.source }, this.numbers());
    return this.tfModel;
  }

  /**
   * A TensorFlow.js-trained network's Layers model holding its current numbers, rebuilt from its config for a
   * network read from a snapshot or the store (the rebuild's own initial draws are seeded, then overwritten).
   */
  trainingModel(): tf.LayersModel {
    this.check();
    if (!this.tfjs) throw new Error(`network ${this.layers.join(" → ")}: the engine trains it; its Layers model is layersModel()'s`);
    this.tfModel ??= rebuild(this.tfjs);
    if (!this.tfModelCurrent) {
      writeTfjsNumbers(this.tfModel, this.numbers(), `network ${this.layers.join(" → ")}`);
      this.tfModelCurrent = true;
    }
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
    if (numbers) {
      this.current = numbers;
      this.tfModelCurrent = false;
    }
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
  if (init !== "own" && init !== "torch" && init !== "seeded") throw new RangeError(`init: expected "own", "seeded" or "torch" for a Layers model; got ${JSON.stringify(init)}`);
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed)) throw new RangeError(`seed: expected an integer, got ${String(seed)}`);
  const own = asLayersModel(model);
  if (!own) throw new TypeError(`network: expected a TensorFlow.js Layers model (tf.sequential or tf.model), got ${typeof model}`);
  model = own;
  const image = options.image ?? MNIST_IMAGE;
  const topology = JSON.stringify(model.toJSON(undefined, false));
  let read: ReadNetwork;
  try {
    read = readLayersModel(model, image);
  } catch (error) {
    if (!(error instanceof EngineLacks)) throw error;
    read = { spec: { input: image, layers: [] }, source: [], tfjs: { ...readTfjsModel(model, image, error.message), ...modelConfig(model) } };
  }
  if (read.tfjs) {
    if (init === "torch") {
      throw new RangeError(`init: "torch" draws PyTorch's initial values for the engine's layers, but TensorFlow.js trains this model (${read.tfjs.why}); use init "seeded" (its own initialisers, seeded) or "own"`);
    }
    const source = init === "seeded" ? seededCopy(model, seed) : model;
    return new NetworkModel(read, tfjsNumbers(source), init, seed, topology, source);
  }
  if (init === "seeded") {
    const copy = seededCopy(model, seed);
    const numbers = ownNumbers(copy, read);
    copy.dispose();
    return new NetworkModel(read, numbers, init, seed, topology, model);
  }
  const numbers = init === "torch" ? torchNumbers(read.spec, seed) : ownNumbers(model, read);
  return new NetworkModel(read, numbers, init, seed, topology, model);
}

/** A model's config as `rebuild` reads it back (TensorFlow.js's own form, not the file's). */
function modelConfig(model: tf.LayersModel): Pick<TfjsRead, "config" | "sequential"> {
  return { config: JSON.stringify(model.getConfig()), sequential: model instanceof tf.Sequential };
}

/** A Layers model from a TensorFlow.js-trained network's config (its weights then overwritten). */
function rebuild(read: TfjsRead): tf.LayersModel {
  const Class = (read.sequential ? tf.Sequential : tf.LayersModel) as unknown as { fromConfig(cls: unknown, config: unknown): tf.LayersModel };
  try {
    return withSeededRandom(seededRandom(0), () => Class.fromConfig(Class, JSON.parse(read.config)));
  } catch (error) {
    throw new Error(`rebuilding the Layers model from its config failed: ${(error as Error).message} (a layer class of one's own must be registered with tf.serialization.registerClass in this process)`, { cause: error });
  }
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
