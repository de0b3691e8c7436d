/**
 * What the handlers derive from events, as pure functions (no Ponder import), so the unit tests call them directly
 * (test/explorer/indexer.test.ts): a job's status after each event, stage latencies, a batch's gas share per job,
 * percentiles as Postgres' `percentile_cont` computes them, Ponder's checkpoint, and JSON without bigints.
 */

import type { JobStatusName, Stage } from "../../../scripts/formats/explorer-api";

export type { JobStatusName, Stage };
export const JOB_STATUSES: readonly JobStatusName[] = ["open", "claimed", "delivered", "posted", "challenged", "fulfilled", "reclaimed"];

/** The market events that move a job (docs/market-rules.md). */
export type JobEventName =
  | "JobOpened"
  | "JobClaimed"
  | "InputDelivered"
  | "ClaimReleased"
  | "ClaimExpired"
  | "ResultPosted"
  | "ResultChallenged"
  | "ChallengeAnswered"
  | "PosterSlashed"
  | "JobFulfilled"
  | "JobReclaimed";

/**
 * The status after `event` (`reopened`: PosterSlashed's flag). A settled job (fulfilled, reclaimed) never moves
 * again; events that do not change the status (a challenge answered, a poster slashed by a proof of another output,
 * whose JobFulfilled follows) keep it.
 */
export function nextStatus(current: JobStatusName | undefined, event: JobEventName, reopened = false): JobStatusName {
  if (current === "fulfilled" || current === "reclaimed") return current;
  switch (event) {
    case "JobOpened":
      return "open";
    case "JobClaimed":
      return "claimed";
    case "InputDelivered":
      return "delivered";
    case "ClaimReleased":
    case "ClaimExpired":
      // an expired claim is settled when the next claim, a submission or a reclaim comes: back to Open first
      return current === "posted" || current === "challenged" ? current : "open";
    case "ResultPosted":
      return "posted";
    case "ResultChallenged":
      return "challenged";
    case "PosterSlashed":
      return reopened ? "open" : (current ?? "open");
    case "ChallengeAnswered":
      return current ?? "challenged";
    case "JobFulfilled":
      return "fulfilled";
    case "JobReclaimed":
      return "reclaimed";
  }
}

/** The timeline stage an event is shown as. */
export function stageOf(
  event: JobEventName | "JobInputs" | "JobMadeOptimistic" | "ClaimantDesignated" | "CallbackFailed" | "JobFeeToken",
): Stage {
  const stages: Record<typeof event, Stage> = {
    JobOpened: "opened",
    JobInputs: "inputs",
    JobFeeToken: "feeToken",
    JobMadeOptimistic: "optimistic",
    ClaimantDesignated: "claimantDesignated",
    JobClaimed: "claimed",
    InputDelivered: "inputDelivered",
    ClaimReleased: "claimReleased",
    ClaimExpired: "claimExpired",
    ResultPosted: "posted",
    ResultChallenged: "challenged",
    ChallengeAnswered: "challengeAnswered",
    PosterSlashed: "posterSlashed",
    JobFulfilled: "fulfilled",
    JobReclaimed: "reclaimed",
    CallbackFailed: "callbackFailed",
  };
  return stages[event];
}

/** Seconds from `from` to `to`, or null when either is unknown (never negative: same-block stages are 0). */
export function seconds(from: number | null | undefined, to: number | null | undefined): number | null {
  if (from === null || from === undefined || to === null || to === undefined) return null;
  return Math.max(0, to - from);
}

/**
 * One job's share of its transaction's gas: a batch settlement (`submitResults`) emits one JobFulfilled per job in one
 * transaction, so each job is charged `gasUsed / jobs` (rounded to the nearest unit); a single settlement its whole gas.
 * The handlers count a transaction's settlements as its JobFulfilled events arrive (Ponder's receipts carry no logs)
 * and re-share after each one, so the last event of a batch leaves every job of it with its final share.
 * @throws Error when `jobs` is below 1 (a receipt without the event is not a settlement).
 */
export function gasShare(gasUsed: bigint, jobs: number): bigint {
  if (!Number.isInteger(jobs) || jobs < 1) throw new Error(`gasShare: jobs must be an integer >= 1, got ${jobs}`);
  const n = BigInt(jobs);
  return (gasUsed + n / 2n) / n;
}

/** `submitResults(uint256[],uint256[],bytes[])`: the batch settlement's selector. */
export const SUBMIT_RESULTS_SELECTOR = "0x7c64ea0f";

/** Whether a transaction's input is a batch settlement call. */
export function isBatchCall(input: string | undefined, selector = SUBMIT_RESULTS_SELECTOR): boolean {
  return (input ?? "").toLowerCase().startsWith(selector);
}

/**
 * The p-th percentile (0..1) of `values` with linear interpolation between closest ranks: what Postgres'
 * `percentile_cont(p) WITHIN GROUP (ORDER BY v)` returns, which the API computes in SQL. Null for no values.
 */
export function percentile(values: readonly number[], p: number): number | null {
  if (p < 0 || p > 1) throw new Error(`percentile: p must be in 0..1, got ${p}`);
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const rank = p * (s.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return s[lo] + (s[hi] - s[lo]) * (rank - lo);
}

/** A Ponder checkpoint string (`ponder/src/utils/checkpoint.ts`): block timestamp (10 digits), chain id (16), block number (16), ... */
export function decodeCheckpoint(checkpoint: string): { blockTimestamp: number; chainId: number; blockNumber: number } {
  if (!/^\d{75}$/.test(checkpoint)) throw new Error(`decodeCheckpoint: "${checkpoint.slice(0, 80)}" is not a 75-digit Ponder checkpoint`);
  return {
    blockTimestamp: Number(checkpoint.slice(0, 10)),
    chainId: Number(checkpoint.slice(10, 26)),
    blockNumber: Number(checkpoint.slice(26, 42)),
  };
}

/** A value made JSON-safe the API's way: bigints as decimal strings, addresses and hashes lower case, nested too. */
export function toJsonSafe(v: unknown): unknown {
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "string") return /^0x[0-9a-fA-F]*$/.test(v) ? v.toLowerCase() : v;
  if (Array.isArray(v)) return v.map(toJsonSafe);
  if (v instanceof Date) return Math.floor(v.getTime() / 1000);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toJsonSafe(x)]));
  return v;
}

/** Parses a positive integer query parameter with a bound. @returns the fallback when absent, null when malformed. */
export function queryInt(v: string | undefined, fallback: number, min: number, max: number): number | null {
  if (v === undefined || v === "") return fallback;
  if (!/^\d+$/.test(v)) return null;
  const n = Number(v);
  return n < min ? null : Math.min(n, max);
}
