/**
 * Seeded pseudo-random numbers, so data subsets, shuffles and initial weights repeat exactly from a seed.
 * One generator for the whole library keeps "seed 0" meaning the same thing everywhere.
 */

/** A function returning uniform numbers in [0, 1). */
export type Random = () => number;

/**
 * A small, fast seeded generator (mulberry32). Not cryptographic; good enough for sampling and init.
 * @example const rand = seededRandom(0); rand(); // 0.26642920868471265, the same on every run
 */
export function seededRandom(seed: number): Random {
  let state = seedState(seed);
  return () => {
    state = (state + STEP) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What mulberry32 adds to its state per draw: draw k of a stream depends on its start and k alone. */
const STEP = 0x6d2b79f5;

/**
 * A seed's starting state (a uint32), the seed checked as `seededRandom` checks it: for a kernel that draws
 * `seededRandom(seed)`'s values itself (the engine's dropout masks).
 * @example seedState(-1); // 4294967295
 */
export function seedState(seed: number): number {
  if (!Number.isInteger(seed)) {
    throw new RangeError(`seed: expected an integer, got ${String(seed)}`);
  }
  return seed >>> 0;
}

/**
 * The state after `count` draws from `state`: where `seededRandom`'s stream goes on after a kernel drew `count`
 * of its values in one call.
 * @example afterDraws(seedState(0), 3); // the state of seededRandom(0) after three calls
 */
export function afterDraws(state: number, count: number): number {
  return (state + Math.imul(count, STEP)) >>> 0;
}

/**
 * The integers 0..n-1 in a random order (Fisher–Yates), reproducible from the generator's seed.
 * @example permutation(5, seededRandom(1)); // e.g. Uint32Array [3, 0, 4, 1, 2]
 */
export function permutation(n: number, random: Random): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const tmp = order[i]!;
    order[i] = order[j]!;
    order[j] = tmp;
  }
  return order;
}
