/**
 * `npm run ipfs:serve`: keeps the local IPFS node (the blockstore `model:publish` adds bundles to) online so that
 * prover nodes (and the explorer's indexer) can fetch published bundles from it over libp2p (bitswap). Prints the
 * addresses to give provers (PROVER_IPFS_PEERS) and explorers (EXPLORER_IPFS_PEERS) and runs until interrupted.
 *   IPFS_DIR     blockstore folder (default ~/.cache/zkml-evm/ipfs)
 *   IPFS_LISTEN  comma-separated listen multiaddrs (default /ip4/127.0.0.1/tcp/4001: this machine only; provers on
 *                other machines need e.g. /ip4/0.0.0.0/tcp/4001)
 *   IPFS_GATEWAY host:port to also serve the blocks as a trustless HTTP gateway (PROVER_IPFS_GATEWAYS); unset: none
 */
import { runMain } from "../main";
import { defaultIpfsDir, startIpfsNode } from "../../engine/ipfs";

async function main(): Promise<void> {
  // Loopback unless told otherwise: exposing a node to the network is the operator's decision (docs/operators.md).
  const listen = (process.env.IPFS_LISTEN ?? "/ip4/127.0.0.1/tcp/4001").split(",").filter(Boolean);
  const node = await startIpfsNode({ dir: process.env.IPFS_DIR ?? defaultIpfsDir(), listen });
  console.log(
    `IPFS node online (blockstore ${process.env.IPFS_DIR ?? defaultIpfsDir()}); give provers one of (and explorers, as EXPLORER_IPFS_PEERS):`,
  );
  for (const a of node.multiaddrs()) console.log(`  PROVER_IPFS_PEERS=${a}`);
  let gateway: { url: string; close(): Promise<void> } | undefined;
  if (process.env.IPFS_GATEWAY) {
    const m = /^(.*):(\d+)$/.exec(process.env.IPFS_GATEWAY);
    if (!m) throw new Error(`IPFS_GATEWAY=${process.env.IPFS_GATEWAY}: give host:port, e.g. IPFS_GATEWAY=0.0.0.0:8080`);
    gateway = await node.serveGateway({ host: m[1], port: Number(m[2]) });
    console.log(`  PROVER_IPFS_GATEWAYS=${gateway.url} (trustless gateway; use this host's public address)`);
  }
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await gateway?.close();
  await node.stop();
}

runMain(main);
