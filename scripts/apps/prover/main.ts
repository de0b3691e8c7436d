/**
 * Entry point of a long-running prover node (configuration: environment variables, see ./config.ts).
 *   PROVER_RPC_URL=... PROVER_PRIVATE_KEY=0x... PROVER_JOBS_ADDRESS=0x... PROVER_STATE_DIR=./state/node1 \
 *     npx ts-node --files scripts/apps/prover/main.ts        (or: npx hardhat run scripts/apps/prover/main.ts)
 * Logs one JSON line per event on stdout; SIGINT / SIGTERM stop it cleanly (jobs in flight finish, metrics logged).
 * A SIGKILL is survived too: the next start resumes from the durable state in PROVER_STATE_DIR.
 */
import { configFromEnv } from "./config";

async function main(): Promise<void> {
  // The configuration first: a missing variable is reported before the node's code (ethers, typechain) loads.
  const cfg = configFromEnv();
  const { ProverNode } = await import("./node");
  const node = new ProverNode(cfg);
  let stopping = false;
  const stop = (sig: string): void => {
    if (stopping) return;
    stopping = true;
    node.log("node_stopping", { signal: sig });
    node.stop().then(
      () => process.exit(0),
      (e: unknown) => {
        console.error(e);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
  await node.start();
}

main().catch((e: unknown) => {
  console.error(`error: ${(e instanceof Error ? e.message : String(e)).split("\n")[0]}`);
  process.exit(1);
});
