/** The status line of a live training view: what a progress report says in one line. */
import { WRONG } from "./colours";
import type { Progress, StoredMark } from "../train/progress";
import { formatCount, formatLoss } from "../math/format";
import { escapeHtml } from "./text";

/**
 * The one-line status of a live training view (HTML): step of total, speed, running loss, time; a diverged run
 * says where it stopped and on which loss, in red.
 * @example show.html(progressText(progress)); // "lr 0.5 · step 100 / 3,750 (2%) · 6,400 samples/s · loss 0.812 · 0.3 s"
 */
export function progressText(p: Progress): string {
  const percent = p.totalSteps > 0 ? ` (${Math.floor((100 * p.step) / p.totalSteps)}%)` : "";
  const style = "font-family:monospace;padding:2px 0";
  if (p.diverged) {
    return (
      `<div style="${style};color:${WRONG}">${escapeHtml(p.label)} · ${divergenceText(p.diverged)}, of ` +
      `${formatCount(p.totalSteps)} steps · ${p.seconds.toFixed(1)} s · not evaluated</div>`
    );
  }
  if (p.stored) {
    // Not a measurement of now: say where the numbers come from instead of a speed.
    return (
      `<div style="${style}">${escapeHtml(p.label)} · ${formatCount(p.step)} steps · loss ${formatLoss(p.loss)}${curveText(p, false)} · ` +
      `${escapeHtml(storedText(p.stored))}</div>`
    );
  }
  const state = p.done ? "done: " : "";
  return (
    `<div style="${style}">${escapeHtml(p.label)} · ${state}step ${formatCount(p.step)} / ` +
    `${formatCount(p.totalSteps)}${percent} · ${formatCount(Math.round(p.samplesPerSecond))} samples/s · loss ${formatLoss(p.loss)} · ` +
    `${p.seconds.toFixed(1)} s${curveText(p)}</div>`
  );
}

/**
 * How every view names a divergence: "diverged at step 61 (loss NaN)".
 * @example divergenceText({ step: 61, loss: Infinity }); // "diverged at step 61 (loss Infinity)"
 */
export function divergenceText(diverged: { step: number; loss?: number }): string {
  return `diverged at step ${formatCount(diverged.step)}${diverged.loss === undefined ? "" : ` (loss ${formatLoss(diverged.loss)})`}`;
}

/**
 * How every view says a run came from the run store: when, where and how long it trained then.
 * @example storedText(run.stored!); // "stored: trained 2026-12-02 17:50 UTC on lab-1 (wasm) in 3.2 s"
 */
export function storedText(mark: StoredMark): string {
  const when = mark.at.replace("T", " ").replace(/:\d\d(\.\d+)?Z$/, " UTC");
  return `stored: trained ${when} on ${mark.host} (${mark.backend}) in ${mark.seconds.toFixed(1)} s`;
}

/** The latest accuracy and what measuring it cost, as a share of the training time. */
function curveText(p: Progress, withCost = true): string {
  const last = p.evaluations?.at(-1);
  if (!last) return "";
  if (!withCost) return ` · accuracy ${last.accuracy.toFixed(2)}% at step ${formatCount(last.step)}`;
  const cost = p.evalSeconds ?? 0;
  const share = p.seconds > 0 ? ` (${Math.round((100 * cost) / p.seconds)}% of training)` : "";
  return ` · accuracy ${last.accuracy.toFixed(2)}% at step ${formatCount(last.step)} · measuring ${cost.toFixed(1)} s${share}`;
}
