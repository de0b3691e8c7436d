/**
 * `npm run ipfs:serve`: keeps the local IPFS node (the blockstore `model:publish` adds bundles to) online so that
 * prover nodes can fetch published bundles from it over libp2p (bitswap). Prints the addresses to give provers
 * (PROVER_IPFS_PEERS) and runs until interrupted.
 *   IPFS_DIR     blockstore folder (default ~/.cache/zkml-evm/ipfs)
 *   IPFS_LISTEN  comma-separated listen multiaddrs (default /ip4/0.0.0.0/tcp/4001)
 */
import { runMain } from "../lib/main";
import { defaultIpfsDir, startIpfsNode } from "./node";

async function main(): Promise<void> {
  const listen = (process.env.IPFS_LISTEN ?? "/ip4/0.0.0.0/tcp/4001").split(",").filter(Boolean);
  const node = await startIpfsNode({ dir: process.env.IPFS_DIR ?? defaultIpfsDir(), listen });
  console.log(`IPFS node online (blockstore ${process.env.IPFS_DIR ?? defaultIpfsDir()}); give provers one of:`);
  for (const a of node.multiaddrs()) console.log(`  PROVER_IPFS_PEERS=${a}`);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await node.stop();
}

runMain(main);
