/**
 * The new kernels (lib/engine/kernels, compiled from C) against the ones they replace, on the training step's
 * matrix products, one thread: the new kernels.wasm gemm against step-simd's assembled one (on tfjs-backend-wasm's
 * heap, where it ran), and the new native addon against lib/native's. The old ones are taken from commit 4b72628,
 * the last with them (git show; lib/native's C compiled here with its own flags), into a temporary folder.
 * Old and new alternate, ~10 ms each, for
 * several rounds; per product the median times and the median of each round's ratio new / old (process CPU time:
 * on a machine shared with other work, time spent descheduled would swamp a few percent), and whether all four
 * gave the same bits.
 *
 *   npx tsx scripts/bench/kernels.ts            21 rounds
 *   npx tsx scripts/bench/kernels.ts 41         41 rounds
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { seededRandom } from "../../lib/math/random";
import { buildKernels, KERNELS_ADDON, KERNELS_WASM } from "../build-kernels";

/** The last commit with the kernels the new ones replace. */
const OLD_COMMIT = "4b72628";
const ROOT = resolve(__dirname, "..", "..");

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

/** What the old step-simd.ts gave: its kernels on tfjs-backend-wasm's heap. */
interface OldStepModule {
  kernels: { gemm: Gemm };
}
/** The wasm backend's internals the old kernel's operands are placed with. */
interface WasmHeapBackend {
  getMemoryOffset(dataId: object): number;
}

/**
 * The old kernels from OLD_COMMIT in `folder`: step-simd.ts with the assembler it imports (tfjs resolved through a
 * link to this project's node_modules), and lib/native's addon compiled as scripts/native-products.ts did, or the
 * reason it could not be.
 */
function oldKernels(folder: string): { stepModule: () => OldStepModule | null; nativeGemm: NativeGemm | string } {
  const take = (path: string) => {
    const target = join(folder, path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, execFileSync("git", ["show", `${OLD_COMMIT}:${path}`], { cwd: ROOT }));
    return target;
  };
  symlinkSync(join(ROOT, "node_modules"), join(folder, "node_modules"), "dir");
  const stepSimd = take("lib/model/step-simd.ts");
  take("lib/model/wasm-asm.ts");
  const products = ["products.c", "products-kernel.h", "napi.h"].map((name) => take(`lib/native/${name}`))[0]!;
  const addon = join(folder, "products.node");
  const flags = ["-O3", "-ffp-contract=off", "-fno-math-errno", "-fPIC", "-shared", "-fvisibility=hidden"];
  const compiled = process.arch === "x64" && spawnSync(process.env.CC || "cc", [...flags, products, "-o", addon]).status === 0;
  return {
    stepModule: (require(stepSimd) as { stepModule: () => OldStepModule | null }).stepModule,
    nativeGemm: compiled ? (require(addon) as { gemm: NativeGemm }).gemm : `lib/native's products.c from ${OLD_COMMIT} did not compile here`,
  };
}

async function main(): Promise<void> {
  const rounds = Number(process.argv[2] ?? 21);
  const folder = mkdtempSync(join(tmpdir(), "mie-old-kernels-"));
  try {
    await bench(rounds, oldKernels(folder));
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

async function bench(rounds: number, oldSide: ReturnType<typeof oldKernels>): Promise<void> {
  await tf.setBackend("wasm");
  const old = oldSide.stepModule();
  if (!old) throw new Error("bench kernels: step-simd's kernels do not run here (no wasm SIMD?)");
  const tfBackend = tf.backend() as unknown as WasmHeapBackend;

  const memory = new WebAssembly.Memory({ initial: 256, maximum: 65536, shared: true } as WebAssembly.MemoryDescriptor);
  const instance = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(KERNELS_WASM)), { env: { memory } });
  const newWasm = instance.exports.gemm as Gemm;
  const heap = new Uint8Array(memory.buffer);
  const built = await buildKernels();
  const natives = built.ok && typeof oldSide.nativeGemm !== "string"
    ? { old: oldSide.nativeGemm, new: require(KERNELS_ADDON) as { gemm: NativeGemm; instructionSet(): string } }
    : null;
  const why = built.ok ? oldSide.nativeGemm : built.line;
  console.log(`one thread, CPU time, ${rounds} rounds alternating old and new, medians; native: ${natives ? natives.new.instructionSet() : `not compared (${why as string})`}`);
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
