/**
 * TensorFlow.js Layers models as the engine sees them, and back: a `tf.Sequential` built with `tf.layers` read
 * into a `NetworkSpec` (every shape worked out, every layer checked before training, errors that name the layer's
 * index, its config and the shapes), its weights into the engine's layouts, and trained numbers back into the
 * model's own weights, so the saved model is a TensorFlow.js Layers model like any other.
 *
 * The layers the engine implements: conv2d, maxPooling2d, flatten, dense, dropout, batchNormalization and
 * activation, with the activations linear, relu, tanh and sigmoid (and softmax on the last dense layer: the loss
 * is the softmax cross-entropy of its logits, so training is the same and a prediction's classes too).
 */
import * as tf from "@tensorflow/tfjs";
import type { ImageShape, LayerShape, NetworkLayer, NetworkNumbers, NetworkSpec } from "../engine/layers";
import { outputShape, paramSizes } from "../engine/layers";
import { seededRandom } from "../math/random";
import type { TfjsRead } from "./tfjs-route";

/** The layer classes the engine trains. */
const SUPPORTED = ["Conv2D", "MaxPooling2D", "Flatten", "Dense", "Dropout", "BatchNormalization", "Activation"];
const ACTIVATIONS = ["linear", "relu", "tanh", "sigmoid"];

/**
 * A model the engine cannot train as it is (a layer, an activation or a setting it does not implement, or a
 * functional model): `network()` hands such a model to TensorFlow.js (`tfjs-route.ts`), with this as the reason.
 * Mistakes (a kernel larger than its input, a dropout rate of 1, a dense layer on images) stay plain errors.
 * @example try { readLayersModel(model, image); } catch (error) { if (error instanceof EngineLacks) console.log(error.message); }
 */
export class EngineLacks extends RangeError {
  override name = "EngineLacks";
}

/** A network read from a Layers model: the engine's description, and which of the model's layers each layer is. */
export interface ReadNetwork {
  spec: NetworkSpec;
  /** The model's layer index of each engine layer (-1 for the flatten of a model that reads flat pixels). */
  source: number[];
  /** Set for a model the engine lacks something of: TensorFlow.js trains it (`spec.layers` is then empty). */
  tfjs?: TfjsRead;
}

/**
 * Read a `tf.Sequential` whose input is `image` (e.g. 28×28×1, or 784 flat pixels) into the engine's description.
 * @example const { spec } = readLayersModel(tf.sequential({ layers: [tf.layers.flatten({ inputShape: [28, 28, 1] }), tf.layers.dense({ units: 10 })] }), { channels: 1, height: 28, width: 28 });
 */
export function readLayersModel(model: tf.LayersModel, image: ImageShape): ReadNetwork {
  if (!(model instanceof tf.Sequential) && !isChain(model)) {
    throw new EngineLacks("it is a functional tf.model whose layers are not one chain (branches, or several inputs or outputs): the engine trains a chain of layers");
  }
  const given = model.inputs[0]!.shape.slice(1) as number[];
  const flat = given.length === 1;
  const wanted = flat ? [image.channels * image.height * image.width] : [image.height, image.width, image.channels];
  if (given.join() !== wanted.join()) {
    // A functional chain's first layer of its own (its InputLayer has no config to show).
    const firstIndex = model.layers.findIndex((layer) => layer.getClassName() !== "InputLayer");
    const first = model.layers[firstIndex]!;
    const pixels = image.channels * image.height * image.width;
    // The image's values in another shape (rows of a recurrent net: [28, 28]): TensorFlow.js reads them so.
    if (given.every((size) => Number.isInteger(size)) && given.reduce((total, size) => total * size, 1) === pixels) {
      throw new EngineLacks(`layer ${firstIndex} (${first.getClassName()}): the engine reads images as [${wanted.join(", ")}] or [${pixels}]; this model's input is [${given.join(", ")}]`);
    }
    throw new RangeError(
      `layer ${firstIndex} (${first.getClassName()} ${describeConfig(first.getConfig() as Record<string, unknown>)}): the model's input shape is [${given.join(", ")}] but the data's images are ${image.height}×${image.width}×${image.channels} ` +
        `(expected inputShape [${wanted.join(", ")}]${flat ? "" : ` or [${image.channels * image.height * image.width}]`})`,
    );
  }
  const layers: NetworkLayer[] = [];
  const source: number[] = [];
  let shape: LayerShape = { layout: "planes", ...image };
  if (flat) {
    layers.push({ kind: "flatten", ...image });
    source.push(-1);
    shape = { layout: "features", features: image.channels * image.height * image.width };
  }
  model.layers.forEach((layer, index) => {
    if (layer.getClassName() === "InputLayer") return; // a functional chain's input: no layer of its own
    const read = readLayer(layer, index, shape, index === model.layers.length - 1);
    if (!read) return;
    layers.push(read);
    source.push(index);
    shape = outputShape(read);
  });
  const last = layers[layers.length - 1];
  if (!last || last.kind !== "dense") {
    throw new EngineLacks(`the engine's last layer is a dense layer with one unit per class (it gives the logits); this model ends with ${model.layers[model.layers.length - 1]?.getClassName() ?? "no layer"}`);
  }
  return { spec: { input: image, layers }, source };
}

/**
 * Whether a functional model is one chain of layers, as a Sequential is: one input, each layer fed by the one before
 * it only and feeding the next only, the last one the output. The engine trains such a model whichever way it was
 * built.
 */
function isChain(model: tf.LayersModel): boolean {
  type Wired = { inboundNodes: { inboundLayers: tf.layers.Layer[] }[]; outboundNodes: unknown[] };
  const layers = model.layers;
  if (model.inputs.length !== 1 || model.outputs.length !== 1 || layers[0]?.getClassName() !== "InputLayer") return false;
  return layers.every((layer, k) => {
    const wired = layer as unknown as Wired;
    if (wired.outboundNodes.length > 1) return false;
    if (k === 0) return true;
    return wired.inboundNodes.length === 1 && wired.inboundNodes[0]!.inboundLayers.length === 1 && wired.inboundNodes[0]!.inboundLayers[0] === layers[k - 1];
  }) && model.outputLayers[0] === layers[layers.length - 1];
}

function readLayer(layer: tf.layers.Layer, index: number, input: LayerShape, last: boolean): NetworkLayer | null {
  const kind = layer.getClassName();
  const config = layer.getConfig() as Record<string, unknown>;
  const where = `layer ${index} (${kind} ${describeConfig(config)})`;
  const shapeText = describeShape(input);
  if (!SUPPORTED.includes(kind)) {
    throw new EngineLacks(`${where}: the engine does not implement ${kind} layers (it trains ${SUPPORTED.join(", ")}); its input is ${shapeText}`);
  }
  const activation = (name: unknown): "linear" | "relu" | "tanh" | "sigmoid" => {
    const value = String(name ?? "linear");
    if (value === "softmax" && last) return "linear";
    if (!ACTIVATIONS.includes(value)) {
      throw new EngineLacks(`${where}: the engine has no activation "${value}" (the engine has ${ACTIVATIONS.join(", ")}${last ? ", and softmax on the last layer" : ""})`);
    }
    return value as "linear";
  };
  const images = (): Extract<LayerShape, { layout: "planes" }> => {
    if (input.layout !== "planes") throw new RangeError(`${where}: expects images, but its input is ${shapeText} (a ${kind} layer must come before flatten)`);
    return input;
  };
  const pair = (value: unknown, name: string): [number, number] => {
    const [a, b] = Array.isArray(value) ? value : [value, value];
    if (!Number.isInteger(a) || !Number.isInteger(b) || a < 1 || b < 1) throw new RangeError(`${where}: ${name} must be positive integers, got ${JSON.stringify(value)}`);
    return [a as number, b as number];
  };
  const channelsLast = (): void => {
    if (config.dataFormat !== undefined && config.dataFormat !== "channelsLast") throw new EngineLacks(`${where}: only dataFormat "channelsLast" is supported`);
  };
  switch (kind) {
    case "Conv2D": {
      const { channels, height, width } = images();
      channelsLast();
      if (config.useBias === false) throw new EngineLacks(`${where}: useBias false is not supported (leave it out: the engine trains a bias)`);
      const [kernelHeight, kernelWidth] = pair(config.kernelSize, "kernelSize");
      const [strideY, strideX] = pair(config.strides ?? 1, "strides");
      if (strideX !== strideY) throw new EngineLacks(`${where}: strides must be equal in both directions, got ${JSON.stringify(config.strides)}`);
      const [dilationY, dilationX] = pair(config.dilationRate ?? 1, "dilationRate");
      if (dilationX !== 1 || dilationY !== 1) throw new EngineLacks(`${where}: dilationRate must be 1`);
      const same = config.padding === "same";
      if (!same && config.padding !== "valid") throw new RangeError(`${where}: padding must be "valid" or "same", got ${JSON.stringify(config.padding)}`);
      if (!same && (kernelHeight > height || kernelWidth > width)) {
        throw new RangeError(`${where}: its ${kernelHeight}×${kernelWidth} kernel is larger than its input ${shapeText} (use padding "same", or fewer poolings before it)`);
      }
      const outHeight = same ? Math.ceil(height / strideY) : Math.floor((height - kernelHeight) / strideY) + 1;
      const outWidth = same ? Math.ceil(width / strideX) : Math.floor((width - kernelWidth) / strideX) + 1;
      const padTop = same ? Math.floor(Math.max((outHeight - 1) * strideY + kernelHeight - height, 0) / 2) : 0;
      const padLeft = same ? Math.floor(Math.max((outWidth - 1) * strideX + kernelWidth - width, 0) / 2) : 0;
      if (padTop !== padLeft || (kernelHeight !== kernelWidth && same)) throw new EngineLacks(`${where}: "same" padding needs a square kernel and input here`);
      return {
        kind: "conv2d", channels, height, width, filters: config.filters as number, kernelHeight, kernelWidth, stride: strideY, padTop, padLeft,
        outHeight, outWidth, activation: activation(config.activation),
      };
    }
    case "MaxPooling2D": {
      const { channels, height, width } = images();
      channelsLast();
      const [size, sizeX] = pair(config.poolSize, "poolSize");
      const [stride, strideX] = pair(config.strides ?? config.poolSize, "strides");
      if (size !== sizeX || stride !== strideX) throw new EngineLacks(`${where}: poolSize and strides must be square`);
      if (config.padding !== "valid") throw new EngineLacks(`${where}: only padding "valid" is supported`);
      if (size > height || size > width) throw new RangeError(`${where}: its ${size}×${size} window is larger than its input ${shapeText}`);
      return { kind: "maxPool", channels, height, width, size, stride, outHeight: Math.floor((height - size) / stride) + 1, outWidth: Math.floor((width - size) / stride) + 1 };
    }
    case "Flatten":
      if (input.layout === "features") return null; // already flat: nothing to do
      return { kind: "flatten", channels: input.channels, height: input.height, width: input.width };
    case "Dense": {
      if (input.layout !== "features") {
        throw new RangeError(`${where}: its input is ${shapeText} (images), but the engine's dense layers read a flat vector: put tf.layers.flatten() before it`);
      }
      if (config.useBias === false) throw new EngineLacks(`${where}: useBias false is not supported (leave it out: the engine trains a bias)`);
      return { kind: "dense", inputs: input.features, units: config.units as number, activation: activation(config.activation) };
    }
    case "Dropout": {
      const rate = config.rate as number;
      // TensorFlow.js clamps the rate it is given into [0, 1] (a negative rate is 0, no dropout): 1 is any rate ≥ 1.
      if (typeof rate !== "number" || !(rate >= 0 && rate < 1)) throw new RangeError(`${where}: rate must be in [0, 1), got ${String(rate)}${rate === 1 ? " (TensorFlow.js makes any rate ≥ 1 a rate of 1: every value dropped)" : ""}`);
      if (config.noiseShape != null) throw new EngineLacks(`${where}: noiseShape is not supported`);
      return { kind: "dropout", rate, shape: input };
    }
    case "BatchNormalization": {
      const axis = config.axis as number;
      const lastAxis = input.layout === "planes" ? 3 : 1;
      if (axis !== -1 && axis !== lastAxis) throw new EngineLacks(`${where}: only the channels axis (-1) is supported, got axis ${axis}`);
      if (config.center === false || config.scale === false) throw new EngineLacks(`${where}: center and scale must be true`);
      // TensorFlow.js's momentum weighs the old running value (0.99); the engine's, PyTorch's, the new batch (0.01).
      return { kind: "batchNorm", epsilon: config.epsilon as number, momentum: 1 - (config.momentum as number), shape: input };
    }
    default:
      return { kind: "activation", activation: activation(config.activation), shape: input };
  }
}

/**
 * The model's own weights in the engine's layouts (`layers.ts`): what TensorFlow.js initialised (or loaded).
 * @example const numbers = ownNumbers(model, read);
 */
export function ownNumbers(model: tf.LayersModel, { spec, source }: ReadNetwork): NetworkNumbers {
  const params: Float32Array[] = [];
  const stats: Float32Array[] = [];
  spec.layers.forEach((layer, k) => {
    if (source[k]! < 0) return;
    const weights = model.layers[source[k]!]!.getWeights().map((tensor) => tensor.dataSync() as Float32Array);
    if (layer.kind === "conv2d") params.push(convToEngine(layer, weights[0]!, weights[1]!));
    else if (layer.kind === "dense") params.push(denseToEngine(layer.inputs, layer.units, weights[0]!, weights[1]!));
    else if (layer.kind === "batchNorm") {
      params.push(Float32Array.from(weights[0]!), Float32Array.from(weights[1]!));
      stats.push(Float32Array.from(weights[2]!), Float32Array.from(weights[3]!));
    }
  });
  return { params, stats };
}

/**
 * PyTorch's default initial values, seeded: conv2d and dense weights kaiming-uniform with a = √5 and biases
 * U(±1/√fan_in) (both U(±1/√fan_in)), drawn in PyTorch's order (weights, then biases, layer by layer); batch norm
 * γ = 1, β = 0, running mean 0 and variance 1. A dense-only net draws what `mlp(layers, { seed })` draws.
 * @example const numbers = torchNumbers(spec, 0);
 */
export function torchNumbers(spec: NetworkSpec, seed: number): NetworkNumbers {
  const random = seededRandom(seed);
  const params: Float32Array[] = [];
  const stats: Float32Array[] = [];
  for (const layer of spec.layers) {
    if (layer.kind === "conv2d") {
      const fanIn = layer.channels * layer.kernelHeight * layer.kernelWidth;
      const bound = 1 / Math.sqrt(fanIn);
      const values = new Float32Array(paramSizes(layer)[0]!);
      const F = layer.filters;
      // PyTorch's weight [F][C][kh][kw] in order, then the biases.
      for (let f = 0; f < F; f++) for (let r = 0; r < fanIn; r++) values[r * F + f] = (2 * random() - 1) * bound;
      for (let f = 0; f < F; f++) values[fanIn * F + f] = (2 * random() - 1) * bound;
      params.push(values);
    } else if (layer.kind === "dense") {
      const { inputs, units } = layer;
      const bound = 1 / Math.sqrt(inputs);
      const values = new Float32Array(units * (inputs + 1));
      for (let j = 0; j < units; j++) for (let i = 0; i < inputs; i++) values[j * (inputs + 1) + i] = (2 * random() - 1) * bound;
      for (let j = 0; j < units; j++) values[j * (inputs + 1) + inputs] = (2 * random() - 1) * bound;
      params.push(values);
    } else if (layer.kind === "batchNorm") {
      const [channels] = paramSizes(layer) as [number];
      params.push(new Float32Array(channels).fill(1), new Float32Array(channels));
      stats.push(new Float32Array(channels), new Float32Array(channels).fill(1));
    }
  }
  return { params, stats };
}

/**
 * Put trained numbers into the model's own weights (TensorFlow.js's layouts), so it predicts and saves as trained.
 * @example writeNumbers(model, read, session.read()); await model.save("file://...");
 */
export function writeNumbers(model: tf.LayersModel, { spec, source }: ReadNetwork, numbers: NetworkNumbers): void {
  let param = 0;
  let stat = 0;
  spec.layers.forEach((layer, k) => {
    if (source[k]! < 0) return;
    const target = model.layers[source[k]!]!;
    const shapes = target.getWeights().map((tensor) => tensor.shape);
    let arrays: Float32Array[] = [];
    if (layer.kind === "conv2d") arrays = convFromEngine(layer, numbers.params[param++]!);
    else if (layer.kind === "dense") arrays = denseFromEngine(layer.inputs, layer.units, numbers.params[param++]!);
    else if (layer.kind === "batchNorm") arrays = [numbers.params[param++]!, numbers.params[param++]!, numbers.stats[stat++]!, numbers.stats[stat++]!];
    else return;
    const tensors = arrays.map((values, w) => tf.tensor(values, shapes[w]!));
    target.setWeights(tensors);
    tf.dispose(tensors);
  });
}

type Conv = Extract<NetworkLayer, { kind: "conv2d" }>;

/** TensorFlow.js's kernel [kh][kw][C][F] and bias [F] → the engine's [(c·kh + i)·kw + j][F], bias row last. */
function convToEngine(layer: Conv, kernel: Float32Array, bias: Float32Array): Float32Array {
  const { channels: C, kernelHeight: kh, kernelWidth: kw, filters: F } = layer;
  const values = new Float32Array((C * kh * kw + 1) * F);
  for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) for (let c = 0; c < C; c++) for (let f = 0; f < F; f++) {
    values[((c * kh + i) * kw + j) * F + f] = kernel[((i * kw + j) * C + c) * F + f]!;
  }
  values.set(bias, C * kh * kw * F);
  return values;
}

function convFromEngine(layer: Conv, values: Float32Array): Float32Array[] {
  const { channels: C, kernelHeight: kh, kernelWidth: kw, filters: F } = layer;
  const kernel = new Float32Array(C * kh * kw * F);
  for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) for (let c = 0; c < C; c++) for (let f = 0; f < F; f++) {
    kernel[((i * kw + j) * C + c) * F + f] = values[((c * kh + i) * kw + j) * F + f]!;
  }
  return [kernel, values.slice(C * kh * kw * F)];
}

/** TensorFlow.js's kernel [inputs][units] and bias → the engine's [units][inputs + 1]. */
function denseToEngine(inputs: number, units: number, kernel: Float32Array, bias: Float32Array): Float32Array {
  const values = new Float32Array(units * (inputs + 1));
  for (let j = 0; j < units; j++) {
    for (let i = 0; i < inputs; i++) values[j * (inputs + 1) + i] = kernel[i * units + j]!;
    values[j * (inputs + 1) + inputs] = bias[j]!;
  }
  return values;
}

function denseFromEngine(inputs: number, units: number, values: Float32Array): Float32Array[] {
  const kernel = new Float32Array(inputs * units);
  const bias = new Float32Array(units);
  for (let j = 0; j < units; j++) {
    for (let i = 0; i < inputs; i++) kernel[i * units + j] = values[j * (inputs + 1) + i]!;
    bias[j] = values[j * (inputs + 1) + inputs]!;
  }
  return [kernel, bias];
}

/** A layer's config in an error: the settings a user wrote, not the initialisers. */
function describeConfig(config: Record<string, unknown>): string {
  const keys = ["filters", "kernelSize", "strides", "padding", "poolSize", "units", "rate", "activation", "axis"];
  const shown = keys.filter((key) => config[key] !== undefined && config[key] !== null).map((key) => `${key}: ${JSON.stringify(config[key])}`);
  return `{ ${shown.join(", ")} }`;
}

/**
 * A shape as errors write it: "12×12×8 (height × width × channels)" or "1152 features".
 * @example describeShape({ layout: "features", features: 10 }); // "10 features"
 */
export function describeShape(shape: LayerShape): string {
  return shape.layout === "planes" ? `${shape.height}×${shape.width}×${shape.channels} (height × width × channels)` : `${shape.features} features`;
}
