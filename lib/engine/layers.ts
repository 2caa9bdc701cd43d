/**
 * A network as the engine sees it: plain descriptions of its layers with every shape worked out, and the numbers
 * each layer owns, in the engine's layouts. `model/` turns a TensorFlow.js Layers model into these (and back);
 * the engine never sees TensorFlow.js.
 *
 * Layouts:
 * - activations are "planes", [C][B][H][W] (channel-major, then the batch: a convolution is one product over the
 *   whole batch), or "features", [F][B] (a dense layer's output, one row per unit), with a row of ones after the
 *   last feature where a dense layer reads them (its bias);
 * - a conv2d layer's weights are [C·kh·kw + 1][filters], row (c·kh + i)·kw + j, the bias last;
 * - a dense layer's are [units][inputs + 1], the bias last (PyTorch's layout, "unitMajor").
 */

/** What follows a layer's sum. */
export type Activation = "linear" | "relu" | "tanh" | "sigmoid";

/** The activation kernels' codes (kernels.h). */
export const ACTIVATION_CODES: Record<Exclude<Activation, "linear">, number> = { tanh: 1, sigmoid: 2, relu: 3 };

/** The shape of the images a network reads: channels, height, width. */
export interface ImageShape {
  channels: number;
  height: number;
  width: number;
}

/**
 * One layer, with its shapes.
 * @example const pool: NetworkLayer = { kind: "maxPool", channels: 8, height: 24, width: 24, size: 2, stride: 2, outHeight: 12, outWidth: 12 };
 */
export type NetworkLayer =
  | ({ kind: "conv2d"; filters: number; kernelHeight: number; kernelWidth: number; stride: number; padTop: number; padLeft: number; outHeight: number; outWidth: number; activation: Activation } & ImageShape)
  | ({ kind: "maxPool"; size: number; stride: number; outHeight: number; outWidth: number } & ImageShape)
  | ({ kind: "flatten" } & ImageShape)
  | { kind: "dense"; inputs: number; units: number; activation: Activation }
  | { kind: "dropout"; rate: number; shape: LayerShape }
  | { kind: "batchNorm"; epsilon: number; momentum: number; shape: LayerShape }
  | { kind: "activation"; activation: Activation; shape: LayerShape };

/** An activation's shape: planes of an image shape, or `features` rows. */
export type LayerShape = ({ layout: "planes" } & ImageShape) | { layout: "features"; features: number };

/**
 * A network: what it reads (images of `input`), its layers, and the classes its last dense layer scores.
 * @example const spec: NetworkSpec = { input: { channels: 1, height: 28, width: 28 }, layers: [...] };
 */
export interface NetworkSpec {
  input: ImageShape;
  layers: NetworkLayer[];
}

/**
 * A network's numbers: every trained array in layer order (conv2d and dense: one matrix; batchNorm: gamma, then
 * beta), and batch norm's running mean and variance in layer order (two per batchNorm layer).
 */
export interface NetworkNumbers {
  params: Float32Array[];
  stats: Float32Array[];
}

/**
 * The shape a layer gives.
 * @example outputShape({ kind: "dense", inputs: 256, units: 10, activation: "linear" }); // { layout: "features", features: 10 }
 */
export function outputShape(layer: NetworkLayer): LayerShape {
  switch (layer.kind) {
    case "conv2d":
      return { layout: "planes", channels: layer.filters, height: layer.outHeight, width: layer.outWidth };
    case "maxPool":
      return { layout: "planes", channels: layer.channels, height: layer.outHeight, width: layer.outWidth };
    case "flatten":
      return { layout: "features", features: layer.channels * layer.height * layer.width };
    case "dense":
      return { layout: "features", features: layer.units };
    default:
      return layer.shape;
  }
}

/**
 * Floats per image of a shape.
 * @example shapeSize({ layout: "planes", channels: 8, height: 12, width: 12 }); // 1152
 */
export function shapeSize(shape: LayerShape): number {
  return shape.layout === "planes" ? shape.channels * shape.height * shape.width : shape.features;
}

/**
 * The lengths of a layer's trained arrays (empty for layers without any).
 * @example paramSizes({ kind: "dense", inputs: 256, units: 10, activation: "linear" }); // [2570]
 */
export function paramSizes(layer: NetworkLayer): number[] {
  if (layer.kind === "conv2d") return [(layer.channels * layer.kernelHeight * layer.kernelWidth + 1) * layer.filters];
  if (layer.kind === "dense") return [layer.units * (layer.inputs + 1)];
  if (layer.kind === "batchNorm") return [channelsOf(layer.shape), channelsOf(layer.shape)];
  return [];
}

/**
 * Batch norm's channels: planes' channels, or every feature.
 * @example channelsOf({ layout: "features", features: 128 }); // 128
 */
export function channelsOf(shape: LayerShape): number {
  return shape.layout === "planes" ? shape.channels : shape.features;
}

/**
 * Multiply-adds of one image's forward pass (products only).
 * @example forwardMultiplyAdds(spec); // 289,000 for LeNet-5-like nets
 */
export function forwardMultiplyAdds(spec: NetworkSpec): number {
  let total = 0;
  for (const layer of spec.layers) {
    if (layer.kind === "conv2d") total += (layer.channels * layer.kernelHeight * layer.kernelWidth + 1) * layer.filters * layer.outHeight * layer.outWidth;
    if (layer.kind === "dense") total += (layer.inputs + 1) * layer.units;
  }
  return total;
}
