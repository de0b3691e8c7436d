/**
 * The consumer base contract (contracts/consumer/InferenceConsumer.sol) through ConsumerHarness on the mock market:
 * every branch. The same base with real proofs in a fresh Hardhat project: scripts/apps/package/consumer-check.ts.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { packSigned } from "../../scripts/formats/commitments";
import type { ModelLayout } from "../../scripts/formats/model-layout";
import { commitment, jobBinding, mockMarketFixture, mockProof, modelSignal, registerMockWithLayout, asMarket } from "./fixtures";

const PUBLIC = { inputMode: 1, outputHead: 1, inputCount: 3, inputBits: 12, outputCount: 2, outputBits: 16, outputFrac: 6 };
const PUBLIC_HASH = 777n;
const FEE = ethers.parseEther("0.01");

async function consumerFixture() {
  const m = await mockMarketFixture();
  const publicId = await registerMockWithLayout(m, PUBLIC_HASH, PUBLIC);
  const Harness = await ethers.getContractFactory("ConsumerHarness");
  const onPublic = await Harness.deploy(await m.jobs.getAddress(), publicId, 1n);
  const onCommitted = await Harness.deploy(await m.jobs.getAddress(), m.modelId, 1n);
  const deadline = async (s = 3600) => BigInt((await time.latest()) + s);
  const jobsAddress = await m.jobs.getAddress();
  /** Claims and proves (mock) `output` for a job, as a prover would. */
  const fulfil = async (jobId: bigint, output: bigint, layout?: ModelLayout) => {
    await m.jobs.connect(m.prover).deposit({ value: ethers.parseEther("1") });
    const inputWords = layout ? await m.jobs.inputSignalsOf(jobId) : [(await m.jobs.getJob(jobId)).inputCommitment];
    const proof = mockProof([
      output,
      layout ? await modelSignal(PUBLIC_HASH, layout) : m.modelCommitment,
      ...inputWords,
      jobBinding(m.chainId, jobsAddress, jobId, m.prover.address),
    ]);
    return m.jobs.connect(m.prover).submitResult(jobId, output, proof);
  };
  const opened = async (tx: Promise<{ wait(): Promise<unknown> }>) => {
    const rc = (await (await tx).wait()) as { logs: { topics: readonly string[]; data: string }[] };
    for (const log of rc.logs) {
      const p = m.jobs.interface.parseLog(log);
      if (p?.name === "JobOpened") return p.args.jobId as bigint;
    }
    throw new Error("no JobOpened");
  };
  return { ...m, publicId, onPublic, onCommitted, deadline, fulfil, opened };
}

describe("InferenceConsumer", function () {
  describe("requests", function () {
    it("opens a public-input job on exactly its inputs, pinned to its version, and receives the verified values once", async function () {
      const s = await loadFixture(consumerFixture);
      const jobId = await s.opened(s.onPublic.requestPublic([5n, -7n, 2047n], await s.deadline(), { value: FEE }));
      await expect(s.onPublic.requestPublic([5n, -7n, 2047n], await s.deadline(), { value: FEE }))
        .to.emit(s.onPublic, "InferenceRequested")
        .withArgs(jobId + 1n, 1n);
      const job = await s.jobs.getJob(jobId);
      expect([job.requester, job.modelVersion, job.callback, job.escrow]).to.deep.equal([await s.onPublic.getAddress(), 1n, true, FEE]);
      expect(await s.jobs.inputSignalsOf(jobId)).to.deep.equal(packSigned([5n, -7n, 2047n], 12));
      expect(await s.onPublic.isPending(jobId)).to.equal(true);
      const out = packSigned([96n, -64n], 16)[0];
      await expect(s.fulfil(jobId, out, PUBLIC as ModelLayout))
        .to.emit(s.onPublic, "Received")
        .withArgs(jobId, out, true)
        .and.not.to.emit(s.jobs, "CallbackFailed");
      expect(await s.onPublic.isPending(jobId)).to.equal(false);
      expect(await s.onPublic.latestResultJob()).to.equal(jobId);
      expect(await s.onPublic.values(jobId)).to.deep.equal([[96n, -64n], 6n]);
    });

    it("opens optimistic jobs in one transaction (public and committed), whose posted result arrives once finalised", async function () {
      const s = await loadFixture(consumerFixture);
      const jobId = await s.opened(s.onPublic.requestPublicOptimistic([5n, -7n, 2047n], await s.deadline(), { value: FEE }));
      await expect(s.onCommitted.requestCommittedOptimistic(123n, "data:application/json,{}", await s.deadline(), { value: FEE }))
        .to.emit(s.jobs, "JobMadeOptimistic")
        .withArgs(jobId + 1n);
      for (const id of [jobId, jobId + 1n]) expect((await s.jobs.optimisticStateOf(id)).optimistic).to.equal(true);
      expect((await s.jobs.getJob(jobId + 1n)).inputCommitment).to.equal(123n);
      const out = packSigned([96n, -64n], 16)[0];
      await s.jobs.connect(s.prover).deposit({ value: ethers.parseEther("1") });
      await s.jobs.connect(s.prover).claim(jobId);
      await s.jobs.connect(s.prover).postResult(jobId, out);
      expect(await s.onPublic.isPending(jobId)).to.equal(true);
      await time.increase((await s.jobs.optimisticParameters())[1] + 1n);
      await expect(s.jobs.connect(s.stranger).finalizeResult(jobId)).to.emit(s.onPublic, "Received").withArgs(jobId, out, true);
      expect(await s.onPublic.isPending(jobId)).to.equal(false);
      expect(await s.onPublic.values(jobId)).to.deep.equal([[96n, -64n], 6n]);
    });

    it("opens a committed job with its URI and a private job, both pinned and called back", async function () {
      const s = await loadFixture(consumerFixture);
      const c = 123n;
      const committed = s.onCommitted.requestCommitted(c, "data:application/json,{}", await s.deadline(), { value: FEE });
      await expect(committed).to.emit(s.jobs, "JobOpened");
      const jobId = await s.jobs.nextJobId().then((n: bigint) => n - 1n);
      expect((await s.jobs.getJob(jobId)).inputCommitment).to.equal(c);
      const priv = await s.opened(s.onCommitted.requestPrivate(c + 1n, await s.deadline(), { value: FEE }));
      expect((await s.jobs.getJob(priv)).privateInput).to.equal(true);
      await expect(s.fulfil(jobId, 2n)).to.emit(s.onCommitted, "Received").withArgs(jobId, 2n, true);
      expect(await s.onCommitted.lastOutput()).to.equal(2n);
    });

    it("marks a late answer to an older request as not the latest, and keeps the newer result", async function () {
      const s = await loadFixture(consumerFixture);
      const older = await s.opened(s.onCommitted.requestCommitted(1n, "u", await s.deadline(), { value: FEE }));
      const newer = await s.opened(s.onCommitted.requestCommitted(2n, "u", await s.deadline(), { value: FEE }));
      await expect(s.fulfil(newer, 1n)).to.emit(s.onCommitted, "Received").withArgs(newer, 1n, true);
      await expect(s.fulfil(older, 0n)).to.emit(s.onCommitted, "Received").withArgs(older, 0n, false);
      expect([await s.onCommitted.lastOutput(), await s.onCommitted.latestResultJob()]).to.deep.equal([1n, newer]);
    });
  });

  describe("onInferenceResult", function () {
    it("reverts NotInferenceJobs for any caller but the market", async function () {
      const s = await loadFixture(consumerFixture);
      await expect(s.onCommitted.connect(s.stranger).onInferenceResult(1n, 2n))
        .to.be.revertedWithCustomError(s.onCommitted, "NotInferenceJobs")
        .withArgs(s.stranger.address);
    });

    it("reverts UnknownInferenceJob for a job it did not open, or whose result it already received", async function () {
      const s = await loadFixture(consumerFixture);
      const market = await asMarket(s.jobs);
      await expect(s.onCommitted.connect(market).onInferenceResult(99n, 2n))
        .to.be.revertedWithCustomError(s.onCommitted, "UnknownInferenceJob")
        .withArgs(99n);
      const jobId = await s.opened(s.onCommitted.requestCommitted(1n, "u", await s.deadline(), { value: FEE }));
      await s.onCommitted.connect(market).onInferenceResult(jobId, 1n);
      await expect(s.onCommitted.connect(market).onInferenceResult(jobId, 1n))
        .to.be.revertedWithCustomError(s.onCommitted, "UnknownInferenceJob")
        .withArgs(jobId);
    });
  });

  describe("versions and refunds", function () {
    it("keeps requesting the pinned version after the model moved on, until it pins the new one", async function () {
      const s = await loadFixture(consumerFixture);
      await s.registry.connect(s.modelOwner).updateModel(s.modelId, commitment({ modelHash: 999n }));
      await expect(s.onCommitted.requestCommitted(1n, "u", await s.deadline(), { value: FEE }))
        .to.be.revertedWithCustomError(s.jobs, "ModelVersionMismatch")
        .withArgs(s.modelId, 1n, 2n);
      await expect(s.onCommitted.pin(2n)).to.emit(s.onCommitted, "ModelVersionPinned").withArgs(1n, 2n);
      const jobId = await s.opened(s.onCommitted.requestCommitted(1n, "u", await s.deadline(), { value: FEE }));
      expect((await s.jobs.getJob(jobId)).modelVersion).to.equal(2n);
    });

    it("reclaims an unfulfilled job after its deadline into its market balance, and stops awaiting it", async function () {
      const s = await loadFixture(consumerFixture);
      const jobId = await s.opened(s.onCommitted.requestCommitted(1n, "u", await s.deadline(600), { value: FEE }));
      await expect(s.onCommitted.reclaim(jobId)).to.be.revertedWithCustomError(s.jobs, "DeadlineNotPassed");
      await time.increase(601);
      await expect(s.onCommitted.reclaim(jobId)).to.emit(s.jobs, "JobReclaimed");
      expect(await s.onCommitted.isPending(jobId)).to.equal(false);
      expect((await s.jobs.accountOf(await s.onCommitted.getAddress())).available).to.equal(FEE);
      await expect(s.onCommitted.reclaim(jobId)).to.be.revertedWithCustomError(s.onCommitted, "UnknownInferenceJob").withArgs(jobId);
    });
  });
});
