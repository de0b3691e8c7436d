import * as fs from "fs";
import * as path from "path";
import { CIRCOM2_VERSION, CIRCOMLIB_VERSION, type CompiledCircuit, compileCircuit, requiredPower } from "../circuit/compile";
import { generateMainCircuit } from "../circuit/generate";
import { GROTH16_BN254_V1 } from "../chain/binding";
import { sha256 } from "../lib/hash";
import { type StageLog, createLog } from "../lib/log";
import { CIRCUITS_DIR, ROOT, ensureDir, rel } from "../lib/paths";
import { type Groth16Keys, exportGroth16Verifier, setupGroth16Dev, snarkjsPackageVersion } from "../setup/groth16";
import { type PtauFile, devPtau, importPtau } from "../setup/ptau";
import { quantizeBundled } from "./bundled";
import type { FloatModel } from "./float";
import { type QuantizedModel, modelCommitment, validateModel } from "./quantized";

/** Where a model's files live. */
export interface ModelPaths {
  name: string;
  floatFile: string;
  qmodelFile: string;
  circuitFile: string;
  verifierFile: string;
  verifierContract: string;
  manifestFile: string;
}

/** `iris-mlp` -> `IrisMlp`. */
export function pascalCase(name: string): string {
  return name.replace(/(^|-)([a-z0-9])/g, (_m, _d, c: string) => c.toUpperCase());
}

export function modelPaths(name: string): ModelPaths {
  const verifierContract = `${pascalCase(name)}Groth16Verifier`;
  return {
    name,
    floatFile: path.join(ROOT, "models", name, `${name}.float.json`),
    qmodelFile: path.join(ROOT, "models", name, `${name}.qmodel.json`),
    circuitFile: path.join(CIRCUITS_DIR, "models", `${name}.circom`),
    verifierFile: path.join(ROOT, "contracts", "verifiers", `${verifierContract}.sol`),
    manifestFile: path.join(ROOT, "models", name, `${name}.manifest.json`),
    verifierContract,
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

export function loadFloatModel(name: string): FloatModel {
  return readJson<FloatModel>(modelPaths(name).floatFile);
}

export function loadQuantizedModel(name: string): QuantizedModel {
  return validateModel(readJson<QuantizedModel>(modelPaths(name).qmodelFile));
}

/** Stage 1: float model -> quantized model file (deterministic). Returns whether the file changed. */
export function quantizeStage(name: string): { model: QuantizedModel; file: string; changed: boolean } {
  const p = modelPaths(name);
  const fm = loadFloatModel(name);
  const model = quantizeBundled(fm);
  const text = JSON.stringify(model, null, 1) + "\n";
  const changed = !fs.existsSync(p.qmodelFile) || fs.readFileSync(p.qmodelFile, "utf8") !== text;
  if (changed) fs.writeFileSync(p.qmodelFile, text);
  return { model, file: p.qmodelFile, changed };
}

/** Stage 2: quantized model -> circuits/models/<name>.circom. */
export async function circuitStage(name: string): Promise<{ file: string; changed: boolean }> {
  const p = modelPaths(name);
  const src = await generateMainCircuit(loadQuantizedModel(name));
  ensureDir(path.dirname(p.circuitFile));
  const changed = !fs.existsSync(p.circuitFile) || fs.readFileSync(p.circuitFile, "utf8") !== src;
  if (changed) fs.writeFileSync(p.circuitFile, src);
  return { file: p.circuitFile, changed };
}

export interface BuiltModel {
  paths: ModelPaths;
  model: QuantizedModel;
  modelCommitment: bigint;
  circuit: CompiledCircuit;
  ptau: PtauFile;
  keys: Groth16Keys;
  verifierChanged: boolean;
  manifest: ModelManifest;
  manifestChanged: boolean;
}

/** Compiled circuit, powers of tau and Groth16 keys of one circuit. */
export interface CircuitArtifacts {
  circuit: CompiledCircuit;
  ptau: PtauFile;
  keys: Groth16Keys;
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
}

/**
 * Compile (cached), powers of tau (dev, cached per machine, or an imported ceremony file) and Groth16 setup (cached)
 * for a circuit file.
 * @throws if an imported ptau is too small for the circuit, or any stage fails.
 */
export async function buildArtifacts(circuitFile: string, opts: { ptauFile?: string; log?: StageLog } = {}): Promise<CircuitArtifacts> {
  const log = opts.log ?? createLog(path.basename(circuitFile, ".circom"));
  const circuit = await log.stage(
    "compile (circom2 --O2)",
    () => compileCircuit(circuitFile),
    (c) => `${c.constraints} constraints, ${c.wires} wires${c.cached ? ", cached" : `, ${c.compileSeconds.toFixed(1)} s`}`,
  );
  const power = requiredPower(circuit);
  const ptau = opts.ptauFile
    ? await log.stage(`import ceremony powers of tau ${opts.ptauFile}`, async () => {
        const p = await importPtau(opts.ptauFile as string, log.info);
        if (p.power < power)
          throw new Error(`${opts.ptauFile} has power ${p.power}; this circuit needs 2^${power}: bring a larger ceremony file`);
        return p;
      })
    : await log.stage(
        `powers of tau 2^${power} (dev, cached per machine)`,
        () => devPtau(power, log.info),
        (t) => rel(t.file),
      );
  const keys = await log.stage(
    "groth16 setup (dev beacon)",
    () => setupGroth16Dev(circuit, ptau),
    (k) => `vk ${k.vkHash.slice(0, 16)}...${k.cached ? ", cached" : ""}`,
  );
  return { circuit, ptau, keys };
}

/**
 * The model manifest (`models/<name>/<name>.manifest.json`): every hash a verifier of the chain of custody needs,
 * from the float weights to the Solidity verifier. Deterministic: the same inputs give the same bytes.
 */
export interface ModelManifest {
  format: "zkml-manifest-v1";
  model: string;
  weights: "open" | "private";
  proofSystem: "groth16-bn254-v1";
  proofSystemId: string;
  /** Public signal 1 and the registry's modelHash (bytes32 of the same number). */
  modelCommitment: string;
  modelHash: string;
  /** sha256 of the R1CS: the registry's circuitHash. */
  circuitHash: string;
  /** sha256 of the canonical verification key JSON: the registry's vkHash. */
  vkHash: string;
  constraints: number;
  publicSignals: ["result", "modelCommitment", "inputCommitment", "jobBinding"];
  scales: {
    input: { size: number; bits: number; frac: number };
    layers: Record<string, number | string | boolean>[];
  };
  files: Record<string, { path: string; sha256: string }>;
  trustedSetup: { ptau: { sha256: string; power: number; source: string }; phase2: string; zkeySha256: string };
  toolchain: Record<string, string>;
}

function fileEntry(file: string): { path: string; sha256: string } {
  return { path: rel(file), sha256: sha256(fs.readFileSync(file)) };
}

/** Builds the manifest of a model from its artifacts (pure apart from reading the listed files). */
export function createManifest(
  model: QuantizedModel,
  commitment: bigint,
  a: CircuitArtifacts,
  files: Record<string, string>,
): ModelManifest {
  const scaleKeys = ["type", "shift", "wBits", "wFrac", "bBits", "outBits", "outFrac", "relu", "kernel", "stride", "padding"];
  return {
    format: "zkml-manifest-v1",
    model: model.name,
    weights: model.weights,
    proofSystem: "groth16-bn254-v1",
    proofSystemId: GROTH16_BN254_V1,
    modelCommitment: commitment.toString(),
    modelHash: "0x" + commitment.toString(16).padStart(64, "0"),
    circuitHash: a.circuit.r1csHash,
    vkHash: a.keys.vkHash,
    constraints: a.circuit.constraints,
    publicSignals: ["result", "modelCommitment", "inputCommitment", "jobBinding"],
    scales: {
      input: { size: model.input.size, bits: model.input.bits, frac: model.input.frac },
      layers: model.layers.map(
        (l) => Object.fromEntries(Object.entries(l).filter(([k]) => scaleKeys.includes(k))) as Record<string, number | string | boolean>,
      ),
    },
    files: Object.fromEntries(Object.entries(files).map(([k, f]) => [k, fileEntry(f)])),
    trustedSetup: {
      ptau: { sha256: a.ptau.sha256, power: a.ptau.power, source: a.ptau.source },
      phase2: "dev beacon (INSECURE: public beacon, no secret contribution; see docs/trusted-setup.md)",
      zkeySha256: a.keys.zkeySha256,
    },
    toolchain: {
      circom2: CIRCOM2_VERSION,
      circomlib: CIRCOMLIB_VERSION,
      snarkjs: snarkjsPackageVersion(),
      compilerFlags: "--O2",
    },
  };
}

/** Writes `text` to `file` if it differs; returns whether it changed. */
function writeIfChanged(file: string, text: string): boolean {
  ensureDir(path.dirname(file));
  const changed = !fs.existsSync(file) || fs.readFileSync(file, "utf8") !== text;
  if (changed) fs.writeFileSync(file, text);
  return changed;
}

/**
 * Runs every stage for a bundled model: quantize, generate, compile, powers of tau, Groth16 setup, verifier export,
 * manifest. Each stage is skipped when its inputs did not change (content hashes); each writes its file only if
 * its content changed.
 */
export async function buildModel(name: string, opts: BuildOptions = {}): Promise<BuiltModel> {
  const log = createLog(name);
  const p = modelPaths(name);
  if (opts.quantize !== false) {
    await log.stage(
      "quantize",
      async () => quantizeStage(name),
      (r) => `${rel(r.file)}${r.changed ? " written" : " unchanged"}`,
    );
  }
  const model = loadQuantizedModel(name);
  await log.stage(
    "generate circuit",
    () => circuitStage(name),
    (r) => `${rel(r.file)}${r.changed ? " written" : " unchanged"}`,
  );
  const artifacts = await buildArtifacts(p.circuitFile, { ptauFile: opts.ptauFile, log });
  const { circuit, ptau, keys } = artifacts;
  const sol = await exportGroth16Verifier(keys, p.verifierContract, `${rel(p.circuitFile)} (r1cs sha256 ${circuit.r1csHash})`);
  const verifierChanged = writeIfChanged(p.verifierFile, sol);
  log.info(`verifier ${rel(p.verifierFile)}${verifierChanged ? " written" : " unchanged"}`);
  const commitment = await modelCommitment(model);
  const files: Record<string, string> = { quantizedModel: p.qmodelFile, circuit: p.circuitFile, verifier: p.verifierFile };
  if (fs.existsSync(p.floatFile)) files.floatModel = p.floatFile;
  const manifest = createManifest(model, commitment, artifacts, files);
  const manifestChanged = writeIfChanged(p.manifestFile, JSON.stringify(manifest, null, 2) + "\n");
  log.info(`manifest ${rel(p.manifestFile)}${manifestChanged ? " written" : " unchanged"}`);
  return { paths: p, model, modelCommitment: commitment, circuit, ptau, keys, verifierChanged, manifest, manifestChanged };
}
