import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { libraryVersion, SavedFileError, writeFileAtomic } from "../lib/saved/saved-files";

test("writeFileAtomic creates the folder, replaces the file whole and leaves no temporary file", async () => {
  const folder = mkdtempSync(join(tmpdir(), "mie-saved-files-"));
  try {
    const path = join(folder, "deeper", "out.json");
    await writeFileAtomic(path, "first");
    await writeFileAtomic(path, new Uint8Array([104, 105]));
    assert.equal(readFileSync(path, "utf8"), "hi");
    assert.deepEqual(readdirSync(join(folder, "deeper")), ["out.json"]);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});

test("a failed write keeps the old file and removes its temporary file", async () => {
  const folder = mkdtempSync(join(tmpdir(), "mie-saved-files-"));
  try {
    const path = join(folder, "taken");
    mkdirSync(path);
    writeFileSync(join(path, "inside"), "x");
    await assert.rejects(writeFileAtomic(path, "data"), (error: unknown) =>
      error instanceof SavedFileError && error.path === path && /a folder, not a file the library may replace/.test(error.message));
    assert.deepEqual(readdirSync(folder), ["taken"]);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});

test("SavedFileError names the file and the field; libraryVersion reads lib/package.json", () => {
  const error = new SavedFileError("runs.json", "runs[0].lr", "expected a number");
  assert.equal(error.message, "runs.json: runs[0].lr: expected a number");
  assert.equal(error.name, "SavedFileError");
  const { version } = JSON.parse(readFileSync(join(__dirname, "..", "lib", "package.json"), "utf8"));
  assert.equal(libraryVersion(), `@mie/lib ${version}`);
});

test("writers creating the same new folders at once all succeed (each level is made once, the others see it made)", async () => {
  const folder = mkdtempSync(join(tmpdir(), "mie-saved-files-"));
  try {
    const deep = join(folder, "a", "b", "c");
    await Promise.all(Array.from({ length: 8 }, (_, i) => writeFileAtomic(join(deep, `${i}.json`), String(i))));
    assert.deepEqual(readdirSync(deep).sort(), Array.from({ length: 8 }, (_, i) => `${i}.json`).sort());
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});
