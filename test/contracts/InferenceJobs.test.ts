import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { SNARK_FIELD } from "../../scripts/util/field";
import {
  commitment,
  createAdapter,
  DEFAULT_MARKET,
  deployJobs,
  jobBinding,
  jobsFactory,
  mockMarketFixture,
  mockProof,
  modelSignal,
  openJob,
  JobStatus as Status,
  depositStake,
} from "./fixtures";
import type { InferenceJobs } from "../../typechain-types";

const FEE = ethers.parseEther("1");
const INPUT = 777n;
const OUTPUT = 3n;
const BOND = DEFAULT_MARKET.claimBond;
const SLASHED = (BOND * BigInt(DEFAULT_MARKET.slashBps)) / 10_000n;
/** A claim must leave its whole lease plus the open window before the deadline. */
const CLAIM_SPAN = DEFAULT_MARKET.leaseDuration + DEFAULT_MARKET.openWindow;
/** `verifyProof` of a snarkjs Groth16 verifier with 4 signals (what the registry copies from the adapter). */
const GROTH16_4_SELECTOR = ethers.id("verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[4])").slice(0, 10);

async function now(): Promise<number> {
  return time.latest();
}

/** Mock market with one open job (id 1) and a staked prover. */
async function openJobFixture() {
  const m = await mockMarketFixture();
  const deadline = (await now()) + 3600;
  const jobId = await openJob(m.jobs, m.requester, { modelId: m.modelId, inputCommitment: INPUT, fee: FEE, deadline });
  await depositStake(m.jobs, [m.prover, m.prover2]);
  return { ...m, deadline, jobId };
}

/** The proof MockSnarkjsVerifier accepts for this job, prover and output, on a default-layout version of `modelHash`. */
async function proofFor(
  jobs: InferenceJobs,
  chainId: bigint,
  modelHash: bigint,
  jobId: bigint,
  prover: string,
  output = OUTPUT,
  input = INPUT,
) {
  return mockProof([output, await modelSignal(modelHash), input, jobBinding(chainId, await jobs.getAddress(), jobId, prover)]);
}

describe("InferenceJobs", function () {
  describe("constructor", function () {
    it("reverts with InvalidMarketParameter on each unusable parameter, checked in constructor order", async function () {
      const { registry } = await loadFixture(mockMarketFixture);
      const f = await jobsFactory();
      const reg = await registry.getAddress();
      const [s] = await ethers.getSigners();
      const ok = DEFAULT_MARKET;
      const deploy = (p: {
        registry?: string;
        claimBond?: bigint;
        leaseDuration?: number;
        slashBps?: number;
        callbackGasLimit?: number;
        openWindow?: number;
        deliveryWindow?: number;
        challengeBond?: bigint;
        challengeWindow?: number;
        proofWindow?: number;
      }) =>
        f.deploy(
          p.registry ?? reg,
          p.claimBond ?? ok.claimBond,
          p.leaseDuration ?? ok.leaseDuration,
          p.slashBps ?? ok.slashBps,
          p.callbackGasLimit ?? ok.callbackGasLimit,
          p.openWindow ?? ok.openWindow,
          p.deliveryWindow ?? ok.deliveryWindow,
          p.challengeBond ?? ok.challengeBond,
          p.challengeWindow ?? ok.challengeWindow,
          p.proofWindow ?? ok.proofWindow,
        );
      const cases: [Parameters<typeof deploy>[0], string, bigint][] = [
        [{ registry: s.address }, "registry", BigInt(s.address)],
        [{ slashBps: 0 }, "slashBps", 0n],
        [{ slashBps: 10_001 }, "slashBps", 10_001n],
        [{ claimBond: 0n }, "claimBond", 0n],
        // 1 wei * 5000 / 10000 rounds to 0: a free claim
        [{ claimBond: 1n }, "claimBond", 1n],
        [{ claimBond: 9_999n, slashBps: 1 }, "claimBond", 9_999n],
        [{ leaseDuration: 0 }, "leaseDuration", 0n],
        [{ callbackGasLimit: 0 }, "callbackGasLimit", 0n],
        [{ callbackGasLimit: 24_999 }, "callbackGasLimit", 24_999n],
        [{ callbackGasLimit: 5_000_001 }, "callbackGasLimit", 5_000_001n],
        [{ openWindow: 0 }, "openWindow", 0n],
        [{ deliveryWindow: 0 }, "deliveryWindow", 0n],
        // a delivery window longer than the lease: a delivery could never extend the claim
        [{ deliveryWindow: 601 }, "deliveryWindow", 601n],
        // optimistic results: a free challenge, or no time to challenge or to answer
        [{ challengeBond: 0n }, "challengeBond", 0n],
        [{ challengeWindow: 0 }, "challengeWindow", 0n],
        [{ proofWindow: 0 }, "proofWindow", 0n],
        [{ deliveryWindow: 0, challengeBond: 0n, challengeWindow: 0, proofWindow: 0 }, "deliveryWindow", 0n],
        [{ challengeBond: 0n, challengeWindow: 0, proofWindow: 0 }, "challengeBond", 0n],
        [{ challengeWindow: 0, proofWindow: 0 }, "challengeWindow", 0n],
        // every parameter bad at once: the first check (registry) wins, then slashBps, claimBond, leaseDuration, ...
        [
          { registry: s.address, claimBond: 0n, leaseDuration: 0, slashBps: 0, callbackGasLimit: 0, openWindow: 0 },
          "registry",
          BigInt(s.address),
        ],
        [{ claimBond: 0n, leaseDuration: 0, slashBps: 0, callbackGasLimit: 0, openWindow: 0 }, "slashBps", 0n],
        [{ claimBond: 0n, leaseDuration: 0, callbackGasLimit: 0, openWindow: 0 }, "claimBond", 0n],
        [{ leaseDuration: 0, callbackGasLimit: 0, openWindow: 0 }, "leaseDuration", 0n],
        [{ callbackGasLimit: 0, openWindow: 0 }, "callbackGasLimit", 0n],
      ];
      for (const [p, name, value] of cases) {
        await expect(deploy(p), name).to.be.revertedWithCustomError(f, "InvalidMarketParameter").withArgs(name, value);
      }
    });

    it("accepts the boundary values of every parameter", async function () {
      const { registry } = await loadFixture(mockMarketFixture);
      const reg = await registry.getAddress();
      for (const p of [
        { ...DEFAULT_MARKET, claimBond: 2n, slashBps: 5_000 }, // slash = 1 wei
        { ...DEFAULT_MARKET, claimBond: 10_000n, slashBps: 1 }, // slash = 1 wei
        { ...DEFAULT_MARKET, slashBps: 10_000 },
        { ...DEFAULT_MARKET, leaseDuration: 1, openWindow: 1, deliveryWindow: 1 },
        { ...DEFAULT_MARKET, deliveryWindow: DEFAULT_MARKET.leaseDuration },
        { ...DEFAULT_MARKET, callbackGasLimit: 25_000 },
        { ...DEFAULT_MARKET, callbackGasLimit: 5_000_000 },
        { ...DEFAULT_MARKET, challengeBond: 1n, challengeWindow: 1, proofWindow: 1 },
        { ...DEFAULT_MARKET, challengeBond: 2n ** 96n - 1n, challengeWindow: 2 ** 32 - 1, proofWindow: 2 ** 32 - 1 },
      ]) {
        const jobs = await deployJobs(reg, p);
        expect(await jobs.claimBond()).to.equal(p.claimBond);
        expect(await jobs.slashBps()).to.equal(p.slashBps);
        expect(await jobs.callbackGasLimit()).to.equal(p.callbackGasLimit);
        expect(await jobs.optimisticParameters()).to.deep.equal([p.challengeBond, BigInt(p.challengeWindow), BigInt(p.proofWindow)]);
      }
    });

    it("exposes its parameters", async function () {
      const { jobs, registry } = await loadFixture(mockMarketFixture);
      expect(await jobs.registry()).to.equal(await registry.getAddress());
      expect(await jobs.claimBond()).to.equal(BOND);
      expect(await jobs.leaseDuration()).to.equal(DEFAULT_MARKET.leaseDuration);
      expect(await jobs.slashBps()).to.equal(DEFAULT_MARKET.slashBps);
      expect(await jobs.callbackGasLimit()).to.equal(DEFAULT_MARKET.callbackGasLimit);
      expect(await jobs.openWindow()).to.equal(DEFAULT_MARKET.openWindow);
      expect(await jobs.deliveryWindow()).to.equal(DEFAULT_MARKET.deliveryWindow);
      expect(await jobs.optimisticParameters()).to.deep.equal([
        DEFAULT_MARKET.challengeBond,
        BigInt(DEFAULT_MARKET.challengeWindow),
        BigInt(DEFAULT_MARKET.proofWindow),
      ]);
      expect(await jobs.burned()).to.equal(0n);
      expect(await jobs.nextJobId()).to.equal(1n);
    });
  });

  describe("openJob", function () {
    it("escrows the fee, pins the current version, caches its target (the snarkjs verifier) and emits JobOpened", async function () {
      const { jobs, requester, modelId, modelCommitment, mock } = await loadFixture(mockMarketFixture);
      const deadline = (await now()) + 100;
      const mockAddr = await mock.getAddress();
      const codeHash = ethers.keccak256(await ethers.provider.getCode(mockAddr));
      const tx = jobs.connect(requester).openJob(modelId, 1n, INPUT, "ipfs://in", deadline, true, { value: FEE });
      await expect(tx)
        .to.emit(jobs, "JobOpened")
        .withArgs(1n, requester.address, modelId, 1, INPUT, FEE, deadline, true, "ipfs://in")
        .and.to.emit(jobs, "VerificationTargetCached")
        .withArgs(modelId, 1, modelCommitment, mockAddr, codeHash);
      await expect(tx).to.changeEtherBalances([requester, jobs], [-FEE, FEE]);
      const job = await jobs.getJob(1n);
      expect(job.requester).to.equal(requester.address);
      expect(job.deadline).to.equal(BigInt(deadline));
      expect(job.modelId).to.equal(modelId);
      expect(job.modelVersion).to.equal(1n);
      expect(job.status).to.equal(Status.Open);
      expect(job.callback).to.equal(true);
      expect(job.inputCommitment).to.equal(INPUT);
      expect(job.escrow).to.equal(FEE);
      expect(job.bounty).to.equal(0n);
      expect(job.output).to.equal(0n);
      expect(await jobs.resultOf(1n)).to.deep.equal([false, 0n]);
      expect(await jobs.nextJobId()).to.equal(2n);
      // the pinned target is the snarkjs verifier itself (called directly), not the adapter
      // committed input mode, one input signal, input format not recorded
      expect(await jobs.verificationTargetOf(modelId, 1n)).to.deep.equal([
        modelCommitment,
        mockAddr,
        GROTH16_4_SELECTOR,
        256n,
        0n,
        1n,
        0n,
        0n,
        codeHash,
      ]);
      // the second job on the same version does not cache again
      await expect(jobs.connect(requester).openJob(modelId, 1n, INPUT, "", deadline, false, { value: FEE })).not.to.emit(
        jobs,
        "VerificationTargetCached",
      );
    });

    it("reverts when the fee is zero", async function () {
      const { jobs, requester, modelId } = await loadFixture(mockMarketFixture);
      await expect(jobs.connect(requester).openJob(modelId, 1n, INPUT, "", (await now()) + 100, false)).to.be.revertedWithCustomError(
        jobs,
        "ZeroFee",
      );
    });

    it("reverts when the fee does not fit in 96 bits", async function () {
      const { jobs, requester, modelId } = await loadFixture(mockMarketFixture);
      const big = 2n ** 96n;
      await ethers.provider.send("hardhat_setBalance", [requester.address, ethers.toQuantity(big * 2n)]);
      await expect(jobs.connect(requester).openJob(modelId, 1n, INPUT, "", (await now()) + 100, false, { value: big }))
        .to.be.revertedWithCustomError(jobs, "AmountTooLarge")
        .withArgs(big);
    });

    it("reverts when the input commitment is not below r", async function () {
      const { jobs, requester, modelId } = await loadFixture(mockMarketFixture);
      await expect(jobs.connect(requester).openJob(modelId, 1n, SNARK_FIELD, "", (await now()) + 100, false, { value: FEE }))
        .to.be.revertedWithCustomError(jobs, "InputCommitmentNotInField")
        .withArgs(SNARK_FIELD);
    });

    it("reverts when the deadline is not in the future or beyond uint32", async function () {
      const { jobs, requester, modelId } = await loadFixture(mockMarketFixture);
      const t = (await now()) + 10;
      await time.setNextBlockTimestamp(t);
      await expect(jobs.connect(requester).openJob(modelId, 1n, INPUT, "", t, false, { value: FEE }))
        .to.be.revertedWithCustomError(jobs, "InvalidDeadline")
        .withArgs(t, t);
      const far = 2n ** 32n;
      await time.setNextBlockTimestamp(t + 5);
      await expect(jobs.connect(requester).openJob(modelId, 1n, INPUT, "", far, false, { value: FEE }))
        .to.be.revertedWithCustomError(jobs, "InvalidDeadline")
        .withArgs(far, t + 5);
    });

    it("reverts when the model does not exist", async function () {
      const { jobs, requester, registry } = await loadFixture(mockMarketFixture);
      await expect(jobs.connect(requester).openJob(9n, 1n, INPUT, "", (await now()) + 100, false, { value: FEE }))
        .to.be.revertedWithCustomError(registry, "ModelNotFound")
        .withArgs(9n);
    });

    it("reverts when the model is deprecated", async function () {
      const { jobs, requester, registry, modelOwner, modelId } = await loadFixture(mockMarketFixture);
      await registry.connect(modelOwner).deprecateModel(modelId);
      await expect(jobs.connect(requester).openJob(modelId, 1n, INPUT, "", (await now()) + 100, false, { value: FEE }))
        .to.be.revertedWithCustomError(jobs, "DeprecatedModel")
        .withArgs(modelId);
    });

    it("reverts when the model's current version has no verifier (a 3-signal version cannot even be registered)", async function () {
      const { jobs, requester, registry, modelOwner, factory, mock } = await loadFixture(mockMarketFixture);
      // a factory adapter declaring 3 signals: no layout has 3 signals
      const a3 = await createAdapter(factory, await mock.getAddress(), 3);
      await expect(registry.connect(modelOwner).registerModelWithVerifier(commitment({ modelHash: 1n }), a3, 3))
        .to.be.revertedWithCustomError(registry, "InvalidLayout")
        .withArgs("numPublicSignals", 3);
      const id = await registry.connect(modelOwner).registerModel.staticCall(commitment({ modelHash: 2n }));
      await registry.connect(modelOwner).registerModel(commitment({ modelHash: 2n }));
      await expect(jobs.connect(requester).openJob(id, 1n, INPUT, "", (await now()) + 100, false, { value: FEE }))
        .to.be.revertedWithCustomError(jobs, "UnsupportedModel")
        .withArgs(id, 0);
    });
  });

  describe("claim", function () {
    it("locks the bond, sets the lease and emits JobClaimed", async function () {
      const { jobs, prover, jobId } = await loadFixture(openJobFixture);
      const tx = await jobs.connect(prover).claim(jobId);
      const leaseEnd = (await now()) + DEFAULT_MARKET.leaseDuration;
      await expect(tx).to.emit(jobs, "JobClaimed").withArgs(jobId, prover.address, leaseEnd, BOND);
      expect(await jobs.claimOf(jobId)).to.deep.equal([prover.address, BigInt(leaseEnd), 0n]);
      expect(await jobs.accountOf(prover.address)).to.deep.equal([ethers.parseEther("1") - BOND, BOND]);
      expect((await jobs.getJob(jobId)).status).to.equal(Status.Claimed);
    });

    it("reverts with ClaimTooLate unless the lease and the open window fit before the deadline (exact boundary)", async function () {
      const { jobs, prover, prover2, requester, modelId, jobId, deadline } = await loadFixture(openJobFixture);
      const job2 = await openJob(jobs, requester, { modelId, inputCommitment: INPUT, fee: FEE, deadline });
      const latest = deadline - CLAIM_SPAN;
      // the last second at which a claim fits: its lease ends exactly openWindow seconds before the deadline
      await time.setNextBlockTimestamp(latest);
      await expect(jobs.connect(prover).claim(jobId))
        .to.emit(jobs, "JobClaimed")
        .withArgs(jobId, prover.address, latest + DEFAULT_MARKET.leaseDuration, BOND);
      expect((await jobs.claimOf(jobId)).leaseEnd).to.equal(BigInt(deadline - DEFAULT_MARKET.openWindow));
      // one second later no claim fits any more (the lease is never capped)
      await time.setNextBlockTimestamp(latest + 1);
      await expect(jobs.connect(prover2).claim(job2)).to.be.revertedWithCustomError(jobs, "ClaimTooLate").withArgs(job2, latest);
      expect(await jobs.accountOf(prover2.address)).to.deep.equal([ethers.parseEther("1"), 0n]);
    });

    it("reports latestClaimTime 0 when the lease plus the open window is longer than the deadline itself", async function () {
      const { registry, requester, prover, modelId } = await loadFixture(mockMarketFixture);
      const leaseDuration = 2 ** 32 - 1;
      const jobs = await deployJobs(await registry.getAddress(), { ...DEFAULT_MARKET, leaseDuration });
      const jobId = await openJob(jobs, requester, { modelId, inputCommitment: INPUT, fee: FEE, deadline: (await now()) + 3600 });
      await jobs.connect(prover).deposit({ value: BOND });
      await expect(jobs.connect(prover).claim(jobId)).to.be.revertedWithCustomError(jobs, "ClaimTooLate").withArgs(jobId, 0n);
    });

    it("reverts when the job does not exist", async function () {
      const { jobs, prover } = await loadFixture(openJobFixture);
      await expect(jobs.connect(prover).claim(42n)).to.be.revertedWithCustomError(jobs, "JobNotFound").withArgs(42n);
    });

    it("reverts when the job is not open", async function () {
      const { jobs, prover, jobId, chainId, modelHash } = await loadFixture(openJobFixture);
      await jobs.connect(prover).submitResult(jobId, OUTPUT, await proofFor(jobs, chainId, modelHash, jobId, prover.address));
      await expect(jobs.connect(prover).claim(jobId)).to.be.revertedWithCustomError(jobs, "JobNotOpen").withArgs(jobId, Status.Fulfilled);
    });

    it("reverts with ClaimTooLate after the deadline", async function () {
      const { jobs, prover, jobId, deadline } = await loadFixture(openJobFixture);
      await time.increaseTo(deadline + 1);
      await expect(jobs.connect(prover).claim(jobId))
        .to.be.revertedWithCustomError(jobs, "ClaimTooLate")
        .withArgs(jobId, deadline - CLAIM_SPAN);
    });

    it("reverts when a live claim exists (also for the claimant itself)", async function () {
      const { jobs, prover, prover2, jobId } = await loadFixture(openJobFixture);
      await jobs.connect(prover).claim(jobId);
      const leaseEnd = (await now()) + DEFAULT_MARKET.leaseDuration;
      await expect(jobs.connect(prover2).claim(jobId))
        .to.be.revertedWithCustomError(jobs, "JobAlreadyClaimed")
        .withArgs(jobId, prover.address, leaseEnd);
      await expect(jobs.connect(prover).claim(jobId))
        .to.be.revertedWithCustomError(jobs, "JobAlreadyClaimed")
        .withArgs(jobId, prover.address, leaseEnd);
    });

    it("reverts when the stake is below the bond", async function () {
      const { jobs, stranger, jobId } = await loadFixture(openJobFixture);
      await expect(jobs.connect(stranger).claim(jobId))
        .to.be.revertedWithCustomError(jobs, "InsufficientStake")
        .withArgs(stranger.address, 0, BOND);
    });

    it("after the lease, settles the expired claim (slash into the job's bounty, not to the requester) and lets another prover claim", async function () {
      const { jobs, prover, prover2, requester, jobId } = await loadFixture(openJobFixture);
      await jobs.connect(prover).claim(jobId);
      await time.increase(DEFAULT_MARKET.leaseDuration + 1);
      await expect(jobs.connect(prover2).claim(jobId))
        .to.emit(jobs, "ClaimExpired")
        .withArgs(jobId, prover.address, SLASHED, BOND - SLASHED)
        .and.to.emit(jobs, "JobClaimed");
      expect(await jobs.accountOf(prover.address)).to.deep.equal([ethers.parseEther("1") - SLASHED, 0n]);
      expect(await jobs.accountOf(requester.address)).to.deep.equal([0n, 0n]);
      const job = await jobs.getJob(jobId);
      expect(job.escrow).to.equal(FEE);
      expect(job.bounty).to.equal(SLASHED);
      expect((await jobs.claimOf(jobId)).claimant).to.equal(prover2.address);
    });
  });

  describe("submitResult", function () {
    it("records the result, credits the fee and emits JobFulfilled", async function () {
      const { jobs, prover, jobId, chainId, modelHash } = await loadFixture(openJobFixture);
      const proof = await proofFor(jobs, chainId, modelHash, jobId, prover.address);
      await expect(jobs.connect(prover).submitResult(jobId, OUTPUT, proof))
        .to.emit(jobs, "JobFulfilled")
        .withArgs(jobId, prover.address, OUTPUT, FEE, 0n);
      expect(await jobs.resultOf(jobId)).to.deep.equal([true, OUTPUT]);
      const job = await jobs.getJob(jobId);
      expect(job.status).to.equal(Status.Fulfilled);
      expect(job.output).to.equal(OUTPUT);
      expect(job.escrow).to.equal(0n);
      expect(job.bounty).to.equal(0n);
      expect((await jobs.accountOf(prover.address)).available).to.equal(ethers.parseEther("1") + FEE);
    });

    it("records output 0 (e.g. class 0)", async function () {
      const { jobs, prover, jobId, chainId, modelHash } = await loadFixture(openJobFixture);
      await jobs.connect(prover).submitResult(jobId, 0n, await proofFor(jobs, chainId, modelHash, jobId, prover.address, 0n));
      expect(await jobs.resultOf(jobId)).to.deep.equal([true, 0n]);
    });

    it("reverts when the job does not exist", async function () {
      const { jobs, prover } = await loadFixture(openJobFixture);
      await expect(jobs.connect(prover).submitResult(5n, OUTPUT, "0x"))
        .to.be.revertedWithCustomError(jobs, "JobNotFound")
        .withArgs(5n);
    });

    it("reverts when the job was already paid (no double payment)", async function () {
      const { jobs, prover, jobId, chainId, modelHash } = await loadFixture(openJobFixture);
      const proof = await proofFor(jobs, chainId, modelHash, jobId, prover.address);
      await jobs.connect(prover).submitResult(jobId, OUTPUT, proof);
      await expect(jobs.connect(prover).submitResult(jobId, OUTPUT, proof))
        .to.be.revertedWithCustomError(jobs, "JobNotOpen")
        .withArgs(jobId, Status.Fulfilled);
    });

    it("reverts when the deadline has passed", async function () {
      const { jobs, prover, jobId, deadline, chainId, modelHash } = await loadFixture(openJobFixture);
      await time.increaseTo(deadline + 1);
      await expect(jobs.connect(prover).submitResult(jobId, OUTPUT, await proofFor(jobs, chainId, modelHash, jobId, prover.address)))
        .to.be.revertedWithCustomError(jobs, "DeadlinePassed")
        .withArgs(jobId, deadline);
    });

    it("accepts a result in the deadline's own second", async function () {
      const { jobs, prover, jobId, deadline, chainId, modelHash } = await loadFixture(openJobFixture);
      const proof = await proofFor(jobs, chainId, modelHash, jobId, prover.address);
      await time.setNextBlockTimestamp(deadline);
      await expect(jobs.connect(prover).submitResult(jobId, OUTPUT, proof)).to.emit(jobs, "JobFulfilled");
    });

    it("reverts when the output is not below r", async function () {
      const { jobs, prover, jobId } = await loadFixture(openJobFixture);
      await expect(jobs.connect(prover).submitResult(jobId, SNARK_FIELD, "0x"))
        .to.be.revertedWithCustomError(jobs, "OutputNotInField")
        .withArgs(SNARK_FIELD);
    });

    it("reverts when another prover holds a live claim", async function () {
      const { jobs, prover, prover2, jobId, chainId, modelHash } = await loadFixture(openJobFixture);
      await jobs.connect(prover).claim(jobId);
      const leaseEnd = (await now()) + DEFAULT_MARKET.leaseDuration;
      await expect(jobs.connect(prover2).submitResult(jobId, OUTPUT, await proofFor(jobs, chainId, modelHash, jobId, prover2.address)))
        .to.be.revertedWithCustomError(jobs, "JobAlreadyClaimed")
        .withArgs(jobId, prover.address, leaseEnd);
    });

    it("reverts when the proof does not verify: other job, other prover, other output, other input, other model", async function () {
      const { jobs, prover, prover2, requester, jobId, chainId, modelHash, modelId, deadline } = await loadFixture(openJobFixture);
      const job2 = await openJob(jobs, requester, { modelId, inputCommitment: INPUT, fee: FEE, deadline });
      const proof = await proofFor(jobs, chainId, modelHash, jobId, prover.address);
      for (const [id, who, out] of [
        [job2, prover, OUTPUT],
        [jobId, prover2, OUTPUT],
        [jobId, prover, OUTPUT + 1n],
      ] as const) {
        await expect(jobs.connect(who).submitResult(id, out, proof))
          .to.be.revertedWithCustomError(jobs, "InvalidProof")
          .withArgs(id);
      }
      const otherInput = await proofFor(jobs, chainId, modelHash, jobId, prover.address, OUTPUT, INPUT + 1n);
      await expect(jobs.connect(prover).submitResult(jobId, OUTPUT, otherInput))
        .to.be.revertedWithCustomError(jobs, "InvalidProof")
        .withArgs(jobId);
      const otherModel = await proofFor(jobs, chainId, modelHash + 1n, jobId, prover.address);
      await expect(jobs.connect(prover).submitResult(jobId, OUTPUT, otherModel))
        .to.be.revertedWithCustomError(jobs, "InvalidProof")
        .withArgs(jobId);
    });

    it("reverts on a proof of the wrong length, and on a verifier that reverts, returns nothing or returns two words", async function () {
      const { jobs, prover, jobId, chainId, modelHash, mock } = await loadFixture(openJobFixture);
      const proof = await proofFor(jobs, chainId, modelHash, jobId, prover.address);
      // the length is checked by the jobs contract itself (the verifier is called directly, without the adapter)
      await expect(jobs.connect(prover).submitResult(jobId, OUTPUT, "0x1234"))
        .to.be.revertedWithCustomError(jobs, "InvalidProofLength")
        .withArgs(256, 2);
      await expect(jobs.connect(prover).submitResult(jobId, OUTPUT, proof + "00"))
        .to.be.revertedWithCustomError(jobs, "InvalidProofLength")
        .withArgs(256, 257);
      await expect(jobs.connect(prover).submitResult(jobId, OUTPUT, "0x"))
        .to.be.revertedWithCustomError(jobs, "InvalidProofLength")
        .withArgs(256, 0);
      // a 256-byte proof that the verifier rejects
      await expect(jobs.connect(prover).submitResult(jobId, OUTPUT, "0x" + "11".repeat(256)))
        .to.be.revertedWithCustomError(jobs, "InvalidProof")
        .withArgs(jobId);
      // a misbehaving verifier never counts as valid, and its revert is not bubbled up: mode 2 reverts, 1 returns
      // nothing, 3 returns two words
      for (const mode of [2, 1, 3]) {
        await mock.setMode(mode);
        await expect(jobs.connect(prover).submitResult(jobId, OUTPUT, proof), `mode ${mode}`)
          .to.be.revertedWithCustomError(jobs, "InvalidProof")
          .withArgs(jobId);
      }
      await mock.setMode(0);
      await expect(jobs.connect(prover).submitResult(jobId, OUTPUT, proof)).to.emit(jobs, "JobFulfilled");
    });

    it("reverts when the verifier rejects everything", async function () {
      const { jobs, prover, jobId, chainId, modelHash, mock } = await loadFixture(openJobFixture);
      await mock.setMode(4);
      await expect(jobs.connect(prover).submitResult(jobId, OUTPUT, await proofFor(jobs, chainId, modelHash, jobId, prover.address)))
        .to.be.revertedWithCustomError(jobs, "InvalidProof")
        .withArgs(jobId);
    });

    it("releases the claimant's bond when it delivers during its lease", async function () {
      const { jobs, prover, jobId, chainId, modelHash } = await loadFixture(openJobFixture);
      await jobs.connect(prover).claim(jobId);
      await expect(jobs.connect(prover).submitResult(jobId, OUTPUT, await proofFor(jobs, chainId, modelHash, jobId, prover.address)))
        .to.emit(jobs, "JobFulfilled")
        .withArgs(jobId, prover.address, OUTPUT, FEE, 0n)
        .and.not.to.emit(jobs, "ClaimExpired");
      expect(await jobs.accountOf(prover.address)).to.deep.equal([ethers.parseEther("1") + FEE, 0n]);
      expect((await jobs.claimOf(jobId)).claimant).to.equal(ethers.ZeroAddress);
    });

    it("slashes an expired claim into the bounty, which the prover who delivers after the lease collects with the fee", async function () {
      const { jobs, prover, prover2, requester, jobId, chainId, modelHash } = await loadFixture(openJobFixture);
      await jobs.connect(prover).claim(jobId);
      await time.increase(DEFAULT_MARKET.leaseDuration + 1);
      await expect(jobs.connect(prover2).submitResult(jobId, OUTPUT, await proofFor(jobs, chainId, modelHash, jobId, prover2.address)))
        .to.emit(jobs, "ClaimExpired")
        .withArgs(jobId, prover.address, SLASHED, BOND - SLASHED)
        .and.to.emit(jobs, "JobFulfilled")
        .withArgs(jobId, prover2.address, OUTPUT, FEE, SLASHED);
      const job = await jobs.getJob(jobId);
      expect(job.status).to.equal(Status.Fulfilled);
      expect(job.escrow).to.equal(0n);
      expect(job.bounty).to.equal(0n);
      expect(await jobs.accountOf(prover.address)).to.deep.equal([ethers.parseEther("1") - SLASHED, 0n]);
      expect(await jobs.accountOf(prover2.address)).to.deep.equal([ethers.parseEther("1") + FEE + SLASHED, 0n]);
      expect(await jobs.accountOf(requester.address)).to.deep.equal([0n, 0n]);
      expect(await jobs.burned()).to.equal(0n);
    });

    it("slashes a late claimant that delivers after its lease into the bounty, which it then collects with the fee", async function () {
      const { jobs, prover, requester, jobId, chainId, modelHash } = await loadFixture(openJobFixture);
      await jobs.connect(prover).claim(jobId);
      await time.increase(DEFAULT_MARKET.leaseDuration + 1);
      await expect(jobs.connect(prover).submitResult(jobId, OUTPUT, await proofFor(jobs, chainId, modelHash, jobId, prover.address)))
        .to.emit(jobs, "ClaimExpired")
        .withArgs(jobId, prover.address, SLASHED, BOND - SLASHED)
        .and.to.emit(jobs, "JobFulfilled")
        .withArgs(jobId, prover.address, OUTPUT, FEE, SLASHED);
      // (1 - SLASHED) back from the bond's settlement + FEE + SLASHED from the bounty
      expect(await jobs.accountOf(prover.address)).to.deep.equal([ethers.parseEther("1") + FEE, 0n]);
      expect(await jobs.accountOf(requester.address)).to.deep.equal([0n, 0n]);
    });

    it("keeps verifying an open job against its pinned version after a model update", async function () {
      const { jobs, prover, jobId, chainId, modelHash, registry, modelOwner, modelId } = await loadFixture(openJobFixture);
      await registry.connect(modelOwner).updateModel(modelId, commitment({ modelHash: 999n }));
      // a proof for the new commitment fails on the old job; the pinned one works
      await expect(jobs.connect(prover).submitResult(jobId, OUTPUT, await proofFor(jobs, chainId, 999n, jobId, prover.address)))
        .to.be.revertedWithCustomError(jobs, "InvalidProof")
        .withArgs(jobId);
      await expect(
        jobs.connect(prover).submitResult(jobId, OUTPUT, await proofFor(jobs, chainId, modelHash, jobId, prover.address)),
      ).to.emit(jobs, "JobFulfilled");
      expect((await jobs.getJob(jobId)).modelVersion).to.equal(1n);
    });

    it("still fulfils a job opened before its model was deprecated", async function () {
      const { jobs, prover, jobId, chainId, modelHash, registry, modelOwner, modelId } = await loadFixture(openJobFixture);
      await registry.connect(modelOwner).deprecateModel(modelId);
      await expect(
        jobs.connect(prover).submitResult(jobId, OUTPUT, await proofFor(jobs, chainId, modelHash, jobId, prover.address)),
      ).to.emit(jobs, "JobFulfilled");
    });
  });

  describe("submitResult (callback)", function () {
    async function callbackFixture() {
      const m = await openJobFixture();
      const req = await (await ethers.getContractFactory("MockRequester")).deploy(await m.jobs.getAddress());
      const tx = await req.open(m.modelId, INPUT, m.deadline, true, { value: FEE });
      await tx.wait();
      const jobId = (await m.jobs.nextJobId()) - 1n;
      const proof = await proofFor(m.jobs, m.chainId, m.modelHash, jobId, m.prover.address);
      return { ...m, req, cbJob: jobId, proof };
    }

    it("calls the requester contract with the result", async function () {
      const { jobs, prover, req, cbJob, proof } = await loadFixture(callbackFixture);
      await expect(jobs.connect(prover).submitResult(cbJob, OUTPUT, proof)).not.to.emit(jobs, "CallbackFailed");
      expect(await req.lastJobId()).to.equal(cbJob);
      expect(await req.lastOutput()).to.equal(OUTPUT);
      expect(await req.calls()).to.equal(1n);
    });

    for (const [b, what] of [
      [1, "reverts"],
      [2, "burns all its gas"],
      [4, "returns a huge revert payload"],
    ] as const) {
      it(`settles anyway and emits CallbackFailed when the callback ${what}`, async function () {
        const { jobs, prover, req, cbJob, proof } = await loadFixture(callbackFixture);
        await req.setBehaviour(b);
        await expect(jobs.connect(prover).submitResult(cbJob, OUTPUT, proof))
          .to.emit(jobs, "CallbackFailed")
          .withArgs(cbJob, await req.getAddress())
          .and.to.emit(jobs, "JobFulfilled");
        expect(await jobs.resultOf(cbJob)).to.deep.equal([true, OUTPUT]);
      });
    }

    it("cannot re-enter to take the fee back (the job is already settled)", async function () {
      const { jobs, prover, req, cbJob, proof } = await loadFixture(callbackFixture);
      await req.setBehaviour(3);
      await expect(jobs.connect(prover).submitResult(cbJob, OUTPUT, proof)).to.emit(jobs, "JobFulfilled");
      expect(await req.reentryReverted()).to.equal(true);
      expect((await jobs.accountOf(await req.getAddress())).available).to.equal(0n);
    });

    it("reverts when the submitter leaves too little gas for the callback", async function () {
      const { jobs, prover, cbJob, proof } = await loadFixture(callbackFixture);
      await expect(jobs.connect(prover).submitResult(cbJob, OUTPUT, proof, { gasLimit: 140_000 })).to.be.revertedWithCustomError(
        jobs,
        "InsufficientCallbackGas",
      );
    });
  });

  describe("reclaim", function () {
    it("credits the fee back after the deadline and emits JobReclaimed", async function () {
      const { jobs, requester, jobId, deadline } = await loadFixture(openJobFixture);
      await time.increaseTo(deadline + 1);
      await expect(jobs.connect(requester).reclaim(jobId)).to.emit(jobs, "JobReclaimed").withArgs(jobId, requester.address, FEE, 0n);
      const job = await jobs.getJob(jobId);
      expect(job.status).to.equal(Status.Reclaimed);
      expect(job.escrow).to.equal(0n);
      expect(job.bounty).to.equal(0n);
      expect(await jobs.burned()).to.equal(0n);
      expect(await jobs.resultOf(jobId)).to.deep.equal([false, 0n]);
      expect((await jobs.accountOf(requester.address)).available).to.equal(FEE);
    });

    it("slashes a claim that never delivered and burns the bounty: the requester gets its fee only", async function () {
      const { jobs, requester, prover, prover2, jobId, deadline } = await loadFixture(openJobFixture);
      await jobs.connect(prover).claim(jobId);
      await time.increaseTo(deadline + 1);
      const tx = jobs.connect(requester).reclaim(jobId);
      await expect(tx)
        .to.emit(jobs, "ClaimExpired")
        .withArgs(jobId, prover.address, SLASHED, BOND - SLASHED)
        .and.to.emit(jobs, "JobReclaimed")
        .withArgs(jobId, requester.address, FEE, SLASHED);
      await expect(tx).to.changeEtherBalance(jobs, 0n);
      expect(await jobs.accountOf(requester.address)).to.deep.equal([FEE, 0n]);
      expect(await jobs.accountOf(prover.address)).to.deep.equal([ethers.parseEther("1") - SLASHED, 0n]);
      expect(await jobs.burned()).to.equal(SLASHED);
      const job = await jobs.getJob(jobId);
      expect(job.status).to.equal(Status.Reclaimed);
      expect(job.escrow).to.equal(0n);
      expect(job.bounty).to.equal(0n);
      // the burned slash stays in the contract, owned by nobody
      const held = (await jobs.accountOf(requester.address)).available + (await jobs.accountOf(prover.address)).available;
      const held2 = (await jobs.accountOf(prover2.address)).available;
      expect(await ethers.provider.getBalance(await jobs.getAddress())).to.equal(held + held2 + SLASHED);
    });

    it("reverts when the job does not exist", async function () {
      const { jobs, requester } = await loadFixture(openJobFixture);
      await expect(jobs.connect(requester).reclaim(3n)).to.be.revertedWithCustomError(jobs, "JobNotFound").withArgs(3n);
    });

    it("reverts when the caller is not the requester", async function () {
      const { jobs, stranger, jobId, deadline } = await loadFixture(openJobFixture);
      await time.increaseTo(deadline + 1);
      await expect(jobs.connect(stranger).reclaim(jobId))
        .to.be.revertedWithCustomError(jobs, "NotRequester")
        .withArgs(jobId, stranger.address);
    });

    it("reverts before the deadline has passed", async function () {
      const { jobs, requester, jobId, deadline } = await loadFixture(openJobFixture);
      await time.setNextBlockTimestamp(deadline);
      await expect(jobs.connect(requester).reclaim(jobId))
        .to.be.revertedWithCustomError(jobs, "DeadlineNotPassed")
        .withArgs(jobId, deadline);
    });

    it("reverts when the job was fulfilled, or already reclaimed", async function () {
      const { jobs, requester, prover, jobId, deadline, chainId, modelHash, modelId } = await loadFixture(openJobFixture);
      const job2 = await openJob(jobs, requester, { modelId, inputCommitment: INPUT, fee: FEE, deadline });
      await jobs.connect(prover).submitResult(jobId, OUTPUT, await proofFor(jobs, chainId, modelHash, jobId, prover.address));
      await time.increaseTo(deadline + 1);
      await expect(jobs.connect(requester).reclaim(jobId))
        .to.be.revertedWithCustomError(jobs, "JobNotOpen")
        .withArgs(jobId, Status.Fulfilled);
      await jobs.connect(requester).reclaim(job2);
      await expect(jobs.connect(requester).reclaim(job2))
        .to.be.revertedWithCustomError(jobs, "JobNotOpen")
        .withArgs(job2, Status.Reclaimed);
    });
  });

  describe("expireClaim", function () {
    it("slashes an expired claim into the job's bounty, reopens the job, and emits ClaimExpired", async function () {
      const { jobs, prover, stranger, requester, jobId } = await loadFixture(openJobFixture);
      await jobs.connect(prover).claim(jobId);
      await time.increase(DEFAULT_MARKET.leaseDuration + 1);
      await expect(jobs.connect(stranger).expireClaim(jobId))
        .to.emit(jobs, "ClaimExpired")
        .withArgs(jobId, prover.address, SLASHED, BOND - SLASHED);
      const job = await jobs.getJob(jobId);
      expect(job.status).to.equal(Status.Open);
      expect(job.escrow).to.equal(FEE);
      expect(job.bounty).to.equal(SLASHED);
      expect((await jobs.claimOf(jobId)).claimant).to.equal(ethers.ZeroAddress);
      expect(await jobs.accountOf(prover.address)).to.deep.equal([ethers.parseEther("1") - SLASHED, 0n]);
      expect(await jobs.accountOf(requester.address)).to.deep.equal([0n, 0n]);
      expect(await jobs.accountOf(stranger.address)).to.deep.equal([0n, 0n]);
      // settled once: a second expireClaim finds no claim
      await expect(jobs.expireClaim(jobId)).to.be.revertedWithCustomError(jobs, "NoClaim").withArgs(jobId);
    });

    it("reverts when there is no claim", async function () {
      const { jobs, jobId } = await loadFixture(openJobFixture);
      await expect(jobs.expireClaim(jobId)).to.be.revertedWithCustomError(jobs, "NoClaim").withArgs(jobId);
    });

    it("reverts while the lease runs", async function () {
      const { jobs, prover, jobId } = await loadFixture(openJobFixture);
      await jobs.connect(prover).claim(jobId);
      const leaseEnd = (await now()) + DEFAULT_MARKET.leaseDuration;
      await time.setNextBlockTimestamp(leaseEnd);
      await expect(jobs.expireClaim(jobId)).to.be.revertedWithCustomError(jobs, "LeaseNotEnded").withArgs(jobId, leaseEnd);
    });

    it("slashes the configured share into the bounty: 1 bps (the least a deployment allows) and all of it with 10000", async function () {
      const { registry, requester, prover, modelId } = await loadFixture(mockMarketFixture);
      for (const bps of [1, 10_000]) {
        const jobs = await deployJobs(await registry.getAddress(), { ...DEFAULT_MARKET, slashBps: bps });
        const jobId = await openJob(jobs, requester, { modelId, inputCommitment: INPUT, fee: FEE, deadline: (await now()) + 3600 });
        await jobs.connect(prover).deposit({ value: BOND });
        await jobs.connect(prover).claim(jobId);
        await time.increase(DEFAULT_MARKET.leaseDuration + 1);
        const slashed = (BOND * BigInt(bps)) / 10_000n;
        expect(slashed).to.be.greaterThan(0n);
        await expect(jobs.expireClaim(jobId))
          .to.emit(jobs, "ClaimExpired")
          .withArgs(jobId, prover.address, slashed, BOND - slashed);
        expect((await jobs.getJob(jobId)).bounty).to.equal(slashed);
        expect(await jobs.accountOf(prover.address)).to.deep.equal([BOND - slashed, 0n]);
      }
    });
  });

  describe("deposit", function () {
    it("credits the stake and emits Deposited", async function () {
      const { jobs, stranger } = await loadFixture(mockMarketFixture);
      await expect(jobs.connect(stranger).deposit({ value: 5n }))
        .to.emit(jobs, "Deposited")
        .withArgs(stranger.address, 5n);
      expect(await jobs.accountOf(stranger.address)).to.deep.equal([5n, 0n]);
    });

    it("reverts on zero", async function () {
      const { jobs, stranger } = await loadFixture(mockMarketFixture);
      await expect(jobs.connect(stranger).deposit()).to.be.revertedWithCustomError(jobs, "ZeroDeposit");
    });

    it("reverts above 96 bits", async function () {
      const { jobs, stranger } = await loadFixture(mockMarketFixture);
      const big = 2n ** 96n;
      await ethers.provider.send("hardhat_setBalance", [stranger.address, ethers.toQuantity(big * 2n)]);
      await expect(jobs.connect(stranger).deposit({ value: big }))
        .to.be.revertedWithCustomError(jobs, "AmountTooLarge")
        .withArgs(big);
    });
  });

  describe("withdraw", function () {
    it("cannot be re-entered from the recipient's receive() for a second payout", async function () {
      const { jobs } = await loadFixture(mockMarketFixture);
      const attacker = await ethers.deployContract("ReentrantWithdrawer", [await jobs.getAddress()]);
      const stake = ethers.parseEther("0.5");
      await attacker.deposit({ value: stake });
      await expect(attacker.withdraw()).to.changeEtherBalances([attacker, jobs], [stake, -stake]);
      expect(await attacker.received()).to.equal(1n);
      expect(await attacker.reentryReverted()).to.equal(true); // NothingToWithdraw: the balance was zeroed first
      expect((await jobs.accountOf(await attacker.getAddress())).available).to.equal(0n);
    });

    it("sends the whole available balance and emits Withdrawn", async function () {
      const { jobs, prover, jobId, chainId, modelHash } = await loadFixture(openJobFixture);
      await jobs.connect(prover).submitResult(jobId, OUTPUT, await proofFor(jobs, chainId, modelHash, jobId, prover.address));
      const amount = ethers.parseEther("1") + FEE;
      const tx = jobs.connect(prover).withdraw();
      await expect(tx).to.emit(jobs, "Withdrawn").withArgs(prover.address, amount);
      await expect(tx).to.changeEtherBalances([prover, jobs], [amount, -amount]);
      expect(await jobs.accountOf(prover.address)).to.deep.equal([0n, 0n]);
    });

    it("keeps locked bonds in the contract", async function () {
      const { jobs, prover, jobId } = await loadFixture(openJobFixture);
      await jobs.connect(prover).claim(jobId);
      await expect(jobs.connect(prover).withdraw())
        .to.emit(jobs, "Withdrawn")
        .withArgs(prover.address, ethers.parseEther("1") - BOND);
      expect(await jobs.accountOf(prover.address)).to.deep.equal([0n, BOND]);
    });

    it("reverts when nothing is available", async function () {
      const { jobs, stranger } = await loadFixture(openJobFixture);
      await expect(jobs.connect(stranger).withdraw()).to.be.revertedWithCustomError(jobs, "NothingToWithdraw").withArgs(stranger.address);
    });

    it("reverts when the recipient refuses ETH (and keeps the balance)", async function () {
      const { jobs, modelId, deadline } = await loadFixture(openJobFixture);
      const req = await (await ethers.getContractFactory("MockRequester")).deploy(await jobs.getAddress());
      await (await req.open(modelId, INPUT, deadline, false, { value: FEE })).wait();
      const jobId = (await jobs.nextJobId()) - 1n;
      await time.increaseTo(deadline + 1);
      await req.reclaim(jobId);
      await req.setRefuseEth(true);
      await expect(req.withdraw())
        .to.be.revertedWithCustomError(jobs, "TransferFailed")
        .withArgs(await req.getAddress(), FEE);
      expect((await jobs.accountOf(await req.getAddress())).available).to.equal(FEE);
      await req.setRefuseEth(false);
      await expect(req.withdraw())
        .to.emit(jobs, "Withdrawn")
        .withArgs(await req.getAddress(), FEE);
    });
  });

  describe("views", function () {
    it("getJob and resultOf revert for an unknown job; jobBinding matches the TS helper", async function () {
      const { jobs, prover, chainId } = await loadFixture(mockMarketFixture);
      await expect(jobs.getJob(1n)).to.be.revertedWithCustomError(jobs, "JobNotFound").withArgs(1n);
      await expect(jobs.resultOf(1n)).to.be.revertedWithCustomError(jobs, "JobNotFound").withArgs(1n);
      for (const id of [0n, 1n, 2n ** 200n]) {
        expect(await jobs.jobBinding(id, prover.address)).to.equal(jobBinding(chainId, await jobs.getAddress(), id, prover.address));
      }
    });
  });
});
