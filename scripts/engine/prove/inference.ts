import { circuitWeightInputs } from "../circuit/generate";
import { toField } from "../../util/field";
import { packSigned } from "../../formats/commitments";
import { type QuantizedModel, inferQuantized, inputModeOf } from "../../formats/quantized-model";
import { circuitModelCommitment, inputSignals, publicSignalNames } from "../../formats/model-layout";
import { type Groth16Result, proveGroth16 } from "./groth16";

/**
 * Public signal positions of a committed-mode model (docs/public-signals.md). A public-mode model has m input
 * signals at 2 .. 1+m and jobBinding at 2+m: see `numPublicSignals` / `publicSignalNames` in scripts/formats/model-layout.ts.
 */
export const SIGNAL = { output: 0, modelCommitment: 1, inputCommitment: 2, jobBinding: 3 } as const;

export interface InferenceProof extends Groth16Result {
  /** The model's answer (public signal 0), from the TS reference: the class, or the packed values. */
  output: bigint;
  logits: bigint[];
  /** Values head only: the decoded outputs packed in `output` (signed, `outFrac` fractional bits). */
  values?: bigint[];
}

/**
 * The witness input of a generated model circuit: the input, its salt (committed mode) or its packed words (public
 * mode), the job binding and, for private-weights models, the weights. `model` omitted = a committed-mode,
 * open-weights model; a public-mode model must be passed (its circuit takes `inputPacked`, not `salt`).
 * @throws Error when a committed-mode circuit gets no salt; RangeError naming the index for an out-of-range input of a
 * public-mode model.
 */
export function circuitInput(
  x: readonly bigint[],
  salt: bigint | undefined,
  binding: bigint,
  model?: QuantizedModel,
): Record<string, unknown> {
  const fieldX = x.map((v) => toField(v).toString());
  const weights = model ? circuitWeightInputs(model) : {};
  if (model && inputModeOf(model) === "public") {
    const inputPacked = packSigned(x, model.input.bits, "input").map((w) => w.toString());
    return { x: fieldX, inputPacked, jobBinding: binding.toString(), ...weights };
  }
  if (salt === undefined) throw new Error("a committed-mode model circuit needs the salt of the input commitment");
  return { x: fieldX, salt: salt.toString(), jobBinding: binding.toString(), ...weights };
}

/**
 * Runs the TS reference inference, then proves the same inference with Groth16, and checks that every public signal
 * of the proof is exactly what the reference and the commitments say ([result, modelCommitment, input signals...,
 * jobBinding]). `salt` is the input commitment's salt for committed-mode models and unused (pass `undefined`) for
 * public-mode models.
 * @throws if the input is outside the model's range (RangeError naming the index), if a committed-mode model gets no
 * salt, or if the circuit disagrees with the reference (a bug: never submit such a proof). `onPhase` hears the
 * proof's phases as they start, `opts.threads` the native prover's threads (proveGroth16).
 */
export async function proveInference(
  model: QuantizedModel,
  artifacts: { wasm: string; zkey: string },
  x: readonly bigint[],
  salt: bigint | undefined,
  binding: bigint,
  onPhase?: (phase: string) => void,
  opts: { threads?: number } = {},
): Promise<InferenceProof> {
  const ref = inferQuantized(model, x);
  const expected = [ref.output, await circuitModelCommitment(model), ...(await inputSignals(model, x, salt)), binding];
  const r = await proveGroth16(artifacts.wasm, artifacts.zkey, circuitInput(x, salt, binding, model), onPhase, opts);
  const names = publicSignalNames(model);
  if (r.publicSignals.length !== expected.length)
    throw new Error(
      `circuit has ${r.publicSignals.length} public signals; model ${model.name} has ${expected.length} (${names.join(", ")})`,
    );
  expected.forEach((e, i) => {
    if (r.publicSignals[i] !== e) {
      throw new Error(`circuit/reference mismatch on public signal ${i} (${names[i]}): circuit ${r.publicSignals[i]}, reference ${e}`);
    }
  });
  const out: InferenceProof = { ...r, output: ref.output, logits: ref.logits };
  if (ref.values) out.values = ref.values;
  return out;
}
