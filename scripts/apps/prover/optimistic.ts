/**
 * Optimistic results (docs/market-rules.md, "Optimistic results"; docs/prover.md, "Optimistic results"), the node's
 * two roles:
 *
 * - **Poster** (PROVER_OPTIMISTIC=post): on an optimistic job it holds the claim of, the pipeline (jobs.ts) hands over
 *   to `post`: the output is computed without a proof (the TS twin of the circuit, which the bundle check and every
 *   proof cross-check against the circuit's witness) and posted with `postResult`; `step` finalises it once the
 *   challenge window has passed (`finalizeResult`; anyone may, the node makes sure its own are). A bond challenge of a
 *   posted result (`ResultChallenged`) puts the job back to `claimed`, first in the pipeline's queue, where it is
 *   proved and submitted like any job: a proof of the posted output answers the challenge and wins its bond.
 * - **Watcher** (PROVER_WATCH=on): every result another address posts on a model this node serves, whose input it can
 *   read (public inputs from `JobInputs`, a committed job's opening at its `inputURI`; private-delivery jobs are left to
 *   their requester), is re-run the same way once its ResultPosted is at the node's confirmation depth. A different
 *   output is proved and submitted (`submitResult` of the true output on the Posted job: by uniqueness the post was
 *   wrong, the job settles at once and the prover is paid fee, bounty and the poster's bond less the slash). A result
 *   the node has not shown wrong is never challenged: the node makes no bond challenge at all.
 *
 * Every decision is stored in the job's record before the transaction it leads to (`post`, `finalizeTx`, `watch`, the
 * proof), and every transaction is keyed in the store (tx.ts), so a restarted node resumes posts, finalisations,
 * answers and disproofs without doing any of them twice.
 */
import { type TransactionReceipt, getAddress } from "ethers";
import { jobBinding } from "../../formats/public-signals";
import { type QuantizedModel, inferQuantized } from "../../formats/quantized-model";
import { DEFAULT_NODE_CONFIG } from "./config";
import { type NodeContext, errMsg } from "./context";
import { InputError, openInput } from "./input";
import { type JobLedger, ZERO, creditsOf, jobKey } from "./ledger";
import type { ModelServing } from "./serving";
import type { Settlement } from "./settlement";
import type { JobRecord, OptimisticPost, WatchVerdict } from "./store";
import { WouldRevertError } from "./tx";

/** A disproof whose proof failed this many times is given up (as the pipeline gives up a job). */
const MAX_PROOF_STARTS = 3;

/**
 * Gas of `finalizeResult` beyond the callback: about 43k measured (`npm run bench:optimistic`), with room for a first
 * credit to a fresh account and the callback call's own cost.
 */
const FINALIZE_GAS = 100_000n;

/** Seconds a post keeps in hand beyond the market's rule (`now + challengeWindow + proofWindow + openWindow <= deadline`): the next block's time. */
const POST_MARGIN_S = 15;

/** A ResultPosted or ResultChallenged log of the market, parsed. */
export interface OptimisticEvent {
  name: "ResultPosted" | "ResultChallenged";
  args: readonly unknown[];
}

export class OptimisticDuties {
  /** Finalisations and watcher checks under way (awaited when stopping). */
  readonly actives = new Set<Promise<void>>();
  /** Jobs one of those is working on: the pipeline leaves them alone meanwhile. */
  readonly busy = new Set<string>();
  /** Watcher checks under way (at most PROVER_CONCURRENCY: a disproof needs a proving slot). */
  private readonly checking = new Set<string>();
  /** challengeWindow + proofWindow + openWindow of the market, read once: how long before its deadline a post must be. */
  private postSpan?: bigint;
  /** The gas limit of a finalisation (FINALIZE_GAS plus twice the market's callback allowance), read once. */
  private finalizeGas?: bigint;

  constructor(
    private readonly ctx: NodeContext,
    private readonly ledger: JobLedger,
    private readonly serving: ModelServing,
    private readonly settlement: Settlement,
  ) {}

  /** PROVER_OPTIMISTIC and PROVER_WATCH. */
  get policy(): { post: boolean; watch: boolean } {
    return this.ctx.cfg.optimistic ?? DEFAULT_NODE_CONFIG.optimistic;
  }

  /**
   * Records a ResultPosted or ResultChallenged of the scan in the job's record, before the scan marks its block as
   * processed (idempotent: a rescan after a crash records the same). `persist`: write the record now (a job opened in
   * the same scan is written with the scan itself).
   */
  async note(j: JobRecord, ev: OptimisticEvent, persist: boolean): Promise<void> {
    const before = JSON.stringify([j.posted, j.watch]);
    if (ev.name === "ResultPosted") {
      const posted: OptimisticPost = {
        poster: getAddress(ev.args[1] as string),
        output: (ev.args[2] as bigint).toString(),
        windowEnd: Number(ev.args[3]),
      };
      const p = j.posted;
      if (!p || p.poster !== posted.poster || p.output !== posted.output || p.windowEnd !== posted.windowEnd) {
        j.posted = posted;
        if (posted.poster !== this.ctx.address) j.watch = undefined; // a new post to judge
      }
    } else if (j.posted && j.posted.challenger === undefined) {
      j.posted = { ...j.posted, challenger: getAddress(ev.args[1] as string), proofDeadline: Number(ev.args[2]) };
    }
    if (persist && JSON.stringify([j.posted, j.watch]) !== before) await this.ctx.store.putJob(j);
  }

  /**
   * Whether the pipeline posts this claimed job's result instead of proving it: the policy posts, the job is
   * optimistic, this node holds its claim, nothing of ours is posted on it yet, and the post rule leaves room.
   */
  async shouldPost(j: JobRecord): Promise<boolean> {
    const { jobs, chainTime, address } = this.ctx;
    // ours is on chain: a bond challenge is answered with a proof; else only its record is missing (a restart between
    // the post and its record), whatever the policy now
    if (j.posted?.poster === address) return j.posted.challenger === undefined;
    if (j.post) return true; // decided before a restart: the recorded post is resumed
    if (!this.policy.post || j.postRefused !== undefined) return false;
    if (!j.claimTx) return false; // proving in the open window without a claim: nothing backs a post
    if (!(await jobs.optimisticStateOf(j.jobId)).optimistic) return false;
    if (this.postSpan === undefined) {
      const [, challengeWindow, proofWindow] = await jobs.optimisticParameters();
      this.postSpan = challengeWindow + proofWindow + (await jobs.openWindow());
    }
    if (BigInt(chainTime + POST_MARGIN_S) + this.postSpan > BigInt(j.deadline)) {
      const reason = `too close to its deadline to post (challenge, proof and open windows ${this.postSpan} s): proving it`;
      await this.ledger.update(j, { postRefused: reason });
      this.ctx.log("post_skipped", { jobId: j.jobId, reason, deadline: j.deadline });
      return false;
    }
    return true;
  }

  /**
   * Posts the output of `x` on the claimed optimistic job `j` without a proof. The output is stored before the
   * transaction; a restart resumes the recorded transaction. A post the market refuses leaves the job to be proved.
   */
  async post(j: JobRecord, model: QuantizedModel, x: readonly bigint[]): Promise<void> {
    const { jobs, txs, cfg, log, metrics } = this.ctx;
    const p = j.posted;
    if (!j.post && p?.poster === this.ctx.address) {
      await this.ledger.update(j, { state: "posted", leaseEnd: p.windowEnd }); // posted, as the chain says
      return;
    }
    if (!j.post) {
      const t0 = Date.now();
      const output = inferQuantized(model, x).output; // the circuit's TS twin: the witness's output, no proof
      await this.ledger.update(j, { post: { output: output.toString(), tx: `post:${jobKey(j)}` } });
      log("result_computed", { jobId: j.jobId, output, ms: Date.now() - t0 });
    }
    const post = j.post!;
    let r: TransactionReceipt;
    try {
      r = await txs.send(post.tx, cfg.jobsAddress, jobs.interface.encodeFunctionData("postResult", [j.jobId, post.output]));
    } catch (e) {
      if (!(e instanceof WouldRevertError)) throw e;
      return this.postRefused(j, errMsg(e));
    }
    if (r.status !== 1) return this.postRefused(j, `postResult reverted in tx ${r.hash}`);
    const ev = r.logs.map((l) => jobs.interface.parseLog(l)).find((p) => p?.name === "ResultPosted");
    const windowEnd = ev ? Number(ev.args.windowEnd) : 0;
    metrics.optimisticPosted++;
    await this.ledger.update(j, {
      state: "posted",
      posted: { poster: this.ctx.address, output: post.output, windowEnd, block: r.blockNumber, blockHash: r.blockHash },
      leaseEnd: windowEnd,
      reason: `posted without a proof; final after ${windowEnd}`,
    });
    log("result_posted", {
      jobId: j.jobId,
      output: post.output,
      windowEnd,
      tx: r.hash,
      gasUsed: r.gasUsed,
      msSinceSeen: Date.now() - j.seenAt,
    });
  }

  private async postRefused(j: JobRecord, reason: string): Promise<void> {
    const done = await this.ledger.settledOnChain(j);
    if (done) return this.ledger.finish(j, done.state, done.reason, false, done.at);
    await this.ledger.update(j, { post: undefined, postRefused: reason });
    this.ctx.log("post_refused", { jobId: j.jobId, reason });
  }

  /**
   * One tick: this node's posted results that were challenged go back to the pipeline (proved first), those whose
   * window has passed are finalised; with PROVER_WATCH=on, results others posted are re-run while they can still be
   * disproved.
   */
  step(): void {
    const ctx = this.ctx;
    if (!ctx.running) return;
    for (const j of ctx.records.values()) {
      const p = j.posted;
      if (!p || ctx.active.has(j.jobId) || this.busy.has(j.jobId)) continue;
      if (j.state === "posted") {
        if (p.challenger !== undefined) void this.run(j, () => this.challenged(j, p));
        else if (ctx.chainTime > p.windowEnd) void this.run(j, () => this.finalize(j));
      } else if (this.checking.size < ctx.cfg.concurrency && this.shouldCheck(j, p)) {
        this.checking.add(j.jobId);
        void this.run(j, () => this.check(j, p).finally(() => this.checking.delete(j.jobId)));
      }
    }
  }

  /**
   * Whether the watcher has work on another's posted result while it can still be disproved: not judged yet, or judged
   * wrong and not proved yet (a restart in between; a proof that failed is tried at most MAX_PROOF_STARTS times).
   */
  private shouldCheck(j: JobRecord, p: OptimisticPost): boolean {
    if (!this.policy.watch || p.poster === this.ctx.address) return false;
    if (j.state === "proved" || j.state === "done" || j.state === "lost") return false;
    if (j.watch && (j.watch.verdict !== "wrong" || (j.proofStarts ?? 0) >= MAX_PROOF_STARTS)) return false;
    return this.disputable(p);
  }

  /** Whether a proof of another output is still taken (window open, or a bond challenge pending, before the deadline). */
  private disputable(p: OptimisticPost): boolean {
    return p.challenger !== undefined || this.ctx.chainTime <= p.windowEnd;
  }

  private run(j: JobRecord, work: () => Promise<void>): Promise<void> {
    this.busy.add(j.jobId);
    const p = work()
      .catch((e: unknown) => this.ctx.log("optimistic_error", { jobId: j.jobId, state: j.state, error: errMsg(e) }))
      .finally(() => {
        this.busy.delete(j.jobId);
        this.actives.delete(p);
      });
    this.actives.add(p);
    return p;
  }

  /** Our posted result was challenged by bond: back to `claimed`, where the pipeline proves it first of all. */
  private async challenged(j: JobRecord, p: OptimisticPost): Promise<void> {
    await this.ledger.update(j, {
      state: "claimed",
      leaseEnd: p.proofDeadline,
      reason: `challenged by ${p.challenger}: proving the posted output by ${p.proofDeadline}`,
    });
    this.ctx.log("challenge_received", { jobId: j.jobId, challenger: p.challenger, proofDeadline: p.proofDeadline, output: p.output });
  }

  /** Finalises our posted result once its window has passed (`finalizeResult`), and books the payment. */
  private async finalize(j: JobRecord): Promise<void> {
    const { jobs, txs, cfg, store, address } = this.ctx;
    let key = j.finalizeTx;
    if (!key) {
      // anyone may finalise: make sure the posted result is still ours (a reorganisation may have put another's there)
      const st = await jobs.optimisticStateOf(j.jobId);
      if ((st.poster === ZERO || getAddress(st.poster) !== address) && (await this.reconcile(j))) return;
      const n = (await store.txs()).filter((t) => t.key.startsWith(`finalize:${jobKey(j)}:`)).length;
      key = `finalize:${jobKey(j)}:${n + 1}`;
      await this.ledger.update(j, { finalizeTx: key });
    }
    // the callback's reserve is checked with gasleft(): a fixed limit that covers it (estimators can miss it)
    this.finalizeGas ??= FINALIZE_GAS + (await jobs.callbackGasLimit()) * 2n;
    let r: TransactionReceipt;
    try {
      r = await txs.send(key, cfg.jobsAddress, jobs.interface.encodeFunctionData("finalizeResult", [j.jobId]), 0n, this.finalizeGas);
    } catch (e) {
      if (!(e instanceof WouldRevertError)) throw e;
      return this.notFinalised(j, errMsg(e));
    }
    if (r.status !== 1) {
      await this.ledger.update(j, { finalizeTx: undefined });
      return this.notFinalised(j, `finalizeResult reverted in tx ${r.hash}`);
    }
    const paid = creditsOf(this.ctx, r.logs).fulfilled.get(j.jobId) ?? 0n;
    this.booked(j, paid, r.hash);
    await this.ledger.finish(j, "done", "finalised after its challenge window", false, { block: r.blockNumber, hash: r.blockHash });
  }

  private booked(j: JobRecord, paid: bigint, tx?: string): void {
    const m = this.ctx.metrics;
    m.optimisticFinalised++;
    m.fulfilled++;
    m.earningsWei += paid;
    m.optimisticEarningsWei.finalised += paid;
    this.ctx.log("result_finalised", { jobId: j.jobId, output: j.posted?.output, paid, tx, msSinceSeen: Date.now() - j.seenAt });
  }

  /**
   * After a reorganisation: whether our posted result is still on the chain. If the reorganisation dropped it (the
   * post, or the claim and the post), the job goes back to work at once under a new epoch, as when a finalisation
   * finds it gone, instead of waiting for the window of a post that no longer exists while the job is open to others.
   */
  async recheckPost(j: JobRecord): Promise<void> {
    const { jobs, address } = this.ctx;
    if (j.state !== "posted" || j.posted?.poster !== address || this.busy.has(j.jobId)) return; // busy: its finalisation checks
    const st = await jobs.optimisticStateOf(j.jobId);
    if (st.poster !== ZERO && getAddress(st.poster) === address && st.challenger === ZERO) return; // still ours, unchallenged
    await this.reconcile(j);
  }

  /** Why `finalizeResult` would not go through: settled already, a challenge not yet seen, a post a reorganisation dropped. */
  private async notFinalised(j: JobRecord, why: string): Promise<void> {
    if (await this.reconcile(j)) return;
    this.ctx.log("finalize_refused", { jobId: j.jobId, reason: why, windowEnd: j.posted?.windowEnd, chainTime: this.ctx.chainTime }); // e.g. the window's last second: the next tick tries again
  }

  /**
   * Our posted result against the chain: settled already (finished), challenged by bond (answered), or gone (the job
   * back to work, new epoch). False when it is still ours and unchallenged.
   */
  private async reconcile(j: JobRecord): Promise<boolean> {
    const { jobs, address, log } = this.ctx;
    const done = await this.ledger.settledOnChain(j);
    if (done) {
      if (done.state === "done") {
        // finalised by someone else (anyone may): still paid to us
        const ev = (await jobs.queryFilter(jobs.filters.JobFulfilled(j.jobId), j.blockNumber)).at(-1);
        this.booked(j, ev ? ev.args.fee + ev.args.bounty : 0n, ev?.transactionHash);
      }
      await this.ledger.finish(j, done.state, done.reason, false, done.at);
      return true;
    }
    const st = await jobs.optimisticStateOf(j.jobId);
    if (st.poster !== ZERO && getAddress(st.poster) === address && st.challenger !== ZERO) {
      // a bond challenge the scan has not reached yet (under the confirmation depth): answer it now
      await this.ledger.update(j, {
        posted: { ...j.posted!, challenger: getAddress(st.challenger), proofDeadline: Number(st.proofDeadline) },
      });
      return true;
    }
    if (st.poster !== ZERO && getAddress(st.poster) !== address) {
      // a reorganisation dropped our post and another address's post stands in its place: not ours to finalise or
      // answer (the watcher checks it like any other post)
      await this.ledger.finish(j, "lost", `a reorganisation dropped our post; ${getAddress(st.poster)} posted on the job instead`);
      return true;
    }
    if (st.poster === ZERO) {
      // our post is not on the chain any more (a reorganisation dropped it): the job goes back to work, new epoch
      await this.ledger.update(j, {
        state: "new",
        epoch: (j.epoch ?? 0) + 1,
        posted: undefined,
        post: undefined,
        finalizeTx: undefined,
        claimTx: undefined,
        submitTx: undefined,
      });
      log("job_reopened", { jobId: j.jobId, reason: "its posted result is not on the chain any more", epoch: j.epoch });
      return true;
    }
    return false;
  }

  /**
   * The watcher: re-runs another address's posted result (witness only) and, when the output differs, proves the true
   * output and hands the proof to settlement (`submitResult` on the Posted job).
   */
  private async check(j: JobRecord, p: OptimisticPost): Promise<void> {
    const { jobs, log, metrics, pool, chainId, cfg, address } = this.ctx;
    const verdict = async (v: WatchVerdict): Promise<void> => {
      await this.ledger.update(j, { watch: v });
      log("result_checked", { jobId: j.jobId, poster: p.poster, posted: p.output, ...v });
    };
    const match = await this.serving.match(j.modelId, j.modelVersion);
    if (!match.model) {
      if (match.retryAt === undefined) await verdict({ verdict: "unchecked", reason: match.reason ?? "model not served" });
      return; // a bundle that could not be fetched yet: the next tick asks again
    }
    const served = match.model;
    if (j.privateInput === undefined) await this.ledger.update(j, { privateInput: (await jobs.getJob(j.jobId)).privateInput });
    if (j.privateInput)
      return verdict({ verdict: "unchecked", reason: "private delivery: only its requester holds the opening (it watches its own job)" });
    let input: { x: bigint[]; salt?: bigint };
    try {
      input = await openInput(this.ctx, j, served.model);
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      return verdict({ verdict: "unchecked", reason: e.message });
    }
    let truth: bigint;
    if (j.watch?.verdict === "wrong" && j.watch.output !== undefined) truth = BigInt(j.watch.output);
    else {
      const t0 = Date.now();
      truth = inferQuantized(served.model, input.x).output;
      metrics.resultsChecked++;
      if (truth === BigInt(p.output)) return verdict({ verdict: "correct", output: truth.toString(), reason: `${Date.now() - t0} ms` });
      await verdict({ verdict: "wrong", output: truth.toString() });
    }
    if (!this.disputable(p)) return; // too late for a disproof: nothing to send
    // the true output, proved and bound to this node: by uniqueness it can only verify if the post was wrong
    const binding = jobBinding(chainId, cfg.jobsAddress, BigInt(j.jobId), address);
    const starts = (j.proofStarts ?? 0) + 1;
    await this.ledger.update(j, { proofStarts: starts });
    log("proof_started", { jobId: j.jobId, model: served.name, attempt: starts, disproving: p.output });
    const pr = await pool.prove({ model: served.model, wasm: served.wasm, zkey: served.zkey, x: input.x, salt: input.salt, binding });
    metrics.proved++;
    metrics.addProving(pr.seconds);
    if (pr.output !== truth) throw new Error(`job ${j.jobId}: the proof's output ${pr.output} is not the witness's ${truth}`);
    await this.ledger.update(j, {
      state: "proved",
      model: served.name,
      leaseEnd: p.challenger !== undefined ? j.deadline : p.windowEnd,
      proof: { output: pr.output.toString(), bytes: pr.bytes, seconds: pr.seconds },
    });
    log("proof_done", { jobId: j.jobId, output: pr.output, seconds: pr.seconds, disproving: p.output });
    if (await this.ledger.servable(j)) await this.settlement.submit(j);
  }
}
