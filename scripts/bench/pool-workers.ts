/**
 * The pool's workers, measured (docs/performance.md, "Pool workers"): what a worker thread and a worker process
 * cost to start, per sweep and in memory, on each backend; and how often tfjs-node crashes a sweep, on threads
 * (where a crash ends the whole process, as a kernel) and on processes (where the pool retries the run).
 * Each configuration runs in a fresh child process; peak memory is the whole process tree's RSS, sampled.
 *
 *   npx tsx scripts/bench/pool-workers.ts --cost              start and sweep seconds, peak RSS with 1 and 2 workers
 *   npx tsx scripts/bench/pool-workers.ts --stress SECONDS    sweeps on tfjs-node for SECONDS per worker kind
 *   npx tsx scripts/bench/pool-workers.ts --bound             MIE_CORES=64 with MIE_MEMORY_LIMIT_MB: peak RSS under it
 */
import { spawn } from "node:child_process";
import { loadMnist } from "../../lib/data/data";
import { checkDataset } from "../../lib/train/checks";
import { checkSpec, type RunSpec } from "../../lib/runs/spec";
import { closeWorkers, trainInWorkers } from "../../lib/runs/pool";
import { initBackend } from "../../lib/engine/backend";
import { samplePeakRss } from "./process-tree";

const RESULT = "POOL-RESULT ";
const KINDS = ["thread", "process"] as const;
const BACKENDS = ["wasm", "tfjs-node"] as const;

/** Run this script again as a child with `args` and `env`; resolves with its result line, peak tree RSS and end. */
function inChild(args: string[], env: NodeJS.ProcessEnv): Promise<{ result?: Record<string, number>; peakMB: number; code: number | null; signal: NodeJS.Signals | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", __filename, ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    const sampler = samplePeakRss(child.pid!);
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    child.on("exit", (code, signal) => {
      const peakMB = sampler.stop();
      const line = output.split("\n").find((each) => each.startsWith(RESULT));
      resolve({ result: line ? JSON.parse(line.slice(RESULT.length)) : undefined, peakMB, code, signal, output });
    });
  });
}

const seconds = (since: number): number => (performance.now() - since) / 1000;

/** Child: two sweeps of two tiny runs on 2 workers: the first starts them, the second reuses them. */
async function startChild(): Promise<void> {
  await initBackend();
  const data = checkDataset(await loadMnist());
  const tiny = [0, 1].map((seed) => checkSpec({ layers: [784, 10], batchSize: 1000, seed }, data, "tiny"));
  const times: number[] = [];
  for (let sweep = 0; sweep < 2; sweep++) {
    const started = performance.now();
    (await trainInWorkers(tiny, data, { workers: 2 })).forEach((run) => run.model.dispose());
    times.push(seconds(started));
  }
  await closeWorkers();
  console.log(RESULT + JSON.stringify({ cold: times[0], warm: times[1] }));
}

/** Child: two big runs on `workers` workers, for the memory a worker adds at its peak. */
async function memoryChild(workers: number): Promise<void> {
  await initBackend();
  const data = checkDataset(await loadMnist());
  const big = [0, 1].map((seed) => checkSpec({ layers: [784, 500, 500, 10], batchSize: 256, seed }, data, "big"));
  const started = performance.now();
  (await trainInWorkers(big, data, { workers })).forEach((run) => run.model.dispose());
  console.log(RESULT + JSON.stringify({ big: seconds(started) }));
}

async function cost(): Promise<void> {
  console.log("backend    kind     cold sweep s  warm sweep s  2 big runs s (1 worker / 2)  peak tree RSS MB (1 worker / 2)  per worker MB");
  for (const backend of BACKENDS) {
    for (const kind of KINDS) {
      const env = { MIE_BACKEND: backend, MIE_WORKER_KIND: kind, MIE_WORKER_IDLE_SECONDS: "600" };
      const start = await inChild(["--start-child"], env);
      const [one, two] = [await inChild(["--memory-child", "1"], env), await inChild(["--memory-child", "2"], env)];
      if (!start.result || !one.result || !two.result) throw new Error(`${backend} ${kind}: no result\n${start.output}\n${one.output}\n${two.output}`);
      console.log([backend.padEnd(10), kind.padEnd(8), start.result.cold!.toFixed(2).padStart(12), start.result.warm!.toFixed(2).padStart(13),
        `${one.result.big!.toFixed(1)} / ${two.result.big!.toFixed(1)}`.padStart(30), `${one.peakMB.toFixed(0)} / ${two.peakMB.toFixed(0)}`.padStart(33),
        (two.peakMB - one.peakMB).toFixed(0).padStart(14)].join(" "));
    }
  }
}

/** Child: sweeps of two short tfjs-node runs until `until` (ms since epoch); prints sweeps done and runs restarted. */
async function stressChild(until: number): Promise<void> {
  await initBackend();
  const data = checkDataset(await loadMnist({ train: { first: 4000 }, test: { first: 500 } }));
  const specs = [0, 1].map((seed) => checkSpec({ layers: [784, 300, 10], batchSize: 32, seed }, data, "stress"));
  let sweeps = 0;
  let restarts = 0;
  while (Date.now() < until) {
    const starts = new Set<number>();
    const runs = await trainInWorkers(specs, data, { workers: 2, onStart: (index) => (starts.has(index) ? restarts++ : starts.add(index)) });
    runs.forEach((run) => run.model.dispose());
    console.log(RESULT + JSON.stringify({ sweeps: ++sweeps, restarts }));
  }
}

async function stress(secondsEach: number): Promise<void> {
  for (const kind of KINDS) {
    const until = Date.now() + secondsEach * 1000;
    let sweeps = 0;
    let restarts = 0;
    const deaths: string[] = [];
    while (Date.now() < until) {
      // Workers start and end with every sweep (idle 0): the most starts and ends of libtensorflow per minute.
      const child = await inChild(["--stress-child", String(until)], { MIE_BACKEND: "tfjs-node", MIE_WORKER_KIND: kind, MIE_WORKER_IDLE_SECONDS: "0" });
      const lines = child.output.split("\n").filter((line) => line.startsWith(RESULT)).map((line) => JSON.parse(line.slice(RESULT.length)));
      sweeps += lines.at(-1)?.sweeps ?? 0;
      restarts += lines.at(-1)?.restarts ?? 0;
      if (child.code !== 0) deaths.push(child.signal ?? `exit code ${child.code}: ${child.output.trim().split("\n").slice(-3).join(" | ")}`);
    }
    console.log(`tfjs-node on ${kind} workers: ${sweeps} sweeps of 2 runs in ${secondsEach} s; the whole process died ${deaths.length} time(s)` +
      `${deaths.length ? ` (${deaths.join(", ")})` : ""}; runs restarted after a worker crash: ${restarts}`);
  }
}

/** Child: 16 runs with the pool asking for 64 workers, as on a 64-core machine. */
async function boundChild(): Promise<void> {
  await initBackend();
  const data = checkDataset(await loadMnist());
  const specs = Array.from({ length: 16 }, (_, seed) => checkSpec({ layers: [784, 100, 10], batchSize: 256, epochs: 1, seed }, data, "bound"));
  let most = 0;
  let inFlight = 0;
  const runs = await trainInWorkers(specs, data, { workers: 64, onStart: () => (most = Math.max(most, ++inFlight)), onRun: () => inFlight-- });
  runs.forEach((run) => run.model.dispose());
  console.log(RESULT + JSON.stringify({ workers: most }));
}

async function bound(): Promise<void> {
  for (const [backend, limit] of [["wasm", 1200], ["tfjs-node", 2500]] as const) {
    const child = await inChild(["--bound-child"], { MIE_BACKEND: backend, MIE_CORES: "64", MIE_MEMORY_LIMIT_MB: String(limit), MIE_WORKER_IDLE_SECONDS: "0" });
    if (!child.result) throw new Error(`bound ${backend}: no result\n${child.output}`);
    console.log(`${backend}, 64 cores faked, MIE_MEMORY_LIMIT_MB=${limit}: ${child.result.workers} workers at once, peak tree RSS ${child.peakMB.toFixed(0)} MB` +
      ` (${child.peakMB < limit ? "under" : "OVER"} the limit)`);
  }
}

async function main(): Promise<void> {
  const [mode, value] = process.argv.slice(2);
  if (mode === "--start-child") return startChild();
  if (mode === "--memory-child") return memoryChild(Number(value));
  if (mode === "--stress-child") return stressChild(Number(value));
  if (mode === "--bound-child") return boundChild();
  if (mode === "--cost") return cost();
  if (mode === "--stress") return stress(Number(value ?? 60));
  if (mode === "--bound") return bound();
  throw new Error(`pool-workers: expected --cost, --stress SECONDS or --bound, got ${JSON.stringify(mode ?? null)}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
