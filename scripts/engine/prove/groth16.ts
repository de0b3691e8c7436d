import * as snarkjs from "snarkjs";
import { AbiCoder } from "ethers";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PHASE_NAMES, phaseLogger } from "./phases";
import { nativeProverBinary, proveNativeFiles, proverBackend, zkeyVerificationKey } from "./native";
import { computeWitness } from "./witness-native";

/** A Groth16 proof in the shape the snarkjs-generated Solidity verifier takes. */
export interface PackedGroth16Proof {
  a: [bigint, bigint];
  b: [[bigint, bigint], [bigint, bigint]];
  c: [bigint, bigint];
  /** abi.encode(a, b, c): the `proof` bytes the contracts take (see docs/public-signals.md). */
  bytes: string;
}

export interface Groth16Result {
  proof: snarkjs.Groth16Proof;
  publicSignals: bigint[];
  packed: PackedGroth16Proof;
  witnessAndProveSeconds: number;
}

/**
 * Computes the witness (circom's C++ witness generator when one was built for this WASM, scripts/engine/prove/
 * witness-native.ts, else the WASM) and a Groth16 proof for `input`: by the native prover when
 * it is available (scripts/engine/prove/native.ts; `ZKML_PROVER=snarkjs` forces snarkjs), else by snarkjs. Every
 * proof is verified with the key's verification key before it is returned: a native proof that does not verify is
 * logged and proved again by snarkjs; a snarkjs proof that does not verify throws (never submit it). `onPhase` hears
 * "witness", then the proving phases (scripts/engine/prove/phases.ts) as they start (snarkjs) or as a whole
 * ("native proof"). `opts.threads`: the native prover's threads (default `ZKML_PROVER_THREADS` or every core).
 * @throws when the input does not satisfy the circuit (the witness generator's message names the failing template
 * and line).
 */
export async function proveGroth16(
  wasm: string,
  zkey: string,
  input: Record<string, unknown>,
  onPhase?: (phase: string) => void,
  opts: { threads?: number } = {},
): Promise<Groth16Result> {
  const t0 = Date.now();
  onPhase?.("witness");
  const binary = proverBackend() === "native" ? await nativeProverBinary() : undefined;
  let proof: snarkjs.Groth16Proof | undefined;
  let publicSignals: snarkjs.NumericString[] | undefined;
  if (binary) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zkml-wtns-"));
    try {
      const wtns = path.join(dir, "witness.wtns");
      await computeWitness(input, wasm, wtns);
      onPhase?.("native proof");
      const r = await proveNativeFiles(binary, zkey, wtns, opts.threads);
      if (await snarkjs.groth16.verify(await zkeyVerificationKey(zkey), r.publicSignals, r.proof)) ({ proof, publicSignals } = r);
      else console.error(`native prover: a proof for ${zkey} did not verify with its key; proving it again with snarkjs`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  if (!proof || !publicSignals) {
    const logger = onPhase ? phaseLogger((p) => onPhase(PHASE_NAMES[p])) : undefined;
    ({ proof, publicSignals } = await snarkjs.groth16.fullProve(input, wasm, zkey, logger));
    if (!(await snarkjs.groth16.verify(await zkeyVerificationKey(zkey), publicSignals, proof)))
      throw new Error(`snarkjs produced a proof for ${zkey} that does not verify with its key: not submitting it`);
  }
  const packed = await packGroth16Proof(proof, publicSignals);
  return { proof, publicSignals: publicSignals.map((s) => BigInt(s)), packed, witnessAndProveSeconds: (Date.now() - t0) / 1000 };
}

/**
 * The one place a proof is turned into verifier calldata: snarkjs' own `exportSolidityCallData` (which swaps the
 * G2 coordinates the way the EVM pairing precompile expects), parsed and ABI-encoded.
 */
export async function packGroth16Proof(proof: snarkjs.Groth16Proof, publicSignals: snarkjs.NumericString[]): Promise<PackedGroth16Proof> {
  const calldata = await snarkjs.groth16.exportSolidityCallData(proof, publicSignals);
  const [a, b, c] = JSON.parse(`[${calldata}]`) as [string[], string[][], string[]];
  const packed = {
    a: [BigInt(a[0]), BigInt(a[1])] as [bigint, bigint],
    b: [
      [BigInt(b[0][0]), BigInt(b[0][1])],
      [BigInt(b[1][0]), BigInt(b[1][1])],
    ] as [[bigint, bigint], [bigint, bigint]],
    c: [BigInt(c[0]), BigInt(c[1])] as [bigint, bigint],
  };
  const bytes = AbiCoder.defaultAbiCoder().encode(["uint256[2]", "uint256[2][2]", "uint256[2]"], [packed.a, packed.b, packed.c]);
  return { ...packed, bytes };
}

/** Off-chain verification with the verification key. */
export async function verifyGroth16(vkey: snarkjs.VerificationKey, publicSignals: bigint[], proof: snarkjs.Groth16Proof): Promise<boolean> {
  return snarkjs.groth16.verify(
    vkey,
    publicSignals.map((s) => s.toString()),
    proof,
  );
}
