import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { initBackend } from "../lib/engine/backend";
import { confusionFigure, lossFigure, perClassFigure, resultsTable } from "../lib/figures";
import { mlp } from "../lib/model/model";
import { referenceRows } from "../lib/results/reference";
import { loadRuns, saveRuns, type LoadedRun } from "../lib/saved/runs-io";
import { SavedFileError } from "../lib/saved/saved-files";
import { createShow, type DisplaySink } from "../lib/show/show";
import { train, type Run } from "../lib/train/loop";
import { smallMnist } from "./helpers/small-mnist";

const folder = mkdtempSync(join(tmpdir(), "mie-runs-io-"));
let runs: Run[];

before(async () => {
  await initBackend();
  const data = await smallMnist(320, 100);
  runs = [
    await train(mlp([784, 10], { seed: 2 }), data, { lr: 0.1, batchSize: 32, label: 'lr 0.1, "quoted"' }),
    await train(mlp([784, 10]), data, { optimizer: "momentum", momentum: 0.5, lr: 0.01, batchSize: 16, shuffle: true, shuffleSeed: 4 }),
    // Diverges in its first steps: NaN accuracy, a non-finite last loss.
    await train(mlp([784, 10]), data, { lr: 1e38, batchSize: 32, label: "lr 1e38" }),
  ];
});
after(() => rmSync(folder, { recursive: true, force: true }));

/** A run's numbers as plain values (deepEqual compares float arrays with !==, so NaN losses never match as arrays). */
const numbersOf = ({ model, losses, ...rest }: Omit<Run, "model"> & { model?: unknown }) => ({ ...rest, losses: Array.from(losses) });

describe("saveRuns and loadRuns", () => {
  test("every number comes back, NaN and Infinity included, with the seed and where it was loaded from", async () => {
    assert.ok(runs[2]!.diverged && Number.isNaN(runs[2]!.accuracy), "the third run diverged");
    const path = join(folder, "all.json");
    const written = await saveRuns(runs, path);
    assert.deepEqual(written, { json: path, csv: join(folder, "all.csv") });
    const text = readFileSync(path, "utf8");
    assert.match(text, /"accuracy":"NaN"/);
    const loaded = await loadRuns(path);
    assert.equal(loaded.length, 3);
    loaded.forEach((run, i) => {
      const { loadedFrom, savedBy, ...numbers } = run;
      assert.deepEqual(numbersOf(numbers), numbersOf(runs[i]!), `run ${i}`);
      assert.equal(run.seed, runs[i]!.model.seed);
      assert.equal(loadedFrom, path);
      assert.match(savedBy, /^@mie\/lib \d+\.\d+\.\d+$/);
    });
    assert.ok(Number.isNaN(loaded[2]!.accuracy));
    assert.ok(!Number.isFinite(loaded[2]!.losses[loaded[2]!.losses.length - 1]!));
    assert.ok(Number.isNaN(loaded[2]!.diverged!.loss));
    const infinite = { ...runs[0]!, finalLoss: Infinity, losses: Float32Array.from([1, Infinity, -Infinity]), steps: 3 };
    await saveRuns(infinite, join(folder, "infinite.json"));
    const [back] = await loadRuns(join(folder, "infinite.json"));
    assert.deepEqual([back!.finalLoss, ...back!.losses], [Infinity, 1, Infinity, -Infinity]);
    assert.deepEqual(readdirSync(folder).filter((file) => file.endsWith(".tmp")), [], "no temporary file left");
  });

  test("loaded runs draw and tabulate exactly as the runs they were saved from", async () => {
    const path = join(folder, "figures.json");
    await saveRuns(runs, path);
    const loaded = await loadRuns(path);
    assert.equal(resultsTable(loaded), resultsTable(runs));
    assert.deepEqual(lossFigure(loaded), lossFigure(runs));
    assert.deepEqual(perClassFigure(loaded.slice(0, 2)), perClassFigure(runs.slice(0, 2)));
    assert.deepEqual(confusionFigure(loaded[0]!.confusion), confusionFigure(runs[0]!.confusion));
    assert.deepEqual(referenceRows([["baseline", loaded[0]!.accuracy], ["lr 50", loaded[2]!.accuracy]]),
      referenceRows([["baseline", runs[0]!.accuracy], ["lr 50", runs[2]!.accuracy]]));
    const outputs: string[] = [];
    const sink: DisplaySink = { display: (bundle) => void outputs.push(bundle["text/html"] ?? ""), update: () => {} };
    const show = createShow({ sink, loadBundle: () => "/* bundle */" });
    show.table(loaded);
    show.loss(loaded);
    show.perClass(loaded[0]!);
    show.confusion(loaded[0]!);
    assert.equal(outputs[0], resultsTable(loaded));
    assert.equal(outputs.filter((html) => html.includes('class="mie-plot"')).length, 3);
  });

  test("a loaded run says it has no model: show.weights and reading run.model fail naming the file", async () => {
    const path = join(folder, "no-model.json");
    await saveRuns(runs[0]!, path);
    const [loaded] = await loadRuns(path);
    const show = createShow({ sink: { display: () => {}, update: () => {} }, loadBundle: () => "" });
    const noModel = (error: unknown) =>
      error instanceof SavedFileError && error.path === path && /runs\[0\]\.model: run "lr 0\.1, \\"quoted\\"" was loaded from a results file, which keeps its numbers but not its model \(save models with saveModel/.test(error.message);
    assert.throws(() => show.weights(loaded!), noModel);
    assert.throws(() => loaded!.model, noModel);
    assert.deepEqual(Object.keys(loaded!).includes("model"), false, "spreading or JSON.stringify of a loaded run skips model");
  });

  test("loaded runs save again unchanged, beside new ones", async () => {
    const first = join(folder, "first.json");
    await saveRuns(runs.slice(0, 1), first);
    const again = join(folder, "again.json");
    await saveRuns([...(await loadRuns(first)), runs[1]!], again);
    const [old, fresh] = await loadRuns(again);
    assert.deepEqual(old!.losses, runs[0]!.losses);
    assert.equal(fresh!.label, runs[1]!.label);
  });

  test("the CSV summary: one row per run, quoted labels, NaN for a diverged run's accuracy", async () => {
    const { csv } = await saveRuns(runs, join(folder, "table.json"));
    const lines = readFileSync(csv, "utf8").trimEnd().split("\n");
    assert.equal(lines[0], "label,layers,init,seed,optimizer,lr,momentum,lrDecay,batchSize,epochs,shuffleSeed,steps,seconds,evalSeconds,samplesPerSecond,accuracy,finalLoss,divergedAtStep,backend");
    assert.equal(lines.length, 4);
    assert.match(lines[1]!, new RegExp(`^"lr 0\\.1, ""quoted""",784-10,torch,2,sgd,0\\.1,,,32,1,,10,[\\d.e-]+,0,[\\d.e+]+,${runs[0]!.accuracy},`));
    assert.match(lines[2]!, /,momentum,0\.01,0\.5,,16,1,4,20,/);
    assert.match(lines[3]!, new RegExp(`^lr 1e38,784-10,torch,0,sgd,1e\\+38,,,32,1,,${runs[2]!.steps},.*,NaN,.*,${runs[2]!.diverged!.step},`));
  });
});

describe("loadRuns checks the file, naming the file and the field", () => {
  async function edited(name: string, edit: (json: any) => void): Promise<string> {
    const path = join(folder, `${name}.json`);
    await saveRuns(runs, path);
    const json = JSON.parse(readFileSync(path, "utf8"));
    edit(json);
    writeFileSync(path, JSON.stringify(json));
    return path;
  }
  const refuses = (path: string, pattern: RegExp) =>
    assert.rejects(loadRuns(path), (error: unknown) => error instanceof SavedFileError && error.message.startsWith(path) && pattern.test(error.message));

  test("missing, truncated, or not a runs file", async () => {
    await refuses(join(folder, "missing.json"), /missing\.json: not found/);
    const cut = join(folder, "cut.json");
    await saveRuns(runs, cut);
    writeFileSync(cut, readFileSync(cut, "utf8").slice(0, 500));
    await refuses(cut, /not valid JSON .*truncated\?/);
    await refuses(await edited("format", (json) => (json.format = "something else")), /: format: expected "@mie\/lib runs", got "something else"/);
    await refuses(await edited("version", (json) => (json.version = 7)), /: version: expected 1 .*, got 7/);
  });

  test("a bad field of a run", async () => {
    await refuses(await edited("loss", (json) => (json.runs[1].losses[3] = "abc")), /: runs\[1\]\.losses\[3\]: expected a number \(or "NaN", "Infinity", "-Infinity"\), got "abc"/);
    await refuses(await edited("short", (json) => json.runs[0].losses.pop()), /: runs\[0\]\.losses: expected 10 entries, got "9 entries"/);
    await refuses(await edited("lr", (json) => (json.runs[0].settings.lr = -1)), /: runs\[0\]\.settings: lr: expected a finite number > 0, got -1/);
    await refuses(await edited("option", (json) => (json.runs[0].settings.speed = 3)), /: runs\[0\]\.settings: train options: unknown option speed/);
    await refuses(await edited("confusion", (json) => json.runs[0].confusion[2].pop()), /: runs\[0\]\.confusion\[2\]: expected 10 entries/);
    await refuses(await edited("label", (json) => delete json.runs[2].label), /: runs\[2\]\.label: expected a string, got nothing/);
    await refuses(await edited("init", (json) => (json.runs[0].init = "he")), /: runs\[0\]\.init: expected one of torch, glorot, zeros, custom, got "he"/);
    await refuses(await edited("diverged", (json) => (json.runs[2].diverged = { step: -1, loss: 1 })), /: runs\[2\]\.diverged\.step: expected a whole number ≥ 0, got -1/);
  });

  test("saveRuns wants a .json path and runs", async () => {
    await assert.rejects(saveRuns(runs, join(folder, "runs.csv")), /saveRuns: expected a path ending in \.json .*, got ".*runs\.csv"/);
    await assert.rejects(saveRuns([{ label: "x" } as unknown as LoadedRun], join(folder, "x.json")), /saveRuns: runs\[0\]: expected a run from train, compare, trainAll or loadRuns, got an object with keys label/);
  });
});
