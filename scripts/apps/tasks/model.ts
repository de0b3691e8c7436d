/**
 * Tasks `model:build` and `model:register`. Re-running either is safe: a build reports the files it left unchanged,
 * and a model already registered with the same commitment is recognised (nothing sent); a new id or a new version
 * takes an explicit `--new` / `--update`, and the record keeps the earlier registrations.
 */
import * as fs from "fs";
import * as path from "path";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { toBeHex, zeroPadValue } from "ethers";
import { GROTH16_BN254_V1, proofSystemId } from "../../formats/public-signals";
import { ROOT, rel } from "../../util/paths";
import { type TaskResult, eventsOf, gasOf, loadSystem, requireCode, sendChecked, signerFor } from "./common";
import { UserError } from "../../chain/errors";
import { type ModelRecord, modelRecord, writeRecord } from "./records";

/** Task `model:build`: every stage of a bundled model; lists the files it changed and the ones it left as they were. */
export async function buildModelOp(name: string, opts: { quantize: boolean; ptau?: string }): Promise<TaskResult> {
  if (!fs.existsSync(path.join(ROOT, "models", name)))
    throw new UserError(
      `--model ${name}: no such model (models/${name}/ not found); bundled: ${fs.readdirSync(path.join(ROOT, "models")).join(", ")}`,
    );
  if (opts.ptau !== undefined && !fs.existsSync(opts.ptau))
    throw new UserError(`--ptau ${opts.ptau}: file not found; give a downloaded ceremony .ptau file (docs/trusted-setup.md)`);
  const { buildModel, modelPaths } = await import("../../pipelines/build");
  const p = modelPaths(name);
  const tracked = [p.qmodelFile, p.circuitFile, p.verifierFile, p.manifestFile];
  const before = tracked.map((f) => (fs.existsSync(f) ? fs.readFileSync(f, "utf8") : undefined));
  const b = await buildModel(name, { quantize: opts.quantize, ptauFile: opts.ptau });
  const changed = tracked.filter((f, i) => !fs.existsSync(f) || fs.readFileSync(f, "utf8") !== before[i]);
  return {
    title: `model:build ${name}`,
    lines: [
      ["constraints", String(b.circuit.constraints)],
      ["r1cs sha256", b.circuit.r1csHash],
      ["vk hash", b.keys.vkHash],
      ["model commitment", b.modelCommitment.toString()],
      ["ptau", b.ptau ? b.ptau.file : "none (dev keys computed directly)"],
      ["keys", `${b.keys.insecure ? "dev-INSECURE" : "ceremony"} ${rel(b.keys.zkey)}`],
    ],
    written: changed,
    unchanged: tracked.filter((f) => !changed.includes(f)),
    gasUsed: 0n,
    gasCost: 0n,
    data: { built: b },
  };
}

export function bytes32(h: string | bigint): string {
  return typeof h === "bigint" ? zeroPadValue(toBeHex(h), 32) : zeroPadValue(`0x${h.replace(/^0x/, "")}`, 32);
}

export interface RegisterOptions {
  model: string;
  proofSystem: string;
  account?: string;
  uri?: string;
  /** Register another model id even if this model is registered already. */
  newId?: boolean;
  /** Add a version (the recorded model id, the deployed commitment + adapter) when the commitment changed. */
  update?: boolean;
}

/**
 * Task `model:register`: registers a deployed model's commitment with its verifier adapter and records its model id.
 * @throws UserError when the model has no verifier here, when `--new` and `--update` are both given, or when the
 * recorded registration has another commitment and neither is given.
 */
export async function registerOp(hre: HardhatRuntimeEnvironment, opts: RegisterOptions): Promise<TaskResult> {
  if (opts.newId && opts.update)
    throw new UserError(
      "--new and --update exclude each other: --new registers another model id, --update adds a version to the recorded one",
    );
  if (!/^[a-z0-9-]+$/.test(opts.proofSystem))
    throw new UserError(`--proof-system ${opts.proofSystem}: give a lowercase ERC-7992 name, e.g. groth16-bn254-v1`);
  const psId = proofSystemId(opts.proofSystem);
  const owner = await signerFor(hre, opts.account);
  const { rec, registry } = await loadSystem(hre, owner);
  const m = modelRecord(rec, opts.model, false);
  await requireCode(hre.ethers.provider, m.adapter.address, `${opts.model} adapter`, rec.network);
  const uri = opts.uri || `zkml:${opts.model}?vk=${m.manifest.vkHash}`;
  const c = {
    modelHash: bytes32(BigInt(m.manifest.modelCommitment)),
    circuitHash: bytes32(m.manifest.r1csSha256),
    vkHash: bytes32(m.manifest.vkHash),
    proofSystemId: psId,
    uri,
  };
  // An explicit --uri is part of what must match (model:publish registers the bundle's URI).
  const same = (x: { modelHash: string; circuitHash: string; vkHash: string; proofSystemId: string; uri: string }): boolean =>
    x.modelHash === c.modelHash && x.circuitHash === c.circuitHash && x.vkHash === c.vkHash && (!opts.uri || x.uri === c.uri);

  // Already registered? The recorded id, as the registry has it now.
  let current: { modelId: bigint; version: number; matches: boolean; verifier: string } | undefined;
  if (m.modelId && (await registry.modelCount()) >= BigInt(m.modelId)) {
    const id = BigInt(m.modelId);
    const [version] = await registry.currentVersion(id);
    const [onchain, verifier] = await registry.getModelVersion(id, version);
    current = { modelId: id, version: Number(version), matches: same(onchain) && verifier === m.adapter.address, verifier };
  }
  const vkLine: [string, string] = ["vk hash", `${m.manifest.vkHash} (${m.ceremonyDir ? `ceremony ${m.ceremonyDir}` : "dev keys"})`];
  // Another --proof-system than the registered one goes to the registry's own check (VerifierMismatch, preflighted).
  const otherSystem = current !== undefined && psId !== GROTH16_BN254_V1;
  if (current?.matches && !opts.newId && !otherSystem) {
    return {
      title: `model:register ${opts.model} on ${rec.network}`,
      lines: [
        ["model id", `${current.modelId} (already registered with this commitment, version ${current.version}: nothing sent)`],
        ["owner", m.owner ?? "?"],
        ["adapter", m.adapter.address],
        vkLine,
        ["note", "pass --new to register another model id for the same commitment"],
      ],
      written: [],
      gasUsed: 0n,
      gasCost: 0n,
      data: { modelId: current.modelId, alreadyRegistered: true },
    };
  }
  if (current && !current.matches && !opts.newId && !opts.update && !otherSystem) {
    throw new UserError(
      `${opts.model} is registered as model id ${current.modelId} (version ${current.version}) with another commitment or adapter than the deployed one (vk ${m.manifest.vkHash}): pass --update to add it as version ${current.version + 1} of id ${current.modelId}, or --new to register a new model id`,
    );
  }
  if (opts.update && !current)
    throw new UserError(
      `--update: ${opts.model} has no registered model id on network "${rec.network}" to update; run model:register without --update`,
    );

  // Every version records its public-signal layout (docs/public-signals.md), taken from the quantized model.
  const { loadQuantizedModel } = await import("../../pipelines/build");
  const { layoutOf } = await import("../../formats/model-layout");
  const layout = layoutOf(loadQuantizedModel(opts.model));
  const r = registry.connect(owner);
  let modelId: bigint;
  let version = 1;
  let receipt;
  if (opts.update && current) {
    receipt = await sendChecked(r.updateModelWithLayout, current.modelId, c, m.adapter.address, layout);
    modelId = current.modelId;
    version = current.version + 1;
  } else {
    // The static call also gives the new id; for another proof system id the registry checks it against the adapter.
    modelId = (await r.registerModelWithLayout.staticCall(c, m.adapter.address, layout)) as bigint;
    receipt = await sendChecked(r.registerModelWithLayout, c, m.adapter.address, layout);
    const ev = eventsOf(registry.interface, receipt).find((e) => e.name === "ModelRegistered");
    if (ev) modelId = ev.args[0] as bigint;
  }
  const history = [...(m.history ?? [])];
  if (m.modelId)
    history.push({
      modelId: m.modelId,
      version: current?.version,
      owner: m.owner,
      registerTx: m.registerTx,
      vkHash: m.manifest.vkHash,
      modelCommitment: m.manifest.modelCommitment,
      adapter: current?.verifier ?? m.adapter.address,
      at: new Date().toISOString(),
    });
  const next: ModelRecord = {
    ...m,
    modelId: modelId.toString(),
    owner: owner.address,
    registerTx: receipt.hash,
    proofSystem: opts.proofSystem,
    uri,
    ...(history.length ? { history } : {}),
  };
  rec.models[opts.model] = next;
  const file = writeRecord(rec);
  return {
    title: `model:register ${opts.model} on ${rec.network}`,
    lines: [
      ["model id", `${modelId}${opts.update ? ` (version ${version})` : ""}`],
      ["owner", owner.address],
      ["adapter", m.adapter.address],
      vkLine,
      ["proof system", `${opts.proofSystem}${psId === GROTH16_BN254_V1 ? "" : " (not the one this toolchain proves)"}`],
      ["tx", receipt.hash],
    ],
    written: [file],
    ...gasOf([receipt]),
    data: { modelId },
  };
}
