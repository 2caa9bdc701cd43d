/**
 * A network of conv2d, maxPool, flatten, dense, dropout, batchNorm and activation layers (`layers.ts`) trained on the
 * engine: every activation, gradient and trained array on the heap for the whole run, each layer a few kernel calls.
 *
 * Forward, per layer: conv2d is im2col then one product over the whole batch (weights [C·kh·kw + 1][filters] read
 * transposed, the bias through im2col's row of ones), its activation fused (ReLU) or applied after; maxPool keeps
 * where each maximum was; flatten gathers planes into features in TensorFlow.js's order (h, w, c), one transpose,
 * so the dense layer after it has the weights a TensorFlow.js model has; dense is one product ([units][inputs + 1] · features
 * with their row of ones); dropout multiplies by a seeded mask; batchNorm normalises with the batch's statistics
 * while training (and updates the running ones) and with the running ones otherwise.
 * Backward, last layer first, each the adjoint of its forward pass; then every trained array gets its update rule's
 * kernel (`updates.ts`). Every sum runs in a fixed order in the kernels, so the bits are the same everywhere.
 */
import { afterDraws, seedState } from "../math/random";
import type { EngineHeap } from "./heap";
import { EPILOGUE, type Kernels } from "./kernels";
import { ACTIVATION_CODES, outputShape, paramSizes, shapeSize, type LayerShape, type NetworkLayer, type NetworkNumbers, type NetworkSpec } from "./layers";
import type { BatchSource } from "./step";
import { softmaxCrossEntropy } from "./tensor-step";
import { createUpdater, type UpdateRule } from "./updates";
import { shiftImage } from "../data/batch";

/** How images enter the network: ((byte / 255) − mean) / std. */
export interface InputScaling {
  mean: number;
  std: number;
}

/** What a network session trains: the net, its numbers, the batch size, the rule and the input's scaling. */
export interface NetworkSessionSpec {
  spec: NetworkSpec;
  numbers: NetworkNumbers;
  batchSize: number;
  rule: UpdateRule;
  scaling: InputScaling;
  /** Seed of the dropout masks (drawn in order, step after step). */
  seed: number;
}

/** A batch, with each image's shift (augmentation): `shifts[2j]`, `shifts[2j + 1]` = (dx, dy) of image j, or null. */
export interface NetworkBatch extends BatchSource {
  shifts: Int8Array | null;
}

/**
 * A network in training on the engine: one step at a time; `read` copies its numbers out.
 * @example const session = engine.startNetwork(spec, true); session.step(batch); const numbers = session.read(); session.dispose();
 */
export interface NetworkSession {
  /** One optimizer step; its loss. The update is applied only when the loss is finite. */
  step(batch: NetworkBatch): number;
  /** The logits [classes][size] of a batch in evaluation mode (running statistics, no dropout), as a copy. */
  evaluate(batch: NetworkBatch): Float32Array;
  /**
   * Every layer's output for a batch (feature maps, to draw or to check), as copies in the engine's layouts: planes
   * [C][size][H][W] or features [F][size]. Evaluation mode unless `training`, which is a step's forward pass: it
   * draws the next dropout masks and moves batch norm's running statistics, as a step would.
   */
  activations(batch: NetworkBatch, training?: boolean): Float32Array[];
  read(): NetworkNumbers;
  setLr(lr: number): void;
  dispose(): void;
}

/** Where one layer's buffers are. */
interface LayerBuffers {
  /** Its output (features: with room for the row of ones). */
  out: number;
  /** The gradient with respect to its output. */
  dOut: number;
  /** conv2d: im2col of its input, and the transposed output gradient; dense: its input as rows. */
  cols: number;
  colsT: number;
  /** maxPool: where each maximum was (int32). dropout: the mask (bytes). batchNorm: mean and 1/std per channel. */
  index: number;
  mean: number;
  invStd: number;
  /** This layer's trained arrays and their gradients (indices into the session's lists). */
  params: number[];
  stats: number[];
}

/**
 * Train `spec` on `heap` with `kernels` (`gemm` maybe split over threads).
 * @example const session = startNetwork(heap, { kernels, gemm }, sessionSpec);
 */
export function startNetwork(heap: EngineHeap, { kernels, gemm }: { kernels: Kernels; gemm: Kernels["gemm"] }, session: NetworkSessionSpec): NetworkSession {
  const { spec, batchSize: B, rule, scaling } = session;
  const { layers, input } = spec;
  // Checked before anything is allocated: a throw later would leave buffers on the heap.
  const last = layers[layers.length - 1];
  if (!last || last.kind !== "dense") throw new RangeError("startNetwork: the last layer must be dense (it scores the classes)");
  if (layers[0]!.kind === "dense") throw new RangeError("startNetwork: a dense layer cannot read images: flatten them first");
  const classes = last.units;
  const owned: number[] = [];
  const floats = (count: number): number => {
    const at = heap.alloc(count * 4);
    owned.push(at);
    return at;
  };
  const shapes: LayerShape[] = [{ layout: "planes", ...input }, ...layers.map(outputShape)];
  // Trained arrays and batch norm's statistics, copied in.
  const params: { at: number; length: number }[] = [];
  const stats: { at: number; length: number }[] = [];
  const place = (list: typeof params, values: Float32Array) => {
    const at = floats(values.length);
    heap.floats(at, values.length).set(values);
    list.push({ at, length: values.length });
    return list.length - 1;
  };
  let nextParam = 0;
  let nextStat = 0;
  const buffers: LayerBuffers[] = layers.map((layer, i) => {
    const size = shapeSize(shapes[i + 1]!);
    const own: LayerBuffers = { out: floats((size + 1) * B), dOut: floats((size + 1) * B), cols: 0, colsT: 0, index: 0, mean: 0, invStd: 0, params: [], stats: [] };
    for (const length of paramSizes(layer)) {
      const values = session.numbers.params[nextParam++];
      if (!values || values.length !== length) throw new RangeError(`startNetwork: layer ${i} (${layer.kind}) expects a trained array of ${length} numbers, got ${values?.length}`);
      own.params.push(place(params, values));
    }
    if (layer.kind === "conv2d") {
      const rows = layer.channels * layer.kernelHeight * layer.kernelWidth + 1;
      own.cols = floats(rows * B * layer.outHeight * layer.outWidth);
      own.colsT = floats(layer.filters * B * layer.outHeight * layer.outWidth);
    } else if (layer.kind === "dense") {
      own.cols = floats((layer.inputs + 1) * B);
    } else if (layer.kind === "maxPool") {
      own.index = heap.alloc(size * B * 4);
      owned.push(own.index);
    } else if (layer.kind === "dropout") {
      own.index = heap.alloc(size * B);
      owned.push(own.index);
    } else if (layer.kind === "batchNorm") {
      const channels = shapes[i]!.layout === "planes" ? (shapes[i] as { channels: number }).channels : size;
      own.mean = floats(channels);
      own.invStd = floats(channels);
      for (let k = 0; k < 2; k++) {
        const values = session.numbers.stats[nextStat++];
        if (!values || values.length !== channels) throw new RangeError(`startNetwork: layer ${i} (batchNorm) expects running statistics of ${channels} numbers`);
        own.stats.push(place(stats, values));
      }
    }
    return own;
  });
  if (nextParam !== session.numbers.params.length) throw new RangeError(`startNetwork: ${session.numbers.params.length} trained arrays for a network of ${nextParam}`);
  const grads = params.map((p) => floats(p.length));
  const pixels = input.channels * input.height * input.width;
  const stage = heap.alloc(B * pixels);
  owned.push(stage);
  const inputBuffer = floats((pixels + 1) * B);
  const shifted = new Uint8Array(pixels);
  let maskState = seedState(session.seed); // the masks are seededRandom(seed)'s draws, step after step
  const updater = createUpdater(kernels, rule, params.map((p, k) => ({ params: p.at, grads: grads[k]!, length: p.length })), floats);
  const gradientRows = new Float32Array(B * classes);

  /** Copy `count` floats from `src` to `dst` on the heap. */
  const copy = (src: number, dst: number, count: number) => new Float32Array(heap.memory.buffer).copyWithin(dst / 4, src / 4, src / 4 + count);
  /** The row of ones after `features` rows of `size` columns. */
  const ones = (at: number, features: number, size: number) => heap.floats(at + features * size * 4, size).fill(1);

  /** The batch's images, shifted where asked, into the input planes. */
  const stageImages = (batch: NetworkBatch): Uint8Array => {
    const { split, from, to, order, shifts } = batch;
    const size = to - from;
    const bytes = heap.bytes(stage, size * pixels);
    const labels = new Uint8Array(size);
    for (let j = 0; j < size; j++) {
      const sample = order ? order[from + j]! : from + j;
      labels[j] = split.labels[sample]!;
      const image = split.images.subarray(sample * pixels, (sample + 1) * pixels);
      if (shifts && (shifts[2 * j] !== 0 || shifts[2 * j + 1] !== 0)) {
        shiftImage(image, shifted, input.width, input.height, shifts[2 * j]!, shifts[2 * j + 1]!);
        bytes.set(shifted, j * pixels);
      } else bytes.set(image, j * pixels);
    }
    kernels.planes(stage, inputBuffer, size, pixels, scaling.mean, 1 / scaling.std);
    return labels;
  };

  /** The forward pass of `size` images already in `inputBuffer`; where the logits are ([classes][size]). */
  const forward = (size: number, training: boolean): number => {
    let source = inputBuffer;
    layers.forEach((layer, i) => {
      const own = buffers[i]!;
      const out = own.out;
      const p = own.params.map((k) => params[k]!.at);
      switch (layer.kind) {
        case "conv2d": {
          const { channels: C, height: H, width: W, kernelHeight: kh, kernelWidth: kw, stride, padTop, outHeight: OH, outWidth: OW, filters: F } = layer;
          const rows = C * kh * kw + 1;
          const columns = size * OH * OW;
          kernels.im2col(source, own.cols, C, size, H, W, kh, kw, stride, padTop, OH, OW);
          // out [F][columns] = weightsᵀ · cols: the weights [rows][F] read transposed.
          gemm(p[0]!, 4, F * 4, own.cols, columns * 4, out, columns * 4, 0, F, rows, columns, layer.activation === "relu" ? EPILOGUE.relu : EPILOGUE.none);
          activate(layer.activation, out, F * columns);
          break;
        }
        case "maxPool": {
          const { channels: C, height: H, width: W, size: window, stride, outHeight: OH, outWidth: OW } = layer;
          kernels.maxPool(source, out, own.index, C * size, H, W, window, stride, OH, OW);
          break;
        }
        case "flatten":
          // Planes [C][B][H·W] → features [(h·W + w)·C + c][B] (TensorFlow.js's order): [C·B][H·W] transposed.
          kernels.transpose(source, out, layer.channels * size, layer.height * layer.width);
          break;
        case "dense": {
          ones(source, layer.inputs, size);
          gemm(p[0]!, (layer.inputs + 1) * 4, 4, source, size * 4, out, size * 4, 0, layer.units, layer.inputs + 1, size, layer.activation === "relu" ? EPILOGUE.relu : EPILOGUE.none);
          activate(layer.activation, out, layer.units * size);
          break;
        }
        case "dropout": {
          const count = shapeSize(layer.shape) * size;
          copy(source, out, count);
          if (training && layer.rate > 0) {
            // random() >= rate ⇔ a draw (a uint32) ≥ ⌈rate·2³²⌉; the kernel draws them, LANES at a time.
            const keep = Math.ceil(layer.rate * 2 ** 32);
            kernels.dropoutMask(own.index, count, maskState >>> 16, maskState & 0xffff, Math.floor(keep / 65536), keep % 65536);
            maskState = afterDraws(maskState, count);
            kernels.dropout(out, own.index, count, 1 / (1 - layer.rate));
          }
          break;
        }
        case "batchNorm": {
          const [channels, n] = channelsAndCount(layer.shape, size);
          const [runMean, runVar] = own.stats.map((k) => stats[k]!.at);
          kernels.batchNorm(source, out, p[0]!, p[1]!, own.mean, own.invStd, runMean!, runVar!, channels, n, layer.epsilon, layer.momentum, training ? 1 : 0);
          break;
        }
        case "activation":
          copy(source, out, shapeSize(layer.shape) * size);
          activate(layer.activation, out, shapeSize(layer.shape) * size, true);
          break;
      }
      source = out;
    });
    return source;
  };

  /** An activation after a layer's sum: ReLU is fused into the product, unless `standalone`. */
  const activate = (activation: string, at: number, count: number, standalone = false) => {
    if (activation === "linear" || (activation === "relu" && !standalone)) return;
    kernels.activation(at, count, ACTIVATION_CODES[activation as keyof typeof ACTIVATION_CODES]);
  };

  const backward = (size: number, dLast: number): void => {
    let dOut = dLast;
    for (let i = layers.length - 1; i >= 0; i--) {
      const layer = layers[i]!;
      const own = buffers[i]!;
      const source = i === 0 ? inputBuffer : buffers[i - 1]!.out;
      const dIn = i === 0 ? 0 : buffers[i - 1]!.dOut;
      const g = own.params.map((k) => grads[k]!);
      const p = own.params.map((k) => params[k]!.at);
      switch (layer.kind) {
        case "conv2d": {
          const { channels: C, height: H, width: W, kernelHeight: kh, kernelWidth: kw, stride, padTop, outHeight: OH, outWidth: OW, filters: F } = layer;
          const rows = C * kh * kw + 1;
          const columns = size * OH * OW;
          if (layer.activation !== "linear") kernels.activationBackward(own.out, dOut, F * columns, ACTIVATION_CODES[layer.activation]);
          // gradient [rows][F] = cols [rows][columns] · dOutᵀ [columns][F]
          kernels.transpose(dOut, own.colsT, F, columns);
          gemm(own.cols, columns * 4, 4, own.colsT, F * 4, g[0]!, F * 4, 0, rows, columns, F, EPILOGUE.none);
          if (i > 0) {
            // d cols [rows − 1][columns] = weights [rows][F] · dOut [F][columns], then back onto the input planes.
            gemm(p[0]!, F * 4, 4, dOut, columns * 4, own.cols, columns * 4, 0, rows - 1, F, columns, EPILOGUE.none);
            kernels.col2im(own.cols, dIn, C, size, H, W, kh, kw, stride, padTop, OH, OW);
          }
          break;
        }
        case "maxPool": {
          const { channels: C, height: H, width: W, outHeight: OH, outWidth: OW } = layer;
          if (i > 0) kernels.maxPoolBackward(dOut, own.index, dIn, C * size, H, W, OH, OW);
          break;
        }
        case "flatten":
          if (i > 0) kernels.transpose(dOut, dIn, layer.height * layer.width, layer.channels * size);
          break;
        case "dense": {
          const width = layer.inputs + 1;
          if (layer.activation !== "linear") kernels.activationBackward(own.out, dOut, layer.units * size, ACTIVATION_CODES[layer.activation]);
          kernels.transpose(source, own.cols, width, size);
          gemm(dOut, size * 4, 4, own.cols, width * 4, g[0]!, width * 4, 0, layer.units, size, width, EPILOGUE.none);
          if (i > 0) gemm(p[0]!, 4, width * 4, dOut, size * 4, dIn, size * 4, 0, layer.inputs, layer.units, size, EPILOGUE.none);
          break;
        }
        case "dropout": {
          const count = shapeSize(layer.shape) * size;
          if (i > 0) {
            copy(dOut, dIn, count);
            if (layer.rate > 0) kernels.dropout(dIn, own.index, count, 1 / (1 - layer.rate));
          }
          break;
        }
        case "batchNorm": {
          const [channels, n] = channelsAndCount(layer.shape, size);
          kernels.batchNormBackward(dOut, source, p[0]!, own.mean, own.invStd, i > 0 ? dIn : own.dOut, g[0]!, g[1]!, channels, n);
          break;
        }
        case "activation": {
          const count = shapeSize(layer.shape) * size;
          if (i > 0) {
            copy(dOut, dIn, count);
            if (layer.activation !== "linear") kernels.activationBackward(own.out, dIn, count, ACTIVATION_CODES[layer.activation]);
          }
          break;
        }
      }
      dOut = dIn;
    }
  };

  return {
    step(batch) {
      const size = batch.to - batch.from;
      const labels = stageImages(batch);
      const logits = forward(size, true);
      const dLast = buffers[layers.length - 1]!.dOut;
      const loss = softmaxCrossEntropy(heap.floats(logits, size * classes), false, labels, classes, size, updater.gradientScale, gradientRows, heap.floats(dLast, size * classes));
      if (!Number.isFinite(Math.fround(loss))) return loss;
      backward(size, dLast);
      updater.apply();
      return loss;
    },
    evaluate(batch) {
      const size = batch.to - batch.from;
      stageImages(batch);
      return heap.floats(forward(size, false), size * classes).slice();
    },
    activations(batch, training = false) {
      const size = batch.to - batch.from;
      stageImages(batch);
      forward(size, training);
      return buffers.map((own, i) => heap.floats(own.out, shapeSize(shapes[i + 1]!) * size).slice());
    },
    read: () => ({
      params: params.map((p) => heap.floats(p.at, p.length).slice()),
      stats: stats.map((s) => heap.floats(s.at, s.length).slice()),
    }),
    setLr: (lr) => updater.setLr(lr),
    dispose() {
      for (const at of owned.splice(0)) heap.release(at);
    },
  };
}

/**
 * Logits [count][classes] of a network for many images, in evaluation mode (batch norm's running statistics, no
 * dropout), `batchSize` images per pass.
 * @example const logits = predictNetwork(heap, kernels, spec, numbers, { mean: 0, std: 1 }, data.test, 1000);
 */
export function predictNetwork(
  heap: EngineHeap, run: { kernels: Kernels; gemm: Kernels["gemm"] }, spec: NetworkSpec, numbers: NetworkNumbers, scaling: InputScaling,
  images: { bytes: Uint8Array; count: number }, batchSize: number,
): Float32Array {
  const last = spec.layers[spec.layers.length - 1] as Extract<NetworkLayer, { kind: "dense" }>;
  const classes = last.units;
  const logits = new Float32Array(images.count * classes);
  if (images.count === 0) return logits;
  const batch = Math.min(batchSize, images.count);
  const session = startNetwork(heap, run, { spec, numbers, batchSize: batch, rule: { optimizer: "sgd", lr: 0, momentum: null, weightDecay: 0 }, scaling, seed: 0 });
  try {
    const split = { images: images.bytes, labels: new Uint8Array(images.count), count: images.count } as BatchSource["split"];
    for (let from = 0; from < images.count; from += batch) {
      const to = Math.min(from + batch, images.count);
      const out = session.evaluate({ split, from, to, order: null, shifts: null });
      for (let c = 0; c < classes; c++) for (let j = 0; j < to - from; j++) logits[(from + j) * classes + c] = out[c * (to - from) + j]!;
    }
  } finally {
    session.dispose();
  }
  return logits;
}

/** [channels, values per channel] of batch norm over `shape` for a batch of `size`. */
function channelsAndCount(shape: LayerShape, size: number): [number, number] {
  return shape.layout === "planes" ? [shape.channels, size * shape.height * shape.width] : [shape.features, size];
}

