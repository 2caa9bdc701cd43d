/**
 * How far a live view's runs have got, as a whole: which run of how many, and an estimate of the time left. Shown
 * above the live chart, and written as data attributes that `npm run reports` reads from the kernel's output to
 * print progress inside a long cell.
 */
import { formatCount as fmtInt } from "../math/format";
import { escapeHtml } from "./text";

/** What the live view knows of its runs at one moment. */
export interface SweepSnapshot {
  /** Runs in the sweep (1 for a single `train`). */
  of: number;
  /** Runs that have reported at all, finished ones included. */
  started: number;
  /** Runs finished (diverged ones included). */
  done: number;
  /** Each unfinished run's share done, step / totalSteps. */
  inFlight: readonly number[];
  /** Seconds since the first report. */
  elapsed: number;
}

/** The estimate: share of all the sweep's steps done, and seconds left (null until a first share is measurable). */
export interface SweepEstimate {
  run: number;
  of: number;
  done: number;
  fraction: number;
  secondsLeft: number | null;
}

/**
 * The share of a sweep done before its pace says anything: the first seconds hold worker start-up and the first
 * steps' set-up, so extrapolating from a sliver of the sweep would promise hours.
 */
const MEASURABLE = 0.02;

/**
 * Estimate the time left from the share done so far: each run counts as one unit (finished 1, in flight its share
 * of steps), and the rest is assumed to go at the pace so far; no estimate before 2% of the sweep is done. Runs of a grid differ in cost, so this is an
 * estimate, said as "about".
 * @example sweepEstimate({ of: 4, started: 2, done: 1, inFlight: [0.5], elapsed: 30 }).secondsLeft; // 50
 */
export function sweepEstimate(snapshot: SweepSnapshot): SweepEstimate {
  const of = Math.max(snapshot.of, snapshot.started, 1);
  const units = snapshot.done + snapshot.inFlight.reduce((sum, share) => sum + Math.min(1, Math.max(0, share)), 0);
  const fraction = Math.min(1, units / of);
  const secondsLeft = fraction >= 1 ? 0 : fraction >= MEASURABLE && snapshot.elapsed > 0 ? (snapshot.elapsed * (1 - fraction)) / fraction : null;
  return { run: Math.min(of, snapshot.started), of, done: snapshot.done, fraction, secondsLeft };
}

/**
 * The estimate as one line of HTML, with its numbers in `data-mie-*` attributes for the report runner.
 * @example show.html(sweepStatusHtml(sweepEstimate(snapshot))); // "run 12 of 72 · 10 done · 14% · about 40 s left"
 */
export function sweepStatusHtml(estimate: SweepEstimate): string {
  const left = estimate.secondsLeft === null ? "" : estimate.secondsLeft === 0 ? " · finished" : ` · about ${durationText(estimate.secondsLeft)} left`;
  const text = `run ${fmtInt(estimate.run)} of ${fmtInt(estimate.of)} · ${fmtInt(estimate.done)} done · ${Math.floor(100 * estimate.fraction)}%${left}`;
  const left10 = estimate.secondsLeft === null ? "" : String(Math.round(estimate.secondsLeft * 10) / 10);
  return (
    `<div class="mie-sweep" data-mie-run="${estimate.run}" data-mie-of="${estimate.of}" data-mie-done="${estimate.done}" ` +
    `data-mie-fraction="${Math.round(estimate.fraction * 1000) / 1000}" data-mie-left="${left10}" ` +
    `style="font-family:monospace;padding:2px 0;color:#667">${escapeHtml(text)}</div>`
  );
}

/**
 * Seconds as people say them: "40 s", "3 min 5 s", "2 h 5 min".
 * @example durationText(185); // "3 min 5 s"
 */
export function durationText(seconds: number): string {
  const whole = Math.max(0, Math.round(seconds));
  if (whole >= 3600) return `${Math.floor(whole / 3600)} h ${Math.floor((whole % 3600) / 60)} min`;
  return whole < 60 ? `${whole} s` : `${Math.floor(whole / 60)} min ${whole % 60} s`;
}
