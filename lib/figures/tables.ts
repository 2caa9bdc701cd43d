/**
 * HTML tables: our results per run, runs' accuracy curves, and our accuracies beside the original's and the PyTorch
 * re-run's.
 */
import type { CurveSummary, SeedSpread } from "../results/analysis";
import type { ReferenceRow } from "../results/reference";
import { finalAverage } from "../math/metrics";
import { asList, kindOf } from "./check";
import { WRONG } from "./colours";
import { assertSeries, divergedStep, type RunNumbers } from "./runs";
import { divergenceText, storedText } from "./progress";
import { formatCount, formatLoss } from "../math/format";
import { escapeHtml, fmtFixed } from "./text";

type Align = "left" | "right";

/** Options for `resultsTable`. */
export interface ResultsTableOptions {
  title?: string;
  /** Window of the "final loss" moving average (default 10, as the loss charts). */
  smooth?: number;
}

/**
 * One row per run: setting, test accuracy (%), final smoothed loss, steps, seconds and a divergence note, as an
 * HTML table (text escaped). The best accuracy is bold.
 * @example show.html(resultsTable(byLr, { title: "Learning rate" }));
 */
export function resultsTable(runs: RunNumbers | readonly RunNumbers[], options: ResultsTableOptions = {}): string {
  const list = asList(runs, "resultsTable: runs");
  const smooth = options.smooth ?? 10;
  list.forEach((run, index) => {
    const where = `resultsTable: runs[${index}] (${JSON.stringify(run?.label)})`;
    assertSeries(run, where);
    for (const key of ["accuracy", "steps", "seconds"] as const) {
      if (typeof run[key] !== "number") throw new TypeError(`${where}: ${key} must be a number, got ${run[key]}`);
    }
  });
  const best = Math.max(...list.map((run) => (Number.isFinite(run.accuracy) && divergedStep(run) === null ? run.accuracy : -Infinity)));
  const cell = (text: string, align: Align = "right", extra = ""): string =>
    `<td style="text-align:${align};padding:4px 10px;${extra}">${text}</td>`;
  const rows = list.map((run) => {
    const loss = finalAverage(run.losses, smooth);
    const diverged = divergedStep(run) !== null;
    const problem = diverged ? divergenceText(run.diverged!) : Number.isFinite(loss) ? "" : "loss not finite";
    // A stored run's seconds are from when it trained, not a measurement of this run of the notebook.
    const storedNote = run.stored ? escapeHtml(storedText(run.stored)) : "";
    // A run retraining may not repeat bit for bit (tfjs-node on several threads) says so, stored or not.
    const inexact = run.notRepeatable ? `not bit-exact: ${escapeHtml(run.notRepeatable)}` : "";
    // A diverged run's accuracy is a flag, never a number: its weights were not trained to the end.
    const accuracy = diverged ? "diverged" : Number.isFinite(run.accuracy) ? fmtFixed(run.accuracy, 2) : "not evaluated";
    const accuracyStyle = diverged ? `color:${WRONG}` : run.accuracy === best ? "font-weight:bold" : "";
    return (
      "<tr>" +
      cell(escapeHtml(run.label), "left") +
      cell(accuracy, "right", accuracyStyle) +
      cell(Number.isFinite(loss) ? formatLoss(loss) : "—") +
      cell(formatCount(run.steps)) +
      cell(run.stored ? `${fmtFixed(run.seconds, 1)} (stored)` : fmtFixed(run.seconds, 1)) +
      cell([problem && `<span style="color:${WRONG}">${problem}</span>`, storedNote, inexact].filter(Boolean).join(" · "), "left") +
      "</tr>"
    );
  });
  return (
    `<table class="mie-results" style="border-collapse:collapse">${caption(options.title)}<thead><tr>` +
    head("setting", "left") +
    head("test accuracy (%)") +
    head(`final loss (${smooth}-step mean)`) +
    head("steps") +
    head("seconds") +
    head("note", "left") +
    `</tr></thead><tbody>${rows.join("")}</tbody></table>`
  );
}

/** Options for `curveTable`. */
export interface CurveTableOptions {
  title?: string;
}

/**
 * One row per run's accuracy curve (`curveSummary`): the final test accuracy, the curve's best point and its epoch,
 * whether it was still improving at the end, and what measuring the curve cost beside the training time.
 * @example show.html(curveTable(runs.map(curveSummary), { title: "Accuracy curves" }));
 */
export function curveTable(rows: readonly CurveSummary[], options: CurveTableOptions = {}): string {
  if (!Array.isArray(rows) || rows.length === 0) {
    throw new TypeError(`curveTable: rows must be a non-empty array from curveSummary(run), got ${kindOf(rows)}`);
  }
  const cell = (text: string, align: Align = "right"): string => `<td style="text-align:${align};padding:4px 10px">${text}</td>`;
  const body = rows.map((row) =>
    "<tr>" +
    cell(escapeHtml(row.label), "left") +
    cell(fmtFixed(row.accuracy, 2)) +
    cell(fmtFixed(row.peak.accuracy, 2)) +
    cell(fmtFixed(row.peak.epoch, 1)) +
    cell(row.peak.atEnd ? "still improving" : `fell to ${fmtFixed(row.peak.final, 2)}`, "left") +
    cell(fmtFixed(row.seconds, 1)) +
    cell(`${fmtFixed(row.evalSeconds, 1)} (${formatCount(row.points)} points)`) +
    cell(fmtFixed(row.extraPercent, 0)) +
    "</tr>");
  return (
    `<table class="mie-curves" style="border-collapse:collapse">${caption(options.title)}<thead><tr>` +
    head("setting", "left") + head("test accuracy (%)") + head("best on the curve (%)") + head("at epoch") +
    head("at the end", "left") + head("training (s)") + head("measuring (s)") + head("measuring extra (%)") +
    `</tr></thead><tbody>${body.join("")}</tbody></table>`
  );
}

/** Options for `seedSpreadTable`. */
export interface SeedSpreadTableOptions {
  /** What the groups differ in, as the first column's header (default "setting"), e.g. "lr". */
  setting?: string;
  title?: string;
}

/**
 * One row per group of runs that differ only in their seeds (`seedSpread`): the setting's value, how many runs,
 * their lowest, highest and mean test accuracy, and the spread between the lowest and the highest.
 * @example show.html(seedSpreadTable(seedSpread(runs, "lr"), { setting: "lr" }));
 */
export function seedSpreadTable(groups: readonly SeedSpread[], options: SeedSpreadTableOptions = {}): string {
  if (!Array.isArray(groups) || groups.length === 0) {
    throw new TypeError(`seedSpreadTable: groups must be a non-empty array from seedSpread(runs, key), got ${kindOf(groups)}`);
  }
  const cell = (text: string, align: Align = "right"): string => `<td style="text-align:${align};padding:4px 10px">${text}</td>`;
  const value = (v: unknown): string => escapeHtml(Array.isArray(v) ? v.join("-") : typeof v === "object" && v !== null ? JSON.stringify(v) : String(v));
  const body = groups.map((group) =>
    "<tr>" + cell(value(group.value), "left") + cell(formatCount(group.runs)) + cell(fmtFixed(group.min, 2)) +
    cell(fmtFixed(group.max, 2)) + cell(fmtFixed(group.spread, 2)) + cell(fmtFixed(group.mean, 2)) + "</tr>");
  return (
    `<table class="mie-seeds" style="border-collapse:collapse">${caption(options.title)}<thead><tr>` +
    head(escapeHtml(options.setting ?? "setting"), "left") + head("runs") + head("lowest (%)") + head("highest (%)") +
    head("spread (points)") + head("mean (%)") +
    `</tr></thead><tbody>${body.join("")}</tbody></table>`
  );
}

/** Options for `referenceTable`. */
export interface ReferenceTableOptions {
  title?: string;
}

/**
 * HTML table of our accuracies beside the original's reported numbers and the PyTorch re-run (rows from
 * `referenceRows`): each number marked as agreeing with the re-run or not, with the reason where the original differs.
 * @example show.html(referenceTable(referenceRows([["adam", run.accuracy]])));
 */
export function referenceTable(rows: readonly ReferenceRow[], options: ReferenceTableOptions = {}): string {
  if (!Array.isArray(rows) || rows.length === 0) {
    throw new TypeError(`referenceTable: rows must be a non-empty array from referenceRows(...), got ${kindOf(rows)}`);
  }
  const mark = (agrees: boolean | null): string =>
    agrees === null ? "" : agrees ? ' <span style="color:#2ca02c">✓</span>' : ` <span style="color:${WRONG}">✗</span>`;
  // Top-aligned: the "why" column wraps to several lines.
  const cell = (text: string, align: Align = "right"): string =>
    `<td style="text-align:${align};padding:4px 10px;vertical-align:top">${text}</td>`;
  const pytorch = (row: ReferenceRow): string =>
    row.pytorch.std === 0 ? fmtFixed(row.pytorch.mean, 2)
      : `${fmtFixed(row.pytorch.mean, 2)} ± ${fmtFixed(row.pytorch.std, 2)} [${fmtFixed(row.pytorch.min, 2)}–${fmtFixed(row.pytorch.max, 2)}]`;
  const body = rows.map((row) =>
    "<tr>" +
    cell(escapeHtml(row.setting), "left") +
    cell(row.original === null ? "—" : fmtFixed(row.original, 2) + mark(row.originalAgrees)) +
    cell(pytorch(row)) +
    cell(Number.isFinite(row.ours) ? fmtFixed(row.ours, 2) + mark(row.oursAgrees) : `no result${mark(false)}`) +
    cell(escapeHtml(row.why), "left") +
    "</tr>");
  const seeds = new Set(rows.map((row) => row.pytorch.accuracies.length));
  const seedCount = seeds.size === 1 ? `${[...seeds][0]} seeds` : "seeds";
  const tolerances = [...new Set(rows.map((row) => row.tolerance))];
  const widened = tolerances.map((t) => `${t} point${t === 1 ? "" : "s"}`).join(" or ");
  return (
    `<table class="mie-reference" style="border-collapse:collapse">${caption(options.title)}<thead><tr>` +
    head("setting", "left") + head("original reported (%)") + head(`PyTorch re-run, ${seedCount}: mean ± std [min–max] (%)`) +
    head("ours (%)") + head("why they differ", "left") +
    `</tr></thead><tbody>${body.join("")}</tbody></table>` +
    `<p style="font-size:smaller">✓ inside the measured min–max of the PyTorch ${seedCount} widened by ${widened} on each side, ` +
    "✗ outside it. Every PyTorch value is measured (docs/pytorch-reference.md).</p>"
  );
}

function head(text: string, align: Align = "right"): string {
  return `<th style="text-align:${align};padding:4px 10px">${text}</th>`;
}

/** The table's title above it, escaped; nothing without a title. */
function caption(title: string | undefined): string {
  return title
    ? `<caption style="caption-side:top;text-align:left;font-weight:bold;padding:4px 0">${escapeHtml(title)}</caption>`
    : "";
}
