/**
 * Private delivery of a committed input (docs/market-rules.md, "Private delivery"): the requester sends the opening
 * encrypted to the claimant after the claim; a missing or unusable delivery never costs the claimant its bond, and
 * the claimant cannot hold a delivered job for free beyond the decline window. Logic proofs come from
 * MockSnarkjsVerifier; the real encryption and a real prover node are in test/prover/delivery.test.ts.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { DEFAULT_MARKET, jobBinding, mockMarketFixture, mockProof, openJob } from "./fixtures";
import { SNARK_FIELD } from "../../scripts/lib/field";

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
    const tx = await m.jobs.connect(m.requester).openPrivateJob(m.modelId, INPUT, deadline, false, { value: FEE });
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
    const cb = await m.jobs.connect(m.requester).openPrivateJob.staticCall(m.modelId, INPUT, deadline, true, { value: FEE });
    await m.jobs.connect(m.requester).openPrivateJob(m.modelId, INPUT, deadline, true, { value: FEE });
    expect((await m.jobs.getJob(cb)).callback).to.equal(true);
    expect((await m.jobs.getJob(cb)).privateInput).to.equal(true);
    const pub = await openJob(m.jobs, m.requester, { modelId: m.modelId, inputCommitment: INPUT, fee: FEE, deadline });
    expect((await m.jobs.getJob(pub)).privateInput).to.equal(false);
    await expect(m.jobs.connect(m.requester).openPrivateJob(m.modelId, SNARK_FIELD, deadline, false, { value: FEE }))
      .to.be.revertedWithCustomError(m.jobs, "InputCommitmentNotInField")
      .withArgs(SNARK_FIELD);
    await expect(m.jobs.connect(m.requester).openPrivateJob(m.modelId, INPUT, deadline, false)).to.be.revertedWithCustomError(
      m.jobs,
      "ZeroFee",
    );
  });

  it("a claim first lasts the delivery window; the delivery extends it to the full lease and is emitted, not stored", async function () {
    const m = await loadFixture(market);
    const { jobId } = await m.open();
    const t0 = (await time.latest()) + 1;
    await time.setNextBlockTimestamp(t0);
    await expect(m.jobs.connect(m.prover).claim(jobId))
      .to.emit(m.jobs, "JobClaimed")
      .withArgs(jobId, m.prover.address, t0 + DW, BOND);
    await time.setNextBlockTimestamp(t0 + DW);
    await expect(m.jobs.connect(m.requester).deliverInput(jobId, CT))
      .to.emit(m.jobs, "InputDelivered")
      .withArgs(jobId, m.prover.address, t0 + LEASE, CT);
    const c = await m.jobs.claimOf(jobId);
    expect(c.leaseEnd).to.equal(BigInt(t0 + LEASE));
    expect(c.deliveredAt).to.equal(BigInt(t0 + DW));
    // the claimant proves within its lease: fee paid, bond back whole
    await time.setNextBlockTimestamp(t0 + LEASE);
    await expect(m.jobs.connect(m.prover).submitResult(jobId, OUTPUT, await m.proofFor(jobId, m.prover.address)))
      .to.emit(m.jobs, "JobFulfilled")
      .withArgs(jobId, m.prover.address, OUTPUT, FEE, 0n);
    expect((await m.jobs.accountOf(m.prover.address)).available).to.equal(STAKE + FEE);
  });

  it("refuses a delivery by anyone but the requester, on a public job, without a live claim, after the window, or twice", async function () {
    const m = await loadFixture(market);
    const { jobId, deadline } = await m.open();
    await expect(m.jobs.connect(m.requester).deliverInput(jobId, CT)).to.be.revertedWithCustomError(m.jobs, "NoLiveClaim").withArgs(jobId);
    await expect(m.jobs.connect(m.requester).deliverInput(999n, CT)).to.be.revertedWithCustomError(m.jobs, "JobNotFound").withArgs(999n);
    const pub = await openJob(m.jobs, m.requester, { modelId: m.modelId, inputCommitment: INPUT, fee: FEE, deadline });
    await m.jobs.connect(m.prover).claim(pub);
    await expect(m.jobs.connect(m.requester).deliverInput(pub, CT)).to.be.revertedWithCustomError(m.jobs, "NotPrivateJob").withArgs(pub);
    await m.jobs.connect(m.prover).claim(jobId);
    const claimedAt = await time.latest();
    await expect(m.jobs.connect(m.stranger).deliverInput(jobId, CT))
      .to.be.revertedWithCustomError(m.jobs, "NotRequester")
      .withArgs(jobId, m.stranger.address);
    await m.jobs.connect(m.requester).deliverInput(jobId, CT);
    await expect(m.jobs.connect(m.requester).deliverInput(jobId, CT))
      .to.be.revertedWithCustomError(m.jobs, "InputAlreadyDelivered")
      .withArgs(jobId, m.prover.address);
    // a second private job whose claim's delivery window has passed
    const late = await m.open();
    await m.jobs.connect(m.prover2).claim(late.jobId);
    await time.increase(DW + 1);
    await expect(m.jobs.connect(m.requester).deliverInput(late.jobId, CT))
      .to.be.revertedWithCustomError(m.jobs, "NoLiveClaim")
      .withArgs(late.jobId);
    // and a settled job
    await time.setNextBlockTimestamp(claimedAt + DW + 10);
    await m.jobs.connect(m.prover).submitResult(jobId, OUTPUT, await m.proofFor(jobId, m.prover.address));
    await expect(m.jobs.connect(m.requester).deliverInput(jobId, CT)).to.be.revertedWithCustomError(m.jobs, "JobNotOpen");
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
    await m.jobs.connect(m.requester).deliverInput(jobId, "0x00"); // garbage
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
    await m.jobs.connect(m.requester).deliverInput(jobId, CT);
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
    const b = await m.open(LEASE + DEFAULT_MARKET.openWindow + 10);
    await m.jobs.connect(m.prover).claim(b.jobId);
    await m.jobs.connect(m.requester).deliverInput(b.jobId, CT);
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
});
