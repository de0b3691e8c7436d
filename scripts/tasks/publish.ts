/**
 * Task `model:publish`: a built model to a registered, servable model version on the open network (docs/operators.md,
 * "Publishing a model"): build (cached), write its bundle (scripts/model/bundle.ts), add it to the local IPFS node
 * (Helia, blockstore in the user cache; the CID is computed by the UnixFS importer, offline) or leave it as a folder
 * to pin or host elsewhere, deploy the verifier + factory adapter, and register the version with `uri = ipfs://<cid>`
 * (or the `--uri` given). Prints the model id, the CID and the gas.
 */
import * as fs from "fs";
import * as path from "path";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { BUILD_DIR, ROOT, rel } from "../lib/paths";
import { type TaskResult } from "./common";
import { UserError } from "./errors";
import { deployOp } from "./deploy";
import { registerOp } from "./model";
import { readRecord } from "./records";

export interface PublishOptions {
  model: string;
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

export async function publishOp(hre: HardhatRuntimeEnvironment, opts: PublishOptions): Promise<TaskResult> {
  const mode = opts.ipfs ?? "local";
  if (mode !== "local" && mode !== "none")
    throw new UserError(`--ipfs ${mode}: give local (the local Helia node) or none (only write the bundle folder)`);
  if (opts.uri !== undefined && !/^(https?:\/\/|file:)/.test(opts.uri))
    throw new UserError(`--uri ${opts.uri}: give the https:// (or file://) base where the bundle folder is served`);
  if (opts.uri && mode === "local")
    throw new UserError("--uri with --ipfs local: the local node's CID is the URI; pass --ipfs none to register your own --uri");
  const modelDir = path.join(ROOT, "models", opts.model);
  if (!fs.existsSync(modelDir))
    throw new UserError(
      `--model ${opts.model}: no models/${opts.model}/ folder; import or train the model first (docs/bring-your-own-model.md)`,
    );

  // 1. deploy the verifier + adapter (builds the model, cached), 2. the bundle, 3. IPFS, 4. register.
  const { buildModel } = await import("../model/build");
  const built = await buildModel(opts.model, { quantize: false });
  const known = readRecord(hre.network.name)?.models[opts.model];
  const deployedAlready =
    known !== undefined &&
    known.manifest.vkHash === built.keys.vkHash &&
    (await hre.ethers.provider.getCode(known.adapter.address)) !== "0x";
  const deployed = deployedAlready
    ? { written: [] as string[], gasUsed: 0n, gasCost: 0n }
    : await deployOp(hre, { models: [opts.model], verify: false, compile: opts.compile ?? true, account: opts.account });
  const { writeBundle } = await import("../model/bundle");
  const { bundleSources, modelCard } = await import("../publish/sources");
  const b = built;
  const card = await modelCard(opts.model, opts.license ?? "unspecified");
  const dir = path.join(BUILD_DIR, "bundles", `${opts.model}-${b.keys.vkHash.slice(0, 12)}`);
  const { files } = writeBundle(bundleSources(b, card), dir);
  let uri = opts.uri ?? `file://${dir}`;
  let cid: string | undefined;
  if (mode === "local") {
    const { startIpfsNode, defaultIpfsDir } = await import("../ipfs/node");
    const node = await startIpfsNode({ dir: opts.ipfsDir ?? defaultIpfsDir(), listen: [] });
    try {
      cid = await node.addDirectory(files);
    } finally {
      await node.stop();
    }
    uri = `ipfs://${cid}`;
  }
  const rec = readRecord(hre.network.name);
  const registered = rec?.models[opts.model]?.modelId !== undefined;
  const sameUri = rec?.models[opts.model]?.uri === uri;
  const reg = await registerOp(hre, {
    model: opts.model,
    proofSystem: "groth16-bn254-v1",
    uri,
    account: opts.account,
    update: registered && !sameUri,
  });
  const bytes = [...files.values()].reduce((s, f) => s + f.length, 0);
  return {
    title: `model:publish ${opts.model} on ${reg.title.split(" on ")[1] ?? hre.network.name}`,
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
      ["keys", card.trustedSetup],
    ],
    written: [...deployed.written, ...reg.written, dir],
    gasUsed: deployed.gasUsed + reg.gasUsed,
    gasCost: deployed.gasCost + reg.gasCost,
    data: { modelId: reg.data?.modelId, cid, uri, bundleDir: dir },
  };
}
