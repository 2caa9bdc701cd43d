/**
 * Runs described as data. A `RunSpec` names the model (an MLP's layers, init and seed; or a network of tf.layers)
 * and its training settings, so a sweep is a list of them: checked before the first run trains, labelled, and
 * trained in this thread or in a worker with the same result. A checked spec is plain data: an MLP by its layers,
 * init and seed, a network by its snapshot (description, topology, initial numbers), so it crosses into a worker.
 */
import type { EarlyStopping } from "../train/early-stopping";
import * as tf from "@tensorflow/tfjs";
import type { EvalOn } from "../train/evaluations";
import { torchNumbers } from "../model/layers-model";
import { checkMlp, mlp, type Init, type Model } from "../model/model";
import { asLayersModel } from "../model/layers-copy";
import { network, NetworkModel, type NetworkInit } from "../model/network-model";
import type { OptimizerName } from "../model/optimizers";
import { restoreNetwork, snapshotNetwork, type NetworkSnapshot } from "../model/snapshot";
import { checkRunFits, type CheckedDataset } from "../train/checks";
import {
  defaultLabel, describeValue, resolveSettings, type Augmentation, type InputScaling, type LrDecay, type OneCycle, type ResolvedSettings,
  type TrainOptions,
} from "../train/settings";
import { fitLayers, trainChecked, type AnyRun, type RunHooks } from "../train/loop";

/**
 * One training run of an MLP as plain data (`JSON.stringify` keeps all of it): its layers, init and seed, and its
 * settings. A network's run is a `NetworkRunSpec`.
 * @example const spec: RunSpec = { layers: [784, 500, 10], seed: 1, optimizer: "sgd", lr: 0.1 }; await trainAll([spec], data);
 */
export interface RunSpec extends SpecSettings {
  /** Layer sizes, inputs first: [784, 500, 10]. */
  layers: number[];
  /** Initial weights: "torch" (default), "glorot" or "zeros". */
  init?: Init;
  /** The model's seed: draws the initial weights (default 0), as `mlp(layers, { seed })`. */
  seed?: number;
}

/**
 * One training run of a network of tf.layers: the network (`network(...)` or a `tf.Sequential`; every run trains a
 * copy of its initial numbers, so one network serves a whole sweep) and its settings.
 * @example await trainAll([{ model: network(lenet, { init: "torch" }), optimizer: "adam", batchSize: 64 }], data);
 */
export interface NetworkRunSpec extends SpecSettings {
  model: NetworkModel | tf.LayersModel;
  /** "own" (the Layers model's weights; the default for a `tf.Sequential`) or "torch" (PyTorch's, drawn from `seed`). */
  init?: "own" | "seeded" | "torch";
  /** Draws the initial values (init "seeded": the model's own initialisers; "torch": PyTorch's); default the network's own seed (0 for a Layers model). */
  seed?: number;
  layers?: undefined;
}

/**
 * A run of either kind: what `trainAll` and `compare` take.
 * @example const specs: AnyRunSpec[] = [{ layers: [784, 10] }, { model: net }];
 */
export type AnyRunSpec = RunSpec | NetworkRunSpec;

/** Every key of either kind of spec, with its values (what `compare` may vary). */
export type SpecFields = Omit<RunSpec, "init"> & Omit<NetworkRunSpec, "init" | "layers"> & { init?: Init | "own" | "seeded" };

/** The training settings of a spec, either kind. */
export interface SpecSettings {
  /** Default "sgd". */
  optimizer?: OptimizerName;
  /** Default 0.001. */
  lr?: number;
  /** Default 16. */
  batchSize?: number;
  /** Default 1. */
  epochs?: number;
  /** Momentum coefficient of optimizer "momentum". Default 0.9. */
  momentum?: number;
  /** Multiply lr by `factor` every `every` epochs, e.g. { factor: 0.5, every: 2 }. Default: none. */
  lrDecay?: LrDecay;
  /** Visit the training images in a seeded random order. Default false (the original's order). */
  shuffle?: boolean;
  /** Seed of the shuffled order; giving it without `shuffle: true` is an error. */
  shuffleSeed?: number;
  /** Measure accuracy every N steps (or every "epoch") and at the end, into `run.evaluations`. Default: none. */
  evalEvery?: number | "epoch";
  /** What `evalEvery` measures on: "test" (default) or `{ holdout: n }` (the last n training images, not trained on). */
  evalOn?: EvalOn;
  /** Stop after `patience` measurements on the holdout without an improvement, and keep the best weights. Needs
   *  `evalEvery` and `evalOn: { holdout: n }`. Default: none. */
  earlyStopping?: EarlyStopping;
  /** Weight decay (see `TrainOptions.weightDecay`). Default 0. */
  weightDecay?: number;
  /** A network's input scaling, e.g. `MNIST_NORMALIZATION`. Default: pixel / 255. */
  normalize?: InputScaling | null;
  /** A network's seeded random shifts, e.g. `{ shift: 2 }`. Default: none. */
  augment?: Augmentation | null;
  /** The one-cycle learning-rate schedule, e.g. `{ maxLr: 0.003 }`. Default: none. */
  oneCycle?: OneCycle | null;
  /** Name in charts and tables. Default: describes the run, e.g. "784-10 sgd lr 0.001 batch 16 seed 3". */
  label?: string;
}

/**
 * Every key a spec may have (`model` only a network's, `layers` only an MLP's).
 * @example SPEC_KEYS.includes("seed"); // true
 */
export const SPEC_KEYS = [
  "layers", "model", "init", "seed", "optimizer", "lr", "batchSize", "epochs", "momentum", "lrDecay", "shuffle", "shuffleSeed", "evalEvery",
  "evalOn", "earlyStopping", "weightDecay", "normalize", "augment", "oneCycle", "label",
] as const satisfies readonly (keyof SpecFields)[];

/** A spec's model options and training settings with every default filled in. */
export interface ResolvedSpec {
  init: Init | NetworkInit;
  seed: number;
  settings: ResolvedSettings;
}

/**
 * A spec that `checkSpec` passed: its label filled in and its resolved values beside it, so a sweep and its
 * workers train it without checking or resolving it again. Plain data: it crosses into a worker as is (a network
 * as its snapshot, `network`, with `layers` its layers' short names).
 * @example const spec: CheckedSpec = checkSpec({ layers: [784, 10] }, checkDataset(data), "specs[0]"); spec.resolved.settings.lr; // 0.001
 */
export interface CheckedSpec extends Omit<SpecFields, "layers" | "model"> {
  layers: number[] | string[];
  label: string;
  resolved: ResolvedSpec;
  /** A network's initial state, which every run of it starts from. */
  network?: NetworkSnapshot;
}

/**
 * Check a spec completely (model, settings, and that its layers, batch size and steps fit `data`), throwing an
 * error that starts with `where` and names the bad value. Returns the spec with its label filled in and resolved.
 * @example const checked = checkSpec({ layers: [784, 10], lr: 0.5 }, checkDataset(data), "specs[0]"); checked.label; // "784-10 sgd lr 0.5 batch 16"
 */
export function checkSpec(spec: AnyRunSpec, data: CheckedDataset, where: string): CheckedSpec {
  if (typeof spec !== "object" || spec === null || Array.isArray(spec)) {
    throw new TypeError(`${where}: expected a run such as { layers: [784, 10], lr: 0.001 }, got ${describeValue(spec)}`);
  }
  const unknown = Object.keys(spec).filter((key) => !(SPEC_KEYS as readonly string[]).includes(key));
  if (unknown.length > 0) {
    throw new RangeError(`${where}: unknown key${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")}; a run has ${SPEC_KEYS.join(", ")}`);
  }
  const named = typeof spec.label === "string" ? `${where} ("${spec.label}")` : where;
  try {
    if ("model" in spec && spec.model !== undefined) return checkNetworkSpec(spec, data);
    const resolved = resolveSpec(spec as RunSpec);
    const layers = (spec as RunSpec).layers;
    if (resolved.settings.normalize || resolved.settings.augment) {
      throw new RangeError(`${resolved.settings.normalize ? "normalize" : "augment"}: needs a network of tf.layers ({ model: network(...) }); an MLP's layers read pixel / 255`);
    }
    checkRunFits(layers, resolved.settings, data);
    return { ...spec, layers, label: spec.label ?? defaultLabel({ layers, ...resolved }, resolved.settings), resolved };
  } catch (error) {
    const Type = error instanceof TypeError ? TypeError : RangeError;
    throw new Type(`${named}: ${(error as Error).message}`);
  }
}

/**
 * A spec's model options and training settings with every default filled in; throws on a bad value.
 * @example resolveSpec({ layers: [784, 10] }).settings.lr; // 0.001
 */
export function resolveSpec(spec: RunSpec): ResolvedSpec {
  if ((spec.init as string) === "own") throw new RangeError(`init: "own" is a network's (its Layers model's weights); an MLP's init is "torch", "glorot" or "zeros"`);
  const { init, seed } = checkMlp(spec.layers, { init: spec.init, seed: spec.seed });
  return { init, seed, settings: resolveSettings(specTrainOptions(spec)) };
}

/**
 * Train one checked spec in this thread (or a worker's): a fresh model from its layers, init and seed (a network:
 * a copy of its snapshot's initial numbers), then its resolved settings, trusted. If training fails or is aborted,
 * the model (which no one else holds) is disposed.
 * @example const run = await trainSpec(checkSpec({ layers: [784, 10], seed: 3 }, checked, "spec"), checked);
 */
export async function trainSpec(spec: CheckedSpec, data: CheckedDataset, hooks: RunHooks = {}): Promise<AnyRun> {
  const model = spec.network ? restoreNetwork(spec.network) : specModel({ ...spec, layers: spec.layers as number[], init: spec.init as Init | undefined });
  try {
    return await trainChecked(model, data, { ...spec.resolved.settings, label: spec.label }, hooks);
  } catch (error) {
    model.dispose();
    throw error;
  }
}

/**
 * The fresh, untrained MLP a spec describes.
 * @example specModel({ layers: [784, 500, 10], seed: 1 }).summary();
 */
export function specModel(spec: RunSpec): Model {
  return mlp(spec.layers, { init: spec.init, seed: spec.seed });
}

/** A network's spec checked against the data: its model read (and its initial numbers drawn) once, as a snapshot. */
function checkNetworkSpec(spec: NetworkRunSpec, data: CheckedDataset): CheckedSpec {
  if (spec.layers !== undefined) throw new RangeError("layers and model: a run trains one model; give an MLP's layers or a network as model, not both");
  const net = specNetwork(spec.model, spec.init, spec.seed, { channels: 1, height: data.train.rows, width: data.train.cols });
  const settings = resolveSettings(specTrainOptions(spec));
  checkRunFits(fitLayers(net), settings, data);
  const resolved: ResolvedSpec = { init: net.init, seed: net.seed, settings };
  const { model: _model, init: _init, seed: _seed, ...rest } = spec;
  return {
    ...rest, ...(spec.init !== undefined ? { init: spec.init } : {}), ...(spec.seed !== undefined ? { seed: spec.seed } : {}),
    layers: [...net.layers], label: spec.label ?? defaultLabel(net, settings), resolved, network: snapshotNetwork(net),
  };
}

/**
 * The network a spec trains: a Layers model read with `init` ("own" by default) and `seed`; a `network(...)` as it
 * is, or with initial values drawn anew from `seed` when the spec asks for init "torch" or "seeded" or a seed.
 */
function specNetwork(model: unknown, init: SpecFields["init"], seed: number | undefined, image: { channels: number; height: number; width: number }): NetworkModel {
  const inits = `expected "own", "seeded" or "torch" for a network, got ${describeValue(init)}`;
  const layersModel = model instanceof NetworkModel ? null : asLayersModel(model);
  if (layersModel) {
    if (init !== undefined && init !== "own" && init !== "torch" && init !== "seeded") throw new RangeError(`init: ${inits}`);
    return network(layersModel, { init, seed, image });
  }
  if (!(model instanceof NetworkModel)) {
    throw new TypeError(`model: expected a TensorFlow.js Layers model (tf.sequential or tf.model) or network(...), got ${describeValue(model)}`);
  }
  if (model.disposed) throw new Error(`model: the network ${model.layers.join(" → ")} was disposed`);
  if (model.trainedSteps > 0) {
    throw new RangeError(`model: the network ${model.layers.join(" → ")} has trained ${model.trainedSteps} steps; every run of a sweep trains a fresh copy of an untrained network (use train(net, data, { resume: true }) to continue it)`);
  }
  if (init === undefined && seed === undefined) return model;
  if (seed !== undefined && !Number.isInteger(seed)) throw new RangeError(`seed: expected an integer, got ${describeValue(seed)}`);
  const wanted = init ?? (model.init === "own" || model.init === "custom" ? undefined : model.init);
  if (wanted === "seeded" || (wanted === undefined && model.trainer === "tfjs")) {
    if (model.trainer !== "tfjs") {
      if (model.init === "seeded" && (seed ?? model.seed) === model.seed) return model;
      throw new RangeError(`init: "seeded" draws the Layers model's own initialisers: pass the Layers model itself as model (this network's numbers are ${model.init === "torch" ? "PyTorch's" : "its own"})`);
    }
    const drawn = seed ?? model.seed;
    if (model.init === "seeded" && drawn === model.seed) return model;
    return network(model.trainingModel(), { init: "seeded", seed: drawn, image });
  }
  if (wanted === "torch" || (wanted === undefined && model.init === "torch")) {
    if (model.trainer === "tfjs") throw new RangeError(`init: "torch" draws PyTorch's initial values for the engine's layers, but TensorFlow.js trains this model (${model.engineLacks}); use init "seeded"`);
    const drawn = seed ?? model.seed;
    if (model.init === "torch" && drawn === model.seed) return model;
    const snapshot = snapshotNetwork(model);
    return restoreNetwork({ ...snapshot, ...torchNumbers(model.spec, drawn), init: "torch", seed: drawn });
  }
  if (init === "own" && seed === undefined && model.init === "own") return model;
  throw new RangeError(
    init === "own"
      ? `init: "own" takes the Layers model's own weights: pass the Layers model itself as model (this network's numbers are ${model.init === "torch" ? "PyTorch's" : model.init === "seeded" ? "drawn from a seed" : "its own"})`
      : init === undefined
        ? `init: seed ${describeValue(seed)} draws initial values anew: say which with init "seeded" (the Layers model's own initialisers) or "torch" (PyTorch's)`
        : `init: ${inits}`,
  );
}

/** `train`'s options for a spec: everything but the model's own keys, leaving out unset ones (so defaults apply). */
function specTrainOptions(spec: AnyRunSpec): TrainOptions {
  const { layers: _layers, init: _init, seed: _seed, ...settings } = spec as Partial<SpecFields>;
  delete settings.model;
  return Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined)) as TrainOptions;
}
