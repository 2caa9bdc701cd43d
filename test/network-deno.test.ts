/**
 * A network trains to the same bits under Deno as under Node (issue 28, "Right": "on tslab or Deno"): the engine
 * (lib/engine/engine.ts and what it imports), bundled by esbuild into a temporary folder, runs in a `deno run` child
 * process 20 Adam steps of a LeNet-like net with batch norm, dropout and tanh (wasm kernels, native kernels, native
 * with a helper thread); the losses and the trained numbers' bytes must be this process's.
 * Skipped where Deno (the pinned npm package) or esbuild (tsx's) is missing.
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/engine/backend";
import { createEngine } from "../lib/engine/engine";
import type { NetworkNumbers, NetworkSpec } from "../lib/engine/layers";
import { network } from "../lib/model/network-model";
import { denoBinary } from "../scripts/jupyter";
import { smallMnist } from "./helpers/small-mnist";

const ROOT = join(__dirname, "..");
const STEPS = 20;
const BATCH = 64;

function deno(): string | null {
  try {
    return denoBinary(ROOT);
  } catch {
    return null;
  }
}

function esbuild(): typeof import("esbuild") | null {
  try {
    return require("esbuild") as typeof import("esbuild");
  } catch {
    return null;
  }
}

before(async () => {
  await initBackend();
});

/** The run both sides make: `STEPS` Adam steps from `numbers`, masks from seed 5; its losses and a hash of its numbers. */
const WORKLOAD = `
import { readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { createEngine } from ${JSON.stringify(join(ROOT, "lib", "engine", "engine"))};
export function run(folder: string, native: boolean, threads: number) {
  const { spec, params, stats, steps, batch } = JSON.parse(readFileSync(folder + "/net.json", "utf8"));
  const floats = (list: number[][]) => list.map((values) => Float32Array.from(values));
  const images = new Uint8Array(readFileSync(folder + "/images.bin"));
  const labels = new Uint8Array(readFileSync(folder + "/labels.bin"));
  const split = { images, labels, count: labels.length, rows: 28, cols: 28 };
  const engine = createEngine({ native, threads });
  const session = engine.startNetwork({ spec, numbers: { params: floats(params), stats: floats(stats) }, batchSize: batch, seed: 5,
    scaling: { mean: 0.1307, std: 0.3081 }, rule: { optimizer: "adam", lr: 0.003, momentum: null, weightDecay: 0 } }, threads > 1);
  const losses: number[] = [];
  for (let step = 0; step < steps; step++) losses.push(session.step({ split, from: step * batch, to: (step + 1) * batch, order: null, shifts: null }));
  const { params: trained, stats: running } = session.read();
  const hash = createHash("sha256");
  for (const values of [...trained, ...running]) hash.update(new Uint8Array(values.buffer));
  session.dispose();
  return { kernels: engine.kernelsLine, helped: engine.helperChunks(), losses, numbers: hash.digest("hex") };
}
`;

function hashNumbers(numbers: NetworkNumbers): string {
  const hash = createHash("sha256");
  for (const values of [...numbers.params, ...numbers.stats]) hash.update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  return hash.digest("hex");
}

function runHere(spec: NetworkSpec, numbers: NetworkNumbers, split: { images: Uint8Array; labels: Uint8Array; count: number; rows: number; cols: number }) {
  const engine = createEngine({ native: false, threads: 1 });
  const session = engine.startNetwork({
    spec, numbers, batchSize: BATCH, seed: 5, scaling: { mean: 0.1307, std: 0.3081 }, rule: { optimizer: "adam", lr: 0.003, momentum: null, weightDecay: 0 },
  }, false);
  const losses: number[] = [];
  for (let step = 0; step < STEPS; step++) losses.push(session.step({ split, from: step * BATCH, to: (step + 1) * BATCH, order: null, shifts: null }));
  const hash = hashNumbers(session.read());
  session.dispose();
  return { losses, numbers: hash };
}

const denoPath = deno();
const bundler = esbuild();
const skip = !denoPath ? "Deno is not installed (npm ci installs the pinned deno package)" : !bundler ? "esbuild (tsx's) is not installed" : false;

test("a LeNet-like net with batch norm, dropout and tanh trains to the same bits under Deno (wasm, native, native on 2 threads)", { skip }, async () => {
  const data = await smallMnist(STEPS * BATCH, 10);
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 5, activation: "tanh" }), tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5 }), tf.layers.conv2d({ filters: 16, kernelSize: 5, strides: 2, padding: "same", activation: "relu" }),
      tf.layers.dropout({ rate: 0.25 }), tf.layers.flatten(), tf.layers.dense({ units: 32, activation: "tanh" }),
      tf.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5 }), tf.layers.dropout({ rate: 0.5 }), tf.layers.dense({ units: 10 }),
    ],
  });
  const net = network(model, { init: "torch", seed: 8 });
  const numbers = net.numbers();
  const here = runHere(net.spec, numbers, data.train);

  const folder = mkdtempSync(join(tmpdir(), "mie-network-deno-"));
  try {
    writeFileSync(join(folder, "net.json"), JSON.stringify({
      spec: net.spec, params: numbers.params.map((p) => Array.from(p)), stats: numbers.stats.map((s) => Array.from(s)), steps: STEPS, batch: BATCH,
    }));
    writeFileSync(join(folder, "images.bin"), data.train.images.subarray(0, STEPS * BATCH * 784));
    writeFileSync(join(folder, "labels.bin"), data.train.labels.subarray(0, STEPS * BATCH));
    // The bundle finds kernels.wasm and the native addon in kernels/ beside it, its helper thread's entry as
    // team-helper.js beside it (engine/kernels.ts, engine/team.ts), and TensorFlow.js in node_modules.
    writeFileSync(join(folder, "workload.ts"), WORKLOAD);
    writeFileSync(join(folder, "package.json"), JSON.stringify({ type: "commonjs" }));
    symlinkSync(join(ROOT, "lib", "engine", "kernels"), join(folder, "kernels"));
    symlinkSync(join(ROOT, "node_modules"), join(folder, "node_modules"));
    const common = { bundle: true, platform: "node", format: "cjs", target: "es2022", packages: "external", logLevel: "error" } as const;
    await bundler!.build({ ...common, entryPoints: [join(folder, "workload.ts")], outfile: join(folder, "workload.js") });
    await bundler!.build({ ...common, entryPoints: [join(ROOT, "lib", "engine", "team-helper.ts")], outfile: join(folder, "team-helper.js") });
    const main = `import { createRequire } from "node:module";
const { run } = createRequire(import.meta.url)("./workload.js");
const results = [run(${JSON.stringify(folder)}, false, 1), run(${JSON.stringify(folder)}, true, 1), run(${JSON.stringify(folder)}, true, 2)];
console.log(JSON.stringify(results));
Deno.exit(0);
`;
    writeFileSync(join(folder, "main.mjs"), main);
    const child = spawnSync(denoPath!, ["run", "--allow-all", "--quiet", join(folder, "main.mjs")], {
      cwd: folder, encoding: "utf8", timeout: 240_000, env: { ...process.env, DENO_NO_UPDATE_CHECK: "1", DENO_DIR: join(folder, ".deno") },
    });
    assert.equal(child.status, 0, `deno run failed:\n${child.stderr}`);
    const results = JSON.parse(child.stdout.trim().split("\n").pop()!) as { kernels: string; helped: number; losses: number[]; numbers: string }[];
    const [wasm, native, twoThreads] = results;
    assert.equal(wasm!.kernels, "wasm");
    assert.ok(twoThreads!.helped > 0, `under Deno the helper thread ran chunks of the products (${twoThreads!.helped})`);
    for (const [name, result] of [["wasm", wasm], [`native (${native!.kernels})`, native], ["native, 2 threads", twoThreads]] as const) {
      assert.equal(result!.numbers, here.numbers, `Deno, ${name}: the trained numbers of Node's wasm run`);
      // A step's loss is a double from Math.exp and Math.log, which Deno's V8 and Node's round differently in the last
      // bit (about 1 in 10 and 1 in 20 arguments: engine/tensor-step's softmaxCrossEntropy); a run keeps its losses as
      // float32 (train/run-log), where they agree.
      assert.deepEqual(Float32Array.from(result!.losses), Float32Array.from(here.losses), `Deno, ${name}: the float32 losses of Node's wasm run`);
    }
  } finally {
    rmSync(folder, { recursive: true, force: true });
    net.dispose();
  }
});
