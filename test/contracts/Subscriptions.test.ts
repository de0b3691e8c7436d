/**
 * InferenceSubscriptions (docs/market-rules.md, "Subscriptions") on the mock market: creation and its refusals, one run
 * per interval on the owner's state at opening, tips and missed runs, skipped runs (a view that reverts, burns its
 * gas, answers malformed or huge data, values the market refuses) and the gas-starving opener, delivery with the run
 * index (a consumer that reverts does not stop the prover's payment), a proof over another interval's inputs, cancel
 * racing a delivery, top-ups, reclaims and the escrow invariant. Real proofs: test/e2e/subscription.test.ts.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { packSigned } from "../../scripts/formats/commitments";
import type { ModelLayout } from "../../scripts/formats/model-layout";
import { SNARK_FIELD } from "../../scripts/util/field";
import {
  commitment,
  createAdapter,
  depositStake,
  jobBinding,
  mockMarketFixture,
  mockProof,
  modelSignal,
  registerMockWithLayout,
} from "./fixtures";
import type { InferenceSubscriptions, MockSubscriptionConsumer } from "../../typechain-types";

const LAYOUT = { inputMode: 1, outputHead: 1, inputCount: 3, inputBits: 12, outputCount: 1, outputBits: 16, outputFrac: 6 };
const MODEL_HASH = 777n;
const FEE = ethers.parseEther("0.01");
const TIP = ethers.parseEther("0.001");
const HOUR = 3600;
const RUN_DEADLINE = 3 * HOUR;

async function subscriptionsFixture() {
  const m = await mockMarketFixture();
  const modelId = await registerMockWithLayout(m, MODEL_HASH, LAYOUT);
  const subs: InferenceSubscriptions = await (await ethers.getContractFactory("InferenceSubscriptions")).deploy(await m.jobs.getAddress());
  const consumer: MockSubscriptionConsumer = await (
    await ethers.getContractFactory("MockSubscriptionConsumer")
  ).deploy(await subs.getAddress());
  await consumer.setInputs([1n, -2n, 3n]);
  const subscribe = async (runs = 3, c = consumer) => {
    const id = await c.subscribe.staticCall(modelId, 1n, HOUR, runs, FEE, TIP, RUN_DEADLINE, { value: BigInt(runs) * (FEE + TIP) });
    await c.subscribe(modelId, 1n, HOUR, runs, FEE, TIP, RUN_DEADLINE, { value: BigInt(runs) * (FEE + TIP) });
    return id;
  };
  /** Opens the due run as `who`; returns its job id (0 when skipped). */
  const open = async (id: bigint, who = m.stranger) => {
    const jobId = await subs.connect(who).openRun.staticCall(id);
    await subs.connect(who).openRun(id);
    return jobId;
  };
  /** A (mock) proof of `value` for `jobId` over the input words of `wordsOf` (default: the job's own). */
  const proofFor = async (jobId: bigint, value: bigint, wordsOf = jobId) => {
    const words = await m.jobs.inputSignalsOf(wordsOf);
    const out = packSigned([value], LAYOUT.outputBits)[0];
    return {
      out,
      proof: mockProof([
        out,
        await modelSignal(MODEL_HASH, LAYOUT as ModelLayout),
        words[0],
        jobBinding(m.chainId, await m.jobs.getAddress(), jobId, m.prover.address),
      ]),
    };
  };
  const deliver = async (jobId: bigint, value: bigint) => {
    const { out, proof } = await proofFor(jobId, value);
    return m.jobs.connect(m.prover).submitResult(jobId, out, proof);
  };
  return { ...m, modelId, subs, consumer, subscribe, open, proofFor, deliver };
}

type S = Awaited<ReturnType<typeof subscriptionsFixture>>;

/** The contract holds exactly the escrow of every subscription plus every credit (nothing forced in here). */
async function expectSolvent(s: S, ids: bigint[], accounts: string[]) {
  let owed = 0n;
  for (const id of ids) owed += await s.subs.escrowOf(id);
  for (const a of accounts) owed += await s.subs.creditOf(a);
  expect(await ethers.provider.getBalance(await s.subs.getAddress())).to.equal(owed);
}

describe("InferenceSubscriptions", function () {
  it("creates a subscription owned by its caller, paid up front, and refuses each unusable parameter by name", async function () {
    const s = await loadFixture(subscriptionsFixture);
    const id = await s.subscribe(3);
    expect(id).to.equal(1n);
    const sub = await s.subs.getSubscription(id);
    expect(sub.owner).to.equal(await s.consumer.getAddress());
    expect(sub.runs).to.equal(3n);
    expect(sub.nextRun).to.equal(0n);
    expect(await s.subs.escrowOf(id)).to.equal(3n * (FEE + TIP));
    const c = s.subs.connect(s.requester);
    const now = await time.latest();
    const bad: [string, bigint | number, [bigint, bigint, number, number, number, bigint, bigint, number]][] = [
      ["modelId", 0, [0n, 1n, HOUR, 0, 1, FEE, 0n, 60]],
      ["modelVersion", 0, [s.modelId, 0n, HOUR, 0, 1, FEE, 0n, 60]],
      ["interval", 59, [s.modelId, 1n, 59, 0, 1, FEE, 0n, 60]],
      ["runs", 0, [s.modelId, 1n, HOUR, 0, 0, FEE, 0n, 60]],
      ["feePerRun", 0, [s.modelId, 1n, HOUR, 0, 1, 0n, 0n, 60]],
      ["runDeadline", 0, [s.modelId, 1n, HOUR, 0, 1, FEE, 0n, 0]],
      ["start", now - 10, [s.modelId, 1n, HOUR, now - 10, 1, FEE, 0n, 60]],
      ["start", now + 400 * 86400, [s.modelId, 1n, HOUR, now + 400 * 86400, 1, FEE, 0n, 60]],
      ["runs", 2, [s.modelId, 1n, 4_000_000_000, 0, 2, FEE, 0n, 60]],
    ];
    for (const [name, value, args] of bad)
      await expect(c.createSubscription(...args, { value: FEE }), name)
        .to.be.revertedWithCustomError(s.subs, "InvalidSubscriptionParameter")
        .withArgs(name, value);
    await expect(c.createSubscription(s.modelId, 1n, HOUR, 0, 2, FEE, TIP, 60, { value: FEE }))
      .to.be.revertedWithCustomError(s.subs, "WrongEscrow")
      .withArgs(2n * (FEE + TIP), FEE);
    await expect(s.subs.getSubscription(9n)).to.be.revertedWithCustomError(s.subs, "UnknownSubscription").withArgs(9n);
  });

  it("opens one run per interval on the owner's inputs at that moment, tips the opener, refunds missed intervals, and ends after the paid runs", async function () {
    const s = await loadFixture(subscriptionsFixture);
    const id = await s.subscribe(4);
    const consumer = await s.consumer.getAddress();
    const j0 = await s.open(id);
    expect(j0).to.be.greaterThan(0n);
    expect(await s.subs.runOf(j0)).to.deep.equal([id, 0n]);
    const job = await s.jobs.getJob(j0);
    expect(job.requester).to.equal(await s.subs.getAddress());
    expect(job.escrow).to.equal(FEE);
    expect(job.callback).to.equal(true);
    const words0 = await s.jobs.inputSignalsOf(j0);
    expect(words0[0]).to.equal(packSigned([1n, -2n, 3n], 12)[0]);
    expect(await s.subs.creditOf(s.stranger.address)).to.equal(TIP);
    // the same interval again: nothing due until the next one
    const [, due, opensAt] = await s.subs.currentRun(id);
    expect(due).to.equal(false);
    await expect(s.subs.openRun(id)).to.be.revertedWithCustomError(s.subs, "RunNotDue").withArgs(id, opensAt);
    // the state changes; run 1 reads the new state
    await s.consumer.setInputs([5n, 6n, -7n]);
    await time.increaseTo(opensAt);
    const j1 = await s.open(id, s.requester);
    expect((await s.jobs.inputSignalsOf(j1))[0]).to.equal(packSigned([5n, 6n, -7n], 12)[0]);
    expect(await s.subs.runOf(j1)).to.deep.equal([id, 1n]);
    // nobody opens run 2: at run 3's interval, run 2's fee and tip go back to the owner
    await time.increase(2 * HOUR);
    await expect(s.subs.openRun(id)).to.emit(s.subs, "RunsMissed").withArgs(id, 2n, 1n);
    expect(await s.subs.creditOf(consumer)).to.equal(FEE + TIP);
    await time.increase(HOUR);
    await expect(s.subs.openRun(id)).to.be.revertedWithCustomError(s.subs, "SubscriptionEnded").withArgs(id, 4n);
    expect((await s.subs.currentRun(id))[2]).to.equal(0n);
    await expectSolvent(s, [id], [consumer, s.stranger.address, s.requester.address, s.deployer.address]);
  });

  it("delivers each verified result to the owner with its run index; a proof over another interval's inputs is refused", async function () {
    const s = await loadFixture(subscriptionsFixture);
    const id = await s.subscribe(2);
    const j0 = await s.open(id);
    await s.consumer.setInputs([9n, 9n, 9n]);
    await time.increase(HOUR);
    const j1 = await s.open(id);
    // run 1's job with a proof computed over run 0's inputs
    const wrong = await s.proofFor(j1, 5n, j0);
    await expect(s.jobs.connect(s.prover).submitResult(j1, wrong.out, wrong.proof)).to.be.revertedWithCustomError(s.jobs, "InvalidProof");
    const out1 = packSigned([5n], 16)[0];
    await expect(s.deliver(j1, 5n))
      .to.emit(s.subs, "RunDelivered")
      .withArgs(id, 1n, j1, out1)
      .and.to.emit(s.consumer, "Received")
      .withArgs(id, 1n, j1, out1)
      .and.not.to.emit(s.jobs, "CallbackFailed");
    await expect(s.deliver(j0, -3n))
      .to.emit(s.consumer, "Received")
      .withArgs(id, 0n, j0, packSigned([-3n], 16)[0]);
    expect(await s.subs.runOf(j0)).to.deep.equal([0n, 0n]);
    // only the market calls back, only for awaited runs
    await expect(s.subs.onInferenceResult(j0, 1n)).to.be.revertedWithCustomError(s.subs, "NotInferenceJobs").withArgs(s.deployer.address);
    await expect(s.consumer.onSubscriptionResult(id, 0n, j0, 1n))
      .to.be.revertedWithCustomError(s.consumer, "NotSubscriptions")
      .withArgs(s.deployer.address);
  });

  it("skips a run whose input view reverts, burns its gas, answers malformed or huge data, or values the market refuses: fee refunded, tip paid", async function () {
    const s = await loadFixture(subscriptionsFixture);
    const id = await s.subscribe(5);
    const consumer = await s.consumer.getAddress();
    for (const [mode, reason] of [
      [1, 1],
      [4, 1],
      [2, 2],
      [3, 2],
    ] as const) {
      await s.consumer.setMode(mode);
      await expect(s.subs.connect(s.stranger).openRun(id), `mode ${mode}`).to.emit(s.subs, "RunSkipped").withArgs(id, anyRun(), reason);
      await time.increase(HOUR);
    }
    // a value outside the model's 12-bit range: the market refuses the job
    await s.consumer.setMode(0);
    await s.consumer.setInputs([4096n, 0n, 0n]);
    await expect(s.subs.connect(s.stranger).openRun(id)).to.emit(s.subs, "RunSkipped").withArgs(id, 4n, 3);
    expect(await s.subs.creditOf(consumer)).to.equal(5n * FEE);
    expect(await s.subs.creditOf(s.stranger.address)).to.equal(5n * TIP);
    await expectSolvent(s, [id], [consumer, s.stranger.address]);
    // the owner takes its refunds
    await expect(s.consumer.withdrawRefunds()).to.changeEtherBalance(s.consumer, 5n * FEE);
  });

  it("an opener cannot starve the view or the market of gas to skip a run and take the tip", async function () {
    const s = await loadFixture(subscriptionsFixture);
    const id = await s.subscribe(1);
    const need = await s.subs.openRun.estimateGas(id);
    // every gas limit below what the opening needs: the whole call reverts (nothing skipped, no tip), never a skip
    let opened = 0n;
    for (let gasLimit = 60_000n; gasLimit <= need + 20_000n; gasLimit += 4_000n) {
      const tx = s.subs.connect(s.stranger).openRun(id, { gasLimit });
      const receipt = await tx.then((t) => t.wait()).catch(() => undefined);
      if (!receipt) continue;
      expect(receipt.logs.map((l) => s.subs.interface.parseLog(l)?.name)).to.not.include("RunSkipped");
      opened = gasLimit;
      break;
    }
    expect(opened, "an opening at the estimated gas succeeds").to.be.greaterThan(0n);
    expect((await s.subs.runOf((await s.jobs.nextJobId()) - 1n))[0]).to.equal(id);
    expect(await s.subs.creditOf(s.stranger.address)).to.equal(TIP);
  });

  it("pays the prover even when the owner's callback reverts or burns its gas", async function () {
    const s = await loadFixture(subscriptionsFixture);
    const id = await s.subscribe(2);
    const j0 = await s.open(id);
    await time.increase(HOUR);
    const j1 = await s.open(id);
    await s.consumer.setMode(5);
    await expect(s.deliver(j0, 1n)).to.emit(s.subs, "RunCallbackFailed").withArgs(id, 0n, j0);
    await s.consumer.setMode(6);
    await expect(s.deliver(j1, 1n)).to.emit(s.subs, "RunCallbackFailed").withArgs(id, 1n, j1);
    expect((await s.jobs.accountOf(s.prover.address)).available).to.be.greaterThanOrEqual(2n * FEE);
  });

  it("cancel refunds the runs never opened and honours a run in flight, which is still delivered; top-ups and owner-only calls", async function () {
    const s = await loadFixture(subscriptionsFixture);
    const id = await s.subscribe(3);
    const consumer = await s.consumer.getAddress();
    await expect(s.subs.topUp(id, 2, { value: FEE }))
      .to.be.revertedWithCustomError(s.subs, "WrongEscrow")
      .withArgs(2n * (FEE + TIP), FEE);
    await expect(s.subs.connect(s.stranger).topUp(id, 2, { value: 2n * (FEE + TIP) }))
      .to.emit(s.subs, "SubscriptionToppedUp")
      .withArgs(id, 5n);
    const j0 = await s.open(id);
    await expect(s.subs.connect(s.stranger).cancel(id))
      .to.be.revertedWithCustomError(s.subs, "NotSubscriptionOwner")
      .withArgs(id, s.stranger.address);
    await expect(s.subs.connect(s.stranger).pinVersion(id, 2n)).to.be.revertedWithCustomError(s.subs, "NotSubscriptionOwner");
    await expect(s.consumer.cancel(id))
      .to.emit(s.subs, "SubscriptionCancelled")
      .withArgs(id, 4n * (FEE + TIP));
    await expect(s.subs.openRun(id)).to.be.revertedWithCustomError(s.subs, "SubscriptionIsCancelled").withArgs(id);
    await expect(s.subs.topUp(id, 1, { value: FEE + TIP })).to.be.revertedWithCustomError(s.subs, "SubscriptionIsCancelled");
    // the run opened before the cancel still delivers
    await expect(s.deliver(j0, 2n)).to.emit(s.consumer, "Received");
    await expectSolvent(s, [id], [consumer, s.stranger.address]);
  });

  it("records a run whose run-table entry holds another awaited run beside it; both deliver or reclaim", async function () {
    const s = await loadFixture(subscriptionsFixture);
    const id = await s.subscribe(2);
    const j0 = await s.open(id);
    // 255 other market jobs: run 1's job id is then j0 + 256, the same entry of the 256-entry table as run 0's
    const deadline = (await time.latest()) + 10 * HOUR;
    for (let i = 0; i < 255; i++)
      await s.jobs.connect(s.requester).openJobWithInputs(s.modelId, 1n, [0n, 0n, 0n], deadline, false, { value: 1n });
    await time.increase(HOUR);
    const j1 = await s.open(id);
    expect(j1).to.equal(j0 + 256n);
    expect(await s.subs.runOf(j0)).to.deep.equal([id, 0n]);
    expect(await s.subs.runOf(j1)).to.deep.equal([id, 1n]);
    await expect(s.deliver(j1, 4n))
      .to.emit(s.consumer, "Received")
      .withArgs(id, 1n, j1, packSigned([4n], 16)[0]);
    expect(await s.subs.runOf(j1)).to.deep.equal([0n, 0n]);
    expect(await s.subs.runOf(j0)).to.deep.equal([id, 0n]);
    await time.increase(RUN_DEADLINE + 1);
    await expect(s.subs.reclaimRun(j0)).to.emit(s.subs, "RunReclaimed").withArgs(id, 0n, j0, FEE);
    await expect(s.subs.reclaimRun(j1)).to.be.revertedWithCustomError(s.subs, "UnknownRun").withArgs(j1);
    await expect(s.subs.reclaimRun(j0)).to.be.revertedWithCustomError(s.subs, "UnknownRun").withArgs(j0);
    expect(await s.subs.runOf(j0)).to.deep.equal([0n, 0n]);
  });

  it("reclaims an expired run's fee back to the owner (anyone may), and never before its deadline", async function () {
    const s = await loadFixture(subscriptionsFixture);
    const id = await s.subscribe(1);
    const consumer = await s.consumer.getAddress();
    const j0 = await s.open(id);
    await expect(s.subs.reclaimRun(j0)).to.be.revertedWithCustomError(s.jobs, "DeadlineNotPassed");
    await time.increase(RUN_DEADLINE + 1);
    await expect(s.subs.connect(s.stranger).reclaimRun(j0)).to.emit(s.subs, "RunReclaimed").withArgs(id, 0n, j0, FEE);
    expect(await s.subs.creditOf(consumer)).to.equal(FEE);
    await expect(s.subs.reclaimRun(j0)).to.be.revertedWithCustomError(s.subs, "UnknownRun").withArgs(j0);
    await expectSolvent(s, [id], [consumer, s.stranger.address]);
    await expect(s.subs.connect(s.stranger).withdraw()).to.changeEtherBalance(s.stranger, TIP);
    await expect(s.subs.connect(s.stranger).withdraw()).to.be.revertedWithCustomError(s.subs, "NothingToWithdraw");
    await expect(s.stranger.sendTransaction({ to: await s.subs.getAddress(), value: 1n })).to.be.revertedWithCustomError(
      s.subs,
      "UnexpectedEther",
    );
  });
});

/** Any run index (the skip test steps through intervals). */
function anyRun() {
  return (v: bigint) => v >= 0n;
}

describe("InferenceSubscriptions paid in an ERC-20 token", function () {
  const UNIT = 10n ** 6n; // a 6-decimal token
  const TFEE = 5n * UNIT;
  const TTIP = UNIT / 2n;

  async function tokenFixture() {
    const s = await subscriptionsFixture();
    const token = await (await ethers.getContractFactory("MockERC20")).deploy("Stable", "STB");
    const consumerAddr = await s.consumer.getAddress();
    await token.mint(consumerAddr, 1000n * UNIT);
    const asConsumer = await ethers.getImpersonatedSigner(consumerAddr);
    await ethers.provider.send("hardhat_setBalance", [consumerAddr, "0x56BC75E2D63100000"]);
    /** The consumer subscribes through its base contract's `_subscribeWithToken` (it approves exactly the escrow). */
    const create = async (runs: number, t: { getAddress(): Promise<string> } = token) => {
      const args = [await t.getAddress(), s.modelId, 1n, HOUR, runs, TFEE, TTIP, RUN_DEADLINE] as const;
      const id = await s.consumer.subscribeWithToken.staticCall(...args);
      await s.consumer.subscribeWithToken(...args);
      return id;
    };
    return { ...s, token, asConsumer, create };
  }

  /** The contract's token balance equals the token subscriptions' escrow plus every token credit. */
  async function expectTokenSolvent(t: Awaited<ReturnType<typeof tokenFixture>>, ids: bigint[], accounts: string[]) {
    let owed = 0n;
    for (const id of ids) owed += await t.subs.escrowOf(id);
    for (const a of accounts) owed += await t.subs.tokenCreditOf(a, await t.token.getAddress());
    expect(await t.token.balanceOf(await t.subs.getAddress())).to.equal(owed);
  }

  it("escrows the token, opens each run as a token job of the market, pays the prover, tips and refunds in the token", async function () {
    const t = await loadFixture(tokenFixture);
    const tokenAddr = await t.token.getAddress();
    const consumer = await t.consumer.getAddress();
    const id = await t.create(3);
    expect((await t.subs.getSubscription(id)).feeToken).to.equal(tokenAddr);
    expect(await t.token.balanceOf(await t.subs.getAddress())).to.equal(3n * (TFEE + TTIP));
    const j0 = await t.open(id);
    expect(await t.jobs.feeTokenOf(j0)).to.equal(tokenAddr);
    expect((await t.jobs.getJob(j0)).escrow).to.equal(TFEE);
    expect(await t.subs.tokenCreditOf(t.stranger.address, tokenAddr)).to.equal(TTIP);
    expect(await t.subs.creditOf(t.stranger.address)).to.equal(0n);
    await expect(t.deliver(j0, 3n)).to.emit(t.consumer, "Received");
    expect(await t.jobs.tokenBalanceOf(t.prover.address, tokenAddr)).to.equal(TFEE);
    // run 1 skipped (the view reverts): its fee back to the owner in the token
    await time.increase(HOUR);
    await t.consumer.setMode(1);
    await expect(t.subs.connect(t.stranger).openRun(id)).to.emit(t.subs, "RunSkipped").withArgs(id, 1n, 1);
    await t.consumer.setMode(0);
    // run 2 expires unfulfilled and is reclaimed in the token
    await time.increase(HOUR);
    const j2 = await t.open(id);
    await time.increase(RUN_DEADLINE + 1);
    await expect(t.subs.reclaimRun(j2)).to.emit(t.subs, "RunReclaimed").withArgs(id, 2n, j2, TFEE);
    expect(await t.subs.tokenCreditOf(consumer, tokenAddr)).to.equal(2n * TFEE);
    await expectTokenSolvent(t, [id], [consumer, t.stranger.address]);
    await expect(t.subs.connect(t.stranger).withdrawToken(tokenAddr))
      .to.emit(t.subs, "TokenWithdrawn")
      .withArgs(t.stranger.address, tokenAddr, 3n * TTIP);
    expect(await t.token.balanceOf(t.stranger.address)).to.equal(3n * TTIP);
    await expectTokenSolvent(t, [id], [consumer, t.stranger.address]);
  });

  it("tops up and cancels in the token; refuses ETH with a token top-up, a token without code and a fee-on-transfer token", async function () {
    const t = await loadFixture(tokenFixture);
    const tokenAddr = await t.token.getAddress();
    const consumer = await t.consumer.getAddress();
    const id = await t.create(2);
    await t.token.mint(t.stranger.address, 100n * UNIT);
    await t.token.connect(t.stranger).approve(await t.subs.getAddress(), ethers.MaxUint256);
    await expect(t.subs.connect(t.stranger).topUp(id, 1, { value: 1n }))
      .to.be.revertedWithCustomError(t.subs, "WrongEscrow")
      .withArgs(0n, 1n);
    await expect(t.subs.connect(t.stranger).topUp(id, 2)).to.emit(t.subs, "SubscriptionToppedUp").withArgs(id, 4n);
    expect(await t.token.balanceOf(t.stranger.address)).to.equal(100n * UNIT - 2n * (TFEE + TTIP));
    await t.open(id);
    await expect(t.consumer.cancel(id))
      .to.emit(t.subs, "SubscriptionCancelled")
      .withArgs(id, 3n * (TFEE + TTIP));
    expect(await t.subs.tokenCreditOf(consumer, tokenAddr)).to.equal(3n * (TFEE + TTIP));
    await expectTokenSolvent(t, [id], [consumer, t.stranger.address]);
    expect(await t.consumer.withdrawTokenRefunds.staticCall(tokenAddr)).to.equal(3n * (TFEE + TTIP));
    await t.consumer.withdrawTokenRefunds(tokenAddr);
    expect(await t.token.balanceOf(consumer)).to.equal(1000n * UNIT - 2n * (TFEE + TTIP) + 3n * (TFEE + TTIP));
    // a token that leaves the contract with less than it had before the pull: refused, nothing received
    const shrink = await (await ethers.getContractFactory("MockShrinkingToken")).deploy();
    await shrink.mint(consumer, 1000n * UNIT);
    await expect(t.consumer.subscribeWithToken(await shrink.getAddress(), t.modelId, 1n, HOUR, 1, TFEE, 0n, RUN_DEADLINE))
      .to.be.revertedWithCustomError(t.subs, "TokenAmountNotReceived")
      .withArgs(await shrink.getAddress(), TFEE, 0n);

    const c = t.subs.connect(t.asConsumer);
    await expect(t.consumer.subscribeWithToken(t.stranger.address, t.modelId, 1n, HOUR, 1, TFEE, 0n, RUN_DEADLINE))
      .to.be.revertedWithCustomError(t.subs, "InvalidSubscriptionParameter")
      .withArgs("token", BigInt(t.stranger.address));
    await expect(c.createTokenSubscription(t.stranger.address, t.modelId, 1n, HOUR, 0, 1, TFEE, 0n, RUN_DEADLINE))
      .to.be.revertedWithCustomError(t.subs, "InvalidSubscriptionParameter")
      .withArgs("token", BigInt(t.stranger.address));
    const fot = await (await ethers.getContractFactory("MockFeeOnTransferToken")).deploy(100); // 1% kept by the token
    await fot.mint(consumer, 1000n * UNIT);
    await expect(t.consumer.subscribeWithToken(await fot.getAddress(), t.modelId, 1n, HOUR, 1, TFEE, 0n, RUN_DEADLINE))
      .to.be.revertedWithCustomError(t.subs, "TokenAmountNotReceived")
      .withArgs(await fot.getAddress(), TFEE, TFEE - TFEE / 100n);
  });

  it("a token that blocks the market's pull skips the run (fee back to the owner, tip to the opener): nobody loses to it for free", async function () {
    const t = await loadFixture(tokenFixture);
    const blk = await (await ethers.getContractFactory("MockBlocklistToken")).deploy();
    const consumer = await t.consumer.getAddress();
    await blk.mint(consumer, 1000n * UNIT);
    const id = await t.create(2, blk);
    await blk.setBlocked(await t.jobs.getAddress(), true);
    await expect(t.subs.connect(t.stranger).openRun(id)).to.emit(t.subs, "RunSkipped").withArgs(id, 0n, 3);
    expect(await t.subs.tokenCreditOf(consumer, await blk.getAddress())).to.equal(TFEE);
    expect(await t.subs.tokenCreditOf(t.stranger.address, await blk.getAddress())).to.equal(TTIP);
    await blk.setBlocked(await t.jobs.getAddress(), false);
    await time.increase(HOUR);
    expect(await t.open(id)).to.be.greaterThan(0n);
  });
});

describe("InferenceSubscriptions on committed-input versions (rule 8)", function () {
  const CLAYOUT = { ...LAYOUT, inputMode: 0 };
  const CHASH = 4242n;
  const C = 123_456_789n; // a run's input commitment (any field element for the mock verifier)
  const URI = "data:application/json,%7B%22x%22%3A%5B%221%22%5D%2C%22salt%22%3A%227%22%7D";

  async function committedFixture() {
    const s = await subscriptionsFixture();
    const committedId = await registerMockWithLayout(s, CHASH, CLAYOUT);
    const subscribeTo = async (modelId: bigint, runs = 3, version = 1n) => {
      const args = [modelId, version, HOUR, runs, FEE, TIP, RUN_DEADLINE] as const;
      const id = await s.consumer.subscribe.staticCall(...args, { value: BigInt(runs) * (FEE + TIP) });
      await s.consumer.subscribe(...args, { value: BigInt(runs) * (FEE + TIP) });
      return id;
    };
    /** A (mock) proof of `value` for the committed job `jobId` by `prover` over commitment `c`. */
    const committedProof = async (jobId: bigint, value: bigint, c = C, prover = s.prover) => {
      const out = packSigned([value], CLAYOUT.outputBits)[0];
      return {
        out,
        proof: mockProof([
          out,
          await modelSignal(CHASH, CLAYOUT as ModelLayout),
          c,
          jobBinding(s.chainId, await s.jobs.getAddress(), jobId, prover.address),
        ]),
      };
    };
    await depositStake(s.jobs, [s.prover, s.prover2]);
    return { ...s, committedId, subscribeTo, committedProof };
  }

  it("records the version's input mode at creation and at pinVersion, and refuses a version the registry does not have", async function () {
    const s = await loadFixture(committedFixture);
    const pub = await s.subscribeTo(s.modelId);
    const com = await s.subscribeTo(s.committedId);
    expect((await s.subs.getSubscription(pub)).inputMode).to.equal(1n);
    expect((await s.subs.getSubscription(com)).inputMode).to.equal(0n);
    // version 2 of the committed model takes public inputs: pinning it records mode 1
    const adapter = await createAdapter(s.factory, await s.mock.getAddress(), 4);
    await s.registry.connect(s.modelOwner).updateModelWithLayout(s.committedId, commitment({ modelHash: CHASH + 1n }), adapter, LAYOUT);
    const asConsumer = await ethers.getImpersonatedSigner(await s.consumer.getAddress());
    await ethers.provider.send("hardhat_setBalance", [await s.consumer.getAddress(), "0xDE0B6B3A7640000"]);
    await expect(s.subs.connect(asConsumer).pinVersion(com, 2n)).to.emit(s.subs, "SubscriptionVersionPinned").withArgs(com, 2n);
    expect((await s.subs.getSubscription(com)).inputMode).to.equal(1n);
    await expect(s.subs.connect(asConsumer).pinVersion(com, 3n))
      .to.be.revertedWithCustomError(s.subs, "InvalidSubscriptionParameter")
      .withArgs("modelVersion", 3n);
    await expect(s.subs.connect(s.requester).createSubscription(s.committedId, 3n, HOUR, 0, 1, FEE, 0n, 60, { value: FEE }))
      .to.be.revertedWithCustomError(s.subs, "InvalidSubscriptionParameter")
      .withArgs("modelVersion", 3n);
    await expect(s.subs.connect(s.requester).createSubscription(999n, 1n, HOUR, 0, 1, FEE, 0n, 60, { value: FEE }))
      .to.be.revertedWithCustomError(s.subs, "InvalidSubscriptionParameter")
      .withArgs("modelVersion", 1n);
  });

  it("opens a committed run on the owner's commitment with its URI as a public-opening job, and delivers its verified result", async function () {
    const s = await loadFixture(committedFixture);
    const id = await s.subscribeTo(s.committedId);
    await s.consumer.setCommitment(C, URI);
    const subsAddr = await s.subs.getAddress();
    const jobId = await s.subs.connect(s.stranger).openRun.staticCall(id);
    const tx = s.subs.connect(s.stranger).openRun(id);
    await expect(tx)
      .to.emit(s.jobs, "JobOpened")
      .withArgs(jobId, subsAddr, s.committedId, 1n, C, FEE, anyRun(), true, URI)
      .and.to.emit(s.subs, "RunOpened")
      .withArgs(id, 0n, jobId, s.stranger.address)
      .and.not.to.emit(s.jobs, "JobInputs");
    const job = await s.jobs.getJob(jobId);
    expect([job.requester, job.inputCommitment, job.privateInput, job.callback, job.escrow]).to.deep.equal([subsAddr, C, false, true, FEE]);
    expect(await s.subs.runOf(jobId)).to.deep.equal([id, 0n]);
    expect(await s.subs.creditOf(s.stranger.address)).to.equal(TIP);
    // a proof over another commitment does not verify; one over the run's commitment does
    const wrong = await s.committedProof(jobId, 5n, C + 1n);
    await expect(s.jobs.connect(s.prover).submitResult(jobId, wrong.out, wrong.proof)).to.be.revertedWithCustomError(
      s.jobs,
      "InvalidProof",
    );
    const ok = await s.committedProof(jobId, 5n);
    await expect(s.jobs.connect(s.prover).submitResult(jobId, ok.out, ok.proof))
      .to.emit(s.subs, "RunDelivered")
      .withArgs(id, 0n, jobId, ok.out)
      .and.to.emit(s.consumer, "Received")
      .withArgs(id, 0n, jobId, ok.out);
    // the public-opening job takes no delivery
    await expect(s.consumer.deliverRunInput(jobId, s.prover.address, "0x01"))
      .to.be.revertedWithCustomError(s.subs, "UnknownRun")
      .withArgs(jobId);
    await expectSolvent(s, [id], [await s.consumer.getAddress(), s.stranger.address]);
  });

  it("an empty URI opens a private run: only the owner delivers and designates (forwarded to the market); a non-owner is refused", async function () {
    const s = await loadFixture(committedFixture);
    const id = await s.subscribeTo(s.committedId);
    await s.consumer.setCommitment(C, "");
    const jobId = await s.open(id);
    const job = await s.jobs.getJob(jobId);
    expect([job.inputCommitment, job.privateInput]).to.deep.equal([C, true]);
    await expect(s.subs.connect(s.stranger).designateRunClaimant(jobId, s.stranger.address))
      .to.be.revertedWithCustomError(s.subs, "NotSubscriptionOwner")
      .withArgs(id, s.stranger.address);
    await expect(s.consumer.designateRunClaimant(jobId, s.prover.address))
      .to.emit(s.jobs, "ClaimantDesignated")
      .withArgs(jobId, s.prover.address);
    await expect(s.jobs.connect(s.prover2).claim(jobId)).to.be.revertedWithCustomError(s.jobs, "NotDesignatedClaimant");
    await s.jobs.connect(s.prover).claim(jobId);
    const ct = "0xc1c2c3";
    // nobody but the owner delivers: not a stranger calling the subscriptions contract, not the market's requester rule
    await expect(s.subs.connect(s.stranger).deliverRunInput(jobId, s.prover.address, ct))
      .to.be.revertedWithCustomError(s.subs, "NotSubscriptionOwner")
      .withArgs(id, s.stranger.address);
    await expect(s.jobs.connect(s.stranger).deliverInput(jobId, s.prover.address, ct)).to.be.revertedWithCustomError(
      s.jobs,
      "NotRequester",
    );
    // the market still checks the claim: a ciphertext for another claimant is refused
    await expect(s.consumer.deliverRunInput(jobId, s.prover2.address, ct))
      .to.be.revertedWithCustomError(s.jobs, "ClaimantMismatch")
      .withArgs(jobId, s.prover2.address, s.prover.address);
    await expect(s.consumer.deliverRunInput(jobId, s.prover.address, ct))
      .to.emit(s.jobs, "InputDelivered")
      .withArgs(jobId, s.prover.address, anyRun(), ct);
    expect((await s.jobs.claimOf(jobId)).deliveredAt).to.be.greaterThan(0n);
    const ok = await s.committedProof(jobId, 9n);
    await expect(s.jobs.connect(s.prover).submitResult(jobId, ok.out, ok.proof))
      .to.emit(s.consumer, "Received")
      .withArgs(id, 0n, jobId, ok.out);
    await expect(s.consumer.deliverRunInput(jobId, s.prover.address, ct))
      .to.be.revertedWithCustomError(s.subs, "UnknownRun")
      .withArgs(jobId);
  });

  it("a private run never delivered: the claimant's bond comes back whole, the fee comes back to the owner at reclaimRun; a cancel still lets the owner deliver", async function () {
    const s = await loadFixture(committedFixture);
    const id = await s.subscribeTo(s.committedId, 2);
    const consumer = await s.consumer.getAddress();
    await s.consumer.setCommitment(C, "");
    const j0 = await s.open(id);
    const bond = await s.jobs.claimBond();
    const before = await s.jobs.accountOf(s.prover2.address);
    await s.jobs.connect(s.prover2).claim(j0);
    await time.increase(Number(await s.jobs.deliveryWindow()) + 1);
    await expect(s.jobs.expireClaim(j0)).to.emit(s.jobs, "ClaimExpired").withArgs(j0, s.prover2.address, 0n, bond);
    expect(await s.jobs.accountOf(s.prover2.address)).to.deep.equal(before);
    await expect(s.jobs.connect(s.prover2).claim(j0)).to.be.revertedWithCustomError(s.jobs, "AlreadyClaimedOnce");
    // run 1 opens, then the owner cancels: the run in flight can still be delivered to by the owner
    await time.increaseTo((await s.subs.currentRun(id))[2]);
    const j1 = await s.open(id);
    await s.consumer.cancel(id);
    await s.jobs.connect(s.prover).claim(j1);
    await expect(s.consumer.deliverRunInput(j1, s.prover.address, "0x01")).to.emit(s.jobs, "InputDelivered");
    // run 0's deadline passes: anyone reclaims, the whole fee back to the owner
    await time.increase(RUN_DEADLINE + 1);
    await expect(s.subs.connect(s.stranger).reclaimRun(j0)).to.emit(s.subs, "RunReclaimed").withArgs(id, 0n, j0, FEE);
    expect(await s.subs.creditOf(consumer)).to.equal(FEE);
    await expect(s.consumer.deliverRunInput(j0, s.prover.address, "0x01"))
      .to.be.revertedWithCustomError(s.subs, "UnknownRun")
      .withArgs(j0);
    await expectSolvent(s, [id], [consumer, s.stranger.address]);
  });

  it("skips a bad commitment answer (a commitment not below r, a malformed answer, a URI too long, a view that reverts): fee back, tip paid", async function () {
    const s = await loadFixture(committedFixture);
    const id = await s.subscribeTo(s.committedId, 10);
    const consumer = await s.consumer.getAddress();
    const cases: [mode: number, commitment: bigint, reason: number][] = [
      [0, SNARK_FIELD, 3], // the market refuses it (InputCommitmentNotInField)
      [1, C, 1], // the view reverts
      [2, C, 2], // 64 bytes: no (uint256, string)
      [7, C, 2], // not whole words
      [8, C, 2], // a string offset that is not 0x40
      [9, C, 2], // a URI of 8,193 bytes
      [10, C, 2], // a URI length above the bytes that follow
      [11, C, 1], // the base's default view (a consumer that serves public inputs only)
      [12, C, 2], // nothing
      [13, C, 2], // three words and one more byte
    ];
    for (const [k, [mode, c, reason]] of cases.entries()) {
      await s.consumer.setMode(mode);
      await s.consumer.setCommitment(c, URI);
      await expect(s.subs.connect(s.stranger).openRun(id), `mode ${mode}`).to.emit(s.subs, "RunSkipped").withArgs(id, BigInt(k), reason);
      await time.increase(HOUR);
    }
    expect(await s.subs.creditOf(consumer)).to.equal(10n * FEE);
    expect(await s.subs.creditOf(s.stranger.address)).to.equal(10n * TIP);
    await expectSolvent(s, [id], [consumer, s.stranger.address]);
    // and a public-input subscription whose consumer serves committed inputs only: skipped the same way
    const pub = await s.subscribeTo(s.modelId, 1);
    await s.consumer.setMode(11);
    await expect(s.subs.connect(s.stranger).openRun(pub)).to.emit(s.subs, "RunSkipped").withArgs(pub, 0n, 1);
  });

  it("an opener cannot starve a committed run's view or the market of gas to skip it and take the tip", async function () {
    const s = await loadFixture(committedFixture);
    for (const uri of [URI, ""]) {
      const id = await s.subscribeTo(s.committedId, 1);
      await s.consumer.setCommitment(C, uri);
      const need = await s.subs.openRun.estimateGas(id);
      let opened = 0n;
      for (let gasLimit = 60_000n; gasLimit <= need + 20_000n; gasLimit += 4_000n) {
        const receipt = await s.subs
          .connect(s.stranger)
          .openRun(id, { gasLimit })
          .then((t) => t.wait())
          .catch(() => undefined);
        if (!receipt) continue;
        expect(receipt.logs.map((l) => s.subs.interface.parseLog(l)?.name)).to.not.include("RunSkipped");
        opened = gasLimit;
        break;
      }
      expect(opened, `an opening at the estimated gas succeeds (uri "${uri.slice(0, 5)}")`).to.be.greaterThan(0n);
      expect((await s.subs.runOf((await s.jobs.nextJobId()) - 1n))[0]).to.equal(id);
    }
  });

  it("a token subscription on a committed version opens token jobs: public opening and private delivery", async function () {
    const s = await loadFixture(committedFixture);
    const token = await (await ethers.getContractFactory("MockERC20")).deploy("Stable", "STB");
    await token.mint(await s.consumer.getAddress(), 10n ** 24n);
    const args = [await token.getAddress(), s.committedId, 1n, HOUR, 2, FEE, TIP, RUN_DEADLINE] as const;
    const id = await s.consumer.subscribeWithToken.staticCall(...args);
    await s.consumer.subscribeWithToken(...args);
    await s.consumer.setCommitment(C, URI);
    const j0 = await s.open(id);
    expect(await s.jobs.feeTokenOf(j0)).to.equal(await token.getAddress());
    expect((await s.jobs.getJob(j0)).privateInput).to.equal(false);
    await time.increase(HOUR);
    await s.consumer.setCommitment(C, "");
    const j1 = await s.open(id);
    expect(await s.jobs.feeTokenOf(j1)).to.equal(await token.getAddress());
    expect((await s.jobs.getJob(j1)).privateInput).to.equal(true);
    expect(await s.subs.tokenCreditOf(s.stranger.address, await token.getAddress())).to.equal(2n * TIP);
  });
});

describe("InferenceSubscriptions: every refusal and edge", function () {
  it("refuses a market without code and each parameter at its bound, by name; owner-only version pins; views of unknown ids", async function () {
    const s = await loadFixture(subscriptionsFixture);
    const F = await ethers.getContractFactory("InferenceSubscriptions");
    await expect(F.deploy(s.stranger.address))
      .to.be.revertedWithCustomError(F, "InvalidSubscriptionParameter")
      .withArgs("jobs", BigInt(s.stranger.address));
    const c = s.subs.connect(s.requester);
    for (const [name, args] of [
      ["modelId", [2n ** 32n, 1n, HOUR, 0, 1, FEE, 0n, 60]],
      ["modelVersion", [s.modelId, 2n ** 16n, HOUR, 0, 1, FEE, 0n, 60]],
      ["runs", [s.modelId, 1n, HOUR, 0, 1_000_001, FEE, 0n, 60]],
    ] as const)
      await expect(c.createSubscription(...args, { value: FEE }), name).to.be.revertedWithCustomError(
        s.subs,
        "InvalidSubscriptionParameter",
      );
    const id = await s.subscribe(1);
    await expect(s.subs.topUp(id, 0)).to.be.revertedWithCustomError(s.subs, "InvalidSubscriptionParameter").withArgs("runs", 0n);
    await expect(s.subs.topUp(id, 1_000_000))
      .to.be.revertedWithCustomError(s.subs, "InvalidSubscriptionParameter")
      .withArgs("runs", 1_000_000n);
    // a long interval: one more run would end past the market's uint32 deadlines
    const far = await c.createSubscription.staticCall(s.modelId, 1n, 1_000_000_000, 0, 1, FEE, 0n, 60, { value: FEE });
    await c.createSubscription(s.modelId, 1n, 1_000_000_000, 0, 1, FEE, 0n, 60, { value: FEE });
    await expect(s.subs.topUp(far, 2, { value: 2n * FEE }))
      .to.be.revertedWithCustomError(s.subs, "InvalidSubscriptionParameter")
      .withArgs("runs", 2n);
    // the owner pins a version it checked; 0 and above 16 bits are refused
    await expect(c.pinVersion(far, 0n)).to.be.revertedWithCustomError(s.subs, "InvalidSubscriptionParameter").withArgs("modelVersion", 0n);
    await expect(c.pinVersion(far, 2n ** 16n)).to.be.revertedWithCustomError(s.subs, "InvalidSubscriptionParameter");
    await expect(c.pinVersion(far, 1n)).to.emit(s.subs, "SubscriptionVersionPinned").withArgs(far, 1n);
    // a subscription starting later: nothing due before its start
    const start = (await time.latest()) + 1000;
    const later = await c.createSubscription.staticCall(s.modelId, 1n, HOUR, start, 1, FEE, 0n, 60, { value: FEE });
    await c.createSubscription(s.modelId, 1n, HOUR, start, 1, FEE, 0n, 60, { value: FEE });
    expect(await s.subs.currentRun(later)).to.deep.equal([0n, false, BigInt(start)]);
    await expect(s.subs.openRun(later)).to.be.revertedWithCustomError(s.subs, "RunNotDue").withArgs(later, start);
    await c.cancel(later);
    expect(await s.subs.currentRun(later)).to.deep.equal([0n, false, 0n]);
    expect(await s.subs.escrowOf(later)).to.equal(0n);
    await expect(s.subs.currentRun(99n)).to.be.revertedWithCustomError(s.subs, "UnknownSubscription").withArgs(99n);
    await expect(s.subs.topUp(99n, 1)).to.be.revertedWithCustomError(s.subs, "UnknownSubscription").withArgs(99n);
    await expect(s.subs.withdrawToken(s.stranger.address)).to.be.revertedWithCustomError(s.subs, "NothingToWithdraw");
    expect(await s.subs.inferenceJobs()).to.equal(await s.jobs.getAddress());
    expect(await s.subs.inputViewGas()).to.equal(150_000n);
    // the market calling back for a job that is no awaited run
    const market = await ethers.getImpersonatedSigner(await s.jobs.getAddress());
    await ethers.provider.send("hardhat_setBalance", [await s.jobs.getAddress(), "0xDE0B6B3A7640000"]);
    await expect(s.subs.connect(market).onInferenceResult(12345n, 1n)).to.be.revertedWithCustomError(s.subs, "UnknownRun").withArgs(12345n);
  });

  it("skips answers that are empty, not whole words or whose count does not match their length", async function () {
    const s = await loadFixture(subscriptionsFixture);
    const id = await s.subscribe(3);
    await s.consumer.setMode(7);
    await expect(s.subs.openRun(id)).to.emit(s.subs, "RunSkipped").withArgs(id, 0n, 2);
    await time.increase(HOUR);
    await s.consumer.setMode(8);
    await expect(s.subs.openRun(id)).to.emit(s.subs, "RunSkipped").withArgs(id, 1n, 2);
    await time.increase(HOUR);
    await s.consumer.setMode(12);
    await expect(s.subs.openRun(id)).to.emit(s.subs, "RunSkipped").withArgs(id, 2n, 2);
  });

  it("opens a run without a tip (nothing credited to the opener) and refuses an unknown subscription", async function () {
    const s = await loadFixture(subscriptionsFixture);
    const id = await s.consumer.subscribe.staticCall(s.modelId, 1n, HOUR, 1, FEE, 0n, RUN_DEADLINE, { value: FEE });
    await s.consumer.subscribe(s.modelId, 1n, HOUR, 1, FEE, 0n, RUN_DEADLINE, { value: FEE });
    expect(await s.open(id)).to.be.greaterThan(0n);
    expect(await s.subs.creditOf(s.stranger.address)).to.equal(0n);
    await expect(s.subs.openRun(id + 1n))
      .to.be.revertedWithCustomError(s.subs, "UnknownSubscription")
      .withArgs(id + 1n);
  });

  it("one lock: a token re-entering during a pull or a transfer, and an opener re-entering from its receive, are refused", async function () {
    const s = await loadFixture(subscriptionsFixture);
    const tok = await (await ethers.getContractFactory("MockReentrantToken")).deploy();
    const consumer = await s.consumer.getAddress();
    await tok.mint(consumer, 10n ** 24n);
    const subsAddr = await s.subs.getAddress();
    const reentered = s.subs.interface.getError("Reentered")!.selector;
    const armed = async (data: string) => tok.arm(subsAddr, data);
    // inside createTokenSubscription's pull: openRun
    await armed(s.subs.interface.encodeFunctionData("openRun", [1n]));
    await s.consumer.subscribeWithToken(await tok.getAddress(), s.modelId, 1n, HOUR, 3, FEE, TIP, RUN_DEADLINE);
    expect([await tok.lastHookOk(), (await tok.lastHookReturn()).slice(0, 10)]).to.deep.equal([false, reentered]);
    // inside topUp's pull: withdrawToken
    await tok.mint(s.stranger.address, 10n ** 24n);
    await tok.connect(s.stranger).approve(subsAddr, ethers.MaxUint256);
    await armed(s.subs.interface.encodeFunctionData("withdrawToken", [await tok.getAddress()]));
    await s.subs.connect(s.stranger).topUp(1n, 1);
    expect([await tok.lastHookOk(), (await tok.lastHookReturn()).slice(0, 10)]).to.deep.equal([false, reentered]);
    // inside topUp's pull: createTokenSubscription
    const create = [await tok.getAddress(), s.modelId, 1n, HOUR, 0, 1, FEE, 0n, RUN_DEADLINE] as const;
    await armed(s.subs.interface.encodeFunctionData("createTokenSubscription", [...create]));
    await s.subs.connect(s.stranger).topUp(1n, 1);
    expect([await tok.lastHookOk(), (await tok.lastHookReturn()).slice(0, 10)]).to.deep.equal([false, reentered]);
    // a second subscription in the same token: the market's standing allowance is not written again
    await tok.connect(s.stranger).approve(subsAddr, ethers.MaxUint256);
    await expect(s.subs.connect(s.stranger).createTokenSubscription(...create)).to.not.emit(tok, "Approval");
    // inside the market's pull of a run's fee (during openRun): topUp
    await armed(s.subs.interface.encodeFunctionData("topUp", [1n, 1]));
    const jobId = await s.open(1n);
    expect(jobId).to.be.greaterThan(0n);
    expect([await tok.lastHookOk(), (await tok.lastHookReturn()).slice(0, 10)]).to.deep.equal([false, reentered]);
    // inside the market's transfer of a reclaimed fee (during reclaimRun): withdraw
    await time.increase(RUN_DEADLINE + 1);
    await armed(s.subs.interface.encodeFunctionData("withdraw"));
    await s.subs.reclaimRun(jobId);
    expect([await tok.lastHookOk(), (await tok.lastHookReturn()).slice(0, 10)]).to.deep.equal([false, reentered]);
    // inside withdrawToken's transfer: reclaimRun
    await armed(s.subs.interface.encodeFunctionData("reclaimRun", [jobId]));
    await s.subs.connect(s.stranger).withdrawToken(await tok.getAddress());
    expect([await tok.lastHookOk(), (await tok.lastHookReturn()).slice(0, 10)]).to.deep.equal([false, reentered]);
    // an opener whose receive() calls withdraw again: the transfer fails, the credit stays
    const ethId = await s.subscribe(1);
    const opener = await (await ethers.getContractFactory("MockReenteringOpener")).deploy(subsAddr);
    await opener.open(ethId);
    await expect(opener.take())
      .to.be.revertedWithCustomError(s.subs, "TransferFailed")
      .withArgs(await opener.getAddress());
    expect(await s.subs.creditOf(await opener.getAddress())).to.equal(TIP);
    expect(await s.subs.tokenCreditOf(s.stranger.address, await tok.getAddress())).to.equal(0n);
  });
});

describe("SubscriptionConsumer (base) and ScheduledForecaster (example)", function () {
  it("the base takes results and ETH only from the subscriptions contract, which delivers each result to its own subscription's owner only; refunds of nothing are 0", async function () {
    const s = await loadFixture(subscriptionsFixture);
    const id = await s.subscribe(1);
    await expect(s.stranger.sendTransaction({ to: await s.consumer.getAddress(), value: 1n }))
      .to.be.revertedWithCustomError(s.consumer, "NotSubscriptions")
      .withArgs(s.stranger.address);
    // the input view is a view of public state: it answers anyone (the subscriptions contract reads it only for the
    // subscriptions this contract owns)
    expect(await s.consumer.subscriptionInputs(id + 7n, 0n)).to.deep.equal([1n, -2n, 3n]);
    // two consumers: each run's result goes to the owner of its subscription, never to the other
    const other = await (await ethers.getContractFactory("MockSubscriptionConsumer")).deploy(await s.subs.getAddress());
    await other.setInputs([4n, 5n, 6n]);
    const id2 = await other.subscribe.staticCall(s.modelId, 1n, HOUR, 1, FEE, TIP, RUN_DEADLINE, { value: FEE + TIP });
    await other.subscribe(s.modelId, 1n, HOUR, 1, FEE, TIP, RUN_DEADLINE, { value: FEE + TIP });
    expect((await s.subs.getSubscription(id2)).owner).to.equal(await other.getAddress());
    const j1 = await s.open(id);
    const j2 = await s.open(id2);
    await expect(s.deliver(j2, 2n))
      .to.emit(other, "Received")
      .withArgs(id2, 0n, j2, packSigned([2n], 16)[0])
      .and.not.to.emit(s.consumer, "Received");
    await expect(s.deliver(j1, 1n))
      .to.emit(s.consumer, "Received")
      .withArgs(id, 0n, j1, packSigned([1n], 16)[0])
      .and.not.to.emit(other, "Received");
    expect(await s.consumer.withdrawRefunds.staticCall()).to.equal(0n);
    expect(await s.consumer.withdrawTokenRefunds.staticCall(s.stranger.address)).to.equal(0n);
    const falseApprove = await (await ethers.getContractFactory("MockFalseApproveToken")).deploy();
    await expect(s.consumer.subscribeWithToken(await falseApprove.getAddress(), s.modelId, 1n, HOUR, 1, FEE, 0n, RUN_DEADLINE))
      .to.be.revertedWithCustomError(s.consumer, "TokenApproveFailed")
      .withArgs(await falseApprove.getAddress());
    // a "token" whose approve reverts (the market has no approve)
    await expect(s.consumer.subscribeWithToken(await s.jobs.getAddress(), s.modelId, 1n, HOUR, 1, FEE, 0n, RUN_DEADLINE))
      .to.be.revertedWithCustomError(s.consumer, "TokenApproveFailed")
      .withArgs(await s.jobs.getAddress());
  });

  it("MockObservationOracle: a ring of the last 64 observations, eight 32-bit values to a word, read oldest first", async function () {
    const [reporter, other] = await ethers.getSigners();
    const oracle = await (await ethers.getContractFactory("MockObservationOracle", reporter)).deploy();
    await expect(oracle.connect(other).record([1n]))
      .to.be.revertedWithCustomError(oracle, "NotReporter")
      .withArgs(other.address);
    for (const v of [2n ** 31n, -(2n ** 31n) - 1n])
      await expect(oracle.record([v]))
        .to.be.revertedWithCustomError(oracle, "ObservationOutOfRange")
        .withArgs(v);
    await expect(oracle.observations(1n)).to.be.revertedWithCustomError(oracle, "NotEnoughObservations").withArgs(0n, 1n);
    const values = Array.from({ length: 70 }, (_, i) => BigInt((i % 2 ? -1 : 1) * i * 1000) + (i === 3 ? 2n ** 31n - 1n - 3000n : 0n));
    await oracle.record(values.slice(0, 5));
    expect(await oracle.observations(5n)).to.deep.equal(values.slice(0, 5));
    await oracle.record(values.slice(5));
    // the ring went round: the last 64 are held, each word rewritten in place
    expect(await oracle.observations(10n)).to.deep.equal(values.slice(60));
    expect(await oracle.observations(64n)).to.deep.equal(values.slice(6));
    await expect(oracle.observations(65n)).to.be.revertedWithCustomError(oracle, "NotEnoughObservations").withArgs(64n, 65n);
  });

  async function forecasterFixture() {
    const s = await subscriptionsFixture();
    const oracle = await (await ethers.getContractFactory("MockObservationOracle")).deploy();
    await oracle.record([10n, 20n, 30n]);
    const F = await ethers.getContractFactory("ScheduledForecaster");
    const f = await F.deploy(await s.subs.getAddress(), await oracle.getAddress(), s.modelId, 1n, -100n, 100n, 500n);
    return { ...s, oracle, F, f };
  }

  it("ScheduledForecaster refuses unsuitable models and bounds, is owner-only, clamps each forecast, ignores a late older run, and refunds on stop", async function () {
    const s = await loadFixture(forecasterFixture);
    const subsAddr = await s.subs.getAddress();
    const oracleAddr = await s.oracle.getAddress();
    // the fixture's first model takes committed inputs; a classifier and a two-output model do not fit either
    const classifier = await registerMockWithLayout(s, 5n, { ...LAYOUT, outputHead: 0, outputCount: 3, outputBits: 0, outputFrac: 0 });
    const two = await registerMockWithLayout(s, 6n, { ...LAYOUT, outputCount: 2 });
    for (const m of [s.modelId - 1n, classifier, two])
      await expect(s.F.deploy(subsAddr, oracleAddr, m, 1n, 0n, 1n, 0n))
        .to.be.revertedWithCustomError(s.F, "UnsuitableModel")
        .withArgs(m);
    for (const [min, max] of [
      [5n, 4n],
      [-(2n ** 111n) - 1n, 0n],
      [0n, 2n ** 111n],
    ])
      await expect(s.F.deploy(subsAddr, oracleAddr, s.modelId, 1n, min, max, 0n))
        .to.be.revertedWithCustomError(s.F, "InvalidBounds")
        .withArgs(min, max);
    expect(await s.f.parameter()).to.equal(100n); // the initial 500 clamped
    expect(await s.f.window()).to.equal(3n);
    await expect(s.f.connect(s.stranger).start(HOUR, 3, FEE, TIP, RUN_DEADLINE))
      .to.be.revertedWithCustomError(s.f, "NotOwner")
      .withArgs(s.stranger.address);
    await expect(s.f.connect(s.stranger).stop()).to.be.revertedWithCustomError(s.f, "NotOwner");
    await s.f.start(HOUR, 4, FEE, TIP, RUN_DEADLINE, { value: 4n * (FEE + TIP) });
    const id = await s.f.subscriptionId();
    const jobs: bigint[] = [];
    for (let k = 0; k < 3; k++) {
      if (k) await time.increase(HOUR);
      jobs.push(await s.open(id));
    }
    // run 1 answers first (above the bounds), then run 0 arrives late (stale), then run 2 (below the bounds)
    await expect(s.deliver(jobs[1], 300n)).to.emit(s.f, "Forecast").withArgs(1n, jobs[1], 300n, 6, 100n, false);
    await expect(s.deliver(jobs[0], 50n)).to.emit(s.f, "Forecast").withArgs(0n, jobs[0], 50n, 6, 100n, true);
    await expect(s.deliver(jobs[2], -300n)).to.emit(s.f, "Forecast").withArgs(2n, jobs[2], -300n, 6, -100n, false);
    expect(await s.f.lastForecast()).to.deep.equal([-300n, 3n]);
    // run 3 within the bounds sets the parameter to the forecast itself
    await time.increase(HOUR);
    const j3 = await s.open(id);
    await expect(s.deliver(j3, 42n)).to.emit(s.f, "Forecast").withArgs(3n, j3, 42n, 6, 42n, false);
    // stop: nothing left unopened, the subscription cancelled, no refund
    await expect(s.f.stop()).to.changeEtherBalance(s.deployer, 0n);
    // an owner that refuses ETH: stop says so instead of keeping the refund silently
    const refuser = ethers.Wallet.createRandom().address;
    await ethers.provider.send("hardhat_setBalance", [refuser, "0xDE0B6B3A7640000"]);
    const asRefuser = await ethers.getImpersonatedSigner(refuser);
    const g = await s.F.connect(asRefuser).deploy(subsAddr, oracleAddr, s.modelId, 1n, -100n, 100n, 0n);
    await g.connect(asRefuser).start(HOUR, 2, FEE, TIP, RUN_DEADLINE, { value: 2n * (FEE + TIP) });
    await ethers.provider.send("hardhat_setCode", [refuser, "0xfe"]);
    await expect(g.connect(asRefuser).stop()).to.be.revertedWithCustomError(g, "RefundFailed");
  });

  it("ScheduledForecaster takes optimistic runs (owner only, with a run deadline that leaves room for the dispute) and acts on a forecast only once it is final: after the window, or proven when a wrong post is disproved", async function () {
    const s = await loadFixture(forecasterFixture);
    const [, cw, pw] = await s.jobs.optimisticParameters();
    const span = cw + pw + (await s.jobs.openWindow());
    // a subscription whose runs close before a posted forecast could be disputed: refused, by how short it is
    await s.f.start(HOUR, 1, FEE, TIP, Number(span), { value: FEE + TIP });
    await expect(s.f.setOptimistic(true)).to.be.revertedWithCustomError(s.f, "RunDeadlineTooShort").withArgs(span, span);
    await s.f.stop();
    await s.f.start(HOUR, 3, FEE, TIP, RUN_DEADLINE, { value: 3n * (FEE + TIP) });
    const id = await s.f.subscriptionId();
    await expect(s.f.connect(s.stranger).setOptimistic(true)).to.be.revertedWithCustomError(s.f, "NotOwner").withArgs(s.stranger.address);
    await expect(s.f.setOptimistic(true)).to.emit(s.subs, "RunsOptimisticSet").withArgs(id, true);
    await depositStake(s.jobs, [s.prover, s.prover2]);
    const out = (v: bigint) => packSigned([v], LAYOUT.outputBits)[0];

    // run 0: posted without a proof; nothing acted on while the result can still be challenged
    const j0 = await s.open(id);
    expect((await s.jobs.optimisticStateOf(j0)).optimistic).to.equal(true);
    await s.jobs.connect(s.prover).claim(j0);
    await expect(s.jobs.connect(s.prover).postResult(j0, out(42n))).not.to.emit(s.f, "Forecast");
    expect([await s.f.parameter(), await s.f.lastForecast()]).to.deep.equal([100n, [0n, 0n]]);
    const windowEnd = (await s.jobs.optimisticStateOf(j0)).windowEnd;
    await expect(s.jobs.finalizeResult(j0)).to.be.revertedWithCustomError(s.jobs, "ChallengeWindowOpen").withArgs(j0, windowEnd);
    expect(await s.f.parameter()).to.equal(100n);
    // after the window: final, delivered once, acted on
    await time.increaseTo(windowEnd + 1n);
    await expect(s.jobs.finalizeResult(j0)).to.emit(s.f, "Forecast").withArgs(0n, j0, 42n, 6, 42n, false);
    expect(await s.f.lastForecast()).to.deep.equal([42n, 1n]);

    // run 1: a wrong forecast posted, disproved by a proof of the true one; the consumer only ever sees the true one
    await time.increase(HOUR);
    const j1 = await s.open(id);
    await s.jobs.connect(s.prover2).claim(j1);
    await expect(s.jobs.connect(s.prover2).postResult(j1, out(-99n))).not.to.emit(s.f, "Forecast");
    const { out: truth, proof } = await s.proofFor(j1, 7n);
    await expect(s.jobs.connect(s.prover).submitResult(j1, truth, proof))
      .to.emit(s.jobs, "PosterSlashed")
      .and.to.emit(s.f, "Forecast")
      .withArgs(1n, j1, 7n, 6, 7n, false);
    expect(await s.f.lastForecast()).to.deep.equal([7n, 2n]);

    // back to proven runs: the next run's job is not optimistic, a post is refused
    await expect(s.f.setOptimistic(false)).to.emit(s.subs, "RunsOptimisticSet").withArgs(id, false);
    await time.increase(HOUR);
    const j2 = await s.open(id);
    await s.jobs.connect(s.prover).claim(j2);
    await expect(s.jobs.connect(s.prover).postResult(j2, out(1n)))
      .to.be.revertedWithCustomError(s.jobs, "NotOptimistic")
      .withArgs(j2);
  });
});
