/**
 * The few pieces of WebAssembly's binary format that the hand-assembled SIMD kernels (`adam-simd`, `step-simd`)
 * need: opcodes by name, LEB128 numbers, and a module of functions that import one memory. No toolchain, no binary
 * blob: a kernel is a readable list of named opcodes, assembled at run time.
 */

/** Value types. */
export const I32 = 0x7f, F32 = 0x7d, V128 = 0x7b;
/** Control. */
export const BLOCK = 0x02, LOOP = 0x03, IF = 0x04, ELSE = 0x05, BR = 0x0c, BR_IF = 0x0d, END = 0x0b, VOID = 0x40, SELECT = 0x1b;
/** Locals. */
export const GET = 0x20, SET = 0x21, TEE = 0x22;
/** i32 arithmetic and comparisons. */
export const I32_CONST = 0x41, I32_EQZ = 0x45, I32_EQ = 0x46, I32_NE = 0x47, I32_LT_S = 0x48, I32_GT_S = 0x4a, I32_LE_S = 0x4c,
  I32_GE_S = 0x4e, I32_GE_U = 0x4f, I32_ADD = 0x6a, I32_SUB = 0x6b, I32_MUL = 0x6c, I32_AND = 0x71, I32_SHL = 0x74;
/** f32 memory, arithmetic and comparisons. */
export const F32_CONST = 0x43, F32_LOAD = 0x2a, F32_STORE = 0x38, I32_LOAD = 0x28, I32_STORE = 0x36, I32_LOAD8_U = 0x2d,
  F32_LT = 0x5d, F32_GT = 0x5e, F32_SQRT = 0x91, F32_ADD = 0x92, F32_SUB = 0x93, F32_MUL = 0x94, F32_DIV = 0x95,
  F32_CONVERT_I32_U = 0xb3;

/**
 * A fixed-width SIMD opcode (prefix 0xfd, LEB128 index).
 * @example simd(0xe4); // [0xfd, 0xe4, 0x01]: f32x4.add
 */
export const simd = (op: number): number[] => [0xfd, ...leb(op)];
export const V_LOAD = simd(0x00), V_LOAD32_SPLAT = simd(0x09), V_STORE = simd(0x0b), SPLAT = simd(0x13), V_AND = simd(0x4e), V_GT = simd(0x44),
  V_SQRT = simd(0xe3), V_ADD = simd(0xe4), V_SUB = simd(0xe5), V_MUL = simd(0xe6), V_DIV = simd(0xe7), V_PMAX = simd(0xeb),
  I16_EXTEND_LOW_U8 = simd(0x89), I16_EXTEND_HIGH_U8 = simd(0x8a), I32_EXTEND_LOW_U16 = simd(0xa9), I32_EXTEND_HIGH_U16 = simd(0xaa),
  V_CONVERT_I32_U = simd(0xfb);

/**
 * A memory argument: 4-byte alignment hint and a constant byte offset.
 * @example [GET, 0, ...V_LOAD, ...mem(16)]; // v128.load of the 16 bytes from local 0's address + 16
 */
export const mem = (offset = 0): number[] => [2, ...leb(offset)];

/**
 * `f32.const value`.
 * @example f32Const(1); // [0x43, 0, 0, 0x80, 0x3f]
 */
export function f32Const(value: number): number[] {
  return [F32_CONST, ...new Uint8Array(Float32Array.of(value).buffer)];
}

/** One function of a module: its parameter types, its locals (runs of one type) and its body (ending in END). */
export interface WasmFunction {
  name: string;
  params: number[];
  locals: [count: number, type: number][];
  body: number[];
}

/**
 * A module of `functions`, each exported under its name, importing `env.memory`; `shared` imports a shared memory
 * (the threaded wasm build's), which must declare a maximum (4 GiB accepts any).
 * @example new WebAssembly.Instance(new WebAssembly.Module(assembleModule([f], false)), { env: { memory } });
 */
export function assembleModule(functions: readonly WasmFunction[], shared: boolean): Uint8Array {
  const types = functions.flatMap((f) => [0x60, f.params.length, ...f.params, 0]);
  const memoryType = shared ? [0x03, 0, ...leb(65536)] : [0x00, 0];
  const imports = [1, ...name("env"), ...name("memory"), 0x02, ...memoryType];
  const exports = functions.flatMap((f, k) => [...name(f.name), 0x00, k]);
  const bodies = functions.flatMap((f) => {
    const body = [f.locals.length, ...f.locals.flatMap(([count, type]) => [...leb(count), type]), ...f.body];
    return [...leb(body.length), ...body];
  });
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, [functions.length, ...types]), ...section(2, imports), ...section(3, [functions.length, ...functions.map((_, k) => k)]),
    ...section(7, [functions.length, ...exports]), ...section(10, [functions.length, ...bodies]),
  ]);
}

function section(id: number, content: number[]): number[] {
  return [id, ...leb(content.length), ...content];
}

function name(text: string): number[] {
  return [text.length, ...Array.from(text, (ch) => ch.charCodeAt(0))];
}

/**
 * LEB128: signed for i32.const immediates, unsigned for sizes, counts and opcodes.
 * @example leb(624485); // [0xe5, 0x8e, 0x26]
 */
export function leb(value: number, signed = false): number[] {
  const bytes: number[] = [];
  for (;;) {
    const byte = value & 0x7f;
    value = signed ? value >> 7 : value >>> 7;
    const done = signed ? (value === 0 && (byte & 0x40) === 0) || (value === -1 && (byte & 0x40) !== 0) : value === 0;
    bytes.push(done ? byte : byte | 0x80);
    if (done) return bytes;
  }
}

/**
 * `i32.const value`.
 * @example i32Const(-16); // [0x41, 0x70]
 */
export function i32Const(value: number): number[] {
  return [I32_CONST, ...leb(value, true)];
}
