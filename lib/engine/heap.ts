/**
 * The engine's own memory: one shared `WebAssembly.Memory` that the compiled kernels (`kernels/kernels.wasm`, and the
 * native addon through a view of the same bytes) work on, and the helper threads of `team.ts` share. Nothing else
 * lives in it, so a byte offset means the same thing to every kernel and every thread.
 *
 * Allocation is first-fit over a free list, in 64-byte blocks (a cache line, and aligned for any vector width):
 * a training session takes a few dozen buffers when it starts and gives them back when it ends, so the list
 * stays short. The memory grows when it must and never shrinks; views are made afresh after growth.
 */

/** WebAssembly pages are 64 KiB. */
const PAGE = 65536;
/** The address space a shared memory reserves up front: 4 GiB, WebAssembly's 32-bit limit. */
const MAX_PAGES = 65536;
const ALIGN = 64;

/** A free stretch of the heap. */
interface Block {
  at: number;
  bytes: number;
}

/**
 * A heap of float buffers in one shared WebAssembly memory, above `base` (the kernels' own stack and data lie below).
 * @example const heap = new EngineHeap(kernelsHeapBase); const at = heap.alloc(785 * 4); heap.floats(at, 785).fill(1); heap.release(at);
 */
export class EngineHeap {
  readonly memory: WebAssembly.Memory;
  private readonly free: Block[] = [];
  private readonly sizes = new Map<number, number>();
  private top: number;

  /** `base`: the first byte the kernels leave free; `initialPages`: what the kernels' module asks at least. */
  constructor(base: number, initialPages = 1) {
    const pages = Math.max(initialPages, Math.ceil((base + ALIGN) / PAGE));
    const shared = typeof SharedArrayBuffer === "function";
    this.memory = new WebAssembly.Memory({ initial: pages, maximum: MAX_PAGES, shared } as WebAssembly.MemoryDescriptor);
    this.top = Math.ceil(base / ALIGN) * ALIGN;
  }

  /**
   * `bytes` bytes (rounded up to 64), zero-filled, 64-byte aligned; grows the memory when full.
   * @example const params = heap.alloc(10 * 785 * 4);
   */
  alloc(bytes: number): number {
    if (!Number.isInteger(bytes) || bytes < 0) throw new RangeError(`EngineHeap.alloc: expected a whole number of bytes, got ${bytes}`);
    const size = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
    const index = this.free.findIndex((block) => block.bytes >= size);
    let at: number;
    if (index >= 0) {
      const block = this.free[index]!;
      at = block.at;
      if (block.bytes === size) this.free.splice(index, 1);
      else Object.assign(block, { at: block.at + size, bytes: block.bytes - size });
    } else {
      at = this.top;
      this.reserve(at + size);
      this.top = at + size;
    }
    this.sizes.set(at, size);
    this.bytes(at, size).fill(0);
    return at;
  }

  /**
   * Give a buffer back; its neighbours on the free list merge with it.
   * @example heap.release(params);
   */
  release(at: number): void {
    const size = this.sizes.get(at);
    if (size === undefined) throw new Error(`EngineHeap.release: ${at} is not an allocated buffer`);
    this.sizes.delete(at);
    this.free.push({ at, bytes: size });
    this.free.sort((a, b) => a.at - b.at);
    for (let k = this.free.length - 1; k > 0; k--) {
      const [before, after] = [this.free[k - 1]!, this.free[k]!];
      if (before.at + before.bytes === after.at) {
        before.bytes += after.bytes;
        this.free.splice(k, 1);
      }
    }
  }

  /**
   * `count` floats at byte offset `at`, as a view (valid until the memory next grows).
   * @example heap.floats(params, 7850).set(values);
   */
  floats(at: number, count: number): Float32Array {
    return new Float32Array(this.memory.buffer, at, count);
  }

  /**
   * `count` bytes at `at`, as a view (valid until the memory next grows).
   * @example heap.bytes(stage, 16 * 784).set(pixels);
   */
  bytes(at: number, count: number): Uint8Array {
    return new Uint8Array(this.memory.buffer, at, count);
  }

  /** Grow the memory so that byte `end` (exclusive) is inside it. */
  private reserve(end: number): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    const pages = Math.ceil((end - have) / PAGE);
    if (have / PAGE + pages > MAX_PAGES) throw new RangeError(`the engine's memory cannot grow past 4 GiB (asked for ${end} bytes)`);
    // Grow by at least a quarter (within the limit), so a session's buffers cost few grows.
    this.memory.grow(Math.min(MAX_PAGES - have / PAGE, Math.max(pages, Math.ceil(have / PAGE / 4))));
  }
}
