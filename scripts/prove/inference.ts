import { circuitWeightInputs } from "../circuit/generate";
import { toField } from "../lib/field";
import { type QuantizedModel, inferQuantized, inputCommitment, modelCommitment } from "../model/quantized";
import { type Groth16Result, proveGroth16 } from "./groth16";

/** Public signal positions (docs/public-signals.md). */
export const SIGNAL = { output: 0, modelCommitment: 1, inputCommitment: 2, jobBinding: 3 } as const;

export interface InferenceProof extends Groth16Result {
  /** The model's answer (public signal 0), from the TS reference. */
  output: bigint;
  logits: bigint[];
}

/**
 * The witness input of a generated model circuit: the input, its salt, the job binding and, for private-weights
 * models, the weights (`model` omitted = open weights).
 */
export function circuitInput(x: readonly bigint[], salt: bigint, binding: bigint, model?: QuantizedModel): Record<string, unknown> {
  return {
    x: x.map((v) => toField(v).toString()),
    salt: salt.toString(),
    jobBinding: binding.toString(),
    ...(model ? circuitWeightInputs(model) : {}),
  };
}

/**
 * Runs the TS reference inference, then proves the same inference with Groth16, and checks that the proof's public
 * signals are exactly what the reference and the commitments say.
 * @throws if the input is outside the model's range (RangeError naming the index), or if the circuit disagrees with
 * the reference (a bug: never submit such a proof).
 */
export async function proveInference(
  model: QuantizedModel,
  artifacts: { wasm: string; zkey: string },
  x: readonly bigint[],
  salt: bigint,
  binding: bigint,
): Promise<InferenceProof> {
  const ref = inferQuantized(model, x);
  const r = await proveGroth16(artifacts.wasm, artifacts.zkey, circuitInput(x, salt, binding, model));
  const expected = [ref.output, await modelCommitment(model), await inputCommitment(model, x, salt), binding];
  const names = Object.keys(SIGNAL);
  expected.forEach((e, i) => {
    if (r.publicSignals[i] !== e) {
      throw new Error(`circuit/reference mismatch on public signal ${i} (${names[i]}): circuit ${r.publicSignals[i]}, reference ${e}`);
    }
  });
  return { ...r, output: ref.output, logits: ref.logits };
}
