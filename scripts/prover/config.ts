/**
 * Prover node configuration from the environment (the `main.ts` entry point):
 *
 * | variable | meaning | default |
 * |---|---|---|
 * | PROVER_RPC_URL | JSON-RPC endpoint | required |
 * | PROVER_PRIVATE_KEY | the node's account (0x hex) | required |
 * | PROVER_JOBS_ADDRESS | InferenceJobs address | required |
 * | PROVER_MODELS | comma-separated bundled model names | iris-mlp |
 * | PROVER_STATE_DIR | durable state folder (one node per folder) | required |
 * | PROVER_CONCURRENCY | jobs in flight = proving worker threads | 1 |
 * | PROVER_MIN_FEE_WEI | skip jobs paying less | 0 |
 * | PROVER_STAKE_WEI | stake to keep deposited | claimBond * concurrency * 2 |
 * | PROVER_POLL_MS | chain polling period | 500 |
 * | PROVER_CLAIM_JITTER_MS | random delay before a claim | 300 |
 * | PROVER_FROM_BLOCK | first block to scan on an empty store | 0 |
 * | PROVER_STUCK_MS | replace a transaction unmined this long | 30000 |
 * | PROVER_METRICS_MS | metrics line period (0: only at exit) | 30000 |
 * | PROVER_NAME | name in log lines | address prefix |
 * | PROVER_IPFS_GATEWAY | gateway URL for `ipfs://` job inputs (e.g. http://127.0.0.1:8080) | none (ipfs inputs skipped) |
 */
import { getAddress } from "ethers";
import type { ProverNodeConfig } from "./node";

/** Defaults of the optional settings (also used by ProverNode). */
export const DEFAULT_NODE_CONFIG = { concurrency: 1, minFeeWei: 0n, pollMs: 500, claimJitterMs: 300, metricsEveryMs: 30_000 };

const EXAMPLE: Record<string, string> = {
  PROVER_RPC_URL: "http://127.0.0.1:8545",
  PROVER_PRIVATE_KEY: "0x<64 hex digits>",
  PROVER_JOBS_ADDRESS: "<contracts.InferenceJobs.address of deployments/<network>.json>",
  PROVER_STATE_DIR: "./state/node1",
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
  const models = (env.PROVER_MODELS ?? "iris-mlp")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (models.length === 0) throw new Error("PROVER_MODELS must name at least one model");
  return {
    rpcUrl: req(env, "PROVER_RPC_URL"),
    privateKey: pk,
    jobsAddress: jobs,
    models,
    stateDir: req(env, "PROVER_STATE_DIR"),
    concurrency: int(env, "PROVER_CONCURRENCY", DEFAULT_NODE_CONFIG.concurrency, 1),
    minFeeWei: wei(env, "PROVER_MIN_FEE_WEI") ?? DEFAULT_NODE_CONFIG.minFeeWei,
    stakeWei: wei(env, "PROVER_STAKE_WEI"),
    pollMs: int(env, "PROVER_POLL_MS", DEFAULT_NODE_CONFIG.pollMs, 10),
    claimJitterMs: int(env, "PROVER_CLAIM_JITTER_MS", DEFAULT_NODE_CONFIG.claimJitterMs),
    fromBlock: int(env, "PROVER_FROM_BLOCK", 0),
    metricsEveryMs: int(env, "PROVER_METRICS_MS", DEFAULT_NODE_CONFIG.metricsEveryMs),
    name: env.PROVER_NAME,
    ipfsGateway: env.PROVER_IPFS_GATEWAY,
    tx: { stuckMs: int(env, "PROVER_STUCK_MS", 30_000, 100) },
  };
}
