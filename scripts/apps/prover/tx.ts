/**
 * Crash-safe transaction sending for one account. Every transaction is signed locally, its intent (key, nonce, raw
 * bytes, hash) written to the store with fsync, and only then broadcast. A transaction is waited for by polling
 * receipts of every attempt; one that stays unmined for `stuckMs` is re-signed with the same nonce and fees raised by
 * `bumpPercent` (a replacement), and the new attempt is recorded before it is sent. On restart `resumePending()`
 * re-broadcasts the last attempt of every pending record (idempotent: same hash) and waits for it, so nothing is sent
 * twice and nothing recorded is forgotten.
 */
import { type JsonRpcProvider, type TransactionReceipt, Transaction, type Wallet } from "ethers";
import { RpcTransportError } from "../../chain/rpc";
import type { JsonLog } from "./log";
import type { Metrics } from "./metrics";
import type { ProverStore, TxRecord } from "./store";

export interface TxOptions {
  /** An attempt unmined for this long is replaced with higher fees (ms). */
  stuckMs: number;
  /** Fee increase per replacement, percent (Hardhat and geth need >= 10). */
  bumpPercent: number;
  /** Give up waiting after this long (ms); the record stays pending and is resumed on the next start. */
  timeoutMs: number;
  pollMs: number;
}

export const DEFAULT_TX_OPTIONS: TxOptions = { stuckMs: 30_000, bumpPercent: 25, timeoutMs: 10 * 60_000, pollMs: 250 };

/** Thrown by `send` when the call would revert (estimateGas failed): nothing was signed or recorded. */
export class WouldRevertError extends Error {
  constructor(
    readonly key: string,
    readonly data: string | undefined,
    message: string,
  ) {
    super(`${key}: would revert (${message})`);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A failure to reach the RPC endpoint (after its own retries), as opposed to an answer. */
function isTransport(e: unknown): boolean {
  if (e instanceof RpcTransportError) return true;
  const x = e as { code?: string; message?: string; error?: { message?: string } };
  if (x.code === "TIMEOUT" || x.code === "NETWORK_ERROR" || x.code === "SERVER_ERROR") return true;
  return /ECONNRESET|ECONNREFUSED|socket hang up|HTTP (429|5\d\d)|timeout|not JSON/i.test(`${x.message ?? ""} ${x.error?.message ?? ""}`);
}

export class TxSender {
  private lock: Promise<void> = Promise.resolve();
  private nextNonce = -1;
  /** Attempts whose broadcast did not reach the endpoint: sent again (same bytes) while they are waited for. */
  private readonly unsent = new Set<string>();

  constructor(
    private readonly wallet: Wallet,
    private readonly provider: JsonRpcProvider,
    private readonly store: ProverStore,
    private readonly log: JsonLog,
    private readonly metrics: Metrics,
    private readonly opts: TxOptions = DEFAULT_TX_OPTIONS,
  ) {}

  /** Forgets the next nonce (after a reorganisation): the next transaction reads the account's pending count again. */
  resetNonce(): void {
    this.nextNonce = -1;
  }

  /** Serializes nonce assignment + record + broadcast. */
  private async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const prev = this.lock;
    let release!: () => void;
    this.lock = new Promise<void>((r) => (release = r));
    await prev;
    try {
      return await fn();
    } finally {
      release();
    }
  }

  /**
   * Sends (or, if `key` was already recorded, resumes) a transaction and waits for its receipt.
   * @param key Unique per intent (e.g. `submit:42`): a second call with the same key never sends a second transaction.
   * @param gasLimit A fixed gas limit instead of the estimate plus 30%: the call is then checked with `eth_call` at
   *   that limit. For calls whose gas depends on `gasleft()` checks that an estimator's search can miss (a
   *   finalisation reserving a callback's allowance costs far less than it must be given).
   * @throws WouldRevertError when gas estimation (or the check) reverts (nothing sent); Error on timeout.
   */
  async send(key: string, to: string, data: string, value = 0n, gasLimit?: bigint): Promise<TransactionReceipt> {
    const existing = await this.store.getTx(key);
    if (existing) return this.wait(existing);
    const rec = await this.exclusive(async () => {
      let gas: bigint;
      try {
        if (gasLimit === undefined) gas = await this.provider.estimateGas({ from: this.wallet.address, to, data, value });
        else {
          await this.provider.call({ from: this.wallet.address, to, data, value, gasLimit });
          gas = gasLimit;
        }
      } catch (e) {
        if (isTransport(e)) throw e; // the endpoint was not reached: not a revert (the job is tried again later)
        const err = e as { data?: string; shortMessage?: string; message: string };
        throw new WouldRevertError(key, err.data, err.shortMessage ?? err.message);
      }
      if (this.nextNonce < 0) this.nextNonce = await this.provider.getTransactionCount(this.wallet.address, "pending");
      const nonce = this.nextNonce;
      const fees = await this.fees();
      const t: TxRecord = {
        key,
        to,
        data,
        value: value.toString(),
        nonce,
        gasLimit: (gasLimit ?? (gas * 13n) / 10n + 10_000n).toString(),
        status: "pending",
        attempts: [],
      };
      await this.signAndRecord(t, fees.maxFeePerGas, fees.maxPriorityFeePerGas);
      this.nextNonce = nonce + 1;
      await this.broadcast(t);
      return t;
    });
    return this.wait(rec);
  }

  private async fees(): Promise<{ maxFeePerGas: bigint; maxPriorityFeePerGas: bigint }> {
    const f = await this.provider.getFeeData();
    return { maxFeePerGas: f.maxFeePerGas ?? f.gasPrice ?? 1_000_000_000n, maxPriorityFeePerGas: f.maxPriorityFeePerGas ?? 1_000_000_000n };
  }

  private async signAndRecord(t: TxRecord, maxFeePerGas: bigint, maxPriorityFeePerGas: bigint): Promise<void> {
    const { chainId } = await this.provider.getNetwork();
    const raw = await this.wallet.signTransaction({
      type: 2,
      chainId,
      to: t.to,
      data: t.data,
      value: BigInt(t.value ?? "0"),
      nonce: t.nonce,
      gasLimit: BigInt(t.gasLimit),
      maxFeePerGas,
      maxPriorityFeePerGas,
    });
    const hash = Transaction.from(raw).hash as string;
    t.attempts.push({
      hash,
      raw,
      maxFeePerGas: maxFeePerGas.toString(),
      maxPriorityFeePerGas: maxPriorityFeePerGas.toString(),
      sentAt: Date.now(),
    });
    await this.store.putTx(t); // the intent is durable before anything leaves this process
  }

  private async broadcast(t: TxRecord, a = t.attempts[t.attempts.length - 1]): Promise<void> {
    try {
      await this.provider.broadcastTransaction(a.raw);
      this.unsent.delete(a.hash);
      this.log("tx_sent", { key: t.key, hash: a.hash, nonce: t.nonce, attempt: t.attempts.indexOf(a) + 1, maxFeePerGas: a.maxFeePerGas });
    } catch (e) {
      // The endpoint could not be reached: the same bytes go out again from the wait loop (never a second transaction).
      if (isTransport(e)) this.unsent.add(a.hash);
      else this.unsent.delete(a.hash);
      // Already known, or the nonce is used (an earlier attempt was mined): the receipt poll settles which.
      this.log("tx_broadcast_error", {
        key: t.key,
        hash: a.hash,
        nonce: t.nonce,
        error: (e as { shortMessage?: string; message: string }).shortMessage ?? (e as Error).message,
      });
    }
  }

  /**
   * Waits for any attempt of `t` to be mined, replacing it with higher fees while it is stuck. An RPC endpoint that
   * cannot be reached is waited out (polled again) until `timeoutMs`; nothing is sent twice meanwhile.
   */
  private async wait(t: TxRecord): Promise<TransactionReceipt> {
    const t0 = Date.now();
    for (;;) {
      try {
        const r = await this.poll(t);
        if (r) return r;
      } catch (e) {
        if (!isTransport(e)) throw e;
        this.log("tx_poll_error", { key: t.key, nonce: t.nonce, error: (e as Error).message.slice(0, 200) });
      }
      if (Date.now() - t0 > this.opts.timeoutMs)
        throw new Error(`${t.key}: not mined after ${this.opts.timeoutMs} ms (nonce ${t.nonce}); resumed on next start`);
      await sleep(this.opts.pollMs);
    }
  }

  /** One look at `t`: its receipt if an attempt is mined; otherwise re-sends unsent attempts and replaces a stuck one. */
  private async poll(t: TxRecord): Promise<TransactionReceipt | undefined> {
    for (const a of t.attempts) if (this.unsent.has(a.hash)) await this.broadcast(t, a);
    for (const a of t.attempts) {
      const r = await this.provider.getTransactionReceipt(a.hash);
      if (r) {
        if (t.status !== "mined") {
          t.status = "mined";
          t.minedHash = a.hash;
          t.success = r.status === 1;
          await this.store.putTx(t);
          this.metrics.addReceipt(r);
          this.log("tx_mined", {
            key: t.key,
            hash: a.hash,
            nonce: t.nonce,
            status: r.status,
            gasUsed: r.gasUsed,
            attempts: t.attempts.length,
          });
        }
        return r;
      }
    }
    const mined = await this.provider.getTransactionCount(this.wallet.address, "latest");
    if (mined > t.nonce) {
      // The nonce is used, but by none of our attempts' receipts yet: re-check once (a receipt may lag), then drop.
      await sleep(this.opts.pollMs);
      const again = await Promise.all(t.attempts.map((a) => this.provider.getTransactionReceipt(a.hash)));
      if (again.some((x) => x !== null)) return undefined; // settled by the next poll
      t.status = "dropped";
      await this.store.putTx(t);
      throw new Error(`${t.key}: nonce ${t.nonce} was used by a transaction this node did not record`);
    }
    const last = t.attempts[t.attempts.length - 1];
    if (Date.now() - last.sentAt > this.opts.stuckMs) await this.replace(t);
    return undefined;
  }

  /** Same nonce, fees raised by bumpPercent (and at least the current market fees). */
  private async replace(t: TxRecord): Promise<void> {
    const last = t.attempts[t.attempts.length - 1];
    const bump = (v: string): bigint => (BigInt(v) * BigInt(100 + this.opts.bumpPercent)) / 100n + 1n;
    const now = await this.fees();
    const maxPrio = bump(last.maxPriorityFeePerGas) > now.maxPriorityFeePerGas ? bump(last.maxPriorityFeePerGas) : now.maxPriorityFeePerGas;
    let maxFee = bump(last.maxFeePerGas) > now.maxFeePerGas ? bump(last.maxFeePerGas) : now.maxFeePerGas;
    if (maxFee < maxPrio) maxFee = maxPrio;
    await this.exclusive(() => this.signAndRecord(t, maxFee, maxPrio));
    this.log("tx_replaced", {
      key: t.key,
      nonce: t.nonce,
      previous: last.hash,
      hash: t.attempts[t.attempts.length - 1].hash,
      maxFeePerGas: maxFee,
    });
    await this.broadcast(t);
  }

  /**
   * After a restart: re-broadcasts the last attempt of every pending record (same bytes, same hash) and waits for
   * each. Call before sending anything new, so nonces recorded earlier are settled first.
   * @returns The records that were pending, with their receipts (null when they could not be settled).
   */
  async resumePending(): Promise<Array<{ key: string; receipt: TransactionReceipt | null }>> {
    const pending = (await this.store.txs()).filter((t) => t.status === "pending");
    const out: Array<{ key: string; receipt: TransactionReceipt | null }> = [];
    for (const t of pending) {
      this.log("tx_resumed", { key: t.key, nonce: t.nonce, attempts: t.attempts.length });
      const known = await Promise.all(t.attempts.map((a) => this.provider.getTransaction(a.hash)));
      if (known.every((k) => k === null)) await this.broadcast(t);
      try {
        out.push({ key: t.key, receipt: await this.wait(t) });
      } catch (e) {
        this.log("tx_resume_failed", { key: t.key, error: (e as Error).message });
        out.push({ key: t.key, receipt: null });
      }
    }
    return out;
  }
}
