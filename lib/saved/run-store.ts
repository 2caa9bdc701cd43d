/**
 * The run store on disk: one folder per finished run, named by the run's key (`runs/run-key.ts`), holding its
 * numbers (`run.json`, as `saveRuns` writes them, with `run.csv`), its trained weights (`weights.bin`, float32 in
 * the engine's layouts; a network's trained arrays then its batch-norm statistics, with `network.json`: its
 * description, topology, init, seed, scaling, steps and each array's length) and `entry.json`: when and where it
 * trained, what its key was made of, and the sha256 of the other files. An entry is written whole in a hidden temporary folder and renamed into place, so a killed
 * kernel leaves either a complete entry or none; an entry whose files do not match their checksums is refused with
 * a `SavedFileError` naming it, never loaded.
 */
import { createHash, randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { readdir, readFile, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { loadRuns, saveRuns } from "./runs-io";
import { libraryVersion, readSavedJson, SavedFileError, writeFileAtomic } from "./saved-files";
import type { NetworkSpec } from "../engine/layers";
import { NetworkModel } from "../model/network-model";
import { checkNetworkNumbers, snapshotModel, snapshotNetwork, type ModelSnapshot, type NetworkSnapshot } from "../model/snapshot";
import type { StoredMark } from "../train/progress";
import type { AnyRun } from "../train/loop";

const FORMAT = "@mie/lib stored run";
const VERSION = 1;
const LAYOUTS = ["unitMajor", "inputMajor"] as const;

/** A run read back from the store: its numbers, its trained model as data, and where and when it trained. */
export interface StoredRun {
  run: Omit<AnyRun, "model" | "stored">;
  model: ModelSnapshot | NetworkSnapshot;
  mark: StoredMark;
}

/** What `network.json` holds: a network's snapshot without its numbers, and each array's length in `weights.bin`. */
type NetworkFile = Omit<NetworkSnapshot, "params" | "stats"> & { params: number[]; stats: number[] };

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
  field("format", (value) => value === FORMAT, `"${FORMAT}"`);
  field("version", (value) => value === VERSION, String(VERSION));
  field("key", (value) => value === key, `this entry's key ${key}`);
  const files = field("sha256", (value) => typeof value === "object" && value !== null, "the checksums of run.json and weights.bin") as Record<string, unknown>;
  const kind = field("model", (value) => value === undefined || value === "network", `"network" or nothing (an MLP)`);
  if (kind === "network") return readNetworkEntry(folder, entryPath, files, markOf(field, folder));
  const layouts = field("layouts", (value) => Array.isArray(value) && value.every((layout) => (LAYOUTS as readonly unknown[]).includes(layout)), `a list of ${LAYOUTS.join(" or ")}`) as ModelSnapshot["params"][number]["layout"][];
  const trainedSteps = field("trainedSteps", (value) => Number.isInteger(value) && (value as number) >= 0, "a whole number") as number;
  const mark = markOf(field, folder);
  const weightsPath = join(folder, "weights.bin");
  const [run, weightBytes] = await Promise.all([readEntryRun(folder, files), readEntryFile(weightsPath)]);
  checkSum(weightsPath, weightBytes, files["weights.bin"]);

  // An MLP's run: its layers are sizes.
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
export async function writeStoredRun(root: string, key: string, run: AnyRun, about: unknown): Promise<StoredMark> {
  const folder = storedRunFolder(root, key);
  if (!swept.has(root)) {
    swept.add(root);
    await removeAbandonedWrites(root);
  }
  const temporary = join(root, `.${key}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  const net = run.model instanceof NetworkModel ? snapshotNetwork(run.model) : null;
  const snapshot = net ?? snapshotModel(run.model as Exclude<AnyRun["model"], NetworkModel>);
  const arrays = net ? [...net.params, ...net.stats] : (snapshot as ModelSnapshot).params.map((layer) => layer.values);
  const weights = new Uint8Array(arrays.reduce((sum, values) => sum + values.byteLength, 0));
  let offset = 0;
  for (const values of arrays) {
    weights.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), offset);
    offset += values.byteLength;
  }
  const mark: StoredMark = { at: new Date().toISOString(), host: hostname(), backend: run.backend, seconds: run.seconds, entry: folder };
  try {
    await saveRuns({ ...run, stored: undefined }, join(temporary, "run.json"));
    await writeFileAtomic(join(temporary, "weights.bin"), weights);
    const runBytes = await readFile(join(temporary, "run.json"));
    const sums: Record<string, string> = { "run.json": sha256(runBytes), "weights.bin": sha256(weights) };
    if (net) {
      const { params, stats, ...about } = net;
      const file: NetworkFile = { ...about, params: params.map((values) => values.length), stats: stats.map((values) => values.length) };
      const text = `${JSON.stringify(file)}\n`;
      await writeFileAtomic(join(temporary, "network.json"), text);
      sums["network.json"] = sha256(Buffer.from(text));
    }
    const entry = {
      format: FORMAT, version: VERSION, savedBy: libraryVersion(), key, at: mark.at, host: mark.host, backend: mark.backend,
      seconds: mark.seconds, label: run.label, trainedSteps: snapshot.trainedSteps,
      // Honest about exactness: a run retraining may not repeat bit for bit says so in its entry.
      bitExact: !run.notRepeatable, ...(run.notRepeatable ? { notRepeatable: run.notRepeatable } : {}),
      ...(net ? { model: "network" } : { layouts: (snapshot as ModelSnapshot).params.map((layer) => layer.layout) }),
      sha256: sums, key_made_of: about,
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

type EntryField = (name: string, ok: (value: unknown) => boolean, expected: string) => unknown;

function markOf(field: EntryField, folder: string): StoredMark {
  const isString = (value: unknown): boolean => typeof value === "string";
  return {
    at: field("at", isString, "a date") as string,
    host: field("host", isString, "a host name") as string,
    backend: field("backend", isString, "a backend name") as string,
    seconds: field("seconds", (value) => typeof value === "number", "a number of seconds") as number,
    entry: folder,
  };
}

/** The entry's run.json, checked against its checksum, as one run. */
async function readEntryRun(folder: string, files: Record<string, unknown>): Promise<StoredRun["run"]> {
  const runPath = join(folder, "run.json");
  checkSum(runPath, await readEntryFile(runPath), files["run.json"]);
  const [loaded] = await loadRuns(runPath);
  if (!loaded) throw new SavedFileError(runPath, "runs", "expected one run, got none");
  const { loadedFrom: _from, savedBy: _by, ...run } = loaded;
  return run;
}

/** A network's entry: run.json, network.json (its description) and weights.bin (its numbers), each checked. */
async function readNetworkEntry(folder: string, entryPath: string, files: Record<string, unknown>, mark: StoredMark): Promise<StoredRun> {
  const networkPath = join(folder, "network.json");
  const weightsPath = join(folder, "weights.bin");
  const [run, networkBytes, weightBytes] = await Promise.all([readEntryRun(folder, files), readEntryFile(networkPath), readEntryFile(weightsPath)]);
  checkSum(networkPath, networkBytes, files["network.json"]);
  checkSum(weightsPath, weightBytes, files["weights.bin"]);
  const file = JSON.parse(networkBytes.toString("utf8")) as NetworkFile;
  const lengths = (name: "params" | "stats"): number[] => {
    const list = file[name];
    if (!Array.isArray(list) || !list.every((n) => Number.isInteger(n) && n >= 0)) throw new SavedFileError(networkPath, name, `expected a list of array lengths, got ${JSON.stringify(list)}`);
    return list;
  };
  const [paramLengths, statLengths] = [lengths("params"), lengths("stats")];
  const total = [...paramLengths, ...statLengths].reduce((sum, length) => sum + length, 0);
  if (weightBytes.length !== total * 4) {
    throw new SavedFileError(weightsPath, "", `expected ${total * 4} bytes (${total} float32 numbers of ${run.layers.join("-")}), got ${weightBytes.length}`);
  }
  const all = new Float32Array(new Uint8Array(weightBytes).buffer);
  let offset = 0;
  const take = (length: number): Float32Array => all.slice(offset, (offset += length));
  const snapshot: NetworkSnapshot = { ...file, kind: "network", params: paramLengths.map(take), stats: statLengths.map(take) };
  if (typeof snapshot.topology !== "string" || typeof snapshot.spec !== "object" || snapshot.spec === null) {
    throw new SavedFileError(networkPath, "spec", "expected a network's description and its topology");
  }
  try {
    // A network TensorFlow.js trains is checked against its rebuilt model's weights when they are written into it.
    if (snapshot.tfjs) checkTfjsRead(snapshot.tfjs);
    else checkNetworkNumbers(snapshot.spec as NetworkSpec, snapshot, "weights.bin");
  } catch (error) {
    throw new SavedFileError(entryPath, "model", (error as Error).message);
  }
  return { run, model: snapshot, mark };
}

/** The shapes and config a network TensorFlow.js trains is rebuilt from, as the store wrote them. */
function checkTfjsRead(read: unknown): void {
  const value = read as Partial<Record<keyof import("../model/tfjs-route").TfjsRead, unknown>>;
  const ok = typeof value === "object" && value !== null && typeof value.config === "string" && typeof value.sequential === "boolean" &&
    Array.isArray(value.inputShape) && value.inputShape.every(Number.isInteger) && Number.isInteger(value.classes) &&
    typeof value.probabilities === "boolean" && Array.isArray(value.names) && typeof value.why === "string";
  if (!ok) throw new Error("network.json: tfjs: expected the config, input shape, classes and layer names of a network TensorFlow.js trains");
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
