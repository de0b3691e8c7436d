import { expect } from "chai";
import type { Wallet } from "ethers";
import {
  type InferenceSubscriptions,
  type MockObservationOracle,
  MockObservationOracle__factory,
  type ScheduledForecaster,
  ScheduledForecaster__factory,
} from "../../typechain-types";
import { deploySubscriptions, deploySystem } from "../../scripts/chain/system";
import { configFromEnv } from "../../scripts/apps/prover/config";
import { type BuiltModel, buildModel, loadFloatModel } from "../../scripts/pipelines/build";
import { loadSeattleTempMax } from "../../scripts/pipelines/datasets";
import { inferQuantized } from "../../scripts/formats/quantized-model";
import { quantizeInput } from "../../scripts/formats/quantized-input";
import { layoutOf } from "../../scripts/formats/model-layout";
import { DEFAULT_POLICY } from "../../scripts/apps/prover/bundles";
import { ProverStore } from "../../scripts/apps/prover/store";
import type { ProverNode } from "../../scripts/apps/prover/node";
import { type Market, inProcessNode, startMarket, until } from "../../scripts/apps/load/market";

/**
 * A prover node with PROVER_SUBSCRIPTIONS_ADDRESS opens the due runs of the subscriptions it serves and serves their
 * jobs (docs/prover.md, "Subscriptions"): `ScheduledForecaster` consumers on `temp-forecast` (public input, real
 * proofs) fed by a `MockObservationOracle`, intervals advanced with evm_increaseTime.
 */
describe("prover nodes: subscriptions", function () {
  const INTERVAL = 3600;
  const FEE = 10n ** 16n;
  const TIP = 10n ** 15n;
  let m: Market;
  let tf: BuiltModel;
  let tfId: bigint;
  let otherId: bigint;
  let subs: InferenceSubscriptions;
  let oracle: MockObservationOracle;
  let owner: Wallet;
  let q: bigint[];
  let node: ProverNode | undefined;

  before(async function () {
    m = await startMarket();
    tf = await buildModel("temp-forecast", { quantize: false });
    ({ modelId: tfId } = await m.publish(tf));
    ({ modelId: otherId } = await m.publish(tf)); // the same model under another id, which the node does not serve
    subs = await deploySubscriptions(m.wallet(0), m.sys.jobs);
    owner = m.wallet(3);
    oracle = await new MockObservationOracle__factory(owner).deploy();
    await oracle.waitForDeployment();
    const data = loadSeattleTempMax();
    const days = [...data.test.x[100], data.test.x[101][6], data.test.x[102][6], data.test.x[103][6]];
    const fm = loadFloatModel("temp-forecast");
    q = days.map((d) => quantizeInput(tf.model, fm, new Array<number>(7).fill(d))[0]);
    await (await oracle.record(q.slice(0, 7))).wait();
  });

  after(async function () {
    await node?.stop().catch(() => undefined);
    await m?.rpc("evm_setAutomine", [true]).catch(() => undefined);
    await m?.stop();
  });

  /** Every consumer subscribed so far (a later test cancels the earlier ones that still have runs). */
  const made: ScheduledForecaster[] = [];
  /** A ScheduledForecaster on `modelId` subscribed now: 3 runs, one an hour, `tip` per opening. */
  async function subscribe(modelId: bigint, tip = TIP): Promise<{ f: ScheduledForecaster; id: bigint }> {
    const scale = 2n ** BigInt(layoutOf(tf.model).outputFrac);
    const f = await new ScheduledForecaster__factory(owner).deploy(
      await subs.getAddress(),
      await oracle.getAddress(),
      modelId,
      1n,
      10n * scale,
      30n * scale,
      20n * scale,
    );
    await f.waitForDeployment();
    await (await f.start(INTERVAL, 3, FEE, tip, 2 * INTERVAL, { value: 3n * (FEE + tip) })).wait();
    made.push(f);
    return { f, id: await f.subscriptionId() };
  }

  /** Serve temp-forecast's first id only (PROVER_SERVE=<id>). */
  const onlyTf = () => ({ ...DEFAULT_POLICY, serve: { modelIds: new Set([tfId.toString()]), owners: new Set<string>() } });
  const acted = async (f: ScheduledForecaster): Promise<number> => Number((await f.lastForecast())[1]);
  const opened = async (id: bigint) => subs.queryFilter(subs.filters.RunOpened(id));
  const logsOf = (n: ProverNode, event: string, id?: bigint) =>
    n.log.records.filter((r) => r.event === event && (id === undefined || r.subscriptionId === id.toString()));

  async function nextInterval(reading?: bigint): Promise<void> {
    if (reading !== undefined) await (await oracle.record([reading])).wait();
    await m.rpc("evm_increaseTime", [INTERVAL]);
    await m.rpc("evm_mine");
  }

  it("opens each due run of a served subscription over three intervals and fulfils it; ignores an unserved model, a cancelled subscription and a tip below the opening's gas", async function () {
    const a = await subscribe(tfId);
    const unserved = await subscribe(otherId);
    const cancelled = await subscribe(tfId);
    const cheap = await subscribe(tfId, 1n);
    node = inProcessNode(m, 6, "keeper", {
      subscriptions: { address: await subs.getAddress() },
      policy: onlyTf(),
      http: { host: "127.0.0.1", port: 0 },
    });
    await node.start();
    const n = node;

    // interval 0: both served subscriptions' runs are opened and fulfilled; then one is cancelled
    await until(async () => (await acted(a.f)) === 1 && (await acted(cancelled.f)) === 1, 120_000, "run 0 of two subscriptions");
    await (await cancelled.f.stop()).wait();
    await until(() => logsOf(n, "subscription_cancelled", cancelled.id).length > 0, 30_000, "the node to see the cancel");
    for (let k = 1; k < 3; k++) {
      await nextInterval(q[6 + k]);
      await until(async () => (await acted(a.f)) === k + 1, 120_000, `run ${k}`);
    }
    // the declined runs of the last interval are decided in the same pass as the served one's opening
    await until(() => logsOf(n, "run_declined", cheap.id).length === 3, 30_000, "the cheap subscription's three declines");

    // the consumer received three verified forecasts, runs 0, 1, 2, each on the readings of its interval
    const forecasts = await a.f.queryFilter(a.f.filters.Forecast());
    expect(forecasts.map((e) => Number(e.args.run))).to.deep.equal([0, 1, 2]);
    for (const [k, e] of forecasts.entries()) {
      const reference = inferQuantized(tf.model, q.slice(k, k + 7)).values?.[0];
      expect(e.args.forecast, `run ${k}`).to.equal(reference);
      expect(e.args.stale).to.equal(false);
    }
    const runsA = await opened(a.id);
    expect(runsA.map((e) => [Number(e.args.run), e.args.opener])).to.deep.equal([0, 1, 2].map((k) => [k, n.address]));
    for (const e of runsA) expect((await m.sys.jobs.resultOf(e.args.jobId))[0], `job ${e.args.jobId}`).to.equal(true);

    // one opening log line per run, with the job and the gas
    const lines = logsOf(n, "run_opened", a.id);
    expect(lines.map((l) => [l.run, String(l.jobId)])).to.deep.equal(runsA.map((e) => [Number(e.args.run), e.args.jobId.toString()]));
    for (const l of lines) expect(Number(l.gasUsed)).to.be.greaterThan(100_000);

    // the cancelled subscription: run 0 only; the unserved model and the cheap tip: never opened, never claimed
    expect((await opened(cancelled.id)).map((e) => Number(e.args.run))).to.deep.equal([0]);
    expect(await opened(unserved.id)).to.have.length(0);
    expect(await opened(cheap.id)).to.have.length(0);
    expect(logsOf(n, "subscription_ignored", unserved.id).map((l) => l.reason)).to.deep.equal([
      `model ${otherId} (owner ${m.wallet(1).address}) is not in PROVER_SERVE`,
    ]);
    expect(logsOf(n, "run_declined", cheap.id).map((l) => l.run)).to.deep.equal([0, 1, 2]);

    const metrics = await (await fetch(`${n.statusUrl}/metrics`)).text();
    expect(metrics).to.match(/^zkml_prover_subscription_runs_opened_total 4$/m);
    expect(metrics).to.match(/^zkml_prover_subscription_runs_skipped_total 0$/m);
    expect(metrics).to.match(/^zkml_prover_subscription_open_races_lost_total 0$/m);
    expect(metrics).to.match(/^zkml_prover_subscription_runs_declined_total 3$/m);
    const summary = await n.stop();
    node = undefined;
    expect(summary.fulfilled).to.equal(4);
  });

  it("a node restarted after sending an opening resumes that transaction and never sends another; a race lost to another opener is logged, not retried", async function () {
    const d = await subscribe(tfId);
    const account = m.wallet(7);
    await (await m.sys.jobs.connect(account).deposit({ value: (await m.sys.jobs.claimBond()) * 2n })).wait(); // no deposit later
    const cfg = { subscriptions: { address: await subs.getAddress() }, policy: onlyTf() };
    const key = `openRun:${d.id}:0`;

    // the opening is signed, recorded and broadcast, but not mined (automine off); the node stops; the transaction is
    // dropped from the mempool, so nothing but the node's record knows it
    await m.rpc("evm_setAutomine", [false]);
    const first = inProcessNode(m, 7, "restart", cfg);
    node = first;
    await first.start();
    await until(() => first.log.records.some((r) => r.event === "tx_sent" && r.key === key), 60_000, "the opening's broadcast");
    const hash = first.log.records.find((r) => r.event === "tx_sent" && r.key === key)?.hash as string;
    await first.stop(1_000);
    node = undefined;
    expect(await m.rpc("hardhat_dropTransaction", [hash])).to.equal(true);
    await m.rpc("evm_setAutomine", [true]);
    const store = await ProverStore.open(m.stateDir("restart"));
    expect((await store.getTx(key))?.status).to.equal("pending");
    await store.close();

    const second = inProcessNode(m, 7, "restart", cfg);
    node = second;
    await second.start();
    await until(async () => (await acted(d.f)) === 1, 120_000, "run 0 served after the restart");
    expect(second.log.records.filter((r) => r.event === "tx_resumed").map((r) => r.key)).to.deep.equal([key]);
    expect(logsOf(second, "run_opened", d.id).map((l) => [l.run, l.resumed, l.tx])).to.deep.equal([[0, true, hash]]);
    const runs = await opened(d.id);
    expect(runs.map((e) => [Number(e.args.run), e.args.opener, e.transactionHash])).to.deep.equal([[0, account.address, hash]]);
    const sent = [...first.log.records, ...second.log.records].filter((r) => r.event === "tx_sent" && String(r.key).startsWith("openRun:"));
    expect(sent.map((r) => [r.key, r.hash])).to.deep.equal([
      [key, hash],
      [key, hash],
    ]); // the first broadcast and its resend after the restart: the same bytes

    // run 1: the node's opening and another opener's (a higher tip to the miner) are mined in one block; the other is first
    await m.rpc("evm_setAutomine", [false]);
    await nextInterval();
    const key1 = `openRun:${d.id}:1`;
    await until(() => second.log.records.some((r) => r.event === "tx_sent" && r.key === key1), 60_000, "the node's opening of run 1");
    const rival = m.wallet(4);
    await subs.connect(rival).openRun(d.id, { gasLimit: 1_000_000, maxPriorityFeePerGas: 50n * 10n ** 9n, maxFeePerGas: 100n * 10n ** 9n });
    await m.rpc("evm_mine");
    await m.rpc("evm_setAutomine", [true]);
    await until(() => logsOf(second, "run_open_lost", d.id).length > 0, 30_000, "the lost race");
    expect(logsOf(second, "run_open_lost", d.id).map((l) => [l.run, l.winner, l.stage])).to.deep.equal([[1, rival.address, "mined"]]);
    expect((await opened(d.id)).map((e) => [Number(e.args.run), e.args.opener])).to.deep.equal([
      [0, account.address],
      [1, rival.address],
    ]);
    // the rival's run is an ordinary job: served; and the lost opening is not tried again
    await until(async () => (await acted(d.f)) === 2, 120_000, "run 1 served");
    expect(second.metrics.summary()).to.include({ runsOpened: 1, openRacesLost: 1, runsSkipped: 0 });
    expect(second.log.records.filter((r) => r.event === "tx_sent" && String(r.key).startsWith(`openRun:${d.id}:1`))).to.have.length(1);
    await second.stop();
    node = undefined;
  });

  it("reorganisations: its own opening dropped (with the blocks it scanned) is sent again, a rival's opening dropped above the confirmation depth is opened by the node; each run opened once on the final chain, nothing claimed above the depth", async function () {
    const mine = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++) await m.rpc("evm_mine");
    };
    for (const f of made) if (!(await subs.getSubscription(await f.subscriptionId())).cancelled) await (await f.stop()).wait(); // only this test's subscription runs
    const account = m.wallet(9);
    await (await m.sys.jobs.connect(account).deposit({ value: (await m.sys.jobs.claimBond()) * 2n })).wait(); // no deposit later
    const r = await subscribe(tfId); // run 0 due at once; SubscriptionCreated at the head, not yet 2 deep
    const n = inProcessNode(m, 9, "reorg-keeper", {
      confirmations: 2,
      subscriptions: { address: await subs.getAddress() },
      policy: onlyTf(),
      pollMs: 100,
      claimJitterMs: 0,
    });
    node = n;
    await n.start();
    const runsOf = async (run: number) => subs.queryFilter(subs.filters.RunOpened(r.id, run));
    const claimsOf = async (jobId: bigint) => m.sys.jobs.queryFilter(m.sys.jobs.filters.JobClaimed(jobId));
    await new Promise((res) => setTimeout(res, 500)); // five of its polls
    expect(await runsOf(0), "opened before its SubscriptionCreated was 2 blocks deep").to.have.length(0);

    // 1. the node's opening of run 0 is dropped with the blocks under it that it had scanned
    const snap = (await m.rpc("evm_snapshot")) as string;
    await mine(2);
    await until(async () => (await runsOf(0)).length === 1, 60_000, "the node's opening of run 0");
    const dropped = (await runsOf(0))[0];
    expect(await claimsOf(dropped.args.jobId), "claimed before its JobOpened was 2 blocks deep").to.have.length(0);
    expect(await m.rpc("evm_revert", [snap])).to.equal(true);
    await until(async () => (await runsOf(0)).length === 1, 60_000, "run 0 opened again on the new chain");
    const again = (await runsOf(0))[0];
    expect(again.transactionHash).to.not.equal(dropped.transactionHash);
    await mine(2);
    await until(async () => (await acted(r.f)) === 1, 120_000, "run 0 delivered");

    // 2. run 1 is opened by a rival; that opening is dropped before it is 2 blocks deep (the blocks the node scanned stay)
    await mine(2);
    await m.rpc("evm_setAutomine", [false]);
    await m.rpc("evm_increaseTime", [INTERVAL]);
    const snap1 = (await m.rpc("evm_snapshot")) as string;
    const rival = m.wallet(10);
    await subs.connect(rival).openRun(r.id, { gasLimit: 1_000_000 });
    await m.rpc("evm_mine");
    await m.rpc("evm_setAutomine", [true]);
    await until(() => logsOf(n, "run_opened_by_other", r.id).length > 0, 30_000, "the node to see the rival's opening");
    const rivals = await runsOf(1);
    expect(rivals.map((e) => e.args.opener)).to.deep.equal([rival.address]);
    expect(await claimsOf(rivals[0].args.jobId), "claimed above the confirmation depth").to.have.length(0);
    expect(await m.rpc("evm_revert", [snap1])).to.equal(true);
    await mine(1); // the interval's first block on the new chain
    await until(async () => (await runsOf(1)).length === 1, 60_000, "run 1 opened by the node on the new chain");
    await mine(2);
    await until(async () => (await acted(r.f)) === 2, 120_000, "run 1 delivered");

    // on the final chain: runs 0 and 1 opened once each, by the node, delivered once each; the node's openings were one
    // per run per chain (the first of run 0 on the dropped chain, its second attempt on this one)
    expect((await opened(r.id)).map((e) => [Number(e.args.run), e.args.opener])).to.deep.equal([
      [0, account.address],
      [1, account.address],
    ]);
    const delivered = await subs.queryFilter(subs.filters.RunDelivered(r.id));
    expect(delivered.map((e) => Number(e.args.run))).to.deep.equal([0, 1]);
    const sent = n.log.records.filter((l) => l.event === "tx_sent" && String(l.key).startsWith(`openRun:${r.id}:`)).map((l) => l.key);
    expect(sent).to.deep.equal([`openRun:${r.id}:0`, `openRun:${r.id}:0#1`, `openRun:${r.id}:1`]);
    expect(logsOf(n, "run_open_dropped", r.id).map((l) => [l.run, l.opener])).to.deep.equal([
      [0, account.address],
      [1, rival.address],
    ]);
    await n.stop();
    node = undefined;
  });

  it("bad subscription configuration is one line naming the variable and the fix", async function () {
    const env = {
      PROVER_RPC_URL: "http://127.0.0.1:8545",
      PROVER_PRIVATE_KEY: `0x${"11".repeat(32)}`,
      PROVER_JOBS_ADDRESS: m.jobsAddress,
      PROVER_STATE_DIR: "/tmp/state",
      PROVER_SERVE: "all",
    };
    const address = await subs.getAddress();
    expect(configFromEnv(env).subscriptions).to.equal(undefined);
    expect(configFromEnv({ ...env, PROVER_SUBSCRIPTIONS_ADDRESS: address.toLowerCase() }).subscriptions).to.deep.equal({ address });
    expect(configFromEnv({ ...env, PROVER_SUBSCRIPTIONS_ADDRESS: address, PROVER_MIN_TIP_WEI: "0" }).subscriptions).to.deep.equal({
      address,
      minTipWei: 0n,
    });
    expect(() => configFromEnv({ ...env, PROVER_SUBSCRIPTIONS_ADDRESS: "0x1234" })).to.throw(
      /^PROVER_SUBSCRIPTIONS_ADDRESS 0x1234: not an address; export the address of the InferenceSubscriptions contract/,
    );
    expect(() => configFromEnv({ ...env, PROVER_SUBSCRIPTIONS_ADDRESS: address, PROVER_MIN_TIP_WEI: "1e15" })).to.throw(
      /^PROVER_MIN_TIP_WEI must be a decimal number of wei, got "1e15": fix or unset it$/,
    );
    expect(() => configFromEnv({ ...env, PROVER_MIN_TIP_WEI: "1000" })).to.throw(
      /^PROVER_MIN_TIP_WEI is set but PROVER_SUBSCRIPTIONS_ADDRESS is not: export PROVER_SUBSCRIPTIONS_ADDRESS=.* or unset PROVER_MIN_TIP_WEI$/,
    );

    // at start: no contract there, a contract that is not InferenceSubscriptions, one beside another market
    const other = await deploySystem(m.wallet(0));
    const elsewhere = await deploySubscriptions(m.wallet(0), other.jobs);
    const cases: Array<[string, RegExp]> = [
      [
        "0x000000000000000000000000000000000000dEaD",
        /^PROVER_SUBSCRIPTIONS_ADDRESS 0x0+dEaD: no contract there on chain 31337: export the address/,
      ],
      [m.jobsAddress, /^PROVER_SUBSCRIPTIONS_ADDRESS 0x[0-9a-fA-F]{40}: the contract there is not an InferenceSubscriptions: export/],
      [await elsewhere.getAddress(), /: its runs go to the market 0x[0-9a-fA-F]{40}, not PROVER_JOBS_ADDRESS: export/],
    ];
    for (const [addr, error] of cases) {
      const n = inProcessNode(m, 8, "bad-subscriptions", { subscriptions: { address: addr } });
      let msg = "";
      await n.start().catch((e: Error) => (msg = e.message));
      expect(msg, addr).to.match(error);
    }
  });
});
