/**
 * Hardhat Ignition module factory: one model's snarkjs-generated Groth16 verifier and the Groth16VerifierAdapter
 * that puts it behind IProofVerifier (4 public signals, docs/public-signals.md).
 * The module id carries the verifying-key hash, so a rebuilt model (new keys) is a new deployment, never a clash
 * with the journal of the old one.
 */
import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

/** Number of public signals of every model circuit (docs/public-signals.md). */
const NUM_PUBLIC_SIGNALS = 4;

/**
 * @param verifierContract The verifier's contract name, e.g. `IrisMlpGroth16Verifier` (modelPaths().verifierContract).
 * @param vkHash The hex SHA-256 of the verification key (the registered vkHash).
 */
export function modelVerifierModule(verifierContract: string, vkHash: string) {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(verifierContract)) throw new Error(`not a contract name: ${verifierContract}`);
  return buildModule(`ZkmlVerifier_${verifierContract}_${vkHash.slice(0, 12)}`, (m) => {
    const verifier = m.contract(verifierContract);
    const adapter = m.contract("Groth16VerifierAdapter", [verifier, NUM_PUBLIC_SIGNALS]);
    return { verifier, adapter };
  });
}

/** `npx hardhat ignition deploy ignition/modules/ModelVerifier.ts` deploys the bundled iris model's verifier. */
export default modelVerifierModule("IrisMlpGroth16Verifier", "iris");
