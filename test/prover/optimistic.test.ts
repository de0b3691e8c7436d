import { expect } from "chai";
import { type ConsumerHarness, ConsumerHarness__factory } from "../../typechain-types";
import { SNARK_FIELD } from "../../scripts/util/field";
import { dataUri } from "../../scripts/formats/job-input";
import { inferQuantized, inputCommitment } from "../../scripts/formats/quantized-model";
import { currentModelVersion } from "../../scripts/chain/system";
import type { ProverNode } from "../../scripts/apps/prover/node";
import { prometheusText } from "../../scripts/apps/prover/http";
import { ProverStore } from "../../scripts/apps/prover/store";
import { configFromEnv } from "../../scripts/apps/prover/config";
import { type Market, inProcessNode, startMarket, until } from "../../scripts/apps/load/market";

interface Line {
  event?: string;
  jobId?: string;
  [k: string]: unknown;
}

/**
 * A prover node serves optimistic jobs (docs/prover.md, "Optimistic results"; docs/market-rules.md): as a poster it
 * posts a claimed optimistic job's result without a proof, finalises it after the window (paid, the consumer's
 * callback runs) and answers a bond challenge with a proof (the challenge bond won); as a watcher it re-runs results
 * others post and disproves a wrong one with a proof of the true output, and does nothing on a correct one. A node
 * stopped between its post and the finalisation resumes with the finalisation only. Real `hardhat node`, iris-mlp,
 * real Groth16 proofs; the jobs come from `ConsumerHarness._requestOptimisticInference` (open + setOptimistic in one
 * transaction), the windows passed with evm_increaseTime.
 */
describe("prover nodes: optimistic results", function () {
  const FEE = 10n ** 16n;
  /** Below the poster's minimum: only the test's own account posts on these jobs. */
  const LOW_FEE = 10n ** 15n;
  let m: Market;
  let harness: ConsumerHarness;
  let poster: ProverNode;
  let watcher: ProverNode;
  let cw: number;
  let claimBond: bigint;
  let challengeBond: bigint;
  let slash: bigint;
  const posterLines: Line[] = [];
  const watcherLines: Line[] = [];
  let n = 0;

  const sink = (into: Line[]) => (line: string) => {
    into.push(JSON.parse(line) as Line);
    if (process.env.PROVER_TEST_LOGS === "1") process.stdout.write(line + "\n");
  };
  const posterNode = (): ProverNode =>
    inProcessNode(m, 6, "poster", { minFeeWei: FEE, optimistic: { post: true, watch: false }, logSink: sink(posterLines) });

  before(async function () {
    m = await startMarket();
    harness = await new ConsumerHarness__factory(m.requester).deploy(
      m.jobsAddress,
      m.modelId,
      await currentModelVersion(m.sys.jobs, m.modelId),
    );
    await harness.waitForDeployment();
    const [bond, window] = await m.sys.jobs.optimisticParameters();
    [challengeBond, cw] = [bond, Number(window)];
    claimBond = await m.sys.jobs.claimBond();
    slash = (claimBond * (await m.sys.jobs.slashBps())) / 10_000n;
    // the test's own poster and challenger
    for (const i of [8, 9]) await (await m.sys.jobs.connect(m.wallet(i)).deposit({ value: 10n ** 17n })).wait();
    poster = posterNode();
    watcher = inProcessNode(m, 7, "watcher", {
      minFeeWei: 10n ** 30n,
      optimistic: { post: true, watch: true },
      logSink: sink(watcherLines),
    });
    await Promise.all([poster.start(), watcher.start()]);
  });

  after(async function () {
    await poster?.stop().catch(() => undefined);
    await watcher?.stop().catch(() => undefined);
    await m?.stop();
  });

  /** An optimistic iris job opened by the harness (one transaction), with its opening published as a data: URI. */
  async function optimisticJob(fee = FEE): Promise<{ jobId: bigint; expected: bigint }> {
    n++;
    const x = [-462n, 404n, -653n, -681n].map((v, i) => v + BigInt(n * 41 + i * 7));
    const salt = (BigInt(n) * 1_000_003n + 11n) % SNARK_FIELD;
    const now = (await m.provider.getBlock("latest"))!.timestamp;
    const jobId = await m.sys.jobs.nextJobId();
    const c = await inputCommitment(m.built.model, x, salt);
    await (await harness.requestCommittedOptimistic(c, dataUri({ x, salt }), now + 3600, { value: fee })).wait();
    expect((await m.sys.jobs.optimisticStateOf(jobId)).optimistic).to.equal(true);
    return { jobId, expected: inferQuantized(m.built.model, x).output };
  }

  const posted = async (jobId: bigint, by: string): Promise<boolean> => (await m.sys.jobs.optimisticStateOf(jobId)).poster === by;
  const passWindow = async (): Promise<void> => {
    await m.rpc("evm_increaseTime", [cw + 1]);
    await m.rpc("evm_mine");
  };
  const fulfilledBy = async (jobId: bigint): Promise<string[]> =>
    (await m.sys.jobs.queryFilter(m.sys.jobs.filters.JobFulfilled(jobId))).map((e) => e.args.prover);
  const available = async (who: string): Promise<bigint> => (await m.sys.jobs.accountOf(who)).available;

  it("posts the result of a claimed optimistic job without a proof, then finalises it after the window: paid, the callback ran", async function () {
    const { jobId, expected } = await optimisticJob();
    await until(() => posted(jobId, poster.address), 20_000, "the poster's ResultPosted");
    const st = await m.sys.jobs.optimisticStateOf(jobId);
    expect(st.output).to.equal(expected);
    expect((await m.sys.jobs.getJob(jobId)).status).to.equal(5n); // Posted
    expect(poster.metrics.proved).to.equal(0); // no proof
    // the watcher re-runs it and leaves it alone; checked before the window is passed (after it, nothing is to check)
    await until(() => watcherLines.some((l) => l.event === "result_checked" && l.jobId === jobId.toString()), 20_000, "watcher's check");
    expect(watcherLines.find((l) => l.event === "result_checked" && l.jobId === jobId.toString())).to.include({ verdict: "correct" });
    const before = await available(poster.address);
    await passWindow();
    await until(async () => (await m.sys.jobs.resultOf(jobId))[0], 20_000, "finalisation");
    expect(await m.sys.jobs.resultOf(jobId)).to.deep.equal([true, expected]);
    expect(await fulfilledBy(jobId)).to.deep.equal([poster.address]);
    expect(await harness.lastOutput()).to.equal(expected); // the consumer's callback ran
    expect(await harness.isPending(jobId)).to.equal(false);
    expect((await available(poster.address)) - before).to.equal(FEE + claimBond); // fee, and the bond back
    await until(() => poster.jobRecords().find((r) => r.jobId === jobId.toString())?.state === "done", 5_000, "recorded done");
    const s = poster.metrics.summary();
    expect([s.optimisticPosted, s.optimisticFinalised, s.proved, s.optimisticEarningsWei.finalised]).to.deep.equal([1, 1, 0, FEE]);
    const text = prometheusText(await poster.snapshot());
    expect(text).to.match(/^zkml_prover_optimistic_posted_total 1$/m);
    expect(text).to.match(/^zkml_prover_optimistic_finalised_total 1$/m);
    expect(text).to.match(new RegExp(`^zkml_prover_optimistic_earnings_wei_total\\{source="finalised"\\} ${FEE}$`, "m"));
    expect(text).to.match(/^zkml_prover_optimistic_watch 0$/m);
    expect(text).to.match(/^zkml_prover_jobs\{state="posted"\} 0$/m);
    expect(poster.health()).to.include({ ok: true, optimistic: "post", watch: "off" });
  });

  it("answers a bond challenge of its posted result with a proof of it, and wins the challenge bond", async function () {
    const { jobId, expected } = await optimisticJob();
    await until(() => posted(jobId, poster.address), 20_000, "the poster's ResultPosted");
    const challenger = m.wallet(8);
    const [pBefore, cBefore] = [await available(poster.address), await available(challenger.address)];
    await (await m.sys.jobs.connect(challenger).challengeResult(jobId)).wait();
    await until(async () => (await m.sys.jobs.resultOf(jobId))[0], 30_000, "the poster's answer");
    const answered = await m.sys.jobs.queryFilter(m.sys.jobs.filters.ChallengeAnswered(jobId));
    expect(answered.map((e) => [e.args.poster, e.args.challenger, e.args.bond])).to.deep.equal([
      [poster.address, challenger.address, challengeBond],
    ]);
    expect(await m.sys.jobs.resultOf(jobId)).to.deep.equal([true, expected]);
    expect(await fulfilledBy(jobId)).to.deep.equal([poster.address]);
    expect((await available(poster.address)) - pBefore).to.equal(FEE + claimBond + challengeBond);
    expect(cBefore - (await available(challenger.address))).to.equal(challengeBond);
    expect(await harness.lastOutput()).to.equal(expected);
    await until(() => poster.metrics.challengesAnswered === 1, 5_000, "challenge booked");
    expect(poster.metrics.optimisticEarningsWei.answered).to.equal(FEE + challengeBond);
    expect(poster.metrics.proved).to.equal(1);
    expect(posterLines.some((l) => l.event === "challenge_received" && l.jobId === jobId.toString())).to.equal(true);
  });

  it("as a watcher, disproves a wrong result another account posted with a proof of the true output, and is paid", async function () {
    const { jobId, expected } = await optimisticJob(LOW_FEE);
    const liar = m.wallet(9);
    const wrong = (expected + 1n) % 3n;
    await (await m.sys.jobs.connect(liar).claim(jobId)).wait();
    const wBefore = await available(watcher.address);
    await (await m.sys.jobs.connect(liar).postResult(jobId, wrong)).wait();
    await until(async () => (await m.sys.jobs.resultOf(jobId))[0], 30_000, "the watcher's disproof");
    expect(await m.sys.jobs.resultOf(jobId)).to.deep.equal([true, expected]);
    expect(await fulfilledBy(jobId)).to.deep.equal([watcher.address]);
    const slashed = await m.sys.jobs.queryFilter(m.sys.jobs.filters.PosterSlashed(jobId));
    expect(slashed.map((e) => [e.args.poster, e.args.rewarded, e.args.reward, e.args.reopened])).to.deep.equal([
      [liar.address, watcher.address, claimBond - slash, false],
    ]);
    // fee, the slash through the bounty, and the rest of the liar's bond as first challenger
    const earned = LOW_FEE + claimBond;
    expect((await available(watcher.address)) - wBefore).to.equal(earned);
    expect(await harness.lastOutput()).to.equal(expected);
    await until(() => watcher.metrics.challengesMade === 1, 5_000, "disproof booked");
    expect(watcher.metrics.optimisticEarningsWei.challenges).to.equal(earned);
    expect(watcher.jobRecords().find((r) => r.jobId === jobId.toString())).to.deep.include({
      state: "done",
      watch: { verdict: "wrong", output: expected.toString() },
    });
    expect(prometheusText(await watcher.snapshot())).to.match(/^zkml_prover_optimistic_challenges_made_total 1$/m);
    expect(watcher.health()).to.include({ watch: "on" });
  });

  it("as a watcher, re-runs a correct result another account posted and does nothing", async function () {
    const { jobId, expected } = await optimisticJob(LOW_FEE);
    const honest = m.wallet(9);
    await (await m.sys.jobs.connect(honest).claim(jobId)).wait();
    const checked = watcher.metrics.resultsChecked;
    const sent = await m.provider.getTransactionCount(watcher.address);
    await (await m.sys.jobs.connect(honest).postResult(jobId, expected)).wait();
    await until(() => watcherLines.some((l) => l.event === "result_checked" && l.jobId === jobId.toString()), 10_000, "watcher's check");
    expect(watcherLines.find((l) => l.event === "result_checked" && l.jobId === jobId.toString())).to.include({
      verdict: "correct",
      output: expected.toString(),
    });
    expect(watcher.metrics.resultsChecked).to.equal(checked + 1);
    await new Promise((r) => setTimeout(r, 1_000)); // a few more ticks
    expect(await m.provider.getTransactionCount(watcher.address)).to.equal(sent);
    expect(watcher.metrics.challengesMade).to.equal(1); // the earlier wrong one only
    expect((await m.sys.jobs.getJob(jobId)).status).to.equal(5n); // still Posted, unchallenged
  });

  it("stopped between its post and the finalisation, a restarted poster finalises once and posts nothing again", async function () {
    const { jobId, expected } = await optimisticJob();
    await until(() => posted(jobId, poster.address), 20_000, "the poster's ResultPosted");
    await until(() => poster.jobRecords().find((r) => r.jobId === jobId.toString())?.state === "posted", 5_000, "recorded posted");
    await poster.stop();
    await passWindow();
    posterLines.length = 0;
    poster = posterNode();
    await poster.start();
    await until(async () => (await m.sys.jobs.resultOf(jobId))[0], 20_000, "finalisation after the restart");
    expect(await m.sys.jobs.resultOf(jobId)).to.deep.equal([true, expected]);
    expect(await fulfilledBy(jobId)).to.deep.equal([poster.address]);
    expect((await m.sys.jobs.queryFilter(m.sys.jobs.filters.ResultPosted(jobId))).length).to.equal(1);
    const sent = posterLines.filter((l) => l.event === "tx_sent").map((l) => l.key as string);
    expect(sent.filter((k) => k.startsWith("post:"))).to.deep.equal([]);
    expect(sent.filter((k) => k.startsWith("finalize:"))).to.deep.equal([`finalize:${jobId}:1`]);
    expect(posterLines.filter((l) => l.event === "result_finalised").map((l) => l.jobId)).to.deep.equal([jobId.toString()]);
    await poster.stop();
    const store = await ProverStore.open(m.stateDir("poster"));
    expect((await store.getJob(jobId))?.state).to.equal("done");
    await store.close();
  });

  it("PROVER_OPTIMISTIC and PROVER_WATCH from the environment; a bad value is one line", function () {
    const env = {
      PROVER_RPC_URL: "http://127.0.0.1:8545",
      PROVER_PRIVATE_KEY: `0x${"11".repeat(32)}`,
      PROVER_JOBS_ADDRESS: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
      PROVER_STATE_DIR: "/tmp/state",
      PROVER_SERVE: "all",
    };
    expect(configFromEnv(env).optimistic).to.deep.equal({ post: true, watch: true });
    expect(configFromEnv({ ...env, PROVER_OPTIMISTIC: "prove", PROVER_WATCH: "off" }).optimistic).to.deep.equal({
      post: false,
      watch: false,
    });
    expect(() => configFromEnv({ ...env, PROVER_WATCH: "yes" })).to.throw(
      /^PROVER_WATCH must be on or off, got "yes": fix or unset it \(default on\)$/,
    );
    expect(() => configFromEnv({ ...env, PROVER_OPTIMISTIC: "1" })).to.throw(/^PROVER_OPTIMISTIC must be post or prove, got "1"/);
  });
});
