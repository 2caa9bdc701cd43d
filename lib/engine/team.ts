/**
 * The engine's big calls on more than one thread: the calling thread and helper threads (`team-helper.ts`, Node
 * worker threads) share the engine's memory and split a product's output rows (or, where there are far more
 * columns than rows, its columns), a transpose along its longer side, and a conv net's im2col, col2im, batch norm,
 * pooling and activation gradients by channels, planes or elements (`SPLITS` in `team-chunks.ts`).
 *
 * Why it stays bit-identical: every output is still computed by one thread, in the same order, with the same kernel
 * code; which thread computes which part changes nothing in any sum. `test/engine-team.test.ts` checks it.
 *
 * How the work is shared: a call is cut into chunks (of a product, a multiple of the kernels' 4-row tile), and each
 * thread claims the next chunk from one shared counter until none is left (`team-chunks.ts`). So no thread waits
 * for a share fixed in advance: when a helper is not scheduled (another process holds that core), the caller takes
 * the chunks itself, and only waits for a chunk a helper is in the middle of. The claim counter carries the
 * call's number in its high bits: a helper that wakes late can never claim a chunk of a newer call with the
 * arguments of an older one.
 */
import { Worker } from "node:worker_threads";
import { join } from "node:path";
import type { Kernels } from "./kernels";
import { CHUNK_BITS, CLAIM, DONE, FAILED, HELPED, READY, SPLITS, WORDS, publishArgs, runChunks, type SplitName } from "./team-chunks";
import type { HelperData } from "./team-helper";

/** Call numbers wrap here, so CLAIM stays a positive int32. */
const CALLS = 1 << (31 - CHUNK_BITS);
/** Chunks per thread: enough to balance a late or slow thread, few enough that claims cost nothing. */
const CHUNKS_PER_THREAD = 4;
/**
 * Products below this many multiply-adds run on the calling thread alone: waking a helper and waiting for the
 * last chunk costs a few microseconds, about 100k multiply-adds of wasm work. By kernel (0 wasm, 1 native): the
 * native kernel does that work ~2.5× faster, so its line is scaled up to match (not measured on its own).
 */
const MIN_SPLIT_MULTIPLY_ADDS = [400_000, 1_000_000];
/** The other kernels below this many floats written run alone: each float is a few operations, not K. */
const MIN_SPLIT_FLOATS = 100_000;
/** Products per verdict on whether the helpers pay (about a tenth of a second of training). */
const JUDGE_WINDOW = 256;
/** Products run on one thread after the helpers stopped paying (about a second of training), before trying again. */
const ALONE_PRODUCTS = 2000;
/** The longest stretch on one thread, after trials that kept losing (about half a minute of training). */
const MAX_ALONE_PRODUCTS = 64_000;
/** A trial window that has already lost this many milliseconds ends at once. */
const EARLY_LOSS_MS = 5;
/** How long the calling thread spins for a helper's last chunk before it sleeps. */
const CALLER_SPIN_MS = 0.3;
/** How long a helper spins for the next product before it sleeps: longer than the JavaScript between a step's products. */
const HELPER_SPIN_MS = 0.5;

/**
 * A team of threads on one engine memory: `kernels(which)` are the kernels with their big calls split over the
 * team (gemm, transpose, im2col, col2im, batch norm, pooling, activationBackward); the others as they are.
 * @example const team = startTeam(heap.memory, 1, [wasm, native], true); const kernels = team?.kernels(1) ?? native;
 */
export interface Team {
  /** The kernels of set 0 (wasm) or 1 (native), their big calls split. */
  kernels(which: 0 | 1): Kernels;
  /** Chunks of split calls the helpers have run, in all: a check that they take part. */
  helperChunks(): number;
}

/** A team's shared state and its verdict on whether the helpers pay. */
interface TeamState {
  control: Int32Array;
  helpers: number;
  /** Whether the helpers sit out stretches where they do not pay (`judge`); off, every big call is split. */
  judging: boolean;
  call: number;
  /** Milliseconds the helpers saved in the products of the current window, and how many (see `judge`). */
  gain: number;
  judged: number;
  /** Products still to run on the calling thread alone before the helpers are tried again. */
  alone: number;
  /** How many products the next stretch alone lasts. */
  aloneFor: number;
}

/**
 * Start `helpers` helper threads on `memory` (a shared engine memory), serving calls on `sets` (wasm, and native
 * where `native` loaded: each helper loads the same sets). Null where no worker thread can start (then every call
 * runs on one thread). `judging: false` splits every big call even where the helpers do not pay: for tests of the
 * split path, which must not depend on the machine's load.
 * @example const team = startTeam(heap.memory, 1, [wasm, native], true);
 */
export function startTeam(memory: WebAssembly.Memory, helpers: number, sets: readonly [Kernels, Kernels], native: boolean, judging = true): Team | null {
  if (!(memory.buffer instanceof SharedArrayBuffer) || helpers < 1) return null;
  const control = new Int32Array(new SharedArrayBuffer(WORDS * 4));
  const data: HelperData = { memory, control: control.buffer as SharedArrayBuffer, spinMs: HELPER_SPIN_MS, native };
  try {
    for (let i = 0; i < helpers; i++) {
      const worker = startHelper(data);
      worker.unref(); // never keeps a finished process alive
      worker.on("error", () => undefined); // a helper that died leaves its chunks to the caller
    }
  } catch {
    return null;
  }
  const state: TeamState = { control, helpers, judging, call: 0, gain: 0, judged: 0, alone: 0, aloneFor: ALONE_PRODUCTS };
  const split = [splitKernels(state, sets, 0), splitKernels(state, sets, 1)];
  return { kernels: (which) => split[which]!, helperChunks: () => Atomics.load(control, HELPED) };
}

/**
 * A helper thread on the entry beside this file: the compiled `team-helper.js`, or `team-helper.ts` under tsx
 * (whose CommonJS hook goes in first: Node 20 loads a worker's .ts entry before `--import tsx` has registered its
 * hooks). The bootstrap is a dynamic import and a `require` made for the entry, which runs both where an eval'd
 * worker is CommonJS (Node) and where it is a module (Deno).
 */
function startHelper(workerData: HelperData): Worker {
  const entry = join(__dirname, `team-helper${__filename.endsWith(".ts") ? ".ts" : ".js"}`);
  const hook = entry.endsWith(".ts") ? `load(${JSON.stringify(require.resolve("tsx/cjs"))}); ` : "";
  const bootstrap = `import("node:module").then(({ createRequire }) => { const load = createRequire(${JSON.stringify(entry)}); ${hook}load(${JSON.stringify(entry)}); });`;
  return new Worker(bootstrap, { eval: true, execArgv: [], workerData });
}

/** Set `which`'s kernels, with gemm and the conv net's big per-channel, per-plane and per-element calls split. */
function splitKernels(team: TeamState, sets: readonly Kernels[], which: 0 | 1): Kernels {
  const kernels = sets[which]!;
  const run = (split: SplitName, args: number[], unit: number, big: boolean): void => {
    if (!big || team.alone > 0 || Atomics.load(team.control, READY) < team.helpers) {
      if (big) team.alone = Math.max(0, team.alone - 1);
      // Whole, as the set's own kernel runs it (which may keep a small call in WebAssembly).
      return (kernels[SPLITS[split].kernel] as (...whole: number[]) => void)(...args);
    }
    splitCall(team, sets, which, split, args, unit);
  };
  const floats = (count: number) => count >= MIN_SPLIT_FLOATS;
  return {
    ...kernels,
    gemm: (...args) => {
      const [M, K, N] = [args[8], args[9], args[10]];
      // Far more columns than rows (a conv layer's product over the whole batch): chunks of columns, so that each
      // thread reads its share of B once, not all of B per chunk of rows.
      const byColumns = N > 16 * M;
      const big = (byColumns ? N >= 128 : M >= 8) && M * K * N >= MIN_SPLIT_MULTIPLY_ADDS[which]!;
      // Rows in multiples of the kernels' 4-row tile, columns of their widest (64 floats).
      run(byColumns ? "gemmColumns" : "gemmRows", args, byColumns ? 64 : 4, big);
    },
    im2col: (...args) => run("im2col", args, 1, args[2] >= 2 && floats(args[2] * args[6] * args[7] * args[3] * args[10] * args[11])),
    // Along the longer side, in multiples of the kernel's 16-float tiles.
    transpose: (...args) => {
      const [rows, cols] = [args[2], args[3]];
      run(cols > rows ? "transposeColumns" : "transposeRows", args, 16, Math.max(rows, cols) >= 64 && floats(rows * cols));
    },
    col2im: (...args) => run("col2im", args, 1, args[2] >= 2 && floats(args[2] * args[3] * args[4] * args[5])),
    batchNorm: (...args) => run("batchNorm", args, 1, args[8] >= 2 && floats(args[8] * args[9])),
    batchNormBackward: (...args) => run("batchNormBackward", args, 1, args[8] >= 2 && floats(args[8] * args[9])),
    maxPool: (...args) => run("maxPool", args, 1, args[3] >= 2 && floats(args[3] * args[4] * args[5])),
    maxPoolBackward: (...args) => run("maxPoolBackward", args, 1, args[3] >= 2 && floats(args[3] * args[4] * args[5])),
    // Elements in multiples of 64 (16 of the widest vector): a chunk starts on a whole vector.
    activationBackward: (...args) => run("activationBackward", args, 64, floats(args[2])),
  };
}

/** One call split over the team: the arguments published, this thread's chunks, then a wait for the helpers'. */
function splitCall(team: TeamState, sets: readonly Kernels[], which: 0 | 1, split: SplitName, args: number[], unit: number): void {
  const { control } = team;
  const span = args[SPLITS[split].span]!;
  const size = Math.ceil(span / ((team.helpers + 1) * CHUNKS_PER_THREAD) / unit) * unit;
  const chunks = Math.ceil(span / size);
  publishArgs(control, split, args, [size, chunks, which]);
  Atomics.store(control, DONE, 0);
  team.call = (team.call + 1) % CALLS;
  const start = performance.now();
  Atomics.store(control, CLAIM, team.call << CHUNK_BITS); // publishes the arguments written above
  Atomics.notify(control, CLAIM);
  const ran = runChunks(control, sets, team.call);
  const ownDone = performance.now();
  // Only chunks a helper claimed are left: wait for them (spinning first: they are a few microseconds away).
  // Not sleeping at once: a wake-up costs ~0.1 ms in a virtual machine, longer than the chunk being waited for.
  for (let done = Atomics.load(control, DONE); done < chunks; done = Atomics.load(control, DONE)) {
    if (performance.now() - ownDone > CALLER_SPIN_MS) Atomics.wait(control, DONE, done, 1);
  }
  if (Atomics.load(control, FAILED)) throw new Error(`engine team: a helper thread's ${split} failed (see its error above)`);
  if (ran > 0 && team.judging) judge(team, ((ownDone - start) / ran) * chunks, performance.now() - start);
}

/**
 * Keep the helpers only while they pay: `alone` is the time this thread would have taken by itself (from its own
 * chunks), `together` what the product took. Where another process holds the other core, a helper is descheduled
 * in the middle of a chunk and this thread waits for it. When a window of `JUDGE_WINDOW` products took longer in
 * all than this thread alone would have (or has already lost `EARLY_LOSS_MS`), the next products run on this thread
 * alone, then the helpers are tried again: `ALONE_PRODUCTS` at first, twice as many after each window that lost
 * again (up to `MAX_ALONE_PRODUCTS`), so a machine that stays busy pays for few trials. (A window, not each product:
 * single products are noisy both ways.)
 */
function judge(team: TeamState, alone: number, together: number): void {
  team.gain += alone - together;
  const lostEarly = team.gain < -EARLY_LOSS_MS;
  if (++team.judged < JUDGE_WINDOW && !lostEarly) return;
  if (team.gain < 0) {
    team.alone = team.aloneFor;
    team.aloneFor = Math.min(2 * team.aloneFor, MAX_ALONE_PRODUCTS);
  } else {
    team.aloneFor = ALONE_PRODUCTS;
  }
  team.gain = 0;
  team.judged = 0;
}
