/**
 * Private delivery of a committed input (docs/market-rules.md, "Private delivery"): the requester sends the opening
 * encrypted to the claimant after the claim; a missing or unusable delivery never costs the claimant its bond, and
 * the claimant cannot hold a delivered job for free beyond the decline window. Logic proofs come from
 * MockSnarkjsVerifier; the real encryption and a real prover node are in test/prover/delivery.test.ts.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { DEFAULT_MARKET, deployJobs, jobBinding, mockMarketFixture, mockProof, openJob } from "./fixtures";
import { SNARK_FIELD } from "../../scripts/util/field";

const FEE = ethers.parseEther("1");
const STAKE = ethers.parseEther("1");
const INPUT = 4242n;
const OUTPUT = 2n;
const BOND = DEFAULT_MARKET.claimBond;
const SLASH = (BOND * BigInt(DEFAULT_MARKET.slashBps)) / 10_000n;
const LEASE = DEFAULT_MARKET.leaseDuration;
const DW = DEFAULT_MARKET.deliveryWindow;
const CT = "0x01" + "ab".repeat(80);

async function market() {
  const m = await mockMarketFixture();
  for (const s of [m.prover, m.prover2, m.requester]) await m.jobs.connect(s).deposit({ value: STAKE });
  const proofFor = async (jobId: bigint, prover: string) =>
    mockProof([OUTPUT, m.modelCommitment, INPUT, jobBinding(m.chainId, await m.jobs.getAddress(), jobId, prover)]);
  const open = async (span = 3 * LEASE) => {
    const deadline = (await time.latest()) + span;
    const tx = await m.jobs.connect(m.requester).openPrivateJob(m.modelId, 1n, INPUT, deadline, false, { value: FEE });
    const r = await tx.wait();
    const ev = r!.logs.map((l) => m.jobs.interface.parseLog(l)).find((p) => p?.name === "JobOpened");
    return { jobId: ev!.args.jobId as bigint, deadline, tx };
  };
  /** available + locked of every actor plus the contract's burned: must equal what went in. */
  const accounts = async () => {
    const out: Record<string, bigint> = {};
    for (const [n, s] of Object.entries({ requester: m.requester, prover: m.prover, prover2: m.prover2 })) {
      const a = await m.jobs.accountOf(s.address);
      out[n] = a.available + a.locked;
    }
    return out;
  };
  return { ...m, proofFor, open, accounts };
}

describe("Private delivery (InferenceJobs)", function () {
  it("opens a private job: flag recorded, empty input URI, the commitment checked like openJob", async function () {
    const m = await loadFixture(market);
    const { jobId, tx, deadline } = await m.open();
    await expect(tx).to.emit(m.jobs, "JobOpened").withArgs(jobId, m.requester.address, m.modelId, 1, INPUT, FEE, deadline, false, "");
    const job = await m.jobs.getJob(jobId);
    expect(job.privateInput).to.equal(true);
    expect(job.callback).to.equal(false);
    const cb = await m.jobs.connect(m.requester).openPrivateJob.staticCall(m.modelId, 1n, INPUT, deadline, true, { value: FEE });
    await m.jobs.connect(m.requester).openPrivateJob(m.modelId, 1n, INPUT, deadline, true, { value: FEE });
    expect((await m.jobs.getJob(cb)).callback).to.equal(true);
    expect((await m.jobs.getJob(cb)).privateInput).to.equal(true);
    const pub = await openJob(m.jobs, m.requester, { modelId: m.modelId, inputCommitment: INPUT, fee: FEE, deadline });
    expect((await m.jobs.getJob(pub)).privateInput).to.equal(false);
    await expect(m.jobs.connect(m.requester).openPrivateJob(m.modelId, 1n, SNARK_FIELD, deadline, false, { value: FEE }))
      .to.be.revertedWithCustomError(m.jobs, "InputCommitmentNotInField")
      .withArgs(SNARK_FIELD);
    await expect(m.jobs.connect(m.requester).openPrivateJob(m.modelId, 1n, INPUT, deadline, false)).to.be.revertedWithCustomError(
      m.jobs,
      "ZeroFee",
    );
  });

  it("a claim first lasts the delivery window; the delivery opens a full lease from the delivery and is emitted, not stored", async function () {
    const m = await loadFixture(market);
    const { jobId } = await m.open();
    const t0 = (await time.latest()) + 1;
    await time.setNextBlockTimestamp(t0);
    await expect(m.jobs.connect(m.prover).claim(jobId))
      .to.emit(m.jobs, "JobClaimed")
      .withArgs(jobId, m.prover.address, t0 + DW, BOND);
    await time.setNextBlockTimestamp(t0 + DW);
    await expect(m.jobs.connect(m.requester).deliverInput(jobId, m.prover.address, CT))
      .to.emit(m.jobs, "InputDelivered")
      .withArgs(jobId, m.prover.address, t0 + DW + LEASE, CT);
    const c = await m.jobs.claimOf(jobId);
    expect(c.leaseEnd).to.equal(BigInt(t0 + DW + LEASE));
    expect(c.deliveredAt).to.equal(BigInt(t0 + DW));
    // the claimant proves within its lease: fee paid, bond back whole
    await time.setNextBlockTimestamp(t0 + DW + LEASE);
    await expect(m.jobs.connect(m.prover).submitResult(jobId, OUTPUT, await m.proofFor(jobId, m.prover.address)))
      .to.emit(m.jobs, "JobFulfilled")
      .withArgs(jobId, m.prover.address, OUTPUT, FEE, 0n);
    expect((await m.jobs.accountOf(m.prover.address)).available).to.equal(STAKE + FEE);
  });

  it("refuses a delivery by anyone but the requester, on a public job, without a live claim, after the window, or twice", async function () {
    const m = await loadFixture(market);
    const { jobId, deadline } = await m.open();
    await expect(m.jobs.connect(m.requester).deliverInput(jobId, m.prover.address, CT))
      .to.be.revertedWithCustomError(m.jobs, "NoLiveClaim")
      .withArgs(jobId);
    await expect(m.jobs.connect(m.requester).deliverInput(999n, m.prover.address, CT))
      .to.be.revertedWithCustomError(m.jobs, "JobNotFound")
      .withArgs(999n);
    const pub = await openJob(m.jobs, m.requester, { modelId: m.modelId, inputCommitment: INPUT, fee: FEE, deadline });
    await m.jobs.connect(m.prover).claim(pub);
    await expect(m.jobs.connect(m.requester).deliverInput(pub, m.prover.address, CT))
      .to.be.revertedWithCustomError(m.jobs, "NotPrivateJob")
      .withArgs(pub);
    await m.jobs.connect(m.prover).claim(jobId);
    const claimedAt = await time.latest();
    await expect(m.jobs.connect(m.stranger).deliverInput(jobId, m.prover.address, CT))
      .to.be.revertedWithCustomError(m.jobs, "NotRequester")
      .withArgs(jobId, m.stranger.address);
    await m.jobs.connect(m.requester).deliverInput(jobId, m.prover.address, CT);
    await expect(m.jobs.connect(m.requester).deliverInput(jobId, m.prover.address, CT))
      .to.be.revertedWithCustomError(m.jobs, "InputAlreadyDelivered")
      .withArgs(jobId, m.prover.address);
    // a second private job whose claim's delivery window has passed
    const late = await m.open();
    await m.jobs.connect(m.prover2).claim(late.jobId);
    await time.increase(DW + 1);
    await expect(m.jobs.connect(m.requester).deliverInput(late.jobId, m.prover2.address, CT))
      .to.be.revertedWithCustomError(m.jobs, "NoLiveClaim")
      .withArgs(late.jobId);
    // and a settled job
    await time.setNextBlockTimestamp(claimedAt + DW + 10);
    await m.jobs.connect(m.prover).submitResult(jobId, OUTPUT, await m.proofFor(jobId, m.prover.address));
    await expect(m.jobs.connect(m.requester).deliverInput(jobId, m.prover.address, CT)).to.be.revertedWithCustomError(m.jobs, "JobNotOpen");
  });

  it("a requester that never delivers costs the claimant nothing: the claim ends after the delivery window with its whole bond", async function () {
    const m = await loadFixture(market);
    const before = await m.accounts();
    const { jobId } = await m.open();
    await m.jobs.connect(m.prover).claim(jobId);
    const t = await time.latest();
    await expect(m.jobs.expireClaim(jobId))
      .to.be.revertedWithCustomError(m.jobs, "LeaseNotEnded")
      .withArgs(jobId, t + DW);
    await time.setNextBlockTimestamp(t + DW + 1);
    // the next prover's claim settles the undelivered one unslashed
    await expect(m.jobs.connect(m.prover2).claim(jobId)).to.emit(m.jobs, "ClaimExpired").withArgs(jobId, m.prover.address, 0n, BOND);
    expect(await m.jobs.accountOf(m.prover.address)).to.deep.equal([STAKE, 0n]);
    await time.increase(DW + 1);
    await expect(m.jobs.expireClaim(jobId)).to.emit(m.jobs, "ClaimExpired").withArgs(jobId, m.prover2.address, 0n, BOND);
    expect((await m.jobs.getJob(jobId)).bounty).to.equal(0n);
    expect(await m.accounts()).to.deep.equal(before);
  });

  it("an unusable delivery is declined within the window with the whole bond; after the window the claim is an ordinary one", async function () {
    const m = await loadFixture(market);
    const { jobId, deadline } = await m.open();
    await m.jobs.connect(m.prover).claim(jobId);
    await m.jobs.connect(m.requester).deliverInput(jobId, m.prover.address, "0x00"); // garbage
    const deliveredAt = await time.latest();
    await expect(m.jobs.connect(m.prover2).releaseClaim(jobId))
      .to.be.revertedWithCustomError(m.jobs, "NotClaimant")
      .withArgs(jobId, m.prover2.address);
    await time.setNextBlockTimestamp(deliveredAt + DW);
    await expect(m.jobs.connect(m.prover).releaseClaim(jobId)).to.emit(m.jobs, "ClaimReleased").withArgs(jobId, m.prover.address, BOND);
    expect(await m.jobs.accountOf(m.prover.address)).to.deep.equal([STAKE, 0n]);
    expect((await m.jobs.getJob(jobId)).status).to.equal(1n); // Open
    expect((await m.jobs.claimOf(jobId)).claimant).to.equal(ethers.ZeroAddress);
    await expect(m.jobs.connect(m.prover).releaseClaim(jobId)).to.be.revertedWithCustomError(m.jobs, "NoLiveClaim").withArgs(jobId);

    // the next claimant gets a fresh delivery window and a fresh delivery
    await m.jobs.connect(m.prover2).claim(jobId);
    expect((await m.jobs.claimOf(jobId)).deliveredAt).to.equal(0n);
    await m.jobs.connect(m.requester).deliverInput(jobId, m.prover2.address, CT);
    const d2 = await time.latest();
    await time.setNextBlockTimestamp(d2 + DW + 1);
    await expect(m.jobs.connect(m.prover2).releaseClaim(jobId))
      .to.be.revertedWithCustomError(m.jobs, "ReleaseWindowPassed")
      .withArgs(jobId, d2 + DW);
    // holding a delivered job past its lease is slashed into the bounty, and whoever delivers later earns it
    const c = await m.jobs.claimOf(jobId);
    await time.setNextBlockTimestamp(Number(c.leaseEnd) + 1);
    await expect(m.jobs.expireClaim(jobId))
      .to.emit(m.jobs, "ClaimExpired")
      .withArgs(jobId, m.prover2.address, SLASH, BOND - SLASH);
    expect(Number(c.leaseEnd)).to.be.lessThanOrEqual(deadline - DEFAULT_MARKET.openWindow);
    await expect(m.jobs.connect(m.prover).submitResult(jobId, OUTPUT, await m.proofFor(jobId, m.prover.address)))
      .to.emit(m.jobs, "JobFulfilled")
      .withArgs(jobId, m.prover.address, OUTPUT, FEE, SLASH);
  });

  it("release: only on a private job, by the live claimant; an undelivered claim can be released at once", async function () {
    const m = await loadFixture(market);
    const { jobId, deadline } = await m.open();
    const pub = await openJob(m.jobs, m.requester, { modelId: m.modelId, inputCommitment: INPUT, fee: FEE, deadline });
    await m.jobs.connect(m.prover).claim(pub);
    await expect(m.jobs.connect(m.prover).releaseClaim(pub)).to.be.revertedWithCustomError(m.jobs, "NotPrivateJob").withArgs(pub);
    await expect(m.jobs.connect(m.prover).releaseClaim(jobId)).to.be.revertedWithCustomError(m.jobs, "NoLiveClaim").withArgs(jobId);
    await m.jobs.connect(m.prover).claim(jobId);
    await expect(m.jobs.connect(m.prover).releaseClaim(jobId)).to.emit(m.jobs, "ClaimReleased").withArgs(jobId, m.prover.address, BOND);
    // an expired (undelivered) claim is not live any more: it settles through expireClaim, never twice
    await m.jobs.connect(m.prover2).claim(jobId);
    await time.increase(DW + 1);
    await expect(m.jobs.connect(m.prover2).releaseClaim(jobId)).to.be.revertedWithCustomError(m.jobs, "NoLiveClaim").withArgs(jobId);
    await expect(m.jobs.connect(m.prover).releaseClaim(999n)).to.be.revertedWithCustomError(m.jobs, "JobNotFound").withArgs(999n);
  });

  it("a private job needs no claim to be delivered (a prover holding the opening), and its requester reclaims the fee whatever happened", async function () {
    const m = await loadFixture(market);
    const a = await m.open();
    await expect(m.jobs.connect(m.prover).submitResult(a.jobId, OUTPUT, await m.proofFor(a.jobId, m.prover.address)))
      .to.emit(m.jobs, "JobFulfilled")
      .withArgs(a.jobId, m.prover.address, OUTPUT, FEE, 0n);
    const before = await m.accounts();
    const b = await m.open(DW + LEASE + DEFAULT_MARKET.openWindow + 10);
    await m.jobs.connect(m.prover).claim(b.jobId);
    await m.jobs.connect(m.requester).deliverInput(b.jobId, m.prover.address, CT);
    await time.setNextBlockTimestamp(b.deadline + 1);
    // delivered, never proved: the slash is burned, the fee comes back, the requester never gets the slash
    await expect(m.jobs.connect(m.requester).reclaim(b.jobId))
      .to.emit(m.jobs, "JobReclaimed")
      .withArgs(b.jobId, m.requester.address, FEE, SLASH);
    const after = await m.accounts();
    expect(after.requester).to.equal(before.requester + FEE);
    expect(after.prover).to.equal(before.prover - SLASH);
    expect(await m.jobs.burned()).to.equal(SLASH);
  });

  describe("review round two (issue 27)", function () {
    it("finding 3: one claim per address; a griefer whose claims lapse undelivered or are declined cannot claim again, and the honest prover gets the job", async function () {
      const m = await loadFixture(market);
      const griefer = m.stranger;
      const decliner = m.signers[6];
      for (const g of [griefer, decliner]) await m.jobs.connect(g).deposit({ value: STAKE });
      const { jobId } = await m.open(3600); // the review's one-hour job
      // the griefer claims first; the requester (whose client does not trust it) does not deliver; the claim lapses
      await m.jobs.connect(griefer).claim(jobId);
      await time.increase(DW + 1);
      // claiming again in the next block was the review's hold (23 claims, slash 0): now refused
      await expect(m.jobs.connect(griefer).claim(jobId))
        .to.be.revertedWithCustomError(m.jobs, "AlreadyClaimedOnce")
        .withArgs(jobId, griefer.address);
      // a decliner takes the delivery and releases it for free: once
      await m.jobs.connect(decliner).claim(jobId);
      await m.jobs.connect(m.requester).deliverInput(jobId, decliner.address, CT);
      await m.jobs.connect(decliner).releaseClaim(jobId);
      await expect(m.jobs.connect(decliner).claim(jobId))
        .to.be.revertedWithCustomError(m.jobs, "AlreadyClaimedOnce")
        .withArgs(jobId, decliner.address);
      await expect(m.jobs.connect(griefer).claim(jobId))
        .to.be.revertedWithCustomError(m.jobs, "AlreadyClaimedOnce")
        .withArgs(jobId, griefer.address);
      expect([await m.jobs.claimedOnce(jobId, griefer.address), await m.jobs.claimedOnce(jobId, m.prover.address)]).to.deep.equal([
        true,
        false,
      ]);
      // the honest prover's claim goes through, it gets the input and is paid; neither griefer lost its bond
      await expect(m.jobs.connect(m.prover).claim(jobId)).to.emit(m.jobs, "JobClaimed");
      await m.jobs.connect(m.requester).deliverInput(jobId, m.prover.address, CT);
      await expect(m.jobs.connect(m.prover).submitResult(jobId, OUTPUT, await m.proofFor(jobId, m.prover.address)))
        .to.emit(m.jobs, "JobFulfilled")
        .withArgs(jobId, m.prover.address, OUTPUT, FEE, 0n);
      for (const g of [griefer, decliner]) expect(await m.jobs.accountOf(g.address)).to.deep.equal([STAKE, 0n]);
      // the rule is per job: the griefer may claim another private job, and public jobs keep their slash instead
      const other = await m.open(3600);
      await expect(m.jobs.connect(griefer).claim(other.jobId)).to.emit(m.jobs, "JobClaimed");
    });

    it("finding 3, many addresses: the requester designates the prover it delivers to; no other address can claim, the live claim is untouched", async function () {
      const m = await loadFixture(market);
      const sybils = m.signers.slice(6, 9);
      for (const g of sybils) await m.jobs.connect(g).deposit({ value: STAKE });
      const { jobId } = await m.open(3600);
      // each fresh address of the griefer takes one hold
      await m.jobs.connect(sybils[0]).claim(jobId);
      // the requester names the honest prover: the live claim runs out as before (undelivered, unslashed)
      await expect(m.jobs.connect(m.requester).designateClaimant(jobId, m.prover.address))
        .to.emit(m.jobs, "ClaimantDesignated")
        .withArgs(jobId, m.prover.address);
      expect(await m.jobs.designatedClaimant(jobId)).to.equal(m.prover.address);
      expect((await m.jobs.claimOf(jobId)).claimant).to.equal(sybils[0].address);
      await time.increase(DW + 1);
      for (const g of sybils.slice(1))
        await expect(m.jobs.connect(g).claim(jobId))
          .to.be.revertedWithCustomError(m.jobs, "NotDesignatedClaimant")
          .withArgs(jobId, m.prover.address, g.address);
      await m.jobs.connect(m.prover).claim(jobId);
      await m.jobs.connect(m.requester).deliverInput(jobId, m.prover.address, CT);
      await expect(m.jobs.connect(m.prover).submitResult(jobId, OUTPUT, await m.proofFor(jobId, m.prover.address)))
        .to.emit(m.jobs, "JobFulfilled")
        .withArgs(jobId, m.prover.address, OUTPUT, FEE, 0n);
      expect(await m.jobs.accountOf(sybils[0].address)).to.deep.equal([STAKE, 0n]);
      // only the requester designates, only on an open private job; zero opens it to anyone again
      const other = await m.open(3600);
      await expect(m.jobs.connect(m.stranger).designateClaimant(other.jobId, m.stranger.address))
        .to.be.revertedWithCustomError(m.jobs, "NotRequester")
        .withArgs(other.jobId, m.stranger.address);
      await m.jobs.connect(m.requester).designateClaimant(other.jobId, m.prover2.address);
      await m.jobs.connect(m.requester).designateClaimant(other.jobId, ethers.ZeroAddress);
      await expect(m.jobs.connect(sybils[1]).claim(other.jobId)).to.emit(m.jobs, "JobClaimed");
      const pub = await openJob(m.jobs, m.requester, {
        modelId: m.modelId,
        inputCommitment: INPUT,
        fee: FEE,
        deadline: (await time.latest()) + 3600,
      });
      await expect(m.jobs.connect(m.requester).designateClaimant(pub, m.prover.address))
        .to.be.revertedWithCustomError(m.jobs, "NotPrivateJob")
        .withArgs(pub);
      await expect(m.jobs.connect(m.requester).designateClaimant(jobId, m.prover.address)).to.be.revertedWithCustomError(
        m.jobs,
        "JobNotOpen",
      );
    });

    it("finding 4: a delivery in the last second of the delivery window still leaves the claimant a full lease, even with deliveryWindow == leaseDuration", async function () {
      const m = await loadFixture(market);
      const params = { ...DEFAULT_MARKET, deliveryWindow: LEASE };
      const jobs = await deployJobs(await m.registry.getAddress(), params, m.deployer);
      for (const s of [m.prover, m.requester]) await jobs.connect(s).deposit({ value: STAKE });
      const span = LEASE + LEASE + DEFAULT_MARKET.openWindow; // deliveryWindow + leaseDuration + openWindow
      const t0 = (await time.latest()) + 10;
      const open = async (deadline: number) => {
        const id = await jobs.connect(m.requester).openPrivateJob.staticCall(m.modelId, 1n, INPUT, deadline, false, { value: FEE });
        await jobs.connect(m.requester).openPrivateJob(m.modelId, 1n, INPUT, deadline, false, { value: FEE });
        return id;
      };
      // a private claim must leave room for a whole lease after the latest delivery: the last claim time is deadline - span
      const tight = await open(t0 + span - 1);
      const job = await open(t0 + 1 + span);
      await time.setNextBlockTimestamp(t0);
      await expect(jobs.connect(m.prover).claim(tight))
        .to.be.revertedWithCustomError(jobs, "ClaimTooLate")
        .withArgs(tight, t0 - 1);
      const t1 = t0 + 1;
      await time.setNextBlockTimestamp(t1);
      await expect(jobs.connect(m.prover).claim(job))
        .to.emit(jobs, "JobClaimed")
        .withArgs(job, m.prover.address, t1 + LEASE, BOND);
      // the requester delivers in the claim's last second: the review's squeeze
      await time.setNextBlockTimestamp(t1 + LEASE);
      await expect(jobs.connect(m.requester).deliverInput(job, m.prover.address, CT))
        .to.emit(jobs, "InputDelivered")
        .withArgs(job, m.prover.address, t1 + 2 * LEASE, CT);
      // the claimant can still decline within the window, or prove in its full lease: it proves in the lease's last second
      await time.setNextBlockTimestamp(t1 + 2 * LEASE);
      const proof = mockProof([OUTPUT, m.modelCommitment, INPUT, jobBinding(m.chainId, await jobs.getAddress(), job, m.prover.address)]);
      await expect(jobs.connect(m.prover).submitResult(job, OUTPUT, proof))
        .to.emit(jobs, "JobFulfilled")
        .withArgs(job, m.prover.address, OUTPUT, FEE, 0n);
      expect(await jobs.accountOf(m.prover.address)).to.deep.equal([STAKE + FEE, 0n]);
      expect(t1 + 2 * LEASE).to.be.lessThanOrEqual(t1 + span - DEFAULT_MARKET.openWindow);
    });

    it("finding 6: a delivery names its claimant; a ciphertext made for a claimant that released cannot land on the next claim", async function () {
      const m = await loadFixture(market);
      const { jobId } = await m.open();
      await m.jobs.connect(m.prover).claim(jobId);
      await m.jobs.connect(m.prover).releaseClaim(jobId);
      await m.jobs.connect(m.prover2).claim(jobId);
      // the requester's client encrypted to the first claimant; its transaction lands after the second claim
      await expect(m.jobs.connect(m.requester).deliverInput(jobId, m.prover.address, CT))
        .to.be.revertedWithCustomError(m.jobs, "ClaimantMismatch")
        .withArgs(jobId, m.prover.address, m.prover2.address);
      expect((await m.jobs.claimOf(jobId)).deliveredAt).to.equal(0n);
      await expect(m.jobs.connect(m.requester).deliverInput(jobId, m.prover2.address, CT)).to.emit(m.jobs, "InputDelivered");
    });
  });
});
