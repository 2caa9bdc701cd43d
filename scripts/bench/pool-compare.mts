/**
 * One sweep, timed, for scripts/bench/deno-pool.ts: run by Deno (`deno run -A`) and by Node (tsx) alike, it trains
 * a `compare` on the full MNIST through the built library (`@mie/lib`) and prints one JSON line: the runtime, the
 * seconds the compare took, the accuracies and a sha256 of every run's losses, weights and accuracy (equal hashes:
 * the same numbers bit for bit). MIE_WORKERS=1 trains one run at a time; the run store is off.
 *
 * usage: deno run -A scripts/bench/pool-compare.mts small|big      (small: 784-10 at four learning rates;
 *        big: 784-500-10 at SGD 0.1 over two seeds; both batch 16, one epoch)
 */
import { closeWorkers, compare, loadMnist } from "@mie/lib";
import { createHash } from "node:crypto";

const which = process.argv[2] === "big" ? "big" : "small";
process.env.MIE_RUNS = "off";
const data = await loadMnist();
const started = performance.now();
const runs = which === "big"
  ? await compare({ layers: [784, 500, 10], optimizer: "sgd", lr: 0.1, batchSize: 16 }, { seed: [0, 1] }, data)
  : await compare({ layers: [784, 10], optimizer: "sgd", batchSize: 16 }, { lr: [0.001, 0.005, 0.5, 50] }, data);
const seconds = (performance.now() - started) / 1000;
const hash = createHash("sha256");
for (const run of runs) {
  hash.update(new Uint8Array(Float32Array.from(run.losses).buffer));
  for (let layer = 0; layer < run.layers.length - 1; layer++) {
    const weights = run.model.weights(layer);
    hash.update(new Uint8Array(Float32Array.from(weights.kernel).buffer)).update(new Uint8Array(Float32Array.from(weights.bias).buffer));
  }
  hash.update(String(run.accuracy));
}
console.log(JSON.stringify({
  runtime: "Deno" in globalThis ? "deno" : "node", which, workers: process.env.MIE_WORKERS ?? "pool", backend: runs[0]!.backend,
  seconds: Number(seconds.toFixed(2)), accuracies: runs.map((run) => run.accuracy), hash: hash.digest("hex").slice(0, 16),
}));
await closeWorkers();
