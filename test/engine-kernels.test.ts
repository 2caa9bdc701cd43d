/**
 * The engine's kernels (lib/engine/kernels): the committed kernels.wasm is what its sources build, and every
 * kernel gives the same bits in WebAssembly, in every native build this CPU runs and in a JavaScript reference that
 * rounds to float32 after every operation, in the kernels' order (the kernels they replaced, 4b72628's, were
 * compared the same way until they were deleted; test/bit-fingerprints.test.ts keeps their training runs' bits). Random inputs, odd shapes and lengths (the vector loops' tails), unaligned
 * operands and padded rows.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { seededRandom } from "../lib/math/random";
import { buildKernels, buildWasm, KERNELS_ADDON, KERNELS_WASM } from "../scripts/build-kernels";

/** The wasm module's exports: byte offsets into the memory, sizes, float scalars. */
interface WasmKernels {
  gemm(a: number, sam: number, sak: number, b: number, ldb: number, c: number, ldc: number, extra: number, M: number, K: number, N: number, mode: number): void;
  pixels(src: number, dst: number, count: number, inputs: number): void;
  transpose(src: number, dst: number, rows: number, cols: number): void;
  adam(p: number, m: number, v: number, g: number, n: number, c: number, e: number, beta1: number, beta2: number): void;
  momentum(p: number, b: number, g: number, n: number, mu: number): void;
  adagrad(p: number, s: number, g: number, n: number, lr: number, eps: number): void;
  rmsprop(p: number, a: number, g: number, n: number, alpha: number, stepSize: number, eps: number): void;
  addTo(p: number, g: number, n: number): void;
  scale(x: number, n: number, factor: number): void;
  __heap_base: WebAssembly.Global;
}
type Kernel = Exclude<keyof WasmKernels, "__heap_base">;
/** A native addon's kernels: the heap first, then the wasm export's arguments. */
type NativeKernels = { [K in Kernel]: (heap: Uint8Array, ...args: Parameters<WasmKernels[K]>) => void } & {
  instructionSet(): string;
  useInstructionSet(name: string): void;
};

const has = (command: string) => spawnSync(command, ["--version"]).status === 0;
const memory = new WebAssembly.Memory({ initial: 1024, maximum: 65536, shared: true });
const heap = new Uint8Array(memory.buffer);
const wasmBytes = readFileSync(KERNELS_WASM);
const wasm = new WebAssembly.Instance(new WebAssembly.Module(wasmBytes), { env: { memory } }).exports as unknown as WasmKernels;

/** Every implementation of the kernels to compare: the wasm exports, then each native build this CPU runs. */
interface Implementation {
  name: string;
  call<K extends Kernel>(kernel: K, ...args: Parameters<WasmKernels[K]>): void;
}
const implementations: Implementation[] = [{ name: "wasm", call: (kernel, ...args) => (wasm[kernel] as (...a: unknown[]) => void)(...args) }];
const built = process.arch === "x64" && has(process.env.CC || "cc") ? buildKernels() : null;
let addon: NativeKernels | null = null;
test.before(async () => {
  const result = await built;
  if (result && !result.ok) throw new Error(result.line);
  if (!existsSync(KERNELS_ADDON)) return;
  addon = require(KERNELS_ADDON) as NativeKernels;
  for (const name of ["avx512", "avx2", "sse2"]) {
    try {
      addon.useInstructionSet(name);
    } catch {
      continue; // not on this CPU
    }
    implementations.push({
      name: `native ${name}`,
      call: (kernel, ...args) => {
        addon!.useInstructionSet(name);
        (addon![kernel] as (...a: unknown[]) => void)(heap, ...args);
      },
    });
  }
  addon.useInstructionSet(implementations[1]!.name.slice("native ".length)); // back to the widest, as chosen at load
});
test("kernels.wasm imports only a shared env.memory, exports the kernels and __heap_base, and keeps no C stack", () => {
  const module = new WebAssembly.Module(wasmBytes);
  assert.deepEqual(WebAssembly.Module.imports(module), [{ module: "env", name: "memory", kind: "memory" }]);
  assert.deepEqual(WebAssembly.Module.exports(module).map(({ name }) => name), ["gemm", "pixels", "transpose", "transposeStrided", "adam", "momentum", "adagrad", "rmsprop", "addTo", "scale", "im2col", "im2colRows", "col2im", "maxPool", "maxPoolBackward", "dropout", "dropoutMask", "planes", "addScaled", "sgd", "sumRows", "batchNorm", "batchNormBackward", "activation", "activationBackward", "__heap_base"]);
  // A __stack_pointer global would mean a kernel spills to the C stack, one region at the bottom of memory that
  // every thread's instance would share.
  assert.equal(globalCount(wasmBytes), 1, "kernels.wasm defines a global besides __heap_base: a kernel uses the C stack");
  assert.ok(wasm.__heap_base.value % 16 === 0 && wasm.__heap_base.value < 1 << 20, `__heap_base ${wasm.__heap_base.value}`);
});

test("kernels.wasm is what clang builds from the sources, byte for byte", async (t) => {
  if (!has("clang") || !has("wasm-ld")) {
    t.skip("clang and wasm-ld not installed (Debian: apt-get install clang lld, or bash scripts/system-deps.sh): kernels.wasm NOT checked against its sources");
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), "mie-kernels-"));
  try {
    await buildWasm(join(dir, "kernels.wasm"));
    const rebuilt = readFileSync(join(dir, "kernels.wasm"));
    const clang = spawnSync("clang", ["--version"], { encoding: "utf8" }).stdout.split("\n")[0];
    assert.ok(rebuilt.equals(wasmBytes), `kernels.wasm differs from what ${clang} builds from lib/engine/kernels: run npm run kernels:wasm and commit it (the committed one says it was built by ${producer(wasmBytes)})`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the native addon builds wherever there is x86-64 and a C compiler, and runs a build this CPU supports", async (t) => {
  if (!built) {
    const why = process.arch === "x64" ? `no C compiler (${process.env.CC || "cc"})` : `${process.arch}, not x86-64`;
    t.skip(`no native build here (${why}): only the wasm kernels checked`);
    return;
  }
  assert.ok(addon, `${KERNELS_ADDON} missing after the build`);
  assert.match(addon.instructionSet(), /^(avx512|avx2|sse2)$/);
  assert.ok(implementations.length >= 2);
  assert.throws(() => addon!.useInstructionSet("neon"), /useInstructionSet: expected/);
});

test("native kernels refuse operands outside the heap, naming the kernel and operand", (t) => {
  if (!addon) {
    t.skip("native addon not built here");
    return;
  }
  const native = addon;
  const end = heap.length;
  const refuses = (call: () => void, message: RegExp) => assert.throws(call, { name: "RangeError", message });
  refuses(() => native.gemm(heap, 0, 4, 4, 0, 4, end - 8, 4, 0, 1, 1, 4, 0), /^gemm: C \(1 × 4 at byte \d+\) .* past the end/);
  refuses(() => native.gemm(heap, end - 4, 4, 4, 0, 4, 0, 4, 0, 1, 2, 1, 0), /^gemm: A /);
  refuses(() => native.gemm(heap, 0, 4, 4, 2, 4, 64, 4, 0, 1, 1, 1, 0), /^gemm: B .*not float-aligned/);
  refuses(() => native.gemm(heap, 0, 4, 4, 0, 4, 64, 4, end, 1, 1, 1, 1), /^gemm: extra /);
  refuses(() => native.gemm(heap, 0, 4, 4, 0, 4, 64, 4, 0, 1, 1, 1, 4), /^gemm: epilogue must be/);
  refuses(() => (native.gemm as (...args: unknown[]) => void)(heap, 0, 4, 4), /^gemm\(heap, a, .*\): expected 13 arguments/);
  refuses(() => native.pixels(heap, end - 10, 0, 1, 11), /^pixels: src/);
  refuses(() => native.transpose(heap, 0, end - 4, 2, 2), /^transpose: dst/);
  refuses(() => native.adam(heap, 0, 16, 32, 48, end, 1, 1, 1, 1), /^adam: p \(\d+ floats at byte 0\)/);
  refuses(() => native.rmsprop(heap, 0, 16, 2, 4, 1, 1, 1), /^rmsprop: g .*not float-aligned/);
  refuses(() => native.scale(heap, 0, -1, 2), /^scale\(heap, x, n, factor\): argument 3 must be a whole number/);
  refuses(() => native.momentum(new Float32Array(4) as unknown as Uint8Array, 0, 0, 0, 1, 1), /^momentum\(.*\): heap must be a Uint8Array/);
});

test("gemm: every implementation gives the reference's bits: 24 shapes, both orientations of A, every epilogue", () => {
  const random = seededRandom(27);
  const shapes: [number, number, number][] = [
    [1, 1, 1], [3, 0, 5], [2, 3, 2], [3, 1, 3], [5, 7, 4], [7, 20, 5], [9, 17, 7], [4, 33, 8], [13, 100, 10], [19, 5, 17], [800, 3, 2],
    [1, 800, 500], [16, 785, 10], [64, 785, 10], [37, 501, 64], [500, 785, 64], [785, 64, 500],
    // B over 256 KiB: its columns in blocks (a conv layer's product), the last block narrower than a vector.
    [7, 289, 965], [33, 700, 1000],
    // K so deep that B goes in blocks of k (a conv layer's weight gradient): sums resumed from C block after block,
    // the epilogue after the last; N with narrow leftovers, under 4 and over a column block; k's last block partial.
    [5, 9000, 20], [37, 8500, 67], [3, 22000, 3], [26, 8300, 8], [9, 2100, 300],
  ];
  shapes.forEach(([M, K, N], index) => {
    // Some shapes get padded rows (as the step's ones column leaves) and operands off 16-byte alignment.
    const pad = index % 3, skew = 4 * (index % 2);
    const [ldb, ldc] = [(N + pad) * 4, (N + 2 * pad) * 4];
    const A = randomFloats(M * K, random);
    if (index === 9) A[3 * K + 1] = NaN; // a NaN sum: ReLU makes it +0, the others keep it
    const B = randomFloats(K * N, random);
    const sums = referenceSums(A, B, M, K, N);
    const heapAt = new Allocator();
    const byRows = heapAt.floats(A, skew);
    const byCols = heapAt.floats(transposed(A, M, K), skew);
    const b = heapAt.matrix(B, K, N, ldb, skew);
    const extra = heapAt.matrix(randomFloats(M * N, random), M, N, ldc, skew);
    const c = heapAt.reserve(M * ldc, skew);
    const extraValues = readMatrix(extra, M, N, ldc);
    for (const mode of [0, 1, 2, 3]) {
      const expected = sums.map((sum, i) => epilogue(mode, sum, extraValues[i]!));
      for (const [a, sam, sak, orientation] of [[byRows, K * 4, 4, "A by rows"], [byCols, 4, M * 4, "A by columns"]] as const) {
        const args = [a, sam, sak, b, ldb, c, ldc, mode === 1 || mode === 2 ? extra : 0, M, K, N, mode] as const;
        const run = (name: string, call: () => void) => {
          new Uint32Array(memory.buffer, c, (M * ldc) / 4).fill(SENTINEL);
          call();
          const what = `${name}, ${M}×${K}×${N}, epilogue ${mode}, ${orientation}`;
          sameBits(readMatrix(c, M, N, ldc), expected, what);
          assert.equal(untouchedPadding(c, M, N, ldc), true, `${what}: wrote past a row of C`);
        };
        for (const { name, call } of implementations) run(name, () => call("gemm", ...args));
      }
    }
  });
});

test("pixels and transpose: every implementation gives the reference's bits, sizes 1–20 and the step's", () => {
  const random = seededRandom(28);
  const sizes: [number, number][] = [[64, 784], [16, 784], [785, 64], [3, 785], [37, 1030], [1030, 37]];
  for (let a = 1; a <= 20; a++) for (const b of [1, 2, 3, 5, 16, 17]) sizes.push([a, b]);
  for (const [count, inputs] of sizes) {
    const bytes = Uint8Array.from({ length: count * inputs }, () => Math.floor(256 * random()));
    const expected = new Float32Array(count * (inputs + 1));
    for (let row = 0; row < count; row++) {
      for (let i = 0; i < inputs; i++) expected[row * (inputs + 1) + i] = bytes[row * inputs + i]! / 255;
      expected[row * (inputs + 1) + inputs] = 1;
    }
    const heapAt = new Allocator();
    const src = heapAt.bytes(bytes, count % 4);
    const dst = heapAt.reserve(expected.length * 4, 4 * (inputs % 2));
    for (const { name, call } of implementations) {
      call("pixels", src, dst, count, inputs);
      sameBits(new Float32Array(memory.buffer, dst, expected.length), expected, `${name} pixels, ${count} rows of ${inputs}`);
    }
    const [rows, cols] = [count, inputs];
    const matrix = randomFloats(rows * cols, random);
    const from = heapAt.floats(matrix, 4 * (rows % 2));
    const to = heapAt.reserve(rows * cols * 4, 0);
    for (const { name, call } of implementations) {
      new Float32Array(memory.buffer, to, rows * cols).fill(0);
      call("transpose", from, to, rows, cols);
      sameBits(new Float32Array(memory.buffer, to, rows * cols), transposed(matrix, rows, cols), `${name} transpose ${rows}×${cols}`);
    }
  }
});

/** An optimizer's update: its arrays (in the kernel's order), scalars, and one element's step in JavaScript. */
interface Update {
  arrays: string[];
  scalars: number[];
  step(values: number[], scalars: number[]): number[];
}
/** The optimizers' updates, each with its JavaScript reference (Math.fround after every operation, in order). */
const f = Math.fround;
const UPDATES: Record<"adam" | "momentum" | "adagrad" | "rmsprop" | "addTo" | "scale", Update> = {
  adam: {
    arrays: ["p", "m", "v", "g"], scalars: [0.00123, 1e-8, 0.9, 0.999],
    step([p, m, v, g]: number[], [c, e, beta1, beta2]: number[]) {
      const mi = f(f(beta1! * m!) + g!);
      const vi = f(f(beta2! * v!) + f(g! * g!));
      return [f(p! - f(f(mi / f(f(Math.sqrt(vi)) + e!)) * c!)), mi, vi, g!];
    },
  },
  momentum: { arrays: ["p", "b", "g"], scalars: [0.9], step: ([p, b, g]: number[], [mu]: number[]) => { const bi = f(f(b! * mu!) + g!); return [f(p! + bi), bi, g!]; } },
  adagrad: {
    arrays: ["p", "s", "g"], scalars: [0.01, 1e-10],
    step: ([p, s, g]: number[], [lr, eps]: number[]) => { const si = f(s! + f(g! * g!)); return [f(p! - f(f(g! / f(f(Math.sqrt(si)) + eps!)) * lr!)), si, g!]; },
  },
  rmsprop: {
    arrays: ["p", "a", "g"], scalars: [0.99, 0.1, 1e-7],
    step: ([p, a, g]: number[], [alpha, stepSize, eps]: number[]) => { const ai = f(f(a! * alpha!) + f(g! * g!)); return [f(p! - f(f(g! / f(f(Math.sqrt(ai)) + eps!)) * stepSize!)), ai, g!]; },
  },
  addTo: { arrays: ["p", "g"], scalars: [], step: ([p, g]: number[]) => [f(p! + g!), g!] },
  scale: { arrays: ["x"], scalars: [-0.37], step: ([x]: number[], [factor]: number[]) => [f(x! * factor!)] },
};

for (const [kernel, update] of Object.entries(UPDATES)) {
  test(`${kernel}: every implementation gives the reference's bits at lengths 1–20, 1000, 3001 and 4099`, () => {
    const random = seededRandom(29);
    for (const n of [...Array.from({ length: 20 }, (_, i) => i + 1), 1000, 3001, 4099]) {
      // Second moments and sums of squares are never negative; a few exact zeros everywhere.
      const inputs = update.arrays.map((name) => randomFloats(n, random).map((x) => ("vsa".includes(name) ? Math.abs(x) : x)));
      const expected = inputs.map(() => new Float32Array(n));
      const scalars = update.scalars.map(f);
      for (let i = 0; i < n; i++) {
        update.step(inputs.map((values) => values[i]!), scalars).forEach((value, k) => (expected[k]![i] = value));
      }
      const run = (name: string, call: (offsets: number[]) => void) => {
        const heapAt = new Allocator();
        const offsets = inputs.map((values, k) => heapAt.floats(values, 4 * ((n + k) % 4)));
        call(offsets);
        offsets.forEach((at, k) => sameBits(new Float32Array(memory.buffer, at, n), expected[k]!, `${name} ${kernel}, n = ${n}: ${update.arrays[k]}`));
      };
      for (const { name, call } of implementations) run(name, (offsets) => (call as (k: string, ...a: number[]) => void)(kernel, ...offsets, n, ...update.scalars));
    }
  });
}

/** Hands out heap space above __heap_base, 16-byte aligned plus `skew` bytes. */
class Allocator {
  private next = wasm.__heap_base.value;
  reserve(bytes: number, skew: number): number {
    const at = this.next + skew;
    this.next = Math.ceil((at + bytes) / 16) * 16 + 16;
    assert.ok(this.next <= heap.length, "test heap too small");
    return at;
  }
  bytes(values: Uint8Array, skew: number): number {
    const at = this.reserve(values.length, skew);
    heap.set(values, at);
    return at;
  }
  floats(values: Float32Array, skew: number): number {
    const at = this.reserve(values.length * 4, skew);
    new Float32Array(memory.buffer, at, values.length).set(values);
    return at;
  }
  /** A [rows][cols] matrix with rows `stride` bytes apart, the padding filled with NaN (never to be read). */
  matrix(values: Float32Array, rows: number, cols: number, stride: number, skew: number): number {
    const at = this.reserve(rows * stride, skew);
    const view = new Float32Array(memory.buffer, at, (rows * stride) / 4).fill(NaN);
    for (let r = 0; r < rows; r++) view.set(values.subarray(r * cols, (r + 1) * cols), (r * stride) / 4);
    return at;
  }
}

/** Random floats in [−1, 1) with exact zeros sprinkled in (so the ReLU and the step mask see zero sums and masks). */
function randomFloats(count: number, random: () => number): Float32Array {
  return Float32Array.from({ length: count }, () => (random() < 0.05 ? 0 : 2 * random() - 1));
}

/** Σ_k A[m][k]·B[k][n] from 0, k in order, rounded to float32 after every multiply and every add. */
function referenceSums(A: Float32Array, B: Float32Array, M: number, K: number, N: number): Float32Array {
  const sums = new Float32Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let sum = 0;
      for (let k = 0; k < K; k++) sum = f(sum + f(A[m * K + k]! * B[k * N + n]!));
      sums[m * N + n] = sum;
    }
  }
  return sums;
}

function epilogue(mode: number, sum: number, extra: number): number {
  if (mode === 1) return f(extra + sum);
  if (mode === 2) return f(sum * (extra > 0 ? 1 : 0));
  if (mode === 3) return 0 < sum ? sum : 0; // pmax(0, sum): +0 for −0 and NaN
  return sum;
}

function transposed(values: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = values[r * cols + c]!;
  return out;
}

function readMatrix(at: number, rows: number, cols: number, stride: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) out.set(new Float32Array(memory.buffer, at + r * stride, cols), r * cols);
  return out;
}

/** Bits that no kernel writes (a NaN with a payload): what C's padding must still hold. */
const SENTINEL = 0x7fbadbad;
function untouchedPadding(at: number, rows: number, cols: number, stride: number): boolean {
  const words = new Uint32Array(memory.buffer, at, (rows * stride) / 4);
  return words.every((bits, i) => i % (stride / 4) < cols || bits === SENTINEL);
}

/** Equal bits everywhere; NaN matches NaN whatever its payload (JavaScript does not keep payloads). */
function sameBits(actual: Float32Array, expected: Float32Array, what: string): void {
  const [x, y] = [new Uint32Array(actual.buffer, actual.byteOffset, actual.length), new Uint32Array(expected.buffer, expected.byteOffset, expected.length)];
  const at = x.findIndex((bits, i) => bits !== y[i] && !(Number.isNaN(actual[i]) && Number.isNaN(expected[i])));
  if (at >= 0) {
    const show = (value: number, bits: number) => `${value} (0x${bits.toString(16).padStart(8, "0")})`;
    assert.fail(`${what}: element ${at} is ${show(actual[at]!, x[at]!)}, expected ${show(expected[at]!, y[at]!)}`);
  }
}

/** How many globals a wasm module defines (its global section's count). */
function globalCount(bytes: Uint8Array): number {
  let at = 8;
  const leb = () => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = bytes[at++]!;
      value |= (byte & 0x7f) << shift;
      if (byte < 0x80) return value >>> 0;
    }
  };
  while (at < bytes.length) {
    const id = bytes[at++]!;
    const size = leb();
    if (id === 6) return leb();
    at += size;
  }
  return 0;
}

/** The compiler a wasm module's producers section names ("Debian clang 14.0.6": two length-prefixed strings), or "an unnamed compiler". */
function producer(bytes: Buffer): string {
  const match = /([\w ]*clang)[\x01-\x1f]([\w.~+-]+)/.exec(bytes.toString("latin1"));
  return match ? `${match[1]} ${match[2]}` : "an unnamed compiler";
}
