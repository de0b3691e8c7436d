/**
 * The explorer's indexer (Ponder 0.16; docs/design-decisions.md, "The explorer's indexer"; docs/operators.md,
 * "Explorer"). Configured from the environment only:
 *
 *   EXPLORER_RPC_URL        JSON-RPC of the chain (default http://127.0.0.1:8545)
 *   EXPLORER_CHAIN_ID       its chain id (default 31337); checked against the RPC at start
 *   EXPLORER_JOBS           the InferenceJobs market (required); the registry is the one it names (`registry()`),
 *                           as the SDK's `InferenceClient.connect` finds it
 *   EXPLORER_REGISTRY       optional: skip that call and use this registry
 *   EXPLORER_SUBSCRIPTIONS  optional: the InferenceSubscriptions contract of the market
 *   EXPLORER_START_BLOCK    first block to index (default 0): the market's deployment block on a long chain
 *   EXPLORER_POLL_MS        how often to ask for a new block (default 250 ms: a job page updates <= 1 s after an event)
 *   EXPLORER_RPC_LANES      how many times Ponder is given the RPC URL (default 16 on a local dev chain, 31337 or
 *                           1337, else 1): Ponder caps each endpoint at 20 requests/s at start and raises the cap 5%
 *                           at a time, and fetches one receipt per transaction where the node has no
 *                           eth_getBlockReceipts (Hardhat), so a local node would be indexed at ~20 jobs/s
 *   EXPLORER_IPFS_PEERS     the publisher's IPFS node(s), multiaddrs with /p2p/<id>, comma-separated: ipfs:// bundles
 *                           are read by the API's own IPFS node, every block checked against its CID (src/bundle-access.ts)
 *   EXPLORER_IPFS_GATEWAYS  trustless gateways for that node (raw blocks, verified by CID), comma-separated
 *   EXPLORER_IPFS_DIR       that node's blockstore (default <EXPLORER_DB_DIR or .ponder>/ipfs); any of these three
 *                           starts the node
 *   EXPLORER_IPFS_GATEWAY   else a path-style gateway for ipfs:// bundles (<gateway>/ipfs/<cid>/<file>); bundles are
 *                           read by the API, never by the handlers
 *   EXPLORER_CARD_CACHE     folder of the model-card cache (default <EXPLORER_DB_DIR or .ponder>/cards)
 *   EXPLORER_AUDIT_CACHE    folder of the verifier audit verdicts (default <EXPLORER_DB_DIR or .ponder>/audits)
 *   DATABASE_URL            Postgres connection string; unset: the embedded PGlite in EXPLORER_DB_DIR
 *   EXPLORER_DB_DIR         PGlite folder (default .ponder/pglite)
 *   EXPLORER_CORS_ORIGINS   comma-separated origins allowed to call the API (default: any localhost / 127.0.0.1 origin)
 *
 * Set PONDER_TELEMETRY_DISABLED=true (the starter scripts/apps/explorer/indexer.ts does): no request leaves for a
 * third-party host.
 */
import { createConfig } from "ponder";
import { InferenceJobsAbi, InferenceSubscriptionsAbi, ModelRegistryAbi } from "./abis";
import { readExplorerEnv, readRegistryAddress } from "./src/env";

const env = readExplorerEnv(process.env);
const registry = env.registry ?? (await readRegistryAddress(env.rpcUrl, env.jobs, env.chainId));

export default createConfig({
  database: env.databaseUrl ? { kind: "postgres", connectionString: env.databaseUrl } : { kind: "pglite", directory: env.dbDir },
  ordering: "multichain",
  chains: {
    chain: {
      id: env.chainId,
      // every lane is one of Ponder's rate-limited, load-balanced endpoints (EXPLORER_RPC_LANES above)
      rpc: env.rpcLanes > 1 ? Array.from({ length: env.rpcLanes }, () => env.rpcUrl) : env.rpcUrl,
      pollingInterval: env.pollMs,
      // a local dev chain is reset between runs under the same id: do not trust a cached copy of it
      disableCache: env.chainId === 31337 || env.chainId === 1337,
    },
  },
  contracts: {
    ModelRegistry: { chain: "chain", abi: ModelRegistryAbi, address: registry, startBlock: env.startBlock },
    InferenceJobs: {
      chain: "chain",
      abi: InferenceJobsAbi,
      address: env.jobs,
      startBlock: env.startBlock,
      includeTransactionReceipts: true,
    },
    // without EXPLORER_SUBSCRIPTIONS the zero address: no contract there, no event
    InferenceSubscriptions: {
      chain: "chain",
      abi: InferenceSubscriptionsAbi,
      address: env.subscriptions ?? "0x0000000000000000000000000000000000000000",
      startBlock: env.startBlock,
    },
  },
});
