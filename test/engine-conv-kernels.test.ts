/**
 * The engine's kernels for convolutional nets (lib/engine/kernels: im2col.c, max-pool.c, dropout.c (and its masks), planes.c,
 * add-scaled.c, sgd.c, sum-rows.c, batch-norm.c, activation.c): in WebAssembly and in every native build this CPU runs, each gives the bits of a
 * JavaScript reference that rounds to float32 after every operation, in the order kernels.h documents. Odd sizes,
 * kernels 3 and 5, strides 1 and 2, padding 0–2 and TensorFlow's uneven `same` padding; ties, signed zeros,
 * infinities and NaN where they decide something. Then what the pair is for: gemm after im2col is a convolution,
 * and col2im is im2col's adjoint; batch norm's dx is PyTorch's gradient; tanh and sigmoid are within an ulp or two.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { afterDraws, seededRandom, seedState, type Random } from "../lib/math/random";
import { kernelsModule, nativeKernels, wasmKernels, type Kernels, type NativeAddon } from "../lib/engine/kernels";
import { buildKernels, KERNELS_ADDON, KERNELS_WASM } from "../scripts/build-kernels";

const f = Math.fround;
const memory = new WebAssembly.Memory({ initial: 1024, maximum: 65536, shared: true } as WebAssembly.MemoryDescriptor);
const heap = new Uint8Array(memory.buffer);
const heapBase = (new WebAssembly.Instance(kernelsModule(), { env: { memory } }).exports.__heap_base as WebAssembly.Global).value as number;

/** Every implementation: the wasm module, then each native build this CPU runs (switched to before each call). */
const implementations: { name: string; kernels: Kernels }[] = [{ name: "wasm", kernels: wasmKernels(memory) }];
const compiler = process.env.CC || "cc";
const built = process.arch === "x64" && spawnSync(compiler, ["--version"]).status === 0 ? buildKernels() : null;
let addon: (NativeAddon & { useInstructionSet(name: string): void }) | null = null;
test.before(async () => {
  const result = await built;
  if (result && !result.ok) throw new Error(result.line);
  if (!existsSync(KERNELS_ADDON)) return;
  addon = require(KERNELS_ADDON) as NativeAddon & { useInstructionSet(name: string): void };
  const native = addon;
  const chosen = native.instructionSet();
  for (const name of ["avx512", "avx2", "sse2"]) {
    try {
      native.useInstructionSet(name);
    } catch {
      continue; // not on this CPU
    }
    const kernels = nativeKernels(native, memory);
    const switched = Object.fromEntries(Object.entries(kernels).map(([kernel, call]) => [kernel, (...args: number[]) => {
      native.useInstructionSet(name);
      (call as (...a: number[]) => void)(...args);
    }]));
    implementations.push({ name: `native ${name}`, kernels: switched as unknown as Kernels });
  }
  native.useInstructionSet(chosen);
});

test("kernels.wasm and the addon export the convolution kernels (test/engine-kernels.test.ts checks the module keeps no C stack)", () => {
  const names = ["im2col", "col2im", "maxPool", "maxPoolBackward", "dropout", "dropoutMask", "planes", "addScaled", "sgd", "sumRows", "batchNorm", "batchNormBackward", "activation", "activationBackward"];
  const exported = WebAssembly.Module.exports(kernelsModule()).map(({ name }) => name);
  for (const name of names) assert.ok(exported.includes(name), `kernels.wasm does not export ${name}`);
  if (built) for (const name of names) assert.equal(typeof (addon as unknown as Record<string, unknown>)?.[name], "function", `the addon has no ${name}`);
  assert.ok(!built || implementations.length >= 2, "no native build ran");
});

/** A convolution's geometry: planes [C][B][H][W], a kh × kw kernel; OH, OW as given or PyTorch's (valid after pad). */
interface Geometry { C: number; B: number; H: number; W: number; kh: number; kw: number; stride: number; pad: number; OH: number; OW: number }
function geometry(C: number, B: number, H: number, W: number, kh: number, kw: number, stride: number, pad: number, out?: [number, number]): Geometry {
  const [OH, OW] = out ?? [Math.floor((H + 2 * pad - kh) / stride) + 1, Math.floor((W + 2 * pad - kw) / stride) + 1];
  return { C, B, H, W, kh, kw, stride, pad, OH, OW };
}
/** TensorFlow's `same`: OH = ⌈H / stride⌉, the padding's odd pixel at the bottom (top pad = ⌊total / 2⌋). */
function same(C: number, B: number, H: number, W: number, k: number, stride: number): Geometry {
  const OH = Math.ceil(H / stride), OW = Math.ceil(W / stride);
  const pad = Math.floor(Math.max((OH - 1) * stride + k - H, 0) / 2);
  assert.equal(pad, Math.floor(Math.max((OW - 1) * stride + k - W, 0) / 2), "same: the test's shapes keep the top and left pads equal");
  return geometry(C, B, H, W, k, k, stride, pad, [OH, OW]);
}
const GEOMETRIES: Geometry[] = [
  geometry(1, 1, 5, 5, 3, 3, 1, 0), geometry(1, 3, 7, 7, 3, 3, 1, 1), geometry(2, 3, 7, 5, 3, 3, 2, 1), geometry(3, 2, 9, 11, 5, 5, 1, 2),
  geometry(3, 2, 9, 11, 5, 5, 2, 2), geometry(5, 3, 6, 6, 3, 5, 1, 1), geometry(3, 2, 13, 13, 5, 5, 2, 1), geometry(2, 1, 4, 4, 5, 5, 1, 2),
  geometry(1, 1, 3, 3, 3, 3, 1, 2), geometry(2, 3, 10, 9, 3, 3, 2, 0), geometry(1, 5, 28, 28, 5, 5, 1, 0), geometry(3, 2, 11, 7, 5, 3, 2, 2),
  same(2, 3, 8, 8, 3, 2), same(3, 2, 10, 10, 5, 2), same(2, 2, 7, 7, 3, 2), same(3, 1, 9, 9, 5, 1), same(1, 2, 12, 12, 5, 2),
];
const describe = (g: Geometry) => `C ${g.C} B ${g.B} ${g.H}×${g.W}, kernel ${g.kh}×${g.kw}, stride ${g.stride}, pad ${g.pad} → ${g.OH}×${g.OW}`;
const convArgs = (src: number, dst: number, g: Geometry) => [src, dst, g.C, g.B, g.H, g.W, g.kh, g.kw, g.stride, g.pad, g.OH, g.OW] as const;

/** What im2col reads for row r = (c·kh + i)·kw + j, column q = (b·OH + oy)·OW + ox: a plane index, or −1 (padding). */
function source(g: Geometry, r: number, q: number): number {
  const [c, i, j] = [Math.floor(r / (g.kh * g.kw)), Math.floor(r / g.kw) % g.kh, r % g.kw];
  const [b, oy, ox] = [Math.floor(q / (g.OH * g.OW)), Math.floor(q / g.OW) % g.OH, q % g.OW];
  const [y, x] = [oy * g.stride + i - g.pad, ox * g.stride + j - g.pad];
  return y < 0 || y >= g.H || x < 0 || x >= g.W ? -1 : ((c * g.B + b) * g.H + y) * g.W + x;
}
function im2colReference(x: Float32Array, g: Geometry): Float32Array {
  const [rows, cols] = [g.C * g.kh * g.kw, g.B * g.OH * g.OW];
  const out = new Float32Array((rows + 1) * cols).fill(1);
  for (let r = 0; r < rows; r++) for (let q = 0; q < cols; q++) out[r * cols + q] = source(g, r, q) < 0 ? 0 : x[source(g, r, q)]!;
  return out;
}
function col2imReference(y: Float32Array, g: Geometry): Float32Array {
  const [rows, cols] = [g.C * g.kh * g.kw, g.B * g.OH * g.OW];
  const out = new Float32Array(g.C * g.B * g.H * g.W);
  for (let r = 0; r < rows; r++) {
    for (let q = 0; q < cols; q++) {
      const at = source(g, r, q);
      if (at >= 0) out[at] = f(out[at]! + y[r * cols + q]!);
    }
  }
  return out;
}

test("im2col and col2im: every implementation gives the reference's bits on 17 geometries", () => {
  const random = seededRandom(41);
  GEOMETRIES.forEach((g, index) => {
    const [rows, cols] = [g.C * g.kh * g.kw + 1, g.B * g.OH * g.OW];
    const x = randomFloats(g.C * g.B * g.H * g.W, random);
    const y = randomFloats(rows * cols, random);
    y[0] = -0; // −0 into a pixel that starts at +0 gives +0
    const [expectedRows, expectedPlanes] = [im2colReference(x, g), col2imReference(y, g)];
    for (const { name, kernels } of implementations) {
      const at = new Allocator();
      const src = at.floats(x, 4 * (index % 3));
      const dst = at.sentinel(rows * cols + 3, 4 * (index % 2));
      kernels.im2col(...convArgs(src, dst, g));
      sameBits(read(dst, rows * cols), expectedRows, `${name} im2col, ${describe(g)}`);
      untouched(dst + rows * cols * 4, 3, `${name} im2col, ${describe(g)}: wrote past the rows`);
      const gradient = at.floats(y, 4 * (index % 2));
      const planes = at.sentinel(x.length + 3, 0);
      kernels.col2im(...convArgs(gradient, planes, g));
      sameBits(read(planes, x.length), expectedPlanes, `${name} col2im, ${describe(g)}`);
      untouched(planes + x.length * 4, 3, `${name} col2im, ${describe(g)}: wrote past the planes`);
    }
  });
});

test("gemm after im2col is the convolution (a direct one in float64, within 1e-5 of the terms' size); col2im is im2col's adjoint", () => {
  const random = seededRandom(42);
  for (const g of GEOMETRIES) {
    const F = 3;
    const [K, N, R] = [g.C * g.kh * g.kw + 1, g.B * g.OH * g.OW, g.C * g.kh * g.kw];
    const x = randomFloats(g.C * g.B * g.H * g.W, random);
    const weights = randomFloats(F * K, random); // [F][C·kh·kw + 1], the bias last
    const y = randomFloats(R * N, random);
    for (const { name, kernels } of implementations) {
      const at = new Allocator();
      const [src, rows, w, out, dy, dx] = [at.floats(x, 0), at.reserve(K * N * 4, 0), at.floats(weights, 0), at.reserve(F * N * 4, 0), at.floats(y, 0), at.reserve(x.length * 4, 0)];
      kernels.im2col(...convArgs(src, rows, g));
      kernels.gemm(w, K * 4, 4, rows, N * 4, out, N * 4, 0, F, K, N, 0);
      const conv = read(out, F * N);
      for (let filter = 0; filter < F; filter++) {
        for (let q = 0; q < N; q++) {
          const [b, oy, ox] = [Math.floor(q / (g.OH * g.OW)), Math.floor(q / g.OW) % g.OH, q % g.OW];
          let [sum, size] = [weights[filter * K + R]!, Math.abs(weights[filter * K + R]!)];
          for (let c = 0; c < g.C; c++) {
            for (let i = 0; i < g.kh; i++) {
              for (let j = 0; j < g.kw; j++) {
                const [iy, ix] = [oy * g.stride + i - g.pad, ox * g.stride + j - g.pad];
                if (iy < 0 || iy >= g.H || ix < 0 || ix >= g.W) continue;
                const term = weights[filter * K + (c * g.kh + i) * g.kw + j]! * x[((c * g.B + b) * g.H + iy) * g.W + ix]!;
                sum += term;
                size += Math.abs(term);
              }
            }
          }
          const got = conv[filter * N + q]!;
          assert.ok(Math.abs(got - sum) <= 1e-5 * size + 1e-30, `${name}, ${describe(g)}: filter ${filter}, column ${q} is ${got}, the direct convolution ${sum}`);
        }
      }
      kernels.col2im(...convArgs(dy, dx, g));
      const [cols, planes] = [read(rows, R * N), read(dx, x.length)];
      let [left, right, size] = [0, 0, 0];
      for (let k = 0; k < R * N; k++) (left += cols[k]! * y[k]!), (size += Math.abs(cols[k]! * y[k]!));
      for (let k = 0; k < x.length; k++) right += x[k]! * planes[k]!;
      assert.ok(Math.abs(left - right) <= 1e-5 * size + 1e-30, `${name}, ${describe(g)}: ⟨im2col(x), y⟩ = ${left}, ⟨x, col2im(y)⟩ = ${right}`);
    }
  }
});

/** PyTorch's max pooling: the window row-major from −∞, replaced where greater or NaN. */
function maxPoolReference(x: Float32Array, planes: number, H: number, W: number, size: number, stride: number, OH: number, OW: number) {
  const [out, argmax] = [new Float32Array(planes * OH * OW), new Int32Array(planes * OH * OW)];
  for (let p = 0, o = 0; p < planes; p++) {
    for (let oy = 0; oy < OH; oy++) {
      for (let ox = 0; ox < OW; ox++, o++) {
        let [max, at] = [-Infinity, oy * stride * W + ox * stride];
        for (let y = oy * stride; y < oy * stride + size; y++) {
          for (let xx = ox * stride; xx < ox * stride + size; xx++) {
            const value = x[p * H * W + y * W + xx]!;
            if (value > max || Number.isNaN(value)) [max, at] = [value, y * W + xx];
          }
        }
        [out[o], argmax[o]] = [max, at];
      }
    }
  }
  return { out, argmax };
}

test("maxPool and maxPoolBackward: the reference's values, indices and bits; ties, signed zeros, −∞, NaN, overlapping windows", () => {
  const random = seededRandom(43);
  const cases: [number, number, number, number, number][] = [
    [4, 4, 4, 2, 2], [3, 7, 9, 2, 2], [5, 7, 7, 3, 2], [2, 6, 5, 3, 1], [3, 8, 8, 2, 1], [2, 5, 5, 5, 1], [6, 24, 24, 2, 2], [1, 1, 1, 1, 1], [7, 13, 11, 3, 3],
  ];
  for (const [planes, H, W, size, stride] of cases) {
    const [OH, OW] = [Math.floor((H - size) / stride) + 1, Math.floor((W - size) / stride) + 1];
    // Small integers, so windows hold ties; some −0, +0, −∞ and NaN.
    const x = Float32Array.from({ length: planes * H * W }, () => {
      const u = random();
      return u < 0.03 ? NaN : u < 0.06 ? -Infinity : u < 0.1 ? -0 : Math.floor(7 * random()) - 4;
    });
    x.fill(-Infinity, 0, Math.min(x.length, size * W)); // the first windows all −∞: the first index
    const { out, argmax } = maxPoolReference(x, planes, H, W, size, stride, OH, OW);
    const dOut = randomFloats(out.length, random);
    const indices = Int32Array.from(argmax);
    indices[0] = H * W; // outside the plane: skipped
    if (indices.length > 1) indices[1] = -1;
    const dIn = new Float32Array(planes * H * W);
    for (let p = 0, o = 0; p < planes; p++) {
      for (let k = 0; k < OH * OW; k++, o++) {
        const at = indices[o]!;
        if (at >= 0 && at < H * W) dIn[p * H * W + at] = f(dIn[p * H * W + at]! + dOut[o]!);
      }
    }
    const what = `${planes} planes ${H}×${W}, window ${size}, stride ${stride}`;
    for (const { name, kernels } of implementations) {
      const at = new Allocator();
      const [src, dst, arg] = [at.floats(x, 4), at.sentinel(out.length + 2, 0), at.sentinel(out.length + 2, 4)];
      kernels.maxPool(src, dst, arg, planes, H, W, size, stride, OH, OW);
      sameBits(read(dst, out.length), out, `${name} maxPool, ${what}`);
      assert.deepEqual(new Int32Array(memory.buffer, arg, out.length), argmax, `${name} maxPool, ${what}: argmax`);
      untouched(dst + out.length * 4, 2, `${name} maxPool: wrote past dst`);
      untouched(arg + out.length * 4, 2, `${name} maxPool: wrote past argmax`);
      const [gradient, idx, back] = [at.floats(dOut, 0), at.reserve(indices.length * 4, 4), at.sentinel(dIn.length + 2, 0)];
      new Int32Array(memory.buffer, idx, indices.length).set(indices);
      kernels.maxPoolBackward(gradient, idx, back, planes, H, W, OH, OW);
      sameBits(read(back, dIn.length), dIn, `${name} maxPoolBackward, ${what}`);
      untouched(back + dIn.length * 4, 2, `${name} maxPoolBackward: wrote past dIn`);
    }
  }
});

const LENGTHS = [...Array.from({ length: 20 }, (_, i) => i + 1), 1000, 4099];

test("dropout: x·scale where the mask is nonzero, +0 elsewhere (NaN and −0 included), every length", () => {
  const random = seededRandom(44);
  const scale = 1 / 0.7;
  for (const n of LENGTHS) {
    const x = randomFloats(n, random).map((v) => (random() < 0.05 ? NaN : random() < 0.05 ? -0 : v));
    const mask = Uint8Array.from({ length: n }, () => (random() < 0.3 ? 0 : random() < 0.5 ? 1 : 1 + Math.floor(255 * random())));
    const expected = x.map((v, i) => (mask[i] ? f(v * f(scale)) : 0));
    for (const { name, kernels } of implementations) {
      const at = new Allocator();
      const [xs, ms] = [at.floats(x, 4 * (n % 4)), at.bytes(mask, n % 3)];
      kernels.dropout(xs, ms, n, scale);
      sameBits(read(xs, n), expected, `${name} dropout, n = ${n}`);
    }
  }
});

test("dropoutMask: the bytes of seededRandom's random() >= rate, from any state, at every length; the stream goes on where it left", () => {
  // Seeds whose states wrap past 2³² within the draws; rates whose threshold ⌈rate·2³²⌉ is 0, exact, rounded, or 2³².
  for (const seed of [0, 1, 7, -1, 0x7fffffff, 0x92d68ca2]) {
    for (const rate of [0, 0.25, 0.5, 0.3, 0.1 + 1e-12, 1 - 2 ** -40, 1 - 2 ** -53]) {
      const keep = Math.ceil(rate * 2 ** 32);
      for (const n of LENGTHS) {
        const random = seededRandom(seed);
        const first = Uint8Array.from({ length: n }, () => (random() >= rate ? 1 : 0));
        const then = Uint8Array.from({ length: 37 }, () => (random() >= rate ? 1 : 0));
        for (const { name, kernels } of implementations) {
          const at = new Allocator();
          const ms = at.bytes(new Uint8Array(n).fill(7), n % 3);
          let state = seedState(seed);
          kernels.dropoutMask(ms, n, state >>> 16, state & 0xffff, Math.floor(keep / 65536), keep % 65536);
          assert.deepEqual(heap.slice(ms, ms + n), first, `${name}, seed ${seed}, rate ${rate}, n = ${n}`);
          state = afterDraws(state, n);
          const next = at.bytes(new Uint8Array(37), 0);
          kernels.dropoutMask(next, 37, state >>> 16, state & 0xffff, Math.floor(keep / 65536), keep % 65536);
          assert.deepEqual(heap.slice(next, next + 37), then, `${name}, seed ${seed}, rate ${rate}: the draws after ${n}`);
        }
      }
    }
  }
});

test("planes: ((byte / 255) − mean)·invStd rounded after each op; mean 0 and invStd 1 give byte / 255 exactly", () => {
  const random = seededRandom(45);
  for (const [count, pixels] of [[1, 1], [3, 7], [64, 784], [5, 17], [2, 255], [1, 256]] as const) {
    const bytes = Uint8Array.from({ length: count * pixels }, (_, i) => (i < 256 ? i : Math.floor(256 * random())));
    for (const [mean, invStd] of [[0.1307, 1 / 0.3081], [0, 1], [0.5, 2]] as const) {
      const [m, s] = [f(mean), f(invStd)];
      const expected = Float32Array.from(bytes, (b) => f(f(f(b / 255) - m) * s));
      if (mean === 0 && invStd === 1) assert.deepEqual(expected, Float32Array.from(bytes, (b) => b / 255));
      for (const { name, kernels } of implementations) {
        const at = new Allocator();
        const [src, dst] = [at.bytes(bytes, count % 4), at.sentinel(bytes.length + 2, 4 * (pixels % 2))];
        kernels.planes(src, dst, count, pixels, mean, invStd);
        sameBits(read(dst, bytes.length), expected, `${name} planes, ${count} × ${pixels}, mean ${mean}, invStd ${invStd}`);
        untouched(dst + bytes.length * 4, 2, `${name} planes: wrote past dst`);
      }
    }
  }
});

test("addScaled (g ← g + p·factor) and sgd (p ← p − g·lr): the reference's bits at every length", () => {
  const random = seededRandom(46);
  for (const n of LENGTHS) {
    const [g, p] = [randomFloats(n, random), randomFloats(n, random)];
    const [factor, lr] = [5e-4, 0.01];
    const decayed = g.map((gi, i) => f(gi + f(p[i]! * f(factor))));
    const stepped = p.map((pi, i) => f(pi - f(g[i]! * f(lr))));
    for (const { name, kernels } of implementations) {
      const at = new Allocator();
      const [gs, ps] = [at.floats(g, 4 * (n % 4)), at.floats(p, 4 * ((n + 1) % 4))];
      kernels.addScaled(gs, ps, n, factor);
      sameBits(read(gs, n), decayed, `${name} addScaled, n = ${n}`);
      sameBits(read(ps, n), p, `${name} addScaled, n = ${n}: p changed`);
      const [g2, p2] = [at.floats(g, 0), at.floats(p, 4)];
      kernels.sgd(p2, g2, n, lr);
      sameBits(read(p2, n), stepped, `${name} sgd, n = ${n}`);
    }
  }
});

test("sumRows: each row summed from 0 in order, any number of rows (the eight-row blocks and the rest) and columns", () => {
  const random = seededRandom(47);
  const shapes: [number, number][] = [[32, 4099], [10, 36864]];
  for (let rows = 1; rows <= 20; rows++) for (const cols of [0, 1, 2, 3, 7, 16, 17, 100]) shapes.push([rows, cols]);
  for (const [rows, cols] of shapes) {
    const src = randomFloats(rows * cols, random);
    if (src.length) src[0] = -0;
    const expected = new Float32Array(rows);
    for (let r = 0; r < rows; r++) {
      let sum = 0;
      for (let c = 0; c < cols; c++) sum = f(sum + src[r * cols + c]!);
      expected[r] = sum;
    }
    for (const { name, kernels } of implementations) {
      const at = new Allocator();
      const [s, d] = [at.floats(src, 4 * (rows % 3)), at.sentinel(rows + 2, 4)];
      kernels.sumRows(s, d, rows, cols);
      sameBits(read(d, rows), expected, `${name} sumRows, ${rows} × ${cols}`);
      untouched(d + rows * 4, 2, `${name} sumRows: wrote past dst`);
    }
  }
});

/** batchNorm's reference: its outputs and statistics, each op rounded in kernels.h's order. */
function batchNormReference(x: Float32Array, gamma: Float32Array, beta: Float32Array, runMean: Float32Array, runVar: Float32Array, C: number, n: number, eps: number, momentum: number, training: boolean) {
  const [y, mean, invStd, newMean, newVar] = [new Float32Array(C * n), new Float32Array(C), new Float32Array(C), runMean.slice(), runVar.slice()];
  const [e, mo] = [f(eps), f(momentum)];
  for (let c = 0; c < C; c++) {
    let [m, inv] = [runMean[c]!, f(1 / f(Math.sqrt(f(runVar[c]! + e))))];
    if (training) {
      let sum = 0;
      for (let i = 0; i < n; i++) sum = f(sum + x[c * n + i]!);
      m = f(sum / n);
      let squares = 0;
      for (let i = 0; i < n; i++) {
        const d = f(x[c * n + i]! - m);
        squares = f(squares + f(d * d));
      }
      inv = f(1 / f(Math.sqrt(f(f(squares / n) + e))));
      const keep = f(1 - mo);
      newMean[c] = f(f(runMean[c]! * keep) + f(m * mo));
      newVar[c] = f(f(runVar[c]! * keep) + f(f(squares / (n - 1)) * mo));
    }
    [mean[c], invStd[c]] = [m, inv];
    for (let i = 0; i < n; i++) y[c * n + i] = f(f(f(f(x[c * n + i]! - m) * inv) * gamma[c]!) + beta[c]!);
  }
  return { y, mean, invStd, runMean: newMean, runVar: newVar };
}

function batchNormBackwardReference(dy: Float32Array, x: Float32Array, gamma: Float32Array, mean: Float32Array, invStd: Float32Array, C: number, n: number) {
  const [dx, dGamma, dBeta] = [new Float32Array(C * n), new Float32Array(C), new Float32Array(C)];
  for (let c = 0; c < C; c++) {
    const xhat = (i: number) => f(f(x[c * n + i]! - mean[c]!) * invStd[c]!);
    let [sumDy, sumDyXhat] = [0, 0];
    for (let i = 0; i < n; i++) (sumDy = f(sumDy + dy[c * n + i]!)), (sumDyXhat = f(sumDyXhat + f(dy[c * n + i]! * xhat(i))));
    [dBeta[c], dGamma[c]] = [sumDy, sumDyXhat];
    const k = f(f(gamma[c]! * invStd[c]!) / n);
    for (let i = 0; i < n; i++) dx[c * n + i] = f(k * f(f(f(dy[c * n + i]! * n) - sumDy) - f(xhat(i) * sumDyXhat)));
  }
  return { dx, dGamma, dBeta };
}

test("batchNorm and batchNormBackward: the reference's bits, training and not, in place and not; dx is the gradient", () => {
  const random = seededRandom(48);
  const [eps, momentum] = [1e-5, 0.1];
  const shapes: [number, number][] = [[1, 2], [3, 3], [5, 7], [8, 17], [3, 100], [2, 1000], [4, 4099], [2, 36864], [7, 1]];
  for (const [C, n] of shapes) {
    // Channels off centre and scale, as a layer's outputs are, so the mean's rounding shows.
    const x = Float32Array.from({ length: C * n }, (_, k) => f(3 * Math.floor(k / n) - 2 + (1 + Math.floor(k / n)) * (2 * random() - 1)));
    const [gamma, beta] = [randomFloats(C, random).map((v) => v + 1), randomFloats(C, random)];
    const [runMean, runVar] = [randomFloats(C, random), randomFloats(C, random).map((v) => Math.abs(v) + 0.5)];
    const dy = randomFloats(C * n, random);
    for (const training of n > 1 ? [true, false] : [false]) {
      const expected = batchNormReference(x, gamma, beta, runMean, runVar, C, n, eps, momentum, training);
      const back = batchNormBackwardReference(dy, x, gamma, expected.mean, expected.invStd, C, n);
      for (const inPlace of [false, true]) {
        for (const { name, kernels } of implementations) {
          const what = `${name} batchNorm, C ${C}, n ${n}, ${training ? "training" : "running statistics"}${inPlace ? ", in place" : ""}`;
          const at = new Allocator();
          const xs = at.floats(x, 4 * (n % 3));
          const ys = inPlace ? xs : at.sentinel(C * n, 4);
          const [g, b, m, s, rm, rv] = [at.floats(gamma, 0), at.floats(beta, 4), at.sentinel(C, 0), at.sentinel(C, 8), at.floats(runMean, 0), at.floats(runVar, 4)];
          kernels.batchNorm(xs, ys, g, b, m, s, rm, rv, C, n, eps, momentum, training ? 1 : 0);
          sameBits(read(ys, C * n), expected.y, `${what}: y`);
          sameBits(read(m, C), expected.mean, `${what}: mean`);
          sameBits(read(s, C), expected.invStd, `${what}: invStd`);
          sameBits(read(rm, C), expected.runMean, `${what}: runMean`);
          sameBits(read(rv, C), expected.runVar, `${what}: runVar`);
          const [dys, x2] = [at.floats(dy, 4), at.floats(x, 0)];
          const dxs = inPlace ? dys : at.sentinel(C * n, 0);
          const [dg, db] = [at.sentinel(C, 4), at.sentinel(C, 0)];
          kernels.batchNormBackward(dys, x2, g, m, s, dxs, dg, db, C, n);
          sameBits(read(dxs, C * n), back.dx, `${what}: dx`);
          sameBits(read(dg, C), back.dGamma, `${what}: dGamma`);
          sameBits(read(db, C), back.dBeta, `${what}: dBeta`);
        }
      }
      if (!training) continue;
      // PyTorch's gradient in float64, dx = γ·invStd·(dy − mean(dy) − x̂·mean(dy·x̂)), against the kernel's order.
      for (let c = 0; c < C; c++) {
        const xhat = Array.from({ length: n }, (_, i) => (x[c * n + i]! - expected.mean[c]!) * expected.invStd[c]!);
        const meanDy = dy.subarray(c * n, (c + 1) * n).reduce((sum, v) => sum + v, 0) / n;
        const meanDyXhat = xhat.reduce((sum, h, i) => sum + h * dy[c * n + i]!, 0) / n;
        for (let i = 0; i < n; i++) {
          const exact = gamma[c]! * expected.invStd[c]! * (dy[c * n + i]! - meanDy - xhat[i]! * meanDyXhat);
          const size = Math.abs(gamma[c]! * expected.invStd[c]!) * (Math.abs(dy[c * n + i]!) + Math.abs(meanDy) + Math.abs(xhat[i]! * meanDyXhat));
          assert.ok(Math.abs(back.dx[c * n + i]! - exact) <= 1e-4 * size + 1e-30, `dx, C ${C}, n ${n}, channel ${c}, element ${i}: ${back.dx[c * n + i]} against ${exact}`);
        }
      }
    }
  }
});

/** activation.c's e^x, tanh and sigmoid, op by op in float32: the bits every implementation must give. */
const word = new Int32Array(1);
const wordFloat = new Float32Array(word.buffer);
const fromBits = (bits: number) => ((word[0] = bits), wordFloat[0]!);
function expReference(x: number): number {
  x = x < 89 ? x : 89;
  x = x > -104 ? x : -104;
  const n = f(f(f(x * f(1.44269504088896341)) + 12582912) - 12582912);
  const r = f(f(x - f(n * 0.693359375)) - f(n * f(-2.12194440e-4)));
  let p = f(f(1.9875691500e-4) * r);
  for (const c of [1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1]) p = f(f(p + f(c)) * r);
  p = f(f(f(f(p + f(5.0000001201e-1)) * f(r * r)) + r) + 1);
  const half = n >> 1;
  return f(f(p * fromBits((half + 127) << 23)) * fromBits((n - half + 127) << 23));
}
function tanhReference(x: number): number {
  if (Number.isNaN(x) || x === 0) return x;
  const t = Math.abs(x);
  if (t < 0.625) {
    const z = f(x * x);
    let p = f(f(-5.70498872745e-3) * z);
    for (const c of [2.06390887954e-2, -5.37397155531e-2, 1.33314422036e-1, -3.33332819422e-1]) p = f(f(p + f(c)) * z);
    return f(x + f(p * x));
  }
  const large = f(1 - f(2 / f(expReference(f(t + t)) + 1)));
  return x < 0 ? -large : large;
}
function sigmoidReference(x: number): number {
  if (Number.isNaN(x)) return x;
  const e = expReference(x < 0 ? x : -x);
  return f((x < 0 ? e : 1) / f(1 + e));
}
const ACTIVATIONS = {
  tanh: { kind: 1, forward: tanhReference, slope: (y: number) => f(1 - f(y * y)), exact: Math.tanh, ulps: 1.5 },
  sigmoid: { kind: 2, forward: sigmoidReference, slope: (y: number) => f(y * f(1 - y)), exact: (x: number) => 1 / (1 + Math.exp(-x)), ulps: 2.5 },
  relu: { kind: 3, forward: (x: number) => (x > 0 ? x : 0), slope: null, exact: null, ulps: 0 },
};
const SPECIAL = [0, -0, Infinity, -Infinity, NaN, 1e-30, -1e-30, 1.4e-45, 0.625, -0.625, f(0.625) - 2 ** -24, 9, 9.0109, -9.0109, 20, 44.4, 88.7, 89, 104, -104, 200, -200];

test("activation and activationBackward: tanh, sigmoid and relu, the reference's bits at every length, special values included", () => {
  const random = seededRandom(49);
  for (const [name, activation] of Object.entries(ACTIVATIONS)) {
    for (const n of [...LENGTHS, SPECIAL.length]) {
      const x = Float32Array.from({ length: n }, (_, i) => (n === SPECIAL.length ? SPECIAL[i]! : random() < 0.05 ? 0 : 24 * random() - 12));
      const y = x.map(activation.forward);
      const dy = randomFloats(n, random);
      const dx = dy.map((d, i) => (activation.slope ? f(d * activation.slope(y[i]!)) : y[i]! > 0 ? d : 0));
      for (const { name: implementation, kernels } of implementations) {
        const at = new Allocator();
        const [xs, ds] = [at.floats(x, 4 * (n % 4)), at.floats(dy, 4 * ((n + 1) % 4))];
        kernels.activation(xs, n, activation.kind);
        sameBits(read(xs, n), y, `${implementation} activation ${name}, n = ${n}`);
        kernels.activationBackward(xs, ds, n, activation.kind);
        sameBits(read(ds, n), dx, `${implementation} activationBackward ${name}, n = ${n}`);
        const [unchanged, gradient] = [at.floats(x, 0), at.floats(dy, 4)];
        kernels.activation(unchanged, n, 0);
        kernels.activationBackward(unchanged, gradient, n, 0);
        sameBits(read(unchanged, n), x, `${implementation} activation linear, n = ${n}`);
        sameBits(read(gradient, n), dy, `${implementation} activationBackward linear, n = ${n}`);
      }
    }
  }
});

test("tanh and sigmoid are within 1.5 and 2.5 ulps of float64's over −20..20 (steps of 2⁻¹³), tiny and huge inputs; limits exact", () => {
  const xs: number[] = [...SPECIAL.filter((x) => Number.isFinite(x))];
  for (let i = -20 * 8192; i <= 20 * 8192; i++) xs.push(i / 8192);
  for (let e = -40; e <= 0; e += 1 / 256) xs.push(f(2 ** e), -f(2 ** e));
  for (let x = -110; x <= 110; x += 1 / 64) xs.push(x);
  const x = Float32Array.from(xs);
  const ulp = (v: number) => (Math.abs(f(v)) < 2 ** -126 ? 2 ** -149 : 2 ** (Math.floor(Math.log2(Math.abs(f(v)))) - 23));
  for (const [name, { kind, exact, ulps }] of Object.entries(ACTIVATIONS)) {
    if (!exact) continue;
    const at = new Allocator().floats(x, 0);
    implementations[0]!.kernels.activation(at, x.length, kind);
    const y = read(at, x.length);
    for (const { name: other, kernels } of implementations.slice(1)) {
      new Float32Array(memory.buffer, at, x.length).set(x);
      kernels.activation(at, x.length, kind);
      sameBits(read(at, x.length), y, `${other} ${name}: the grid's bits against wasm's`);
    }
    let [worst, where] = [0, 0];
    x.forEach((xi, i) => {
      const error = Math.abs(y[i]! - exact(xi)) / ulp(exact(xi));
      if (error > worst) [worst, where] = [error, xi];
    });
    assert.ok(worst <= ulps, `${name}: ${worst.toFixed(2)} ulps from float64's at x = ${where}`);
  }
  const limits = Float32Array.from([Infinity, -Infinity, 0, -0, NaN, 50, -50, 120, -120]);
  for (const { name, kernels } of implementations) {
    const at = new Allocator();
    const [t, s] = [at.floats(limits, 0), at.floats(limits, 4)];
    kernels.activation(t, limits.length, 1);
    sameBits(read(t, limits.length), Float32Array.from([1, -1, 0, -0, NaN, 1, -1, 1, -1]), `${name} tanh's limits`);
    kernels.activation(s, limits.length, 2);
    sameBits(read(s, limits.length), Float32Array.from([1, 0, 0.5, 0.5, NaN, 1, sigmoidReference(-50), 1, 0]), `${name} sigmoid's limits`);
  }
});

test("the native convolution kernels refuse operands outside the heap and impossible geometry, naming the kernel", (t) => {
  if (!addon) {
    t.skip("native addon not built here");
    return;
  }
  const native = addon;
  const end = heap.length;
  const refuses = (call: () => void, message: RegExp) => assert.throws(call, { name: "RangeError", message });
  refuses(() => native.im2col(heap, 0, end - 64, 1, 1, 5, 5, 3, 3, 1, 0, 3, 3), /^im2col: dst \(90 floats at byte \d+\) .* past the end/);
  refuses(() => native.im2col(heap, end - 16, 0, 1, 1, 5, 5, 3, 3, 1, 0, 3, 3), /^im2col: src \(25 floats/);
  refuses(() => native.im2col(heap, 0, 4096, 1, 1, 5, 5, 3, 3, 0, 0, 3, 3), /^im2col: stride must be at least 1/);
  refuses(() => native.im2col(heap, 0, 4096, 65536, 65536, 65536, 65536, 3, 3, 1, 0, 3, 3), /^im2col: src \(1152921504606846976 floats/);
  refuses(() => native.im2colRows(heap, 0, end - 32, 1, 1, 5, 5, 3, 3, 1, 0, 3, 3), /^im2colRows: dst \(90 floats/);
  refuses(() => native.transposeStrided(heap, 0, end - 64, 4, 20, 20, 4), /^transposeStrided: dst \(80 floats at byte \d+\) .* past the end/);
  refuses(() => native.transposeStrided(heap, 0, 4096, 4, 20, 19, 4), /^transposeStrided: rows overlap: expected ss ≥ cols and ds ≥ rows/);
  refuses(() => native.dropoutMask(heap, end - 2, 4, 0, 0, 0, 0), /^dropoutMask: mask \(4 bytes/);
  refuses(() => native.dropoutMask(heap, 0, 4, 65536, 0, 0, 0), /^dropoutMask: state and keep are 16-bit halves/);
  refuses(() => native.col2im(heap, 0, end - 64, 1, 1, 5, 5, 3, 3, 1, 0, 3, 3), /^col2im: dst \(25 floats/);
  refuses(() => native.col2im(heap, 2, 4096, 1, 1, 5, 5, 3, 3, 1, 0, 3, 3), /^col2im: src .*not float-aligned/);
  refuses(() => native.maxPool(heap, 0, 4096, 8192, 1, 5, 5, 2, 2, 3, 2), /^maxPool: a window reaches past its plane/);
  refuses(() => native.maxPool(heap, 0, 4096, 8192, 1, 4, 4, 0, 2, 2, 2), /^maxPool: size and stride must be at least 1/);
  refuses(() => native.maxPool(heap, 0, 4096, end - 4, 1, 4, 4, 2, 2, 2, 2), /^maxPool: argmax \(4 floats/);
  refuses(() => native.maxPoolBackward(heap, 0, 4096, end - 4, 1, 4, 4, 2, 2), /^maxPoolBackward: dIn \(16 floats/);
  refuses(() => native.dropout(heap, 0, end - 2, 4, 2), /^dropout: mask \(4 bytes at byte \d+\) reaches past the end/);
  refuses(() => native.planes(heap, end - 10, 0, 1, 11, 0, 1), /^planes: src \(11 bytes/);
  refuses(() => (native.planes as (...args: unknown[]) => void)(heap, 0, 4096, 1, 11, 0), /^planes\(heap, src, dst, count, pixels, mean, invStd\): expected 7 arguments/);
  refuses(() => native.addScaled(heap, end - 4, 0, 2, 1), /^addScaled: g \(2 floats/);
  refuses(() => native.sgd(heap, 0, 6, 2, 1), /^sgd: g .*not float-aligned/);
  refuses(() => native.sumRows(heap, 0, end - 4, 2, 3), /^sumRows: dst \(2 floats/);
  refuses(() => native.batchNorm(heap, 0, 64, 128, 132, 136, 140, 144, 148, 1, 4, 1e-5, 0.1, 2), /^batchNorm: training must be 0/);
  refuses(() => native.batchNorm(heap, 0, end - 8, 128, 132, 136, 140, 144, 148, 1, 4, 1e-5, 0.1, 1), /^batchNorm: y \(4 floats/);
  refuses(() => native.batchNorm(heap, 0, 64, 128, 132, 136, 140, 144, end - 4, 2, 4, 1e-5, 0.1, 1), /^batchNorm: runVar \(2 floats/);
  refuses(() => native.batchNormBackward(heap, 0, 64, 128, 132, 136, end - 8, 144, 148, 1, 4), /^batchNormBackward: dx \(4 floats/);
  refuses(() => native.batchNormBackward(heap, 0, 64, 128, 132, 136, 200, 144, end - 4, 2, 4), /^batchNormBackward: dBeta \(2 floats/);
  refuses(() => native.activation(heap, 0, 4, 4), /^activation: kind must be 0 \(linear\), 1 \(tanh\), 2 \(sigmoid\) or 3 \(relu\)/);
  refuses(() => native.activation(heap, end - 4, 2, 1), /^activation: x \(2 floats/);
  refuses(() => native.activationBackward(heap, 0, end - 4, 2, 2), /^activationBackward: dy \(2 floats/);
});

/** Hands out heap space above __heap_base, 16-byte aligned plus `skew` bytes. */
class Allocator {
  private next = heapBase;
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
  /** `count` words of SENTINEL: what a kernel must overwrite, or leave. */
  sentinel(count: number, skew: number): number {
    const at = this.reserve(count * 4, skew);
    new Uint32Array(memory.buffer, at, count).fill(SENTINEL);
    return at;
  }
}

/** Bits no kernel writes (a NaN with a payload). */
const SENTINEL = 0x7fbadbad;
function untouched(at: number, count: number, what: string): void {
  assert.ok(new Uint32Array(memory.buffer, at, count).every((bits) => bits === SENTINEL), what);
}

function read(at: number, count: number): Float32Array {
  return new Float32Array(memory.buffer, at, count).slice();
}

/** Random floats in [−1, 1) with exact zeros sprinkled in. */
function randomFloats(count: number, random: Random): Float32Array {
  return Float32Array.from({ length: count }, () => (random() < 0.05 ? 0 : 2 * random() - 1));
}

/** Equal values element by element, by Object.is: −0 is not +0, NaN is NaN (JavaScript keeps no NaN payload). */
function sameBits(actual: Float32Array, expected: Float32Array, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  const at = actual.findIndex((value, i) => !Object.is(value, expected[i]));
  if (at >= 0) assert.fail(`${what}: element ${at} is ${Object.is(actual[at], -0) ? "-0" : actual[at]}, expected ${Object.is(expected[at], -0) ? "-0" : expected[at]}`);
}

