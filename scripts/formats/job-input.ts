/**
 * The one job input format, read by the operator tasks (`job:open --input <file>`, `job:prove --input-file`) and by
 * prover nodes (a job's `inputURI`, `file:` or `data:`), and written by `job:open`:
 *
 *   { "format": "zkml-job-input-v1", "x": ["-462", "404", ...], "salt": "123...", "raw": [5.1, 3.4, ...],
 *     "network": "localhost", "chainId": 31337, "jobs": "0x...", "jobId": "1", "model": "iris-mlp", ... }
 *
 * Only the input is required: `x` (quantized signed integers, decimal strings or numbers) or `raw` (float features,
 * quantized with the model's own preprocessing and scale); `salt` is required to prove. Everything else is metadata
 * that is checked when present. A bare JSON array is an input too. `input` is accepted as an older name of `x`.
 */
import type { QuantizedModel } from "./quantized-model";
import { inferQuantized } from "./quantized-model";
import { quantizeRawInput } from "./quantized-input";
import { SNARK_FIELD } from "../util/field";

export const JOB_INPUT_FORMAT = "zkml-job-input-v1";

/** The job input file (private: the input and its salt). */
export interface JobInputFile {
  format: typeof JOB_INPUT_FORMAT;
  /** Quantized input, decimal strings. */
  x: string[];
  salt: string;
  /** The raw (float) input it was quantized from, if it was given raw. */
  raw?: number[];
  network?: string;
  chainId?: number;
  jobs?: string;
  jobId?: string;
  model?: string;
  modelId?: string;
  inputCommitment?: string;
  openTx?: string;
}

/**
 * A job input (the quantized input and its salt) as a `data:` URI: the `inputURI` of a committed job whose opening
 * is public anyway (what the SDK, the tests and the load script publish). Prover nodes read it with the same format.
 */
export function dataUri(input: { x: readonly bigint[]; salt: bigint }): string {
  return `data:application/json,${encodeURIComponent(JSON.stringify({ x: input.x.map(String), salt: input.salt.toString() }))}`;
}

/** A bad input value or field; the message names it (callers prefix the argument or the file). */
export class JobInputError extends Error {}

/** How to read input values: `auto` treats them as raw when any is written with a decimal point or exponent. */
export type InputKind = "auto" | "raw" | "quantized";

const INTEGER = /^-?\d+$/;
const NUMBER = /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/**
 * Quantized input integers from `values` (strings or numbers), raw floats quantized with the model's preprocessing.
 * @throws JobInputError naming the bad index, the length or the range.
 */
export function inputValues(values: readonly unknown[], model: QuantizedModel, kind: InputKind = "auto"): { x: bigint[]; raw?: number[] } {
  const text = values.map((v) => String(v).trim());
  if (text.length !== model.input.size) throw new JobInputError(`has ${text.length} values, model ${model.name} takes ${model.input.size}`);
  text.forEach((s, i) => {
    if (!NUMBER.test(s)) throw new JobInputError(`value ${i} ("${s}") is not a number`);
  });
  const raw = kind === "raw" || (kind === "auto" && text.some((s) => !INTEGER.test(s)));
  if (raw) {
    const f = text.map(Number);
    return { x: quantizeRawInput(model, f), raw: f };
  }
  text.forEach((s, i) => {
    if (!INTEGER.test(s)) throw new JobInputError(`value ${i} ("${s}") is not an integer, and the input was declared quantized`);
  });
  const x = text.map((s) => BigInt(s));
  try {
    inferQuantized(model, x); // length and range (the RangeError names the index)
  } catch (e) {
    const m = /^input\[(\d+)\] = (-?\d+) is outside the (\d+)-bit signed range (.*)$/.exec((e as Error).message);
    const what = m ? `value ${m[1]} (${m[2]}) is outside the model's ${m[3]}-bit input range ${m[4]}` : (e as Error).message;
    throw new JobInputError(`${what}: give quantized integers in that range, or raw features with a decimal point (e.g. 5.1,3.4,1.5,0.2)`);
  }
  return { x };
}

/** A salt: decimal or 0x-hex, below the BN254 field. @throws JobInputError */
export function parseSalt(v: unknown): bigint {
  const s = String(v).trim();
  if (!/^\d+$|^0x[0-9a-fA-F]+$/.test(s)) throw new JobInputError(`salt "${s.slice(0, 80)}" is not a decimal or 0x-hex integer`);
  const salt = BigInt(s);
  if (salt >= SNARK_FIELD) throw new JobInputError("salt is not below the BN254 field modulus");
  return salt;
}

/**
 * Reads a parsed job input (a JSON array, or an object in the format above).
 * @throws JobInputError naming the bad field.
 */
export function readJobInput(
  j: unknown,
  model: QuantizedModel,
): { x: bigint[]; raw?: number[]; salt?: bigint; meta: Partial<JobInputFile> } {
  if (Array.isArray(j)) return { ...inputValues(j, model), meta: {} };
  if (!j || typeof j !== "object") throw new JobInputError('is not a JSON array or object ({ "x": [...], "salt": "..." })');
  const o = j as Record<string, unknown>;
  const values = o.x ?? o.input;
  let v: { x: bigint[]; raw?: number[] };
  if (Array.isArray(values)) v = inputValues(values, model, "quantized");
  else if (Array.isArray(o.raw)) v = inputValues(o.raw, model, "raw");
  else throw new JobInputError('has no input: give "x" (quantized integers) or "raw" (float features)');
  const salt = o.salt === undefined ? undefined : parseSalt(o.salt);
  return { ...v, salt, meta: o as Partial<JobInputFile> };
}
