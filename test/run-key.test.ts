/**
 * The run store's key: every part that decides a run's numbers changes it, the label does not, and through
 * `trainAll` a run that differs in any one part misses the store and trains.
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { initBackend } from "../lib/engine/backend";
import { ARITHMETIC_VERSION } from "../lib/engine/arithmetic";
import { mlp, modelFromWeights } from "../lib/model/model";
import { dataFingerprint, keyParts, modelPart, runKey, type KeyParts } from "../lib/runs/run-key";
import { resolveSpec, type RunSpec } from "../lib/runs/spec";
import { trainAll } from "../lib/runs/sweep";
import { train } from "../lib/runs/train-with-store";
import { smallMnist } from "./helpers/small-mnist";

before(async () => {
  await initBackend();
});

const WASM = { name: "wasm", detail: "SIMD, 1 thread" };

test("each part of the key changes it; the label does not", async () => {
  const data = await smallMnist(64, 16);
  const base: RunSpec = { layers: [784, 10], seed: 1, lr: 0.1, batchSize: 8 };
  const keyOf = (spec: RunSpec, over: Partial<KeyParts> = {}, dataset = data, backend = WASM): string => {
    const { init, seed, settings } = resolveSpec(spec);
    return runKey({ ...keyParts(settings, { layers: spec.layers, init, seed }, dataset, backend), ...over });
  };
  const reference = keyOf(base);
  assert.equal(keyOf({ ...base, label: "another name" }), reference, "the label decides no number");
  const twoThreads = { name: "wasm", detail: "SIMD, 2 threads from 3,000,000 multiply-adds per step" };
  assert.equal(keyOf(base, {}, data, twoThreads), reference, "wasm's threads give the same bits, so the same key");
  const nativeProducts = { name: "wasm", detail: "SIMD, 2 threads from 3,000,000 multiply-adds per step, products native AVX-512" };
  assert.equal(keyOf(base, {}, data, nativeProducts), reference, "so do the native products (test/native-products.test.ts)");
  assert.match(reference, /^[0-9a-f]{64}$/);

  const changed: [string, string][] = [
    ["layers", keyOf({ ...base, layers: [784, 20, 10] })],
    ["init", keyOf({ ...base, init: "glorot" })],
    ["seed", keyOf({ ...base, seed: 2 })],
    ["optimizer", keyOf({ ...base, optimizer: "adam" })],
    ["lr", keyOf({ ...base, lr: 0.2 })],
    ["batchSize", keyOf({ ...base, batchSize: 16 })],
    ["epochs", keyOf({ ...base, epochs: 2 })],
    ["momentum", keyOf({ ...base, optimizer: "momentum", momentum: 0.5 })],
    ["lrDecay", keyOf({ ...base, epochs: 2, lrDecay: { factor: 0.5, every: 1 } })],
    ["shuffle", keyOf({ ...base, shuffle: true })],
    ["shuffleSeed", keyOf({ ...base, shuffle: true, shuffleSeed: 3 })],
    ["evalEvery", keyOf({ ...base, evalEvery: 4 })],
    ["evalOn", keyOf({ ...base, evalEvery: 4, evalOn: { holdout: 8 } })],
    ["backend", keyOf(base, {}, data, { name: "tfjs-node", detail: "libtensorflow, 1 intra-op thread" })],
    ["backend detail", keyOf(base, {}, data, { name: "wasm", detail: "no SIMD, 1 thread" })],
    ["arithmetic", keyOf(base, { arithmetic: ARITHMETIC_VERSION + 1 })],
    ["tfjs version", keyOf(base, { tfjs: "9.9.9" })],
  ];
  // The data: one pixel of one training image, one test label, and the class count.
  const pixel = Uint8Array.from(data.train.images);
  pixel[100] = pixel[100]! ^ 1;
  changed.push(["a training pixel", keyOf(base, {}, { ...data, train: { ...data.train, images: pixel } })]);
  const labels = Uint8Array.from(data.test.labels);
  labels[0] = (labels[0]! + 1) % 10;
  changed.push(["a test label", keyOf(base, {}, { ...data, test: { ...data.test, labels } })]);
  changed.push(["classes", keyOf(base, {}, { ...data, classes: 11 })]);
  const seen = new Map<string, string>([[reference, "the base run"]]);
  for (const [what, key] of changed) {
    assert.notEqual(key, reference, `changing ${what} must change the key`);
    assert.ok(!seen.has(key), `${what} gave the same key as ${seen.get(key)}`);
    seen.set(key, what);
  }
  assert.equal(keyParts(resolveSpec(base).settings, { layers: [784, 10], init: "torch", seed: 1 }, data, WASM).arithmetic, ARITHMETIC_VERSION);
});

test("the data fingerprint is computed once per dataset object and ignores bytes past the split's count", async () => {
  const data = await smallMnist(64, 16);
  const first = dataFingerprint(data);
  assert.equal(dataFingerprint(data), first);
  const longer = { ...data, train: { ...data.train, images: new Uint8Array([...data.train.images, 1, 2, 3]) } };
  assert.equal(dataFingerprint(longer), first, "the bytes a run reads, not the buffer behind them");
});

test("a model enters the key by layers, init and seed when fresh, by its weights otherwise", () => {
  assert.deepEqual(modelPart(mlp([784, 10], { seed: 3 })), { layers: [784, 10], init: "torch", seed: 3 });
  const weights = mlp([784, 10], { seed: 3 }).weights(0);
  const custom = modelPart(modelFromWeights([weights]));
  assert.ok("weights" in custom && custom.trainedSteps === 0);
  weights.bias[0] = weights.bias[0]! + 1;
  const other = modelPart(modelFromWeights([weights]));
  assert.ok("weights" in other && other.weights !== custom.weights, "one weight changed, another key");
});

test("through trainAll and train, a run that differs in one setting misses the store and trains", async (t) => {
  const folder = mkdtempSync(join(tmpdir(), "mie-run-key-"));
  t.after(() => rmSync(folder, { recursive: true, force: true }));
  const data = await smallMnist(256, 32);
  const spec: RunSpec = { layers: [784, 10], seed: 1, lr: 0.1 };
  const [first] = await trainAll([spec], data, { workers: 1, store: folder });
  assert.equal(first!.stored, undefined, "trained the first time");
  const [again] = await trainAll([{ ...spec, label: "renamed" }], data, { workers: 1, store: folder });
  assert.ok(again!.stored, "the same run, relabelled, comes from the store");
  assert.equal(again!.label, "renamed");
  const [other] = await trainAll([{ ...spec, lr: 0.2 }], data, { workers: 1, store: folder });
  assert.equal(other!.stored, undefined, "another lr trains");
  const viaTrain = await train(mlp([784, 10], { seed: 1 }), data, { lr: 0.1, store: folder });
  assert.ok(viaTrain.stored, "train(mlp(...)) finds the run trainAll stored");
  const otherData = await train(mlp([784, 10], { seed: 1 }), await smallMnist(255, 32), { lr: 0.1, store: folder });
  assert.equal(otherData.stored, undefined, "one training image fewer trains");
  assert.equal(readdirSync(folder).filter((name) => !name.startsWith(".")).length, 3);
  [first, again, other, viaTrain, otherData].forEach((run) => run!.model.dispose());
});
