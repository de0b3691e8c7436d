/**
 * On-chain binding helpers: the TypeScript twin of `contracts/libraries/PublicSignals.sol`.
 * See docs/public-signals.md (signal 3) and docs/market-rules.md (replay protection).
 */
import { AbiCoder, getAddress, id, keccak256 } from "ethers";
import { SNARK_FIELD } from "../util/field";

/**
 * The job-binding public signal: `uint256(keccak256(abi.encode(chainId, context, jobId, prover))) % r`.
 * @param chainId The chain id (`(await provider.getNetwork()).chainId`; Hardhat: 31337).
 * @param context The `InferenceJobs` address.
 * @param jobId The job id (>= 1 in the market).
 * @param prover The address that will send the proof (`msg.sender` of `submitResult` / `verifyInference`).
 * @returns The binding, below r.
 * @throws When an address is malformed, or chainId / jobId is negative.
 */
export function jobBinding(chainId: bigint | number, context: string, jobId: bigint | number, prover: string): bigint {
  const c = BigInt(chainId);
  const j = BigInt(jobId);
  if (c < 0n) throw new Error(`jobBinding: chainId must be >= 0, got ${c}`);
  if (j < 0n) throw new Error(`jobBinding: jobId must be >= 0, got ${j}`);
  const encoded = AbiCoder.defaultAbiCoder().encode(
    ["uint256", "address", "uint256", "address"],
    [c, getAddress(context), j, getAddress(prover)],
  );
  return BigInt(keccak256(encoded)) % SNARK_FIELD;
}

/**
 * The binding a proof for standalone `ZKMLVerifier` verification must carry:
 * `uint256(keccak256(abi.encode(chainId, verifier, caller, beneficiary, nonce))) % r` (docs/market-rules.md).
 * @param caller `msg.sender` of the verification call.
 * @param beneficiary The beneficiary (the caller itself for the ERC-7992 entry points).
 * @param nonce `ZKMLVerifier.nonceOf(caller, beneficiary)` at the time of the call.
 * @throws When an address is malformed or the nonce is negative.
 */
export function standaloneBinding(
  chainId: bigint | number,
  verifierContract: string,
  caller: string,
  beneficiary: string = caller,
  nonce: bigint | number = 0n,
): bigint {
  const n = BigInt(nonce);
  if (n < 0n) throw new Error(`standaloneBinding: nonce must be >= 0, got ${n}`);
  const encoded = AbiCoder.defaultAbiCoder().encode(
    ["uint256", "address", "address", "address", "uint256"],
    [BigInt(chainId), getAddress(verifierContract), getAddress(caller), getAddress(beneficiary), n],
  );
  return BigInt(keccak256(encoded)) % SNARK_FIELD;
}

/** ERC-7992 proof system id: `bytes4(keccak256(name))`, e.g. `proofSystemId("groth16-bn254-v1")`. */
export function proofSystemId(name: string): string {
  if (name !== name.toLowerCase()) throw new Error(`proofSystemId: name must be lowercase, got "${name}"`);
  return id(name).slice(0, 10);
}

/** `proofSystemId("groth16-bn254-v1")`. */
export const GROTH16_BN254_V1 = proofSystemId("groth16-bn254-v1");
