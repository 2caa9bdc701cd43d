/**
 * Fitting a long curve into a display budget: the mean of each window of steps, so a run of 60,000 noisy batch-1
 * steps reads as a line (its trend over a window of images), never as a comb of per-bucket minima and maxima.
 */
import { assertArrayLike } from "./check";

/**
 * The smallest display budget a figure accepts: a curve of at most this many windows still shows its trend.
 * @example windowMeans(xs, ys, MIN_POINTS).window; // ceil(xs.length / 5)
 */
export const MIN_POINTS = 5;

/** Points chosen for display, with how many original points each stands for. */
export interface Windowed {
  x: number[];
  y: (number | null)[];
  /** Original points averaged into each displayed point (1 = every point drawn as it is). */
  window: number;
}

/**
 * At most `maxPoints` points: each the mean of a window of consecutive values, drawn at the window's last x (a
 * trailing average, like the loss charts' moving average). A window holding a NaN or an infinity becomes `null` (a
 * gap), so a diverged tail stays visible as one. Short curves pass through, non-finite values as `null`.
 * @example windowMeans([1, 2, 3, 4, 5, 6], [5, 1, 4, 2, 6, 3], 3).y; // [3, 3, 4.5]
 */
export function windowMeans(x: ArrayLike<number>, y: ArrayLike<number>, maxPoints = 2000): Windowed {
  assertArrayLike(x, "windowMeans: x");
  assertArrayLike(y, "windowMeans: y");
  if (x.length !== y.length) throw new RangeError(`windowMeans: x has ${x.length} values but y has ${y.length}`);
  if (!Number.isInteger(maxPoints) || maxPoints < MIN_POINTS) {
    throw new RangeError(`windowMeans: maxPoints must be an integer >= ${MIN_POINTS} (points per curve), got ${maxPoints}`);
  }
  const n = y.length;
  if (n <= maxPoints) return { x: Array.from(x), y: Array.from(y, (v) => (Number.isFinite(v) ? v : null)), window: 1 };
  const window = Math.ceil(n / maxPoints);
  const out: Windowed = { x: [], y: [], window };
  for (let start = 0; start < n; start += window) {
    const end = Math.min(n, start + window);
    let sum = 0;
    let finite = true;
    for (let i = start; i < end; i++) {
      const v = y[i]!;
      if (!Number.isFinite(v)) {
        finite = false;
        break;
      }
      sum += v;
    }
    out.x.push(x[end - 1]!);
    out.y.push(finite ? sum / (end - start) : null);
  }
  return out;
}
