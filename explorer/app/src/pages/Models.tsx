/** Models: search by name, task or id, and the list with each model's activity. */
import { useEffect, useState } from "react";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { Link, useSearchParams } from "react-router";
import { api } from "../api";
import { amount, ago, duration } from "../format";
import { Empty, ErrorState, Loading } from "../components/states";

const PAGE = 20;

export default function Models() {
  const [params, setParams] = useSearchParams();
  const q = params.get("q") ?? "";
  const offset = Number(params.get("offset") ?? 0) || 0;
  const [text, setText] = useState(q);
  useEffect(() => {
    if (text === q) return;
    const t = setTimeout(() => setParams(text ? { q: text } : {}, { replace: true }), 200);
    return () => clearTimeout(t);
  }, [text, q, setParams]);
  const list = useQuery({
    queryKey: ["models", q, offset],
    queryFn: () => api.models({ q, limit: PAGE, offset }),
    placeholderData: keepPreviousData,
    refetchInterval: 10_000,
  });
  const go = (o: number) => setParams({ ...(q ? { q } : {}), ...(o ? { offset: String(o) } : {}) });
  return (
    <>
      <h1>Models</h1>
      <p className="lead">Every model registered on the network, with its card and statistics from real jobs.</p>
      <form role="search" onSubmit={(e) => e.preventDefault()} className="search">
        <label htmlFor="model-search">Search models</label>
        <input
          id="model-search"
          type="search"
          value={text}
          placeholder="name, task or id"
          onChange={(e) => setText(e.target.value)}
          autoComplete="off"
        />
      </form>
      {list.isPending ? (
        <Loading what="models" />
      ) : list.error ? (
        <ErrorState error={list.error} what="models" onRetry={() => void list.refetch()} />
      ) : list.data.items.length === 0 ? (
        q ? (
          <Empty title={`No model matches “${q}”`}>Try a shorter name, a task (classification, regression) or a model id.</Empty>
        ) : (
          <Empty title="No model is registered yet">
            Publish one with <code>npx hardhat model:publish</code> (docs/publishing.md); it appears here once the indexer sees the
            registration.
          </Empty>
        )
      ) : (
        <>
          <ul className="model-list" aria-label="Models">
            {list.data.items.map((m) => (
              <li key={m.modelId} className="model-item">
                <h2>
                  <Link to={`/models/${m.modelId}`}>{m.name || `model ${m.modelId}`}</Link>
                  {m.deprecated && <span className="badge badge-reclaimed">deprecated</span>}
                </h2>
                <p className="muted">
                  #{m.modelId} · {m.task || "task unknown"} · version {m.currentVersion} of {m.versions}
                </p>
                <dl className="inline-facts">
                  <div>
                    <dt>Jobs</dt>
                    <dd>
                      {m.fulfilled}/{m.jobs} fulfilled
                    </dd>
                  </div>
                  <div>
                    <dt>Median latency</dt>
                    <dd>{duration(m.p50LatencyS)}</dd>
                  </div>
                  <div>
                    <dt>Median fee</dt>
                    <dd>{amount(m.p50FeeWei)}</dd>
                  </div>
                  <div>
                    <dt>Last job</dt>
                    <dd>{ago(m.lastJobAt)}</dd>
                  </div>
                </dl>
              </li>
            ))}
          </ul>
          <nav className="pager" aria-label="Model pages">
            <button type="button" disabled={offset === 0} onClick={() => go(Math.max(0, offset - PAGE))}>
              Previous
            </button>
            <span>
              {offset + 1}–{offset + list.data.items.length} of {list.data.total}
            </span>
            <button type="button" disabled={offset + PAGE >= list.data.total} onClick={() => go(offset + PAGE)}>
              Next
            </button>
          </nav>
        </>
      )}
    </>
  );
}
