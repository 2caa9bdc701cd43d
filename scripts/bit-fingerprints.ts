/**
 * The engine's bits, as fingerprints: each bench configuration (scripts/bench/config.ts) and the other update
 * rules trained for their first `STEPS_PER_RUN` steps on the first images of MNIST, from a seeded model, with the
 * run store off; per run, the sha256 of every step's loss, of the final weights (float32 bytes, layer by layer) and
 * of the trained model's logits for the first 500 test images (what evaluations see).
 * `test/bit-fingerprints.test.ts` retrains and compares them with `test/fixtures/bit-fingerprints.json`, written by
 * this script on commit 4b72628 (before the engine moved to lib/engine/), one list per backend (wasm, cpu,
 * tfjs-node): the same bits since then.
 *
 *   npx tsx scripts/bit-fingerprints.ts            print the current backend's fingerprints as JSON
 *   npx tsx scripts/bit-fingerprints.ts --write    put them into test/fixtures/bit-fingerprints.json, under its name
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CHECKS, SPEED } from "./bench/config";
import { loadMnist, subset, type Dataset } from "../lib/data/data";
import { mlp } from "../lib/model/model";
import { train } from "../lib/train/loop";
import { initBackend } from "../lib/engine/backend";
import type { TrainOptions } from "../lib/train/settings";

/** Steps per run: enough to reach every kernel path (the last, short batch included) in seconds. */
export const STEPS_PER_RUN = 120;

/** One fingerprinted run. */
export interface FingerprintCase {
  id: string;
  layers: number[];
  init?: "torch" | "glorot" | "zeros";
  options: TrainOptions;
}

/**
 * The runs: every bench configuration, and the update rules and shuffle the bench does not cover.
 * @example FINGERPRINT_CASES.map((c) => c.id); // ["784-10-b16", ...]
 */
export const FINGERPRINT_CASES: FingerprintCase[] = [
  // The MLP configurations 4b72628 had (the conv nets' rows came after it; test/network-bits.test.ts holds theirs).
  ...[...SPEED, ...CHECKS].filter((c) => !c.model).map(({ id, layers, init, options }) => ({ id, layers, ...(init ? { init } : {}), options })),
  { id: "momentum-784-100-10", layers: [784, 100, 10], options: { optimizer: "momentum", lr: 0.05, batchSize: 32 } },
  { id: "adagrad-784-100-10", layers: [784, 100, 10], options: { optimizer: "adagrad", lr: 0.01, batchSize: 32 } },
  { id: "rmsprop-784-100-10", layers: [784, 100, 10], options: { optimizer: "rmsprop", lr: 0.001, batchSize: 32 } },
  { id: "shuffle-784-100-10", layers: [784, 100, 10], options: { optimizer: "sgd", lr: 0.1, batchSize: 20, shuffle: true, shuffleSeed: 3 } },
];

/** The data of one case: just the images its steps use (the last batch one image short, so a partial batch runs). */
function dataFor(full: Dataset, batchSize: number): Dataset {
  const images = Math.min(full.train.count, STEPS_PER_RUN * batchSize - 1);
  return { ...full, train: subset(full.train, { first: images }), test: subset(full.test, { first: 500 }) };
}

function sha256(bytes: ArrayBufferView): string {
  return createHash("sha256").update(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)).digest("hex");
}

/**
 * Train one case and fingerprint it.
 * @example const print = await fingerprint(FINGERPRINT_CASES[0]!, await loadMnist());
 */
export async function fingerprint(c: FingerprintCase, full: Dataset): Promise<{ id: string; steps: number; losses: string; weights: string; logits: string }> {
  const batchSize = c.options.batchSize ?? 16;
  const run = await train(mlp(c.layers, { seed: 0, ...(c.init ? { init: c.init } : {}) }), dataFor(full, batchSize), { ...c.options, evaluate: false });
  const weights = createHash("sha256");
  for (let k = 0; k < c.layers.length - 1; k++) {
    const { kernel, bias } = run.model.weights(k);
    weights.update(new Uint8Array(kernel.buffer, kernel.byteOffset, kernel.byteLength));
    weights.update(new Uint8Array(bias.buffer, bias.byteOffset, bias.byteLength));
  }
  const logits = sha256(run.model.predict(subset(full.test, { first: 500 })).logits);
  const result = { id: c.id, steps: run.steps, losses: sha256(run.losses), weights: weights.digest("hex"), logits };
  run.model.dispose();
  return result;
}

/** Where the fingerprints of 4b72628 are kept. */
export const FINGERPRINTS_FILE = join(__dirname, "..", "test", "fixtures", "bit-fingerprints.json");

async function main(): Promise<void> {
  const backend = (await initBackend()).name;
  const full = await loadMnist();
  const prints = [];
  for (const c of FINGERPRINT_CASES) prints.push(await fingerprint(c, full));
  if (!process.argv.includes("--write")) return void process.stdout.write(`${JSON.stringify({ [backend]: prints }, null, 2)}\n`);
  const all = existsSync(FINGERPRINTS_FILE) ? (JSON.parse(readFileSync(FINGERPRINTS_FILE, "utf8")) as Record<string, unknown>) : {};
  writeFileSync(FINGERPRINTS_FILE, `${JSON.stringify({ ...all, [backend]: prints }, null, 2)}\n`);
}

if (require.main === module) void main();
