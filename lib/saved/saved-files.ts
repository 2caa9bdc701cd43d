/**
 * What files the library saves have in common: they are written atomically (readers see the old file or the new
 * one, never half of one), every file is checked before it is read (a regular file of a size its reader can bound,
 * see `data/checked-files`), anything that cannot be written or read back fails with a `SavedFileError` naming the
 * file and the reason, and each records the library version that wrote it.
 */
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { lstat, mkdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { FileCheckError, fileKind, readRegularFile, type SizeRule } from "../data/checked-files";

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
 * folder is atomic). Creates the folder if needed. Fails with a `SavedFileError` naming the path and the reason
 * (permission, a file where a folder should be, a special file in the way), leaving nothing half-written.
 * @example await writeFileAtomic("results/runs.json", JSON.stringify(saved));
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const folder = dirname(path);
  await ensureFolder(folder);
  await checkReplaceable(path);
  const temporary = join(folder, `.${basename(path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  try {
    await writeFile(temporary, data, { flag: "wx" });
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    const code = (error as NodeJS.ErrnoException).code;
    const target = code === "EISDIR" || code === "ENOTEMPTY" || code === "EEXIST" ? path : folder;
    throw new SavedFileError(target, "", `cannot write ${target === folder ? `${basename(path)} into this folder` : "this file"}: ${reason(error)}`);
  }
}

/**
 * Create `folder` and any missing parents, one level at a time, failing with a `SavedFileError` naming the first
 * path that is in the way. (A recursive `mkdir` spins for ever under `/proc`, where every mkdir says ENOENT.)
 * @example await ensureFolder("models/784-500-10");
 */
export async function ensureFolder(folder: string): Promise<void> {
  const missing: string[] = [];
  let current = resolve(folder);
  for (;;) {
    const stats = await stat(current).catch((error: NodeJS.ErrnoException) => error);
    if (stats instanceof Error) {
      if (stats.code !== "ENOENT" && stats.code !== "ENOTDIR") throw new SavedFileError(current, "", `cannot use this folder: ${reason(stats)}`);
      const parent = dirname(current);
      if (parent === current) throw new SavedFileError(current, "", `cannot use this folder: ${reason(stats)}`);
      missing.push(current);
      current = parent;
      continue;
    }
    if (!stats.isDirectory()) {
      throw new SavedFileError(current, "", `${fileKind(stats)}, not a folder: cannot create ${resolve(folder)} in it`);
    }
    break;
  }
  for (const dir of missing.reverse()) {
    try {
      await mkdir(dir);
    } catch (error) {
      // Another writer may have created it meanwhile.
      if ((error as NodeJS.ErrnoException).code === "EEXIST" && (await stat(dir).catch(() => null))?.isDirectory()) continue;
      throw new SavedFileError(dir, "", `cannot create this folder: ${reason(error)}`);
    }
  }
}

/** A path the library would replace must be a regular file (or nothing yet): never a folder, a device or a FIFO. */
async function checkReplaceable(path: string): Promise<void> {
  const link = await lstat(path).catch(() => null);
  if (!link || link.isFile()) return;
  const target = link.isSymbolicLink() ? await stat(path).catch(() => null) : link;
  if (target && !target.isFile()) {
    throw new SavedFileError(path, "", `${fileKind(target)}${link.isSymbolicLink() ? " (through a link)" : ""}, not a file the library may replace`);
  }
}

/** An operating-system error in words, its code kept for searching. */
function reason(error: unknown): string {
  const { code, message } = error as NodeJS.ErrnoException;
  const words: Record<string, string> = {
    EACCES: "permission denied", EPERM: "operation not permitted", EROFS: "read-only file system",
    ENOSPC: "no space left on the device", EDQUOT: "disk quota exceeded", ENOTDIR: "a part of the path is not a folder",
    EISDIR: "a folder is in the way", ENOTEMPTY: "a folder is in the way", EEXIST: "something else is in the way",
    ENOENT: "the file system refuses it (no such file or folder)", ENAMETOOLONG: "the name is too long",
  };
  return code && words[code] ? `${words[code]} (${code})` : message;
}

/**
 * Read a saved file after checking it (a regular file whose size obeys `size`), failing with a `SavedFileError`
 * naming it: missing (saying what was expected there), not a regular file, too big, or unreadable.
 * @example const bytes = await readSavedFile("models/a/weights-1f.bin", "a weights file", { bytes: 31400 });
 */
export async function readSavedFile(path: string, expected: string, size: SizeRule): Promise<Buffer> {
  try {
    return await readRegularFile(path, size);
  } catch (error) {
    if (!(error instanceof FileCheckError)) throw error;
    throw new SavedFileError(path, "", error.problem === "not found" ? `not found (expected ${expected})` : `${error.problem} (expected ${expected})`);
  }
}

/** The size `readSavedJson` allows unless told otherwise: a JSON file is parsed whole, in memory. */
export const JSON_FILE_LIMIT = 256e6;

/**
 * Read and parse a saved JSON file of at most `maxBytes` (default `JSON_FILE_LIMIT`, 256 MB), failing with a `SavedFileError` when it is missing
 * (saying what was expected there), not a regular file, bigger than that, unreadable or not JSON (most often a
 * truncated file).
 * @example const json = await readSavedJson("results/lr.json", "a .json file written by saveRuns", 256e6);
 */
export async function readSavedJson(path: string, expected: string, maxBytes = JSON_FILE_LIMIT): Promise<unknown> {
  const limit = "the limit for a JSON file, which is parsed whole in memory";
  const text = (await readSavedFile(path, expected, { maxBytes, expected: limit })).toString("utf8");
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
