/**
 * Benchmark and science checks: one epoch of full MNIST per configuration, each in a fresh child process so its
 * peak memory is its own. Prints a table with the targets beside the measurements (or JSON with --json) and
 * exits non-zero when a target or a check fails.
 *
 *   npm run bench                 speed table, sweep row and science checks
 *   npm run bench -- --speed      only the speed table    --sweep  only the sweep row    --checks  only the checks
 *   npm run bench -- --pytorch    also PyTorch CPU, 2 threads, on each speed configuration right after ours
 *                                 (interleaved, `repeat` times), and the ratio per row. Python: the first that imports torch of MIE_TORCH_PYTHON,
 *                                 .venv/bin/python, /usr/bin/python3, python3.
 *                 --pytorch-threads 1,2   PyTorch with each thread count; the ratio is to the fastest (2 threads
 *                                 collapse when another process uses a core; 1 thread does not)
 *   npm run bench -- --reports [--reports-baseline REV]
 *                                 seconds of `npm run reports` (minutes; opt-in), and of commit REV first, in the
 *                                 same command and on the notebooks both have, each from an empty run store; then
 *                                 this tree on REV's own notebooks (the same work), the ratio the target is on.
 *                                 Sections named run alone: add
 *                                 --speed, --sweep or --checks to run those too.
 *   npm run bench -- --backends wasm,tfjs-node
 *                                 each speed configuration on each backend and under auto (what the library
 *                                 picks), interleaved, with ratios to the first and peak RSS (scripts/bench/backends.ts)
 *   npm run bench -- --speed-baseline REV [--repeat N]
 *                                 each speed configuration in a fresh process of this tree and of commit REV's tree
 *                                 alternately (this tree, REV, this tree, REV, ...: N rounds; N ≥ 3 for a verdict),
 *                                 each tree with its own code and its own native kernels (REV prepared as for
 *                                 --reports-baseline), the backend line each ran, per row the median seconds and CPU
 *                                 seconds of both, the ratio this / REV and its target ≤ 1.05, and whether both
 *                                 trained the same numbers (scripts/bench/speed-baseline.ts)
 *   npm run bench -- --rows 784-10-b16,784-500-10
 *                                 only these speed configurations (ids in scripts/bench/config.ts), in every section
 *                                 that trains them
 *   npm run bench -- --json       machine-readable output       --repeat 3 best of 3 runs per configuration
 *   npm run bench -- --profile    also where the time goes: seconds per backend kernel in each configuration
 *
 * Speed targets live here only, never in unit tests: timings depend on the machine and on what else runs, so
 * the targets that matter are ratios measured in the same command (ours / PyTorch, pool / one at a time).
 * The bench always uses the full data: it refuses to run with MIE_TRAIN_LIMIT or MIE_TEST_LIMIT set.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { predictedClasses } from "../../lib/results/analysis";
import { backendForRun, describeBackend, initBackend } from "../../lib/engine/backend";
import { loadMnist } from "../../lib/data/data";
import { EngineHeap } from "../../lib/engine/heap";
import { kernelsHeapBase, loadNativeAddon, minimumPages, nativeKernels, wasmKernels } from "../../lib/engine/kernels";
import { mlp, Model } from "../../lib/model/model";
import { network, NetworkModel } from "../../lib/model/network-model";
import { resolveSettings } from "../../lib/train/settings";
import type { RunSpec } from "../../lib/runs/spec";
import { closeWorkers } from "../../lib/runs/pool";
import { trainAll } from "../../lib/runs/sweep";
import { evaluate, train } from "../../lib/train/loop";
import { parseArgs } from "./args";
import { backendsJson, formatBackends, measureBackends, rowPasses, type BackendResult } from "./backends";
import { findTorchPython, runPytorch, type TorchResult } from "./pytorch";
import { buildThisTree, copyNotebooks, jupyterPython, prepareBaseline, reportsRatio, sharedNotebooks, timeReports, type ReportsTiming } from "./reports";
import { formatSpeedBaseline, measureAgainstBaseline, runTreeChild, speedBaselineJson, summarise, type SpeedBaselineRow } from "./speed-baseline";
import {
  CHECKS, NETS, pytorchRatioTarget, reportsTargetRatio, RESULT_PREFIX, RSS_TARGET_MB, SPEED, SWEEP, SWEEP_RSS_TARGET_MB, SWEEP_TARGET_RATIO,
  type ChildResult, type Config, type SweepResult,
} from "./config";
import { printTables, table, type CheckRow, type SpeedRow } from "./tables";

function refuseReducedData(): void {
  const set = ["MIE_TRAIN_LIMIT", "MIE_TEST_LIMIT"].filter((key) => process.env[key] !== undefined);
  if (set.length > 0) {
    throw new Error(
      `bench: ${set.map((key) => `${key}=${process.env[key]}`).join(", ")} is set, but the bench always uses the full MNIST data ` +
        "(its timings and accuracy checks are for 60,000 / 10,000 images). Unset it and run again.",
    );
  }
}

async function child(id: string, profile: boolean, repeat: number): Promise<void> {
  refuseReducedData();
  if (id === "sweep") return sweepChild(repeat);
  const config = [...SPEED, ...CHECKS].find((c) => c.id === id);
  if (!config) throw new Error(`bench --child: unknown configuration "${id}"`);
  // Under auto the backend depends on the run's size: profile the one this run trains on (a network trains on the
  // engine, whose kernels TensorFlow.js does not see).
  const info = config.model ? null : await backendForRun(config.layers, resolveSettings(config.options).batchSize);
  const kernels = profile && info ? timeKernels(info.tfName) : null;
  const loadStart = performance.now();
  const data = await loadMnist();
  const loadSeconds = (performance.now() - loadStart) / 1000;
  const model = config.model ? network(NETS[config.model](), { init: "torch" }) : mlp(config.layers, config.init ? { init: config.init } : {});
  const cpuStart = process.cpuUsage();
  const run = await train(model, data, config.options);
  const withEvaluation = cpuSecondsSince(cpuStart);
  const evaluationStart = process.cpuUsage();
  evaluate(run.model, data);
  const cpuSeconds = withEvaluation - cpuSecondsSince(evaluationStart);
  const result: ChildResult = {
    id, backend: run.backend, loadSeconds, trainSeconds: run.seconds, cpuSeconds, samplesPerSecond: run.samplesPerSecond,
    accuracy: run.accuracy, finalLoss: run.finalLoss, predictedClasses: predictedClasses(run).length,
    peakRssMb: process.resourceUsage().maxRSS / 1024, multiplyAdds: trainingMultiplyAdds(model) * data.train.count,
    ...(kernels ? { kernels: [...kernels].filter(([, k]) => k.calls > 0).map(([name, k]) => ({ name, ...k })).sort((a, b) => b.seconds - a.seconds) } : {}),
  };
  console.log(RESULT_PREFIX + JSON.stringify(result));
}

/**
 * The multiply-adds of one image's training step in the products: forward, weight gradient (each (inputs + 1) ·
 * outputs per output position, the bias's row included) and input gradient (inputs · outputs, none for the first
 * layer). Pooling, activations and the update rule are not counted.
 */
function trainingMultiplyAdds(model: Model | NetworkModel): number {
  const products = model instanceof NetworkModel
    ? model.spec.layers.flatMap((layer) => layer.kind === "conv2d"
      ? [{ inputs: layer.channels * layer.kernelHeight * layer.kernelWidth, outputs: layer.filters * layer.outHeight * layer.outWidth }]
      : layer.kind === "dense" ? [{ inputs: layer.inputs, outputs: layer.units }] : [])
    : model.layers.slice(1).map((outputs, l) => ({ inputs: model.layers[l]!, outputs }));
  return products.reduce((sum, { inputs, outputs }, l) => sum + 2 * (inputs + 1) * outputs + (l > 0 ? inputs * outputs : 0), 0);
}

/**
 * This CPU's multiply-adds per second at most, two ways: `measured`, the engine's gemm (native where built) on a
 * product that fits in L1 and L2 (64 × 512 × 64), one thread, best of 9 rounds of CPU time, times the cores (the
 * kernels use no FMA: a multiply and an add per term); `nominal`, cores × the widest vector's floats × the clock
 * /proc/cpuinfo gives (one vector multiply and one vector add per cycle; a virtual machine reports its nominal clock,
 * which a core may exceed).
 */
function peakMultiplyAdds(): { measured: number; nominal: number | null; line: string } {
  const heap = new EngineHeap(kernelsHeapBase(), minimumPages());
  const native = loadNativeAddon();
  const kernels = typeof native === "string" ? wasmKernels(heap.memory) : nativeKernels(native.addon, heap.memory);
  const isa = typeof native === "string" ? "wasm" : native.addon.instructionSet();
  const [M, K, N] = [64, 512, 64];
  const [a, b, c] = [heap.alloc(M * K * 4), heap.alloc(K * N * 4), heap.alloc(M * N * 4)];
  heap.floats(a, M * K).fill(0.5), heap.floats(b, K * N).fill(0.25);
  let best = Infinity;
  for (let round = 0; round < 9; round++) {
    const start = process.cpuUsage();
    for (let i = 0; i < 200; i++) kernels.gemm(a, K * 4, 4, b, N * 4, c, N * 4, 0, M, K, N, 0);
    best = Math.min(best, cpuSecondsSince(start) / 200);
  }
  const cores = cpus().length;
  const measured = ((M * K * N) / best) * cores;
  const mhz = Number(/cpu MHz\s*:\s*([\d.]+)/.exec(existsSync("/proc/cpuinfo") ? readFileSync("/proc/cpuinfo", "utf8") : "")?.[1] ?? NaN);
  const lanes = { avx512: 16, avx2: 8, sse2: 4, wasm: 4 }[isa] ?? 4;
  const nominal = Number.isFinite(mhz) ? cores * lanes * mhz * 1e6 : null;
  const line = `Peak multiply-adds/s (no FMA: one float32 multiply and one add each): measured ${(measured / 1e9).toFixed(1)} G ` +
    `(${cores} cores × ${(measured / cores / 1e9).toFixed(1)} G, the ${isa} gemm on ${M}×${K}×${N} in cache, one thread, CPU time)` +
    (nominal ? `; nominal ${(nominal / 1e9).toFixed(1)} G (${cores} × ${lanes} lanes × ${mhz.toFixed(0)} MHz, /proc/cpuinfo)` : "");
  return { measured, nominal, line };
}

/** The sweep's runs as data: the same model and settings, model seeds 0–3. */
function sweepSpecs(): RunSpec[] {
  return SWEEP.seeds.map((seed) => ({ layers: SWEEP.layers, seed, ...SWEEP.options, label: `seed ${seed}` }));
}

/** One at a time, then the pool with fresh workers, then again on those workers; `repeat` times interleaved,
 *  the fastest of each kept. */
async function sweepChild(repeat: number): Promise<void> {
  await initBackend();
  const data = await loadMnist();
  const workers = cpus().length;
  const timed = async (count: number) => {
    const start = performance.now();
    const runs = await trainAll(sweepSpecs(), data, { workers: count });
    return { seconds: (performance.now() - start) / 1000, runs };
  };
  let serialSeconds = Infinity;
  let poolSeconds = Infinity;
  let warmPoolSeconds = Infinity;
  let identical = true;
  let accuracies: number[] = [];
  for (let r = 0; r < repeat; r++) {
    const serial = await timed(1);
    await closeWorkers();
    const pool = await timed(workers);
    const warm = await timed(workers);
    serialSeconds = Math.min(serialSeconds, serial.seconds);
    poolSeconds = Math.min(poolSeconds, pool.seconds);
    warmPoolSeconds = Math.min(warmPoolSeconds, warm.seconds);
    identical &&= [pool, warm].every(({ runs }) => serial.runs.every((run, k) => run.accuracy === runs[k]!.accuracy &&
      run.losses.length === runs[k]!.losses.length && run.losses.every((loss, s) => Object.is(loss, runs[k]!.losses[s]))));
    accuracies = pool.runs.map((run) => run.accuracy);
    [...serial.runs, ...pool.runs, ...warm.runs].forEach((run) => run.model.dispose());
  }
  await closeWorkers();
  const result: SweepResult = {
    runs: SWEEP.seeds.length, workers, serialSeconds, poolSeconds, warmPoolSeconds, identical, accuracies,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
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

/** One configuration in a fresh process; `backend` sets its MIE_BACKEND (default: this process's environment). */
function runChild<T>(id: string, title: string, profile: boolean, repeat = 1, backend?: string): T {
  const args = ["--import", "tsx", __filename, "--child", id, "--repeat", String(repeat), ...(profile ? ["--profile"] : [])];
  const env = backend ? { ...process.env, MIE_BACKEND: backend } : process.env;
  const out = spawnSync(process.execPath, args, { cwd: `${__dirname}/..`, encoding: "utf8", env, maxBuffer: 16 * 1024 * 1024 });
  const line = out.stdout.split("\n").find((l) => l.startsWith(RESULT_PREFIX));
  if (out.status !== 0 || !line) throw new Error(`bench: ${title} failed (exit ${out.status}):\n${out.stderr.slice(-2000)}`);
  return JSON.parse(line.slice(RESULT_PREFIX.length)) as T;
}

function cpuSecondsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
}

/** Run each configuration `repeat` times, keep the fastest (least disturbed by other processes) and the least CPU time. */
function measure(configs: Config[], repeat: number, profile: boolean, log: (line: string) => void): { config: Config; result: ChildResult }[] {
  return configs.map((config) => {
    const best = bestOf(Array.from({ length: repeat }, () => runChild<ChildResult>(config.id, config.title, profile)));
    log(`  done: ${config.title} (${best.trainSeconds.toFixed(2)} s)`);
    return { config, result: best };
  });
}

/** The fastest of a configuration's runs, with the largest peak RSS and the least CPU time of them all. */
function bestOf(results: ChildResult[]): ChildResult {
  const best = results.reduce((a, b) => (b.trainSeconds < a.trainSeconds ? b : a));
  return { ...best, peakRssMb: Math.max(...results.map((r) => r.peakRssMb)), cpuSeconds: Math.min(...results.map((r) => r.cpuSeconds)) };
}

/**
 * With --pytorch: per configuration, ours and then PyTorch (each thread count), `repeat` times, so that each
 * ratio compares runs seconds apart (on a shared machine the load moves within minutes); fastest of each kept.
 */
function measureWithPytorch(
  configs: Config[], repeat: number, profile: boolean, threads: number[], log: (line: string) => void,
): { speed: { config: Config; result: ChildResult }[]; torch: { results: Map<string, TorchResult>; python: string; version: string; threads: number[] } } {
  const { python, version } = findTorchPython();
  log(`PyTorch ${version} CPU, ${threads.join(" and ")} thread(s), with ${python}, right after ours on each configuration.`);
  const results = new Map<string, TorchResult>();
  const speed = configs.map((config) => {
    const torchConfig = {
      id: config.id, layers: config.layers, ...(config.model ? { net: config.model } : {}),
      optimizer: config.options.optimizer ?? "sgd", lr: config.options.lr ?? 0.001, batchSize: config.options.batchSize ?? 16, seed: 0,
    };
    const ours: ChildResult[] = [];
    for (let r = 0; r < repeat; r++) {
      ours.push(runChild<ChildResult>(config.id, config.title, profile));
      for (const result of threads.flatMap((count) => runPytorch(python, count, [torchConfig]))) {
        const best = results.get(result.id);
        const cpuSeconds = Math.min(result.cpuSeconds, best?.cpuSeconds ?? Infinity);
        results.set(result.id, { ...(!best || result.trainSeconds < best.trainSeconds ? result : best), cpuSeconds });
      }
    }
    const best = bestOf(ours);
    const torch = results.get(config.id)!;
    log(`  done: ${config.title} (${best.trainSeconds.toFixed(2)} s; PyTorch ${torch.trainSeconds.toFixed(2)} s, ${torch.threads} thread(s))`);
    return { config, result: best };
  });
  return { speed, torch: { results, python, version, threads } };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === "--child") return child(argv[1] ?? "", argv.includes("--profile"), Number(argv[argv.indexOf("--repeat") + 1] ?? 1));
  refuseReducedData();
  const args = parseArgs(argv);
  const log = args.json ? () => {} : (line: string) => console.log(line);

  log(`${await describeBackend()} · ${cpus().length} × ${cpus()[0]?.model ?? "unknown CPU"}`);
  if (args.speed || args.checks) log(`One epoch of 60,000 MNIST images per configuration, each in a fresh process${args.repeat > 1 ? `, best of ${args.repeat}` : ""}.`);
  const speedConfigs = args.rows ? SPEED.filter((config) => args.rows!.includes(config.id)) : SPEED;
  if (args.pytorch) findTorchPython(); // fail before the long part when there is no torch
  const withTorch = args.pytorch && args.speed ? measureWithPytorch(speedConfigs, args.repeat, args.profile, args.pytorchThreads, log) : null;
  const speed = withTorch?.speed ?? (args.speed ? measure(speedConfigs, args.repeat, args.profile, log) : []);
  const peak = speed.length > 0 ? peakMultiplyAdds() : null;
  const torch = withTorch?.torch ?? null;
  const sweep = args.sweep ? runChild<SweepResult>("sweep", SWEEP.title, false, args.repeat) : null;
  if (sweep) log(`  done: ${SWEEP.title} (${sweep.serialSeconds.toFixed(1)} s one at a time, ${sweep.poolSeconds.toFixed(1)} s on ${sweep.workers} new workers, ${sweep.warmPoolSeconds.toFixed(1)} s on them again)`);
  // The speed rows' own checks are read from their speed runs; those not measured there run here.
  const checkConfigs = args.checks ? [...CHECKS, ...SPEED.filter((c) => c.check && !speed.some((measured) => measured.config.id === c.id))] : [];
  const checks = measure(checkConfigs, 1, false, log);
  const reports = args.reports ? measureReports(args.reportsBaseline, log) : null;
  const backends = args.backends;
  const backendRows = backends
    ? measureBackends(speedConfigs, backends, args.repeat, (config, backend) => runChild<BackendResult>(config.id, `${config.title} on ${backend}`, false, 1, backend), log)
    : [];
  const baselineRows = args.speedBaseline ? measureSpeedBaseline(args.speedBaseline, speedConfigs, args.repeat, log) : [];

  const speedRows = speed.map(({ config, result }) => {
    const pytorch = torch?.results.get(config.id) ?? null;
    const ratio = pytorch ? result.trainSeconds / pytorch.trainSeconds : null;
    const fast = result.trainSeconds <= config.targetSeconds! && (ratio === null || ratio <= pytorchRatioTarget());
    return { config, result, pytorch, ratio, pass: fast && result.peakRssMb < RSS_TARGET_MB };
  });
  const checkRows = [...(args.checks ? speed.filter(({ config }) => config.check) : []), ...checks].map(({ config, result }) => ({ config, result, pass: config.check!.pass(result) }));
  const sweepRatio = sweep ? sweep.poolSeconds / sweep.serialSeconds : null;
  const sweepPass = sweep ? sweep.identical && sweepRatio! <= SWEEP_TARGET_RATIO && sweep.peakRssMb < SWEEP_RSS_TARGET_MB : true;
  // The target is on the same work: this tree on the baseline's notebooks (its own have grown since).
  const reportsVsBaseline = reports?.baseline ? reportsRatio(reports.sameWork ?? reports.current, reports.baseline) : null;
  const reportsPass = reportsVsBaseline === null || reportsVsBaseline <= reportsTargetRatio();
  const passed = [...speedRows, ...checkRows].every((row) => row.pass) && sweepPass && reportsPass && backendRows.every((row) => rowPasses(row, backends!)) &&
    baselineRows.every((row) => summarise(row).pass);

  if (args.json) {
    console.log(JSON.stringify({
      backend: await describeBackend(), cpu: `${cpus().length} × ${cpus()[0]?.model ?? "unknown"}`, repeat: args.repeat, rssTargetMb: RSS_TARGET_MB,
      peakMultiplyAddsPerSecond: peak ? { measured: peak.measured, nominal: peak.nominal } : null,
      pytorch: torch ? { python: torch.python, version: torch.version, threads: torch.threads } : null,
      speed: speedRows.map(({ config, result, pytorch, ratio, pass }) => ({
        title: config.title, targetSeconds: config.targetSeconds, maxPytorchRatio: pytorchRatioTarget(), pytorchSeconds: pytorch?.trainSeconds ?? null,
        pytorchAccuracy: pytorch?.accuracy ?? null, ratio, pass, ...result,
      })),
      sweep: sweep ? { title: SWEEP.title, ...sweep, ratio: sweepRatio, targetRatio: SWEEP_TARGET_RATIO, pass: sweepPass } : null,
      checks: checkRows.map(({ config, result, pass }) => ({ title: config.title, expect: config.check!.expect, pass, ...result })),
      reports: reports ? { ...reports, ratio: reportsVsBaseline, targetRatio: reportsTargetRatio(), pass: reportsPass } : null,
      backends: backends ? backendsJson(backendRows, backends) : null,
      speedBaseline: args.speedBaseline ? speedBaselineJson(baselineRows, args.speedBaseline) : null,
      passed,
    }, null, 1));
  } else {
    printTables(speedRows, sweep, sweepRatio, sweepPass, checkRows, reports, reportsVsBaseline, reportsPass, torch, peak);
    if (backends) console.log(formatBackends(backendRows, backends, table));
    if (args.speedBaseline) console.log(formatSpeedBaseline(baselineRows, args.speedBaseline, table));
    console.log(passed ? "\nAll targets and checks pass." : "\nSome targets or checks FAILED.");
  }
  process.exitCode = passed ? 0 : 1;
}

/**
 * With --speed-baseline REV: REV's tree prepared as for --reports-baseline (its own build, native kernels included),
 * this tree built, then each configuration in both, alternately (scripts/bench/speed-baseline.ts).
 */
function measureSpeedBaseline(rev: string, configs: Config[], repeat: number, log: (line: string) => void): SpeedBaselineRow[] {
  const ours = join(__dirname, "..", "..");
  buildThisTree(log);
  const tree = prepareBaseline(rev, log);
  try {
    log(`Speed against ${rev}: ${configs.length} configuration(s), ${repeat} round(s) of this tree then ${rev}, each run in a fresh process.`);
    return measureAgainstBaseline(configs, repeat, (config, which) => runTreeChild(which === "current" ? ours : tree.root, config), log);
  } finally {
    tree.dispose();
  }
}

function measureReports(baselineRev: string | null, log: (line: string) => void): { baseline: ReportsTiming | null; current: ReportsTiming; sameWork: ReportsTiming | null } {
  const python = jupyterPython();
  log(`Jupyter Python for both: ${python}`);
  const ours = join(__dirname, "..", ".."); // the project folder
  buildThisTree(log);
  let baseline: ReportsTiming | null = null;
  let sameWork: ReportsTiming | null = null;
  let names: string[] = [];
  if (baselineRev) {
    const tree = prepareBaseline(baselineRev, log);
    try {
      names = sharedNotebooks(ours, tree.root);
      log(`npm run reports ${names.join(" ")}: of ${baselineRev} (first), then of this tree on ${baselineRev}'s notebooks, then on its own`);
      baseline = timeReports(tree.root, baselineRev, python, names);
      log(`  done: reports of ${baselineRev} (${baseline.totalSeconds.toFixed(1)} s)`);
      const copy = copyNotebooks(tree.root, baselineRev);
      try {
        sameWork = timeReports(ours, `this tree on ${baselineRev}'s notebooks`, python, names, copy.folder);
      } finally {
        copy.dispose();
      }
      log(`  done: reports of this tree on ${baselineRev}'s notebooks (${sameWork.totalSeconds.toFixed(1)} s)`);
    } finally {
      tree.dispose();
    }
  }
  const current = timeReports(ours, "this tree", python, names);
  log(`  done: reports of this tree (${current.totalSeconds.toFixed(1)} s)`);
  return { baseline, current, sameWork };
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 2;
});
