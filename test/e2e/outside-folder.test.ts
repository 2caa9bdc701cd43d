/**
 * The library installed outside the project (`npm pack -w lib`, `npm install <tarball>`), a notebook there on the
 * tslab kernel: the checks are in helpers/outside-suite.ts (outside-folder-deno.test.ts runs them on Deno's kernel).
 */
import { outsideSuite } from "../helpers/outside-suite";

outsideSuite("tslab");
