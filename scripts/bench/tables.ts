/**
 * The bench's plain-text tables: speed, sweep, science checks, reports and (with --profile) where the time goes.
 */
import type { TorchResult } from "./pytorch";
import type { ReportsTiming } from "./reports";
import {
  pytorchRatioTarget,
  reportsTargetRatio, RSS_TARGET_MB, SWEEP, SWEEP_RSS_TARGET_MB, SWEEP_TARGET_RATIO, type ChildResult, type Config, type SweepResult,
} from "./config";

/**
 * A plain-text table; the first `textColumns` columns are left-aligned, numbers right-aligned.
 * @example console.log(table(["name", "s"], [["a", "1.0"]], 1));
 */
export function table(header: string[], rows: string[][], textColumns: number): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i < textColumns || i === cells.length - 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ").trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

/** A speed row: our result, PyTorch's when measured, and the verdict. */
export type SpeedRow = { config: Config; result: ChildResult; pytorch: TorchResult | null; ratio: number | null; pass: boolean };
/** A science-check row and its verdict. */
export type CheckRow = { config: Config; result: ChildResult; pass: boolean };

/**
 * Print every measured section's table, with each row's verdict; sections not measured are left out.
 * @example printTables(speedRows, null, null, true, [], null, null, true, null);
 */
export function printTables(
  speedRows: SpeedRow[], sweep: SweepResult | null, sweepRatio: number | null, sweepPass: boolean, checkRows: CheckRow[],
  reports: { baseline: ReportsTiming | null; current: ReportsTiming; sameWork: ReportsTiming | null } | null, reportsRatio: number | null, reportsPass: boolean,
  torch: { python: string; version: string; threads: number[] } | null, peak: { measured: number; line: string } | null = null,
): void {
  if (speedRows.length > 0) {
    if (peak) console.log(`\n${peak.line}; G/s below: the epoch's training products / train seconds (wall)`);
    const versus = torch ? `; ratio = ours / PyTorch ${torch.version} CPU, ${torch.threads.length > 1 ? `the faster of ${torch.threads.join(" and ")} threads` : `${torch.threads[0]} thread(s)`}, same command` : "; --pytorch adds the PyTorch ratio";
    console.log(`\nSpeed (targets: ratio as listed, train seconds ≤ a coarse guard, peak RSS < ${RSS_TARGET_MB} MB${versus}; ` +
      "CPU s: the training loop's CPU time, best of the repeats, steadier than wall time on a loaded machine; PyTorch's counts all its threads)");
    console.log(table(
      ["configuration", "backend", "train s", "PyTorch s", "threads", "ratio", "CPU s", "PyTorch CPU s", "CPU ratio", "target", "guard s", "samples/s", "G mul-add/s", "of peak",
        "test acc %", "PyTorch acc %", "peak RSS MB", "load s", ""],
      speedRows.map(({ config, result: r, pytorch, ratio, pass }) => [
        config.title, r.backend, r.trainSeconds.toFixed(2), pytorch ? pytorch.trainSeconds.toFixed(2) : "–", pytorch ? String(pytorch.threads) : "–", ratio === null ? "–" : ratio.toFixed(2),
        r.cpuSeconds.toFixed(2), pytorch ? pytorch.cpuSeconds.toFixed(2) : "–", pytorch ? (r.cpuSeconds / pytorch.cpuSeconds).toFixed(2) : "–",
        `≤ ${pytorchRatioTarget().toFixed(1)}`, `≤ ${config.targetSeconds}`, Math.round(r.samplesPerSecond).toLocaleString("en-US"),
        (r.multiplyAdds / r.trainSeconds / 1e9).toFixed(1), peak ? `${((100 * r.multiplyAdds) / r.trainSeconds / peak.measured).toFixed(0)}%` : "–",
        r.accuracy.toFixed(2), pytorch ? pytorch.accuracy.toFixed(2) : "–", r.peakRssMb.toFixed(0), r.loadSeconds.toFixed(2), pass ? "pass" : "FAIL",
      ]),
      2,
    ));
  }
  if (sweep) {
    console.log(`\nSweep (targets: pool with new workers / one at a time ≤ ${SWEEP_TARGET_RATIO}, results identical, peak RSS < ${SWEEP_RSS_TARGET_MB} MB;` +
      " workers kept from that sweep: shown)");
    console.log(table(
      ["configuration", "one at a time s", `${sweep.workers} new workers s`, "ratio", "kept workers s", "ratio", "identical", "test acc %", "peak RSS MB", ""],
      [[SWEEP.title, sweep.serialSeconds.toFixed(1), sweep.poolSeconds.toFixed(1), sweepRatio!.toFixed(2), sweep.warmPoolSeconds.toFixed(1),
        (sweep.warmPoolSeconds / sweep.serialSeconds).toFixed(2), sweep.identical ? "yes" : "NO",
        sweep.accuracies.map((a) => a.toFixed(2)).join(" "), sweep.peakRssMb.toFixed(0), sweepPass ? "pass" : "FAIL"]],
      1,
    ));
  }
  if (checkRows.length > 0) {
    console.log("\nScience checks (full data, one epoch, seed 0)");
    console.log(table(
      ["configuration", "expected", "test acc %", "classes predicted", "final loss", "train s", ""],
      checkRows.map(({ config, result: r, pass }) => [
        config.title, config.check!.expect, r.accuracy.toFixed(2), String(r.predictedClasses), r.finalLoss.toFixed(3), r.trainSeconds.toFixed(2), pass ? "pass" : "FAIL",
      ]),
      2,
    ));
  }
  if (reports) {
    const rev = reports.baseline?.source ?? "baseline";
    const target = reports.baseline
      ? `this tree on ${rev}'s notebooks / ${rev} ≤ ${reportsTargetRatio()}, wall time, same command; this tree's own notebooks do more work`
      : "--reports-baseline REV adds the ratio";
    console.log(`\nReports: npm run reports, seconds, empty run stores (target: ${target}; a notebook's own seconds overlap when notebooks run side by side)`);
    const cell = (timing: ReportsTiming | null, name: string) => timing?.notebooks.find((n) => n.name === name)?.seconds.toFixed(1) ?? "–";
    const own = reports.baseline ? (reports.current.totalSeconds / reports.baseline.totalSeconds).toFixed(2) : "–";
    console.log(table(
      ["notebook", rev, `this tree, ${rev}'s notebooks`, "this tree, its own", "ratio (same notebooks)", "ratio (own)"],
      [...reports.current.notebooks.map(({ name }) => [name, cell(reports.baseline, name), cell(reports.sameWork, name), cell(reports.current, name), "", ""]),
        ["total (wall time)", reports.baseline?.totalSeconds.toFixed(1) ?? "–", reports.sameWork?.totalSeconds.toFixed(1) ?? "–", reports.current.totalSeconds.toFixed(1),
          reportsRatio === null ? "–" : `${reportsRatio.toFixed(2)} ${reportsPass ? "pass" : "FAIL"}`, own]],
      1,
    ));
  }
  for (const { config, result } of speedRows) {
    if (!result.kernels) continue;
    const total = result.kernels.reduce((sum, k) => sum + k.seconds, 0);
    console.log(`\nWhere the time goes: ${config.title} (train ${result.trainSeconds.toFixed(2)} s; kernels ${total.toFixed(2)} s incl. evaluation, the rest is JavaScript)`);
    console.log(table(
      ["kernel", "seconds", "calls", "µs/call"],
      result.kernels.slice(0, 10).map((k) => [k.name, k.seconds.toFixed(2), String(k.calls), ((1e6 * k.seconds) / k.calls).toFixed(1)]),
      1,
    ));
  }
}
