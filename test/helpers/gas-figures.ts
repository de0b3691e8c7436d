import * as fs from "fs";
import * as path from "path";
import { BUILD_DIR, writeFileAtomic } from "../../scripts/util/paths";

/** Where the gas tests record the figures docs/contracts.md quotes (read by scripts/apps/audit/docs-check.ts). */
export const GAS_FIGURES_FILE = path.join(BUILD_DIR, "gas-figures.json");

/** Records one measured gas figure under `key` (merged into build/gas-figures.json, written atomically). */
export function recordGas(key: string, gas: bigint): void {
  let all: Record<string, string> = {};
  try {
    all = JSON.parse(fs.readFileSync(GAS_FIGURES_FILE, "utf8")) as Record<string, string>;
  } catch {
    // first figure
  }
  all[key] = gas.toString();
  writeFileAtomic(GAS_FIGURES_FILE, JSON.stringify(all, null, 2) + "\n");
}
