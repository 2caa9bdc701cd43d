/**
 * The engine's matrix product on more than one thread: the calling thread and helper threads (`team-helper.ts`,
 * Node worker threads) share the engine's memory and split a product's output rows (or, where there are far more
 * columns than rows, its columns).
 *
 * Why it stays bit-identical: every output is still summed by one thread, over k in order, with the same kernel
 * code; which thread computes which rows or columns changes nothing in any sum. `test/engine-team.test.ts` checks it.
 *
 * How the work is shared: a product is cut into chunks of rows (a multiple of the kernels' 4-row tile), and each
 * thread claims the next chunk from one shared counter until none is left (`team-chunks.ts`). So no thread waits
 * for a share fixed in advance: when a helper is not scheduled (another process holds that core), the caller takes
 * the chunks itself, and only waits for a chunk a helper is in the middle of. The claim counter carries the
 * product's number in its high bits: a helper that wakes late can never claim a chunk of a newer product with the
 * arguments of an older one.
 */
import { Worker } from "node:worker_threads";
import { join } from "node:path";
import type { Kernels } from "./kernels";
import { ARGS, CHUNK_BITS, CLAIM, DONE, FAILED, HELPED, READY, WORDS, runChunks } from "./team-chunks";
import type { HelperData } from "./team-helper";

type Gemm = Kernels["gemm"];

/** Product numbers wrap here, so CLAIM stays a positive int32. */
const PRODUCTS = 1 << (31 - CHUNK_BITS);
/** Chunks per thread: enough to balance a late or slow thread, few enough that claims cost nothing. */
const CHUNKS_PER_THREAD = 4;
/**
 * Products below this many multiply-adds run on the calling thread alone: waking a helper and waiting for the
 * last chunk costs a few microseconds, about 100k multiply-adds of wasm work. By kernel (0 wasm, 1 native): the
 * native kernel does that work ~2.5× faster, so its line is scaled up to match (not measured on its own).
 */
const MIN_SPLIT_MULTIPLY_ADDS = [400_000, 1_000_000];
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
 * A team of threads on one engine memory: `gemm(threads)` is the product split over that many threads.
 * @example const team = startTeam(heap.memory, 1, [wasm.gemm, native.gemm]); const gemm = team?.gemm(1) ?? wasm.gemm;
 */
export interface Team {
  /** The split product on kernel 0 (wasm) or 1 (native). */
  gemm(kernel: 0 | 1): Gemm;
  /** Chunks of split products the helpers have run, in all: a check that they take part. */
  helperChunks(): number;
}

/** A team's shared state and its verdict on whether the helpers pay. */
interface TeamState {
  control: Int32Array;
  helpers: number;
  product: number;
  /** Milliseconds the helpers saved in the products of the current window, and how many (see `judge`). */
  gain: number;
  judged: number;
  /** Products still to run on the calling thread alone before the helpers are tried again. */
  alone: number;
  /** How many products the next stretch alone lasts. */
  aloneFor: number;
}

/**
 * Start `helpers` helper threads on `memory` (a shared engine memory), serving products on `gemms` (wasm, and
 * native where `native` loaded). Null where no worker thread can start (then products run on one thread).
 * @example const team = startTeam(heap.memory, 1, [wasm.gemm, native.gemm], true);
 */
export function startTeam(memory: WebAssembly.Memory, helpers: number, gemms: readonly [Gemm, Gemm], native: boolean): Team | null {
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
  const state: TeamState = { control, helpers, product: 0, gain: 0, judged: 0, alone: 0, aloneFor: ALONE_PRODUCTS };
  const split = [splitGemm(state, gemms, 0), splitGemm(state, gemms, 1)];
  return { gemm: (kernel) => split[kernel]!, helperChunks: () => Atomics.load(control, HELPED) };
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

function splitGemm(team: TeamState, gemms: readonly Gemm[], kernel: 0 | 1): Gemm {
  const gemm = gemms[kernel]!;
  return (a, sam, sak, b, ldb, c, ldc, extra, M, K, N, mode) => {
    // Far more columns than rows (a conv layer's product over the whole batch): chunks of columns, so that each
    // thread reads its share of B once, not all of B per chunk of rows.
    const byColumns = N > 16 * M ? 1 : 0;
    if ((byColumns ? N < 128 : M < 8) || M * K * N < MIN_SPLIT_MULTIPLY_ADDS[kernel]!) return gemm(a, sam, sak, b, ldb, c, ldc, extra, M, K, N, mode);
    const { control } = team;
    if (team.alone > 0 || Atomics.load(control, READY) < team.helpers) {
      team.alone = Math.max(0, team.alone - 1);
      return gemm(a, sam, sak, b, ldb, c, ldc, extra, M, K, N, mode);
    }
    // Rows in multiples of the kernels' 4-row tile, columns of their widest (64 floats).
    const [span, unit] = byColumns ? [N, 64] : [M, 4];
    const size = Math.ceil(span / ((team.helpers + 1) * CHUNKS_PER_THREAD) / unit) * unit;
    const chunks = Math.ceil(span / size);
    control.set([a, sam, sak, b, ldb, c, ldc, extra, M, K, N, mode, size, chunks, kernel, byColumns], ARGS);
    Atomics.store(control, DONE, 0);
    team.product = (team.product + 1) % PRODUCTS;
    const start = performance.now();
    Atomics.store(control, CLAIM, team.product << CHUNK_BITS); // publishes the arguments written above
    Atomics.notify(control, CLAIM);
    const ran = runChunks(control, gemms, team.product);
    const ownDone = performance.now();
    // Only chunks a helper claimed are left: wait for them (spinning first: they are a few microseconds away).
    // Not sleeping at once: a wake-up costs ~0.1 ms in a virtual machine, longer than the chunk being waited for.
    for (let done = Atomics.load(control, DONE); done < chunks; done = Atomics.load(control, DONE)) {
      if (performance.now() - ownDone > CALLER_SPIN_MS) Atomics.wait(control, DONE, done, 1);
    }
    if (Atomics.load(control, FAILED)) throw new Error("engine team: a helper thread's product failed (see its error above)");
    if (ran > 0) judge(team, ((ownDone - start) / ran) * chunks, performance.now() - start);
  };
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
