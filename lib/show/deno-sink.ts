/**
 * Deno's adapter for `DisplaySink`: `Deno.jupyter.display(bundle, { raw: true, display_id, update })`, which sends
 * display_data, or update_display_data for an id already shown.
 *
 * Deno's display is asynchronous, and Deno's kernel (2.9) replies to a cell without waiting for the displays the
 * cell started: an output sent after that reply is dropped by the frontend (nbclient, JupyterLab) or lands in the
 * next cell. So the adapter keeps its displays in flight in one set per kernel, and makes the step the kernel
 * awaits at the end of every cell before replying (`Deno[Deno.internal].jupyter.broadcastResult`, which shows the
 * cell's value) first wait for them. Where that internal is missing (another Deno version), outputs still go out,
 * with a one-line warning that late ones may be lost.
 */
import { NoKernelError, type DisplaySink } from "./display-sink";

/** The part of Deno's `Deno.jupyter` namespace used here (the library is compiled against Node's types). */
export interface DenoJupyter {
  display(bundle: unknown, options?: { raw?: boolean; update?: boolean; display_id?: string }): Promise<void>;
}

/** The kernel's end-of-cell step, as Deno 2.9 has it (internal: checked before use). */
interface CellEnd {
  broadcastResult?: (...args: unknown[]) => Promise<unknown>;
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

/** Displays in flight, shared by every copy of the library in this kernel (a notebook may load two). */
const IN_FLIGHT = Symbol.for("mie.show.denoDisplaysInFlight");
/** Marks the kernel's end-of-cell step once it waits for them. */
const HOOKED = Symbol.for("mie.show.denoCellEndHooked");

function inFlight(): Set<Promise<unknown>> {
  const global = globalThis as { [IN_FLIGHT]?: Set<Promise<unknown>> };
  return (global[IN_FLIGHT] ??= new Set());
}

/** The kernel's end-of-cell step, if this Deno has the one we know. */
function cellEnd(): CellEnd | undefined {
  const deno = (globalThis as { Deno?: Record<symbol, { jupyter?: CellEnd }> & { internal?: symbol } }).Deno;
  const internal = deno?.internal === undefined ? undefined : deno[deno.internal]?.jupyter;
  return typeof internal?.broadcastResult === "function" ? internal : undefined;
}

/**
 * Make Deno's kernel finish a cell's displays before it replies: its end-of-cell step first waits until no display
 * is in flight, then one timer turn (so the cell's last printed lines, which travel on another channel, go out
 * first too). Returns false where this Deno has no such step. Done once per kernel.
 * @example waitForDisplaysAtCellEnd(); // true under `deno jupyter` 2.9
 */
export function waitForDisplaysAtCellEnd(end: CellEnd | undefined = cellEnd(), pending: Set<Promise<unknown>> = inFlight()): boolean {
  if (!end?.broadcastResult) return false;
  const marked = end as CellEnd & { [HOOKED]?: boolean };
  if (marked[HOOKED]) return true;
  const original = end.broadcastResult;
  end.broadcastResult = async function (this: unknown, ...args: unknown[]) {
    while (pending.size > 0) await Promise.allSettled([...pending]);
    await new Promise((resolve) => setTimeout(resolve, 10));
    return original.apply(this, args);
  };
  marked[HOOKED] = true;
  return true;
}

/**
 * The Deno adapter; `jupyter` gives `Deno.jupyter` (tests pass a fake), `pending` the set of displays in flight.
 * @example const sink = denoSink(); sink.display({ "text/html": "<b>hello</b>" }, "live-1");
 */
export function denoSink(jupyter: () => DenoJupyter | string = denoJupyter, pending: Set<Promise<unknown>> = inFlight()): DisplaySink {
  let hooked: boolean | undefined;
  const send = (bundle: unknown, options: { display_id?: string; update?: boolean }): void => {
    const display = jupyter();
    if (typeof display === "string") throw new NoKernelError(display);
    if (hooked === undefined && jupyter === denoJupyter) {
      hooked = waitForDisplaysAtCellEnd();
      if (!hooked) console.error("show: this Deno's kernel has no end-of-cell step to wait at; an output sent after its cell ended may be lost");
    }
    const sent = display.display(bundle, { raw: true, ...options }).catch((error: unknown) => {
      console.error(`show: Deno's kernel could not display an output: ${error instanceof Error ? error.message : String(error)}`);
    });
    pending.add(sent);
    void sent.finally(() => pending.delete(sent));
  };
  return {
    display: (bundle, id) => send(bundle, id === undefined ? {} : { display_id: id }),
    update: (id, bundle) => send(bundle, { display_id: id, update: true }),
  };
}
