/**
 * Checking a fetched bundle against the chain before anything is claimed (docs/prover.md, "Open network": the phases
 * files, registry, weights, keys, circuit, verifier), and the machine-wide cache of the circuit checks' verdicts.
 */
import * as fs from "fs";
import * as path from "path";
import * as snarkjs from "snarkjs";
import { type Provider, toBeHex, zeroPadValue } from "ethers";
import type { ModelRegistry } from "../../../typechain-types";
import { GROTH16_BN254_V1 } from "../../formats/public-signals";
import { auditVersion, expectedGroth16Runtimes, layoutDiffField, layoutFromChain, layoutMismatch } from "../../chain/audit-verifier";
import { sha256File } from "../../util/hash";
import { ensureDir, writeFileAtomic } from "../../util/paths";
import { BUNDLE_FILES, BUNDLE_MANIFEST, BundleError, type BundleManifest } from "../../formats/bundle";
import { readBundle } from "../../formats/bundle-files";
import { type QuantizedModel, modelCommitment, validateModel } from "../../formats/quantized-model";
import { layoutOf, publicModelCommitment } from "../../formats/model-layout";
import { circuitInput, proveInference } from "../../engine/prove/inference";
import { verifyGroth16 } from "../../engine/prove/groth16";
import { verificationKeyHash } from "../../engine/setup/groth16";
import { BundleRefused, type ServePolicy, readBundleJson } from "./bundles";

/**
 * Verdicts of the circuit checks (the zkey's vk is the bundle's, the wasm's witness satisfies the R1CS, a sample proof
 * is the reference's and verifies) by the sha256 of `bundle.json`, shared by every node of a machine
 * (`~/.cache/zkml-evm/bundle-verdicts`). Those checks depend on the files alone, and `bundle.json` pins every file's
 * sha256 (checked by readBundle on every verification), so a bundle checked once is not checked again, by this node
 * after a restart or by a second node (issue 28 point 3). Only passes are recorded. The registry, weights and
 * verifier checks, which depend on the chain, run every time.
 */
export class CircuitVerdicts {
  constructor(readonly dir: string) {}
  private file(key: string): string {
    return path.join(this.dir, `${key}.json`);
  }
  has(key: string): boolean {
    return fs.existsSync(this.file(key));
  }
  put(key: string, what: { model: string; constraints: number }): void {
    ensureDir(this.dir);
    writeFileAtomic(this.file(key), JSON.stringify({ ...what, at: new Date().toISOString() }) + "\n");
  }
}

/** What `verifyBundle` may use and report. */
export interface CheckOptions {
  verdicts?: CircuitVerdicts;
  /** Called as each phase of the check ends (files, registry, weights, keys, circuit, verifier), with its time. */
  onPhase?: (phase: string, ms: number, detail?: string) => void;
}

/** A model version a node serves: its fetched, verified bundle (`verifyBundle`). */
export interface ServedModel {
  /** `<card name>#<model id>.<version>`, as log lines and the store show it. */
  name: string;
  model: QuantizedModel;
  wasm: string;
  zkey: string;
  /** bytes32 hex, lower case, as the registry stores them. */
  modelHash: string;
  circuitHash: string;
  vkHash: string;
}

const b32 = (v: bigint): string => zeroPadValue(toBeHex(v), 32).toLowerCase();

/**
 * Checks a fetched bundle against the registry version and returns it as a served model.
 * @throws BundleRefused naming the first check that fails.
 */
export async function verifyBundle(
  dir: string,
  registry: ModelRegistry,
  provider: Provider,
  modelId: bigint,
  version: number,
  policy: ServePolicy,
  opts: CheckOptions = {},
): Promise<ServedModel> {
  let t = Date.now();
  const phase = (name: string, detail?: string): void => {
    opts.onPhase?.(name, Date.now() - t, detail);
    t = Date.now();
  };
  let manifest: BundleManifest;
  try {
    manifest = readBundle(dir);
  } catch (e) {
    if (e instanceof BundleError) throw new BundleRefused(e.message);
    throw e;
  }
  phase("files", "sizes and sha256 as bundle.json says");
  const file = (role: keyof typeof BUNDLE_FILES): string => path.join(dir, BUNDLE_FILES[role]);
  if (manifest.constraints > policy.maxConstraints)
    throw new BundleRefused(`${manifest.constraints} constraints, more than PROVER_MAX_CONSTRAINTS ${policy.maxConstraints}`, "policy");
  if (manifest.files.zkey.bytes > policy.maxZkeyBytes)
    throw new BundleRefused(
      `proving key of ${manifest.files.zkey.bytes} bytes, more than PROVER_MAX_ZKEY_BYTES ${policy.maxZkeyBytes}`,
      "policy",
    );
  // ---- the registry version against the bundle
  const [c, , numSignals] = await registry.getModelVersion(modelId, version);
  const chain = {
    modelHash: c.modelHash.toLowerCase(),
    circuitHash: c.circuitHash.toLowerCase(),
    vkHash: c.vkHash.toLowerCase(),
    proofSystemId: c.proofSystemId.toLowerCase(),
  };
  for (const k of ["modelHash", "circuitHash", "vkHash", "proofSystemId"] as const)
    if (chain[k] !== manifest.registry[k]) throw new BundleRefused(`registry ${k} ${chain[k]} is not the bundle's ${manifest.registry[k]}`);
  if (chain.proofSystemId !== GROTH16_BN254_V1.toLowerCase())
    throw new BundleRefused(`proof system ${chain.proofSystemId} is not served (Groth16 only)`);
  if (Number(numSignals) !== manifest.registry.numPublicSignals)
    throw new BundleRefused(`registry has ${numSignals} public signals, the bundle ${manifest.registry.numPublicSignals}`);
  const target = await registry.verificationTarget(modelId, version);
  const onChainLayout = layoutFromChain(target.layout);
  phase("registry");
  // ---- the files against the hashes
  const model = readBundleJson<QuantizedModel>(dir, BUNDLE_FILES.model);
  try {
    validateModel(model);
  } catch (e) {
    throw new BundleRefused(`${BUNDLE_FILES.model}: ${(e as Error).message}`);
  }
  const layout = layoutOf(model);
  const manifestDiff = layoutDiffField(manifest.registry.layout, layout);
  if (manifestDiff)
    throw new BundleRefused(
      `${BUNDLE_MANIFEST} says layout.${manifestDiff} is ${manifest.registry.layout[manifestDiff]}, the model's is ${layout[manifestDiff]}`,
    );
  // docs/public-signals.md, "Layout binding": a version registered with another layout than the circuit's verifies
  // no proof of it (the registry's public commitment is then not the circuit's), so never claim its jobs.
  const layoutDiff = layoutMismatch(onChainLayout, layout);
  if (layoutDiff) throw new BundleRefused(layoutDiff);
  const weights = await modelCommitment(model);
  const commitment = b32(weights);
  if (commitment !== chain.modelHash)
    throw new BundleRefused(`the weights commit to ${commitment}, the registry's modelHash is ${chain.modelHash}`);
  const publicCommitment = await publicModelCommitment(weights, layout);
  if (target.modelCommitment !== publicCommitment)
    throw new BundleRefused(`the registry's public model commitment ${target.modelCommitment} is not the circuit's ${publicCommitment}`);
  // readBundle checked the file against this sha256 a moment ago: no second pass over a large R1CS
  const r1csHash = `0x${manifest.files.r1cs.sha256}`;
  if (r1csHash !== chain.circuitHash)
    throw new BundleRefused(`sha256(${BUNDLE_FILES.r1cs}) is ${r1csHash}, the registry's circuitHash is ${chain.circuitHash}`);
  const vkey = readBundleJson<snarkjs.VerificationKey>(dir, BUNDLE_FILES.vkey);
  const vkHash = `0x${verificationKeyHash(vkey)}`;
  if (vkHash !== chain.vkHash)
    throw new BundleRefused(`the verification key hashes to ${vkHash}, the registry's vkHash is ${chain.vkHash}`);
  phase("weights", "commitments and hashes against the registry");
  const verdictKey = await sha256File(path.join(dir, BUNDLE_MANIFEST));
  if (opts.verdicts?.has(verdictKey)) phase("circuit", "passed before (cached verdict)");
  else {
    await checkCircuit(dir, manifest, model, vkey, layout.inputMode === 1, (p) => phase(p));
    opts.verdicts?.put(verdictKey, { model: model.name, constraints: manifest.constraints });
  }
  // ---- the on-chain verifier is the snarkjs verifier of this zkey
  const audit = await auditVersion(registry, provider, modelId, BigInt(version), await expectedGroth16Runtimes(file("zkey")));
  if (!audit.ok) throw new BundleRefused(audit.reason ?? "the version's verifier failed the audit");
  phase("verifier");
  return {
    name: `${model.name}#${modelId}.${version}`,
    model,
    wasm: file("wasm"),
    zkey: file("zkey"),
    modelHash: chain.modelHash,
    circuitHash: chain.circuitHash,
    vkHash: chain.vkHash,
  };
}

/**
 * The checks that depend on the bundle's files alone: the zkey's vk is the bundle's, the R1CS has the constraints
 * bundle.json says, the wasm's witness for a sample input satisfies the R1CS, and a proof of it is the TS reference's
 * and verifies. Reports "keys" and "circuit".
 */
async function checkCircuit(
  dir: string,
  manifest: BundleManifest,
  model: QuantizedModel,
  vkey: snarkjs.VerificationKey,
  publicInput: boolean,
  phase: (name: string) => void,
): Promise<void> {
  const file = (role: keyof typeof BUNDLE_FILES): string => path.join(dir, BUNDLE_FILES[role]);
  let zkeyVk: snarkjs.VerificationKey;
  try {
    zkeyVk = await snarkjs.zKey.exportVerificationKey(file("zkey"));
  } catch (e) {
    throw new BundleRefused(`${BUNDLE_FILES.zkey} is not a snarkjs zkey: ${(e as Error).message}`);
  }
  if (verificationKeyHash(zkeyVk) !== verificationKeyHash(vkey))
    throw new BundleRefused(`${BUNDLE_FILES.zkey} is not the proving key of ${BUNDLE_FILES.vkey}`);
  const info = await snarkjs.r1cs.info(file("r1cs"));
  if (Number(info.nConstraints) !== manifest.constraints)
    throw new BundleRefused(`${BUNDLE_FILES.r1cs} has ${info.nConstraints} constraints, ${BUNDLE_MANIFEST} says ${manifest.constraints}`);
  phase("keys");
  // ---- the circuit: a sample witness satisfies the R1CS, and its proof is the reference's and verifies
  const x = Array.from({ length: model.input.size }, () => 0n);
  const salt = publicInput ? undefined : 1n;
  const wtns = path.join(dir, ".sample.wtns");
  try {
    await snarkjs.wtns.calculate(circuitInput(x, salt, 1n, model), file("wasm"), wtns);
    if (!(await snarkjs.wtns.check(file("r1cs"), wtns)))
      throw new BundleRefused(`the witness of ${BUNDLE_FILES.wasm} does not satisfy ${BUNDLE_FILES.r1cs}`);
  } catch (e) {
    if (e instanceof BundleRefused) throw e;
    throw new BundleRefused(`${BUNDLE_FILES.wasm} failed on a sample input: ${(e as Error).message.split("\n")[0]}`);
  } finally {
    fs.rmSync(wtns, { force: true });
  }
  let proof;
  try {
    proof = await proveInference(model, { wasm: file("wasm"), zkey: file("zkey") }, x, salt, 1n);
  } catch (e) {
    throw new BundleRefused(`a sample proof failed: ${(e as Error).message.split("\n")[0]}`);
  }
  if (!(await verifyGroth16(vkey, proof.publicSignals, proof.proof)))
    throw new BundleRefused("a sample proof does not verify with the bundle's verification key");
  phase("circuit");
}
