/**
 * The part of a split call that every thread of a team runs (`team.ts` on the calling thread, `team-helper.ts` on
 * each helper): claim the next chunk (of a product's output rows or columns, a transpose's rows or columns, or a
 * convolution kernel's channels, planes or elements) from the shared counter, compute it, count it done. Which thread computes which chunk changes
 * nothing in any result: every output is still computed by one thread, in the same order, with the same kernel.
 */
import type { Kernels } from "./kernels";

/** Control words, in an Int32Array over a SharedArrayBuffer: (call number << CHUNK_BITS) | next unclaimed chunk. */
export const CLAIM = 0;
/** Chunks finished in the current call. */
export const DONE = 1;
/** Set by a helper whose kernel threw (then the caller throws). */
export const FAILED = 2;
/**
 * The kernel's arguments (`ARG_SLOTS` of them at most; a float as its float32 bits), then the span's units per
 * chunk, the number of chunks, the kernels (0 wasm, 1 native) and the `SPLITS` entry that says how a chunk's
 * arguments follow from them.
 */
export const ARGS = 3;
/** Words for a call's arguments: batchNorm's 13. */
export const ARG_SLOTS = 13;
/** Chunks the helpers have run, in all (to see that they take part). */
export const HELPED = ARGS + ARG_SLOTS + 4;
/** Helpers started and waiting for calls: until all are, calls run on the calling thread. */
export const READY = HELPED + 1;
/** The number of control words. */
export const WORDS = READY + 1;
/** Bits of CLAIM that count chunks; the call number is above them. */
export const CHUNK_BITS = 10;

type Args = number[];

/**
 * How each splittable call is cut: `count` units starting at unit `first` (of rows, columns, channels, planes or
 * elements), as the arguments of one call of the same kernel on that part. Each part's outputs are disjoint from
 * the others', and each is computed as the whole call computes it.
 */
export const SPLITS = {
  /** gemm by rows of C (and of A, and of extra). */
  gemmRows: (k: Kernels, [a, sam, sak, b, ldb, c, ldc, extra, , K, N, mode]: Args, first: number, count: number) =>
    k.gemm(a! + first * sam!, sam!, sak!, b!, ldb!, c! + first * ldc!, ldc!, extra === 0 ? 0 : extra! + first * ldc!, count, K!, N!, mode!),
  /** gemm by columns of C (and of B, and of extra). */
  gemmColumns: (k: Kernels, [a, sam, sak, b, ldb, c, ldc, extra, M, K, , mode]: Args, first: number, count: number) =>
    k.gemm(a!, sam!, sak!, b! + first * 4, ldb!, c! + first * 4, ldc!, extra === 0 ? 0 : extra! + first * 4, M!, K!, count, mode!),
  /** im2col by input channels: each chunk's kh·kw rows per channel; the last chunk's im2col also writes the row of ones. */
  im2col: (k: Kernels, [src, dst, C, B, H, W, kh, kw, stride, pad, OH, OW]: Args, first: number, count: number) =>
    (first + count === C ? k.im2col : k.im2colRows)(src! + first * B! * H! * W! * 4, dst! + first * kh! * kw! * B! * OH! * OW! * 4, count, B!, H!, W!, kh!, kw!, stride!, pad!, OH!, OW!),
  /** transpose by rows of src (columns of dst). */
  transposeRows: (k: Kernels, [src, dst, rows, cols]: Args, first: number, count: number) => k.transposeStrided(src! + first * cols! * 4, dst! + first * 4, count, cols!, cols!, rows!),
  /** transpose by columns of src (rows of dst). */
  transposeColumns: (k: Kernels, [src, dst, rows, cols]: Args, first: number, count: number) => k.transposeStrided(src! + first * 4, dst! + first * rows! * 4, rows!, count, cols!, rows!),
  /** col2im by input channels: channel c's planes take the adds of its kh·kw rows only, in the same order. */
  col2im: (k: Kernels, [src, dst, , B, H, W, kh, kw, stride, pad, OH, OW]: Args, first: number, count: number) =>
    k.col2im(src! + first * kh! * kw! * B! * OH! * OW! * 4, dst! + first * B! * H! * W! * 4, count, B!, H!, W!, kh!, kw!, stride!, pad!, OH!, OW!),
  /** batchNorm by channels: each channel's statistics and outputs are its own. */
  batchNorm: (k: Kernels, [x, y, gamma, beta, mean, invStd, runMean, runVar, , n, eps, momentum, training]: Args, first: number, count: number) => {
    const [at, perChannel] = [first * n! * 4, first * 4];
    k.batchNorm(x! + at, y! + at, gamma! + perChannel, beta! + perChannel, mean! + perChannel, invStd! + perChannel, runMean! + perChannel, runVar! + perChannel,
      count, n!, eps!, momentum!, training!);
  },
  /** batchNormBackward by channels. */
  batchNormBackward: (k: Kernels, [dy, x, gamma, mean, invStd, dx, dGamma, dBeta, , n]: Args, first: number, count: number) => {
    const [at, perChannel] = [first * n! * 4, first * 4];
    k.batchNormBackward(dy! + at, x! + at, gamma! + perChannel, mean! + perChannel, invStd! + perChannel, dx! + at, dGamma! + perChannel, dBeta! + perChannel, count, n!);
  },
  /** maxPool by planes. */
  maxPool: (k: Kernels, [src, dst, argmax, , H, W, size, stride, OH, OW]: Args, first: number, count: number) =>
    k.maxPool(src! + first * H! * W! * 4, dst! + first * OH! * OW! * 4, argmax! + first * OH! * OW! * 4, count, H!, W!, size!, stride!, OH!, OW!),
  /** maxPoolBackward by planes: a plane's gradient takes the adds of its own outputs only. */
  maxPoolBackward: (k: Kernels, [dOut, argmax, dIn, , H, W, OH, OW]: Args, first: number, count: number) =>
    k.maxPoolBackward(dOut! + first * OH! * OW! * 4, argmax! + first * OH! * OW! * 4, dIn! + first * H! * W! * 4, count, H!, W!, OH!, OW!),
  /** activationBackward by elements. */
  activationBackward: (k: Kernels, [y, dy, , kind]: Args, first: number, count: number) => k.activationBackward(y! + first * 4, dy! + first * 4, count, kind!),
} satisfies Record<string, (kernels: Kernels, args: Args, first: number, count: number) => void>;

/** The splits by number, as the control words carry them. */
export const SPLIT_NAMES = Object.keys(SPLITS) as (keyof typeof SPLITS)[];

/** The arguments that are floats (carried as their float32 bits: the kernel rounds a number to float32 anyway). */
export const FLOAT_ARGS: Partial<Record<keyof typeof SPLITS, readonly number[]>> = { batchNorm: [10, 11] };

/**
 * Write a call's arguments and how it is cut into the control words.
 * @example publishArgs(control, "col2im", args, [size, chunks, which]);
 */
export function publishArgs(control: Int32Array, split: keyof typeof SPLITS, args: readonly number[], cut: readonly [number, number, number]): void {
  control.fill(0, ARGS, ARGS + ARG_SLOTS);
  control.set(args, ARGS);
  const floats = new Float32Array(control.buffer, control.byteOffset, control.length);
  for (const at of FLOAT_ARGS[split] ?? []) floats[ARGS + at] = args[at]!;
  control.set([...cut, SPLIT_NAMES.indexOf(split)], ARGS + ARG_SLOTS);
}

/**
 * Claim chunks of call `call` until none is left, computing each with `kernels[which]` (0 wasm, 1 native); how many
 * this thread ran.
 * @example const ran = runChunks(control, [wasm, native], call);
 */
export function runChunks(control: Int32Array, kernels: readonly Kernels[], call: number): number {
  const mask = (1 << CHUNK_BITS) - 1;
  const words = Array.from(control.subarray(ARGS, ARGS + ARG_SLOTS + 4));
  const [size, chunks, which, split] = words.slice(ARG_SLOTS) as [number, number, number, number];
  const name = SPLIT_NAMES[split]!;
  const args = words.slice(0, ARG_SLOTS);
  const floats = new Float32Array(control.buffer, control.byteOffset, control.length);
  for (const at of FLOAT_ARGS[name] ?? []) args[at] = floats[ARGS + at]!;
  const span = args[spanArgument(name)]!;
  const run = SPLITS[name] as (kernels: Kernels, args: Args, first: number, count: number) => void;
  const chosen = kernels[which]!;
  for (let ran = 0; ; ran++) {
    const word = Atomics.load(control, CLAIM);
    // Checked again at the claim: arguments read before a newer call started are never used.
    if (word >>> CHUNK_BITS !== call || (word & mask) >= chunks) return ran;
    if (Atomics.compareExchange(control, CLAIM, word, word + 1) !== word) {
      ran--;
      continue;
    }
    const first = (word & mask) * size;
    try {
      run(chosen, args, first, Math.min(size, span - first));
    } catch (error) {
      Atomics.store(control, FAILED, 1);
      throw error;
    } finally {
      Atomics.add(control, DONE, 1);
      Atomics.notify(control, DONE);
    }
  }
}

/**
 * Which argument of a split call holds the span its chunks cut: gemm's M or N, im2col's, col2im's and batch norm's
 * C, transpose's rows or cols, maxPool's and maxPoolBackward's planes, activationBackward's n.
 * @example spanArgument("gemmColumns"); // 10 (N)
 */
export function spanArgument(split: keyof typeof SPLITS): number {
  return {
    gemmRows: 8, gemmColumns: 10, im2col: 2, transposeRows: 2, transposeColumns: 3, col2im: 2, batchNorm: 8, batchNormBackward: 8, maxPool: 3,
    maxPoolBackward: 3, activationBackward: 2,
  }[split];
}
