/**
 * Re-renders bench/REPORT.md, bench/proving-time.svg, bench/batch-gas.svg and bench/optimistic.svg from bench/results.json without measuring anything (after a
 * change to the report's text): `npx ts-node --files scripts/apps/bench/render.ts`.
 */
import * as fs from "fs";
import * as path from "path";
import { ROOT, writeFileAtomic } from "../../util/paths";
import { type BenchResults, renderBatchSvg, renderOptimisticSvg, renderReport, renderSvg } from "./report";

const dir = path.join(ROOT, "bench");
const r = JSON.parse(fs.readFileSync(path.join(dir, "results.json"), "utf8")) as BenchResults;
writeFileAtomic(path.join(dir, "REPORT.md"), renderReport(r));
writeFileAtomic(path.join(dir, "proving-time.svg"), renderSvg(r));
writeFileAtomic(path.join(dir, "batch-gas.svg"), renderBatchSvg(r));
if (r.optimistic) writeFileAtomic(path.join(dir, "optimistic.svg"), renderOptimisticSvg(r));
console.log("bench/REPORT.md and its charts rendered from bench/results.json");
