/**
 * A prover node: an independent operator that serves InferenceJobs jobs for the published models its policy admits.
 *
 * Each tick it (1) scans JobOpened / JobFulfilled / JobReclaimed logs from its last processed block (catch-up after a
 * restart and live watching are the same loop), (2) tops up its stake if needed, and (3) starts at most
 * `concurrency` jobs through the pipeline below; every step is recorded in the store before the next one, so a node
 * killed anywhere restarts where it was (docs/prover.md). With a subscriptions contract configured it also opens the
 * due runs of the subscriptions it serves (subscriptions.ts); each opened run is then a job like any other:
 *
 *   new -> (fee >= minFee, registry version == its published bundle, fetched and verified once, input at inputURI matches inputCommitment)
 *       -> claim (bond from stake; a live claim by another prover: waiting until its lease ends, then take over)
 *       -> claimed [private jobs: wait for the requester's InputDelivered, decrypt, check the commitment; a bad or
 *          missing delivery is declined with releaseClaim and the job skipped for good]
 *       -> prove in a worker thread -> proved (proof stored) -> submit (intent + tx hash stored first)
 *       -> done | lost (someone else delivered, reclaimed, deadline) | skipped (reason) | failed (reason)
 *
 * This file is the public face (start, stop, status); the work is split by responsibility, each part taking the
 * shared NodeContext (context.ts) built by `start()`: the chain watcher (watcher.ts), the job pipeline (jobs.ts) over
 * the job records' transitions (ledger.ts), model serving (serving.ts) and settlement (settlement.ts).
 */
import { Wallet, getAddress } from "ethers";
import { InferenceJobs__factory, type ModelRegistry, ModelRegistry__factory } from "../../../typechain-types";
import { ResilientRpcProvider, parseRpcUrls } from "../../chain/rpc";
import { startIpfsNode } from "../../engine/ipfs";
import { type JsonLog, createJsonLog } from "./log";
import { Metrics, type MetricsSummary } from "./metrics";
import { type HealthReport, JOB_STATES, type StatusSnapshot, startStatusServer } from "./http";
import { BundleCache } from "./bundle-cache";
import { type NodeContext, errMsg, sleep } from "./context";
import { JobPipeline } from "./jobs";
import { JobLedger } from "./ledger";
import { OptimisticDuties } from "./optimistic";
import { ProofPool } from "./pool";
import { ModelServing } from "./serving";
import { Settlement } from "./settlement";
import { type JobRecord, type JobState, ProverStore, TERMINAL } from "./store";
import { SubscriptionKeeper } from "./subscriptions";
import { DEFAULT_TX_OPTIONS, TxSender } from "./tx";
import { ChainWatcher } from "./watcher";

export { DEFAULT_NODE_CONFIG } from "./config";
import { DEFAULT_NODE_CONFIG } from "./config";
import type { ProverNodeConfig } from "./config";
export type { ProverNodeConfig } from "./config";

/** Local development chains (Hardhat, Anvil/Ganache): blocks are mined on demand and never reorganised. */
const LOCAL_CHAIN_IDS = new Set([31337n, 1337n]);
/** Confirmation depth on any other chain unless PROVER_CONFIRMATIONS says otherwise. */
export const DEFAULT_CONFIRMATIONS = 3;

/** The parts of a started node, all sharing one context. */
interface NodeParts {
  ctx: NodeContext;
  serving: ModelServing;
  settlement: Settlement;
  pipeline: JobPipeline;
  optimist: OptimisticDuties;
  watcher: ChainWatcher;
  keeper?: SubscriptionKeeper;
}

export class ProverNode {
  readonly log: JsonLog;
  readonly metrics = new Metrics();
  readonly address: string;
  private readonly cfg: ProverNodeConfig;
  /** When this node was made: the periodic `metrics` line counts from it. */
  private readonly createdAt = Date.now();
  /** Set by `start()` once the chain, the store and the proving pool are there. */
  private parts?: NodeParts;
  private loop?: Promise<void>;
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
    const provider = new ResilientRpcProvider(
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
    const wallet = new Wallet(c.privateKey, provider);
    let chainId: bigint;
    try {
      chainId = (await provider.getNetwork()).chainId;
    } catch (e) {
      throw new Error(`PROVER_RPC_URL ${c.rpcUrl}: cannot reach the node (${errMsg(e).split(" (")[0]}); start it or fix the URL`);
    }
    const jobs = InferenceJobs__factory.connect(getAddress(c.jobsAddress), wallet);
    const jobsHint = "export the InferenceJobs address of deployments/<network>.json for this chain";
    if ((await provider.getCode(c.jobsAddress)) === "0x")
      throw new Error(`PROVER_JOBS_ADDRESS ${c.jobsAddress}: no contract there on chain ${chainId}: ${jobsHint}`);
    let registry: ModelRegistry;
    let claimBond: bigint;
    try {
      registry = ModelRegistry__factory.connect(await jobs.registry(), provider);
      claimBond = await jobs.claimBond();
    } catch {
      throw new Error(
        `PROVER_JOBS_ADDRESS ${c.jobsAddress}: the contract there is not an InferenceJobs market on chain ${chainId}: ${jobsHint}`,
      );
    }
    const subs = c.subscriptions ? await SubscriptionKeeper.check(wallet, chainId, c.subscriptions.address, c.jobsAddress) : undefined;
    const startBlock = await provider.getBlockNumber();
    const confirmations = c.confirmations ?? (LOCAL_CHAIN_IDS.has(chainId) ? 0 : DEFAULT_CONFIRMATIONS);
    const store = await ProverStore.open(c.stateDir);
    const ipfsNode = c.ipfs
      ? await startIpfsNode({
          dir: c.ipfs.dir ?? `${c.stateDir}-ipfs`,
          listen: [],
          peers: c.ipfs.peers,
          gateways: c.ipfs.gateways,
        })
      : undefined;
    const ctx: NodeContext = {
      cfg: c,
      log: this.log,
      metrics: this.metrics,
      address: this.address,
      provider,
      wallet,
      jobs,
      registry,
      store,
      txs: new TxSender(wallet, provider, store, this.log, this.metrics, { ...DEFAULT_TX_OPTIONS, ...c.tx }),
      pool: new ProofPool(c.concurrency, c.recycleZkeyBytes ?? DEFAULT_NODE_CONFIG.recycleZkeyBytes),
      bundles: new BundleCache(`${c.stateDir}-bundles`, c.bundleCacheBytes ?? 4 * 2 ** 30, ipfsNode),
      ipfsNode,
      chainId,
      claimBond,
      startBlock,
      confirmations,
      records: new Map(),
      active: new Set(),
      unconfirmed: new Set(),
      replacements: new Map(),
      running: false,
      chainTime: 0,
      chainBlock: -1,
      chainTimeSeenAt: Date.now(),
    };
    const ledger = new JobLedger(ctx);
    const serving = new ModelServing(ctx);
    const settlement = new Settlement(ctx, ledger);
    const optimist = new OptimisticDuties(ctx, ledger, serving, settlement);
    const pipeline = new JobPipeline(ctx, ledger, serving, settlement, optimist);
    const keeper = subs ? await SubscriptionKeeper.open(ctx, serving, subs) : undefined;
    const watcher = new ChainWatcher(ctx, ledger, pipeline, settlement, optimist, this.createdAt, keeper);
    this.parts = { ctx, serving, settlement, pipeline, optimist, watcher, keeper };
    await ctx.pool.warm();
    for (const j of await store.jobs()) {
      ctx.records.set(j.jobId, j);
      if (j.settledHash && j.settledBlock !== undefined && j.settledBlock > startBlock - confirmations) ctx.unconfirmed.add(j.jobId);
    }
    const resumed = await ctx.txs.resumePending();
    // an opening sent before a stop was settled above (same bytes): booked, never sent again
    for (const r of resumed) if (keeper && r.key.startsWith("openRun:")) await keeper.resumed(r.key, r.receipt);
    this.log("node_started", {
      address: this.address,
      jobs: c.jobsAddress,
      chainId,
      serve: c.policy.serve === "all" ? "all" : [...c.policy.serve.modelIds, ...c.policy.serve.owners].join(","),
      concurrency: c.concurrency,
      confirmations,
      minFeeWei: c.minFeeWei,
      optimistic: optimist.policy.post ? "post" : "prove",
      watch: optimist.policy.watch ? "on" : "off",
      ...(keeper
        ? {
            subscriptions: keeper.address,
            minTipWei: c.subscriptions?.minTipWei ?? "opening gas cost",
            ...(c.subscriptions?.minTipTokens?.size
              ? { minTipTokens: [...c.subscriptions.minTipTokens].map(([t, v]) => `${t}:${v}`).join(",") }
              : {}),
            knownSubscriptions: keeper.known,
          }
        : {}),
      lastBlock: await store.lastBlock(),
      knownJobs: ctx.records.size,
      unfinishedJobs: [...ctx.records.values()].filter((j) => !TERMINAL.has(j.state)).map((j) => `${j.jobId}:${j.state}`),
      resumedTxs: resumed.map((r) => `${r.key}:${r.receipt ? r.receipt.status : "unsettled"}`),
    });
    await watcher.ensureStake();
    ctx.running = true;
    this.loop = watcher.run();
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
    const ctx = this.parts?.ctx;
    const jobsByState = Object.fromEntries(JOB_STATES.map((st) => [st, 0])) as Record<JobState, number>;
    for (const j of this.jobRecords()) jobsByState[j.state]++;
    let chain: StatusSnapshot["chain"];
    if (ctx)
      try {
        const [head, balanceWei, acct] = await Promise.all([
          ctx.provider.getBlockNumber(),
          ctx.provider.getBalance(this.address),
          ctx.jobs.accountOf(this.address),
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
      scannedBlock: ctx ? await ctx.store.lastBlock().catch(() => undefined) : undefined,
      queued: this.parts?.settlement.queue.size ?? 0,
      optimistic: this.cfg.optimistic ?? DEFAULT_NODE_CONFIG.optimistic,
      subscriptionsWatched: this.parts?.keeper?.served,
      ipfsPeers: ctx?.ipfsNode?.peerStatus(),
    };
  }

  /** What GET /health answers: ok while ticks complete (within `healthStaleMs`). */
  health(): HealthReport {
    const p = this.parts;
    if (!p?.ctx.running) return { ok: false, reason: "the node is not running (starting or stopping)" };
    const { ctx, watcher, serving, optimist } = p;
    const policy = { optimistic: optimist.policy.post ? "post" : "prove", watch: optimist.policy.watch ? "on" : "off" };
    const ago = Date.now() - watcher.lastTickOkAt;
    const limit = this.cfg.healthStaleMs ?? Math.max(30_000, 20 * this.cfg.pollMs);
    if (watcher.lastTickOkAt === 0 || ago > limit)
      return {
        ok: false,
        reason: `no successful tick for ${watcher.lastTickOkAt === 0 ? "ever" : `${ago} ms`} (limit ${limit} ms)`,
        lastError: watcher.lastTickError ?? this.lastRpcError?.error,
        ...policy,
      };
    // the IPFS peers are reported, not judged: the node keeps serving what it has while it redials them
    const ipfsPeers = ctx.ipfsNode?.peerStatus();
    return {
      ok: true,
      lastTickAgoMs: ago,
      headBlock: ctx.chainBlock,
      jobsInFlight: ctx.active.size,
      lastError: watcher.lastTickError,
      ...policy,
      ...(ipfsPeers?.length ? { ipfsPeers } : {}),
      ...(serving.checking.size
        ? { checkingBundles: [...serving.checking.values()].map((c) => ({ ...c, forMs: Date.now() - c.since })) }
        : {}),
      ...(ctx.bundles.fetching().length ? { fetchingBundles: ctx.bundles.fetching() } : {}),
    };
  }

  /** Stops taking work, lets jobs in flight finish (bounded), stops the workers, logs the metrics, closes the store. */
  async stop(timeoutMs = 60_000): Promise<MetricsSummary> {
    const p = this.parts;
    if (!p) throw new Error("the node was not started");
    p.ctx.running = false;
    await this.status?.close();
    await this.loop;
    await Promise.race([Promise.all([...p.pipeline.actives, ...p.optimist.actives, p.keeper?.idle()]), sleep(timeoutMs)]);
    await Promise.race([p.settlement.flushBatches(true), sleep(timeoutMs)]);
    await p.ctx.pool.stop();
    await p.ctx.ipfsNode?.stop();
    const m = this.metrics.summary();
    this.log("metrics", { ...m, final: true });
    await p.ctx.store.close();
    p.ctx.provider.destroy();
    return m;
  }

  /** The node's view of every job it has seen. */
  jobRecords(): JobRecord[] {
    return [...(this.parts?.ctx.records.values() ?? [])];
  }
}
