/**
 * Benchmark and science checks: one epoch of full MNIST per configuration, each in a fresh child process so its
 * peak memory is its own. Prints a table with the targets beside the measurements (or JSON with --json) and
 * exits non-zero when a target or a check fails.
 *
 *   npm run bench                 speed table, then the science checks
 *   npm run bench -- --speed      only the speed table          --checks   only the science checks
 *   npm run bench -- --json       machine-readable output       --repeat 3 best of 3 runs per configuration
 *   npm run bench -- --profile    also where the time goes: seconds per backend kernel in each configuration
 *
 * Speed targets live here only, never in unit tests: timings depend on the machine and on what else runs.
 */
import { spawnSync } from "node:child_process";
import { cpus } from "node:os";
import * as tf from "@tensorflow/tfjs";
import { describeBackend, initBackend } from "../lib/backend";
import { loadMnist } from "../lib/data";
import { mlp, type Init } from "../lib/model";
import { train, type TrainOptions } from "../lib/train";

/** One benchmarked configuration: what to train, and what it must achieve. */
interface Config {
  id: string;
  title: string;
  layers: number[];
  init?: Init;
  options: TrainOptions;
  /** Speed target for one epoch of training, seconds. */
  targetSeconds?: number;
  /** PyTorch 1.13 on this kind of machine, 2 threads (notes/performance.md), for comparison. */
  pytorchSeconds?: number;
  /** A science check on the result, from ../shared/reference/pytorch-reference.md. */
  check?: { expect: string; pass: (result: ChildResult) => boolean };
}

/** What a child process measures and reports. */
interface ChildResult {
  id: string;
  backend: string;
  loadSeconds: number;
  trainSeconds: number;
  samplesPerSecond: number;
  accuracy: number;
  finalLoss: number;
  /** How many different classes the model predicts on the test set. */
  predictedClasses: number;
  peakRssMb: number;
  /** With --profile: seconds spent in each backend kernel (including evaluation), largest first. */
  kernels?: { name: string; seconds: number; calls: number }[];
}

const RSS_TARGET_MB = 500;
const RESULT_PREFIX = "BENCH_RESULT ";

const SPEED: Config[] = [
  { id: "784-10-b16", title: "784-10, SGD 0.001, batch 16", layers: [784, 10], options: { optimizer: "sgd", lr: 0.001, batchSize: 16 }, targetSeconds: 2.5, pytorchSeconds: 0.57 },
  { id: "784-10-b1", title: "784-10, SGD 0.001, batch 1", layers: [784, 10], options: { optimizer: "sgd", lr: 0.001, batchSize: 1 }, targetSeconds: 25, pytorchSeconds: 4.04 },
  { id: "784-500-10", title: "784-500-10, SGD 0.5, batch 16", layers: [784, 500, 10], options: { optimizer: "sgd", lr: 0.5, batchSize: 16 }, targetSeconds: 11, pytorchSeconds: 3.05 },
  { id: "784-500-500-10-sgd", title: "784-500-500-10, SGD 0.1, batch 16", layers: [784, 500, 500, 10], options: { optimizer: "sgd", lr: 0.1, batchSize: 16 }, targetSeconds: 16, pytorchSeconds: 5.24 },
  { id: "784-500-500-10-adam", title: "784-500-500-10, Adam 0.001, batch 64", layers: [784, 500, 500, 10], options: { optimizer: "adam", lr: 0.001, batchSize: 64 }, targetSeconds: 14, pytorchSeconds: 3.53 },
];

const CHECKS: Config[] = [
  {
    id: "adam-784-10", title: "784-10, Adam 0.001, batch 16", layers: [784, 10], options: { optimizer: "adam", lr: 0.001, batchSize: 16 },
    check: { expect: "accuracy ≥ 90% (PyTorch 91.24 ± 0.03)", pass: (r) => r.accuracy >= 90 },
  },
  {
    id: "zeros-784-10", title: "784-10, zero init, SGD 0.001, batch 16", layers: [784, 10], init: "zeros", options: { optimizer: "sgd", lr: 0.001, batchSize: 16 },
    check: { expect: "accuracy ≥ 83% (PyTorch 84.07)", pass: (r) => r.accuracy >= 83 },
  },
  {
    id: "zeros-784-500-10", title: "784-500-10, zero init, SGD 0.5, batch 16", layers: [784, 500, 10], init: "zeros", options: { optimizer: "sgd", lr: 0.5, batchSize: 16 },
    check: { expect: "one predicted class, accuracy ≈ 9.58% (PyTorch: always \"6\")", pass: (r) => r.predictedClasses === 1 && Math.abs(r.accuracy - 9.58) < 0.01 },
  },
];

async function child(id: string, profile: boolean): Promise<void> {
  const config = [...SPEED, ...CHECKS].find((c) => c.id === id);
  if (!config) throw new Error(`bench --child: unknown configuration "${id}"`);
  const info = await initBackend();
  const kernels = profile ? timeKernels(info.tfName) : null;
  const loadStart = performance.now();
  const data = await loadMnist();
  const loadSeconds = (performance.now() - loadStart) / 1000;
  const run = await train(mlp(config.layers, config.init ? { init: config.init } : {}), data, config.options);
  const predicted = run.confusion[0]!.map((_, column) => run.confusion.reduce((sum, row) => sum + row[column]!, 0));
  const result: ChildResult = {
    id, backend: info.name, loadSeconds, trainSeconds: run.seconds, samplesPerSecond: run.samplesPerSecond,
    accuracy: run.accuracy, finalLoss: run.finalLoss, predictedClasses: predicted.filter((n) => n > 0).length,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    ...(kernels ? { kernels: [...kernels].filter(([, k]) => k.calls > 0).map(([name, k]) => ({ name, ...k })).sort((a, b) => b.seconds - a.seconds) } : {}),
  };
  console.log(RESULT_PREFIX + JSON.stringify(result));
}

/**
 * Re-register every kernel of the backend wrapped in a timer (public tfjs API; the timing adds ~1 µs per
 * kernel call, so profiled runs are slightly slower). Returns the running totals.
 */
function timeKernels(backend: string): Map<string, { seconds: number; calls: number }> {
  const totals = new Map<string, { seconds: number; calls: number }>();
  for (const kernel of tf.getKernelsForBackend(backend)) {
    const run = kernel.kernelFunc;
    const total = { seconds: 0, calls: 0 };
    totals.set(kernel.kernelName, total);
    tf.unregisterKernel(kernel.kernelName, backend);
    tf.registerKernel({
      ...kernel,
      kernelFunc: (args) => {
        const start = performance.now();
        const out = run(args);
        total.seconds += (performance.now() - start) / 1000;
        total.calls++;
        return out;
      },
    });
  }
  return totals;
}

function runChild(config: Config, profile: boolean): ChildResult {
  const args = ["--import", "tsx", __filename, "--child", config.id, ...(profile ? ["--profile"] : [])];
  const out = spawnSync(process.execPath, args, {
    cwd: `${__dirname}/..`,
    encoding: "utf8",
    maxBuffer: 16 * 1024 * 1024,
  });
  const line = out.stdout.split("\n").find((l) => l.startsWith(RESULT_PREFIX));
  if (out.status !== 0 || !line) {
    throw new Error(`bench: ${config.title} failed (exit ${out.status}):\n${out.stderr.slice(-2000)}`);
  }
  return JSON.parse(line.slice(RESULT_PREFIX.length)) as ChildResult;
}

/** Run each configuration `repeat` times, keep the fastest (least disturbed by other processes). */
function measure(configs: Config[], repeat: number, profile: boolean, log: (line: string) => void): { config: Config; result: ChildResult }[] {
  return configs.map((config) => {
    const results = Array.from({ length: repeat }, () => runChild(config, profile));
    const best = results.reduce((a, b) => (b.trainSeconds < a.trainSeconds ? b : a));
    best.peakRssMb = Math.max(...results.map((r) => r.peakRssMb));
    log(`  done: ${config.title} (${best.trainSeconds.toFixed(2)} s)`);
    return { config, result: best };
  });
}

/** A plain-text table; the first `textColumns` columns are left-aligned, numbers right-aligned. */
function table(header: string[], rows: string[][], textColumns: number): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i < textColumns || i === cells.length - 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ").trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const profile = args.includes("--profile");
  if (args[0] === "--child") return child(args[1] ?? "", profile);
  const json = args.includes("--json");
  const onlySpeed = args.includes("--speed");
  const onlyChecks = args.includes("--checks");
  const repeatAt = args.indexOf("--repeat");
  const repeat = repeatAt >= 0 ? Number(args[repeatAt + 1]) : 1;
  if (!Number.isInteger(repeat) || repeat < 1) throw new Error(`--repeat: expected a positive integer, got ${args[repeatAt + 1]}`);
  const log = json ? () => {} : (line: string) => console.log(line);

  log(`${await describeBackend()} · ${cpus().length} × ${cpus()[0]?.model ?? "unknown CPU"}`);
  log(`One epoch of 60,000 MNIST images per configuration, each in a fresh process${repeat > 1 ? `, best of ${repeat}` : ""}.`);
  const speed = onlyChecks ? [] : measure(SPEED, repeat, profile, log);
  const checks = onlySpeed ? [] : measure(CHECKS, 1, false, log);

  const speedRows = speed.map(({ config, result }) => {
    const fast = result.trainSeconds <= config.targetSeconds!;
    const lean = result.peakRssMb < RSS_TARGET_MB;
    return { config, result, pass: fast && lean };
  });
  const checkRows = checks.map(({ config, result }) => ({ config, result, pass: config.check!.pass(result) }));
  const passed = [...speedRows, ...checkRows].every((row) => row.pass);

  if (json) {
    console.log(JSON.stringify({
      backend: await describeBackend(),
      cpu: `${cpus().length} × ${cpus()[0]?.model ?? "unknown"}`,
      repeat,
      rssTargetMb: RSS_TARGET_MB,
      speed: speedRows.map(({ config, result, pass }) => ({ title: config.title, targetSeconds: config.targetSeconds, pytorchSeconds: config.pytorchSeconds, pass, ...result })),
      checks: checkRows.map(({ config, result, pass }) => ({ title: config.title, expect: config.check!.expect, pass, ...result })),
      passed,
    }, null, 1));
  } else {
    if (speedRows.length > 0) {
      console.log(`\nSpeed (targets: train seconds as listed, peak RSS < ${RSS_TARGET_MB} MB)`);
      console.log(table(
        ["configuration", "backend", "train s", "target s", "PyTorch s", "samples/s", "test acc %", "peak RSS MB", "load s", ""],
        speedRows.map(({ config, result: r, pass }) => [
          config.title, r.backend, r.trainSeconds.toFixed(2), `≤ ${config.targetSeconds}`, String(config.pytorchSeconds),
          Math.round(r.samplesPerSecond).toLocaleString("en-US"), r.accuracy.toFixed(2), r.peakRssMb.toFixed(0), r.loadSeconds.toFixed(2),
          pass ? "pass" : "FAIL",
        ]),
        2,
      ));
    }
    if (checkRows.length > 0) {
      console.log("\nScience checks (full data, one epoch, seed 0)");
      console.log(table(
        ["configuration", "expected", "test acc %", "classes predicted", "final loss", "train s", ""],
        checkRows.map(({ config, result: r, pass }) => [
          config.title, config.check!.expect, r.accuracy.toFixed(2), String(r.predictedClasses), r.finalLoss.toFixed(3),
          r.trainSeconds.toFixed(2), pass ? "pass" : "FAIL",
        ]),
        2,
      ));
    }
    for (const { config, result } of speedRows) {
      if (!result.kernels) continue;
      const total = result.kernels.reduce((sum, k) => sum + k.seconds, 0);
      console.log(`\nWhere the time goes: ${config.title} (train ${result.trainSeconds.toFixed(2)} s; kernels ${total.toFixed(2)} s incl. evaluation, the rest is JavaScript)`);
      console.log(table(
        ["kernel", "seconds", "calls", "µs/call"],
        result.kernels.slice(0, 10).map((k) => [k.name, k.seconds.toFixed(2), String(k.calls), ((1e6 * k.seconds) / k.calls).toFixed(1)]),
        1,
      ));
    }
    console.log(passed ? "\nAll targets and checks pass." : "\nSome targets or checks FAILED.");
  }
  process.exitCode = passed ? 0 : 1;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 2;
});
