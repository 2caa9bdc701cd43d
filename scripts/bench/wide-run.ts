/**
 * ConvNetwork's 99% run, as the notebook trains it (conv 24-48 @5×5 same with batch norm, dense 128; Adam with a
 * one-cycle schedule to 0.003, batch 32, normalised pixels, shifts of up to 2), once, with the run store out of the way (the plain `train`): its
 * test accuracy, its `seconds` and this process's CPU seconds. The numbers in docs/performance.md come from
 *   npx tsx scripts/bench/wide-run.ts; MIE_WASM_THREADS=1 npx tsx scripts/bench/wide-run.ts
 */
import { initBackend, describeBackend } from "../../lib/engine/backend";
import { loadMnist } from "../../lib/data/data";
import { MNIST_NORMALIZATION } from "../../lib/train/settings";
import { network } from "../../lib/model/network-model";
import { train } from "../../lib/train/loop";
import { NETS } from "./config";

async function main(): Promise<void> {
  await initBackend();
  console.log(await describeBackend());
  const data = await loadMnist();
  const cpu = process.cpuUsage();
  const run = await train(network(NETS.wide(), { init: "torch", seed: 0 }), data, {
    optimizer: "adam", batchSize: 32, normalize: MNIST_NORMALIZATION, augment: { shift: 2 }, oneCycle: { maxLr: 0.003 },
  });
  const used = process.cpuUsage(cpu);
  console.log(`${run.accuracy.toFixed(2)}% after one epoch; training ${run.seconds.toFixed(1)} s, ${((used.user + used.system) / 1e6).toFixed(1)} s of CPU in all`);
  run.model.dispose();
}

void main();
