/**
 * The PyTorch side of `npm run bench -- --pytorch`: find a Python that can `import torch`, run
 * scripts/pytorch-bench.py on the same configurations, and read its results back.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

/** The project folder (this file is scripts/bench/pytorch.ts). */
const ROOT = join(__dirname, "..", "..");
const RESULT_PREFIX = "PYTORCH_RESULT ";

/** One configuration as scripts/pytorch-bench.py takes it. */
export interface TorchConfig {
  id: string;
  layers: number[];
  /** A conv net of scripts/pytorch-bench.py's NETS, trained instead of an MLP of `layers`. */
  net?: string;
  optimizer: string;
  lr: number;
  batchSize: number;
  seed?: number;
}

/** What scripts/pytorch-bench.py reports for one configuration. */
export interface TorchResult {
  id: string;
  trainSeconds: number;
  /** CPU seconds of the training loop (all of the process's threads). */
  cpuSeconds: number;
  accuracy: number;
  torch: string;
  threads: number;
}

/** A Python interpreter that imports torch, and its torch version. */
export interface TorchPython {
  python: string;
  version: string;
}

/**
 * The first of `MIE_TORCH_PYTHON`, the project's .venv, /usr/bin/python3 and python3 that can `import torch`;
 * throws saying how to get one when none can.
 * @example findTorchPython().python; // "/usr/bin/python3"
 */
export function findTorchPython(): TorchPython {
  const candidates = [process.env.MIE_TORCH_PYTHON, join(ROOT, ".venv", "bin", "python"), "/usr/bin/python3", "python3"]
    .filter((p): p is string => Boolean(p) && (!p!.startsWith("/") || existsSync(p!)));
  const tried: string[] = [];
  for (const python of candidates) {
    const probe = spawnSync(python, ["-c", "import torch, numpy; print(torch.__version__)"], { encoding: "utf8" });
    if (probe.status === 0) return { python, version: probe.stdout.trim() };
    tried.push(python);
  }
  throw new Error(
    `bench --pytorch: no Python here can import torch and numpy (tried ${tried.join(", ") || "none"}).\n` +
      "Get one, outside your home folder, e.g.:\n" +
      "  python3 -m venv /tmp/torchvenv && /tmp/torchvenv/bin/pip install torch numpy\n" +
      "  then run with MIE_TORCH_PYTHON=/tmp/torchvenv/bin/python\n" +
      "or on Debian: apt-get install python3-torch libopenblas0 (libopenblas0 matters: without it torch uses the slow reference BLAS).",
  );
}

/**
 * Train every configuration once in one PyTorch process with `threads` threads; results in the same order.
 * @example runPytorch(findTorchPython().python, 2, [{ id: "a", layers: [784, 10], optimizer: "sgd", lr: 0.001, batchSize: 16 }]);
 */
export function runPytorch(python: string, threads: number, configs: TorchConfig[]): TorchResult[] {
  const out = spawnSync(python, [join(ROOT, "scripts", "pytorch-bench.py"), String(threads), JSON.stringify(configs)], {
    cwd: ROOT,
    encoding: "utf8",
    maxBuffer: 16 * 1024 * 1024,
  });
  const results = out.stdout.split("\n").filter((line) => line.startsWith(RESULT_PREFIX))
    .map((line) => JSON.parse(line.slice(RESULT_PREFIX.length)) as TorchResult);
  if (out.status !== 0 || results.length !== configs.length) {
    throw new Error(`bench --pytorch: ${python} scripts/pytorch-bench.py failed (exit ${out.status}):\n${out.stderr.slice(-2000)}`);
  }
  return results;
}
