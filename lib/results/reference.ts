/**
 * What the original PyTorch notebooks reported, and what a faithful PyTorch re-run measured: Debian's PyTorch
 * 1.13 on CPU, ten seeds per configuration (docs/pytorch-reference.md tells the protocol; the numbers live in
 * `pytorch-seeds.json` beside this file). Every statistic here is computed from the ten measured accuracies, never
 * filled in. The notebooks set their own results beside these, so a reader sees where the original is right,
 * where it is wrong, and where we differ.
 */
import measured from "./pytorch-seeds.json";

/** The PyTorch re-run of one configuration: every seed's test accuracy and statistics computed from them. */
export interface SeedStats {
  seeds: readonly number[];
  /** Test accuracy (%) of each seed, in the order of `seeds`. */
  accuracies: readonly number[];
  mean: number;
  /** Sample standard deviation (n − 1). */
  std: number;
  min: number;
  max: number;
}

/** One configuration's outside numbers. Accuracies are percentages on the 10,000 test images. */
export interface ReferenceEntry {
  /** The configuration in words, e.g. "784-10, SGD lr 0.001, batch 16". */
  setting: string;
  /** What the original notebooks reported, or null where they ran no such configuration. */
  original: number | null;
  pytorch: SeedStats;
  /** Why the original differs, where it does. */
  why?: string;
}

type MeasuredName = keyof typeof measured;

/**
 * Statistics of the measured seeds of one configuration of `pytorch-seeds.json`.
 * @example seedStats([83.64, 84.19]).max; // 84.19
 */
export function seedStats(accuracies: readonly number[], seeds: readonly number[] = accuracies.map((_, i) => i)): SeedStats {
  if (accuracies.length === 0) throw new RangeError("seedStats: expected at least one accuracy");
  const mean = accuracies.reduce((sum, a) => sum + a, 0) / accuracies.length;
  const variance = accuracies.length < 2 ? 0
    : accuracies.reduce((sum, a) => sum + (a - mean) ** 2, 0) / (accuracies.length - 1);
  return { seeds, accuracies, mean, std: Math.sqrt(variance), min: Math.min(...accuracies), max: Math.max(...accuracies) };
}

function entry(name: MeasuredName, setting: string, why?: string): ReferenceEntry {
  const row = measured[name];
  return { setting, original: row.original, pytorch: seedStats(row.accuracy, row.seeds), ...(why ? { why } : {}) };
}

/** A ConvNetwork configuration, named in `pytorch-seeds.json` by its id and described by its own "setting". */
function convEntry(name: MeasuredName & `conv-${string}`): ReferenceEntry {
  return entry(name, measured[name].setting);
}

/**
 * The reference numbers, keyed by a short id the notebooks use.
 * @example REFERENCE["adam"].pytorch.min; // 91.06, the lowest of the ten PyTorch seeds
 */
export const REFERENCE = {
  baseline: entry("784-10, SGD lr 0.001, batch 16 (baseline)", "784-10, SGD lr 0.001, batch 16"),
  "lr 0.005": entry("784-10, SGD lr 0.005", "784-10, SGD lr 0.005",
    "A 5× larger step gets further in the same 3,750 steps; the original's lower number does not reproduce."),
  "lr 0.5": entry("784-10, SGD lr 0.5", "784-10, SGD lr 0.5"),
  "lr 50": entry("784-10, SGD lr 50", "784-10, SGD lr 50"),
  adam: entry("784-10, Adam lr 0.001", "784-10, Adam lr 0.001",
    "The original's Adam curve is a near-copy of its SGD curve: its loop most likely kept stepping the SGD optimizer."),
  adagrad: entry("784-10, Adagrad lr 0.001", "784-10, Adagrad lr 0.001"),
  "batch 1": entry("784-10, SGD 0.001, batch 1 (60,000 steps)", "784-10, SGD lr 0.001, batch 1"),
  "batch 100": entry("784-10, SGD 0.001, batch 100", "784-10, SGD lr 0.001, batch 100"),
  "batch 1000": entry("784-10, SGD 0.001, batch 1000 (60 steps)", "784-10, SGD lr 0.001, batch 1000",
    "Only 60 steps: the result depends mostly on the random initial weights (10.8–31.6% across ten seeds)."),
  "zeros 784-10": entry("784-10, all weights and biases zero, SGD 0.001", "784-10, all weights and biases zero",
    "A single linear layer learns from zeros: each class row gets its own gradient, there is no symmetry to break. " +
      "9.58% with a flat loss is what the 784-500-10 network gives from zeros."),
  "784-500-10 sgd 0.5": entry("784-500-10 ReLU, SGD 0.5, batch 16", "784-500-10 ReLU, SGD lr 0.5, batch 16",
    "Noisy at this learning rate: 93.3–96.1% across ten seeds, two of them under 95%, so one run above 95% is luck as much as design."),
  "zeros 784-500-10 sgd 0.5": entry("784-500-10, zero init, SGD 0.5", "784-500-10, zero init, SGD lr 0.5"),
  "zeros 784-500-10 sgd 0.001": entry("784-500-10, zero init, SGD 0.001", "784-500-10, zero init, SGD lr 0.001"),
  "784-500-500-10 sgd 0.1": entry("784-500-500-10, SGD 0.1, batch 16", "784-500-500-10, SGD lr 0.1, batch 16"),
  "784-500-500-10 adam b64": entry("784-500-500-10, Adam 0.001, batch 64", "784-500-500-10, Adam lr 0.001, batch 64"),
  // ConvNetwork's steps (scripts/pytorch-conv-reference.py defines each id): the original ran none of them.
  "conv-mlp-adam": convEntry("conv-mlp-adam"),
  "conv-mlp-adam-norm": convEntry("conv-mlp-adam-norm"),
  "conv-mlp-adam-norm-wd": convEntry("conv-mlp-adam-norm-wd"),
  "conv-mlp-adam-norm-dropout": convEntry("conv-mlp-adam-norm-dropout"),
  "conv-lenet": convEntry("conv-lenet"),
  "conv-lenet-bn": convEntry("conv-lenet-bn"),
  "conv-lenet-bn-shift": convEntry("conv-lenet-bn-shift"),
  "conv-wide-bn-shift-onecycle": convEntry("conv-wide-bn-shift-onecycle"),
} satisfies Record<string, ReferenceEntry>;

/** An id of `REFERENCE`. */
export type ReferenceKey = keyof typeof REFERENCE;

/** One row of a "where the original differs" table: the three numbers and what they say, all computed. */
export interface ReferenceRow {
  key: ReferenceKey;
  setting: string;
  original: number | null;
  pytorch: SeedStats;
  ours: number;
  /** Our accuracy lies inside the measured range of the PyTorch seeds, widened by `tolerance`. */
  oursAgrees: boolean;
  /** The original's number lies inside that range too (null where the original ran no such configuration). */
  originalAgrees: boolean | null;
  /** The points the range was widened by on each side. */
  tolerance: number;
  why: string;
}

/**
 * Compare our accuracies with the original's and PyTorch's. A number "agrees" when it lies within the measured
 * min–max of the ten PyTorch seeds widened by `tolerance` percentage points on each side (seeds draw different
 * weights in each framework, so only a range can be compared; one point covers a single run of a low-variance
 * configuration landing just outside ten samples).
 * @example referenceRows([["adam", run.accuracy]])[0]!.originalAgrees; // false: the original reported 84.00
 */
export function referenceRows(results: [ReferenceKey, number][], tolerance = 1): ReferenceRow[] {
  if (!(tolerance >= 0)) throw new RangeError(`tolerance: expected percentage points ≥ 0, got ${String(tolerance)}`);
  return results.map(([key, ours]) => {
    const known: ReferenceEntry | undefined = (REFERENCE as Record<string, ReferenceEntry>)[key];
    if (!known) throw new RangeError(`reference key: unknown "${String(key)}" (known: ${Object.keys(REFERENCE).join(", ")})`);
    const inRange = (value: number) =>
      value >= known.pytorch.min - tolerance && value <= known.pytorch.max + tolerance;
    return {
      key,
      setting: known.setting,
      original: known.original,
      pytorch: known.pytorch,
      ours,
      oursAgrees: Number.isFinite(ours) && inRange(ours),
      originalAgrees: known.original === null ? null : inRange(known.original),
      tolerance,
      why: known.why ?? "",
    };
  });
}
