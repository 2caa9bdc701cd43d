/**
 * A model saved by `saveModel` loads in a browser with stock TensorFlow.js: served over HTTP from its folder,
 * `tf.loadLayersModel(url)` in headless Chromium, predicting what our model predicts.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import type { AddressInfo } from "node:net";
import { initBackend } from "../../lib/engine/backend";
import { mlp } from "../../lib/model/model";
import { saveModel } from "../../lib/saved/model-io";
import { train } from "../../lib/train/loop";
import { openPage } from "../helpers/browser";
import { smallMnist } from "../helpers/small-mnist";

const TFJS_BUNDLE = require.resolve("@tensorflow/tfjs/dist/tf.min.js");
const PAGE = `<!doctype html><html><head><script src="/tf.min.js"></script></head><body>model</body></html>`;

declare const tf: typeof import("@tensorflow/tfjs");

test("tf.loadLayersModel in Chromium loads a saved model over HTTP and predicts the same logits", async () => {
  await initBackend();
  const data = await smallMnist(640, 50);
  const { model } = await train(mlp([784, 30, 10], { seed: 5 }), data, { lr: 0.1, batchSize: 32, evaluate: false });
  const dir = mkdtempSync(join(tmpdir(), "mie-model-browser-"));
  const served: string[] = [];
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? "/", "http://localhost").pathname;
    served.push(path);
    try {
      if (path === "/") response.writeHead(200, { "content-type": "text/html" }).end(PAGE);
      else if (path === "/tf.min.js") response.writeHead(200, { "content-type": "text/javascript" }).end(readFileSync(TFJS_BUNDLE));
      else if (path.startsWith("/models/mlp/")) response.writeHead(200).end(readFileSync(join(dir, basename(path))));
      else response.writeHead(404).end();
    } catch {
      response.writeHead(404).end();
    }
  });
  try {
    await saveModel(model, dir);
    await new Promise<void>((listening) => server.listen(0, "127.0.0.1", listening));
    const { port } = server.address() as AddressInfo;
    const pixels = Array.from(data.test.images.subarray(0, 50 * 784), (value) => value / 255);
    const opened = await openPage(`http://127.0.0.1:${port}/`);
    try {
      const logits = await opened.page.evaluate(async (input) => {
        await tf.setBackend("cpu");
        const loaded = await tf.loadLayersModel("/models/mlp/model.json");
        return Array.from(await (loaded.predict(tf.tensor2d(input, [50, 784])) as import("@tensorflow/tfjs").Tensor).data());
      }, pixels);
      assert.deepEqual(opened.errors, []);
      const ours = model.predict(Float32Array.from(pixels));
      const worst = logits.reduce((max, value, i) => Math.max(max, Math.abs(value - ours.logits[i]!)), 0);
      assert.equal(logits.length, 500);
      assert.ok(worst <= 1e-5, `logits differ by up to ${worst}`);
      assert.ok(served.some((path) => /^\/models\/mlp\/weights-[0-9a-f]+\.bin$/.test(path)), `weights fetched: ${served.join(", ")}`);
    } finally {
      await opened.close();
    }
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
