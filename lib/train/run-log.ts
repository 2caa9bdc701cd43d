/**
 * What a run has done so far: every step's loss, the images seen, the wall time (less the accuracy curve's), and
 * where it diverged; and the `Progress` report made from them. `train` fills it step by step.
 */
import { finalAverage } from "../math/metrics";
import type { StepOutcome } from "../model/training";
import type { AccuracyCurve } from "./evaluations";
import type { Divergence, Progress } from "./progress";
import type { TrainSettings } from "./settings";

/**
 * The record of one run in progress.
 * @example const log = new RunLog(settings, 60000, null); log.record({ loss: 2.3, applied: true }, 16); log.progress(false).step; // 1
 */
export class RunLog {
  readonly stepsPerEpoch: number;
  readonly totalSteps: number;
  /** Loss of every step so far, then of every step when the run ends. */
  readonly losses: Float32Array;
  steps = 0;
  samplesSeen = 0;
  /** The epoch being trained, from 1. */
  epoch = 1;
  diverged: Divergence | null = null;
  private readonly start = performance.now();

  constructor(
    private readonly settings: Pick<TrainSettings, "label" | "batchSize" | "epochs">,
    trainImages: number,
    readonly curve: AccuracyCurve | null,
  ) {
    this.stepsPerEpoch = Math.ceil(trainImages / settings.batchSize);
    this.totalSteps = this.stepsPerEpoch * settings.epochs;
    this.losses = new Float32Array(this.totalSteps);
  }

  /** Count a step of `size` images; a step whose update was not applied (a non-finite loss) ends the run. */
  record(step: StepOutcome, size: number): void {
    this.losses[this.steps++] = step.loss;
    this.samplesSeen += size;
    if (!step.applied) this.diverged = { step: this.steps, loss: step.loss };
  }

  /** Seconds spent training so far, not counting the accuracy curve's measurements. */
  trainingSeconds(): number {
    return (performance.now() - this.start) / 1000 - (this.curve?.seconds ?? 0);
  }

  /** The losses of the steps taken (the whole array when the run took every step). */
  recordedLosses(): Float32Array {
    return this.steps === this.totalSteps ? this.losses : this.losses.slice(0, this.steps);
  }

  /** A progress report of the run so far (`done` for the last one). */
  progress(done: boolean): Progress {
    const seconds = this.trainingSeconds();
    const seen = this.losses.subarray(0, this.steps);
    const { curve } = this;
    return {
      label: this.settings.label, step: this.steps, totalSteps: this.totalSteps, batchSize: this.settings.batchSize,
      epoch: this.epoch, samplesSeen: this.samplesSeen, seconds, samplesPerSecond: seconds > 0 ? this.samplesSeen / seconds : 0,
      loss: finalAverage(seen), losses: seen, diverged: this.diverged,
      ...(curve ? { evaluations: curve.points, evalSeconds: curve.seconds } : {}), done,
    };
  }
}
