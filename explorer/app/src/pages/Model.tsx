/** A model: its card, versions, price and latency from real jobs, recent jobs, and "Try it". */
import { lazy, Suspense } from "react";
import { useQuery } from "@tanstack/react-query";
import { useParams } from "react-router";
import { api } from "../api";
import { amount, duration, gas, when } from "../format";
import { readCard } from "../card";
import { CardView } from "../components/CardView";
import { JobTable } from "../components/JobTable";
import { Hash } from "../components/links";
import { Empty, ErrorState, Loading } from "../components/states";

const TryIt = lazy(() => import("../components/TryIt"));

export default function Model() {
  const { id = "" } = useParams();
  const q = useQuery({ queryKey: ["model", id], queryFn: () => api.model(id), retry: false, refetchInterval: 10_000 });
  if (q.isPending) return <Loading what={`model ${id}`} />;
  if (q.error) return <ErrorState error={q.error} what="model" onRetry={() => void q.refetch()} />;
  const { model: m, versions, stats: s, recentJobs } = q.data;
  const card = q.data.card ? readCard(q.data.card) : undefined;
  return (
    <>
      <h1>
        {m.name || `model ${m.modelId}`} {m.deprecated && <span className="badge badge-reclaimed">deprecated</span>}
      </h1>
      <p className="lead">
        Model #{m.modelId} · owner <Hash value={m.owner} /> · current version {m.currentVersion}
      </p>
      {card?.ok ? (
        <CardView card={card.card} extras={card.extras} proveP50S={s.stageP50S.prove} />
      ) : (
        <div className="state error" role="alert">
          <h2>The model card could not be read</h2>
          <p>
            {card?.ok === false ? card.error : (q.data.cardError ?? "The indexer has no card for this version yet.")} The statistics below
            come from the chain and do not need it; opening a job from raw inputs does.
          </p>
        </div>
      )}
      <section aria-labelledby="stats-h">
        <h2 id="stats-h">Price and latency (real jobs)</h2>
        {s.jobs === 0 ? (
          <Empty title="No job yet">Nobody has requested this model so far: be the first with “Try it” below.</Empty>
        ) : (
          <dl className="inline-facts stats">
            <div>
              <dt>Jobs</dt>
              <dd>
                {s.fulfilled} fulfilled of {s.jobs} ({s.reclaimed} reclaimed)
              </dd>
            </div>
            <div>
              <dt>Latency p50 / p95</dt>
              <dd>
                {duration(s.p50LatencyS)} / {duration(s.p95LatencyS)}
              </dd>
            </div>
            <div>
              <dt>Median fee</dt>
              <dd>{amount(s.p50FeeWei)}</dd>
            </div>
            <div>
              <dt>Gas per result</dt>
              <dd>
                {gas(s.p50GasSingle)} single, {gas(s.p50GasBatched)} batched
              </dd>
            </div>
            <div>
              <dt>Stage medians</dt>
              <dd>
                claim {duration(s.stageP50S.claim)}, deliver {duration(s.stageP50S.deliver)}, prove {duration(s.stageP50S.prove)}
              </dd>
            </div>
          </dl>
        )}
      </section>
      <section aria-labelledby="try-h">
        <h2 id="try-h">Try it</h2>
        {card?.ok ? (
          m.deprecated ? (
            <p>This model is deprecated: the market refuses new jobs for it.</p>
          ) : (
            <Suspense fallback={<Loading what="the wallet form" />}>
              <TryIt modelId={m.modelId} card={card.card} extras={card.extras} suggestedFeeWei={s.p50FeeWei} />
            </Suspense>
          )
        ) : (
          <p>Opening a job needs the model card (to quantize your inputs), which could not be read.</p>
        )}
      </section>
      <section aria-labelledby="versions-h">
        <h2 id="versions-h">Versions</h2>
        <div className="table-wrap">
          <table>
            <caption className="sr-only">Registered versions</caption>
            <thead>
              <tr>
                <th scope="col">Version</th>
                <th scope="col">Input</th>
                <th scope="col">Registered</th>
                <th scope="col" className="wide">
                  Bundle
                </th>
                <th scope="col" className="wide">
                  Verifier
                </th>
              </tr>
            </thead>
            <tbody>
              {versions.map((v) => (
                <tr key={v.version}>
                  <td>
                    {v.version}
                    {v.version === m.currentVersion && " (current)"}
                  </td>
                  <td>{v.inputMode === 1 ? "public" : "committed"}</td>
                  <td>{when(v.registeredAt)}</td>
                  <td className="wide break">
                    <code>{v.bundleUri}</code>
                  </td>
                  <td className="wide">
                    <Hash value={v.verifier} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
      <section aria-labelledby="recent-h">
        <h2 id="recent-h">Recent jobs</h2>
        {recentJobs.length ? (
          <JobTable jobs={recentJobs} caption={`Latest jobs of model ${m.modelId}`} showModel={false} />
        ) : (
          <p>No job yet.</p>
        )}
      </section>
    </>
  );
}
