/**
 * A child of test/tfjs-threads.test.ts: under tfjs-node with the intra-op threads its environment sets, it trains a
 * small model TensorFlow.js trains into a run store and prints what the run, its results table and its store entry
 * say about exactness, as one JSON line.
 */
import * as tf from "@tensorflow/tfjs";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { resultsTable } from "../../lib/figures/tables";
import { network } from "../../lib/model/network-model";
import { train } from "../../lib/runs/train-with-store";
import { smallMnist } from "./small-mnist";

async function main(): Promise<void> {
  const [store] = process.argv.slice(2);
  const data = await smallMnist(128, 32);
  const L = tf.layers;
  const model = tf.sequential({ layers: [L.flatten({ inputShape: [28, 28, 1] }), L.dense({ units: 16 }), L.leakyReLU(), L.dense({ units: 10 })] });
  const run = await train(network(model, { init: "seeded" }), data, { batchSize: 32, store: store! });
  const entry = readdirSync(store!).find((name) => /^[0-9a-f]{64}$/.test(name))!;
  const about = JSON.parse(readFileSync(join(store!, entry, "entry.json"), "utf8")) as { bitExact: boolean; notRepeatable?: string; key_made_of: { detail: string } };
  console.log(`REPORT ${JSON.stringify({
    backend: run.backend, notRepeatable: run.notRepeatable ?? null, table: resultsTable(run).includes("not bit-exact"),
    bitExact: about.bitExact, entryNote: about.notRepeatable ?? null, detail: about.key_made_of.detail,
  })}`);
}

void main();
