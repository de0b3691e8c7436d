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
 *
 * The code: the serving policy and the refusal kinds here; fetching and the on-disk cache in bundle-cache.ts; the
 * checks in bundle-check.ts.
 */
import * as fs from "fs";
import * as path from "path";
import { getAddress } from "ethers";

/** Which published models a node serves. */
export interface ServePolicy {
  /** "all" registered versions, or only these model ids / these owners' models (both lists: either matches). */
  serve: "all" | { modelIds: ReadonlySet<string>; owners: ReadonlySet<string> };
  /** Largest circuit served (R1CS constraints). */
  maxConstraints: number;
  /** Largest proving key served (bytes); also bounds what is fetched. */
  maxZkeyBytes: number;
  /** Minimum fee per model id (wei), on top of the node's global minimum. Applies to ETH fees only. */
  minFeeWei: ReadonlyMap<string, bigint>;
  /**
   * ERC-20 fees (docs/market-rules.md, "Payment tokens"): the minimum fee per token (checksummed address -> the
   * token's smallest units). A token job in another token is skipped unless `acceptAnyToken`.
   */
  minFeeTokens?: ReadonlyMap<string, bigint>;
  /** Serve token jobs in tokens without a configured minimum too (at any fee). */
  acceptAnyToken?: boolean;
}

/**
 * Why this node does not serve a job for its fee, or undefined if the fee is acceptable. ETH jobs (`feeToken` zero):
 * the node's minimum `minFeeWei` and the per-model minimum; token jobs: the token's minimum in `minFeeTokens`, or
 * skipped when the token has none unless `acceptAnyToken` (wei minimums never apply to token units).
 */
export function feeSkipReason(
  job: { fee: string; modelId: string; feeToken: string },
  minFeeWei: bigint,
  policy: Pick<ServePolicy, "minFeeWei" | "minFeeTokens" | "acceptAnyToken">,
  /** How the reason names the fee: `fee` (a job), `feePerRun` (a subscription's runs). */
  what = "fee",
): string | undefined {
  const fee = BigInt(job.fee);
  if (BigInt(job.feeToken) === 0n) {
    if (fee < minFeeWei) return `${what} ${fee} below the minimum ${minFeeWei}`;
    const modelFee = policy.minFeeWei.get(job.modelId);
    if (modelFee !== undefined && fee < modelFee) return `${what} ${fee} below this node's minimum ${modelFee} for model ${job.modelId}`;
    return undefined;
  }
  const token = getAddress(job.feeToken);
  const min = policy.minFeeTokens?.get(token);
  if (min === undefined)
    return policy.acceptAnyToken
      ? undefined
      : `fee token ${token} not accepted: set PROVER_MIN_FEE_TOKENS=${token}:<min units> (or PROVER_ACCEPT_ANY_TOKEN=1)`;
  if (fee < min) return `${what} ${fee} below this node's minimum ${min} for token ${token}`;
  return undefined;
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

/** Reads a JSON file of the bundle. */
export function readBundleJson<T>(dir: string, name: string): T {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, name), "utf8")) as T;
  } catch (e) {
    throw new BundleRefused(`${name} is not JSON: ${(e as Error).message.split("\n")[0]}`);
  }
}

/** Whether `policy` admits a model of `owner` with id `modelId` (before anything is fetched). */
export function admitted(policy: ServePolicy, modelId: bigint, owner: string): string | undefined {
  if (policy.serve === "all") return undefined;
  if (policy.serve.modelIds.has(modelId.toString()) || policy.serve.owners.has(getAddress(owner))) return undefined;
  return `model ${modelId} (owner ${owner}) is not in PROVER_SERVE`;
}
