import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { circuitWeightInputs } from "../circuit/generate";
import { readSections } from "../setup/binfile";
import { readU256LE, toField } from "../../util/field";
import { packSigned } from "../../formats/commitments";
import { type QuantizedModel, inferQuantized, inputModeOf } from "../../formats/quantized-model";
import { circuitModelCommitment, inputSignals, numPublicSignals, publicSignalNames } from "../../formats/model-layout";
import { type Groth16Result, proveGroth16 } from "./groth16";
import { computeWitness } from "./witness-native";

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

/** The inference of an input as the circuit computes it, from its witness alone (`witnessSignals`). */
export interface WitnessSignals {
  /** The model's answer: public signal 0. */
  output: bigint;
  /** Every public signal, in order ([result, modelCommitment, input signals..., jobBinding]). */
  publicSignals: bigint[];
  /** Which generator computed the witness: circom's C++ one built for this circuit, or its WASM. */
  generator: "native" | "wasm";
}

/**
 * The public signals of the inference of `x`, from the circuit's witness alone, without a proof: what an optimistic
 * poster posts and what a watcher checks a posted result against (docs/market-rules.md, "Optimistic results"). The
 * witness is computed by the generator a proof would use (`computeWitness`: circom's C++ generator when one was built
 * for this WASM, else the WASM), and only its public signals (witness 1..n, circom's outputs then public inputs) are
 * read back from the .wtns. No check against the TS reference (`proveInference` does one): the circuit's output is
 * the one a proof would carry, and so the one a challenge would be settled by.
 * @throws when the input does not satisfy the circuit (as `proveGroth16`), or the witness file is malformed.
 */
export async function witnessSignals(
  model: QuantizedModel,
  wasm: string,
  x: readonly bigint[],
  salt: bigint | undefined,
  binding: bigint,
): Promise<WitnessSignals> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zkml-wtns-"));
  try {
    const wtns = path.join(dir, "witness.wtns");
    const generator = await computeWitness(circuitInput(x, salt, binding, model), wasm, wtns);
    const sections = readSections(wtns, "wtns");
    const header = sections.get(1)?.[0];
    const values = sections.get(2)?.[0];
    if (!header || !values) throw new Error(`${wtns}: no header or witness section`);
    const n = numPublicSignals(model);
    const fd = fs.openSync(wtns, "r");
    try {
      const n8buf = Buffer.alloc(4);
      fs.readSync(fd, n8buf, 0, 4, header.offset);
      const n8 = n8buf.readUInt32LE(0);
      if (n8 !== 32 || values.size < (n + 1) * n8) throw new Error(`${wtns}: ${n8}-byte field elements, ${values.size} bytes of witness`);
      const buf = Buffer.alloc((n + 1) * n8);
      fs.readSync(fd, buf, 0, buf.length, values.offset);
      const publicSignals = Array.from({ length: n }, (_, i) => readU256LE(buf, (i + 1) * n8));
      return { output: publicSignals[0], publicSignals, generator };
    } finally {
      fs.closeSync(fd);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
