import * as fs from "fs";
import * as path from "path";
import { type CompiledCircuit, compileCircuit, requiredPower } from "../circuit/compile";
import { generateMainCircuit } from "../circuit/generate";
import { createLog } from "../lib/log";
import { CIRCUITS_DIR, ROOT, ensureDir, rel } from "../lib/paths";
import { type Groth16Keys, exportGroth16Verifier, setupGroth16Dev } from "../setup/groth16";
import { type PtauFile, devPtau } from "../setup/ptau";
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
}

/**
 * Runs every stage for a bundled model: quantize, generate, compile, dev powers of tau, Groth16 dev setup, verifier
 * export. Each stage is skipped when its inputs did not change (content hashes).
 */
export async function buildModel(name: string, opts: { quantize?: boolean } = {}): Promise<BuiltModel> {
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
  const circuit = await log.stage(
    "compile (circom2 --O2)",
    () => compileCircuit(p.circuitFile),
    (c) => `${c.constraints} constraints, ${c.wires} wires${c.cached ? ", cached" : `, ${c.compileSeconds.toFixed(1)} s`}`,
  );
  const power = requiredPower(circuit);
  const ptau = await log.stage(
    `powers of tau 2^${power} (dev, cached per machine)`,
    () => devPtau(power, log.info),
    (t) => rel(t.file),
  );
  const keys = await log.stage(
    "groth16 setup (dev beacon)",
    () => setupGroth16Dev(circuit, ptau),
    (k) => `vk ${k.vkHash.slice(0, 16)}...${k.cached ? ", cached" : ""}`,
  );
  const sol = await exportGroth16Verifier(keys, p.verifierContract, `${rel(p.circuitFile)} (r1cs sha256 ${circuit.r1csHash})`);
  ensureDir(path.dirname(p.verifierFile));
  const verifierChanged = !fs.existsSync(p.verifierFile) || fs.readFileSync(p.verifierFile, "utf8") !== sol;
  if (verifierChanged) fs.writeFileSync(p.verifierFile, sol);
  log.info(`verifier ${rel(p.verifierFile)}${verifierChanged ? " written" : " unchanged"}`);
  return { paths: p, model, modelCommitment: await modelCommitment(model), circuit, ptau, keys, verifierChanged };
}
