/**
 * The indexer's JSON API, typed: the only module of the app that talks to it (explorer/app/README.md, "API"). Bigints are
 * decimal strings (wei, ids, outputs), addresses lower case, times unix seconds. Every call goes to `/api/...` on the
 * app's own origin (the Vite dev/preview server proxies it to the indexer), so the page never asks another host.
 */

export type Address = string;
/** A uint256 as a decimal string. */
export type Uint = string;
/** Unix seconds. */
export type Unix = number;

export interface Status {
  chainId: number;
  jobs: Address;
  registry: Address;
  subscriptions: Address | null;
  indexedBlock: number;
  indexedTimestamp: Unix;
}

export interface ModelRow {
  modelId: Uint;
  owner: Address;
  name: string;
  task: string;
  currentVersion: number;
  deprecated: boolean;
  versions: number;
  jobs: number;
  fulfilled: number;
  p50LatencyS: number | null;
  p50FeeWei: Uint | null;
  lastJobAt: Unix | null;
}

export interface ModelVersionRow {
  version: number;
  bundleUri: string;
  verifier: Address;
  /** 0 committed, 1 public (the registry's layout). */
  inputMode: number;
  registeredAt: Unix;
  txHash: string;
}

export type JobStatusName = "open" | "claimed" | "delivered" | "posted" | "challenged" | "fulfilled" | "finalized" | "reclaimed";

export interface JobSummary {
  jobId: Uint;
  modelId: Uint;
  version: number;
  requester: Address;
  prover: Address | null;
  status: JobStatusName;
  feeWei: Uint;
  /** The ERC-20 the fee is paid in; null (or the zero address) for ETH. */
  feeToken: Address | null;
  optimistic: boolean;
  openedAt: Unix;
  fulfilledAt: Unix | null;
  latencyS: number | null;
  /** Public signal 0 of the result, once there is one. */
  output: Uint | null;
}

export interface ModelStats {
  jobs: number;
  fulfilled: number;
  reclaimed: number;
  p50LatencyS: number | null;
  p95LatencyS: number | null;
  p50FeeWei: Uint | null;
  p50GasSingle: number | null;
  p50GasBatched: number | null;
  stageP50S: { claim: number | null; deliver: number | null; prove: number | null };
}

export interface ModelDetail {
  model: ModelRow;
  versions: ModelVersionRow[];
  /** The current version's card.json as the bundle has it (checked by the indexer against bundle.json), or null. */
  card: Record<string, unknown> | null;
  cardError: string | null;
  stats: ModelStats;
  recentJobs: JobSummary[];
}

export interface CardResponse {
  card: Record<string, unknown>;
  /** bundle.json of that version. */
  manifest: Record<string, unknown>;
}

export type Stage = "opened" | "claimed" | "delivered" | "posted" | "challenged" | "fulfilled" | "finalized" | "reclaimed";

export interface TimelineEntry {
  stage: Stage;
  at: Unix;
  block: number;
  txHash: string;
  gasUsed: number | null;
  actor: Address;
  /** fulfilled in a batch settlement. */
  batched: boolean;
}

export interface JobDetail {
  job: JobSummary & { inputs: Uint[] | null; inputCommitment?: Uint | null; inputUri?: string | null; deadline?: Unix | null };
  timeline: TimelineEntry[];
}

export interface ProverRow {
  address: Address;
  served: number;
  failures: number;
  earningsWei: Uint;
  bondLockedWei: Uint;
  p50LatencyS: number | null;
  lastActiveAt: Unix | null;
}

export interface SubscriptionRow {
  subscriptionId: Uint;
  owner: Address;
  modelId: Uint;
  version: number;
  intervalS: number;
  start: Unix;
  runs: number;
  nextRun: number;
  cancelled: boolean;
  optimistic: boolean;
  feePerRunWei: Uint;
  tipPerRunWei: Uint;
  feeToken: Address | null;
  createdAt: Unix;
}

export interface SubscriptionRun {
  run: number;
  /** The market job of the run; null when the run was skipped. */
  jobId: Uint | null;
  status: JobStatusName | "skipped";
  openedAt: Unix;
  fulfilledAt: Unix | null;
  output: Uint | null;
}

export interface NetworkStats {
  jobsPerMinute: { minute: Unix; opened: number; fulfilled: number }[];
  latency: { minute: Unix; p50: number | null; p95: number | null }[];
  gas: { single: { p50: number | null; n: number }; batched: { p50: number | null; n: number } };
  totals: { models: number; jobs: number; fulfilled: number; provers: number };
}

export interface Page<T> {
  items: T[];
  total: number;
}

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
  prover: (address: string) =>
    get<{ prover: ProverRow; recentJobs: JobSummary[] }>(`/provers/${encodeURIComponent(address.toLowerCase())}`),
  subscriptions: () => get<Page<SubscriptionRow>>("/subscriptions"),
  subscription: (id: string) => get<{ subscription: SubscriptionRow; runs: SubscriptionRun[] }>(`/subscriptions/${encodeURIComponent(id)}`),
  network: (minutes = 60) => get<NetworkStats>("/network", { minutes }),
};

/** Job states after which nothing changes. */
export const FINAL_STATUSES: readonly JobStatusName[] = ["fulfilled", "finalized", "reclaimed"];
