/**
 * The step's matrix products alone, one thread, in one process: step-simd's WebAssembly kernel against the native
 * one (`lib/native/products.c`) on the same heap, alternating, each product repeated after a warm-up; time per
 * product, G multiply-adds/s, and whether the outputs are the same bits. Then Adam's update the same way
 * (adam-simd's loop against the native one) on the parameter counts of 784-500-500-10's layers.
 *
 *   npx tsx scripts/bench/products.ts                  the shapes of 784-500-500-10 at batch 64 and the narrow ones
 *   npx tsx scripts/bench/products.ts 500x785x64 785x64x500t ...   M×K×N, "t": A transposed (as a weight gradient)
 */
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/engine/backend";
import { adamKernel } from "../../lib/model/adam-simd";
import { loadNativeProducts, nativeAdam, nativeGemm } from "../../lib/engine/native-kernels";
import { EPILOGUE, stepModule, type WasmHeapBackend } from "../../lib/model/step-simd";
import { seededRandom } from "../../lib/math/random";

const DEFAULT_SHAPES = ["500x785x64", "64x785x500", "500x501x64", "785x64x500t", "500x64x501", "16x785x10", "785x16x10t", "10x785x1", "64x501x10"];

async function main(): Promise<void> {
  process.env.MIE_NATIVE_PRODUCTS = "off"; // the backend leaves the step alone; both kernels are called here directly
  await initBackend("wasm");
  const built = stepModule();
  const native = loadNativeProducts();
  if (!built) throw new Error("bench products: the wasm step kernels do not run here (no wasm SIMD?)");
  if (typeof native === "string") throw new Error(`bench products: ${native}`);
  const backend = tf.backend() as unknown as WasmHeapBackend;
  const gemm = nativeGemm(native.addon, built.memory);
  const random = seededRandom(3);
  const offset = (t: tf.Tensor) => backend.getMemoryOffset(t.dataId);
  console.log(`one thread; native kernel: ${native.addon.instructionSet()}; ReLU epilogue; best of 5 rounds`);
  console.log(`${"product (M×K×N)".padEnd(21)}${"wasm".padEnd(22)}${"native".padEnd(22)}native / wasm  bits`);
  for (const spec of process.argv.length > 2 ? process.argv.slice(2) : DEFAULT_SHAPES) {
    const match = /^(\d+)x(\d+)x(\d+)(t?)$/.exec(spec);
    if (!match) throw new Error(`bench products: expected MxKxN or MxKxNt (A transposed), got "${spec}"`);
    const [M, K, N] = [Number(match[1]), Number(match[2]), Number(match[3])];
    const transposed = match[4] === "t";
    const a = tf.tensor1d(Float32Array.from({ length: M * K }, () => 2 * random() - 1));
    const b = tf.tensor1d(Float32Array.from({ length: K * N }, () => 2 * random() - 1));
    const [c1, c2] = [tf.zeros([M * N]), tf.zeros([M * N])];
    const [sam, sak] = transposed ? [4, M * 4] : [K * 4, 4];
    const args = (c: tf.Tensor) => [offset(a), sam, sak, offset(b), N * 4, offset(c), N * 4, 0, M, K, N, EPILOGUE.relu] as const;
    // Repeats: about 50 ms of work per timing.
    const reps = Math.max(20, Math.round(5e8 / (M * K * N)));
    const time = (run: () => void): number => {
      run();
      const start = performance.now();
      for (let i = 0; i < reps; i++) run();
      return (performance.now() - start) / reps;
    };
    let [wasm, ours] = [Infinity, Infinity];
    for (let round = 0; round < 5; round++) {
      wasm = Math.min(wasm, time(() => built.kernels.gemm(...args(c1))));
      ours = Math.min(ours, time(() => gemm(...args(c2))));
    }
    const same = Buffer.from(c1.dataSync().buffer).equals(Buffer.from(c2.dataSync().buffer));
    const cell = (ms: number) => `${ms >= 0.1 ? `${ms.toFixed(3)} ms` : `${(ms * 1000).toFixed(2)} µs`}, ${((M * K * N) / ms / 1e6).toFixed(1)} G/s`.padEnd(22);
    console.log(`${`${M}×${K}×${N}${transposed ? " (Aᵀ)" : ""}`.padEnd(21)}${cell(wasm)}${cell(ours)}${(ours / wasm).toFixed(2).padEnd(15)}${same ? "identical" : "DIFFER"}`);
    tf.dispose([a, b, c1, c2]);
  }
  const wasmAdam = adamKernel()!; // MIE_NATIVE_PRODUCTS=off above: its WebAssembly loop
  const ourAdam = nativeAdam(native.addon, built.memory);
  console.log(`\n${"Adam's update (n)".padEnd(21)}${"wasm".padEnd(22)}${"native".padEnd(22)}native / wasm  bits`);
  for (const n of [392_500, 250_500, 5_010]) {
    const start = [0, 1, 2, 3].map((i) => Float32Array.from({ length: n }, () => (i === 1 ? random() : 2 * random() - 1)));
    const sides = [0, 1].map(() => start.map((values) => tf.tensor1d(values))); // [m, v, p, g] twice
    const reps = Math.max(20, Math.round(2e7 / n));
    const time = (run: () => void): number => {
      const begin = performance.now();
      for (let i = 0; i < reps; i++) run();
      return (performance.now() - begin) / reps;
    };
    const [m1, v1, p1, g1] = sides[0]!;
    const [m2, v2, p2, g2] = sides[1]!;
    let [wasm, ours] = [Infinity, Infinity];
    for (let round = 0; round < 5; round++) {
      wasm = Math.min(wasm, time(() => wasmAdam(p1!, m1!, v1!, g1!, 1e-4, 1e-8, 0.9, 0.999)));
      ours = Math.min(ours, time(() => ourAdam(offset(p2!), offset(m2!), offset(v2!), offset(g2!), n, 1e-4, 1e-8, 0.9, 0.999)));
    }
    const same = [0, 1, 2].every((i) => Buffer.from(sides[0]![i]!.dataSync().buffer).equals(Buffer.from(sides[1]![i]!.dataSync().buffer)));
    const cell = (ms: number) => `${(ms * 1000).toFixed(1)} µs`.padEnd(22);
    console.log(`${String(n).padEnd(21)}${cell(wasm)}${cell(ours)}${(ours / wasm).toFixed(2).padEnd(15)}${same ? "identical" : "DIFFER"}`);
    tf.dispose(sides.flat());
  }
}

main().catch((error: unknown) => {
  console.error((error as Error).message);
  process.exitCode = 1;
});
