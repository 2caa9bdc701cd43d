/**
 * The engine's products split over two threads (`engine/team.ts`) give the one-thread kernel's bits, and the
 * helper thread takes part: random products of the step's shapes, every epilogue, both orientations of A, until
 * the helper has run chunks of at least 20 products.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { EngineHeap } from "../lib/engine/heap";
import { kernelsHeapBase, loadNativeAddon, minimumPages, nativeKernels, wasmKernels } from "../lib/engine/kernels";
import { startTeam } from "../lib/engine/team";
import { seededRandom } from "../lib/math/random";

/**
 * A heap, its wasm kernels and a team of one helper on kernel set `kernel` (0 wasm, 1 native where built), splitting
 * every big call (not judging whether the helper pays: on a loaded machine it would sit out, and the split path go
 * untested).
 */
function startTestTeam(kernel: 0 | 1) {
  const heap = new EngineHeap(kernelsHeapBase(), minimumPages());
  const wasm = wasmKernels(heap.memory);
  const addon = loadNativeAddon();
  const native = kernel === 1 && typeof addon !== "string" ? nativeKernels(addon.addon, heap.memory) : wasm;
  const team = startTeam(heap.memory, 1, [wasm, native], kernel === 1, false);
  assert.ok(team, "a helper thread starts on the engine's shared memory");
  return { heap, wasm, team };
}

function runTeam(kernel: 0 | 1): void {
  const { heap, wasm, team } = startTestTeam(kernel);
  const gemm = team.kernels(kernel).gemm;
  const random = seededRandom(7);
  // The last two split by columns (a conv layer's products: N far over M), the last chunk narrower.
  const shapes = [[500, 785, 16], [16, 785, 500], [785, 16, 500], [501, 10, 16], [97, 400, 13], [8, 20000, 4], [10, 785, 16], [9, 60, 3001], [20, 300, 1000]];
  let [products, helped] = [0, 0];
  const start = Date.now();
  for (let round = 0; (helped < 20 || round < 3) && Date.now() - start < 60_000; round++) {
    for (const [M, K, N] of shapes as [number, number, number][]) {
      const fill = (count: number) => {
        const at = heap.alloc(count * 4);
        heap.floats(at, count).set(Float32Array.from({ length: count }, () => 2 * random() - 1));
        return at;
      };
      const [a, aT, b, extra, one, two] = [fill(M * K), heap.alloc(M * K * 4), fill(K * N), fill(M * N), heap.alloc(M * N * 4), heap.alloc(M * N * 4)];
      wasm.transpose(a, aT, M, K);
      for (const epilogue of [0, 1, 2, 3]) {
        for (const [source, sam, sak] of [[a, K * 4, 4], [aT, 4, M * 4]] as const) {
          const args = (c: number) => [source, sam, sak, b, N * 4, c, N * 4, epilogue === 0 || epilogue === 3 ? 0 : extra, M, K, N, epilogue] as const;
          wasm.gemm(...args(one));
          const before = team.helperChunks();
          gemm(...args(two));
          if (team.helperChunks() > before) helped++;
          products++;
          const difference = firstDifference(heap.floats(two, M * N), heap.floats(one, M * N));
          assert.equal(difference, null, `${M}×${K}×${N}, epilogue ${epilogue}, A ${source === a ? "as is" : "transposed"}`);
        }
      }
      for (const at of [a, aT, b, extra, one, two]) heap.release(at);
    }
  }
  assert.ok(helped >= 20, `the helper ran chunks of ${helped} of ${products} products`);
}

function firstDifference(actual: Float32Array, expected: Float32Array): string | null {
  for (let i = 0; i < actual.length; i++) if (!Object.is(actual[i], expected[i])) return `[${i}]: ${actual[i]} vs ${expected[i]}`;
  return null;
}

test("two threads on the WebAssembly kernel give the one-thread kernel's bits, and the helper takes part", () => runTeam(0));

const missing = loadNativeAddon();
test("two threads on the native kernel give the one-thread WebAssembly kernel's bits", { skip: typeof missing === "string" && missing }, () => runTeam(1));

/**
 * im2col, col2im and batch norm by channels, transposes along their longer side, maxPool and its gradient by planes,
 * activationBackward by elements: on two threads, the bits of the one-thread WebAssembly kernel, the helper taking
 * part. Sizes over the team's line of 100,000 floats, odd counts (a last chunk narrower), values with ties and
 * negatives.
 */
function runSplitKernels(kernel: 0 | 1): void {
  const { heap, wasm, team } = startTestTeam(kernel);
  const split = team.kernels(kernel);
  const random = seededRandom(11);
  const fill = (count: number, values = () => Math.round(8 * random() - 4) / 4) => {
    const at = heap.alloc(count * 4);
    heap.floats(at, count).set(Float32Array.from({ length: count }, values));
    return at;
  };
  /** Run `call` into `one` on wasm alone and into `two` split; the outputs' bits equal. */
  const compare = (name: string, count: number, call: (k: typeof wasm, out: number) => void, ints = false) => {
    const [one, two] = [fill(count), fill(count)];
    call(wasm, one);
    call(split, two);
    const read = (at: number) => (ints ? new Int32Array(heap.memory.buffer, at, count) : heap.floats(at, count));
    const [a, b] = [read(two), read(one)];
    for (let i = 0; i < count; i++) assert.ok(Object.is(a[i], b[i]), `${name}: [${i}] ${a[i]} vs ${b[i]}`);
    heap.release(one), heap.release(two);
  };
  let [calls, helped] = [0, 0];
  const start = Date.now();
  for (let round = 0; (helped < 6 || round < 2) && Date.now() - start < 60_000; round++) {
    for (const [C, B, H, W, k, stride, pad] of [[8, 16, 28, 28, 3, 1, 0], [5, 32, 28, 28, 5, 1, 2], [33, 8, 21, 19, 3, 2, 1]] as const) {
      const [OH, OW] = [Math.floor((H + 2 * pad - k) / stride) + 1, Math.floor((W + 2 * pad - k) / stride) + 1];
      const cols = fill((C * k * k + 1) * B * OH * OW);
      const before = team.helperChunks();
      compare(`col2im C ${C} B ${B}`, C * B * H * W, (kk, out) => kk.col2im(cols, out, C, B, H, W, k, k, stride, pad, OH, OW));
      const planes = fill(C * B * H * W);
      compare(`im2col C ${C} B ${B}`, (C * k * k + 1) * B * OH * OW, (kk, out) => kk.im2col(planes, out, C, B, H, W, k, k, stride, pad, OH, OW));
      // Both sides longer, odd sizes (the last chunk narrower than a tile, edges under 4).
      for (const [rows, cols] of [[C * 3 + 3, B * OH * OW - 1], [B * OH * OW + 5, C + 2]] as const) {
        const matrix = fill(rows * cols);
        compare(`transpose ${rows}×${cols}`, rows * cols, (kk, out) => kk.transpose(matrix, out, rows, cols));
        heap.release(matrix);
      }
      const [PH, PW] = [Math.floor(H / 2), Math.floor(W / 2)];
      const argmax = heap.alloc(C * B * PH * PW * 4);
      compare(`maxPool ${C * B} planes`, C * B * PH * PW, (kk, out) => kk.maxPool(planes, out, argmax, C * B, H, W, 2, 2, PH, PW));
      const pooled = fill(C * B * PH * PW);
      compare(`maxPool argmax`, C * B * PH * PW, (kk, out) => kk.maxPool(planes, pooled, out, C * B, H, W, 2, 2, PH, PW), true);
      compare(`maxPoolBackward ${C * B} planes`, C * B * H * W, (kk, out) => kk.maxPoolBackward(pooled, argmax, out, C * B, H, W, PH, PW));
      const n = C * B * H * W;
      const dy = fill(n);
      for (const kind of [1, 2, 3]) {
        compare(`activationBackward ${kind}, n = ${n}`, n, (kk, out) => {
          heap.floats(out, n).set(heap.floats(dy, n));
          kk.activationBackward(planes, out, n, kind);
        });
      }
      // Batch norm over the planes as [C][B·H·W]: every output (y, mean, invStd, the running statistics; dx, dGamma,
      // dBeta) in one block of floats, so that one comparison reads them all.
      const perChannel = C * 6, values = C * B * H * W;
      const gammaBeta = fill(2 * C);
      for (const training of [1, 0]) {
        compare(`batchNorm C ${C}, training ${training}`, 2 * values + perChannel, (kk, out) => {
          const [y, mean, invStd, runMean, runVar] = [out, out + values * 4, out + (values + C) * 4, out + (values + 2 * C) * 4, out + (values + 3 * C) * 4];
          heap.floats(runMean, 2 * C).fill(0.5);
          kk.batchNorm(planes, y, gammaBeta, gammaBeta + C * 4, mean, invStd, runMean, runVar, C, B * H * W, 1e-5, 0.1, training);
          const [dx, dGamma, dBeta] = [out + (values + 4 * C) * 4, out + (2 * values + 4 * C) * 4, out + (2 * values + 5 * C) * 4];
          kk.batchNormBackward(cols, planes, gammaBeta, mean, invStd, dx, dGamma, dBeta, C, B * H * W);
        });
      }
      heap.release(gammaBeta);
      calls += 11;
      if (team.helperChunks() > before) helped++;
      for (const at of [cols, planes, argmax, pooled, dy]) heap.release(at);
    }
  }
  assert.ok(helped >= 6, `the helper ran chunks in ${helped} of ${calls / 11} rounds of calls`);
}

test("im2col, col2im, transpose, batch norm, pooling and activationBackward split over two threads give the one-thread bits (WebAssembly)", () => runSplitKernels(0));
test("... and on the native kernels", { skip: typeof missing === "string" && missing }, () => runSplitKernels(1));
