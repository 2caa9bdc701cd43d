/**
 * TensorFlow.js as the library loads it, for notebooks to build their Layers models with. The library checks a model
 * with `instanceof tf.Sequential`, which holds only for a model built by the same copy of tfjs: a notebook that
 * imports `tf` from `@mie/lib` gets that copy on tslab and on Deno alike, whatever its own resolver would load.
 */
import * as tfjs from "@tensorflow/tfjs";

/**
 * TensorFlow.js (`@tensorflow/tfjs`), the very instance the library reads and trains Layers models with; a
 * namespace, so its types are there too (`tf.SymbolicTensor`, `tf.LayersModel`).
 * @example const mlp500 = tf.sequential({ layers: [tf.layers.dense({ inputShape: [784], units: 500, activation: "relu" }), tf.layers.dense({ units: 10 })] });
 */
export import tf = tfjs;
