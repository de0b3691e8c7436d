/**
 * Optimistic results (docs/market-rules.md, "Optimistic results"; issue 34) on the mock market: a claimant posts a
 * result without a proof, backed by its claim bond; it is final after the challenge window unless challenged by bond
 * (the poster must then prove it within the proof window) or by a proof of another output (uniqueness: the post was
 * wrong). Every branch of the payout table is checked to the wei, every refusal by its error and arguments, the
 * windows at their last second and one second late. The proofs are `MockSnarkjsVerifier` proofs, bound to every
 * signal like real ones (the market's binding included); gas with a real Groth16 verifier is measured by
 * `npm run bench:optimistic`.
 */
import { expect } from "chai";
import { artifacts, ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { AbiCoder, ZeroAddress, ZeroHash, keccak256, type Signer } from "ethers";
import {
  DEFAULT_MARKET,
  DEFAULT_SLASH,
  JobStatus as Status,
  commitment,
  depositStake,
  createAdapter,
  jobBinding,
  mockMarketFixture,
  mockProof,
  mockProofN,
  modelSignal,
  registerMockWithLayout,
  registerModel,
} from "./fixtures";

const FEE = ethers.parseEther("0.01");
const BOND = DEFAULT_MARKET.claimBond;
const SLASH = DEFAULT_SLASH;
const REWARD = BOND - SLASH;
const CBOND = DEFAULT_MARKET.challengeBond;
const CW = DEFAULT_MARKET.challengeWindow;
const PW = DEFAULT_MARKET.proofWindow;
const OW = DEFAULT_MARKET.openWindow;
const LEASE = DEFAULT_MARKET.leaseDuration;
const INPUT = 5n;
/** The circuit's output for the job's input (uniqueness: the only output a valid proof can carry). */
const TRUE = 1n;
const WRONG = 2n;
const R = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

/** The mock market with stake deposited by the provers and the watcher. */
async function optimisticMarket() {
  const m = await mockMarketFixture();
  const watcher = m.signers[6];
  await depositStake(m.jobs, [m.prover, m.prover2, m.stranger, watcher]);
  const requesterContract = await (await ethers.getContractFactory("MockRequester")).deploy(await m.jobs.getAddress());
  return { ...m, watcher, requesterContract };
}
type M = Awaited<ReturnType<typeof optimisticMarket>>;

/** A mock proof of `output` for `jobId`, bound to `prover`. */
async function proofOf(m: M, jobId: bigint, prover: string, output = TRUE): Promise<string> {
  return mockProof([output, m.modelCommitment, INPUT, jobBinding(m.chainId, await m.jobs.getAddress(), jobId, prover)]);
}

/** Opens an ETH job as the requester (deadline `dur` seconds ahead) and makes it optimistic. */
async function optimisticJob(m: M, dur = 3600, callback = false): Promise<{ jobId: bigint; deadline: number }> {
  const deadline = (await time.latest()) + dur;
  const jobId = await m.jobs.nextJobId();
  await (await m.jobs.connect(m.requester).openJob(m.modelId, 1n, INPUT, "ipfs://in", deadline, callback, { value: FEE })).wait();
  await (await m.jobs.connect(m.requester).setOptimistic(jobId)).wait();
  return { jobId, deadline };
}

/** An optimistic job claimed by `poster`, which posts `output`; returns the window's last second. */
async function postedJob(m: M, output = WRONG, poster: Signer = m.prover) {
  const { jobId, deadline } = await optimisticJob(m);
  await (await m.jobs.connect(poster).claim(jobId)).wait();
  const r = await (await m.jobs.connect(poster).postResult(jobId, output)).wait();
  const postedAt = (await ethers.provider.getBlock(r!.blockNumber))!.timestamp;
  return { jobId, deadline, windowEnd: postedAt + CW };
}

/** `postedJob`, then challenged by bond by `challenger`; returns the proof deadline too. */
async function challengedJob(m: M, output = WRONG, challenger: Signer = m.watcher) {
  const p = await postedJob(m, output);
  const r = await (await m.jobs.connect(challenger).challengeResult(p.jobId)).wait();
  const at = (await ethers.provider.getBlock(r!.blockNumber))!.timestamp;
  return { ...p, proofDeadline: at + PW };
}

async function account(m: M, s: Signer): Promise<[bigint, bigint]> {
  const a = await m.jobs.accountOf(await s.getAddress());
  return [a.available, a.locked];
}

/** The ETH the market holds equals every open escrow and bounty plus every account plus burned (nothing forced in). */
async function expectSolvent(m: M, jobIds: bigint[]) {
  let owed = await m.jobs.burned();
  for (const id of jobIds) {
    const j = await m.jobs.getJob(id);
    owed += j.escrow + j.bounty;
  }
  for (const s of m.signers.slice(0, 8)) {
    const a = await m.jobs.accountOf(s.address);
    owed += a.available + a.locked;
  }
  const rc = await m.requesterContract.getAddress();
  const a = await m.jobs.accountOf(rc);
  owed += a.available + a.locked;
  expect(await ethers.provider.getBalance(await m.jobs.getAddress()), "market balance vs what it owes").to.equal(owed);
}

describe("InferenceJobs: optimistic results", function () {
  describe("setOptimistic", function () {
    it("is the requester's, on its Open or Claimed job only, and leaves proven submissions as they were", async function () {
      const m = await loadFixture(optimisticMarket);
      const deadline = (await time.latest()) + 3600;
      const jobId = await m.jobs.nextJobId();
      await m.jobs.connect(m.requester).openJob(m.modelId, 1n, INPUT, "", deadline, false, { value: FEE });
      expect((await m.jobs.optimisticStateOf(jobId)).optimistic).to.equal(false);
      await expect(m.jobs.connect(m.prover).setOptimistic(jobId))
        .to.be.revertedWithCustomError(m.jobs, "NotRequester")
        .withArgs(jobId, m.prover.address);
      await expect(m.jobs.connect(m.requester).setOptimistic(99n)).to.be.revertedWithCustomError(m.jobs, "JobNotFound").withArgs(99n);
      await expect(m.jobs.optimisticStateOf(99n)).to.be.revertedWithCustomError(m.jobs, "JobNotFound").withArgs(99n);
      // switched on under a live claim: the claimant may still prove as it planned
      await m.jobs.connect(m.prover).claim(jobId);
      await expect(m.jobs.connect(m.requester).setOptimistic(jobId)).to.emit(m.jobs, "JobMadeOptimistic").withArgs(jobId);
      const state = await m.jobs.optimisticStateOf(jobId);
      expect(state.optimistic).to.equal(true);
      expect(state.poster).to.equal(ZeroAddress);
      await expect(m.jobs.connect(m.prover).submitResult(jobId, TRUE, await proofOf(m, jobId, m.prover.address)))
        .to.emit(m.jobs, "JobFulfilled")
        .withArgs(jobId, m.prover.address, TRUE, FEE, 0n);
      expect(await account(m, m.prover)).to.deep.equal([ethers.parseEther("1") + FEE, 0n]);
      await expect(m.jobs.connect(m.requester).setOptimistic(jobId))
        .to.be.revertedWithCustomError(m.jobs, "JobNotOpen")
        .withArgs(jobId, Status.Fulfilled);
      // a requester contract makes its job optimistic in its own transaction
      const rc = m.requesterContract;
      const id2 = await m.jobs.nextJobId();
      await rc.open(m.modelId, INPUT, deadline, true, { value: FEE });
      await expect(rc.setOptimistic(id2)).to.emit(m.jobs, "JobMadeOptimistic").withArgs(id2);
    });
  });

  describe("postResult", function () {
    it("is the live claimant's, on an optimistic job, with an output below r, and makes the job Posted", async function () {
      const m = await loadFixture(optimisticMarket);
      const deadline = (await time.latest()) + 3600;
      const plain = await m.jobs.nextJobId();
      await m.jobs.connect(m.requester).openJob(m.modelId, 1n, INPUT, "", deadline, false, { value: FEE });
      await m.jobs.connect(m.prover).claim(plain);
      await expect(m.jobs.connect(m.prover).postResult(plain, TRUE)).to.be.revertedWithCustomError(m.jobs, "NotOptimistic").withArgs(plain);
      const { jobId } = await optimisticJob(m);
      await expect(m.jobs.connect(m.prover).postResult(99n, TRUE)).to.be.revertedWithCustomError(m.jobs, "JobNotFound").withArgs(99n);
      // unclaimed, another's claim, an expired claim
      await expect(m.jobs.connect(m.prover).postResult(jobId, TRUE)).to.be.revertedWithCustomError(m.jobs, "NoLiveClaim").withArgs(jobId);
      await m.jobs.connect(m.prover).claim(jobId);
      await expect(m.jobs.connect(m.prover2).postResult(jobId, TRUE))
        .to.be.revertedWithCustomError(m.jobs, "NotClaimant")
        .withArgs(jobId, m.prover2.address);
      await expect(m.jobs.connect(m.prover).postResult(jobId, R)).to.be.revertedWithCustomError(m.jobs, "OutputNotInField").withArgs(R);
      const tx = m.jobs.connect(m.prover).postResult(jobId, WRONG);
      const at = (await time.latest()) + 1;
      await expect(tx)
        .to.emit(m.jobs, "ResultPosted")
        .withArgs(jobId, m.prover.address, WRONG, at + CW);
      const job = await m.jobs.getJob(jobId);
      expect(job.status).to.equal(Status.Posted);
      expect(job.escrow).to.equal(FEE); // still escrowed
      expect(await m.jobs.resultOf(jobId)).to.deep.equal([false, 0n]);
      expect(await m.jobs.feeTokenOf(jobId)).to.equal(ZeroAddress);
      const state = await m.jobs.optimisticStateOf(jobId);
      expect([state.optimistic, state.poster, state.output, state.windowEnd, state.challenger, state.proofDeadline]).to.deep.equal([
        true,
        m.prover.address,
        WRONG,
        BigInt(at + CW),
        ZeroAddress,
        0n,
      ]);
      const claim = await m.jobs.claimOf(jobId);
      expect([claim.claimant, claim.leaseEnd]).to.deep.equal([m.prover.address, BigInt(at + CW)]);
      // the claims of both jobs locked their bonds; the posted one's now backs the result
      expect(await account(m, m.prover)).to.deep.equal([ethers.parseEther("1") - 2n * BOND, 2n * BOND]);
      // posting twice: the job is no longer Open or Claimed
      await expect(m.jobs.connect(m.prover).postResult(jobId, TRUE))
        .to.be.revertedWithCustomError(m.jobs, "JobNotOpen")
        .withArgs(jobId, Status.Posted);
      // a claim whose lease ended cannot post
      const other = await optimisticJob(m);
      await m.jobs.connect(m.prover2).claim(other.jobId);
      await time.increase(LEASE + 1);
      await expect(m.jobs.connect(m.prover2).postResult(other.jobId, TRUE))
        .to.be.revertedWithCustomError(m.jobs, "NoLiveClaim")
        .withArgs(other.jobId);
    });

    it("needs the challenge window, the proof window and the open window before the deadline: the last second and one second late", async function () {
      const m = await loadFixture(optimisticMarket);
      const span = CW + PW + OW;
      const { jobId, deadline } = await optimisticJob(m, LEASE + OW + 100);
      // a job whose deadline leaves room for a claim but not for a dispute after it
      await m.jobs.connect(m.prover).claim(jobId);
      await expect(m.jobs.connect(m.prover).postResult(jobId, TRUE))
        .to.be.revertedWithCustomError(m.jobs, "PostTooLate")
        .withArgs(jobId, deadline - span);
      const b = await optimisticJob(m, span + 500);
      await m.jobs.connect(m.prover).claim(b.jobId);
      await time.setNextBlockTimestamp(b.deadline - span + 1);
      await expect(m.jobs.connect(m.prover).postResult(b.jobId, TRUE))
        .to.be.revertedWithCustomError(m.jobs, "PostTooLate")
        .withArgs(b.jobId, b.deadline - span);
      const c = await optimisticJob(m, span + 500);
      await m.jobs.connect(m.prover).claim(c.jobId);
      await time.setNextBlockTimestamp(c.deadline - span);
      await expect(m.jobs.connect(m.prover).postResult(c.jobId, TRUE)).to.emit(m.jobs, "ResultPosted");
    });

    it("a Posted job takes no claim, expiry, reclaim, delivery, designation, release or second mode switch", async function () {
      const m = await loadFixture(optimisticMarket);
      const { jobId, deadline, windowEnd } = await postedJob(m);
      await time.increaseTo(windowEnd + 1); // the claim record's leaseEnd (the window's end) has passed
      for (const [who, call] of [
        ["claim", () => m.jobs.connect(m.prover2).claim(jobId)],
        ["expireClaim", () => m.jobs.expireClaim(jobId)],
        ["setOptimistic", () => m.jobs.connect(m.requester).setOptimistic(jobId)],
        ["designateClaimant", () => m.jobs.connect(m.requester).designateClaimant(jobId, m.prover2.address)],
        ["deliverInput", () => m.jobs.connect(m.requester).deliverInput(jobId, m.prover.address, "0x01")],
        ["releaseClaim", () => m.jobs.connect(m.prover).releaseClaim(jobId)],
      ] as const) {
        await expect(call(), who).to.be.revertedWithCustomError(m.jobs, "JobNotOpen").withArgs(jobId, Status.Posted);
      }
      await time.increaseTo(deadline + 1);
      await expect(m.jobs.connect(m.requester).reclaim(jobId))
        .to.be.revertedWithCustomError(m.jobs, "JobNotOpen")
        .withArgs(jobId, Status.Posted);
    });
  });

  describe("finalizeResult", function () {
    it("refuses before the window's end (its last second included) and pays the poster after it: fee, bounty, bond; anyone may call", async function () {
      const m = await loadFixture(optimisticMarket);
      const { jobId } = await optimisticJob(m);
      // an earlier claim expired on the job: its slash is in the bounty the poster will collect
      await m.jobs.connect(m.prover2).claim(jobId);
      await time.increase(LEASE + 1);
      await m.jobs.connect(m.prover).claim(jobId); // settles prover2's expired claim: bounty = SLASH
      const posted = await (await m.jobs.connect(m.prover).postResult(jobId, TRUE)).wait();
      const windowEnd = (await ethers.provider.getBlock(posted!.blockNumber))!.timestamp + CW;
      await expect(m.jobs.finalizeResult(99n)).to.be.revertedWithCustomError(m.jobs, "ResultNotPosted").withArgs(99n, Status.None);
      await expect(m.jobs.expireChallenge(jobId)).to.be.revertedWithCustomError(m.jobs, "NotChallenged").withArgs(jobId);
      await time.setNextBlockTimestamp(windowEnd);
      await expect(m.jobs.connect(m.stranger).finalizeResult(jobId))
        .to.be.revertedWithCustomError(m.jobs, "ChallengeWindowOpen")
        .withArgs(jobId, windowEnd);
      const before = await account(m, m.prover);
      await time.setNextBlockTimestamp(windowEnd + 1);
      await expect(m.jobs.connect(m.stranger).finalizeResult(jobId))
        .to.emit(m.jobs, "JobFulfilled")
        .withArgs(jobId, m.prover.address, TRUE, FEE, SLASH);
      expect(await account(m, m.prover)).to.deep.equal([before[0] + BOND + FEE + SLASH, before[1] - BOND]);
      expect(await m.jobs.resultOf(jobId)).to.deep.equal([true, TRUE]);
      expect((await m.jobs.claimOf(jobId)).claimant).to.equal(ZeroAddress);
      const state = await m.jobs.optimisticStateOf(jobId);
      expect([state.optimistic, state.poster, state.output]).to.deep.equal([true, ZeroAddress, 0n]);
      await expect(m.jobs.finalizeResult(jobId)).to.be.revertedWithCustomError(m.jobs, "ResultNotPosted").withArgs(jobId, Status.Fulfilled);
      await expect(m.jobs.connect(m.watcher).challengeResult(jobId))
        .to.be.revertedWithCustomError(m.jobs, "ResultNotPosted")
        .withArgs(jobId, Status.Fulfilled);
      await expectSolvent(m, [jobId]);
    });

    it("runs the requester's callback after payment; a failing callback does not block payment; too little gas for it reverts", async function () {
      const m = await loadFixture(optimisticMarket);
      const rc = m.requesterContract;
      const deadline = (await time.latest()) + 3600;
      const ids: bigint[] = [];
      for (let i = 0; i < 2; i++) {
        const id = await m.jobs.nextJobId();
        await rc.open(m.modelId, INPUT, deadline, true, { value: FEE });
        await rc.setOptimistic(id);
        await m.jobs.connect(m.prover).claim(id);
        await m.jobs.connect(m.prover).postResult(id, 3n);
        ids.push(id);
      }
      await time.increase(CW + 1);
      await expect(m.jobs.finalizeResult(ids[0], { gasLimit: 120_000 })).to.be.revertedWithCustomError(m.jobs, "InsufficientCallbackGas");
      await expect(m.jobs.finalizeResult(ids[0])).to.emit(m.jobs, "JobFulfilled").withArgs(ids[0], m.prover.address, 3n, FEE, 0n);
      expect([await rc.lastJobId(), await rc.lastOutput(), await rc.calls()]).to.deep.equal([ids[0], 3n, 1n]);
      await rc.setBehaviour(2); // burns all its gas
      const tx = m.jobs.finalizeResult(ids[1]);
      await expect(tx)
        .to.emit(m.jobs, "CallbackFailed")
        .withArgs(ids[1], await rc.getAddress());
      await expect(tx).to.emit(m.jobs, "JobFulfilled").withArgs(ids[1], m.prover.address, 3n, FEE, 0n);
      expect(await m.jobs.resultOf(ids[1])).to.deep.equal([true, 3n]);
      // the callback re-entering the market finds the job settled
      const id3 = await m.jobs.nextJobId();
      await rc.open(m.modelId, INPUT, deadline, true, { value: FEE });
      await rc.setOptimistic(id3);
      await m.jobs.connect(m.prover).claim(id3);
      await m.jobs.connect(m.prover).postResult(id3, 3n);
      await time.increase(CW + 1);
      await rc.setBehaviour(3);
      await m.jobs.finalizeResult(id3);
      expect(await rc.reentryReverted()).to.equal(true);
      await expectSolvent(m, [...ids, id3]);
    });

    it("is owed after the deadline too, and a Posted job cannot be reclaimed: the reclaim rules at the deadline", async function () {
      const m = await loadFixture(optimisticMarket);
      // an optimistic job nobody posted on is reclaimed like any job
      const idle = await optimisticJob(m, 2000);
      const { jobId, deadline } = await postedJob(m, TRUE);
      await time.increaseTo(Math.max(deadline, idle.deadline) + 1);
      await expect(m.jobs.connect(m.requester).reclaim(jobId))
        .to.be.revertedWithCustomError(m.jobs, "JobNotOpen")
        .withArgs(jobId, Status.Posted);
      await expect(m.jobs.connect(m.requester).reclaim(idle.jobId))
        .to.emit(m.jobs, "JobReclaimed")
        .withArgs(idle.jobId, m.requester.address, FEE, 0n);
      await expect(m.jobs.connect(m.requester).finalizeResult(jobId))
        .to.emit(m.jobs, "JobFulfilled")
        .withArgs(jobId, m.prover.address, TRUE, FEE, 0n);
      await expect(m.jobs.connect(m.requester).reclaim(jobId))
        .to.be.revertedWithCustomError(m.jobs, "JobNotOpen")
        .withArgs(jobId, Status.Fulfilled);
      await expectSolvent(m, [jobId, idle.jobId]);
    });
  });

  describe("challenges", function () {
    it("a challenge by bond in the last second of the window is accepted, one a second late is refused", async function () {
      const m = await loadFixture(optimisticMarket);
      const a = await postedJob(m);
      await time.setNextBlockTimestamp(a.windowEnd + 1);
      await expect(m.jobs.connect(m.watcher).challengeResult(a.jobId))
        .to.be.revertedWithCustomError(m.jobs, "ChallengeWindowClosed")
        .withArgs(a.jobId, a.windowEnd);
      const b = await postedJob(m);
      await time.setNextBlockTimestamp(b.windowEnd);
      const before = await account(m, m.watcher);
      await expect(m.jobs.connect(m.watcher).challengeResult(b.jobId))
        .to.emit(m.jobs, "ResultChallenged")
        .withArgs(b.jobId, m.watcher.address, b.windowEnd + PW, CBOND);
      expect(await account(m, m.watcher)).to.deep.equal([before[0] - CBOND, before[1] + CBOND]);
      const state = await m.jobs.optimisticStateOf(b.jobId);
      expect([state.challenger, state.proofDeadline]).to.deep.equal([m.watcher.address, BigInt(b.windowEnd + PW)]);
      // once per post; a challenged result is not final after its window
      await expect(m.jobs.connect(m.stranger).challengeResult(b.jobId))
        .to.be.revertedWithCustomError(m.jobs, "ResultUnderChallenge")
        .withArgs(b.jobId, m.watcher.address, b.windowEnd + PW);
      await expect(m.jobs.finalizeResult(b.jobId))
        .to.be.revertedWithCustomError(m.jobs, "ResultUnderChallenge")
        .withArgs(b.jobId, m.watcher.address, b.windowEnd + PW);
      await expect(m.jobs.connect(m.watcher).challengeResult(99n))
        .to.be.revertedWithCustomError(m.jobs, "ResultNotPosted")
        .withArgs(99n, Status.None);
    });

    it("a proof of another output in the last second of the window settles at once; one a second late is refused and the post stands", async function () {
      const m = await loadFixture(optimisticMarket);
      const a = await postedJob(m);
      await time.setNextBlockTimestamp(a.windowEnd + 1);
      await expect(m.jobs.connect(m.watcher).submitResult(a.jobId, TRUE, await proofOf(m, a.jobId, m.watcher.address)))
        .to.be.revertedWithCustomError(m.jobs, "ChallengeWindowClosed")
        .withArgs(a.jobId, a.windowEnd);
      await expect(m.jobs.finalizeResult(a.jobId)).to.emit(m.jobs, "JobFulfilled").withArgs(a.jobId, m.prover.address, WRONG, FEE, 0n);
      const b = await postedJob(m);
      await time.setNextBlockTimestamp(b.windowEnd);
      await expect(m.jobs.connect(m.watcher).submitResult(b.jobId, TRUE, await proofOf(m, b.jobId, m.watcher.address)))
        .to.emit(m.jobs, "JobFulfilled")
        .withArgs(b.jobId, m.watcher.address, TRUE, FEE, SLASH);
    });

    it("refuses a bond challenge without the stake for it", async function () {
      const m = await loadFixture(optimisticMarket);
      const { jobId } = await postedJob(m);
      const poor = m.signers[7];
      await m.jobs.connect(poor).deposit({ value: CBOND - 1n });
      await expect(m.jobs.connect(poor).challengeResult(jobId))
        .to.be.revertedWithCustomError(m.jobs, "InsufficientStake")
        .withArgs(poor.address, CBOND - 1n, CBOND);
    });
  });

  describe("who is paid what (docs/market-rules.md, the payout table)", function () {
    it("a wrong result challenged with a proof of the true output: poster slashed, challenger paid fee + bond, job fulfilled with the true output", async function () {
      const m = await loadFixture(optimisticMarket);
      const { jobId } = await postedJob(m, WRONG);
      const poster = await account(m, m.prover);
      const watcher = await account(m, m.watcher);
      // the poster's own proof of its wrong output cannot exist; a proof bound to someone else is refused
      await expect(m.jobs.connect(m.watcher).submitResult(jobId, TRUE, await proofOf(m, jobId, m.stranger.address)))
        .to.be.revertedWithCustomError(m.jobs, "InvalidProof")
        .withArgs(jobId);
      const tx = m.jobs.connect(m.watcher).submitResult(jobId, TRUE, await proofOf(m, jobId, m.watcher.address));
      await expect(tx).to.emit(m.jobs, "PosterSlashed").withArgs(jobId, m.prover.address, m.watcher.address, REWARD, SLASH, false);
      await expect(tx).to.emit(m.jobs, "JobFulfilled").withArgs(jobId, m.watcher.address, TRUE, FEE, SLASH);
      expect(await account(m, m.prover)).to.deep.equal([poster[0], poster[1] - BOND]);
      expect(await account(m, m.watcher)).to.deep.equal([watcher[0] + FEE + BOND, watcher[1]]); // REWARD + SLASH
      expect(await m.jobs.resultOf(jobId)).to.deep.equal([true, TRUE]);
      expect((await m.jobs.getJob(jobId)).status).to.equal(Status.Fulfilled);
      await expectSolvent(m, [jobId]);
    });

    it("a false bond challenge answered with a proof: the challenge bond goes to the poster, who is paid; at the proof window's last second", async function () {
      const m = await loadFixture(optimisticMarket);
      const { jobId, proofDeadline } = await challengedJob(m, TRUE);
      const poster = await account(m, m.prover);
      const watcher = await account(m, m.watcher);
      await time.setNextBlockTimestamp(proofDeadline);
      const tx = m.jobs.connect(m.prover).submitResult(jobId, TRUE, await proofOf(m, jobId, m.prover.address));
      await expect(tx).to.emit(m.jobs, "ChallengeAnswered").withArgs(jobId, m.prover.address, m.watcher.address, CBOND);
      await expect(tx).to.emit(m.jobs, "JobFulfilled").withArgs(jobId, m.prover.address, TRUE, FEE, 0n);
      await expect(tx).not.to.emit(m.jobs, "PosterSlashed");
      expect(await account(m, m.prover)).to.deep.equal([poster[0] + FEE + BOND + CBOND, poster[1] - BOND]);
      expect(await account(m, m.watcher)).to.deep.equal([watcher[0], watcher[1] - CBOND]);
      expect(await m.jobs.resultOf(jobId)).to.deep.equal([true, TRUE]);
      await expectSolvent(m, [jobId]);
    });

    it("a proof of the posted output by someone else answers for the poster; an early proof without a challenge settles the post", async function () {
      const m = await loadFixture(optimisticMarket);
      const a = await challengedJob(m, TRUE);
      const poster = await account(m, m.prover);
      const helper = await account(m, m.stranger);
      await expect(m.jobs.connect(m.stranger).submitResult(a.jobId, TRUE, await proofOf(m, a.jobId, m.stranger.address)))
        .to.emit(m.jobs, "JobFulfilled")
        .withArgs(a.jobId, m.prover.address, TRUE, FEE, 0n);
      expect(await account(m, m.prover)).to.deep.equal([poster[0] + FEE + BOND + CBOND, poster[1] - BOND]);
      expect(await account(m, m.stranger)).to.deep.equal(helper);
      const b = await postedJob(m, TRUE);
      const tx = m.jobs.connect(m.prover).submitResult(b.jobId, TRUE, await proofOf(m, b.jobId, m.prover.address));
      await expect(tx).to.emit(m.jobs, "JobFulfilled").withArgs(b.jobId, m.prover.address, TRUE, FEE, 0n);
      await expect(tx).not.to.emit(m.jobs, "ChallengeAnswered");
      await expectSolvent(m, [a.jobId, b.jobId]);
    });

    it("a bond challenge, then a proof of another output: the challenger gets its bond and the reward, the prover fee and bounty", async function () {
      const m = await loadFixture(optimisticMarket);
      const { jobId } = await challengedJob(m, WRONG);
      const watcher = await account(m, m.watcher);
      const prover2 = await account(m, m.prover2);
      const tx = m.jobs.connect(m.prover2).submitResult(jobId, TRUE, await proofOf(m, jobId, m.prover2.address));
      await expect(tx).to.emit(m.jobs, "PosterSlashed").withArgs(jobId, m.prover.address, m.watcher.address, REWARD, SLASH, false);
      await expect(tx).to.emit(m.jobs, "JobFulfilled").withArgs(jobId, m.prover2.address, TRUE, FEE, SLASH);
      expect(await account(m, m.watcher)).to.deep.equal([watcher[0] + CBOND + REWARD, watcher[1] - CBOND]);
      expect(await account(m, m.prover2)).to.deep.equal([prover2[0] + FEE + SLASH, prover2[1]]);
      await expectSolvent(m, [jobId]);
    });

    it("a silent poster after a bond challenge is slashed to the challenger and the job reopens for proven submissions only", async function () {
      const m = await loadFixture(optimisticMarket);
      const { jobId, deadline, proofDeadline } = await challengedJob(m, WRONG);
      await expect(m.jobs.expireChallenge(99n)).to.be.revertedWithCustomError(m.jobs, "ResultNotPosted").withArgs(99n, Status.None);
      await time.setNextBlockTimestamp(proofDeadline);
      await expect(m.jobs.connect(m.stranger).expireChallenge(jobId))
        .to.be.revertedWithCustomError(m.jobs, "ProofWindowOpen")
        .withArgs(jobId, proofDeadline);
      const poster = await account(m, m.prover);
      const watcher = await account(m, m.watcher);
      await time.setNextBlockTimestamp(proofDeadline + 1);
      await expect(m.jobs.connect(m.stranger).expireChallenge(jobId))
        .to.emit(m.jobs, "PosterSlashed")
        .withArgs(jobId, m.prover.address, m.watcher.address, REWARD, SLASH, true);
      expect(await account(m, m.prover)).to.deep.equal([poster[0], poster[1] - BOND]);
      expect(await account(m, m.watcher)).to.deep.equal([watcher[0] + CBOND + REWARD, watcher[1] - CBOND]);
      const job = await m.jobs.getJob(jobId);
      expect([job.status, job.escrow, job.bounty]).to.deep.equal([BigInt(Status.Open), FEE, SLASH]);
      const state = await m.jobs.optimisticStateOf(jobId);
      expect([state.optimistic, state.poster, state.challenger]).to.deep.equal([false, ZeroAddress, ZeroAddress]);
      expect((await m.jobs.claimOf(jobId)).claimant).to.equal(ZeroAddress);
      await expect(m.jobs.expireChallenge(jobId)).to.be.revertedWithCustomError(m.jobs, "ResultNotPosted").withArgs(jobId, Status.Open);
      // at least the open window is still ahead, for proven submissions only
      expect(deadline - (proofDeadline + 1)).to.be.greaterThanOrEqual(OW);
      await expect(m.jobs.connect(m.prover).postResult(jobId, TRUE)).to.be.revertedWithCustomError(m.jobs, "NotOptimistic").withArgs(jobId);
      await time.setNextBlockTimestamp(deadline);
      await expect(m.jobs.connect(m.prover2).submitResult(jobId, TRUE, await proofOf(m, jobId, m.prover2.address)))
        .to.emit(m.jobs, "JobFulfilled")
        .withArgs(jobId, m.prover2.address, TRUE, FEE, SLASH);
      await expectSolvent(m, [jobId]);
    });

    it("an expired challenge with nobody proving afterwards: the requester reclaims the fee and the slash is burned", async function () {
      const m = await loadFixture(optimisticMarket);
      const { jobId, deadline, proofDeadline } = await challengedJob(m, WRONG);
      await time.increaseTo(proofDeadline + 1);
      await m.jobs.expireChallenge(jobId);
      // the requester can opt in again (its choice); nobody posts in time here
      await expect(m.jobs.connect(m.requester).setOptimistic(jobId)).to.emit(m.jobs, "JobMadeOptimistic");
      await time.increaseTo(deadline + 1);
      await expect(m.jobs.connect(m.requester).reclaim(jobId))
        .to.emit(m.jobs, "JobReclaimed")
        .withArgs(jobId, m.requester.address, FEE, SLASH);
      expect(await m.jobs.burned()).to.equal(SLASH);
      await expectSolvent(m, [jobId]);
    });

    it("after the proof window, any proof first expires the challenge (slash to the challenger), then pays its prover", async function () {
      const m = await loadFixture(optimisticMarket);
      // a correct post whose poster answered too late
      const { jobId, proofDeadline } = await challengedJob(m, TRUE);
      const watcher = await account(m, m.watcher);
      await time.setNextBlockTimestamp(proofDeadline + 1);
      const tx = m.jobs.connect(m.prover).submitResult(jobId, TRUE, await proofOf(m, jobId, m.prover.address));
      await expect(tx).to.emit(m.jobs, "PosterSlashed").withArgs(jobId, m.prover.address, m.watcher.address, REWARD, SLASH, true);
      await expect(tx).to.emit(m.jobs, "JobFulfilled").withArgs(jobId, m.prover.address, TRUE, FEE, SLASH);
      await expect(tx).not.to.emit(m.jobs, "ChallengeAnswered");
      expect(await account(m, m.watcher)).to.deep.equal([watcher[0] + CBOND + REWARD, watcher[1] - CBOND]);
      await expectSolvent(m, [jobId]);
    });

    it("delaying a job by posting garbage and self-challenging costs the slash, never returned to the griefer", async function () {
      const m = await loadFixture(optimisticMarket);
      const { jobId, proofDeadline } = await challengedJob(m, WRONG, m.prover); // the poster challenges itself
      const before = await account(m, m.prover);
      await time.increaseTo(proofDeadline + 1);
      await m.jobs.expireChallenge(jobId);
      // its own bond comes back less the slash, which sits in the bounty for the prover who delivers
      expect(await account(m, m.prover)).to.deep.equal([before[0] + CBOND + REWARD, before[1] - BOND - CBOND]);
      expect((await m.jobs.getJob(jobId)).bounty).to.equal(SLASH);
      expect((await m.jobs.optimisticStateOf(jobId)).optimistic).to.equal(false);
    });

    it("a poster correcting itself with a proof of another output keeps its bond (the slash comes back through the bounty)", async function () {
      const m = await loadFixture(optimisticMarket);
      const { jobId } = await postedJob(m, WRONG);
      const before = await account(m, m.prover);
      const tx = m.jobs.connect(m.prover).submitResult(jobId, TRUE, await proofOf(m, jobId, m.prover.address));
      await expect(tx).to.emit(m.jobs, "PosterSlashed").withArgs(jobId, m.prover.address, m.prover.address, REWARD, SLASH, false);
      expect(await account(m, m.prover)).to.deep.equal([before[0] + BOND + FEE, before[1] - BOND]);
    });
  });

  describe("fee tokens, private jobs, batches, a verifier whose code changed", function () {
    it("an ERC-20 fee job: the fee goes to the poster's or the prover's token account, a slash into the token job's bounty (ETH)", async function () {
      const m = await loadFixture(optimisticMarket);
      const token = await (await ethers.getContractFactory("MockERC20")).deploy("Mock USD", "mUSD");
      const t = await token.getAddress();
      await token.mint(m.requester.address, ethers.parseEther("100"));
      await token.connect(m.requester).approve(await m.jobs.getAddress(), ethers.MaxUint256);
      const open = async () => {
        const id = await m.jobs.nextJobId();
        const deadline = (await time.latest()) + 3600;
        await m.jobs.connect(m.requester).openTokenJob(t, FEE, m.modelId, 1n, INPUT, "", deadline, false);
        await m.jobs.connect(m.requester).setOptimistic(id);
        await m.jobs.connect(m.prover).claim(id);
        return id;
      };
      // unchallenged: the poster's token account
      const a = await open();
      await m.jobs.connect(m.prover).postResult(a, TRUE);
      expect(await m.jobs.feeTokenOf(a)).to.equal(t);
      await time.increase(CW + 1);
      await expect(m.jobs.finalizeResult(a)).to.emit(m.jobs, "JobFulfilled").withArgs(a, m.prover.address, TRUE, FEE, 0n);
      expect(await m.jobs.tokenBalanceOf(m.prover.address, t)).to.equal(FEE);
      // challenged, silent: the slash is the token job's ETH bounty; a proven submission collects fee (token) + bounty (ETH)
      const b = await open();
      await m.jobs.connect(m.prover).postResult(b, WRONG);
      await m.jobs.connect(m.watcher).challengeResult(b);
      await time.increase(PW + 1);
      await m.jobs.expireChallenge(b);
      expect((await m.jobs.getJob(b)).bounty).to.equal(SLASH);
      const w = await account(m, m.watcher);
      await expect(m.jobs.connect(m.watcher).submitResult(b, TRUE, await proofOf(m, b, m.watcher.address)))
        .to.emit(m.jobs, "JobFulfilled")
        .withArgs(b, m.watcher.address, TRUE, FEE, SLASH);
      expect(await m.jobs.tokenBalanceOf(m.watcher.address, t)).to.equal(FEE);
      expect(await account(m, m.watcher)).to.deep.equal([w[0] + SLASH, w[1]]);
      // disproved at once: the prover's token account and the whole bond in ETH
      const c = await open();
      await m.jobs.connect(m.prover).postResult(c, WRONG);
      await expect(m.jobs.connect(m.prover2).submitResult(c, TRUE, await proofOf(m, c, m.prover2.address)))
        .to.emit(m.jobs, "JobFulfilled")
        .withArgs(c, m.prover2.address, TRUE, FEE, SLASH);
      expect(await m.jobs.tokenBalanceOf(m.prover2.address, t)).to.equal(FEE);
      expect(await token.balanceOf(await m.jobs.getAddress())).to.equal(3n * FEE);
    });

    it("a private-delivery job is optimistic with the requester as its watcher: it proves a wrong post wrong and collects as a challenger", async function () {
      const m = await loadFixture(optimisticMarket);
      const deadline = (await time.latest()) + 3600;
      const jobId = await m.jobs.nextJobId();
      await m.jobs.connect(m.requester).openPrivateJob(m.modelId, 1n, INPUT, deadline, false, { value: FEE });
      await m.jobs.connect(m.requester).setOptimistic(jobId);
      await m.jobs.connect(m.prover).claim(jobId);
      await m.jobs.connect(m.requester).deliverInput(jobId, m.prover.address, "0x01");
      await m.jobs.connect(m.prover).postResult(jobId, WRONG);
      // only the requester (and the claimant) hold the opening: the requester proves the true output
      const before = await account(m, m.requester);
      await expect(m.jobs.connect(m.requester).submitResult(jobId, TRUE, await proofOf(m, jobId, m.requester.address)))
        .to.emit(m.jobs, "PosterSlashed")
        .withArgs(jobId, m.prover.address, m.requester.address, REWARD, SLASH, false);
      expect(await account(m, m.requester)).to.deep.equal([before[0] + FEE + BOND, before[1]]);
      await expectSolvent(m, [jobId]);
    });

    it("settles challenge proofs in a batch, beside ordinary results, each as it would settle alone", async function () {
      const m = await loadFixture(optimisticMarket);
      const batch = await (await ethers.getContractFactory("MockBatchVerifier")).deploy();
      const adapter = await createAdapter(m.factory, await batch.getAddress(), 4);
      const hash = 2001n;
      const modelId = await registerModel(m.registry, m.modelOwner, { modelHash: hash }, adapter);
      const sig = await modelSignal(hash);
      const deadline = (await time.latest()) + 3600;
      const open = async () => {
        const id = await m.jobs.nextJobId();
        await m.jobs.connect(m.requester).openJob(modelId, 1n, INPUT, "", deadline, false, { value: FEE });
        return id;
      };
      const plain = await open();
      const wrong = await open();
      const right = await open();
      for (const id of [wrong, right]) {
        await m.jobs.connect(m.requester).setOptimistic(id);
        await m.jobs.connect(m.prover).claim(id);
        await m.jobs.connect(m.prover).postResult(id, id === wrong ? WRONG : TRUE);
      }
      await m.jobs.connect(m.watcher).challengeResult(right); // a false challenge the batch answers
      const addr = await m.jobs.getAddress();
      const proofs = (ids: bigint[], who: string) => ids.map((id) => mockProofN([TRUE, sig, INPUT, jobBinding(m.chainId, addr, id, who)]));
      // the watcher disproves `wrong` and proves `plain`; the poster answers on `right` in its own batch
      const tx = m.jobs.connect(m.watcher).submitResults([plain, wrong], [TRUE, TRUE], proofs([plain, wrong], m.watcher.address));
      await expect(tx).to.emit(m.jobs, "JobFulfilled").withArgs(plain, m.watcher.address, TRUE, FEE, 0n);
      await expect(tx).to.emit(m.jobs, "PosterSlashed").withArgs(wrong, m.prover.address, m.watcher.address, REWARD, SLASH, false);
      await expect(tx).to.emit(m.jobs, "JobFulfilled").withArgs(wrong, m.watcher.address, TRUE, FEE, SLASH);
      const tx2 = m.jobs.connect(m.prover).submitResults([right], [TRUE], proofs([right], m.prover.address));
      await expect(tx2).to.emit(m.jobs, "ChallengeAnswered").withArgs(right, m.prover.address, m.watcher.address, CBOND);
      await expect(tx2).to.emit(m.jobs, "JobFulfilled").withArgs(right, m.prover.address, TRUE, FEE, 0n);
      // a batch holding a post whose window closed reverts whole
      const late = await open();
      const other = await open();
      await m.jobs.connect(m.requester).setOptimistic(late);
      await m.jobs.connect(m.prover).claim(late);
      const r = await (await m.jobs.connect(m.prover).postResult(late, WRONG)).wait();
      const windowEnd = (await ethers.provider.getBlock(r!.blockNumber))!.timestamp + CW;
      await time.increaseTo(windowEnd + 1);
      await expect(m.jobs.connect(m.watcher).submitResults([late, other], [TRUE, TRUE], proofs([late, other], m.watcher.address)))
        .to.be.revertedWithCustomError(m.jobs, "ChallengeWindowClosed")
        .withArgs(late, windowEnd);
      expect((await m.jobs.getJob(other)).status).to.equal(Status.Open);
      await expectSolvent(m, [plain, wrong, right, late, other]);
    });

    it("a verifier whose code changed under a challenged post: nobody can prove, so the unanswered challenge slashes nobody", async function () {
      const m = await loadFixture(optimisticMarket);
      const meta = await (await ethers.getContractFactory("MetamorphicDeployer")).deploy();
      const destroying = await (await m.deployer.sendTransaction({ data: "0x6133ff6000526002601ef3" })).wait();
      const deadline = (await time.latest()) + 3600;
      const args = [
        destroying!.contractAddress!,
        ethers.id("metamorphic-optimistic"),
        await m.factory.getAddress(),
        await m.registry.getAddress(),
        await m.jobs.getAddress(),
        commitment({ modelHash: 98n }),
        INPUT,
        deadline,
        WRONG,
      ] as const;
      const value = FEE + BOND + CBOND;
      const [verifier, , jobId] = await meta.attackOptimistic.staticCall(...args, { value });
      await meta.attackOptimistic(...args, { value });
      expect(await ethers.provider.getCode(verifier)).to.equal("0x");
      const poster = await meta.getAddress();
      expect((await m.jobs.optimisticStateOf(jobId)).challenger).to.equal(poster);
      await time.increase(PW + 1);
      await expect(m.jobs.expireChallenge(jobId)).to.emit(m.jobs, "PosterSlashed").withArgs(jobId, poster, poster, 0n, 0n, true);
      expect(await m.jobs.accountOf(poster)).to.deep.equal([BOND + CBOND, 0n]);
      expect((await m.jobs.getJob(jobId)).bounty).to.equal(0n);
      expect(keccak256("0x33ff")).to.not.equal(ZeroHash);
    });
  });

  it("subscription runs are optimistic per subscription: the owner switches it, each run's job is made optimistic at opening, a finalised result is forwarded", async function () {
    const m = await loadFixture(optimisticMarket);
    const layout = { inputMode: 1, outputHead: 1, inputCount: 3, inputBits: 12, outputCount: 1, outputBits: 16, outputFrac: 6 };
    const modelId = await registerMockWithLayout(m, 777n, layout);
    const subs = await (await ethers.getContractFactory("InferenceSubscriptions")).deploy(await m.jobs.getAddress());
    const consumer = await (await ethers.getContractFactory("MockSubscriptionConsumer")).deploy(await subs.getAddress());
    await consumer.setInputs([1n, -2n, 3n]);
    const hour = 3600;
    const value = 3n * FEE;
    const id = await consumer.subscribe.staticCall(modelId, 1n, hour, 3, FEE, 0n, 3 * hour, { value });
    await consumer.subscribe(modelId, 1n, hour, 3, FEE, 0n, 3 * hour, { value });
    expect((await subs.getSubscription(id)).optimistic).to.equal(false);
    await expect(subs.connect(m.stranger).setRunsOptimistic(id, true))
      .to.be.revertedWithCustomError(subs, "NotSubscriptionOwner")
      .withArgs(id, m.stranger.address);
    await expect(subs.setRunsOptimistic(99n, true)).to.be.revertedWithCustomError(subs, "UnknownSubscription").withArgs(99n);
    await expect(consumer.setRunsOptimistic(id, true)).to.emit(subs, "RunsOptimisticSet").withArgs(id, true);
    expect((await subs.getSubscription(id)).optimistic).to.equal(true);
    // run 0: an optimistic job, posted, finalised, forwarded to the owner
    const job0 = await subs.connect(m.stranger).openRun.staticCall(id);
    await expect(subs.connect(m.stranger).openRun(id)).to.emit(m.jobs, "JobMadeOptimistic").withArgs(job0);
    await m.jobs.connect(m.prover).claim(job0);
    await m.jobs.connect(m.prover).postResult(job0, 42n);
    await time.increase(CW + 1);
    const fin = m.jobs.connect(m.stranger).finalizeResult(job0);
    await expect(fin).to.emit(subs, "RunDelivered").withArgs(id, 0n, job0, 42n);
    await expect(fin).to.emit(consumer, "Received").withArgs(id, 0n, job0, 42n);
    // switched off: the next run is an ordinary job
    await consumer.setRunsOptimistic(id, false);
    await time.increase(hour);
    const job1 = await subs.connect(m.stranger).openRun.staticCall(id);
    await subs.connect(m.stranger).openRun(id);
    expect((await m.jobs.optimisticStateOf(job1)).optimistic).to.equal(false);
    await consumer.cancel(id);
    await expect(consumer.setRunsOptimistic(id, true)).to.be.revertedWithCustomError(subs, "SubscriptionIsCancelled").withArgs(id);
  });

  it("the library cannot be called directly (its state-changing entry is reachable only by DELEGATECALL from the market)", async function () {
    const m = await loadFixture(optimisticMarket);
    const lib = await (await ethers.getContractFactory("OptimisticResults")).deploy();
    // `run` takes storage pointers, so it is not in the ABI: its selector comes from the compiler's output
    const name = "contracts/OptimisticResults.sol:OptimisticResults";
    const info = await artifacts.getBuildInfo(name);
    const ids = (
      info!.output.contracts["contracts/OptimisticResults.sol"].OptimisticResults.evm as { methodIdentifiers: Record<string, string> }
    ).methodIdentifiers;
    const selectors = Object.values(ids);
    expect(selectors.length, "one entry point").to.equal(1);
    // the market's own storage slots would be meaningless here; what matters is that any direct CALL reverts
    const words = AbiCoder.defaultAbiCoder().encode(
      ["uint256", "uint256", "uint256", "uint256", "uint256", "tuple(uint256,uint256,uint256,uint256,uint256)"],
      [1n, 2n, 3n, 4n, 5n, [0n, 1n, 0n, 0n, 0n]],
    );
    // the call protection reverts with no data (a run of the rules would have reverted JobNotFound here)
    await expect(
      m.stranger.sendTransaction({ to: await lib.getAddress(), data: "0x" + selectors[0] + words.slice(2) }),
    ).to.be.revertedWithoutReason();
  });
});
