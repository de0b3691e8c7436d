/**
 * A job's record and the chain's word on it: the transitions of the job state machine every other part of the node
 * goes through (`update`, `finish`, `retryLater`, each stored before the next step), and the on-chain checks that end
 * a job or keep it servable (`chainJob`, `settledOnChain`, `servable`).
 */
import { type Log, getAddress } from "ethers";
import type { InferenceJobs } from "../../../typechain-types";
import { revertData } from "../../chain/errors";
import type { NodeContext } from "./context";
import type { JobRecord } from "./store";

export const JOB_STATUS = ["None", "Open", "Claimed", "Fulfilled", "Reclaimed", "Posted"] as const;
/** The zero address (no claimant, no poster, no challenger). */
export const ZERO = "0x0000000000000000000000000000000000000000";
/** A job id with its epoch, as the node's transaction keys use it (`42`, or `42#1` after a reorganisation). */
export const jobKey = (j: JobRecord): string => (j.epoch ? `${j.jobId}#${j.epoch}` : j.jobId);
/** Whether the chain's job is the one the node recorded (same model version, commitment and deadline). */
export function sameJob(
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

/** What one receipt credited to this node, from the market's events. */
export interface Credits {
  /** Fee + bounty per job (JobFulfilled naming this node). */
  fulfilled: Map<string, bigint>;
  /** Challenge bonds won by answering (ChallengeAnswered naming this node as poster), per job. */
  answered: Map<string, bigint>;
  /** Bond rewards (PosterSlashed naming this node as rewarded), per job. */
  rewards: Map<string, bigint>;
}

/** What a receipt of this node credited to it, from the market's events in its logs. */
export function creditsOf(ctx: NodeContext, logs: readonly Log[]): Credits {
  const out: Credits = { fulfilled: new Map(), answered: new Map(), rewards: new Map() };
  const add = (m: Map<string, bigint>, id: unknown, v: bigint): void => {
    const k = (id as bigint).toString();
    m.set(k, (m.get(k) ?? 0n) + v);
  };
  const me = ctx.address;
  for (const l of logs) {
    if (l.address.toLowerCase() !== ctx.cfg.jobsAddress.toLowerCase()) continue;
    const p = ctx.jobs.interface.parseLog(l);
    if (p?.name === "JobFulfilled" && getAddress(p.args[1] as string) === me)
      add(out.fulfilled, p.args[0], (p.args[3] as bigint) + (p.args[4] as bigint));
    else if (p?.name === "ChallengeAnswered" && getAddress(p.args[1] as string) === me) add(out.answered, p.args[0], p.args[3] as bigint);
    else if (p?.name === "PosterSlashed" && getAddress(p.args[2] as string) === me) add(out.rewards, p.args[0], p.args[3] as bigint);
  }
  return out;
}

/** How a job ended on chain for this node, from `settledOnChain`. */
export interface Settled {
  state: "done" | "lost";
  reason: string;
  beforeStart?: boolean;
  at?: { block: number; hash: string };
}

export class JobLedger {
  constructor(private readonly ctx: NodeContext) {}

  async update(j: JobRecord, patch: Partial<JobRecord>): Promise<void> {
    Object.assign(j, patch);
    await this.ctx.store.putJob(j);
  }

  /**
   * Ends a job. A job settled on chain before this node started (`beforeStart`) is counted as `settledBeforeStart`,
   * not as lost to others: the node never had a chance at it.
   */
  async finish(
    j: JobRecord,
    state: "done" | "lost" | "skipped" | "failed",
    reason?: string,
    beforeStart = false,
    at?: { block: number; hash: string },
  ): Promise<void> {
    const { metrics } = this.ctx;
    const wasOurs = j.state === "claimed" || j.state === "proved" || j.state === "posted";
    await this.update(j, { state, reason, ...(at ? { settledBlock: at.block, settledHash: at.hash } : {}) });
    if (at) this.ctx.unconfirmed.add(j.jobId);
    if (state === "skipped") metrics.skipped++;
    if (state === "failed") metrics.failed++;
    if (state === "lost" && beforeStart && !wasOurs) metrics.settledBeforeStart++;
    else if (state === "lost") metrics.lostToOthers++;
    this.ctx.log(`job_${state}`, { jobId: j.jobId, reason, wasOurs, ...(beforeStart && !wasOurs ? { settledBeforeStart: true } : {}) });
  }

  /**
   * A transient failure (issue 28 point 2): the job stays unfinished and is looked at again after a backoff (`delayMs`,
   * or 15 s doubling per failure up to 10 min), until its deadline; a restarted node does the same. Only permanent
   * reasons (a refused bundle, policy, a bad input) end a job as skipped.
   */
  async retryLater(j: JobRecord, reason: string, delayMs?: number): Promise<void> {
    const retries = (j.retries ?? 0) + 1;
    const wait = Math.max(1_000, delayMs ?? Math.min(600_000, 15_000 * 2 ** (retries - 1)));
    if (this.ctx.chainTime + Math.ceil(wait / 1000) > j.deadline)
      return this.finish(j, "skipped", `${reason}; no time left to try again before the deadline`);
    await this.update(j, { retryAt: Date.now() + wait, retries, reason });
    this.ctx.metrics.retried++;
    this.ctx.log("job_retry", { jobId: j.jobId, state: j.state, reason, retries, inMs: wait });
  }

  /** The chain's job `id`, or undefined when there is none (getJob reverts with JobNotFound). */
  async chainJob(id: string): Promise<Awaited<ReturnType<InferenceJobs["getJob"]>> | undefined> {
    try {
      return await this.ctx.jobs.getJob(id);
    } catch (e) {
      if (this.ctx.jobs.interface.parseError(revertData(e) ?? "0x")?.name === "JobNotFound") return undefined;
      throw e;
    }
  }

  /** On-chain state that ends a job for us, or undefined if it is still servable. */
  async settledOnChain(j: JobRecord): Promise<Settled | undefined> {
    const { jobs, address, startBlock } = this.ctx;
    const job = await this.chainJob(j.jobId);
    if (!job) return { state: "lost", reason: "job not found (a reorganisation dropped it)" };
    const status = JOB_STATUS[Number(job.status)];
    if (status !== "None" && !sameJob(j, job))
      return { state: "lost", reason: "the chain's job under this id is another one (a reorganisation replaced it)" };
    if (status === "Fulfilled") {
      const logs = await jobs.queryFilter(jobs.filters.JobFulfilled(j.jobId), j.blockNumber);
      const by = logs.length ? getAddress(logs[0].args.prover) : "unknown";
      const beforeStart = logs.length > 0 && logs[0].blockNumber <= startBlock;
      const at = logs.length ? { block: logs[0].blockNumber, hash: logs[0].blockHash } : undefined;
      return by === address
        ? { state: "done", reason: "fulfilled by this node", at }
        : { state: "lost", reason: `fulfilled by ${by}`, beforeStart, at };
    }
    if (status === "Reclaimed") {
      const logs = await jobs.queryFilter(jobs.filters.JobReclaimed(j.jobId), j.blockNumber);
      return {
        state: "lost",
        reason: "reclaimed by the requester",
        beforeStart: logs.length > 0 && logs[0].blockNumber <= startBlock,
        at: logs.length ? { block: logs[0].blockNumber, hash: logs[0].blockHash } : undefined,
      };
    }
    if (status === "None") return { state: "lost", reason: "job not found" };
    // a result we posted in time is owed however late it is finalised (docs/market-rules.md, "Optimistic results")
    const ownPost = status === "Posted" && j.posted?.poster === address;
    if (this.ctx.chainTime > j.deadline && !ownPost) return { state: "lost", reason: "deadline passed" };
    return undefined;
  }

  /**
   * Whether a proved job can still be submitted by us: not settled on chain (else finished here) and no live claim of
   * another prover (else back to waiting).
   */
  async servable(j: JobRecord): Promise<boolean> {
    const again = await this.settledOnChain(j);
    if (again) {
      await this.finish(j, again.state, again.reason, false, again.at);
      return false;
    }
    const c = await this.ctx.jobs.claimOf(j.jobId);
    if (c.claimant === ZERO || getAddress(c.claimant) === this.ctx.address) return true;
    // A result posted by another address (its claim record is the poster's, its leaseEnd the window's end): a proof of
    // another output is taken while the window is open, and until the deadline once a bond challenge is pending.
    const st = await this.ctx.jobs.optimisticStateOf(j.jobId);
    if (st.poster !== ZERO) {
      if (st.challenger !== ZERO || this.ctx.chainTime <= Number(st.windowEnd)) return true;
      await this.finish(j, "lost", `the challenge window of the result posted by ${st.poster} closed at ${st.windowEnd}`);
      return false;
    }
    if (this.ctx.chainTime <= Number(c.leaseEnd)) {
      await this.update(j, { state: "waiting", leaseEnd: Number(c.leaseEnd), reason: `claimed by ${c.claimant} while we held a proof` });
      return false;
    }
    return true;
  }
}
