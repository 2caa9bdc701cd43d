/**
 * The conv gradients TensorFlow.js's wasm backend lacks (tfjs#8474): `Conv2DBackpropFilter`,
 * `DepthwiseConv2dNativeBackpropFilter` and `DepthwiseConv2dNativeBackpropInput`, registered for it as plain loops over the inputs it hands over
 * (`readSync`) and a result it takes back (`write`), both its public kernel API. Without them a model the engine
 * cannot train with a conv layer (a depthwise or separable conv, a conv1d, a conv in a functional model) trains
 * on TensorFlow.js's pure-JavaScript cpu backend, about 300× slower than tfjs-node (measured in docs/library.md);
 * with them the rest of its step runs on wasm's compiled kernels. The sums run in float64 per output, in the order
 * of the loops (the same bits every time on any machine: plain JavaScript arithmetic).
 */
import * as tf from "@tensorflow/tfjs";

type Conv2DInfo = ReturnType<typeof tf.backend_util.computeConv2DInfo>;

/** What a kernel function receives (TensorFlow.js's `KernelFunc` argument, as these kernels use it). */
interface KernelArgs {
  inputs: { x: tf.TensorInfo; dy: tf.TensorInfo; filter: tf.TensorInfo };
  backend: { readSync(dataId: object): Float32Array; write(values: Float32Array, shape: number[], dtype: string): object };
  attrs: Record<string, unknown>;
}

let registered = false;

/**
 * Register the missing conv gradients for the wasm backend, once; a kernel wasm already has is left alone.
 * @example registerWasmGradients(); tf.getKernel("Conv2DBackpropFilter", "wasm"); // defined
 */
export function registerWasmGradients(): void {
  if (registered) return;
  registered = true;
  const kernels: [string, (args: KernelArgs) => tf.TensorInfo][] = [
    ["Conv2DBackpropFilter", (args) => filterGradient(args, false)],
    ["DepthwiseConv2dNativeBackpropFilter", (args) => filterGradient(args, true)],
    ["DepthwiseConv2dNativeBackpropInput", depthwiseInputGradient],
  ];
  for (const [kernelName, kernelFunc] of kernels) {
    if (tf.getKernel(kernelName, "wasm")) continue;
    tf.registerKernel({ kernelName, backendName: "wasm", kernelFunc: kernelFunc as unknown as tf.KernelFunc });
  }
}

/**
 * dW[i][j][c][m] = Σ over images and output positions of x[n][y·s + i·d − top][x·s + j·d − left][c] · dy[n][y][x][k],
 * where k is the filter (a conv: filter m of all channels, k = m) or the channel's m-th multiplier (depthwise:
 * k = c·M + m). Channels last, as the layers give them.
 */
function filterGradient({ inputs, backend, attrs }: KernelArgs, depthwise: boolean): tf.TensorInfo {
  const { x, dy } = inputs;
  const filterShape = attrs.filterShape as [number, number, number, number];
  const dataFormat = depthwise ? "NHWC" : ((attrs.dataFormat as string | undefined) ?? "NHWC");
  if (dataFormat !== "NHWC") throw new Error(`${depthwise ? "DepthwiseConv2dNativeBackpropFilter" : "Conv2DBackpropFilter"} on wasm (the library's): only channels last, got ${dataFormat}`);
  const info: Conv2DInfo = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], filterShape, attrs.strides as [number, number],
    (attrs.dilations as [number, number] | undefined) ?? 1, attrs.pad as "valid", attrs.dimRoundingMode as "round" | undefined, depthwise,
  );
  const xs = backend.readSync(x.dataId);
  const dys = backend.readSync(dy.dataId);
  const [kh, kw, C, M] = filterShape;
  const K = dy.shape[3]!; // dy's channels: F for a conv, C·M for a depthwise conv
  const sums = new Float64Array(kh * kw * C * M);
  forEachTap(info, (position, pixel, tap) => {
    const dyRow = position * K;
    const xRow = pixel * C;
    for (let c = 0; c < C; c++) {
      const value = xs[xRow + c]!;
      if (value === 0) continue; // ReLU outputs and padding: many zeros, nothing to add
      const out = (tap * C + c) * M;
      const from = depthwise ? dyRow + c * M : dyRow;
      for (let m = 0; m < M; m++) sums[out + m] += value * dys[from + m]!;
    }
  });
  const dataId = backend.write(Float32Array.from(sums), filterShape, "float32");
  return { dataId, shape: filterShape, dtype: "float32" };
}

/**
 * dx[n][iy][ix][c] = Σ over output positions and taps that read (iy, ix) of Σ_m dy[n][y][x][c·M + m] · w[i][j][c][m]:
 * a depthwise conv's input gradient, each output position's share added where it read from.
 */
function depthwiseInputGradient({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const { dy, filter } = inputs;
  const inputShape = attrs.inputShape as [number, number, number, number];
  const info: Conv2DInfo = tf.backend_util.computeConv2DInfo(
    inputShape, filter.shape as [number, number, number, number], attrs.strides as [number, number],
    (attrs.dilations as [number, number] | undefined) ?? 1, attrs.pad as "valid", attrs.dimRoundingMode as "round" | undefined, true,
  );
  const dys = backend.readSync(dy.dataId);
  const ws = backend.readSync(filter.dataId);
  const [, , C, M] = filter.shape as [number, number, number, number];
  const sums = new Float64Array(info.batchSize * info.inHeight * info.inWidth * C);
  forEachTap(info, (position, pixel, tap) => {
    const dyRow = position * C * M;
    const xRow = pixel * C;
    const wRow = tap * C * M;
    for (let c = 0; c < C; c++) {
      let sum = 0;
      for (let m = 0; m < M; m++) sum += dys[dyRow + c * M + m]! * ws[wRow + c * M + m]!;
      sums[xRow + c] += sum;
    }
  });
  const dataId = backend.write(Float32Array.from(sums), inputShape, "float32");
  return { dataId, shape: inputShape, dtype: "float32" };
}

/**
 * Every pair of an output position and a kernel tap that reads an input pixel (not padding), in a fixed order
 * (image, output row, output column, tap row, tap column): `visit(position, pixel, tap)` with the output position's
 * index n·OH·OW + y·OW + x, the input pixel's n·H·W + iy·W + ix, and the tap's i·kw + j.
 */
function forEachTap(info: Conv2DInfo, visit: (position: number, pixel: number, tap: number) => void): void {
  const { batchSize: N, inHeight: H, inWidth: W, outHeight: OH, outWidth: OW, strideHeight: sy, strideWidth: sx, dilationHeight: dh, dilationWidth: dw } = info;
  const { filterHeight: kh, filterWidth: kw } = info;
  const { top, left } = info.padInfo;
  for (let n = 0; n < N; n++) {
    for (let oy = 0; oy < OH; oy++) {
      for (let ox = 0; ox < OW; ox++) {
        const position = (n * OH + oy) * OW + ox;
        for (let i = 0; i < kh; i++) {
          const iy = oy * sy + i * dh - top;
          if (iy < 0 || iy >= H) continue;
          for (let j = 0; j < kw; j++) {
            const ix = ox * sx + j * dw - left;
            if (ix >= 0 && ix < W) visit(position, (n * H + iy) * W + ix, i * kw + j);
          }
        }
      }
    }
  }
}
