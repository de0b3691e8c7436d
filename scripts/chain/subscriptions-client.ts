/**
 * The SDK's side of subscriptions (docs/market-rules.md, "Subscriptions"; docs/consumers.md): a consumer contract
 * owns its subscriptions (it creates and cancels them, and its view gives each run's inputs), so from a backend or a
/**
 * The SDK's side of subscriptions (docs/market-rules.md, "Subscriptions"; docs/consumers.md): a consumer contract
 * owns its subscriptions (it creates and cancels them, and its view gives each run's inputs), so from a backend or a
 * dApp this client lists them, reads their state, funds them (`topUp`: anyone may, in ETH or the subscription's
 * token), opens due runs (`openRun`: anyone may, for the tip), reclaims expired runs (`reclaimRun`: anyone may; the
 * fee goes back to the owner), withdraws the caller's credits (tips, refunds) and streams their verified results.
 * For a subscription on a committed-input model whose runs are delivered privately, it lists the claims waiting for
 * the owner's delivery (`claimsToDeliver`); the encryption and the delivery through the owner's contract are in
 * `zkml-evm/node` (`deliverRunInput`). Runs in Node and in browsers.
 */
import type { ContractRunner, Provider, Signer, TransactionReceipt } from "ethers";
import { ZeroAddress, getAddress } from "ethers";
import {
  InferenceJobs__factory,
  InferenceSubscriptions__factory,
  type InferenceJobs,
  type InferenceSubscriptions,
} from "../../typechain-types";
import { TokenPaymentError, checkTokenPayment } from "./erc20";

export class SubscriptionClientError extends Error {
  override name = "SubscriptionClientError";
}

/** One subscription as the chain holds it, with what is left of it. */
export interface SubscriptionState {
  subscriptionId: bigint;
  owner: string;
  modelId: bigint;
  modelVersion: bigint;
  interval: bigint;
  start: bigint;
  runs: bigint;
  nextRun: bigint;
  runDeadline: bigint;
  cancelled: boolean;
  /** The pinned version's input mode: each run reads the owner's `subscriptionInputs` or `subscriptionCommitment`. */
  inputMode: "public" | "committed";
  feePerRun: bigint;
  tipPerRun: bigint;
  /** The ERC-20 token the fee and the tip are paid in (their amounts in its units); the zero address for ETH. */
  feeToken: string;
  /** Held for the runs not yet opened (wei, or units of `feeToken`). */
  escrow: bigint;
  /** The current interval's run, whether it may be opened now, and when the next one may (0: none left). */
  currentRun: bigint;
  due: boolean;
  opensAt: bigint;
}

/** A run's verified result, as `RunDelivered` reports it. */
export interface RunResult {
  subscriptionId: bigint;
  run: bigint;
  jobId: bigint;
  output: bigint;
  txHash: string;
  blockNumber: number;
}

/** A private run's job with a live claim that the owner has not delivered to yet. */
export interface ClaimToDeliver {
  run: bigint;
  jobId: bigint;
  claimant: string;
  /** The last second of the delivery window: after it the claim lapses (unslashed) and the job waits for another. */
  deliverBy: bigint;
}

/**
 * What `openRun` did: the run's job, or why the run was skipped (docs/market-rules.md, "Subscriptions", rule 3); and
 * the opening's transaction.
 */
export type OpenedRun = { run: bigint; txHash: string } & (
  { jobId: bigint; skipped?: never } | { jobId?: never; skipped: "input view failed" | "input view malformed" | "market refused" }
);

const SKIP_REASONS = { 1: "input view failed", 2: "input view malformed", 3: "market refused" } as const;

export class SubscriptionClient {
  private jobs?: InferenceJobs;

  private constructor(readonly contract: InferenceSubscriptions) {}

  /**
   * Connects to an `InferenceSubscriptions` contract.
   * @throws SubscriptionClientError when `subscriptions` is not an address or no subscriptions contract answers there.
   */
  static async connect(opts: { subscriptions: string; runner: ContractRunner }): Promise<SubscriptionClient> {
    let address: string;
    try {
      address = getAddress(opts.subscriptions);
    } catch {
      throw new SubscriptionClientError(
        `subscriptions: "${opts.subscriptions}" is not an address; pass the InferenceSubscriptions address of your deployment`,
      );
    }
    const contract = InferenceSubscriptions__factory.connect(address, opts.runner);
    try {
      await contract.inputViewGas();
    } catch (e) {
      throw new SubscriptionClientError(
        `subscriptions: no InferenceSubscriptions contract answers at ${address} (${(e as Error).message.split("\n")[0].slice(0, 120)}); check the address and the network`,
      );
    }
    return new SubscriptionClient(contract);
  }

  /** A subscription's state. @throws SubscriptionClientError for an unknown id. */
  async get(subscriptionId: bigint | number): Promise<SubscriptionState> {
    const id = BigInt(subscriptionId);
    let s;
    try {
      s = await this.contract.getSubscription(id);
    } catch {
      throw new SubscriptionClientError(`subscriptionId ${id}: no such subscription at ${await this.contract.getAddress()}`);
    }
    const [currentRun, due, opensAt] = await this.contract.currentRun(id);
    return {
      subscriptionId: id,
      owner: s.owner,
      modelId: s.modelId,
      modelVersion: s.modelVersion,
      interval: s.interval,
      start: s.start,
      runs: s.runs,
      nextRun: s.nextRun,
      runDeadline: s.runDeadline,
      cancelled: s.cancelled,
      inputMode: s.inputMode === 1n ? "public" : "committed",
      feePerRun: s.feePerRun,
      tipPerRun: s.tipPerRun,
      feeToken: getAddress(s.feeToken),
      escrow: await this.contract.escrowOf(id),
      currentRun,
      due,
      opensAt,
    };
  }

  /** The ids of the subscriptions `owner` (a consumer contract) created, oldest first. */
  async listByOwner(owner: string, fromBlock = 0): Promise<bigint[]> {
    const events = await this.contract.queryFilter(this.contract.filters.SubscriptionCreated(undefined, getAddress(owner)), fromBlock);
    return events.map((e) => e.args.subscriptionId);
  }

  /**
   * Pays for `runs` more runs of a subscription (anyone may); the exact escrow is computed from the chain. A
   * subscription paid in a token is paid in that token: the balance is checked and the subscriptions contract approved
   * for the escrow when its allowance is short (unless `approve` is false: refused instead), before any transaction.
   * @throws SubscriptionClientError naming the problem, before any transaction.
   */
  async topUp(subscriptionId: bigint | number, runs: number, opts: { approve?: boolean } = {}): Promise<string> {
    if (!Number.isInteger(runs) || runs < 1) throw new SubscriptionClientError(`runs must be a positive integer, got ${runs}`);
    const s = await this.get(subscriptionId);
    if (s.cancelled) throw new SubscriptionClientError(`subscriptionId ${s.subscriptionId} is cancelled: it takes no more runs`);
    const due = BigInt(runs) * (s.feePerRun + s.tipPerRun);
    const subs = this.contract.connect(this.signer());
    if (s.feeToken === ZeroAddress) return (await (await subs.topUp(s.subscriptionId, runs, { value: due })).wait())!.hash;
    const pay = await this.tokenPayment(s.feeToken, due, opts.approve ?? true);
    await pay.approveIfShort();
    return (await (await subs.topUp(s.subscriptionId, runs)).wait())!.hash;
  }

  /**
   * Checks that the signer can pay `amount` of `token` to this subscriptions contract (./erc20.ts), for a top-up.
   * @throws SubscriptionClientError naming the problem.
   */
  private async tokenPayment(token: string, amount: bigint, approve: boolean) {
    try {
      return await checkTokenPayment(this.signer(), token, await this.contract.getAddress(), amount, {
        approve,
        names: {
          token: "feeToken",
          amount: "runs",
          amountWord: "escrow",
          spender: "subscriptions contract",
          approveFix: "pass approve: true",
        },
      });
    } catch (e) {
      throw e instanceof TokenPaymentError ? new SubscriptionClientError(e.message) : e;
    }
  }

  /**
   * Reclaims a run whose job passed its deadline unfulfilled (anyone may): the market refunds this contract and the
   * fee is credited to the subscription's owner.
   * @throws SubscriptionClientError when `jobId` is no awaited run of this contract (before any transaction).
   */
  async reclaimRun(jobId: bigint | number): Promise<{ subscriptionId: bigint; run: bigint; receipt: TransactionReceipt }> {
    const [subscriptionId, run] = await this.contract.runOf(BigInt(jobId));
    if (subscriptionId === 0n)
      throw new SubscriptionClientError(
        `jobId ${jobId}: no awaited run of a subscription has this job (delivered, reclaimed, or not a run)`,
      );
    const subs = this.contract.connect(this.signer());
    await subs.reclaimRun.staticCall(BigInt(jobId)); // a job still before its deadline stops here with the market's error
    const receipt = (await (await subs.reclaimRun(BigInt(jobId))).wait())!;
    return { subscriptionId, run, receipt };
  }

  /**
   * Withdraws the signer's whole credit here (tips as an opener, refunds as an owner): in ETH, or in `token`.
   * @throws SubscriptionClientError when there is nothing to withdraw (before any transaction).
   */
  async withdraw(token?: string): Promise<{ amount: bigint; receipt: TransactionReceipt }> {
    const signer = this.signer();
    const account = await signer.getAddress();
    const t = token === undefined ? undefined : getAddress(token);
    const amount = await this.creditOf(account, t);
    if (amount === 0n)
      throw new SubscriptionClientError(
        `${account} has nothing to withdraw${t ? ` in token ${t}` : " in ETH"} from the subscriptions contract`,
      );
    const subs = this.contract.connect(signer);
    const tx = t ? await subs.withdrawToken(t) : await subs.withdraw();
    return { amount, receipt: (await tx.wait())! };
  }

  /**
   * Opens the current interval's run (anyone may; the tip is credited to the sender).
   * @throws SubscriptionClientError when no run is due now (naming when the next one opens), before any transaction.
   */
  async openRun(subscriptionId: bigint | number): Promise<OpenedRun> {
    const s = await this.get(subscriptionId);
    if (!s.due)
      throw new SubscriptionClientError(
        s.opensAt === 0n
          ? `subscriptionId ${s.subscriptionId}: no run is left (${s.cancelled ? "cancelled" : `all ${s.runs} runs passed`})`
          : `subscriptionId ${s.subscriptionId}: run ${s.currentRun} is not due; the next run opens at ${s.opensAt} (unix seconds)`,
      );
    const rc = await (await this.contract.connect(this.signer()).openRun(s.subscriptionId)).wait();
    for (const log of rc?.logs ?? []) {
      const p = this.contract.interface.parseLog(log);
      if (p?.name === "RunSkipped")
        return { run: p.args.run as bigint, skipped: SKIP_REASONS[Number(p.args.reason) as 1 | 2 | 3], txHash: rc!.hash };
      if (p?.name === "RunOpened" && (p.args.jobId as bigint) !== 0n)
        return { run: p.args.run as bigint, jobId: p.args.jobId as bigint, txHash: rc!.hash };
    }
    throw new SubscriptionClientError(`transaction ${rc?.hash} opened no run`);
  }

  /** Every verified result of a subscription delivered so far (from block `fromBlock`), in delivery order. */
  async results(subscriptionId: bigint | number, fromBlock = 0): Promise<RunResult[]> {
    const events = await this.contract.queryFilter(this.contract.filters.RunDelivered(BigInt(subscriptionId)), fromBlock);
    return events.map((e) => ({
      subscriptionId: e.args.subscriptionId,
      run: e.args.run,
      jobId: e.args.jobId,
      output: e.args.output,
      txHash: e.transactionHash,
      blockNumber: e.blockNumber,
    }));
  }

  /**
   * Streams a subscription's results: calls `onResult` once per delivered run, in delivery order, polling every
   * `pollMs` (default 1 s) from `fromBlock` (default: the current block); returns the function that stops it.
   */
  watch(subscriptionId: bigint | number, onResult: (r: RunResult) => void, opts: { pollMs?: number; fromBlock?: number } = {}): () => void {
    let stopped = false;
    let next = opts.fromBlock;
    const seen = new Set<string>();
    const tick = async (): Promise<void> => {
      if (stopped) return;
      try {
        const head = await this.provider().getBlockNumber();
        next ??= head;
        if (head >= next) {
          for (const r of await this.results(subscriptionId, next)) {
            const key = `${r.txHash}:${r.jobId}`;
            if (seen.has(key)) continue;
            seen.add(key);
            onResult(r);
          }
          next = head + 1;
        }
      } catch {
        // a failed poll is retried at the next tick
      }
      if (!stopped) setTimeout(() => void tick(), opts.pollMs ?? 1000);
    };
    void tick();
    return () => {
      stopped = true;
    };
  }

  /** The subscription and run a job belongs to while it awaits its result (undefined: not an awaited run). */
  async runOf(jobId: bigint | number): Promise<{ subscriptionId: bigint; run: bigint } | undefined> {
    const [subscriptionId, run] = await this.contract.runOf(BigInt(jobId));
    return subscriptionId === 0n ? undefined : { subscriptionId, run };
  }

  /**
   * The private runs of a subscription (committed-input model, runs opened without a URI) whose job a prover has
   * claimed and the owner has not delivered to yet, oldest first: deliver each one's opening, encrypted to its
   * claimant, before `deliverBy` (`deliverRunInput` in `zkml-evm/node`). Runs opened from block `fromBlock`.
   */
  async claimsToDeliver(subscriptionId: bigint | number, fromBlock = 0): Promise<ClaimToDeliver[]> {
    const id = BigInt(subscriptionId);
    const jobs = await this.market();
    const now = BigInt((await this.provider().getBlock("latest"))?.timestamp ?? 0);
    const out: ClaimToDeliver[] = [];
    for (const e of await this.contract.queryFilter(this.contract.filters.RunOpened(id), fromBlock)) {
      const jobId = e.args.jobId;
      if (jobId === 0n || (await this.contract.runOf(jobId))[0] !== id) continue; // skipped, delivered or reclaimed
      if (!(await jobs.getJob(jobId)).privateInput) continue;
      const c = await jobs.claimOf(jobId);
      if (c.deliveredAt !== 0n || c.claimant === "0x0000000000000000000000000000000000000000" || now > c.leaseEnd) continue;
      out.push({ run: e.args.run, jobId, claimant: c.claimant, deliverBy: c.leaseEnd });
    }
    return out;
  }

  /** The market the runs are opened in (read once). */
  async market(): Promise<InferenceJobs> {
    this.jobs ??= InferenceJobs__factory.connect(await this.contract.inferenceJobs(), this.contract.runner);
    return this.jobs;
  }

  /** What `account` can withdraw (tips, refunds): wei, or units of `token`. */
  creditOf(account: string, token?: string): Promise<bigint> {
    return token === undefined
      ? this.contract.creditOf(getAddress(account))
      : this.contract.tokenCreditOf(getAddress(account), getAddress(token));
  }

  private signer(): Signer {
    const r = this.contract.runner;
    if (!r || typeof (r as Signer).sendTransaction !== "function")
      throw new SubscriptionClientError("this client has no signer: connect with a Signer as runner to send transactions");
    return r as Signer;
  }

  private provider(): Provider {
    const p = this.contract.runner?.provider;
    if (!p) throw new SubscriptionClientError("this client's runner has no provider");
    return p;
  }
}
