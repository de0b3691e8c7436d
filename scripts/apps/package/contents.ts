/**
 * What the npm package ships besides its compiled TypeScript (docs/consumers.md, "What the package holds"): the
 * Solidity a consumer compiles, the ABIs of the deployable contracts and the bundled models of the test kit. Read by
 * the package build (./build.ts), the pragma test (test/package/pragmas.test.ts) and the tarball check.
 */

/** Solidity sources consumers import: every file here has `pragma solidity ^0.8.24` (tested on 0.8.24 .. 0.8.37). */
export const CONSUMER_SOLIDITY_DIRS = ["contracts/interfaces", "contracts/libraries", "contracts/consumer"] as const;

/** Contracts whose ABI the package ships as `zkml-evm/abi/<Name>.json` (the deployable ones and their interfaces). */
export const ABI_CONTRACTS = [
  "ModelRegistry",
  "InferenceJobs",
  "OptimisticResults",
  "VerifierAdapterFactory",
  "Groth16VerifierAdapter",
  "ZKMLVerifier",
  "InferenceConsumer",
  "InferenceSubscriptions",
  "SubscriptionConsumer",
  "IModelRegistry",
  "IInferenceJobs",
  "IInferenceCallback",
  "IZKMLVerifier",
  "IGroth16BatchVerifier",
  "IInferenceSubscriptions",
  "ISubscriptionConsumer",
] as const;

/** The bundled models the test kit registers (scripts/apps/testkit). */
export { BUNDLED_MODELS } from "../testkit/index";

/** Largest tarball (`npm pack`, compressed) the package may be. */
export const TARBALL_BUDGET_BYTES = 3 * 2 ** 20;
