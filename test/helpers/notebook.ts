/** Reading executed notebooks in tests. */

interface Output {
  output_type: string;
  name?: string;
  text?: string | string[];
  data?: Record<string, string | string[]>;
}
interface Cell {
  cell_type: string;
  source: string | string[];
  outputs?: Output[];
  execution_count?: number | null;
}
export interface NotebookJson {
  cells: Cell[];
  metadata: Record<string, unknown>;
}

const joined = (text: string | string[] | undefined): string => (Array.isArray(text) ? text.join("") : text ?? "");

/** All text a notebook's cells printed to one stream ("stdout" or "stderr"). */
export function streamText(notebook: NotebookJson, stream: "stdout" | "stderr"): string {
  return notebook.cells
    .flatMap((cell) => cell.outputs ?? [])
    .filter((output) => output.output_type === "stream" && output.name === stream)
    .map((output) => joined(output.text))
    .join("");
}

/** Every rich output's HTML, in order. */
export function htmlOutputs(notebook: NotebookJson): string[] {
  return notebook.cells
    .flatMap((cell) => cell.outputs ?? [])
    .map((output) => joined(output.data?.["text/html"]))
    .filter((html) => html !== "");
}
