/**
 * Progress inside a long cell, for `npm run reports`: the live view's line "run 12 of 72 · … · about 40 s left"
 * (lib/figures/sweep-progress.ts) reaches the report runner as the `data-mie-*` attributes of each display update
 * the kernel sends (scripts/execute_notebook.py passes the tag on). This module reads those attributes and decides
 * when a line is worth printing: not for short cells, and at most one every few seconds per notebook.
 */
import { durationText } from "../lib/figures/sweep-progress";

/** What one progress tag says. */
export interface SweepProgress {
  /** The run training now (1-based) and the runs in the sweep. */
  run: number;
  of: number;
  /** Runs finished. */
  done: number;
  /** Share of the sweep done, 0–1. */
  fraction: number;
  /** Estimated seconds left, or null while no estimate is possible yet. */
  secondsLeft: number | null;
}

/**
 * Read the `data-mie-*` attributes of a live view's progress tag; null when the tag is not one or a number is
 * missing or malformed (a newer or older lib writing other attributes must never stop a report).
 * @example parseSweepTag('<div class="mie-sweep" data-mie-run="3" data-mie-of="48" data-mie-done="2" data-mie-fraction="0.05" data-mie-left="40">');
 * // { run: 3, of: 48, done: 2, fraction: 0.05, secondsLeft: 40 }
 */
export function parseSweepTag(tag: string): SweepProgress | null {
  if (!/^<div\b[^>]*\bclass="mie-sweep"/.test(tag)) return null;
  const attribute = (name: string): string | undefined => new RegExp(`\\bdata-mie-${name}="([^"]*)"`).exec(tag)?.[1];
  const number = (name: string): number | null => {
    const text = attribute(name);
    return text === undefined || text.trim() === "" || !Number.isFinite(Number(text)) ? null : Number(text);
  };
  const [run, of, done, fraction] = [number("run"), number("of"), number("done"), number("fraction")];
  if (run === null || of === null || done === null || fraction === null || of < 1) return null;
  const left = number("left");
  return { run, of, done, fraction: Math.min(1, Math.max(0, fraction)), secondsLeft: left === null ? null : Math.max(0, left) };
}

/**
 * One terminal line for a progress tag: which run of how many, the share done and the time left.
 * @example sweepProgressText({ run: 12, of: 48, done: 10, fraction: 0.23, secondsLeft: 95 }); // "run 12 of 48 · 10 done · 23% · about 1 min 35 s left"
 */
export function sweepProgressText(progress: SweepProgress): string {
  const left = progress.secondsLeft === null ? "" : progress.secondsLeft < 0.5 ? " · finishing" : ` · about ${durationText(progress.secondsLeft)} left`;
  return `run ${progress.run} of ${progress.of} · ${progress.done} done · ${Math.floor(100 * progress.fraction)}%${left}`;
}

/** When to print: after a cell has run `quietSeconds`, then at most every `everySeconds`. */
export interface ThrottleOptions {
  quietSeconds?: number;
  everySeconds?: number;
}

/**
 * Decides which progress tags become a printed line, per notebook: none in a cell's first seconds (a short cell
 * prints only its own line), then one at most every `everySeconds`, and never the same text twice in a row. The
 * clock is passed in, so the rule is testable without waiting.
 * @example const throttle = new ProgressThrottle(); throttle.cellStarted("A", 0); throttle.offer("A", tag, 6); // "run 3 of 48 · …" or null
 */
export class ProgressThrottle {
  private readonly quiet: number;
  private readonly every: number;
  private readonly cells = new Map<string, { started: number; printed: number; text: string }>();

  constructor(options: ThrottleOptions = {}) {
    this.quiet = options.quietSeconds ?? 5;
    this.every = options.everySeconds ?? 5;
  }

  /** A new cell of notebook `name` started at `now` (seconds). */
  cellStarted(name: string, now: number): void {
    this.cells.set(name, { started: now, printed: -Infinity, text: "" });
  }

  /** The line to print for this tag at `now` (seconds), or null to stay silent. */
  offer(name: string, tag: string, now: number): string | null {
    const cell = this.cells.get(name);
    const progress = parseSweepTag(tag);
    if (!cell || !progress || now - cell.started < this.quiet || now - cell.printed < this.every) return null;
    const text = sweepProgressText(progress);
    if (text === cell.text) return null;
    cell.printed = now;
    cell.text = text;
    return text;
  }

  /** Whether any progress line was printed for the current cell of `name`. */
  printedInCell(name: string): boolean {
    return (this.cells.get(name)?.text ?? "") !== "";
  }
}
