/**
 * Charts and tables from training results: plain data in, a Plotly figure (or an HTML string) out.
 * Pure on purpose: no tslab, no tfjs, so every chart can be built and tested in plain Node; `show` displays them.
 * This index is what the rest of lib uses (lib/index.ts picks the public names); helpers (escaping, thinning,
 * checks, grid layout) stay in their modules.
 */
export type { Figure } from "./kit";
export type { LossSeries } from "./runs";
export { lossFigure, type LossFigureOptions } from "./loss";
export {
  resultsTable, referenceTable, curveTable, seedSpreadTable, type ResultsTableOptions, type ReferenceTableOptions,
  type CurveTableOptions, type SeedSpreadTableOptions,
} from "./tables";
export { CLASS_COLOUR_SCALES, UNIT_COLOUR_SCALE } from "./colours";
export {
  weightGridFigure,
  hiddenUnitsFigure,
  type WeightGridOptions,
  type HiddenUnitsOptions,
} from "./weights";
export { samplesFigure, type LabelledImages, type SamplesOptions } from "./samples";
export { confusionFigure, perClassFigure, type ConfusionOptions, type PerClassOptions } from "./classes";
export { exploreFigure, type ExploreOptions, type ExploreRun } from "./explore";
export { sweepLiveFigure, type SweepLiveRun, type SweepLiveOptions } from "./sweep-live";
export { lrFinderFigure, type LrFindingData } from "./lr-finder";
export { parallelFigure, settingShares, type ParallelRun, type ParallelOptions, type SettingShare } from "./parallel";
export { filtersFigure, featureMapsFigure, type FilterGridOptions } from "./filters";
