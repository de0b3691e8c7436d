/**
 * The explorer's indexer on the subscription and optimistic parts of the market, against a real `hardhat node`:
 * `InferenceSubscriptions` beside the test kit's market and the example `ScheduledForecaster` (deployForecaster, the
 * subscription demo's) over an oracle; runs opened by the prover, proven with real proofs and delivered, one skipped
 * (an oracle reading out of the model's range), two missed; optimistic jobs posted and finalised after the window,
 * disproven by another prover's proof (poster slashed), and challenged by bond then answered with a proof; then,
 * with the indexer following the chain, a run left unclaimed and reclaimed, and the subscription cancelled. Checks the
 * API's answers: /api/subscriptions, /api/subscriptions/:id (runs with their jobs and timelines), /api/jobs/:id's
 * optimistic stages and /api/provers' earnings.
 */
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import hre from "hardhat";
import { JsonRpcProvider, Wallet } from "ethers";
import { type LocalNode, startHardhatNode } from "../../scripts/chain/local-node";
import { devKey } from "../../scripts/apps/load/market";
import { deployInferenceKitWith, type InferenceKit } from "../../scripts/apps/testkit";
import { writeKitBundles } from "../../scripts/apps/package/bundles";
import { bindingFor, DEFAULT_MARKET, deploySubscriptions } from "../../scripts/chain/system";
import { quantizeWithCard } from "../../scripts/chain/client";
import { deployForecaster } from "../../scripts/apps/demo/forecaster";
import { proveInference } from "../../scripts/engine/prove/inference";
import { type QuantizedModel, validateModel } from "../../scripts/formats/quantized-model";
import { type RunningIndexer, startIndexer } from "../../scripts/apps/explorer/indexer";
import type { JobDetail, ProverRow, SubscriptionDetail, SubscriptionRow } from "../../scripts/formats/explorer-api";
import type { InferenceSubscriptions } from "../../typechain-types";

describe("explorer indexer: subscriptions and optimistic results on a hardhat node", function () {
  this.timeout(180_000);
  let tmp: string;
  let chain: LocalNode | undefined;
  let indexer: RunningIndexer | undefined;
  let provider: JsonRpcProvider;
  let kit: InferenceKit;
  let subsAddress: string;
  let forecaster: string;
  let subscriptionId: bigint;
  let subs: InferenceSubscriptions;
  let stopSubscription: () => Promise<unknown>;
  const runJobs: bigint[] = [];
  const ids: Record<"finalised" | "disproven" | "answered", bigint> = { finalised: 0n, disproven: 0n, answered: 0n };
  const FEE = 10n ** 16n;
  const TIP = 10n ** 15n;
  const INTERVAL = 60;
  const RUNS = 30;
  let disprover: Wallet;

  const get = async <T>(p: string): Promise<T> => {
    const r = await fetch(`${indexer!.url}${p}`);
    if (r.status !== 200) throw new Error(`${p}: HTTP ${r.status} ${await r.text()}`);
    return (await r.json()) as T;
  };
  const rpc = (method: string, params: unknown[] = []) => provider.send(method, params);
  const later = async (s: number) => {
    await rpc("evm_increaseTime", [s]);
    await rpc("evm_mine");
  };

  before(async function () {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "zkml-explorer-subs-"));
    await writeKitBundles(hre, path.join(tmp, "bundles"), ["iris-mlp", "temp-forecast"]);
    chain = await startHardhatNode();
    provider = new JsonRpcProvider(chain.url, undefined, { cacheTimeout: -1, polling: true, pollingInterval: 100 });
    const wallet = (i: number) => new Wallet(devKey(i), provider);
    kit = await deployInferenceKitWith([0, 1, 18, 19].map(wallet), { bundlesDir: path.join(tmp, "bundles") });
    const prover = kit.prover as Wallet;

    // the subscriber: a forecast by temp-forecast every minute over an oracle holding a card sample's readings
    subs = await deploySubscriptions(wallet(0), kit.jobs);
    subsAddress = (await subs.getAddress()).toLowerCase();
    const tf = kit.models["temp-forecast"];
    const readings = quantizeWithCard(tf.card, tf.card.samples![0].input);
    const f = await deployForecaster({
      subscriptions: subs,
      modelId: tf.modelId,
      outputFrac: tf.layout.outputFrac,
      owner: wallet(0),
      reporter: wallet(4),
      readings,
      interval: INTERVAL,
      runs: RUNS,
      fee: FEE,
      tip: TIP,
      runDeadline: 1200,
    });
    forecaster = (await f.forecaster.getAddress()).toLowerCase();
    subscriptionId = f.subscriptionId;
    stopSubscription = async () => (await f.forecaster.stop()).wait();
    const openRun = async () => {
      const jobId = await subs.connect(prover).openRun.staticCall(subscriptionId);
      await (await subs.connect(prover).openRun(subscriptionId)).wait();
      return jobId;
    };
    // run 0: opened by the prover, proven, delivered
    runJobs.push(await openRun());
    const [r0] = await kit.fulfilJobs();
    expect(r0.skipped).to.equal(undefined);
    // run 1: the newest reading is out of the model's input range: the market refuses the job, the run is skipped
    await (await f.oracle.connect(wallet(4)).record([2n ** 31n - 1n])).wait();
    await later(INTERVAL);
    expect(await openRun()).to.equal(0n);
    // runs 2 and 3: nobody opens them (missed, said by the opening of run 4), run 4 delivered
    await (await f.oracle.connect(wallet(4)).record(readings)).wait();
    await later(3 * INTERVAL);
    runJobs.push(await openRun());
    expect((await kit.fulfilJobs()).map((j) => j.skipped)).to.deep.equal([undefined]);

    // optimistic jobs on iris-mlp, each claimed by the prover and posted without a proof
    const iris = kit.models["iris-mlp"];
    const bdir = path.join(tmp, "bundles", "iris-mlp");
    const model = validateModel(JSON.parse(fs.readFileSync(path.join(bdir, "model.qmodel.json"), "utf8")) as QuantizedModel);
    const files = { wasm: path.join(bdir, "circuit.wasm"), zkey: path.join(bdir, "proving.zkey") };
    disprover = wallet(5);
    await (await kit.jobs.connect(disprover).deposit({ value: DEFAULT_MARKET.challengeBond * 2n })).wait();
    const proverAddress = await prover.getAddress();
    const posted = async (raw: number[], lie: boolean) => {
      const j = await kit.client.openJob({ modelId: iris.modelId, input: { raw }, fee: FEE, optimistic: true });
      await (await kit.jobs.connect(prover).claim(j.jobId)).wait();
      const own = await proveInference(model, files, j.x, j.salt, await bindingFor(kit.jobs, prover, j.jobId, proverAddress));
      await (await kit.jobs.connect(prover).postResult(j.jobId, lie ? own.output + 1n : own.output)).wait();
      return { ...j, own };
    };
    // finalised: unchallenged, final once its window ended (below)
    ids.finalised = (await posted([5.1, 3.5, 1.4, 0.2], false)).jobId;
    // disproven: a wrong output, and another prover's proof of the true one settles the job and slashes the poster
    const d = await posted([6.7, 3.0, 5.2, 2.3], true);
    ids.disproven = d.jobId;
    const other = await proveInference(model, files, d.x, d.salt, await bindingFor(kit.jobs, disprover, d.jobId, disprover.address));
    await (await kit.jobs.connect(disprover).submitResult(d.jobId, other.output, other.packed.bytes)).wait();
    // answered: challenged by bond, the poster proves its output and takes the challenge bond
    const a = await posted([5.9, 3.0, 4.2, 1.5], false);
    ids.answered = a.jobId;
    await (await kit.jobs.connect(disprover).challengeResult(a.jobId)).wait();
    await (await kit.jobs.connect(prover).submitResult(a.jobId, a.own.output, a.own.packed.bytes)).wait();
    await later(DEFAULT_MARKET.challengeWindow + 1);
    await (await kit.jobs.finalizeResult(ids.finalised)).wait();

    indexer = await startIndexer({
      rpcUrl: chain.url,
      chainId: 31337,
      jobs: await kit.jobs.getAddress(),
      subscriptions: subsAddress,
      dbDir: path.join(tmp, "db"),
      pollMs: 200,
      readyTimeoutMs: 90_000,
    });
    await indexer.waitForBlock(await provider.getBlockNumber());
  });

  after(async function () {
    await indexer?.stop();
    await chain?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("lists the subscription with its counters and shows its runs with their jobs and timelines", async function () {
    expect((await get<{ subscriptions: string | null }>("/api/status")).subscriptions).to.equal(subsAddress);
    const list = await get<{ items: SubscriptionRow[]; total: number }>("/api/subscriptions");
    expect(list.total).to.equal(1);
    expect(list.items[0]).to.include({
      subscriptionId: subscriptionId.toString(),
      owner: forecaster,
      modelId: kit.modelId("temp-forecast").toString(),
      version: 1,
      intervalS: INTERVAL,
      runs: RUNS,
      nextRun: 5,
      runDeadlineS: 1200,
      cancelled: false,
      optimistic: false,
      feePerRunWei: FEE.toString(),
      tipPerRunWei: TIP.toString(),
      feeToken: null,
      opened: 2,
      delivered: 2,
      skipped: 1,
      missed: 2,
      reclaimed: 0,
    });

    const d = await get<SubscriptionDetail>(`/api/subscriptions/${subscriptionId}`);
    expect(d.subscription).to.deep.equal(list.items[0]);
    expect(d.runs.map((r) => [r.run, r.status, r.count])).to.deep.equal([
      ["4", "delivered", 1],
      ["2", "missed", 2],
      ["1", "skipped", 1],
      ["0", "delivered", 1],
    ]);
    const proverAddress = (await kit.prover.getAddress()).toLowerCase();
    for (const [r, jobId] of [
      [d.runs[0], runJobs[1]],
      [d.runs[3], runJobs[0]],
    ] as const) {
      expect(r).to.include({ jobId: jobId.toString(), opener: proverAddress, callbackFailed: false, feeWei: null });
      expect(r.output).to.match(/^\d+$/);
      expect(r.settledAt).to.be.at.least(r.openedAt);
      expect(r.job).to.include({
        jobId: jobId.toString(),
        status: "fulfilled",
        requester: subsAddress,
        prover: proverAddress,
        subscriptionId: subscriptionId.toString(),
        output: r.output,
        feeWei: FEE.toString(),
      });
      expect(r.timeline.map((t) => t.stage)).to.deep.equal(["opened", "claimed", "fulfilled"]);
    }
    expect(d.runs[2]).to.include({ jobId: null, reason: 3, job: null });
    expect(d.runs[2].timeline).to.deep.equal([]);
    expect(d.runs[1]).to.include({ jobId: null, job: null });

    const job = await get<JobDetail>(`/api/jobs/${runJobs[0]}`);
    expect(job.job).to.include({ subscriptionId: subscriptionId.toString(), run: "0", inputMode: "public", callback: true });
    expect(job.job.inputs).to.have.length(7);
    expect((await fetch(`${indexer!.url}/api/subscriptions/99`)).status).to.equal(404);
    expect((await fetch(`${indexer!.url}/api/subscriptions/x`)).status).to.equal(400);
  });

  it("shows an optimistic job's stages: posted then finalised, disproven by a proof, challenged then answered", async function () {
    const proverAddress = (await kit.prover.getAddress()).toLowerCase();
    const stages = (d: JobDetail) => d.timeline.map((t) => t.stage);

    const fin = await get<JobDetail>(`/api/jobs/${ids.finalised}`);
    expect(fin.job).to.include({ status: "fulfilled", optimistic: true, prover: proverAddress, challengedAt: null });
    expect(fin.job.postedTx).to.match(/^0x[0-9a-f]{64}$/);
    expect(fin.job.postedAt).to.be.a("number");
    expect(stages(fin)).to.deep.equal(["opened", "optimistic", "claimed", "posted", "fulfilled"]);
    expect(fin.job.claims.map((c) => c.outcome)).to.deep.equal(["fulfilled"]);

    const dis = await get<JobDetail>(`/api/jobs/${ids.disproven}`);
    const slash = (DEFAULT_MARKET.claimBond * BigInt(DEFAULT_MARKET.slashBps)) / 10_000n;
    expect(dis.job).to.include({
      status: "fulfilled",
      optimistic: true,
      prover: disprover.address.toLowerCase(),
      bounty: slash.toString(),
      paidBounty: slash.toString(),
    });
    expect(stages(dis)).to.deep.equal(["opened", "optimistic", "claimed", "posted", "posterSlashed", "fulfilled"]);
    expect(dis.job.claims.map((c) => [c.prover, c.outcome, c.slashed])).to.deep.equal([[proverAddress, "slashed", slash.toString()]]);
    const slashed = dis.timeline.find((t) => t.stage === "posterSlashed")!;
    expect(slashed.data).to.include({ rewarded: disprover.address.toLowerCase(), slashed: slash.toString(), reopened: false });

    const ans = await get<JobDetail>(`/api/jobs/${ids.answered}`);
    expect(ans.job).to.include({ status: "fulfilled", optimistic: true, prover: proverAddress });
    expect(ans.job.challengedTx).to.match(/^0x[0-9a-f]{64}$/);
    expect(stages(ans)).to.deep.equal(["opened", "optimistic", "claimed", "posted", "challenged", "challengeAnswered", "fulfilled"]);
    expect(ans.timeline.find((t) => t.stage === "challenged")!.actor).to.equal(disprover.address.toLowerCase());
  });

  it("credits the provers: fees, bounties, opening tips and challenge rewards; the poster's lost bond", async function () {
    const { items } = await get<{ items: ProverRow[] }>("/api/provers");
    const by = new Map(items.map((p) => [p.address, p]));
    const bond = DEFAULT_MARKET.claimBond;
    const slash = (bond * BigInt(DEFAULT_MARKET.slashBps)) / 10_000n;
    const p = by.get((await kit.prover.getAddress()).toLowerCase())!;
    // two runs and two optimistic jobs served, one post disproven; fees of the four, the two runs' tips, and the
    // challenge bond its answer won
    expect(p).to.include({ served: 4, claims: 5, failures: 1, bondLockedWei: "0", slashedWei: bond.toString() });
    expect(BigInt(p.earningsWei)).to.equal(4n * FEE + 2n * TIP + DEFAULT_MARKET.challengeBond);
    // the disprover: the job's fee, the slashed half of the bond as the job's bounty, the other half as its reward;
    // the challenge bond it lost
    const d = by.get(disprover.address.toLowerCase())!;
    expect(d).to.include({ served: 1, claims: 0, failures: 0, slashedWei: DEFAULT_MARKET.challengeBond.toString() });
    expect(BigInt(d.earningsWei)).to.equal(FEE + slash + (bond - slash));
    expect(BigInt(d.depositedWei)).to.equal(DEFAULT_MARKET.challengeBond * 2n);
  });

  it("follows a live subscription: runs missed over the optimistic jobs' window, a run reclaimed, the subscription cancelled", async function () {
    const prover = kit.prover as Wallet;
    // the optimistic jobs' window moved the clock past several intervals: opening now says they were missed
    const [run] = await subs.currentRun(subscriptionId);
    const jobId = await subs.connect(prover).openRun.staticCall(subscriptionId);
    await (await subs.connect(prover).openRun(subscriptionId)).wait();
    // nobody claims it: after its deadline anyone reclaims it and its fee goes back to the owner
    await later(1201);
    await (await subs.reclaimRun(jobId)).wait();
    await stopSubscription();
    await indexer!.waitForBlock(await provider.getBlockNumber());
    const d = await get<SubscriptionDetail>(`/api/subscriptions/${subscriptionId}`);
    expect(d.subscription).to.include({ cancelled: true, opened: 3, delivered: 2, skipped: 1, reclaimed: 1, nextRun: Number(run) + 1 });
    expect(d.subscription.missed).to.equal(2 + Number(run) - 5);
    expect(BigInt(d.subscription.refundedWei!)).to.be.greaterThan(0n);
    expect(d.runs.slice(0, 2).map((r) => [r.run, r.status, r.count])).to.deep.equal([
      [run.toString(), "reclaimed", 1],
      ["5", "missed", Number(run) - 5],
    ]);
    expect(d.runs[0]).to.include({ jobId: jobId.toString(), feeWei: FEE.toString(), output: null });
    expect(d.runs[0].job).to.include({ status: "reclaimed", subscriptionId: subscriptionId.toString() });
    expect(d.runs[0].timeline.map((t) => t.stage)).to.deep.equal(["opened", "reclaimed"]);
    const list = await get<{ items: SubscriptionRow[] }>("/api/subscriptions");
    expect(list.items[0]).to.deep.equal(d.subscription);
  });
});
