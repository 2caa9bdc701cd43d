/**
 * How fast TensorFlow.js trains a conv net the engine cannot (two branches: a functional model), on the backend
 * `MIE_BACKEND` names: the first `--images` training images (default 3,200) of one epoch, Adam, batch 64, and that
 * time scaled to all 60,000. The numbers in docs/library.md ("The backend") come from:
 *   MIE_BACKEND=cpu npx tsx scripts/bench/tfjs-route.ts; MIE_BACKEND=wasm npx tsx scripts/bench/tfjs-route.ts;
 *   MIE_BACKEND=tfjs-node npx tsx scripts/bench/tfjs-route.ts
 */
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../lib/engine/backend";
import { loadMnist } from "../../lib/data/data";
import { network } from "../../lib/model/network-model";
import { train } from "../../lib/train/loop";

/** conv 16@3 → average pool → conv 32@3 → (global average pool, max pool 4 → flatten) → concatenate → dense 10. */
function twoPoolNet(): tf.LayersModel {
  const L = tf.layers;
  const input = tf.input({ shape: [28, 28, 1] });
  const first = L.averagePooling2d({ poolSize: 2 }).apply(L.conv2d({ filters: 16, kernelSize: 3, activation: "relu" }).apply(input)) as tf.SymbolicTensor;
  const second = L.conv2d({ filters: 32, kernelSize: 3, activation: "relu" }).apply(first) as tf.SymbolicTensor;
  const pooled = [L.globalAveragePooling2d({}).apply(second), L.flatten().apply(L.maxPooling2d({ poolSize: 4 }).apply(second))] as tf.SymbolicTensor[];
  return tf.model({ inputs: input, outputs: L.dense({ units: 10 }).apply(L.concatenate().apply(pooled)) as tf.SymbolicTensor });
}

async function main(): Promise<void> {
  const flag = process.argv.indexOf("--images");
  const images = flag >= 0 ? Number(process.argv[flag + 1]) : 3200;
  if (!Number.isInteger(images) || images < 64) throw new RangeError(`--images: expected a whole number ≥ 64, got ${process.argv[flag + 1]}`);
  await initBackend();
  const data = await loadMnist({ train: { first: images }, test: { first: 1000 } });
  const run = await train(network(twoPoolNet(), { init: "seeded" }), data, { optimizer: "adam", batchSize: 64 });
  const perEpoch = (run.seconds * 60000) / run.samplesSeen;
  console.log(`${run.backend}: ${run.seconds.toFixed(2)} s for ${run.samplesSeen} images (${run.accuracy.toFixed(1)}% on 1,000 test images); ` +
    `an epoch of 60,000 ≈ ${perEpoch.toFixed(0)} s`);
  run.model.dispose();
}

void main();
