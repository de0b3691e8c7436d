/**
 * A JSON-RPC provider that survives a flaky endpoint (issue 19, docs/prover.md "RPC faults"): every request that fails
 * at the transport level (connection refused or reset, timeout, HTTP 429 or 5xx, a body that is not JSON) is retried
 * with exponential backoff and jitter, moving to the next of several endpoint URLs after each failure; a JSON-RPC
 * error answer (a revert, "nonce too low", "already known") is an answer, returned as is and never retried here.
 *
 * Retrying is safe for everything a prover node sends: reads are idempotent, and a transaction is broadcast as the
 * same signed bytes (same hash), which a chain can include once at most; whether an earlier attempt arrived is
 * settled by polling its receipt (scripts/prover/tx.ts).
 */
import { FetchRequest, JsonRpcProvider, type JsonRpcApiProviderOptions, type JsonRpcPayload, type JsonRpcResult } from "ethers";

export interface RetryOptions {
  /** Attempts per request, all URLs together (default 8). */
  attempts: number;
  /** First backoff (ms, default 250); doubled per attempt, capped at `maxDelayMs`, with up to 50% jitter. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Timeout of one HTTP request (ms, default 15 s). */
  timeoutMs: number;
  /** Called before each retry (for logs). */
  onRetry?: (info: { url: string; next: string; attempt: number; delayMs: number; error: string; method: string }) => void;
}

export const DEFAULT_RETRY: RetryOptions = { attempts: 8, baseDelayMs: 250, maxDelayMs: 8_000, timeoutMs: 15_000 };

/** The endpoint was not reached or did not answer JSON-RPC (after every retry): not an answer of the chain. */
export class RpcTransportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RpcTransportError";
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Splits a comma-separated list of RPC URLs (PROVER_RPC_URL) and checks each.
 * @throws Error naming the variable and the bad entry.
 */
export function parseRpcUrls(value: string, name = "PROVER_RPC_URL"): string[] {
  const urls = value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (urls.length === 0) throw new Error(`${name} names no URL: e.g. ${name}=http://127.0.0.1:8545`);
  for (const u of urls)
    if (!/^https?:\/\/[^\s/]+/.test(u)) throw new Error(`${name}: "${u}" is not an http(s):// URL; give one or more, comma-separated`);
  return urls;
}

export class ResilientRpcProvider extends JsonRpcProvider {
  readonly urls: readonly string[];
  private current = 0;
  private readonly retry: RetryOptions;

  constructor(urls: string | readonly string[], options: JsonRpcApiProviderOptions = {}, retry: Partial<RetryOptions> = {}) {
    const list = typeof urls === "string" ? parseRpcUrls(urls) : [...urls];
    super(list[0], undefined, options);
    this.urls = list;
    this.retry = { ...DEFAULT_RETRY, ...retry };
  }

  /** The URL requests go to now. */
  get url(): string {
    return this.urls[this.current];
  }

  private async post(url: string, body: string): Promise<Array<JsonRpcResult>> {
    const req = new FetchRequest(url);
    req.body = body;
    req.setHeader("content-type", "application/json");
    req.timeout = this.retry.timeoutMs;
    req.setThrottleParams({ maxAttempts: 1 }); // 429 is retried here, across URLs, not by FetchRequest on one URL
    let res;
    try {
      res = await req.send();
    } catch (e) {
      throw new RpcTransportError((e as { shortMessage?: string; message: string }).shortMessage ?? (e as Error).message);
    }
    if (res.statusCode === 429 || res.statusCode >= 500 || res.statusCode < 200 || res.statusCode >= 300)
      throw new RpcTransportError(`HTTP ${res.statusCode} ${res.statusMessage}`);
    let json: unknown;
    try {
      json = JSON.parse(res.bodyText);
    } catch {
      throw new RpcTransportError(`HTTP ${res.statusCode} with a body that is not JSON`);
    }
    return (Array.isArray(json) ? json : [json]) as Array<JsonRpcResult>; // error answers too, as JsonRpcProvider._send returns them
  }

  override async _send(payload: JsonRpcPayload | Array<JsonRpcPayload>): Promise<Array<JsonRpcResult>> {
    const body = JSON.stringify(payload);
    const method = Array.isArray(payload) ? payload.map((p) => p.method).join(",") : payload.method;
    for (let attempt = 1; ; attempt++) {
      const url = this.urls[this.current];
      try {
        return await this.post(url, body);
      } catch (e) {
        if (!(e instanceof RpcTransportError) || attempt >= this.retry.attempts) throw e;
        this.current = (this.current + 1) % this.urls.length;
        const exp = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** (attempt - 1));
        const delayMs = Math.round(exp * (0.5 + Math.random() / 2));
        this.retry.onRetry?.({ url, next: this.urls[this.current], attempt, delayMs, error: e.message, method });
        await sleep(delayMs);
      }
    }
  }
}
