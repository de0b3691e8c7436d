/**
 * Publishing a model: an ONNX file and its calibration inputs to a registered, servable model version. One path for
 * the Hardhat task `model:publish --onnx` (scripts/apps/tasks/publish.ts) and the SDK's Node-side
 * `publishModel` (`zkml-evm/node`, scripts/pipelines/sdk-node.ts):
 *   import (docs/bring-your-own-model.md) -> build (quantize with the calibration set, circuit, dev keys, verifiers;
 *   cached) -> evaluation against the owner's framework outputs (optional, refused when a target is missed) ->
 *   bundle (scripts/formats/bundle-files.ts) -> IPFS (the local Helia node) or a URI of yours -> verifier and
 *   adapter deployed -> version registered with its layout.
 * Every file is read and checked before anything is written or sent.
 */
import * as fs from "fs";
import * as path from "path";
import type { Signer } from "ethers";
import { rel, writeFileAtomic } from "../util/paths";
import type { ModelCard } from "../formats/bundle";
import { type BuiltModel, buildModel } from "./build";

/** What to import, and how (the options of `npm run onnx import`). */
export interface OnnxSource {
  /** The `.onnx` file the framework exported. */
  onnx: string;
  /** Raw calibration inputs (`.npy`, `.json` or `.csv`): what the quantizer measures ranges on. */
  calibration: string;
  /** The model's name (lower case letters, digits and `-`; default: the file's base name). */
  name?: string;
  /** The owner's framework outputs on some inputs (`{"inputs", "outputs"}` JSON): the publish is refused when the built model misses a target of `npm run evaluate`. */
  reference?: string;
  /** Import options: preprocessing (`{"mean", "std"}` JSON or a file), class names, `regression`. */
  preprocess?: string;
  classes?: string;
  task?: string;
}

/** A publishing problem; the message names the option and the fix. Nothing was sent. */
export class PublishError extends Error {
  override name = "PublishError";
}

function fail(flag: string, e: unknown): never {
  const msg = (e as Error).message.split("\n")[0];
  throw new PublishError(flag ? `${flag}: ${msg}` : msg);
}

/**
 * Imports `src.onnx` into `root/models/<name>/` (refusing to replace another model there), builds it with the
 * calibration set and, with a reference, evaluates it against the owner's framework outputs.
 * @returns The model name, the build and the accuracy for its card.
 * @throws PublishError naming the option; nothing is sent.
 */
export async function importAndBuild(
  src: OnnxSource,
  root: string,
  flags: { onnx: string; calibration: string; reference: string; name: string } = {
    onnx: "onnx",
    calibration: "calibration",
    reference: "reference",
    name: "name",
  },
): Promise<{ name: string; built: BuiltModel; accuracy?: ModelCard["accuracy"] }> {
  if (!fs.existsSync(src.onnx))
    throw new PublishError(`${flags.onnx} ${src.onnx}: no such file; give the .onnx file your framework exported`);
  if (!fs.existsSync(src.calibration))
    throw new PublishError(`${flags.calibration} ${src.calibration}: no such file; give raw inputs (.npy, .json or .csv)`);
  const { defaultModelName, parseImportOptions } = await import("../engine/onnx/options");
  const { importOnnx } = await import("../engine/onnx/import");
  const { readInputs, readReference } = await import("../formats/calibration");
  const name = src.name ?? defaultModelName(src.onnx);
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) throw new PublishError(`${flags.name} ${name}: a model name is lower case letters, digits and -`);
  let importOpts;
  try {
    importOpts = parseImportOptions(name, { preprocess: src.preprocess, classes: src.classes, task: src.task });
  } catch (e) {
    fail("", e);
  }
  let fm;
  try {
    fm = importOnnx(fs.readFileSync(src.onnx), importOpts);
  } catch (e) {
    fail(`${flags.onnx} ${src.onnx}`, e);
  }
  try {
    readInputs(src.calibration, fm.inputSize);
  } catch (e) {
    fail(flags.calibration, e);
  }
  let ref;
  try {
    ref = src.reference === undefined ? undefined : readReference(src.reference, fm.inputSize, fm.classes.length);
  } catch (e) {
    fail(flags.reference, e);
  }
  const dir = path.join(root, "models", name);
  const floatFile = path.join(dir, `${name}.float.json`);
  const text = JSON.stringify(fm, null, 1) + "\n";
  if (fs.existsSync(dir) && (!fs.existsSync(floatFile) || fs.readFileSync(floatFile, "utf8") !== text))
    throw new PublishError(
      `${flags.name} ${name}: ${rel(dir)}/ holds another model; give another ${flags.name} name, or publish that one without an ONNX file`,
    );
  writeFileAtomic(floatFile, text);
  const built = await buildModel(name, { calibration: src.calibration, root });
  if (!ref) return { name, built };
  const { evaluateAgainstReference, missedTargets } = await import("./evaluate");
  const r = evaluateAgainstReference(fm, built.model, ref);
  const missed = missedTargets(r);
  if (missed.length)
    throw new PublishError(
      `${flags.reference} ${src.reference}: the built model misses ${missed.length === 1 ? "a target" : "targets"} of npm run evaluate (nothing sent): ${missed.join("; ")}`,
    );
  const dataset = `owner's reference ${path.basename(src.reference!)}`;
  return {
    name,
    built,
    accuracy:
      r.task === "classification"
        ? {
            dataset,
            samples: r.n,
            metric: "top-1 agreement with the framework's outputs",
            float: r.floatTop1Agreement ?? 0,
            quantized: r.quantizedTop1Agreement ?? 0,
          }
        : {
            dataset,
            samples: r.n,
            metric: "vs the framework's outputs: float max absolute difference, quantized mean absolute error (output units)",
            float: r.floatMaxAbsDiff,
            quantized: r.outputs.reduce((s, o) => s + o.quantizedMae, 0) / r.outputs.length,
          },
  };
}

export interface PublishRequest extends OnnxSource {
  /** Folder for the model's sources and bundle (`models/`, `circuits/models/`, `contracts/verifiers/`, `bundles/`); default `./zkml-models`. */
  workspace?: string;
  /** The card's license (default "unspecified"). */
  license?: string;
  /** Where the bundle goes: the local IPFS node (`{ ipfsDir }`, the default: `~/.cache/zkml-evm/ipfs`), or your `uri` (an `https://` base serving the bundle folder, or `file://`). */
  uri?: string;
  ipfsDir?: string;
  /** Instead of `uri`: the URI to register given the bundle folder once written (e.g. its `file://` URL, for tests). */
  bundleUri?: (bundleDir: string) => string;
}

export interface Published {
  name: string;
  modelId: bigint;
  version: bigint;
  uri: string;
  cid?: string;
  bundleDir: string;
  card: ModelCard;
  verifier: string;
  adapter: string;
  gasUsed: bigint;
}

/**
 * Publishes an ONNX model with `owner`'s account to the registry of the market at `jobs`: import and build in the
 * workspace, write the bundle, add it to the local IPFS node (or register `uri`), deploy its verifier and adapter,
 * register version 1 with its layout.
 * @throws PublishError naming the option before anything is sent; contract errors pass through.
 */
export async function publishOnnx(owner: Signer, jobs: string, req: PublishRequest): Promise<Published> {
  if (req.uri !== undefined && !/^(https?:\/\/|file:)/.test(req.uri))
    throw new PublishError(
      `uri ${req.uri}: give the https:// (or file://) base where the bundle folder is served, or omit it to publish on IPFS`,
    );
  const workspace = path.resolve(req.workspace ?? "zkml-models");
  const { name, built, accuracy } = await importAndBuild(req, workspace);
  const { compileSolidity } = await import("../engine/solc");
  const verifierArtifact = compileSolidity(
    fs.readFileSync(built.paths.batchVerifierFile, "utf8"),
    built.paths.batchVerifierContract,
    built.paths.batchVerifierFile,
  );
  const { writeBundle } = await import("../formats/bundle-files");
  const { bundleSources, modelCard } = await import("./bundle-sources");
  const card = await modelCard(name, req.license ?? "unspecified", accuracy, built);
  const bundleDir = path.join(workspace, "bundles", `${name}-${built.keys.vkHash.slice(0, 12)}`);
  const { files } = writeBundle(bundleSources(built, card), bundleDir);
  let uri = req.uri ?? req.bundleUri?.(bundleDir) ?? "";
  let cid: string | undefined;
  if (!uri) {
    const { addToLocalIpfs } = await import("../engine/ipfs");
    cid = await addToLocalIpfs(files, req.ipfsDir);
    uri = `ipfs://${cid}`;
  }
  const { InferenceJobs__factory, ModelRegistry__factory, VerifierAdapterFactory__factory } = await import("../../typechain-types");
  const { deployGroth16Verifier, registerModel } = await import("../chain/system");
  const { layoutOf, numPublicSignals } = await import("../formats/model-layout");
  const registry = ModelRegistry__factory.connect(await InferenceJobs__factory.connect(jobs, owner).registry(), owner);
  const factory = VerifierAdapterFactory__factory.connect(await registry.factory(), owner);
  const deployed = await deployGroth16Verifier(
    owner,
    { contractName: built.paths.batchVerifierContract, abi: verifierArtifact.abi, bytecode: verifierArtifact.bytecode },
    factory,
    numPublicSignals(built.model),
  );
  const adapter = await deployed.adapter.getAddress();
  const reg = await registerModel(
    registry,
    owner,
    { modelCommitment: built.modelCommitment, circuitHash: built.circuit.r1csHash, vkHash: built.keys.vkHash, uri },
    adapter,
    layoutOf(built.model),
  );
  return {
    name,
    modelId: reg.modelId,
    version: 1n,
    uri,
    ...(cid ? { cid } : {}),
    bundleDir,
    card,
    verifier: deployed.verifier,
    adapter,
    gasUsed: deployed.gasUsed + reg.receipt.gasUsed,
  };
}
