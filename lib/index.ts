/**
 * @mie/lib: everything a notebook cell calls, named one by one. Import it by name from a notebook in any folder:
 * `import { describeBackend, loadMnist, mlp, train, show } from "@mie/lib";`
 * Helpers the library uses internally stay in their modules (tests import them from there). README.md's table
 * "What lib offers, by module" lists exactly these names; test/api.test.ts keeps the two in step and type-checks
 * every export's `@example`.
 */
export { initBackend, describeBackend, type BackendName } from "./backend";
export { parseIdx } from "./idx";
export { loadMnist, loadIdx, subset, labelCounts, type Dataset, type Split } from "./data";
export { REFERENCE, referenceRows } from "./reference";
export { movingAverage, accuracy, confusionMatrix, perClassAccuracy } from "./metrics";
export { INITS, Model, mlp, modelFromWeights, type Init, type LayerWeights } from "./model";
export { OPTIMIZERS, PYTORCH_DEFAULTS, type OptimizerName } from "./optimizers";
export { train, evaluate, type Run } from "./train";
export { saveModel, loadModel } from "./model-io";
export { saveRuns, loadRuns, type LoadedRun } from "./runs-io";
export { SavedFileError } from "./saved-files";
export type { TrainOptions, Progress, LrDecay } from "./settings";
export type { Evaluation, EvalOn } from "./evaluations";
export type { RunSpec } from "./spec";
export { trainAll } from "./sweep";
export { closeWorkers } from "./pool";
export { compare, combinations } from "./compare";
export {
  misclassified, predictionCounts, predictedClasses, largestWeight, initialWeights, weightChange, bestRun, seedSpread,
  accuracyPeak,
} from "./analysis";
export {
  lossFigure, resultsTable, referenceTable, weightGridFigure, hiddenUnitsFigure, samplesFigure, confusionFigure, perClassFigure,
  CLASS_COLORSCALES, UNIT_COLORSCALE, type Figure,
} from "./figures";
export { show } from "./show";
