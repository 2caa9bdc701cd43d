/**
 * @mie/lib: everything a notebook cell calls. Import it by name from a notebook in any folder:
 * `import { describeBackend, loadMnist, mlp, train, show } from "@mie/lib";`
 */
export * from "./backend";
export * from "./idx";
export * from "./data";
export * from "./random";
export * from "./reference";
