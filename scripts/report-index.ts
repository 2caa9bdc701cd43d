/**
 * What `npm run reports` says about each report once it is written: the facts (time, runs and how many came from
 * the run store, headline accuracies), kept inside the report itself as a JSON tag, then the one-screen summary
 * at the end of the command and `reports/index.html`, a self-contained page (no script, no network) listing every
 * report in the folder with its numbers and a link.
 */
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, join, relative } from "node:path";

/** The facts of one report. */
export interface ReportFacts {
  /** The notebook's name (its file name without `.ipynb`). */
  name: string;
  /** Wall-clock seconds the notebook took: kernel start, every cell, export. */
  seconds: number;
  /** Training runs the notebook finished, and how many of them came from the run store. */
  runs: number;
  stored: number;
  /** Runs whose loss became NaN or infinite (they have no accuracy). */
  diverged: number;
  /** The best run's test accuracy and label, or null when no run was evaluated. */
  best: { label: string; accuracy: number } | null;
  /** Each line the notebook printed with "Test accuracy: N%", as printed (its headline numbers). */
  printed: string[];
  /** When the report was written (ISO 8601). */
  written: string;
  /** The data the notebook ran on, e.g. "reduced data (MIE_TRAIN_LIMIT=2000)"; "" for the full data. */
  data: string;
}

/** One line of the run log (`MIE_RUNS_LOG`, written by lib/runs/stored.ts's `noteRun`). */
interface LoggedRun {
  label: string;
  stored: boolean;
  accuracy?: number | null;
  diverged?: boolean;
}

/**
 * The facts of a report from what its execution left: the run log's lines (JSON, one per finished run) and the
 * executed notebook's JSON (for the "Test accuracy" lines it printed).
 * @example reportFacts({ name: "A", seconds: 12.5, runLog: '{"label":"x","stored":false,"accuracy":91.2}\n', notebook: "{...}", written: new Date().toISOString() });
 */
export function reportFacts(input: { name: string; seconds: number; runLog: string; notebook: string; written: string; data?: string }): ReportFacts {
  const runs = input.runLog.split("\n").filter((line) => line.trim() !== "").map((line) => JSON.parse(line) as LoggedRun);
  const evaluated = runs.filter((run) => typeof run.accuracy === "number" && Number.isFinite(run.accuracy));
  const best = evaluated.reduce<LoggedRun | null>((top, run) => (top === null || run.accuracy! > top.accuracy! ? run : top), null);
  return {
    name: input.name,
    seconds: Math.round(input.seconds * 10) / 10,
    runs: runs.length,
    stored: runs.filter((run) => run.stored).length,
    diverged: runs.filter((run) => run.diverged === true).length,
    best: best === null ? null : { label: best.label, accuracy: best.accuracy! },
    printed: printedAccuracyLines(input.notebook),
    written: input.written,
    data: input.data ?? "",
  };
}

/** The stdout lines of an executed notebook that say "Test accuracy: N%". */
function printedAccuracyLines(notebookJson: string): string[] {
  const notebook = JSON.parse(notebookJson) as { cells: { outputs?: { output_type: string; name?: string; text?: string | string[] }[] }[] };
  const stdout = notebook.cells
    .flatMap((cell) => cell.outputs ?? [])
    .filter((output) => output.output_type === "stream" && output.name === "stdout")
    .map((output) => (Array.isArray(output.text) ? output.text.join("") : output.text ?? ""))
    .join("");
  return stdout.split("\n").filter((line) => /Test accuracy: \d+(\.\d+)?%/.test(line)).map((line) => line.trim());
}

const FACTS_TAG = /<script type="application\/json" class="mie-report-facts">([^<]*)<\/script>/;

/**
 * The tag that carries a report's facts inside its HTML (inert: a JSON script block), so an index can be rebuilt
 * from the reports alone, including those of earlier runs.
 * @example html.replace(/<body[^>]*>/, (body) => body + factsTag(facts));
 */
export function factsTag(facts: ReportFacts): string {
  // "<" escaped, so no text in a label can end the script element.
  return `<script type="application/json" class="mie-report-facts">${JSON.stringify(facts).replace(/</g, "\\u003c")}</script>`;
}

/**
 * Read the facts back from a report's HTML; null for a report written before reports carried them.
 * @example readFacts(readFileSync("reports/OneLayerNetwork.html", "utf8"))?.runs;
 */
export function readFacts(html: string): ReportFacts | null {
  const match = FACTS_TAG.exec(html);
  if (!match) return null;
  try {
    return JSON.parse(match[1]!) as ReportFacts;
  } catch {
    return null;
  }
}

const percent = (accuracy: number): string => `${accuracy.toFixed(2)}%`;
const runsText = (facts: ReportFacts): string =>
  facts.runs === 0 ? "no training runs" : `${facts.runs} run${facts.runs === 1 ? "" : "s"}, ${facts.stored} from the store` +
    (facts.diverged > 0 ? `, ${facts.diverged} diverged` : "");
const printedNumbers = (facts: ReportFacts): string[] =>
  facts.printed.map((line) => /Test accuracy: (\d+(?:\.\d+)?%)/.exec(line)?.[1] ?? "").filter(Boolean);

/**
 * The end of `npm run reports` on one screen: per report its time, runs (how many from the store), headline
 * accuracies (the "Test accuracy" lines it printed, and its best run) and where it was written.
 * @example console.log(summaryText([facts], (name) => `reports/${name}.html`).join("\n"));
 */
export function summaryText(reports: readonly ReportFacts[], pathOf: (name: string) => string): string[] {
  const width = Math.max(...reports.map((facts) => facts.name.length));
  const lines = ["Summary:"];
  for (const facts of reports) {
    const printed = printedNumbers(facts);
    const accuracies = [
      ...(printed.length ? [`printed ${printed.join(", ")}`] : []),
      ...(facts.best ? [`best run ${percent(facts.best.accuracy)} (${facts.best.label})`] : []),
    ];
    lines.push(`  ${facts.name.padEnd(width)}  ${facts.seconds.toFixed(1).padStart(6)} s  ${runsText(facts)}`);
    if (accuracies.length) lines.push(`  ${"".padEnd(width)}  ${accuracies.join("; ")}`);
    lines.push(`  ${"".padEnd(width)}  ${pathOf(facts.name)}`);
  }
  return lines;
}

const escapeHtml = (text: string): string =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** A report in the index: its file (relative to the index), its size, and its facts if it carries them. */
export interface IndexEntry {
  file: string;
  bytes: number;
  facts: ReportFacts | null;
}

/**
 * The index page: one row per report with a relative link, its headline numbers, time, runs, date and size.
 * Self-contained: inline style, no script, no external resource.
 * @example writeFileSync("reports/index.html", indexHtml([{ file: "OneLayerNetwork.html", bytes: 5e6, facts }]));
 */
export function indexHtml(entries: readonly IndexEntry[]): string {
  const rows = entries.map(({ file, bytes, facts }) => {
    const name = facts?.name ?? basename(file, ".html");
    const link = `<a href="${escapeHtml(encodeURI(file))}">${escapeHtml(name)}</a>`;
    const size = `${(bytes / 1e6).toFixed(1)} MB`;
    if (!facts) return `<tr><td>${link}</td><td colspan="4">(written before reports carried their numbers)</td><td>${size}</td></tr>`;
    const headline = [
      ...facts.printed.map((line) => escapeHtml(line)),
      ...(facts.best ? [`best run: <b>${percent(facts.best.accuracy)}</b> (${escapeHtml(facts.best.label)})`] : []),
    ];
    return `<tr><td>${link}${facts.data ? `<br><small>${escapeHtml(facts.data)}</small>` : ""}</td>` +
      `<td>${headline.join("<br>") || "–"}</td><td class="n">${facts.seconds.toFixed(1)} s</td>` +
      `<td>${escapeHtml(runsText(facts))}</td><td>${escapeHtml(facts.written.replace("T", " ").replace(/\.\d+Z$/, " UTC"))}</td><td class="n">${size}</td></tr>`;
  });
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Reports</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; }
th, td { border-bottom: 1px solid #ddd; padding: 6px 12px; text-align: left; vertical-align: top; }
td.n { text-align: right; white-space: nowrap; }
small { color: #667; }
</style>
</head>
<body>
<h1>Reports</h1>
<p>Each report is one notebook executed by <code>npm run reports</code>, with every output and chart; it opens offline.
The accuracies are test accuracies: the lines the notebook printed, and its best run. Runs from the run store were
trained earlier; their seconds are from then.</p>
<table class="mie-reports">
<thead><tr><th>report</th><th>headline accuracies</th><th>time</th><th>runs</th><th>written</th><th>size</th></tr></thead>
<tbody>
${rows.join("\n")}
</tbody>
</table>
</body>
</html>
`;
}

/**
 * Write `index.html` in a reports folder, listing every report there (every `.html` but the index), atomically: a
 * temporary file in the same folder renamed over the old index. Returns its path.
 * @example writeIndex("reports"); // "reports/index.html"
 */
export function writeIndex(folder: string): string {
  const files = readdirSync(folder).filter((file) => file.endsWith(".html") && file !== "index.html" && !file.startsWith(".")).sort();
  const entries = files.map((file) => {
    const path = join(folder, file);
    return { file, bytes: statSync(path).size, facts: readFacts(readFileSync(path, "utf8")) };
  });
  const index = join(folder, "index.html");
  const temporary = join(folder, `.index-${process.pid}.html`);
  try {
    writeFileSync(temporary, indexHtml(entries));
    renameSync(temporary, index);
  } finally {
    if (existsSync(temporary)) rmSync(temporary, { force: true });
  }
  return index;
}

/** A path as the user typed it: relative to the current folder when inside it. */
export function shownPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith("..") ? rel : path;
}
