/** Checking that runs leave the user's home alone: run them with HOME pointed at an empty folder, then look. */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";

/**
 * Where Python and Jupyter write per-user state: site-packages and Jupyter's data/runtime (~/.local), Jupyter's
 * config (~/.jupyter), IPython's profile (~/.ipython) and pip's cache (~/.cache/pip).
 */
export const USER_DIRS = [".local", ".jupyter", ".ipython", join(".cache", "pip")];

/**
 * Every file and folder under `home`'s USER_DIRS (each entry relative to `home`); [] when none was created.
 * @example assert.deepEqual(userDirsWritten(home), []);
 */
export function userDirsWritten(home: string): string[] {
  return USER_DIRS.filter((dir) => existsSync(join(home, dir))).flatMap((dir) => [
    dir,
    ...readdirSync(join(home, dir), { recursive: true }).map((entry) => join(dir, String(entry))),
  ]);
}
