/**
 * The chain watcher: the node's polling loop (`run`, one `tick` per poll), the scan of the market's events from the
 * last processed block (catch-up after a restart and live watching are the same loop), reorganisations (`checkReorg`,
 * `recheck`, `confirmSettlements`) and the stake top-up; each tick then scans the subscription events (when a
 * subscriptions contract is configured) and starts the openings of due runs, flushes due batches and schedules jobs.
 */
import { type Log, getAddress } from "ethers";
import { type NodeContext, errMsg, sleep } from "./context";
import type { JobPipeline } from "./jobs";
import { JOB_STATUS, type JobLedger, sameJob } from "./ledger";
import type { OptimisticDuties, OptimisticEvent } from "./optimistic";
import type { Settlement } from "./settlement";
import { type JobRecord, TERMINAL } from "./store";
import type { SubscriptionKeeper } from "./subscriptions";

export class ChainWatcher {
  /** When the last tick completed, and the error of the last failed one (for /health). */
  lastTickOkAt = 0;
  lastTickError?: string;

  /**
   * @param lastMetrics when the periodic `metrics` line was last logged (the node's creation at first)
   */
  constructor(
    private readonly ctx: NodeContext,
    private readonly ledger: JobLedger,
    private readonly pipeline: JobPipeline,
    private readonly settlement: Settlement,
    private readonly optimist: OptimisticDuties,
    private lastMetrics: number,
    /** With PROVER_SUBSCRIPTIONS_ADDRESS: the subscriptions watched in the same loop (scripts/apps/prover/subscriptions.ts). */
    private readonly keeper?: SubscriptionKeeper,
  ) {}

  /** Ticks every `pollMs` while the node runs. */
  async run(): Promise<void> {
    const { cfg, log, metrics } = this.ctx;
    while (this.ctx.running) {
      try {
        await this.tick();
        this.lastTickOkAt = Date.now();
        this.lastTickError = undefined;
      } catch (e) {
        this.lastTickError = errMsg(e).slice(0, 300);
        log("tick_failed", { error: errMsg(e) });
      }
      if (cfg.metricsEveryMs > 0 && Date.now() - this.lastMetrics > cfg.metricsEveryMs) {
        this.lastMetrics = Date.now();
        log("metrics", { ...metrics.summary() });
      }
      await sleep(cfg.pollMs);
    }
  }

  private async tick(): Promise<void> {
    const ctx = this.ctx;
    const latest = await ctx.provider.getBlock("latest");
    if (!latest) return;
    if (latest.number !== ctx.chainBlock) {
      ctx.chainBlock = latest.number;
      ctx.chainTimeSeenAt = Date.now();
    }
    ctx.chainTime = latest.timestamp;
    await this.checkReorg();
    await this.confirmSettlements(latest.number);
    await this.confirmPosts(latest.number);
    await this.scan(latest.number - ctx.confirmations);
    if (this.keeper) {
      await this.keeper.scan(latest.number - ctx.confirmations);
      this.keeper.step(); // decides and opens due runs in the background: a pending opening never holds the loop
    }
    await this.ensureStake();
    await this.settlement.flushBatches();
    this.optimist.step(); // posts to finalise, challenges to answer, others' posts to check: in the background
    this.pipeline.schedule();
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
    const { provider, store } = this.ctx;
    const recent = await store.recentBlocks();
    if (recent.length === 0) return;
    const last = recent[recent.length - 1];
    if ((await provider.getBlock(last.n))?.hash === last.hash) return;
    let ancestor = Math.max(-1, recent[0].n - 1); // deeper than the hashes kept: rescan from before the oldest
    for (let i = recent.length - 2; i >= 0; i--)
      if ((await provider.getBlock(recent[i].n))?.hash === recent[i].hash) {
        ancestor = recent[i].n;
        break;
      }
    this.ctx.metrics.reorgs++;
    this.ctx.log("reorg_detected", { lastScanned: last.n, ancestor, head: this.ctx.chainBlock });
    this.ctx.txs.resetNonce(); // our transactions of the dropped blocks may be gone: nonces are read again
    for (const j of [...this.ctx.records.values()]) {
      const opened = j.blockNumber > ancestor;
      const settled = j.settledBlock !== undefined && j.settledBlock > ancestor;
      if (opened || settled || !TERMINAL.has(j.state)) await this.recheck(j, settled);
    }
    await this.keeper?.onReorg(ancestor);
    await store.rewind(ancestor);
  }

  /**
   * A job whose JobOpened or settlement a reorganisation may have dropped, checked on chain: forgotten when the chain
   * has no such job (the rescan records what it has now), back to work under a new epoch when its settlement is gone,
   * or when our posted result is gone.
   */
  private async recheck(j: JobRecord, settlementInDoubt: boolean): Promise<void> {
    const ctx = this.ctx;
    const c = await this.ledger.chainJob(j.jobId);
    if (!c || !sameJob(j, c)) {
      if (ctx.active.has(j.jobId)) return; // its next step re-reads the chain and ends it; the rescan replaces it
      ctx.records.delete(j.jobId);
      ctx.unconfirmed.delete(j.jobId);
      await ctx.store.forgetJob(j.jobId);
      ctx.log("job_dropped", { jobId: j.jobId, reason: "its JobOpened is not on the chain any more (reorganisation)", state: j.state });
      return;
    }
    const status = JOB_STATUS[Number(c.status)];
    if (
      settlementInDoubt &&
      (j.state === "done" || j.state === "lost") &&
      (status === "Open" || status === "Claimed" || status === "Posted")
    ) {
      // a stored proof stays valid (same job id, prover and input); our own posted result, finalised in a dropped
      // block, is finalised again
      const ownPost = status === "Posted" && j.posted?.poster === ctx.address;
      const back = j.state === "done" && j.proof ? "proved" : j.state === "done" && ownPost ? "posted" : "new";
      ctx.unconfirmed.delete(j.jobId);
      await this.ledger.update(j, {
        state: back,
        epoch: (j.epoch ?? 0) + 1,
        settledBlock: undefined,
        settledHash: undefined,
        submitTx: undefined,
        finalizeTx: undefined,
        ...(back === "posted" ? {} : { claimTx: undefined }),
      });
      ctx.log("job_reopened", { jobId: j.jobId, reason: "its settlement was dropped by a reorganisation", state: back, epoch: j.epoch });
      return;
    }
    // our posted result (not settled yet): a dropped post puts the job back to work now, not after its window
    if (j.state === "posted") await this.optimist.recheckPost(j);
  }

  /**
   * Settlements (our fulfilments, others' fulfilments and reclaims) happen in blocks above the confirmation depth. Each
   * is re-checked until its block is `confirmations` deep: a block that is gone or has another hash means the
   * settlement was dropped, and the job is checked again (`recheck`).
   */
  private async confirmSettlements(head: number): Promise<void> {
    const ctx = this.ctx;
    const hashes = new Map<number, string | undefined>();
    for (const id of [...ctx.unconfirmed]) {
      const j = ctx.records.get(id);
      if (!j || j.settledBlock === undefined || !j.settledHash || !TERMINAL.has(j.state)) {
        ctx.unconfirmed.delete(id);
        continue;
      }
      if (!hashes.has(j.settledBlock)) hashes.set(j.settledBlock, (await ctx.provider.getBlock(j.settledBlock))?.hash ?? undefined);
      if (hashes.get(j.settledBlock) !== j.settledHash) {
        ctx.log("settlement_dropped", { jobId: id, block: j.settledBlock, state: j.state });
        ctx.txs.resetNonce(); // our transactions of the dropped blocks are gone: nonces are read again
        await this.recheck(j, true);
      } else if (j.settledBlock <= head - ctx.confirmations) ctx.unconfirmed.delete(id);
    }
  }

  /**
   * Our optimistic posts are mined above the confirmation depth, where `checkReorg` (which compares the last scanned
   * block) cannot see them: each is re-checked until its block is `confirmations` deep; a block that is gone or has
   * another hash means the post may be gone, and the job is checked on chain (`recheckPost`: posted again, or lost to
   * another's post).
   */
  private async confirmPosts(head: number): Promise<void> {
    const ctx = this.ctx;
    for (const j of ctx.records.values()) {
      const p = j.posted;
      if (j.state !== "posted" || p?.block === undefined || !p.blockHash || p.block <= head - ctx.confirmations) continue;
      if ((await ctx.provider.getBlock(p.block))?.hash === p.blockHash) continue;
      ctx.log("post_block_dropped", { jobId: j.jobId, block: p.block });
      ctx.txs.resetNonce(); // our transactions of the dropped blocks may be gone: nonces are read again
      await this.optimist.recheckPost(j);
      // still ours (mined again in another block): the chain says so; the scan's reorganisation check takes it from here
      if (j.state === "posted" && j.posted?.block === p.block)
        await this.ledger.update(j, { posted: { ...j.posted, block: undefined, blockHash: undefined } });
    }
  }

  /** Records JobOpened logs (and settles jobs fulfilled or reclaimed by others) up to `to`, atomically with lastBlock. */
  private async scan(to: number): Promise<void> {
    const ctx = this.ctx;
    const last = await ctx.store.lastBlock();
    let from = last === undefined ? (ctx.cfg.fromBlock ?? 0) : last + 1;
    const iface = ctx.jobs.interface;
    const topics = [
      [
        iface.getEvent("JobOpened").topicHash,
        iface.getEvent("JobFulfilled").topicHash,
        iface.getEvent("JobReclaimed").topicHash,
        iface.getEvent("ResultPosted").topicHash,
        iface.getEvent("ResultChallenged").topicHash,
      ],
    ];
    while (from <= to) {
      const end = Math.min(to, from + 1999);
      const logs: Log[] = await ctx.provider.getLogs({ address: ctx.cfg.jobsAddress, topics, fromBlock: from, toBlock: end });
      const fresh: JobRecord[] = [];
      const settled: Array<{ jobId: string; prover?: string; block: number; hash: string }> = [];
      const optimistic: Array<{ jobId: string; ev: OptimisticEvent }> = [];
      for (const l of logs) {
        const p = iface.parseLog(l);
        if (!p) continue;
        const jobId = (p.args[0] as bigint).toString();
        if (p.name === "ResultPosted" || p.name === "ResultChallenged") {
          optimistic.push({ jobId, ev: { name: p.name, args: [...p.args] } });
        } else if (p.name === "JobOpened") {
          if (fresh.some((f) => f.jobId === jobId)) continue;
          const known = ctx.records.get(jobId);
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
            ctx.log("job_replaced", { jobId, previous: known.inputCommitment, now: rec.inputCommitment, epoch: rec.epoch });
            if (ctx.active.has(jobId)) {
              ctx.replacements.set(jobId, rec);
              continue;
            }
          } else {
            const epoch = await ctx.store.epochOf(jobId);
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
      const endBlock = await ctx.provider.getBlock(end);
      if (!endBlock?.hash) return; // the chain moved under us (a reorganisation): the next tick checks it
      // posted results and challenges go into their job records before the range counts as scanned (a job opened in
      // this range is written with the scan itself): a crash in between only makes the rescan record them again
      for (const o of optimistic) {
        const f = fresh.find((x) => x.jobId === o.jobId);
        const j = f ?? ctx.records.get(o.jobId);
        if (j) await this.optimist.note(j, o.ev, f === undefined);
      }
      await ctx.store.recordScan(fresh, end, endBlock.hash);
      for (const j of fresh) {
        ctx.records.set(j.jobId, j);
        ctx.metrics.jobsSeen++;
        ctx.log("job_seen", {
          jobId: j.jobId,
          modelId: j.modelId,
          modelVersion: j.modelVersion,
          fee: j.fee,
          deadline: j.deadline,
          block: j.blockNumber,
        });
      }
      for (const s of settled) {
        const j = ctx.records.get(s.jobId);
        // Jobs in flight settle themselves (they re-read the chain before every transaction).
        if (!j || TERMINAL.has(j.state) || ctx.active.has(s.jobId) || s.prover === ctx.address) continue;
        await this.ledger.finish(
          j,
          "lost",
          s.prover ? `fulfilled by ${s.prover}` : "reclaimed by the requester",
          s.block <= ctx.startBlock,
          {
            block: s.block,
            hash: s.hash,
          },
        );
      }
      from = end + 1;
    }
  }

  /** Deposits stake when the available stake cannot bond `concurrency` claims. */
  async ensureStake(): Promise<void> {
    const { jobs, cfg, address, claimBond } = this.ctx;
    const acct = await jobs.accountOf(address);
    const want = cfg.stakeWei ?? claimBond * BigInt(cfg.concurrency) * 2n;
    if (acct.available >= claimBond * BigInt(cfg.concurrency)) return;
    const amount = want - acct.available;
    const r = await this.ctx.txs.send(`deposit:${Date.now()}`, cfg.jobsAddress, jobs.interface.encodeFunctionData("deposit"), amount);
    this.ctx.log("stake_deposited", { amount, status: r.status, available: (await jobs.accountOf(address)).available });
  }
}
