import { test } from "node:test";
import assert from "node:assert/strict";
import * as figures from "../../lib/figures";

test("the figures package exports the figures and scales, not its helpers", () => {
  assert.deepEqual(Object.keys(figures).sort(), [
    "CLASS_COLOUR_SCALES",
    "UNIT_COLOUR_SCALE",
    "confusionFigure",
    "curveTable",
    "exploreFigure",
    "featureMapsFigure",
    "filtersFigure",
    "hiddenUnitsFigure",
    "lossFigure",
    "lrFinderFigure",
    "parallelFigure",
    "perClassFigure",
    "referenceTable",
    "resultsTable",
    "samplesFigure",
    "seedSpreadTable",
    "settingShares",
    "sweepLiveFigure",
    "weightGridFigure",
  ]);
});
