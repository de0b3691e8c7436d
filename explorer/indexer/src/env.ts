/**
 * The indexer's configuration, read from the environment (the list is at the top of ponder.config.ts). Every error
 * names the variable and what to set it to.
 */
import * as path from "path";

export interface ExplorerEnv {
  rpcUrl: string;
  chainId: number;
  jobs: `0x${string}`;
  registry?: `0x${string}`;
  subscriptions?: `0x${string}`;
  startBlock: number;
  pollMs: number;
  /** How many times the RPC URL is given to Ponder (ponder.config.ts, EXPLORER_RPC_LANES). */
  rpcLanes: number;
  /** A path-style gateway for `ipfs://` bundles (`<gateway>/ipfs/<cid>/<file>`), when the indexer runs no IPFS node. */
  ipfsGateway?: string;
  /**
   * The indexer's own IPFS node for `ipfs://` bundles (src/bundle-access.ts), when EXPLORER_IPFS_PEERS,
   * EXPLORER_IPFS_GATEWAYS or EXPLORER_IPFS_DIR is set: peers, trustless gateways, blockstore folder.
   */
  ipfs?: { peers: string[]; gateways: string[]; dir: string };
  databaseUrl?: string;
  dbDir: string;
  cardCacheDir: string;
  /** Verifier audit verdicts (src/audit.ts), by registry, model, version and vkHash. */
  auditCacheDir: string;
  corsOrigins?: string[];
}

export class ExplorerConfigError extends Error {
  override name = "ExplorerConfigError";
}

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

function address(envName: string, value: string | undefined, what: string): `0x${string}` | undefined {
  if (value === undefined || value === "") return undefined;
  if (!ADDRESS.test(value)) throw new ExplorerConfigError(`${envName}: "${value}" is not an address; set it to ${what}`);
  return value.toLowerCase() as `0x${string}`;
}

function integer(envName: string, value: string | undefined, fallback: number, min: number): number {
  if (value === undefined || value === "") return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min) throw new ExplorerConfigError(`${envName}: "${value}" must be an integer >= ${min}`);
  return n;
}

/** A comma-separated list (blanks dropped). */
function list(value: string | undefined): string[] {
  return (value ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Multiaddrs libp2p over TCP can dial, with the peer id bitswap asks (`/ip4/127.0.0.1/tcp/4001/p2p/12D3Koo...`). */
const PEER = /^\/(ip4|ip6|dns|dns4|dns6)\/[^/]+\/tcp\/\d+\/p2p\/[A-Za-z0-9]+$/;

function ipfsNode(e: Record<string, string | undefined>, dbDir: string): ExplorerEnv["ipfs"] {
  const peers = list(e.EXPLORER_IPFS_PEERS);
  const gateways = list(e.EXPLORER_IPFS_GATEWAYS);
  if (!peers.length && !gateways.length && !e.EXPLORER_IPFS_DIR) return undefined;
  for (const p of peers)
    if (!PEER.test(p))
      throw new ExplorerConfigError(
        `EXPLORER_IPFS_PEERS: "${p}" is not a TCP multiaddr with /p2p/<peer id>; give the publisher's node, e.g. the multiaddr \`npm run ipfs:serve\` prints (/ip4/127.0.0.1/tcp/4001/p2p/12D3Koo...)`,
      );
  for (const g of gateways)
    if (!/^https?:\/\/[^/]+\/?$/.test(g))
      throw new ExplorerConfigError(
        `EXPLORER_IPFS_GATEWAYS: "${g}" must be the http(s):// base of a trustless gateway, e.g. the one \`IPFS_GATEWAY=0.0.0.0:8080 npm run ipfs:serve\` prints`,
      );
  return { peers, gateways, dir: path.resolve(e.EXPLORER_IPFS_DIR || path.join(path.dirname(dbDir), "ipfs")) };
}

/** @throws ExplorerConfigError naming the variable and the fix. */
export function readExplorerEnv(e: Record<string, string | undefined>): ExplorerEnv {
  const jobs = address("EXPLORER_JOBS", e.EXPLORER_JOBS, "the InferenceJobs address of the deployment (deployments/<network>.json)");
  if (!jobs) throw new ExplorerConfigError("EXPLORER_JOBS is not set: set it to the InferenceJobs address of the deployment to index");
  const rpcUrl = e.EXPLORER_RPC_URL || "http://127.0.0.1:8545";
  if (!/^(https?|wss?):\/\//.test(rpcUrl))
    throw new ExplorerConfigError(`EXPLORER_RPC_URL: "${rpcUrl}" must be an http(s):// or ws(s):// URL`);
  const gateway = e.EXPLORER_IPFS_GATEWAY || undefined;
  if (gateway && !/^https?:\/\//.test(gateway))
    throw new ExplorerConfigError(`EXPLORER_IPFS_GATEWAY: "${gateway}" must be an http(s):// URL, e.g. http://127.0.0.1:8080`);
  const chainId = integer("EXPLORER_CHAIN_ID", e.EXPLORER_CHAIN_ID, 31337, 1);
  const localChain = chainId === 31337 || chainId === 1337;
  const dbDir = path.resolve(e.EXPLORER_DB_DIR || path.join(".ponder", "pglite"));
  return {
    rpcUrl,
    chainId,
    jobs,
    registry: address("EXPLORER_REGISTRY", e.EXPLORER_REGISTRY, "the ModelRegistry the market uses, or unset it"),
    subscriptions: address("EXPLORER_SUBSCRIPTIONS", e.EXPLORER_SUBSCRIPTIONS, "the InferenceSubscriptions address, or unset it"),
    startBlock: integer("EXPLORER_START_BLOCK", e.EXPLORER_START_BLOCK, 0, 0),
    pollMs: integer("EXPLORER_POLL_MS", e.EXPLORER_POLL_MS, 250, 50),
    rpcLanes: Math.min(64, integer("EXPLORER_RPC_LANES", e.EXPLORER_RPC_LANES, localChain ? 16 : 1, 1)),
    ipfsGateway: gateway,
    ipfs: ipfsNode(e, dbDir),
    databaseUrl: e.DATABASE_URL || undefined,
    dbDir,
    cardCacheDir: path.resolve(e.EXPLORER_CARD_CACHE || path.join(path.dirname(dbDir), "cards")),
    auditCacheDir: path.resolve(e.EXPLORER_AUDIT_CACHE || path.join(path.dirname(dbDir), "audits")),
    corsOrigins: e.EXPLORER_CORS_ORIGINS ? e.EXPLORER_CORS_ORIGINS.split(",").map((s) => s.trim()) : undefined,
  };
}

async function rpc(url: string, method: string, params: unknown[]): Promise<string> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
      signal: AbortSignal.timeout(15_000),
    });
  } catch (e) {
    throw new ExplorerConfigError(
      `EXPLORER_RPC_URL: ${url} did not answer ${method} (${(e as Error).message}); start the node or fix the URL`,
    );
  }
  const body = (await res.json()) as { result?: string; error?: { message: string } };
  if (body.error || typeof body.result !== "string")
    throw new ExplorerConfigError(`EXPLORER_RPC_URL: ${method} failed at ${url}: ${body.error?.message ?? "no result"}`);
  return body.result;
}

/**
 * The registry the market uses (`InferenceJobs.registry()`), and a check that the RPC serves the configured chain.
 * @throws ExplorerConfigError naming EXPLORER_CHAIN_ID or EXPLORER_JOBS.
 */
export async function readRegistryAddress(rpcUrl: string, jobs: string, chainId: number): Promise<`0x${string}`> {
  const id = Number(BigInt(await rpc(rpcUrl, "eth_chainId", [])));
  if (id !== chainId)
    throw new ExplorerConfigError(`EXPLORER_CHAIN_ID is ${chainId} but ${rpcUrl} serves chain ${id}: set EXPLORER_CHAIN_ID=${id}`);
  const out = await rpc(rpcUrl, "eth_call", [{ to: jobs, data: "0x7b103999" /* registry() */ }, "latest"]).catch(() => "0x");
  if (!/^0x[0-9a-f]{64}$/i.test(out) || BigInt(out) === 0n)
    throw new ExplorerConfigError(`EXPLORER_JOBS: no InferenceJobs market answers registry() at ${jobs} on chain ${id}; check the address`);
  return `0x${out.slice(26)}`.toLowerCase() as `0x${string}`;
}
