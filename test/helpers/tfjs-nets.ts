/**
 * Small Layers models the engine lacks something of (so TensorFlow.js trains them), for the tests of that route,
 * and what a child process reports of two of their runs: `node --import tsx -e` can require this file, so a test
 * compares runs trained under another backend (`MIE_BACKEND`) with its own.
 */
import * as tf from "@tensorflow/tfjs";
import { createHash } from "node:crypto";
import { network, type NetworkModel } from "../../lib/model/network-model";
import { train, type Run } from "../../lib/train/loop";
import { smallMnist } from "./small-mnist";

const L = tf.layers;
const image = { inputShape: [28, 28, 1] };

/** flatten → dense 32 → LeakyReLU (which the engine lacks) → dropout (0.5) → dense 10: every kernel on tfjs's wasm backend. */
export function leakyNet(rate = 0.5): tf.Sequential {
  return tf.sequential({ layers: [L.flatten(image), L.dense({ units: 32 }), L.leakyReLU(), L.dropout({ rate }), L.dense({ units: 10 })] });
}

/** conv 4@5×5 stride 2 → average pooling (which the engine lacks) → dropout → dense 10: its conv's gradient needs
 *  Conv2DBackpropFilter, which tfjs's wasm backend lacks and the library registers for it (`model/wasm-gradients`). */
export function convNet(): tf.Sequential {
  return tf.sequential({
    layers: [
      L.conv2d({ ...image, filters: 4, kernelSize: 5, strides: 2, activation: "relu" }), L.averagePooling2d({ poolSize: 2 }),
      L.dropout({ rate: 0.25 }), L.flatten(), L.dense({ units: 10 }),
    ],
  });
}

/** Each pixel (0 or 1 once cast to an integer: 255 only) → an embedding of 2 → dense 10: its gradient needs
 *  UnsortedSegmentSum (the gradient of a gather), which tfjs's wasm backend lacks, so it trains on the cpu backend. */
export function embeddingNet(): tf.Sequential {
  return tf.sequential({ layers: [L.embedding({ inputDim: 2, outputDim: 2, inputLength: 784 }), L.flatten(), L.dense({ units: 10 })] });
}

/** A short hash of arrays' bytes: equal hashes, equal bits. */
export function hashOf(...arrays: Float32Array[]): string {
  const hash = createHash("sha256");
  for (const values of arrays) hash.update(Buffer.from(values.buffer, values.byteOffset, values.byteLength));
  return hash.digest("hex").slice(0, 16);
}

/** What a test compares of a run: its backend, the bits of its losses and trained numbers, its note. */
export interface RunBits {
  backend: string;
  steps: number;
  losses: string;
  numbers: string;
  notRepeatable: string | null;
}

/**
 * The bits of a finished run of a network.
 * @example runBits(run).losses; // "3f0c…"
 */
export function runBits(run: Run<NetworkModel>): RunBits {
  const { params, stats } = run.model.numbers();
  return { backend: run.backend, steps: run.steps, losses: hashOf(run.losses), numbers: hashOf(...params, ...stats), notRepeatable: run.notRepeatable ?? null };
}

/** The shuffled, dropout-drawing run the repeat tests train twice: `make()` seeded with `seed`, batches of 32. */
export async function seededRun(make: () => tf.LayersModel, images: number, seed: number): Promise<{ initial: string; bits: RunBits }> {
  const data = await smallMnist(images, 50);
  const original = make();
  const net = network(original, { init: "seeded", seed });
  original.dispose(); // "seeded" trains a copy
  const initial = hashOf(...net.numbers().params);
  // Draws from the unseeded Math.random between runs must not reach the run's dropout masks.
  for (let k = 0; k < 5; k++) Math.random();
  const run = await train(net, data, { batchSize: 32, shuffle: true, optimizer: "adam", lr: 0.01, evaluate: false });
  const bits = runBits(run);
  run.model.dispose();
  return { initial, bits };
}

/**
 * What the child process of tfjs-models.test.ts prints (as JSON): two runs each of `leakyNet` (256 images) and
 * `convNet` (64 images) and `embeddingNet` (64 images), seed 3, on the backend `MIE_BACKEND` picks.
 */
export async function childReport(): Promise<Record<"leaky" | "conv" | "embedding", { initial: string; bits: RunBits }[]>> {
  const twice = async (make: () => tf.LayersModel, images: number) => [await seededRun(make, images, 3), await seededRun(make, images, 3)];
  return { leaky: await twice(leakyNet, 256), conv: await twice(convNet, 64), embedding: await twice(embeddingNet, 64) };
}
