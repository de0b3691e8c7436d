/**
 * The open network, prover side (docs/prover.md, "Open network"): a node serves any registered model version whose
 * registry `uri` points to a bundle (scripts/formats/bundle.ts) and that its policy admits. For a version it has never
 * seen it fetches the bundle (`ipfs://<cid>` from its own IPFS node, which checks every block against the CID;
 * `https://<base>/` or `file://<dir>`: the files `bundle.json` lists), checks it against everything the chain
 * records and only then serves it:
 *
 *   files       every file's size and sha256 as `bundle.json` says (readBundle)
 *   registry    modelHash, circuitHash, vkHash, proofSystemId and the public-signal layout of the version equal the
 *               bundle's (a layout field that differs is named: "layout.inputBits: registered 11, circuit 12; ...");
 *               the model commitment recomputed from the weights equals modelHash, and the registry's public
 *               commitment Poseidon(modelHash, L) is the circuit's; sha256(r1cs) equals
 *               circuitHash; the vk's hash equals vkHash and the zkey's own vk equals it
 *   circuit     the wasm's witness for a sample input satisfies the R1CS (snarkjs wtns check), and a proof of that
 *               input has exactly the public signals of the TS reference and verifies with the vk
 *   verifier    the version's on-chain verifier is the snarkjs verifier of the zkey (auditVersion)
 *
 * A version that fails any check is refused with its reason and never fetched again (the store remembers it). Bundles
 * are cached on disk under a size bound (least recently used evicted first).
 */
import * as fs from "fs";
import * as path from "path";
import * as snarkjs from "snarkjs";
import { type Provider, getAddress, toBeHex, zeroPadValue } from "ethers";
import { fileURLToPath } from "url";
import type { ModelRegistry } from "../../../typechain-types";
import { GROTH16_BN254_V1 } from "../../formats/public-signals";
import { auditVersion, expectedGroth16Runtimes, layoutDiffField, layoutFromChain, layoutMismatch } from "../../chain/audit-verifier";
import { sha256File } from "../../util/hash";
import { StalledError, whileReceiving } from "../../util/idle";
import { ensureDir, writeFileAtomic } from "../../util/paths";
import { BUNDLE_FILES, BUNDLE_MANIFEST, BundleError, type BundleManifest, readBundle } from "../../formats/bundle";
import { type QuantizedModel, layoutOf, modelCommitment, publicModelCommitment, validateModel } from "../../formats/quantized-model";
import { circuitInput, proveInference } from "../../engine/prove/inference";
import { verifyGroth16 } from "../../engine/prove/groth16";
import { verificationKeyHash } from "../../engine/setup/groth16";
import { type IpfsNode, IpfsError } from "../../engine/ipfs";

/**
 * Verdicts of the circuit checks (the zkey's vk is the bundle's, the wasm's witness satisfies the R1CS, a sample proof
 * is the reference's and verifies) by the sha256 of `bundle.json`, shared by every node of a machine
 * (`~/.cache/zkml-evm/bundle-verdicts`). Those checks depend on the files alone, and `bundle.json` pins every file's
 * sha256 (checked by readBundle on every verification), so a bundle checked once is not checked again, by this node
 * after a restart or by a second node (issue 28 point 3). Only passes are recorded. The registry, weights and
 * verifier checks, which depend on the chain, run every time.
 */
export class CircuitVerdicts {
  constructor(readonly dir: string) {}
  private file(key: string): string {
    return path.join(this.dir, `${key}.json`);
  }
  has(key: string): boolean {
    return fs.existsSync(this.file(key));
  }
  put(key: string, what: { model: string; constraints: number }): void {
    ensureDir(this.dir);
    writeFileAtomic(this.file(key), JSON.stringify({ ...what, at: new Date().toISOString() }) + "\n");
  }
}

/** What `verifyBundle` may use and report. */
export interface CheckOptions {
  verdicts?: CircuitVerdicts;
  /** Called as each phase of the check ends (files, registry, weights, keys, circuit, verifier), with its time. */
  onPhase?: (phase: string, ms: number, detail?: string) => void;
}

/** A model version a node serves: its fetched, verified bundle (`verifyBundle`). */
export interface ServedModel {
  /** `<card name>#<model id>.<version>`, as log lines and the store show it. */
  name: string;
  model: QuantizedModel;
  wasm: string;
  zkey: string;
  /** bytes32 hex, lower case, as the registry stores them. */
  modelHash: string;
  circuitHash: string;
  vkHash: string;
}

/** Which published models a node serves. */
export interface ServePolicy {
  /** "all" registered versions, or only these model ids / these owners' models (both lists: either matches). */
  serve: "all" | { modelIds: ReadonlySet<string>; owners: ReadonlySet<string> };
  /** Largest circuit served (R1CS constraints). */
  maxConstraints: number;
  /** Largest proving key served (bytes); also bounds what is fetched. */
  maxZkeyBytes: number;
  /** Minimum fee per model id (wei), on top of the node's global minimum. */
  minFeeWei: ReadonlyMap<string, bigint>;
}

/** Every model, with the default limits (a node's PROVER_SERVE must still be set explicitly: scripts/apps/prover/config.ts). */
export const DEFAULT_POLICY: ServePolicy = { serve: "all", maxConstraints: 1 << 20, maxZkeyBytes: 512 * 2 ** 20, minFeeWei: new Map() };

/**
 * Why a bundle cannot be served; the message is the logged reason. The kind says how long the refusal holds:
 *   mismatch     the bundle is not what the chain records (or not a bundle): the version is refused for good, stored,
 *                and never fetched again
 *   policy       over this node's limits (PROVER_MAX_CONSTRAINTS, PROVER_MAX_ZKEY_BYTES): refused while the process
 *                runs with this policy, not stored (a restart with other limits looks again)
 *   unavailable  the URI could not be fetched (unreachable, timeout, HTTP error): this job is skipped and the next
 *                job on the version tries again after the node's retry delay
 */
export class BundleRefused extends Error {
  constructor(
    message: string,
    readonly kind: "mismatch" | "policy" | "unavailable" = "mismatch",
  ) {
    super(message);
  }
}

const b32 = (v: bigint): string => zeroPadValue(toBeHex(v), 32).toLowerCase();

/** Reads a JSON file of the bundle. */
function json<T>(dir: string, name: string): T {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, name), "utf8")) as T;
  } catch (e) {
    throw new BundleRefused(`${name} is not JSON: ${(e as Error).message.split("\n")[0]}`);
  }
}

/** The innermost message of a fetch error (undici wraps "ECONNREFUSED" in "fetch failed"). */
function causeOf(e: unknown): string {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  return err.cause?.code ?? err.cause?.message ?? err.message;
}

/**
 * GET `url`, bounded in size and by idleness: the response must start within `idleMs`, and `body` (when given) is
 * called with the response and a `received()` to call per chunk, the transfer being given up when nothing arrives for
 * `idleMs` (a proving key of hundreds of MB may take minutes while it keeps coming). BundleRefused on any failure.
 */
async function httpFetch<T>(
  url: string,
  maxBytes: number,
  idleMs: number,
  body: (res: Response, received: () => void) => Promise<T>,
): Promise<T> {
  try {
    return await whileReceiving(idleMs, async (signal, received) => {
      let res: Response;
      try {
        res = await fetch(url, { signal });
      } catch (e) {
        throw new BundleRefused(`${url} could not be fetched: ${causeOf(e)}`, "unavailable");
      }
      received();
      if (!res.ok) throw new BundleRefused(`${url} answered HTTP ${res.status}`, "unavailable");
      const declared = Number(res.headers.get("content-length") ?? NaN);
      if (declared > maxBytes) throw new BundleRefused(`${url} is ${declared} bytes, more than the limit of ${maxBytes}`, "policy");
      try {
        return await body(res, received);
      } catch (e) {
        if (e instanceof BundleRefused) throw e;
        throw new BundleRefused(`${url} broke off: ${causeOf(e)}`, "unavailable");
      }
    });
  } catch (e) {
    if (e instanceof StalledError) throw new BundleRefused(`${url} could not be fetched: ${e.message}`, "unavailable");
    throw e;
  }
}

async function httpGet(url: string, maxBytes: number, idleMs: number): Promise<Buffer> {
  const body = await httpFetch(url, maxBytes, idleMs, async (res) => Buffer.from(await res.arrayBuffer()));
  if (body.length > maxBytes) throw new BundleRefused(`${url} is ${body.length} bytes, more than the limit of ${maxBytes}`, "policy");
  return body;
}

/**
 * Streams `url` into `file` (one chunk in memory at a time: a proving key of hundreds of MB is never held whole),
 * refusing a body longer than `maxBytes` as soon as it passes the limit.
 */
async function httpGetToFile(url: string, file: string, maxBytes: number, idleMs: number): Promise<void> {
  await httpFetch(url, maxBytes, idleMs, async (res, received) => {
    if (!res.body) throw new BundleRefused(`${url} answered without a body`, "unavailable");
    const fd = fs.openSync(file, "w");
    let n = 0;
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        received();
        n += chunk.length;
        if (n > maxBytes) throw new BundleRefused(`${url} is more than ${n - 1} bytes, more than the limit of ${maxBytes}`, "policy");
        fs.writeSync(fd, chunk);
      }
    } finally {
      fs.closeSync(fd);
    }
  });
}

/** A bundle fetch under way, as `/health` shows it. */
export interface FetchProgress {
  modelId: string;
  version: number;
  uri: string;
  /** Bytes written so far (every file of the partial folder, the one being written included). */
  bytes: number;
  forMs: number;
}

export class BundleCache {
  /** Fetches under way, by cache folder. */
  private readonly active = new Map<string, { modelId: string; version: number; uri: string; tmp: string; since: number }>();

  constructor(
    private readonly dir: string,
    private readonly maxBytes: number,
    private readonly ipfs?: IpfsNode,
  ) {
    ensureDir(dir);
  }

  /** The fetches under way and how far each got (bytes on disk), for `/health` and the progress log. */
  fetching(): FetchProgress[] {
    return [...this.active.values()].map((a) => {
      let bytes = 0;
      try {
        for (const n of fs.readdirSync(a.tmp)) bytes += fs.statSync(path.join(a.tmp, n)).size;
      } catch {
        // the folder is being renamed into place or removed: nothing to add
      }
      return { modelId: a.modelId, version: a.version, uri: a.uri, bytes, forMs: Date.now() - a.since };
    });
  }

  /** The cache folder of a version. */
  private entry(modelId: bigint, version: number): string {
    return path.join(this.dir, `${modelId}-${version}`);
  }

  /**
   * Fetches the bundle at `uri` into the cache (or finds it there) and returns its folder.
   * Sizes are checked before the large files are asked for: the whole bundle against `limits.totalBytes` and the
   * proving key against `limits.zkeyBytes` (from bundle.json over HTTP or a folder, from the directory listing on IPFS).
   * A transfer runs as long as data keeps arriving and is given up ("unavailable") when nothing arrives for `idleMs`.
   * @throws BundleRefused on an unsupported URI, a transport failure or a size over a limit.
   */
  async fetch(
    uri: string,
    modelId: bigint,
    version: number,
    limits: { totalBytes: number; zkeyBytes: number },
    idleMs = 120_000,
  ): Promise<string> {
    const limit = limits.totalBytes;
    const zkeyTooLarge = (bytes: number): BundleRefused =>
      new BundleRefused(`proving key of ${bytes} bytes, more than PROVER_MAX_ZKEY_BYTES ${limits.zkeyBytes}`, "policy");
    const dest = this.entry(modelId, version);
    if (fs.existsSync(path.join(dest, ".complete"))) {
      fs.utimesSync(path.join(dest, ".complete"), new Date(), new Date()); // LRU: last use
      return dest;
    }
    const tmp = `${dest}.partial`;
    fs.rmSync(tmp, { recursive: true, force: true });
    ensureDir(tmp);
    this.active.set(dest, { modelId: modelId.toString(), version, uri, tmp, since: Date.now() });
    try {
      if (uri.startsWith("ipfs://")) {
        if (!this.ipfs)
          throw new BundleRefused(`${uri}: this node has no IPFS node (set PROVER_IPFS_PEERS or PROVER_IPFS_GATEWAYS)`, "policy");
        const cid = uri.slice("ipfs://".length).replace(/\/+$/, "");
        if (!/^[A-Za-z0-9]+$/.test(cid)) throw new BundleRefused(`${uri} is not ipfs://<cid> (a bundle is a whole directory)`);
        try {
          await this.ipfs.getDirectory(cid, tmp, {
            maxBytes: limit,
            timeoutMs: idleMs,
            refuse: (name, bytes) => (name === BUNDLE_FILES.zkey && bytes > limits.zkeyBytes ? zkeyTooLarge(bytes).message : undefined),
          });
        } catch (e) {
          if (!(e instanceof IpfsError)) throw e;
          throw new BundleRefused(e.message, e.kind === "too-large" ? "policy" : e.kind === "unavailable" ? "unavailable" : "mismatch");
        }
      } else if (uri.startsWith("https://") || uri.startsWith("http://") || uri.startsWith("file:")) {
        // A directory: bundle.json first, then exactly the files it lists.
        const local = uri.startsWith("file:") ? (uri.startsWith("file://") ? fileURLToPath(uri) : uri.slice(5)) : undefined;
        const localFile = (name: string): string => {
          const p = path.join(local as string, name);
          if (!fs.existsSync(p)) throw new BundleRefused(`${p} not found`, "unavailable");
          if (fs.statSync(p).size > limit) throw new BundleRefused(`${p} is larger than the limit of ${limit} bytes`, "policy");
          return p;
        };
        const get = async (name: string): Promise<Buffer> =>
          local ? fs.readFileSync(localFile(name)) : httpGet(`${uri.replace(/\/+$/, "")}/${name}`, limit, idleMs);
        // the bundle's files are copied or streamed to the cache, never read whole (the folder is renamed when complete)
        const download = async (name: string): Promise<void> =>
          local
            ? fs.copyFileSync(localFile(name), path.join(tmp, name))
            : httpGetToFile(`${uri.replace(/\/+$/, "")}/${name}`, path.join(tmp, name), limit, idleMs);
        const manifestBytes = await get(BUNDLE_MANIFEST);
        writeFileAtomic(path.join(tmp, BUNDLE_MANIFEST), manifestBytes);
        const m = json<BundleManifest>(tmp, BUNDLE_MANIFEST);
        const roles = Object.keys(BUNDLE_FILES) as (keyof typeof BUNDLE_FILES)[];
        let total = 0;
        for (const role of roles) {
          const f = m.files?.[role];
          if (!f || f.name !== BUNDLE_FILES[role])
            throw new BundleRefused(`${BUNDLE_MANIFEST}: files.${role} must name ${BUNDLE_FILES[role]}`);
          if (!Number.isSafeInteger(f.bytes) || f.bytes < 0)
            throw new BundleRefused(`${BUNDLE_MANIFEST}: files.${role}.bytes is not a size`);
          total += f.bytes;
        }
        // the whole size is known before the first large file is asked for
        if (m.files.zkey.bytes > limits.zkeyBytes) throw zkeyTooLarge(m.files.zkey.bytes);
        if (total > limit) throw new BundleRefused(`the bundle is ${total} bytes, more than the limit of ${limit}`, "policy");
        for (const role of roles) await download(m.files[role].name);
      } else {
        throw new BundleRefused(
          `unsupported bundle URI "${uri.slice(0, 60)}" (use ipfs://<cid>, https://<base> or file://<dir>)`,
          "policy",
        );
      }
      fs.writeFileSync(path.join(tmp, ".complete"), "");
      fs.rmSync(dest, { recursive: true, force: true });
      fs.renameSync(tmp, dest);
    } catch (e) {
      fs.rmSync(tmp, { recursive: true, force: true });
      throw e;
    } finally {
      this.active.delete(dest);
    }
    this.evict(dest);
    return dest;
  }

  /** Removes the least recently used bundles until the cache fits its bound (never `keep`). */
  private evict(keep: string): void {
    const entries = fs
      .readdirSync(this.dir)
      .map((n) => path.join(this.dir, n))
      .filter((d) => fs.existsSync(path.join(d, ".complete")))
      .map((d) => ({
        d,
        used: fs.statSync(path.join(d, ".complete")).mtimeMs,
        bytes: fs.readdirSync(d).reduce((s, n) => s + fs.statSync(path.join(d, n)).size, 0),
      }))
      .sort((a, b) => a.used - b.used);
    let total = entries.reduce((s, e) => s + e.bytes, 0);
    for (const e of entries) {
      if (total <= this.maxBytes) break;
      if (e.d === keep) continue;
      fs.rmSync(e.d, { recursive: true, force: true });
      total -= e.bytes;
    }
  }

  /** Forgets a cached bundle (after it was refused). */
  drop(modelId: bigint, version: number): void {
    fs.rmSync(this.entry(modelId, version), { recursive: true, force: true });
  }
}

/** Whether `policy` admits a model of `owner` with id `modelId` (before anything is fetched). */
export function admitted(policy: ServePolicy, modelId: bigint, owner: string): string | undefined {
  if (policy.serve === "all") return undefined;
  if (policy.serve.modelIds.has(modelId.toString()) || policy.serve.owners.has(getAddress(owner))) return undefined;
  return `model ${modelId} (owner ${owner}) is not in PROVER_SERVE`;
}

/**
 * Checks a fetched bundle against the registry version and returns it as a served model.
 * @throws BundleRefused naming the first check that fails.
 */
export async function verifyBundle(
  dir: string,
  registry: ModelRegistry,
  provider: Provider,
  modelId: bigint,
  version: number,
  policy: ServePolicy,
  opts: CheckOptions = {},
): Promise<ServedModel> {
  let t = Date.now();
  const phase = (name: string, detail?: string): void => {
    opts.onPhase?.(name, Date.now() - t, detail);
    t = Date.now();
  };
  let manifest: BundleManifest;
  try {
    manifest = readBundle(dir);
  } catch (e) {
    if (e instanceof BundleError) throw new BundleRefused(e.message);
    throw e;
  }
  phase("files", "sizes and sha256 as bundle.json says");
  const file = (role: keyof typeof BUNDLE_FILES): string => path.join(dir, BUNDLE_FILES[role]);
  if (manifest.constraints > policy.maxConstraints)
    throw new BundleRefused(`${manifest.constraints} constraints, more than PROVER_MAX_CONSTRAINTS ${policy.maxConstraints}`, "policy");
  if (manifest.files.zkey.bytes > policy.maxZkeyBytes)
    throw new BundleRefused(
      `proving key of ${manifest.files.zkey.bytes} bytes, more than PROVER_MAX_ZKEY_BYTES ${policy.maxZkeyBytes}`,
      "policy",
    );
  // ---- the registry version against the bundle
  const [c, , numSignals] = await registry.getModelVersion(modelId, version);
  const chain = {
    modelHash: c.modelHash.toLowerCase(),
    circuitHash: c.circuitHash.toLowerCase(),
    vkHash: c.vkHash.toLowerCase(),
    proofSystemId: c.proofSystemId.toLowerCase(),
  };
  for (const k of ["modelHash", "circuitHash", "vkHash", "proofSystemId"] as const)
    if (chain[k] !== manifest.registry[k]) throw new BundleRefused(`registry ${k} ${chain[k]} is not the bundle's ${manifest.registry[k]}`);
  if (chain.proofSystemId !== GROTH16_BN254_V1.toLowerCase())
    throw new BundleRefused(`proof system ${chain.proofSystemId} is not served (Groth16 only)`);
  if (Number(numSignals) !== manifest.registry.numPublicSignals)
    throw new BundleRefused(`registry has ${numSignals} public signals, the bundle ${manifest.registry.numPublicSignals}`);
  const target = await registry.verificationTarget(modelId, version);
  const onChainLayout = layoutFromChain(target.layout);
  phase("registry");
  // ---- the files against the hashes
  const model = json<QuantizedModel>(dir, BUNDLE_FILES.model);
  try {
    validateModel(model);
  } catch (e) {
    throw new BundleRefused(`${BUNDLE_FILES.model}: ${(e as Error).message}`);
  }
  const layout = layoutOf(model);
  const manifestDiff = layoutDiffField(manifest.registry.layout, layout);
  if (manifestDiff)
    throw new BundleRefused(
      `${BUNDLE_MANIFEST} says layout.${manifestDiff} is ${manifest.registry.layout[manifestDiff]}, the model's is ${layout[manifestDiff]}`,
    );
  // docs/public-signals.md, "Layout binding": a version registered with another layout than the circuit's verifies
  // no proof of it (the registry's public commitment is then not the circuit's), so never claim its jobs.
  const layoutDiff = layoutMismatch(onChainLayout, layout);
  if (layoutDiff) throw new BundleRefused(layoutDiff);
  const weights = await modelCommitment(model);
  const commitment = b32(weights);
  if (commitment !== chain.modelHash)
    throw new BundleRefused(`the weights commit to ${commitment}, the registry's modelHash is ${chain.modelHash}`);
  const publicCommitment = await publicModelCommitment(weights, layout);
  if (target.modelCommitment !== publicCommitment)
    throw new BundleRefused(`the registry's public model commitment ${target.modelCommitment} is not the circuit's ${publicCommitment}`);
  // readBundle checked the file against this sha256 a moment ago: no second pass over a large R1CS
  const r1csHash = `0x${manifest.files.r1cs.sha256}`;
  if (r1csHash !== chain.circuitHash)
    throw new BundleRefused(`sha256(${BUNDLE_FILES.r1cs}) is ${r1csHash}, the registry's circuitHash is ${chain.circuitHash}`);
  const vkey = json<snarkjs.VerificationKey>(dir, BUNDLE_FILES.vkey);
  const vkHash = `0x${verificationKeyHash(vkey)}`;
  if (vkHash !== chain.vkHash)
    throw new BundleRefused(`the verification key hashes to ${vkHash}, the registry's vkHash is ${chain.vkHash}`);
  phase("weights", "commitments and hashes against the registry");
  const verdictKey = await sha256File(path.join(dir, BUNDLE_MANIFEST));
  if (opts.verdicts?.has(verdictKey)) phase("circuit", "passed before (cached verdict)");
  else {
    await checkCircuit(dir, manifest, model, vkey, layout.inputMode === 1, (p) => phase(p));
    opts.verdicts?.put(verdictKey, { model: model.name, constraints: manifest.constraints });
  }
  // ---- the on-chain verifier is the snarkjs verifier of this zkey
  const audit = await auditVersion(registry, provider, modelId, BigInt(version), await expectedGroth16Runtimes(file("zkey")));
  if (!audit.ok) throw new BundleRefused(audit.reason ?? "the version's verifier failed the audit");
  phase("verifier");
  return {
    name: `${model.name}#${modelId}.${version}`,
    model,
    wasm: file("wasm"),
    zkey: file("zkey"),
    modelHash: chain.modelHash,
    circuitHash: chain.circuitHash,
    vkHash: chain.vkHash,
  };
}

/**
 * The checks that depend on the bundle's files alone: the zkey's vk is the bundle's, the R1CS has the constraints
 * bundle.json says, the wasm's witness for a sample input satisfies the R1CS, and a proof of it is the TS reference's
 * and verifies. Reports "keys" and "circuit".
 */
async function checkCircuit(
  dir: string,
  manifest: BundleManifest,
  model: QuantizedModel,
  vkey: snarkjs.VerificationKey,
  publicInput: boolean,
  phase: (name: string) => void,
): Promise<void> {
  const file = (role: keyof typeof BUNDLE_FILES): string => path.join(dir, BUNDLE_FILES[role]);
  let zkeyVk: snarkjs.VerificationKey;
  try {
    zkeyVk = await snarkjs.zKey.exportVerificationKey(file("zkey"));
  } catch (e) {
    throw new BundleRefused(`${BUNDLE_FILES.zkey} is not a snarkjs zkey: ${(e as Error).message}`);
  }
  if (verificationKeyHash(zkeyVk) !== verificationKeyHash(vkey))
    throw new BundleRefused(`${BUNDLE_FILES.zkey} is not the proving key of ${BUNDLE_FILES.vkey}`);
  const info = await snarkjs.r1cs.info(file("r1cs"));
  if (Number(info.nConstraints) !== manifest.constraints)
    throw new BundleRefused(`${BUNDLE_FILES.r1cs} has ${info.nConstraints} constraints, ${BUNDLE_MANIFEST} says ${manifest.constraints}`);
  phase("keys");
  // ---- the circuit: a sample witness satisfies the R1CS, and its proof is the reference's and verifies
  const x = Array.from({ length: model.input.size }, () => 0n);
  const salt = publicInput ? undefined : 1n;
  const wtns = path.join(dir, ".sample.wtns");
  try {
    await snarkjs.wtns.calculate(circuitInput(x, salt, 1n, model), file("wasm"), wtns);
    if (!(await snarkjs.wtns.check(file("r1cs"), wtns)))
      throw new BundleRefused(`the witness of ${BUNDLE_FILES.wasm} does not satisfy ${BUNDLE_FILES.r1cs}`);
  } catch (e) {
    if (e instanceof BundleRefused) throw e;
    throw new BundleRefused(`${BUNDLE_FILES.wasm} failed on a sample input: ${(e as Error).message.split("\n")[0]}`);
  } finally {
    fs.rmSync(wtns, { force: true });
  }
  let proof;
  try {
    proof = await proveInference(model, { wasm: file("wasm"), zkey: file("zkey") }, x, salt, 1n);
  } catch (e) {
    throw new BundleRefused(`a sample proof failed: ${(e as Error).message.split("\n")[0]}`);
  }
  if (!(await verifyGroth16(vkey, proof.publicSignals, proof.proof)))
    throw new BundleRefused("a sample proof does not verify with the bundle's verification key");
  phase("circuit");
}
