/**
 * One speed configuration trained by the bench child of the tree at ROOT (this tree, or a commit's tree that
 * `prepareBaseline` exported and built), with that tree's own code, then one more line: the backend that tree chose
 * for the run, as its backend line names it (`initBackend()`, public in every tree, already settled by the run:
 * "backend wasm (SIMD, 2 threads from 3,000,000 multiply-adds per step, kernels native AVX-512)"). So
 * `--speed-baseline` can say which kernels each tree ran. Started with ROOT as the working folder (its tsconfig, its
 * node_modules):
 *
 *   node --import tsx scripts/bench/tree-child.ts ROOT ID
 */
import { join } from "node:path";
import { BACKEND_PREFIX } from "./config";

const [root, id] = process.argv.slice(2);
if (!root || !id) throw new Error("tree-child: expected a tree's folder and a speed configuration id");
const bench = join(root, "scripts", "bench", "main.ts");

// The tree's bench reads its arguments when loaded and prints its result line when the run ends; the line after
// it waits for the event loop to empty, so nothing of the measured run is shared with it.
process.argv = [process.argv[0]!, bench, "--child", id, "--repeat", "1"];
let described = false;
process.on("beforeExit", () => {
  if (described || process.exitCode) return;
  described = true;
  const lib = require(join(root, "lib", "index.ts")) as { initBackend: () => Promise<{ name: string; detail: string }> };
  void lib.initBackend().then((info) => console.log(`${BACKEND_PREFIX}backend ${info.name}${info.detail ? ` (${info.detail})` : ""}`));
});
require(bench);
