/**
 * The job pipeline: which jobs run (`schedule`, at most `concurrency` at a time) and one job's way through the state
 * machine (`process`): is it for us, claim (`claim`), the private input delivered to our claim (`privateOpening`,
 * `decline`), prove, then settlement.
 */
import { randomInt } from "crypto";
import { type TransactionReceipt, getAddress } from "ethers";
import { DeliveryError, decryptDelivery } from "../../chain/private-input";
import { jobBinding } from "../../formats/public-signals";
import { inputCommitment } from "../../formats/quantized-model";
import { feeSkipReason } from "./bundles";
import type { ServedModel } from "./bundle-check";
import { type NodeContext, errMsg, sleep } from "./context";
import { InputError, openInput, parseInput } from "./input";
import { type JobLedger, ZERO, jobKey } from "./ledger";
import type { OptimisticDuties } from "./optimistic";
import type { ModelServing } from "./serving";
import type { Settlement } from "./settlement";
import { type JobRecord, TERMINAL } from "./store";
import { WouldRevertError } from "./tx";

/** A proof that failed this many times (crashed workers) ends the job as failed. */
const MAX_PROOF_STARTS = 3;

export class JobPipeline {
  /** The processing of the jobs in flight (awaited when stopping). */
  readonly actives = new Set<Promise<void>>();
  /** leaseDuration + openWindow of the market, read once: a claim is possible only this long before a deadline. */
  private claimSpan?: bigint;
  /** The market's delivery window, read once: a private claim also needs it before the deadline. */
  private deliveryWindow?: bigint;

  constructor(
    private readonly ctx: NodeContext,
    private readonly ledger: JobLedger,
    private readonly serving: ModelServing,
    private readonly settlement: Settlement,
    private readonly optimist: OptimisticDuties,
  ) {}

  /** Starts eligible jobs while slots are free: our own claimed/proved jobs first, then others in random order. */
  schedule(): void {
    const ctx = this.ctx;
    if (!ctx.running) return;
    const own: JobRecord[] = [];
    const other: JobRecord[] = [];
    for (const j of ctx.records.values()) {
      if (TERMINAL.has(j.state) || ctx.active.has(j.jobId) || this.settlement.queue.has(j.jobId) || this.optimist.busy.has(j.jobId))
        continue;
      if (j.retryAt !== undefined && Date.now() < j.retryAt) continue; // a transient failure: later
      if (j.state === "claimed" || j.state === "proved") own.push(j);
      else if (j.state === "new" || (j.state === "waiting" && ctx.chainTime > (j.leaseEnd ?? 0))) other.push(j);
    }
    // a bond challenge against our posted result first: it must be answered within the proof window
    own.sort((a, b) => Number(b.posted !== undefined) - Number(a.posted !== undefined));
    for (let i = other.length - 1; i > 0; i--) {
      const k = randomInt(i + 1);
      [other[i], other[k]] = [other[k], other[i]];
    }
    for (const j of [...own, ...other]) {
      if (ctx.active.size >= ctx.cfg.concurrency) break;
      ctx.active.add(j.jobId);
      const p = this.process(j)
        .catch(async (e: unknown) => {
          ctx.log("job_error", { jobId: j.jobId, state: j.state, error: errMsg(e) });
        })
        .finally(async () => {
          ctx.active.delete(j.jobId);
          this.actives.delete(p);
          const next = ctx.replacements.get(j.jobId);
          if (next) {
            ctx.replacements.delete(j.jobId);
            ctx.records.set(j.jobId, next);
            await ctx.store.putJob(next).catch((e: unknown) => ctx.log("job_error", { jobId: j.jobId, error: errMsg(e) }));
          }
          this.schedule();
        });
      this.actives.add(p);
    }
  }

  private async process(j: JobRecord): Promise<void> {
    const { cfg, jobs, log, metrics } = this.ctx;
    const ledger = this.ledger;
    const done = await ledger.settledOnChain(j);
    if (done) return ledger.finish(j, done.state, done.reason, done.beforeStart, done.at);
    // A stored proof needs nothing else (fee, model and input were checked before it was made; a watcher's disproof
    // of a posted result was made without them): submit it while the job still takes it.
    if (j.state === "proved" && j.proof) return (await ledger.servable(j)) ? this.settlement.submit(j) : undefined;

    // 1. Is it for us? (fee, model, input) - all before spending anything.
    // The fee's asset first: a token job's fee is in the token's units, never compared with a wei minimum.
    if (j.feeToken === undefined) await ledger.update(j, { feeToken: await jobs.feeTokenOf(j.jobId) });
    // the per-model and per-token minimums are known before the model is: a cheap job never costs a bundle fetch
    const feeSkip = feeSkipReason({ fee: j.fee, modelId: j.modelId, feeToken: j.feeToken! }, cfg.minFeeWei, cfg.policy);
    if (feeSkip !== undefined) return ledger.finish(j, "skipped", feeSkip);
    const match = await this.serving.match(j.modelId, j.modelVersion);
    if (!match.model)
      return match.retryAt !== undefined
        ? ledger.retryLater(j, match.reason ?? "bundle unavailable", match.retryAt - Date.now())
        : ledger.finish(j, "skipped", match.reason);
    if (j.retryAt !== undefined) await ledger.update(j, { retryAt: undefined });
    const served = match.model;
    if (j.privateInput === undefined) await ledger.update(j, { privateInput: (await jobs.getJob(j.jobId)).privateInput });
    let input: { x: bigint[]; salt?: bigint } | undefined;
    try {
      // A private job's opening arrives encrypted to us after our claim (docs/market-rules.md, "Private delivery").
      if (!j.privateInput) input = await openInput(this.ctx, j, served.model);
    } catch (e) {
      if (e instanceof InputError) return ledger.finish(j, "skipped", e.message);
      throw e;
    }
    if (j.model !== served.name) await ledger.update(j, { model: served.name });

    // 2. Claim (unless ours already).
    if (j.state === "new" || j.state === "waiting") {
      if (!(await this.claim(j))) return;
    }

    // 2b. A private job: the requester delivers the opening to our claim; it is never written to disk in the clear.
    if (j.privateInput && j.state === "claimed") {
      input = await this.privateOpening(j, served.model);
      if (!input) return;
    }

    // 2c. An optimistic job we hold: post its result without a proof (optimistic.ts), unless it is posted already
    // (then we prove it: a bond challenge is answered like any proof) or the market refused the post.
    if (j.state === "claimed" && input && (await this.optimist.shouldPost(j))) return this.optimist.post(j, served.model, input.x);

    // 3. Prove (a stored proof is never redone).
    if (j.state === "claimed") {
      if (!input) throw new Error(`job ${j.jobId}: claimed without an input`);
      const starts = (j.proofStarts ?? 0) + 1;
      await ledger.update(j, { proofStarts: starts });
      log("proof_started", { jobId: j.jobId, model: served.name, attempt: starts });
      const binding = jobBinding(this.ctx.chainId, cfg.jobsAddress, BigInt(j.jobId), this.ctx.address);
      let p;
      try {
        p = await this.ctx.pool.prove({ model: served.model, wasm: served.wasm, zkey: served.zkey, x: input.x, salt: input.salt, binding });
      } catch (e) {
        // a crashed worker (out of memory on a busy machine) may prove next time; a proof that keeps failing is final
        if (starts < MAX_PROOF_STARTS) return ledger.retryLater(j, `proving failed (attempt ${starts}): ${errMsg(e)}`);
        return ledger.finish(j, "failed", `proving failed ${starts} times: ${errMsg(e)}`);
      }
      await ledger.update(j, { state: "proved", proof: { output: p.output.toString(), bytes: p.bytes, seconds: p.seconds } });
      metrics.proved++;
      metrics.addProving(p.seconds);
      log("proof_done", { jobId: j.jobId, output: p.output, seconds: p.seconds });
    }

    // 4. Submit once (TxSender keys the intent: a restart resumes the recorded transaction, never a new one), alone
    // or, with batching on, with other proved jobs of the same verifier (flushBatches).
    if (j.state === "proved" && j.proof) {
      if (!(await ledger.servable(j))) return;
      return this.settlement.submit(j);
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
    const { jobs, txs, cfg, address } = this.ctx;
    const zero = "0x0000000000000000000000000000000000000000";
    for (;;) {
      const events = await jobs.queryFilter(jobs.filters.InputDelivered(j.jobId, address), j.blockNumber);
      const ev = events.at(-1);
      if (ev) {
        const ctx = { chainId: this.ctx.chainId, jobs: cfg.jobsAddress, jobId: BigInt(j.jobId), claimant: address };
        let reason: string;
        try {
          const opening = parseInput(decryptDelivery(ev.args.ciphertext, this.ctx.wallet.signingKey, ctx), model);
          const c = await inputCommitment(model, opening.x, opening.salt);
          if (c === BigInt(j.inputCommitment)) {
            this.ctx.log("input_delivered", { jobId: j.jobId, tx: ev.transactionHash, bytes: (ev.args.ciphertext.length - 2) / 2 });
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
      const c = await jobs.claimOf(j.jobId);
      const latest = await this.ctx.provider.getBlock("latest");
      if (latest) this.ctx.chainTime = latest.timestamp;
      if (c.claimant === zero || getAddress(c.claimant) !== address || this.ctx.chainTime > Number(c.leaseEnd)) {
        let settled = "";
        if (c.claimant !== zero && getAddress(c.claimant) === address) {
          // Our lapsed, undelivered claim: settle it ourselves to unlock the bond (returned whole).
          try {
            const r = await txs.send(`expire:${jobKey(j)}`, cfg.jobsAddress, jobs.interface.encodeFunctionData("expireClaim", [j.jobId]));
            settled = r.status === 1 ? "; claim settled, bond returned whole" : `; expireClaim reverted in tx ${r.hash}`;
          } catch (e) {
            if (!(e instanceof WouldRevertError)) throw e;
            settled = `; expireClaim refused: ${errMsg(e)}`;
          }
        }
        await this.ledger.finish(j, "skipped", `the requester did not deliver the private input within the delivery window${settled}`);
        return undefined;
      }
      if (!this.ctx.running) throw new Error("node stopping while waiting for a private input delivery");
      await sleep(cfg.pollMs);
    }
  }

  /** Gives up our claim on a private job whose delivery is unusable, then skips the job for good. */
  private async decline(j: JobRecord, reason: string): Promise<void> {
    const { jobs, txs, cfg } = this.ctx;
    let released = "released without a slash";
    try {
      const r = await txs.send(`release:${jobKey(j)}`, cfg.jobsAddress, jobs.interface.encodeFunctionData("releaseClaim", [j.jobId]));
      if (r.status !== 1) released = `releaseClaim reverted in tx ${r.hash}`;
    } catch (e) {
      if (!(e instanceof WouldRevertError)) throw e;
      released = `releaseClaim refused: ${errMsg(e)}`;
    }
    this.ctx.log("claim_declined", { jobId: j.jobId, reason, released });
    await this.ledger.finish(j, "skipped", `${reason}; claim ${released}`);
  }

  /** Claims `j`; returns true when this node holds a live claim. */
  private async claim(j: JobRecord): Promise<boolean> {
    const { jobs, txs, cfg, address } = this.ctx;
    const ledger = this.ledger;
    const zero = "0x0000000000000000000000000000000000000000";
    let c = await jobs.claimOf(j.jobId);
    const live = (cl: { claimant: string; leaseEnd: bigint }): boolean => cl.claimant !== zero && this.ctx.chainTime <= Number(cl.leaseEnd);
    if (live(c) && getAddress(c.claimant) === address) {
      await ledger.update(j, { state: "claimed" });
      return true;
    }
    if (live(c)) {
      await ledger.update(j, { state: "waiting", leaseEnd: Number(c.leaseEnd), reason: `claimed by ${c.claimant}` });
      return false;
    }
    // A claim needs its whole lease plus the market's open window before the deadline (docs/market-rules.md), and a
    // private claim the delivery window too (a delivery opens a full lease). Past that point nobody can claim: the
    // job is first come, first served, so prove and submit without a claim.
    this.claimSpan ??= (await jobs.leaseDuration()) + (await jobs.openWindow());
    this.deliveryWindow ??= await jobs.deliveryWindow();
    if (BigInt(this.ctx.chainTime) + this.claimSpan + (j.privateInput ? this.deliveryWindow : 0n) > BigInt(j.deadline)) {
      if (j.privateInput) {
        await ledger.finish(j, "skipped", "private-input job too close to its deadline to claim: no delivery can reach this node");
        return false;
      }
      await ledger.update(j, { state: "claimed", reason: "too late to claim: proving for the open window without a claim" });
      this.ctx.log("claim_skipped", { jobId: j.jobId, reason: "open window", deadline: j.deadline });
      return true;
    }
    // One claim per address per private job: a claim of ours that ended undelivered (or that we declined) was our one.
    if (j.privateInput && (await jobs.claimedOnce(j.jobId, address))) {
      await ledger.finish(j, "skipped", "private-input job this node claimed once already (one claim per address per private job)");
      return false;
    }
    // A requester may name the one prover it delivers to; it can change its mind, so look again a delivery window
    // later (by this machine's clock: an idle chain's clock stands still)
    const designated = j.privateInput ? await jobs.designatedClaimant(j.jobId) : zero;
    if (designated !== zero && getAddress(designated) !== address) {
      const retryAt = Date.now() + Number(this.deliveryWindow) * 1000;
      await ledger.update(j, {
        state: "waiting",
        leaseEnd: undefined,
        retryAt,
        reason: `the requester designated ${designated} to claim it`,
      });
      return false;
    }
    if (cfg.claimJitterMs > 0) await sleep(randomInt(cfg.claimJitterMs + 1));
    c = await jobs.claimOf(j.jobId);
    const latest = await this.ctx.provider.getBlock("latest");
    if (latest) this.ctx.chainTime = latest.timestamp;
    if (live(c) && getAddress(c.claimant) !== address) {
      await ledger.update(j, { state: "waiting", leaseEnd: Number(c.leaseEnd), reason: `claimed by ${c.claimant}` });
      return false;
    }
    const takeover = c.claimant !== zero && getAddress(c.claimant) !== address ? c.claimant : undefined;
    const n = (await this.ctx.store.txs()).filter((t) => t.key.startsWith(`claim:${jobKey(j)}:`)).length;
    const key = `claim:${jobKey(j)}:${n + 1}`;
    let r: TransactionReceipt | undefined;
    try {
      r = await txs.send(key, cfg.jobsAddress, jobs.interface.encodeFunctionData("claim", [j.jobId]));
    } catch (e) {
      if (!(e instanceof WouldRevertError)) throw e;
    }
    if (r?.status === 1) {
      this.ctx.metrics.claimed++;
      const mine = await jobs.claimOf(j.jobId);
      await ledger.update(j, { state: "claimed", claimTx: key, leaseEnd: Number(mine.leaseEnd) });
      this.ctx.log("job_claimed", { jobId: j.jobId, tx: r.hash, leaseEnd: Number(mine.leaseEnd), takeoverFrom: takeover });
      return true;
    }
    // Lost the race (or the job settled): look again.
    const done = await ledger.settledOnChain(j);
    if (done) {
      await ledger.finish(j, done.state, done.reason);
      return false;
    }
    c = await jobs.claimOf(j.jobId);
    const st = await jobs.optimisticStateOf(j.jobId);
    if (st.poster !== ZERO) {
      // a posted result: no claim until it is finalised (lost), disproved (lost) or its challenge goes unanswered
      await ledger.update(j, {
        state: "waiting",
        leaseEnd: Number(st.proofDeadline > st.windowEnd ? st.proofDeadline : st.windowEnd),
        retryAt: Date.now() + 10 * cfg.pollMs,
        reason: `result posted by ${st.poster}`,
      });
      return false;
    }
    await ledger.update(j, { state: "waiting", leaseEnd: Number(c.leaseEnd), reason: `claim lost to ${c.claimant}` });
    this.ctx.log("claim_lost", { jobId: j.jobId, claimant: c.claimant, leaseEnd: Number(c.leaseEnd), reverted: r ? r.hash : "estimate" });
    return false;
  }
}
