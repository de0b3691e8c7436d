/**
 * Subscriptions, the node's side (docs/prover.md, "Subscriptions"; the rules: docs/market-rules.md, "Subscriptions").
 * With PROVER_SUBSCRIPTIONS_ADDRESS set, the node watches that `InferenceSubscriptions` contract's SubscriptionCreated,
 * SubscriptionCancelled, SubscriptionToppedUp and SubscriptionVersionPinned events in the watcher's loop (same
 * confirmation depth, the cursor and the records in the node's store, rewound with the market's scan after a
 * reorganisation), keeps the live subscriptions it would serve (the same policy as a job: fee, PROVER_SERVE, the
 * version's bundle fetched and checked), and opens each due run (`currentRun(id)`) through the
 * node's TxSender under the intent key `openRun:<id>:<run>`, so a crash or a restart never sends an opening twice.
 * A run is opened only when its tip pays for the opening: `tipPerRun >= PROVER_MIN_TIP_WEI`, by default the
 * opening's estimated gas times the current gas price; a subscription paid in an ERC-20 token is judged by the job
 * policy's minimum for that token (PROVER_MIN_FEE_TOKENS) and its tip, in that token, by PROVER_MIN_TIP_TOKENS
 * (`tipFloor`). The opened job is an ordinary job: the watcher's next scan finds it and the pipeline serves it (its
 * bundle was checked before the opening, so nothing is fetched then).
 */
import { type TransactionReceipt, ZeroAddress, getAddress } from "ethers";
import { type InferenceSubscriptions, InferenceSubscriptions__factory } from "../../../typechain-types";
import { revertData } from "../../chain/errors";
import { feeSkipReason } from "./bundles";
import type { SubscriptionsConfig } from "./config";
import { type NodeContext, errMsg } from "./context";
import type { ModelServing } from "./serving";
import type { SubscriptionRecord } from "./store";
import { WouldRevertError } from "./tx";

/** Openings tried for one run: a mined opening of ours that left the run due (reverted, or dropped by a reorg). */
const MAX_OPEN_ATTEMPTS = 3;
/** Blocks searched back from a reverted opening for the opening that won the run. */
const RACE_LOOKBACK = 256;
/** RunSkipped reasons (IInferenceSubscriptions.RunSkipped). */
const SKIP_REASONS: Record<number, string> = {
  1: "the consumer's input view reverted or ran out of its gas",
  2: "the consumer's input view returned malformed or too many values (or a malformed commitment answer)",
  3: "the market refused the job (inputs out of range or of the wrong count, a commitment not below r, model deprecated, another version current)",
};

/** A subscription as the node sees it: the chain's record and, once decided, whether it serves it. */
interface Watched {
  rec: SubscriptionRecord;
  /** Undefined: not decided yet (after each start and each event of the subscription). */
  verdict?: "serve" | "ignore";
  reason?: string;
  /** The bundle could not be fetched: decide again after this wall-clock ms. */
  retryAt?: number;
  /** Runs below this one are dealt with (opened by anyone, declined, lost, given up). */
  doneBelow: number;
  /** The chain is not asked about this subscription before this chain time (s): its next run's start. */
  nextAt: number;
  /**
   * The opening of its latest run (this node's or another opener's), watched until its block is `confirmations`
   * deep: a reorganisation that drops it makes the run due again (`run_open_dropped`), and the node opens it.
   */
  opening?: Opening;
}

/** An opening (RunOpened) as mined: its run, block, block hash and opener. */
interface Opening {
  run: number;
  block: number;
  hash: string;
  opener: string;
  /** Its block was `confirmations` deep with this hash (checked again only after a reorganisation under it). */
  confirmed?: boolean;
}

/**
 * The least tip for which the node opens a run of a subscription paid in `feeToken` (the zero address: ETH):
 * `gas`: the opening's estimated gas cost in wei, at each opening (ETH, PROVER_MIN_TIP_WEI unset); `min`: a fixed
 * floor in the subscription's own units; `none`: the node cannot price the tip, and opens none of its runs.
 */
export type TipFloor =
  { kind: "gas" } | { kind: "min"; min: bigint; source: "PROVER_MIN_TIP_WEI" | "PROVER_MIN_TIP_TOKENS" } | { kind: "none"; reason: string };

/**
 * The tip floor of a subscription paid in `feeToken` under the node's settings: ETH by PROVER_MIN_TIP_WEI or the
 * opening's gas cost; a token by its PROVER_MIN_TIP_TOKENS entry, else only with PROVER_MIN_TIP_WEI=0 (every run the
 * node serves): a gas cost in wei says nothing about an amount of an arbitrary token.
 */
export function tipFloor(feeToken: string, cfg: SubscriptionsConfig | undefined): TipFloor {
  if (BigInt(feeToken) === 0n)
    return cfg?.minTipWei === undefined ? { kind: "gas" } : { kind: "min", min: cfg.minTipWei, source: "PROVER_MIN_TIP_WEI" };
  const token = getAddress(feeToken);
  const min = cfg?.minTipTokens?.get(token);
  if (min !== undefined) return { kind: "min", min, source: "PROVER_MIN_TIP_TOKENS" };
  if (cfg?.minTipWei === 0n) return { kind: "min", min: 0n, source: "PROVER_MIN_TIP_WEI" };
  return {
    kind: "none",
    reason: `tipPerRun is paid in token ${token}, which no gas cost in wei can price: set PROVER_MIN_TIP_TOKENS=${token}:<min units> (or PROVER_MIN_TIP_WEI=0 to open every run served)`,
  };
}

/** The key of an opening's transaction: `openRun:<id>:<run>`, then `#1`, `#2` for another attempt at the same run. */
const openKey = (id: string, run: number, attempt: number): string => `openRun:${id}:${run}${attempt ? `#${attempt}` : ""}`;

export class SubscriptionKeeper {
  private readonly watched = new Map<string, Watched>();
  /** The work under way per subscription (deciding, or an opening waiting for its receipt), by id. */
  private readonly tasks = new Map<string, Promise<void>>();

  private constructor(
    private readonly ctx: NodeContext,
    private readonly serving: ModelServing,
    readonly subs: InferenceSubscriptions,
    readonly address: string,
  ) {}

  /**
   * The configured subscriptions contract, checked: code there, an InferenceSubscriptions, beside this node's market.
   * Called before the node opens its store.
   * @throws one line naming PROVER_SUBSCRIPTIONS_ADDRESS and the fix.
   */
  static async check(
    runner: NodeContext["wallet"],
    chainId: bigint,
    address: string,
    jobsAddress: string,
  ): Promise<InferenceSubscriptions> {
    const provider = runner.provider;
    if (!provider) throw new Error("the node's wallet has no provider");
    const hint = `export the address of the InferenceSubscriptions contract deployed beside the market ${jobsAddress}, or unset it`;
    if ((await provider.getCode(address)) === "0x")
      throw new Error(`PROVER_SUBSCRIPTIONS_ADDRESS ${address}: no contract there on chain ${chainId}: ${hint}`);
    const subs = InferenceSubscriptions__factory.connect(address, runner);
    let market: string;
    try {
      market = getAddress(await subs.inferenceJobs());
    } catch {
      throw new Error(`PROVER_SUBSCRIPTIONS_ADDRESS ${address}: the contract there is not an InferenceSubscriptions: ${hint}`);
    }
    if (market !== getAddress(jobsAddress))
      throw new Error(`PROVER_SUBSCRIPTIONS_ADDRESS ${address}: its runs go to the market ${market}, not PROVER_JOBS_ADDRESS: ${hint}`);
    return subs;
  }

  /** The keeper of a checked subscriptions contract, with what the store knows of it. */
  static async open(ctx: NodeContext, serving: ModelServing, subs: InferenceSubscriptions): Promise<SubscriptionKeeper> {
    const keeper = new SubscriptionKeeper(ctx, serving, subs, getAddress(await subs.getAddress()));
    const cursor = await ctx.store.subscriptionCursor();
    if (cursor && cursor.address !== keeper.address) {
      ctx.log("subscriptions_reset", { previous: cursor.address, now: keeper.address });
      await ctx.store.resetSubscriptions();
    }
    for (const rec of await ctx.store.subscriptions()) keeper.watched.set(rec.subscriptionId, { rec, doneBelow: 0, nextAt: 0 });
    return keeper;
  }

  /** Subscriptions the node knows (for the node_started line). */
  get known(): number {
    return this.watched.size;
  }

  /** Live subscriptions whose due runs this node opens (the `zkml_prover_subscriptions_watched` gauge). */
  get served(): number {
    return [...this.watched.values()].filter((w) => w.verdict === "serve" && !w.rec.cancelled).length;
  }

  /**
   * Records the subscription events from the cursor up to block `to`, never beyond the market's scan (whose block
   * hashes the reorganisation check keeps), each subscription touched read again from the chain, atomically with the
   * cursor.
   */
  async scan(to: number): Promise<void> {
    const { store, provider } = this.ctx;
    const market = await store.lastBlock();
    if (market === undefined) return;
    const cursor = await store.subscriptionCursor();
    let from = cursor ? cursor.lastBlock + 1 : (this.ctx.cfg.fromBlock ?? 0);
    const end = Math.min(to, market);
    const iface = this.subs.interface;
    const names = ["SubscriptionCreated", "SubscriptionCancelled", "SubscriptionToppedUp", "SubscriptionVersionPinned"] as const;
    const topics = [names.map((n) => iface.getEvent(n).topicHash)];
    while (from <= end) {
      const upTo = Math.min(end, from + 1999);
      const logs = await provider.getLogs({ address: this.address, topics, fromBlock: from, toBlock: upTo });
      const touched = new Map<string, { events: string[]; block: number }>();
      for (const l of logs) {
        const p = iface.parseLog(l);
        if (!p) continue;
        const id = (p.args[0] as bigint).toString();
        const t = touched.get(id) ?? { events: [], block: l.blockNumber };
        t.events.push(p.name);
        t.block = l.blockNumber;
        touched.set(id, t);
      }
      const put: SubscriptionRecord[] = [];
      const forget: string[] = [];
      for (const [id, t] of touched) {
        const rec = await this.read(id, t.block);
        if (rec) put.push(rec);
        else forget.push(id);
      }
      await store.recordSubscriptions(this.address, put, forget, upTo);
      for (const id of forget) this.forget(id, "the chain has no such subscription any more");
      for (const rec of put) this.refresh(rec, touched.get(rec.subscriptionId)?.events ?? []);
      from = upTo + 1;
    }
  }

  /**
   * A reorganisation rewound the scan to `ancestor`: every subscription whose last recorded event is above it is read
   * again (the rescan records what the chain has now); one the chain no longer has is forgotten. An opening above it
   * is checked again (`checkOpening`, at the subscription's next step).
   */
  async onReorg(ancestor: number): Promise<void> {
    const put: SubscriptionRecord[] = [];
    const forget: string[] = [];
    for (const [id, w] of this.watched) {
      if (w.opening && w.opening.block > ancestor) w.opening.confirmed = false;
      if (w.rec.eventBlock <= ancestor) continue;
      const rec = await this.read(id, w.rec.eventBlock);
      if (rec) put.push(rec);
      else forget.push(id);
    }
    const cursor = await this.ctx.store.subscriptionCursor();
    await this.ctx.store.recordSubscriptions(this.address, put, forget, Math.min(cursor?.lastBlock ?? -1, ancestor));
    for (const id of forget) this.forget(id, "its SubscriptionCreated is not on the chain any more (reorganisation)");
    for (const rec of put) this.refresh(rec, ["reorganisation"]);
  }

  /**
   * Starts deciding and opening, one task per subscription at a time, never blocking the watcher's tick: an opening
   * waiting for its receipt holds only its own subscription.
   */
  step(): void {
    for (const [id, w] of this.watched) {
      if (!this.ctx.running) return;
      if (this.tasks.has(id) || w.rec.cancelled) continue;
      const t = this.work(w)
        .catch((e: unknown) =>
          // stopping: an opening waiting for its receipt is recorded, and resumed (same bytes) at the next start
          this.ctx.log(this.ctx.running ? "subscription_error" : "subscription_interrupted", { subscriptionId: id, error: errMsg(e) }),
        )
        .finally(() => this.tasks.delete(id));
      this.tasks.set(id, t);
    }
  }

  /** Resolves when the tasks under way have ended. */
  async idle(): Promise<void> {
    await Promise.all([...this.tasks.values()]);
  }

  /**
   * Books an opening of this node whose transaction was pending when the node stopped and was settled by
   * `TxSender.resumePending` at this start (the same bytes, never a second opening).
   */
  async resumed(key: string, r: TransactionReceipt | null): Promise<void> {
    const m = /^openRun:(\d+):(\d+)(?:#\d+)?$/.exec(key);
    if (!m || !r) return;
    const w = this.watched.get(m[1]);
    await this.booked(m[1], Number(m[2]), key, r, w, true);
  }

  /** The chain's subscription `id` now (undefined when it has none: UnknownSubscription). */
  private async read(id: string, eventBlock: number): Promise<SubscriptionRecord | undefined> {
    let s: Awaited<ReturnType<InferenceSubscriptions["getSubscription"]>>;
    try {
      s = await this.subs.getSubscription(id);
    } catch (e) {
      if (this.subs.interface.parseError(revertData(e) ?? "0x")?.name === "UnknownSubscription") return undefined;
      throw e;
    }
    return {
      subscriptionId: id,
      owner: getAddress(s.owner),
      modelId: s.modelId.toString(),
      modelVersion: Number(s.modelVersion),
      interval: Number(s.interval),
      start: Number(s.start),
      runs: Number(s.runs),
      feePerRun: s.feePerRun.toString(),
      tipPerRun: s.tipPerRun.toString(),
      feeToken: getAddress(s.feeToken),
      runDeadline: Number(s.runDeadline),
      cancelled: s.cancelled,
      eventBlock,
    };
  }

  private forget(id: string, reason: string): void {
    if (this.watched.delete(id)) this.ctx.log("subscription_dropped", { subscriptionId: id, reason });
  }

  /** A subscription read again at its events: decided again (its version, fee or state may have changed). */
  private refresh(rec: SubscriptionRecord, events: string[]): void {
    const w = this.watched.get(rec.subscriptionId);
    const fields = {
      subscriptionId: rec.subscriptionId,
      owner: rec.owner,
      modelId: rec.modelId,
      modelVersion: rec.modelVersion,
      interval: rec.interval,
      start: rec.start,
      runs: rec.runs,
      feePerRun: rec.feePerRun,
      tipPerRun: rec.tipPerRun,
      ...(rec.feeToken && rec.feeToken !== ZeroAddress ? { feeToken: rec.feeToken } : {}),
      cancelled: rec.cancelled,
      events,
    };
    this.ctx.log(rec.cancelled ? "subscription_cancelled" : w ? "subscription_updated" : "subscription_seen", fields);
    if (!w) this.watched.set(rec.subscriptionId, { rec, doneBelow: 0, nextAt: 0 });
    else Object.assign(w, { rec, verdict: undefined, reason: undefined, retryAt: undefined, nextAt: 0 }); // a task may hold it
  }

  /** The chain's clock now: the latest block's time plus the time since it was first seen. */
  private chainNow(): number {
    return this.ctx.chainTime + Math.floor((Date.now() - this.ctx.chainTimeSeenAt) / 1000);
  }

  private async work(w: Watched): Promise<void> {
    if (w.verdict === undefined && (w.retryAt === undefined || Date.now() >= w.retryAt)) await this.decide(w);
    if (w.verdict === "serve") {
      await this.checkOpening(w);
      await this.consider(w);
    }
  }

  /**
   * The latest run's opening, until it is `confirmations` deep: when its block is gone or has another hash, the
   * opening was dropped by a reorganisation and the run may be due again: it is looked at now (and opened under the
   * next attempt's key when it was this node's: the dropped transaction's key is recorded as mined).
   */
  private async checkOpening(w: Watched): Promise<void> {
    const o = w.opening;
    if (!o || o.confirmed) return;
    const { provider, confirmations, log, txs, address } = this.ctx;
    const block = await provider.getBlock(o.block);
    if (block?.hash === o.hash) {
      if (o.block <= this.ctx.chainBlock - confirmations) o.confirmed = true;
      return;
    }
    log("run_open_dropped", {
      subscriptionId: w.rec.subscriptionId,
      run: o.run,
      opener: o.opener,
      block: o.block,
      reason: "its block is not on the chain any more (reorganisation)",
    });
    if (o.opener === address) txs.resetNonce(); // our transaction is gone: the account's nonce is read again
    w.opening = undefined;
    w.doneBelow = Math.min(w.doneBelow, o.run);
    w.nextAt = 0;
  }

  /** Whether this node serves the subscription's runs: the policy of a job on its model version and fee. */
  private async decide(w: Watched): Promise<void> {
    const { cfg, log } = this.ctx;
    const r = w.rec;
    r.feeToken ??= getAddress((await this.subs.getSubscription(r.subscriptionId)).feeToken); // a record stored before tokens
    const floor = tipFloor(r.feeToken, cfg.subscriptions);
    let reason = feeSkipReason({ fee: r.feePerRun, modelId: r.modelId, feeToken: r.feeToken }, cfg.minFeeWei, cfg.policy, "feePerRun");
    if (!reason && floor.kind === "none") reason = floor.reason;
    if (!reason) {
      const match = await this.serving.match(r.modelId, r.modelVersion);
      if (!match.model && match.retryAt !== undefined) {
        w.retryAt = match.retryAt;
        log("subscription_retry", { subscriptionId: r.subscriptionId, reason: match.reason, inMs: match.retryAt - Date.now() });
        return;
      }
      // a committed-input version's runs are committed jobs (a public opening or a private delivery), served as such
      if (!match.model) reason = match.reason ?? "model version not served";
    }
    w.verdict = reason ? "ignore" : "serve";
    w.reason = reason;
    w.retryAt = undefined;
    if (reason) log("subscription_ignored", { subscriptionId: r.subscriptionId, modelId: r.modelId, modelVersion: r.modelVersion, reason });
    else
      log("subscription_served", {
        subscriptionId: r.subscriptionId,
        modelId: r.modelId,
        modelVersion: r.modelVersion,
        feePerRun: r.feePerRun,
        tipPerRun: r.tipPerRun,
      });
  }

  /** Opens the subscription's current run when the chain says it is due and its tip pays for the opening. */
  private async consider(w: Watched): Promise<void> {
    if (this.chainNow() < w.nextAt) return;
    const r = w.rec;
    const [runBig, due, opensAt] = await this.subs.currentRun(r.subscriptionId);
    const run = Number(runBig);
    // this interval's run is used (opened or skipped) by another opener: watch that opening until it is confirmed
    if (!due && !r.cancelled && run < r.runs && this.chainNow() >= r.start && w.opening?.run !== run) {
      const o = await this.winner(r.subscriptionId, run);
      if (o) {
        w.opening = o;
        if (o.opener !== this.ctx.address)
          this.ctx.log("run_opened_by_other", { subscriptionId: r.subscriptionId, run, opener: o.opener, block: o.block });
      }
    }
    if (!due || run < w.doneBelow) {
      if (opensAt === 0n) {
        if (w.nextAt !== Infinity) this.ctx.log("subscription_ended", { subscriptionId: r.subscriptionId, runs: r.runs });
        w.nextAt = Infinity; // no run left (a top-up's event asks again)
      } else w.nextAt = due ? r.start + (run + 1) * r.interval : Number(opensAt);
      return;
    }
    const { cfg, provider, store, txs, log, metrics, address } = this.ctx;
    const data = this.subs.interface.encodeFunctionData("openRun", [r.subscriptionId]);
    const tip = BigInt(r.tipPerRun);
    const floor = tipFloor(r.feeToken ?? ZeroAddress, cfg.subscriptions);
    if (floor.kind === "none") return; // decided: not served
    let minTip = floor.kind === "min" ? floor.min : undefined;
    let gasEstimate: bigint | undefined;
    let gasPrice: bigint | undefined;
    if (minTip === undefined) {
      try {
        gasEstimate = await provider.estimateGas({ from: address, to: this.address, data });
      } catch (e) {
        const d = revertData(e);
        if (d === undefined) throw e; // not an answer (the endpoint unreachable): the next pass asks again
        return this.refused(w, run, d, errMsg(e));
      }
      gasPrice = (await provider.getFeeData()).gasPrice ?? 0n;
      minTip = gasEstimate * gasPrice;
    }
    if (tip < minTip) {
      metrics.runsDeclined++;
      log("run_declined", {
        subscriptionId: r.subscriptionId,
        run,
        tipWei: tip,
        minTipWei: minTip,
        ...(gasEstimate !== undefined ? { gasEstimate, gasPriceWei: gasPrice } : {}),
        ...(r.feeToken && r.feeToken !== ZeroAddress ? { feeToken: r.feeToken } : {}),
        reason: floor.kind === "gas" ? "tip below the opening's gas cost" : `tip below ${floor.source}`,
      });
      this.dealt(w, run);
      return;
    }
    let key: string | undefined;
    for (let a = 0; a < MAX_OPEN_ATTEMPTS && key === undefined; a++) {
      const t = await store.getTx(openKey(r.subscriptionId, run, a));
      if (!t || t.status === "pending") key = openKey(r.subscriptionId, run, a);
    }
    if (key === undefined) {
      log("run_open_given_up", { subscriptionId: r.subscriptionId, run, attempts: MAX_OPEN_ATTEMPTS });
      this.dealt(w, run);
      return;
    }
    if (key !== openKey(r.subscriptionId, run, 0))
      log("run_open_again", {
        subscriptionId: r.subscriptionId,
        run,
        key,
        reason: "an earlier opening of ours was mined but the run is still due",
      });
    let receipt: TransactionReceipt;
    try {
      receipt = await txs.send(key, this.address, data);
    } catch (e) {
      if (!(e instanceof WouldRevertError)) throw e;
      return this.refused(w, run, e.data, errMsg(e));
    }
    await this.booked(r.subscriptionId, run, key, receipt, w, false);
  }

  /** Runs up to `run` are dealt with: look again at the next interval's start. */
  private dealt(w: Watched, run: number): void {
    w.doneBelow = Math.max(w.doneBelow, run + 1);
    w.nextAt = w.rec.start + (run + 1) * w.rec.interval;
  }

  /** An opening the chain refused before it was sent (estimation reverted). */
  private async refused(w: Watched, run: number, data: string | undefined, message: string): Promise<void> {
    const id = w.rec.subscriptionId;
    const name = this.subs.interface.parseError(data ?? "0x")?.name;
    if (name === "RunNotDue") {
      this.ctx.metrics.openRacesLost++;
      const won = await this.winner(id, run);
      if (won?.run === run) w.opening = won;
      this.ctx.log("run_open_lost", { subscriptionId: id, run, winner: won?.opener, stage: "estimate" });
    } else if (name === "SubscriptionIsCancelled") {
      w.rec.cancelled = true;
      this.ctx.log("subscription_cancelled", { subscriptionId: id, run, stage: "estimate" });
    } else this.ctx.log("run_open_refused", { subscriptionId: id, run, error: name ?? message });
    this.dealt(w, run);
  }

  /** The opening of run `run` of `id` (its RunOpened event: opener, block), when it can be found. */
  private async winner(id: string, run: number, near?: number): Promise<Opening | undefined> {
    const head = near ?? (await this.ctx.provider.getBlockNumber());
    const evs = await this.subs.queryFilter(this.subs.filters.RunOpened(id, run), Math.max(0, head - RACE_LOOKBACK), head);
    const e = evs[evs.length - 1];
    return e ? { run, block: e.blockNumber, hash: e.blockHash, opener: getAddress(e.args.opener) } : undefined;
  }

  /**
   * Books a mined opening of this node: the job it opened (or the skip), with its gas; a reverted one was a race lost
   * to another opener (the run is no longer due) or is tried again under the next key (at most MAX_OPEN_ATTEMPTS).
   */
  private async booked(
    id: string,
    run: number,
    key: string,
    r: TransactionReceipt,
    w: Watched | undefined,
    resumed: boolean,
  ): Promise<void> {
    const { log, metrics } = this.ctx;
    const gas = {
      tx: r.hash,
      gasUsed: r.gasUsed,
      gasPriceWei: r.gasPrice,
      costWei: r.gasUsed * (r.gasPrice ?? 0n),
      ...(resumed ? { resumed } : {}),
    };
    if (r.status !== 1) {
      const won = await this.winner(id, run, r.blockNumber);
      if (won && won.opener !== this.ctx.address) {
        metrics.openRacesLost++;
        log("run_open_lost", { subscriptionId: id, run, key, winner: won.opener, stage: "mined", ...gas });
        if (w) {
          w.opening = won;
          this.dealt(w, run);
        }
      } else log("run_open_reverted", { subscriptionId: id, run, key, ...gas }); // the next pass looks again
      return;
    }
    let jobId: bigint | undefined;
    let skip: number | undefined;
    for (const l of r.logs) {
      if (getAddress(l.address) !== this.address) continue;
      const p = this.subs.interface.parseLog(l);
      if (p?.name === "RunOpened") jobId = p.args[2] as bigint;
      if (p?.name === "RunSkipped") skip = Number(p.args[2]);
    }
    if (skip !== undefined) {
      metrics.runsSkipped++;
      log("run_skipped", { subscriptionId: id, run, key, reason: SKIP_REASONS[skip] ?? `reason ${skip}`, code: skip, ...gas });
    } else {
      metrics.runsOpened++;
      log("run_opened", { subscriptionId: id, run, jobId, key, tipWei: w?.rec.tipPerRun, ...gas });
    }
    if (w) {
      w.opening = { run, block: r.blockNumber, hash: r.blockHash, opener: this.ctx.address };
      this.dealt(w, run);
    }
  }
}
