/**
 * The packed library installed in a folder outside the project, imported by a notebook there on Deno's kernel,
 * drawing a live training chart and training a sweep on the pool: the checks of helpers/outside-suite.ts.
 */
import { outsideSuite } from "../helpers/outside-suite";

outsideSuite("deno");
