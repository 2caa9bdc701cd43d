/**
 * Showing figures in a notebook, through the kernel's display (`DisplaySink`: tslab's or Deno's, see
 * kernel-sink.ts), which is all this module knows of the kernel. Charts are Plotly (see chart-html.ts): the pinned
 * bundle goes out once per kernel session as its own output, so exported reports are self-contained and offline;
 * each chart draws with it, or loads it from the Jupyter server on a page that never received it.
 */
import { readFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import type { DisplaySink } from "./display-sink";
import { kernelSink } from "./kernel-sink";
import { figureHtml, plotlyBundleHtml, plotlyBundlePath } from "./chart-html";
import {
  confusionFigure,
  exploreFigure,
  featureMapsFigure,
  filtersFigure,
  hiddenUnitsFigure,
  lossFigure,
  perClassFigure,
  referenceTable,
  resultsTable,
  samplesFigure,
  weightGridFigure,
  type ConfusionOptions,
  type ExploreOptions,
  type ExploreRun,
  type Figure,
  type FilterGridOptions,
  type HiddenUnitsOptions,
  type LabelledImages,
  type LossFigureOptions,
  type LossSeries,
  type PerClassOptions,
  type ReferenceTableOptions,
  type ResultsTableOptions,
  type SamplesOptions,
  type WeightGridOptions,
} from "../figures";
import { progressText } from "../figures/progress";
import { escapeHtml } from "../figures/text";
import { sweepLiveFigure, type SweepLiveRun } from "../figures/sweep-live";
import { lrFinderFigure } from "../figures/lr-finder";
import { parallelFigure, type ParallelOptions, type ParallelRun } from "../figures/parallel";
import { parallelHtml } from "./parallel-script";
import type { LrFinding } from "../runs/lr-finder";
import { sweepEstimate, sweepStatusHtml } from "../figures/sweep-progress";
import { divergedStep, type RunNumbers } from "../figures/runs";
import type { LayerWeights } from "../model/model";
import { NetworkModel } from "../model/network-model";
import { featureMaps, filterImages } from "../results/feature-maps";
import type { ReferenceRow } from "../results/reference";
import type { Progress, SweepMember } from "../train/progress";

export { bundleLocation, figureHtml, plotlyBundleHtml, plotlyBundlePath, scriptSafeJson, type BundleLocation } from "./chart-html";
export { NoKernelError, type DisplaySink, type MimeBundle } from "./display-sink";

/** Anything with layer weights to read back: a model from `mlp(...)`, or a run that carries its model. */
export interface WeightsSource {
  weights(layer: number): LayerWeights;
}

/** Weights to draw: the numbers themselves, a model, or a run with a `model`. */
export type WeightsLike = LayerWeights | WeightsSource | { model: WeightsSource };

/** A progress listener for training: call it with each progress report. */
export type ProgressListener = (p: Progress) => void;

/**
 * Options for `show.live`: the loss chart's options (`x`, `logY`, `smooth`, ...), how often to redraw, and how a
 * sweep of more than `LIVE_CURVES` runs is laid out.
 */
export interface LiveOptions extends Omit<LossFigureOptions, "xMax" | "title"> {
  /** Minimum milliseconds between redraws (default 500); the final report (`done`) always redraws. */
  interval?: number;
  /** A big sweep's landscape axes (default: the one or two settings that vary; see `sweepLiveFigure`). */
  by?: readonly [string] | readonly [string, string];
  /** A big sweep's finished runs whose curves are drawn, the most accurate first (default 5). */
  best?: number;
}

/**
 * Most runs a live view draws as one curve each: a bigger sweep is drawn as its landscape filling in, with the
 * best few curves (`sweepLiveFigure`).
 * @example LIVE_CURVES; // 8
 */
export const LIVE_CURVES = 8;

/** What notebook cells call. */
export interface Show {
  /** Display any Plotly figure, e.g. one built by `lossFigure` and then adjusted. */
  figure(fig: Figure): void;
  /** Loss curves of one run or several overlaid (10-step moving average). */
  loss(runs: LossSeries | readonly LossSeries[], options?: LossFigureOptions): void;
  /** The results table: accuracy, final loss, steps, seconds, divergence. */
  table(runs: RunNumbers | readonly RunNumbers[], options?: ResultsTableOptions): void;
  /** Class weight images of a 784→10 layer; a list of `{ label, weights }` stacks settings one above the other. */
  weights(
    source: WeightsLike | readonly { label: string; weights: WeightsLike }[],
    options?: WeightGridOptions & { layer?: number },
  ): void;
  /** A network's conv filters as images: its first conv layer's, or `layer`'s (the Layers model's index). */
  filters(source: NetworkModel | { model: NetworkModel }, options?: FilterGridOptions & { layer?: number }): void;
  /** One image's feature maps at a network's layer (its first conv layer unless `layer` names another). */
  featureMaps(source: NetworkModel | { model: NetworkModel }, image: Uint8Array, options?: FilterGridOptions & { layer?: number }): void;
  /** Input weights of chosen hidden units of a first layer. */
  hiddenUnits(source: WeightsLike, options?: HiddenUnitsOptions & { layer?: number }): void;
  /** Images of a dataset split (e.g. `data.train`) in a grid, with their labels (and predictions). */
  samples(split: LabelledImages, options?: SamplesOptions): void;
  /** Confusion matrix of a run (or of a matrix of counts). */
  confusion(run: RunNumbers | ArrayLike<ArrayLike<number>>, options?: ConfusionOptions): void;
  /** Per-class test accuracy of one run, several runs, or a list of percentages. */
  perClass(runs: RunNumbers | readonly RunNumbers[] | ArrayLike<number>, options?: PerClassOptions): void;
  /** Our accuracies beside the original's and the PyTorch re-run's (rows from `referenceRows`). */
  referenceTable(rows: readonly ReferenceRow[], options?: ReferenceTableOptions): void;
  /** The accuracy landscape of runs varying one or two settings, with a slider per setting that picks the run
   *  whose loss curve is drawn (see `exploreFigure`); the sliders work in the saved notebook and the report. */
  explore(runs: readonly ExploreRun[], options: ExploreOptions): void;
  /** The learning-rate range test of `findLr`: loss against the rising rate, the suggestion, and its rule printed. */
  lrFind(finding: LrFinding, options?: { title?: string }): void;
  /** Parallel coordinates over every setting that varies in `runs`, coloured by test accuracy, with each setting's
   *  share of the accuracy's spread (η²); drag along an axis to select (in the page: saved notebook and report). */
  parallel(runs: readonly ParallelRun[], options?: ParallelOptions): void;
  /** Raw HTML (not escaped: for HTML you built). */
  html(html: string): void;
  markdown(text: string): void;
  /** A live view for `train`'s, `trainAll`'s or `compare`'s progress: a line on the whole sweep, a status line per
   *  run in flight and a growing loss chart with a curve per run (runs of a sweep progress at once), updated in
   *  place; a sweep of more than `LIVE_CURVES` runs is drawn as its landscape filling in, with the best few curves. */
  live(title?: string, options?: LiveOptions): ProgressListener;
}

/** Options for `createShow`; defaults are the real notebook ones. */
export interface ShowConfig {
  /** Where outputs go (default: this kernel's display, `kernelSink()`; tests pass a recorder). */
  sink?: DisplaySink;
  /** The Plotly bundle's source (default: the pinned `plotly.js-cartesian-dist-min` bundle, `plotlyBundlePath()`). */
  loadBundle?: () => string;
  /** Clock for throttling the live view (default `Date.now`). */
  now?: () => number;
}

/**
 * Build a `show` namespace around a display sink. The notebook one is the exported `show`; tests pass a recorder.
 * @example const testShow = createShow({ sink: recorder, loadBundle: () => "window.Plotly = fake;" });
 */
export function createShow(config: ShowConfig = {}): Show {
  const sink = config.sink ?? kernelSink();
  const loadBundle = config.loadBundle ?? (() => readFileSync(plotlyBundlePath(), "utf8"));
  const now = config.now ?? Date.now;
  // Random per process: ids stay unique across kernel restarts, whose old outputs are still on the page.
  const session = randomBytes(4).toString("hex");
  let counter = 0;
  let bundleShown = false;

  const html = (content: string): void => sink.display({ "text/html": content });
  // The bundle is its own output, shown before the first chart: a live view's updates replace their output, so
  // the bundle must never be part of one.
  const ensurePlotly = (): void => {
    if (bundleShown) return;
    html(plotlyBundleHtml(loadBundle()));
    bundleShown = true;
  };
  const nextId = (): string => `mie-plot-${session}-${++counter}`;
  const figure = (fig: Figure): void => {
    const chart = figureHtml(fig, nextId());
    ensurePlotly();
    html(chart);
  };

  return {
    figure,
    loss: (runs, options) => figure(lossFigure(runs, options)),
    table: (runs, options) => html(resultsTable(runs, options)),
    weights: (source, options = {}) => {
      const { layer = 0, ...rest } = options;
      const weights = Array.isArray(source)
        ? (source as readonly { label: string; weights: WeightsLike }[]).map((set, i) => ({
            label: set.label,
            weights: resolveWeights(set?.weights, layer, `show.weights: source[${i}].weights`),
          }))
        : resolveWeights(source as WeightsLike, layer, "show.weights: source");
      figure(weightGridFigure(weights, rest));
    },
    filters: (source, options = {}) => {
      const { layer, ...rest } = options;
      figure(filtersFigure(filterImages(source, layer), rest));
    },
    featureMaps: (source, image, options = {}) => {
      const { layer, ...rest } = options;
      figure(featureMapsFigure(featureMaps(source, image, layer), rest));
    },
    hiddenUnits: (source, options = {}) => {
      const { layer = 0, ...rest } = options;
      figure(hiddenUnitsFigure(resolveWeights(source, layer, "show.hiddenUnits: source"), rest));
    },
    samples: (split, options) => figure(samplesFigure(split, options)),
    confusion: (run, options = {}) => {
      const step = isRun(run) ? divergedStep(run) : null;
      if (step !== null) {
        throw new RangeError(`show.confusion: run ${JSON.stringify((run as RunNumbers).label)} diverged at step ${step} and was not evaluated: there is no confusion matrix`);
      }
      const matrix = isRun(run) ? run.confusion : run;
      if (!matrix) {
        throw new TypeError(`show.confusion: run ${JSON.stringify((run as RunNumbers).label)} has no confusion matrix`);
      }
      figure(confusionFigure(matrix, { title: `Confusion matrix: ${isRun(run) ? run.label : "test set"}`, ...options }));
    },
    perClass: (runs, options) => figure(perClassFigure(runs, options)),
    explore: (runs, options) => figure(exploreFigure(runs, options)),
    referenceTable: (rows, options) => html(referenceTable(rows, options)),
    parallel: (runs, options) => html(parallelHtml(parallelFigure(runs, options), `mie-pc-${session}-${++counter}`)),
    lrFind: (finding, options) => {
      figure(lrFinderFigure({ ...finding, label: finding.run.label }, options));
      html(`<div style="font-family:monospace;padding:2px 0">${escapeHtml(`suggested learning rate: ${finding.suggestion.toPrecision(2)}, ` +
        `${finding.rule} (lowest smoothed loss at lr ${finding.lowest.toPrecision(2)})`)}</div>`);
    },
    html,
    markdown: (text) => sink.display({ "text/markdown": text }),
    live: (title, options = {}) => {
      const { interval = 500, by, best, ...chartOptions } = options;
      ensurePlotly();
      // One output, replaced in place by every redraw: created by the first report, updated by the others.
      const displayId = `mie-live-${session}-${++counter}`;
      let displayed = false;
      // Every run seen, in the order it first reported. A sweep trains several runs at once, so a report updates
      // its run's entry by label; finished runs stay, so a comparison ends as all its curves overlaid.
      type Entry = { progress: Progress; series: LossSeries; length: number };
      const runs: Entry[] = [];
      const inFlight = new Map<string, Entry>();
      let last = -Infinity;
      let first: number | null = null;
      return (p) => {
        first ??= now();
        const batchSize = p.batchSize ?? Math.max(1, Math.ceil(p.samplesSeen / Math.max(1, p.step)));
        const entry: Entry = {
          progress: p,
          series: {
            label: p.label, losses: p.done ? Float32Array.from(p.losses) : p.losses, batchSize, diverged: p.diverged ?? null,
            evaluations: p.evaluations ? [...p.evaluations] : [],
          },
          length: p.totalSteps * (chartOptions.x === "samples" ? batchSize : 1),
        };
        const running = inFlight.get(p.label);
        if (running) Object.assign(running, entry);
        else runs.push(entry);
        if (p.done) inFlight.delete(p.label);
        else if (!running) inFlight.set(p.label, entry);
        const time = now();
        // Redraws are throttled, finished runs' too (a sweep from the run store reports dozens at once, and each
        // redraw carries every curve); the report that ends the sweep is always drawn.
        const sweepOver = runs.length - inFlight.size >= (p.runsInSweep ?? 1) && inFlight.size === 0;
        if (!sweepOver && time - last < interval) return;
        last = time;
        const members = p.sweep ?? [];
        const chart = members.length > LIVE_CURVES
          ? sweepLiveFigure(sweepRuns(members, runs), { ...chartOptions, by, best, title: title ?? "Sweep" })
          : lossFigure(
            runs.map((run) => run.series),
            { height: 360, ...chartOptions, title: title ?? `Training: ${p.label}`, xMax: Math.max(...runs.map((run) => run.length)) },
          );
        // Runs in flight, the run just reported, and every diverged run: a divergence stays in sight to the end.
        const current = running ?? entry;
        const shown = runs.filter((run) => run === current || inFlight.get(run.progress.label) === run || run.progress.diverged);
        const status = shown.map((run) => progressText(run.progress));
        const overall = sweepStatusHtml(sweepEstimate({
          of: p.runsInSweep ?? 1, started: runs.length, done: runs.length - inFlight.size,
          inFlight: [...inFlight.values()].map((run) => run.progress.step / Math.max(1, run.progress.totalSteps)), elapsed: (time - first) / 1000,
        }));
        const bundle = { "text/html": overall + status.join("") + figureHtml(chart, nextId()) };
        if (displayed) sink.update(displayId, bundle);
        else sink.display(bundle, displayId);
        displayed = true;
      };
    },
  };
}

/** A sweep's runs as its live view draws them: every member, with what its reports said so far. */
function sweepRuns(members: readonly SweepMember[], seen: readonly { progress: Progress; series: LossSeries }[]): SweepLiveRun[] {
  const byLabel = new Map(seen.map((entry) => [entry.progress.label, entry]));
  return members.map((member): SweepLiveRun => {
    const entry = byLabel.get(member.label);
    const progress = entry?.progress;
    return {
      label: member.label, layers: [...member.layers], seed: member.seed, init: member.init, settings: member.settings,
      batchSize: member.settings.batchSize, losses: entry?.series.losses ?? [], diverged: progress?.diverged ?? null,
      evaluations: entry?.series.evaluations ?? [], accuracy: progress?.accuracy ?? NaN,
      state: !progress ? "waiting" : progress.done ? "done" : "running",
      share: progress ? progress.step / Math.max(1, progress.totalSteps) : 0,
    };
  });
}

function isRun(value: unknown): value is RunNumbers {
  return typeof value === "object" && value !== null && "label" in value && "losses" in value;
}

function resolveWeights(source: WeightsLike | undefined, layer: number, where: string): LayerWeights {
  if (source && typeof source === "object") {
    if ("kernel" in source) return source;
    const model = "model" in source ? source.model : source;
    if (model instanceof NetworkModel) {
      throw new TypeError(
        `${where}: a network of tf.layers (${model.layers.join(" → ")}) has no first layer of 28×28 weight images; ` +
          "show.filters(run) draws its first conv layer's filters, show.featureMaps(run, image) what a layer makes of an image",
      );
    }
    if (model && typeof (model as WeightsSource).weights === "function") {
      const weights = (model as WeightsSource).weights(layer);
      if (weights && typeof (weights as unknown as Promise<unknown>).then === "function") {
        throw new TypeError(`${where}: weights(${layer}) returned a Promise; await it and pass the result`);
      }
      return weights;
    }
  }
  throw new TypeError(
    `${where}: expected layer weights { shape, kernel, bias }, a model with weights(layer), or a run with a model`,
  );
}

/**
 * Display helpers for notebook cells (Plotly bundle inlined once per kernel session).
 * @example show.loss(run); show.table(runs); show.weights(run.model, { layer: 0 });
 */
export const show: Show = createShow();
