/**
 * A/B of a single run's wasm step on one thread and on two (`lib/model/gemm-team.ts`): each configuration
 * trained in fresh processes with MIE_WASM_THREADS=1 and =2 alternately (the wasm build is chosen once per
 * process), wall and CPU seconds of `train`, the chunks the helper thread ran, and whether every loss is
 * bit-identical between the two. With AB_VARY=products, the A/B is instead the step's products on the wasm
 * kernel (MIE_NATIVE_PRODUCTS=off) against the native one (`lib/model/native-products.ts`), threads as set.
 *
 *   npx tsx scripts/bench/threads-ab.ts 784-500-10:16:sgd 784-500-500-10:16:sgd 784-500-500-10:64:adam
 *   AB_VARY=products npx tsx scripts/bench/threads-ab.ts 784-500-500-10:64:adam
 *
 * Each configuration is layers:batchSize:optimizer. AB_ROUNDS (default 3) rounds, AB_COUNT (default 30000) first
 * training images, best wall time of the rounds kept. Runs are not stored (lib/train/train, below the run store).
 */
import { spawnSync } from "node:child_process";

interface Measured {
  wall: number;
  cpu: number;
  helped: number;
  losses: string;
}

const CHILD = `
  const { initBackend } = require("./lib/engine/backend");
  const { helperChunks } = require("./lib/engine/team");
  const { loadMnist, subset } = require("./lib/data/data");
  const { mlp } = require("./lib/model/model");
  const { train } = require("./lib/train/loop");
  (async () => {
    const [layers, batchSize, optimizer, count] = JSON.parse(process.env.AB_CONFIG);
    const info = await initBackend(process.env.AB_BACKEND);
    if (info.name !== "wasm") throw new Error("threads-ab: expected wasm, got " + info.name);
    const data = await loadMnist();
    const small = { ...data, train: subset(data.train, { first: count }) };
    const start = performance.now(), cpu = process.cpuUsage();
    const run = await train(mlp(layers), small, { lr: optimizer === "adam" ? 0.001 : 0.1, optimizer, batchSize, evaluate: false });
    const used = process.cpuUsage(cpu);
    const losses = require("node:crypto").createHash("sha256").update(new Uint8Array(run.losses.buffer)).digest("hex");
    console.log(JSON.stringify({ wall: (performance.now() - start) / 1000, cpu: (used.user + used.system) / 1e6, helped: helperChunks(), losses }));
  })();`;

/** The two sides: thread counts, or the products' kernel. */
const VARY = process.env.AB_VARY ?? "threads";
const SIDES: Record<string, [string, Record<string, string>][]> = {
  threads: [["1 thread", { MIE_WASM_THREADS: "1", AB_BACKEND: "wasm" }], ["2 threads", { MIE_WASM_THREADS: "2", AB_BACKEND: "wasm" }]],
  products: [["wasm products", { AB_BACKEND: "wasm", MIE_NATIVE_PRODUCTS: "off" }], ["native products", { AB_BACKEND: "wasm", MIE_NATIVE_PRODUCTS: "on" }]],
};

function measure(side: number, config: [number[], number, string, number]): Measured {
  const [label, env] = SIDES[VARY]![side]!;
  const result = spawnSync(process.execPath, ["--import", "tsx", "-e", CHILD], {
    cwd: `${__dirname}/../..`, env: { ...process.env, ...env, AB_CONFIG: JSON.stringify(config) }, encoding: "utf8",
  });
  if (result.status !== 0) throw new Error(`threads-ab: the child with ${label} failed:\n${result.stderr}`);
  return JSON.parse(result.stdout.trim().split("\n").pop()!) as Measured;
}

function main(): void {
  const specs = process.argv.slice(2);
  if (!SIDES[VARY]) throw new Error(`threads-ab: AB_VARY must be threads or products, got "${VARY}"`);
  const [a, b] = SIDES[VARY]!.map(([label]) => label);
  if (specs.length === 0) throw new Error("usage: npx tsx scripts/bench/threads-ab.ts layers:batch:optimizer ... (e.g. 784-500-10:16:sgd)");
  const rounds = Number(process.env.AB_ROUNDS ?? 3);
  const count = Number(process.env.AB_COUNT ?? 30000);
  console.log(`one run per process, ${a} then ${b}, ${rounds} rounds, first ${count} training images; best wall kept`);
  console.log(`configuration            ${`${a} s (CPU)`.padEnd(20)}${`${b} s (CPU)`.padEnd(20)}ratio  helper chunks  losses`);
  for (const spec of specs) {
    const [layers, batchSize, optimizer] = spec.split(":");
    if (!layers || !batchSize || !optimizer) throw new Error(`threads-ab: expected layers:batch:optimizer, got "${spec}"`);
    const config: [number[], number, string, number] = [layers.split("-").map(Number), Number(batchSize), optimizer, count];
    const best: (Measured | null)[] = [null, null];
    const losses = new Set<string>();
    for (let round = 0; round < rounds; round++) {
      for (const side of [0, 1]) {
        const measured = measure(side, config);
        losses.add(measured.losses);
        if (!best[side] || measured.wall < best[side]!.wall) best[side] = measured;
      }
    }
    const [one, two] = [best[0]!, best[1]!];
    const cell = (m: Measured) => `${m.wall.toFixed(2)} (${m.cpu.toFixed(2)})`.padEnd(20);
    console.log(`${spec.padEnd(25)}${cell(one)}${cell(two)}${(two.wall / one.wall).toFixed(2).padEnd(7)}${String(two.helped).padEnd(15)}${losses.size === 1 ? "identical" : "DIFFER"}`);
  }
}

main();
