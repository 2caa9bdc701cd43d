import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { curveTable, referenceTable, resultsTable, seedSpreadTable } from "../../lib/figures/tables";
import { finalAverage } from "../../lib/math/metrics";
import { referenceRows } from "../../lib/results/reference";
import { EVIL, EVIL_HTML, run } from "../helpers/figures";

describe("resultsTable", () => {
  test("one escaped row per run with accuracy, final smoothed loss, steps, seconds and divergence", () => {
    const runs = [
      { ...run("lr 0.001", 3750, 16), accuracy: 84.24, seconds: 2.25 },
      { ...run(EVIL, 60, 1000), accuracy: 19.1, diverged: { step: 42, loss: NaN } },
    ];
    const html = resultsTable(runs, { title: EVIL });
    assert.doesNotMatch(html, /<script|<img/);
    assert.ok(html.includes(EVIL_HTML));
    assert.equal(html.match(/<tr>/g)!.length, 3, "a header row and two runs");
    assert.match(html, /font-weight:bold">84\.24</);
    assert.match(html, />3,750</);
    assert.match(html, />2\.3</);
    assert.match(html, /diverged at step 42 \(loss NaN\)/);
    assert.doesNotMatch(html, /19\.1/, "a diverged run's accuracy is never shown as a number");
    assert.match(html, /color:#d62728">diverged</, "its accuracy cell is a red flag instead");
    assert.ok(html.includes(`>${finalAverage(runs[0]!.losses, 10).toFixed(3)}<`));
  });

  test("final loss is the mean of the last 10 losses; a non-finite end shows as a dash", () => {
    const losses = Array.from({ length: 25 }, (_, i) => i);
    assert.match(resultsTable({ ...run("a", 25, 16), losses }), />19\.500</);
    const html = resultsTable({ ...run("nan", 20, 16), losses: [1, NaN] });
    assert.match(html, />—</);
    assert.match(html, /loss not finite/);
  });

  test("a NaN accuracy without a divergence (evaluate: false) says 'not evaluated'; the best is bold among evaluated runs", () => {
    const html = resultsTable([
      { ...run("trained", 10, 16), accuracy: 70 },
      { ...run("skipped", 10, 16), accuracy: NaN },
      { ...run("broken", 10, 16), accuracy: 99, diverged: { step: 3, loss: NaN } },
    ]);
    assert.match(html, />not evaluated</);
    assert.match(html, /font-weight:bold">70\.00</, "a diverged run is never the best");
    assert.doesNotMatch(html, /99\.00/);
  });

  test("a run without accuracy is an error naming it", () => {
    assert.throws(() => resultsTable([{ label: "x", losses: [1] } as never]), /"x".*accuracy must be a number/);
  });
});

test("referenceTable: three numbers per row, agreement marks, escaped text, and a clear error for no rows", () => {
  const [adam, zeros] = referenceRows([["adam", 91.3], ["zeros 784-500-10 sgd 0.5", 9.8]]);
  // Fixed PyTorch statistics: this tests how the table writes them, not what the reference data currently holds.
  const rows = [
    { ...adam!, pytorch: { ...adam!.pytorch, mean: 91.24, std: 0.03, min: 91.21, max: 91.27 } },
    { ...zeros!, pytorch: { ...zeros!.pytorch, mean: 9.58, std: 0, min: 9.58, max: 9.58 } },
  ];
  const html = referenceTable(rows, { title: "vs <original>" });
  assert.match(html, /<caption[^>]*>vs &lt;original&gt;<\/caption>/);
  const bodyRows = html.split("<tr>").slice(2);
  assert.equal(bodyRows.length, 2);
  assert.match(bodyRows[0]!, /784-10, Adam lr 0\.001/);
  assert.match(bodyRows[0]!, /84\.00 <span style="color:#d62728">✗<\/span>/, "the original's Adam number is marked wrong");
  assert.match(bodyRows[0]!, /91\.24 ± 0\.03 \[91\.21–91\.27\]/);
  assert.match(bodyRows[0]!, /91\.30 <span style="color:#2ca02c">✓<\/span>/);
  assert.match(bodyRows[1]!, /<td[^>]*>—<\/td>/, "no original number for a configuration it never ran");
  assert.match(bodyRows[1]!, /<td[^>]*>9\.58<\/td>/, "an exact re-run shows no spread");
  assert.match(html, /PyTorch re-run, 10 seeds: mean ± std \[min–max\] \(%\)/, "the header counts the measured seeds");
  assert.match(html, /✓ inside the measured min–max of the PyTorch 10 seeds widened by 1 point on each side/, "the verdict's rule is printed");
  assert.throws(() => referenceTable([]), /referenceTable: rows must be a non-empty array/);
});

test("referenceTable: a run without a result (diverged) is never shown as a number that agrees", () => {
  const html = referenceTable(referenceRows([["lr 50", NaN]], 0.5));
  assert.match(html, /no result <span style="color:#d62728">✗<\/span>/);
  assert.doesNotMatch(html, /NaN/);
  assert.match(html, /widened by 0\.5 points on each side/);
});

describe("curveTable", () => {
  test("one escaped row per curve: final and best accuracy, the peak's epoch, how it ended, and measuring's cost", () => {
    const peak = { step: 100, epoch: 1, accuracy: 95, final: 94, atEnd: false };
    const row = { label: EVIL, accuracy: 94, peak, points: 6, seconds: 10, evalSeconds: 0.5, extraPercent: 5 };
    const html = curveTable([row, { ...row, label: "up", peak: { ...peak, epoch: 3, final: 95, atEnd: true } }], { title: "curves" });
    assert.doesNotMatch(html, /<script|<img/);
    assert.ok(html.includes(EVIL_HTML));
    assert.equal(html.match(/<tr>/g)!.length, 3, "a header row and two runs");
    assert.match(html, />95\.00<\/td><td[^>]*>1\.0<\/td><td[^>]*>fell to 94\.00</);
    assert.match(html, />3\.0<\/td><td[^>]*>still improving</);
    assert.match(html, />0\.5 \(6 points\)<\/td><td[^>]*>5</);
    assert.throws(() => curveTable([]), /curveTable: rows must be a non-empty array from curveSummary\(run\)/);
  });
});

describe("seedSpreadTable", () => {
  test("one escaped row per group: the value (layers joined), runs, lowest, highest, spread and mean", () => {
    const html = seedSpreadTable([
      { value: 0.5, runs: 5, min: 93.32, max: 96.12, spread: 2.8, mean: 95.14 },
      { value: [784, 500, 10], runs: 2, min: 97, max: 97.5, spread: 0.5, mean: 97.25 },
      { value: EVIL, runs: 1, min: 90, max: 90, spread: 0, mean: 90 },
    ], { setting: "lr", title: "seeds" });
    assert.doesNotMatch(html, /<script|<img/);
    assert.ok(html.includes(EVIL_HTML));
    assert.equal(html.match(/<tr>/g)!.length, 4, "a header row and three groups");
    assert.match(html, /<th[^>]*>lr<\/th>/);
    assert.match(html, />0\.5<\/td><td[^>]*>5<\/td><td[^>]*>93\.32<\/td><td[^>]*>96\.12<\/td><td[^>]*>2\.80<\/td><td[^>]*>95\.14</);
    assert.match(html, />784-500-10</);
    assert.throws(() => seedSpreadTable([]), /seedSpreadTable: groups must be a non-empty array from seedSpread\(runs, key\)/);
  });
});
