/**
 * The main job: execute every notebook in notebooks/ with a real Jupyter and the tslab kernel, and write
 * self-contained HTML reports to reports/. All reports are built in a temporary folder first and moved into
 * place only when every notebook succeeded, so a failed run leaves the previous reports intact.
 *
 * Notebooks execute side by side, each in its own kernel (`--jobs`; default one per notebook when memory allows,
 * else one per core: scripts/report-options.ts): a notebook's single runs and its kernel start and export use one
 * core, so the others fill the rest. Every notebook runs to its end even when another fails, and every failure is
 * reported.
 *
 * Progress is printed per cell and, inside a long cell, per run (scripts/report-progress.ts); the command ends with
 * a one-screen summary and writes reports/index.html, a page listing every report with its numbers
 * (scripts/report-index.ts).
 *
 * Runs come from the run store (`.mie-runs/`, see lib/runs/stored.ts) when nothing that decides them changed, so a
 * second `npm run reports` only starts kernels and exports; each report says how many of its runs were stored.
 *
 * usage: npm run reports [-- [--notebooks DIR] [--out DIR] [--jobs N] [--fresh] [--kernel tslab|deno] NAME ...]
 *        NAME = notebook file name without .ipynb (default: all in DIR, default notebooks/); --out default reports/;
 *        --jobs N  notebooks executed at once (default: all, when each kernel's memory share holds a kernel and a
 *                  worker, else the number of cores; 1: one after another)
 *        --fresh  retrain every run instead of reading the run store (the new results are stored)
 *        --kernel deno  execute on Deno's Jupyter kernel instead of tslab; reports then go to reports/deno/ (same names)
 * env:   MIE_TRAIN_LIMIT / MIE_TEST_LIMIT  reduce the data (quick runs); MIE_BACKEND  choose the backend;
 *        MIE_MEMORY_BUDGET_MB  memory for all notebooks together (default 80% of what is free), shared out per kernel
 *        MIE_RUNS  the run store's folder, or off (with --fresh, the kernels get fresh:FOLDER)
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { executeNotebook, KERNELS, ROOT, type KernelName, type NotebookEvent } from "./jupyter";
import { projectPython } from "./python-env";
import { memoryShareMB } from "../lib/runs/pool-size";
import { defaultJobs, engineThreadsPerKernel, freshStoreSetting } from "./report-options";
import { ensureNativeBackend } from "./native";
import { ensureNativeKernels } from "./build-kernels";
import { ProgressThrottle } from "./report-progress";
import { factsTag, reportFacts, shownPath, summaryText, writeIndex, type ReportFacts } from "./report-index";

interface Args {
  notebooks: string;
  out: string;
  /** Undefined: `defaultJobs`. */
  jobs: number | undefined;
  names: string[];
  fresh: boolean;
  kernel: KernelName;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { notebooks: join(ROOT, "notebooks"), out: "", jobs: undefined, names: [], fresh: false, kernel: "tslab" };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--jobs") {
      const value = argv[++i];
      args.jobs = Number(value);
      if (!Number.isInteger(args.jobs) || args.jobs < 1) throw new Error(`--jobs: expected a positive whole number of notebooks at once, got ${JSON.stringify(value ?? null)}`);
    } else if (arg === "--notebooks" || arg === "--out") {
      const value = argv[++i];
      if (!value) throw new Error(`${arg}: expected a folder after it`);
      args[arg === "--out" ? "out" : "notebooks"] = resolve(value);
    } else if (arg === "--fresh") {
      args.fresh = true;
    } else if (arg === "--kernel") {
      const value = argv[++i];
      if (!KERNELS.includes(value as KernelName)) throw new Error(`--kernel: expected ${KERNELS.join(" or ")}, got ${JSON.stringify(value ?? null)}`);
      args.kernel = value as KernelName;
    } else if (arg.startsWith("--")) {
      throw new Error(`${arg}: unknown option (expected --notebooks DIR, --out DIR, --jobs N, --fresh, --kernel tslab|deno, or notebook names)`);
    } else {
      args.names.push(arg);
    }
  }
  // Deno's reports keep the notebooks' names in their own folder, beside tslab's rather than over them.
  args.out ||= args.kernel === "deno" ? join(ROOT, "reports", "deno") : join(ROOT, "reports");
  return args;
}

function pickNotebooks(folder: string, names: string[]): string[] {
  if (!existsSync(folder)) throw new Error(`${folder}: notebooks folder not found`);
  const all = readdirSync(folder).filter((file) => file.endsWith(".ipynb")).sort();
  if (all.length === 0) throw new Error(`${folder}: no .ipynb notebooks in it`);
  if (names.length === 0) return all.map((file) => join(folder, file));
  return names.map((name) => {
    const file = name.endsWith(".ipynb") ? name : `${name}.ipynb`;
    if (!all.includes(file)) throw new Error(`${name}: no such notebook in ${folder} (have: ${all.join(", ")})`);
    return join(folder, file);
  });
}

function seconds(since: number): string {
  return `${((performance.now() - since) / 1000).toFixed(1)} s`;
}

async function main(): Promise<void> {
  const started = performance.now();
  const args = parseArgs(process.argv.slice(2));
  const notebooks = pickNotebooks(args.notebooks, args.names);
  const reports = args.out;
  const { python, description } = projectPython({ log: (line) => console.log(line) });
  console.log(description);
  await ensureNativeKernels();
  ensureNativeBackend(python);
  const limits = ["MIE_TRAIN_LIMIT", "MIE_TEST_LIMIT"].filter((key) => process.env[key]);
  console.log(`Executing ${notebooks.length} notebook(s) on the ${args.kernel === "deno" ? "Deno" : "tslab"} kernel with ${python}` +
    (limits.length ? ` on reduced data (${limits.map((key) => `${key}=${process.env[key]}`).join(", ")})` : " on the full data"));
  const store = freshStoreSetting(args.fresh, process.env.MIE_RUNS);
  console.log(store === "off" ? "Run store off (MIE_RUNS=off): every run trains"
    : args.fresh ? `--fresh: retraining every run (and storing the new results in the run store${store === "fresh" ? "" : `, ${store!.slice("fresh:".length)}`})`
    : "Runs already in the run store are read from it (--fresh retrains them)");

  mkdirSync(reports, { recursive: true });
  removeAbandonedStaging(reports);
  const staging = mkdtempSync(join(reports, `.staging-${process.pid}-`));
  const jobs = args.jobs === undefined ? defaultJobs(notebooks.length) : Math.min(args.jobs, notebooks.length);
  const log = progressLog(notebooks, jobs);
  // Kernels side by side share the machine's memory: each sizes its worker pool by its share.
  const memoryBudget = String(memoryShareMB(jobs));
  // ...and the cores: one engine thread per kernel when there are more kernels than cores.
  const threads = engineThreadsPerKernel(jobs);
  const timings = new Map<string, string>();
  const failures = new Map<string, unknown>();
  const facts = new Map<string, ReportFacts>();
  const data = limits.map((key) => `${key}=${process.env[key]}`).join(", ");
  try {
    await inParallel(notebooks, jobs, async (notebook) => {
      const name = basename(notebook, ".ipynb");
      const notebookStarted = performance.now();
      log.start(name);
      try {
        await executeNotebook(notebook, {
          python,
          outNotebook: join(staging, `${name}.ipynb`),
          outHtml: join(staging, `${name}.html`),
          kernel: args.kernel,
          onEvent: (event) => log.event(name, event),
          env: {
            MIE_MEMORY_BUDGET_MB: memoryBudget, MIE_RUNS_LOG: join(staging, `${name}.runs.jsonl`), ...(store !== undefined ? { MIE_RUNS: store } : {}),
            ...(threads !== undefined ? { MIE_WASM_THREADS: threads } : {}),
          },
        });
        timings.set(name, seconds(notebookStarted));
        noteStoredRuns(join(staging, `${name}.html`), join(staging, `${name}.runs.jsonl`));
        facts.set(name, recordFacts(staging, name, (performance.now() - notebookStarted) / 1000, data ? `reduced data (${data})` : ""));
      } catch (error) {
        failures.set(name, error);
        console.log(`\n${name} failed after ${seconds(notebookStarted)}; its error follows at the end`);
      }
    });
    if (failures.size > 0) {
      throw new ReportsFailed(notebooks.map((notebook) => failures.get(basename(notebook, ".ipynb"))).filter((error) => error !== undefined));
    }
    for (const notebook of notebooks) {
      const name = basename(notebook, ".ipynb");
      // Same filesystem, so each rename replaces the old report in one step.
      renameSync(join(staging, `${name}.html`), join(reports, `${name}.html`));
      renameSync(join(staging, `${name}.ipynb`), join(reports, `${name}.ipynb`));
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  const index = writeIndex(reports);
  const sizeOf = (name: string): string => `${(statSync(join(reports, `${name}.html`)).size / 1e6).toFixed(1)} MB`;
  console.log(`\n${summaryText(notebooks.map((notebook) => facts.get(basename(notebook, ".ipynb"))!),
    (name) => `${shownPath(join(reports, `${name}.html`))} (${sizeOf(name)})`).join("\n")}`);
  console.log(`  index: ${shownPath(index)}`);
  const times = notebooks.map((notebook) => basename(notebook, ".ipynb")).map((name) => `${name}: ${timings.get(name)}`);
  console.log(`Time: ${times.join(", ")}; total ${seconds(started)}${jobs > 1 ? ` (${jobs} notebooks at once)` : ""}`);
}

/**
 * Remove the staging folders of runs that were killed (`.staging-PID-…` whose PID is gone). A run still going,
 * such as a second `npm run reports` at the same time, keeps its own.
 */
function removeAbandonedStaging(reports: string): void {
  for (const entry of readdirSync(reports)) {
    const owner = /^\.staging-(\d+)-/.exec(entry)?.[1];
    if (owner !== undefined && !processExists(Number(owner))) rmSync(join(reports, entry), { recursive: true, force: true });
  }
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"; // someone else's
  }
}

/**
 * How many of a notebook's runs came from the run store, from the lines its kernel wrote to `MIE_RUNS_LOG`: said
 * at the top of its report (so nobody reads stored seconds as new measurements).
 */
function noteStoredRuns(html: string, log: string): void {
  const runs = existsSync(log) ? readFileSync(log, "utf8").split("\n").filter(Boolean).map((line) => JSON.parse(line) as { stored: boolean }) : [];
  const stored = runs.filter((run) => run.stored).length;
  const text = runs.length === 0 ? "no training runs"
    : `${runs.length} run${runs.length === 1 ? "" : "s"}: ${stored} from the run store, ${runs.length - stored} trained now`;
  const note = `<p class="mie-store-note" style="font-family:monospace">${text}` +
    `${stored > 0 ? " (a stored run's table row and status line say when and where it trained; its seconds are from then)" : ""}</p>`;
  writeFileSync(html, readFileSync(html, "utf8").replace(/<body[^>]*>/, (body) => `${body}\n${note}`));
}

/**
 * A finished notebook's facts (time, runs, headline accuracies), from its run log and executed notebook in the
 * staging folder, written into its report for the index (scripts/report-index.ts).
 */
function recordFacts(staging: string, name: string, seconds: number, data: string): ReportFacts {
  const html = join(staging, `${name}.html`);
  const log = join(staging, `${name}.runs.jsonl`);
  const facts = reportFacts({
    name, seconds, data, written: new Date().toISOString(),
    runLog: existsSync(log) ? readFileSync(log, "utf8") : "", notebook: readFileSync(join(staging, `${name}.ipynb`), "utf8"),
  });
  writeFileSync(html, readFileSync(html, "utf8").replace(/<body[^>]*>/, (body) => `${body}\n${factsTag(facts)}`));
  return facts;
}

/** Every notebook that failed, each with its own error, in notebook order. */
class ReportsFailed extends Error {
  constructor(readonly failures: unknown[]) {
    super(failures.map((error) => (error as Error).message).join("\n\n"));
  }
}

/** Run `work` for every item, at most `limit` at once; resolves when all have ended. */
async function inParallel<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: limit }, lane));
}

/**
 * Progress lines. One notebook at a time: its name, then each cell as it starts, with its time when it ends.
 * Several at once: one whole line per finished cell, prefixed with its notebook, so lines never interleave.
 * Inside a long cell, after its first 5 s, a line every 5 s at most (per notebook, times the notebooks at once) with
 * which run of how many and the time left, read from the live view's display updates (scripts/report-progress.ts).
 */
function progressLog(notebooks: readonly string[], jobs: number): { start: (name: string) => void; event: (name: string, event: NotebookEvent) => void } {
  // Several notebooks at once share the terminal: each gets a line every 5 s × their number, one line per 5 s in all.
  const throttle = new ProgressThrottle({ everySeconds: 5 * jobs });
  const now = (): number => performance.now() / 1000;
  if (jobs === 1) {
    return {
      start: (name) => console.log(`\n${name}`),
      event: (name, event) => {
        if (event.event === "cell-start") {
          throttle.cellStarted(name, now());
          process.stdout.write(`  cell ${String(event.number).padStart(2)}/${event.of}  ${event.source}`);
        } else if (event.event === "sweep") {
          const first = !throttle.printedInCell(name);
          const line = throttle.offer(name, event.tag, now());
          if (line !== null) process.stdout.write(`${first ? "\n" : ""}      ${line}\n`);
        } else if (event.event === "cell-done") {
          console.log(`${throttle.printedInCell(name) ? "      done" : ""}  (${event.seconds.toFixed(1)} s)`);
        }
      },
    };
  }
  const width = Math.max(...notebooks.map((notebook) => basename(notebook, ".ipynb").length));
  const sources = new Map<string, string>();
  return {
    start: (name) => console.log(`${name.padEnd(width)}  started`),
    event: (name, event) => {
      if (event.event === "cell-start") {
        throttle.cellStarted(name, now());
        sources.set(name, `cell ${String(event.number).padStart(2)}/${event.of}  ${event.source}`);
      } else if (event.event === "sweep") {
        const line = throttle.offer(name, event.tag, now());
        const cell = /^cell +\d+\/\d+/.exec(sources.get(name) ?? "")?.[0] ?? "";
        if (line !== null) console.log(`${name.padEnd(width)}  ${cell}  … ${line}`);
      } else if (event.event === "cell-done") {
        console.log(`${name.padEnd(width)}  ${sources.get(name)}  (${event.seconds.toFixed(1)} s)`);
      }
    },
  };
}

main().catch((error: unknown) => {
  console.error(`\n${error instanceof Error ? error.message : String(error)}`);
  console.error("\nNo report was written; earlier reports (if any) are left as they were.");
  process.exit(1);
});
