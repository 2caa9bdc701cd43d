/**
 * The one supported way to write a plain TypeScript script with top-level await against the library: an `.mts`
 * file run by tsx (an ES module importing the CommonJS package `@mie/lib` by name). Uses the built lib/dist.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";

test("a .mts script with top-level await imports @mie/lib by name and runs under tsx", () => {
  const script = join(__dirname, "fixtures", "top-level-await.mts");
  const child = spawnSync(process.execPath, ["--import", "tsx", script], { cwd: join(__dirname, ".."), encoding: "utf8" });
  assert.equal(child.status, 0, child.stderr);
  assert.equal(child.stdout.trim(), "10 images, 7850 parameters");
});
