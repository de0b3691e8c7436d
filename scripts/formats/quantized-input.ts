/**
 * The quantized model's input encoding: how a raw (float) input becomes the integers a circuit takes. Part of the
 * quantized format (its `input` and `preprocess` fields say it), so a job input is read with this alone, without the
 * quantizer (docs/architecture.md).
 */
import type { FloatModel } from "./float-model";
import { preprocess, standardize } from "./float-model";
import type { QuantizedModel } from "./quantized-model";
import { signedRange } from "./fixed-point";

/** Rounds a real to the nearest integer, halves away from zero (the quantizer's rounding of weights and inputs). */
export function roundHalfAway(v: number): number {
  return Math.sign(v) * Math.round(Math.abs(v));
}

/** Quantizes a raw input for a model: preprocess, scale by 2^frac, round, saturate to the input range. */
export function quantizeInput(qm: QuantizedModel, fm: FloatModel, raw: readonly number[]): bigint[] {
  return quantizeFeatures(qm, preprocess(fm, raw));
}

/** Preprocessed (standardized) features -> the model's input integers: round at 2^input.frac, clamp to input.bits. */
export function quantizeFeatures(qm: { input: { bits: number; frac: number } }, features: readonly number[]): bigint[] {
  const { lo, hi } = signedRange(qm.input.bits);
  return features.map((v) => {
    const q = BigInt(roundHalfAway(v * 2 ** qm.input.frac));
    return q < lo ? lo : q > hi ? hi : q;
  });
}

/**
 * A raw (float) input quantized with the quantized model's own copy of the preprocessing: the same integers as
 * {@link quantizeInput} with the float model.
 * @throws RangeError when the model records no preprocessing or the length is wrong.
 */
export function quantizeRawInput(qm: QuantizedModel, raw: readonly number[]): bigint[] {
  if (!qm.preprocess) throw new RangeError(`model ${qm.name} records no preprocessing: give a quantized input`);
  if (raw.length !== qm.input.size) throw new RangeError(`input has ${raw.length} values; model ${qm.name} takes ${qm.input.size}`);
  return quantizeFeatures(qm, standardize(qm.preprocess, raw));
}
