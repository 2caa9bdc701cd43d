import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { CLASS_COLOUR_SCALES, pickScale, positiveOr1, UNIT_COLOUR_SCALE } from "../../lib/figures/colours";

describe("colour scales", () => {
  test("every weight scale runs from 0 to 1 in order with white at the middle (zero weight)", () => {
    for (const scale of [...CLASS_COLOUR_SCALES, UNIT_COLOUR_SCALE]) {
      const stops = scale.map(([stop]) => stop);
      assert.equal(stops[0], 0);
      assert.equal(stops[stops.length - 1], 1);
      assert.deepEqual(stops, [...stops].sort((a, b) => a - b));
      assert.deepEqual(scale.find(([stop]) => stop === 0.5), [0.5, "#ffffff"]);
    }
    assert.equal(CLASS_COLOUR_SCALES.length, 10);
  });

  test("pickScale: the class's own scale by default, one scale for all, or a list repeated", () => {
    assert.equal(pickScale(undefined, 13), CLASS_COLOUR_SCALES[3]);
    assert.equal(pickScale("RdBu", 4), "RdBu");
    assert.equal(pickScale(UNIT_COLOUR_SCALE, 4), UNIT_COLOUR_SCALE, "one list of stops is one scale");
    assert.equal(pickScale(["Blues", "Reds"], 3), "Reds");
  });

  test("a zero or non-finite range becomes 1, so all-zero weights still draw", () => {
    assert.deepEqual([positiveOr1(0), positiveOr1(NaN), positiveOr1(0.25)], [1, 1, 0.25]);
  });
});
