/**
 * The bundle sources of a built model (scripts/model/bundle.ts): its artifact paths and the values its registry
 * version records. Shared by `model:publish` and the tests that publish by hand.
 */
import { GROTH16_BN254_V1 } from "../chain/binding";
import type { BuiltModel } from "../model/build";
import type { BundleSources, ModelCard } from "../model/bundle";
import { numPublicSignals } from "../model/quantized";

export function bundleSources(b: BuiltModel, card: ModelCard, over: Partial<BundleSources> = {}): BundleSources {
  return {
    model: b.model,
    modelFile: b.paths.qmodelFile,
    r1cs: b.circuit.r1cs,
    wasm: b.circuit.wasm,
    zkey: b.keys.zkey,
    vkeyFile: b.keys.vkeyFile,
    modelCommitment: b.modelCommitment,
    circuitHash: b.circuit.r1csHash,
    vkHash: b.keys.vkHash,
    proofSystemId: GROTH16_BN254_V1,
    numPublicSignals: numPublicSignals(b.model),
    constraints: b.circuit.constraints,
    card,
    ...over,
  };
}
