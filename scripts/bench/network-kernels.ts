/**
 * The engine's kernels on conv nets' work, one thread:
 *
 *   npx tsx scripts/bench/network-kernels.ts profile examples 40 [batch]
 *       where a training step's time goes: ms per step per kernel call shape (each gemm by M×K×N), over 40 steps of
 *       the examples net (conv 32, conv 64 @3×3, pool, dense 128) at batch 64 (or [batch]); `lenet` for the
 *       LeNet-like net, `wide` for ConvNetwork's 99% net. THREADS=2: the kernels split over two threads.
 *       Native kernels (the build this CPU runs); WASM=1 for kernels.wasm.
 *   npx tsx scripts/bench/network-kernels.ts ab [rounds] [REV] [--wasm] [--match REGEX]
 *       this tree's kernels against commit REV's (default HEAD: the change not yet committed), natively and with
 *       --wasm in WebAssembly too, on the conv nets' products and kernels and on the MLP's products (the shapes of
 *       scripts/bench/kernels.ts): per case the median CPU time of each, the median of each round's ratio
 *       new / old (old and new alternate: on a shared machine the load moves), and whether both gave the same bits.
 *       --match: only the cases whose names match (e.g. "^[0-9]" for the MLP's products).
 *
 * REV's kernels are its lib/engine/kernels (git archive), its kernels.wasm as committed and its C compiled here with
 * this tree's flags (scripts/build-kernels.ts).
 */
import { execSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { loadMnist } from "../../lib/data/data";
import { EngineHeap } from "../../lib/engine/heap";
import { kernelsHeapBase, loadNativeAddon, minimumPages, nativeKernels, wasmKernels, type Kernels, type NativeAddon } from "../../lib/engine/kernels";
import { startNetwork } from "../../lib/engine/network";
import { seededRandom } from "../../lib/math/random";
import { network } from "../../lib/model/network-model";
import { buildKernels, KERNELS_WASM } from "../build-kernels";
import { NETS } from "./config";
import { startTeam } from "../../lib/engine/team";

const ROOT = resolve(__dirname, "..", "..");

async function profile(which: string, steps: number, batchSize: number): Promise<void> {
  const make = NETS[which as keyof typeof NETS];
  if (!make) throw new Error(`network-kernels profile: unknown net "${which}" (${Object.keys(NETS).join(", ")})`);
  const data = await loadMnist();
  const heap = new EngineHeap(kernelsHeapBase(), minimumPages());
  const native = loadNativeAddon();
  if (!process.env.WASM && typeof native === "string") throw new Error(`network-kernels: ${native}`);
  const single = process.env.WASM || typeof native === "string" ? wasmKernels(heap.memory) : nativeKernels(native.addon, heap.memory);
  // THREADS=2: the kernels split over a team, as training on two threads runs them.
  const team = process.env.THREADS === "2" ? startTeam(heap.memory, 1, [wasmKernels(heap.memory), single], !process.env.WASM && typeof native !== "string") : null;
  const base = team ? team.kernels(process.env.WASM || typeof native === "string" ? 0 : 1) : single;
  const times = new Map<string, number>();
  const timed = Object.fromEntries(Object.entries(base).map(([name, kernel]) => [name, (...args: number[]) => {
    const start = performance.now();
    (kernel as (...args: number[]) => void)(...args);
    const key = name === "gemm" ? `gemm ${args[8]}×${args[9]}×${args[10]}` : name;
    times.set(key, (times.get(key) ?? 0) + performance.now() - start);
  }])) as unknown as Kernels;
  const net = network(make(), { init: "torch" });
  const session = startNetwork(heap, { kernels: timed, gemm: timed.gemm }, {
    spec: net.spec, numbers: net.numbers(), batchSize, rule: { optimizer: "adam", lr: 0.001, momentum: null, weightDecay: 0 }, scaling: { mean: 0, std: 1 }, seed: 0,
  });
  const batch = (s: number) => ({ split: data.train, from: s * batchSize, to: s * batchSize + batchSize, order: null, shifts: null });
  for (let s = 0; s < 3; s++) session.step(batch(s));
  times.clear();
  const cpu = process.cpuUsage();
  const start = performance.now();
  for (let s = 0; s < steps; s++) session.step(batch(s));
  const total = performance.now() - start;
  const used = process.cpuUsage(cpu);
  session.dispose();
  console.log(`${which}, batch ${batchSize}, ${process.env.WASM ? "wasm" : `native ${(native as { addon: NativeAddon }).addon.instructionSet()}`}${team ? ", 2 threads" : ""}: ` +
    `${(total / steps).toFixed(1)} ms/step wall, ${((used.user + used.system) / 1000 / steps).toFixed(1)} ms/step CPU (load ${loadAverage()})`);
  for (const [key, ms] of [...times.entries()].sort((a, b) => b[1] - a[1])) console.log(`${(ms / steps).toFixed(2).padStart(8)}  ${key}`);
  console.log(`${((total - [...times.values()].reduce((a, b) => a + b, 0)) / steps).toFixed(2).padStart(8)}  JavaScript and the rest`);
}

/** One measured case: what it is, how to place its operands, and the call. */
interface Case {
  what: string;
  /** Multiply-adds of one call (0: not a product). */
  work: number;
  wasm: boolean;
  setup(place: (floats: number) => number, fill: (at: number, count: number) => void): { run: (k: Kernels) => void; out: number; outBytes: number; reset?: (k: Kernels) => void };
}

/** gemm M×K×N as the step calls it: A by rows or by columns (sam, sak), B and C row-major. */
function gemmCase(what: string, M: number, K: number, N: number, byColumns: boolean, mode: number, wasm: boolean): Case {
  return {
    what: `${what} ${M}×${K}×${N}${byColumns ? "ᵀ" : ""}`, work: M * K * N, wasm,
    setup(place, fill) {
      const [a, b, extra, c] = [place(M * K), place(K * N), place(M * N), place(M * N)];
      fill(a, M * K), fill(b, K * N), fill(extra, M * N);
      const [sam, sak] = byColumns ? [4, M * 4] : [K * 4, 4];
      return { run: (k) => k.gemm(a, sam, sak, b, N * 4, c, N * 4, extra, M, K, N, mode), out: c, outBytes: M * N * 4 };
    },
  };
}

const [NONE, ADD_TO, MASK, RELU] = [0, 1, 2, 3];
/** The conv nets' products at batch 64 (lib/engine/network.ts) and the MLP's (scripts/bench/kernels.ts). */
const CASES: Case[] = [
  gemmCase("examples conv2 forward", 64, 289, 36864, true, RELU, false),
  gemmCase("examples conv2 input grad", 288, 64, 36864, false, NONE, false),
  gemmCase("examples conv2 weights", 289, 36864, 64, false, NONE, false),
  gemmCase("examples conv1 forward", 32, 10, 43264, true, RELU, false),
  gemmCase("examples conv1 weights", 10, 43264, 32, false, NONE, false),
  gemmCase("examples dense forward", 128, 9217, 64, false, RELU, false),
  gemmCase("examples dense weights", 128, 64, 9217, false, NONE, false),
  gemmCase("examples dense input grad", 9216, 128, 64, true, NONE, false),
  gemmCase("lenet conv2 forward", 16, 201, 4096, true, RELU, true),
  gemmCase("lenet conv2 input grad", 200, 16, 4096, false, NONE, true),
  gemmCase("lenet conv2 weights", 201, 4096, 16, false, NONE, true),
  gemmCase("lenet conv1 forward", 8, 26, 36864, true, RELU, true),
  gemmCase("lenet conv1 weights", 26, 36864, 8, false, NONE, true),
  gemmCase("784-500 forward", 500, 785, 64, false, RELU, true),
  gemmCase("784-500 weights", 500, 64, 785, false, ADD_TO, true),
  gemmCase("500-500 forward", 500, 501, 64, false, RELU, true),
  gemmCase("500-500 weights", 500, 64, 501, false, ADD_TO, true),
  gemmCase("500-500 input grad", 500, 500, 64, true, MASK, true),
  gemmCase("500-10 forward", 64, 501, 10, false, NONE, true),
  gemmCase("500-10 weights", 501, 64, 10, false, ADD_TO, true),
  gemmCase("500-10 input grad", 500, 10, 64, false, MASK, true),
  gemmCase("784-10 b16 forward", 16, 785, 10, false, NONE, true),
  gemmCase("784-10 b16 weights", 785, 16, 10, false, ADD_TO, true),
  ...([[64, 36864, "examples dOut"], [128, 9217, "dense input"], [16, 4096, "lenet dOut"], [16, 785, "784 b16 input"], [2048, 144, "examples flatten"], [144, 2048, "examples unflatten"]] as const)
    .map(([rows, cols, what]): Case => ({
      what: `transpose ${what} ${rows}×${cols}`, work: 0, wasm: true,
      setup(place, fill) {
        const [src, dst] = [place(rows * cols), place(rows * cols)];
        fill(src, rows * cols);
        return { run: (k) => k.transpose(src, dst, rows, cols), out: dst, outBytes: rows * cols * 4 };
      },
    })),
  {
    what: "dropout examples 589,824", work: 0, wasm: true,
    setup(place) {
      const n = 589824;
      const [x, mask] = [place(n), place(n / 4)];
      const bytes = new Uint8Array(memory().buffer, mask, n);
      const random = seededRandom(3);
      for (let i = 0; i < n; i++) bytes[i] = random() >= 0.25 ? 1 : 0;
      const values = new Float32Array(memory().buffer, x, n);
      // The same input before every call: scale by 1 (x·1 = x) keeps the values from growing round after round.
      for (let i = 0; i < n; i++) values[i] = random() * 2 - 1;
      return { run: (k) => k.dropout(x, mask, n, 1), out: x, outBytes: n * 4 };
    },
  },
  ...([["examples conv2", 32, 26, 3, 24], ["lenet conv2", 8, 12, 5, 8]] as const).flatMap(([what, C, H, kernel, O]): Case[] => {
    const rows = C * kernel * kernel + 1, cols = 64 * O * O;
    return [{
      what: `im2col ${what}`, work: 0, wasm: true,
      setup(place, fill) {
        const [src, dst] = [place(C * 64 * H * H), place(rows * cols)];
        fill(src, C * 64 * H * H);
        return { run: (k) => k.im2col(src, dst, C, 64, H, H, kernel, kernel, 1, 0, O, O), out: dst, outBytes: rows * cols * 4 };
      },
    }, {
      what: `col2im ${what}`, work: 0, wasm: true,
      setup(place, fill) {
        const [src, dst] = [place(rows * cols), place(C * 64 * H * H)];
        fill(src, rows * cols);
        return { run: (k) => k.col2im(src, dst, C, 64, H, H, kernel, kernel, 1, 0, O, O), out: dst, outBytes: C * 64 * H * H * 4 };
      },
    }];
  }),
];

let shared: WebAssembly.Memory | undefined;
function memory(): WebAssembly.Memory {
  return shared!;
}

async function ab(rounds: number, rev: string, withWasm: boolean, match: RegExp): Promise<void> {
  const folder = mkdtempSync(join(tmpdir(), "mie-network-kernels-"));
  try {
    execSync(`git archive ${rev} lib/engine/kernels | tar -x -C ${folder}`, { cwd: ROOT });
    const oldFolder = join(folder, "lib", "engine", "kernels");
    const oldAddonPath = join(folder, "old.node");
    const [oldBuild, newBuild] = [await buildKernels({ sources: oldFolder, output: oldAddonPath }), await buildKernels()];
    if (!oldBuild.ok || !newBuild.ok) throw new Error(`network-kernels ab: ${oldBuild.line} / ${newBuild.line}`);
    const newAddon = loadNativeAddon();
    if (typeof newAddon === "string") throw new Error(`network-kernels ab: ${newAddon}`);
    const oldAddon = require(oldAddonPath) as NativeAddon;

    const modules = { old: new WebAssembly.Module(readFileSync(join(oldFolder, "kernels.wasm"))), new: new WebAssembly.Module(readFileSync(KERNELS_WASM)) };
    shared = new WebAssembly.Memory({ initial: 4096, maximum: 65536, shared: true } as WebAssembly.MemoryDescriptor);
    const exportsOf = (module: WebAssembly.Module) => new WebAssembly.Instance(module, { env: { memory: shared! } }).exports;
    const [oldExports, newExports] = [exportsOf(modules.old), exportsOf(modules.new)];
    const base = Math.max(...[oldExports, newExports].map((e) => (e.__heap_base as WebAssembly.Global).value as number));
    const sides: Record<string, Kernels> = {
      "old native": nativeKernels(oldAddon, shared), "new native": nativeKernels(newAddon.addon, shared),
      ...(withWasm ? { "old wasm": oldExports as unknown as Kernels, "new wasm": newExports as unknown as Kernels } : {}),
    };
    console.log(`${rev} (old) against this tree (new), one thread, ${newAddon.addon.instructionSet()}${withWasm ? " and wasm" : ""}, CPU time, ` +
      `${rounds} rounds alternating, medians; load ${loadAverage()}`);
    console.log(`${"case".padEnd(44)}${"old native".padEnd(12)}${"new native".padEnd(12)}${"new/old".padEnd(9)}${"GMAC/s".padEnd(8)}` +
      `${withWasm ? `${"old wasm".padEnd(12)}${"new wasm".padEnd(12)}${"new/old".padEnd(9)}` : ""}bits`);
    const random = seededRandom(5);
    for (const c of CASES.filter((c) => match.test(c.what))) {
      let next = Math.ceil(base / 64) * 64;
      const place = (floats: number) => {
        const at = next;
        next += Math.ceil((floats * 4) / 64) * 64;
        const pages = Math.ceil(next / 65536) - shared!.buffer.byteLength / 65536;
        if (pages > 0) shared!.grow(pages);
        return at;
      };
      const fill = (at: number, count: number) => {
        const view = new Float32Array(shared!.buffer, at, count);
        for (let i = 0; i < count; i++) view[i] = 2 * random() - 1;
      };
      const { run, out, outBytes } = c.setup(place, fill);
      const names = Object.keys(sides).filter((name) => c.wasm || name.endsWith("native"));
      const bits = new Map<string, Buffer>();
      for (const name of names) {
        run(sides[name]!);
        bits.set(name, Buffer.from(new Uint8Array(shared.buffer, out, outBytes)));
        run(sides[name]!);
      }
      const once = (name: string) => {
        const start = process.cpuUsage();
        run(sides[name]!);
        const used = process.cpuUsage(start);
        return (used.user + used.system) / 1000;
      };
      const probe = once("old native");
      const reps = Math.max(1, Math.round(20 / Math.max(probe, 0.01)));
      const samples = new Map<string, number[]>(names.map((name) => [name, []]));
      const caseRounds = probe > 40 ? Math.max(3, Math.ceil(rounds / 3)) : rounds;
      for (let r = 0; r < caseRounds; r++) {
        for (const name of names) {
          const start = process.cpuUsage();
          for (let i = 0; i < reps; i++) run(sides[name]!);
          const used = process.cpuUsage(start);
          samples.get(name)!.push((used.user + used.system) / 1000 / reps);
        }
      }
      const same = names.every((name) => bits.get(name)!.equals(bits.get(names[0]!)!));
      const m = (name: string) => median(samples.get(name) ?? []);
      const ratio = (side: string) => median(samples.get(`new ${side}`)!.map((value, i) => value / samples.get(`old ${side}`)![i]!));
      const ms = (value: number) => `${value.toFixed(value < 1 ? 3 : 1)} ms`;
      const rate = c.work ? (c.work / (m("new native") / 1000) / 1e9).toFixed(1) : "–";
      console.log(`${c.what.padEnd(44)}${ms(m("old native")).padEnd(12)}${ms(m("new native")).padEnd(12)}${ratio("native").toFixed(2).padEnd(9)}${rate.padEnd(8)}` +
        `${withWasm ? (c.wasm ? `${ms(m("old wasm")).padEnd(12)}${ms(m("new wasm")).padEnd(12)}${ratio("wasm").toFixed(2).padEnd(9)}` : "–".padEnd(33)) : ""}` +
        `${same ? "identical" : "DIFFER"}`);
    }
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted.length ? (sorted[(sorted.length - 1) >> 1]! + sorted[sorted.length >> 1]!) / 2 : NaN;
}

function loadAverage(): string {
  return readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
}

if (require.main === module) {
  const [mode, ...rest] = process.argv.slice(2);
  const matchAt = rest.indexOf("--match");
  const match = new RegExp(matchAt >= 0 ? rest[matchAt + 1] ?? "" : "");
  const positional = rest.filter((arg, i) => !arg.startsWith("--") && (matchAt < 0 || i !== matchAt + 1));
  const done = mode === "profile" ? profile(positional[0] ?? "examples", Number(positional[1] ?? 40), Number(positional[2] ?? 64))
    : mode === "ab" ? ab(Number(positional[0] ?? 9), positional[1] ?? "HEAD", rest.includes("--wasm"), match)
    : Promise.reject(new Error("usage: network-kernels.ts profile [examples|lenet] [steps] | ab [rounds] [REV] [--wasm] [--match REGEX]"));
  done.catch((error: Error) => {
    console.error(error.message);
    process.exitCode = 1;
  });
}
