/**
 * Small networks of tf.layers for the tests of the library's tools (the run store, the pool, saving), and a run's
 * numbers as bytes for comparing two runs exactly.
 */
import * as tf from "@tensorflow/tfjs";
import type { NetworkModel } from "../../lib/model/network-model";
import type { Run } from "../../lib/train/loop";

/** The LeNet-like net: conv 8@5×5, pool, conv 16@5×5, pool, dense 10 (softmax: predictions use it). */
export function lenet(): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 8, kernelSize: 5, activation: "relu" }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: 16, kernelSize: 5, activation: "relu" }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 10, activation: "softmax" }),
    ],
  });
}

/** A net with every kind of state: batch norm's running statistics, dropout's seeded masks; a linear last layer. */
export function bnNet(): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 4, kernelSize: 3, strides: 2, padding: "same" }),
      tf.layers.batchNormalization({ momentum: 0.9 }), // PyTorch's 0.1: running statistics that move in a short test
      tf.layers.activation({ activation: "relu" }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dropout({ rate: 0.25 }),
      tf.layers.dense({ units: 10 }),
    ],
  });
}

/** Every number of a network's run and every bit of its numbers (not its timings or its stored mark). */
export function networkBits(run: Run<NetworkModel>): unknown {
  const { model, seconds: _s, samplesPerSecond: _r, evalSeconds: _e, stored: _m, label: _l, settings, ...numbers } = run;
  const { label: _label, ...rest } = settings;
  const bytes = (values: Float32Array): string => Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString("base64");
  const { params, stats } = model.numbers();
  return {
    ...numbers, settings: rest, losses: bytes(run.losses), params: params.map(bytes), stats: stats.map(bytes),
    trainedSteps: model.trainedSteps, scaling: model.scaling, init: model.init, seed: model.seed,
  };
}
