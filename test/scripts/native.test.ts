import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ensureNativeBackend, nativeBuildRequested, tfjsNodeVersion } from "../../scripts/native";

const ROOT = join(__dirname, "..", "..");

test("the scripts' setup builds tfjs-node only where MIE_BACKEND=tfjs-node asks for it", () => {
  assert.equal(nativeBuildRequested({}), false, "unset: auto, the quick start");
  assert.equal(nativeBuildRequested({ MIE_BACKEND: "" }), false);
  assert.equal(nativeBuildRequested({ MIE_BACKEND: "auto" }), false);
  assert.equal(nativeBuildRequested({ MIE_BACKEND: "wasm" }), false);
  assert.equal(nativeBuildRequested({ MIE_BACKEND: "cpu" }), false);
  assert.equal(nativeBuildRequested({ MIE_BACKEND: "tfjs-node" }), true);
  assert.throws(() => nativeBuildRequested({ MIE_BACKEND: "gpu" }), /MIE_BACKEND: expected one of auto, tfjs-node, wasm, cpu; got "gpu"/);
});

test("npm run reports's setup with MIE_BACKEND unset returns at once: nothing probed, downloaded or built", () => {
  // A Python that does not exist: any attempt to build would fail on it (and throw), not return.
  assert.equal(ensureNativeBackend("/nonexistent/python", {}), "not requested");
  assert.equal(ensureNativeBackend("/nonexistent/python", { MIE_BACKEND: "wasm" }), "not requested");
});

test("reports, lab and npm test call the setup; tfjs-node is no dependency of the project, only lib's optional peer", () => {
  for (const script of ["report.ts", "lab.ts"]) {
    assert.match(readFileSync(join(ROOT, "scripts", script), "utf8"), /ensureNativeBackend\(/, `scripts/${script}`);
  }
  const project = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as Record<string, Record<string, string> | undefined>;
  assert.match(project.scripts!.pretest!, /tsx scripts\/native\.ts --if-requested/);
  for (const field of ["dependencies", "optionalDependencies", "devDependencies"]) {
    assert.equal(project[field]?.["@tensorflow/tfjs-node"], undefined, `package.json ${field}`);
  }
  const lock = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8")) as { packages: Record<string, unknown> };
  assert.equal(lock.packages["node_modules/@tensorflow/tfjs-node"], undefined, "package-lock.json");
  assert.equal(tfjsNodeVersion(), "4.22.0", "the version npm run native installs: lib's peer dependency, tfjs's own");
});
