/**
 * A/B of a change to lib/: the same runs trained with an old tree's lib and this tree's, alternating in one
 * process, wall and CPU seconds per round, and whether every loss is bit-identical. For changes that claim to be
 * exact (docs/performance.md, "How to measure").
 *
 *   git archive <commit> lib | tar -x -C /tmp/old
 *   npx tsx scripts/bench/ab.ts /tmp/old 784-10:16:0.001:sgd 784-500-10:16:0.5:sgd
 *
 * Each configuration is layers:batchSize:lr:optimizer. AB_ROUNDS (default 3) rounds, AB_COUNT (default 60000)
 * first training images; MIE_BACKEND as usual (wasm for the wasm step). Runs are not stored (no run store here).
 */
import { resolve } from "node:path";
import { loadMnist } from "../../lib/data/data";
import { mlp } from "../../lib/model/model";
import { train, type Run } from "../../lib/train/loop";
import type { TrainOptions } from "../../lib/train/settings";

async function main(): Promise<void> {
  const [oldTree, ...specs] = process.argv.slice(2);
  if (!oldTree || specs.length === 0) throw new Error("usage: npx tsx scripts/bench/ab.ts OLD_TREE layers:batch:lr:optimizer ...");
  const configs = specs.map((spec) => {
    const [layers, batchSize, lr, optimizer] = spec.split(":");
    if (!layers || !batchSize || !lr || !optimizer) throw new Error(`ab: expected layers:batch:lr:optimizer (e.g. 784-10:16:0.001:sgd), got "${spec}"`);
    return { layers: layers.split("-").map(Number), batchSize: Number(batchSize), lr: Number(lr), optimizer: optimizer as TrainOptions["optimizer"] };
  });
  const rounds = Number(process.env.AB_ROUNDS ?? 3);
  const count = Number(process.env.AB_COUNT ?? 60000);
  const old = {
    train: ((await import(resolve(oldTree, "lib", "train", "train.ts"))) as { train: typeof train }).train,
    mlp: ((await import(resolve(oldTree, "lib", "model", "model.ts"))) as { mlp: typeof mlp }).mlp,
  };
  const sides = { old, new: { train, mlp } };
  const full = await loadMnist();
  const data = { ...full, train: { ...full.train, count, images: full.train.images.subarray(0, count * 784), labels: full.train.labels.subarray(0, count) } };
  for (const c of configs) {
    const seconds = { old: [] as number[], new: [] as number[] };
    const cpu = { old: [] as number[], new: [] as number[] };
    const losses: Partial<Record<"old" | "new", Float32Array>> = {};
    for (let round = 0; round < rounds; round++) {
      for (const side of ["old", "new"] as const) {
        const start = process.cpuUsage();
        const run: Run = await sides[side].train(sides[side].mlp(c.layers, { seed: 0 }), data, { optimizer: c.optimizer, lr: c.lr, batchSize: c.batchSize, evaluate: false });
        const used = process.cpuUsage(start);
        seconds[side].push(run.seconds);
        cpu[side].push((used.user + used.system) / 1e6);
        losses[side] = run.losses;
        run.model.dispose();
      }
    }
    const identical = losses.old!.length === losses.new!.length && losses.old!.every((x, i) => Object.is(x, losses.new![i]));
    const list = (values: number[]) => values.map((v) => v.toFixed(2)).join(" / ");
    const ratio = (side: { old: number[]; new: number[] }) => (Math.min(...side.new) / Math.min(...side.old)).toFixed(2);
    console.log(`${c.layers.join("-")} ${c.optimizer} b${c.batchSize}, ${count} images: wall old ${list(seconds.old)} s, new ${list(seconds.new)} s, ` +
      `best/best ${ratio(seconds)}; CPU old ${list(cpu.old)} s, new ${list(cpu.new)} s, best/best ${ratio(cpu)}; losses identical: ${identical}`);
  }
}

main().catch((error: unknown) => {
  console.error((error as Error).message);
  process.exit(1);
});
