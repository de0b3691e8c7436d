/**
 * The soak's subscriptions (issue 33: "the node serves subscriptions in the soak"; scripts/apps/load/soak.ts runs
 * them alongside its ordinary jobs). An `InferenceSubscriptions` beside the market, `temp-forecast` published (a
 * public-input model, as every subscription's must be) and SOAK_SUBSCRIPTIONS consumers, half paid in ETH (the example
 * `ScheduledForecaster`, fed by a `MockObservationOracle`), half in an ERC-20 fee token (`MockSubscriptionConsumer`,
 * `subscribeWithToken`), each created at its own moment within the first interval and running one run every
 * SOAK_SUB_INTERVAL_S (60 s, the contract's minimum) to the end of the opening, while the readings change every
 * half interval. The prover nodes get PROVER_SUBSCRIPTIONS_ADDRESS and the token's minimum fee and tip: they open
 * every due run (racing each other for the tip) and serve its job like any other, through the soak's faults.
 *
 * Checks (`check`), all from the chain once everything settled:
 *   - every run of every subscription is opened exactly once, or skipped, or missed, or not reached; at most
 *     SOAK_MAX_UNOPENED_RUNS (0) due runs were not opened;
 *   - every opened run's job is fulfilled exactly once (or reclaimed after its deadline through `reclaimRun`), its
 *     result delivered once (`RunDelivered`) with the value of the model on the inputs the run opened with, and
 *     received by its consumer once with its run index and job (`Forecast` / `Received`; no `RunCallbackFailed`);
 *   - refunds accounted: each owner's credit is exactly what its missed, skipped and reclaimed runs give back;
 *   - the books of the market and of the subscriptions contract balance in ETH and in the token (market.ts,
 *     `moneyBooks`);
 *   - no node sent two openings of one run, nor two submissions of one job (every block's transactions scanned).
 * Figures: runs opened, delivered, skipped, missed; opening delay after the interval's start and latency from the
 * opening to the delivery (chain time); gas of an opening and of a delivery; races lost per node.
 */
import { getAddress, type Wallet, ZeroAddress } from "ethers";
import {
  type InferenceSubscriptions,
  type MockERC20,
  MockERC20__factory,
  type MockObservationOracle,
  MockObservationOracle__factory,
  type MockSubscriptionConsumer,
  MockSubscriptionConsumer__factory,
  type ScheduledForecaster,
  ScheduledForecaster__factory,
} from "../../../typechain-types";
import { deploySubscriptions } from "../../chain/system";
import { type BuiltModel, buildModel } from "../../pipelines/build";
import { inferQuantized } from "../../formats/quantized-model";
import { layoutOf } from "../../formats/model-layout";
import { quantile } from "../prover/metrics";
import { type Books, type Market, moneyBooks } from "./market";
import type { SubscriptionFigures } from "../bench/report";

/** Per run: fee and tip in ETH (the tip covers an opening's ~300k gas at up to 3 gwei) and in the token (18 decimals). */
const ETH_FEE = 10n ** 16n;
const ETH_TIP = 10n ** 15n;
const TOKEN_FEE = 5n * 10n ** 18n;
const TOKEN_TIP = 10n ** 18n;

export interface SoakSubscriptionsConfig {
  /** Subscriptions (consumers): even ones paid in ETH, odd ones in the token. */
  count: number;
  intervalS: number;
  /** How long the opening lasts (ms): every subscription's last run ends within it. */
  openingMs: number;
  /** Each run's job deadline (s). */
  runDeadlineS: number;
  /** Due runs allowed not to be opened (missed or skipped) before the check fails. */
  maxUnopened: number;
}

interface Consumer {
  kind: "ETH" | "token";
  address: string;
  forecaster?: ScheduledForecaster;
  mock?: MockSubscriptionConsumer;
  subscriptionId?: bigint;
  runs: number;
}

export class SoakSubscriptions {
  private readonly consumers: Consumer[] = [];
  private readings = 0;

  private constructor(
    private readonly m: Market,
    private readonly cfg: SoakSubscriptionsConfig,
    readonly subs: InferenceSubscriptions,
    readonly token: MockERC20,
    private readonly oracle: MockObservationOracle,
    private readonly tf: BuiltModel,
    readonly modelId: bigint,
    /** The consumers' owner and the oracle's reporter (its own account: its transactions never race the requester's). */
    private readonly keeper: Wallet,
  ) {}

  /** Deploys the subscriptions contract, the token and the oracle, publishes temp-forecast, funds the requester in the token. */
  static async setup(m: Market, cfg: SoakSubscriptionsConfig, keeper: Wallet): Promise<SoakSubscriptions> {
    const tf = await buildModel("temp-forecast", { quantize: false });
    const { modelId } = await m.publish(tf);
    const subs = await deploySubscriptions(m.wallet(0), m.sys.jobs);
    const token = await new MockERC20__factory(m.wallet(0)).deploy("Soak USD", "sUSD");
    await token.waitForDeployment();
    const oracle = await new MockObservationOracle__factory(keeper).deploy();
    await oracle.waitForDeployment();
    const s = new SoakSubscriptions(m, cfg, subs, token, oracle, tf, modelId, keeper);
    await (await oracle.record(Array.from({ length: tf.model.input.size }, (_, i) => s.reading(i)))).wait();
    s.readings = tf.model.input.size;
    // the ordinary jobs paid in the token: the requester holds it and has approved the market once
    await (await token.mint(m.requester.address, 10n ** 30n)).wait();
    await (await token.connect(m.requester).approve(m.jobsAddress, 2n ** 255n)).wait();
    return s;
  }

  /** The prover nodes' settings: the subscriptions contract, and the token's minimum fee and tip. */
  nodeEnv(): Record<string, string> {
    const t = this.tokenAddress;
    return { PROVER_SUBSCRIPTIONS_ADDRESS: this.subsAddress, PROVER_MIN_FEE_TOKENS: `${t}:1`, PROVER_MIN_TIP_TOKENS: `${t}:1` };
  }

  get subsAddress(): string {
    return this.subs.target as string;
  }

  get tokenAddress(): string {
    return getAddress(this.token.target as string);
  }

  /** Quantized temperature readings (12-bit inputs, 5 fractional bits: 12.5 to 20 degrees C), a little different each time. */
  private reading(k: number): bigint {
    return BigInt(400 + ((k * 53) % 240));
  }

  /**
   * When (ms into the opening) each subscription is created, and the step that creates it: spread over the first
   * interval, so the runs of different subscriptions fall due at different moments.
   */
  creations(): { due: number; run: () => Promise<void> }[] {
    const intervalMs = this.cfg.intervalS * 1000;
    return Array.from({ length: this.cfg.count }, (_, i) => {
      const due = (i * intervalMs) / this.cfg.count;
      return { due, run: () => this.create(i, Math.max(1, Math.floor((this.cfg.openingMs - due) / intervalMs))) };
    });
  }

  private async create(i: number, runs: number): Promise<void> {
    const { m, tf, keeper } = this;
    const version = 1n;
    if (i % 2 === 0) {
      const scale = 2n ** BigInt(layoutOf(tf.model).outputFrac);
      const f = await new ScheduledForecaster__factory(keeper).deploy(
        this.subsAddress,
        await this.oracle.getAddress(),
        this.modelId,
        version,
        10n * scale,
        30n * scale,
        20n * scale,
      );
      await f.waitForDeployment();
      const rc = await (
        await f.start(this.cfg.intervalS, runs, ETH_FEE, ETH_TIP, this.cfg.runDeadlineS, { value: BigInt(runs) * (ETH_FEE + ETH_TIP) })
      ).wait();
      this.consumers.push({ kind: "ETH", address: await f.getAddress(), forecaster: f, subscriptionId: this.createdIn(rc!.logs), runs });
    } else {
      const c = await new MockSubscriptionConsumer__factory(keeper).deploy(this.subsAddress);
      await c.waitForDeployment();
      await (await c.setInputs(this.window())).wait();
      await (await this.token.connect(m.wallet(0)).mint(await c.getAddress(), BigInt(runs) * (TOKEN_FEE + TOKEN_TIP))).wait();
      const rc = await (
        await c.subscribeWithToken(
          this.tokenAddress,
          this.modelId,
          version,
          this.cfg.intervalS,
          runs,
          TOKEN_FEE,
          TOKEN_TIP,
          this.cfg.runDeadlineS,
        )
      ).wait();
      this.consumers.push({ kind: "token", address: await c.getAddress(), mock: c, subscriptionId: this.createdIn(rc!.logs), runs });
    }
  }

  private createdIn(logs: readonly { topics: readonly string[]; data: string }[]): bigint {
    for (const l of logs) {
      const p = (() => {
        try {
          return this.subs.interface.parseLog(l);
        } catch {
          return null;
        }
      })();
      if (p?.name === "SubscriptionCreated") return p.args.subscriptionId as bigint;
    }
    throw new Error("soak: no SubscriptionCreated in the consumer's transaction");
  }

  /** The last `input.size` readings. */
  private window(): bigint[] {
    const n = this.tf.model.input.size;
    return Array.from({ length: n }, (_, i) => this.reading(this.readings - n + i));
  }

  /** A new reading: recorded by the oracle (the ETH consumers read it) and set as the token consumers' inputs. */
  async feed(): Promise<void> {
    await (await this.oracle.record([this.reading(this.readings)])).wait();
    this.readings++;
    for (const c of this.consumers) if (c.mock) await (await c.mock.setInputs(this.window())).wait();
  }

  /** Job ids of the runs opened so far that are not settled (fulfilled or reclaimed). */
  async openRunJobs(): Promise<bigint[]> {
    const out: bigint[] = [];
    for (const e of await this.subs.queryFilter(this.subs.filters.RunOpened())) {
      if (e.args.jobId === 0n) continue;
      const j = await this.m.sys.jobs.getJob(e.args.jobId);
      if (Number(j.status) === 1 || Number(j.status) === 2) out.push(e.args.jobId);
    }
    return out;
  }

  /** Reclaims every opened run whose job is past its deadline unfulfilled (anyone may; the fee goes to the owner). */
  async reclaimExpired(): Promise<number> {
    const now = BigInt((await this.m.provider.getBlock("latest"))!.timestamp);
    let n = 0;
    for (const id of await this.openRunJobs())
      if ((await this.m.sys.jobs.getJob(id)).deadline < now) {
        await (await this.subs.connect(this.keeper).reclaimRun(id)).wait();
        n++;
      }
    return n;
  }

  /** Every check and figure, from the chain (see the file's comment). `nodes`: each node's name, address and log counts. */
  async check(
    nodes: { name: string; address: string; racesLost: number }[],
    accounts: string[],
  ): Promise<{ figures: SubscriptionFigures; failures: string[] }> {
    const { m, subs } = this;
    const jobs = m.sys.jobs;
    const failures: string[] = [];
    const blockTime = new Map<number, number>();
    const timeOf = async (b: number): Promise<number> => {
      if (!blockTime.has(b)) blockTime.set(b, (await m.provider.getBlock(b))!.timestamp);
      return blockTime.get(b)!;
    };
    const byId = new Map(this.consumers.map((c) => [c.subscriptionId!.toString(), c]));
    const ev = {
      opened: await subs.queryFilter(subs.filters.RunOpened()),
      skipped: await subs.queryFilter(subs.filters.RunSkipped()),
      missed: await subs.queryFilter(subs.filters.RunsMissed()),
      delivered: await subs.queryFilter(subs.filters.RunDelivered()),
      reclaimed: await subs.queryFilter(subs.filters.RunReclaimed()),
      callbackFailed: await subs.queryFilter(subs.filters.RunCallbackFailed()),
    };
    if (ev.callbackFailed.length)
      failures.push(`${ev.callbackFailed.length} runs' results did not reach their consumer (RunCallbackFailed)`);

    // every run of every subscription: opened once, skipped, missed or not reached (and never two of them)
    let scheduled = 0;
    let notReached = 0;
    const openDelay: number[] = [];
    for (const c of this.consumers) {
      const id = c.subscriptionId!;
      const s = await subs.getSubscription(id);
      scheduled += c.runs;
      const seen = new Map<number, string[]>();
      const add = (run: number, what: string) => seen.set(run, [...(seen.get(run) ?? []), what]);
      for (const e of ev.opened.filter((x) => x.args.subscriptionId === id)) {
        add(Number(e.args.run), e.args.jobId === 0n ? "opened (skipped)" : "opened");
        if (e.args.jobId !== 0n) openDelay.push((await timeOf(e.blockNumber)) - Number(s.start) - Number(e.args.run) * Number(s.interval));
      }
      for (const e of ev.missed.filter((x) => x.args.subscriptionId === id))
        for (let k = Number(e.args.fromRun); k < Number(e.args.fromRun) + Number(e.args.count); k++) add(k, "missed");
      for (let k = Number(s.nextRun); k < c.runs; k++) add(k, "not reached");
      notReached += Math.max(0, c.runs - Number(s.nextRun));
      for (let k = 0; k < c.runs; k++) {
        const w = seen.get(k) ?? [];
        if (w.length !== 1)
          failures.push(`subscription ${id} run ${k}: ${w.length ? w.join(" and ") : "neither opened, skipped, missed nor pending"}`);
      }
    }
    const opened = ev.opened.filter((e) => e.args.jobId !== 0n);
    const skipped = ev.skipped.length;
    const missed = ev.missed.reduce((a, e) => a + Number(e.args.count), 0);
    if (skipped + missed + notReached > this.cfg.maxUnopened)
      failures.push(
        `${skipped + missed + notReached} due runs not opened (skipped ${skipped}, missed ${missed}, not reached ${notReached}) > ${this.cfg.maxUnopened}`,
      );

    // every opened run: fulfilled once or reclaimed; delivered once with the reference value; received by its consumer
    const consumerEvents = new Map<string, number>(); // `${subscription}:${run}:${job}` -> times received
    for (const c of this.consumers) {
      const key = (run: bigint, job: bigint) => `${c.subscriptionId}:${run}:${job}`;
      if (c.forecaster)
        for (const e of await c.forecaster.queryFilter(c.forecaster.filters.Forecast()))
          consumerEvents.set(key(e.args.run, e.args.jobId), (consumerEvents.get(key(e.args.run, e.args.jobId)) ?? 0) + 1);
      if (c.mock)
        for (const e of await c.mock.queryFilter(c.mock.filters.Received()))
          consumerEvents.set(key(e.args.run, e.args.jobId), (consumerEvents.get(key(e.args.run, e.args.jobId)) ?? 0) + 1);
    }
    let outputsWrong = 0;
    const latency: number[] = [];
    const deliverTx = new Set<string>();
    for (const e of opened) {
      const id = e.args.jobId;
      const tag = `subscription ${e.args.subscriptionId} run ${e.args.run} (job ${id})`;
      const fulfilled = await jobs.queryFilter(jobs.filters.JobFulfilled(id));
      const reclaimed = ev.reclaimed.filter((r) => r.args.jobId === id);
      const delivered = ev.delivered.filter((d) => d.args.jobId === id);
      if (fulfilled.length + reclaimed.length !== 1)
        failures.push(`${tag}: fulfilled ${fulfilled.length} times, reclaimed ${reclaimed.length} times`);
      if (delivered.length !== fulfilled.length)
        failures.push(`${tag}: delivered ${delivered.length} times, fulfilled ${fulfilled.length}`);
      const d = delivered[0];
      if (!d) continue;
      if (d.args.subscriptionId !== e.args.subscriptionId || d.args.run !== e.args.run)
        failures.push(`${tag}: delivered as run ${d.args.run}`);
      const inputs = (await jobs.queryFilter(jobs.filters.JobInputs(id)))[0]?.args.inputs ?? [];
      if (d.args.output !== inferQuantized(this.tf.model, [...inputs]).output) outputsWrong++;
      if (consumerEvents.get(`${e.args.subscriptionId}:${e.args.run}:${id}`) !== 1)
        failures.push(`${tag}: received by its consumer ${consumerEvents.get(`${e.args.subscriptionId}:${e.args.run}:${id}`) ?? 0} times`);
      if (!byId.has(e.args.subscriptionId.toString())) failures.push(`${tag}: not a subscription of the soak`);
      latency.push((await timeOf(d.blockNumber)) - (await timeOf(e.blockNumber)));
      deliverTx.add(d.transactionHash);
    }
    if (outputsWrong) failures.push(`${outputsWrong} runs delivered a value other than the model's on their inputs`);

    // refunds accounted: what each owner is credited is exactly what its missed, skipped and reclaimed runs give back
    for (const c of this.consumers) {
      const id = c.subscriptionId!;
      const s = await subs.getSubscription(id);
      const perRun = s.feePerRun + s.tipPerRun;
      let expected = 0n;
      for (const e of ev.missed.filter((x) => x.args.subscriptionId === id)) expected += e.args.count * perRun;
      expected += BigInt(ev.skipped.filter((x) => x.args.subscriptionId === id).length) * s.feePerRun;
      for (const r of ev.reclaimed.filter((x) => x.args.subscriptionId === id)) expected += r.args.fee;
      const credit = s.feeToken === ZeroAddress ? await subs.creditOf(c.address) : await subs.tokenCreditOf(c.address, s.feeToken);
      if (credit !== expected) failures.push(`subscription ${id}: its owner is credited ${credit}, its refunds add up to ${expected}`);
    }

    // the books of both contracts, in ETH and in the token
    const books: Books[] = await moneyBooks(m, { accounts, tokens: [this.tokenAddress], subs });
    for (const b of books)
      if (b.balance !== b.owed)
        failures.push(`${b.contract} books in ${b.money === "ETH" ? "ETH" : "the token"}: balance ${b.balance}, owed ${b.owed}`);

    // every block's transactions: no node sent two openings of one run, nor two submissions of one job; opening gas
    const head = await m.provider.getBlockNumber();
    const openings = new Map<string, number>();
    const submissions = new Map<string, number>();
    const openGas: { first: boolean; gas: number }[] = [];
    let lostOpenings = 0;
    let lostOpeningsGas = 0;
    const deliverGas: number[] = [];
    const starts = new Map<string, { start: number; interval: number }>();
    for (const c of this.consumers) {
      const s = await subs.getSubscription(c.subscriptionId!);
      starts.set(c.subscriptionId!.toString(), { start: Number(s.start), interval: Number(s.interval) });
    }
    const nodeAddr = new Set(nodes.map((n) => getAddress(n.address)));
    const firstOpened = new Set<string>();
    for (let b = 0; b <= head; b++) {
      const blk = await m.provider.getBlock(b, true);
      for (const tx of blk?.prefetchedTransactions ?? []) {
        if (!tx.to || !nodeAddr.has(getAddress(tx.from))) continue;
        if (getAddress(tx.to) === getAddress(this.subsAddress)) {
          const p = subs.interface.parseTransaction({ data: tx.data });
          if (p?.name !== "openRun") continue;
          const st = starts.get(String(p.args[0]));
          if (!st) continue;
          const run = Math.floor((blk!.timestamp - st.start) / st.interval);
          const key = `${tx.from}:${p.args[0]}:${run}`;
          openings.set(key, (openings.get(key) ?? 0) + 1);
          const r = (await m.provider.getTransactionReceipt(tx.hash))!;
          if (r.status !== 1) {
            lostOpenings++;
            lostOpeningsGas += Number(r.gasUsed);
          } else {
            openGas.push({ first: !firstOpened.has(String(p.args[0])), gas: Number(r.gasUsed) });
            firstOpened.add(String(p.args[0]));
          }
        } else if (getAddress(tx.to) === getAddress(m.jobsAddress)) {
          const p = jobs.interface.parseTransaction({ data: tx.data });
          const ids: bigint[] =
            p?.name === "submitResult" ? [p.args[0] as bigint] : p?.name === "submitResults" ? [...(p.args[0] as bigint[])] : [];
          for (const id of ids) submissions.set(`${tx.from}:${id}`, (submissions.get(`${tx.from}:${id}`) ?? 0) + 1);
          if (deliverTx.has(tx.hash)) deliverGas.push(Number((await m.provider.getTransactionReceipt(tx.hash))!.gasUsed));
        }
      }
    }
    const twiceOpened = [...openings].filter(([, n]) => n > 1).map(([k]) => k);
    const twiceSubmitted = [...submissions].filter(([, n]) => n > 1).map(([k]) => k);
    if (twiceOpened.length) failures.push(`a node sent two openings of one run: ${twiceOpened.join(", ")}`);
    if (twiceSubmitted.length) failures.push(`a node sent two submissions of one job: ${twiceSubmitted.join(", ")}`);

    const mean = (xs: number[]) => (xs.length ? Math.round(xs.reduce((a, x) => a + x, 0) / xs.length) : 0);
    const stats = (xs: number[]) => ({ p50: quantile(xs, 0.5), p95: quantile(xs, 0.95), max: Math.max(0, ...xs) });
    const figures: SubscriptionFigures = {
      subscriptions: {
        eth: this.consumers.filter((c) => c.kind === "ETH").length,
        token: this.consumers.filter((c) => c.kind === "token").length,
      },
      intervalS: this.cfg.intervalS,
      runsScheduled: scheduled,
      opened: opened.length,
      delivered: ev.delivered.length,
      reclaimed: ev.reclaimed.length,
      skipped,
      missed,
      notReached,
      outputsWrong,
      openDelaySeconds: stats(openDelay),
      latencySeconds: stats(latency),
      gas: {
        openFirst: mean(openGas.filter((g) => g.first).map((g) => g.gas)),
        openLater: mean(openGas.filter((g) => !g.first).map((g) => g.gas)),
        deliverMean: mean(deliverGas),
        lostOpenings,
        lostOpeningsGas,
      },
      perNode: nodes.map((n) => ({
        name: n.name,
        opened: opened.filter((e) => getAddress(e.args.opener) === getAddress(n.address)).length,
        racesLost: n.racesLost,
      })),
      books: books.map((b) => ({
        contract: b.contract,
        money: b.money === "ETH" ? "ETH" : "token",
        balance: b.balance.toString(),
        owed: b.owed.toString(),
        balanced: b.balance === b.owed,
      })),
      noDoubleOpening: twiceOpened.length === 0,
      noDoubleSubmission: twiceSubmitted.length === 0,
    };
    return { figures, failures };
  }
}
