/**
 * Layers models built with another copy of TensorFlow.js than the library's (a Deno notebook's own
 * `npm:@tensorflow/tfjs`, another install beside the library): `instanceof` does not know their classes, so the
 * library copies them into its own: the same config (layer names made new: the copies share one engine, whose
 * variable names must not repeat) and the same weights.
 */
import * as tf from "@tensorflow/tfjs";
import { seededRandom } from "../math/random";
import { withSeededRandom } from "./tfjs-route";

/**
 * `value` as a Layers model of the library's own TensorFlow.js: itself when it is one; a copy, with the same config
 * and weights, when it comes from another copy of TensorFlow.js (a notebook's own `npm:@tensorflow/tfjs` on Deno,
 * another version beside the library's), whose classes `instanceof` does not know; else null.
 * @example const model = asLayersModel(theirModel); // usable by network() and train()
 */
export function asLayersModel(value: unknown): tf.LayersModel | null {
  if (value instanceof tf.LayersModel) return value;
  const candidate = value as Partial<Record<"getConfig" | "getWeights" | "getClassName", () => unknown>> & { layers?: unknown } | null;
  if (!candidate || typeof candidate !== "object" || typeof candidate.getConfig !== "function" || typeof candidate.getWeights !== "function" ||
    typeof candidate.getClassName !== "function" || !Array.isArray(candidate.layers)) return null;
  const foreign = candidate as Record<"getConfig" | "getWeights" | "getClassName", () => unknown>;
  const sequential = foreign.getClassName() === "Sequential";
  const Class = (sequential ? tf.Sequential : tf.LayersModel) as unknown as { fromConfig(cls: unknown, config: unknown): tf.LayersModel };
  let copy: tf.LayersModel;
  try {
    const config = renamedLayers(JSON.parse(JSON.stringify(foreign.getConfig())) as { layers?: { name?: string; config?: { name?: string } }[] });
    copy = withSeededRandom(seededRandom(0), () => Class.fromConfig(Class, config));
  } catch (error) {
    throw new Error(`a Layers model from another copy of TensorFlow.js could not be rebuilt with the library's (${(error as Error).message}): build it with the tf that @mie/lib exports`, { cause: error });
  }
  const weights = (foreign.getWeights() as { shape: number[]; dataSync(): Float32Array }[]).map((weight) => tf.tensor(Float32Array.from(weight.dataSync()), weight.shape));
  copy.setWeights(weights);
  tf.dispose(weights);
  return copy;
}

let copies = 0;

/**
 * A model config whose layer names (and every reference to them, which wires a functional model) are new: copies
 * of TensorFlow.js share one engine, whose variable names must not repeat the other copy's.
 */
function renamedLayers(config: { layers?: { name?: string; config?: { name?: string } }[] }): unknown {
  const suffix = `_mie${++copies}`;
  const names = new Set((config.layers ?? []).flatMap((layer) => [layer.name, layer.config?.name]).filter((name): name is string => typeof name === "string"));
  const renamed = (value: unknown): unknown =>
    typeof value === "string" ? (names.has(value) ? value + suffix : value)
      : Array.isArray(value) ? value.map(renamed)
      : value && typeof value === "object" ? Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, renamed(inner)])) : value;
  return renamed(config);
}
