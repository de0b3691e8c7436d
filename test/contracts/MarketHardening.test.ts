/**
 * The attacks of the market-hardening review, each reproduced as the attacker would run it, and shown refused or
 * made unprofitable (docs/market-rules.md, docs/threat-model.md). Logic proofs come from MockSnarkjsVerifier; the
 * real-proof versions of the replay tests are in Groth16.real.test.ts and test/e2e/.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { AbiCoder, ZeroAddress, ZeroHash, keccak256, solidityPackedKeccak256 } from "ethers";
import {
  DEFAULT_MARKET,
  commitment,
  createAdapter,
  deployJobs,
  deployZKMLVerifier,
  jobBinding,
  jobsFactory,
  mockMarketFixture,
  mockProof,
  modelSignal,
  openJob,
  standaloneBinding,
} from "./fixtures";

const FEE = ethers.parseEther("1");
const STAKE = ethers.parseEther("1");
const INPUT = 777n;
const OUTPUT = 3n;
const BOND = DEFAULT_MARKET.claimBond;
const SLASH = (BOND * BigInt(DEFAULT_MARKET.slashBps)) / 10_000n;
const LEASE = DEFAULT_MARKET.leaseDuration;
const WINDOW = DEFAULT_MARKET.openWindow;

/** The mock market with every actor staked. */
async function stakedMarket() {
  const m = await mockMarketFixture();
  const sybil = m.signers[6]; // a second address of the requester
  for (const s of [m.prover, m.prover2, m.requester, sybil]) await m.jobs.connect(s).deposit({ value: STAKE });
  const proofFor = async (jobId: bigint, prover: string, output = OUTPUT) =>
    mockProof([output, m.modelCommitment, INPUT, jobBinding(m.chainId, await m.jobs.getAddress(), jobId, prover)]);
  return { ...m, sybil, proofFor };
}

/** A job opened by the requester with its deadline `span` seconds from now. */
async function jobIn(m: Awaited<ReturnType<typeof stakedMarket>>, span: number) {
  const deadline = (await time.latest()) + span;
  const jobId = await openJob(m.jobs, m.requester, { modelId: m.modelId, inputCommitment: INPUT, fee: FEE, deadline });
  return { jobId, deadline };
}

describe("Market hardening (review findings)", function () {
  describe("1. a requester cannot refuse a valid result for free", function () {
    it("refuses a claim whose lease and open window do not fit before the deadline (the near-deadline self-claim)", async function () {
      const m = await loadFixture(stakedMarket);
      const { jobId, deadline } = await jobIn(m, LEASE + WINDOW + 100);
      const latest = deadline - LEASE - WINDOW;
      // the attack: claim its own job (or from a second address) just before the deadline
      await time.setNextBlockTimestamp(deadline - 60);
      await expect(m.jobs.connect(m.requester).claim(jobId)).to.be.revertedWithCustomError(m.jobs, "ClaimTooLate").withArgs(jobId, latest);
      await time.setNextBlockTimestamp(deadline - 59);
      await expect(m.jobs.connect(m.sybil).claim(jobId)).to.be.revertedWithCustomError(m.jobs, "ClaimTooLate").withArgs(jobId, latest);
      // so the honest prover's result lands before the deadline
      await expect(m.jobs.connect(m.prover).submitResult(jobId, OUTPUT, await m.proofFor(jobId, m.prover.address)))
        .to.emit(m.jobs, "JobFulfilled")
        .withArgs(jobId, m.prover.address, OUTPUT, FEE, 0n);
    });

    it("the last claim possible leaves the open window: the honest prover delivers after the blocking lease and earns fee + slash", async function () {
      const m = await loadFixture(stakedMarket);
      const { jobId, deadline } = await jobIn(m, LEASE + WINDOW + 100);
      const latest = deadline - LEASE - WINDOW;
      await time.setNextBlockTimestamp(latest);
      await expect(m.jobs.connect(m.sybil).claim(jobId))
        .to.emit(m.jobs, "JobClaimed")
        .withArgs(jobId, m.sybil.address, latest + LEASE, BOND);
      const proof = await m.proofFor(jobId, m.prover.address);
      await expect(m.jobs.connect(m.prover).submitResult(jobId, OUTPUT, proof))
        .to.be.revertedWithCustomError(m.jobs, "JobAlreadyClaimed")
        .withArgs(jobId, m.sybil.address, latest + LEASE);
      // the lease ends WINDOW seconds before the deadline; no new claim fits, anyone may submit
      await time.setNextBlockTimestamp(latest + LEASE + 1);
      await expect(m.jobs.connect(m.requester).claim(jobId)).to.be.revertedWithCustomError(m.jobs, "ClaimTooLate");
      await time.setNextBlockTimestamp(deadline);
      await expect(m.jobs.connect(m.prover).submitResult(jobId, OUTPUT, proof))
        .to.emit(m.jobs, "ClaimExpired")
        .withArgs(jobId, m.sybil.address, SLASH, BOND - SLASH)
        .and.to.emit(m.jobs, "JobFulfilled")
        .withArgs(jobId, m.prover.address, OUTPUT, FEE, SLASH);
      expect((await m.jobs.accountOf(m.prover.address)).available).to.equal(STAKE + FEE + SLASH);
      expect((await m.jobs.accountOf(m.sybil.address)).available).to.equal(STAKE - SLASH);
      expect((await m.jobs.accountOf(m.requester.address)).available).to.equal(STAKE);
    });

    it("if nobody delivers, reclaim returns only the fee and burns the slash: blocking costs the blocker its slash", async function () {
      const m = await loadFixture(stakedMarket);
      const { jobId, deadline } = await jobIn(m, LEASE + WINDOW + 100);
      await m.jobs.connect(m.sybil).claim(jobId);
      await time.increaseTo(deadline + 1);
      const before = await ethers.provider.getBalance(await m.jobs.getAddress());
      await expect(m.jobs.connect(m.requester).reclaim(jobId))
        .to.emit(m.jobs, "ClaimExpired")
        .withArgs(jobId, m.sybil.address, SLASH, BOND - SLASH)
        .and.to.emit(m.jobs, "JobReclaimed")
        .withArgs(jobId, m.requester.address, FEE, SLASH);
      // requester + sybil together: the fee back, the slash gone
      const requester = (await m.jobs.accountOf(m.requester.address)).available;
      const sybil = (await m.jobs.accountOf(m.sybil.address)).available;
      expect(requester + sybil).to.equal(STAKE + FEE + STAKE - SLASH);
      expect(await m.jobs.burned()).to.equal(SLASH);
      expect(await ethers.provider.getBalance(await m.jobs.getAddress())).to.equal(before); // burned ETH stays
    });

    it("a slash never reaches the requester: not on expireClaim, not on a new claim, not on reclaim", async function () {
      const m = await loadFixture(stakedMarket);
      const { jobId, deadline } = await jobIn(m, 3 * LEASE + WINDOW + 100);
      await m.jobs.connect(m.prover).claim(jobId);
      await time.increase(LEASE + 1);
      await expect(m.jobs.connect(m.stranger).expireClaim(jobId))
        .to.emit(m.jobs, "ClaimExpired")
        .withArgs(jobId, m.prover.address, SLASH, BOND - SLASH);
      await m.jobs.connect(m.prover2).claim(jobId);
      await time.increase(LEASE + 1);
      await m.jobs.connect(m.prover).claim(jobId); // settles prover2's expired claim first
      expect((await m.jobs.getJob(jobId)).bounty).to.equal(2n * SLASH);
      expect((await m.jobs.accountOf(m.requester.address)).available).to.equal(STAKE);
      await time.increaseTo(deadline + 1);
      await m.jobs.connect(m.requester).reclaim(jobId);
      expect((await m.jobs.accountOf(m.requester.address)).available).to.equal(STAKE + FEE);
      expect(await m.jobs.burned()).to.equal(3n * SLASH);
    });
  });

  describe("2. a model owner cannot change what an open job is verified against", function () {
    it("refuses a switchable adapter that is not from the factory (registration and update)", async function () {
      const m = await loadFixture(stakedMarket);
      const switchable = await (
        await ethers.getContractFactory("MockProofVerifier")
      ).deploy(commitment({ modelHash: 1n }).proofSystemId, 4);
      const addr = await switchable.getAddress();
      await expect(m.registry.connect(m.modelOwner).registerModelWithVerifier(commitment({ modelHash: 1n }), addr, 4))
        .to.be.revertedWithCustomError(m.registry, "AdapterNotFromFactory")
        .withArgs(addr);
      await expect(m.registry.connect(m.modelOwner).updateModelWithVerifier(m.modelId, commitment({ modelHash: 1n }), addr, 4))
        .to.be.revertedWithCustomError(m.registry, "AdapterNotFromFactory")
        .withArgs(addr);
    });

    it("records the wrapped verifier, its selector, proof length and code hash, and verifies against exactly that", async function () {
      const m = await loadFixture(stakedMarket);
      const mockAddr = await m.mock.getAddress();
      const codeHash = keccak256((await ethers.provider.getCode(mockAddr)) as string);
      const t = await m.registry.verificationTarget(m.modelId, 1n);
      expect(t.adapter).to.equal(await m.adapter.getAddress());
      expect(t.verifier).to.equal(mockAddr);
      expect(t.selector).to.equal(await m.adapter.verifyProofSelector());
      expect(t.proofLength).to.equal(256n);
      expect(t.verifierCodeHash).to.equal(codeHash);
      const { jobId } = await jobIn(m, 3600);
      const pinned = await m.jobs.verificationTargetOf(m.modelId, 1n);
      expect(pinned.verifier).to.equal(mockAddr);
      expect(pinned.verifierCodeHash).to.equal(codeHash);
      await expect(m.jobs.connect(m.prover).submitResult(jobId, OUTPUT, await m.proofFor(jobId, m.prover.address))).to.emit(
        m.jobs,
        "JobFulfilled",
      );
    });

    it("refuses a verifier whose code changed at its address (self-destruct in its creation tx, CREATE2 redeploy): open, submit and the slash", async function () {
      const m = await loadFixture(stakedMarket);
      const meta = await (await ethers.getContractFactory("MetamorphicDeployer")).deploy();
      // runtime code 0x33ff: CALLER SELFDESTRUCT, so any call destroys it
      const destroying = await (await m.deployer.sendTransaction({ data: "0x6133ff6000526002601ef3" })).wait();
      const destroyingImpl = destroying!.contractAddress!;
      const acceptAll = await (await ethers.getContractFactory("AcceptAllVerifier")).deploy();
      const salt = ethers.id("metamorphic");
      const deadline = (await time.latest()) + 3600;
      const c = commitment({ modelHash: 99n });
      const args = [
        destroyingImpl,
        salt,
        await m.factory.getAddress(),
        await m.registry.getAddress(),
        await m.jobs.getAddress(),
        c,
        INPUT,
        deadline,
      ] as const;
      const [verifier, modelId, jobId] = await meta.attack.staticCall(...args, { value: FEE + BOND });
      await meta.attack(...args, { value: FEE + BOND });
      const recorded = (await m.registry.verificationTarget(modelId, 1n)).verifierCodeHash;
      expect(recorded).to.equal(keccak256("0x33ff"));
      expect(await ethers.provider.getCode(verifier)).to.equal("0x"); // gone at the end of its creation transaction
      // the job was claimed in that transaction (the deployer's own claim, the only moment one is possible); once the
      // code is gone nobody can claim (no bond is locked on a version nobody can prove), then the owner swaps in
      // accept-all code
      await expect(m.jobs.connect(m.prover).claim(jobId))
        .to.be.revertedWithCustomError(m.jobs, "VerifierCodeChanged")
        .withArgs(modelId, 1n, recorded, ZeroHash);
      await meta.deploy(await acceptAll.getAddress(), salt);
      const swapped = keccak256((await ethers.provider.getCode(verifier)) as string);
      expect(swapped).to.not.equal(recorded);
      await expect(m.jobs.connect(m.requester).openJob(modelId, 1n, INPUT, "", deadline, false, { value: FEE }))
        .to.be.revertedWithCustomError(m.jobs, "VerifierCodeChanged")
        .withArgs(modelId, 1n, recorded, swapped);
      await time.increase(LEASE + 1);
      const garbage = mockProof([0n, 99n, INPUT, 0n]);
      await expect(m.jobs.connect(m.prover).submitResult(jobId, 42n, garbage))
        .to.be.revertedWithCustomError(m.jobs, "VerifierCodeChanged")
        .withArgs(modelId, 1n, recorded, swapped);
      await expect(m.jobs.connect(m.prover).claim(jobId))
        .to.be.revertedWithCustomError(m.jobs, "VerifierCodeChanged")
        .withArgs(modelId, 1n, recorded, swapped);
      // nobody could deliver, so the claimant's bond comes back whole
      const claimant = await meta.getAddress();
      await expect(m.jobs.expireClaim(jobId)).to.emit(m.jobs, "ClaimExpired").withArgs(jobId, claimant, 0n, BOND);
      expect(await m.jobs.accountOf(claimant)).to.deep.equal([BOND, 0n]);
      const zk = await deployZKMLVerifier(await m.registry.getAddress());
      await expect(zk.verifyInference(modelId, ethers.toBeHex(INPUT, 32), AbiCoder.defaultAbiCoder().encode(["uint256"], [42n]), garbage))
        .to.be.revertedWithCustomError(zk, "VerifierCodeChanged")
        .withArgs(modelId, 1n);
    });

    it("a reject-all switch behind a factory adapter cannot take the claimant's bond to the owner (it is burned, or paid to a deliverer)", async function () {
      // The verifier is hand-written and switchable through storage (code unchanged): what docs/market-rules.md says a
      // requester and a prover must check off-chain (npm run audit:verifier). The chain still keeps the slash away
      // from the requester.
      const m = await loadFixture(stakedMarket);
      const { jobId, deadline } = await jobIn(m, LEASE + WINDOW + 100);
      await m.jobs.connect(m.prover).claim(jobId);
      await m.mock.setMode(4); // reject all
      await expect(m.jobs.connect(m.prover).submitResult(jobId, OUTPUT, await m.proofFor(jobId, m.prover.address)))
        .to.be.revertedWithCustomError(m.jobs, "InvalidProof")
        .withArgs(jobId);
      await time.increaseTo(deadline + 1);
      await m.jobs.connect(m.requester).reclaim(jobId);
      expect((await m.jobs.accountOf(m.requester.address)).available).to.equal(STAKE + FEE);
      expect(await m.jobs.burned()).to.equal(SLASH);
    });
  });

  describe("3. claim sniping (rule: claim before you prove)", function () {
    it("a front-running claim makes an unclaimed submission revert; the sniper must prove itself or its slash pays the victim", async function () {
      const m = await loadFixture(stakedMarket);
      const { jobId } = await jobIn(m, 2 * LEASE + WINDOW + 100);
      const victimProof = await m.proofFor(jobId, m.prover.address);
      // the sniper sees the victim's submitResult in the mempool and claims first
      await m.jobs.connect(m.prover2).claim(jobId);
      await expect(m.jobs.connect(m.prover).submitResult(jobId, OUTPUT, victimProof)).to.be.revertedWithCustomError(
        m.jobs,
        "JobAlreadyClaimed",
      );
      // the victim's proof is useless to the sniper (bound to the victim's address)
      await expect(m.jobs.connect(m.prover2).submitResult(jobId, OUTPUT, victimProof))
        .to.be.revertedWithCustomError(m.jobs, "InvalidProof")
        .withArgs(jobId);
      // the sniper does not deliver: after its lease the victim submits the same proof and collects the slash
      await time.increase(LEASE + 1);
      await expect(m.jobs.connect(m.prover).submitResult(jobId, OUTPUT, victimProof))
        .to.emit(m.jobs, "JobFulfilled")
        .withArgs(jobId, m.prover.address, OUTPUT, FEE, SLASH);
    });

    it("a prover that claims before proving cannot be sniped", async function () {
      const m = await loadFixture(stakedMarket);
      const { jobId } = await jobIn(m, LEASE + WINDOW + 100);
      await m.jobs.connect(m.prover).claim(jobId);
      await expect(m.jobs.connect(m.prover2).claim(jobId)).to.be.revertedWithCustomError(m.jobs, "JobAlreadyClaimed");
      await expect(
        m.jobs.connect(m.prover2).submitResult(jobId, OUTPUT, await m.proofFor(jobId, m.prover2.address)),
      ).to.be.revertedWithCustomError(m.jobs, "JobAlreadyClaimed");
      await expect(m.jobs.connect(m.prover).submitResult(jobId, OUTPUT, await m.proofFor(jobId, m.prover.address)))
        .to.emit(m.jobs, "JobFulfilled")
        .withArgs(jobId, m.prover.address, OUTPUT, FEE, 0n);
    });
  });

  describe("4. market parameters that make griefing free are refused", function () {
    const cases: [string, Partial<typeof DEFAULT_MARKET>, bigint][] = [
      ["slashBps", { slashBps: 0 }, 0n],
      ["slashBps", { slashBps: 10_001 }, 10_001n],
      ["claimBond", { claimBond: 0n }, 0n],
      ["claimBond", { claimBond: 1n, slashBps: 9_999 }, 1n], // 1 * 9999 / 10000 rounds to 0
      ["leaseDuration", { leaseDuration: 0 }, 0n],
      ["callbackGasLimit", { callbackGasLimit: 0 }, 0n],
      ["callbackGasLimit", { callbackGasLimit: 24_999 }, 24_999n],
      ["callbackGasLimit", { callbackGasLimit: 5_000_001 }, 5_000_001n],
      ["openWindow", { openWindow: 0 }, 0n],
      ["deliveryWindow", { deliveryWindow: 0 }, 0n],
      ["deliveryWindow", { leaseDuration: 100, deliveryWindow: 101 }, 101n],
    ];
    for (const [name, change, value] of cases) {
      it(`refuses ${name} = ${value} with InvalidMarketParameter("${name}", ${value})`, async function () {
        const m = await loadFixture(mockMarketFixture);
        const f = await jobsFactory();
        await expect(deployJobs(await m.registry.getAddress(), { ...DEFAULT_MARKET, ...change }))
          .to.be.revertedWithCustomError(f, "InvalidMarketParameter")
          .withArgs(name, value);
      });
    }

    it("refuses a registry without code, and accepts the smallest bond whose slash is 1 wei", async function () {
      const m = await loadFixture(mockMarketFixture);
      const f = await jobsFactory();
      await expect(deployJobs(m.stranger.address))
        .to.be.revertedWithCustomError(f, "InvalidMarketParameter")
        .withArgs("registry", BigInt(m.stranger.address));
      const jobs = await deployJobs(await m.registry.getAddress(), { ...DEFAULT_MARKET, claimBond: 2n, slashBps: 5_000 });
      expect(await jobs.claimBond()).to.equal(2n);
      expect(await jobs.openWindow()).to.equal(BigInt(DEFAULT_MARKET.openWindow));
    });
  });

  describe("5. standalone ZKMLVerifier: no replay, versions recorded", function () {
    async function standalone() {
      const m = await mockMarketFixture();
      const zk = await deployZKMLVerifier(await m.registry.getAddress());
      const consumer = await (await ethers.getContractFactory("MockConsumer")).deploy(await zk.getAddress());
      const out = AbiCoder.defaultAbiCoder().encode(["uint256"], [OUTPUT]);
      const input32 = ethers.toBeHex(INPUT, 32);
      const proof = async (caller: string, beneficiary: string, modelHash = m.modelHash) =>
        mockProof([
          OUTPUT,
          await modelSignal(modelHash),
          INPUT,
          standaloneBinding(m.chainId, await zk.getAddress(), caller, beneficiary, await zk.nonceOf(caller, beneficiary)),
        ]);
      return { ...m, zk, consumer, out, input32, proof };
    }

    it("the same caller cannot verify one proof twice (the nonce is consumed)", async function () {
      const s = await loadFixture(standalone);
      const p = await s.proof(s.prover.address, s.prover.address);
      await expect(s.zk.connect(s.prover).verifyInference(s.modelId, s.input32, s.out, p))
        .to.emit(s.zk, "InferenceVerifiedVersion")
        .withArgs(s.modelId, 1n, s.prover.address, s.prover.address, 0n);
      expect(await s.zk.nonceOf(s.prover.address, s.prover.address)).to.equal(1n);
      await expect(s.zk.connect(s.prover).verifyInference(s.modelId, s.input32, s.out, p)).to.be.revertedWithCustomError(
        s.zk,
        "InvalidProof",
      );
    });

    it("behind a consumer contract, one user cannot replay or front-run another user's proof (beneficiary binding)", async function () {
      const s = await loadFixture(standalone);
      const c = await s.consumer.getAddress();
      // the reviewed attack on the ERC entry point: every proof is bound to the consumer, so anyone can use it first
      const naive = await s.proof(c, c);
      await s.consumer.connect(s.prover2).naive(s.modelId, s.input32, s.out, naive); // prover2 front-runs prover's proof
      expect(await s.consumer.credited(s.prover2.address)).to.equal(1n);
      await expect(s.consumer.connect(s.prover).naive(s.modelId, s.input32, s.out, naive)).to.be.revertedWithCustomError(
        s.zk,
        "InvalidProof",
      ); // and no replay
      // with the beneficiary bound, prover's proof works only for prover
      const bound = await s.proof(c, s.prover.address);
      await expect(s.consumer.connect(s.prover2).bound(s.modelId, s.input32, s.out, bound)).to.be.revertedWithCustomError(
        s.zk,
        "InvalidProof",
      );
      await s.consumer.connect(s.prover).bound(s.modelId, s.input32, s.out, bound);
      expect(await s.consumer.credited(s.prover.address)).to.equal(1n);
      await expect(s.consumer.connect(s.prover).bound(s.modelId, s.input32, s.out, bound)).to.be.revertedWithCustomError(
        s.zk,
        "InvalidProof",
      );
      await expect(s.zk.verifyInferenceFor(s.modelId, s.input32, s.out, bound, ZeroAddress)).to.be.revertedWithCustomError(
        s.zk,
        "ZeroBeneficiary",
      );
    });

    it("stores and emits the version; a v1 record does not block the same inference under v2", async function () {
      const s = await loadFixture(standalone);
      const p1 = await s.proof(s.prover.address, s.prover.address);
      const id1 = await s.zk.connect(s.prover).verifyAndStoreInference.staticCall(s.modelId, s.input32, s.out, p1);
      await s.zk.connect(s.prover).verifyAndStoreInference(s.modelId, s.input32, s.out, p1);
      expect(id1).to.equal(
        solidityPackedKeccak256(["uint256", "uint16", "bytes32", "bytes", "address"], [s.modelId, 1, s.input32, s.out, s.prover.address]),
      );
      const r1 = await s.zk.inferenceRecord(id1);
      expect([r1.modelId, r1.modelVersion, r1.beneficiary]).to.deep.equal([s.modelId, 1n, s.prover.address]);
      // v2: same circuit, new commitment (updateModel keeps the adapter)
      await s.registry.connect(s.modelOwner).updateModel(s.modelId, commitment({ modelHash: 555n }));
      const p2 = await s.proof(s.prover.address, s.prover.address, 555n);
      await expect(s.zk.connect(s.prover).verifyAndStoreInference(s.modelId, s.input32, s.out, p2))
        .to.emit(s.zk, "InferenceVerifiedVersion")
        .withArgs(s.modelId, 2n, s.prover.address, s.prover.address, 1n);
      const id2 = solidityPackedKeccak256(
        ["uint256", "uint16", "bytes32", "bytes", "address"],
        [s.modelId, 2, s.input32, s.out, s.prover.address],
      );
      expect((await s.zk.inferenceRecord(id2)).modelVersion).to.equal(2n);
      expect(await s.zk.getInference(id1)).to.deep.equal([s.modelId, s.input32, s.out]);
    });
  });

  describe("6. smaller points", function () {
    it("a model registered through the ERC's registerModel is commitment-only until its owner appends a verifier version", async function () {
      const m = await loadFixture(stakedMarket);
      const zk = await deployZKMLVerifier(await m.registry.getAddress());
      const c = commitment({ modelHash: m.modelHash });
      const id = await m.registry.connect(m.modelOwner).registerModel.staticCall(c);
      await m.registry.connect(m.modelOwner).registerModel(c);
      const out = AbiCoder.defaultAbiCoder().encode(["uint256"], [OUTPUT]);
      const input32 = ethers.toBeHex(INPUT, 32);
      await expect(zk.verifyInference(id, input32, out, "0x"))
        .to.be.revertedWithCustomError(zk, "UnsupportedProofSystem")
        .withArgs(c.proofSystemId);
      await expect(m.jobs.connect(m.requester).openJob(id, 1n, INPUT, "", (await time.latest()) + 3600, false, { value: FEE }))
        .to.be.revertedWithCustomError(m.jobs, "UnsupportedModel")
        .withArgs(id, 0n);
      const adapter = await createAdapter(m.factory, await m.mock.getAddress());
      await m.registry.connect(m.modelOwner).updateModelWithVerifier(id, c, adapter, 4);
      const p = mockProof([OUTPUT, m.modelCommitment, INPUT, standaloneBinding(m.chainId, await zk.getAddress(), m.prover.address)]);
      await expect(zk.connect(m.prover).verifyInference(id, input32, out, p)).to.emit(zk, "InferenceVerified");
      const jobId = await openJob(m.jobs, m.requester, {
        modelId: id,
        inputCommitment: INPUT,
        fee: FEE,
        deadline: (await time.latest()) + 3600,
      });
      await expect(m.jobs.connect(m.prover).submitResult(jobId, OUTPUT, await m.proofFor(jobId, m.prover.address))).to.emit(
        m.jobs,
        "JobFulfilled",
      );
    });

    it("declares no error it never throws (ModelMismatch is gone)", async function () {
      const zk = await ethers.getContractFactory("ZKMLVerifier");
      expect(zk.interface.getError("ModelMismatch")).to.equal(null);
    });

    it("the factory is deterministic and idempotent, and refuses an unknown proof system", async function () {
      const m = await loadFixture(stakedMarket);
      const mockAddr = await m.mock.getAddress();
      const groth16 = commitment({ modelHash: 0n }).proofSystemId;
      const predicted = await m.factory.adapterAddress(groth16, mockAddr, 4);
      expect(predicted).to.equal(await m.adapter.getAddress());
      expect(await m.factory.isAdapter(predicted)).to.equal(true);
      expect(await m.factory.createAdapter.staticCall(groth16, mockAddr, 4)).to.equal(predicted);
      await expect(m.factory.createAdapter(groth16, mockAddr, 4)).not.to.emit(m.factory, "AdapterCreated");
      expect(await m.factory.isAdapter(m.stranger.address)).to.equal(false);
      await expect(m.factory.createAdapter("0x12345678", mockAddr, 4))
        .to.be.revertedWithCustomError(m.factory, "UnknownProofSystem")
        .withArgs("0x12345678");
      await expect(m.factory.createAdapter(groth16, m.stranger.address, 4)).to.be.revertedWithCustomError(m.adapter, "VerifierHasNoCode");
      await expect(m.registry.verificationTarget(m.modelId, 9n)).to.be.revertedWithCustomError(m.registry, "VersionNotFound");
      expect(ZeroHash).to.not.equal((await m.registry.verificationTarget(m.modelId, 1n)).verifierCodeHash);
    });
  });
});
