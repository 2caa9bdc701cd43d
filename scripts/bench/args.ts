/**
 * The bench's command line (`npm run bench -- ...`, documented in scripts/bench/main.ts's header), parsed into the
 * sections to run and their settings, with an error naming a bad argument before anything long starts.
 */
import { parseBackends } from "./backends";
import { SPEED } from "./config";

/** What `npm run bench` was asked to do. */
export interface Args {
  profile: boolean;
  json: boolean;
  repeat: number;
  speed: boolean;
  sweep: boolean;
  checks: boolean;
  pytorch: boolean;
  reports: boolean;
  reportsBaseline: string | null;
  /** PyTorch thread counts to measure; each row's ratio is against the fastest of them. */
  pytorchThreads: number[];
  /** --backends: the backends to compare (with "auto" appended), or null. */
  backends: string[] | null;
  /** --speed-baseline: the commit whose tree trains the speed configurations alternately with this one, or null. */
  speedBaseline: string | null;
  /** --rows: the ids of the speed configurations to measure (all of them when null). */
  rows: string[] | null;
}

const FLAGS = [
  "--profile", "--json", "--repeat", "--speed", "--sweep", "--checks", "--pytorch", "--pytorch-threads", "--reports", "--reports-baseline",
  "--backends", "--speed-baseline", "--rows",
];
const WITH_VALUE = ["--repeat", "--reports-baseline", "--pytorch-threads", "--backends", "--speed-baseline", "--rows"];
/** Flags that name a section: naming any runs those alone; none named runs speed, sweep and checks. */
const SECTIONS = ["--speed", "--sweep", "--checks", "--reports", "--reports-baseline", "--backends", "--speed-baseline"];

/**
 * Parse the bench's arguments (without node and the script).
 * @example parseArgs(["--speed-baseline", "4b72628", "--repeat", "3"]).speedBaseline; // "4b72628"
 */
export function parseArgs(args: readonly string[]): Args {
  const valueOf = (flag: string) => {
    const at = args.indexOf(flag);
    if (at < 0) return null;
    const value = args[at + 1];
    if (value === undefined || value.startsWith("--")) throw new Error(`${flag}: expected a value after it`);
    return value;
  };
  const unknown = args.filter((a, i) => (a.startsWith("--") ? !FLAGS.includes(a) : !WITH_VALUE.includes(args[i - 1]!)));
  if (unknown.length > 0) throw new Error(`bench: unknown argument ${unknown.join(" ")}; expected ${FLAGS.join(", ")}`);
  const repeatValue = valueOf("--repeat");
  const repeat = repeatValue === null ? 1 : Number(repeatValue);
  if (!Number.isInteger(repeat) || repeat < 1) throw new Error(`--repeat: expected a positive integer, got ${repeatValue}`);
  const threadsValue = valueOf("--pytorch-threads");
  const pytorchThreads = threadsValue === null ? [2] : threadsValue.split(",").map(Number);
  if (!pytorchThreads.every((n) => Number.isInteger(n) && n >= 1)) {
    throw new Error(`--pytorch-threads: expected positive integers separated by commas (e.g. 2 or 1,2), got ${threadsValue}`);
  }
  const reportsBaseline = valueOf("--reports-baseline");
  const backendsValue = valueOf("--backends");
  const rowsValue = valueOf("--rows");
  const rows = rowsValue === null ? null : rowsValue.split(",").map((id) => id.trim());
  const ids = SPEED.map((config) => config.id);
  const badRows = rows?.filter((id) => !ids.includes(id)) ?? [];
  if (rows && (rows.length === 0 || badRows.length > 0)) {
    throw new Error(`--rows: expected speed configuration ids separated by commas, from ${ids.join(", ")}; got "${rowsValue}"`);
  }
  const some = SECTIONS.some((flag) => args.includes(flag));
  return {
    profile: args.includes("--profile"), json: args.includes("--json"), repeat,
    speed: !some || args.includes("--speed"), sweep: !some || args.includes("--sweep"), checks: !some || args.includes("--checks"),
    pytorch: args.includes("--pytorch") || threadsValue !== null, pytorchThreads,
    reports: args.includes("--reports") || reportsBaseline !== null, reportsBaseline,
    backends: backendsValue === null ? null : parseBackends(backendsValue),
    speedBaseline: valueOf("--speed-baseline"), rows,
  };
}
