/**
 * The project's one Python (.venv): picked for everything, complete, and set up without touching the home
 * folder; a Python without what a later step needs is refused; an unreachable index fails fast with advice.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { userDirsWritten } from "../helpers/home";
import { missingModules, projectPython, REQUIRED_MODULES, VENV } from "../../scripts/python-env";

test("the project's Python is .venv, and it has every module any step needs", () => {
  const { python, kind, description } = projectPython({ install: false });
  assert.equal(kind, "venv");
  assert.equal(python, join(VENV, "bin", "python"));
  assert.match(description, /project venv/);
  assert.deepEqual(missingModules(python, REQUIRED_MODULES), []);
});

test("a Python that lacks a module a later step needs is refused, naming what is missing", () => {
  const env = { ...process.env, MIE_PYTHON: process.execPath };
  assert.throws(() => projectPython({ env }), /MIE_PYTHON=.* cannot import nbclient, nbconvert, jupyter_client, jupyterlab, notebook/);
});

test("an unreachable package index fails in seconds with what to install by hand, and writes nothing into HOME", () => {
  const scratch = mkdtempSync(join(tmpdir(), "mie-venv-"));
  const home = join(scratch, "home");
  try {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      HOME: home,
      // Only an index that does not answer: no pip config file, no local wheels.
      PIP_CONFIG_FILE: "/dev/null",
      PIP_FIND_LINKS: "",
      PIP_INDEX_URL: "https://10.255.255.1/simple",
      PIP_EXTRA_INDEX_URL: "",
      MIE_PYTHON: "",
    };
    mkdirSync(home);
    const started = Date.now();
    assert.throws(
      () => projectPython({ venv: join(scratch, "venv"), env, debianFallback: false }),
      (error: Error) => {
        assert.match(error.message, /pip could not install the pinned packages/);
        assert.match(error.message, /Set it up by hand: `python3 -m venv .* install -r scripts\/python-requirements\.txt`/);
        return true;
      },
    );
    // Creating the venv takes a few seconds; pip's default retries against a dead index take minutes.
    assert.ok(Date.now() - started < 60_000, `took ${Date.now() - started} ms`);
    assert.deepEqual(userDirsWritten(home), [], "nothing written into HOME (no pip cache, no --user)");
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
});

test("a venv set up from scratch (python3 -m venv, pip from the configured index) writes nothing into HOME", () => {
  const scratch = mkdtempSync(join(tmpdir(), "mie-venv-"));
  const home = join(scratch, "home");
  try {
    mkdirSync(home);
    const venv = join(scratch, "venv");
    const lines: string[] = [];
    // pip still reads the real user's configuration (it may name the package index), but nothing may be written.
    const userPipConfig = join(homedir(), ".config", "pip", "pip.conf");
    const env = { ...process.env, HOME: home, MIE_PYTHON: "", ...(existsSync(userPipConfig) && { PIP_CONFIG_FILE: userPipConfig }) };
    const { python, kind } = projectPython({ venv, env, log: (line) => lines.push(line), debianFallback: false });
    assert.equal(kind, "venv");
    assert.equal(python, join(venv, "bin", "python"));
    assert.match(lines.join("\n"), /Python: installing scripts\/python-requirements\.txt into .* \(pip, project-local\)/);
    assert.deepEqual(missingModules(python, REQUIRED_MODULES), []);
    assert.deepEqual(userDirsWritten(home), [], "pip wrote into HOME (cache or --user)");
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
});
