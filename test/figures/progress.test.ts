import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { progressText } from "../../lib/figures/progress";
import { EVIL, EVIL_HTML } from "../helpers/figures";

describe("progressText", () => {
  test("says step of total, speed, loss and time, with the label escaped", () => {
    const text = progressText({
      label: EVIL,
      step: 1000,
      totalSteps: 3750,
      samplesSeen: 16000,
      seconds: 2.5,
      samplesPerSecond: 6400.4,
      loss: 0.43214,
      losses: new Float32Array(0),
      batchSize: 16,
      epoch: 1,
      diverged: null,
      done: false,
    });
    assert.ok(text.includes(EVIL_HTML));
    assert.match(text, /step 1,000 \/ 3,750 \(26%\) · 6,400 samples\/s · loss 0\.432 · 2\.5 s/);
  });

  test("with an accuracy curve: the latest point and what measuring cost, as a share of the training time", () => {
    const text = progressText({
      label: "784-500-10", step: 1000, totalSteps: 3750, samplesSeen: 16000, seconds: 4, samplesPerSecond: 4000, loss: 0.3,
      losses: new Float32Array(0), batchSize: 16, epoch: 1, done: false,
      evaluations: [{ step: 500, accuracy: 90.1 }, { step: 1000, accuracy: 93.456 }], evalSeconds: 0.2,
    });
    assert.match(text, /4\.0 s · accuracy 93\.46% at step 1,000 · measuring 0\.2 s \(5% of training\)</);
  });

  test("a diverged run says where and on which loss, in red, instead of a speed and a running loss", () => {
    const text = progressText({
      label: "lr 1e6", step: 6, totalSteps: 40, samplesSeen: 96, seconds: 0.04, samplesPerSecond: 2400, loss: NaN,
      losses: Float32Array.from([2.3, 40, 900, 1e5, 1e9, NaN]), diverged: { step: 6, loss: NaN }, done: true,
      batchSize: 16, epoch: 1,
    });
    assert.match(text, /color:#d62728">lr 1e6 · diverged at step 6 \(loss NaN\), of 40 steps · 0\.0 s · not evaluated</);
    assert.doesNotMatch(text, /done:|samples\/s/);
  });
});
