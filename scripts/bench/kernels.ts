/**
 * The new kernels (lib/engine/kernels, compiled from C) against the ones they replace, on the training step's
 * matrix products, one thread: the new kernels.wasm gemm against step-simd's assembled one (on tfjs-backend-wasm's
 * heap, as it runs today), and the new native addon against lib/native's. Old and new alternate, ~10 ms each, for
 * several rounds; per product the median times and the median of each round's ratio new / old (process CPU time:
 * on a machine shared with other work, time spent descheduled would swamp a few percent), and whether all four
 * gave the same bits.
 *
 *   npx tsx scripts/bench/kernels.ts            21 rounds
 *   npx tsx scripts/bench/kernels.ts 41         41 rounds
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/engine/backend";
import { stepModule, type WasmHeapBackend } from "../../lib/model/step-simd";
import { seededRandom } from "../../lib/math/random";
import { buildKernels, KERNELS_ADDON, KERNELS_WASM } from "../build-kernels";

type Gemm = (a: number, sam: number, sak: number, b: number, ldb: number, c: number, ldc: number, extra: number, M: number, K: number, N: number, mode: number) => void;
type NativeGemm = (heap: Uint8Array, ...args: Parameters<Gemm>) => void;

/** One product of a step: M×K×N, A's byte strides as multiples of 4 (sam, sak), the epilogue, and what it is. */
interface Product {
  what: string;
  M: number;
  K: number;
  N: number;
  /** A by rows ([M][K]) or by columns ([K][M], as the input gradients of unit-major layers read the weights). */
  byColumns: boolean;
  mode: number;
}
const [NONE, ADD_TO, MASK, RELU] = [0, 1, 2, 3];
/** The step's products (lib/engine/step.ts): 784-500-500-10 at batch 64 (unit-major, unit-major, input-major), 784-10 at 16 (input-major). */
const PRODUCTS: Product[] = [
  { what: "784-500 forward", M: 500, K: 785, N: 64, byColumns: false, mode: RELU },
  { what: "784-500 weights", M: 500, K: 64, N: 785, byColumns: false, mode: ADD_TO },
  { what: "500-500 forward", M: 500, K: 501, N: 64, byColumns: false, mode: RELU },
  { what: "500-500 weights", M: 500, K: 64, N: 501, byColumns: false, mode: ADD_TO },
  { what: "500-500 input grad", M: 500, K: 500, N: 64, byColumns: true, mode: MASK },
  { what: "500-10 forward", M: 64, K: 501, N: 10, byColumns: false, mode: NONE },
  { what: "500-10 weights", M: 501, K: 64, N: 10, byColumns: false, mode: ADD_TO },
  { what: "500-10 input grad", M: 500, K: 10, N: 64, byColumns: false, mode: MASK },
  { what: "784-10 b16 forward", M: 16, K: 785, N: 10, byColumns: false, mode: NONE },
  { what: "784-10 b16 weights", M: 785, K: 16, N: 10, byColumns: false, mode: ADD_TO },
];

async function main(): Promise<void> {
  const rounds = Number(process.argv[2] ?? 21);
  process.env.MIE_WASM_THREADS = "1";
  process.env.MIE_NATIVE_PRODUCTS = "off"; // the backend leaves the step alone: every kernel is called here directly
  await initBackend("wasm");
  const old = stepModule();
  if (!old) throw new Error("bench kernels: step-simd's kernels do not run here (no wasm SIMD?)");
  const tfBackend = tf.backend() as unknown as WasmHeapBackend;

  const memory = new WebAssembly.Memory({ initial: 256, maximum: 65536, shared: true } as WebAssembly.MemoryDescriptor);
  const instance = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(KERNELS_WASM)), { env: { memory } });
  const newWasm = instance.exports.gemm as Gemm;
  const heap = new Uint8Array(memory.buffer);
  const built = await buildKernels();
  const oldAddon = join(__dirname, "..", "..", "lib", "native", "build", "products.node");
  const natives = built.ok && existsSync(oldAddon)
    ? { old: (require(oldAddon) as { gemm: NativeGemm }).gemm, new: require(KERNELS_ADDON) as { gemm: NativeGemm; instructionSet(): string } }
    : null;
  console.log(`one thread, CPU time, ${rounds} rounds alternating old and new, medians; native: ${natives ? natives.new.instructionSet() : `not compared (${built.line}; ${oldAddon} ${existsSync(oldAddon) ? "present" : "missing"})`}`);
  console.log(`${"product".padEnd(20)}${"M×K×N".padEnd(13)}${"old wasm".padEnd(11)}${"new wasm".padEnd(11)}${"new/old".padEnd(9)}${"old native".padEnd(12)}${"new native".padEnd(12)}${"new/old".padEnd(9)}bits`);

  const random = seededRandom(5);
  const totals = { oldWasm: 0, newWasm: 0, oldNative: 0, newNative: 0 };
  for (const { what, M, K, N, byColumns, mode } of PRODUCTS) {
    const values = (count: number) => Float32Array.from({ length: count }, () => 2 * random() - 1);
    const [A, B, extra] = [values(M * K), values(K * N), values(M * N)];
    const [sam, sak] = byColumns ? [4, M * 4] : [K * 4, 4];

    // Old wasm: operands on tfjs's heap, where step-simd's kernel runs today.
    const tensors = [A, B, extra].map((data) => tf.tensor1d(data));
    const oldC = tf.zeros([M * N]);
    const at = (t: tf.Tensor) => tfBackend.getMemoryOffset(t.dataId);
    const oldArgs = [at(tensors[0]!), sam, sak, at(tensors[1]!), N * 4, at(oldC), N * 4, at(tensors[2]!), M, K, N, mode] as const;

    // New wasm and both natives: the same values on the engine-style shared memory, above __heap_base.
    let next = (instance.exports.__heap_base as WebAssembly.Global).value as number;
    const place = (data: Float32Array) => {
      const offset = next;
      new Float32Array(memory.buffer, offset, data.length).set(data);
      next += Math.ceil((data.length * 4) / 64) * 64;
      return offset;
    };
    const [a, b, e] = [place(A), place(B), place(extra)];
    const [newC, oldNativeC, newNativeC] = [place(new Float32Array(M * N)), place(new Float32Array(M * N)), place(new Float32Array(M * N))];
    const args = (c: number) => [a, sam, sak, b, N * 4, c, N * 4, e, M, K, N, mode] as const;

    // About 10 ms of work per timing; each kernel runs a few times first (and V8 compiles it optimized).
    const reps = Math.max(2, Math.round(5e7 / (M * K * N)));
    const time = (run: () => void): number => {
      const start = process.cpuUsage();
      for (let i = 0; i < reps; i++) run();
      const { user, system } = process.cpuUsage(start);
      return (user + system) / 1000 / reps;
    };
    const runs = {
      oldWasm: () => old.kernels.gemm(...oldArgs),
      newWasm: () => newWasm(...args(newC)),
      ...(natives && { oldNative: () => natives.old(heap, ...args(oldNativeC)), newNative: () => natives.new.gemm(heap, ...args(newNativeC)) }),
    };
    for (const run of Object.values(runs)) for (let i = 0; i < 5; i++) run();
    const samples = { oldWasm: [] as number[], newWasm: [] as number[], oldNative: [] as number[], newNative: [] as number[] };
    for (let round = 0; round < rounds; round++) {
      for (const [key, run] of Object.entries(runs)) samples[key as keyof typeof samples].push(time(run));
    }
    const bits = (offset: number) => Buffer.from(memory.buffer, offset, M * N * 4);
    const oldBits = Buffer.from(oldC.dataSync().buffer);
    const same = oldBits.equals(bits(newC)) && (!natives || (oldBits.equals(bits(oldNativeC)) && oldBits.equals(bits(newNativeC))));
    tf.dispose([...tensors, oldC]);

    const m = Object.fromEntries(Object.entries(samples).map(([key, list]) => [key, median(list)])) as typeof totals;
    for (const key of Object.keys(totals) as (keyof typeof totals)[]) totals[key] += m[key];
    const ratios = (fresh: number[], stale: number[]) => median(fresh.map((value, i) => value / stale[i]!));
    const wasmRatio = ratios(samples.newWasm, samples.oldWasm), nativeRatio = ratios(samples.newNative, samples.oldNative);
    console.log(`${what.padEnd(20)}${`${M}×${K}×${N}${byColumns ? "ᵀ" : ""}`.padEnd(13)}${row(m, wasmRatio, nativeRatio)}${same ? "identical" : "DIFFER"}`);
  }
  console.log(`${"sum (ratio of sums)".padEnd(33)}${row(totals, totals.newWasm / totals.oldWasm, totals.newNative / totals.oldNative)}`);
}

function row(times: { oldWasm: number; newWasm: number; oldNative: number; newNative: number }, wasmRatio: number, nativeRatio: number): string {
  const ms = (value: number) => (value > 0 ? `${value.toFixed(3)} ms` : "–");
  const ratio = (value: number) => (Number.isFinite(value) ? value.toFixed(2) : "–");
  return `${ms(times.oldWasm).padEnd(11)}${ms(times.newWasm).padEnd(11)}${ratio(wasmRatio).padEnd(9)}${ms(times.oldNative).padEnd(12)}${ms(times.newNative).padEnd(12)}${ratio(nativeRatio).padEnd(9)}`;
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted.length ? (sorted[(sorted.length - 1) >> 1]! + sorted[sorted.length >> 1]!) / 2 : 0;
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exitCode = 1;
});
