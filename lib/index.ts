/**
 * @mie/lib: everything a notebook cell calls, named one by one. Import it by name from a notebook in any folder:
 * `import { describeBackend, loadMnist, mlp, train, show } from "@mie/lib";`
 * Helpers the library uses internally stay in their modules (tests import them from there). README.md's table
 * "What lib offers, by module" lists exactly these names; test/api.test.ts keeps the two in step and type-checks
 * every export's `@example`.
 */
export { initBackend, describeBackend, type BackendName } from "./engine/backend";
export { parseIdx } from "./data/idx";
export { loadMnist, loadIdx, subset, labelCounts, type Dataset, type Split } from "./data/data";
export { REFERENCE, referenceRows } from "./results/reference";
export { movingAverage, accuracy, confusionMatrix, perClassAccuracy, etaSquared } from "./math/metrics";
export { INITS, Model, mlp, modelFromWeights, type Init, type LayerWeights } from "./model/model";
export { network, NetworkModel, type NetworkOptions, type NetworkInit } from "./model/network-model";
export { tf } from "./model/tfjs";
export { OPTIMIZERS, PYTORCH_DEFAULTS, type OptimizerName } from "./model/optimizers";
export { evaluate, type Run } from "./train/loop";
export { train, runStoreFolder, type StoreSetting, type StoredTrainOptions } from "./runs/train-with-store";
export { saveModel, loadModel } from "./saved/model-io";
export { saveRuns, loadRuns, type LoadedRun } from "./saved/runs-io";
export { SavedFileError } from "./saved/saved-files";
export { MNIST_NORMALIZATION, type TrainOptions, type LrDecay, type LrRange, type Augmentation, type OneCycle } from "./train/settings";
export type { Progress, StoredMark, SweepMember } from "./train/progress";
export type { EarlyStopping, EarlyStop } from "./train/early-stopping";
export type { Evaluation, EvalOn } from "./train/evaluations";
export type { RunSpec, NetworkRunSpec, AnyRunSpec } from "./runs/spec";
export { trainAll } from "./runs/sweep";
export { closeWorkers } from "./runs/pool";
export { compare, combinations } from "./runs/compare";
export { findLr, type FindLrOptions, type LrFinding } from "./runs/lr-finder";
export {
  misclassified, predictionCounts, predictedClasses, largestWeight, initialWeights, weightChange, bestRun, seedSpread,
  accuracyPeak, curveSummary, predictionAgreement, earlyStopSummary, type EarlyStopSummary,
} from "./results/analysis";
export { filterImages, featureMaps, type FilterImages, type FeatureMaps } from "./results/feature-maps";
export {
  lossFigure, resultsTable, referenceTable, curveTable, seedSpreadTable, weightGridFigure, hiddenUnitsFigure, samplesFigure, confusionFigure, perClassFigure,
  CLASS_COLOUR_SCALES, UNIT_COLOUR_SCALE, type Figure, filtersFigure, featureMapsFigure, type FilterGridOptions,
} from "./figures";
export { exploreFigure, type ExploreOptions, type ExploreRun } from "./figures";
export { sweepLiveFigure, lrFinderFigure, type SweepLiveRun, type SweepLiveOptions, type LrFindingData } from "./figures";
export { parallelFigure, settingShares, type ParallelRun, type ParallelOptions, type SettingShare } from "./figures";
export { show } from "./show/show";
