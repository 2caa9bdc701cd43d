/**
 * The worker pool under Deno against one run at a time, and the same under Node, in one command: each sweep of
 * scripts/bench/pool-compare.mts in a fresh process, the four ways interleaved, `--repeat N` rounds (default 3),
 * the median seconds of each and the ratios pool / one at a time. Fails when any two of a sweep's results differ
 * by a single bit (its hash), whatever the runtime or the workers. Uses lib/dist (`npm run build` first).
 *
 * usage: npx tsx scripts/bench/deno-pool.ts [--repeat N] [small|big ...]     (default: small big)
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { denoBinary, ROOT } from "../jupyter";

interface Result { runtime: string; which: string; workers: string; backend: string; seconds: number; accuracies: number[]; hash: string }

const args = process.argv.slice(2);
const at = args.indexOf("--repeat");
const repeat = at >= 0 ? Number(args.splice(at, 2)[1]) : 3;
if (!Number.isInteger(repeat) || repeat < 1) throw new Error(`--repeat: expected a positive whole number, got ${JSON.stringify(args[at + 1] ?? null)}`);
const sweeps = args.length > 0 ? args : ["small", "big"];
const script = join(ROOT, "scripts", "bench", "pool-compare.mts");
const ways = [
  { runtime: "deno", workers: undefined }, { runtime: "deno", workers: "1" },
  { runtime: "node", workers: undefined }, { runtime: "node", workers: "1" },
] as const;

function once(which: string, runtime: "deno" | "node", workers: string | undefined): Result {
  const env: NodeJS.ProcessEnv = { ...process.env, DENO_DIR: join(ROOT, ".deno"), DENO_NO_UPDATE_CHECK: "1", TF_CPP_MIN_LOG_LEVEL: "2" };
  delete env.MIE_WORKERS;
  if (workers) env.MIE_WORKERS = workers;
  const [command, argv] = runtime === "deno" ? [denoBinary(), ["run", "-A", script, which]] : [process.execPath, ["--import", "tsx", script, which]];
  const child = spawnSync(command, argv, { cwd: ROOT, env, encoding: "utf8" });
  const line = child.stdout.split("\n").find((text) => text.startsWith("{"));
  if (child.status !== 0 || !line) throw new Error(`${runtime} ${which} (MIE_WORKERS=${workers ?? "default"}) failed:\n${child.stdout}\n${child.stderr}`);
  return JSON.parse(line) as Result;
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
let failed = false;
for (const which of sweeps) {
  const results = new Map<string, Result[]>();
  for (let round = 0; round < repeat; round++) {
    for (const way of ways) {
      const key = `${way.runtime} ${way.workers ? "one at a time" : "pool"}`;
      results.set(key, [...(results.get(key) ?? []), once(which, way.runtime, way.workers)]);
    }
  }
  const all = [...results.values()].flat();
  const hashes = new Set(all.map((result) => result.hash));
  console.log(`\n${which}: ${all[0]!.accuracies.length} runs (backend ${all[0]!.backend}), ${repeat} round(s), median seconds of the compare`);
  for (const [key, list] of results) console.log(`  ${key.padEnd(20)} ${median(list.map((r) => r.seconds)).toFixed(2).padStart(7)} s   (${list.map((r) => r.seconds.toFixed(2)).join(", ")})`);
  for (const runtime of ["deno", "node"]) {
    const ratio = median(results.get(`${runtime} pool`)!.map((r) => r.seconds)) / median(results.get(`${runtime} one at a time`)!.map((r) => r.seconds));
    console.log(`  ${runtime}: pool / one at a time = ${ratio.toFixed(2)}`);
  }
  console.log(`  results: ${hashes.size === 1 ? `bit-identical everywhere (hash ${[...hashes][0]})` : `DIFFER: ${[...hashes].join(", ")}`}; accuracies ${all[0]!.accuracies.join(", ")}`);
  failed ||= hashes.size !== 1;
}
process.exit(failed ? 1 : 0);
