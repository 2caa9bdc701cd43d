/**
 * The IDX file format (MNIST, Fashion-MNIST, KMNIST): a big-endian header, then the raw values.
 * Pure: bytes in, validated array out. Reading files and pairing images with labels is `data`'s job.
 *
 * Header: two zero bytes, a type code (0x08 = unsigned byte, the only type these datasets use),
 * the number of dimensions, then one 32-bit big-endian size per dimension.
 */

/** A parsed IDX array: its dimension sizes and its values (a view into the file's bytes, not a copy). */
export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

/** Magic numbers of the two files of a dataset: 0x00000803 (images, 3 dims) and 0x00000801 (labels, 1 dim). */
export const IDX_IMAGES_MAGIC = 2051;
export const IDX_LABELS_MAGIC = 2049;

const UNSIGNED_BYTE = 0x08;

/** An IDX header: the dimension sizes, the header's length and how many values (bytes) it announces. */
export interface IdxHeader {
  dims: number[];
  headerLength: number;
  values: number;
}

/** The most header bytes an IDX file can have (255 dimensions): read this much to learn a file's size. */
export const IDX_MAX_HEADER = 4 + 4 * 255;

/**
 * Parse the header at the start of IDX bytes (the rest may be absent): what the file must hold, so a loader can
 * check a file's size before reading it.
 * @example idxHeader(bytes.subarray(0, IDX_MAX_HEADER), "train-labels-idx1-ubyte", 2049).values; // 60000
 */
export function idxHeader(bytes: Uint8Array, name: string, expectedMagic?: number): IdxHeader {
  if (bytes.length < 4) {
    throw new Error(`${name}: expected an IDX file of at least 4 header bytes, found ${bytes.length} bytes`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  if (expectedMagic !== undefined && magic !== expectedMagic) {
    throw new Error(`${name}: expected magic ${expectedMagic}, found ${magic}${magicHint(magic)}`);
  }
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new Error(`${name}: expected an IDX header starting with two zero bytes, found ${bytes[0]} ${bytes[1]} (not an IDX file?)`);
  }
  if (bytes[2] !== UNSIGNED_BYTE) {
    throw new Error(`${name}: expected IDX type code 0x08 (unsigned byte), found 0x${bytes[2]!.toString(16).padStart(2, "0")}`);
  }
  const rank = bytes[3]!;
  if (rank < 1) {
    throw new Error(`${name}: expected at least 1 dimension in the IDX header, found 0`);
  }
  const headerLength = 4 + 4 * rank;
  if (bytes.length < headerLength) {
    throw new Error(`${name}: truncated header: expected ${headerLength} bytes for ${rank} dimensions, found ${bytes.length}`);
  }
  const dims: number[] = [];
  for (let d = 0; d < rank; d++) dims.push(view.getUint32(4 + 4 * d, false));
  return { dims, headerLength, values: dims.reduce((a, b) => a * b, 1) };
}

/**
 * Fail unless an IDX file of `bytes` bytes (header included) holds exactly the values its header announces.
 * @example checkIdxLength(idxHeader(bytes, name), bytes.length, name);
 */
export function checkIdxLength(header: IdxHeader, bytes: number, name: string): void {
  const found = bytes - header.headerLength;
  if (found !== header.values) {
    const what = found < header.values ? "truncated" : "too long";
    const size = found >= 1e9 ? ` (${(found / 1e9).toFixed(1)} GB)` : found >= 1e6 ? ` (${(found / 1e6).toFixed(1)} MB)` : "";
    throw new Error(
      `${name}: ${what}: header says ${header.dims.join("×")} = ${header.values} values, found ${found.toLocaleString("en-US")} bytes of data${size}`,
    );
  }
}

/**
 * Parse IDX bytes, checking the header and that the file holds exactly the values it announces.
 * `name` is used in error messages, so pass the file's path.
 * @example parseIdx(bytes, "train-labels-idx1-ubyte", 2049).dims; // [60000] for the MNIST training labels
 */
export function parseIdx(bytes: Uint8Array, name: string, expectedMagic?: number): IdxArray {
  const header = idxHeader(bytes, name, expectedMagic);
  checkIdxLength(header, bytes.length, name);
  return { dims: header.dims, data: bytes.subarray(header.headerLength) };
}

/**
 * Build IDX bytes from sizes and values: the inverse of `parseIdx`, used to write small datasets and test files.
 * @example encodeIdx([2], Uint8Array.of(7, 1)); // a 2-label file
 */
export function encodeIdx(dims: readonly number[], data: Uint8Array): Uint8Array {
  const expected = dims.reduce((a, b) => a * b, 1);
  if (data.length !== expected) {
    throw new RangeError(`encodeIdx: dims ${dims.join("×")} need ${expected} values, got ${data.length}`);
  }
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(out.buffer);
  out[2] = UNSIGNED_BYTE;
  out[3] = dims.length;
  dims.forEach((size, d) => view.setUint32(4 + 4 * d, size, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

function magicHint(magic: number): string {
  if (magic === IDX_LABELS_MAGIC) return " (is this a labels file?)";
  if (magic === IDX_IMAGES_MAGIC) return " (is this an images file?)";
  if ((magic & 0xffff0000) === 0x1f8b0000) return " (gzip data: name the file with a .gz extension)";
  return "";
}
