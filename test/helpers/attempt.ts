/**
 * One library call in a child process, for tests of hostile files: a call that hangs or reads for ever is killed
 * by the parent's timeout instead of hanging the test run, and a call can run bound by a folder's mode bits even
 * when the tests run as root (see `ownerOnly`).
 *
 * The child prints one JSON line: a list of `{ ok, name, message, path, seconds, rss }` (`path` from a
 * `SavedFileError`), one per call, made one after another (a child costs seconds to start on a busy machine).
 */
import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { loadIdx } from "../../lib/data/data";
import { mlp } from "../../lib/model/model";
import { loadModel, saveModel } from "../../lib/saved/model-io";
import { loadRuns, saveRuns } from "../../lib/saved/runs-io";

/** What the child did: `ok` when the call returned; otherwise the error's name, message and path. */
export interface Attempt {
  ok: boolean;
  name?: string;
  message?: string;
  path?: string;
  /** The call's own duration. */
  seconds: number;
  /** The child's resident memory after the call, in bytes. */
  rss: number;
}

/** The calls a child can make, by name, with JSON arguments. */
export type Call = "loadModel" | "saveModel" | "loadRuns" | "saveRuns" | "loadIdx";

/**
 * What root's child runs under for `ownerOnly`: util-linux's `setpriv` (Essential on Debian and Ubuntu) removes
 * CAP_DAC_OVERRIDE, the capability that lets root write where a folder's mode says no, from the child's inherited
 * and bounding sets, so node starts without it.
 */
const WITHOUT_OVERRIDE = ["setpriv", "--inh-caps=-dac_override", "--bounding-set=-dac_override", "--"];

/**
 * Whether `ownerOnly` can hold here: always for a user other than root; for root, where `setpriv` runs.
 * @example test("unwritable", { skip: !canHonourModes() && "no setpriv" }, ...);
 */
export function canHonourModes(): boolean {
  return process.getuid?.() !== 0 || spawnSync(WITHOUT_OVERRIDE[0]!, ["--version"]).status === 0;
}

/**
 * Make each `[call, ...args]` in one child process killed after `timeoutMs` (then the promise rejects saying so).
 * `ownerOnly`: the child obeys files' mode bits even when this process is root: it stays root (so it reaches the
 * checkout, node_modules and the test's folders wherever they lie, a mode-700 home included) but without
 * CAP_DAC_OVERRIDE, so a folder of mode 555 refuses it with EACCES as it refuses any user.
 * @example const [result] = await attempt([["loadModel", "/tmp/evil"]]); assert.equal(result.name, "SavedFileError");
 */
export function attempt(calls: [Call, ...unknown[]][], options: { timeoutMs?: number; ownerOnly?: boolean } = {}): Promise<Attempt[]> {
  // Only a guard against a hang: on a loaded machine starting the child alone can take 10 s.
  const timeoutMs = options.timeoutMs ?? 90_000;
  const wrapper = options.ownerOnly && process.getuid?.() === 0 ? WITHOUT_OVERRIDE : [];
  const command = [...wrapper, process.execPath, "--import", "tsx", __filename, JSON.stringify(calls)];
  const child = spawn(command[0]!, command.slice(1), {
    cwd: join(__dirname, "..", ".."), stdio: ["ignore", "pipe", "pipe"], timeout: timeoutMs, killSignal: "SIGKILL",
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  return new Promise((done, fail) => {
    child.on("close", (code, signal) => {
      const line = stdout.trim().split("\n").pop() ?? "";
      if (signal) return fail(new Error(`${JSON.stringify(calls)} did not finish within ${timeoutMs / 1000} s (killed by ${signal})`));
      try {
        done(JSON.parse(line) as Attempt[]);
      } catch {
        fail(new Error(`${JSON.stringify(calls)}: the child exited with ${code} without a result:\n${stdout}\n${stderr}`));
      }
    });
  });
}

async function child(call: Call, args: unknown[]): Promise<Attempt> {
  const loaders = { loadModel, loadRuns, loadIdx } as Record<string, (...given: unknown[]) => Promise<unknown>>;
  const started = performance.now();
  const finish = (fields: Partial<Attempt>): Attempt => ({
    ok: false, ...fields, seconds: (performance.now() - started) / 1000, rss: process.memoryUsage().rss,
  });
  try {
    if (call === "saveModel") await saveModel(mlp([4, 2], { seed: 0 }), args[0] as string);
    else if (call === "saveRuns") await saveRuns([], args[0] as string);
    else await loaders[call]!(...args);
    return finish({ ok: true });
  } catch (error) {
    const { name, message, path } = error as Error & { path?: string };
    return finish({ name, message, path });
  }
}

if (require.main === module) {
  void (async () => {
    const results: Attempt[] = [];
    for (const [call, ...args] of JSON.parse(process.argv[2]!) as [Call, ...unknown[]][]) results.push(await child(call, args));
    console.log(JSON.stringify(results));
    process.exit(0);
  })();
}
