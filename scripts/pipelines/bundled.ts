import * as fs from "fs";
import * as path from "path";
import { ROOT, rel } from "../util/paths";
import { type QuantizeOptions, chooseBits, quantizeModel } from "../engine/quantize";
import { loadStoredCalibration } from "../formats/calibration";
import { bundledCalibration } from "./datasets";
import type { FloatModel } from "../formats/float-model";
import { preprocess } from "../formats/float-model";
import type { QuantizedModel } from "../formats/quantized-model";

/**
 * Per-model quantization settings: `models/<name>/quantize.json`, a QuantizeOptions object
 * (`bits`, `biasBits`, `logitBits`, `weights`, `inputMode`, `head`); absent = defaults (8-bit, open weights). See docs/model-format.md.
 * @throws Error naming the file and the field when a setting is malformed.
 */
export function quantizationOptions(name: string, root = ROOT): QuantizeOptions {
  const file = path.join(root, "models", name, "quantize.json");
  if (!fs.existsSync(file)) return {};
  const o = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
  const known = ["bits", "biasBits", "logitBits", "weights", "inputMode", "head", "comment"];
  for (const k of Object.keys(o)) if (!known.includes(k)) throw new Error(`${rel(file)}: unknown field "${k}"; known: ${known.join(", ")}`);
  for (const k of ["bits", "biasBits", "logitBits"]) {
    const v = o[k];
    if (v !== undefined && (!Number.isInteger(v) || (v as number) < 2 || (v as number) > 64))
      throw new Error(`${rel(file)}: ${k} must be an integer in 2..64, got ${String(v)}`);
  }
  if (o.weights !== undefined && o.weights !== "open" && o.weights !== "private")
    throw new Error(`${rel(file)}: weights must be "open" or "private"`);
  if (o.inputMode !== undefined && o.inputMode !== "committed" && o.inputMode !== "public")
    throw new Error(`${rel(file)}: inputMode must be "committed" or "public" (absent = committed), got ${JSON.stringify(o.inputMode)}`);
  if (o.head !== undefined && o.head !== "argmax" && o.head !== "values")
    throw new Error(`${rel(file)}: head must be "argmax" (classification) or "values" (e.g. regression), got ${JSON.stringify(o.head)}`);
  const opts: QuantizeOptions = {
    bits: o.bits as number | undefined,
    biasBits: o.biasBits as number | undefined,
    logitBits: o.logitBits as number | undefined,
    weights: o.weights as "open" | "private" | undefined,
  };
  if (o.inputMode !== undefined) opts.inputMode = o.inputMode as "committed" | "public";
  if (o.head !== undefined) opts.head = o.head as "argmax" | "values";
  return opts;
}

/** Where a model's calibration set comes from. */
export interface CalibrationSet {
  /** Preprocessed inputs, as quantizeModel takes them. */
  inputs: number[][];
  /** "stored": the owner's file copied to models/<name>/calibration.json (`--calibration`); "bundled": a dataset of this repo. */
  source: "stored" | "bundled";
}

/**
 * The calibration set of a model: `models/<name>/calibration.json` when the model was built with `--calibration`,
 * else the bundled dataset its name selects (iris-*, mnist-*, temp-*, rain-*, weather-*).
 * @throws Error naming the file when the stored set is malformed, or saying how to give one when there is none.
 */
export function modelCalibration(fm: FloatModel, root = ROOT): CalibrationSet {
  const stored = loadStoredCalibration(path.join(root, "models", fm.name), fm.inputSize);
  if (stored) return { inputs: stored.inputs.map((r) => preprocess(fm, r)), source: "stored" };
  return { inputs: bundledCalibration(fm), source: "bundled" };
}

/**
 * Quantizes a model as the build does: its calibration set ({@link modelCalibration}) and its quantize.json
 * settings. A model calibrated on its owner's data gets its bit width from calibration ({@link chooseBits}) unless
 * quantize.json (or `overrides`) pins `bits`; bundled datasets keep the pinned or default width, as always.
 */
export function quantizeBundled(fm: FloatModel, overrides: QuantizeOptions = {}, root = ROOT): QuantizedModel {
  const cal = modelCalibration(fm, root);
  const opts = { ...quantizationOptions(fm.name, root), ...overrides };
  if (cal.source === "stored" && opts.bits === undefined) return chooseBits(fm, cal.inputs, opts).model;
  return quantizeModel(fm, cal.inputs, opts);
}
