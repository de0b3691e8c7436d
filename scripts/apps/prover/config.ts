/**
 * Prover node configuration from the environment (the `main.ts` entry point):
 *
 * | variable | meaning | default |
 * |---|---|---|
 * | PROVER_RPC_URL | JSON-RPC endpoint, or several comma-separated (used in turn when one fails) | required |
 * | PROVER_RPC_TIMEOUT_MS | time one RPC request may take before it is retried | 15000 |
 * | PROVER_RPC_ATTEMPTS | attempts per RPC request over all URLs (transport failures only) | 8 |
 * | PROVER_PRIVATE_KEY | the node's account (0x hex) | required |
 * | PROVER_JOBS_ADDRESS | InferenceJobs address | required |
 * | PROVER_STATE_DIR | durable state folder (one node per folder) | required |
 * | PROVER_CONCURRENCY | jobs in flight = proving worker threads | 1 |
 * | PROVER_RECYCLE_ZKEY_BYTES | a proving worker that proved with a key at least this large is replaced (memory back) | 67108864 |
 * | PROVER_MIN_FEE_WEI | skip jobs paying less | 0 |
 * | PROVER_STAKE_WEI | stake to keep deposited | claimBond * concurrency * 2 |
 * | PROVER_POLL_MS | chain polling period | 500 |
 * | PROVER_CLAIM_JITTER_MS | random delay before a claim | 300 |
 * | PROVER_CONFIRMATIONS | blocks an event must be under the head before the node acts on it | 0 on chain 31337/1337, else 3 |
 * | PROVER_FROM_BLOCK | first block to scan on an empty store | 0 |
 * | PROVER_STUCK_MS | replace a transaction unmined this long | 30000 |
 * | PROVER_METRICS_MS | metrics line period (0: only at exit) | 30000 |
 * | PROVER_NAME | name in log lines | address prefix |
 * | PROVER_IPFS_GATEWAY | gateway URL for `ipfs://` job inputs (e.g. http://127.0.0.1:8080) | none (ipfs inputs skipped) |
 * | PROVER_SERVE | the published models to serve: `all`, or a comma list of model ids and owner addresses | required |
 * | PROVER_MAX_CONSTRAINTS | largest published circuit served | 1048576 |
 * | PROVER_MAX_ZKEY_BYTES | largest published proving key served (also bounds fetching) | 536870912 |
 * | PROVER_MIN_FEE | per-model minimum fees, `modelId:wei,...` (on top of PROVER_MIN_FEE_WEI; ETH fees only) | none |
 * | PROVER_MIN_FEE_TOKENS | ERC-20 fees accepted and their minimums, `token:units,...` (the token's smallest units) | none |
 * | PROVER_ACCEPT_ANY_TOKEN | 1: also serve token jobs in tokens not in PROVER_MIN_FEE_TOKENS (any fee) | 0 (skipped) |
 * | PROVER_IPFS_PEERS | multiaddrs (with /p2p/<id>) of IPFS peers holding bundles, comma-separated | none |
 * | PROVER_IPFS_GATEWAYS | trustless gateways for bundle blocks (verified by CID), comma-separated | none |
 * | PROVER_BUNDLE_CACHE_BYTES | size bound of the bundle cache (`<state dir>-bundles`) | 4294967296 |
 * | PROVER_BUNDLE_TIMEOUT_MS | how long a bundle fetch may go without receiving anything (a stall) | 120000 |
 * | PROVER_BUNDLE_RETRY_MS | after a bundle could not be fetched, try again this much later | 60000 |
 * | PROVER_HTTP_PORT | serve GET /metrics (Prometheus text) and /health on this port (0: any free port) | unset: no server |
 * | PROVER_HTTP_HOST | interface of that server (0.0.0.0 for all) | 127.0.0.1 |
 * | PROVER_HEALTH_STALE_MS | /health answers 503 when no poll tick completed for this long | max(30000, 20 * PROVER_POLL_MS) |
 * | PROVER_BATCH_MAX | results per `submitResults` transaction (1..32; 1: each alone with `submitResult`) | 1 |
 * | PROVER_BATCH_WAIT_MS | longest a proved result waits for others of its verifier | 30000 |
 * | PROVER_BATCH_MARGIN_S | a result is sent at once when its lease end or deadline is this close (seconds) | 60 |
 * | PROVER_SUBSCRIPTIONS_ADDRESS | InferenceSubscriptions beside the market: open the due runs of the subscriptions it serves | unset: no subscriptions |
 * | PROVER_MIN_TIP_WEI | open a run of an ETH subscription only when its tipPerRun is at least this (0: whenever the node serves the run, in any token) | the opening's estimated gas cost at the current gas price |
 * | PROVER_MIN_TIP_TOKENS | token subscriptions: the least tipPerRun per token, `token:units,...` | none: a token subscription's runs are opened only with PROVER_MIN_TIP_WEI=0 |
 * | PROVER_OPTIMISTIC | on a claimed optimistic job: `post` its result without a proof (then finalise it, and prove it only if challenged), or `prove` it as any job | post |
 * | PROVER_WATCH | `on`: re-run every result others post on the models this node serves and disprove a wrong one with a proof; `off`: do not watch | on |
 */
import { getAddress } from "ethers";
import { DEFAULT_RETRY, type RetryOptions, parseRpcUrls } from "../../chain/rpc";
import { DEFAULT_POLICY, type ServePolicy } from "./bundles";
import type { LogSink } from "./log";
import type { TxOptions } from "./tx";

export interface ProverNodeConfig {
  rpcUrl: string;
  privateKey: string;
  jobsAddress: string;
  /** IPFS gateway for `ipfs://` inputs (e.g. http://127.0.0.1:8080). */
  ipfsGateway?: string;
  /** Which published models this node serves and its limits (docs/prover.md, "Serving policy"). */
  policy: ServePolicy;
  /** The node's own IPFS node for `ipfs://` bundles: peers to dial, trustless gateways, blockstore folder. */
  ipfs?: { peers?: string[]; gateways?: string[]; dir?: string };
  /** Size bound of the bundle cache (bytes, default 4 GiB). */
  bundleCacheBytes?: number;
  /** Time a bundle fetch may take per file (ms, default 120 s). */
  bundleTimeoutMs?: number;
  /** After a bundle could not be fetched, the next job on that version tries again this much later (ms, default 60 s). */
  bundleRetryMs?: number;
  /**
   * Folder of the bundle circuit-check verdicts shared by the nodes of this machine (default
   * `~/.cache/zkml-evm/bundle-verdicts`; CircuitVerdicts in scripts/apps/prover/bundle-check.ts).
   */
  verdictDir?: string;
  /**
   * Blocks a JobOpened (and every other event) must be under the head before the node acts on it; default 0 on a
   * local development chain (chain id 31337 or 1337), DEFAULT_CONFIRMATIONS elsewhere.
   */
  confirmations?: number;
  /** Retries of RPC requests that failed at the transport level (scripts/chain/rpc.ts; default DEFAULT_RETRY). */
  rpcRetry?: Partial<Omit<RetryOptions, "onRetry">>;
  /** Serve GET /metrics (Prometheus) and /health here (port 0: any free port); default: no HTTP server. */
  http?: { host: string; port: number };
  /** /health fails when no tick completed for this long (ms; default max(30 s, 20 poll periods)). */
  healthStaleMs?: number;
  /** Folder of this node's durable state (one node per folder). */
  stateDir: string;
  /** Jobs in flight at once (= proving worker threads). */
  concurrency: number;
  /** A proving worker that proved with a proving key of at least this many bytes is replaced by a fresh one. */
  recycleZkeyBytes?: number;
  /** Jobs with a lower fee are skipped (wei). */
  minFeeWei: bigint;
  /** Stake kept available for claim bonds (wei); default claimBond * concurrency * 2. */
  stakeWei?: bigint;
  pollMs: number;
  /** Random delay before a claim, spreading simultaneous claims of several nodes (ms). */
  claimJitterMs: number;
  /** First block to scan when the store is empty (default 0). */
  fromBlock?: number;
  /** Log a `metrics` line this often (ms; 0: only at stop). */
  metricsEveryMs: number;
  name?: string;
  logSink?: LogSink;
  tx?: Partial<TxOptions>;
  /**
   * Batch settlement (docs/prover.md, "Batching"): proved jobs wait up to `waitMs` for up to `max` results of the
   * same verifier and go out in one `submitResults`; a job whose lease end or deadline is within `marginS` seconds is
   * sent at once. `max` 1 (default): every result is sent alone with `submitResult`.
   */
  batch?: { max: number; waitMs: number; marginS: number };
  /**
   * Subscriptions (docs/prover.md, "Subscriptions"): the `InferenceSubscriptions` contract beside the market whose due
   * runs this node opens, for the subscriptions whose model version and fee it would serve; and the least `tipPerRun`
   * of an ETH subscription for which it opens one (default: the opening's estimated gas times the current gas price;
   * 0: every served run, in any token); for a subscription paid in a token, the least tip in that token's units
   * (`minTipTokens`; a token without one is opened only with `minTipWei` 0).
   */
  subscriptions?: SubscriptionsConfig;
  /**
   * Optimistic results (docs/prover.md, "Optimistic results"): `post` a claimed optimistic job's result without a proof
   * (default true; false: prove it as any job), and `watch` the results others post on the served models, disproving
   * a wrong one with a proof of the true output (default true).
   */
  optimistic?: { post: boolean; watch: boolean };
}

/** PROVER_SUBSCRIPTIONS_ADDRESS, PROVER_MIN_TIP_WEI and PROVER_MIN_TIP_TOKENS. */
export interface SubscriptionsConfig {
  address: string;
  minTipWei?: bigint;
  /** Checksummed token address -> the least tipPerRun in its smallest units. */
  minTipTokens?: ReadonlyMap<string, bigint>;
}

/** Defaults of the optional settings (also used by ProverNode). */
export const DEFAULT_NODE_CONFIG = {
  concurrency: 1,
  recycleZkeyBytes: 64 * 2 ** 20,
  minFeeWei: 0n,
  pollMs: 500,
  claimJitterMs: 300,
  metricsEveryMs: 30_000,
  batch: { max: 1, waitMs: 30_000, marginS: 60 },
  optimistic: { post: true, watch: true },
};

/** `InferenceJobs.maxBatchSize()`. */
const MAX_BATCH_SIZE = 32;

const EXAMPLE: Record<string, string> = {
  PROVER_RPC_URL: "http://127.0.0.1:8545",
  PROVER_PRIVATE_KEY: "0x<64 hex digits>",
  PROVER_JOBS_ADDRESS: "<contracts.InferenceJobs.address of deployments/<network>.json>",
  PROVER_STATE_DIR: "./state/node1",
  PROVER_SERVE: "all (or model ids and owner addresses: 3,0xabc...)",
  PROVER_SUBSCRIPTIONS_ADDRESS: "<address of the InferenceSubscriptions contract deployed beside this market>",
};

function req(env: NodeJS.ProcessEnv, name: string): string {
  const v = env[name];
  if (!v) throw new Error(`${name} is not set: export ${name}=${EXAMPLE[name] ?? "..."} (docs/prover.md lists every variable)`);
  return v;
}

function int(env: NodeJS.ProcessEnv, name: string, dflt: number, min = 0): number {
  const v = env[name];
  if (v === undefined || v === "") return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer >= ${min}, got "${v}": fix or unset it`);
  return n;
}

function wei(env: NodeJS.ProcessEnv, name: string): bigint | undefined {
  const v = env[name];
  if (v === undefined || v === "") return undefined;
  if (!/^\d+$/.test(v)) throw new Error(`${name} must be a decimal number of wei, got "${v}": fix or unset it`);
  return BigInt(v);
}

/**
 * Reads and validates the node configuration.
 * @throws Error naming the missing or malformed variable.
 */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): ProverNodeConfig {
  const pk = req(env, "PROVER_PRIVATE_KEY");
  if (!/^0x[0-9a-fA-F]{64}$/.test(pk))
    throw new Error("PROVER_PRIVATE_KEY must be 0x followed by 64 hex digits: export the node account's private key");
  let jobs: string;
  try {
    jobs = getAddress(req(env, "PROVER_JOBS_ADDRESS"));
  } catch (e) {
    throw new Error(
      `PROVER_JOBS_ADDRESS ${env.PROVER_JOBS_ADDRESS}: not an address (${(e as Error).message.split(" (")[0]}); export the InferenceJobs address of deployments/<network>.json`,
    );
  }
  const list = (name: string): string[] =>
    (env[name] ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
  if (env.PROVER_MODELS !== undefined)
    throw new Error(
      "PROVER_MODELS is gone: a node serves published bundles only; publish the model (npx hardhat model:publish --model <name>) and set PROVER_SERVE=all or its model id",
    );
  const policy = servePolicy(env, list);
  const peers = list("PROVER_IPFS_PEERS");
  const gateways = list("PROVER_IPFS_GATEWAYS");
  return {
    rpcUrl: parseRpcUrls(req(env, "PROVER_RPC_URL")).join(","),
    rpcRetry: {
      timeoutMs: int(env, "PROVER_RPC_TIMEOUT_MS", DEFAULT_RETRY.timeoutMs, 100),
      attempts: int(env, "PROVER_RPC_ATTEMPTS", DEFAULT_RETRY.attempts, 1),
    },
    privateKey: pk,
    jobsAddress: jobs,
    stateDir: req(env, "PROVER_STATE_DIR"),
    concurrency: int(env, "PROVER_CONCURRENCY", DEFAULT_NODE_CONFIG.concurrency, 1),
    recycleZkeyBytes: int(env, "PROVER_RECYCLE_ZKEY_BYTES", DEFAULT_NODE_CONFIG.recycleZkeyBytes, 1),
    minFeeWei: wei(env, "PROVER_MIN_FEE_WEI") ?? DEFAULT_NODE_CONFIG.minFeeWei,
    stakeWei: wei(env, "PROVER_STAKE_WEI"),
    pollMs: int(env, "PROVER_POLL_MS", DEFAULT_NODE_CONFIG.pollMs, 10),
    claimJitterMs: int(env, "PROVER_CLAIM_JITTER_MS", DEFAULT_NODE_CONFIG.claimJitterMs),
    fromBlock: int(env, "PROVER_FROM_BLOCK", 0),
    ...(env.PROVER_CONFIRMATIONS ? { confirmations: int(env, "PROVER_CONFIRMATIONS", 0) } : {}),
    metricsEveryMs: int(env, "PROVER_METRICS_MS", DEFAULT_NODE_CONFIG.metricsEveryMs),
    name: env.PROVER_NAME,
    ipfsGateway: env.PROVER_IPFS_GATEWAY,
    policy,
    ...(peers.length || gateways.length ? { ipfs: { peers, gateways } } : {}),
    bundleCacheBytes: int(env, "PROVER_BUNDLE_CACHE_BYTES", 4 * 2 ** 30, 1),
    bundleTimeoutMs: int(env, "PROVER_BUNDLE_TIMEOUT_MS", 120_000, 100),
    bundleRetryMs: int(env, "PROVER_BUNDLE_RETRY_MS", 60_000, 0),
    tx: { stuckMs: int(env, "PROVER_STUCK_MS", 30_000, 100) },
    ...(env.PROVER_HTTP_PORT !== undefined && env.PROVER_HTTP_PORT !== ""
      ? { http: { host: env.PROVER_HTTP_HOST || "127.0.0.1", port: portOf(env) } }
      : {}),
    ...(env.PROVER_HEALTH_STALE_MS ? { healthStaleMs: int(env, "PROVER_HEALTH_STALE_MS", 30_000, 100) } : {}),
    batch: batchConfig(env),
    ...subscriptionsConfig(env, list),
    optimistic: optimisticConfig(env),
  };
}

/** PROVER_OPTIMISTIC and PROVER_WATCH (docs/prover.md, "Optimistic results"). */
function optimisticConfig(env: NodeJS.ProcessEnv): { post: boolean; watch: boolean } {
  const choice = (name: string, values: readonly [string, string], dflt: string): string => {
    const v = (env[name] ?? "").trim();
    if (v === "") return dflt;
    if (!values.includes(v)) throw new Error(`${name} must be ${values[0]} or ${values[1]}, got "${v}": fix or unset it (default ${dflt})`);
    return v;
  };
  return {
    post: choice("PROVER_OPTIMISTIC", ["post", "prove"], "post") === "post",
    watch: choice("PROVER_WATCH", ["on", "off"], "on") === "on",
  };
}

/** PROVER_SUBSCRIPTIONS_ADDRESS, PROVER_MIN_TIP_WEI and PROVER_MIN_TIP_TOKENS (docs/prover.md, "Subscriptions"). */
function subscriptionsConfig(env: NodeJS.ProcessEnv, list: (name: string) => string[]): { subscriptions?: SubscriptionsConfig } {
  const raw = env.PROVER_SUBSCRIPTIONS_ADDRESS;
  const minTipWei = wei(env, "PROVER_MIN_TIP_WEI");
  const minTipTokens = tokenAmounts(list, "PROVER_MIN_TIP_TOKENS");
  if (raw === undefined || raw === "") {
    for (const [name, set] of [
      ["PROVER_MIN_TIP_WEI", minTipWei !== undefined],
      ["PROVER_MIN_TIP_TOKENS", minTipTokens.size > 0],
    ] as const)
      if (set)
        throw new Error(
          `${name} is set but PROVER_SUBSCRIPTIONS_ADDRESS is not: export PROVER_SUBSCRIPTIONS_ADDRESS=${EXAMPLE.PROVER_SUBSCRIPTIONS_ADDRESS} or unset ${name}`,
        );
    return {};
  }
  let address: string;
  try {
    address = getAddress(raw);
  } catch {
    throw new Error(
      `PROVER_SUBSCRIPTIONS_ADDRESS ${raw}: not an address; export the address of the InferenceSubscriptions contract beside this market, or unset it`,
    );
  }
  return {
    subscriptions: { address, ...(minTipWei !== undefined ? { minTipWei } : {}), ...(minTipTokens.size ? { minTipTokens } : {}) },
  };
}

/**
 * A `token:units,...` list (PROVER_MIN_FEE_TOKENS, PROVER_MIN_TIP_TOKENS): checksummed token -> units.
 * @throws Error naming the variable: an item that is not token:units, or a token listed twice.
 */
function tokenAmounts(list: (name: string) => string[], name: string): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const it of list(name)) {
    const m = /^(0x[0-9a-fA-F]{40}):(\d+)$/.exec(it);
    if (!m) throw new Error(`${name}: "${it}" is not token:units (e.g. ${name}=0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48:1000000)`);
    const token = getAddress(m[1].toLowerCase());
    if (out.has(token)) throw new Error(`${name}: token ${token} is listed twice; keep one minimum`);
    out.set(token, BigInt(m[2]));
  }
  return out;
}

function portOf(env: NodeJS.ProcessEnv): number {
  const p = int(env, "PROVER_HTTP_PORT", 0);
  if (p > 65535) throw new Error(`PROVER_HTTP_PORT must be a TCP port (0..65535), got ${p}: fix or unset it`);
  return p;
}

/** Batch settlement settings (docs/prover.md, "Batching"). */
function batchConfig(env: NodeJS.ProcessEnv): { max: number; waitMs: number; marginS: number } {
  const max = int(env, "PROVER_BATCH_MAX", DEFAULT_NODE_CONFIG.batch.max, 1);
  if (max > MAX_BATCH_SIZE) throw new Error(`PROVER_BATCH_MAX must be at most ${MAX_BATCH_SIZE} (the market's maxBatchSize), got ${max}`);
  return {
    max,
    waitMs: int(env, "PROVER_BATCH_WAIT_MS", DEFAULT_NODE_CONFIG.batch.waitMs),
    marginS: int(env, "PROVER_BATCH_MARGIN_S", DEFAULT_NODE_CONFIG.batch.marginS),
  };
}

/**
 * The open-network policy from PROVER_SERVE, PROVER_MAX_CONSTRAINTS, PROVER_MAX_ZKEY_BYTES, PROVER_MIN_FEE,
 * PROVER_MIN_FEE_TOKENS and PROVER_ACCEPT_ANY_TOKEN.
 */
function servePolicy(env: NodeJS.ProcessEnv, list: (name: string) => string[]): ServePolicy {
  req(env, "PROVER_SERVE");
  const items = list("PROVER_SERVE");
  if (items.length === 0)
    throw new Error(`PROVER_SERVE "${env.PROVER_SERVE}" names no model: e.g. PROVER_SERVE=all or PROVER_SERVE=3,0xabc...`);
  let serve: ServePolicy["serve"] = "all";
  if (items.length !== 1 || items[0] !== "all") {
    const modelIds = new Set<string>();
    const owners = new Set<string>();
    for (const it of items) {
      if (/^\d+$/.test(it)) modelIds.add(BigInt(it).toString());
      else if (/^0x[0-9a-fA-F]{40}$/.test(it)) owners.add(getAddress(it));
      else
        throw new Error(
          `PROVER_SERVE: "${it}" is not "all", a model id or an owner address: e.g. PROVER_SERVE=all or PROVER_SERVE=3,0xabc...`,
        );
    }
    serve = { modelIds, owners };
  }
  const minFeeWei = new Map<string, bigint>();
  for (const it of list("PROVER_MIN_FEE")) {
    const m = /^(\d+):(\d+)$/.exec(it);
    if (!m) throw new Error(`PROVER_MIN_FEE: "${it}" is not modelId:wei (e.g. PROVER_MIN_FEE=3:10000000000000000)`);
    minFeeWei.set(BigInt(m[1]).toString(), BigInt(m[2]));
  }
  const minFeeTokens = tokenAmounts(list, "PROVER_MIN_FEE_TOKENS");
  const any = env.PROVER_ACCEPT_ANY_TOKEN ?? "";
  if (!["", "0", "1"].includes(any)) throw new Error(`PROVER_ACCEPT_ANY_TOKEN must be 1 or 0, got "${any}": fix or unset it`);
  return {
    serve,
    maxConstraints: int(env, "PROVER_MAX_CONSTRAINTS", DEFAULT_POLICY.maxConstraints, 1),
    maxZkeyBytes: int(env, "PROVER_MAX_ZKEY_BYTES", DEFAULT_POLICY.maxZkeyBytes, 1),
    minFeeWei,
    minFeeTokens,
    acceptAnyToken: any === "1",
  };
}
