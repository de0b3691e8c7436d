/**
 * The models a node serves: local artifacts (for now the bundled models built by `buildModel`, cached) and the check
 * that a registry version is exactly these artifacts (modelHash, circuitHash, vkHash, proofSystemId) before a job on
 * it is touched.
 */
import { toBeHex, zeroPadValue } from "ethers";
import type { ModelRegistry } from "../../typechain-types";
import { GROTH16_BN254_V1 } from "../chain/binding";
import { auditVersion, expectedGroth16Runtimes } from "../chain/audit-verifier";
import { buildModel } from "../model/build";
import type { QuantizedModel } from "../model/quantized";

export interface ServedModel {
  name: string;
  model: QuantizedModel;
  wasm: string;
  zkey: string;
  /** bytes32 hex, lower case, as the registry stores them. */
  modelHash: string;
  circuitHash: string;
  vkHash: string;
}

const b32 = (v: string | bigint): string =>
  (typeof v === "bigint" ? zeroPadValue(toBeHex(v), 32) : zeroPadValue(v.startsWith("0x") ? v : `0x${v}`, 32)).toLowerCase();

const cache = new Map<string, Promise<ServedModel>>();

/** Loads (building if needed, cached per process) the artifacts of a bundled model. */
export function loadServedModel(name: string): Promise<ServedModel> {
  let p = cache.get(name);
  if (!p) {
    p = buildModel(name, { quantize: false }).then((b) => ({
      name,
      model: b.model,
      wasm: b.circuit.wasm,
      zkey: b.keys.zkey,
      modelHash: b32(b.modelCommitment),
      circuitHash: b32(b.circuit.r1csHash),
      vkHash: b32(b.keys.vkHash),
    }));
    cache.set(name, p);
  }
  return p;
}

/**
 * Finds which served model (if any) a registry version is, by comparing all four commitment fields, and audits the
 * version's verifier: its code must be the snarkjs verifier of the served model's keys and the code the registry
 * recorded (`scripts/chain/audit-verifier.ts`), or the node would prove (and bond) for a verifier that may reject.
 * @returns The model, or a reason why none matches.
 */
export async function matchRegistryVersion(
  registry: ModelRegistry,
  served: readonly ServedModel[],
  modelId: bigint,
  version: number,
): Promise<{ model?: ServedModel; reason?: string }> {
  let c: { modelHash: string; circuitHash: string; vkHash: string; proofSystemId: string };
  try {
    [c] = await registry.getModelVersion(modelId, version);
  } catch (e) {
    return { reason: `registry has no model ${modelId} version ${version} (${(e as Error).message.slice(0, 80)})` };
  }
  if (c.proofSystemId.toLowerCase() !== GROTH16_BN254_V1.toLowerCase())
    return { reason: `model ${modelId} v${version} uses proof system ${c.proofSystemId}` };
  const m = served.find(
    (s) =>
      s.modelHash === c.modelHash.toLowerCase() && s.circuitHash === c.circuitHash.toLowerCase() && s.vkHash === c.vkHash.toLowerCase(),
  );
  if (m) {
    const provider = registry.runner?.provider;
    if (!provider) throw new Error("matchRegistryVersion: the registry binding has no provider");
    const audit = await auditVersion(registry, provider, modelId, BigInt(version), await expectedGroth16Runtimes(m.zkey));
    return audit.ok ? { model: m } : { reason: audit.reason };
  }
  return {
    reason: `unknown model: model ${modelId} v${version} (modelHash ${c.modelHash.slice(0, 18)}...) matches none of the served models' commitments`,
  };
}
