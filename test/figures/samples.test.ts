import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { samplesFigure } from "../../lib/figures/samples";
import { annotationTexts, EVIL, EVIL_PLOTLY, ofType, subtitleText } from "../helpers/figures";

describe("samplesFigure", () => {
  const count = 12;
  const images = new Uint8Array(count * 784).map((_, i) => (i % 784 === 300 ? 255 : 0));
  const labels = Uint8Array.from({ length: count }, (_, i) => i % 10);
  const split = { images, labels };

  test('titles say "This is a N", one 28×28 image per sample, dark ink on white', () => {
    const fig = samplesFigure(split, { count: 5 });
    const maps = ofType(fig, "heatmap");
    assert.equal(maps.length, 5);
    assert.deepEqual(annotationTexts(fig), ["This is a 0", "This is a 1", "This is a 2", "This is a 3", "This is a 4"]);
    assert.equal((maps[0]!.z as number[][])[10]![20], 255, "pixel 300 is row 10, column 20");
    assert.deepEqual([maps[0]!.zmin, maps[0]!.zmax], [0, 255]);
  });

  test("with predictions, mistakes are red and framed", () => {
    const predictions = Uint8Array.from(labels, (l, i) => (i === 2 ? 7 : l));
    const fig = samplesFigure(split, { count: 4, predictions });
    const annotations = fig.layout.annotations!;
    assert.equal(annotations[2]!.text, "label 2 · predicted 7");
    assert.equal(annotations[2]!.font?.color, "#d62728");
    assert.notEqual(annotations[1]!.font?.color, "#d62728");
    assert.equal(fig.layout.shapes!.length, 1);
    assert.match(subtitleText(fig), /1 of 4 wrong/);
  });

  test("class names are escaped; mismatched lengths are errors", () => {
    const names = [EVIL, "b", "c", "d", "e", "f", "g", "h", "i", "j"];
    assert.equal(annotationTexts(samplesFigure(split, { count: 1, classNames: names }))[0], `This is a ${EVIL_PLOTLY}`);
    assert.throws(() => samplesFigure({ images, labels: labels.subarray(0, 5) }), /12 images but 5 labels/);
    assert.throws(() => samplesFigure({ images: images.subarray(0, 1000), labels }), /1000 values, not a multiple of 28×28 = 784/);
    assert.throws(() => samplesFigure(split, { count: 13 }), /images 0..12 requested but there are 12/);
    assert.throws(() => samplesFigure(split, { predictions: [1, 2] }), /one class per label \(12\)/);
  });

  test("takes a split, not bare pixels; perRow sets the images per row", () => {
    assert.throws(() => samplesFigure(images as never, labels as never), /split must be \{ images, labels \} \(e\.g\. data\.train\), got a Uint8Array of 9408/);
    const maps = ofType(samplesFigure(split, { count: 4, perRow: 2 }), "heatmap");
    assert.equal(maps[2]!.x0, maps[0]!.x0, "the third image starts the second row");
    assert.throws(() => samplesFigure(split, { perRow: 1.5 }), /options.perRow must be an integer >= 1, got 1.5/);
  });
});

test("samplesFigure with indices draws exactly those images, in order, and rejects ones outside the split", () => {
  const images = new Uint8Array(4 * 4).map((_, i) => Math.floor(i / 4) * 60);
  const split = { images, labels: Uint8Array.of(0, 1, 2, 3), rows: 2, cols: 2 };
  const fig = samplesFigure(split, { indices: [3, 1], predictions: Uint8Array.of(0, 7, 2, 3) });
  const heatmaps = fig.data.filter((trace) => trace.type === "heatmap") as unknown as { z: number[][] }[];
  assert.equal(heatmaps.length, 2);
  assert.deepEqual(heatmaps.map((h) => h.z[0]![0]), [180, 60]);
  assert.match(JSON.stringify(fig.layout), /1 of 2 wrong/);
  assert.throws(() => samplesFigure(split, { indices: [4] }), { message: "samplesFigure: image 4 requested but there are 4 (indices 0..3)" });
});
