/**
 * The test kit's bundles (scripts/apps/testkit): for each bundled model, its bundle folder (scripts/formats/bundle.ts)
 * and `<model>.verifier.json`, the ABI and creation bytecode of its generated Groth16 batch verifier (the version's
 * registered verifier, `verifyProof` included). Written by the package build into dist/bundles, and by the test kit's
 * tests into a scratch folder.
 */
import * as fs from "fs";
import * as path from "path";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { ensureDir } from "../../util/paths";
import { writeBundle } from "../../formats/bundle-files";
import { buildModel } from "../../pipelines/build";
import { bundleSources, modelCard } from "../../pipelines/bundle-sources";
import { BUNDLED_MODELS } from "../testkit/index";

/** Builds (cached) and writes the bundles of `models` into `dir`. */
export async function writeKitBundles(
  hre: HardhatRuntimeEnvironment,
  dir: string,
  models: readonly string[] = BUNDLED_MODELS,
): Promise<void> {
  ensureDir(dir);
  for (const name of models) {
    const b = await buildModel(name, { quantize: false });
    writeBundle(bundleSources(b, await modelCard(name, "MIT", undefined, b)), path.join(dir, name));
    const a = await hre.artifacts.readArtifact(b.paths.batchVerifierContract);
    const artifact = { contractName: a.contractName, abi: a.abi, bytecode: a.bytecode };
    fs.writeFileSync(path.join(dir, `${name}.verifier.json`), JSON.stringify(artifact) + "\n");
  }
}
