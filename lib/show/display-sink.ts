/**
 * Where `show` sends its outputs: one small interface, implemented once per Jupyter kernel (`tslab-sink`,
 * `deno-sink`), so that figures and the rest of `show` never know which kernel they run in. `kernelSink()` picks
 * the adapter of the kernel this code runs in.
 */

/**
 * One output as Jupyter carries it: its content keyed by MIME type. `show` sends one type per output.
 * @example const bundle: MimeBundle = { "text/html": "<b>84.07%</b>" };
 */
export type MimeBundle = Readonly<Record<string, string>>;

/**
 * A kernel's display, as `show` needs it: new outputs, and outputs replaced in place (a live training chart).
 * @example sink.display({ "text/html": "<p>step 1</p>" }, "live-1"); sink.update("live-1", { "text/html": "<p>step 2</p>" });
 */
export interface DisplaySink {
  /** Show a new output; with an `id`, later `update(id, …)` calls replace it in place. */
  display(bundle: MimeBundle, id?: string): void;
  /** Replace the output that was displayed with this `id`. */
  update(id: string, bundle: MimeBundle): void;
}

/**
 * `show.*` called where no kernel can display (a plain script, a test): says so, and what to use instead.
 * @example new NoKernelError("tslab's display is not ready").message; // "show: no Jupyter kernel here (tslab's display is not ready). …"
 */
export class NoKernelError extends Error {
  constructor(why: string) {
    super(
      `show: no Jupyter kernel here (${why}). show.* displays in a tslab or Deno notebook; ` +
        "elsewhere build the figure (lossFigure, resultsTable, …) and use it directly.",
    );
    this.name = "NoKernelError";
  }
}

/**
 * The one MIME type and content of a bundle, for kernels whose display takes a single type per output.
 * @example singleType({ "text/html": "<b>x</b>" }, "tslab"); // ["text/html", "<b>x</b>"]
 */
export function singleType(bundle: MimeBundle, kernel: string): [string, string] {
  const entries = Object.entries(bundle);
  if (entries.length !== 1) {
    throw new RangeError(`${kernel}'s display: expected a bundle of exactly one MIME type, got ${entries.length} (${Object.keys(bundle).join(", ") || "none"})`);
  }
  return entries[0]!;
}
