/**
 * One job, live: its timeline from the indexer (polled every 250 ms until the job is final, so the page shows a chain
 * event at most ~1 s after the indexer has it), time and gas per stage, and the result decoded with the model card.
 * Used by the job page and by "Try it" right after the wallet opened the job.
 */
import { useEffect } from "react";
import { useQuery } from "@tanstack/react-query";
import { ApiError, FINAL_STATUSES, api, type JobDetail, type Stage, type TimelineEntry } from "../api";
import { amount, duration, gas, when } from "../format";
import { layoutOf, outputText, readCard } from "../card";
import { ErrorState, Loading } from "./states";
import { StatusBadge } from "./JobTable";
import { Hash, ModelLink, ProverLink } from "./links";

export const POLL_MS = 250;

const STAGE_TEXT: Record<Stage, string> = {
  opened: "Opened: the fee is escrowed",
  inputs: "Public inputs published",
  feeToken: "Fee paid in a token",
  optimistic: "Made optimistic (a result may be posted without a proof)",
  claimantDesignated: "Claimant designated",
  claimed: "Claimed by a prover (its bond locked)",
  inputDelivered: "Input delivered to the prover",
  claimReleased: "Claim released by the prover",
  claimExpired: "Claim expired: the prover's bond is slashed",
  posted: "Result posted without a proof (optimistic)",
  challenged: "Challenged",
  challengeAnswered: "Challenge answered with a proof",
  posterSlashed: "Poster slashed",
  fulfilled: "Proven and verified: the market's verifier accepted the proof",
  reclaimed: "Reclaimed: the deadline passed, the fee went back",
  callbackFailed: "The requester's callback failed (the result stands)",
};

function nextStep(d: JobDetail): string | undefined {
  switch (d.job.status) {
    case "open":
      return "Waiting for a prover to claim the job…";
    case "claimed":
    case "delivered":
      return "The prover is computing the witness and the proof…";
    case "posted":
      return "Waiting for the challenge window to pass (or a challenge)…";
    case "challenged":
      return "Waiting for the poster's proof…";
    default:
      return undefined;
  }
}

export function JobLive({ jobId, fresh = false }: { jobId: string; fresh?: boolean }) {
  // Load the SDK (decodeOutput) now, not when the result lands: evaluating its chunk then would delay that update.
  useEffect(() => void import("../sdk"), []);
  const q = useQuery({
    queryKey: ["job", jobId],
    queryFn: () => api.job(jobId),
    retry: false,
    refetchInterval: (query) => {
      const d = query.state.data;
      if (d && FINAL_STATUSES.includes(d.job.status)) return false;
      const e = query.state.error;
      if (e instanceof ApiError && e.kind === "not-found" && !fresh) return false;
      return POLL_MS;
    },
  });
  if (q.data) return <JobView d={q.data} />;
  if (q.error instanceof ApiError && q.error.kind === "not-found" && fresh)
    return (
      <p className="state loading" role="status">
        Job #{jobId} is on chain; waiting for the indexer to see its block…
      </p>
    );
  if (q.error) return <ErrorState error={q.error} what="job" onRetry={() => void q.refetch()} />;
  return <Loading what={`job #${jobId}`} />;
}

function JobView({ d }: { d: JobDetail }) {
  const j = d.job;
  const next = nextStep(d);
  return (
    <div className="job">
      <p className="status-line" role="status" aria-live="polite">
        Job #{j.jobId} is <StatusBadge status={j.status} />
        {next && <span className="muted"> {next}</span>}
      </p>
      <dl className="facts">
        <dt>Model</dt>
        <dd>
          <ModelLink id={j.modelId} name={`model ${j.modelId}, version ${j.version}`} />
        </dd>
        <dt>Requester</dt>
        <dd>
          <Hash value={j.requester} />
        </dd>
        <dt>Prover</dt>
        <dd>
          <ProverLink address={j.prover} />
        </dd>
        <dt>Fee</dt>
        <dd>{amount(j.feeWei, j.feeToken)}</dd>
        <dt>Mode</dt>
        <dd>{j.optimistic ? "optimistic (result final after a challenge window unless disproven)" : "proof required"}</dd>
        <dt>Latency</dt>
        <dd>{duration(j.latencyS)}</dd>
      </dl>
      <Timeline entries={d.timeline} />
      <Result d={d} />
    </div>
  );
}

export function Timeline({ entries }: { entries: TimelineEntry[] }) {
  return (
    <section aria-labelledby="timeline-h">
      <h2 id="timeline-h">Timeline</h2>
      <ol className="timeline" data-testid="timeline">
        {entries.map((e, i) => (
          <li key={`${e.stage}-${e.txHash}-${i}`} className={`stage stage-${e.stage}`} data-stage={e.stage}>
            <span className="stage-name">{STAGE_TEXT[e.stage] ?? e.stage}</span>
            <span className="stage-meta">
              {when(e.at)}
              {i > 0 && <> · +{duration(e.at - entries[i - 1].at)}</>}
              {e.gasUsed !== null && (
                <>
                  {" "}
                  · gas {gas(e.gasUsed)}
                  {e.batched && " (batched)"}
                </>
              )}{" "}
              · block {e.block} · tx <Hash value={e.txHash} />
            </span>
          </li>
        ))}
      </ol>
    </section>
  );
}

function Result({ d }: { d: JobDetail }) {
  const j = d.job;
  const output = j.output;
  // the card of the job's version, and the SDK's decodeOutput (loaded on demand with the SDK)
  const card = useQuery({
    queryKey: ["decoded", j.modelId, j.version, output],
    queryFn: async () => {
      const [res, { decodeOutput }] = await Promise.all([api.card(j.modelId, j.version), import("../sdk")]);
      const c = readCard(res.card);
      if (!c.ok) throw new Error(c.error);
      const r = decodeOutput(layoutOf(c.card, res.manifest), BigInt(output!), c.card);
      if (r.class !== undefined) return `class ${r.class}${r.label ? `: ${r.label}` : ""}`;
      return (r.values ?? []).map((v, i) => outputText(c.card, i, v)).join(", ");
    },
    enabled: output !== null,
    staleTime: Infinity,
    retry: false,
  });
  if (output === null) return null;
  const decoded = card.data;
  const problem = card.error ? (card.error as Error).message : undefined;
  return (
    <section aria-labelledby="result-h" className="result">
      <h2 id="result-h">Result</h2>
      {decoded ? (
        <p className="decoded" data-testid="decoded">
          {decoded}
        </p>
      ) : card.isLoading ? (
        <Loading what="the model card to decode the result" />
      ) : (
        <p>The model card could not be read ({problem}); the raw output is below.</p>
      )}
      <p className="muted">
        Public signal 0 (as the chain recorded it): <code>{j.output}</code>
      </p>
    </section>
  );
}
