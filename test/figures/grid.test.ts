import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { gridFigure, toRows, type Panel } from "../../lib/figures/grid";
import { annotationTexts, ofType } from "../helpers/figures";

const panel = (title: string, border?: string): Panel => ({
  z: toRows([0, 1, 2, 3, 4, 5], 2, 3, 4),
  title,
  colourScale: "Greys",
  zmin: 0,
  zmax: 5,
  hover: title,
  valueFormat: "d",
  ...(border ? { border } : {}),
});

describe("gridFigure", () => {
  test("perRow images per row, rows of `rows` × `cols` pixels, blocks below each other under their header", () => {
    const fig = gridFigure({
      blocks: [{ header: "first", panels: ["a", "b", "c"].map((t) => panel(t)) }, { header: "second", panels: [panel("d", "#f00")] }],
      perRow: 2,
      rows: 2,
      cols: 3,
      title: "grid",
    });
    const maps = ofType(fig, "heatmap");
    assert.equal(maps.length, 4);
    assert.equal(maps[2]!.x0, maps[0]!.x0, "the third image starts the second row");
    assert.ok(maps[1]!.x0 >= maps[0]!.x0 + 3, "images in a row do not overlap: each is `cols` wide");
    assert.ok(maps[2]!.y0 >= maps[0]!.y0 + 2, "rows do not overlap: each image is `rows` high");
    assert.ok(maps[3]!.y0 > maps[2]!.y0, "the second block is below the first");
    assert.deepEqual(annotationTexts(fig), ["<b>first</b>", "a", "b", "c", "<b>second</b>", "d"]);
    assert.equal(fig.layout.shapes!.length, 1, "only the bordered panel is framed");
  });

  test("toRows: row-major values to rows, 4 significant digits, non-finite values as gaps", () => {
    assert.deepEqual(toRows([1.23456, 2, NaN, 4], 2, 2, 4), [[1.235, 2], [null, 4]]);
  });
});
