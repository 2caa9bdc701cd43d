import { test } from "node:test";
import assert from "node:assert/strict";
import { encodeIdx, IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, parseIdx } from "../lib/data/idx";

test("parses a 3-dimensional image file written by hand", () => {
  const bytes = Uint8Array.of(0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12);
  const parsed = parseIdx(bytes, "tiny-images", IDX_IMAGES_MAGIC);
  assert.deepEqual(parsed.dims, [2, 2, 3]);
  assert.deepEqual([...parsed.data], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  assert.equal(parsed.data.buffer, bytes.buffer, "the values are a view into the file's bytes, not a copy");
});

test("encodeIdx and parseIdx round-trip, with sizes above 255 in big-endian", () => {
  const labels = new Uint8Array(300).map((_, i) => i % 10);
  const bytes = encodeIdx([300], labels);
  assert.deepEqual([...bytes.subarray(0, 8)], [0, 0, 8, 1, 0, 0, 1, 44]);
  const parsed = parseIdx(bytes, "labels", IDX_LABELS_MAGIC);
  assert.deepEqual(parsed.dims, [300]);
  assert.deepEqual(parsed.data, labels);
});

test("a labels file where images are expected names the file, both magics and the likely mix-up", () => {
  const labels = encodeIdx([2], Uint8Array.of(1, 2));
  assert.throws(
    () => parseIdx(labels, "train-images-idx3-ubyte", IDX_IMAGES_MAGIC),
    { message: "train-images-idx3-ubyte: expected magic 2051, found 2049 (is this a labels file?)" },
  );
});

test("gzip bytes in a file without .gz are recognised", () => {
  const gz = Uint8Array.of(0x1f, 0x8b, 8, 0, 0, 0, 0, 0);
  assert.throws(() => parseIdx(gz, "x-idx1-ubyte", IDX_LABELS_MAGIC), /gzip data: name the file with a \.gz extension/);
});

test("truncated data, extra data, truncated header and a wrong type code each say what was expected", () => {
  const good = encodeIdx([2, 2, 2], new Uint8Array(8));
  assert.throws(() => parseIdx(good.subarray(0, good.length - 1), "cut"), {
    message: "cut: truncated: header says 2×2×2 = 8 values, found 7 bytes of data",
  });
  const long = new Uint8Array(good.length + 3);
  long.set(good);
  assert.throws(() => parseIdx(long, "long"), /long: too long: header says 2×2×2 = 8 values, found 11 bytes/);
  assert.throws(() => parseIdx(good.subarray(0, 10), "head"), /head: truncated header: expected 16 bytes for 3 dimensions, found 10/);
  assert.throws(() => parseIdx(Uint8Array.of(0, 0, 0x0d, 1, 0, 0, 0, 0), "floats"), /floats: expected IDX type code 0x08 \(unsigned byte\), found 0x0d/);
  assert.throws(() => parseIdx(Uint8Array.of(1, 2), "tiny"), /tiny: expected an IDX file of at least 4 header bytes, found 2/);
  assert.throws(() => parseIdx(Uint8Array.of(0x50, 0x4b, 8, 1, 0, 0, 0, 0), "zip"), /zip: expected an IDX header starting with two zero bytes, found 80 75/);
});

test("encodeIdx refuses values that do not match the sizes", () => {
  assert.throws(() => encodeIdx([2, 2], new Uint8Array(3)), /dims 2×2 need 4 values, got 3/);
});
