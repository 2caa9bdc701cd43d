/**
 * Checks of caller input shared by the figures. Each error names the parameter, what was expected and what was
 * given, since the figures are called from notebook cells with hand-built data.
 */
import { plotlyText } from "./text";

/**
 * Arrays and typed arrays (anything with a numeric `length`), which the figures accept alike.
 * @example isArrayLike(new Float32Array(3)); // true
 */
export function isArrayLike(value: unknown): value is ArrayLike<unknown> {
  return value !== null && typeof value === "object" && typeof (value as { length?: unknown }).length === "number";
}

/**
 * Throw unless `value` is array-like.
 * @example assertArrayLike(x, "downsample: x");
 */
export function assertArrayLike(value: unknown, where: string): asserts value is ArrayLike<number> {
  if (!isArrayLike(value)) throw new TypeError(`${where}: expected an array of numbers, got ${kindOf(value)}`);
}

/**
 * Throw unless `value` is an integer >= 1.
 * @example assertPositiveInt(options.perRow, "samplesFigure: options.perRow");
 */
export function assertPositiveInt(value: number, where: string): void {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${where} must be an integer >= 1, got ${value}`);
}

/**
 * One run or a list of runs as a non-empty list.
 * @example asList(run, "lossFigure: runs"); // [run]
 */
export function asList<T>(value: T | readonly T[], where: string): readonly T[] {
  const list = Array.isArray(value) ? (value as readonly T[]) : [value as T];
  if (list.length === 0) throw new RangeError(`${where}: empty list; pass at least one run`);
  return list;
}

/**
 * What kind of value was given, for an error message: its type and size, never its (possibly huge) contents.
 * @example kindOf(new Float32Array(784)); // "a Float32Array of 784"
 */
export function kindOf(value: unknown): string {
  if (value === undefined || value === null) return String(value);
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name} of ${(value as unknown as ArrayLike<number>).length}`;
  if (typeof value === "object") return `an object with keys ${Object.keys(value).slice(0, 6).join(", ") || "(none)"}`;
  return `${typeof value} ${JSON.stringify(value)}`;
}

/**
 * The display name of each of `n` classes, escaped for Plotly: the caller's names, or "0".."n-1".
 * @example classNames(undefined, 3, "confusionFigure: options.classNames"); // ["0", "1", "2"]
 */
export function classNames(names: readonly string[] | undefined, n: number, where: string): string[] {
  if (names === undefined) return Array.from({ length: n }, (_, i) => String(i));
  if (!Array.isArray(names) || names.length !== n) {
    throw new RangeError(`${where}: expected ${n} names (one per class), got ${kindOf(names)}`);
  }
  return names.map(plotlyText);
}
