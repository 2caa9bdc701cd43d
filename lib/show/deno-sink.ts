/**
 * Deno's adapter for `DisplaySink`: `Deno.jupyter.display(bundle, { raw: true, display_id, update })`, which sends
 * display_data, or update_display_data for an id already shown. Deno's display is asynchronous: outputs go out in
 * the order they were made, and a failure is printed to the cell's stderr (it cannot be thrown to the caller).
 */
import { NoKernelError, type DisplaySink } from "./display-sink";

/** The part of Deno's `Deno.jupyter` namespace used here (the library is compiled against Node's types). */
export interface DenoJupyter {
  display(bundle: unknown, options?: { raw?: boolean; update?: boolean; display_id?: string }): Promise<void>;
}

/**
 * `Deno.jupyter` of this runtime, or why there is none: it exists only under `deno jupyter`, and reading it
 * elsewhere throws.
 * @example const jupyter = denoJupyter(); if (typeof jupyter === "string") console.log(jupyter);
 */
export function denoJupyter(): DenoJupyter | string {
  const deno = (globalThis as { Deno?: { jupyter?: DenoJupyter } }).Deno;
  if (!deno) return "not Deno";
  try {
    return deno.jupyter ?? "Deno.jupyter is missing";
  } catch {
    return "Deno.jupyter exists only under `deno jupyter`, and this is another Deno command";
  }
}

/**
 * The Deno adapter; `jupyter` gives `Deno.jupyter` (tests pass a fake).
 * @example const sink = denoSink(); sink.display({ "text/html": "<b>hello</b>" }, "live-1");
 */
export function denoSink(jupyter: () => DenoJupyter | string = denoJupyter): DisplaySink {
  const send = (bundle: unknown, options: { display_id?: string; update?: boolean }): void => {
    const display = jupyter();
    if (typeof display === "string") throw new NoKernelError(display);
    display.display(bundle, { raw: true, ...options }).catch((error: unknown) => {
      console.error(`show: Deno's kernel could not display an output: ${error instanceof Error ? error.message : String(error)}`);
    });
  };
  return {
    display: (bundle, id) => send(bundle, id === undefined ? {} : { display_id: id }),
    update: (id, bundle) => send(bundle, { display_id: id, update: true }),
  };
}
