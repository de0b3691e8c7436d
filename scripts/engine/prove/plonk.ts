/**
 * PLONK and FFLONK proofs (snarkjs 0.7) and their calldata for `PlonkVerifierAdapter` / `FflonkVerifierAdapter`.
 * The twin of `scripts/engine/prove/groth16.ts`: the one place these proofs are turned into the adapters' `proof` bytes.
 */
import * as snarkjs from "snarkjs";
import { AbiCoder } from "ethers";
import { proofSystemId } from "../../formats/public-signals";

/** The two universal-setup proof systems snarkjs exports Solidity verifiers for, besides Groth16. */
export type PlonkSystem = "plonk" | "fflonk";

/** ERC-7992 proof system ids the adapters report: `bytes4(keccak256("plonk-bn254-v1"))` and the FFLONK one. */
export const PLONK_BN254_V1 = proofSystemId("plonk-bn254-v1");
export const FFLONK_BN254_V1 = proofSystemId("fflonk-bn254-v1");

/** `proofSystemId` of each system, as the adapters and the registry expect it. */
export const PLONK_SYSTEM_IDS: Readonly<Record<PlonkSystem, string>> = { plonk: PLONK_BN254_V1, fflonk: FFLONK_BN254_V1 };

/** Number of 32-byte words in a PLONK or FFLONK proof as the snarkjs verifiers take it. */
export const PLONK_PROOF_WORDS = 24;

/** A snarkjs PLONK / FFLONK proof object (JSON as snarkjs writes it; the fields differ between the two systems). */
export interface PlonkFamilyProof {
  protocol: string;
  curve: string;
  [key: string]: unknown;
}

/** A PLONK / FFLONK proof in the shape the snarkjs-generated Solidity verifier takes. */
export interface PackedPlonkProof {
  /** The 24 proof words, in the order snarkjs' `exportSolidityCallData` prints them. */
  words: bigint[];
  /** `abi.encode(uint256[24])` (PLONK) or `abi.encode(bytes32[24])` (FFLONK): the same 768 bytes. */
  bytes: string;
}

export interface PlonkResult {
  system: PlonkSystem;
  proof: PlonkFamilyProof;
  publicSignals: bigint[];
  packed: PackedPlonkProof;
  witnessAndProveSeconds: number;
}

/** The parts of snarkjs' `plonk` / `fflonk` namespaces used here (scripts/types/snarkjs.d.ts types Groth16 only). */
interface PlonkFamilyApi {
  fullProve(
    input: Record<string, unknown>,
    wasmFile: string,
    zkeyFile: string,
  ): Promise<{ proof: PlonkFamilyProof; publicSignals: snarkjs.NumericString[] }>;
  verify(vk: snarkjs.VerificationKey, publicSignals: snarkjs.NumericString[], proof: PlonkFamilyProof): Promise<boolean>;
}
interface SnarkjsPlonkFamily {
  plonk: PlonkFamilyApi & { exportSolidityCallData(proof: PlonkFamilyProof, pub: snarkjs.NumericString[]): Promise<string> };
  // Note the argument order: snarkjs' FFLONK export takes the public signals first.
  fflonk: PlonkFamilyApi & { exportSolidityCallData(pub: snarkjs.NumericString[], proof: PlonkFamilyProof): Promise<string> };
}
const snark = snarkjs as unknown as SnarkjsPlonkFamily;

function checkSystem(system: string): asserts system is PlonkSystem {
  if (system !== "plonk" && system !== "fflonk") throw new Error(`proof system must be "plonk" or "fflonk", got "${system}"`);
}

/**
 * Computes the witness and a PLONK or FFLONK proof for `input`.
 * @param system `"plonk"` or `"fflonk"`; `zkey` must come from the matching `snarkjs <system> setup`.
 * @throws when `system` is neither, when the input does not satisfy the circuit (snarkjs' message names the failing
 * template and line), or when the zkey is for another proof system.
 */
export async function provePlonk(system: PlonkSystem, wasm: string, zkey: string, input: Record<string, unknown>): Promise<PlonkResult> {
  checkSystem(system);
  const t0 = Date.now();
  const { proof, publicSignals } = await snark[system].fullProve(input, wasm, zkey);
  const packed = await packPlonkProof(system, proof, publicSignals);
  return {
    system,
    proof,
    publicSignals: publicSignals.map((s) => BigInt(s)),
    packed,
    witnessAndProveSeconds: (Date.now() - t0) / 1000,
  };
}

/**
 * The one place a PLONK / FFLONK proof is turned into verifier calldata: snarkjs' own `exportSolidityCallData`,
 * parsed and ABI-encoded as 24 words. (snarkjs prints PLONK as `["0x..",..][..]` with quotes and no comma between the
 * arrays, FFLONK as `[0x..,..],[..]` without quotes; both are read as bracketed lists of hex words.)
 * @throws when `system` is neither, or when snarkjs' output does not hold 24 proof words followed by exactly
 * `publicSignals` (a snarkjs upgrade changed the format: check scripts/engine/prove/plonk.ts against it).
 */
export async function packPlonkProof(
  system: PlonkSystem,
  proof: PlonkFamilyProof,
  publicSignals: snarkjs.NumericString[],
): Promise<PackedPlonkProof> {
  checkSystem(system);
  const calldata =
    system === "plonk"
      ? await snark.plonk.exportSolidityCallData(proof, publicSignals)
      : await snark.fflonk.exportSolidityCallData(publicSignals, proof);
  const groups = (calldata.match(/\[[^\]]*\]/g) ?? []).map((g) => (g.match(/0x[0-9a-fA-F]+/g) ?? []).map((w) => BigInt(w)));
  if (groups.length !== 2 || groups[0].length !== PLONK_PROOF_WORDS) {
    throw new Error(`${system} calldata: expected [${PLONK_PROOF_WORDS} proof words][signals], got ${calldata.slice(0, 120)}...`);
  }
  const [words, signals] = groups;
  if (signals.length !== publicSignals.length || signals.some((s, i) => s !== BigInt(publicSignals[i]))) {
    throw new Error(
      `${system} calldata: the exported public signals differ from the proof's (${signals.length} vs ${publicSignals.length})`,
    );
  }
  const bytes = AbiCoder.defaultAbiCoder().encode([`uint256[${PLONK_PROOF_WORDS}]`], [words]);
  return { words, bytes };
}

/**
 * Off-chain verification with the verification key (`snarkjs zkey export verificationkey` of the matching zkey).
 * @throws when `system` is neither.
 */
export async function verifyPlonk(
  system: PlonkSystem,
  vkey: snarkjs.VerificationKey,
  publicSignals: bigint[],
  proof: PlonkFamilyProof,
): Promise<boolean> {
  checkSystem(system);
  return snark[system].verify(
    vkey,
    publicSignals.map((s) => s.toString()),
    proof,
  );
}
