/**
 * The explorer in JupyterLab 4 (headless Chromium): a notebook trains eight small runs and draws their landscape;
 * moving each slider changes the drawn curve and the highlighted heatmap cell, with no request to the server, no
 * message to the kernel and no page error. (explore-page.test.ts checks the same in an exported page.)
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { ROOT } from "../../scripts/jupyter";
import { clickSliderStep, explorerState, type ExplorerState } from "../helpers/explorer-ui";
import { menu, startLabSession, waitForCharts, waitForRun, type LabSession } from "../helpers/lab-ui";

const REDUCED = { MIE_TRAIN_LIMIT: "1000", MIE_TEST_LIMIT: "200", MIE_WORKERS: "1" };

describe("JupyterLab 4: the explorer's sliders", () => {
  let lab: LabSession;
  let page: Page;
  const pageErrors: string[] = [];
  /** What the page asked of the server and the kernel while `recording` is on. */
  let recording = false;
  const requests: string[] = [];
  const kernelMessages: string[] = [];
  /** Everything seen, recording or not: proves the watch is attached (Run All sent its cells to the kernel). */
  const seen = { requests: 0, kernelMessages: 0 };

  before(async () => {
    lab = await startLabSession(REDUCED);
    // Watch the tab from its first request, its kernel's websocket included.
    lab.browser.context.on("page", (opened) => {
      opened.on("pageerror", (error) => !/No active debugger session/.test(String(error)) && pageErrors.push(String(error)));
      opened.on("request", (request) => {
        seen.requests++;
        if (recording) requests.push(`${request.method()} ${request.url()}`);
      });
      opened.on("websocket", (socket) => socket.on("framesent", (frame) => {
        seen.kernelMessages++;
        if (recording) kernelMessages.push(String(frame.payload).slice(0, 200));
      }));
    });
    const path = lab.copy(join(ROOT, "test", "e2e", "lab-explore.ipynb"));
    page = await lab.open(path, "explore");
    await menu(page, "Run", "Run All Cells");
    await waitForRun(page);
    const outputs = await waitForCharts(page, 1);
    assert.deepEqual(outputs.failures, [], "the cells ran");
    assert.equal(outputs.drawn, 1, `the explorer is drawn; its box says ${JSON.stringify(outputs.undrawn)}`);
  });
  after(async () => {
    await lab?.close();
  });

  test("each slider moves the bold curve, the red box and the line of text, asking nothing of the server or kernel", async () => {
    const changed = (before: ExplorerState, after: ExplorerState, what: string): void => {
      assert.equal(after.boldCurves.length, 1, `${what}: exactly the picked run is bold`);
      assert.notEqual(after.boldCurves[0], before.boldCurves[0], `${what}: another curve is drawn bold`);
      assert.match(after.box, /^M[\d.]+,/, `${what}: the red box is drawn`);
      assert.notEqual(after.box, before.box, `${what}: the red box moved to another cell`);
      assert.notEqual(after.text, before.text, `${what}: the line above the curves names the new run`);
    };
    const start = await explorerState(page);
    assert.equal(start.measuredCells, 8, "4 learning rates × 2 batch sizes, each with its accuracy written in its cell");
    assert.equal(start.sliders.length, 2);
    assert.ok(seen.requests > 0 && seen.kernelMessages > 0, "the tab's requests and kernel messages are watched");
    recording = true;
    await clickSliderStep(page, 0, 0);
    await clickSliderStep(page, 1, 0);
    const corner = await explorerState(page);
    assert.match(corner.sliders[0]!, /lr: 0\.001/);
    assert.match(corner.sliders[1]!, /batchSize: 16/);
    assert.match(corner.text, /lr 0\.001 · batchSize 16: /);
    await clickSliderStep(page, 0, 3);
    const lrMoved = await explorerState(page);
    assert.match(lrMoved.sliders[0]!, /lr: 1\b/);
    assert.match(lrMoved.text, /lr 1 · batchSize 16: /);
    changed(corner, lrMoved, "the lr slider");
    await clickSliderStep(page, 1, 1);
    const batchMoved = await explorerState(page);
    assert.match(batchMoved.sliders[1]!, /batchSize: 100/);
    assert.match(batchMoved.text, /lr 1 · batchSize 100: /);
    changed(lrMoved, batchMoved, "the batch-size slider");
    recording = false;
    // JupyterLab calls its REST APIs on its own timers and on any click (sessions, kernels, terminals, its workspace
    // state): those are Lab's, not the chart's. A chart's request would be for a file (the bundle) or another host.
    const own = requests.filter((request) => !/^GET https?:\/\/127\.0\.0\.1:\d+\/(api\/(sessions|kernels|terminals|kernelspecs|me|contents)|lab\/api\/workspaces)\b/.test(request));
    assert.deepEqual(own, [], "moving the sliders requested nothing");
    assert.deepEqual(kernelMessages, [], "moving the sliders sent nothing to the kernel");
  });

  test("no page error", () => {
    assert.deepEqual(pageErrors, []);
  });
});
