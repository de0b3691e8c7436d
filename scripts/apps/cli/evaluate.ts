/**
 * npm run evaluate -- <name | file.float.json> <reference.json> [--calibration <inputs.npy|.json|.csv>] [--bits <n>]
 *                     [--min-agreement <0..1>] [--max-mae <fraction of range>] [--no-circuit] [--json]
 *
 * Compares the model (float and quantized) with the outputs the owner's framework gave for the same raw inputs
 * (reference.json: {"inputs": [[...], ...], "outputs": [[...], ...]}) and prints float agreement, quantized top-1
 * agreement (classification) or mean and worst absolute error (regression) per output, and the circuit's constraint
 * count. Exits 1 when a target is missed (defaults: float max difference 1e-4, top-1 agreement 0.99, MAE 1% of the
 * output range). The quantized model: with --calibration, quantized here from that file (bits from calibration
 * unless --bits); else the model's built models/<name>/<name>.qmodel.json; else quantized as build:model would.
 */
import * as fs from "fs";
import * as path from "path";
import { runMain } from "../main";
import { quantizationOptions, quantizeBundled } from "../../pipelines/bundled";
import { loadQuantizedModel, modelPaths, readJson } from "../../pipelines/build";
import { readInputs, readReference } from "../../formats/calibration";
import { circuitConstraints, evaluateAgainstReference, formatReport, missedTargets, quantizeWith } from "../../pipelines/evaluate";
import { type FloatModel, preprocess, validateFloatModel } from "../../formats/float-model";

const USAGE =
  "usage: npm run evaluate -- <model name | file.float.json> <reference.json> [--calibration <inputs.npy|.json|.csv>] [--bits <n>] [--min-agreement <0..1>] [--max-mae <fraction>] [--no-circuit] [--json]";

function num(flag: string, v: string | undefined, lo: number, hi: number): number {
  const n = Number(v);
  if (v === undefined || v.startsWith("--") || !Number.isFinite(n) || n < lo || n > hi)
    throw new Error(`${flag} needs a number in ${lo}..${hi}; ${USAGE}`);
  return n;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const pos: string[] = [];
  let calibration: string | undefined;
  let bits: number | undefined;
  let minAgreement: number | undefined;
  let maxMae: number | undefined;
  let compile = true;
  let json = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--calibration") {
      calibration = args[++i];
      if (!calibration || calibration.startsWith("--")) throw new Error(`--calibration needs a file; ${USAGE}`);
    } else if (a === "--bits") {
      bits = num(a, args[++i], 2, 32);
      if (!Number.isInteger(bits)) throw new Error(`--bits needs an integer; ${USAGE}`);
    } else if (a === "--min-agreement") minAgreement = num(a, args[++i], 0, 1);
    else if (a === "--max-mae") maxMae = num(a, args[++i], 0, 1);
    else if (a === "--no-circuit") compile = false;
    else if (a === "--json") json = true;
    else if (a.startsWith("--")) throw new Error(`unknown option ${a}; ${USAGE}`);
    else pos.push(a);
  }
  if (pos.length !== 2) throw new Error(USAGE);
  const [target, refFile] = pos;
  const byFile = target.endsWith(".json");
  const fm = readJson<FloatModel>(byFile ? target : modelPaths(target).floatFile);
  validateFloatModel(fm);
  const nOut = fm.classes.length;
  const ref = readReference(refFile, fm.inputSize, nOut);
  const pinned = byFile ? {} : quantizationOptions(fm.name);
  const opts = { ...pinned, ...(bits !== undefined ? { bits } : {}) };
  let qm;
  if (calibration) {
    const cal = readInputs(calibration, fm.inputSize).map((r) => preprocess(fm, r));
    qm = quantizeWith(fm, cal, opts).model;
  } else if (!byFile && bits === undefined && fs.existsSync(modelPaths(fm.name).qmodelFile)) {
    qm = loadQuantizedModel(fm.name);
  } else if (!byFile) {
    qm = quantizeBundled(fm, opts);
  } else {
    throw new Error(`${path.basename(target)}: give --calibration <file> to quantize a float model file; ${USAGE}`);
  }
  const report = evaluateAgainstReference(fm, qm, ref);
  if (compile) report.constraints = await circuitConstraints(qm);
  const missed = missedTargets(report, { minAgreement, maxMaeOfRange: maxMae });
  if (json) console.log(JSON.stringify({ ...report, missed }, null, 2));
  else console.log(formatReport(report).join("\n"));
  if (missed.length > 0) throw new Error(`missed target: ${missed.join("; ")}`);
}

runMain(main);
