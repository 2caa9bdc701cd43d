/**
 * Every process's command line, as any user of the machine can read it: the place a secret must never be.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/**
 * All command lines, from `ps` and from /proc/PID/cmdline (arguments NUL-separated there, joined with spaces here).
 * @example assert.ok(!allCommandLines().includes(token));
 */
export function allCommandLines(): string {
  const ps = spawnSync("ps", ["-e", "-ww", "-o", "pid=,args="], { encoding: "utf8" });
  assert.equal(ps.status, 0, ps.stderr);
  const proc = readdirSync("/proc").filter((entry) => /^\d+$/.test(entry)).map((pid) => {
    try {
      return readFileSync(join("/proc", pid, "cmdline"), "utf8").replaceAll("\0", " ");
    } catch {
      return ""; // ended meanwhile
    }
  });
  return `${ps.stdout}\n${proc.join("\n")}`;
}
