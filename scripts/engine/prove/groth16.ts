import * as snarkjs from "snarkjs";
import { AbiCoder } from "ethers";
import { PHASE_NAMES, phaseLogger } from "./phases";

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
 * Computes the witness and a Groth16 proof for `input`. snarkjs reads the proving key from the file section by
 * section as the proof needs it (no copy is made here). `onPhase` hears "witness", then each proving phase
 * (scripts/engine/prove/phases.ts: reading the key, QAP evaluation, FFTs, multi-scalar multiplications) as it starts.
 * @throws when the input does not satisfy the circuit (snarkjs' message names the failing template and line).
 */
export async function proveGroth16(
  wasm: string,
  zkey: string,
  input: Record<string, unknown>,
  onPhase?: (phase: string) => void,
): Promise<Groth16Result> {
  const t0 = Date.now();
  onPhase?.("witness");
  const logger = onPhase ? phaseLogger((p) => onPhase(PHASE_NAMES[p])) : undefined;
  const { proof, publicSignals } = await snarkjs.groth16.fullProve(input, wasm, zkey, logger);
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
