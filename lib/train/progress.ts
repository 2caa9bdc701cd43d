/**
 * What a run reports as it trains (`Progress`, to `onProgress` and the live charts), where it stopped if its loss
 * stopped being a finite number (`Divergence`), where a run read from the run store was trained (`StoredMark`), and
 * the runs of the sweep a run belongs to (`SweepMember`).
 * A finished `Run` carries the last two as well.
 */
import type { Evaluation } from "./evaluations";

/** Where a run stopped because its loss stopped being a finite number. */
export interface Divergence {
  /** The step (1-based, as on the charts' x axis) whose loss was NaN or infinite: `losses[step - 1]`, the last
   *  entry of `losses`. That step's update was not applied. */
  step: number;
  loss: number;
}

/**
 * A snapshot of a run in progress, for live charts.
 * @example await train(mlp([784, 10]), data, { onProgress: (p: Progress) => console.log(`${p.step} / ${p.totalSteps}`) });
 */
export interface Progress {
  label: string;
  /** Steps done so far. */
  step: number;
  totalSteps: number;
  /** Images per step (the run's setting; the last batch of an epoch may be shorter). */
  batchSize: number;
  /** Current epoch, from 1. */
  epoch: number;
  samplesSeen: number;
  seconds: number;
  samplesPerSecond: number;
  /** Mean loss of the latest 10 steps. */
  loss: number;
  /** Loss of every step so far (a view: copy it to keep it). */
  losses: Float32Array;
  /** Set once the run has stopped on a non-finite loss (its last report, `done: true`); null or absent otherwise. */
  diverged?: Divergence | null;
  /** The accuracy curve so far (with `evalEvery`), and the seconds it took. */
  evaluations?: readonly Evaluation[];
  evalSeconds?: number;
  done: boolean;
  /** Runs in the sweep this run belongs to (`trainAll`, `compare`); absent for a single `train`. */
  runsInSweep?: number;
  /** Set when the run came from the run store: its one report, `done`, holds the whole stored curve. */
  stored?: StoredMark;
  /** The run's test accuracy (NaN when it diverged or was not evaluated): on a stored run's report, and on the
   *  report a sweep sends for each run it trained once the run is measured (after the loop's own `done` report). */
  accuracy?: number;
  /** On reports from a sweep (`trainAll`, `compare`): every run of the sweep, in order, as data, so a live view can
   *  lay out the whole sweep (its landscape) before most runs have started. */
  sweep?: readonly SweepMember[];
}

/**
 * One run of a sweep as a live view sees it before it trains: its label, model and resolved settings (as plain
 * data: `settings` holds `ResolvedSettings`, typed loosely here so this module needs nothing of `settings`).
 * @example const onProgress = (p: Progress) => { const members: readonly SweepMember[] = p.sweep ?? []; console.log(members.length); };
 */
export interface SweepMember {
  label: string;
  layers: readonly (number | string)[];
  init: string;
  seed: number;
  settings: { readonly batchSize: number; readonly [setting: string]: unknown };
}

/**
 * Where a run read from the run store was trained: its numbers, `seconds` included, are from then, not now.
 * @example if (run.stored) console.log(`trained ${run.stored.at} on ${run.stored.host} (${run.stored.backend}) in ${run.stored.seconds} s`);
 */
export interface StoredMark {
  /** When it finished training (ISO 8601). */
  at: string;
  /** The machine it trained on (`os.hostname()`). */
  host: string;
  backend: string;
  /** Its training time then (the run's `seconds`). */
  seconds: number;
  /** Its entry in the store (a folder named by the run's key). */
  entry: string;
}
