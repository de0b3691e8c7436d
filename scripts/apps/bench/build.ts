/**
 * The benchmark's build of a model, for the gas steps: the committed artifacts where the repository has them (the
 * bundled iris-mlp and temp-forecast: their verifiers are Hardhat contracts), else a build in a scratch root under
 * build/bench/root, so that benchmarking a model never writes circuits, verifiers or manifests into the repository.
 */
import * as fs from "fs";
import * as path from "path";
import hre from "hardhat";
import type { Artifact } from "hardhat/types";
import { ROOT, ensureDir, rel } from "../../util/paths";
import { compileSolidity } from "../../engine/solc";
import { type BuiltModel, buildModel, modelPaths } from "../../pipelines/build";
import type { Signer } from "ethers";
import { deployGroth16Verifier, deploySystem, registerModel } from "../../chain/system";
import { layoutOf, numPublicSignals } from "../../formats/model-layout";

/** Where models without committed artifacts are built (a copy of their models/<name>/ inputs). */
export const BENCH_ROOT = path.join(ROOT, "build", "bench", "root");

export interface BenchBuild {
  built: BuiltModel;
  /** Whether the repository's committed artifacts were used (else BENCH_ROOT). */
  committed: boolean;
  /** The plain and the batch verifier, ready to deploy. */
  verifier: Artifact;
  batchVerifier: Artifact;
}

function solcArtifact(file: string, contractName: string): Artifact {
  const c = compileSolidity(fs.readFileSync(file, "utf8"), contractName, rel(file));
  return {
    _format: "hh-sol-artifact-1",
    contractName,
    sourceName: rel(file),
    abi: c.abi as Artifact["abi"],
    bytecode: c.bytecode,
    deployedBytecode: c.runtime,
    linkReferences: {},
    deployedLinkReferences: {},
  };
}

/** Builds `name` (cached stages) where it belongs and returns its deployable verifiers. */
export async function benchBuild(name: string): Promise<BenchBuild> {
  const repo = modelPaths(name);
  const committed = fs.existsSync(repo.manifestFile) && fs.existsSync(repo.verifierFile);
  if (committed) {
    const built = await buildModel(name);
    if (built.verifierChanged) await hre.run("compile", { quiet: true });
    return {
      built,
      committed,
      verifier: await hre.artifacts.readArtifact(built.paths.verifierContract),
      batchVerifier: await hre.artifacts.readArtifact(built.paths.batchVerifierContract),
    };
  }
  // copy the model's inputs (float model, calibration set, quantize.json): the build reads them from its root
  const src = path.dirname(repo.floatFile);
  const dst = path.join(BENCH_ROOT, "models", name);
  ensureDir(dst);
  for (const f of fs.readdirSync(src)) if (f.endsWith(".json") && !f.endsWith(".manifest.json") && !f.endsWith(".qmodel.json")) fs.copyFileSync(path.join(src, f), path.join(dst, f));
  const built = await buildModel(name, { root: BENCH_ROOT });
  return {
    built,
    committed,
    verifier: solcArtifact(built.paths.verifierFile, built.paths.verifierContract),
    batchVerifier: solcArtifact(built.paths.batchVerifierFile, built.paths.batchVerifierContract),
  };
}

/**
 * The market (default parameters) on the in-process network, with `built` registered as its first model on a fresh
 * Groth16 verifier deployed from `artifact` (the plain or the batch one): what the gas benchmarks start from.
 */
export async function benchMarket(built: BuiltModel, artifact: Artifact, deployer: Signer, modelOwner: Signer) {
  const sys = await deploySystem(deployer);
  const ver = await deployGroth16Verifier(deployer, artifact, sys.factory, numPublicSignals(built.model));
  const reg = await registerModel(
    sys.registry,
    modelOwner,
    { modelCommitment: built.modelCommitment, circuitHash: built.circuit.r1csHash, vkHash: built.keys.vkHash, uri: `file:${rel(built.paths.qmodelFile)}` },
    ver.adapter.target as string,
    layoutOf(built.model),
  );
  return { sys, ver, reg };
}
