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

/** One kind of split call: the kernel it cuts, which argument holds the span it cuts, its float arguments, a part. */
interface Split {
  /** The kernel a call that is not split runs whole (the set's own, e.g. a small transpose kept in WebAssembly). */
  kernel: keyof Kernels;
  /** The argument holding the span the chunks cut: gemm's M or N, a transpose's rows or cols, C, planes or n. */
  span: number;
  /** The arguments that are floats (carried as their float32 bits: the kernel rounds a number to float32 anyway). */
  floats?: readonly number[];
  /** The call on `count` units from unit `first`. */
  run(k: Kernels, args: Args, first: number, count: number): void;
}

/**
 * How each splittable call is cut: `count` units starting at unit `first` (of rows, columns, channels, planes or
 * elements), as the arguments of one call of the same kernel on that part. Each part's outputs are disjoint from
 * the others', and each is computed as the whole call computes it.
 */
export const SPLITS = {
  /** gemm by rows of C (and of A, and of extra). */
  gemmRows: {
    kernel: "gemm", span: 8,
    run: (k, [a, sam, sak, b, ldb, c, ldc, extra, , K, N, mode], first, count) =>
      k.gemm(a! + first * sam!, sam!, sak!, b!, ldb!, c! + first * ldc!, ldc!, extra === 0 ? 0 : extra! + first * ldc!, count, K!, N!, mode!),
  },
  /** gemm by columns of C (and of B, and of extra). */
  gemmColumns: {
    kernel: "gemm", span: 10,
    run: (k, [a, sam, sak, b, ldb, c, ldc, extra, M, K, , mode], first, count) =>
      k.gemm(a!, sam!, sak!, b! + first * 4, ldb!, c! + first * 4, ldc!, extra === 0 ? 0 : extra! + first * 4, M!, K!, count, mode!),
  },
  /** im2col by input channels: each chunk's kh·kw rows per channel; the last chunk's im2col also writes the row of ones. */
  im2col: {
    kernel: "im2col", span: 2,
    run: (k, [src, dst, C, B, H, W, kh, kw, stride, pad, OH, OW], first, count) =>
      (first + count === C ? k.im2col : k.im2colRows)(src! + first * B! * H! * W! * 4, dst! + first * kh! * kw! * B! * OH! * OW! * 4, count, B!, H!, W!, kh!, kw!, stride!, pad!, OH!, OW!),
  },
  /** transpose by rows of src (columns of dst). */
  transposeRows: {
    kernel: "transpose", span: 2,
    run: (k, [src, dst, rows, cols], first, count) => k.transposeStrided(src! + first * cols! * 4, dst! + first * 4, count, cols!, cols!, rows!),
  },
  /** transpose by columns of src (rows of dst). */
  transposeColumns: {
    kernel: "transpose", span: 3,
    run: (k, [src, dst, rows, cols], first, count) => k.transposeStrided(src! + first * 4, dst! + first * rows! * 4, rows!, count, cols!, rows!),
  },
  /** col2im by input channels: channel c's planes take the adds of its kh·kw rows only, in the same order. */
  col2im: {
    kernel: "col2im", span: 2,
    run: (k, [src, dst, , B, H, W, kh, kw, stride, pad, OH, OW], first, count) =>
      k.col2im(src! + first * kh! * kw! * B! * OH! * OW! * 4, dst! + first * B! * H! * W! * 4, count, B!, H!, W!, kh!, kw!, stride!, pad!, OH!, OW!),
  },
  /** batchNorm by channels: each channel's statistics and outputs are its own. */
  batchNorm: {
    kernel: "batchNorm", span: 8, floats: [10, 11],
    run: (k, [x, y, gamma, beta, mean, invStd, runMean, runVar, , n, eps, momentum, training], first, count) => {
      const [at, perChannel] = [first * n! * 4, first * 4];
      k.batchNorm(x! + at, y! + at, gamma! + perChannel, beta! + perChannel, mean! + perChannel, invStd! + perChannel, runMean! + perChannel, runVar! + perChannel,
        count, n!, eps!, momentum!, training!);
    },
  },
  /** batchNormBackward by channels. */
  batchNormBackward: {
    kernel: "batchNormBackward", span: 8,
    run: (k, [dy, x, gamma, mean, invStd, dx, dGamma, dBeta, , n], first, count) => {
      const [at, perChannel] = [first * n! * 4, first * 4];
      k.batchNormBackward(dy! + at, x! + at, gamma! + perChannel, mean! + perChannel, invStd! + perChannel, dx! + at, dGamma! + perChannel, dBeta! + perChannel, count, n!);
    },
  },
  /** maxPool by planes. */
  maxPool: {
    kernel: "maxPool", span: 3,
    run: (k, [src, dst, argmax, , H, W, size, stride, OH, OW], first, count) =>
      k.maxPool(src! + first * H! * W! * 4, dst! + first * OH! * OW! * 4, argmax! + first * OH! * OW! * 4, count, H!, W!, size!, stride!, OH!, OW!),
  },
  /** maxPoolBackward by planes: a plane's gradient takes the adds of its own outputs only. */
  maxPoolBackward: {
    kernel: "maxPoolBackward", span: 3,
    run: (k, [dOut, argmax, dIn, , H, W, OH, OW], first, count) =>
      k.maxPoolBackward(dOut! + first * OH! * OW! * 4, argmax! + first * OH! * OW! * 4, dIn! + first * H! * W! * 4, count, H!, W!, OH!, OW!),
  },
  /** activationBackward by elements. */
  activationBackward: {
    kernel: "activationBackward", span: 2,
    run: (k, [y, dy, , kind], first, count) => k.activationBackward(y! + first * 4, dy! + first * 4, count, kind!),
  },
} satisfies Record<string, Split>;

/** A split's name. */
export type SplitName = keyof typeof SPLITS;

/** The splits by number, as the control words carry them. */
export const SPLIT_NAMES = Object.keys(SPLITS) as SplitName[];

/**
 * Write a call's arguments and how it is cut into the control words.
 * @example publishArgs(control, "col2im", args, [size, chunks, which]);
 */
export function publishArgs(control: Int32Array, split: SplitName, args: readonly number[], cut: readonly [number, number, number]): void {
  control.fill(0, ARGS, ARGS + ARG_SLOTS);
  control.set(args, ARGS);
  const floats = (SPLITS[split] as Split).floats;
  if (floats) {
    const view = new Float32Array(control.buffer, control.byteOffset, control.length);
    for (const at of floats) view[ARGS + at] = args[at]!;
  }
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
  const cut: Split = SPLITS[SPLIT_NAMES[split]!];
  const args = words.slice(0, ARG_SLOTS);
  if (cut.floats) {
    const view = new Float32Array(control.buffer, control.byteOffset, control.length);
    for (const at of cut.floats) args[at] = view[ARGS + at]!;
  }
  const span = args[cut.span]!;
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
      cut.run(chosen, args, first, Math.min(size, span - first));
    } catch (error) {
      Atomics.store(control, FAILED, 1);
      throw error;
    } finally {
      Atomics.add(control, DONE, 1);
      Atomics.notify(control, DONE);
    }
  }
}

