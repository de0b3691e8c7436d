/**
 * The indexer's JSON API, typed: the only module of the app that talks to it (explorer/app/README.md, "API"). Bigints are
 * decimal strings (wei, ids, outputs), addresses lower case, times unix seconds. Every call goes to `/api/...` on the
 * app's own origin (the Vite dev/preview server proxies it to the indexer), so the page never asks another host.
 */

// The answers' types are the indexer's own (explorer/indexer/src/api/types.ts, types only): a field the indexer renames
// is a type error here, and in the test's mock API.
import type {
  CardResponse,
  JobDetail,
  JobStatusName,
  JobSummary,
  ModelDetail,
  ModelRow,
  NetworkStats,
  Page,
  ProverDetail,
  ProverRow,
  Status,
  SubscriptionDetail,
  SubscriptionRow,
} from "../../indexer/src/api/types";

export type * from "../../indexer/src/api/types";

/** Why a call failed, in words a reader can act on; `kind` lets a page pick its message. */
export class ApiError extends Error {
  override name = "ApiError";
  constructor(
    readonly kind: "unreachable" | "not-found" | "bad-request" | "server",
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

const BASE = "/api";

async function get<T>(path: string, params: Record<string, string | number | undefined> = {}): Promise<T> {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "") q.set(k, String(v));
  const url = `${BASE}${path}${q.size ? `?${q}` : ""}`;
  let res: Response;
  try {
    res = await fetch(url, { headers: { accept: "application/json" } });
  } catch (e) {
    throw new ApiError("unreachable", `The indexer does not answer (${(e as Error).message}).`);
  }
  // The dev/preview proxy answers 5xx with no JSON when the indexer is down.
  if (res.status >= 500 || !(res.headers.get("content-type") ?? "").includes("json")) {
    throw new ApiError("unreachable", `The indexer does not answer (HTTP ${res.status} for ${path}).`, res.status);
  }
  const body = (await res.json()) as unknown;
  if (res.status === 404) throw new ApiError("not-found", errorText(body) ?? `Nothing at ${path}.`, 404);
  if (!res.ok) throw new ApiError(res.status >= 500 ? "server" : "bad-request", errorText(body) ?? `HTTP ${res.status}`, res.status);
  return body as T;
}

function errorText(body: unknown): string | undefined {
  const e = (body as { error?: unknown } | null)?.error;
  return typeof e === "string" ? e : undefined;
}

export const api = {
  status: () => get<Status>("/status"),
  models: (p: { q?: string; limit?: number; offset?: number } = {}) => get<Page<ModelRow>>("/models", p),
  model: (id: string) => get<ModelDetail>(`/models/${encodeURIComponent(id)}`),
  card: (id: string, version?: number) => get<CardResponse>(`/models/${encodeURIComponent(id)}/card`, { version }),
  jobs: (p: { model?: string; prover?: string; requester?: string; status?: string; limit?: number; before?: string } = {}) =>
    get<Page<JobSummary>>("/jobs", p),
  job: (id: string) => get<JobDetail>(`/jobs/${encodeURIComponent(id)}`),
  provers: () => get<{ items: ProverRow[] }>("/provers"),
  prover: (address: string) => get<ProverDetail>(`/provers/${encodeURIComponent(address.toLowerCase())}`),
  subscriptions: () => get<Page<SubscriptionRow>>("/subscriptions"),
  subscription: (id: string) => get<SubscriptionDetail>(`/subscriptions/${encodeURIComponent(id)}`),
  network: (minutes = 60) => get<NetworkStats>("/network", { minutes }),
};

/** Job states after which nothing changes. */
export const FINAL_STATUSES: readonly JobStatusName[] = ["fulfilled", "reclaimed"];
