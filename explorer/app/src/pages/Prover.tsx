/** One prover: totals and its recent jobs. */
import { useQuery } from "@tanstack/react-query";
import { useParams } from "react-router";
import { api } from "../api";
import { amount, ago, duration } from "../format";
import { JobTable } from "../components/JobTable";
import { ErrorState, Loading } from "../components/states";

export default function Prover() {
  const { address = "" } = useParams();
  const q = useQuery({ queryKey: ["prover", address], queryFn: () => api.prover(address), retry: false, refetchInterval: 5_000 });
  return (
    <>
      <h1>
        Prover <code className="break">{address.toLowerCase()}</code>
      </h1>
      {q.isPending ? (
        <Loading what="the prover" />
      ) : q.error ? (
        <ErrorState error={q.error} what="prover" onRetry={() => void q.refetch()} />
      ) : (
        <>
          <dl className="inline-facts stats">
            <div>
              <dt>Jobs served</dt>
              <dd>{q.data.prover.served}</dd>
            </div>
            <div>
              <dt>Failures (claimed, not proven in time)</dt>
              <dd>{q.data.prover.failures}</dd>
            </div>
            <div>
              <dt>Median latency</dt>
              <dd>{duration(q.data.prover.p50LatencyS)}</dd>
            </div>
            <div>
              <dt>Earnings</dt>
              <dd>{amount(q.data.prover.earningsWei)}</dd>
            </div>
            <div>
              <dt>Stake (bond locked in claims)</dt>
              <dd>{amount(q.data.prover.bondLockedWei)}</dd>
            </div>
            <div>
              <dt>Last active</dt>
              <dd>{ago(q.data.prover.lastActiveAt)}</dd>
            </div>
          </dl>
          <h2>Recent jobs</h2>
          {q.data.recentJobs.length ? <JobTable jobs={q.data.recentJobs} caption="Jobs this prover claimed" /> : <p>No job yet.</p>}
        </>
      )}
    </>
  );
}
