import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "../../scripts/bench/args";
import { buildStepsAfterTsc } from "../../scripts/bench/reports";
import { childEnvironment, median, summarise, type TreeResult } from "../../scripts/bench/speed-baseline";

test("--speed-baseline is a section of its own, with --repeat rounds and --rows", () => {
  const args = parseArgs(["--speed-baseline", "4b72628", "--repeat", "3", "--rows", "784-10-b16,784-500-10"]);
  assert.equal(args.speedBaseline, "4b72628");
  assert.equal(args.repeat, 3);
  assert.deepEqual(args.rows, ["784-10-b16", "784-500-10"]);
  assert.deepEqual([args.speed, args.sweep, args.checks, args.reports], [false, false, false, false]);
  const withSpeed = parseArgs(["--speed-baseline", "4b72628", "--speed"]);
  assert.deepEqual([withSpeed.speed, withSpeed.sweep, withSpeed.rows], [true, false, null]);
});

test("no section named: speed, sweep and checks, no baseline", () => {
  const args = parseArgs([]);
  assert.deepEqual([args.speed, args.sweep, args.checks, args.reports, args.speedBaseline, args.rows, args.repeat], [true, true, true, false, null, null, 1]);
});

test("bad bench arguments are named before anything runs", () => {
  assert.throws(() => parseArgs(["--speed-baseline"]), /--speed-baseline: expected a value after it/);
  assert.throws(() => parseArgs(["--speed-baseline", "--repeat", "2"]), /--speed-baseline: expected a value after it/);
  assert.throws(() => parseArgs(["--rows", "784-10-b16,nope"]), /--rows: expected speed configuration ids .*examples-adam-b64; got "784-10-b16,nope"/);
  assert.throws(() => parseArgs(["--repeat", "0"]), /--repeat: expected a positive integer, got 0/);
  assert.throws(() => parseArgs(["--speed-basline", "4b72628"]), /unknown argument --speed-basline 4b72628/);
});

test("a row's medians, ratios and verdict: no slower than the baseline within 5%", () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  const run = (trainSeconds: number, cpuSeconds: number, finalLoss = 0.3): TreeResult =>
    ({ backend: "wasm", backendLine: "backend wasm (SIMD)", trainSeconds, cpuSeconds, accuracy: 84.04, finalLoss, peakRssMb: 250 });
  const config = { id: "784-10-b16", title: "784-10, SGD 0.001, batch 16" };
  const within = summarise({ config, current: [run(1.04, 2), run(9, 9), run(1.0, 2)], baseline: [run(1.0, 1.6), run(0.9, 1.6), run(1.0, 1.6)] });
  assert.deepEqual(within.seconds, { current: 1.04, baseline: 1.0 });
  assert.ok(Math.abs(within.ratio - 1.04) < 1e-12 && within.pass && within.sameNumbers);
  assert.ok(Math.abs(within.cpuRatio - 1.25) < 1e-12);
  const slower = summarise({ config, current: [run(1.06, 2, 0.31)], baseline: [run(1.0, 2)] });
  assert.equal(slower.pass, false);
  assert.equal(slower.sameNumbers, false);
});

test("the native kernels' switch reaches both trees under both its names", () => {
  assert.equal(childEnvironment({ MIE_NATIVE_KERNELS: "off" }).MIE_NATIVE_PRODUCTS, "off");
  assert.equal(childEnvironment({ MIE_NATIVE_PRODUCTS: "off" }).MIE_NATIVE_KERNELS, "off");
  assert.deepEqual(childEnvironment({ MIE_BACKEND: "wasm" }), { MIE_BACKEND: "wasm" });
});

test("a baseline runs the steps of its own build after tsc: its native kernels too", () => {
  const root = mkdtempSync(join(tmpdir(), "mie-build-steps-"));
  try {
    const write = (build: string) => writeFileSync(join(root, "package.json"), JSON.stringify({ scripts: { build } }));
    write(`node -e "require('fs').rmSync('lib/dist', { recursive: true, force: true })" && tsc -p lib && tsx scripts/slim-declarations.ts && tsx scripts/native-products.ts`);
    assert.deepEqual(buildStepsAfterTsc(root), ["tsx scripts/slim-declarations.ts", "tsx scripts/native-products.ts"]);
    write("tsc -p lib");
    assert.deepEqual(buildStepsAfterTsc(root), []);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
