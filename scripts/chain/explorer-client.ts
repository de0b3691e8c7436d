/**
 * The explorer indexer's HTTP API from the SDK (`import { ExplorerClient } from "zkml-evm"`; docs/consumers.md,
 * "History from the explorer's indexer"): what the chain cannot answer cheaply, such as a model's jobs, their latency
 * and gas, a prover's record, a subscription's runs or the network's rate, typed by the answers' format
 * (scripts/formats/explorer-api.ts). The explorer's web app reads the indexer through it too. Runs in Node and in
 * browsers.
 *
 *   const ex = new ExplorerClient("http://127.0.0.1:42069");
 *   const { items } = await ex.jobs({ model: "1", status: "fulfilled", limit: 20 });
 */
import type {
  CardResponse,
  JobDetail,
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
} from "../formats/explorer-api";

/** Why a call failed: `kind` says which way (unreachable indexer, nothing at that id, a bad parameter, its error). */
export class ExplorerClientError extends Error {
  override name = "ExplorerClientError";
  constructor(
    readonly kind: "unreachable" | "not-found" | "bad-request" | "server",
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** Filters of {@link ExplorerClient.jobs}; `status` takes one status or several separated by commas. */
export interface JobQuery {
  model?: string;
  prover?: string;
  requester?: string;
  status?: string;
  limit?: number;
  /** Jobs with a smaller id than this (the next page: the last id of this one). */
  before?: string;
}

/** A client of one indexer. */
export class ExplorerClient {
  private readonly fetch: typeof fetch;

  /**
   * @param baseUrl the indexer's address, e.g. `http://127.0.0.1:42069` (`npm run explorer` prints it); "" for the
   *   page's own origin (the explorer's app, behind its /api proxy)
   */
  constructor(
    readonly baseUrl: string,
    opts: { fetch?: typeof fetch } = {},
  ) {
    this.fetch = opts.fetch ?? ((input, init) => fetch(input, init));
  }

  status = (): Promise<Status> => this.get("/status");
  models = (p: { q?: string; limit?: number; offset?: number } = {}): Promise<Page<ModelRow>> => this.get("/models", p);
  model = (id: string | bigint): Promise<ModelDetail> => this.get(`/models/${encodeURIComponent(String(id))}`);
  card = (id: string | bigint, version?: number): Promise<CardResponse> =>
    this.get(`/models/${encodeURIComponent(String(id))}/card`, { version });
  jobs = (p: JobQuery = {}): Promise<Page<JobSummary>> => this.get("/jobs", { ...p });
  job = (id: string | bigint): Promise<JobDetail> => this.get(`/jobs/${encodeURIComponent(String(id))}`);
  provers = (): Promise<{ items: ProverRow[] }> => this.get("/provers");
  prover = (address: string): Promise<ProverDetail> => this.get(`/provers/${encodeURIComponent(address.toLowerCase())}`);
  subscriptions = (): Promise<Page<SubscriptionRow>> => this.get("/subscriptions");
  subscription = (id: string | bigint): Promise<SubscriptionDetail> => this.get(`/subscriptions/${encodeURIComponent(String(id))}`);
  network = (minutes = 60): Promise<NetworkStats> => this.get("/network", { minutes });

  private async get<T>(path: string, params: Record<string, string | number | undefined> = {}): Promise<T> {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "") q.set(k, String(v));
    const url = `${this.baseUrl.replace(/\/$/, "")}/api${path}${q.size ? `?${q}` : ""}`;
    let res: Response;
    try {
      res = await this.fetch(url, { headers: { accept: "application/json" } });
    } catch (e) {
      throw new ExplorerClientError("unreachable", `The indexer does not answer at ${url} (${(e as Error).message}).`);
    }
    // a proxy in front of it answers 5xx without JSON when the indexer is down
    if (res.status >= 500 || !(res.headers.get("content-type") ?? "").includes("json"))
      throw new ExplorerClientError("unreachable", `The indexer does not answer (HTTP ${res.status} for ${path}).`, res.status);
    const body = (await res.json()) as unknown;
    const e = (body as { error?: unknown } | null)?.error;
    const text = typeof e === "string" ? e : undefined;
    if (res.status === 404) throw new ExplorerClientError("not-found", text ?? `Nothing at ${path}.`, 404);
    if (!res.ok) throw new ExplorerClientError("bad-request", text ?? `HTTP ${res.status} for ${path}`, res.status);
    return body as T;
  }
}
