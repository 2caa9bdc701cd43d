/**
 * `step-simd`'s matrix product on more than one thread, for the whole wasm step (`wasm-step.ts`): the calling
 * thread and helper threads share the threaded wasm build's heap and split the product's output rows.
 *
 * Why it stays bit-identical: every output is still summed by one thread, over k in order, with the same kernel
 * code; which thread computes which rows changes nothing in any sum. `test/gemm-team.test.ts` checks it.
 *
 * How the work is shared: a product is cut into chunks of rows (a multiple of the kernel's 4-row tile), and each
 * thread claims the next chunk from one shared counter until none is left. So no thread waits for a share that
 * was fixed in advance: when a helper is not scheduled (another process holds that core), the caller takes the
 * chunks itself, and only waits for a chunk a helper is in the middle of. Between products a helper spins
 * briefly, then sleeps (`Atomics.wait`), so an idle kernel costs no CPU.
 *
 * The claim counter carries the product's number in its high bits: a helper that wakes late can never claim a
 * chunk of a newer product with the arguments of an older one.
 */
import { Worker } from "node:worker_threads";
import { loadNativeProducts, nativeGemm, nativeProductsInUse } from "./native-kernels";
import { stepModule, type StepKernels } from "../model/step-simd";

/** step-simd's `gemm` signature. */
export type Gemm = StepKernels["gemm"];

// Control words, in an Int32Array over a SharedArrayBuffer.
/** (product number << CHUNK_BITS) | next unclaimed chunk. */
const CLAIM = 0;
/** Chunks finished in the current product. */
const DONE = 1;
/** Set by a helper whose kernel threw (then the caller throws). */
const FAILED = 2;
/** The 12 arguments of `gemm`, then rows per chunk, the number of chunks, and the kernel (0 wasm, 1 native). */
const ARGS = 3;
/** Chunks the helpers have run, in all (to see that they take part). */
const HELPED = ARGS + 15;
/** Helpers started and waiting for products: until all are, products run on the calling thread. */
const READY = HELPED + 1;
const WORDS = READY + 1;
const CHUNK_BITS = 10;
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
 * Claim chunks of product `product` until none is left, computing each with `kernels[kernel]` (0 wasm, 1 native);
 * how many it ran. Run by the calling thread and by each helper (a helper gets this function's source): keep it
 * self-contained.
 */
function runChunks(control: Int32Array, kernels: Gemm[], product: number): number {
  const [CLAIM, DONE, FAILED, ARGS, CHUNK_BITS] = [0, 1, 2, 3, 10];
  const mask = (1 << CHUNK_BITS) - 1;
  const [a, sam, sak, b, ldb, c, ldc, extra, M, K, N, mode, rows, chunks, kernel] = Array.from(control.subarray(ARGS, ARGS + 15)) as number[];
  const gemm = kernels[kernel!]!;
  for (let ran = 0; ; ran++) {
    const word = Atomics.load(control, CLAIM);
    // Checked again at the claim: arguments read before a newer product started are never used.
    if (word >>> CHUNK_BITS !== product || (word & mask) >= chunks!) return ran;
    if (Atomics.compareExchange(control, CLAIM, word, word + 1) !== word) {
      ran--;
      continue;
    }
    const first = (word & mask) * rows!;
    try {
      gemm(a! + first * sam!, sam!, sak!, b!, ldb!, c! + first * ldc!, ldc!, extra === 0 ? 0 : extra! + first * ldc!, Math.min(rows!, M! - first), K!, N!, mode!);
    } catch (error) {
      Atomics.store(control, FAILED, 1);
      throw error;
    } finally {
      Atomics.add(control, DONE, 1);
      Atomics.notify(control, DONE);
    }
  }
}

/**
 * A helper thread's whole program: instantiate the wasm kernels on the shared heap and load the native ones where
 * the caller has them, then serve products until told to stop.
 */
const HELPER_SOURCE = `
const { workerData } = require("node:worker_threads");
const { module, memory, control: buffer, spinMs, nativePath } = workerData;
const wasmGemm = new WebAssembly.Instance(module, { env: { memory } }).exports.gemm;
const kernels = [wasmGemm, nativePath ? (${nativeGemm.toString()})(require(nativePath), memory) : wasmGemm];
const control = new Int32Array(buffer);
${runChunks.toString()}
Atomics.add(control, ${READY}, 1);
let last = Atomics.load(control, ${CLAIM}) >>> ${CHUNK_BITS};
for (;;) {
  let word = Atomics.load(control, ${CLAIM});
  let since = performance.now();
  while (word >>> ${CHUNK_BITS} === last) {
    if (performance.now() - since > spinMs) {
      Atomics.wait(control, ${CLAIM}, word);
      since = performance.now();
    }
    word = Atomics.load(control, ${CLAIM});
  }
  last = word >>> ${CHUNK_BITS};
  try { Atomics.add(control, ${HELPED}, runChunks(control, kernels, last)); } catch { /* FAILED is set; the caller throws */ }
}
`;

/** One heap's helpers and their control words. */
interface Team {
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
  /** The split product, on the wasm kernel and on the native one. */
  gemm: [Gemm, Gemm];
}

const teams = new WeakMap<WebAssembly.Memory, Team | null>();
let threadsWanted = 1;

/**
 * How many threads the next whole wasm steps use (1: the calling thread alone). Set per run by the backend, like
 * XNNPACK's pool (`train/wasm-threads`); helpers are only started on a shared heap (the threaded wasm build).
 * @example useStepThreads(2); // a 784-500-10 step's two big products now run on two threads
 */
export function useStepThreads(threads: number): void {
  if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`useStepThreads: expected a whole number ≥ 1, got ${threads}`);
  threadsWanted = threads;
}

const nativeKernels = new WeakMap<WebAssembly.Memory, Gemm>();

/**
 * `gemm` for the current backend's whole step: on the native kernel where it is in use (`native-products.ts`),
 * else the wasm one; split over `useStepThreads` threads where the heap is shared and more than one is wanted.
 * Null where the step kernels cannot run.
 * @example const gemm = teamGemm(); gemm?.(a, 785 * 4, 4, b, 16 * 4, c, 16 * 4, 0, 500, 785, 16, EPILOGUE.relu);
 */
export function teamGemm(): Gemm | null {
  const built = stepModule();
  if (!built) return null;
  const native = nativeProductsInUse();
  if (native && !nativeKernels.has(built.memory)) nativeKernels.set(built.memory, nativeGemm(native.addon, built.memory));
  const kernel = native ? 1 : 0;
  const alone = native ? nativeKernels.get(built.memory)! : built.kernels.gemm;
  if (threadsWanted < 2 || !(built.memory.buffer instanceof SharedArrayBuffer)) return alone;
  if (!teams.has(built.memory)) teams.set(built.memory, startTeam(built.module, built.memory, threadsWanted - 1, built.kernels.gemm));
  return teams.get(built.memory)?.gemm[kernel] ?? alone;
}

/**
 * How many chunks of split products the helpers have run on the current backend's heap (0 without helpers): a
 * check that the second thread takes part.
 * @example const before = helperChunks(); trainSomething(); helperChunks() - before; // > 0 on two threads
 */
export function helperChunks(): number {
  const built = stepModule();
  const team = built ? teams.get(built.memory) : null;
  return team ? Atomics.load(team.control, HELPED) : 0;
}

function startTeam(module: WebAssembly.Module, memory: WebAssembly.Memory, helpers: number, wasmGemm: Gemm): Team | null {
  const control = new Int32Array(new SharedArrayBuffer(WORDS * 4));
  // Helpers load the native kernel whenever it loads here, so a team serves both kernels for the process's life.
  const native = loadNativeProducts();
  const nativePath = typeof native === "string" ? null : native.path;
  try {
    for (let i = 0; i < helpers; i++) {
      const workerData = { module, memory, control: control.buffer, spinMs: HELPER_SPIN_MS, nativePath };
      const worker = new Worker(HELPER_SOURCE, { eval: true, workerData });
      worker.unref(); // never keeps a finished process alive
      worker.on("error", () => undefined); // a helper that died leaves its chunks to the caller
    }
  } catch {
    return null; // no worker threads here: one thread, as before
  }
  const kernels = [wasmGemm, nativePath ? nativeGemm((native as Exclude<typeof native, string>).addon, memory) : wasmGemm];
  const team: Team = { control, helpers, product: 0, gain: 0, judged: 0, alone: 0, aloneFor: ALONE_PRODUCTS, gemm: [wasmGemm, wasmGemm] };
  team.gemm = [splitGemm(team, kernels, 0), splitGemm(team, kernels, 1)];
  return team;
}

function splitGemm(team: Team, kernels: Gemm[], kernel: number): Gemm {
  const gemm = kernels[kernel]!;
  return (a, sam, sak, b, ldb, c, ldc, extra, M, K, N, mode) => {
    if (M < 8 || M * K * N < MIN_SPLIT_MULTIPLY_ADDS[kernel]!) return gemm(a, sam, sak, b, ldb, c, ldc, extra, M, K, N, mode);
    const { control } = team;
    if (team.alone > 0 || Atomics.load(control, READY) < team.helpers) {
      team.alone = Math.max(0, team.alone - 1);
      return gemm(a, sam, sak, b, ldb, c, ldc, extra, M, K, N, mode);
    }
    const rows = Math.ceil(M / ((team.helpers + 1) * CHUNKS_PER_THREAD) / 4) * 4;
    const chunks = Math.ceil(M / rows);
    control.set([a, sam, sak, b, ldb, c, ldc, extra, M, K, N, mode, rows, chunks, kernel], ARGS);
    Atomics.store(control, DONE, 0);
    team.product = (team.product + 1) % PRODUCTS;
    const start = performance.now();
    Atomics.store(control, CLAIM, team.product << CHUNK_BITS); // publishes the arguments written above
    Atomics.notify(control, CLAIM);
    const ran = runChunks(control, kernels, team.product);
    const ownDone = performance.now();
    // Only chunks a helper claimed are left: wait for them (spinning first: they are a few microseconds away).
    // Not sleeping at once: a wake-up costs ~0.1 ms in a virtual machine, longer than the chunk being waited for.
    for (let done = Atomics.load(control, DONE); done < chunks; done = Atomics.load(control, DONE)) {
      if (performance.now() - ownDone > CALLER_SPIN_MS) Atomics.wait(control, DONE, done, 1);
    }
    if (Atomics.load(control, FAILED)) throw new Error("gemm-team: a helper thread's product failed (see its error above)");
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
function judge(team: Team, alone: number, together: number): void {
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
