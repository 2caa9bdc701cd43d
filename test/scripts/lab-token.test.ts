/**
 * `npm run lab` keeps its token off every command line: another user of the machine can read any process's
 * command line (`ps`, /proc/PID/cmdline), and the token grants terminals and kernels as the lab's user. The URL
 * with the token goes to the terminal that started the lab, and nowhere else this test can see.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../../scripts/jupyter";
import { allCommandLines } from "../helpers/command-lines";

test("npm run lab: the token is in no process's command line, only in the URL printed to its terminal", { timeout: 240_000 }, async () => {
  const home = mkdtempSync(join(tmpdir(), "mie-lab-home-"));
  const lab = spawn(process.execPath, ["--import", "tsx", join(ROOT, "scripts", "lab.ts")], {
    cwd: ROOT, env: { ...process.env, HOME: home, JUPYTER_TOKEN: "" }, stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  lab.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  lab.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const exited = new Promise<void>((done) => lab.once("exit", () => done()));
  try {
    const url = await new Promise<URL>((done, fail) => {
      const timer = setTimeout(() => fail(new Error(`no URL within 180 s:\n${stdout}\n${stderr}`)), 180_000);
      const look = (): void => {
        const match = /(http:\/\/127\.0\.0\.1:\d+\/lab\/tree\/\S+\?token=[0-9a-f]+)/.exec(stdout);
        if (match) {
          clearTimeout(timer);
          done(new URL(match[1]!));
        }
      };
      lab.stdout.on("data", look);
      void exited.then(() => fail(new Error(`npm run lab ended:\n${stdout}\n${stderr}`)));
    });
    const token = url.searchParams.get("token")!;
    assert.equal(token.length, 32);

    const lines = allCommandLines();
    assert.match(lines, new RegExp(`jupyterlab .*--port=${url.port}`), "the server's own command line is in the list (the check sees it)");
    assert.ok(!lines.includes(token), "the token is on a command line");

    const answer = async (withToken: boolean): Promise<number> =>
      (await fetch(`${url.origin}/api/sessions${withToken ? `?token=${token}` : ""}`)).status;
    assert.equal(await answer(true), 200, "the server took the token from the private file");
    assert.equal(await answer(false), 403, "and refuses without it");
    assert.ok(!readdirSync(tmpdir()).some((entry) => entry.startsWith("mie-lab-token-") && existsSync(join(tmpdir(), entry, "token")) &&
      readFileSync(join(tmpdir(), entry, "token"), "utf8") === token), "the token file is removed once the server has read it");
    assert.equal(stdout.split(token).length - 1, 1, "the URL is printed once");
    assert.ok(!stderr.includes(token), "nothing else printed the token");
  } finally {
    lab.kill("SIGTERM");
    const killer = setTimeout(() => lab.kill("SIGKILL"), 15_000);
    await exited;
    clearTimeout(killer);
    rmSync(home, { recursive: true, force: true });
  }
});
