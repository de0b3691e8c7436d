/**
 * Re-renders bench/REPORT.md and bench/proving-time.svg from bench/results.json without measuring anything (after a
 * change to the report's text): `npx ts-node --files scripts/bench/render.ts`.
 */
import * as fs from "fs";
import * as path from "path";
import { ROOT, writeFileAtomic } from "../lib/paths";
import { type BenchResults, renderReport, renderSvg } from "./report";

const dir = path.join(ROOT, "bench");
const r = JSON.parse(fs.readFileSync(path.join(dir, "results.json"), "utf8")) as BenchResults;
writeFileAtomic(path.join(dir, "REPORT.md"), renderReport(r));
writeFileAtomic(path.join(dir, "proving-time.svg"), renderSvg(r));
console.log("bench/REPORT.md and bench/proving-time.svg rendered from bench/results.json");
