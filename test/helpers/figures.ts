/** What the figure tests share: readers for figure fields, hostile text, and deterministic runs and layers. */
import type { Figure } from "../../lib/figures";
import type { RunNumbers } from "../../lib/figures/runs";
import type { LayerWeights } from "../../lib/model/model";

/** Traces as loose records: the tests read fields of several trace types. */
export type Trace = Record<string, any>;
export const traces = (fig: Figure): Trace[] => fig.data as Trace[];
export const ofType = (fig: Figure, type: string): Trace[] => traces(fig).filter((t) => t.type === type);
export const annotationTexts = (fig: Figure): string[] => (fig.layout.annotations ?? []).map((a) => String(a.text));
export const titleText = (fig: Figure): string => String((fig.layout.title as { text?: string }).text);
export const subtitleText = (fig: Figure): string =>
  String((fig.layout.title as { subtitle?: { text?: string } }).subtitle?.text);

export const EVIL = `<script>alert("x")</script> & <img src=x onerror=alert(1)>`;
/** As HTML text (the results table). */
export const EVIL_HTML = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;img src=x onerror=alert(1)&gt;";
/** As Plotly text: only &, < and > (Plotly would show "&quot;" literally). */
export const EVIL_PLOTLY = '&lt;script&gt;alert("x")&lt;/script&gt; &amp; &lt;img src=x onerror=alert(1)&gt;';

/** Deterministic noise so tests do not depend on Math.random. */
export function noise(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** A finished run with a noisy falling loss; its accuracy grows with the batch size so runs differ. */
export function run(label: string, steps: number, batchSize: number, extra: Partial<RunNumbers> = {}): RunNumbers {
  const r = noise(steps + batchSize);
  const losses = Float32Array.from({ length: steps }, (_, i) => 2.3 * Math.exp(-i / steps) + 0.3 * r());
  return { label, losses, batchSize, steps, seconds: steps / 1000, accuracy: 80 + batchSize / 100, ...extra };
}

/** A 784→outputs layer whose value at (pixel p, unit j) encodes both, so misplaced values are caught. */
export function layer(outputs: number, inputs = 784): LayerWeights {
  const kernel = new Float32Array(inputs * outputs);
  for (let p = 0; p < inputs; p++) {
    for (let j = 0; j < outputs; j++) kernel[p * outputs + j] = (j + 1) * (p % 2 === 0 ? 1 : -0.5) * (1 + p / 1000);
  }
  return { shape: [inputs, outputs], kernel, bias: new Float32Array(outputs) };
}
