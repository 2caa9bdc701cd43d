/**
 * The engine gives the bits it gave before it moved to lib/engine/ (commit 4b72628): every bench configuration and
 * the other update rules, trained for their first steps, have the losses and final weights fingerprinted there
 * (`scripts/bit-fingerprints.ts`, `test/fixtures/bit-fingerprints.json`, one list per backend).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { FINGERPRINT_CASES, FINGERPRINTS_FILE, fingerprint } from "../scripts/bit-fingerprints";
import { loadMnist } from "../lib/data/data";
import { initBackend } from "../lib/engine/backend";

test("every bench configuration trains to 4b72628's losses and weights, bit for bit", async () => {
  const backend = (await initBackend()).name;
  const expected = (JSON.parse(readFileSync(FINGERPRINTS_FILE, "utf8")) as Record<string, { id: string }[]>)[backend];
  assert.ok(expected, `${FINGERPRINTS_FILE} has no fingerprints for backend ${backend}`);
  assert.deepEqual(expected.map((print) => print.id), FINGERPRINT_CASES.map((c) => c.id));
  const full = await loadMnist();
  for (const [k, c] of FINGERPRINT_CASES.entries()) {
    assert.deepEqual(await fingerprint(c, full), expected[k], `${c.id} on ${backend}`);
  }
});
