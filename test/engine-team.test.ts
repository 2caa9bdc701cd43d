/**
 * The engine's products split over two threads (`engine/team.ts`) give the one-thread kernel's bits, and the
 * helper thread takes part: random products of the step's shapes, every epilogue, both orientations of A, until
 * the helper has run chunks of at least 20 products (it sits out stretches where it does not pay).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { EngineHeap } from "../lib/engine/heap";
import { kernelsHeapBase, loadNativeAddon, minimumPages, nativeKernels, wasmKernels } from "../lib/engine/kernels";
import { startTeam } from "../lib/engine/team";
import { seededRandom } from "../lib/math/random";

function runTeam(kernel: 0 | 1): void {
  const heap = new EngineHeap(kernelsHeapBase(), minimumPages());
  const wasm = wasmKernels(heap.memory);
  const addon = loadNativeAddon();
  const native = kernel === 1 && typeof addon !== "string" ? nativeKernels(addon.addon, heap.memory) : wasm;
  const team = startTeam(heap.memory, 1, [wasm.gemm, native.gemm], kernel === 1);
  assert.ok(team, "a helper thread starts on the engine's shared memory");
  const gemm = team.gemm(kernel);
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
