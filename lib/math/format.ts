/**
 * One way to write each kind of number in text: counts (steps, images, parameters) and losses. Error messages,
 * summaries, status lines and tables all use these, so a number reads the same everywhere.
 */

/**
 * A whole number with thousands separators (rounded; non-finite values as they are).
 * @example formatCount(3750); // "3,750"
 */
export function formatCount(value: number): string {
  return Number.isFinite(value) ? Math.round(value).toLocaleString("en-US") : String(value);
}

/**
 * A loss with three decimals; small losses (a batch-1 run near zero) keep two significant digits instead of
 * "0.000". Non-finite losses as they are ("NaN", "Infinity"): they say how a run diverged.
 * @example formatLoss(0.41234); // "0.412"; formatLoss(0.0042) // "0.0042"
 */
export function formatLoss(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  return Math.abs(value) >= 0.01 || value === 0 ? value.toFixed(3) : value.toPrecision(2);
}
