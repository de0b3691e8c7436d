/**
 * Hardhat Ignition module factory: one model's snarkjs-generated Groth16 verifier and its Groth16VerifierAdapter
 * (4 public signals, docs/public-signals.md), created by the core module's VerifierAdapterFactory: the registry
 * accepts only the factory's (immutable) adapters.
 * The module id carries the verifying-key hash, so a rebuilt model (new keys) is a new deployment, never a clash
 * with the journal of the old one.
 */
import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

/** Number of public signals of every model circuit (docs/public-signals.md). */
const NUM_PUBLIC_SIGNALS = 4;
/** `bytes4(keccak256("groth16-bn254-v1"))` (scripts/formats/public-signals.ts GROTH16_BN254_V1). */
const GROTH16_BN254_V1 = "0x0550d137";

/**
 * @param verifierContract The verifier's contract name, e.g. `IrisMlpGroth16Verifier` (modelPaths().verifierContract).
 * @param vkHash The hex SHA-256 of the verification key (the registered vkHash).
 * @param factory The core deployment's VerifierAdapterFactory (the registry accepts only its adapters).
 */
export function modelVerifierModule(verifierContract: string, vkHash: string, factory: string) {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(verifierContract)) throw new Error(`not a contract name: ${verifierContract}`);
  return buildModule(`ZkmlVerifier_${verifierContract}_${vkHash.slice(0, 12)}`, (m) => {
    const adapterFactory = m.contractAt("VerifierAdapterFactory", factory);
    const verifier = m.contract(verifierContract);
    const create = m.call(adapterFactory, "createAdapter", [GROTH16_BN254_V1, verifier, NUM_PUBLIC_SIGNALS]);
    const adapterAddress = m.readEventArgument(create, "AdapterCreated", "adapter");
    const adapter = m.contractAt("Groth16VerifierAdapter", adapterAddress);
    return { verifier, adapter };
  });
}

/**
 * `npx hardhat ignition deploy ignition/modules/ModelVerifier.ts --parameters '{"factory": "0x..."}'` is not how this
 * module is used: `npx hardhat deploy` calls `modelVerifierModule` with the core deployment's factory address.
 */
