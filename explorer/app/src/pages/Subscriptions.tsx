/** Subscriptions (recurring inferences) and one subscription with its runs. */
import { useQuery } from "@tanstack/react-query";
import { Link, useParams } from "react-router";
import { api, type SubscriptionRow } from "../api";
import { amount, duration, when } from "../format";
import { StatusBadge } from "../components/JobTable";
import { Hash, JobLink, ModelLink } from "../components/links";
import { Empty, ErrorState, Loading } from "../components/states";

const state = (s: SubscriptionRow) => (s.cancelled ? "cancelled" : s.nextRun >= s.runs ? "done" : "active");

export function Subscriptions() {
  const q = useQuery({ queryKey: ["subscriptions"], queryFn: api.subscriptions, refetchInterval: 5_000 });
  return (
    <>
      <h1>Subscriptions</h1>
      <p className="lead">Recurring inferences: a model run every interval for a fee per run.</p>
      {q.isPending ? (
        <Loading what="subscriptions" />
      ) : q.error ? (
        <ErrorState error={q.error} what="subscriptions" onRetry={() => void q.refetch()} />
      ) : q.data.items.length === 0 ? (
        <Empty title="No subscription yet">
          Create one with the SDK's <code>SubscriptionClient</code> (docs/consumers.md) or <code>npm run demo:subscription</code>.
        </Empty>
      ) : (
        <div className="table-wrap">
          <table>
            <caption className="sr-only">Subscriptions</caption>
            <thead>
              <tr>
                <th scope="col">Subscription</th>
                <th scope="col">Model</th>
                <th scope="col">Runs</th>
                <th scope="col">Every</th>
                <th scope="col" className="wide">
                  Fee per run
                </th>
                <th scope="col">State</th>
              </tr>
            </thead>
            <tbody>
              {q.data.items.map((s) => (
                <tr key={s.subscriptionId}>
                  <td>
                    <Link to={`/subscriptions/${s.subscriptionId}`}>#{s.subscriptionId}</Link>
                  </td>
                  <td>
                    <ModelLink id={s.modelId} name={`${s.modelId} v${s.version}`} />
                  </td>
                  <td>
                    {s.nextRun}/{s.runs}
                  </td>
                  <td>{duration(s.intervalS)}</td>
                  <td className="wide">{amount(s.feePerRunWei, s.feeToken)}</td>
                  <td>
                    <StatusBadge status={state(s)} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

export function Subscription() {
  const { id = "" } = useParams();
  const q = useQuery({ queryKey: ["subscription", id], queryFn: () => api.subscription(id), retry: false, refetchInterval: 2_000 });
  return (
    <>
      <h1>Subscription #{id}</h1>
      {q.isPending ? (
        <Loading what="the subscription" />
      ) : q.error ? (
        <ErrorState error={q.error} what="subscription" onRetry={() => void q.refetch()} />
      ) : (
        <>
          <dl className="facts">
            <dt>Owner</dt>
            <dd>
              <Hash value={q.data.subscription.owner} />
            </dd>
            <dt>Model</dt>
            <dd>
              <ModelLink
                id={q.data.subscription.modelId}
                name={`model ${q.data.subscription.modelId}, version ${q.data.subscription.version}`}
              />
            </dd>
            <dt>Schedule</dt>
            <dd>
              {q.data.subscription.runs} runs every {duration(q.data.subscription.intervalS)} from {when(q.data.subscription.start)}
            </dd>
            <dt>Per run</dt>
            <dd>
              fee {amount(q.data.subscription.feePerRunWei, q.data.subscription.feeToken)}, tip to the opener{" "}
              {amount(q.data.subscription.tipPerRunWei, q.data.subscription.feeToken)}
              {q.data.subscription.optimistic ? ", optimistic" : ""}
            </dd>
            <dt>State</dt>
            <dd>
              <StatusBadge status={state(q.data.subscription)} />
            </dd>
          </dl>
          <h2>Runs</h2>
          {q.data.runs.length === 0 ? (
            <p>No run opened yet: the first opens at {when(q.data.subscription.start)}.</p>
          ) : (
            <div className="table-wrap">
              <table>
                <caption className="sr-only">Runs</caption>
                <thead>
                  <tr>
                    <th scope="col">Run</th>
                    <th scope="col">Job</th>
                    <th scope="col">Status</th>
                    <th scope="col">Opened</th>
                    <th scope="col" className="wide">
                      Took
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {q.data.runs.map((r) => (
                    <tr key={r.run}>
                      <td>{r.run}</td>
                      <td>{r.jobId ? <JobLink id={r.jobId} /> : "–"}</td>
                      <td>
                        <StatusBadge status={r.status} />
                      </td>
                      <td>{when(r.openedAt)}</td>
                      <td className="wide">{r.fulfilledAt ? duration(r.fulfilledAt - r.openedAt) : "–"}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </>
      )}
    </>
  );
}
