import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { parallelFigure, settingShares, type ParallelRun } from "../../lib/figures/parallel";
import { etaSquared } from "../../lib/math/metrics";

/** 3 optimizers × 4 learning rates at batch 64, accuracy mostly decided by the optimizer; one diverged run. */
function grid(): ParallelRun[] {
  const base: Record<string, number> = { sgd: 80, momentum: 90, adam: 95 };
  return ["sgd", "momentum", "adam"].flatMap((optimizer) => [1e-4, 1e-3, 1e-2, 0.1].map((lr, i) => ({
    label: `${optimizer} ${lr}`, accuracy: optimizer === "adam" && lr === 0.1 ? NaN : base[optimizer]! + i, settings: { optimizer, lr, batchSize: 64 },
    layers: [784, 500, 10], seed: 0, init: "torch",
  })));
}

describe("parallelFigure", () => {
  test("one axis per setting that varies, then test accuracy; a line per run, a diverged one grey and dashed under the axis", () => {
    const html = parallelFigure(grid());
    const titles = [...html.matchAll(/font-weight="bold" fill="#2a3f5f">([^<]*)</g)].map((match) => match[1]);
    assert.deepEqual(titles, ["optimizer", "lr (log)", "test accuracy"], "batch size, layers, seed and init do not vary: no axis");
    assert.equal((html.match(/class="mie-pc-line"/g) ?? []).length, 12);
    assert.match(html, /stroke="#999"[^>]*stroke-dasharray="4 3"><title>adam 0\.1: diverged \(not evaluated\)<\/title>/);
    assert.match(html, />diverged<\/text>/);
    assert.match(html, /11 evaluated runs/);
  });

  test("η² per setting: the grouping's between-group variance over the total, largest first, over the evaluated runs", () => {
    const runs = grid();
    const shares = settingShares(runs);
    const evaluated = runs.filter((run) => Number.isFinite(run.accuracy));
    const accuracies = evaluated.map((run) => run.accuracy);
    assert.deepEqual(shares.map((share) => share.key), ["optimizer", "lr"]);
    assert.equal(shares[0]!.share, etaSquared(accuracies, evaluated.map((run) => (run.settings as { optimizer: string }).optimizer)));
    assert.ok(shares[0]!.share > 0.9 && shares[1]!.share < 0.2, JSON.stringify(shares));
    assert.match(parallelFigure(runs), /η² \(one-way ANOVA\)/);
  });

  test("etaSquared: 1 when the group fixes the value, 0 when every group has the same mean, NaN without spread", () => {
    assert.equal(etaSquared([1, 1, 5, 5], ["a", "a", "b", "b"]), 1);
    assert.equal(etaSquared([1, 5, 1, 5], ["a", "a", "b", "b"]), 0);
    assert.ok(Number.isNaN(etaSquared([3, 3], ["a", "b"])));
    assert.throws(() => etaSquared([1, 2], ["a"]), /etaSquared: 2 values but 1 groups/);
  });

  test("labels are text, never markup", () => {
    const runs = grid().slice(0, 2).map((run, i) => ({ ...run, label: `<img src=x onerror=alert(${i})>` }));
    const html = parallelFigure(runs);
    assert.doesNotMatch(html, /<img/);
    assert.match(html, /&lt;img src=x onerror=alert\(0\)&gt;/);
  });

  test("bad input: no runs, runs that vary nothing, a run without accuracy", () => {
    assert.throws(() => parallelFigure([]), /parallelFigure: runs: empty list/);
    const same = grid().slice(0, 1);
    assert.throws(() => parallelFigure([...same, { ...same[0]!, label: "copy" }]), /no setting varies among these 2 runs/);
    assert.throws(() => parallelFigure([{ label: "x" } as ParallelRun]), /runs\[0\]: expected a run \{ label, accuracy, settings \}/);
  });
});
