/**
 * Finished runs as files, so a notebook can compare today's runs with last week's without retraining: every
 * number of a `Run` as JSON, and a summary table as CSV beside it. A loaded run draws and tabulates like a fresh
 * one; it has no model (save models with `saveModel`).
 *
 * JSON has no NaN or Infinity, and a diverged run has both (its accuracy, its last loss): they are written as the
 * strings "NaN", "Infinity" and "-Infinity" and read back as numbers.
 */
import { JSON_FILE_LIMIT, libraryVersion, readSavedJson, SavedFileError, writeFileAtomic } from "./saved-files";
import { INITS } from "../model/model";
import { resolveSettings, describeValue, scheduleLabel, type TrainOptions, type TrainSettings } from "../train/settings";
import type { AnyRun, Run } from "../train/loop";

const FORMAT = "@mie/lib runs";
/** Where a network's initial numbers came from (`NetworkInit`). */
const NETWORK_INITS = ["own", "seeded", "torch", "custom"];
const VERSION = 1;

/**
 * A run read back by `loadRuns`: every number of the `Run` that was saved, plus where it came from. It has no
 * model: `model` is typed `never` and reading it throws a `SavedFileError` naming the file (so `show.weights(run)`
 * or `misclassified(run, …)` say why they cannot work); the initial weights' seed is kept as `seed`.
 * @example const lastWeek: LoadedRun[] = await loadRuns("results/lr.json"); show.loss([...lastWeek, run]); lastWeek[0]?.savedBy; // "@mie/lib 0.1.0"
 */
export type LoadedRun = Omit<Run, "model"> & {
  readonly model: never;
  /** The file it was loaded from. */
  loadedFrom: string;
  /** Library and version that saved it, e.g. "@mie/lib 0.1.0". */
  savedBy: string;
};

/** What `saveRuns` wrote. */
export interface SavedRuns {
  json: string;
  csv: string;
}

/**
 * Save runs (from `train`, `compare`, `trainAll`, or loaded ones) to `path` (a `.json` file) with a summary table
 * beside it (the same name, `.csv`). Both are written atomically; the folder is created if needed.
 * @example await saveRuns(byLr, "results/lr.json"); // also writes results/lr.csv
 */
export async function saveRuns(runs: AnyRun | LoadedRun | readonly (AnyRun | LoadedRun)[], path: string): Promise<SavedRuns> {
  if (typeof path !== "string" || !path.endsWith(".json")) {
    throw new RangeError(`saveRuns: expected a path ending in .json (the CSV summary goes beside it), got ${describeValue(path)}`);
  }
  const list = (Array.isArray(runs) ? runs : [runs]) as readonly (AnyRun | LoadedRun)[];
  list.forEach((run, i) => {
    if (typeof run !== "object" || run === null || !(run.losses instanceof Float32Array) || typeof run.settings !== "object") {
      throw new TypeError(`saveRuns: runs[${i}]: expected a run from train, compare, trainAll or loadRuns, got ${describeValue(run)}`);
    }
  });
  const saved = list.map(runJson);
  const file = { format: FORMAT, version: VERSION, savedBy: libraryVersion(), savedAt: new Date().toISOString(), runs: saved };
  const csv = path.replace(/\.json$/, ".csv");
  await writeFileAtomic(path, `${JSON.stringify(file, (_, value: unknown) => finite(value))}\n`);
  await writeFileAtomic(csv, summaryCsv(saved));
  return { json: path, csv };
}

/**
 * Runs saved by `saveRuns`, ready for every figure and table (`show.loss`, `show.table`, `lossFigure`,
 * `resultsTable`, `perClassFigure`, `confusionFigure`, `referenceRows`). The file is checked field by field: a
 * problem fails with a `SavedFileError` naming the file and the field. It is read whole, so a file over 256 MB
 * (`JSON_FILE_LIMIT`; a run of 11,250 steps takes about 0.1 MB) is refused with its size before it is read.
 * @example const lastWeek = await loadRuns("results/lr.json"); show.table([...lastWeek, ...byLr]);
 */
export async function loadRuns(path: string): Promise<LoadedRun[]> {
  const json = await readSavedJson(path, "a .json file written by saveRuns", JSON_FILE_LIMIT);
  const read = new Reader(path);
  const file = read.object(json, "");
  if (file.format !== FORMAT) read.fail("format", `"${FORMAT}"`, file.format);
  if (file.version !== VERSION) read.fail("version", `${VERSION} (this library reads version ${VERSION})`, file.version);
  const savedBy = read.string(file.savedBy, "savedBy");
  if (!Array.isArray(file.runs)) read.fail("runs", "a list of runs", file.runs);
  return (file.runs as unknown[]).map((entry, i) => loadedRun(read, entry, `runs[${i}]`, savedBy));
}

/** One run as saved: the `Run` without its model. */
type SavedRun = Omit<Run, "model" | "losses"> & { losses: number[] };

function runJson(run: AnyRun | LoadedRun): SavedRun {
  return {
    label: run.label, layers: [...run.layers], init: run.init, seed: run.seed, settings: { ...run.settings },
    steps: run.steps, samplesSeen: run.samplesSeen, seconds: run.seconds, samplesPerSecond: run.samplesPerSecond,
    accuracy: run.accuracy, perClassAccuracy: [...run.perClassAccuracy], confusion: run.confusion.map((row) => [...row]),
    finalLoss: run.finalLoss, diverged: run.diverged ? { ...run.diverged } : null, backend: run.backend,
    evaluations: run.evaluations.map(({ step, accuracy }) => ({ step, accuracy })), evalSeconds: run.evalSeconds,
    earlyStop: run.earlyStop ? { ...run.earlyStop } : null,
    ...(run.notRepeatable ? { notRepeatable: run.notRepeatable } : {}),
    losses: Array.from(run.losses, shortestFloat32),
  };
}

/** JSON's stand-in for numbers it cannot hold. */
function finite(value: unknown): unknown {
  return typeof value === "number" && !Number.isFinite(value) ? String(value) : value;
}

/** The shortest decimal that reads back as the same float32 (a loss file a third the size of full precision). */
function shortestFloat32(value: number): number {
  if (!Number.isFinite(value)) return value;
  for (let digits = 6; digits < 9; digits++) {
    const short = Number(value.toPrecision(digits));
    if (Math.fround(short) === value) return short;
  }
  return Number(value.toPrecision(9));
}

const CSV_COLUMNS: [string, (run: SavedRun) => unknown][] = [
  ["label", (run) => run.label],
  ["layers", (run) => run.layers.join("-")],
  ["init", (run) => run.init],
  ["seed", (run) => run.seed],
  ["optimizer", (run) => run.settings.optimizer],
  ["lr", (run) => run.settings.lr],
  ["momentum", (run) => run.settings.momentum],
  ["lrDecay", (run) => (run.settings.lrDecay ? scheduleLabel(run.settings.lrDecay) : "")],
  ["batchSize", (run) => run.settings.batchSize],
  ["epochs", (run) => run.settings.epochs],
  ["shuffleSeed", (run) => run.settings.shuffleSeed],
  ["steps", (run) => run.steps],
  ["seconds", (run) => run.seconds],
  ["evalSeconds", (run) => run.evalSeconds],
  ["samplesPerSecond", (run) => run.samplesPerSecond],
  ["accuracy", (run) => run.accuracy],
  ["finalLoss", (run) => run.finalLoss],
  ["divergedAtStep", (run) => run.diverged?.step],
  ["backend", (run) => run.backend],
];

function summaryCsv(runs: SavedRun[]): string {
  const cell = (value: unknown): string => {
    const text = value === null || value === undefined ? "" : String(value);
    return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  const rows = [CSV_COLUMNS.map(([name]) => name), ...runs.map((run) => CSV_COLUMNS.map(([, value]) => value(run)))];
  return rows.map((row) => row.map(cell).join(",")).join("\n") + "\n";
}

/** Reads a parsed runs file, each check naming the file and the field. */
class Reader {
  constructor(readonly path: string) {}

  fail(field: string, expected: string, got: unknown): never {
    throw new SavedFileError(this.path, field, `expected ${expected}, got ${got === undefined ? "nothing" : describeValue(got)}`);
  }

  object(value: unknown, field: string): Record<string, unknown> {
    if (typeof value !== "object" || value === null || Array.isArray(value)) this.fail(field || "(the file)", "a JSON object", value);
    return value as Record<string, unknown>;
  }

  string(value: unknown, field: string): string {
    return typeof value === "string" ? value : this.fail(field, "a string", value);
  }

  /** A number, or the string JSON holds a non-finite one as. */
  number(value: unknown, field: string): number {
    if (typeof value === "number") return value;
    if (value === "NaN" || value === "Infinity" || value === "-Infinity") return Number(value);
    return this.fail(field, 'a number (or "NaN", "Infinity", "-Infinity")', value);
  }

  count(value: unknown, field: string): number {
    return Number.isInteger(value) && (value as number) >= 0 ? (value as number) : this.fail(field, "a whole number ≥ 0", value);
  }

  numbers(value: unknown, field: string, length?: number): number[] {
    if (!Array.isArray(value)) this.fail(field, "a list of numbers", value);
    if (length !== undefined && value.length !== length) this.fail(field, `${length} entries`, `${value.length} entries`);
    return value.map((entry, i) => this.number(entry, `${field}[${i}]`));
  }
}

function loadedRun(read: Reader, entry: unknown, field: string, savedBy: string): LoadedRun {
  const raw = read.object(entry, field);
  // A network's run names its layers ("conv8@5", "pool2", "10"); an MLP's gives their sizes.
  const network = Array.isArray(raw.layers) && raw.layers.length > 0 && raw.layers.every((name) => typeof name === "string" && name !== "");
  const layers: (number | string)[] = network ? (raw.layers as string[]) : read.numbers(raw.layers, `${field}.layers`);
  if (!network && (layers.length < 2 || !layers.every((n) => Number.isInteger(n) && (n as number) > 0))) {
    read.fail(`${field}.layers`, "two or more layer sizes (or a network's layer names)", raw.layers);
  }
  const init = raw.init;
  const inits: readonly unknown[] = network ? NETWORK_INITS : [...INITS, "custom"];
  if (!inits.includes(init)) read.fail(`${field}.init`, `one of ${inits.join(", ")}`, init);
  const seed = read.number(raw.seed, `${field}.seed`);
  if (!Number.isInteger(seed)) read.fail(`${field}.seed`, "an integer", raw.seed);
  const steps = read.count(raw.steps, `${field}.steps`);
  const losses = Float32Array.from(read.numbers(raw.losses, `${field}.losses`, steps));
  const matrix = raw.confusion;
  const confusion = Array.isArray(matrix)
    ? matrix.map((row, i) => read.numbers(row, `${field}.confusion[${i}]`, matrix.length))
    : read.fail(`${field}.confusion`, "a square matrix (a list of lists), empty when not evaluated", raw.confusion);
  const run: Omit<LoadedRun, "model"> = {
    label: read.string(raw.label, `${field}.label`),
    settings: settingsOf(read, raw.settings, `${field}.settings`),
    layers,
    init: init as LoadedRun["init"],
    seed,
    losses,
    steps,
    samplesSeen: read.count(raw.samplesSeen, `${field}.samplesSeen`),
    seconds: read.number(raw.seconds, `${field}.seconds`),
    // Absent from files saved before accuracy curves existed: no curve.
    evaluations: raw.evaluations === undefined ? [] : evaluationsOf(read, raw.evaluations, `${field}.evaluations`),
    evalSeconds: raw.evalSeconds === undefined ? 0 : read.number(raw.evalSeconds, `${field}.evalSeconds`),
    samplesPerSecond: read.number(raw.samplesPerSecond, `${field}.samplesPerSecond`),
    accuracy: read.number(raw.accuracy, `${field}.accuracy`),
    perClassAccuracy: read.numbers(raw.perClassAccuracy, `${field}.perClassAccuracy`, confusion.length),
    confusion,
    finalLoss: read.number(raw.finalLoss, `${field}.finalLoss`),
    diverged: divergenceOf(read, raw.diverged, `${field}.diverged`),
    // Absent from files saved before early stopping existed: none.
    earlyStop: raw.earlyStop === undefined || raw.earlyStop === null ? null : earlyStopOf(read, raw.earlyStop, `${field}.earlyStop`),
    backend: read.string(raw.backend, `${field}.backend`),
    // Only a run that retraining may not repeat bit for bit says so.
    ...(raw.notRepeatable === undefined ? {} : { notRepeatable: read.string(raw.notRepeatable, `${field}.notRepeatable`) }),
    loadedFrom: read.path,
    savedBy,
  };
  return Object.defineProperty(run, "model", {
    enumerable: false,
    get: (): never => {
      throw new SavedFileError(read.path, `${field}.model`,
        `run ${JSON.stringify(run.label)} was loaded from a results file, which keeps its numbers but not its model ` +
          "(save models with saveModel and load them with loadModel)");
    },
  }) as LoadedRun;
}

function settingsOf(read: Reader, value: unknown, field: string): TrainSettings {
  const { label, shuffleSeed, momentum, lrDecay, lrRange, evalEvery, evalOn, earlyStopping, ...rest } = read.object(value, field);
  const options = {
    ...rest, shuffleSeed: shuffleSeed ?? undefined, momentum: momentum ?? undefined, lrDecay: lrDecay ?? undefined, lrRange: lrRange ?? undefined,
    ...(lrRange ? { lr: undefined } : {}),
    evalEvery: evalEvery ?? undefined, evalOn: evalOn ?? undefined, earlyStopping: earlyStopping ?? undefined,
  } as TrainOptions;
  try {
    return { ...resolveSettings(options), label: read.string(label, `${field}.label`) };
  } catch (error) {
    if (error instanceof SavedFileError) throw error;
    throw new SavedFileError(read.path, field, (error as Error).message);
  }
}

function evaluationsOf(read: Reader, value: unknown, field: string): LoadedRun["evaluations"] {
  if (!Array.isArray(value)) read.fail(field, "a list of { step, accuracy }", value);
  return value.map((entry, i) => {
    const raw = read.object(entry, `${field}[${i}]`);
    return { step: read.count(raw.step, `${field}[${i}].step`), accuracy: read.number(raw.accuracy, `${field}[${i}].accuracy`) };
  });
}

function earlyStopOf(read: Reader, value: unknown, field: string): LoadedRun["earlyStop"] {
  const raw = read.object(value, field);
  const stoppedAt = raw.stoppedAt === null ? null : read.count(raw.stoppedAt, `${field}.stoppedAt`);
  if (typeof raw.restored !== "boolean") read.fail(`${field}.restored`, "true or false", raw.restored);
  return {
    stoppedAt, bestStep: read.count(raw.bestStep, `${field}.bestStep`), bestAccuracy: read.number(raw.bestAccuracy, `${field}.bestAccuracy`),
    restored: raw.restored as boolean, totalSteps: read.count(raw.totalSteps, `${field}.totalSteps`),
  };
}

function divergenceOf(read: Reader, value: unknown, field: string): LoadedRun["diverged"] {
  if (value === null) return null;
  const raw = read.object(value, field);
  return { step: read.count(raw.step, `${field}.step`), loss: read.number(raw.loss, `${field}.loss`) };
}
