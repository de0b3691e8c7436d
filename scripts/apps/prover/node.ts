/**
 * A prover node: an independent operator that serves InferenceJobs jobs for the published models its policy admits.
 *
 * Each tick it (1) scans JobOpened / JobFulfilled / JobReclaimed logs from its last processed block (catch-up after a
 * restart and live watching are the same loop), (2) tops up its stake if needed, and (3) starts at most
 * `concurrency` jobs through the pipeline below; every step is recorded in the store before the next one, so a node
 * killed anywhere restarts where it was (docs/prover.md):
 *
 *   new -> (fee >= minFee, registry version == its published bundle, fetched and verified once, input at inputURI matches inputCommitment)
 *       -> claim (bond from stake; a live claim by another prover: waiting until its lease ends, then take over)
 *       -> claimed [private jobs: wait for the requester's InputDelivered, decrypt, check the commitment; a bad or
 *          missing delivery is declined with releaseClaim and the job skipped for good]
 *       -> prove in a worker thread -> proved (proof stored) -> submit (intent + tx hash stored first)
 *       -> done | lost (someone else delivered, reclaimed, deadline) | skipped (reason) | failed (reason)
 */
import { randomInt } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { type Log, JsonRpcProvider, type TransactionReceipt, Wallet, getAddress } from "ethers";
import { type InferenceJobs, InferenceJobs__factory, type ModelRegistry, ModelRegistry__factory } from "../../../typechain-types";
import { jobBinding } from "../../formats/public-signals";
import { revertData } from "../../chain/errors";
import { ResilientRpcProvider, parseRpcUrls } from "../../chain/rpc";
import { DeliveryError, decryptDelivery } from "../../chain/private-input";
import { inputCommitment } from "../../formats/quantized-model";
import { InputError, checkPublicInput, fetchCheckedInput, parseInput } from "./input";
import { type JsonLog, createJsonLog } from "./log";
import { Metrics, type MetricsSummary } from "./metrics";
import { type HealthReport, JOB_STATES, type StatusSnapshot, startStatusServer } from "./http";
import { BundleCache, BundleRefused, CircuitVerdicts, type ServedModel, admitted, verifyBundle } from "./bundles";
import { userCacheDir } from "../../util/paths";
import { type IpfsNode, startIpfsNode } from "../../engine/ipfs";
import { ProofPool } from "./pool";
import { type JobRecord, type JobState, ProverStore, TERMINAL } from "./store";
import { DEFAULT_TX_OPTIONS, TxSender, WouldRevertError } from "./tx";

/** A proved job waiting for companions to go out in one `submitResults`. */
interface Queued {
  j: JobRecord;
  /** The pinned verifier: the batch key (one batch, one verifying key). */
  verifier: string;
  since: number;
  /** Part of a batch being sent (stays queued, so it is not scheduled again, until the send ends). */
  sending?: boolean;
}

export { DEFAULT_NODE_CONFIG } from "./config";
import type { ProverNodeConfig } from "./config";
export type { ProverNodeConfig } from "./config";

const JOB_STATUS = ["None", "Open", "Claimed", "Fulfilled", "Reclaimed"] as const;
/** Local development chains (Hardhat, Anvil/Ganache): blocks are mined on demand and never reorganised. */
const LOCAL_CHAIN_IDS = new Set([31337n, 1337n]);
/** Confirmation depth on any other chain unless PROVER_CONFIRMATIONS says otherwise. */
export const DEFAULT_CONFIRMATIONS = 3;
/** A job id with its epoch, as the node's transaction keys use it (`42`, or `42#1` after a reorganisation). */
const jobKey = (j: JobRecord): string => (j.epoch ? `${j.jobId}#${j.epoch}` : j.jobId);
/** Whether the chain's job is the one the node recorded (same model version, commitment and deadline). */
function sameJob(
  j: JobRecord,
  c: { status: bigint; modelId: bigint; modelVersion: bigint; inputCommitment: bigint; deadline: bigint },
): boolean {
  return (
    Number(c.status) !== 0 &&
    c.modelId.toString() === j.modelId &&
    Number(c.modelVersion) === j.modelVersion &&
    c.inputCommitment.toString() === j.inputCommitment &&
    Number(c.deadline) === j.deadline
  );
}
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** The phases of a bundle check, in order (verifyBundle's onPhase; "keys" is skipped with a cached circuit verdict). */
const BUNDLE_PHASES = ["files", "registry", "weights", "keys", "circuit", "verifier"] as const;
/** A proof that failed this many times (crashed workers) ends the job as failed. */
const MAX_PROOF_STARTS = 3;
const errMsg = (e: unknown): string => (e instanceof Error ? e.message : String(e)).slice(0, 300);

export class ProverNode {
  readonly log: JsonLog;
  readonly metrics = new Metrics();
  readonly address: string;
  private readonly cfg: ProverNodeConfig;
  private provider!: JsonRpcProvider;
  private wallet!: Wallet;
  private jobs!: InferenceJobs;
  private registry!: ModelRegistry;
  private store!: ProverStore;
  private txs!: TxSender;
  private pool!: ProofPool;
  private bundles!: BundleCache;
  private ipfsNode?: IpfsNode;
  private chainId = 0n;
  private claimBond = 0n;
  private readonly records = new Map<string, JobRecord>();
  private readonly active = new Set<string>();
  private readonly actives = new Set<Promise<void>>();
  private readonly modelMatch = new Map<string, Promise<{ model?: ServedModel; reason?: string; retryAt?: number }>>();
  private running = false;
  private loop?: Promise<void>;
  private chainTime = 0;
  /** leaseDuration + openWindow of the market, read once: a claim is possible only this long before a deadline. */
  private claimSpan?: bigint;
  /** Bundle checks under way, by `modelId:version`: the phase running and since when (for /health). */
  private readonly checking = new Map<string, { modelId: string; version: number; phase: string; since: number }>();
  /** The market's delivery window, read once: a private claim also needs it before the deadline. */
  private deliveryWindow?: bigint;
  /** The chain's block number when this node started: jobs settled up to it were never this node's to lose. */
  private startBlock = 0;
  private lastMetrics = Date.now();
  private readonly queue = new Map<string, Queued>();
  /** Verifiers whose batch call reverted as unavailable: their jobs go out one by one. */
  private readonly unbatchable = new Set<string>();
  private flushing?: Promise<void>;
  /** The latest block number seen by `tick`, and when it was first seen (ms). */
  private chainBlock = -1;
  private chainTimeSeenAt = Date.now();
  private confirmations = 0;
  /** Jobs settled (done or lost) in blocks not yet at the confirmation depth: re-checked until they are. */
  private readonly unconfirmed = new Set<string>();
  /** Jobs in flight whose id a reorganisation gave to another job: installed when their processing ends. */
  private readonly replacements = new Map<string, JobRecord>();
  /** When the last tick completed, and the error of the last failed one (for /health). */
  private lastTickOkAt = 0;
  private lastTickError?: string;
  /** The last transport failure of the RPC endpoint (retried by the provider). */
  private lastRpcError?: { at: number; error: string };
  private status?: { url: string; close(): Promise<void> };

  constructor(cfg: ProverNodeConfig) {
    this.cfg = cfg;
    this.address = new Wallet(cfg.privateKey).address;
    this.log = createJsonLog(cfg.name ?? this.address.slice(0, 10), cfg.logSink);
  }

  /** Opens the store, loads and checks the served models, settles transactions left pending, stakes, starts the loop. */
  async start(): Promise<void> {
    const c = this.cfg;
    this.provider = new ResilientRpcProvider(
      parseRpcUrls(c.rpcUrl),
      { cacheTimeout: -1, pollingInterval: c.pollMs },
      {
        ...c.rpcRetry,
        onRetry: (r) => {
          this.metrics.rpcRetries++;
          this.lastRpcError = { at: Date.now(), error: `${r.method} on ${r.url}: ${r.error}` };
          this.log("rpc_retry", r);
        },
      },
    );
    this.wallet = new Wallet(c.privateKey, this.provider);
    try {
      this.chainId = (await this.provider.getNetwork()).chainId;
    } catch (e) {
      throw new Error(`PROVER_RPC_URL ${c.rpcUrl}: cannot reach the node (${errMsg(e).split(" (")[0]}); start it or fix the URL`);
    }
    this.jobs = InferenceJobs__factory.connect(getAddress(c.jobsAddress), this.wallet);
    const jobsHint = "export the InferenceJobs address of deployments/<network>.json for this chain";
    if ((await this.provider.getCode(c.jobsAddress)) === "0x")
      throw new Error(`PROVER_JOBS_ADDRESS ${c.jobsAddress}: no contract there on chain ${this.chainId}: ${jobsHint}`);
    try {
      this.registry = ModelRegistry__factory.connect(await this.jobs.registry(), this.provider);
      this.claimBond = await this.jobs.claimBond();
    } catch {
      throw new Error(
        `PROVER_JOBS_ADDRESS ${c.jobsAddress}: the contract there is not an InferenceJobs market on chain ${this.chainId}: ${jobsHint}`,
      );
    }
    this.startBlock = await this.provider.getBlockNumber();
    this.confirmations = c.confirmations ?? (LOCAL_CHAIN_IDS.has(this.chainId) ? 0 : DEFAULT_CONFIRMATIONS);
    this.store = await ProverStore.open(c.stateDir);
    if (c.ipfs)
      this.ipfsNode = await startIpfsNode({
        dir: c.ipfs.dir ?? `${c.stateDir}-ipfs`,
        listen: [],
        peers: c.ipfs.peers,
        gateways: c.ipfs.gateways,
      });
    this.bundles = new BundleCache(`${c.stateDir}-bundles`, c.bundleCacheBytes ?? 4 * 2 ** 30, this.ipfsNode);
    this.pool = new ProofPool(c.concurrency);
    await this.pool.warm();
    this.txs = new TxSender(this.wallet, this.provider, this.store, this.log, this.metrics, { ...DEFAULT_TX_OPTIONS, ...c.tx });
    for (const j of await this.store.jobs()) {
      this.records.set(j.jobId, j);
      if (j.settledHash && j.settledBlock !== undefined && j.settledBlock > this.startBlock - this.confirmations)
        this.unconfirmed.add(j.jobId);
    }
    const resumed = await this.txs.resumePending();
    this.log("node_started", {
      address: this.address,
      jobs: c.jobsAddress,
      chainId: this.chainId,
      serve: c.policy.serve === "all" ? "all" : [...c.policy.serve.modelIds, ...c.policy.serve.owners].join(","),
      concurrency: c.concurrency,
      confirmations: this.confirmations,
      minFeeWei: c.minFeeWei,
      lastBlock: await this.store.lastBlock(),
      knownJobs: this.records.size,
      unfinishedJobs: [...this.records.values()].filter((j) => !TERMINAL.has(j.state)).map((j) => `${j.jobId}:${j.state}`),
      resumedTxs: resumed.map((r) => `${r.key}:${r.receipt ? r.receipt.status : "unsettled"}`),
    });
    await this.ensureStake();
    this.running = true;
    this.loop = this.run();
    if (c.http) {
      this.status = await startStatusServer(c.http.host, c.http.port, { snapshot: () => this.snapshot(), health: () => this.health() });
      this.log("http_listening", { url: this.status.url, metrics: `${this.status.url}/metrics`, health: `${this.status.url}/health` });
    }
  }

  /** Base URL of the /metrics and /health server, when configured and started. */
  get statusUrl(): string | undefined {
    return this.status?.url;
  }

  /** What GET /metrics shows: counters, jobs by state, and (if the RPC endpoint answers) balance, stake and head. */
  async snapshot(): Promise<StatusSnapshot> {
    const jobsByState = Object.fromEntries(JOB_STATES.map((st) => [st, 0])) as Record<JobState, number>;
    for (const j of this.records.values()) jobsByState[j.state]++;
    let chain: StatusSnapshot["chain"];
    try {
      const [head, balanceWei, acct] = await Promise.all([
        this.provider.getBlockNumber(),
        this.provider.getBalance(this.address),
        this.jobs.accountOf(this.address),
      ]);
      chain = { head, balanceWei, stakeAvailableWei: acct.available, stakeLockedWei: acct.locked };
    } catch {
      chain = undefined; // zkml_prover_rpc_up 0
    }
    return {
      address: this.address,
      summary: this.metrics.summary(),
      histogram: this.metrics.provingHistogram,
      jobsByState,
      chain,
      scannedBlock: this.store ? await this.store.lastBlock().catch(() => undefined) : undefined,
      queued: this.queue.size,
      ipfsPeers: this.ipfsNode?.peerStatus(),
    };
  }

  /** What GET /health answers: ok while ticks complete (within `healthStaleMs`). */
  health(): HealthReport {
    if (!this.running) return { ok: false, reason: "the node is not running (starting or stopping)" };
    const ago = Date.now() - this.lastTickOkAt;
    const limit = this.cfg.healthStaleMs ?? Math.max(30_000, 20 * this.cfg.pollMs);
    if (this.lastTickOkAt === 0 || ago > limit)
      return {
        ok: false,
        reason: `no successful tick for ${this.lastTickOkAt === 0 ? "ever" : `${ago} ms`} (limit ${limit} ms)`,
        lastError: this.lastTickError ?? this.lastRpcError?.error,
      };
    // the IPFS peers are reported, not judged: the node keeps serving what it has while it redials them
    const ipfsPeers = this.ipfsNode?.peerStatus();
    return {
      ok: true,
      lastTickAgoMs: ago,
      headBlock: this.chainBlock,
      jobsInFlight: this.active.size,
      lastError: this.lastTickError,
      ...(ipfsPeers?.length ? { ipfsPeers } : {}),
      ...(this.checking.size ? { checkingBundles: [...this.checking.values()].map((c) => ({ ...c, forMs: Date.now() - c.since })) } : {}),
      ...(this.bundles?.fetching().length ? { fetchingBundles: this.bundles.fetching() } : {}),
    };
  }

  /** Stops taking work, lets jobs in flight finish (bounded), stops the workers, logs the metrics, closes the store. */
  async stop(timeoutMs = 60_000): Promise<MetricsSummary> {
    this.running = false;
    await this.status?.close();
    await this.loop;
    await Promise.race([Promise.all([...this.actives]), sleep(timeoutMs)]);
    await Promise.race([this.flushBatches(true), sleep(timeoutMs)]);
    await this.pool.stop();
    await this.ipfsNode?.stop();
    const m = this.metrics.summary();
    this.log("metrics", { ...m, final: true });
    await this.store.close();
    this.provider.destroy();
    return m;
  }

  /** The node's view of every job it has seen. */
  jobRecords(): JobRecord[] {
    return [...this.records.values()];
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        await this.tick();
        this.lastTickOkAt = Date.now();
        this.lastTickError = undefined;
      } catch (e) {
        this.lastTickError = errMsg(e).slice(0, 300);
        this.log("tick_failed", { error: errMsg(e) });
      }
      if (this.cfg.metricsEveryMs > 0 && Date.now() - this.lastMetrics > this.cfg.metricsEveryMs) {
        this.lastMetrics = Date.now();
        this.log("metrics", { ...this.metrics.summary() });
      }
      await sleep(this.cfg.pollMs);
    }
  }

  private async tick(): Promise<void> {
    const latest = await this.provider.getBlock("latest");
    if (!latest) return;
    if (latest.number !== this.chainBlock) {
      this.chainBlock = latest.number;
      this.chainTimeSeenAt = Date.now();
    }
    this.chainTime = latest.timestamp;
    await this.checkReorg();
    await this.confirmSettlements(latest.number);
    await this.scan(latest.number - this.confirmations);
    await this.ensureStake();
    await this.flushBatches();
    this.schedule();
  }

  /**
   * Detects a reorganisation: the hash of the last scanned block is no longer the chain's. Then scanning rewinds to
   * the last scanned block still on the chain (the store keeps the hashes of the last RECENT), and every job opened or
   * settled after it is checked again on chain: a job whose JobOpened was dropped (or replaced by another job under
   * its id) is forgotten, and the rescan records what the chain now has; a settlement that was dropped (our own
   * submission or claim, or another prover's) puts the job back to work under a new epoch, so no transaction key of
   * the dropped chain is taken for the new one.
   */
  private async checkReorg(): Promise<void> {
    const recent = await this.store.recentBlocks();
    if (recent.length === 0) return;
    const last = recent[recent.length - 1];
    if ((await this.provider.getBlock(last.n))?.hash === last.hash) return;
    let ancestor = Math.max(-1, recent[0].n - 1); // deeper than the hashes kept: rescan from before the oldest
    for (let i = recent.length - 2; i >= 0; i--)
      if ((await this.provider.getBlock(recent[i].n))?.hash === recent[i].hash) {
        ancestor = recent[i].n;
        break;
      }
    this.metrics.reorgs++;
    this.log("reorg_detected", { lastScanned: last.n, ancestor, head: this.chainBlock });
    this.txs.resetNonce(); // our transactions of the dropped blocks may be gone: nonces are read again
    for (const j of [...this.records.values()]) {
      const opened = j.blockNumber > ancestor;
      const settled = j.settledBlock !== undefined && j.settledBlock > ancestor;
      if (opened || settled || !TERMINAL.has(j.state)) await this.recheck(j, settled);
    }
    await this.store.rewind(ancestor);
  }

  /**
   * A job whose JobOpened or settlement a reorganisation may have dropped, checked on chain: forgotten when the chain
   * has no such job (the rescan records what it has now), back to work under a new epoch when its settlement is gone.
   */
  private async recheck(j: JobRecord, settlementInDoubt: boolean): Promise<void> {
    const c = await this.chainJob(j.jobId);
    if (!c || !sameJob(j, c)) {
      if (this.active.has(j.jobId)) return; // its next step re-reads the chain and ends it; the rescan replaces it
      this.records.delete(j.jobId);
      this.unconfirmed.delete(j.jobId);
      await this.store.forgetJob(j.jobId);
      this.log("job_dropped", { jobId: j.jobId, reason: "its JobOpened is not on the chain any more (reorganisation)", state: j.state });
      return;
    }
    const status = JOB_STATUS[Number(c.status)];
    if (settlementInDoubt && (j.state === "done" || j.state === "lost") && (status === "Open" || status === "Claimed")) {
      const back = j.state === "done" && j.proof ? "proved" : "new";
      this.unconfirmed.delete(j.jobId);
      await this.update(j, {
        state: back,
        epoch: (j.epoch ?? 0) + 1,
        settledBlock: undefined,
        settledHash: undefined,
        submitTx: undefined,
        claimTx: undefined,
      });
      this.log("job_reopened", { jobId: j.jobId, reason: "its settlement was dropped by a reorganisation", state: back, epoch: j.epoch });
    }
  }

  /**
   * Settlements (our fulfilments, others' fulfilments and reclaims) happen in blocks above the confirmation depth. Each
   * is re-checked until its block is `confirmations` deep: a block that is gone or has another hash means the
   * settlement was dropped, and the job is checked again (`recheck`).
   */
  private async confirmSettlements(head: number): Promise<void> {
    const hashes = new Map<number, string | undefined>();
    for (const id of [...this.unconfirmed]) {
      const j = this.records.get(id);
      if (!j || j.settledBlock === undefined || !j.settledHash || !TERMINAL.has(j.state)) {
        this.unconfirmed.delete(id);
        continue;
      }
      if (!hashes.has(j.settledBlock)) hashes.set(j.settledBlock, (await this.provider.getBlock(j.settledBlock))?.hash ?? undefined);
      if (hashes.get(j.settledBlock) !== j.settledHash) {
        this.log("settlement_dropped", { jobId: id, block: j.settledBlock, state: j.state });
        this.txs.resetNonce(); // our transactions of the dropped blocks are gone: nonces are read again
        await this.recheck(j, true);
      } else if (j.settledBlock <= head - this.confirmations) this.unconfirmed.delete(id);
    }
  }

  /** The chain's job `id`, or undefined when there is none (getJob reverts with JobNotFound). */
  private async chainJob(id: string): Promise<Awaited<ReturnType<InferenceJobs["getJob"]>> | undefined> {
    try {
      return await this.jobs.getJob(id);
    } catch (e) {
      if (this.jobs.interface.parseError(revertData(e) ?? "0x")?.name === "JobNotFound") return undefined;
      throw e;
    }
  }

  /** Records JobOpened logs (and settles jobs fulfilled or reclaimed by others) up to `to`, atomically with lastBlock. */
  private async scan(to: number): Promise<void> {
    const last = await this.store.lastBlock();
    let from = last === undefined ? (this.cfg.fromBlock ?? 0) : last + 1;
    const iface = this.jobs.interface;
    const topics = [
      [iface.getEvent("JobOpened").topicHash, iface.getEvent("JobFulfilled").topicHash, iface.getEvent("JobReclaimed").topicHash],
    ];
    while (from <= to) {
      const end = Math.min(to, from + 1999);
      const logs: Log[] = await this.provider.getLogs({ address: this.cfg.jobsAddress, topics, fromBlock: from, toBlock: end });
      const fresh: JobRecord[] = [];
      const settled: Array<{ jobId: string; prover?: string; block: number; hash: string }> = [];
      for (const l of logs) {
        const p = iface.parseLog(l);
        if (!p) continue;
        const jobId = (p.args[0] as bigint).toString();
        if (p.name === "JobOpened") {
          if (fresh.some((f) => f.jobId === jobId)) continue;
          const known = this.records.get(jobId);
          const rec: JobRecord = {
            jobId,
            modelId: (p.args[2] as bigint).toString(),
            modelVersion: Number(p.args[3]),
            inputCommitment: (p.args[4] as bigint).toString(),
            fee: (p.args[5] as bigint).toString(),
            deadline: Number(p.args[6]),
            inputURI: p.args[8] as string,
            blockNumber: l.blockNumber,
            seenAt: Date.now(),
            state: "new",
            updatedAt: Date.now(),
          };
          if (known) {
            // the same job seen again after a rescan, or (after a reorganisation) another job under the same id
            const same =
              known.modelId === rec.modelId &&
              known.modelVersion === rec.modelVersion &&
              known.inputCommitment === rec.inputCommitment &&
              known.deadline === rec.deadline;
            if (same) continue;
            rec.epoch = (known.epoch ?? 0) + 1;
            this.log("job_replaced", { jobId, previous: known.inputCommitment, now: rec.inputCommitment, epoch: rec.epoch });
            if (this.active.has(jobId)) {
              this.replacements.set(jobId, rec);
              continue;
            }
          } else {
            const epoch = await this.store.epochOf(jobId);
            if (epoch) rec.epoch = epoch;
          }
          fresh.push(rec);
        } else {
          settled.push({
            jobId,
            prover: p.name === "JobFulfilled" ? getAddress(p.args[1] as string) : undefined,
            block: l.blockNumber,
            hash: l.blockHash,
          });
        }
      }
      const endBlock = await this.provider.getBlock(end);
      if (!endBlock?.hash) return; // the chain moved under us (a reorganisation): the next tick checks it
      await this.store.recordScan(fresh, end, endBlock.hash);
      for (const j of fresh) {
        this.records.set(j.jobId, j);
        this.metrics.jobsSeen++;
        this.log("job_seen", {
          jobId: j.jobId,
          modelId: j.modelId,
          modelVersion: j.modelVersion,
          fee: j.fee,
          deadline: j.deadline,
          block: j.blockNumber,
        });
      }
      for (const s of settled) {
        const j = this.records.get(s.jobId);
        // Jobs in flight settle themselves (they re-read the chain before every transaction).
        if (!j || TERMINAL.has(j.state) || this.active.has(s.jobId) || s.prover === this.address) continue;
        await this.finish(j, "lost", s.prover ? `fulfilled by ${s.prover}` : "reclaimed by the requester", s.block <= this.startBlock, {
          block: s.block,
          hash: s.hash,
        });
      }
      from = end + 1;
    }
  }

  private async ensureStake(): Promise<void> {
    const acct = await this.jobs.accountOf(this.address);
    const want = this.cfg.stakeWei ?? this.claimBond * BigInt(this.cfg.concurrency) * 2n;
    if (acct.available >= this.claimBond * BigInt(this.cfg.concurrency)) return;
    const amount = want - acct.available;
    const r = await this.txs.send(`deposit:${Date.now()}`, this.cfg.jobsAddress, this.jobs.interface.encodeFunctionData("deposit"), amount);
    this.log("stake_deposited", { amount, status: r.status, available: (await this.jobs.accountOf(this.address)).available });
  }

  /** Starts eligible jobs while slots are free: our own claimed/proved jobs first, then others in random order. */
  private schedule(): void {
    if (!this.running) return;
    const own: JobRecord[] = [];
    const other: JobRecord[] = [];
    for (const j of this.records.values()) {
      if (TERMINAL.has(j.state) || this.active.has(j.jobId) || this.queue.has(j.jobId)) continue;
      if (j.retryAt !== undefined && Date.now() < j.retryAt) continue; // a transient failure: later
      if (j.state === "claimed" || j.state === "proved") own.push(j);
      else if (j.state === "new" || (j.state === "waiting" && this.chainTime > (j.leaseEnd ?? 0))) other.push(j);
    }
    for (let i = other.length - 1; i > 0; i--) {
      const k = randomInt(i + 1);
      [other[i], other[k]] = [other[k], other[i]];
    }
    for (const j of [...own, ...other]) {
      if (this.active.size >= this.cfg.concurrency) break;
      this.active.add(j.jobId);
      const p = this.process(j)
        .catch(async (e: unknown) => {
          this.log("job_error", { jobId: j.jobId, state: j.state, error: errMsg(e) });
        })
        .finally(async () => {
          this.active.delete(j.jobId);
          this.actives.delete(p);
          const next = this.replacements.get(j.jobId);
          if (next) {
            this.replacements.delete(j.jobId);
            this.records.set(j.jobId, next);
            await this.store.putJob(next).catch((e: unknown) => this.log("job_error", { jobId: j.jobId, error: errMsg(e) }));
          }
          this.schedule();
        });
      this.actives.add(p);
    }
  }

  private async update(j: JobRecord, patch: Partial<JobRecord>): Promise<void> {
    Object.assign(j, patch);
    await this.store.putJob(j);
  }

  /**
   * Ends a job. A job settled on chain before this node started (`beforeStart`) is counted as `settledBeforeStart`,
   * not as lost to others: the node never had a chance at it.
   */
  private async finish(
    j: JobRecord,
    state: "done" | "lost" | "skipped" | "failed",
    reason?: string,
    beforeStart = false,
    at?: { block: number; hash: string },
  ): Promise<void> {
    const wasOurs = j.state === "claimed" || j.state === "proved";
    await this.update(j, { state, reason, ...(at ? { settledBlock: at.block, settledHash: at.hash } : {}) });
    if (at) this.unconfirmed.add(j.jobId);
    if (state === "skipped") this.metrics.skipped++;
    if (state === "failed") this.metrics.failed++;
    if (state === "lost" && beforeStart && !wasOurs) this.metrics.settledBeforeStart++;
    else if (state === "lost") this.metrics.lostToOthers++;
    this.log(`job_${state}`, { jobId: j.jobId, reason, wasOurs, ...(beforeStart && !wasOurs ? { settledBeforeStart: true } : {}) });
  }

  /**
   * A transient failure (issue 28 point 2): the job stays unfinished and is looked at again after a backoff (`delayMs`,
   * or 15 s doubling per failure up to 10 min), until its deadline; a restarted node does the same. Only permanent
   * reasons (a refused bundle, policy, a bad input) end a job as skipped.
   */
  private async retryLater(j: JobRecord, reason: string, delayMs?: number): Promise<void> {
    const retries = (j.retries ?? 0) + 1;
    const wait = Math.max(1_000, delayMs ?? Math.min(600_000, 15_000 * 2 ** (retries - 1)));
    if (this.chainTime + Math.ceil(wait / 1000) > j.deadline)
      return this.finish(j, "skipped", `${reason}; no time left to try again before the deadline`);
    await this.update(j, { retryAt: Date.now() + wait, retries, reason });
    this.metrics.retried++;
    this.log("job_retry", { jobId: j.jobId, state: j.state, reason, retries, inMs: wait });
  }

  /** On-chain state that ends a job for us, or undefined if it is still servable. */
  private async settledOnChain(
    j: JobRecord,
  ): Promise<{ state: "done" | "lost"; reason: string; beforeStart?: boolean; at?: { block: number; hash: string } } | undefined> {
    const job = await this.chainJob(j.jobId);
    if (!job) return { state: "lost", reason: "job not found (a reorganisation dropped it)" };
    const status = JOB_STATUS[Number(job.status)];
    if (status !== "None" && !sameJob(j, job))
      return { state: "lost", reason: "the chain's job under this id is another one (a reorganisation replaced it)" };
    if (status === "Fulfilled") {
      const logs = await this.jobs.queryFilter(this.jobs.filters.JobFulfilled(j.jobId), j.blockNumber);
      const by = logs.length ? getAddress(logs[0].args.prover) : "unknown";
      const beforeStart = logs.length > 0 && logs[0].blockNumber <= this.startBlock;
      const at = logs.length ? { block: logs[0].blockNumber, hash: logs[0].blockHash } : undefined;
      return by === this.address
        ? { state: "done", reason: "fulfilled by this node", at }
        : { state: "lost", reason: `fulfilled by ${by}`, beforeStart, at };
    }
    if (status === "Reclaimed") {
      const logs = await this.jobs.queryFilter(this.jobs.filters.JobReclaimed(j.jobId), j.blockNumber);
      return {
        state: "lost",
        reason: "reclaimed by the requester",
        beforeStart: logs.length > 0 && logs[0].blockNumber <= this.startBlock,
        at: logs.length ? { block: logs[0].blockNumber, hash: logs[0].blockHash } : undefined,
      };
    }
    if (status === "None") return { state: "lost", reason: "job not found" };
    if (this.chainTime > j.deadline) return { state: "lost", reason: "deadline passed" };
    return undefined;
  }

  private async process(j: JobRecord): Promise<void> {
    const done = await this.settledOnChain(j);
    if (done) return this.finish(j, done.state, done.reason, done.beforeStart, done.at);

    // 1. Is it for us? (fee, model, input) - all before spending anything.
    if (BigInt(j.fee) < this.cfg.minFeeWei) return this.finish(j, "skipped", `fee ${j.fee} below the minimum ${this.cfg.minFeeWei}`);
    // the per-model minimum is known before the model is: a cheap job never costs a bundle fetch
    const modelFee = this.cfg.policy.minFeeWei.get(j.modelId);
    if (modelFee !== undefined && BigInt(j.fee) < modelFee)
      return this.finish(j, "skipped", `fee ${j.fee} below this node's minimum ${modelFee} for model ${j.modelId}`);
    const key = `${j.modelId}:${j.modelVersion}`;
    const check = (): Promise<{ model?: ServedModel; reason?: string; retryAt?: number }> => {
      // an error (the RPC endpoint unreachable while checking) is not a verdict: forgotten, so the next job asks again
      const p = this.matchVersion(BigInt(j.modelId), j.modelVersion);
      this.modelMatch.set(key, p);
      p.catch(() => {
        if (this.modelMatch.get(key) === p) this.modelMatch.delete(key);
      });
      return p;
    };
    let match = await (this.modelMatch.get(key) ?? check());
    if ((match.model && !fs.existsSync(match.model.zkey)) || (match.retryAt !== undefined && Date.now() >= match.retryAt)) {
      // A published bundle evicted from the cache since, or one that could not be fetched a while ago: again.
      match = await check();
    }
    if (!match.model)
      return match.retryAt !== undefined
        ? this.retryLater(j, match.reason ?? "bundle unavailable", match.retryAt - Date.now())
        : this.finish(j, "skipped", match.reason);
    if (j.retryAt !== undefined) await this.update(j, { retryAt: undefined });
    const served = match.model;
    if (j.privateInput === undefined) await this.update(j, { privateInput: (await this.jobs.getJob(j.jobId)).privateInput });
    let input: { x: bigint[]; salt?: bigint } | undefined;
    try {
      if (j.privateInput) {
        // The opening arrives encrypted to us after our claim (docs/market-rules.md, "Private delivery").
      } else if (served.model.input.mode === "public") {
        // The values are in the JobInputs event of the opening transaction; the market packed them itself.
        const ev = await this.jobs.queryFilter(this.jobs.filters.JobInputs(j.jobId), j.blockNumber, j.blockNumber);
        if (ev.length !== 1) throw new InputError(`public-input job without its JobInputs event in block ${j.blockNumber}`);
        input = checkPublicInput(served.model, ev[0].args.inputs, await this.jobs.inputSignalsOf(j.jobId));
      } else {
        input = await fetchCheckedInput(j.inputURI, served.model, BigInt(j.inputCommitment), { ipfsGateway: this.cfg.ipfsGateway });
      }
    } catch (e) {
      if (e instanceof InputError) return this.finish(j, "skipped", e.message);
      throw e;
    }
    if (j.model !== served.name) await this.update(j, { model: served.name });

    // 2. Claim (unless ours already).
    if (j.state === "new" || j.state === "waiting") {
      if (!(await this.claim(j))) return;
    }

    // 2b. A private job: the requester delivers the opening to our claim; it is never written to disk in the clear.
    if (j.privateInput && j.state === "claimed") {
      input = await this.privateOpening(j, served.model);
      if (!input) return;
    }

    // 3. Prove (a stored proof is never redone).
    if (j.state === "claimed") {
      if (!input) throw new Error(`job ${j.jobId}: claimed without an input`);
      const starts = (j.proofStarts ?? 0) + 1;
      await this.update(j, { proofStarts: starts });
      this.log("proof_started", { jobId: j.jobId, model: served.name, attempt: starts });
      const binding = jobBinding(this.chainId, this.cfg.jobsAddress, BigInt(j.jobId), this.address);
      let p;
      try {
        p = await this.pool.prove({ model: served.model, wasm: served.wasm, zkey: served.zkey, x: input.x, salt: input.salt, binding });
      } catch (e) {
        // a crashed worker (out of memory on a busy machine) may prove next time; a proof that keeps failing is final
        if (starts < MAX_PROOF_STARTS) return this.retryLater(j, `proving failed (attempt ${starts}): ${errMsg(e)}`);
        return this.finish(j, "failed", `proving failed ${starts} times: ${errMsg(e)}`);
      }
      await this.update(j, { state: "proved", proof: { output: p.output.toString(), bytes: p.bytes, seconds: p.seconds } });
      this.metrics.proved++;
      this.metrics.addProving(p.seconds);
      this.log("proof_done", { jobId: j.jobId, output: p.output, seconds: p.seconds });
    }

    // 4. Submit once (TxSender keys the intent: a restart resumes the recorded transaction, never a new one), alone
    // or, with batching on, with other proved jobs of the same verifier (flushBatches).
    if (j.state === "proved" && j.proof) {
      if (!(await this.servable(j))) return;
      const b = this.cfg.batch;
      if (b && b.max > 1 && !j.submitTx?.startsWith("submit:")) {
        if (j.submitTx?.startsWith("batch:") && !(await this.store.getTx(j.submitTx))) await this.update(j, { submitTx: undefined });
        const target = await this.jobs.verificationTargetOf(j.modelId, j.modelVersion);
        const verifier = getAddress(target.verifier);
        if (j.submitTx?.startsWith("batch:") || !this.unbatchable.has(verifier)) {
          this.queue.set(j.jobId, { j, verifier, since: Date.now() });
          this.log("batch_queued", { jobId: j.jobId, verifier, queued: this.queue.size });
          void this.flushBatches();
          return;
        }
      }
      return this.submitOne(j);
    }
  }

  /**
   * Whether a proved job can still be submitted by us: not settled on chain (else finished here) and no live claim of
   * another prover (else back to waiting).
   */
  private async servable(j: JobRecord): Promise<boolean> {
    const again = await this.settledOnChain(j);
    if (again) {
      await this.finish(j, again.state, again.reason, false, again.at);
      return false;
    }
    const c = await this.jobs.claimOf(j.jobId);
    if (
      c.claimant !== "0x0000000000000000000000000000000000000000" &&
      getAddress(c.claimant) !== this.address &&
      this.chainTime <= Number(c.leaseEnd)
    ) {
      await this.update(j, { state: "waiting", leaseEnd: Number(c.leaseEnd), reason: `claimed by ${c.claimant} while we held a proof` });
      return false;
    }
    return true;
  }

  /** Submits one proved job with `submitResult` and finishes it. */
  private async submitOne(j: JobRecord): Promise<void> {
    if (!j.proof) throw new Error(`job ${j.jobId}: no proof to submit`);
    const txKey = j.submitTx?.startsWith("submit:") ? j.submitTx : `submit:${jobKey(j)}`;
    if (j.submitTx !== txKey) await this.update(j, { submitTx: txKey });
    let r: TransactionReceipt;
    try {
      r = await this.txs.send(
        txKey,
        this.cfg.jobsAddress,
        this.jobs.interface.encodeFunctionData("submitResult", [j.jobId, j.proof.output, j.proof.bytes]),
      );
    } catch (e) {
      if (e instanceof WouldRevertError) {
        const after = await this.settledOnChain(j);
        if (after) return this.finish(j, after.state, after.reason, false, after.at);
        return this.finish(j, "failed", `submit would revert: ${errMsg(e)}`);
      }
      throw e;
    }
    this.metrics.submitted++;
    if (r.status !== 1) {
      const after = await this.settledOnChain(j);
      return this.finish(j, after?.state ?? "failed", after?.reason ?? `submit reverted in tx ${r.hash}`, false, after?.at);
    }
    return this.fulfilled([j], r);
  }

  /** Books a mined submission of `js` (one `submitResult` or one `submitResults`). */
  private async fulfilled(js: JobRecord[], r: TransactionReceipt): Promise<void> {
    for (const l of r.logs) {
      const p = l.address.toLowerCase() === this.cfg.jobsAddress.toLowerCase() ? this.jobs.interface.parseLog(l) : null;
      if (p?.name === "JobFulfilled") this.metrics.earningsWei += (p.args[3] as bigint) + (p.args[4] as bigint);
    }
    for (const j of js) {
      this.metrics.fulfilled++;
      this.log("job_fulfilled", {
        jobId: j.jobId,
        tx: r.hash,
        gasUsed: r.gasUsed,
        batch: js.length,
        output: j.proof?.output,
        msSinceSeen: Date.now() - j.seenAt,
      });
      await this.finish(j, "done", "fulfilled by this node", false, { block: r.blockNumber, hash: r.blockHash });
    }
  }

  /**
   * Sends the queued proofs whose batch is due: `batch.max` of one verifier, the oldest waiting `batch.waitMs`, one
   * job within `batch.marginS` of its lease end or deadline, or `force` (stopping). One flush at a time.
   */
  private flushBatches(force = false): Promise<void> {
    if (this.flushing) return force ? this.flushing.then(() => this.flushBatches(true)) : this.flushing;
    this.flushing = this.flushDue(force).finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async flushDue(force: boolean): Promise<void> {
    const b = this.cfg.batch;
    if (!b || this.queue.size === 0) return;
    // The chain's clock now: the latest block's time plus the time since this node first saw that block (an idle
    // chain's latest block can be old, and a local chain's clock can run ahead of this machine's).
    const now = this.chainTime + Math.floor((Date.now() - this.chainTimeSeenAt) / 1000);
    const groups = new Map<string, Queued[]>();
    for (const q of this.queue.values()) if (!q.sending) groups.set(q.verifier, [...(groups.get(q.verifier) ?? []), q]);
    for (const [verifier, qs] of groups) {
      qs.sort((x, y) => (BigInt(x.j.jobId) < BigInt(y.j.jobId) ? -1 : 1));
      const urgent = qs.find((q) => Math.min(q.j.deadline, q.j.claimTx && q.j.leaseEnd ? q.j.leaseEnd : Infinity) - now <= b.marginS);
      const old = qs.find((q) => Date.now() - q.since >= b.waitMs);
      const resumed = qs.find((q) => q.j.submitTx?.startsWith("batch:"));
      const reason = force
        ? "stopping"
        : urgent
          ? "margin"
          : resumed
            ? "resumed"
            : qs.length >= b.max
              ? "full"
              : old
                ? "waited"
                : undefined;
      if (!reason) continue;
      this.log("batch_due", { verifier, jobs: qs.map((q) => q.j.jobId), reason });
      for (let i = 0; i < qs.length; i += b.max) {
        const part = qs.slice(i, i + b.max);
        for (const q of part) q.sending = true;
        const chunk = part.map((q) => q.j);
        try {
          await this.submitBatch(verifier, chunk, reason);
        } catch (e) {
          this.log("batch_error", { jobs: chunk.map((j) => j.jobId), error: errMsg(e) });
        } finally {
          for (const q of part) if (this.queue.get(q.j.jobId) === q) this.queue.delete(q.j.jobId);
        }
      }
    }
  }

  /**
   * Sends `js` (proved, one verifier) in one `submitResults`. The batch is atomic on chain (docs/market-rules.md):
   * if it would revert or reverts (a job settled by someone else meanwhile, a verifier without `verifyBatch`), every
   * job still servable is sent alone.
   */
  private async submitBatch(verifier: string, queued: JobRecord[], reason: string): Promise<void> {
    const js: JobRecord[] = [];
    for (const j of queued) if (j.submitTx?.startsWith("batch:") || (await this.servable(j))) js.push(j);
    const resumed = js.find((j) => j.submitTx?.startsWith("batch:"))?.submitTx;
    const batch = resumed ? js.filter((j) => j.submitTx === resumed) : js;
    if (resumed) for (const j of js.filter((x) => x.submitTx !== resumed)) this.queue.set(j.jobId, { j, verifier, since: Date.now() });
    if (batch.length === 0) return;
    if (batch.length === 1 && !resumed) return this.submitOne(batch[0]);
    const key = resumed ?? `batch:${batch.map(jobKey).join(",")}`;
    for (const j of batch) if (j.submitTx !== key) await this.update(j, { submitTx: key });
    this.log("batch_sending", { jobs: batch.map((j) => j.jobId), verifier, reason });
    let r: TransactionReceipt | undefined;
    let why = "";
    try {
      r = await this.txs.send(
        key,
        this.cfg.jobsAddress,
        this.jobs.interface.encodeFunctionData("submitResults", [
          batch.map((j) => j.jobId),
          batch.map((j) => j.proof!.output),
          batch.map((j) => j.proof!.bytes),
        ]),
      );
    } catch (e) {
      if (!(e instanceof WouldRevertError)) throw e;
      why = errMsg(e);
      const sel = this.jobs.interface.getError("BatchVerifierUnavailable")!.selector;
      if (e.data?.startsWith(sel)) this.unbatchable.add(verifier);
    }
    if (r) this.metrics.submitted++;
    if (r?.status === 1) {
      this.log("batch_submitted", {
        jobs: batch.map((j) => j.jobId),
        tx: r.hash,
        gasUsed: r.gasUsed,
        perResult: r.gasUsed / BigInt(batch.length),
        reason,
      });
      return this.fulfilled(batch, r);
    }
    this.log("batch_fallback", { jobs: batch.map((j) => j.jobId), reason: r ? `reverted in tx ${r.hash}` : why });
    for (const j of batch) {
      await this.update(j, { submitTx: undefined });
      if (await this.servable(j)) await this.submitOne(j);
    }
  }

  /**
   * Waits (while our claim is live) for the requester's `InputDelivered` to us, decrypts it with this node's key and
   * checks it against the job's commitment. A delivery that does not decrypt or does not open the commitment is
   * declined with `releaseClaim` (no slash within the decline window) and the job is skipped for good; so is a claim
   * whose delivery window ended without a delivery (the market returns the whole bond).
   * @returns the opening, or undefined when the job ended here.
   */
  private async privateOpening(j: JobRecord, model: ServedModel["model"]): Promise<{ x: bigint[]; salt: bigint } | undefined> {
    const zero = "0x0000000000000000000000000000000000000000";
    for (;;) {
      const events = await this.jobs.queryFilter(this.jobs.filters.InputDelivered(j.jobId, this.address), j.blockNumber);
      const ev = events.at(-1);
      if (ev) {
        const ctx = { chainId: this.chainId, jobs: this.cfg.jobsAddress, jobId: BigInt(j.jobId), claimant: this.address };
        let reason: string;
        try {
          const opening = parseInput(decryptDelivery(ev.args.ciphertext, this.wallet.signingKey, ctx), model);
          const c = await inputCommitment(model, opening.x, opening.salt);
          if (c === BigInt(j.inputCommitment)) {
            this.log("input_delivered", { jobId: j.jobId, tx: ev.transactionHash, bytes: (ev.args.ciphertext.length - 2) / 2 });
            return opening;
          }
          reason = `the delivered opening commits to ${c}, the job to ${j.inputCommitment}`;
        } catch (e) {
          if (!(e instanceof DeliveryError) && !(e instanceof InputError)) throw e;
          reason = `the delivered input is unusable: ${e.message}`;
        }
        await this.decline(j, reason);
        return undefined;
      }
      const c = await this.jobs.claimOf(j.jobId);
      const latest = await this.provider.getBlock("latest");
      if (latest) this.chainTime = latest.timestamp;
      if (c.claimant === zero || getAddress(c.claimant) !== this.address || this.chainTime > Number(c.leaseEnd)) {
        let settled = "";
        if (c.claimant !== zero && getAddress(c.claimant) === this.address) {
          // Our lapsed, undelivered claim: settle it ourselves to unlock the bond (returned whole).
          try {
            const r = await this.txs.send(
              `expire:${jobKey(j)}`,
              this.cfg.jobsAddress,
              this.jobs.interface.encodeFunctionData("expireClaim", [j.jobId]),
            );
            settled = r.status === 1 ? "; claim settled, bond returned whole" : `; expireClaim reverted in tx ${r.hash}`;
          } catch (e) {
            if (!(e instanceof WouldRevertError)) throw e;
            settled = `; expireClaim refused: ${errMsg(e)}`;
          }
        }
        await this.finish(j, "skipped", `the requester did not deliver the private input within the delivery window${settled}`);
        return undefined;
      }
      if (!this.running) throw new Error("node stopping while waiting for a private input delivery");
      await sleep(this.cfg.pollMs);
    }
  }

  /** Gives up our claim on a private job whose delivery is unusable, then skips the job for good. */
  private async decline(j: JobRecord, reason: string): Promise<void> {
    let released = "released without a slash";
    try {
      const r = await this.txs.send(
        `release:${jobKey(j)}`,
        this.cfg.jobsAddress,
        this.jobs.interface.encodeFunctionData("releaseClaim", [j.jobId]),
      );
      if (r.status !== 1) released = `releaseClaim reverted in tx ${r.hash}`;
    } catch (e) {
      if (!(e instanceof WouldRevertError)) throw e;
      released = `releaseClaim refused: ${errMsg(e)}`;
    }
    this.log("claim_declined", { jobId: j.jobId, reason, released });
    await this.finish(j, "skipped", `${reason}; claim ${released}`);
  }

  /**
   * The served model a registry version is: its published bundle, if the policy admits it, fetched and checked against
   * the chain once (scripts/apps/prover/bundles.ts). A refused version is remembered and never fetched again.
   */
  private async matchVersion(modelId: bigint, version: number): Promise<{ model?: ServedModel; reason?: string; retryAt?: number }> {
    const before = await this.store.refusedVersion(modelId, version);
    if (before) return { reason: `published bundle refused before: ${before}` };
    const owner = (await this.registry.modelInfo(modelId)).owner;
    const why = admitted(this.cfg.policy, modelId, owner);
    if (why) return { reason: why };
    const [commitment] = await this.registry.getModelVersion(modelId, version);
    const t0 = Date.now();
    // a large bundle's fetch is logged every 10 s with the bytes it has so far (and shown in /health)
    const progress = setInterval(() => {
      for (const f of this.bundles.fetching())
        if (f.modelId === String(modelId) && f.version === version) this.log("bundle_fetch_progress", { ...f });
    }, 10_000);
    progress.unref();
    try {
      const dir = await this.bundles
        .fetch(
          commitment.uri,
          modelId,
          version,
          // the proving key is most of a large bundle; the R1CS and the witness generator of a small circuit can be
          // a few times its size, so the whole is bounded by 4 proving keys and 16 MiB
          { totalBytes: this.cfg.policy.maxZkeyBytes * 4 + 16 * 2 ** 20, zkeyBytes: this.cfg.policy.maxZkeyBytes },
          this.cfg.bundleTimeoutMs,
        )
        .finally(() => clearInterval(progress));
      const t1 = Date.now();
      // every phase is logged as it ends, and /health shows the one under way (a large bundle takes minutes)
      this.checking.set(`${modelId}:${version}`, { modelId: String(modelId), version, phase: "files", since: Date.now() });
      const model = await verifyBundle(dir, this.registry, this.provider, modelId, version, this.cfg.policy, {
        verdicts: new CircuitVerdicts(this.cfg.verdictDir ?? path.join(userCacheDir(), "bundle-verdicts")),
        onPhase: (phase, ms, detail) => {
          this.log("bundle_check", { modelId, version, phase, ms, ...(detail ? { detail } : {}) });
          const next = BUNDLE_PHASES[BUNDLE_PHASES.indexOf(phase as (typeof BUNDLE_PHASES)[number]) + 1];
          if (next) this.checking.set(`${modelId}:${version}`, { modelId: String(modelId), version, phase: next, since: Date.now() });
        },
      }).finally(() => this.checking.delete(`${modelId}:${version}`));
      this.log("bundle_verified", {
        modelId,
        version,
        uri: commitment.uri,
        model: model.name,
        ms: Date.now() - t0,
        fetchMs: t1 - t0,
        verifyMs: Date.now() - t1,
      });
      return { model };
    } catch (e) {
      if (!(e instanceof BundleRefused)) throw e;
      const uri = commitment.uri.slice(0, 80);
      this.bundles.drop(modelId, version);
      if (e.kind === "unavailable") {
        const retryMs = this.cfg.bundleRetryMs ?? 60_000;
        this.log("bundle_unavailable", { modelId, version, uri, reason: e.message, retryInMs: retryMs });
        return {
          reason: `published bundle ${uri} unavailable (tried again in ${retryMs} ms): ${e.message}`,
          retryAt: Date.now() + retryMs,
        };
      }
      const reason = `published bundle ${uri} refused: ${e.message}`;
      // a bundle that is not what the chain records stays refused; one over this node's limits only while they hold
      if (e.kind === "mismatch") await this.store.refuseVersion(modelId, version, reason);
      this.log("bundle_refused", { modelId, version, uri, reason: e.message, kind: e.kind });
      return { reason };
    }
  }

  /** Claims `j`; returns true when this node holds a live claim. */
  private async claim(j: JobRecord): Promise<boolean> {
    const zero = "0x0000000000000000000000000000000000000000";
    let c = await this.jobs.claimOf(j.jobId);
    const live = (cl: { claimant: string; leaseEnd: bigint }): boolean => cl.claimant !== zero && this.chainTime <= Number(cl.leaseEnd);
    if (live(c) && getAddress(c.claimant) === this.address) {
      await this.update(j, { state: "claimed" });
      return true;
    }
    if (live(c)) {
      await this.update(j, { state: "waiting", leaseEnd: Number(c.leaseEnd), reason: `claimed by ${c.claimant}` });
      return false;
    }
    // A claim needs its whole lease plus the market's open window before the deadline (docs/market-rules.md), and a
    // private claim the delivery window too (a delivery opens a full lease). Past that point nobody can claim: the
    // job is first come, first served, so prove and submit without a claim.
    this.claimSpan ??= (await this.jobs.leaseDuration()) + (await this.jobs.openWindow());
    this.deliveryWindow ??= await this.jobs.deliveryWindow();
    if (BigInt(this.chainTime) + this.claimSpan + (j.privateInput ? this.deliveryWindow : 0n) > BigInt(j.deadline)) {
      if (j.privateInput) {
        await this.finish(j, "skipped", "private-input job too close to its deadline to claim: no delivery can reach this node");
        return false;
      }
      await this.update(j, { state: "claimed", reason: "too late to claim: proving for the open window without a claim" });
      this.log("claim_skipped", { jobId: j.jobId, reason: "open window", deadline: j.deadline });
      return true;
    }
    // One claim per address per private job: a claim of ours that ended undelivered (or that we declined) was our one.
    if (j.privateInput && (await this.jobs.claimedOnce(j.jobId, this.address))) {
      await this.finish(j, "skipped", "private-input job this node claimed once already (one claim per address per private job)");
      return false;
    }
    // A requester may name the one prover it delivers to; it can change its mind, so look again a delivery window
    // later (by this machine's clock: an idle chain's clock stands still)
    const designated = j.privateInput ? await this.jobs.designatedClaimant(j.jobId) : zero;
    if (designated !== zero && getAddress(designated) !== this.address) {
      const retryAt = Date.now() + Number(this.deliveryWindow) * 1000;
      await this.update(j, {
        state: "waiting",
        leaseEnd: undefined,
        retryAt,
        reason: `the requester designated ${designated} to claim it`,
      });
      return false;
    }
    if (this.cfg.claimJitterMs > 0) await sleep(randomInt(this.cfg.claimJitterMs + 1));
    c = await this.jobs.claimOf(j.jobId);
    const latest = await this.provider.getBlock("latest");
    if (latest) this.chainTime = latest.timestamp;
    if (live(c) && getAddress(c.claimant) !== this.address) {
      await this.update(j, { state: "waiting", leaseEnd: Number(c.leaseEnd), reason: `claimed by ${c.claimant}` });
      return false;
    }
    const takeover = c.claimant !== zero && getAddress(c.claimant) !== this.address ? c.claimant : undefined;
    const n = (await this.store.txs()).filter((t) => t.key.startsWith(`claim:${jobKey(j)}:`)).length;
    const key = `claim:${jobKey(j)}:${n + 1}`;
    let r: TransactionReceipt | undefined;
    try {
      r = await this.txs.send(key, this.cfg.jobsAddress, this.jobs.interface.encodeFunctionData("claim", [j.jobId]));
    } catch (e) {
      if (!(e instanceof WouldRevertError)) throw e;
    }
    if (r?.status === 1) {
      this.metrics.claimed++;
      const mine = await this.jobs.claimOf(j.jobId);
      await this.update(j, { state: "claimed", claimTx: key, leaseEnd: Number(mine.leaseEnd) });
      this.log("job_claimed", { jobId: j.jobId, tx: r.hash, leaseEnd: Number(mine.leaseEnd), takeoverFrom: takeover });
      return true;
    }
    // Lost the race (or the job settled): look again.
    const done = await this.settledOnChain(j);
    if (done) {
      await this.finish(j, done.state, done.reason);
      return false;
    }
    c = await this.jobs.claimOf(j.jobId);
    await this.update(j, { state: "waiting", leaseEnd: Number(c.leaseEnd), reason: `claim lost to ${c.claimant}` });
    this.log("claim_lost", { jobId: j.jobId, claimant: c.claimant, leaseEnd: Number(c.leaseEnd), reverted: r ? r.hash : "estimate" });
    return false;
  }
}
