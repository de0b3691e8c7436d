/**
 * Durable state of one prover node, in an embedded LevelDB (`classic-level`, prebuilt N-API binary; no install
 * script). Every write uses `sync: true` (LevelDB fsyncs its write-ahead log before the write resolves), and
 * multi-key updates go through one atomic `batch`, so a node killed at any instant restarts from a consistent state.
 * LevelDB also takes a lock on the folder: two processes cannot run on one state dir by mistake.
 *
 * Layout (JSON values):
 * - `meta!lastBlock`: the last block whose JobOpened logs were all recorded.
 * - `meta!recent`: [{n, hash}] of the last RECENT scanned blocks (reorganisation checks).
 * - `epoch!<jobId padded>`: how many jobs under this id reorganisations dropped (the next record's epoch).
 * - `job!<jobId padded>`: a {@link JobRecord}.
 * - `tx!<key>`: a {@link TxRecord} (intent + every signed attempt, written before broadcasting).
 * - `refused!<modelId padded>:<version>`: why a published model version was refused (it is never fetched again).
 * - `meta!subs`: `{address, lastBlock}`: the InferenceSubscriptions contract watched and the last block whose
 *   subscription events were all recorded (never above `meta!lastBlock`; rewound with it after a reorganisation).
 * - `sub!<subscriptionId padded>`: a {@link SubscriptionRecord} (the chain's record, re-read at each of its events).
 */
import * as fs from "fs";
import { ClassicLevel } from "classic-level";

/** What the node knows of a job. Terminal states: skipped, done, lost, failed. */
export type JobState =
  | "new" // seen, not yet examined
  | "waiting" // claimed live by another prover: re-examined after its lease end
  | "claimed" // our claim is on chain (a proof may have been interrupted: prove again)
  | "proved" // proof stored here; not yet submitted (or submission pending: see submitTx)
  | "posted" // our result posted without a proof (an optimistic job): finalised after its challenge window
  | "done" // fulfilled by us
  | "lost" // fulfilled by another prover, reclaimed, or expired before we could deliver
  | "skipped" // not for us (unknown model, low fee, bad input, ...)
  | "failed"; // we tried and could not (e.g. the circuit rejected the input)

/** Scanned block hashes kept for reorganisation checks: a reorg deeper than this rescans from before the oldest. */
export const RECENT = 64;

export const TERMINAL: ReadonlySet<JobState> = new Set(["done", "lost", "skipped", "failed"]);

export interface JobRecord {
  jobId: string;
  modelId: string;
  modelVersion: number;
  inputCommitment: string;
  fee: string;
  deadline: number;
  inputURI: string;
  /** Opened with private delivery (read from getJob once). */
  privateInput?: boolean;
  /** The fee's ERC-20 token, the zero address for ETH (read from feeTokenOf once). */
  feeToken?: string;
  blockNumber: number;
  /** Wall-clock ms when first seen. */
  seenAt: number;
  state: JobState;
  reason?: string;
  /** Lease end of the live claim by another prover (state waiting). */
  leaseEnd?: number;
  /** Served model name (set once matched). */
  model?: string;
  proof?: { output: string; bytes: string; seconds: number };
  /** Keys of this node's transactions for the job (see TxRecord). */
  claimTx?: string;
  submitTx?: string;
  /** How many times a proof was started (> 1 only after a crash mid-proof, or a proof retried after a failure). */
  proofStarts?: number;
  /**
   * A transient failure (a bundle that could not be fetched, a proof that crashed): the job is looked at again, not
   * before this wall-clock ms, until its deadline. Survives a restart (the state stays unfinished).
   */
  retryAt?: number;
  /** Transient failures so far (the backoff doubles with each). */
  retries?: number;
  /**
   * Bumped when a chain reorganisation replaced this job id's job or undid its settlement: the node's transaction
   * keys for the job carry it, so nothing recorded for a dropped chain is taken for this one (absent = 0).
   */
  epoch?: number;
  /**
   * The optimistic result posted on this job (docs/market-rules.md, "Optimistic results"), by this node or another,
   * as its ResultPosted and ResultChallenged events (or the node's own transactions) said.
   */
  posted?: OptimisticPost;
  /** This node's post: the output it computed (stored before the postResult transaction `tx` is sent). */
  post?: { output: string; tx: string };
  /** Why this node proves an optimistic job it holds instead of posting it (the market refused the post). */
  postRefused?: string;
  /** Key of this node's finalizeResult transaction for its posted result. */
  finalizeTx?: string;
  /** The watcher's verdict on a result another address posted (PROVER_WATCH=on); stored once reached. */
  watch?: WatchVerdict;
  /** Block of the transaction or event that settled the job (done, lost), when known: re-checked after a reorg. */
  settledBlock?: number;
  /** That block's hash. */
  settledHash?: string;
  updatedAt: number;
}

/** An optimistic result posted on a job, and the bond challenge against it if any. */
export interface OptimisticPost {
  poster: string;
  output: string;
  /** Last second (inclusive) of its challenge window. */
  windowEnd: number;
  challenger?: string;
  /** Last second (inclusive) for the poster's proof after a bond challenge. */
  proofDeadline?: number;
  /** Our own post's block and its hash, re-checked until the block is at the confirmation depth (a reorganisation). */
  block?: number;
  blockHash?: string;
}

/**
 * What the watcher found when it re-ran another address's posted result: `correct` (nothing to do), `wrong` (the true
 * `output` is disproved with a proof: the job goes to `proved`, then `done`), or `unchecked` (it cannot re-run it, with
 * the `reason`: a model it does not serve, a private input, an unreadable opening).
 */
export interface WatchVerdict {
  verdict: "correct" | "wrong" | "unchecked";
  /** The output of the witness (TS twin) on the job's input. */
  output?: string;
  reason?: string;
}

/**
 * A subscription of the watched InferenceSubscriptions contract, as the chain had it when the node last read it (at
 * each of its events; re-read before every opening). Whether the node serves it is decided at each start, from the
 * policy of that start, and is not stored.
 */
export interface SubscriptionRecord {
  subscriptionId: string;
  owner: string;
  modelId: string;
  modelVersion: number;
  interval: number;
  start: number;
  runs: number;
  feePerRun: string;
  tipPerRun: string;
  /** The ERC-20 token its fee and tip are paid in, the zero address for ETH (absent in records stored before tokens: read again). */
  feeToken?: string;
  runDeadline: number;
  cancelled: boolean;
  /** Block of the last event recorded for it (re-read after a reorganisation that drops it). */
  eventBlock: number;
}

export interface TxAttempt {
  hash: string;
  raw: string;
  maxFeePerGas: string;
  maxPriorityFeePerGas: string;
  sentAt: number;
}

export interface TxRecord {
  key: string;
  to: string;
  data: string;
  /** wei, decimal */
  value?: string;
  nonce: number;
  gasLimit: string;
  status: "pending" | "mined" | "dropped";
  attempts: TxAttempt[];
  minedHash?: string;
  success?: boolean;
}

const pad = (id: bigint | string): string => BigInt(id).toString().padStart(20, "0");

export class ProverStore {
  private readonly db: ClassicLevel<string, unknown>;

  private constructor(db: ClassicLevel<string, unknown>) {
    this.db = db;
  }

  /**
   * Opens (creating) the store in `dir`.
   * @throws if another process holds the folder (LevelDB lock) or it is not a store.
   */
  static async open(dir: string): Promise<ProverStore> {
    fs.mkdirSync(dir, { recursive: true });
    const db = new ClassicLevel<string, unknown>(dir, { valueEncoding: "json" });
    try {
      await db.open();
    } catch (e) {
      const cause = (e as { cause?: Error }).cause;
      throw new Error(`state dir ${dir}: cannot open the store (${cause?.message ?? (e as Error).message}); is another node using it?`);
    }
    return new ProverStore(db);
  }

  async close(): Promise<void> {
    await this.db.close();
  }

  async lastBlock(): Promise<number | undefined> {
    return (await this.db.get("meta!lastBlock")) as number | undefined;
  }

  /**
   * Records new jobs and advances `lastBlock` (with its hash, kept among the last RECENT scanned block hashes for
   * reorganisation checks) in one atomic, synced write (a crash keeps all or none).
   */
  async recordScan(jobs: JobRecord[], lastBlock: number, hash: string): Promise<void> {
    const recent = [...(await this.recentBlocks()).filter((b) => b.n < lastBlock), { n: lastBlock, hash }].slice(-RECENT);
    const ops: { type: "put"; key: string; value: unknown }[] = jobs.map((j) => ({ type: "put", key: `job!${pad(j.jobId)}`, value: j }));
    ops.push({ type: "put", key: "meta!lastBlock", value: lastBlock }, { type: "put", key: "meta!recent", value: recent });
    await this.db.batch(ops, { sync: true });
  }

  /** The last scanned block numbers with their hashes (ascending, at most RECENT). */
  async recentBlocks(): Promise<{ n: number; hash: string }[]> {
    return ((await this.db.get("meta!recent")) as { n: number; hash: string }[] | undefined) ?? [];
  }

  /**
   * After a reorganisation: scanning resumes after block `ancestor`, the last block still on the chain (the
   * subscription events' cursor too, when it is above).
   */
  async rewind(ancestor: number): Promise<void> {
    const recent = (await this.recentBlocks()).filter((b) => b.n <= ancestor);
    const ops: { type: "put"; key: string; value: unknown }[] = [
      { type: "put", key: "meta!lastBlock", value: ancestor },
      { type: "put", key: "meta!recent", value: recent },
    ];
    const subs = await this.subscriptionCursor();
    if (subs && subs.lastBlock > ancestor) ops.push({ type: "put", key: "meta!subs", value: { ...subs, lastBlock: ancestor } });
    await this.db.batch(ops, { sync: true });
  }

  /** The watched subscriptions contract and the last block whose subscription events were recorded, if any. */
  async subscriptionCursor(): Promise<{ address: string; lastBlock: number } | undefined> {
    return (await this.db.get("meta!subs")) as { address: string; lastBlock: number } | undefined;
  }

  /**
   * Records subscriptions read at their events and advances the subscription cursor to `lastBlock` in one atomic,
   * synced write; `forget` are ids whose subscription the chain no longer has (a reorganisation dropped it).
   */
  async recordSubscriptions(address: string, subs: SubscriptionRecord[], forget: string[], lastBlock: number): Promise<void> {
    const ops: ({ type: "del"; key: string } | { type: "put"; key: string; value: unknown })[] = [
      ...forget.map((id) => ({ type: "del" as const, key: `sub!${pad(id)}` })),
      ...subs.map((r) => ({ type: "put" as const, key: `sub!${pad(r.subscriptionId)}`, value: r })),
      { type: "put", key: "meta!subs", value: { address, lastBlock } },
    ];
    await this.db.batch(ops, { sync: true });
  }

  /** Forgets every subscription and the cursor (another subscriptions contract is configured now). */
  async resetSubscriptions(): Promise<void> {
    const ops: { type: "del"; key: string }[] = [{ type: "del", key: "meta!subs" }];
    for await (const k of this.db.keys({ gte: "sub!", lt: "sub!~" })) ops.push({ type: "del", key: k });
    await this.db.batch(ops, { sync: true });
  }

  async subscriptions(): Promise<SubscriptionRecord[]> {
    const out: SubscriptionRecord[] = [];
    for await (const [, v] of this.db.iterator({ gte: "sub!", lt: "sub!~" })) out.push(v as SubscriptionRecord);
    return out;
  }

  /** Forgets a job whose JobOpened a reorganisation dropped; its id's next record gets the next epoch. */
  async forgetJob(jobId: string): Promise<void> {
    const epoch = (await this.epochOf(jobId)) + 1;
    const ops: ({ type: "del"; key: string } | { type: "put"; key: string; value: unknown })[] = [
      { type: "del", key: `job!${pad(jobId)}` },
      { type: "put", key: `epoch!${pad(jobId)}`, value: epoch },
    ];
    await this.db.batch(ops, { sync: true });
  }

  /** The epoch a new record of `jobId` starts at (0 unless earlier jobs under this id were dropped by reorgs). */
  async epochOf(jobId: string): Promise<number> {
    return ((await this.db.get(`epoch!${pad(jobId)}`)) as number | undefined) ?? 0;
  }

  async getJob(jobId: bigint | string): Promise<JobRecord | undefined> {
    return (await this.db.get(`job!${pad(jobId)}`)) as JobRecord | undefined;
  }

  async putJob(j: JobRecord): Promise<void> {
    j.updatedAt = Date.now();
    await this.db.put(`job!${pad(j.jobId)}`, j, { sync: true });
  }

  async jobs(): Promise<JobRecord[]> {
    const out: JobRecord[] = [];
    for await (const [, v] of this.db.iterator({ gte: "job!", lt: "job!~" })) out.push(v as JobRecord);
    return out;
  }

  /** Why a published model version was refused (never fetched again), or undefined. */
  async refusedVersion(modelId: bigint | string, version: number): Promise<string | undefined> {
    return (await this.db.get(`refused!${pad(modelId)}:${version}`)) as string | undefined;
  }

  async refuseVersion(modelId: bigint | string, version: number, reason: string): Promise<void> {
    await this.db.put(`refused!${pad(modelId)}:${version}`, reason, { sync: true });
  }

  async getTx(key: string): Promise<TxRecord | undefined> {
    return (await this.db.get(`tx!${key}`)) as TxRecord | undefined;
  }

  async putTx(t: TxRecord): Promise<void> {
    await this.db.put(`tx!${t.key}`, t, { sync: true });
  }

  async txs(): Promise<TxRecord[]> {
    const out: TxRecord[] = [];
    for await (const [, v] of this.db.iterator({ gte: "tx!", lt: "tx!~" })) out.push(v as TxRecord);
    return out;
  }
}
