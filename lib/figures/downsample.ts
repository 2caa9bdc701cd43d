/** Thinning a long curve for display without losing its spikes. */
import { assertArrayLike } from "./check";

/**
 * The smallest display budget that still has room for one bucket (its min, max and gap) and the curve's ends.
 * @example downsample(xs, ys, MIN_POINTS).bucket; // xs.length, for a curve longer than 5
 */
export const MIN_POINTS = 5;

/** Points chosen for display, with how many original points each bucket of them stands for. */
export interface Downsampled {
  x: number[];
  y: (number | null)[];
  /** Original points per bucket (1 = nothing dropped). */
  bucket: number;
}

/**
 * Thin a long curve for display: at most `maxPoints` points, keeping the min and the max of each bucket in order
 * (so spikes and the band of a noisy batch-1 curve survive, which plain striding would lose). Non-finite values
 * become `null` (a gap in the line), one per bucket that has any. The first and last points are always kept.
 * @example downsample([1, 2, 3, 4, 5, 6], [5, 1, 4, 2, 6, 3], 4).y; // [5, 1, 6, 3]
 */
export function downsample(x: ArrayLike<number>, y: ArrayLike<number>, maxPoints = 2000): Downsampled {
  assertArrayLike(x, "x");
  assertArrayLike(y, "y");
  if (x.length !== y.length) throw new RangeError(`downsample: x has ${x.length} values but y has ${y.length}`);
  if (!Number.isInteger(maxPoints) || maxPoints < MIN_POINTS) {
    throw new RangeError(
      `downsample: maxPoints must be an integer >= ${MIN_POINTS} (a bucket's min, max and gap, plus the first and last points), got ${maxPoints}`,
    );
  }
  const n = y.length;
  if (n <= maxPoints) {
    return { x: Array.from(x), y: Array.from(y, (v) => (Number.isFinite(v) ? v : null)), bucket: 1 };
  }
  // A bucket gives up to 3 points (min, max, a gap), plus the very first and last points so the line spans the
  // whole run: (maxPoints - 2) / 3 buckets keep the promise.
  const bucket = Math.ceil(n / Math.floor((maxPoints - 2) / 3));
  const out: Downsampled = { x: [], y: [], bucket };
  for (let start = 0; start < n; start += bucket) {
    const end = Math.min(n, start + bucket);
    let lo = -1;
    let hi = -1;
    let gap = -1;
    for (let i = start; i < end; i++) {
      const v = y[i]!;
      if (!Number.isFinite(v)) {
        if (gap < 0) gap = i;
      } else {
        if (lo < 0 || v < y[lo]!) lo = i;
        if (hi < 0 || v > y[hi]!) hi = i;
      }
    }
    const ends = [start === 0 ? 0 : -1, end === n ? n - 1 : -1];
    const keep = [...new Set([lo, hi, gap, ...ends].filter((i) => i >= 0))].sort((a, b) => a - b);
    for (const i of keep) {
      out.x.push(x[i]!);
      out.y.push(Number.isFinite(y[i]) ? y[i]! : null);
    }
  }
  return out;
}
