import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { CLASS_COLOUR_SCALES } from "../../lib/figures/colours";
import type { LayerWeights } from "../../lib/model/model";
import { hiddenUnitsFigure, weightGridFigure } from "../../lib/figures/weights";
import { annotationTexts, EVIL, EVIL_PLOTLY, layer, ofType, type Trace } from "../helpers/figures";

describe("weightGridFigure", () => {
  test("ten 28×28 heatmaps; class c's pixel (r, col) is kernel[(r*28+col)*10 + c]", () => {
    const weights = layer(10);
    const fig = weightGridFigure(weights);
    const maps = ofType(fig, "heatmap");
    assert.equal(maps.length, 10);
    for (const c of [0, 3, 9]) {
      const z = maps[c]!.z as number[][];
      assert.equal(z.length, 28);
      assert.equal(z[0]!.length, 28);
      for (const [r, col] of [[0, 0], [0, 1], [5, 17], [27, 27]] as const) {
        const expected = weights.kernel[(r * 28 + col) * 10 + c]!;
        assert.ok(Math.abs(z[r]![col]! - expected) <= Math.abs(expected) * 1e-3, `class ${c} (${r}, ${col})`);
      }
    }
    assert.deepEqual(annotationTexts(fig).slice(0, 2), ["class 0", "class 1"]);
  });

  test("colour ranges are symmetric (zmin = -zmax = -max |w| of the image), zero is white", () => {
    const weights = layer(10);
    const fig = weightGridFigure(weights);
    ofType(fig, "heatmap").forEach((map, c) => {
      let max = 0;
      for (let p = 0; p < 784; p++) max = Math.max(max, Math.abs(weights.kernel[p * 10 + c]!));
      assert.equal(map.zmin, -map.zmax);
      assert.ok(Math.abs(map.zmax - max) < 1e-6 * max, `class ${c}: ${map.zmax} vs ${max}`);
      const middle = (map.colorscale as [number, string][]).find(([stop]) => stop === 0.5);
      assert.equal(middle?.[1], "#ffffff");
    });
    const shared = ofType(weightGridFigure(weights, { sharedRange: true }), "heatmap").map((m) => m.zmax);
    assert.equal(new Set(shared).size, 1);
  });

  test("each class has its own colour scale, and the caller can replace them", () => {
    const maps = ofType(weightGridFigure(layer(10)), "heatmap");
    assert.equal(new Set(maps.map((m) => JSON.stringify(m.colorscale))).size, 10);
    assert.deepEqual(maps[4]!.colorscale, CLASS_COLOUR_SCALES[4]);
    const one = ofType(weightGridFigure(layer(10), { colourScales: "RdBu" }), "heatmap");
    assert.ok(one.every((m) => m.colorscale === "RdBu"));
    const each = ofType(weightGridFigure(layer(10), { colourScales: ["Blues", "Reds"] }), "heatmap");
    assert.deepEqual(each.slice(0, 3).map((m) => m.colorscale), ["Blues", "Reds", "Blues"]);
  });

  test("all-zero weights (zero init) get a valid range and show white", () => {
    const zero: LayerWeights = { shape: [784, 10], kernel: new Float32Array(7840), bias: new Float32Array(10) };
    for (const map of ofType(weightGridFigure(zero), "heatmap")) assert.deepEqual([map.zmin, map.zmax], [-1, 1]);
  });

  test("image rows run top to bottom with square pixels and no tick clutter", () => {
    const fig = weightGridFigure(layer(10));
    const x = fig.layout.xaxis as Trace;
    const y = fig.layout.yaxis as Trace;
    assert.ok(y.range[0] > y.range[1], "y axis reversed: row 0 at the top");
    assert.equal(y.scaleanchor, "x");
    assert.equal(x.visible, false);
    assert.equal(y.visible, false);
  });

  test("two labelled sets stack one above the other, with escaped headers", () => {
    const fig = weightGridFigure([
      { label: "lr 0.001", weights: layer(10) },
      { label: EVIL, weights: layer(10) },
    ]);
    const maps = ofType(fig, "heatmap");
    assert.equal(maps.length, 20);
    assert.ok(maps[10]!.y0 > maps[5]!.y0 + 28, "the second set starts below the first set's second row");
    assert.ok(annotationTexts(fig).includes("<b>lr 0.001</b>"));
    assert.ok(annotationTexts(fig).includes(`<b>${EVIL_PLOTLY}</b>`));
    assert.doesNotMatch(JSON.stringify(fig), /<script|<img/);
  });

  test("class names are escaped; wrong shapes are errors that say what was expected", () => {
    const names = [EVIL, ...Array.from({ length: 9 }, (_, i) => `c${i + 1}`)];
    assert.ok(annotationTexts(weightGridFigure(layer(10), { classNames: names })).includes(`class ${EVIL_PLOTLY}`));
    assert.throws(() => weightGridFigure(layer(10, 500)), /expected 784 inputs \(28×28 images\).*got 500.*layer: 0/);
    assert.throws(() => weightGridFigure(layer(500)), /500 outputs.*hiddenUnitsFigure/);
    assert.throws(
      () => weightGridFigure({ shape: [784, 10], kernel: new Float32Array(100), bias: new Float32Array(10) }),
      /kernel: 100 values, expected 784×10 = 7840/,
    );
    assert.throws(() => weightGridFigure(layer(10), { classNames: ["a"] }), /expected 10 names/);
    assert.throws(() => weightGridFigure({ kernel: [] } as never), /expected \{ shape: \[inputs, outputs\], kernel, bias \}/);
  });

  test("perRow sets the images per row, and must be a whole number", () => {
    const maps = ofType(weightGridFigure(layer(10), { perRow: 2 }), "heatmap");
    assert.equal(maps[2]!.x0, maps[0]!.x0, "the third class starts the second row");
    assert.ok(maps[2]!.y0 > maps[1]!.y0);
    assert.throws(() => weightGridFigure(layer(10), { perRow: 0 }), /options.perRow must be an integer >= 1, got 0/);
  });
});

describe("hiddenUnitsFigure", () => {
  test("draws the chosen units' incoming weights, each with a symmetric range", () => {
    const weights = layer(500);
    const fig = hiddenUnitsFigure(weights, { units: [0, 7, 499] });
    const maps = ofType(fig, "heatmap");
    assert.equal(maps.length, 3);
    assert.deepEqual(annotationTexts(fig), ["unit 0", "unit 7", "unit 499"]);
    const z = maps[2]!.z as number[][];
    assert.ok(Math.abs(z[3]![4]! - weights.kernel[(3 * 28 + 4) * 500 + 499]!) < 1e-2);
    for (const map of maps) assert.equal(map.zmin, -map.zmax);
    assert.equal(ofType(hiddenUnitsFigure(weights), "heatmap").length, 16, "default: the first 16 units");
  });

  test("a unit outside the layer is an error naming it", () => {
    assert.throws(() => hiddenUnitsFigure(layer(500), { units: [3, 500] }), /units\[1\] = 500; expected an integer in 0..499/);
  });
});
