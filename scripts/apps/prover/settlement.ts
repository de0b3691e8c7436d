/**
 * Settlement: a proved job's result on chain, sent alone (`submitResult`) or, with batching on, with other proved jobs
 * of the same verifier (`submitResults`); the batch queue and when it is due; the booking of a mined fulfilment.
 */
import { type TransactionReceipt, getAddress } from "ethers";
import { type NodeContext, errMsg } from "./context";
import { type JobLedger, creditsOf, jobKey } from "./ledger";
import type { JobRecord } from "./store";
import { WouldRevertError } from "./tx";

/** A proved job waiting for companions to go out in one `submitResults`. */
interface Queued {
  j: JobRecord;
  /** The pinned verifier: the batch key (one batch, one verifying key). */
  verifier: string;
  since: number;
  /** Part of a batch being sent (stays queued, so it is not scheduled again, until the send ends). */
  sending?: boolean;
}

export class Settlement {
  /** Proved jobs waiting in a batch queue, by job id (never scheduled again while there). */
  readonly queue = new Map<string, Queued>();
  /** Verifiers whose batch call reverted as unavailable: their jobs go out one by one. */
  private readonly unbatchable = new Set<string>();
  private flushing?: Promise<void>;

  constructor(
    private readonly ctx: NodeContext,
    private readonly ledger: JobLedger,
  ) {}

  /**
   * Submits a proved job still servable: into the batch queue of its verifier when batching is on (and the verifier
   * batches), else alone.
   */
  async submit(j: JobRecord): Promise<void> {
    const b = this.ctx.cfg.batch;
    if (b && b.max > 1 && !j.submitTx?.startsWith("submit:")) {
      if (j.submitTx?.startsWith("batch:") && !(await this.ctx.store.getTx(j.submitTx)))
        await this.ledger.update(j, { submitTx: undefined });
      const target = await this.ctx.jobs.verificationTargetOf(j.modelId, j.modelVersion);
      const verifier = getAddress(target.verifier);
      if (j.submitTx?.startsWith("batch:") || !this.unbatchable.has(verifier)) {
        this.queue.set(j.jobId, { j, verifier, since: Date.now() });
        this.ctx.log("batch_queued", { jobId: j.jobId, verifier, queued: this.queue.size });
        void this.flushBatches();
        return;
      }
    }
    return this.submitOne(j);
  }

  /** Submits one proved job with `submitResult` and finishes it. */
  private async submitOne(j: JobRecord): Promise<void> {
    const { jobs, txs, cfg } = this.ctx;
    if (!j.proof) throw new Error(`job ${j.jobId}: no proof to submit`);
    const txKey = j.submitTx?.startsWith("submit:") ? j.submitTx : `submit:${jobKey(j)}`;
    if (j.submitTx !== txKey) await this.ledger.update(j, { submitTx: txKey });
    let r: TransactionReceipt;
    try {
      r = await txs.send(
        txKey,
        cfg.jobsAddress,
        jobs.interface.encodeFunctionData("submitResult", [j.jobId, j.proof.output, j.proof.bytes]),
      );
    } catch (e) {
      if (e instanceof WouldRevertError) {
        const after = await this.ledger.settledOnChain(j);
        if (after) return this.ledger.finish(j, after.state, after.reason, false, after.at);
        return this.ledger.finish(j, "failed", `submit would revert: ${errMsg(e)}`);
      }
      throw e;
    }
    this.ctx.metrics.submitted++;
    if (r.status !== 1) {
      const after = await this.ledger.settledOnChain(j);
      return this.ledger.finish(j, after?.state ?? "failed", after?.reason ?? `submit reverted in tx ${r.hash}`, false, after?.at);
    }
    return this.fulfilled([j], r);
  }

  /**
   * Books a mined submission of `js` (one `submitResult` or one `submitResults`): fees and bounties credited, and on a
   * posted job (docs/prover.md, "Optimistic results") the challenge bond won by answering a bond challenge, or the
   * wrong result disproved and the poster's bond reward.
   */
  private async fulfilled(js: JobRecord[], r: TransactionReceipt): Promise<void> {
    const { metrics, address } = this.ctx;
    const credits = creditsOf(this.ctx, r.logs);
    for (const v of credits.fulfilled.values()) metrics.earningsWei += v;
    for (const j of js) {
      metrics.fulfilled++;
      const mine = j.posted?.poster === address;
      if (j.posted && (mine || j.watch?.verdict === "wrong")) {
        const paid = [credits.fulfilled, credits.answered, credits.rewards].reduce((a, m) => a + (m.get(j.jobId) ?? 0n), 0n);
        if (mine) {
          if (credits.answered.has(j.jobId)) metrics.challengesAnswered++;
          metrics.optimisticEarningsWei.answered += paid;
        } else {
          metrics.challengesMade++;
          metrics.optimisticEarningsWei.challenges += paid;
        }
        this.ctx.log(mine ? "challenge_answered" : "wrong_result_disproved", {
          jobId: j.jobId,
          poster: j.posted.poster,
          posted: j.posted.output,
          output: j.proof?.output,
          challenger: j.posted.challenger,
          paid,
          tx: r.hash,
        });
      }
      this.ctx.log("job_fulfilled", {
        jobId: j.jobId,
        tx: r.hash,
        gasUsed: r.gasUsed,
        batch: js.length,
        output: j.proof?.output,
        msSinceSeen: Date.now() - j.seenAt,
      });
      await this.ledger.finish(j, "done", "fulfilled by this node", false, { block: r.blockNumber, hash: r.blockHash });
    }
  }

  /**
   * Sends the queued proofs whose batch is due: `batch.max` of one verifier, the oldest waiting `batch.waitMs`, one
   * job within `batch.marginS` of its lease end or deadline, or `force` (stopping). One flush at a time.
   */
  flushBatches(force = false): Promise<void> {
    if (this.flushing) return force ? this.flushing.then(() => this.flushBatches(true)) : this.flushing;
    this.flushing = this.flushDue(force).finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async flushDue(force: boolean): Promise<void> {
    const b = this.ctx.cfg.batch;
    if (!b || this.queue.size === 0) return;
    // The chain's clock now: the latest block's time plus the time since this node first saw that block (an idle
    // chain's latest block can be old, and a local chain's clock can run ahead of this machine's).
    const now = this.ctx.chainTime + Math.floor((Date.now() - this.ctx.chainTimeSeenAt) / 1000);
    const groups = new Map<string, Queued[]>();
    for (const q of this.queue.values()) if (!q.sending) groups.set(q.verifier, [...(groups.get(q.verifier) ?? []), q]);
    for (const [verifier, qs] of groups) {
      qs.sort((x, y) => (BigInt(x.j.jobId) < BigInt(y.j.jobId) ? -1 : 1));
      const urgent = qs.find((q) => submitBy(q.j, this.ctx.address) - now <= b.marginS);
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
      this.ctx.log("batch_due", { verifier, jobs: qs.map((q) => q.j.jobId), reason });
      for (let i = 0; i < qs.length; i += b.max) {
        const part = qs.slice(i, i + b.max);
        for (const q of part) q.sending = true;
        const chunk = part.map((q) => q.j);
        try {
          await this.submitBatch(verifier, chunk, reason);
        } catch (e) {
          this.ctx.log("batch_error", { jobs: chunk.map((j) => j.jobId), error: errMsg(e) });
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
    const { jobs, txs, cfg, log } = this.ctx;
    const js: JobRecord[] = [];
    for (const j of queued) if (j.submitTx?.startsWith("batch:") || (await this.ledger.servable(j))) js.push(j);
    const resumed = js.find((j) => j.submitTx?.startsWith("batch:"))?.submitTx;
    const batch = resumed ? js.filter((j) => j.submitTx === resumed) : js;
    if (resumed) for (const j of js.filter((x) => x.submitTx !== resumed)) this.queue.set(j.jobId, { j, verifier, since: Date.now() });
    if (batch.length === 0) return;
    if (batch.length === 1 && !resumed) return this.submitOne(batch[0]);
    const key = resumed ?? `batch:${batch.map(jobKey).join(",")}`;
    for (const j of batch) if (j.submitTx !== key) await this.ledger.update(j, { submitTx: key });
    log("batch_sending", { jobs: batch.map((j) => j.jobId), verifier, reason });
    let r: TransactionReceipt | undefined;
    let why = "";
    try {
      r = await txs.send(
        key,
        cfg.jobsAddress,
        jobs.interface.encodeFunctionData("submitResults", [
          batch.map((j) => j.jobId),
          batch.map((j) => j.proof!.output),
          batch.map((j) => j.proof!.bytes),
        ]),
      );
    } catch (e) {
      if (!(e instanceof WouldRevertError)) throw e;
      why = errMsg(e);
      const sel = jobs.interface.getError("BatchVerifierUnavailable")!.selector;
      if (e.data?.startsWith(sel)) this.unbatchable.add(verifier);
    }
    if (r) this.ctx.metrics.submitted++;
    if (r?.status === 1) {
      log("batch_submitted", {
        jobs: batch.map((j) => j.jobId),
        tx: r.hash,
        gasUsed: r.gasUsed,
        perResult: r.gasUsed / BigInt(batch.length),
        reason,
      });
      return this.fulfilled(batch, r);
    }
    log("batch_fallback", { jobs: batch.map((j) => j.jobId), reason: r ? `reverted in tx ${r.hash}` : why });
    for (const j of batch) {
      await this.ledger.update(j, { submitTx: undefined });
      if (await this.ledger.servable(j)) await this.submitOne(j);
    }
  }
}

/**
 * The last second a proved job's result can go out: its deadline, our claim's lease end, and on a posted job the
 * poster's proof deadline (our answer to a bond challenge) or the challenge window's end (a watcher's disproof of an
 * unchallenged post).
 */
function submitBy(j: JobRecord, me: string): number {
  let by = j.deadline;
  if (j.claimTx && j.leaseEnd) by = Math.min(by, j.leaseEnd);
  const p = j.posted;
  if (p && p.poster === me && p.proofDeadline !== undefined) by = Math.min(by, p.proofDeadline);
  if (p && p.poster !== me && p.challenger === undefined) by = Math.min(by, p.windowEnd);
  return by;
}
