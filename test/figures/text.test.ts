import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { escapeHtml, fmtFixed, plotlyText } from "../../lib/figures/text";
import { formatCount, formatLoss } from "../../lib/math/format";
import { EVIL, EVIL_HTML, EVIL_PLOTLY } from "../helpers/figures";

describe("escaping", () => {
  test("escapeHtml turns markup into HTML text; plotlyText escapes only what Plotly decodes", () => {
    assert.equal(escapeHtml(EVIL), EVIL_HTML);
    assert.equal(escapeHtml(5), "5");
    assert.equal(plotlyText(EVIL), EVIL_PLOTLY);
  });
});

describe("number formats", () => {
  test("thousands separators, a dash for missing values, small losses keep two significant digits", () => {
    assert.equal(formatCount(3750), "3,750");
    assert.equal(formatCount(NaN), "NaN");
    assert.equal(fmtFixed(84.236, 2), "84.24");
    assert.equal(fmtFixed(NaN, 2), "—");
    assert.equal(formatLoss(0.41234), "0.412");
    assert.equal(formatLoss(0.0042), "0.0042");
    assert.equal(formatLoss(Infinity), "Infinity");
  });
});
