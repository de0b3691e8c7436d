/**
 * Fails (exit 1) when Solidity line or branch coverage of non-generated contracts is below the threshold.
 * Reads coverage/coverage-summary.json written by `npm run coverage` (.solcover.js skips verifiers/ and mocks/).
 * Usage: ts-node scripts/apps/audit/coverage-check.ts [--min 95]
 */
import * as fs from "fs";
import * as path from "path";
import { ROOT } from "../../util/paths";
import { commandLine, numberOption } from "../../util/args";

interface Metric {
  total: number;
  covered: number;
  pct: number;
}

function main(): void {
  const usage = "usage: ts-node scripts/apps/audit/coverage-check.ts [--min <percent>] (after npm run coverage)";
  const { values: o } = commandLine(process.argv.slice(2), { min: { type: "string" } }, usage);
  const min = numberOption("min", o.min, 0, 100, usage) ?? 95;
  const file = path.join(ROOT, "coverage", "coverage-summary.json");
  if (!fs.existsSync(file)) throw new Error(`${file} not found: run \`npm run coverage\` first`);
  const summary = JSON.parse(fs.readFileSync(file, "utf8")) as Record<
    string,
    { lines: Metric; branches: Metric; statements: Metric; functions: Metric }
  >;
  let failed = false;
  for (const [name, s] of Object.entries(summary)) {
    const label = name === "total" ? "total" : path.relative(ROOT, name);
    for (const k of ["lines", "branches"] as const) {
      const pct = s[k].total === 0 ? 100 : s[k].pct;
      if (pct < min) {
        console.error(`coverage: ${label} ${k} ${pct}% < ${min}%`);
        failed = true;
      }
    }
  }
  const t = summary.total;
  console.log(
    `solidity coverage (non-generated contracts): lines ${t.lines.pct}%, branches ${t.branches.pct}%, functions ${t.functions.pct}%, statements ${t.statements.pct}% (threshold ${min}%)`,
  );
  if (failed) process.exitCode = 1;
}

main();
