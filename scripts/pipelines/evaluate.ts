/**
 * "Here are my inputs and my framework's outputs: how close is the quantized model?" Compares a float model and its
 * quantized copy with the reference outputs an owner's framework (PyTorch, Keras, ...) produced for the same raw
 * inputs (scripts/formats/calibration.ts, `readReference`). Used by `npm run evaluate` (scripts/apps/cli/evaluate.ts);
 * docs/bring-your-own-model.md explains the figures.
 */
import * as fs from "fs";
import * as path from "path";
import { compileCircuit } from "../engine/circuit/compile";
import { generateMainCircuit } from "../engine/circuit/generate";
import { BUILD_DIR, writeFileAtomic } from "../util/paths";
import { type BitsTrial, type QuantizeOptions, chooseBits, quantizeModel } from "../engine/quantize";
import { quantizeInput } from "../formats/quantized-input";
import type { Reference } from "../formats/calibration";
import { type FloatModel, argmaxFloat, forwardFloat, preprocess } from "../formats/float-model";
import { type QuantizedModel, headLayer, headOutputs, inferQuantized } from "../formats/quantized-model";

/** Figures of one output (logit or value), over the reference set. */
export interface OutputFigures {
  name: string;
  /** max |float model - reference|. */
  floatMaxAbsDiff: number;
  /** mean |quantized - reference| (quantized = integer / 2^outFrac). */
  quantizedMae: number;
  /** max |quantized - reference|. */
  quantizedMaxAbsError: number;
  /** max - min of the reference output over the set. */
  range: number;
}

export interface EvaluationReport {
  model: string;
  /** "probability": a classifier read through a values head (a final sigmoid), judged like a regression. */
  task: "classification" | "regression" | "probability";
  n: number;
  bits: number;
  /** max over outputs and inputs of |float model - reference|. */
  floatMaxAbsDiff: number;
  /** Classification: fraction of inputs whose float argmax equals the reference argmax. */
  floatTop1Agreement?: number;
  /** Classification: fraction of inputs whose quantized argmax (the circuit's answer) equals the reference argmax. */
  quantizedTop1Agreement?: number;
  /** Regression: worst over outputs of quantizedMae / range. */
  quantizedMaeOfRange?: number;
  outputs: OutputFigures[];
  /** Constraints of the model's circuit (when compiled). */
  constraints?: number;
}

/**
 * Runs the float and the quantized model on every reference input and compares both with the reference outputs.
 * @throws Error when the reference has a different number of outputs than the model.
 */
export function evaluateAgainstReference(fm: FloatModel, qm: QuantizedModel, ref: Reference): EvaluationReport {
  const outFrac = headLayer(qm).outFrac;
  const nOut = headOutputs(qm);
  if (ref.outputs[0].length !== nOut)
    throw new Error(`the reference has ${ref.outputs[0].length} outputs per input; model ${fm.name} has ${nOut}`);
  // a values head (regression, or a probability such as a final sigmoid) is judged by its error
  const regression = fm.task === "regression" || qm.head === "values";
  const figs = Array.from({ length: nOut }, (_, k) => ({
    name: fm.classes[k] ?? String(k),
    floatMaxAbsDiff: 0,
    sumQ: 0,
    quantizedMaxAbsError: 0,
    lo: Infinity,
    hi: -Infinity,
  }));
  let fTop = 0;
  let qTop = 0;
  ref.inputs.forEach((raw, i) => {
    const r = ref.outputs[i];
    const acts = forwardFloat(fm, preprocess(fm, raw));
    const f = acts[acts.length - 1];
    const q = inferQuantized(qm, quantizeInput(qm, fm, raw));
    const qv = q.logits.map((v) => Number(v) / 2 ** outFrac);
    r.forEach((rv, k) => {
      const g = figs[k];
      g.floatMaxAbsDiff = Math.max(g.floatMaxAbsDiff, Math.abs(f[k] - rv));
      const e = Math.abs(qv[k] - rv);
      g.sumQ += e;
      g.quantizedMaxAbsError = Math.max(g.quantizedMaxAbsError, e);
      g.lo = Math.min(g.lo, rv);
      g.hi = Math.max(g.hi, rv);
    });
    const want = argmaxFloat(r);
    if (argmaxFloat(f) === want) fTop++;
    if (Number(q.output) === want) qTop++;
  });
  const n = ref.inputs.length;
  const outputs: OutputFigures[] = figs.map((g) => ({
    name: g.name,
    floatMaxAbsDiff: g.floatMaxAbsDiff,
    quantizedMae: g.sumQ / n,
    quantizedMaxAbsError: g.quantizedMaxAbsError,
    range: g.hi - g.lo,
  }));
  const report: EvaluationReport = {
    model: fm.name,
    task: fm.task === "regression" ? "regression" : regression ? "probability" : "classification",
    n,
    bits: qm.input.bits,
    floatMaxAbsDiff: Math.max(...outputs.map((o) => o.floatMaxAbsDiff)),
    outputs,
  };
  if (regression) report.quantizedMaeOfRange = Math.max(...outputs.map((o) => o.quantizedMae / (o.range || 1)));
  else {
    report.floatTop1Agreement = fTop / n;
    report.quantizedTop1Agreement = qTop / n;
  }
  return report;
}

/** Targets of `npm run evaluate`: the defaults are the ones docs/bring-your-own-model.md states. */
export interface EvaluationTargets {
  /** Classification: least quantized top-1 agreement with the reference (default 0.99). */
  minAgreement?: number;
  /** Regression: largest quantized mean absolute error as a fraction of each output's range (default 0.01). */
  maxMaeOfRange?: number;
  /** Largest |float model - reference| (default 1e-4). */
  maxFloatDiff?: number;
}

/** The targets a report misses, one line each (empty = all met). */
export function missedTargets(r: EvaluationReport, t: EvaluationTargets = {}): string[] {
  const out: string[] = [];
  const maxFloat = t.maxFloatDiff ?? 1e-4;
  if (!(r.floatMaxAbsDiff <= maxFloat))
    out.push(
      `float max |difference| ${r.floatMaxAbsDiff.toExponential(2)} > ${maxFloat}: the imported model does not compute what the framework does (check the preprocessing and the export)`,
    );
  if (r.task === "classification") {
    const min = t.minAgreement ?? 0.99;
    if (!((r.quantizedTop1Agreement ?? 0) >= min))
      out.push(
        `quantized top-1 agreement ${pct(r.quantizedTop1Agreement ?? 0)} < ${pct(min)}: pin more bits (--bits) or calibrate on more representative inputs`,
      );
  } else {
    const max = t.maxMaeOfRange ?? 0.01;
    if (!((r.quantizedMaeOfRange ?? Infinity) <= max))
      out.push(
        `quantized mean absolute error ${pct(r.quantizedMaeOfRange ?? Infinity)} of the output range > ${pct(max)}: pin more bits (--bits)`,
      );
  }
  return out;
}

function pct(v: number): string {
  return `${(100 * v).toFixed(2)}%`;
}

/** The report as the lines `npm run evaluate` prints. */
export function formatReport(r: EvaluationReport): string[] {
  const L = [`model ${r.model} (${r.task}), ${r.n} reference inputs, ${r.bits}-bit quantization`];
  L.push(`float vs reference: max |difference| ${r.floatMaxAbsDiff.toExponential(2)}`);
  if (r.task === "classification") {
    L.push(`top-1 agreement with the reference: float ${pct(r.floatTop1Agreement ?? 0)}, quantized ${pct(r.quantizedTop1Agreement ?? 0)}`);
  } else {
    L.push(`quantized mean absolute error: worst output ${pct(r.quantizedMaeOfRange ?? 0)} of its range`);
  }
  L.push("output | float max |diff| | quantized MAE | quantized worst |error| | reference range");
  for (const o of r.outputs)
    L.push(
      `${o.name} | ${o.floatMaxAbsDiff.toExponential(2)} | ${o.quantizedMae.toPrecision(4)} | ${o.quantizedMaxAbsError.toPrecision(4)} | ${o.range.toPrecision(4)}`,
    );
  if (r.constraints !== undefined) L.push(`circuit: ${r.constraints} constraints`);
  return L;
}

/**
 * Quantizes with an explicit calibration set (preprocessed inputs): `opts.bits` pins the width, otherwise it comes
 * from calibration (chooseBits).
 */
export function quantizeWith(
  fm: FloatModel,
  calibration: number[][],
  opts: QuantizeOptions,
): { model: QuantizedModel; trials: BitsTrial[] } {
  if (opts.bits !== undefined) return { model: quantizeModel(fm, calibration, opts), trials: [] };
  return chooseBits(fm, calibration, opts);
}

/**
 * Constraint count of a quantized model's circuit: generated into build/evaluate/ and compiled (cached by content
 * hash, like every build).
 */
export async function circuitConstraints(qm: QuantizedModel): Promise<number> {
  const file = path.join(BUILD_DIR, "evaluate", `${qm.name}.circom`);
  const src = await generateMainCircuit(qm);
  if (!fs.existsSync(file) || fs.readFileSync(file, "utf8") !== src) writeFileAtomic(file, src);
  return (await compileCircuit(file)).constraints;
}
