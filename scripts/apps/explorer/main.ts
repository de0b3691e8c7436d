/**
 * `npm run explorer`: the explorer (docs/operators.md, "Explorer"): its indexer (explorer/indexer, embedded database)
 * and its web app (explorer/app), and, unless told to watch an existing deployment, a local network for them to show
 * (scripts/apps/explorer/local.ts: a hardhat node, the bundled models, a prover node with real proofs, seed jobs, a
 * subscription whose runs the prover opens and serves every EXPLORER_SUBSCRIPTION_S seconds, and a new job every
 * EXPLORER_TRAFFIC_S seconds). Runs until interrupted.
 *
 * Local network (default):
 *   EXPLORER_CHAIN_PORT   the chain's JSON-RPC port (default 8545, so a browser wallet finds it at its usual place)
 *   EXPLORER_TRAFFIC_S    seconds between the jobs it keeps opening (default 30; 0: none after the seed jobs)
 *   EXPLORER_SUBSCRIPTION_S  seconds between the runs of its subscription (default 60, the least; 0: no subscriptions)
 * An existing deployment (a testnet, another node): set EXPLORER_JOBS (and EXPLORER_RPC_URL, EXPLORER_CHAIN_ID,
 * EXPLORER_SUBSCRIPTIONS, EXPLORER_START_BLOCK, DATABASE_URL as the indexer reads them; ipfs:// bundles through
 * EXPLORER_IPFS_PEERS / EXPLORER_IPFS_GATEWAYS / EXPLORER_IPFS_DIR, or a path-style EXPLORER_IPFS_GATEWAY).
 * Both:
 *   EXPLORER_PORT         the app's port (default 5173)
 *   EXPLORER_API_PORT     the indexer's port (default 42069)
 *   EXPLORER_DB_DIR       the embedded database's folder (default build/explorer-db/<chain id>-<market>; the local
 *                         network starts from an empty one every run, since its chain is new)
 */
import * as fs from "fs";
import * as path from "path";
import hre from "hardhat";
import { runMain } from "../main";
import { BUILD_DIR } from "../../util/paths";
import { devKey } from "../load/market";
import { startIndexer } from "./indexer";
import { ensureAppBuild, serveApp } from "./app";
import { startLocalNetwork, WALLET_ACCOUNT } from "./local";

/** A whole-number setting from the environment, or `fallback`. @throws Error naming the variable and the fix. */
function intEnv(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === "") return fallback;
  if (!/^\d+$/.test(v)) throw new Error(`${name}=${v}: give a whole number, e.g. ${name}=${fallback}`);
  return Number(v);
}

async function main(): Promise<void> {
  const appPort = intEnv("EXPLORER_PORT", 5173);
  const apiPort = intEnv("EXPLORER_API_PORT", 42069);
  await ensureAppBuild();
  const stops: [string, () => Promise<void>][] = [];
  const stopAll = async () => {
    for (const [what, stop] of stops.reverse()) {
      if (process.env.ZKML_DEBUG === "1") console.log(`stopping ${what} ...`);
      await stop().catch((e: Error) => console.error(`stopping ${what}: ${e.message}`));
    }
  };
  try {
    let rpcUrl: string;
    let chainId: number;
    let jobs: string;
    let subscriptions = process.env.EXPLORER_SUBSCRIPTIONS;
    let dbDir: string;
    let traffic: (() => void) | undefined;
    if (process.env.EXPLORER_JOBS) {
      rpcUrl = process.env.EXPLORER_RPC_URL ?? "http://127.0.0.1:8545";
      chainId = intEnv("EXPLORER_CHAIN_ID", 31337);
      jobs = process.env.EXPLORER_JOBS.toLowerCase();
      dbDir = process.env.EXPLORER_DB_DIR ?? path.join(BUILD_DIR, "explorer-db", `${chainId}-${jobs}`);
    } else {
      console.log("starting a local network: hardhat node, the bundled models, a prover node, seed jobs (real proofs) ...");
      const subscriptionIntervalS = intEnv("EXPLORER_SUBSCRIPTION_S", 60);
      if (subscriptionIntervalS > 0 && subscriptionIntervalS < 60)
        throw new Error(
          `EXPLORER_SUBSCRIPTION_S=${subscriptionIntervalS}: a subscription's interval is at least 60 s; give 60 or more, or 0 for none`,
        );
      const net = await startLocalNetwork(hre, { chainPort: intEnv("EXPLORER_CHAIN_PORT", 8545), subscriptionIntervalS });
      stops.push(["the local network", () => net.stop()]);
      ({ jobsAddress: jobs, chainId } = net);
      rpcUrl = net.chain.url;
      subscriptions = net.subscriptions?.address;
      dbDir = process.env.EXPLORER_DB_DIR ?? path.join(BUILD_DIR, "explorer-db", "local");
      fs.rmSync(dbDir, { recursive: true, force: true }); // a new chain: the old one's tables would disagree with it
      const everyS = intEnv("EXPLORER_TRAFFIC_S", 30);
      if (everyS > 0) {
        const names = Object.keys(net.kit.models);
        let n = 0;
        const timer = setInterval(() => {
          n++;
          net
            .openSample(names[n % names.length], n, { optimistic: n % 5 === 0 })
            .catch((e: Error) => console.error(`traffic: ${e.message}`));
        }, everyS * 1000);
        traffic = () => clearInterval(timer);
        stops.push(["the traffic", async () => traffic?.()]);
      }
    }
    const indexer = await startIndexer({
      rpcUrl,
      chainId,
      jobs,
      subscriptions,
      startBlock: intEnv("EXPLORER_START_BLOCK", 0),
      ipfsGateway: process.env.EXPLORER_IPFS_GATEWAY,
      ipfsPeers: process.env.EXPLORER_IPFS_PEERS?.split(","),
      ipfsGateways: process.env.EXPLORER_IPFS_GATEWAYS?.split(","),
      ipfsDir: process.env.EXPLORER_IPFS_DIR,
      databaseUrl: process.env.DATABASE_URL,
      port: apiPort,
      dbDir,
    });
    stops.push(["the indexer", () => indexer.stop()]);
    const app = await serveApp({ port: appPort, apiUrl: indexer.url });
    stops.push(["the app server", () => app.stop()]);
    console.log(`\nexplorer:  ${app.url}`);
    console.log(`indexer:   ${indexer.url}/api/status (GraphQL at ${indexer.url}/graphql)`);
    console.log(`chain:     ${rpcUrl} (chain id ${chainId}), market ${jobs}`);
    if (subscriptions) console.log(`           subscriptions ${subscriptions} (${app.url}/subscriptions)`);
    if (!process.env.EXPLORER_JOBS)
      console.log(
        `wallet:    add the network above to your browser wallet and import Hardhat's test account #${WALLET_ACCOUNT}\n` +
          `           ${devKey(WALLET_ACCOUNT)} (a public test key: never use it on a real network)`,
      );
    console.log("Ctrl-C stops everything.");
    await new Promise<void>((resolve) => {
      process.once("SIGINT", resolve);
      process.once("SIGTERM", resolve);
    });
  } finally {
    await stopAll();
    // everything is stopped; a library's idle keep-alive socket or timer must not keep the command running
    setTimeout(() => process.exit(), 1000).unref();
  }
}

runMain(main);
