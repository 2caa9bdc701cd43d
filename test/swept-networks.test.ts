/**
 * Networks of tf.layers in sweeps: `trainAll` and `compare` take `{ model, ...settings }`; each run trains a copy of
 * the network's initial numbers (in a worker: its snapshot) and comes back as a NetworkModel, the same bits as
 * `train` in this thread; the store keeps them; bad network specs fail before any run trains.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../lib/engine/backend";
import { network, NetworkModel } from "../lib/model/network-model";
import { compare } from "../lib/runs/compare";
import { closeWorkers } from "../lib/runs/pool";
import { trainAll } from "../lib/runs/sweep";
import { train } from "../lib/train/loop";
import { bnNet, lenet, networkBits } from "./helpers/nets";
import { smallMnist } from "./helpers/small-mnist";

before(async () => {
  await initBackend();
});
after(async () => {
  await closeWorkers();
});

test("a LeNet-like net trained by trainAll in workers (threads and processes) gives the losses and numbers of train() in this thread", async (t) => {
  const data = await smallMnist(640, 500);
  const settings = { optimizer: "adam" as const, batchSize: 64 };
  const net = network(lenet(), { init: "torch", seed: 1 });
  const alone = await train(network(lenet(), { init: "torch", seed: 1 }), data, settings);
  const bn = { model: bnNet(), init: "torch" as const, seed: 2, batchSize: 32, normalize: { mean: 0.1307, std: 0.3081 }, augment: { shift: 1 } };
  const bnAlone = await train(network(bn.model, { init: "torch", seed: 2 }), data, { batchSize: 32, normalize: bn.normalize, augment: bn.augment });
  for (const kind of ["thread", "process"]) {
    const saved = process.env.MIE_WORKER_KIND;
    process.env.MIE_WORKER_KIND = kind;
    try {
      const before = tf.memory().numTensors;
      const runs = await trainAll([{ model: net, ...settings }, bn], data, { workers: 2, store: "off" });
      assert.equal(tf.memory().numTensors, before, `${kind}: no tensors made`);
      assert.ok(runs[0]!.model instanceof NetworkModel && runs[0]!.model !== net, `${kind}: a NetworkModel of its own`);
      assert.equal(net.trainedSteps, 0, `${kind}: the network given stays untrained`);
      assert.deepEqual(networkBits(runs[0]!), networkBits(alone), `${kind}: LeNet in a worker = in this thread, to the bit`);
      assert.deepEqual(networkBits(runs[1]!), networkBits(bnAlone), `${kind}: batch norm, dropout, normalised, shifted: the same`);
      assert.deepEqual(runs[0]!.model.predict(data.test).classes, alone.model.predict(data.test).classes);
      t.diagnostic(`${kind}: ${runs.map((run) => `${run.label}: ${run.accuracy}%`).join("; ")}`);
      const resumed = await train(runs[0]!.model, data, { ...settings, resume: true, evaluate: false });
      assert.equal(resumed.model.trainedSteps, 2 * alone.steps, `${kind}: a worker's network resumes`);
      await closeWorkers();
    } finally {
      if (saved === undefined) delete process.env.MIE_WORKER_KIND;
      else process.env.MIE_WORKER_KIND = saved;
    }
  }
});

test("compare varies a network's seed (PyTorch's initial values) and its settings; labels say what varies; the store keeps them", async (t) => {
  const folder = mkdtempSync(join(tmpdir(), "mie-swept-networks-"));
  t.after(() => rmSync(folder, { recursive: true, force: true }));
  const data = await smallMnist(256, 100);
  const base = { model: lenet(), init: "torch" as const, optimizer: "adam" as const, batchSize: 64 };
  const bySeed = await compare(base, { seed: [0, 1] }, data, { workers: 2, store: folder });
  assert.deepEqual(bySeed.map((run) => run.label), ["seed 0", "seed 1"]);
  assert.notDeepEqual(bySeed[0]!.losses, bySeed[1]!.losses);
  const seedOne = await train(network(lenet(), { init: "torch", seed: 1 }), data, { optimizer: "adam", batchSize: 64 });
  assert.deepEqual(networkBits(bySeed[1]!), networkBits(seedOne), "seed 1 of compare = network(…, { init: \"torch\", seed: 1 })");
  const again = await compare(base, { seed: [0, 1] }, data, { workers: 2, store: folder });
  assert.ok(again.every((run) => run.stored), "the second compare reads the store");
  assert.deepEqual(again.map(networkBits), bySeed.map(networkBits));
  const byDecay = await compare({ ...base, seed: 0 }, { weightDecay: [0, 0.1] }, data, { workers: 1, store: folder });
  assert.deepEqual(byDecay.map((run) => run.label), ["wd 0", "wd 0.1"]);
  assert.ok(byDecay[0]!.stored, "weight decay 0 is seed 0's run, from the store");
  const byModel = await compare({ optimizer: "adam", batchSize: 64, init: "torch" }, { model: [lenet(), bnNet()] }, data, { workers: 1, store: "off" });
  assert.deepEqual(byModel.map((run) => run.label), ["conv8@5-pool2-conv16@5-pool2-10", "conv4@3/2 linear-bn-relu-pool2-drop0.25-10"]);
});

test("bad network specs fail before any run trains, naming the spec and the value", async () => {
  const data = await smallMnist(64, 20);
  const trained = network(lenet(), { init: "torch" });
  await train(trained, data, { batchSize: 32, evaluate: false });
  await assert.rejects(trainAll([{ model: trained }], data, { workers: 1, store: "off" }), /specs\[0\]: model: the network .* has trained 2 steps; every run of a sweep trains a fresh copy/);
  await assert.rejects(trainAll([{ model: lenet(), layers: [784, 10] } as never], data, { workers: 1, store: "off" }), /specs\[0\]: layers and model/);
  await assert.rejects(trainAll([{ model: network(lenet()), seed: 3 }], data, { workers: 1, store: "off" }), /specs\[0\]: init: seed 3 draws initial values anew: say which with init "seeded" .* or "torch"/);
  await assert.rejects(trainAll([{ layers: [784, 10], augment: { shift: 2 } }], data, { workers: 1, store: "off" }), /specs\[0\]: augment: needs a network/);
  const wrongInput = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [32, 32, 1] }), tf.layers.dense({ units: 10 })] });
  await assert.rejects(compare({ model: wrongInput }, { lr: [0.1] }, data, { workers: 1, store: "off" }), /vary.lr\[0\]: layer 0 .*the model.s input shape is \[32, 32, 1\]/);
});
