/**
 * tslab's adapter for `DisplaySink`: `tslab.display` for plain outputs, one `tslab.newDisplay()` per display id for
 * outputs updated in place (display_data, then update_display_data). tslab is loaded on first use, so the library
 * loads without tslab's TypeScript compiler in other runtimes (Deno, plain Node scripts).
 */
import type * as Tslab from "tslab";
import { NoKernelError, singleType, type DisplaySink, type MimeBundle } from "./display-sink";

/**
 * The tslab adapter; `load` returns the `tslab` module (tests pass a fake).
 * @example const sink = tslabSink(); sink.display({ "text/html": "<b>hello</b>" });
 */
export function tslabSink(load: () => Pick<typeof Tslab, "display" | "newDisplay"> = () => require("tslab") as typeof Tslab): DisplaySink {
  let tslab: Pick<typeof Tslab, "display" | "newDisplay"> | undefined;
  // tslab makes its own display ids: ours map to its Display objects (one small object per live view).
  const displays = new Map<string, Tslab.Display>();
  const write = (display: Tslab.Display, bundle: MimeBundle): void => {
    const [type, content] = singleType(bundle, "tslab");
    try {
      display.raw(type, content);
    } catch (error) {
      // tslab's own words outside its kernel are a bare "Not ready".
      if (error instanceof Error && /not ready/i.test(error.message)) throw new NoKernelError("tslab's display is not ready");
      throw error;
    }
  };
  return {
    display(bundle, id) {
      tslab ??= load();
      if (id === undefined) return write(tslab.display, bundle);
      if (displays.has(id)) throw new RangeError(`tslab's display: display id ${JSON.stringify(id)} is already in use`);
      const display = tslab.newDisplay();
      displays.set(id, display);
      write(display, bundle);
    },
    update(id, bundle) {
      const display = displays.get(id);
      if (!display) throw new RangeError(`tslab's display: no output was displayed with id ${JSON.stringify(id)}`);
      write(display, bundle);
    },
  };
}
