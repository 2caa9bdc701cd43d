/**
 * What a trained network's convolutions look at, as plain numbers: a conv layer's filters as small images, and the
 * maps a layer makes of one image (the engine's forward pass in evaluation mode, up to that layer). The figures
 * (`figures/filters`) draw them; a notebook can also read them.
 */
import { networkEngine } from "../engine/backend";
import type { NetworkLayer } from "../engine/layers";
import type { NetworkBatch } from "../engine/network";
import * as tf from "@tensorflow/tfjs";
import { NetworkModel } from "../model/network-model";

/**
 * A conv layer's filters: `images[f * channels + c]` is filter f's weights on input channel c, `height` × `width`
 * row-major (the kernel as it slides over the image), with each filter's bias.
 * @example const { images, filters } = filterImages(net); images.length === filters; // one channel in
 */
export interface FilterImages {
  /** The Layers model's layer index (`model.layers[layer]`). */
  layer: number;
  /** Its short name, e.g. "conv8@5". */
  name: string;
  filters: number;
  channels: number;
  height: number;
  width: number;
  images: Float32Array[];
  biases: Float32Array;
}

/**
 * The maps one layer makes of one image: `maps[c]` is channel c's `height` × `width` values row-major (a dense
 * layer's output is one map of 1 × units).
 * @example const { maps } = featureMaps(net, data.test.images.subarray(0, 784)); maps.length; // 8
 */
export interface FeatureMaps {
  layer: number;
  name: string;
  channels: number;
  height: number;
  width: number;
  maps: Float32Array[];
}

/**
 * The filters of a network's conv layer as images (by default its first conv layer): what each filter responds to.
 * `layer` is the index in the Layers model (`tfModel.layers[layer]`).
 * @example show.filters(netRun); const filters = filterImages(netRun.model, 0);
 */
export function filterImages(source: NetworkModel | { model: NetworkModel }, layer?: number): FilterImages {
  const net = networkOf(source, "filterImages");
  if (net.trainer === "tfjs") return tfjsFilters(net, layer);
  const k = engineLayer(net, layer, "filterImages", (found) => found.kind === "conv2d", "a Conv2D layer");
  const conv = net.spec.layers[k] as Extract<NetworkLayer, { kind: "conv2d" }>;
  const { filters: F, channels: C, kernelHeight: kh, kernelWidth: kw } = conv;
  const paramIndex = net.spec.layers.slice(0, k).reduce((count, earlier) => count + (earlier.kind === "conv2d" || earlier.kind === "dense" ? 1 : earlier.kind === "batchNorm" ? 2 : 0), 0);
  const weights = net.numbers().params[paramIndex]!;
  const images: Float32Array[] = [];
  for (let f = 0; f < F; f++) {
    for (let c = 0; c < C; c++) {
      const image = new Float32Array(kh * kw);
      // The engine's rows are (c·kh + i)·kw + j, one column per filter.
      for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) image[i * kw + j] = weights[((c * kh + i) * kw + j) * F + f]!;
      images.push(image);
    }
  }
  return { layer: net.sourceLayers[k]!, name: net.layers[k]!, filters: F, channels: C, height: kh, width: kw, images, biases: weights.slice(C * kh * kw * F) };
}

/**
 * One image's feature maps at a layer of a network (by default its first conv layer), from the engine's forward pass
 * in evaluation mode (batch norm's running statistics, no dropout), the input scaled as the network trained.
 * `image` is the image's bytes (e.g. `data.test.images.subarray(0, 784)`); `layer` the Layers model's index.
 * @example show.featureMaps(netRun, data.test.images.subarray(0, 784), { layer: 2 });
 */
export function featureMaps(source: NetworkModel | { model: NetworkModel }, image: Uint8Array, layer?: number): FeatureMaps {
  const net = networkOf(source, "featureMaps");
  const { channels, height, width } = net.spec.input;
  const pixels = channels * height * width;
  if (!(image instanceof Uint8Array) || image.length !== pixels) {
    throw new RangeError(`featureMaps: image: expected the ${pixels} bytes of one ${height}×${width}×${channels} image (e.g. data.test.images.subarray(0, ${pixels})), got ${image instanceof Uint8Array ? `${image.length} bytes` : typeof image}`);
  }
  if (net.trainer === "tfjs") return tfjsFeatureMaps(net, image, layer);
  const k = engineLayer(net, layer, "featureMaps", (found) => found.kind !== "flatten", "a layer with an output of its own (not a flatten)");
  const session = networkEngine().startNetwork({
    spec: net.spec, numbers: net.numbers(), batchSize: 1, rule: { optimizer: "sgd", lr: 0, momentum: null, weightDecay: 0 },
    scaling: net.scaling ?? { mean: 0, std: 1 }, seed: 0,
  }, false);
  let outputs: Float32Array[];
  try {
    const split = { images: image, labels: new Uint8Array(1), count: 1, rows: height, cols: width };
    outputs = session.activations({ split, from: 0, to: 1, order: null, shifts: null } as NetworkBatch);
  } finally {
    session.dispose();
  }
  const values = outputs[k]!;
  const shape = shapeAfter(net, k);
  const size = shape.height * shape.width;
  const maps = Array.from({ length: shape.channels }, (_, c) => values.slice(c * size, (c + 1) * size));
  return { layer: net.sourceLayers[k]!, name: net.layers[k]!, ...shape, maps };
}

function networkOf(source: unknown, where: string): NetworkModel {
  const net = source instanceof NetworkModel ? source : (source as { model?: unknown } | null)?.model;
  if (!(net instanceof NetworkModel)) {
    throw new TypeError(`${where}: expected a network of tf.layers (network(...), or a run whose model is one); an mlp(...) has no conv layers (show.weights draws its first layer)`);
  }
  return net;
}

/** The engine's index of the Layers model's layer `layer` (default: the first that `fits`), checked. */
function engineLayer(net: NetworkModel, layer: number | undefined, where: string, fits: (found: NetworkLayer) => boolean, wanted: string): number {
  const names = net.sourceLayers.map((source, k) => `${source}: ${net.spec.layers[k]!.kind}`).filter((_, k) => net.sourceLayers[k]! >= 0).join(", ");
  if (layer === undefined) {
    const k = net.spec.layers.findIndex((found, at) => fits(found) && net.sourceLayers[at]! >= 0);
    if (k < 0) throw new RangeError(`${where}: the network ${net.layers.join(" → ")} has no ${wanted}`);
    return k;
  }
  const k = net.sourceLayers.indexOf(layer);
  if (!Number.isInteger(layer) || k < 0) throw new RangeError(`${where}: layer ${String(layer)} is not one of the network's layers (${names})`);
  if (!fits(net.spec.layers[k]!)) throw new RangeError(`${where}: layer ${layer} is a ${net.spec.layers[k]!.kind} layer; expected ${wanted} (the network's layers: ${names})`);
  return k;
}

/** The shape of engine layer k's output: planes as they are, features as one map of 1 × F. */
function shapeAfter(net: NetworkModel, k: number): { channels: number; height: number; width: number } {
  const layer = net.spec.layers[k]!;
  if (layer.kind === "conv2d") return { channels: layer.filters, height: layer.outHeight, width: layer.outWidth };
  if (layer.kind === "maxPool") return { channels: layer.channels, height: layer.outHeight, width: layer.outWidth };
  if (layer.kind === "dense") return { channels: 1, height: 1, width: layer.units };
  if (layer.kind === "flatten") return { channels: 1, height: 1, width: layer.channels * layer.height * layer.width };
  const shape = layer.shape;
  return shape.layout === "planes" ? { channels: shape.channels, height: shape.height, width: shape.width } : { channels: 1, height: 1, width: shape.features };
}

/** The Layers model's layer `layer`, or its first Conv2D; checked to be one `fits` takes. */
function tfjsLayer(net: NetworkModel, layer: number | undefined, where: string, fits: (found: tf.layers.Layer) => boolean, wanted: string): number {
  const layers = net.trainingModel().layers;
  const names = layers.map((found, index) => `${index}: ${found.getClassName()}`).join(", ");
  const index = layer ?? layers.findIndex((found) => found.getClassName() === "Conv2D");
  if (layer === undefined && index < 0) throw new RangeError(`${where}: the network ${net.layers.join(" → ")} has no Conv2D layer; name one with { layer } (its layers: ${names})`);
  if (!Number.isInteger(index) || !layers[index]) throw new RangeError(`${where}: layer ${String(layer)} is not one of the network's layers (${names})`);
  if (!fits(layers[index]!)) throw new RangeError(`${where}: layer ${index} is a ${layers[index]!.getClassName()} layer; expected ${wanted} (the network's layers: ${names})`);
  return index;
}

/** A TensorFlow.js-trained network's Conv2D filters, from its kernel [kh][kw][C][F]. */
function tfjsFilters(net: NetworkModel, layer: number | undefined): FilterImages {
  const index = tfjsLayer(net, layer, "filterImages", (found) => found.getClassName() === "Conv2D", "a Conv2D layer");
  const conv = net.trainingModel().layers[index]!;
  const [kernel, bias] = conv.getWeights();
  const [kh, kw, C, F] = kernel!.shape as [number, number, number, number];
  const values = kernel!.dataSync();
  const images: Float32Array[] = [];
  for (let f = 0; f < F; f++) {
    for (let c = 0; c < C; c++) {
      const image = new Float32Array(kh * kw);
      for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) image[i * kw + j] = values[((i * kw + j) * C + c) * F + f]!;
      images.push(image);
    }
  }
  const name = `conv${F}@${kh}`;
  return { layer: index, name, filters: F, channels: C, height: kh, width: kw, images, biases: bias ? Float32Array.from(bias.dataSync()) : new Float32Array(F) };
}

/** A TensorFlow.js-trained network's maps of one image at a layer with image-shaped (or flat) output, in evaluation mode. */
function tfjsFeatureMaps(net: NetworkModel, image: Uint8Array, layer: number | undefined): FeatureMaps {
  const model = net.trainingModel();
  const index = tfjsLayer(net, layer, "featureMaps", (found) => !Array.isArray(found.outputShape[0]) && [2, 4].includes(found.outputShape.length), "a layer with one image-shaped or flat output");
  const target = model.layers[index]!;
  const { mean, std } = net.scaling ?? { mean: 0, std: 1 };
  const read = net.tfjsRead!;
  const maps = tf.tidy(() => {
    const upTo = tf.model({ inputs: model.inputs, outputs: target.output as tf.SymbolicTensor });
    const x = tf.tensor(Float32Array.from(image, (byte) => (byte / 255 - mean) / std), [1, ...read.inputShape]);
    return (upTo.predict(x) as tf.Tensor).dataSync() as Float32Array;
  });
  const shape = target.outputShape as (number | null)[];
  const [height, width, channels] = shape.length === 4 ? [shape[1]!, shape[2]!, shape[3]!] : [1, shape[1]!, 1];
  const size = height * width;
  const planes = Array.from({ length: channels }, (_, c) => {
    const plane = new Float32Array(size);
    for (let p = 0; p < size; p++) plane[p] = maps[p * channels + c]!;
    return plane;
  });
  return { layer: index, name: target.getClassName(), channels, height, width, maps: planes };
}
