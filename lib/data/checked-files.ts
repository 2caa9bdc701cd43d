/**
 * Files are checked before they are read: a regular file (after following links) of a size the caller can bound.
 * A weights file linked to `/dev/zero` would otherwise be read forever, a FIFO would block the read until a writer
 * came, and a folder or a 7 GB file would fail late and say nothing useful. Every loader of the library (IDX
 * datasets here, saved models and runs in `saved/`) opens its files through this module.
 *
 * Files are opened with O_NONBLOCK, so opening a FIFO returns at once instead of waiting for a writer, and what is
 * checked is the opened file itself (`fstat`), so a link swapped between the check and the read changes nothing.
 */
import { constants as bufferConstants } from "node:buffer";
import { constants } from "node:fs";
import { open, realpath, type FileHandle } from "node:fs/promises";
import type { Stats } from "node:fs";

/**
 * A file that cannot be read as asked: not a regular file, of the wrong size, or unreadable. `path` is the file,
 * `problem` what is wrong with it; the message is both. Loaders above turn it into their own error type.
 * @example try { await readRegularFile("/dev/zero", { maxBytes: 1000 }); } catch (error) { if (error instanceof FileCheckError) console.log(error.problem); } // "a character device (/dev/zero), not a regular file"
 */
export class FileCheckError extends Error {
  override readonly name = "FileCheckError";
  constructor(readonly path: string, readonly problem: string) {
    super(`${path}: ${problem}`);
  }
}

/** How big a file may be: exactly `bytes`, or at most `maxBytes`; `expected` says where the number comes from. */
export interface SizeRule {
  bytes?: number;
  maxBytes?: number;
  /** What promised that size, for the message, e.g. "model.json's weightsManifest[0]" or "a runs file's limit". */
  expected?: string;
}

/** A regular file opened for reading, with its size at opening. Always `close()` it. */
export interface OpenedFile {
  path: string;
  size: number;
  /** Read `length` bytes from `position` (fewer only at the end of the file). */
  read(length: number, position: number): Promise<Buffer>;
  /** The whole file: exactly the `size` bytes it had when opened (fails if it changed since). */
  readAll(): Promise<Buffer>;
  close(): Promise<void>;
}

/** The largest file one read can hold in memory (Node's buffer limit, 4 GiB on 64-bit). */
export const MAX_READ_BYTES: number = bufferConstants.MAX_LENGTH;

/**
 * "31,400 bytes" below 10 kB, otherwise "7.0 GB (7,000,000,000 bytes)": sizes as the error messages write them.
 * @example describeSize(31400); // "31,400 bytes"
 */
export function describeSize(bytes: number): string {
  const exact = `${bytes.toLocaleString("en-US")} bytes`;
  if (bytes < 10_000) return exact;
  const [value, unit] = bytes >= 1e9 ? [bytes / 1e9, "GB"] : bytes >= 1e6 ? [bytes / 1e6, "MB"] : [bytes / 1e3, "kB"];
  return `${value.toFixed(1)} ${unit} (${exact})`;
}

/**
 * Open `path` for reading if it is a regular file (links followed), failing at once with a `FileCheckError` that
 * says what it is otherwise (a folder, a FIFO, a character device such as /dev/zero, …) or why it cannot be opened.
 * @example const file = await openRegularFile("data/train-images-idx3-ubyte"); try { file.size; } finally { await file.close(); }
 */
export async function openRegularFile(path: string): Promise<OpenedFile> {
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    throw new FileCheckError(path, openProblem(error as NodeJS.ErrnoException));
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw new FileCheckError(path, `${await describeKind(path, stats)}, not a regular file`);
    return opened(path, handle, stats.size);
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/**
 * Read a whole regular file whose size obeys `rule`, checking both before reading a byte: within a second whatever
 * `path` is, with a `FileCheckError` naming the file and what it is.
 * @example const bytes = await readRegularFile("models/a/model.json", { maxBytes: 16e6, expected: "the limit for a model.json" });
 */
export async function readRegularFile(path: string, rule: SizeRule = {}): Promise<Buffer> {
  const file = await openRegularFile(path);
  try {
    checkSize(file, rule);
    return await file.readAll();
  } finally {
    await file.close();
  }
}

/**
 * Fail with a `FileCheckError` unless the opened file's size obeys `rule` (and fits in memory at all).
 * @example checkSize(file, { bytes: 31400, expected: "model.json's weightsManifest[0]" });
 */
export function checkSize(file: Pick<OpenedFile, "path" | "size">, rule: SizeRule): void {
  const from = rule.expected ? ` (${rule.expected})` : "";
  if (rule.bytes !== undefined && file.size !== rule.bytes) {
    const hint = file.size < rule.bytes ? "; truncated?" : "";
    throw new FileCheckError(file.path, `${describeSize(file.size)} where ${describeSize(rule.bytes)} were expected${from}${hint}`);
  }
  if (rule.maxBytes !== undefined && file.size > rule.maxBytes) {
    throw new FileCheckError(file.path, `${describeSize(file.size)}, more than the ${describeSize(rule.maxBytes)} allowed${from}`);
  }
  if (file.size > MAX_READ_BYTES) {
    throw new FileCheckError(file.path, `${describeSize(file.size)}: too big to read into memory (at most ${describeSize(MAX_READ_BYTES)} at once)`);
  }
}

function opened(path: string, handle: FileHandle, size: number): OpenedFile {
  const read = async (length: number, position: number): Promise<Buffer> => {
    const buffer = Buffer.allocUnsafe(length);
    let filled = 0;
    while (filled < length) {
      const { bytesRead } = await handle.read(buffer, filled, length - filled, position + filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return filled === length ? buffer : buffer.subarray(0, filled);
  };
  return {
    path,
    size,
    read,
    async readAll() {
      const bytes = await read(size, 0);
      // One byte past the end tells a file that grew since it was opened from one that did not.
      if (bytes.length !== size || (await read(1, size)).length !== 0) {
        throw new FileCheckError(path, `changed while it was read (${describeSize(size)} when opened)`);
      }
      return bytes;
    },
    close: () => handle.close(),
  };
}

/**
 * What a file is, in words: "a folder", "a FIFO (named pipe)", "a character device", "a regular file", ….
 * @example fileKind(statSync("/dev/zero")); // "a character device"
 */
export function fileKind(stats: Stats): string {
  return stats.isFile() ? "a regular file"
    : stats.isDirectory() ? "a folder"
    : stats.isFIFO() ? "a FIFO (named pipe)"
    : stats.isCharacterDevice() ? "a character device"
    : stats.isBlockDevice() ? "a block device"
    : stats.isSocket() ? "a socket"
    : "a special file";
}

async function describeKind(path: string, stats: Stats): Promise<string> {
  const kind = fileKind(stats);
  const target = await realpath(path).catch(() => path);
  return target === path ? kind : `${kind} (${target}, through a link)`;
}

function openProblem(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case "ENOENT": return "not found";
    case "EACCES": case "EPERM": return "permission denied (cannot read it)";
    case "ENOTDIR": return "not found (a part of the path is a file, not a folder)";
    case "ELOOP": return "a loop of symbolic links";
    case "ENXIO": return "a socket or device that cannot be opened, not a regular file";
    default: return `cannot be opened (${error.code ?? error.message})`;
  }
}
