/** Counters and timings of one prover node; `summary()` is what the node logs as `metrics`. */
export interface MetricsSummary {
  jobsSeen: number;
  skipped: number;
  claimed: number;
  proved: number;
  submitted: number;
  fulfilled: number;
  lostToOthers: number;
  /** Jobs already fulfilled or reclaimed on chain when the node started (catch-up): never this node's to win. */
  settledBeforeStart: number;
  failed: number;
  /** Transient failures put off for a retry (a bundle unavailable, a crashed proof). */
  retried: number;
  provingMeanSeconds: number;
  provingP95Seconds: number;
  /** Sum of gasUsed over every receipt of this node's transactions (reverted ones included). */
  gasUsed: bigint;
  /** Sum of gasUsed * effectiveGasPrice (wei). */
  gasSpentWei: bigint;
  /** Fees credited to this node by JobFulfilled (wei). */
  earningsWei: bigint;
  rpcRetries: number;
  reorgs: number;
  /** Subscription runs this node opened whose job the market opened (docs/prover.md, "Subscriptions"). */
  runsOpened: number;
  /** Openings of this node that ended in RunSkipped (the consumer's view or the market refused; tip still credited). */
  runsSkipped: number;
  /** Openings lost to another opener (RunNotDue at estimation or on chain): logged, never retried. */
  openRacesLost: number;
  /** Due runs this node did not open because their tip is below its minimum (PROVER_MIN_TIP_WEI or the gas cost). */
  runsDeclined: number;
  /** Optimistic results this node posted without a proof (docs/prover.md, "Optimistic results"). */
  optimisticPosted: number;
  /** Of those, finalised after their challenge window (by this node or anyone) and paid to this node. */
  optimisticFinalised: number;
  /** Bond challenges against this node's posted results that it answered with a proof (the challenge bond won). */
  challengesAnswered: number;
  /** Results posted by others that this node re-ran (witness only) as a watcher. */
  resultsChecked: number;
  /** Wrong results posted by others that this node disproved with a proof of the true output. */
  challengesMade: number;
  /** Wei credited by those: fees and bounties of finalised posts, answered challenges (with the bond won), disproofs. */
  optimisticEarningsWei: { finalised: bigint; answered: bigint; challenges: bigint };
}

/** The q-quantile (0..1) of `xs` by nearest rank; 0 for an empty list. */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

/** Upper bounds (seconds) of the proving-time histogram's buckets; +Inf is implied. */
export const PROVING_BUCKETS = [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600] as const;

/** Proving times kept for the mean and p95 of `summary()`: the most recent ones (bounded memory in a long run). */
const WINDOW = 1024;

export class Metrics {
  jobsSeen = 0;
  skipped = 0;
  claimed = 0;
  proved = 0;
  submitted = 0;
  fulfilled = 0;
  lostToOthers = 0;
  settledBeforeStart = 0;
  failed = 0;
  retried = 0;
  gasUsed = 0n;
  gasSpentWei = 0n;
  earningsWei = 0n;
  /** RPC requests retried after a transport failure (scripts/chain/rpc.ts). */
  rpcRetries = 0;
  /** Chain reorganisations detected (scripts/apps/prover/watcher.ts, checkReorg). */
  reorgs = 0;
  /** Subscription openings (scripts/apps/prover/subscriptions.ts): jobs opened, skips, races lost, runs declined. */
  runsOpened = 0;
  runsSkipped = 0;
  openRacesLost = 0;
  runsDeclined = 0;
  /** Optimistic results (scripts/apps/prover/optimistic.ts): posted, finalised, challenges answered, results checked and disproved. */
  optimisticPosted = 0;
  optimisticFinalised = 0;
  challengesAnswered = 0;
  resultsChecked = 0;
  challengesMade = 0;
  readonly optimisticEarningsWei = { finalised: 0n, answered: 0n, challenges: 0n };
  /** The last WINDOW proving times (seconds). */
  readonly provingSeconds: number[] = [];
  /** Cumulative histogram of every proving time: counts per PROVING_BUCKETS bound (le), then +Inf; and the sum. */
  readonly provingHistogram = { counts: PROVING_BUCKETS.map(() => 0), count: 0, sum: 0 };

  /** Records one proof's time. */
  addProving(seconds: number): void {
    this.provingSeconds.push(seconds);
    if (this.provingSeconds.length > WINDOW) this.provingSeconds.shift();
    const h = this.provingHistogram;
    PROVING_BUCKETS.forEach((le, i) => {
      if (seconds <= le) h.counts[i]++;
    });
    h.count++;
    h.sum += seconds;
  }

  addReceipt(r: { gasUsed: bigint; gasPrice?: bigint | null }): void {
    this.gasUsed += r.gasUsed;
    this.gasSpentWei += r.gasUsed * (r.gasPrice ?? 0n);
  }

  summary(): MetricsSummary {
    const p = this.provingSeconds;
    const mean = p.length ? p.reduce((a, b) => a + b, 0) / p.length : 0;
    return {
      jobsSeen: this.jobsSeen,
      skipped: this.skipped,
      claimed: this.claimed,
      proved: this.proved,
      submitted: this.submitted,
      fulfilled: this.fulfilled,
      lostToOthers: this.lostToOthers,
      settledBeforeStart: this.settledBeforeStart,
      failed: this.failed,
      retried: this.retried,
      provingMeanSeconds: Number(mean.toFixed(3)),
      provingP95Seconds: Number(quantile(p, 0.95).toFixed(3)),
      gasUsed: this.gasUsed,
      gasSpentWei: this.gasSpentWei,
      earningsWei: this.earningsWei,
      rpcRetries: this.rpcRetries,
      reorgs: this.reorgs,
      runsOpened: this.runsOpened,
      runsSkipped: this.runsSkipped,
      openRacesLost: this.openRacesLost,
      runsDeclined: this.runsDeclined,
      optimisticPosted: this.optimisticPosted,
      optimisticFinalised: this.optimisticFinalised,
      challengesAnswered: this.challengesAnswered,
      resultsChecked: this.resultsChecked,
      challengesMade: this.challengesMade,
      optimisticEarningsWei: { ...this.optimisticEarningsWei },
    };
  }
}
