/**
 * Starts the explorer's indexer (explorer/indexer, a Ponder app) as a child process: `ponder start` with the
 * configuration in its environment (the variables listed at the top of explorer/indexer/ponder.config.ts), resolved
 * once its HTTP server answers /ready (historical indexing done). For the launcher, the tests and the benchmark.
 *
 *   const ix = await startIndexer({ rpcUrl, chainId: 31337, jobs, port, dbDir });
 *   await ix.waitForBlock(await provider.getBlockNumber());
 *   const models = await (await fetch(`${ix.url}/api/models`)).json();
 *   await ix.stop();
 */
import { type ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { ROOT } from "../../util/paths";
import { freePort } from "../../chain/local-node";

export const INDEXER_DIR = path.join(ROOT, "explorer", "indexer");

export interface IndexerOptions {
  rpcUrl: string;
  chainId: number;
  /** The InferenceJobs market. */
  jobs: string;
  /** The InferenceSubscriptions contract, if any. */
  subscriptions?: string;
  /** The registry (default: the market's `registry()`). */
  registry?: string;
  startBlock?: number;
  /** HTTP port (default: a free one). */
  port?: number;
  /** PGlite folder (ignored with databaseUrl). */
  dbDir: string;
  /** Postgres instead of PGlite. */
  databaseUrl?: string;
  /** Database schema the tables live in (default "explorer"). */
  schema?: string;
  /** A path-style gateway for `ipfs://` bundles (EXPLORER_IPFS_GATEWAY), when the indexer runs no IPFS node. */
  ipfsGateway?: string;
  /**
   * The indexer's own IPFS node for `ipfs://` bundles, verified by CID (explorer/indexer/src/bundle-access.ts): the
   * publisher's node(s) as multiaddrs with /p2p/<id> (EXPLORER_IPFS_PEERS), trustless gateways (EXPLORER_IPFS_GATEWAYS),
   * its blockstore folder (EXPLORER_IPFS_DIR, default beside the database folder). Any of them starts the node.
   */
  ipfsPeers?: readonly string[];
  ipfsGateways?: readonly string[];
  ipfsDir?: string;
  pollMs?: number;
  /** EXPLORER_RPC_LANES (ponder.config.ts; default there: 16 on a local chain). */
  rpcLanes?: number;
  /** Milliseconds to wait for /ready (default 120 s). */
  readyTimeoutMs?: number;
  /** Prints the indexer's output as it comes (default: kept for error messages only). */
  echo?: boolean;
}

export interface RunningIndexer {
  /** Base URL of its HTTP server (`/api/...`, `/graphql`, `/ready`). */
  url: string;
  port: number;
  process: ChildProcess;
  /** Resolves once the indexer has processed block `n` (its /api/status `indexedBlock`). */
  waitForBlock(n: number, timeoutMs?: number): Promise<void>;
  /** Its output so far (for failure messages). */
  output(): string;
  /** Stops it (SIGTERM, then SIGKILL after 10 s) and resolves when it exited. */
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The environment the indexer reads (ponder.config.ts). */
export function indexerEnv(o: IndexerOptions): Record<string, string> {
  const env: Record<string, string> = {
    EXPLORER_RPC_URL: o.rpcUrl,
    EXPLORER_CHAIN_ID: String(o.chainId),
    EXPLORER_JOBS: o.jobs,
    EXPLORER_START_BLOCK: String(o.startBlock ?? 0),
    EXPLORER_DB_DIR: path.resolve(o.dbDir),
    EXPLORER_POLL_MS: String(o.pollMs ?? 250),
    PONDER_TELEMETRY_DISABLED: "true",
  };
  if (o.subscriptions) env.EXPLORER_SUBSCRIPTIONS = o.subscriptions;
  if (o.registry) env.EXPLORER_REGISTRY = o.registry;
  if (o.ipfsGateway) env.EXPLORER_IPFS_GATEWAY = o.ipfsGateway;
  if (o.ipfsPeers?.length) env.EXPLORER_IPFS_PEERS = o.ipfsPeers.join(",");
  if (o.ipfsGateways?.length) env.EXPLORER_IPFS_GATEWAYS = o.ipfsGateways.join(",");
  if (o.ipfsDir) env.EXPLORER_IPFS_DIR = path.resolve(o.ipfsDir);
  if (o.rpcLanes !== undefined) env.EXPLORER_RPC_LANES = String(o.rpcLanes);
  if (o.databaseUrl) env.DATABASE_URL = o.databaseUrl;
  return env;
}

/**
 * Spawns `ponder start` on explorer/indexer and waits for /ready.
 * @throws Error with the indexer's output when it exits or is not ready in time.
 */
export async function startIndexer(o: IndexerOptions): Promise<RunningIndexer> {
  const port = o.port ?? (await freePort());
  fs.mkdirSync(path.resolve(o.dbDir), { recursive: true });
  const bin = path.join(ROOT, "node_modules", "ponder", "dist", "esm", "bin", "ponder.js");
  if (!fs.existsSync(bin)) throw new Error(`ponder is not installed (${bin} is missing): run npm ci`);
  // drop the parent's database settings unless given: a stray DATABASE_URL would send the tables elsewhere
  const { DATABASE_URL: _d, DATABASE_PRIVATE_URL: _p, DATABASE_SCHEMA: _s, ...parentEnv } = process.env;
  const child = spawn(
    process.execPath,
    [bin, "start", "--root", INDEXER_DIR, "--port", String(port), "--hostname", "127.0.0.1", "--schema", o.schema ?? "explorer"],
    { cwd: INDEXER_DIR, env: { ...parentEnv, ...indexerEnv(o), NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  const keep = (d: Buffer) => {
    const s = d.toString();
    out = (out + s).slice(-200_000);
    if (o.echo) process.stderr.write(s);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const t = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(t);
  };
  const deadline = Date.now() + (o.readyTimeoutMs ?? 120_000);
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`the indexer exited with code ${child.exitCode} before it was ready:\n${out.slice(-4000)}`);
    try {
      const res = await fetch(`${url}/ready`, { signal: AbortSignal.timeout(2000) });
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the indexer was not ready on ${url} within ${o.readyTimeoutMs ?? 120_000} ms:\n${out.slice(-4000)}`);
    }
    await sleep(200);
  }
  return {
    url,
    port,
    process: child,
    output: () => out,
    stop,
    async waitForBlock(n: number, timeoutMs = 30_000): Promise<void> {
      const end = Date.now() + timeoutMs;
      let last: unknown = null;
      for (;;) {
        try {
          const s = (await (await fetch(`${url}/api/status`)).json()) as { indexedBlock: number | null };
          last = s.indexedBlock;
          if (s.indexedBlock !== null && s.indexedBlock >= n) return;
        } catch (e) {
          last = (e as Error).message;
        }
        if (child.exitCode !== null) throw new Error(`the indexer exited with code ${child.exitCode}:\n${out.slice(-4000)}`);
        if (Date.now() > end)
          throw new Error(`the indexer did not reach block ${n} within ${timeoutMs} ms (at ${String(last)}):\n${out.slice(-3000)}`);
        await sleep(100);
      }
    },
  };
}
