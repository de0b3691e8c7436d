/** Jobs, newest first, filtered by status; paged with `before` (the last job id of the page). */
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useSearchParams } from "react-router";
import { api } from "../api";
import { JobTable } from "../components/JobTable";
import { Empty, ErrorState, Loading } from "../components/states";

const PAGE = 25;
const STATUSES = ["", "open", "claimed", "delivered", "posted", "challenged", "fulfilled", "finalized", "reclaimed"];

export default function Jobs() {
  const [params, setParams] = useSearchParams();
  const status = params.get("status") ?? "";
  const before = params.get("before") ?? undefined;
  const model = params.get("model") ?? undefined;
  const q = useQuery({
    queryKey: ["jobs", status, before, model],
    queryFn: () => api.jobs({ status, before, model, limit: PAGE }),
    placeholderData: keepPreviousData,
    refetchInterval: before ? false : 2_000,
  });
  const set = (next: Record<string, string | undefined>) => {
    const p: Record<string, string> = {};
    for (const [k, v] of Object.entries({ status, model, ...next })) if (v) p[k] = v;
    setParams(p);
  };
  return (
    <>
      <h1>Jobs</h1>
      <p className="lead">Inference requests on the market, newest first{model ? ` (model ${model})` : ""}.</p>
      <div className="field inline">
        <label htmlFor="job-status">Status</label>
        <select id="job-status" value={status} onChange={(e) => set({ status: e.target.value, before: undefined })}>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {s || "any"}
            </option>
          ))}
        </select>
      </div>
      {q.isPending ? (
        <Loading what="jobs" />
      ) : q.error ? (
        <ErrorState error={q.error} what="jobs" onRetry={() => void q.refetch()} />
      ) : q.data.items.length === 0 ? (
        <Empty title={status ? `No ${status} job` : "No job yet"}>
          {status
            ? "Pick another status above."
            : "Open one from a model's page (“Try it”) or with the SDK; it shows up here within a second."}
        </Empty>
      ) : (
        <>
          <JobTable jobs={q.data.items} caption={`${q.data.total} jobs${status ? ` ${status}` : ""}`} />
          <nav className="pager" aria-label="Job pages">
            <button type="button" disabled={!before} onClick={() => set({ before: undefined })}>
              Newest
            </button>
            <button
              type="button"
              disabled={q.data.items.length < PAGE}
              onClick={() => set({ before: q.data.items[q.data.items.length - 1].jobId })}
            >
              Older
            </button>
          </nav>
        </>
      )}
    </>
  );
}
