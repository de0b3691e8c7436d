/**
 * Task `model:publish`: a built model, or an ONNX file with its calibration inputs (`--onnx`: import, calibrate and
 * build, evaluated against the owner's framework outputs with `--reference`), to a registered, servable model version
 * on the open network (docs/operators.md, "Publishing a model"): build (cached), write its bundle (scripts/formats/bundle.ts), add it to the local IPFS node
 * (Helia, blockstore in the user cache; the CID is computed by the UnixFS importer, offline) or leave it as a folder
 * to pin or host elsewhere, deploy the verifier + factory adapter, and register the version with `uri = ipfs://<cid>`
 * (or the `--uri` given). Prints the model id, the CID and the gas.
 */
import * as fs from "fs";
import * as path from "path";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { BUILD_DIR, ROOT, rel } from "../../util/paths";
import type { ModelCard } from "../../formats/bundle";
import { type TaskResult } from "./common";
import { UserError } from "../../chain/errors";
import { deployOp } from "./deploy";
import { registerOp } from "./model";
import { readRecord } from "./records";

/** A measured figure with four significant digits (an accuracy in [0, 1], or an error in output units). */
function fmtFigure(v: number): string {
  return Number(v.toPrecision(4)).toString();
}

export interface PublishOptions {
  /** A model folder under models/; with `onnx`, the name to import under (default: the file's base name). */
  model?: string;
  /** An ONNX file to import first (docs/bring-your-own-model.md); needs `calibration`. */
  onnx?: string;
  /** Raw calibration inputs (.npy, .json or .csv) for the ONNX import. */
  calibration?: string;
  /** The owner's framework outputs on some inputs ({"inputs", "outputs"} JSON, as `npm run evaluate` takes). */
  reference?: string;
  /** Import options, as `onnx import` takes them. */
  preprocess?: string;
  classes?: string;
  task?: string;
  /** `local` (default): add to the local Helia node; `none`: only write the bundle folder. */
  ipfs?: string;
  /** Register this URI instead (an `https://` base where the folder is hosted, or `file://`). */
  uri?: string;
  license?: string;
  account?: string;
  /** IPFS blockstore folder (default ~/.cache/zkml-evm/ipfs). */
  ipfsDir?: string;
  compile?: boolean;
}

/**
 * `--onnx`: imports the file to models/<name>/ (refusing to replace another model's float model), builds it with the
 * calibration set and, with `--reference`, evaluates it against the owner's framework outputs, refusing to publish a
 * model that misses the targets of `npm run evaluate` (scripts/pipelines/publish.ts). Nothing is sent before this has
 * passed.
 * @returns The model name and the accuracy for its card.
 */
async function importOnnxForPublish(opts: PublishOptions): Promise<{ name: string; accuracy?: ModelCard["accuracy"] }> {
  if (opts.calibration === undefined)
    throw new UserError("--onnx needs --calibration <inputs.npy|.json|.csv>: raw inputs to quantize with (docs/bring-your-own-model.md)");
  const { PublishError, importAndBuild } = await import("../../pipelines/publish");
  try {
    const r = await importAndBuild(
      {
        onnx: opts.onnx!,
        calibration: opts.calibration,
        name: opts.model,
        reference: opts.reference,
        preprocess: opts.preprocess,
        classes: opts.classes,
        task: opts.task,
      },
      ROOT,
      { onnx: "--onnx", calibration: "--calibration", reference: "--reference", name: "--model" },
    );
    return { name: r.name, accuracy: r.accuracy };
  } catch (e) {
    if (e instanceof PublishError) throw new UserError(e.message);
    throw e;
  }
}

export async function publishOp(hre: HardhatRuntimeEnvironment, opts: PublishOptions): Promise<TaskResult> {
  const mode = opts.ipfs ?? "local";
  if (mode !== "local" && mode !== "none")
    throw new UserError(`--ipfs ${mode}: give local (the local Helia node) or none (only write the bundle folder)`);
  if (opts.uri !== undefined && !/^(https?:\/\/|file:)/.test(opts.uri))
    throw new UserError(`--uri ${opts.uri}: give the https:// (or file://) base where the bundle folder is served`);
  if (opts.uri && mode === "local")
    throw new UserError("--uri with --ipfs local: the local node's CID is the URI; pass --ipfs none to register your own --uri");
  if (opts.onnx === undefined) {
    for (const f of ["calibration", "reference", "preprocess", "classes", "task"] as const)
      if (opts[f] !== undefined) throw new UserError(`--${f} is for --onnx <file>: drop it, or give the ONNX file to import`);
    if (opts.model === undefined) throw new UserError("give --model <name> (a folder under models/) or --onnx <file.onnx>");
  }
  const imported = opts.onnx !== undefined ? await importOnnxForPublish(opts) : undefined;
  const name = imported?.name ?? opts.model!;
  const modelDir = path.join(ROOT, "models", name);
  if (!fs.existsSync(modelDir))
    throw new UserError(`--model ${name}: no models/${name}/ folder; import or train the model first (docs/bring-your-own-model.md)`);

  // 1. deploy the verifier + adapter (builds the model, cached), 2. the bundle, 3. IPFS, 4. register.
  const { buildModel } = await import("../../pipelines/build");
  const built = await buildModel(name, { quantize: false });
  const known = readRecord(hre.network.name)?.models[name];
  const deployedAlready =
    known !== undefined &&
    known.manifest.vkHash === built.keys.vkHash &&
    (await hre.ethers.provider.getCode(known.adapter.address)) !== "0x";
  const deployed = deployedAlready
    ? { written: [] as string[], gasUsed: 0n, gasCost: 0n }
    : await deployOp(hre, {
        models: [name],
        verify: false,
        // a verifier just written by the import (or left uncompiled by an interrupted run) is compiled whatever --no-compile says
        compile: (opts.compile ?? true) || !(await hre.artifacts.artifactExists(built.paths.verifierContract)),
        account: opts.account,
        built: [built],
      });
  const { writeBundle } = await import("../../formats/bundle-files");
  const { bundleSources, modelCard } = await import("../../pipelines/bundle-sources");
  const b = built;
  const card = await modelCard(name, opts.license ?? "unspecified", imported?.accuracy, b);
  const dir = path.join(BUILD_DIR, "bundles", `${name}-${b.keys.vkHash.slice(0, 12)}`);
  const { files } = writeBundle(bundleSources(b, card), dir);
  let uri = opts.uri ?? `file://${dir}`;
  let cid: string | undefined;
  if (mode === "local") {
    const { addToLocalIpfs } = await import("../../engine/ipfs");
    cid = await addToLocalIpfs(files, opts.ipfsDir);
    uri = `ipfs://${cid}`;
  }
  const rec = readRecord(hre.network.name);
  const registered = rec?.models[name]?.modelId !== undefined;
  const sameUri = rec?.models[name]?.uri === uri;
  const reg = await registerOp(hre, {
    model: name,
    proofSystem: "groth16-bn254-v1",
    uri,
    account: opts.account,
    update: registered && !sameUri,
  });
  const bytes = [...files.values()].reduce((s, f) => s + f.length, 0);
  return {
    title: `model:publish ${name} on ${reg.title.split(" on ")[1] ?? hre.network.name}`,
    lines: [
      ["model id", reg.lines.find(([k]) => k === "model id")?.[1] ?? "?"],
      ["uri", uri],
      ...(cid
        ? ([["cid", `${cid} (in the local IPFS node; keep it reachable for provers: npm run ipfs:serve, or pin the folder elsewhere)`]] as [
            string,
            string,
          ][])
        : []),
      ["bundle", `${rel(dir)} (${files.size} files, ${bytes} bytes)`],
      ["constraints", String(card.constraints)],
      [
        "evaluation",
        card.accuracy
          ? `${card.accuracy.metric} on ${card.accuracy.dataset} (${card.accuracy.samples} samples): float ${fmtFigure(card.accuracy.float)}, quantized ${fmtFigure(card.accuracy.quantized)}`
          : "none in the card (no held-out set known for this model): measure it with npm run evaluate, or publish with --onnx --reference",
      ],
      ["keys", card.trustedSetup],
    ],
    written: [...new Set([...deployed.written, ...reg.written, dir])],
    gasUsed: deployed.gasUsed + reg.gasUsed,
    gasCost: deployed.gasCost + reg.gasCost,
    data: { modelId: reg.data?.modelId, cid, uri, bundleDir: dir },
  };
}
