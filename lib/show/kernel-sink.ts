/**
 * The display of the kernel this code runs in: Deno's under Deno, tslab's otherwise (the adapters say clearly when
 * they are used outside a kernel).
 */
import type { DisplaySink } from "./display-sink";
import { denoSink } from "./deno-sink";
import { tslabSink } from "./tslab-sink";

/**
 * Which kernel adapter this runtime gets.
 * @example kernelName(); // "tslab" under Node, "deno" under Deno
 */
export function kernelName(): "deno" | "tslab" {
  return "Deno" in globalThis ? "deno" : "tslab";
}

/**
 * The sink `show` uses by default.
 * @example createShow({ sink: kernelSink() });
 */
export function kernelSink(): DisplaySink {
  return kernelName() === "deno" ? denoSink() : tslabSink();
}
