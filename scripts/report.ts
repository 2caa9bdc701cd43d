/**
 * The main job: execute every notebook in notebooks/ with a real Jupyter and the tslab kernel, and write
 * self-contained HTML reports to reports/. All reports are built in a temporary folder first and moved into
 * place only when every notebook succeeded, so a failed run leaves the previous reports intact.
 *
 * usage: npm run reports [-- [--notebooks DIR] [--out DIR] NAME ...]
 *        NAME = notebook file name without .ipynb (default: all in DIR, default notebooks/); --out default reports/
 * env:   MIE_TRAIN_LIMIT / MIE_TEST_LIMIT  reduce the data (quick runs); MIE_BACKEND  choose the backend
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { executeNotebook, NotebookError, ROOT } from "./jupyter";
import { projectPython } from "./python-env";

interface Args {
  notebooks: string;
  out: string;
  names: string[];
}

function parseArgs(argv: string[]): Args {
  const args: Args = { notebooks: join(ROOT, "notebooks"), out: join(ROOT, "reports"), names: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--notebooks" || arg === "--out") {
      const value = argv[++i];
      if (!value) throw new Error(`${arg}: expected a folder after it`);
      args[arg === "--out" ? "out" : "notebooks"] = resolve(value);
    } else if (arg.startsWith("--")) {
      throw new Error(`${arg}: unknown option (expected --notebooks DIR, --out DIR, or notebook names)`);
    } else {
      args.names.push(arg);
    }
  }
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
  const limits = ["MIE_TRAIN_LIMIT", "MIE_TEST_LIMIT"].filter((key) => process.env[key]);
  console.log(`Executing ${notebooks.length} notebook(s) with ${python}` +
    (limits.length ? ` on reduced data (${limits.map((key) => `${key}=${process.env[key]}`).join(", ")})` : " on the full data"));

  mkdirSync(reports, { recursive: true });
  const staging = mkdtempSync(join(reports, ".staging-"));
  const timings: string[] = [];
  try {
    for (const notebook of notebooks) {
      const name = basename(notebook, ".ipynb");
      const notebookStarted = performance.now();
      console.log(`\n${name}`);
      await executeNotebook(notebook, {
        python,
        outNotebook: join(staging, `${name}.ipynb`),
        outHtml: join(staging, `${name}.html`),
        onEvent: (event) => {
          if (event.event === "cell-start") {
            process.stdout.write(`  cell ${String(event.number).padStart(2)}/${event.of}  ${event.source}`);
          } else if (event.event === "cell-done") {
            console.log(`  (${event.seconds.toFixed(1)} s)`);
          }
        },
      });
      timings.push(`${name}: ${seconds(notebookStarted)}`);
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
  console.log("\nReports:");
  for (const notebook of notebooks) {
    const html = join(reports, `${basename(notebook, ".ipynb")}.html`);
    console.log(`  ${html} (${(statSync(html).size / 1e6).toFixed(1)} MB)`);
  }
  console.log(`Time: ${timings.join(", ")}; total ${seconds(started)}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof NotebookError ? `\n${error.message}` : `\n${(error as Error).message}`);
  console.error("\nNo report was written; earlier reports (if any) are left as they were.");
  process.exit(1);
});
