/**
 * The run store on disk: one folder per finished run, named by the run's key (`runs/run-key.ts`), holding its
 * numbers (`run.json`, as `saveRuns` writes them, with `run.csv`), its trained weights (`weights.bin`, float32 in
 * the engine's layouts) and `entry.json`: when and where it trained, what its key was made of, and the sha256 of
 * the other two files. An entry is written whole in a hidden temporary folder and renamed into place, so a killed
 * kernel leaves either a complete entry or none; an entry whose files do not match their checksums is refused with
 * a `SavedFileError` naming it, never loaded.
 */
import { createHash, randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { readdir, readFile, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { loadRuns, saveRuns } from "./runs-io";
import { libraryVersion, readSavedJson, SavedFileError, writeFileAtomic } from "./saved-files";
import { snapshotModel, type ModelSnapshot } from "../model/snapshot";
import type { StoredMark } from "../train/progress";
import type { Run } from "../train/loop";

const FORMAT = "@mie/lib stored run";
const VERSION = 1;
const LAYOUTS = ["unitMajor", "inputMajor"] as const;

/** A run read back from the store: its numbers, its trained model as data, and where and when it trained. */
export interface StoredRun {
  run: Omit<Run, "model" | "stored">;
  model: ModelSnapshot;
  mark: StoredMark;
}

/**
 * The folder of the entry with this key.
 * @example storedRunFolder(".mie-runs", key); // ".mie-runs/3f2a…"
 */
export function storedRunFolder(root: string, key: string): string {
  if (!/^[0-9a-f]{64}$/.test(key)) throw new RangeError(`run store: expected a key of 64 hex digits (sha256), got ${JSON.stringify(key)}`);
  return join(root, key);
}

/**
 * The stored run with this key, or null when there is none. A damaged entry (a file missing, truncated, edited,
 * or not what this library writes) throws a `SavedFileError` naming the file and what is wrong.
 * @example const hit = await readStoredRun(".mie-runs", key); if (hit) console.log(hit.mark.at);
 */
export async function readStoredRun(root: string, key: string): Promise<StoredRun | null> {
  const folder = storedRunFolder(root, key);
  if (!(await exists(folder))) return null;
  const entryPath = join(folder, "entry.json");
  const entry = await readSavedJson(entryPath, "the entry of a stored run");
  const field = (name: string, ok: (value: unknown) => boolean, expected: string): unknown => {
    const value = (entry as Record<string, unknown> | null)?.[name];
    if (!ok(value)) throw new SavedFileError(entryPath, name, `expected ${expected}, got ${JSON.stringify(value) ?? "nothing"}`);
    return value;
  };
  const isString = (value: unknown): boolean => typeof value === "string";
  field("format", (value) => value === FORMAT, `"${FORMAT}"`);
  field("version", (value) => value === VERSION, String(VERSION));
  field("key", (value) => value === key, `this entry's key ${key}`);
  const files = field("sha256", (value) => typeof value === "object" && value !== null, "the checksums of run.json and weights.bin") as Record<string, unknown>;
  const layouts = field("layouts", (value) => Array.isArray(value) && value.every((layout) => (LAYOUTS as readonly unknown[]).includes(layout)), `a list of ${LAYOUTS.join(" or ")}`) as ModelSnapshot["params"][number]["layout"][];
  const trainedSteps = field("trainedSteps", (value) => Number.isInteger(value) && (value as number) >= 0, "a whole number") as number;
  const mark: StoredMark = {
    at: field("at", isString, "a date") as string,
    host: field("host", isString, "a host name") as string,
    backend: field("backend", isString, "a backend name") as string,
    seconds: field("seconds", (value) => typeof value === "number", "a number of seconds") as number,
    entry: folder,
  };

  const runPath = join(folder, "run.json");
  const weightsPath = join(folder, "weights.bin");
  const [runBytes, weightBytes] = await Promise.all([readEntryFile(runPath), readEntryFile(weightsPath)]);
  checkSum(runPath, runBytes, files["run.json"]);
  checkSum(weightsPath, weightBytes, files["weights.bin"]);
  const [loaded] = await loadRuns(runPath);
  if (!loaded) throw new SavedFileError(runPath, "runs", "expected one run, got none");
  const { loadedFrom: _from, savedBy: _by, ...run } = loaded;

  // The store keeps MLPs' runs: their layers are sizes (`storable` in runs/train-with-store).
  const layers = run.layers as number[];
  if (layouts.length !== layers.length - 1) {
    throw new SavedFileError(entryPath, "layouts", `expected ${layers.length - 1} layers for ${layers.join("→")}, got ${layouts.length}`);
  }
  const sizes = layouts.map((_, k) => layers[k + 1]! * (layers[k]! + 1));
  const total = sizes.reduce((sum, size) => sum + size, 0);
  if (weightBytes.length !== total * 4) {
    throw new SavedFileError(weightsPath, "", `expected ${total * 4} bytes (${total} float32 weights of ${layers.join("→")}), got ${weightBytes.length}`);
  }
  // A fresh copy, so the Float32Arrays are aligned and own their memory.
  const all = new Float32Array(new Uint8Array(weightBytes).buffer);
  let offset = 0;
  const params = layouts.map((layout, k) => {
    const values = all.slice(offset, offset + sizes[k]!);
    offset += sizes[k]!;
    return { values, layout };
  });
  return { run, model: { layers: [...layers], init: run.init as ModelSnapshot["init"], seed: run.seed, params, trainedSteps }, mark };
}

/**
 * Store a finished run under `key`: its numbers, its model's weights, and `about` (what the key was made of,
 * kept for people reading the entry). The whole entry appears at once; an entry already there is replaced.
 * @example const mark = await writeStoredRun(".mie-runs", key, run, { layers: run.layers });
 */
export async function writeStoredRun(root: string, key: string, run: Run, about: unknown): Promise<StoredMark> {
  const folder = storedRunFolder(root, key);
  if (!swept.has(root)) {
    swept.add(root);
    await removeAbandonedWrites(root);
  }
  const temporary = join(root, `.${key}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  const snapshot = snapshotModel(run.model);
  const weights = new Uint8Array(snapshot.params.reduce((sum, layer) => sum + layer.values.byteLength, 0));
  let offset = 0;
  for (const { values } of snapshot.params) {
    weights.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), offset);
    offset += values.byteLength;
  }
  const mark: StoredMark = { at: new Date().toISOString(), host: hostname(), backend: run.backend, seconds: run.seconds, entry: folder };
  try {
    await saveRuns({ ...run, stored: undefined }, join(temporary, "run.json"));
    await writeFileAtomic(join(temporary, "weights.bin"), weights);
    const runBytes = await readFile(join(temporary, "run.json"));
    const entry = {
      format: FORMAT, version: VERSION, savedBy: libraryVersion(), key, at: mark.at, host: mark.host, backend: mark.backend,
      seconds: mark.seconds, label: run.label, trainedSteps: snapshot.trainedSteps, layouts: snapshot.params.map((layer) => layer.layout),
      sha256: { "run.json": sha256(runBytes), "weights.bin": sha256(weights) }, key_made_of: about,
    };
    await writeFileAtomic(join(temporary, "entry.json"), `${JSON.stringify(entry, null, 1)}\n`);
    await rm(folder, { recursive: true, force: true }); // a damaged entry being replaced
    await rename(temporary, folder).catch(async (error: NodeJS.ErrnoException) => {
      // Another kernel stored the same run meanwhile: the same numbers, keep theirs.
      if (error.code !== "ENOTEMPTY" && error.code !== "EEXIST") throw error;
    });
  } finally {
    await rm(temporary, { recursive: true, force: true });
  }
  return mark;
}

/** Store folders whose abandoned writes this process has already removed (once each is enough). */
const swept = new Set<string>();
/** A temporary entry folder: `.<key>.<pid of the writer>.<random>.tmp`. */
const TEMPORARY = /^\.[0-9a-f]{64}\.(\d+)\.[0-9a-f]{8}\.tmp$/;
/** Older than this, a temporary entry is abandoned whoever wrote it (a write takes well under a second). */
const ABANDONED_AFTER_MS = 60 * 60 * 1000;

/**
 * Remove the temporary entry folders that killed writers left in the store: those whose writing process is gone
 * (same machine) or that are over an hour old (a store on a shared disk). A live writer's folder is left alone.
 * Returns how many were removed.
 * @example await removeAbandonedWrites(".mie-runs"); // 1 after a kernel was killed mid-write
 */
export async function removeAbandonedWrites(root: string): Promise<number> {
  const names = await readdir(root).catch(() => [] as string[]);
  let removed = 0;
  for (const name of names) {
    const pid = TEMPORARY.exec(name)?.[1];
    if (pid === undefined) continue;
    const path = join(root, name);
    const age = Date.now() - ((await stat(path).catch(() => null))?.mtimeMs ?? Date.now());
    if (processAlive(Number(pid)) && age < ABANDONED_AFTER_MS) continue;
    await rm(path, { recursive: true, force: true });
    removed++;
  }
  return removed;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"; // alive, another user's
  }
}

/**
 * Remove the entry with this key (e.g. a damaged one), if there is one.
 * @example await removeStoredRun(".mie-runs", key);
 */
export async function removeStoredRun(root: string, key: string): Promise<void> {
  await rm(storedRunFolder(root, key), { recursive: true, force: true });
}

async function readEntryFile(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new SavedFileError(path, "", (error as NodeJS.ErrnoException).code === "ENOENT" ? "missing from its entry" : (error as Error).message);
  }
}

function checkSum(path: string, bytes: Uint8Array, expected: unknown): void {
  const actual = sha256(bytes);
  if (actual !== expected) {
    throw new SavedFileError(path, "", `does not match the checksum its entry recorded (sha256 ${actual}, expected ${String(expected)}): damaged or edited`);
  }
}

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
