/**
 * The version of the arithmetic that decides a run's numbers: the engine's forward and backward pass, the update
 * rules and the initialisers. A stored run is keyed by it, so a change that alters any result bit (a new kernel, a
 * different order of float sums, a fixed initialiser) must bump it, and every stored run is retrained once.
 */

/**
 * Bump on every change to the numbers a run produces (not on refactors that keep them bit-identical).
 * @example `arithmetic-v${ARITHMETIC_VERSION}`; // "arithmetic-v1"
 */
export const ARITHMETIC_VERSION = 1;
