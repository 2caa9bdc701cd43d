/**
 * What files the library saves have in common: they are written atomically (readers see the old file or the new
 * one, never half of one), a file that cannot be read back fails with a `SavedFileError` naming the file and the
 * field, and each records the library version that wrote it.
 */
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/**
 * A saved model or results file that cannot be read back: missing, truncated, or not what the library wrote.
 * `path` is the file, `field` the part of it that is wrong (empty when the whole file is).
 * @example try { await loadRuns("old.json"); } catch (error) { if (error instanceof SavedFileError) console.log(error.path, error.field); }
 */
export class SavedFileError extends Error {
  override readonly name = "SavedFileError";
  constructor(readonly path: string, readonly field: string, problem: string) {
    super(`${path}: ${field ? `${field}: ` : ""}${problem}`);
  }
}

/**
 * Write `data` to `path` atomically: into a temporary file beside it, then renamed over it (a rename within one
 * folder is atomic). Creates the folder if needed.
 * @example await writeFileAtomic("results/runs.json", JSON.stringify(saved));
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const folder = dirname(path);
  await mkdir(folder, { recursive: true });
  const temporary = join(folder, `.${basename(path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  try {
    await writeFile(temporary, data);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/**
 * Read and parse a saved JSON file, failing with a `SavedFileError` when it is missing (saying what was expected
 * there), unreadable or not JSON (most often a truncated file).
 * @example const json = await readSavedJson("results/lr.json", "a .json file written by saveRuns");
 */
export async function readSavedJson(path: string, expected: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === "ENOENT";
    throw new SavedFileError(path, "", missing ? `not found (expected ${expected})` : (error as Error).message);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new SavedFileError(path, "", `not valid JSON (${(error as Error).message}); truncated?`);
  }
}

let version: string | undefined;

/**
 * "@mie/lib 0.1.0": the package and version that wrote a file, from the package's own package.json (one folder
 * above the sources' folder, or two above the compiled `dist/saved/`).
 * @example libraryVersion(); // "@mie/lib 0.1.0"
 */
export function libraryVersion(): string {
  if (version === undefined) {
    const found = [join(__dirname, "..", "package.json"), join(__dirname, "..", "..", "package.json")]
      .filter((path) => existsSync(path))
      .map((path) => JSON.parse(readFileSync(path, "utf8")) as { name?: string; version?: string })
      .find((json) => json.name === "@mie/lib");
    version = `@mie/lib ${found?.version ?? "(unknown version)"}`;
  }
  return version;
}
