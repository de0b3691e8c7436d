/**
 * The test kit for consumers' Hardhat projects (the package's `zkml-evm/testing` export, docs/consumers.md):
 * `deployInferenceKit(hre)` deploys the registry, the market and the bundled models (their real verifiers, their
 * real bundles, shipped in the package) on the in-process network, and `kit.fulfilJobs()` claims, proves with real
 * Groth16 proofs in this process and submits every open job, as a prover node would. No second process, chain, IPFS
 * daemon or checkout: a consumer's unit test exercises the same verification as production.
 */
import * as fs from "fs";
import * as path from "path";
import { fileURLToPath, pathToFileURL } from "url";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import type {} from "@nomicfoundation/hardhat-ethers"; // hre.ethers
import type { Signer } from "ethers";
import type { InferenceJobs, ModelRegistry } from "../../../typechain-types";
import { BUILD_DIR, ROOT } from "../../util/paths";
import type { OnnxSource } from "../../pipelines/publish";
import { type ModelCard, type BundleManifest, BUNDLE_FILES, parseModelCard } from "../../formats/bundle";
import { readBundle } from "../../formats/bundle-files";
import { type QuantizedModel, validateModel } from "../../formats/quantized-model";
import type { ModelLayout } from "../../formats/model-layout";
import {
  type Artifact,
  type MarketConfig,
  DEFAULT_MARKET,
  bindingFor,
  deployGroth16Verifier,
  deploySystem,
  registerModel,
} from "../../chain/system";
import { InferenceClient } from "../../chain/client";
import { readLocalFile } from "../../chain/node";
import { proveInference } from "../../engine/prove/inference";
import { checkPublicInput, fetchCheckedInput } from "../prover/input";

/** The models the package ships ready to use. */
export const BUNDLED_MODELS = ["iris-mlp", "temp-forecast"] as const;

/** A model the kit registered. */
export interface KitModel {
  name: string;
  modelId: bigint;
  version: bigint;
  card: ModelCard;
  layout: ModelLayout;
  /** The registry `uri` of the version: its bundle folder (`file://`). */
  uri: string;
}

/** What `fulfilJobs` did with one open job. */
export interface KitJob {
  jobId: bigint;
  modelId: bigint;
  /** Fulfilled with this output, or skipped for this reason. */
  output?: bigint;
  skipped?: string;
  gasUsed?: bigint;
}

export interface InferenceKit {
  registry: ModelRegistry;
  jobs: InferenceJobs;
  /** The SDK client over the kit's market, connected with the first signer. */
  client: InferenceClient;
  /** The account that proves (the last Hardhat signer; staked in the market). */
  prover: Signer;
  models: Record<string, KitModel>;
  /** The model id of a model the kit registered. @throws Error naming the registered ones. */
  modelId(name: string): bigint;
  /**
   * Claims, proves (real Groth16, in this process) and submits every open job on the kit's models, in id order.
   * Private-input jobs are skipped (their requester delivers to a claimant; see docs/consumers.md).
   */
  fulfilJobs(): Promise<KitJob[]>;
}

export interface KitOptions {
  /** Which bundled models to register (default: all of {@link BUNDLED_MODELS}). */
  models?: readonly string[];
  /** Market parameters (default: the production defaults, docs/market-rules.md). */
  market?: Partial<MarketConfig>;
  /** Where the bundles are (default: the package's own). */
  bundlesDir?: string;
  /** The registry `uri` of a model's bundle (default: its folder as a `file://` URL), e.g. an `http://` base serving it. */
  bundleUri?: (name: string, dir: string) => string;
  /**
   * Your own models, from their ONNX files: imported, quantized with their calibration inputs, compiled and published
   * as the bundled ones (cached by content, so only the first run compiles), registered under their `name`.
   */
  onnx?: readonly OnnxSource[];
  /** Where own models are built (default: `zkml-testkit` in the build cache). */
  workspace?: string;
}

/** The bundles folder: the package's (`dist/bundles`), or in this repository the one `npm run build:package` writes. */
export function defaultBundlesDir(): string {
  for (const d of [path.join(__dirname, "bundles"), path.join(ROOT, "dist", "bundles")]) if (fs.existsSync(d)) return d;
  throw new Error(
    "the test kit's bundles are missing: in this repository run `npm run build:package` first; from the package, reinstall it",
  );
}

interface LoadedBundle {
  dir: string;
  manifest: BundleManifest;
  model: QuantizedModel;
  card: ModelCard;
  verifier: Artifact;
}

/** A bundle folder the kit proves with. */
export type KitBundle = Omit<LoadedBundle, "verifier">;

/** A bundle folder, checked (scripts/formats/bundle-files.ts), with its model and card parsed. */
function readKitBundle(bdir: string): KitBundle {
  const manifest = readBundle(bdir);
  const json = (f: string) => JSON.parse(fs.readFileSync(path.join(bdir, f), "utf8")) as unknown;
  return {
    dir: bdir,
    manifest,
    model: validateModel(json(BUNDLE_FILES.model) as QuantizedModel),
    card: parseModelCard(json(BUNDLE_FILES.card)),
  };
}

function loadBundle(dir: string, name: string): LoadedBundle {
  const bdir = path.join(dir, name);
  if (!fs.existsSync(bdir)) throw new Error(`model "${name}": no bundle in ${dir}; bundled models: ${BUNDLED_MODELS.join(", ")}`);
  return { ...readKitBundle(bdir), verifier: JSON.parse(fs.readFileSync(path.join(dir, `${name}.verifier.json`), "utf8")) as Artifact };
}

/**
 * What a prover node does, once, for every open job on a model whose bundle is in `bundles` (by model id): reads its
 * input, claims with `prover`'s stake, proves with Groth16 in this process and submits. Private-input jobs are skipped
 * (their requester delivers to a claimant). The kit's `fulfilJobs`, and the `zkml:fulfil` task.
 */
export async function fulfilOpenJobs(jobs: InferenceJobs, prover: Signer, bundles: ReadonlyMap<bigint, KitBundle>): Promise<KitJob[]> {
  const out: KitJob[] = [];
  const next = await jobs.nextJobId();
  for (let jobId = 1n; jobId < next; jobId++) {
    const job = await jobs.getJob(jobId);
    if (Number(job.status) !== 1) continue; // only Open jobs (a kit job is claimed and settled in one call)
    const b = bundles.get(BigInt(job.modelId));
    if (!b) continue;
    const done: KitJob = { jobId, modelId: BigInt(job.modelId) };
    out.push(done);
    if (job.privateInput) {
      done.skipped = "private input: its requester delivers it to a claimant (docs/consumers.md, private inputs)";
      continue;
    }
    let x: bigint[];
    let salt: bigint | undefined;
    try {
      if (b.model.input.mode === "public") {
        const ev = (await jobs.queryFilter(jobs.filters.JobInputs(jobId)))[0];
        if (!ev) throw new Error("no JobInputs event");
        x = checkPublicInput(b.model, ev.args.inputs, await jobs.inputSignalsOf(jobId)).x;
      } else {
        const ev = (await jobs.queryFilter(jobs.filters.JobOpened(jobId)))[0];
        const input = await fetchCheckedInput(ev.args.inputURI, b.model, job.inputCommitment);
        ({ x, salt } = input);
      }
    } catch (e) {
      done.skipped = `input: ${(e as Error).message}`;
      continue;
    }
    await (await jobs.connect(prover).claim(jobId)).wait();
    const binding = await bindingFor(jobs, prover, jobId, await prover.getAddress());
    const files = { wasm: path.join(b.dir, BUNDLE_FILES.wasm), zkey: path.join(b.dir, BUNDLE_FILES.zkey) };
    const p = await proveInference(b.model, files, x, salt, binding);
    const rc = await (await jobs.connect(prover).submitResult(jobId, p.output, p.packed.bytes)).wait();
    done.output = p.output;
    done.gasUsed = rc?.gasUsed;
  }
  return out;
}

/**
 * The bundles of the registry's models whose current version's `uri` is a local folder (`file://`), by model id:
 * what `fulfilOpenJobs` can serve on a deployment made by `deployInferenceKit` or `zkml:deploy`.
 */
export async function localBundles(registry: ModelRegistry): Promise<Map<bigint, KitBundle>> {
  const out = new Map<bigint, KitBundle>();
  const count = await registry.modelCount();
  for (let id = 1n; id <= count; id++) {
    const [version] = await registry.currentVersion(id);
    const [c] = await registry.getModelVersion(id, version);
    if (!c.uri.startsWith("file:")) continue;
    try {
      out.set(id, readKitBundle(fileURLToPath(c.uri)));
    } catch {
      // a folder that is gone or not a bundle: that model is not served here
    }
  }
  return out;
}

/**
 * Deploys the market and registers the bundled models on `hre`'s network (use it inside `loadFixture`).
 * @throws Error naming an unknown model.
 */
export async function deployInferenceKit(hre: HardhatRuntimeEnvironment, opts: KitOptions = {}): Promise<InferenceKit> {
  return deployInferenceKitWith(await hre.ethers.getSigners(), opts);
}

/**
 * {@link deployInferenceKit} with these accounts (any network: e.g. wallets on a `hardhat node`; one account can take
 * every role): the first deploys,
 * the second to last owns the models, the last proves.
 */
export async function deployInferenceKitWith(signers: readonly Signer[], opts: KitOptions = {}): Promise<InferenceKit> {
  if (signers.length === 0) throw new Error("the test kit needs an account: configure one for this network");
  const dir = opts.bundlesDir ?? defaultBundlesDir();
  const names = opts.models ?? BUNDLED_MODELS;
  const bundles = new Map(names.map((n) => [n, loadBundle(dir, n)]));
  const deployer = signers[0];
  const prover = signers[signers.length - 1];
  const owner = signers[Math.max(0, signers.length - 2)];
  const sys = await deploySystem(deployer, { ...DEFAULT_MARKET, ...opts.market });
  const models: Record<string, KitModel> = {};
  const byId = new Map<bigint, KitBundle>();
  for (const [name, b] of bundles) {
    const { adapter } = await deployGroth16Verifier(deployer, b.verifier, sys.factory);
    const uri = opts.bundleUri ? opts.bundleUri(name, b.dir) : pathToFileURL(b.dir).href;
    const r = b.manifest.registry;
    const { modelId } = await registerModel(
      sys.registry,
      owner,
      { modelCommitment: BigInt(r.modelHash), circuitHash: r.circuitHash, vkHash: r.vkHash, uri },
      await adapter.getAddress(),
      r.layout,
    );
    models[name] = { name, modelId, version: 1n, card: b.card, layout: r.layout, uri };
    byId.set(modelId, b);
  }
  const jobs = sys.jobs;
  // the compile toolchain (circom, snarkjs setup, ONNX import) loads only when own models are asked for
  const { publishOnnx } = opts.onnx?.length ? await import("../../pipelines/publish") : { publishOnnx: undefined };
  for (const src of opts.onnx ?? []) {
    const p = await publishOnnx!(owner, await jobs.getAddress(), {
      ...src,
      workspace: opts.workspace ?? path.join(BUILD_DIR, "zkml-testkit"),
      license: "test",
      bundleUri: (d) => pathToFileURL(d).href,
    });
    if (models[p.name]) throw new Error(`onnx: a model named "${p.name}" is already in this kit; give the file another name`);
    const b = readKitBundle(p.bundleDir);
    models[p.name] = { name: p.name, modelId: p.modelId, version: p.version, card: p.card, layout: b.manifest.registry.layout, uri: p.uri };
    byId.set(p.modelId, b);
  }
  await (await jobs.connect(prover).deposit({ value: (await jobs.claimBond()) * 16n })).wait();
  const client = await InferenceClient.connect({ jobs: await jobs.getAddress(), runner: deployer, readFile: readLocalFile });

  const fulfilJobs = (): Promise<KitJob[]> => fulfilOpenJobs(jobs, prover, byId);

  return {
    registry: sys.registry,
    jobs,
    client,
    prover,
    models,
    modelId(name: string): bigint {
      const m = models[name];
      if (!m) throw new Error(`model "${name}" is not in this kit; it has ${Object.keys(models).join(", ")}`);
      return m.modelId;
    },
    fulfilJobs,
  };
}
