/**
 * A JSON-RPC provider that survives a flaky endpoint (issue 19, docs/prover.md "RPC faults"): every request that fails
 * at the transport level (connection refused or reset, timeout, HTTP 429 or 5xx, a body that is not JSON) is retried
 * with exponential backoff and jitter, moving to the next of several endpoint URLs after each failure; a JSON-RPC
 * error answer (a revert, "nonce too low", "already known") is an answer, returned as is and never retried here.
 *
 * Retrying is safe for everything a prover node sends: reads are idempotent, and a transaction is broadcast as the
 * same signed bytes (same hash), which a chain can include once at most; whether an earlier attempt arrived is
 * settled by polling its receipt (scripts/apps/prover/tx.ts).
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
        const delayMs = retryDelayMs(attempt, this.retry);
        this.retry.onRetry?.({ url, next: this.urls[this.current], attempt, delayMs, error: e.message, method });
        await sleep(delayMs);
      }
    }
  }
}

/** The backoff before retry number `attempt` (1-based): exponential, capped, with up to 50% jitter. */
export function retryDelayMs(attempt: number, retry: Pick<RetryOptions, "baseDelayMs" | "maxDelayMs">): number {
  const exp = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(exp * (0.5 + Math.random() / 2));
}

/** One EIP-1193 request (Hardhat's provider interface, without its event methods). */
export interface Eip1193 {
  request(args: { method: string; params?: unknown[] | object }): Promise<unknown>;
}

/**
 * Whether `e` is a failure to reach the endpoint (connection refused or reset, "other side closed", a timeout, an
 * unreadable answer) rather than the chain's JSON-RPC answer (Hardhat's `ProviderError`: a revert, "nonce too low").
 */
export function isTransportError(e: unknown): boolean {
  if (e === null || typeof e !== "object") return false;
  if ((e as { _isProviderError?: boolean })._isProviderError === true) return false;
  const text = `${(e as { code?: unknown }).code ?? ""} ${(e as Error).message ?? ""} ${String((e as { cause?: unknown }).cause ?? "")}`;
  return /ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|EAI_AGAIN|UND_ERR|other side closed|socket hang up|fetch failed|[Tt]imeout|HH108|HH110|Cannot connect to the network|Too Many Requests|\b429\b|\b50[0-9]\b/.test(
    text,
  );
}

/** An answer meaning "this transaction (or one with its nonce) is already known to the node". */
function isAlreadyKnown(e: unknown): boolean {
  return /already known|known transaction|nonce too low|nonce has already been used|already imported/i.test(
    String((e as Error)?.message ?? e),
  );
}

type Tx = { from?: string; nonce?: string; [k: string]: unknown };

/**
 * An EIP-1193 provider that survives a dropped connection (issue 28 point 4): the operator tasks' counterpart of
 * {@link ResilientRpcProvider}. Reads are retried with backoff on transport errors. A transaction is never sent twice
 * as two transactions: `eth_sendRawTransaction` resends the same signed bytes and, if an earlier attempt arrived,
 * answers its hash; `eth_sendTransaction` (an account the node signs for) gets its nonce pinned before the first
 * attempt, and after a lost answer the node is asked whether a transaction with that nonce arrived (then its hash is
 * the answer) before anything is sent again.
 */
export class RetryingEip1193 implements Eip1193 {
  private readonly retry: RetryOptions;

  constructor(
    private readonly inner: Eip1193,
    retry: Partial<RetryOptions> = {},
  ) {
    this.retry = { ...DEFAULT_RETRY, ...retry };
  }

  async request(args: { method: string; params?: unknown[] | object }): Promise<unknown> {
    if (args.method === "eth_sendRawTransaction") return this.sendRaw(args);
    if (args.method === "eth_sendTransaction") return this.sendNodeSigned(args);
    return this.withRetry(args.method, () => this.inner.request(args));
  }

  /** Runs `f`, retrying transport errors with backoff; `beforeRetry` may settle the call instead (an arrived send). */
  private async withRetry<T>(method: string, f: () => Promise<T>, beforeRetry?: () => Promise<T | undefined>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await f();
      } catch (e) {
        if (!isTransportError(e) || attempt >= this.retry.attempts) throw e;
        const delayMs = retryDelayMs(attempt, this.retry);
        this.retry.onRetry?.({ url: "", next: "", attempt, delayMs, error: (e as Error).message.split("\n")[0], method });
        await sleep(delayMs);
        const settled = beforeRetry ? await beforeRetry() : undefined;
        if (settled !== undefined) return settled;
      }
    }
  }

  private read<T>(method: string, params: unknown[]): Promise<T> {
    return this.withRetry(method, () => this.inner.request({ method, params }) as Promise<T>);
  }

  private async sendRaw(args: { method: string; params?: unknown[] | object }): Promise<unknown> {
    const raw = (args.params as string[])[0];
    const { keccak256 } = await import("ethers");
    const hash = keccak256(raw);
    const arrived = async (): Promise<string | undefined> =>
      (await this.read<unknown>("eth_getTransactionByHash", [hash])) ? hash : undefined;
    return this.sendOnce(args.method, () => this.inner.request(args), arrived);
  }

  /**
   * Sends a transaction with `withRetry`. After a lost answer `arrived` says whether the earlier attempt reached the
   * node (its hash) before anything is sent again, and a resend the node refuses as already known is answered the
   * same way.
   */
  private sendOnce(method: string, send: () => Promise<unknown>, arrived: () => Promise<string | undefined>): Promise<unknown> {
    let tries = 0;
    return this.withRetry<unknown>(
      method,
      async () => {
        try {
          tries++;
          return await send();
        } catch (e) {
          // only a resend can meet its own earlier attempt; on the first try "nonce too low" is the node's answer
          if (tries > 1 && isAlreadyKnown(e)) {
            const h = await arrived();
            if (h) return h;
          }
          throw e;
        }
      },
      arrived,
    );
  }

  private async sendNodeSigned(args: { method: string; params?: unknown[] | object }): Promise<unknown> {
    const tx = { ...((args.params as Tx[])[0] ?? {}) };
    if (!tx.from) return this.inner.request(args); // the node picks the account: nothing to pin, sent once
    if (tx.nonce === undefined) tx.nonce = await this.read<string>("eth_getTransactionCount", [tx.from, "pending"]);
    const nonce = BigInt(tx.nonce);
    const from = tx.from.toLowerCase();
    const params = [tx, ...((args.params as unknown[]).slice(1) ?? [])];
    type Block = { transactions: { from: string; nonce: string; hash: string }[] } | null;
    const find = async (tag: string): Promise<string | undefined> =>
      (await this.read<Block>("eth_getBlockByNumber", [tag, true]))?.transactions.find(
        (x) => x.from.toLowerCase() === from && BigInt(x.nonce) === nonce,
      )?.hash;
    /** The hash of the transaction from `from` with `nonce`, if the node has it (pending, or in the last 16 blocks). */
    const arrived = async (): Promise<string | undefined> => {
      if (BigInt(await this.read<string>("eth_getTransactionCount", [tx.from, "pending"])) <= nonce) return undefined;
      const pending = await find("pending");
      if (pending) return pending;
      const head = BigInt(await this.read<string>("eth_blockNumber", []));
      for (let n = head; n >= 0n && n > head - 16n; n--) {
        const h = await find(`0x${n.toString(16)}`);
        if (h) return h;
      }
      throw new Error(
        `the connection dropped while sending a transaction from ${tx.from} with nonce ${nonce}, and the node has a transaction with that nonce that could not be found: check the account's transactions before sending again`,
      );
    };
    return this.sendOnce(args.method, () => this.inner.request({ method: args.method, params }), arrived);
  }
}
