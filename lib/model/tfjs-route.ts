/**
 * Layers models the engine does not implement (a layer, activation or setting it lacks, or a functional model),
 * trained by TensorFlow.js with a loop of ours rather than `model.fit`:
 * - the order of the batches is the training loop's, seeded, and so are dropout's masks and every other random
 *   draw a layer makes in training: TensorFlow.js draws them from the unseeded `Math.random`, which each step
 *   here replaces with a stream seeded from the model's seed;
 * - the updates are the library's PyTorch-exact optimizers (`optimizers.ts`) on the model's trainable variables;
 * - the loss is the mean softmax cross-entropy of the output as logits, or of the output as probabilities when the
 *   last layer is a softmax.
 * The numbers are the model's own weights in TensorFlow.js's layouts: trainable weights (`params`), then the
 * others, such as batch norm's running statistics (`stats`).
 */
import * as tf from "@tensorflow/tfjs";
import type { Split } from "../data/data";
import type { ImageShape, NetworkNumbers } from "../engine/layers";
import { shiftImage } from "../data/batch";
import { onCpuBackend } from "../engine/backend";
import type { InputScaling } from "../engine/network";
import { seededRandom, type Random } from "../math/random";
import { createOptimizer, type OptimizerName } from "./optimizers";
import { registerWasmGradients } from "./wasm-gradients";

/** What the library knows of a model TensorFlow.js trains. Plain data: it travels in snapshots and the run store. */
export interface TfjsRead {
  /** Why the engine does not train it (the first thing it lacks, naming the layer). */
  why: string;
  /** The model's input shape after the batch axis: [28, 28, 1], [784], [28, 28]... */
  inputShape: number[];
  /** Scores per image: the output's size. */
  classes: number;
  /** Whether the output is softmax probabilities (the last layer's activation), not logits. */
  probabilities: boolean;
  /** Short names of its layers, for labels: "conv8@3", "pool2", "DepthwiseConv2D", "128"... */
  names: string[];
  /** The model's config (`getConfig()` as JSON), which rebuilds it in another process. */
  config: string;
  /** Whether it is a tf.Sequential (else a functional tf.model). */
  sequential: boolean;
}

/**
 * Check that TensorFlow.js can train `model` on `image`s with the library's loop (one input whose size is the
 * image's, one output of a score per class) and describe it; errors name the shapes.
 * @example readTfjsModel(model, { channels: 1, height: 28, width: 28 }, "layer 1 (DepthwiseConv2D …): the engine does not implement DepthwiseConv2D layers").classes; // 10
 */
export function readTfjsModel(model: tf.LayersModel, image: ImageShape, why: string): Omit<TfjsRead, "config" | "sequential"> {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new RangeError(`the model has ${model.inputs.length} inputs and ${model.outputs.length} outputs; the library trains models of one input (the images) and one output (a score per class)`);
  }
  const pixels = image.channels * image.height * image.width;
  const given = model.inputs[0]!.shape.slice(1);
  if (given.some((size) => size === null) || given.reduce<number>((total, size) => total * (size ?? 0), 1) !== pixels) {
    throw new RangeError(
      `layer 0 (${model.layers[0]?.getClassName() ?? "input"}): the model's input shape is [${given.join(", ")}] but the data's images are ${image.height}×${image.width}×${image.channels} ` +
        `(expected an input of ${pixels} values: inputShape [${image.height}, ${image.width}, ${image.channels}], [${pixels}] or [${image.height}, ${image.width * image.channels}])`,
    );
  }
  const output = model.outputs[0]!.shape;
  if (output.length !== 2 || !Number.isInteger(output[1]) || (output[1] as number) < 2) {
    throw new RangeError(`the model's output shape is [${output.map(String).join(", ")}]; expected one score per class, [batch, classes] (end with a dense layer, or flatten before it)`);
  }
  // The one silent mistake TensorFlow.js leaves: a dropout rate of 1 or more is made 1 (every value dropped).
  model.layers.forEach((layer, index) => {
    const rate = (layer.getConfig() as { rate?: unknown }).rate;
    if (/Dropout/.test(layer.getClassName()) && typeof rate === "number" && !(rate >= 0 && rate < 1)) {
      throw new RangeError(`layer ${index} (${layer.getClassName()} { rate: ${rate} }): rate must be in [0, 1), got ${rate}${rate === 1 ? " (TensorFlow.js makes any rate ≥ 1 a rate of 1: every value dropped)" : ""}`);
    }
  });
  const last = model.outputLayers?.[0] ?? model.layers[model.layers.length - 1]!;
  const lastConfig = last.getConfig() as { activation?: unknown };
  const probabilities = lastConfig.activation === "softmax" || last.getClassName() === "Softmax";
  return { why, inputShape: given as number[], classes: output[1] as number, probabilities, names: layerNames(model) };
}

/**
 * The model's weights as plain numbers: trainable ones (`params`), then the others (`stats`), in the model's order.
 * @example const { params } = tfjsNumbers(model);
 */
export function tfjsNumbers(model: tf.LayersModel): NetworkNumbers {
  const copy = (weights: tf.LayerVariable[]) => weights.map((weight) => Float32Array.from(weight.read().dataSync() as Float32Array));
  return { params: copy(model.trainableWeights), stats: copy(model.nonTrainableWeights) };
}

/**
 * Put numbers (from `tfjsNumbers`, a snapshot or the run store) into the model's weights; throws naming the weight
 * whose length does not match.
 * @example writeTfjsNumbers(model, run.model.numbers());
 */
export function writeTfjsNumbers(model: tf.LayersModel, numbers: NetworkNumbers, where = "writeTfjsNumbers"): void {
  const pairs: [tf.LayerVariable, Float32Array | undefined][] = [
    ...model.trainableWeights.map((weight, k) => [weight, numbers.params[k]] as [tf.LayerVariable, Float32Array | undefined]),
    ...model.nonTrainableWeights.map((weight, k) => [weight, numbers.stats[k]] as [tf.LayerVariable, Float32Array | undefined]),
  ];
  if (numbers.params.length !== model.trainableWeights.length || numbers.stats.length !== model.nonTrainableWeights.length) {
    throw new RangeError(`${where}: the model has ${model.trainableWeights.length} trainable and ${model.nonTrainableWeights.length} other weights; got ${numbers.params.length} and ${numbers.stats.length} arrays`);
  }
  for (const [weight, values] of pairs) {
    const size = weight.shape.reduce<number>((total, n) => total * (n ?? 0), 1);
    if (!(values instanceof Float32Array) || values.length !== size) {
      throw new RangeError(`${where}: weight ${weight.originalName} [${weight.shape.join(", ")}] needs ${size} numbers, got ${values instanceof Float32Array ? values.length : String(values)}`);
    }
    const tensor = tf.tensor(values, weight.shape as number[]);
    weight.write(tensor);
    tensor.dispose();
  }
}

/**
 * A fresh copy of `model` whose weights its own initialisers drew from `seed` (TensorFlow.js draws them from
 * `Math.random`, replaced by a seeded stream while the copy is built), on the cpu backend (an orthogonal
 * initialiser's QR decomposition differs in its last bits by backend), so the same model and seed give the same
 * numbers in any process.
 * @example const copy = seededCopy(model, 0); // the same weights every time
 */
export function seededCopy(model: tf.LayersModel, seed: number): tf.LayersModel {
  // A deep copy: fromConfig takes the layers out of the config it is given.
  const config = JSON.parse(JSON.stringify(model.getConfig())) as tf.serialization.ConfigDict;
  const Class = (model instanceof tf.Sequential ? tf.Sequential : tf.LayersModel) as unknown as {
    fromConfig(cls: unknown, config: tf.serialization.ConfigDict): tf.LayersModel;
  };
  return onCpuBackend(() => withSeededRandom(seededRandom(seed), () => Class.fromConfig(Class, config)));
}

/**
 * Run `body` with `Math.random` replaced by `random`, restored after (also when it throws).
 * @example withSeededRandom(seededRandom(1), () => tf.randomUniform([2]));
 */
export function withSeededRandom<T>(random: Random, body: () => T): T {
  const saved = Math.random;
  Math.random = random;
  try {
    return body();
  } finally {
    Math.random = saved;
  }
}

/** A run's settings a TensorFlow.js session uses (the training session's, `model/training`). */
export interface TfjsSettings {
  optimizer: OptimizerName;
  lr: number;
  momentum: number | null;
  weightDecay: number;
  normalize: InputScaling | null;
}

/** The classes TensorFlow.js registers itself (layers, initialisers...), before any notebook registers its own. */
const BUILT_IN_CLASSES = new Set(Object.keys(tf.serialization.SerializationMap.getMap().classNameMap));

/**
 * The classes of a model's config that this process registered itself (a layer class of one's own): another
 * process (a worker) cannot rebuild the model.
 * @example classesOfOwn(net.tfjsRead!); // ["MyAttention"]
 */
export function classesOfOwn(read: TfjsRead): string[] {
  const found = new Set<string>();
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === "object") {
      for (const [key, inner] of Object.entries(value)) {
        if (key === "className" && typeof inner === "string" && !BUILT_IN_CLASSES.has(inner)) found.add(inner);
        walk(inner);
      }
    }
  };
  walk(JSON.parse(read.config));
  return [...found];
}

/** Which stream of the model's seed a run's dropout masks and other training draws come from. */
const TRAINING_DRAWS = 0x7f4a7c15;

/** What a TensorFlow.js training session does; `training.ts` wraps it as a `TrainingSession`. */
export interface TfjsSession {
  /** One step on images `from`..`to` of `split` (through `order`, each shifted by `shifts`): its loss, and whether
   *  its update was applied (not when the loss is NaN or infinite). */
  step(source: { split: Split; from: number; to: number; order: Uint32Array | null; shifts: Int8Array | null }): { loss: number; applied: boolean };
  setLr(lr: number): void;
  dispose(): void;
}

/**
 * Train `model` step by step with the library's optimizer and loss, its random draws seeded from `seed`.
 * @example const session = startTfjsSession(model, read, image, settings, 0); session.step({ split, from: 0, to: 64, order: null, shifts: null });
 */
export function startTfjsSession(model: tf.LayersModel, read: TfjsRead, image: ImageShape, settings: TfjsSettings, seed: number): TfjsSession {
  const optimizer = createOptimizer(settings.optimizer, settings.lr, settings.momentum ?? undefined, settings.weightDecay);
  const variables = model.trainableWeights.map((weight) => weight.read() as tf.Variable);
  const draws = seededRandom((seed ^ TRAINING_DRAWS) >>> 0);
  const scaling = settings.normalize ?? { mean: 0, std: 1 };
  return {
    step(source) {
      const { split, from, to, order, shifts } = source;
      let loss = NaN;
      const next = withSeededRandom(draws, () => tf.tidy((): tf.Tensor[] => {
        const x = inputTensor(split, from, to, order, shifts, scaling, image, read.inputShape);
        const labels = tf.oneHot(tf.tensor1d(batchLabels(split, from, to, order), "int32"), read.classes);
        const { value, grads } = tf.variableGrads(() => lossOf(model.apply(x, { training: true }) as tf.Tensor, labels, read.probabilities), variables);
        loss = value.dataSync()[0]!;
        if (!Number.isFinite(Math.fround(loss))) return [];
        const scale = optimizer.gradientScale;
        const g = variables.map((variable) => (scale === 1 ? grads[variable.name]! : tf.mul(grads[variable.name]!, scale)) as tf.Tensor2D);
        return optimizer.apply(variables as unknown as tf.Tensor2D[], g);
      }));
      if (next.length === 0) return { loss, applied: false };
      next.forEach((value, k) => {
        variables[k]!.assign(value);
        value.dispose();
      });
      return { loss, applied: true };
    },
    setLr: (lr) => optimizer.setLr(lr),
    dispose: () => optimizer.dispose(),
  };
}

/**
 * The model's outputs (logits, or probabilities for a softmax output) for a split's images, in batches, in
 * evaluation mode (no dropout, batch norm's running statistics).
 * @example const scores = predictTfjs(model, read, image, data.test, 100, null);
 */
export function predictTfjs(model: tf.LayersModel, read: TfjsRead, image: ImageShape, split: Split, batchSize: number, scaling: InputScaling | null): Float32Array {
  const out = new Float32Array(split.count * read.classes);
  for (let from = 0; from < split.count; from += batchSize) {
    const to = Math.min(from + batchSize, split.count);
    tf.tidy(() => {
      const x = inputTensor(split, from, to, null, null, scaling ?? { mean: 0, std: 1 }, image, read.inputShape);
      out.set((model.predict(x) as tf.Tensor).dataSync() as Float32Array, from * read.classes);
    });
  }
  return out;
}

/**
 * The kernels one training step of `model` runs (forward and backward pass on two blank images), recorded on the
 * current backend (the cpu backend, which has every kernel, is where `backendForTfjs` asks); the weights are put
 * back after. Another backend can train the model where it registers all of them (`tf.getKernel`): tfjs's wasm
 * backend has no Conv2DBackpropFilter (tfjs#8474) until `registerWasmGradients` (called here) adds it.
 * @example const kernels = await trainingKernels(model, read); kernels.includes("Conv2DBackpropFilter"); // true for a conv net
 */
export async function trainingKernels(model: tf.LayersModel, read: TfjsRead): Promise<string[]> {
  registerWasmGradients(); // before any backend is asked what it has
  const cacheKey = `${tf.getBackend()} ${JSON.stringify(read.inputShape)} ${read.config}`;
  const known = kernelsOf.get(cacheKey);
  if (known) return known;
  const kernels = await recordKernels(model, read);
  kernelsOf.set(cacheKey, kernels);
  return kernels;
}

/** The kernels of each model config seen, per backend: recorded once per process. */
const kernelsOf = new Map<string, string[]>();

async function recordKernels(model: tf.LayersModel, read: TfjsRead): Promise<string[]> {
  const saved = tfjsNumbers(model);
  try {
    const profile = await tf.profile(() => withSeededRandom(seededRandom(0), () => tf.tidy(() => {
      const x = tf.zeros([2, ...read.inputShape]);
      const labels = tf.oneHot(tf.tensor1d([0, 1], "int32"), read.classes);
      const variables = model.trainableWeights.map((weight) => weight.read() as tf.Variable);
      tf.variableGrads(() => lossOf(model.apply(x, { training: true }) as tf.Tensor, labels, read.probabilities), variables).value.dataSync();
    })));
    // The profile names ops too ("fusedMatMul__op"): keep the kernels this backend ran.
    const backend = tf.getBackend();
    return [...new Set(profile.kernelNames)].filter((name) => tf.getKernel(name, backend) !== undefined);
  } finally {
    writeTfjsNumbers(model, saved);
  }
}

/**
 * The first layer of `model` whose own training step runs `kernel` ("layer 1 (DepthwiseConv2D)"), or null:
 * what an error says needs the kernel a backend lacks.
 * @example await layerNeeding(model, "Conv2DBackpropFilter"); // "layer 0 (Conv2D)"
 */
export async function layerNeeding(model: tf.LayersModel, kernel: string): Promise<string | null> {
  const saved = tfjsNumbers(model);
  try {
    for (const [index, layer] of model.layers.entries()) {
      if (layer.getClassName() === "InputLayer") continue;
      const input = layer.input;
      const shapes = (Array.isArray(input) ? input : [input]).map((tensor) => tensor.shape);
      const inputs = shapes.map((shape) => tf.tidy(() => tf.variable(tf.zeros(shape.map((size) => size ?? 2)))));
      try {
        // As in training: a gradient for the layer's input only where a layer before it needs one (not for the
        // model's input, which an embedding, say, reads as integers and has none).
        const inbound = (layer as unknown as { inboundNodes: { inboundLayers: tf.layers.Layer[] }[] }).inboundNodes[0]?.inboundLayers ?? [];
        const fromInput = inbound.every((before) => before.getClassName() === "InputLayer");
        const profile = await tf.profile(() => withSeededRandom(seededRandom(0), () => tf.tidy(() => {
          const weights = layer.trainableWeights.map((weight) => weight.read() as tf.Variable);
          const wrt = fromInput ? weights : [...inputs, ...weights];
          if (wrt.length > 0) tf.variableGrads(() => tf.sum(layer.apply(inputs.length === 1 ? inputs[0]! : inputs, { training: true }) as tf.Tensor) as tf.Scalar, wrt).value.dataSync();
        })));
        if (profile.kernelNames.includes(kernel)) return `layer ${index} (${layer.getClassName()})`;
      } finally {
        inputs.forEach((variable) => variable.dispose());
      }
    }
    return null;
  } finally {
    writeTfjsNumbers(model, saved);
  }
}

/** Mean cross-entropy of a batch: of softmax(logits), or of the probabilities a softmax output gives. */
function lossOf(output: tf.Tensor, labels: tf.Tensor, probabilities: boolean): tf.Scalar {
  return probabilities
    ? (tf.mean(tf.metrics.categoricalCrossentropy(labels, output)) as tf.Scalar)
    : (tf.losses.softmaxCrossEntropy(labels, output) as tf.Scalar);
}

/** The batch's labels, through the shuffle order. */
function batchLabels(split: Split, from: number, to: number, order: Uint32Array | null): Int32Array {
  const labels = new Int32Array(to - from);
  for (let j = 0; j < labels.length; j++) labels[j] = split.labels[order ? order[from + j]! : from + j]!;
  return labels;
}

/** The batch's images as (byte / 255 − mean) / std, each shifted where asked, shaped as the model's input. */
function inputTensor(
  split: Split, from: number, to: number, order: Uint32Array | null, shifts: Int8Array | null, scaling: InputScaling, image: ImageShape, inputShape: number[],
): tf.Tensor {
  const pixels = image.channels * image.height * image.width;
  const values = new Float32Array((to - from) * pixels);
  const shifted = shifts ? new Uint8Array(pixels) : null;
  for (let j = 0; j < to - from; j++) {
    const sample = order ? order[from + j]! : from + j;
    let bytes = split.images.subarray(sample * pixels, (sample + 1) * pixels);
    if (shifted && (shifts![2 * j] !== 0 || shifts![2 * j + 1] !== 0)) {
      shiftImage(bytes, shifted, image.width, image.height, shifts![2 * j]!, shifts![2 * j + 1]!);
      bytes = shifted;
    }
    for (let p = 0; p < pixels; p++) values[j * pixels + p] = (bytes[p]! / 255 - scaling.mean) / scaling.std;
  }
  return tf.tensor(values, [to - from, ...inputShape]);
}

/**
 * Short names of a model's layers for labels, as the engine's networks name theirs where the layer is one of its
 * kinds ("conv8@3", "pool2", "drop0.25", "bn", "128"; flatten and the input left out), else the class name
 * ("DepthwiseConv2D", "LSTM").
 */
function layerNames(model: tf.LayersModel): string[] {
  const names: string[] = [];
  for (const layer of model.layers) {
    const config = layer.getConfig() as { filters?: number; kernelSize?: number | number[]; units?: number; poolSize?: number | number[]; rate?: number };
    const first = (value: number | number[] | undefined) => (Array.isArray(value) ? value[0] : value);
    const kind = layer.getClassName();
    if (kind === "InputLayer" || kind === "Flatten") continue;
    names.push(
      kind === "Dense" ? String(config.units)
        : kind === "Conv2D" ? `conv${config.filters}@${first(config.kernelSize)}`
        : kind === "MaxPooling2D" ? `pool${first(config.poolSize)}`
        : kind === "Dropout" ? `drop${config.rate}`
        : kind === "BatchNormalization" ? "bn"
        : kind,
    );
  }
  return names;
}
