/**
 * The explorer API's answers as JSON (src/api/index.ts serves them; explorer/app/src/api.ts and the test's mock API
 * import these types, so a field renamed on one side is a type error on the others). Types only: no runtime import,
 * so the browser bundle takes nothing of the indexer. Bigints are decimal strings (`Uint`), addresses and hashes lower
 * case 0x, times unix seconds.
 */
import type { BundleManifest, ModelCard } from "./bundle";
import type { ModelLayout } from "./model-layout";

export type Address = string;
/** A uint256 (or any bigint) as a decimal string. */
export type Uint = string;
/** Unix seconds. */
export type Unix = number;
export type Hex = string;

/** A job's status in the explorer: the market's `JobStatus` split by what the timeline shows (src/derive.ts `nextStatus`). */
export type JobStatusName = "open" | "claimed" | "delivered" | "posted" | "challenged" | "fulfilled" | "reclaimed";

/** A timeline entry's stage: one per market event (src/derive.ts `stageOf`). */
export type Stage =
  | "opened"
  | "inputs"
  | "feeToken"
  | "optimistic"
  | "claimantDesignated"
  | "claimed"
  | "inputDelivered"
  | "claimReleased"
  | "claimExpired"
  | "posted"
  | "challenged"
  | "challengeAnswered"
  | "posterSlashed"
  | "fulfilled"
  | "reclaimed"
  | "callbackFailed";

export interface Status {
  chainId: number;
  jobs: Address;
  /** Null while the market's `registry()` cannot be read. */
  registry: Address | null;
  subscriptions: Address | null;
  /** Null before the first block is indexed. */
  indexedBlock: number | null;
  indexedTimestamp: Unix | null;
}

export interface Page<T> {
  items: T[];
  total: number;
}

export interface ModelRow {
  modelId: Uint;
  owner: Address;
  /** From the current version's card; null until the indexer has read it. */
  name: string | null;
  task: string | null;
  currentVersion: number;
  deprecated: boolean;
  versions: number;
  jobs: number;
  fulfilled: number;
  reclaimed: number;
  p50LatencyS: number | null;
  /** Median fee of fulfilled ETH-fee jobs. */
  p50FeeWei: Uint | null;
  lastJobAt: Unix | null;
  registeredAt: Unix;
}

/**
 * The verifier audit of a version (scripts/chain/audit-verifier.ts `auditBundleVersion`): `passed` when the recorded
 * verifier is the one generated from the bundle's zkey with the recorded code hash and layout; `failed` with the reason;
 * `pending` while it runs in the background; `unavailable` when it cannot run (no verifier, bundle unreadable), with why.
 */
export interface AuditStatus {
  status: "passed" | "failed" | "pending" | "unavailable";
  reason?: string;
  checkedAt?: Unix;
}

export interface ModelVersionRow {
  version: number;
  bundleUri: string;
  /** The verifier adapter; null for a commitment-only version. */
  verifier: Address | null;
  snarkjsVerifier: Address | null;
  /** 0 committed, 1 public; null when the version records no layout. */
  inputMode: number | null;
  layout: ModelLayout | null;
  modelHash: Hex;
  circuitHash: Hex;
  vkHash: Hex;
  registeredAt: Unix;
  txHash: Hex;
  audit: AuditStatus;
}

export interface ModelStats {
  jobs: number;
  fulfilled: number;
  reclaimed: number;
  p50LatencyS: number | null;
  p95LatencyS: number | null;
  p50FeeWei: Uint | null;
  /** Median gas per result settled alone, and per result settled in a batch (its share of the batch). */
  p50GasSingle: Uint | null;
  p50GasBatched: Uint | null;
  stageP50S: { claim: number | null; deliver: number | null; prove: number | null };
}

/** One layer of the quantized model without its weights (src/cards.ts `summariseLayers`). */
export type LayerSummary = Record<string, string | number | boolean>;

export interface JobSummary {
  jobId: Uint;
  modelId: Uint;
  version: number;
  requester: Address;
  /** Credited with the result, else the live (or last) claimant. */
  prover: Address | null;
  status: JobStatusName;
  /** Wei, or the token's units when feeToken is set. */
  feeWei: Uint;
  /** The ERC-20 the fee is paid in; null for ETH. */
  feeToken: Address | null;
  optimistic: boolean;
  openedAt: Unix;
  fulfilledAt: Unix | null;
  latencyS: number | null;
  /** Public signal 0 of the result, once there is one. */
  output: Uint | null;
  /** Settled in a batch (`submitResults`). */
  batched: boolean;
  subscriptionId: Uint | null;
}

export interface ModelDetail {
  model: ModelRow;
  versions: ModelVersionRow[];
  /** The current version's card.json (checked against bundle.json and the registry), or null. */
  card: ModelCard | null;
  cardError: string | null;
  /** The current version's layers without weights, or null (no card yet, or a model file too large to read). */
  architecture: LayerSummary[] | null;
  stats: ModelStats;
  recentJobs: JobSummary[];
}

export interface CardResponse {
  card: ModelCard;
  /** bundle.json of that version. */
  manifest: BundleManifest;
  architecture: LayerSummary[] | null;
  version: number;
  bundleUri: string;
}

export interface TimelineEntry {
  stage: Stage;
  at: Unix;
  block: number;
  txHash: Hex;
  /** The event's transaction's gas, or the job's share of a batch. */
  gasUsed: Uint | null;
  actor: Address | null;
  /** Fulfilled in a batch settlement. */
  batched: boolean;
}

export interface JobTimelineEntry extends TimelineEntry {
  /** The event's own fields (e.g. a claim's bond, a challenge's challenger). */
  data: Record<string, string | boolean> | null;
}

export interface ClaimRow {
  id: string;
  jobId: Uint;
  prover: Address;
  bond: Uint;
  leaseEnd: Uint;
  claimedAt: Unix;
  outcome: "live" | "fulfilled" | "expired" | "released" | "slashed";
  slashed: Uint | null;
  returned: Uint | null;
  endedAt: Unix | null;
}

export interface JobRecord extends JobSummary {
  inputCommitment: Uint;
  inputUri: string;
  /** Public-input jobs: the quantized values. */
  inputs: Uint[] | null;
  privateInput: boolean;
  inputMode: "committed" | "public";
  deadline: Uint;
  callback: boolean;
  callbackFailed: boolean;
  /** Slashed bonds added to the fee so far (wei). */
  bounty: Uint;
  claimant: Address | null;
  claimCount: number;
  claims: ClaimRow[];
  paidFee: Uint | null;
  paidBounty: Uint | null;
  burned: Uint | null;
  run: Uint | null;
  openedBlock: number;
  openedTx: Hex;
  openedGas: Uint | null;
  claimedAt: Unix | null;
  claimedTx: Hex | null;
  claimedGas: Uint | null;
  deliveredAt: Unix | null;
  deliveredTx: Hex | null;
  deliveredGas: Uint | null;
  postedAt: Unix | null;
  postedTx: Hex | null;
  postedGas: Uint | null;
  challengedAt: Unix | null;
  challengedTx: Hex | null;
  challengedGas: Uint | null;
  fulfilledBlock: number | null;
  fulfilledTx: Hex | null;
  fulfilledGas: Uint | null;
  batchSize: number | null;
  reclaimedAt: Unix | null;
  reclaimedTx: Hex | null;
  reclaimedGas: Uint | null;
}

export interface JobDetail {
  job: JobRecord;
  timeline: JobTimelineEntry[];
}

export interface ProverRow {
  address: Address;
  served: number;
  /** Expired claims. */
  failures: number;
  claims: number;
  /**
   * ETH fees and bounties, the tips of the subscription runs it opened (a skipped run's tip is not counted: its event
   * names no opener), the challenge bonds its answers won and the rewards of the posts it disproved or challenged.
   */
  earningsWei: Uint;
  /** Token fees (and token subscriptions' run tips) by token address. */
  tokenFees: Record<string, Uint>;
  bondLockedWei: Uint;
  /** Claim bonds lost (expired claims, slashed posts) and challenge bonds lost to answered challenges. */
  slashedWei: Uint;
  depositedWei: Uint;
  withdrawnWei: Uint;
  p50LatencyS: number | null;
  firstActiveAt: Unix;
  lastActiveAt: Unix;
}

export interface ProverDetail {
  prover: ProverRow;
  recentJobs: JobSummary[];
}

export interface SubscriptionRow {
  subscriptionId: Uint;
  owner: Address;
  modelId: Uint;
  /** The pinned version. */
  version: number;
  intervalS: number;
  start: Unix;
  /** Runs paid for. */
  runs: number;
  /** Runs accounted for so far (opened, skipped or missed): the subscription is done when it reaches `runs`. */
  nextRun: number;
  runDeadlineS: number;
  cancelled: boolean;
  refundedWei: Uint | null;
  optimistic: boolean;
  feePerRunWei: Uint;
  tipPerRunWei: Uint;
  feeToken: Address | null;
  opened: number;
  delivered: number;
  skipped: number;
  missed: number;
  reclaimed: number;
  createdAt: Unix;
  createdBlock: number;
  txHash: Hex;
}

export type RunStatus = "opened" | "delivered" | "skipped" | "missed" | "reclaimed";

export interface SubscriptionRun {
  run: Uint;
  /** More than 1 for a range of missed runs. */
  count: number;
  status: RunStatus;
  /** The market job of the run; null when the run was skipped or missed. */
  jobId: Uint | null;
  opener: Address | null;
  /** Why a run was skipped (the contract's reason code). */
  reason: number | null;
  output: Uint | null;
  feeWei: Uint | null;
  callbackFailed: boolean;
  openedAt: Unix;
  openedTx: Hex;
  settledAt: Unix | null;
  settledTx: Hex | null;
  job: JobSummary | null;
  timeline: TimelineEntry[];
}

export interface SubscriptionDetail {
  subscription: SubscriptionRow;
  runs: SubscriptionRun[];
}

export interface GasStat {
  p50: Uint | null;
  n: number;
}

export interface NetworkStats {
  now: Unix;
  jobsPerMinute: { minute: Unix; opened: number; fulfilled: number }[];
  latency: { minute: Unix; p50: number | null; p95: number | null }[];
  gas: { single: GasStat; batched: GasStat };
  totals: { models: number; jobs: number; fulfilled: number; provers: number };
}

export interface ApiErrorBody {
  error: string;
  bundleUri?: string;
}

/**
 * What a route may pass to be served as `T`: bigints where `T` has decimal strings (the API's JSON turns them into
 * strings, src/derive.ts `toJsonSafe`), the rest as `T` says. Routes declare their answer with it, so the handler's
 * values are checked against the JSON the app reads.
 */
export type Serves<T> = T extends string
  ? string extends T
    ? string | bigint
    : T
  : T extends number | boolean | null | undefined
    ? T
    : T extends readonly (infer U)[]
      ? readonly Serves<U>[]
      : { [K in keyof T]: Serves<T[K]> };
