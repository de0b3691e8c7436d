/**
 * Building a model's artifacts, stage by stage (`npm run build:model`): quantize -> circuit -> compile -> keys (dev
 * or a verified ceremony's) -> verifier and batch verifier -> manifest, each stage skipped when its inputs are
 * unchanged. Size (about 480 lines), kept in one file: the stages share the model's paths and cache checks, and read
 * in the order they run; each stage's work is a call into the engine (circuit/, setup/, prove/).
 */
import * as fs from "fs";
import * as path from "path";
import { CIRCOM2_VERSION, CIRCOMLIB_VERSION, type CompiledCircuit, compileCircuit, requiredPower } from "../engine/circuit/compile";
import { generateMainCircuit } from "../engine/circuit/generate";
import { estimateConstraints } from "../engine/circuit/size";
import { GROTH16_BN254_V1 } from "../formats/public-signals";
import { sha256, sha256File } from "../util/hash";
import { type StageLog, createLog, progressReporter } from "../util/stage-log";
import { ROOT, ensureDir, rel, writeFileAtomic } from "../util/paths";
import { type CeremonyManifest, readManifest } from "../engine/setup/ceremony";
import {
  type Groth16Keys,
  exportGroth16Verifier,
  setupGroth16Dev,
  snarkjsPackageVersion,
  verificationKeyHash,
} from "../engine/setup/groth16";
import { type PtauFile, importPtau } from "../engine/setup/ptau";
import { addBatchFunction } from "../engine/setup/groth16-batch";
import { quantizeBundled } from "./bundled";
import { storeCalibration, storedCalibrationFile } from "../formats/calibration";
import type { FloatModel } from "../formats/float-model";
import { type QuantizedModel, modelCommitment, validateModel } from "../formats/quantized-model";
import {
  type ModelLayout,
  layoutOf,
  layoutWord,
  numPublicSignals,
  publicModelCommitment,
  publicSignalNames,
} from "../formats/model-layout";

/** Where a model's files live. */
export interface ModelPaths {
  name: string;
  floatFile: string;
  qmodelFile: string;
  circuitFile: string;
  verifierFile: string;
  verifierContract: string;
  /** The batch verifier beside it: the same snarkjs export plus `verifyBatch` (scripts/engine/setup/groth16-batch.ts). */
  batchVerifierFile: string;
  batchVerifierContract: string;
  manifestFile: string;
  /** Set when the keys come from a phase-2 ceremony folder (absolute path) instead of the dev setup. */
  ceremonyDir?: string;
}

/**
 * Which Groth16 keys to build with: the dev keys (default; deterministic, INSECURE) or the final keys of a verified
 * phase-2 ceremony (scripts/engine/setup/ceremony.ts, docs/trusted-setup.md).
 */
export interface KeysOption {
  ceremonyDir: string;
}

/** `iris-mlp` -> `IrisMlp`. */
export function pascalCase(name: string): string {
  return name.replace(/(^|-)([a-z0-9])/g, (_m, _d, c: string) => c.toUpperCase());
}

/**
 * A model's files. With ceremony keys the verifier and the manifest go elsewhere, so the committed dev verifier and
 * dev manifest (diffed by CI) are never overwritten: `contracts/verifiers/ceremony/<Name>CeremonyGroth16Verifier.sol`
 * (git-ignored, per operator) and `<ceremonyDir>/model-manifest.json`.
 * @param root the folder holding `models/`, `circuits/models/` and `contracts/verifiers/` (default: this repository;
 *   tests build into a folder under build/)
 */
export function modelPaths(name: string, keys?: KeysOption, root = ROOT): ModelPaths {
  if (keys) {
    const ceremonyDir = path.resolve(keys.ceremonyDir);
    const verifierContract = `${pascalCase(name)}CeremonyGroth16Verifier`;
    const batchVerifierContract = `${pascalCase(name)}CeremonyGroth16BatchVerifier`;
    return {
      ...modelPaths(name, undefined, root),
      verifierFile: path.join(ROOT, "contracts", "verifiers", "ceremony", `${verifierContract}.sol`),
      batchVerifierFile: path.join(ROOT, "contracts", "verifiers", "ceremony", `${batchVerifierContract}.sol`),
      manifestFile: path.join(ceremonyDir, "model-manifest.json"),
      verifierContract,
      batchVerifierContract,
      ceremonyDir,
    };
  }
  const verifierContract = `${pascalCase(name)}Groth16Verifier`;
  const batchVerifierContract = `${pascalCase(name)}Groth16BatchVerifier`;
  return {
    name,
    floatFile: path.join(root, "models", name, `${name}.float.json`),
    qmodelFile: path.join(root, "models", name, `${name}.qmodel.json`),
    circuitFile: path.join(root, "circuits", "models", `${name}.circom`),
    verifierFile: path.join(root, "contracts", "verifiers", `${verifierContract}.sol`),
    batchVerifierFile: path.join(root, "contracts", "verifiers", `${batchVerifierContract}.sol`),
    manifestFile: path.join(root, "models", name, `${name}.manifest.json`),
    verifierContract,
    batchVerifierContract,
  };
}

/** Reads and validates a JSON file, naming the file in any error. */
export function readJson<T>(file: string): T {
  if (!fs.existsSync(file)) throw new Error(`${rel(file)} not found`);
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as T;
  } catch (e) {
    throw new Error(`${rel(file)} is not valid JSON: ${(e as Error).message}`);
  }
}

export function loadFloatModel(name: string, root = ROOT): FloatModel {
  return readJson<FloatModel>(modelPaths(name, undefined, root).floatFile);
}

export function loadQuantizedModel(name: string, root = ROOT): QuantizedModel {
  return validateModel(readJson<QuantizedModel>(modelPaths(name, undefined, root).qmodelFile));
}

/**
 * Stage 1: float model -> quantized model file (deterministic: the calibration set and quantize.json of the model
 * folder, see quantizeBundled). Returns whether the file changed.
 */
export function quantizeStage(name: string, root = ROOT): { model: QuantizedModel; file: string; changed: boolean } {
  const p = modelPaths(name, undefined, root);
  const fm = loadFloatModel(name, root);
  const model = quantizeBundled(fm, {}, root);
  const changed = writeIfChanged(p.qmodelFile, JSON.stringify(model, null, 1) + "\n");
  return { model, file: p.qmodelFile, changed };
}

/** Stage 2: quantized model -> circuits/models/<name>.circom. */
export async function circuitStage(name: string, root = ROOT): Promise<{ file: string; changed: boolean }> {
  const p = modelPaths(name, undefined, root);
  const src = await generateMainCircuit(loadQuantizedModel(name, root));
  const changed = writeIfChanged(p.circuitFile, src);
  return { file: p.circuitFile, changed };
}

export interface BuiltModel {
  paths: ModelPaths;
  model: QuantizedModel;
  modelCommitment: bigint;
  circuit: CompiledCircuit;
  /** The phase-1 file used (a ceremony's), absent for dev keys computed directly (they need none). */
  ptau?: PtauFile;
  keys: Groth16Keys;
  verifierChanged: boolean;
  manifest: ModelManifest;
  manifestChanged: boolean;
  /** The ceremony the keys come from (absent for dev keys). */
  ceremony?: CeremonyKeysSource;
}

/** A verified ceremony whose final keys a build uses. */
export interface CeremonyKeysSource {
  /** Absolute path of the ceremony folder. */
  dir: string;
  manifest: CeremonyManifest;
}

/** Compiled circuit, powers of tau (when one was used) and Groth16 keys of one circuit. */
export interface CircuitArtifacts {
  circuit: CompiledCircuit;
  /** The phase-1 file used (a ceremony's), absent for dev keys computed directly (they need none). */
  ptau?: PtauFile;
  keys: Groth16Keys;
  /** Set when `keys` are a ceremony's final keys. */
  ceremony?: CeremonyKeysSource;
}

export interface BuildOptions {
  /** Re-run the quantizer (default true); false uses the committed quantized model as is. */
  quantize?: boolean;
  /**
   * A powers-of-tau file from a real ceremony to use instead of the dev one: verified with snarkjs before use
   * (importPtau). Phase 2 still uses the dev beacon here; run the ceremony commands (docs/trusted-setup.md) for
   * production keys.
   */
  ptauFile?: string;
  /**
   * Keys to use (default: dev). `{ ceremonyDir }`: the final zkey and vkey of a finalised and verified ceremony for
   * this exact circuit (same R1CS); the verifier and manifest then go to the paths of `modelPaths(name, keys)`.
   */
  keys?: KeysOption;
  /**
   * Calibrate on the owner's raw inputs (a .npy, .json or .csv file, docs/bring-your-own-model.md): the set is copied
   * to `models/<name>/calibration.json` first, so that later builds without this option quantize the same way.
   */
  calibration?: string;
  /** Folder holding models/, circuits/models/ and contracts/verifiers/ (default: this repository). */
  root?: string;
  /**
   * circom's optimization level (default 2). --O2 substitutes away every linear constraint (the fewest constraints,
   * the smallest keys); --O1 compiles faster and keeps them (docs/circuits.md, "Compile time").
   */
  optimization?: 0 | 1 | 2;
}

/**
 * The final keys of the ceremony in `dir`, for `circuit`.
 * @throws if the ceremony was run on another R1CS, is not finalised and verified, or a file changed since setup:verify.
 */
export async function ceremonyKeys(dir: string, circuit: CompiledCircuit): Promise<{ keys: Groth16Keys; ceremony: CeremonyKeysSource }> {
  const abs = path.resolve(dir);
  const m = readManifest(abs);
  if (m.r1csSha256 !== circuit.r1csHash) {
    throw new Error(
      `ceremony in ${rel(abs)} was for another circuit (r1cs ${m.r1csSha256.slice(0, 16)}..., this build ${circuit.r1csHash.slice(0, 16)}...); run the ceremony for this build`,
    );
  }
  const f = m.final;
  if (!f || f.verified !== true) throw new Error(`ceremony in ${rel(abs)} not finalised: run setup:beacon and setup:verify`);
  const zkey = path.join(abs, f.zkey);
  const vkeyFile = path.join(abs, f.vkeyFile);
  for (const file of [zkey, vkeyFile]) {
    if (!fs.existsSync(file)) throw new Error(`${rel(file)} not found: copy the whole ceremony folder, or run setup:verify again`);
  }
  if ((await sha256File(zkey)) !== f.zkeySha256)
    throw new Error(`${rel(zkey)} changed since setup:verify (sha256 differs from the ceremony manifest): do not use it`);
  const vkey = readJson<Groth16Keys["vkey"]>(vkeyFile);
  const vkHash = verificationKeyHash(vkey);
  if (vkHash !== f.vkHash) throw new Error(`${rel(vkeyFile)} changed since setup:verify (vk hash ${vkHash}, recorded ${f.vkHash})`);
  return {
    keys: {
      zkey,
      vkeyFile,
      vkey,
      vkHash,
      zkeySha256: f.zkeySha256,
      insecure: false,
      ptau: { power: m.ptau.power, source: "imported", sha256: m.ptau.sha256 },
      setupSeconds: 0,
      cached: true,
    },
    ceremony: { dir: abs, manifest: m },
  };
}

/**
 * One line on what the circuit will cost, printed before circom starts: the estimated --O2 constraint count
 * (scripts/engine/circuit/size.ts), the Groth16 domain the keys need, and the max pools moved before their requantization.
 */
export function sizeEstimateLine(model: QuantizedModel, optimization: 0 | 1 | 2): string {
  const e = estimateConstraints(model);
  const power = requiredPower({ constraints: e.constraints, publicInputs: numPublicSignals(model), outputs: 0 });
  const fused = e.fusedPools.length
    ? `; max pooling before requantization at layer${e.fusedPools.length > 1 ? "s" : ""} ${e.fusedPools.join(", ")}`
    : "";
  const level = optimization === 2 ? "" : ` (at --O${optimization} more: circom keeps the linear constraints that --O2 substitutes away)`;
  const big =
    power > 16 ? '; a circuit this size takes minutes to compile and to set up on 2 cores (docs/circuits.md, "Compile time")' : "";
  return `size estimate: ${e.constraints.toLocaleString("en-US")} constraints at --O2${level}, Groth16 keys for a 2^${power} domain${fused}${big}`;
}

/**
 * Compile (cached) and Groth16 setup (cached) for a circuit file: dev keys computed directly (no powers of tau), or,
 * with `ptauFile`, snarkjs' phase 2 on an imported ceremony ptau (any power at least the circuit's), or the final
 * keys of a ceremony.
 * @throws if an imported ptau is too small for the circuit, or any stage fails.
 */
export async function buildArtifacts(
  circuitFile: string,
  opts: { ptauFile?: string; keys?: KeysOption; log?: StageLog; optimization?: 0 | 1 | 2 } = {},
): Promise<CircuitArtifacts> {
  const log = opts.log ?? createLog(path.basename(circuitFile, ".circom"));
  if (opts.keys && opts.ptauFile)
    throw new Error("a ptau file and ceremony keys are exclusive: the ceremony already fixed its ptau; drop the ptau file");
  const optimization = opts.optimization ?? 2;
  const circuit = await log.stage(
    `compile (circom2 --O${optimization})`,
    () => compileCircuit(circuitFile, { optimization }),
    (c) => `${c.constraints} constraints, ${c.wires} wires${c.cached ? ", cached" : `, ${c.compileSeconds.toFixed(1)} s`}`,
  );
  if (opts.keys) {
    const dir = opts.keys.ceremonyDir;
    const { keys, ceremony } = await log.stage(
      `ceremony keys from ${rel(path.resolve(dir))}`,
      () => ceremonyKeys(dir, circuit),
      (k) => `vk ${k.keys.vkHash.slice(0, 16)}...`,
    );
    const m = ceremony.manifest;
    return { circuit, ptau: { file: m.ptau.file, power: m.ptau.power, sha256: m.ptau.sha256, source: "imported" }, keys, ceremony };
  }
  const power = requiredPower(circuit);
  const ptau = opts.ptauFile
    ? await log.stage(`import ceremony powers of tau ${opts.ptauFile}`, async () => {
        const p = await importPtau(opts.ptauFile as string, log.info);
        if (p.power < power)
          throw new Error(`${opts.ptauFile} has power ${p.power}; this circuit needs 2^${power}: bring a larger ceremony file`);
        return p;
      })
    : undefined;
  const keys = await log.stage(
    ptau ? "groth16 setup (zkey new + dev beacon, INSECURE)" : `groth16 dev keys (INSECURE, computed directly, domain 2^${power})`,
    () => setupGroth16Dev(circuit, ptau, log.info, progressReporter(`[${circuit.name}] groth16 dev keys`)),
    (k) => `vk ${k.vkHash.slice(0, 16)}...${k.cached ? ", cached" : `, ${k.setupSeconds.toFixed(1)} s`}`,
  );
  return { circuit, ptau, keys };
}

/**
 * The model manifest (`models/<name>/<name>.manifest.json`): every hash a verifier of the chain of custody needs,
 * from the float weights to the Solidity verifier. Deterministic: the same inputs give the same bytes.
 */
export interface ModelManifest {
  format: "zkml-manifest-v2";
  model: string;
  weights: "open" | "private";
  proofSystem: "groth16-bn254-v1";
  proofSystemId: string;
  /** The weights commitment: the registry's modelHash (bytes32 of the same number). */
  modelCommitment: string;
  modelHash: string;
  /** The public-signal layout the circuit is compiled with: register the version with exactly this layout. */
  layout: ModelLayout;
  /** layoutWord(layout), the word L the circuit commits to. */
  layoutWord: string;
  /**
   * Public signal 1: Poseidon(modelCommitment, layoutWord), what the circuit outputs and what the registry's
   * `verificationTarget(...).modelCommitment` returns for a version registered with modelHash and layout.
   */
  publicModelCommitment: string;
  /** sha256 of the R1CS: the registry's circuitHash. */
  circuitHash: string;
  /** sha256 of the canonical verification key JSON: the registry's vkHash. */
  vkHash: string;
  constraints: number;
  /** docs/public-signals.md: result, modelCommitment, inputCommitment or inputPacked[0..m-1], jobBinding. */
  publicSignals: string[];
  scales: {
    input: { size: number; bits: number; frac: number };
    layers: Record<string, number | string | boolean>[];
  };
  files: Record<string, { path: string; sha256: string }>;
  /**
   * `insecure`: true unless the keys come from a verified phase-2 ceremony (dev keys: anyone can forge proofs).
   * `ptau.sha256` is absent for dev keys computed directly (no ptau file is made; `power` is the dev ptau they equal).
   */
  trustedSetup: {
    insecure: boolean;
    ptau: { sha256?: string; power: number; source: string };
    phase2: string;
    zkeySha256: string;
  };
  toolchain: Record<string, string>;
}

function fileEntry(file: string): { path: string; sha256: string } {
  return { path: rel(file), sha256: sha256(fs.readFileSync(file)) };
}

/** One line describing a ceremony's phase 2, for the model manifest. */
function ceremonyPhase2(m: CeremonyManifest): string {
  const contributions = m.contributions.filter((c) => c.kind === "contribution");
  const beacon = m.contributions.find((c) => c.kind === "beacon");
  return [
    `ceremony: ${contributions.length} contribution(s) (${contributions.map((c) => c.name).join(", ")})`,
    beacon ? `beacon ${beacon.beaconHash ?? "?"} (2^${beacon.beaconIterationsExp ?? "?"} iterations)` : "no beacon",
    `final zkey verified against the r1cs and ptau ${m.final?.verifiedAt ?? "?"}`,
  ].join("; ");
}

/** Builds the manifest of a model from its artifacts (pure apart from reading the listed files). */
export function createManifest(
  model: QuantizedModel,
  commitment: bigint,
  publicCommitment: bigint,
  a: CircuitArtifacts,
  files: Record<string, string>,
): ModelManifest {
  const scaleKeys = ["type", "shift", "wBits", "wFrac", "bBits", "outBits", "outFrac", "relu", "kernel", "stride", "padding"];
  return {
    format: "zkml-manifest-v2",
    model: model.name,
    weights: model.weights,
    proofSystem: "groth16-bn254-v1",
    proofSystemId: GROTH16_BN254_V1,
    modelCommitment: commitment.toString(),
    modelHash: "0x" + commitment.toString(16).padStart(64, "0"),
    layout: layoutOf(model),
    layoutWord: layoutWord(layoutOf(model)).toString(),
    publicModelCommitment: publicCommitment.toString(),
    circuitHash: a.circuit.r1csHash,
    vkHash: a.keys.vkHash,
    constraints: a.circuit.constraints,
    publicSignals: publicSignalNames(model),
    scales: {
      input: { size: model.input.size, bits: model.input.bits, frac: model.input.frac },
      layers: model.layers.map(
        (l) => Object.fromEntries(Object.entries(l).filter(([k]) => scaleKeys.includes(k))) as Record<string, number | string | boolean>,
      ),
    },
    files: Object.fromEntries(Object.entries(files).map(([k, f]) => [k, fileEntry(f)])),
    trustedSetup: {
      insecure: a.keys.insecure,
      ptau: a.keys.ptau,
      phase2: a.ceremony
        ? ceremonyPhase2(a.ceremony.manifest)
        : a.ptau
          ? "dev beacon (INSECURE: public beacon, no secret contribution; see docs/trusted-setup.md)"
          : `dev keys (INSECURE: computed from the public dev secrets, equal to snarkjs zkey new with the dev ptau 2^${a.keys.ptau.power} + the dev beacon; see docs/trusted-setup.md)`,
      zkeySha256: a.keys.zkeySha256,
    },
    toolchain: {
      circom2: CIRCOM2_VERSION,
      circomlib: CIRCOMLIB_VERSION,
      snarkjs: snarkjsPackageVersion(),
      compilerFlags: `--O${a.circuit.optimization}`,
    },
  };
}

/** Writes `text` to `file` (atomically) if it differs; returns whether it changed. */
function writeIfChanged(file: string, text: string): boolean {
  ensureDir(path.dirname(file));
  const changed = !fs.existsSync(file) || fs.readFileSync(file, "utf8") !== text;
  if (changed) writeFileAtomic(file, text);
  return changed;
}

/**
 * Runs every stage for a bundled model: quantize, generate, compile, powers of tau, Groth16 setup, verifier export,
 * manifest. Each stage is skipped when its inputs did not change (content hashes); each writes its file only if
 * its content changed.
 */
export async function buildModel(name: string, opts: BuildOptions = {}): Promise<BuiltModel> {
  const log = createLog(name);
  const root = opts.root ?? ROOT;
  const p = modelPaths(name, opts.keys, root);
  if (opts.calibration !== undefined) {
    if (opts.quantize === false) throw new Error("--calibration needs the quantize stage: drop --no-quantize");
    const file = opts.calibration;
    await log.stage(
      `calibration set ${file}`,
      async () => storeCalibration(file, path.dirname(p.floatFile), loadFloatModel(name, root).inputSize),
      (c) => `${c.inputs.length} inputs copied to ${rel(storedCalibrationFile(path.dirname(p.floatFile)))}`,
    );
  }
  if (opts.quantize !== false) {
    await log.stage(
      "quantize",
      async () => quantizeStage(name, root),
      (r) => `${rel(r.file)}${r.changed ? " written" : " unchanged"}, ${r.model.input.bits}-bit`,
    );
  }
  const model = loadQuantizedModel(name, root);
  await log.stage(
    "generate circuit",
    () => circuitStage(name, root),
    (r) => `${rel(r.file)}${r.changed ? " written" : " unchanged"}`,
  );
  log.info(sizeEstimateLine(model, opts.optimization ?? 2));
  const artifacts = await buildArtifacts(p.circuitFile, { ptauFile: opts.ptauFile, keys: opts.keys, log, optimization: opts.optimization });
  const { circuit, ptau, keys, ceremony } = artifacts;
  const source = `${rel(p.circuitFile)} (r1cs sha256 ${circuit.r1csHash})`;
  const sol = await exportGroth16Verifier(
    keys,
    p.verifierContract,
    source,
    ceremony
      ? {
          setup: `phase-2 ceremony ${rel(ceremony.dir)} (${ceremony.manifest.contributions.filter((c) => c.kind === "contribution").length} contribution(s) + beacon)`,
          regenerate: `npx hardhat deploy --ceremony <dir> --models ${name}`,
        }
      : undefined,
  );
  const verifierChanged = writeIfChanged(p.verifierFile, sol);
  log.info(`verifier ${rel(p.verifierFile)}${verifierChanged ? " written" : " unchanged"}`);
  // The batch verifier: the same snarkjs export (same key data) with verifyBatch appended (docs/contracts.md).
  const batchChanged = writeIfChanged(
    p.batchVerifierFile,
    addBatchFunction(sol.replace(`contract ${p.verifierContract}`, `contract ${p.batchVerifierContract}`)),
  );
  log.info(`batch verifier ${rel(p.batchVerifierFile)}${batchChanged ? " written" : " unchanged"}`);
  const commitment = await modelCommitment(model);
  const files: Record<string, string> = { quantizedModel: p.qmodelFile, circuit: p.circuitFile, verifier: p.verifierFile };
  if (fs.existsSync(p.floatFile)) files.floatModel = p.floatFile;
  const calibrationFile = storedCalibrationFile(path.dirname(p.floatFile));
  if (fs.existsSync(calibrationFile)) files.calibration = calibrationFile;
  const manifest = createManifest(model, commitment, await publicModelCommitment(commitment, layoutOf(model)), artifacts, files);
  const manifestChanged = writeIfChanged(p.manifestFile, JSON.stringify(manifest, null, 2) + "\n");
  log.info(`manifest ${rel(p.manifestFile)}${manifestChanged ? " written" : " unchanged"}`);
  return { paths: p, model, modelCommitment: commitment, circuit, ptau, keys, verifierChanged, manifest, manifestChanged, ceremony };
}
