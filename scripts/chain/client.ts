/**
 * The SDK: a typed client of one deployment (an `InferenceJobs` market and its `ModelRegistry`) over an ethers v6
 * provider or signer. It lists models and versions with the model card read from each version's bundle, quantizes
 * raw inputs the way the model was built, opens jobs in every mode the market has (public inputs, a committed input
 * published as a `data:` URI or at a URI of yours, a private input delivered to the claimant), optimistic jobs (a
 * result posted without a proof, final after a challenge window: `jobStatus`, `finalize`, `challenge`), waits for a
 * job and returns its decoded result, reclaims, and watches jobs. The package's root export (docs/consumers.md, "The SDK").
 *
 * Trust: a bundle file is used only when its sha256 is the one `bundle.json` lists, and `bundle.json` only when the
 * hashes it records are the registry version's; results are read from the chain, which verified their proofs.
 * It imports no Node module, so it runs in browsers as is; `file://` bundles take a file reader and private delivery
 * is in ./node.ts (`zkml-evm/node`).
 */
import { type ContractRunner, type Signer, getAddress, randomBytes, sha256, toBigInt } from "ethers";
import { type InferenceJobs, InferenceJobs__factory, type ModelRegistry, ModelRegistry__factory } from "../../typechain-types";
import { SNARK_FIELD } from "../util/field";
import { decodeCustomError, revertData } from "./errors";
import { type TokenPayment, TokenPaymentError, checkTokenPayment } from "./erc20";
import {
  BUNDLE_FILES,
  BUNDLE_MANIFEST,
  type BundleManifest,
  type ModelCard,
  ipfsBundleCid,
  parseBundleManifest,
  parseModelCard,
} from "../formats/bundle";
import { commitSigned, unpackSigned } from "../formats/commitments";
import { signedRange } from "../formats/fixed-point";
import { dataUri } from "../formats/job-input";
import type { ModelLayout } from "../formats/model-layout";
import { quantizeFeatures } from "../formats/quantized-input";
import { standardize } from "../formats/float-model";

/** A problem the caller can fix; the message names the field and what to do. */
export class InferenceClientError extends Error {
  override name = "InferenceClientError";
}

/** How the client reaches bundles. */
export interface BundleAccess {
  /** Gateway for `ipfs://` bundles, e.g. `http://127.0.0.1:8080` (the client asks `<gateway>/ipfs/<cid>/<file>`). */
  ipfsGateway?: string;
  /**
   * Reads file `name` of the `ipfs://<cid>` bundle some other way than a path-style gateway, e.g. with an IPFS node of
   * one's own that checks every block against its CID (Node: `IpfsBundleReader` of scripts/chain/ipfs-reader.ts).
   * Used instead of `ipfsGateway` when given.
   */
  readIpfs?: (cid: string, name: string) => Promise<Uint8Array>;
  /** The fetch to use (default: the global one). */
  fetch?: typeof fetch;
  /** Reads a local file, for `file://` bundles (Node: `readLocalFile` of `zkml-evm/node`; browsers have none). */
  readFile?: (path: string) => Promise<Uint8Array>;
}

export interface ClientOptions extends BundleAccess {
  /** The `InferenceJobs` market address. */
  jobs: string;
  /** A provider (read-only) or a signer (to open jobs, reclaim). */
  runner: ContractRunner;
}

/** A registered model. */
export interface ModelSummary {
  modelId: bigint;
  owner: string;
  /** The version new jobs pin. */
  currentVersion: bigint;
  deprecated: boolean;
}

/** One version of a model, as the registry records it. */
export interface ModelVersion {
  modelId: bigint;
  version: bigint;
  /** Where its bundle is (`ipfs://<cid>`, `https://...`, `file://...`). */
  uri: string;
  modelHash: string;
  circuitHash: string;
  vkHash: string;
  /** The verifier adapter. */
  verifier: string;
  layout: ModelLayout;
}

/** What a job's input is, by mode (the model's layout decides which ones apply). */
export type JobInputRequest = { raw: readonly number[]; quantized?: never } | { quantized: readonly (bigint | number)[]; raw?: never };

export interface OpenJobRequest {
  modelId: bigint | number;
  /** The version you checked (default: the current one, read now). The market refuses the job if it is not current. */
  version?: bigint | number;
  input: JobInputRequest;
  /** Fee escrowed for the prover: in wei, or with `feeToken` in the token's smallest units. */
  fee: bigint;
  /**
   * Pay the fee in this ERC-20 token instead of ETH (docs/market-rules.md, "Payment tokens"): the client checks that
   * it is a contract and that your balance covers the fee, approves the market for the fee when the allowance is
   * short (unless `approve` is false), then opens the token job. Fee-on-transfer tokens are refused by the market.
   */
  feeToken?: string;
  /** With `feeToken`: approve the market when its allowance is below the fee (default true; false: refuse instead). */
  approve?: boolean;
  /** Seconds from the chain's latest block to the deadline (default 3600). */
  deadlineIn?: number;
  /**
   * Committed-input models only: how provers get the opening (input and salt). `data` (default): published in the
   * job as a `data:` URI; `uri`: at `inputURI` (you host the opening JSON there); `private`: kept until a prover
   * claims, then delivered encrypted with `deliverInput` of `zkml-evm/node`.
   */
  delivery?: "data" | "uri" | "private";
  inputURI?: string;
  /** Salt of the commitment (default: 31 random bytes). */
  salt?: bigint;
  /**
   * Make the job optimistic (docs/market-rules.md, "Optimistic results"): a prover may post its result without a
   * proof, final after the market's challenge window unless a watcher disproves it. The client sends `setOptimistic`
   * right after the open (the market has no one-transaction open for an account; a consumer contract does both in one:
   * `_requestOptimisticInference`). The deadline must leave room for a claim and the post rule
   * (`challengeWindow + proofWindow + openWindow`). Watchers can re-run public-input jobs and jobs whose opening is
   * published (`delivery` "data" or "uri"); a private job's only watcher is you.
   */
  optimistic?: boolean;
}

export interface OpenedJob {
  jobId: bigint;
  modelId: bigint;
  version: bigint;
  /** The quantized input. */
  x: bigint[];
  /** Committed-input jobs: the salt and the commitment (keep the salt to deliver a private input). */
  salt?: bigint;
  inputCommitment?: bigint;
  txHash: string;
  /** The `setOptimistic` transaction, when the job was opened with `optimistic: true`. */
  optimisticTxHash?: string;
}

/** A job's state; `posted`: an optimistic result is posted and not final yet (see `jobStatus`). */
export type JobState = "open" | "claimed" | "fulfilled" | "reclaimed" | "posted";

/** A job's state with its optimistic mode and, while a result is posted, what and until when (`jobStatus`). */
export interface JobStatus {
  jobId: bigint;
  state: JobState;
  /** Last second (inclusive) at which a result is accepted. */
  deadline: bigint;
  /** Whether the job takes posted results (off again after a bond challenge went unanswered). */
  optimistic: boolean;
  /** While `posted`: the poster, its output, the window's last second, and the bond challenge if any. */
  posted?: {
    poster: string;
    output: bigint;
    /** Last second (inclusive) at which the result can be challenged; after it (unchallenged) anyone finalises it. */
    windowEnd: bigint;
    challenger?: string;
    /** With a bond challenge: the poster's last second to prove its output, after which it can be expired. */
    proofDeadline?: bigint;
    /** Whether `finalize` would go through now (window passed, no bond challenge). */
    finalizable: boolean;
  };
}

/** A verified result, decoded with the version's layout (and the card's names when it was read). */
export interface InferenceResult {
  jobId: bigint;
  /** Public signal 0 as the chain recorded it. */
  output: bigint;
  /** Argmax models: the class index, and its name from the model card. */
  class?: number;
  label?: string;
  /** Values models: the outputs as numbers (`value / 2^frac`), the integers and `frac`. */
  values?: number[];
  fixedPoint?: { values: bigint[]; frac: number };
  /** Who proved it, and the transaction. */
  prover?: string;
  txHash?: string;
  /** True when the result is an optimistic post finalised after its window without a proof (`prover` is its poster). */
  unproven?: boolean;
}

const STATES: Record<number, JobState | undefined> = { 1: "open", 2: "claimed", 3: "fulfilled", 4: "reclaimed", 5: "posted" };
const ZERO_ADDRESS = "0x0000000000000000000000000000000000000000";

/** The quantized input of `raw` features for a model, from its card: standardize, scale by 2^frac, round, clamp. */
export function quantizeWithCard(card: ModelCard, raw: readonly number[]): bigint[] {
  if (raw.length !== card.input.size)
    throw new InferenceClientError(`input has ${raw.length} values; model ${card.name} takes ${card.input.size}`);
  raw.forEach((v, i) => {
    if (typeof v !== "number" || !Number.isFinite(v)) throw new InferenceClientError(`input[${i}] = ${String(v)} is not a finite number`);
  });
  const pre = card.input.preprocess;
  return quantizeFeatures(card, pre ? standardize(pre, raw) : [...raw]);
}

/** Decodes public signal 0 with a version's layout; names come from the card when given. */
export function decodeOutput(layout: ModelLayout, output: bigint, card?: ModelCard): Omit<InferenceResult, "jobId"> {
  if (layout.outputHead === 0) {
    const k = Number(output);
    return { output, class: k, ...(card?.outputs[k] !== undefined ? { label: card.outputs[k] } : {}) };
  }
  const fixed = unpackSigned(output, layout.outputCount, layout.outputBits);
  return {
    output,
    values: fixed.map((v) => Number(v) / 2 ** layout.outputFrac),
    fixedPoint: { values: fixed, frac: layout.outputFrac },
  };
}

/**
 * The URL (or `file:` URL) of one file of the bundle at `uri`: `ipfs://<cid>` through `access.ipfsGateway`,
 * `https://`, `http://` and `file://` bases as they are.
 * @throws InferenceClientError for an `ipfs://` bundle without a gateway, or another scheme.
 */
export function bundleFileUrl(uri: string, name: string, access: BundleAccess): string {
  const base = uri.replace(/\/+$/, "");
  if (base.startsWith("ipfs://")) {
    if (!access.ipfsGateway)
      throw new InferenceClientError(
        `bundle ${uri} is on IPFS: pass ipfsGateway (e.g. http://127.0.0.1:8080) or readIpfs (an IPFS node of yours) to the client`,
      );
    return `${access.ipfsGateway.replace(/\/+$/, "")}/ipfs/${base.slice("ipfs://".length)}/${name}`;
  }
  if (base.startsWith("https://") || base.startsWith("http://") || base.startsWith("file:")) return `${base}/${name}`;
  throw new InferenceClientError(`bundle URI ${uri.slice(0, 60)}: unsupported scheme (ipfs://, https://, http:// or file://)`);
}

/** Reads one bundle file's bytes. `file:` URLs need `access.readFile` (Node); `ipfs://` ones `access.readIpfs` or a gateway. */
export async function readBundleFile(uri: string, name: string, access: BundleAccess): Promise<Uint8Array> {
  if (access.readIpfs && uri.startsWith("ipfs://")) {
    let cid: string;
    try {
      cid = ipfsBundleCid(uri);
    } catch (e) {
      throw new InferenceClientError((e as Error).message);
    }
    return access.readIpfs(cid, name);
  }
  const url = bundleFileUrl(uri, name, access);
  if (url.startsWith("file:")) {
    if (!access.readFile)
      throw new InferenceClientError(
        `bundle ${uri} is a local folder: pass readFile to the client (Node: readLocalFile from "zkml-evm/node")`,
      );
    const p = decodeURIComponent(url.replace(/^file:(\/\/)?/, ""));
    try {
      return await access.readFile(p);
    } catch (e) {
      throw new InferenceClientError(`bundle file ${url} could not be read (${(e as { code?: string }).code ?? (e as Error).message})`);
    }
  }
  const f = access.fetch ?? fetch;
  let res: Response;
  try {
    res = await f(url, { signal: AbortSignal.timeout(30_000) });
  } catch (e) {
    throw new InferenceClientError(`bundle file ${url} could not be fetched (${(e as Error).message})`);
  }
  if (!res.ok) throw new InferenceClientError(`bundle file ${url} answered HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** Seconds an optimistic job's deadline keeps beyond its windows, for the claim and the post's block. */
const OPTIMISTIC_MARGIN_S = 60;

const hex32 = (v: string): string => `0x${v.replace(/^0x/, "").padStart(64, "0")}`.toLowerCase();

/** What {@link readVersionManifest} checks a bundle against: the registry's record of one version. */
export type VersionRecord = Pick<ModelVersion, "modelId" | "version" | "uri" | "modelHash" | "circuitHash" | "vkHash">;

/**
 * The bundle manifest of a version, checked against the registry (modelHash, circuitHash, vkHash).
 * @throws InferenceClientError when it cannot be read or does not describe this version.
 */
export async function readVersionManifest(v: VersionRecord, access: BundleAccess): Promise<BundleManifest> {
  let manifest: BundleManifest;
  try {
    manifest = parseBundleManifest(JSON.parse(new TextDecoder().decode(await readBundleFile(v.uri, BUNDLE_MANIFEST, access))));
  } catch (e) {
    if (e instanceof InferenceClientError) throw e;
    throw new InferenceClientError(`model ${v.modelId} version ${v.version}: ${(e as Error).message}`);
  }
  for (const k of ["modelHash", "circuitHash", "vkHash"] as const)
    if (hex32(manifest.registry[k]) !== hex32(v[k]))
      throw new InferenceClientError(
        `model ${v.modelId} version ${v.version}: the bundle at ${v.uri} records ${k} ${manifest.registry[k]}, the registry ${v[k]}: it is not this version's bundle`,
      );
  return manifest;
}

/**
 * The model card of a version, checked against its (checked) manifest.
 * @throws InferenceClientError when it cannot be read, is not the file the manifest lists, or is malformed.
 */
export async function readVersionCard(v: VersionRecord, manifest: BundleManifest, access: BundleAccess): Promise<ModelCard> {
  const bytes = await readBundleFile(v.uri, BUNDLE_FILES.card, access);
  if (sha256(bytes) !== `0x${manifest.files.card.sha256}`)
    throw new InferenceClientError(`model ${v.modelId} version ${v.version}: card.json at ${v.uri} is not the one bundle.json lists`);
  try {
    return parseModelCard(JSON.parse(new TextDecoder().decode(bytes)));
  } catch (e) {
    throw new InferenceClientError(`model ${v.modelId} version ${v.version}: ${(e as Error).message}`);
  }
}

/** The client of one deployment. Create it with {@link InferenceClient.connect}. */
export class InferenceClient {
  private readonly cards = new Map<string, ModelCard>();

  private constructor(
    readonly jobs: InferenceJobs,
    readonly registry: ModelRegistry,
    private readonly access: BundleAccess,
  ) {}

  /**
   * Connects to the market at `opts.jobs` and the registry it uses.
   * @throws InferenceClientError when `jobs` is not an address or no market answers there.
   */
  static async connect(opts: ClientOptions): Promise<InferenceClient> {
    let address: string;
    try {
      address = getAddress(opts.jobs);
    } catch {
      throw new InferenceClientError(`jobs: "${opts.jobs}" is not an address; pass the InferenceJobs address of your deployment`);
    }
    const jobs = InferenceJobs__factory.connect(address, opts.runner);
    let registry: string;
    try {
      registry = await jobs.registry();
    } catch (e) {
      throw new InferenceClientError(
        `jobs: no InferenceJobs market answers at ${address} (${(e as Error).message.split("\n")[0].slice(0, 120)}); check the address and the network`,
      );
    }
    return new InferenceClient(jobs, ModelRegistry__factory.connect(registry, opts.runner), {
      ipfsGateway: opts.ipfsGateway,
      readIpfs: opts.readIpfs,
      fetch: opts.fetch,
      readFile: opts.readFile,
    });
  }

  /** Models `from` .. `from + limit - 1` that exist (ids start at 1). */
  async listModels(from = 1n, limit = 100): Promise<ModelSummary[]> {
    const count = await this.registry.modelCount();
    const out: ModelSummary[] = [];
    for (let id = BigInt(from); id <= count && out.length < limit; id++) out.push(await this.getModel(id));
    return out;
  }

  /** @throws InferenceClientError for an unknown model. */
  async getModel(modelId: bigint | number): Promise<ModelSummary> {
    const id = BigInt(modelId);
    const unknown = async () => new InferenceClientError(`modelId ${id}: no such model in registry ${await this.registry.getAddress()}`);
    let info;
    try {
      info = await this.registry.modelInfo(id);
    } catch (e) {
      const data = revertData(e);
      if (data && decodeCustomError(data, [this.registry.interface])?.name === "ModelNotFound") throw await unknown();
      throw e;
    }
    if (info.owner === "0x0000000000000000000000000000000000000000") throw await unknown();
    return { modelId: id, owner: info.owner, currentVersion: BigInt(info.latestVersion), deprecated: info.deprecated };
  }

  /** A version as the registry records it (default: the current one). */
  async getVersion(modelId: bigint | number, version?: bigint | number): Promise<ModelVersion> {
    const m = await this.getModel(modelId);
    const v = version === undefined ? m.currentVersion : BigInt(version);
    if (v < 1n || v > m.currentVersion)
      throw new InferenceClientError(`version ${v}: model ${m.modelId} has versions 1..${m.currentVersion}`);
    const [c, verifier] = await this.registry.getModelVersion(m.modelId, v);
    const l = await this.registry.layoutOf(m.modelId, v);
    return {
      modelId: m.modelId,
      version: v,
      uri: c.uri,
      modelHash: hex32(c.modelHash),
      circuitHash: hex32(c.circuitHash),
      vkHash: hex32(c.vkHash),
      verifier,
      layout: {
        inputMode: Number(l.inputMode) as 0 | 1,
        outputHead: Number(l.outputHead) as 0 | 1,
        inputCount: Number(l.inputCount),
        inputBits: Number(l.inputBits),
        outputCount: Number(l.outputCount),
        outputBits: Number(l.outputBits),
        outputFrac: Number(l.outputFrac),
      },
    };
  }

  /**
   * The bundle manifest of a version, checked against the registry (modelHash, circuitHash, vkHash).
   * @throws InferenceClientError when it cannot be read or does not describe this version.
   */
  async bundleManifest(v: ModelVersion): Promise<BundleManifest> {
    return readVersionManifest(v, this.access);
  }

  /**
   * The model card of a version (default: the current one), read from its bundle and checked against the bundle
   * manifest, and the manifest against the registry. Cached per version.
   */
  async modelCard(modelId: bigint | number, version?: bigint | number): Promise<ModelCard> {
    const v = await this.getVersion(modelId, version);
    const key = `${v.modelId}/${v.version}`;
    const cached = this.cards.get(key);
    if (cached) return cached;
    const card = await readVersionCard(v, await this.bundleManifest(v), this.access);
    this.cards.set(key, card);
    return card;
  }

  /**
   * The commitment of an input for a committed-input version, without opening a job: what a consumer contract's
   * request takes (`_requestInference(inputCommitment, inputURI, ...)`). `inputURI` is the opening as a `data:` URI
   * (public: publish it only when the input may be public).
   */
  async commitInput(
    modelId: bigint | number,
    input: JobInputRequest,
    opts: { version?: bigint | number; salt?: bigint } = {},
  ): Promise<{ x: bigint[]; salt: bigint; inputCommitment: bigint; inputURI: string }> {
    const v = await this.getVersion(modelId, opts.version);
    if (v.layout.inputMode !== 0)
      throw new InferenceClientError(
        `modelId ${v.modelId}: version ${v.version} takes public inputs; pass the quantized values to the job itself`,
      );
    const x = await this.quantized(v, input);
    const salt = opts.salt ?? toBigInt(randomBytes(31));
    if (salt < 0n || salt >= SNARK_FIELD) throw new InferenceClientError("salt must be in 0 .. r-1 (the BN254 scalar field)");
    return { x, salt, inputCommitment: await commitSigned(x, v.layout.inputBits, salt, "input"), inputURI: dataUri({ x, salt }) };
  }

  /**
   * Opens a job: checks the input against the version's layout, quantizes a raw input with the card, escrows `fee`.
   * Everything is checked before the transaction.
   * @throws InferenceClientError naming the field; the market's own errors pass through decoded by ethers.
   */
  async openJob(req: OpenJobRequest): Promise<OpenedJob> {
    const v = await this.getVersion(req.modelId, req.version);
    const m = await this.getModel(v.modelId);
    if (m.deprecated) throw new InferenceClientError(`modelId ${v.modelId} is deprecated: its owner stopped it; pick another model`);
    if (v.version !== m.currentVersion)
      throw new InferenceClientError(
        `version ${v.version}: model ${v.modelId} is at version ${m.currentVersion} and the market pins only the current version; check version ${m.currentVersion} and name it`,
      );
    if (req.fee <= 0n) throw new InferenceClientError(`fee must be more than 0 ${req.feeToken === undefined ? "wei" : "token units"}`);
    const isPublic = v.layout.inputMode === 1;
    const delivery = req.delivery ?? (req.inputURI ? "uri" : "data");
    if (isPublic && (req.delivery || req.inputURI))
      throw new InferenceClientError(
        `delivery: model ${v.modelId} takes public inputs (they go on chain with the job); omit delivery and inputURI`,
      );
    if ((delivery === "uri") !== Boolean(req.inputURI))
      throw new InferenceClientError(req.inputURI ? `inputURI is only published with delivery "uri"` : `delivery "uri" needs inputURI`);
    const x = await this.quantized(v, req.input);
    const salt = req.salt ?? toBigInt(randomBytes(31));
    if (salt < 0n || salt >= SNARK_FIELD) throw new InferenceClientError("salt must be in 0 .. r-1 (the BN254 scalar field)");
    const latest = await this.runnerProvider().getBlock("latest");
    const deadline = BigInt((latest?.timestamp ?? Math.floor(Date.now() / 1000)) + (req.deadlineIn ?? 3600));
    if (req.optimistic) await this.checkOptimisticDeadline(req.deadlineIn ?? 3600);
    const jobs = this.jobs.connect(this.signer());
    let tx;
    let commitment: bigint | undefined;
    if (req.feeToken !== undefined) {
      // every check before the first transaction (the approval)
      const token = await this.checkedFeeToken(req.feeToken, req.fee, req.approve ?? true);
      if (!isPublic) commitment = await commitSigned(x, v.layout.inputBits, salt, "input");
      await token.approveIfShort();
      tx = isPublic
        ? await jobs.openTokenJobWithInputs(token.address, req.fee, v.modelId, v.version, x, deadline, false)
        : delivery === "private"
          ? await jobs.openPrivateTokenJob(token.address, req.fee, v.modelId, v.version, commitment!, deadline, false)
          : await jobs.openTokenJob(
              token.address,
              req.fee,
              v.modelId,
              v.version,
              commitment!,
              delivery === "data" ? dataUri({ x, salt }) : req.inputURI!,
              deadline,
              false,
            );
    } else if (isPublic) {
      tx = await jobs.openJobWithInputs(v.modelId, v.version, x, deadline, false, { value: req.fee });
    } else {
      commitment = await commitSigned(x, v.layout.inputBits, salt, "input");
      tx =
        delivery === "private"
          ? await jobs.openPrivateJob(v.modelId, v.version, commitment, deadline, false, { value: req.fee })
          : await jobs.openJob(
              v.modelId,
              v.version,
              commitment,
              delivery === "data" ? dataUri({ x, salt }) : req.inputURI!,
              deadline,
              false,
              {
                value: req.fee,
              },
            );
    }
    const rc = await tx.wait();
    const ev = rc?.logs.map((l) => this.jobs.interface.parseLog(l)).find((p) => p?.name === "JobOpened");
    if (!rc || !ev) throw new InferenceClientError(`transaction ${tx.hash} opened no job`);
    const jobId = ev.args.jobId as bigint;
    let optimisticTxHash: string | undefined;
    if (req.optimistic) optimisticTxHash = (await (await jobs.setOptimistic(jobId)).wait())!.hash;
    return {
      jobId,
      modelId: v.modelId,
      version: v.version,
      x,
      ...(isPublic ? {} : { salt, inputCommitment: commitment }),
      txHash: rc.hash,
      ...(optimisticTxHash ? { optimisticTxHash } : {}),
    };
  }

  /**
   * An optimistic job's deadline must leave room for a claim and the post rule (`now + challengeWindow + proofWindow
   * + openWindow <= deadline` at the post), or no prover can post and it is proven as any job.
   * @throws InferenceClientError naming deadlineIn and the least value that works.
   */
  private async checkOptimisticDeadline(deadlineIn: number): Promise<void> {
    const [, challengeWindow, proofWindow] = await this.jobs.optimisticParameters();
    const least = Number(challengeWindow + proofWindow + (await this.jobs.openWindow())) + OPTIMISTIC_MARGIN_S;
    if (deadlineIn < least)
      throw new InferenceClientError(
        `deadlineIn ${deadlineIn}: an optimistic job needs its challenge, proof and open windows plus a claim before its deadline; give deadlineIn >= ${least} or drop optimistic`,
      );
  }

  /** The job's state, its optimistic mode and, while a result is posted, its window and any bond challenge. */
  async jobStatus(jobId: bigint | number): Promise<JobStatus> {
    const id = BigInt(jobId);
    const state = await this.jobState(id);
    const [j, o] = await Promise.all([this.jobs.getJob(id), this.jobs.optimisticStateOf(id)]);
    const out: JobStatus = { jobId: id, state, deadline: BigInt(j.deadline), optimistic: o.optimistic };
    if (state === "posted") {
      const now = BigInt((await this.runnerProvider().getBlock("latest"))?.timestamp ?? 0);
      const challenged = o.challenger !== ZERO_ADDRESS;
      out.posted = {
        poster: o.poster,
        output: o.output,
        windowEnd: o.windowEnd,
        ...(challenged ? { challenger: o.challenger, proofDeadline: o.proofDeadline } : {}),
        finalizable: !challenged && now > o.windowEnd,
      };
    }
    return out;
  }

  /**
   * Finalises a posted result whose challenge window has passed without a bond challenge (anyone may: the poster is
   * paid, your callback runs). Checked before the transaction.
   * @throws InferenceClientError naming the job and why not (not posted, window still open, challenged).
   */
  async finalize(jobId: bigint | number): Promise<string> {
    const s = await this.jobStatus(jobId);
    if (!s.posted) throw new InferenceClientError(`job ${s.jobId} is ${s.state}, not posted: nothing to finalize`);
    if (s.posted.challenger)
      throw new InferenceClientError(
        `job ${s.jobId}: its result is challenged by ${s.posted.challenger}; the poster has until ${s.posted.proofDeadline} to prove it (after that, expireChallenge), it cannot be finalized`,
      );
    if (!s.posted.finalizable)
      throw new InferenceClientError(`job ${s.jobId}: its challenge window is open until ${s.posted.windowEnd}; finalize after it`);
    return (await (await this.jobs.connect(this.signer()).finalizeResult(s.jobId)).wait())!.hash;
  }

  /**
   * Challenges a posted result by bond (`challengeResult`): the poster must prove it within the proof window or
   * loses its bond to you; if it proves it, you lose the challenge bond. Challenge only a result you have re-run and
   * found wrong (a proof of the true output, `submitResult`, settles at once and pays better: docs/market-rules.md).
   * With `deposit`, the shortfall of your market balance below the challenge bond is deposited first.
   * @throws InferenceClientError naming the job or the balance, before any transaction.
   */
  async challenge(jobId: bigint | number, opts: { deposit?: boolean } = {}): Promise<{ txHash: string; proofDeadline: bigint }> {
    const s = await this.jobStatus(jobId);
    if (!s.posted) throw new InferenceClientError(`job ${s.jobId} is ${s.state}, not posted: there is no result to challenge`);
    if (s.posted.challenger) throw new InferenceClientError(`job ${s.jobId}: its result is already challenged by ${s.posted.challenger}`);
    const now = BigInt((await this.runnerProvider().getBlock("latest"))?.timestamp ?? 0);
    if (now >= s.posted.windowEnd)
      throw new InferenceClientError(`job ${s.jobId}: its challenge window closed at ${s.posted.windowEnd}; it can only be finalized`);
    const jobs = this.jobs.connect(this.signer());
    const me = await this.signer().getAddress();
    const [bond] = await this.jobs.optimisticParameters();
    const available = (await this.jobs.accountOf(me)).available;
    if (available < bond) {
      if (!opts.deposit)
        throw new InferenceClientError(
          `deposit: the market balance of ${me} is ${available} wei, below the challenge bond ${bond}; deposit ${bond - available} wei or pass deposit: true`,
        );
      await (await jobs.deposit({ value: bond - available })).wait();
    }
    const rc = (await (await jobs.challengeResult(s.jobId)).wait())!;
    const ev = rc.logs.map((l) => this.jobs.interface.parseLog(l)).find((p) => p?.name === "ResultChallenged");
    return { txHash: rc.hash, proofDeadline: ev ? (ev.args.proofDeadline as bigint) : 0n };
  }

  /**
   * Checks an ERC-20 fee before any transaction (./erc20.ts): the fee fits the market's 96 bits, `feeToken` is an
   * address with code, the signer's balance covers the fee, and the market's allowance does too unless `approve`
   * (then `approveIfShort` approves exactly the fee, through 0 first when an allowance is already set, as USDT requires).
   * @throws InferenceClientError naming feeToken or fee, with the fix.
   */
  private async checkedFeeToken(feeToken: string, fee: bigint, approve: boolean): Promise<TokenPayment> {
    if (fee >= 1n << 96n) throw new InferenceClientError(`fee ${fee}: the market takes fees below 2^96 token units; lower fee`);
    try {
      return await checkTokenPayment(this.signer(), feeToken, await this.jobs.getAddress(), fee, {
        approve,
        names: { token: "feeToken", amount: "fee", amountWord: "fee", spender: "market", approveFix: "pass approve: true" },
      });
    } catch (e) {
      throw e instanceof TokenPaymentError ? new InferenceClientError(e.message) : e;
    }
  }

  /** The job's state now. @throws InferenceClientError for an unknown job. */
  async jobState(jobId: bigint | number): Promise<JobState> {
    const j = await this.jobs.getJob(BigInt(jobId));
    const s = STATES[Number(j.status)];
    if (!s) throw new InferenceClientError(`jobId ${jobId}: no such job on market ${await this.jobs.getAddress()}`);
    return s;
  }

  /** The decoded result of a fulfilled job, or undefined while it is not fulfilled. */
  async getResult(jobId: bigint | number): Promise<InferenceResult | undefined> {
    const id = BigInt(jobId);
    const [fulfilled, output] = await this.jobs.resultOf(id);
    if (!fulfilled) return undefined;
    const j = await this.jobs.getJob(id);
    const v = await this.getVersion(j.modelId, j.modelVersion);
    let card: ModelCard | undefined;
    try {
      card = await this.modelCard(v.modelId, v.version);
    } catch {
      card = undefined; // names are a convenience: the result is the chain's
    }
    const ev = (await this.jobs.queryFilter(this.jobs.filters.JobFulfilled(id)))[0];
    // a posted result made final by finalizeResult carries no proof (the only other way to fulfil a job is one)
    let unproven = false;
    if (ev && (await this.jobs.queryFilter(this.jobs.filters.ResultPosted(id))).length > 0) {
      const tx = await this.runnerProvider().getTransaction(ev.transactionHash);
      unproven = tx?.data.startsWith(this.jobs.interface.getFunction("finalizeResult").selector) ?? false;
    }
    return {
      jobId: id,
      ...decodeOutput(v.layout, output, card),
      ...(ev ? { prover: ev.args.prover, txHash: ev.transactionHash } : {}),
      ...(unproven ? { unproven } : {}),
    };
  }

  /**
   * Waits until the job is fulfilled (a verified proof, or an optimistic result finalised after its window) and returns
   * its decoded result.
   * @throws InferenceClientError when the job was reclaimed, or after `timeoutMs` (default 10 min).
   */
  async waitForResult(jobId: bigint | number, opts: { timeoutMs?: number; pollMs?: number } = {}): Promise<InferenceResult> {
    const until = Date.now() + (opts.timeoutMs ?? 600_000);
    for (;;) {
      const r = await this.getResult(jobId);
      if (r) return r;
      if ((await this.jobState(jobId)) === "reclaimed") throw new InferenceClientError(`job ${jobId} was reclaimed: it has no result`);
      if (Date.now() > until)
        throw new InferenceClientError(
          `job ${jobId} has no result after ${opts.timeoutMs ?? 600_000} ms; it is ${await this.jobState(jobId)}`,
        );
      await new Promise((r) => setTimeout(r, opts.pollMs ?? 1000));
    }
  }

  /** Takes back the fee of a job not fulfilled by its deadline (credited to the requester's market balance). */
  async reclaim(jobId: bigint | number): Promise<string> {
    const tx = await this.jobs.connect(this.signer()).reclaim(BigInt(jobId));
    return (await tx.wait())!.hash;
  }

  /**
   * Calls `onChange` with the job's state whenever it changes (polling every `pollMs`, default 1 s), and with the
   * decoded result when it is fulfilled; stops after fulfilment or reclaim, or when the returned function is called.
   */
  watchJob(jobId: bigint | number, onChange: (state: JobState, result?: InferenceResult) => void, pollMs = 1000): () => void {
    let stopped = false;
    let last: JobState | undefined;
    const tick = async () => {
      while (!stopped) {
        try {
          const s = await this.jobState(jobId);
          if (s !== last) {
            last = s;
            onChange(s, s === "fulfilled" ? await this.getResult(jobId) : undefined);
          }
          if (s === "fulfilled" || s === "reclaimed") return;
        } catch {
          // a failed poll is retried at the next tick
        }
        await new Promise((r) => setTimeout(r, pollMs));
      }
    };
    void tick();
    return () => {
      stopped = true;
    };
  }

  private async quantized(v: ModelVersion, input: JobInputRequest): Promise<bigint[]> {
    let x: bigint[];
    if (input.raw !== undefined) x = quantizeWithCard(await this.modelCard(v.modelId, v.version), input.raw);
    else if (input.quantized !== undefined) x = input.quantized.map((q) => BigInt(q));
    else throw new InferenceClientError("input: give { raw: [...] } (float features) or { quantized: [...] } (integers)");
    if (x.length !== v.layout.inputCount)
      throw new InferenceClientError(`input has ${x.length} values; model ${v.modelId} takes ${v.layout.inputCount}`);
    const { lo, hi } = signedRange(v.layout.inputBits);
    x.forEach((q, i) => {
      if (q < lo || q > hi)
        throw new InferenceClientError(`input[${i}] = ${q} is outside the model's ${v.layout.inputBits}-bit range [${lo}, ${hi}]`);
    });
    return x;
  }

  /** The signer this client sends with. @throws InferenceClientError for a read-only client. */
  signer(): Signer {
    const r = this.jobs.runner;
    if (!r || typeof (r as Signer).sendTransaction !== "function")
      throw new InferenceClientError("this client has a read-only runner: connect it with a signer to send transactions");
    return r as Signer;
  }

  private runnerProvider() {
    const p = this.jobs.runner?.provider;
    if (!p) throw new InferenceClientError("the client's runner has no provider");
    return p;
  }
}
