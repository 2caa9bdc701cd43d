/**
 * The speed comparison of `npm run bench -- --speed-baseline REV [--repeat N] [--rows ID,...]`: each speed
 * configuration trained for one epoch in a fresh process of this tree and of commit REV's tree alternately (this
 * tree, REV, this tree, REV, ...: N rounds per configuration, so both see the same minutes of a shared machine).
 * Per row: the median wall and CPU seconds of each tree, the ratio this / REV, and the target of issue 27, "no
 * slower than REV within 5%" (ratio ≤ 1.05). Medians, not the fastest runs: on a shared machine one lucky run of
 * either tree would decide the ratio.
 *
 * Each tree trains with its own code and its own native kernels: REV's tree is prepared as for
 * --reports-baseline (`prepareBaseline`: exported, given node_modules, built by its own build steps), and each
 * child is that tree's own bench child (`tree-child.ts`), which also prints the backend line of its run. The output
 * says which kernels each tree ran, and whether both trained the same numbers (accuracy and final loss).
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { BACKEND_PREFIX, RESULT_PREFIX, type ChildResult } from "./config";

/** This tree / REV must stay at or under this on every row. */
export const SPEED_BASELINE_MAX_RATIO = 1.05;

/** A configuration as the comparison needs it. */
export interface SpeedBaselineConfig {
  id: string;
  title: string;
}

/** One child's measurement: its result line and its tree's backend line. */
export type TreeResult = Pick<ChildResult, "backend" | "trainSeconds" | "cpuSeconds" | "accuracy" | "finalLoss" | "peakRssMb"> & {
  backendLine: string;
};

/** A configuration's runs in each tree, in the order they ran. */
export interface SpeedBaselineRow {
  config: SpeedBaselineConfig;
  current: TreeResult[];
  baseline: TreeResult[];
}

/** A row's medians, ratios and verdict. */
export interface SpeedBaselineSummary {
  seconds: { current: number; baseline: number };
  cpuSeconds: { current: number; baseline: number };
  ratio: number;
  cpuRatio: number;
  /** Every run of both trees reached the same accuracy and final loss (the same arithmetic gives the same bits). */
  sameNumbers: boolean;
  pass: boolean;
}

/**
 * The median of some numbers (the mean of the middle two for an even count).
 * @example median([3, 1, 2]); // 2
 */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error("median: no values");
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * A row's medians, its ratios this / REV, and whether it meets `SPEED_BASELINE_MAX_RATIO`.
 * @example summarise(row).ratio; // 0.97
 */
export function summarise(row: SpeedBaselineRow): SpeedBaselineSummary {
  const of = (results: TreeResult[], key: "trainSeconds" | "cpuSeconds") => median(results.map((result) => result[key]));
  const seconds = { current: of(row.current, "trainSeconds"), baseline: of(row.baseline, "trainSeconds") };
  const cpuSeconds = { current: of(row.current, "cpuSeconds"), baseline: of(row.baseline, "cpuSeconds") };
  const [first, ...rest] = [...row.current, ...row.baseline];
  const sameNumbers = rest.every((result) => Object.is(result.accuracy, first!.accuracy) && Object.is(result.finalLoss, first!.finalLoss));
  const ratio = seconds.current / seconds.baseline;
  return { seconds, cpuSeconds, ratio, cpuRatio: cpuSeconds.current / cpuSeconds.baseline, sameNumbers, pass: ratio <= SPEED_BASELINE_MAX_RATIO };
}

/**
 * Each configuration `repeat` rounds, this tree then the baseline in each round, one fresh process per run.
 * @example measureAgainstBaseline(SPEED, 3, (config, tree) => runTreeChild(tree === "current" ? ROOT : baseline.root, config), console.log);
 */
export function measureAgainstBaseline(
  configs: readonly SpeedBaselineConfig[], repeat: number,
  run: (config: SpeedBaselineConfig, tree: "current" | "baseline") => TreeResult, log: (line: string) => void,
): SpeedBaselineRow[] {
  return configs.map((config) => {
    const row: SpeedBaselineRow = { config, current: [], baseline: [] };
    for (let round = 0; round < repeat; round++) {
      row.current.push(run(config, "current"));
      row.baseline.push(run(config, "baseline"));
    }
    const { seconds, ratio } = summarise(row);
    log(`  done: ${config.title} (this tree ${seconds.current.toFixed(2)} s, baseline ${seconds.baseline.toFixed(2)} s: ${ratio.toFixed(3)})`);
    return row;
  });
}

/**
 * The children's environment: this process's, with the native kernels' switch under both its names, so that
 * `MIE_NATIVE_KERNELS=off` also reaches a tree that knew it as `MIE_NATIVE_PRODUCTS` (4b72628), and the other way.
 * @example childEnvironment({ MIE_NATIVE_KERNELS: "off" }).MIE_NATIVE_PRODUCTS; // "off"
 */
export function childEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const native = env.MIE_NATIVE_KERNELS || env.MIE_NATIVE_PRODUCTS;
  return native ? { ...env, MIE_NATIVE_KERNELS: native, MIE_NATIVE_PRODUCTS: native } : { ...env };
}

/**
 * Train one configuration with the tree at `root`, in a fresh process whose working folder is that tree.
 * @example runTreeChild("/tmp/mie-baseline-4b72628-x", { id: "784-10-b16", title: "784-10, SGD 0.001, batch 16" }).trainSeconds;
 */
export function runTreeChild(root: string, config: SpeedBaselineConfig): TreeResult {
  const out = spawnSync(process.execPath, ["--import", "tsx", join(__dirname, "tree-child.ts"), root, config.id], {
    cwd: root, encoding: "utf8", env: childEnvironment(process.env), maxBuffer: 16 * 1024 * 1024,
  });
  const lines = (out.stdout ?? "").split("\n");
  const result = lines.find((line) => line.startsWith(RESULT_PREFIX));
  const backend = lines.find((line) => line.startsWith(BACKEND_PREFIX));
  if (out.status !== 0 || !result || !backend) {
    throw new Error(`bench --speed-baseline: ${config.title} failed in ${root} (exit ${out.status}):\n${(out.stdout + out.stderr).slice(-2000)}`);
  }
  const child = JSON.parse(result.slice(RESULT_PREFIX.length)) as ChildResult;
  return {
    backend: child.backend, trainSeconds: child.trainSeconds, cpuSeconds: child.cpuSeconds, accuracy: child.accuracy, finalLoss: child.finalLoss,
    peakRssMb: child.peakRssMb, backendLine: backend.slice(BACKEND_PREFIX.length),
  };
}

/** Each backend line a tree's runs printed, with the rows that printed it when they differ. */
function backendLines(rows: readonly SpeedBaselineRow[], tree: "current" | "baseline"): string[] {
  const lines = new Map<string, string[]>();
  for (const row of rows) {
    for (const result of row[tree]) {
      const ids = lines.get(result.backendLine) ?? [];
      if (!ids.includes(row.config.id)) ids.push(row.config.id);
      lines.set(result.backendLine, ids);
    }
  }
  return lines.size === 1 ? [...lines.keys()] : [...lines].map(([line, ids]) => `${line}, on ${ids.join(", ")}`);
}

/** Where a row's runs trained ("wasm"; "wasm / tfjs-node" when the trees differ). */
function trainedOn(row: SpeedBaselineRow): string {
  const names = (results: TreeResult[]) => [...new Set(results.map((result) => result.backend))].join("+");
  const [current, baseline] = [names(row.current), names(row.baseline)];
  return current === baseline ? current : `${current} / ${baseline}`;
}

/**
 * The comparison as text: which kernels each tree ran, then per row the medians, the ratios and the verdict.
 * @example console.log(formatSpeedBaseline(rows, "4b72628", table));
 */
export function formatSpeedBaseline(
  rows: readonly SpeedBaselineRow[], rev: string, table: (header: string[], rows: string[][], textColumns: number) => string,
): string {
  const repeat = rows[0]?.current.length ?? 0;
  const header = ["configuration", "on", "this tree s", "CPU s", `${rev} s`, "CPU s", "ratio", "CPU ratio", "same numbers", ""];
  const lines = rows.map((row) => {
    const summary = summarise(row);
    return [
      row.config.title, trainedOn(row), summary.seconds.current.toFixed(2), summary.cpuSeconds.current.toFixed(2), summary.seconds.baseline.toFixed(2),
      summary.cpuSeconds.baseline.toFixed(2), summary.ratio.toFixed(3), summary.cpuRatio.toFixed(3), summary.sameNumbers ? "yes" : "NO",
      summary.pass ? "pass" : "FAIL",
    ];
  });
  const slowest = rows.map((row) => ({ row, ratio: summarise(row).ratio })).reduce((a, b) => (b.ratio > a.ratio ? b : a));
  return [
    `\nSpeed against ${rev}: one epoch per configuration, this tree and ${rev} alternately in fresh processes, ${repeat} round${repeat === 1 ? "" : "s"} each; ` +
      `median seconds (CPU: the training loop's CPU time); target: this tree / ${rev} ≤ ${SPEED_BASELINE_MAX_RATIO} on every row`,
    ...backendLines(rows, "current").map((line) => `  this tree ran: ${line}`),
    ...backendLines(rows, "baseline").map((line) => `  ${rev} ran: ${line}`),
    table(header, lines, 2),
    `Slowest row against ${rev}: ${slowest.row.config.title} at ${slowest.ratio.toFixed(3)}.`,
  ].join("\n");
}

/**
 * The comparison as plain data for --json: every run, and each row's medians, ratios and verdict.
 * @example JSON.stringify(speedBaselineJson(rows, "4b72628"));
 */
export function speedBaselineJson(rows: readonly SpeedBaselineRow[], rev: string): object {
  return {
    rev, maxRatio: SPEED_BASELINE_MAX_RATIO,
    backendLines: { current: backendLines(rows, "current"), baseline: backendLines(rows, "baseline") },
    rows: rows.map((row) => ({ id: row.config.id, title: row.config.title, ...summarise(row), runs: { current: row.current, baseline: row.baseline } })),
  };
}
