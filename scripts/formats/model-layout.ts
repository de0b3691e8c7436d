/**
 * What a model version's proofs say in public, and how the chain records it (docs/public-signals.md): the public
 * signals in order, the registry layout of a version and its canonical word, the public model commitment that binds
 * weights and layout, and how to read public signal 0 (the class, or the decoded values). Read by the registry
 * clients, the prover, the SDK and the audits; the quantized model format itself is ./quantized-model.ts.
 */
import { SNARK_FIELD } from "../util/field";
import { packSigned, poseidonHash, unpackSigned } from "./commitments";
import {
  type QuantizedModel,
  headLayer,
  headOutputs,
  inputModeOf,
  inputSignalCount,
  modelCommitment,
  inputCommitment,
  validateModel,
} from "./quantized-model";

/** Number of public signals: result, modelCommitment, m input signals, jobBinding. */
export function numPublicSignals(m: QuantizedModel): number {
  return 3 + inputSignalCount(m);
}

/** Names of the public signals in order (as in the manifest): result, modelCommitment, inputs..., jobBinding. */
export function publicSignalNames(m: QuantizedModel): string[] {
  const inputs =
    inputModeOf(m) === "public" ? Array.from({ length: inputSignalCount(m) }, (_, i) => `inputPacked[${i}]`) : ["inputCommitment"];
  return ["result", "modelCommitment", ...inputs, "jobBinding"];
}

/**
 * The on-chain layout of a model version (`IModelRegistry.Layout`, docs/public-signals.md), field for field.
 * Argmax: outputCount = number of logits, outputBits = outputFrac = 0.
 */
export interface ModelLayout {
  /** 0 committed, 1 public. */
  inputMode: 0 | 1;
  /** 0 argmax, 1 values. */
  outputHead: 0 | 1;
  inputCount: number;
  inputBits: number;
  outputCount: number;
  outputBits: number;
  outputFrac: number;
}

/**
 * Public signal 0 as a person reads it: an argmax head's class index with its name (`2 (virginica)`), a values head's
 * outputs decoded and scaled (`1.875 (960 / 2^9)`, named when the model names its outputs).
 */
export function describeOutput(m: QuantizedModel, output: bigint): string {
  if (m.head !== "values") {
    const name = m.classes?.[Number(output)];
    return `${output}${name ? ` (${name})` : ""}`;
  }
  const last = headLayer(m);
  const values = unpackSigned(output, headOutputs(m), last.outBits);
  return values
    .map((v, i) => {
      const scaled = Number(v) / 2 ** last.outFrac;
      const name = m.classes?.[i];
      return `${name ? `${name} ` : ""}${scaled} (${v} / 2^${last.outFrac})`;
    })
    .join(", ");
}

/** The layout the registry records for this model (validated first). */
export function layoutOf(m: QuantizedModel): ModelLayout {
  validateModel(m);
  const last = headLayer(m);
  const values = m.head === "values";
  return {
    inputMode: inputModeOf(m) === "public" ? 1 : 0,
    outputHead: values ? 1 : 0,
    inputCount: m.input.size,
    inputBits: m.input.bits,
    outputCount: headOutputs(m),
    outputBits: values ? last.outBits : 0,
    outputFrac: values ? last.outFrac : 0,
  };
}

/** Version of the layout word's encoding (bits 64-71 of `layoutWord`; `LayoutWord.VERSION` in Solidity). */
export const LAYOUT_WORD_VERSION = 1n;

/** The all-zero layout a version registered without one gets (`registerModelWithVerifier`, ERC `registerModel`). */
export const DEFAULT_LAYOUT: ModelLayout = Object.freeze({
  inputMode: 0,
  outputHead: 0,
  inputCount: 0,
  inputBits: 0,
  outputCount: 0,
  outputBits: 0,
  outputFrac: 0,
});

/** Bit widths of the layout's fields, in word order (`IModelRegistry.Layout`: uint8 but inputCount uint16). */
const LAYOUT_FIELDS: readonly (readonly [keyof ModelLayout, number])[] = [
  ["inputMode", 8],
  ["outputHead", 8],
  ["inputCount", 16],
  ["inputBits", 8],
  ["outputCount", 8],
  ["outputBits", 8],
  ["outputFrac", 8],
];

/** The fields of a layout, in `IModelRegistry.Layout` (and layout word) order. */
export const LAYOUT_KEYS: readonly (keyof ModelLayout)[] = LAYOUT_FIELDS.map(([k]) => k);

/**
 * The canonical word L of a layout (docs/public-signals.md, "Layout binding"; twin of `LayoutWord.encode` in
 * contracts/libraries/LayoutWord.sol): inputMode bits 0-7, outputHead 8-15, inputCount 16-31, inputBits 32-39,
 * outputCount 40-47, outputBits 48-55, outputFrac 56-63, LAYOUT_WORD_VERSION 64-71.
 * @throws RangeError naming the field when a value does not fit its Solidity type.
 */
export function layoutWord(layout: ModelLayout): bigint {
  let word = 0n;
  let shift = 0n;
  for (const [field, bits] of LAYOUT_FIELDS) {
    const v = layout[field];
    if (!Number.isInteger(v) || v < 0 || v >= 2 ** bits) throw new RangeError(`layout.${field} = ${v} does not fit uint${bits}`);
    word |= BigInt(v) << shift;
    shift += BigInt(bits);
  }
  return word | (LAYOUT_WORD_VERSION << shift);
}

/**
 * The public model commitment, public signal [1]: Poseidon(weightsCommitment, layoutWord(layout)). What the circuit
 * outputs for its own weights and layout, and what the registry computes on chain from the registered modelHash and
 * layout (`verificationTarget(...).modelCommitment`, `modelCommitmentOf`).
 */
export async function publicModelCommitment(weightsCommitment: bigint, layout: ModelLayout): Promise<bigint> {
  if (weightsCommitment < 0n || weightsCommitment >= SNARK_FIELD) throw new RangeError("the weights commitment must be a field element");
  return poseidonHash([weightsCommitment, layoutWord(layout)]);
}

/** The model's public model commitment: publicModelCommitment(modelCommitment(m), layoutOf(m)). */
export async function circuitModelCommitment(m: QuantizedModel): Promise<bigint> {
  return publicModelCommitment(await modelCommitment(m), layoutOf(m));
}

/**
 * The m input signals (public signals 2 .. 1+m): committed mode `[inputCommitment(model, x, salt)]`, public mode
 * `packSigned(x, input.bits)` (the salt is unused).
 * @throws RangeError naming the index when a value is outside input.bits; Error when a committed model gets no salt.
 */
export async function inputSignals(m: QuantizedModel, x: readonly bigint[], salt?: bigint): Promise<bigint[]> {
  if (x.length !== m.input.size) throw new RangeError(`input has ${x.length} values; model ${m.name} takes ${m.input.size}`);
  if (inputModeOf(m) === "public") return packSigned(x, m.input.bits, "input");
  if (salt === undefined)
    throw new Error(`model ${m.name} commits its input (input.mode "committed"): pass the salt of the input commitment`);
  return [await inputCommitment(m, x, salt)];
}
