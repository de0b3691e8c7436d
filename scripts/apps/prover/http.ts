/**
 * A prover node's HTTP status endpoint (docs/prover.md, "Metrics and health"), on PROVER_HTTP_HOST:PROVER_HTTP_PORT:
 *
 *   GET /metrics   Prometheus text exposition format 0.0.4: jobs by state, a proving-time histogram, proofs, submissions,
 *                  fulfilments, gas used and spent, earnings, the account's balance and stake, the chain head and the
 *                  last scanned block (lag behind head), whether the RPC endpoint answered the scrape; optimistic
 *                  results posted, finalised, challenges answered, results checked and disproved, and their earnings
 *   GET /health    200 `{"status":"ok",...}` while the node's loop completes ticks; 503 with the reason otherwise
 *                  (not started, stopping, or no successful tick for a while, with the last error); both say the
 *                  optimistic policy (PROVER_OPTIMISTIC, PROVER_WATCH)
 *
 * Everything else is 404. The server only reads the node; it never changes its state.
 */
import * as http from "http";
import type { AddressInfo } from "net";
import { PROVING_BUCKETS } from "./metrics";
import type { MetricsSummary } from "./metrics";
import type { JobState } from "./store";

export const JOB_STATES: readonly JobState[] = ["new", "waiting", "claimed", "proved", "posted", "done", "lost", "skipped", "failed"];

/** What /metrics shows: read from the node at each scrape. */
export interface StatusSnapshot {
  address: string;
  summary: MetricsSummary;
  histogram: { counts: readonly number[]; count: number; sum: number };
  jobsByState: Record<JobState, number>;
  /** Undefined when the RPC endpoint did not answer this scrape. */
  chain?: { head: number; balanceWei: bigint; stakeAvailableWei: bigint; stakeLockedWei: bigint };
  /** The last block whose events the node has recorded. */
  scannedBlock?: number;
  /** Results waiting in a batch queue. */
  queued: number;
  /** The optimistic policy: post results of claimed optimistic jobs without a proof, and watch others' posts. */
  optimistic: { post: boolean; watch: boolean };
  /** Subscriptions whose due runs this node opens (PROVER_SUBSCRIPTIONS_ADDRESS set), else undefined. */
  subscriptionsWatched?: number;
  /** The IPFS peers this node keeps (PROVER_IPFS_PEERS): connected or not, failed redials. */
  ipfsPeers?: { addr: string; connected: boolean; failures: number; drops: number }[];
}

export interface HealthReport {
  ok: boolean;
  [k: string]: unknown;
}

/** One metric family: HELP, TYPE, samples. */
function family(name: string, type: "counter" | "gauge", help: string, samples: [string, number | bigint][]): string {
  const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`];
  for (const [labels, v] of samples) lines.push(`${name}${labels} ${v.toString()}`);
  return lines.join("\n");
}

const label = (k: string, v: string): string => `{${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"}`;

/** The Prometheus text of a snapshot. */
export function prometheusText(s: StatusSnapshot): string {
  const m = s.summary;
  const h = s.histogram;
  const out = [
    family(
      "zkml_prover_jobs",
      "gauge",
      "Jobs this node knows, by state (docs/prover.md, the pipeline of one job).",
      JOB_STATES.map((st) => [label("state", st), s.jobsByState[st] ?? 0]),
    ),
    [
      "# HELP zkml_prover_proving_seconds Time to prove one job (witness + Groth16), in a worker thread.",
      "# TYPE zkml_prover_proving_seconds histogram",
      ...PROVING_BUCKETS.map((le, i) => `zkml_prover_proving_seconds_bucket${label("le", String(le))} ${h.counts[i]}`),
      `zkml_prover_proving_seconds_bucket${label("le", "+Inf")} ${h.count}`,
      `zkml_prover_proving_seconds_sum ${h.sum}`,
      `zkml_prover_proving_seconds_count ${h.count}`,
    ].join("\n"),
    family("zkml_prover_jobs_seen_total", "counter", "JobOpened events recorded.", [["", m.jobsSeen]]),
    family("zkml_prover_claims_total", "counter", "Claims this node made.", [["", m.claimed]]),
    family("zkml_prover_proofs_total", "counter", "Proofs this node computed.", [["", m.proved]]),
    family("zkml_prover_submissions_total", "counter", "Result transactions this node mined (one per batch).", [["", m.submitted]]),
    family("zkml_prover_fulfilled_total", "counter", "Jobs fulfilled by this node.", [["", m.fulfilled]]),
    family("zkml_prover_lost_total", "counter", "Jobs fulfilled or reclaimed by others after this node saw them.", [["", m.lostToOthers]]),
    family("zkml_prover_skipped_total", "counter", "Jobs skipped (policy, model, input), each with a logged reason.", [["", m.skipped]]),
    family("zkml_prover_failed_total", "counter", "Jobs this node tried and could not serve.", [["", m.failed]]),
    family("zkml_prover_retried_total", "counter", "Transient failures put off for a retry (bundle unavailable, crashed proof).", [
      ["", m.retried],
    ]),
    family("zkml_prover_gas_used_total", "counter", "Gas of every mined transaction of this node (reverted ones included).", [
      ["", m.gasUsed],
    ]),
    family("zkml_prover_gas_spent_wei_total", "counter", "Wei spent on gas.", [["", m.gasSpentWei]]),
    family("zkml_prover_earnings_wei_total", "counter", "Fees and bounties paid to this node (JobFulfilled).", [["", m.earningsWei]]),
    family("zkml_prover_rpc_retries_total", "counter", "RPC requests retried after a transport failure (timeout, reset, 429, 5xx).", [
      ["", m.rpcRetries],
    ]),
    family("zkml_prover_reorgs_total", "counter", "Chain reorganisations detected under the scanned blocks.", [["", m.reorgs]]),
    family("zkml_prover_subscription_runs_opened_total", "counter", "Subscription runs this node opened (openRun opened the job).", [
      ["", m.runsOpened],
    ]),
    family(
      "zkml_prover_subscription_runs_skipped_total",
      "counter",
      "Openings of this node that ended in RunSkipped (tip still credited).",
      [["", m.runsSkipped]],
    ),
    family(
      "zkml_prover_subscription_open_races_lost_total",
      "counter",
      "Openings lost to another opener (RunNotDue): logged, not retried.",
      [["", m.openRacesLost]],
    ),
    family("zkml_prover_subscription_runs_declined_total", "counter", "Due runs not opened: tip below the node's minimum.", [
      ["", m.runsDeclined],
    ]),
    family("zkml_prover_optimistic_posted_total", "counter", "Optimistic results this node posted without a proof.", [
      ["", m.optimisticPosted],
    ]),
    family(
      "zkml_prover_optimistic_finalised_total",
      "counter",
      "Results this node posted that were finalised after their challenge window and paid to it.",
      [["", m.optimisticFinalised]],
    ),
    family(
      "zkml_prover_optimistic_challenges_answered_total",
      "counter",
      "Bond challenges against this node's posted results answered with a proof (challenge bond won).",
      [["", m.challengesAnswered]],
    ),
    family("zkml_prover_optimistic_results_checked_total", "counter", "Results posted by others that this node re-ran as a watcher.", [
      ["", m.resultsChecked],
    ]),
    family(
      "zkml_prover_optimistic_challenges_made_total",
      "counter",
      "Wrong results posted by others that this node disproved with a proof of the true output.",
      [["", m.challengesMade]],
    ),
    family(
      "zkml_prover_optimistic_earnings_wei_total",
      "counter",
      "Wei credited by optimistic results: own posts finalised, challenges answered (bond included), wrong results disproved.",
      (["finalised", "answered", "challenges"] as const).map((k) => [label("source", k), m.optimisticEarningsWei[k]]),
    ),
    family(
      "zkml_prover_optimistic_post",
      "gauge",
      "1 if this node posts claimed optimistic jobs without a proof (PROVER_OPTIMISTIC=post).",
      [["", s.optimistic.post ? 1 : 0]],
    ),
    family("zkml_prover_optimistic_watch", "gauge", "1 if this node watches and disproves others' posted results (PROVER_WATCH=on).", [
      ["", s.optimistic.watch ? 1 : 0],
    ]),
    family("zkml_prover_batch_queued", "gauge", "Proved results waiting for their batch.", [["", s.queued]]),
    ...(s.subscriptionsWatched !== undefined
      ? [
          family("zkml_prover_subscriptions_watched", "gauge", "Live subscriptions whose due runs this node opens.", [
            ["", s.subscriptionsWatched],
          ]),
        ]
      : []),
    family("zkml_prover_rpc_up", "gauge", "1 if the RPC endpoint answered this scrape.", [["", s.chain ? 1 : 0]]),
  ];
  if (s.ipfsPeers?.length)
    out.push(
      family(
        "zkml_prover_ipfs_peer_connected",
        "gauge",
        "1 if this configured IPFS peer (PROVER_IPFS_PEERS) is connected.",
        s.ipfsPeers.map((p) => [label("peer", p.addr), p.connected ? 1 : 0]),
      ),
      family(
        "zkml_prover_ipfs_peer_drops_total",
        "counter",
        "Times the connection to this configured IPFS peer was seen dropped (it is redialled with backoff).",
        s.ipfsPeers.map((p) => [label("peer", p.addr), p.drops]),
      ),
    );
  if (s.scannedBlock !== undefined)
    out.push(family("zkml_prover_scanned_block", "gauge", "Last block whose events the node has recorded.", [["", s.scannedBlock]]));
  if (s.chain) {
    out.push(
      family("zkml_prover_head_block", "gauge", "The chain head, as the RPC endpoint reports it.", [["", s.chain.head]]),
      family("zkml_prover_head_lag_blocks", "gauge", "Blocks between the head and the last scanned block.", [
        ["", Math.max(0, s.chain.head - (s.scannedBlock ?? -1))],
      ]),
      family("zkml_prover_balance_wei", "gauge", `Balance of the node's account ${s.address}.`, [["", s.chain.balanceWei]]),
      family("zkml_prover_stake_available_wei", "gauge", "Stake deposited in the market and free for claim bonds.", [
        ["", s.chain.stakeAvailableWei],
      ]),
      family("zkml_prover_stake_locked_wei", "gauge", "Stake locked as bonds of live claims.", [["", s.chain.stakeLockedWei]]),
    );
  }
  return out.join("\n") + "\n";
}

/**
 * Serves /metrics and /health on `host:port` (port 0: any free port).
 * @returns The base URL and a close function.
 */
export async function startStatusServer(
  host: string,
  port: number,
  source: { snapshot(): Promise<StatusSnapshot>; health(): HealthReport },
): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const url = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    if (url === "/metrics") {
      source.snapshot().then(
        (s) => res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" }).end(prometheusText(s)),
        (e: unknown) => res.writeHead(500, { "content-type": "text/plain" }).end(`metrics failed: ${(e as Error).message}\n`),
      );
    } else if (url === "/health") {
      const h = source.health();
      res
        .writeHead(h.ok ? 200 : 503, { "content-type": "application/json" })
        .end(JSON.stringify({ status: h.ok ? "ok" : "unhealthy", ...h }));
    } else res.writeHead(404, { "content-type": "text/plain" }).end("GET /metrics or /health\n");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (e: NodeJS.ErrnoException) =>
      reject(new Error(`PROVER_HTTP_PORT ${port}: cannot listen on ${host}:${port} (${e.code ?? e.message}); choose a free port`)),
    );
    server.listen(port, host, resolve);
  });
  const a = server.address() as AddressInfo;
  return {
    url: `http://${a.family === "IPv6" ? `[${a.address}]` : a.address}:${a.port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
