/**
 * The part of a split product that every thread of a team runs (`team.ts` on the calling thread,
 * `team-helper.ts` on each helper): claim the next chunk of output rows (or columns) from the shared counter,
 * compute it, count it done. Which thread computes which rows changes nothing in any sum: every output is still summed by one thread,
 * over k in order, with the same kernel.
 */
import type { Kernels } from "./kernels";

/** Control words, in an Int32Array over a SharedArrayBuffer: (product number << CHUNK_BITS) | next unclaimed chunk. */
export const CLAIM = 0;
/** Chunks finished in the current product. */
export const DONE = 1;
/** Set by a helper whose kernel threw (then the caller throws). */
export const FAILED = 2;
/**
 * The 12 arguments of `gemm`, then rows (or columns) per chunk, the number of chunks, the kernel (0 wasm, 1 native),
 * and 1 where the chunks are of columns.
 */
export const ARGS = 3;
/** Chunks the helpers have run, in all (to see that they take part). */
export const HELPED = ARGS + 16;
/** Helpers started and waiting for products: until all are, products run on the calling thread. */
export const READY = HELPED + 1;
/** The number of control words. */
export const WORDS = READY + 1;
/** Bits of CLAIM that count chunks; the product number is above them. */
export const CHUNK_BITS = 10;

/**
 * Claim chunks of product `product` until none is left, computing each with `gemms[kernel]` (0 wasm, 1 native);
 * how many this thread ran.
 * @example const ran = runChunks(control, [wasm.gemm, native.gemm], product);
 */
export function runChunks(control: Int32Array, gemms: readonly Kernels["gemm"][], product: number): number {
  const mask = (1 << CHUNK_BITS) - 1;
  const [a, sam, sak, b, ldb, c, ldc, extra, M, K, N, mode, size, chunks, kernel, byColumns] = Array.from(control.subarray(ARGS, ARGS + 16)) as number[];
  const gemm = gemms[kernel!]!;
  for (let ran = 0; ; ran++) {
    const word = Atomics.load(control, CLAIM);
    // Checked again at the claim: arguments read before a newer product started are never used.
    if (word >>> CHUNK_BITS !== product || (word & mask) >= chunks!) return ran;
    if (Atomics.compareExchange(control, CLAIM, word, word + 1) !== word) {
      ran--;
      continue;
    }
    const first = (word & mask) * size!;
    try {
      if (byColumns) gemm(a!, sam!, sak!, b! + first * 4, ldb!, c! + first * 4, ldc!, extra === 0 ? 0 : extra! + first * 4, M!, K!, Math.min(size!, N! - first), mode!);
      else gemm(a! + first * sam!, sam!, sak!, b!, ldb!, c! + first * ldc!, ldc!, extra === 0 ? 0 : extra! + first * ldc!, Math.min(size!, M! - first), K!, N!, mode!);
    } catch (error) {
      Atomics.store(control, FAILED, 1);
      throw error;
    } finally {
      Atomics.add(control, DONE, 1);
      Atomics.notify(control, DONE);
    }
  }
}
