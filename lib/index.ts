/**
 * @mie/lib: everything a notebook cell calls. Import it by name from a notebook in any folder:
 * `import { describeBackend, loadMnist, mlp, train, show } from "@mie/lib";`
 */
export * from "./backend";
export * from "./idx";
export * from "./data";
export * from "./random";
export * from "./reference";
export { movingAverage, finalAverage, accuracy, confusionMatrix, perClassAccuracy, argmaxRows } from "./metrics";
export { INITS, Model, mlp, modelFromWeights } from "./model";
export type { Init, MlpOptions, LayerWeights, Prediction, PredictOptions } from "./model";
export { OPTIMIZERS, PYTORCH_DEFAULTS } from "./optimizers";
export type { OptimizerName } from "./optimizers";
export { train, evaluate } from "./train";
export type { TrainOptions, TrainSettings, Progress, Divergence, Run } from "./train";
export {
  lossFigure, resultsTable, referenceTable, weightGridFigure, hiddenUnitsFigure, samplesFigure, confusionFigure, perClassFigure,
  CLASS_COLORSCALES, UNIT_COLORSCALE,
} from "./figures";
export type {
  Figure, LossSeries, RunResult, TrainingProgress, LayerWeightsLike, LabelledImages, LossFigureOptions, ResultsTableOptions,
  ReferenceTableOptions, WeightGridOptions, HiddenUnitsOptions, SamplesOptions, ConfusionOptions, PerClassOptions,
} from "./figures";
export { show, figureHtml, plotlyBundleHtml, type Show, type WeightsSource, type WeightsLike, type ProgressListener, type LiveOptions } from "./show";
export { compare } from "./compare";
export type { Vary, VaryKey } from "./compare";
export { trainAll } from "./sweep";
export type { SweepOptions } from "./sweep";
export type { RunSpec } from "./spec";
