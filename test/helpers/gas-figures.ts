import * as fs from "fs";
import * as path from "path";
import { BUILD_DIR, writeFileAtomic } from "../../scripts/util/paths";

/** Where the gas tests record the figures docs/contracts.md quotes (read by scripts/apps/audit/docs-check.ts). */
export const GAS_FIGURES_FILE = path.join(BUILD_DIR, "gas-figures.json");

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Runs `update` holding a lock folder beside `file`: `npm test` runs two test processes (test/run-all.js), and two
 * read-modify-writes of one file would lose a figure. A lock older than 30 s is a crashed process's and is taken over.
 * (A lock folder, not a library: the one read-modify-write of the test suite; mkdir is atomic on every file system.)
 */
function withFileLock(file: string, update: () => void): void {
  const lock = `${file}.lock`;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      try {
        if (Date.now() - fs.statSync(lock).mtimeMs > 30_000) fs.rmSync(lock, { recursive: true, force: true });
      } catch {
        // released meanwhile
      }
      Atomics.wait(pause, 0, 0, 5);
    }
  }
  try {
    update();
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

/** Records one measured gas figure under `key` (merged into build/gas-figures.json, written atomically). */
export function recordGas(key: string, gas: bigint): void {
  fs.mkdirSync(path.dirname(GAS_FIGURES_FILE), { recursive: true });
  withFileLock(GAS_FIGURES_FILE, () => {
    let all: Record<string, string> = {};
    try {
      all = JSON.parse(fs.readFileSync(GAS_FIGURES_FILE, "utf8")) as Record<string, string>;
    } catch {
      // first figure
    }
    all[key] = gas.toString();
    writeFileAtomic(GAS_FIGURES_FILE, JSON.stringify(all, null, 2) + "\n");
  });
}
