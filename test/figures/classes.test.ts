import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { confusionFigure, perClassFigure } from "../../lib/figures/classes";
import { EVIL, EVIL_PLOTLY, ofType, run, titleText, type Trace } from "../helpers/figures";

describe("confusionFigure and perClassFigure", () => {
  const confusion = Array.from({ length: 10 }, (_, r) => Array.from({ length: 10 }, (_, c) => (r === c ? 900 + r : (r + c) % 4)));

  test("true classes are rows top to bottom, predicted classes columns; counts annotated", () => {
    const fig = confusionFigure(confusion, { title: EVIL });
    const [mistakes, correct] = ofType(fig, "heatmap");
    assert.equal(mistakes!.z[3][3], null, "the mistakes layer has no diagonal");
    assert.equal(correct!.z[3][3], 903);
    assert.equal(mistakes!.z[1][2], 3);
    assert.equal(mistakes!.zmax, 3, "mistakes use their own scale");
    assert.equal((fig.layout.yaxis as Trace).autorange, "reversed");
    const nonZero = confusion.flat().filter((v) => v !== 0).length;
    assert.equal(fig.layout.annotations!.length, nonZero);
    assert.match(String((fig.layout.xaxis as Trace).title.text), /predicted/);
    assert.match(String((fig.layout.yaxis as Trace).title.text), /true/);
    assert.equal(titleText(fig), EVIL_PLOTLY);
    assert.match(mistakes!.text[1][2], /true 1 · predicted 2<br>3 images/);
  });

  test("a non-square matrix is an error", () => {
    assert.throws(() => confusionFigure([[1, 2], [3]]), /confusion\[1\] has an array of 1; expected 2 counts/);
  });

  test("per-class accuracy: bars from numbers or from runs; the axis starts just below the worst class, and says so", () => {
    const values = [99, 98, 90, 91, 92, 89, 95, 93, 88, 90];
    const single = perClassFigure(values);
    assert.equal(ofType(single, "bar").length, 1);
    assert.deepEqual(ofType(single, "bar")[0]!.y, values);
    assert.deepEqual((single.layout.yaxis as Trace).range, [80, 100]);
    assert.match(JSON.stringify(single.layout.title), /the axis starts at 80%/);
    const poor = perClassFigure([3, 50, 97]);
    assert.deepEqual((poor.layout.yaxis as Trace).range, [0, 100]);
    assert.doesNotMatch(JSON.stringify(poor.layout.title), /axis starts/);
    const two = perClassFigure([
      { ...run("a", 10, 16), perClassAccuracy: values },
      { ...run(EVIL, 10, 16), perClassAccuracy: values },
    ]);
    assert.deepEqual(ofType(two, "bar").map((t) => t.name), ["a", EVIL_PLOTLY]);
    assert.throws(() => perClassFigure(run("none", 10, 16)), /"none".*has no perClassAccuracy/);
  });
});
