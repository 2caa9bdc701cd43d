/**
 * A log axis that fits what it draws: its range covers the curves' positive values, but never more than
 * `MAX_DECADES` below their top, so a run whose loss reaches 1e-18 (or exactly 0, which a log axis cannot draw at
 * all) does not squash every other curve into the top of the chart. Values under the floor are left out (a gap),
 * and the figure says how many.
 */

/**
 * Most decades a log loss axis spans.
 * @example logRange([[2.3, 1e-30]]).range; // [log10(2.3) + pad - 8, log10(2.3) + pad]
 */
export const MAX_DECADES = 8;

/** A log axis's range (in log10 units, as Plotly takes it) and the smallest value it shows. */
export interface LogRange {
  range: [number, number];
  floor: number;
}

/**
 * The range of a log axis for these curves (nulls, zeros, negatives and non-finite values ignored): from the lowest
 * value to the highest, padded by a twentieth of a decade each side, and at most `MAX_DECADES` decades in all; null
 * when nothing positive is drawn.
 * @example logRange([[0.1, 2.3], [0, 1e-20]]); // { range: [log10(2.3) + 0.05 - 8, log10(2.3) + 0.05], floor: … }
 */
export function logRange(curves: readonly (readonly (number | null)[])[]): LogRange | null {
  let low = Infinity;
  let high = -Infinity;
  for (const curve of curves) {
    for (const v of curve) {
      if (v === null || !Number.isFinite(v) || v <= 0) continue;
      if (v < low) low = v;
      if (v > high) high = v;
    }
  }
  if (!(high > 0)) return null;
  const pad = 0.05;
  const top = Math.log10(high) + pad;
  const bottom = Math.max(Math.log10(low) - pad, top - MAX_DECADES);
  return { range: [bottom, top], floor: 10 ** bottom };
}

/**
 * A curve with every value under `floor` left out (null), and how many were: what a log axis from `logRange`
 * cannot show.
 * @example clipBelow([1, 1e-20, 0.5], 1e-6); // { y: [1, null, 0.5], clipped: 1 }
 */
export function clipBelow(y: readonly (number | null)[], floor: number): { y: (number | null)[]; clipped: number } {
  let clipped = 0;
  const out = y.map((v) => {
    if (v !== null && v < floor) {
      clipped++;
      return null;
    }
    return v;
  });
  return { y: out, clipped };
}
