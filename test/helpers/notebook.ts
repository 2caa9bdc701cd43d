/** Reading executed notebooks in tests, and what each of ours must show. */

/**
 * Charts each notebook draws (tables are HTML, not charts); notebooks.test.ts and lab.test.ts both count them.
 * OneLayerNetwork: samples, baseline, learning rates, optimizers, batch sizes, batch-1000 seeds, the landscape
 * (live, explorer), the learning-rate range test, class weights, zero init. MoreLayerNetwork: the seeds (the original's run among them), your
 * settings, comparison, the optimizer × learning-rate grid (live, explorer), confusion matrix, per-class accuracy,
 * misclassified digits, hidden units (the parallel coordinates are SVG, not a Plotly chart). BeyondOneEpoch:
 * the four three-epoch runs (live), the early-stopped runs (live), the saved runs drawn from their file.
 * ConvNetwork: seven live views (the MLP, normalised, weight decay or dropout, LeNet-like, batch norm, shifts, the
 * wide net), the first conv layer's filters, one digit's feature maps.
 */
export const NOTEBOOK_CHARTS = { OneLayerNetwork: 11, MoreLayerNetwork: 9, BeyondOneEpoch: 3, ConvNetwork: 9 } as const;

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
