/** The status line of a live training view: what a progress report says in one line. */
import { escapeHtml, fmtInt } from "./text";

/** One progress report from a running training (what `show.live` receives). */
export interface TrainingProgress {
  label: string;
  step: number;
  totalSteps: number;
  /** Images per step (the last batch of an epoch may be shorter). */
  batchSize?: number;
  samplesSeen: number;
  seconds: number;
  samplesPerSecond: number;
  /** Latest smoothed loss. */
  loss: number;
  losses: ArrayLike<number>;
  done: boolean;
}

/**
 * The one-line status of a live training view (HTML): step of total, speed, running loss, time.
 * @example show.html(progressText(progress)); // "lr 0.5 · step 100 / 3,750 (2%) · 6,400 samples/s · loss 0.8123 · 0.3 s"
 */
export function progressText(p: TrainingProgress): string {
  const percent = p.totalSteps > 0 ? ` (${Math.floor((100 * p.step) / p.totalSteps)}%)` : "";
  const loss = Number.isFinite(p.loss) ? p.loss.toFixed(4) : String(p.loss);
  const state = p.done ? "done: " : "";
  return (
    `<div style="font-family:monospace;padding:2px 0">${escapeHtml(p.label)} · ${state}step ${fmtInt(p.step)} / ` +
    `${fmtInt(p.totalSteps)}${percent} · ${fmtInt(Math.round(p.samplesPerSecond))} samples/s · loss ${loss} · ` +
    `${p.seconds.toFixed(1)} s</div>`
  );
}
