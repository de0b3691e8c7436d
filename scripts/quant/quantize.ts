import type { FloatModel } from "../model/float";
import { forwardFloat, preprocess } from "../model/float";
import type { QuantizedModel } from "../model/quantized";
import { validateModel } from "../model/quantized";
import { signedRange } from "./ops";

export interface QuantizeOptions {
  /** Bits of inputs, weights and activations (default 8). */
  bits?: number;
  /** Bits of biases (default 32). */
  biasBits?: number;
  weights?: "open" | "private";
}

/** Largest f with maxAbs * 2^f <= 2^(bits-1) - 1 (f may be negative for large values). */
export function fracFor(maxAbs: number, bits: number): number {
  const limit = 2 ** (bits - 1) - 1;
  if (maxAbs === 0) return bits - 1;
  return Math.floor(Math.log2(limit / maxAbs));
}

function roundHalfAway(v: number): number {
  return Math.sign(v) * Math.round(Math.abs(v));
}

/**
 * Post-training quantization with power-of-two scales chosen from a calibration set (preprocessed inputs):
 * each tensor gets the most fractional bits that keep its calibration maximum in range. Biases sit at the
 * accumulator scale. Activations outside the calibration range saturate in the circuit (never fail).
 * @throws Error naming the layer when a bias does not fit `biasBits`.
 */
export function quantizeModel(fm: FloatModel, calibration: readonly number[][], opts: QuantizeOptions = {}): QuantizedModel {
  const bits = opts.bits ?? 8;
  const bBits = opts.biasBits ?? 32;
  if (calibration.length === 0) throw new Error("calibration: needs at least one input");
  const inMax = Math.max(...calibration.flat().map(Math.abs));
  const inFrac = fracFor(inMax, bits);
  const actMax = fm.layers.map(() => 0);
  for (const x of calibration) {
    forwardFloat(fm, x).forEach((a, l) => {
      actMax[l] = Math.max(actMax[l], ...a.map(Math.abs));
    });
  }
  let fIn = inFrac;
  const layers = fm.layers.map((l, li) => {
    if (l.type !== "dense") throw new Error(`layers[${li}].type: "${l.type}" is not quantized by this version`);
    const wFrac = fracFor(Math.max(...l.W.flat().map(Math.abs)), bits);
    let outFrac = fracFor(actMax[li], bits);
    let shift = fIn + wFrac - outFrac;
    if (shift < 0) {
      outFrac = fIn + wFrac;
      shift = 0;
    }
    const { lo, hi } = signedRange(bBits);
    const B = l.B.map((b, j) => {
      const q = roundHalfAway(b * 2 ** (fIn + wFrac));
      if (BigInt(q) < lo || BigInt(q) > hi) throw new Error(`layers[${li}].B[${j}]: bias ${b} needs more than ${bBits} bits at scale 2^${fIn + wFrac}`);
      return q;
    });
    const W = l.W.map((r) => r.map((w) => roundHalfAway(w * 2 ** wFrac)));
    fIn = outFrac;
    return { type: "dense" as const, nIn: l.W[0].length, nOut: l.W.length, W, B, wBits: bits, wFrac, bBits, shift, outBits: bits, outFrac, relu: l.relu };
  });
  return validateModel({
    format: "zkml-quantized-v1",
    name: fm.name,
    input: { size: fm.inputSize, bits, frac: inFrac },
    weights: opts.weights ?? "open",
    layers,
    head: "argmax",
    classes: fm.classes,
    preprocess: fm.preprocess,
  });
}

/** Quantizes a raw input for a model: preprocess, scale by 2^frac, round, saturate to the input range. */
export function quantizeInput(qm: QuantizedModel, fm: FloatModel, raw: readonly number[]): bigint[] {
  const { lo, hi } = signedRange(qm.input.bits);
  return preprocess(fm, raw).map((v) => {
    const q = BigInt(roundHalfAway(v * 2 ** qm.input.frac));
    return q < lo ? lo : q > hi ? hi : q;
  });
}
