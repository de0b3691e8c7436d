/**
 * What the parts of a running prover node share (scripts/apps/prover/node.ts builds it in `start()`): the
 * configuration, the log and metrics, the chain connection and contracts, the store, the transaction sender, the
 * proving pool, the bundle cache, the node's view of every job and its clocks of the chain. The chain watcher, the job
 * pipeline, model serving and settlement each take it; none of them owns it.
 */
import type { JsonRpcProvider, Wallet } from "ethers";
import type { InferenceJobs, ModelRegistry } from "../../../typechain-types";
import type { IpfsNode } from "../../engine/ipfs";
import type { BundleCache } from "./bundle-cache";
import type { ProverNodeConfig } from "./config";
import type { JsonLog } from "./log";
import type { Metrics } from "./metrics";
import type { ProofPool } from "./pool";
import type { JobRecord, ProverStore } from "./store";
import type { TxSender } from "./tx";

export interface NodeContext {
  readonly cfg: ProverNodeConfig;
  readonly log: JsonLog;
  readonly metrics: Metrics;
  /** The node's account. */
  readonly address: string;
  readonly provider: JsonRpcProvider;
  readonly wallet: Wallet;
  readonly jobs: InferenceJobs;
  readonly registry: ModelRegistry;
  readonly store: ProverStore;
  readonly txs: TxSender;
  readonly pool: ProofPool;
  readonly bundles: BundleCache;
  readonly ipfsNode?: IpfsNode;
  readonly chainId: bigint;
  readonly claimBond: bigint;
  /** The chain's block number when this node started: jobs settled up to it were never this node's to lose. */
  readonly startBlock: number;
  /** Blocks an event must be under the head before the node acts on it. */
  readonly confirmations: number;
  /** The node's view of every job it has seen, by job id. */
  readonly records: Map<string, JobRecord>;
  /** Jobs in flight (being processed), by job id. */
  readonly active: Set<string>;
  /** Jobs settled (done or lost) in blocks not yet at the confirmation depth: re-checked until they are. */
  readonly unconfirmed: Set<string>;
  /** Jobs in flight whose id a reorganisation gave to another job: installed when their processing ends. */
  readonly replacements: Map<string, JobRecord>;
  /** False while starting and once stopping: no new work is taken. */
  running: boolean;
  /** The latest block's timestamp (s). */
  chainTime: number;
  /** The latest block number seen by `tick`, and when it was first seen (ms). */
  chainBlock: number;
  chainTimeSeenAt: number;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
export const errMsg = (e: unknown): string => (e instanceof Error ? e.message : String(e)).slice(0, 300);
