/**
 * Issue 21's table, row by row: files that are not what they claim (a link to /dev/zero, a FIFO, a 7 GB file where
 * 31,400 bytes were promised, a 540 MB runs file) and folders that cannot be written (unwritable, under a regular
 * file, /proc/x) each get a named error that names the path, within seconds and without reading the file. The calls
 * run in a child process (helpers/attempt.ts) killed after 90 s, so a regression fails instead of hanging the run.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import * as tf from "@tensorflow/tfjs";
import { loadIdx, type Split } from "../lib/data/data";
import { encodeIdx } from "../lib/data/idx";
import { mlp } from "../lib/model/model";
import { saveModel } from "../lib/saved/model-io";
import { initBackend } from "../lib/engine/backend";
import { train } from "../lib/train/loop";
import { attempt, canHonourModes, type Attempt, type Call } from "./helpers/attempt";
import { smallMnist } from "./helpers/small-mnist";

const folder = mkdtempSync(join(tmpdir(), "mie-hostile-"));

before(() => initBackend());
after(() => rmSync(folder, { recursive: true, force: true }));

/** A 784 → 10 model saved into `name`: its weights file holds 31,400 bytes. */
async function savedModel(name: string): Promise<{ dir: string; weights: string }> {
  const dir = join(folder, name);
  await saveModel(mlp([784, 10], { seed: 0 }), dir);
  return { dir, weights: join(dir, readdirSync(dir).find((file) => file.startsWith("weights-"))!) };
}

function mkfifo(path: string): void {
  const made = spawnSync("mkfifo", [path]);
  assert.equal(made.status, 0, `mkfifo ${path}: ${String(made.stderr)}`);
}

/** A call that should fail with a `name` error whose message matches `pattern` (and names `path`). */
interface Refusal {
  call: [Call, ...unknown[]];
  name: string;
  pattern: RegExp;
  path?: string;
}

/** Make the calls in one child; assert each failed as its refusal says. */
async function refused(refusals: Refusal[], ownerOnly = false): Promise<Attempt[]> {
  const results = await attempt(refusals.map((refusal) => refusal.call), { ownerOnly });
  refusals.forEach((refusal, i) => check(results[i]!, refusal));
  return results;
}

function check(result: Attempt, { call: [call], name, pattern, path }: Refusal): void {
  assert.equal(result.ok, false, `${call} should have failed`);
  assert.equal(result.name, name, result.message);
  assert.match(result.message!, pattern);
  if (path !== undefined) {
    assert.equal(result.path, path);
    assert.ok(result.message!.startsWith(path), `the message names the path: ${result.message}`);
  }
}

describe("reading: every file is checked before a byte is read", () => {
  test("loadModel: weights linked to /dev/zero, a FIFO, 7 GB where model.json promises 31,400 bytes; model.json a FIFO or a folder", async () => {
    const zero = await savedModel("zero");
    rmSync(zero.weights);
    symlinkSync("/dev/zero", zero.weights);
    const fifo = await savedModel("fifo");
    rmSync(fifo.weights);
    mkfifo(fifo.weights);
    const huge = await savedModel("huge");
    truncateSync(huge.weights, 7e9); // sparse: nothing is written
    const jsonFifo = await savedModel("json-fifo");
    rmSync(join(jsonFifo.dir, "model.json"));
    mkfifo(join(jsonFifo.dir, "model.json"));
    const jsonFolder = await savedModel("json-folder");
    rmSync(join(jsonFolder.dir, "model.json"));
    mkdirSync(join(jsonFolder.dir, "model.json"));
    const results = await refused([
      { call: ["loadModel", zero.dir], name: "SavedFileError", path: zero.weights,
        pattern: /: a character device \(\/dev\/zero, through a link\), not a regular file \(a weights file named in model\.json \(weightsManifest\[0\]\.paths\)\)$/ },
      { call: ["loadModel", fifo.dir], name: "SavedFileError", path: fifo.weights, pattern: /: a FIFO \(named pipe\), not a regular file/ },
      { call: ["loadModel", huge.dir], name: "SavedFileError", path: huge.weights,
        pattern: /: 7\.0 GB \(7,000,000,000 bytes\) where 31\.4 kB \(31,400 bytes\) were expected \(the float32 weights model\.json \(weightsManifest\[0\]\) describes\)$/ },
      { call: ["loadModel", jsonFifo.dir], name: "SavedFileError", path: join(jsonFifo.dir, "model.json"),
        pattern: /model\.json: a FIFO \(named pipe\), not a regular file \(expected model\.json, as saveModel writes it\)$/ },
      { call: ["loadModel", jsonFolder.dir], name: "SavedFileError", path: join(jsonFolder.dir, "model.json"), pattern: /model\.json: a folder, not a regular file/ },
    ]);
    assert.ok(results[2]!.rss < 1e9, `the 7 GB file was not read: ${(results[2]!.rss / 1e6).toFixed(0)} MB resident`);
  });

  test("loadRuns of a 540 MB file says it is too big, with its size, without reading it", async () => {
    const path = join(folder, "huge-runs.json");
    writeFileSync(path, "");
    truncateSync(path, 540e6); // sparse: nothing is written
    const fifo = join(folder, "runs-fifo-in.json");
    mkfifo(fifo);
    const [result] = await refused([
      { call: ["loadRuns", path], name: "SavedFileError", path,
        pattern: /huge-runs\.json: 540\.0 MB \(540,000,000 bytes\), more than the 256\.0 MB \(256,000,000 bytes\) allowed \(the limit for a JSON file, which is parsed whole in memory\)/ },
      { call: ["loadRuns", fifo], name: "SavedFileError", path: fifo, pattern: /: a FIFO \(named pipe\), not a regular file \(expected a \.json file written by saveRuns\)$/ },
    ]);
    assert.ok(result!.rss < 270e6, `not read: ${(result!.rss / 1e6).toFixed(0)} MB resident, for a 540 MB file`);
  });

  test("loadIdx: a labels file that is a FIFO, a link to /dev/zero, 7 GB where its header promises 12 labels, or a gzip bomb", async () => {
    const dataset = (name: string): string => {
      const dir = join(folder, name);
      mkdirSync(dir);
      writeFileSync(join(dir, "train-images-idx3-ubyte"), encodeIdx([12, 2, 3], new Uint8Array(72)));
      writeFileSync(join(dir, "t10k-images-idx3-ubyte"), encodeIdx([12, 2, 3], new Uint8Array(72)));
      writeFileSync(join(dir, "t10k-labels-idx1-ubyte"), encodeIdx([12], new Uint8Array(12).fill(1)));
      return join(dir, "train-labels-idx1-ubyte");
    };
    const fifo = dataset("idx-fifo");
    mkfifo(fifo);
    const zero = dataset("idx-zero");
    symlinkSync("/dev/zero", zero);
    const huge = dataset("idx-huge");
    writeFileSync(huge, encodeIdx([12], new Uint8Array(12)));
    truncateSync(huge, 7e9); // sparse: nothing is written
    const bomb = dataset("idx-bomb");
    // 12 labels announced, 20 MB of zeros behind them: about 20 kB gzipped.
    writeFileSync(`${bomb}.gz`, gzipSync(Buffer.concat([encodeIdx([12], new Uint8Array(12)), Buffer.alloc(20e6)])));
    const results = await refused([
      { call: ["loadIdx", join(fifo, "..")], name: "Error", pattern: new RegExp(`^${fifo}: a FIFO \\(named pipe\\), not a regular file \\(expected an IDX file\\)$`) },
      { call: ["loadIdx", join(zero, "..")], name: "Error", pattern: new RegExp(`^${zero}: a character device \\(/dev/zero, through a link\\), not a regular file`) },
      { call: ["loadIdx", join(huge, "..")], name: "Error",
        pattern: new RegExp(`^${huge}: too long: header says 12 = 12 values, found 6,999,999,992 bytes of data \\(7\\.0 GB\\)$`) },
      { call: ["loadIdx", join(bomb, "..")], name: "Error",
        pattern: new RegExp(`^${bomb}\\.gz: too long: header says 12 = 12 values, but it decompresses to more than \\d+ bytes of data$`) },
    ]);
    assert.ok(results[2]!.rss < 1e9, `not read: ${(results[2]!.rss / 1e6).toFixed(0)} MB resident`);
  });
});

describe("writing: every failure is a SavedFileError naming the path, quickly, with nothing half-written", () => {
  // As root, the child gives up CAP_DAC_OVERRIDE (attempt's `ownerOnly`) instead of becoming another user, who might
  // not reach a checkout in a private folder (mode 700, as /root or mktemp -d give): the same EACCES, anywhere.
  const modes = canHonourModes() || "root, and no setpriv (util-linux) to run the child without CAP_DAC_OVERRIDE: root writes anywhere";
  test("saveModel into a folder the user cannot write (as root: without CAP_DAC_OVERRIDE)", { skip: modes !== true && modes }, async (t) => {
    const locked = join(folder, "locked");
    mkdirSync(join(locked, "existing"), { recursive: true });
    chmodSync(join(locked, "existing"), 0o555);
    chmodSync(locked, 0o555);
    t.after(() => [locked, join(locked, "existing")].forEach((dir) => chmodSync(dir, 0o755))); // so a user can remove them
    await refused([
      { call: ["saveModel", join(locked, "model")], name: "SavedFileError", path: join(locked, "model"),
        pattern: /locked\/model: cannot create this folder: permission denied \(EACCES\)$/ },
      { call: ["saveModel", join(locked, "existing")], name: "SavedFileError", path: join(locked, "existing"),
        pattern: /existing: cannot write weights-[0-9a-f]+\.bin into this folder: permission denied \(EACCES\)$/ },
    ], true);
    assert.deepEqual(readdirSync(join(locked, "existing")), [], "nothing half-written");
  });

  test("saveModel under a regular file, into /proc/x (no endless recursive mkdir), and saveRuns onto a FIFO or a folder", async () => {
    const file = join(folder, "a-file");
    writeFileSync(file, "not a folder");
    const fifo = join(folder, "runs-fifo.json");
    mkfifo(fifo);
    const dir = join(folder, "runs-dir.json");
    mkdirSync(dir);
    await refused([
      { call: ["saveModel", join(file, "deeper", "model")], name: "SavedFileError", path: file,
        pattern: /a-file: a regular file, not a folder: cannot create .*a-file\/deeper\/model in it$/ },
      { call: ["saveModel", "/proc/x/model"], name: "SavedFileError", path: "/proc/x", pattern: /^\/proc\/x: cannot create this folder: / },
      { call: ["saveRuns", fifo], name: "SavedFileError", path: fifo, pattern: /runs-fifo\.json: a FIFO \(named pipe\), not a file the library may replace$/ },
      { call: ["saveRuns", dir], name: "SavedFileError", path: dir, pattern: /runs-dir\.json: a folder, not a file the library may replace$/ },
    ]);
    assert.equal(readFileSync(file, "utf8"), "not a folder");
  });
});

describe("datasets say how many classes they have", () => {
  /** MNIST's 0s, 1s and 2s among the first `count` images of `split`, as an IDX pair in `dir` with prefix `stem`. */
  function writeThreeClasses(dir: string, split: Split, stem: "train" | "t10k"): number {
    const keep = [...split.labels].flatMap((label, i) => (label < 3 ? [i] : []));
    const images = new Uint8Array(keep.length * 784);
    keep.forEach((from, to) => images.set(split.images.subarray(from * 784, (from + 1) * 784), to * 784));
    writeFileSync(join(dir, `${stem}-images-idx3-ubyte`), encodeIdx([keep.length, 28, 28], images));
    writeFileSync(join(dir, `${stem}-labels-idx1-ubyte`), encodeIdx([keep.length], Uint8Array.from(keep, (i) => split.labels[i]!)));
    return keep.length;
  }

  test("a 3-class IDX pair loads as 3 classes and trains mlp([784, 3]); too few outputs names the option", async () => {
    const dir = join(folder, "three");
    mkdirSync(dir);
    const mnist = await smallMnist(1000, 300);
    const trainCount = writeThreeClasses(dir, mnist.train, "train");
    writeThreeClasses(dir, mnist.test, "t10k");
    const data = await loadIdx(dir);
    assert.equal(data.classes, 3);
    assert.equal(data.train.count, trainCount);
    assert.match(data.description, /, 3 classes /);
    assert.equal((await loadIdx(dir, { classes: 5 })).classes, 5, "an explicit count wins");

    const tensors = tf.memory().numTensors;
    const run = await train(mlp([784, 3], { seed: 0 }), data, { lr: 0.1, batchSize: 16 });
    assert.equal(run.confusion.length, 3);
    assert.equal(run.perClassAccuracy.length, 3);
    // Chance is a third: 0s, 1s and 2s are easy to tell apart after one epoch on ~300 images.
    assert.ok(run.accuracy > 80, `3-class accuracy ${run.accuracy.toFixed(1)}%`);
    run.model.dispose();
    assert.equal(tf.memory().numTensors, tensors, "no tensor leaked");
    await assert.rejects(train(mlp([784, 2], { seed: 0 }), data), /the model has 2 outputs, but three has 3 classes .*loadIdx's \{ classes \} option/);
  });
});
