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
      losses: [],
      done: false,
    });
    assert.ok(text.includes(EVIL_HTML));
    assert.match(text, /step 1,000 \/ 3,750 \(26%\) · 6,400 samples\/s · loss 0\.4321 · 2\.5 s/);
  });
});
