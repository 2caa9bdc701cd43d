import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { asList, classNames, kindOf } from "../../lib/figures/check";
import { EVIL, EVIL_PLOTLY } from "../helpers/figures";

describe("input checks", () => {
  test("kindOf says the type and size of a value, never its contents", () => {
    assert.equal(kindOf(new Float32Array(784)), "a Float32Array of 784");
    assert.equal(kindOf([1, 2]), "an array of 2");
    assert.equal(kindOf({ a: 1, b: 2 }), "an object with keys a, b");
    assert.equal(kindOf("x"), 'string "x"');
    assert.equal(kindOf(undefined), "undefined");
  });

  test("classNames: default digits, the caller's names escaped, a wrong count named", () => {
    assert.deepEqual(classNames(undefined, 3, "w"), ["0", "1", "2"]);
    assert.deepEqual(classNames([EVIL, "b"], 2, "w"), [EVIL_PLOTLY, "b"]);
    assert.throws(() => classNames(["a"], 2, "w: options.classNames"), /w: options.classNames: expected 2 names/);
  });

  test("asList wraps one run and refuses an empty list", () => {
    assert.deepEqual(asList(1, "runs"), [1]);
    assert.throws(() => asList([], "lossFigure: runs"), /lossFigure: runs: empty list/);
  });
});
