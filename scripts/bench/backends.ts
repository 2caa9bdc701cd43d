/**
 * The backend comparison of `npm run bench -- --backends wasm,tfjs-node`: every speed configuration trained on
 * each named backend and under "auto" (what the library picks), interleaved in one command so that the ratios
 * compare runs seconds apart on the same machine. Targets (issue 13): auto at most 1.05 × the first backend's
 * time on every configuration, and tfjs-node's peak RSS under 700 MB.
 */
import { BACKENDS, type BackendName } from "../../lib/engine/backend";

/** A configuration as the comparison needs it. */
export interface BackendConfig {
  id: string;
  title: string;
}

/** One child process's measurement (the fields of the bench's child result used here). */
export interface BackendResult {
  /** The backend the run trained on (under "auto": the one `backendForRun` picked). */
  backend: string;
  trainSeconds: number;
  accuracy: number;
  peakRssMb: number;
}

/** A configuration's results per requested backend. */
export interface BackendRow {
  config: BackendConfig;
  results: Map<string, BackendResult>;
}

/** auto / the first backend must stay at or under this. */
export const AUTO_MAX_RATIO = 1.05;
/** tfjs-node's peak RSS target. */
export const NATIVE_RSS_TARGET_MB = 700;

/**
 * The requested backends from `--backends`, validated, with "auto" appended when more than one is named (the
 * auto column is what users get).
 * @example parseBackends("wasm,tfjs-node"); // ["wasm", "tfjs-node", "auto"]
 */
export function parseBackends(value: string): string[] {
  const names = value.split(",").map((name) => name.trim());
  const allowed = [...BACKENDS, "auto"];
  const bad = names.filter((name) => !allowed.includes(name as BackendName));
  if (names.length === 0 || bad.length > 0) {
    throw new Error(`--backends: expected names from ${allowed.join(", ")} separated by commas (e.g. wasm,tfjs-node), got "${value}"`);
  }
  return names.length > 1 && !names.includes("auto") ? [...names, "auto"] : names;
}

/**
 * Each configuration on each backend, `repeat` rounds with the backends interleaved; the fastest of each is kept
 * (least disturbed by other processes), with the highest peak RSS.
 */
export function measureBackends(
  configs: readonly BackendConfig[], backends: readonly string[], repeat: number,
  run: (config: BackendConfig, backend: string) => BackendResult, log: (line: string) => void,
): BackendRow[] {
  return configs.map((config) => {
    const results = new Map<string, BackendResult>();
    for (let r = 0; r < repeat; r++) {
      for (const backend of backends) {
        const result = run(config, backend);
        const best = results.get(backend);
        const peakRssMb = Math.max(result.peakRssMb, best?.peakRssMb ?? 0);
        results.set(backend, { ...(best && best.trainSeconds <= result.trainSeconds ? best : result), peakRssMb });
      }
    }
    log(`  done: ${config.title} (${backends.map((b) => `${b} ${results.get(b)!.trainSeconds.toFixed(2)} s`).join(", ")})`);
    return { config, results };
  });
}

/** Whether a row meets the targets: auto within AUTO_MAX_RATIO of the first backend, tfjs-node under the RSS target. */
export function rowPasses(row: BackendRow, backends: readonly string[]): boolean {
  const first = row.results.get(backends[0]!)!;
  const auto = row.results.get("auto");
  const native = row.results.get("tfjs-node");
  return (!auto || auto.trainSeconds <= AUTO_MAX_RATIO * first.trainSeconds) && (!native || native.peakRssMb < NATIVE_RSS_TARGET_MB);
}

/** The rows as plain objects for --json. */
export function backendsJson(rows: readonly BackendRow[], backends: readonly string[]): object {
  return {
    backends, autoMaxRatio: AUTO_MAX_RATIO, nativeRssTargetMb: NATIVE_RSS_TARGET_MB,
    rows: rows.map((row) => ({
      id: row.config.id, title: row.config.title, pass: rowPasses(row, backends),
      results: Object.fromEntries(backends.map((b) => {
        const result = row.results.get(b)!;
        return [b, { ...result, ratio: result.trainSeconds / row.results.get(backends[0]!)!.trainSeconds }];
      })),
    })),
  };
}

/** The comparison as text: seconds, ratio to the first backend and peak RSS per backend, and a summary line. */
export function formatBackends(rows: readonly BackendRow[], backends: readonly string[], table: (header: string[], rows: string[][], textColumns: number) => string): string {
  const [first] = backends;
  const header = ["configuration", ...backends.flatMap((b) => [`${b} s`, ...(b === first ? [] : [`/ ${first}`]), `${b} RSS MB`]), ""];
  const lines = rows.map((row) => [
    row.config.title,
    ...backends.flatMap((b) => {
      const result = row.results.get(b)!;
      const seconds = `${result.trainSeconds.toFixed(2)}${b === "auto" ? ` (${result.backend})` : ""}`;
      const ratio = (result.trainSeconds / row.results.get(first!)!.trainSeconds).toFixed(2);
      return [seconds, ...(b === first ? [] : [ratio]), result.peakRssMb.toFixed(0)];
    }),
    rowPasses(row, backends) ? "pass" : "FAIL",
  ]);
  const fastest = Math.min(...rows.map((row) => (row.results.get("auto") ?? row.results.get(backends[1] ?? first!)!).trainSeconds / row.results.get(first!)!.trainSeconds));
  return [
    `\nBackends, one epoch each, interleaved in this command (targets: auto ≤ ${AUTO_MAX_RATIO} × ${first} on every row; tfjs-node peak RSS < ${NATIVE_RSS_TARGET_MB} MB)`,
    table(header, lines, 1),
    `Best ratio to ${first}: ${fastest.toFixed(2)}${fastest < 1 ? ` (faster than ${first} on at least one configuration)` : ` (no configuration faster than ${first})`}.`,
  ].join("\n");
}
