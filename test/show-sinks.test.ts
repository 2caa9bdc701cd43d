/**
 * The kernel adapters behind `show` (lib/show/tslab-sink.ts, deno-sink.ts): each turns a MIME bundle and a display
 * id into its kernel's calls, and says so when no kernel is there. Fakes stand in for tslab and `Deno.jupyter`.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { tslabSink } from "../lib/show/tslab-sink";
import { denoJupyter, denoSink, type DenoJupyter } from "../lib/show/deno-sink";
import { kernelName, kernelSink } from "../lib/show/kernel-sink";
import { NoKernelError } from "../lib/show/display-sink";
import { createShow } from "../lib/show/show";

/** A fake tslab: each Display records what it was sent; display ids as tslab makes them, one per newDisplay(). */
function fakeTslab() {
  const sent: { display: string; type: string; content: unknown }[] = [];
  let next = 0;
  const make = (name: string) => ({ raw: (type: string, content: unknown) => void sent.push({ display: name, type, content }) });
  return { sent, module: { display: make("plain"), newDisplay: () => make(`d${++next}`) } as never };
}

/** A fake Deno.jupyter recording every call, in order. */
function fakeDeno(fail?: string) {
  const calls: { bundle: unknown; options: unknown }[] = [];
  const jupyter: DenoJupyter = {
    display: (bundle, options) => {
      calls.push({ bundle, options });
      return fail ? Promise.reject(new Error(fail)) : Promise.resolve();
    },
  };
  return { calls, jupyter };
}

describe("tslab's adapter", () => {
  test("plain outputs go to tslab.display; an id gets its own newDisplay, which its updates reuse", () => {
    const { sent, module } = fakeTslab();
    const sink = tslabSink(() => module);
    sink.display({ "text/html": "<b>a</b>" });
    sink.display({ "text/markdown": "*m*" });
    sink.display({ "text/html": "live 1" }, "live");
    sink.display({ "text/html": "other 1" }, "other");
    sink.update("live", { "text/html": "live 2" });
    assert.deepEqual(sent, [
      { display: "plain", type: "text/html", content: "<b>a</b>" },
      { display: "plain", type: "text/markdown", content: "*m*" },
      { display: "d1", type: "text/html", content: "live 1" },
      { display: "d2", type: "text/html", content: "other 1" },
      { display: "d1", type: "text/html", content: "live 2" },
    ]);
  });

  test("an unknown or reused id, or a bundle of several types, is refused by name", () => {
    const sink = tslabSink(() => fakeTslab().module);
    assert.throws(() => sink.update("nope", { "text/html": "x" }), /no output was displayed with id "nope"/);
    sink.display({ "text/html": "x" }, "a");
    assert.throws(() => sink.display({ "text/html": "x" }, "a"), /display id "a" is already in use/);
    assert.throws(() => sink.display({ "text/html": "x", "text/plain": "x" }), /exactly one MIME type, got 2 \(text\/html, text\/plain\)/);
  });

  test("outside tslab's kernel, tslab's bare 'Not ready' becomes a NoKernelError", () => {
    const sink = tslabSink();
    assert.throws(() => sink.display({ "text/html": "x" }), (error: unknown) => error instanceof NoKernelError && /tslab's display is not ready/.test(error.message));
  });
});

describe("Deno's adapter", () => {
  test("sends raw bundles: display with the id, then updates of that id", () => {
    const { calls, jupyter } = fakeDeno();
    const sink = denoSink(() => jupyter);
    sink.display({ "text/html": "<b>a</b>" });
    sink.display({ "text/html": "live 1" }, "live");
    sink.update("live", { "text/html": "live 2" });
    assert.deepEqual(calls, [
      { bundle: { "text/html": "<b>a</b>" }, options: { raw: true } },
      { bundle: { "text/html": "live 1" }, options: { raw: true, display_id: "live" } },
      { bundle: { "text/html": "live 2" }, options: { raw: true, display_id: "live", update: true } },
    ]);
  });

  test("live training view through the Deno adapter: the bundle once, then one display id displayed and updated", () => {
    const { calls, jupyter } = fakeDeno();
    const show = createShow({ sink: denoSink(() => jupyter), loadBundle: () => "/*BUNDLE*/", now: () => 0 });
    const listener = show.live("t", { interval: 0 });
    const report = (step: number, done = false) => listener({ label: "r", step, totalSteps: 3, samplesSeen: step, seconds: 0, samplesPerSecond: 1,
      loss: 1, losses: new Float32Array(step).fill(1), batchSize: 1, epoch: 1, diverged: null, done });
    report(1);
    report(2);
    report(3, true);
    const options = calls.map((call) => call.options as { display_id?: string; update?: boolean });
    assert.match(JSON.stringify(calls[0]!.bundle), /BUNDLE/);
    assert.equal(options[0]!.display_id, undefined, "the bundle is its own output, never updated");
    const id = options[1]!.display_id;
    assert.ok(id && /^mie-live-/.test(id));
    assert.deepEqual(options.slice(1).map((o) => [o.display_id, o.update ?? false]), [[id, false], [id, true], [id, true]]);
  });

  test("a failed display is printed to stderr, not lost and not an unhandled rejection", async () => {
    const { jupyter } = fakeDeno("socket closed");
    const errors: string[] = [];
    const original = console.error;
    console.error = (line: string) => void errors.push(line);
    try {
      denoSink(() => jupyter).display({ "text/html": "x" });
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      console.error = original;
    }
    assert.deepEqual(errors, ["show: Deno's kernel could not display an output: socket closed"]);
  });

  test("where there is no Deno.jupyter, show says which: not Deno, or a Deno command other than `deno jupyter`", () => {
    assert.equal(denoJupyter(), "not Deno");
    assert.throws(() => denoSink().display({ "text/html": "x" }), /no Jupyter kernel here \(not Deno\)/);
    const why = "Deno.jupyter exists only under `deno jupyter`, and this is another Deno command";
    assert.throws(() => denoSink(() => why).update("a", { "text/html": "x" }), (error: unknown) => error instanceof NoKernelError && error.message.includes(why));
  });
});

test("under Node the default adapter is tslab's", () => {
  assert.equal(kernelName(), "tslab");
  assert.throws(() => kernelSink().display({ "text/html": "x" }), /tslab's display is not ready/);
});
