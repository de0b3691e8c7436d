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
import { UsageError, commandLine, numberOption } from "../../util/args";
import { quantizationOptions, quantizeBundled } from "../../pipelines/bundled";
import { loadQuantizedModel, modelPaths, readJson } from "../../pipelines/build";
import { readInputs, readReference } from "../../formats/calibration";
import { circuitConstraints, evaluateAgainstReference, formatReport, missedTargets, quantizeWith } from "../../pipelines/evaluate";
import { type FloatModel, preprocess, validateFloatModel } from "../../formats/float-model";

const USAGE =
  "usage: npm run evaluate -- <model name | file.float.json> <reference.json> [--calibration <inputs.npy|.json|.csv>] [--bits <n>] [--min-agreement <0..1>] [--max-mae <fraction>] [--no-circuit] [--json]";

async function main(): Promise<void> {
  const { values: o, positionals: pos } = commandLine(
    process.argv.slice(2),
    {
      calibration: { type: "string" },
      bits: { type: "string" },
      "min-agreement": { type: "string" },
      "max-mae": { type: "string" },
      "no-circuit": { type: "boolean" },
      json: { type: "boolean" },
    },
    USAGE,
  );
  if (pos.length !== 2) throw new UsageError(USAGE);
  const calibration = o.calibration;
  const bits = numberOption("bits", o.bits, 2, 32, USAGE, true);
  const minAgreement = numberOption("min-agreement", o["min-agreement"], 0, 1, USAGE);
  const maxMae = numberOption("max-mae", o["max-mae"], 0, 1, USAGE);
  const compile = !o["no-circuit"];
  const json = o.json === true;
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
