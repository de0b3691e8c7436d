/**
 * ERC-20 fees (docs/market-rules.md, "Payment tokens"): token opens of the three kinds, per-token accounts and
 * `withdrawToken`, ETH bounties on token jobs, and the tokens that misbehave: no return value (USDT-style), `false`,
 * fee-on-transfer, a blocklist, and a token that re-enters the market from `transfer` / `transferFrom`. After every
 * scenario the market's holdings are checked against what it owes, per token and in ETH.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import type { Signer } from "ethers";
import { packSigned } from "../../scripts/formats/commitments";
import type { ModelLayout } from "../../scripts/formats/model-layout";
import {
  createAdapter,
  DEFAULT_MARKET,
  jobBinding,
  mockMarketFixture,
  mockProof,
  mockProofN,
  modelSignal,
  registerMockWithLayout,
  registerModel,
  DEFAULT_SLASH,
  JobStatus as Status,
} from "./fixtures";

const FEE = 1_000_000n; // 1 unit of a 6-decimal token
const ETH_FEE = ethers.parseEther("0.01");
const INPUT = 777n;
const OUTPUT = 3n;
const BOND = DEFAULT_MARKET.claimBond;
const SLASHED = DEFAULT_SLASH;
const STAKE = ethers.parseEther("1");
const PUB4_12 = { inputMode: 1, outputHead: 0, inputCount: 4, inputBits: 12, outputCount: 3, outputBits: 0, outputFrac: 0 };

async function fixture() {
  const m = await mockMarketFixture();
  const market = await m.jobs.getAddress();
  const std = await (await ethers.getContractFactory("MockERC20")).deploy("Mock USD", "mUSD");
  const noReturn = await (await ethers.getContractFactory("MockNoReturnToken")).deploy();
  const falseTok = await (await ethers.getContractFactory("MockFalseToken")).deploy();
  const feeOnTransfer = await (await ethers.getContractFactory("MockFeeOnTransferToken")).deploy(100); // 1%
  const blocklist = await (await ethers.getContractFactory("MockBlocklistToken")).deploy();
  const reentrant = await (await ethers.getContractFactory("MockReentrantToken")).deploy();
  for (const t of [std, noReturn, falseTok, feeOnTransfer, blocklist, reentrant]) {
    for (const s of [m.requester, m.prover, m.prover2, m.stranger]) {
      await (await t.mint(s.address, 1_000n * FEE)).wait();
      await (await t.connect(s).approve(market, ethers.MaxUint256)).wait();
    }
  }
  await (await m.jobs.connect(m.prover).deposit({ value: STAKE })).wait();
  await (await m.jobs.connect(m.prover2).deposit({ value: STAKE })).wait();
  const deadline = (await time.latest()) + 3600;
  return { ...m, market, std, noReturn, falseTok, feeOnTransfer, blocklist, reentrant, deadline };
}
type F = Awaited<ReturnType<typeof fixture>>;

/** Opens a committed-input token job as `who` and returns its id. */
async function openToken(f: F, who: Signer, token: string, fee = FEE, callback = false): Promise<bigint> {
  const id = await f.jobs.nextJobId();
  await (await f.jobs.connect(who).openTokenJob(token, fee, f.modelId, 1n, INPUT, "ipfs://in", f.deadline, callback)).wait();
  return id;
}

/** The proof the mock verifier accepts for `jobId` submitted by `prover` (default model, input INPUT). */
async function proofFor(f: F, jobId: bigint, prover: string, output = OUTPUT): Promise<string> {
  return mockProof([output, f.modelCommitment, INPUT, jobBinding(f.chainId, f.market, jobId, prover)]);
}

/**
 * What the market owes against what it holds: for each token, balance == sum of open token escrows + token accounts
 * of `accounts`; in ETH, balance == open ETH fees + every open job's bounty + ETH accounts + burned. `==` because
 * nothing in these tests sends the market tokens or ETH outside its functions (the rule is `>=`).
 */
async function expectSolvent(f: F, accounts: readonly string[], tokens: readonly string[]): Promise<void> {
  const next = await f.jobs.nextJobId();
  const escrow = new Map<string, bigint>();
  let ethOwed = await f.jobs.burned();
  for (let id = 1n; id < next; id++) {
    const job = await f.jobs.getJob(id);
    if (job.status !== BigInt(Status.Open) && job.status !== BigInt(Status.Claimed)) {
      expect(job.escrow + job.bounty, `settled job ${id} still reports escrow`).to.equal(0n);
      continue;
    }
    const token = await f.jobs.feeTokenOf(id);
    escrow.set(token, (escrow.get(token) ?? 0n) + job.escrow);
    ethOwed += job.bounty;
  }
  ethOwed += escrow.get(ethers.ZeroAddress) ?? 0n;
  for (const a of accounts) {
    const acc = await f.jobs.accountOf(a);
    ethOwed += acc.available + acc.locked;
  }
  expect(await ethers.provider.getBalance(f.market), "ETH held vs owed").to.equal(ethOwed);
  for (const t of tokens) {
    let owed = escrow.get(t) ?? 0n;
    for (const a of accounts) owed += await f.jobs.tokenBalanceOf(a, t);
    const erc20 = await ethers.getContractAt("MockERC20", t);
    expect(await erc20.balanceOf(f.market), `token ${t} held vs owed`).to.equal(owed);
  }
}

function everyone(f: F): string[] {
  return [f.requester, f.prover, f.prover2, f.stranger, f.deployer, f.modelOwner].map((s) => s.address);
}

describe("InferenceJobs: ERC-20 fees", function () {
  describe("open", function () {
    it("pulls the fee with transferFrom, escrows it with the token in the job and emits JobOpened then JobFeeToken", async function () {
      const f = await loadFixture(fixture);
      const token = await f.std.getAddress();
      const id = await f.jobs.nextJobId();
      const tx = f.jobs.connect(f.requester).openTokenJob(token, FEE, f.modelId, 1n, INPUT, "ipfs://in", f.deadline, true);
      await expect(tx)
        .to.emit(f.jobs, "JobOpened")
        .withArgs(id, f.requester.address, f.modelId, 1, INPUT, FEE, f.deadline, true, "ipfs://in")
        .and.to.emit(f.jobs, "JobFeeToken")
        .withArgs(id, token, FEE);
      await expect(tx).to.changeTokenBalances(f.std, [f.requester, f.jobs], [-FEE, FEE]);
      const job = await f.jobs.getJob(id);
      expect(job.status).to.equal(Status.Open);
      expect(job.escrow).to.equal(FEE);
      expect(job.bounty).to.equal(0n);
      expect(job.callback).to.equal(true);
      expect(job.privateInput).to.equal(false);
      expect(await f.jobs.feeTokenOf(id)).to.equal(token);
      expect(await ethers.provider.getBalance(f.market)).to.equal(2n * STAKE); // no ETH came with it
      await expectSolvent(f, everyone(f), [token]);
    });

    it("keeps ETH jobs as they were: feeTokenOf is zero, no JobFeeToken", async function () {
      const f = await loadFixture(fixture);
      const tx = f.jobs.connect(f.requester).openJob(f.modelId, 1n, INPUT, "", f.deadline, false, { value: ETH_FEE });
      await expect(tx).to.emit(f.jobs, "JobOpened").and.not.to.emit(f.jobs, "JobFeeToken");
      const id = (await f.jobs.nextJobId()) - 1n;
      expect(await f.jobs.feeTokenOf(id)).to.equal(ethers.ZeroAddress);
      expect((await f.jobs.getJob(id)).escrow).to.equal(ETH_FEE);
    });

    it("refuses a fee-on-transfer token with FeeNotReceived(token, fee, received) and escrows nothing", async function () {
      const f = await loadFixture(fixture);
      const token = await f.feeOnTransfer.getAddress();
      const next = await f.jobs.nextJobId();
      await expect(f.jobs.connect(f.requester).openTokenJob(token, FEE, f.modelId, 1n, INPUT, "", f.deadline, false))
        .to.be.revertedWithCustomError(f.jobs, "FeeNotReceived")
        .withArgs(token, FEE, FEE - FEE / 100n);
      expect(await f.jobs.nextJobId()).to.equal(next);
      expect(await f.feeOnTransfer.balanceOf(f.market)).to.equal(0n);
    });

    it("refuses a token that returns false (SafeERC20FailedOperation) and one that reverts (its own error)", async function () {
      const f = await loadFixture(fixture);
      const token = await f.falseTok.getAddress();
      await (await f.falseTok.setFailing(true)).wait();
      await expect(f.jobs.connect(f.requester).openTokenJob(token, FEE, f.modelId, 1n, INPUT, "", f.deadline, false))
        .to.be.revertedWithCustomError(f.jobs, "SafeERC20FailedOperation")
        .withArgs(token);
      // a short allowance: the token's own revert comes through
      const std = await f.std.getAddress();
      await (await f.std.connect(f.stranger).approve(f.market, FEE - 1n)).wait();
      await expect(f.jobs.connect(f.stranger).openTokenJob(std, FEE, f.modelId, 1n, INPUT, "", f.deadline, false))
        .to.be.revertedWithCustomError(f.std, "ERC20InsufficientAllowance")
        .withArgs(f.market, FEE - 1n, FEE);
      expect(await f.jobs.nextJobId()).to.equal(1n);
    });

    it("refuses an address without code as the token (an EOA, the zero address) with FeeTokenNotContract", async function () {
      const f = await loadFixture(fixture);
      for (const t of [f.stranger.address, ethers.ZeroAddress]) {
        await expect(f.jobs.connect(f.requester).openTokenJob(t, FEE, f.modelId, 1n, INPUT, "", f.deadline, false))
          .to.be.revertedWithCustomError(f.jobs, "FeeTokenNotContract")
          .withArgs(t);
        await expect(f.jobs.connect(f.requester).openPrivateTokenJob(t, FEE, f.modelId, 1n, INPUT, f.deadline, false))
          .to.be.revertedWithCustomError(f.jobs, "FeeTokenNotContract")
          .withArgs(t);
      }
    });

    it("checks the fee like an ETH fee (ZeroFee, AmountTooLarge) and takes no ETH with a token open", async function () {
      const f = await loadFixture(fixture);
      const token = await f.std.getAddress();
      await expect(
        f.jobs.connect(f.requester).openTokenJob(token, 0n, f.modelId, 1n, INPUT, "", f.deadline, false),
      ).to.be.revertedWithCustomError(f.jobs, "ZeroFee");
      await expect(f.jobs.connect(f.requester).openTokenJob(token, 1n << 96n, f.modelId, 1n, INPUT, "", f.deadline, false))
        .to.be.revertedWithCustomError(f.jobs, "AmountTooLarge")
        .withArgs(1n << 96n);
      // the largest fee that fits is accepted
      await (await f.std.mint(f.requester.address, (1n << 96n) - 1n)).wait();
      await expect(f.jobs.connect(f.requester).openTokenJob(token, (1n << 96n) - 1n, f.modelId, 1n, INPUT, "", f.deadline, false))
        .to.emit(f.jobs, "JobFeeToken")
        .withArgs(1n, token, (1n << 96n) - 1n);
      expect((await f.jobs.getJob(1n)).escrow).to.equal((1n << 96n) - 1n);
      expect(await f.jobs.feeTokenOf(1n)).to.equal(token);
      // the token opens are not payable
      const data = f.jobs.interface.encodeFunctionData("openTokenJob", [token, FEE, f.modelId, 1n, INPUT, "", f.deadline, false]);
      await expect(f.requester.sendTransaction({ to: f.market, data, value: 1n })).to.be.reverted;
      // the same model and version checks as openJob
      await expect(f.jobs.connect(f.requester).openTokenJob(token, FEE, f.modelId, 2n, INPUT, "", f.deadline, false))
        .to.be.revertedWithCustomError(f.jobs, "ModelVersionMismatch")
        .withArgs(f.modelId, 2n, 1n);
    });
  });

  describe("settlement and token accounts", function () {
    it("credits the token fee to the prover's token account (not its ETH account); withdrawToken pays it once", async function () {
      const f = await loadFixture(fixture);
      const token = await f.std.getAddress();
      const id = await openToken(f, f.requester, token);
      await expect(f.jobs.connect(f.prover).submitResult(id, OUTPUT, await proofFor(f, id, f.prover.address)))
        .to.emit(f.jobs, "JobFulfilled")
        .withArgs(id, f.prover.address, OUTPUT, FEE, 0n);
      expect(await f.jobs.tokenBalanceOf(f.prover.address, token)).to.equal(FEE);
      expect(await f.jobs.accountOf(f.prover.address)).to.deep.equal([STAKE, 0n]);
      expect(await f.jobs.resultOf(id)).to.deep.equal([true, OUTPUT]);
      const job = await f.jobs.getJob(id);
      expect([job.status, job.escrow, job.bounty, job.output]).to.deep.equal([BigInt(Status.Fulfilled), 0n, 0n, OUTPUT]);
      await expect(f.jobs.feeTokenOf(id)).to.be.revertedWithCustomError(f.jobs, "JobNotOpen").withArgs(id, Status.Fulfilled);
      await expectSolvent(f, everyone(f), [token]);

      const w = f.jobs.connect(f.prover).withdrawToken(token);
      await expect(w).to.emit(f.jobs, "TokenWithdrawn").withArgs(f.prover.address, token, FEE);
      await expect(w).to.changeTokenBalances(f.std, [f.jobs, f.prover], [-FEE, FEE]);
      expect(await f.jobs.tokenBalanceOf(f.prover.address, token)).to.equal(0n);
      await expect(f.jobs.connect(f.prover).withdrawToken(token))
        .to.be.revertedWithCustomError(f.jobs, "NothingToWithdrawInToken")
        .withArgs(f.prover.address, token);
      // the ETH withdrawal sends only the stake
      await expect(f.jobs.connect(f.prover).withdraw()).to.emit(f.jobs, "Withdrawn").withArgs(f.prover.address, STAKE);
      await expectSolvent(f, everyone(f), [token]);
      await expect(f.jobs.feeTokenOf(99n)).to.be.revertedWithCustomError(f.jobs, "JobNotFound").withArgs(99n);
    });

    it("refunds a reclaimed token job to the requester's token account", async function () {
      const f = await loadFixture(fixture);
      const token = await f.noReturn.getAddress();
      const id = await openToken(f, f.requester, token);
      await time.increaseTo(f.deadline + 1);
      await expect(f.jobs.connect(f.requester).reclaim(id)).to.emit(f.jobs, "JobReclaimed").withArgs(id, f.requester.address, FEE, 0n);
      expect(await f.jobs.tokenBalanceOf(f.requester.address, token)).to.equal(FEE);
      expect(await f.jobs.accountOf(f.requester.address)).to.deep.equal([0n, 0n]);
      await expect(f.jobs.feeTokenOf(id)).to.be.revertedWithCustomError(f.jobs, "JobNotOpen").withArgs(id, Status.Reclaimed);
      await expectSolvent(f, everyone(f), [token]);
      await expect(f.jobs.connect(f.requester).withdrawToken(token)).to.changeTokenBalances(f.noReturn, [f.jobs, f.requester], [-FEE, FEE]);
      await expectSolvent(f, everyone(f), [token]);
    });

    it("works with a token that returns no bool (USDT-style): open, claim, submit, withdraw", async function () {
      const f = await loadFixture(fixture);
      const token = await f.noReturn.getAddress();
      const id = await openToken(f, f.requester, token);
      await expect(f.jobs.connect(f.prover).claim(id)).to.emit(f.jobs, "JobClaimed");
      await expect(f.jobs.connect(f.prover).submitResult(id, OUTPUT, await proofFor(f, id, f.prover.address)))
        .to.emit(f.jobs, "JobFulfilled")
        .withArgs(id, f.prover.address, OUTPUT, FEE, 0n);
      expect(await f.jobs.accountOf(f.prover.address)).to.deep.equal([STAKE, 0n]); // bond back, in ETH
      await expect(f.jobs.connect(f.prover).withdrawToken(token)).to.changeTokenBalances(f.noReturn, [f.jobs, f.prover], [-FEE, FEE]);
      await expectSolvent(f, everyone(f), [token]);
    });

    it("pays a slashed bond (ETH bounty) with the token fee to whoever delivers, and burns it on reclaim", async function () {
      const f = await loadFixture(fixture);
      const token = await f.std.getAddress();
      const a = await openToken(f, f.requester, token);
      const b = await openToken(f, f.requester, token);
      for (const id of [a, b]) await (await f.jobs.connect(f.prover).claim(id)).wait();
      await time.increase(DEFAULT_MARKET.leaseDuration + 1);
      await expect(f.jobs.expireClaim(a))
        .to.emit(f.jobs, "ClaimExpired")
        .withArgs(a, f.prover.address, SLASHED, BOND - SLASHED);
      const job = await f.jobs.getJob(a);
      expect([job.status, job.escrow, job.bounty]).to.deep.equal([BigInt(Status.Open), FEE, SLASHED]);
      expect(await f.jobs.feeTokenOf(a)).to.equal(token); // the bounty did not touch the token in the escrow slot
      await expectSolvent(f, everyone(f), [token]);
      // a second slash on the same job adds to its bounty
      await (await f.jobs.connect(f.prover2).claim(a)).wait();
      await time.increase(DEFAULT_MARKET.leaseDuration + 1);
      await expect(f.jobs.connect(f.prover).submitResult(a, OUTPUT, await proofFor(f, a, f.prover.address)))
        .to.emit(f.jobs, "ClaimExpired")
        .withArgs(a, f.prover2.address, SLASHED, BOND - SLASHED)
        .and.to.emit(f.jobs, "JobFulfilled")
        .withArgs(a, f.prover.address, OUTPUT, FEE, 2n * SLASHED);
      expect(await f.jobs.tokenBalanceOf(f.prover.address, token)).to.equal(FEE);
      // prover: its job-b bond is still locked; it lost one slash on a and got both slashes as a's bounty
      expect(await f.jobs.accountOf(f.prover.address)).to.deep.equal([STAKE - 2n * BOND + (BOND - SLASHED) + 2n * SLASHED, BOND]);
      await expectSolvent(f, everyone(f), [token]);
      // job b: its claim expired; reclaim settles it, refunds the token fee and burns the bounty
      await time.increaseTo(f.deadline + 1);
      await expect(f.jobs.connect(f.requester).reclaim(b))
        .to.emit(f.jobs, "ClaimExpired")
        .withArgs(b, f.prover.address, SLASHED, BOND - SLASHED)
        .and.to.emit(f.jobs, "JobReclaimed")
        .withArgs(b, f.requester.address, FEE, SLASHED);
      expect(await f.jobs.burned()).to.equal(SLASHED);
      expect(await f.jobs.tokenBalanceOf(f.requester.address, token)).to.equal(FEE);
      expect((await f.jobs.getJob(b)).bounty).to.equal(0n);
      await expectSolvent(f, everyone(f), [token]);
    });

    it("openPrivateTokenJob: claim, encrypted delivery, submission by the claimant", async function () {
      const f = await loadFixture(fixture);
      const token = await f.std.getAddress();
      const id = await f.jobs.nextJobId();
      await expect(f.jobs.connect(f.requester).openPrivateTokenJob(token, FEE, f.modelId, 1n, INPUT, f.deadline, false))
        .to.emit(f.jobs, "JobOpened")
        .withArgs(id, f.requester.address, f.modelId, 1, INPUT, FEE, f.deadline, false, "")
        .and.to.emit(f.jobs, "JobFeeToken")
        .withArgs(id, token, FEE);
      expect((await f.jobs.getJob(id)).privateInput).to.equal(true);
      await (await f.jobs.connect(f.prover).claim(id)).wait();
      await expect(f.jobs.connect(f.requester).deliverInput(id, f.prover.address, "0x0102")).to.emit(f.jobs, "InputDelivered");
      await expect(f.jobs.connect(f.prover).submitResult(id, OUTPUT, await proofFor(f, id, f.prover.address)))
        .to.emit(f.jobs, "JobFulfilled")
        .withArgs(id, f.prover.address, OUTPUT, FEE, 0n);
      expect(await f.jobs.tokenBalanceOf(f.prover.address, token)).to.equal(FEE);
      await expectSolvent(f, everyone(f), [token]);
    });

    it("openTokenJobWithInputs: packs the values, emits JobOpened, JobInputs and JobFeeToken, settles against the packed word", async function () {
      const f = await loadFixture(fixture);
      const token = await f.std.getAddress();
      const pub = await registerMockWithLayout(f, 4242n, PUB4_12);
      const values = [5n, -7n, 2047n, -2048n];
      const w = packSigned(values, 12);
      const id = await f.jobs.nextJobId();
      await expect(f.jobs.connect(f.requester).openTokenJobWithInputs(token, FEE, pub, 1n, values, f.deadline, false))
        .to.emit(f.jobs, "JobOpened")
        .withArgs(id, f.requester.address, pub, 1, w[0], FEE, f.deadline, false, "")
        .and.to.emit(f.jobs, "JobInputs")
        .withArgs(id, values)
        .and.to.emit(f.jobs, "JobFeeToken")
        .withArgs(id, token, FEE);
      await expect(f.jobs.connect(f.requester).openTokenJobWithInputs(token, FEE, pub, 1n, [1n, 2n, 3n, 2048n], f.deadline, false))
        .to.be.revertedWithCustomError(f.jobs, "InputOutOfRange")
        .withArgs(3, 2048n, 12);
      await expect(f.jobs.connect(f.requester).openTokenJobWithInputs(token, FEE, f.modelId, 1n, values, f.deadline, false))
        .to.be.revertedWithCustomError(f.jobs, "InputModeMismatch")
        .withArgs(f.modelId, 1n, 0);
      const sig = await modelSignal(4242n, PUB4_12 as ModelLayout);
      const proof = mockProof([OUTPUT, sig, w[0], jobBinding(f.chainId, f.market, id, f.prover.address)]);
      await expect(f.jobs.connect(f.prover).submitResult(id, OUTPUT, proof))
        .to.emit(f.jobs, "JobFulfilled")
        .withArgs(id, f.prover.address, OUTPUT, FEE, 0n);
      expect(await f.jobs.tokenBalanceOf(f.prover.address, token)).to.equal(FEE);
      await expectSolvent(f, everyone(f), [token]);
    });

    it("settles an ETH job and token jobs of two tokens in one batch, each paid in its own asset", async function () {
      const f = await loadFixture(fixture);
      const batch = await (await ethers.getContractFactory("MockBatchVerifier")).deploy();
      const adapter = await createAdapter(f.factory, await batch.getAddress(), 4);
      const model = await registerModel(f.registry, f.modelOwner, { modelHash: 2001n }, adapter);
      const sig = await modelSignal(2001n);
      const std = await f.std.getAddress();
      const nr = await f.noReturn.getAddress();
      const ids = [await f.jobs.nextJobId()];
      await (await f.jobs.connect(f.requester).openJob(model, 1n, INPUT, "", f.deadline, false, { value: ETH_FEE })).wait();
      ids.push(await f.jobs.nextJobId());
      await (await f.jobs.connect(f.requester).openTokenJob(std, FEE, model, 1n, INPUT, "", f.deadline, false)).wait();
      ids.push(await f.jobs.nextJobId());
      await (await f.jobs.connect(f.requester).openTokenJob(nr, 2n * FEE, model, 1n, INPUT, "", f.deadline, false)).wait();
      const proofs = ids.map((id) => mockProofN([OUTPUT, sig, INPUT, jobBinding(f.chainId, f.market, id, f.prover.address)]));
      const tx = f.jobs.connect(f.prover).submitResults(ids, [OUTPUT, OUTPUT, OUTPUT], proofs);
      await expect(tx).to.emit(f.jobs, "JobFulfilled").withArgs(ids[0], f.prover.address, OUTPUT, ETH_FEE, 0n);
      await expect(tx).to.emit(f.jobs, "JobFulfilled").withArgs(ids[1], f.prover.address, OUTPUT, FEE, 0n);
      await expect(tx)
        .to.emit(f.jobs, "JobFulfilled")
        .withArgs(ids[2], f.prover.address, OUTPUT, 2n * FEE, 0n);
      expect(await f.jobs.accountOf(f.prover.address)).to.deep.equal([STAKE + ETH_FEE, 0n]);
      expect(await f.jobs.tokenBalanceOf(f.prover.address, std)).to.equal(FEE);
      expect(await f.jobs.tokenBalanceOf(f.prover.address, nr)).to.equal(2n * FEE);
      await expectSolvent(f, everyone(f), [std, nr]);
    });
  });

  describe("tokens that misbehave", function () {
    it("a blocklisted payee cannot withdraw, and blocks nobody else: other provers, other jobs and its own later refund settle", async function () {
      const f = await loadFixture(fixture);
      const token = await f.blocklist.getAddress();
      const a = await openToken(f, f.requester, token);
      const b = await openToken(f, f.requester, token);
      await (await f.blocklist.setBlocked(f.prover.address, true)).wait();
      // settlement never transfers: the blocklisted prover is still paid (credited)
      await expect(f.jobs.connect(f.prover).submitResult(a, OUTPUT, await proofFor(f, a, f.prover.address))).to.emit(
        f.jobs,
        "JobFulfilled",
      );
      await expect(f.jobs.connect(f.prover2).submitResult(b, OUTPUT, await proofFor(f, b, f.prover2.address))).to.emit(
        f.jobs,
        "JobFulfilled",
      );
      await expect(f.jobs.connect(f.prover).withdrawToken(token))
        .to.be.revertedWithCustomError(f.blocklist, "Blocklisted")
        .withArgs(f.prover.address);
      expect(await f.jobs.tokenBalanceOf(f.prover.address, token)).to.equal(FEE); // still credited
      await expect(f.jobs.connect(f.prover2).withdrawToken(token)).to.changeTokenBalances(f.blocklist, [f.jobs, f.prover2], [-FEE, FEE]);
      // a blocklisted requester: its job opens, is reclaimed and credited; only its own withdrawal fails
      await (await f.blocklist.setBlocked(f.requester.address, true)).wait();
      const c = await openToken(f, f.requester, token);
      const d = await openToken(f, f.stranger, token);
      await time.increaseTo(f.deadline + 1);
      await expect(f.jobs.connect(f.requester).reclaim(c)).to.emit(f.jobs, "JobReclaimed").withArgs(c, f.requester.address, FEE, 0n);
      await expect(f.jobs.connect(f.stranger).reclaim(d)).to.emit(f.jobs, "JobReclaimed");
      await expect(f.jobs.connect(f.requester).withdrawToken(token)).to.be.revertedWithCustomError(f.blocklist, "Blocklisted");
      await expect(f.jobs.connect(f.stranger).withdrawToken(token)).to.changeTokenBalances(f.blocklist, [f.jobs, f.stranger], [-FEE, FEE]);
      await expectSolvent(f, everyone(f), [token]);
      // lifted: the held balance comes out whole
      await (await f.blocklist.setBlocked(f.prover.address, false)).wait();
      await expect(f.jobs.connect(f.prover).withdrawToken(token)).to.changeTokenBalances(f.blocklist, [f.jobs, f.prover], [-FEE, FEE]);
      await expectSolvent(f, everyone(f), [token]);
    });

    it("a token that turns to returning false keeps the balance credited (SafeERC20FailedOperation on withdrawToken)", async function () {
      const f = await loadFixture(fixture);
      const token = await f.falseTok.getAddress();
      const id = await openToken(f, f.requester, token);
      await (await f.jobs.connect(f.prover).submitResult(id, OUTPUT, await proofFor(f, id, f.prover.address))).wait();
      await (await f.falseTok.setFailing(true)).wait();
      await expect(f.jobs.connect(f.prover).withdrawToken(token))
        .to.be.revertedWithCustomError(f.jobs, "SafeERC20FailedOperation")
        .withArgs(token);
      expect(await f.jobs.tokenBalanceOf(f.prover.address, token)).to.equal(FEE);
      await (await f.falseTok.setFailing(false)).wait();
      await expect(f.jobs.connect(f.prover).withdrawToken(token)).to.changeTokenBalances(f.falseTok, [f.jobs, f.prover], [-FEE, FEE]);
    });

    describe("re-entry from the token", function () {
      it("a second token open from inside transferFrom fails (TokenCallReentered); the outer open escrows exactly its fee", async function () {
        const f = await loadFixture(fixture);
        const t = f.reentrant;
        const token = await t.getAddress();
        await (await t.mint(token, 10n * FEE)).wait();
        await (await t.approveAsToken(f.market, ethers.MaxUint256)).wait();
        const nested = f.jobs.interface.encodeFunctionData("openTokenJob", [token, FEE, f.modelId, 1n, INPUT, "", f.deadline, false]);
        await (await t.arm(f.market, nested)).wait();
        const id = await openToken(f, f.requester, token);
        expect(await t.hookCalls()).to.equal(1n);
        expect(await t.lastHookOk()).to.equal(false);
        expect(await t.lastHookReturn()).to.equal(f.jobs.interface.encodeErrorResult("TokenCallReentered", []));
        expect(await f.jobs.nextJobId()).to.equal(id + 1n); // one job
        expect(await t.balanceOf(f.market)).to.equal(FEE);
        await expectSolvent(f, [...everyone(f), token], [token]);
      });

      it("a withdrawal from inside withdrawToken's transfer fails (TokenCallReentered): each payee paid once", async function () {
        const f = await loadFixture(fixture);
        const t = f.reentrant;
        const token = await t.getAddress();
        // the token contract becomes a payee itself: its hook settles job a (as the token) during a's own fee pull
        const a = await f.jobs.nextJobId();
        await (await t.arm(f.market, f.jobs.interface.encodeFunctionData("submitResult", [a, OUTPUT, await proofFor(f, a, token)]))).wait();
        await openToken(f, f.requester, token);
        expect(await t.lastHookOk()).to.equal(true);
        const b = await openToken(f, f.requester, token);
        await (await f.jobs.connect(f.prover).submitResult(b, OUTPUT, await proofFor(f, b, f.prover.address))).wait();
        expect(await f.jobs.tokenBalanceOf(token, token)).to.equal(FEE);
        // now its hook withdraws its own credit from inside the prover's withdrawal
        await (await t.arm(f.market, f.jobs.interface.encodeFunctionData("withdrawToken", [token]))).wait();
        await expect(f.jobs.connect(f.prover).withdrawToken(token)).to.changeTokenBalances(t, [f.jobs, f.prover], [-FEE, FEE]);
        expect(await t.lastHookOk()).to.equal(false);
        expect(await t.lastHookReturn()).to.equal(f.jobs.interface.encodeErrorResult("TokenCallReentered", []));
        expect(await f.jobs.tokenBalanceOf(f.prover.address, token)).to.equal(0n);
        expect(await f.jobs.tokenBalanceOf(token, token)).to.equal(FEE); // still owed, withdrawable on its own
        await expectSolvent(f, [...everyone(f), token], [token]);
        // and a withdrawal from inside a token open's transferFrom fails the same way (it would move the measured balance)
        await (await t.arm(f.market, f.jobs.interface.encodeFunctionData("withdrawToken", [token]))).wait();
        await openToken(f, f.requester, token);
        expect(await t.lastHookOk()).to.equal(false);
        expect(await t.lastHookReturn()).to.equal(f.jobs.interface.encodeErrorResult("TokenCallReentered", []));
        await expectSolvent(f, [...everyone(f), token], [token]);
      });

      it("a token that settles the job being opened from inside transferFrom gains nothing: the job exists first (CEI), is paid once, from a fee that arrived", async function () {
        const f = await loadFixture(fixture);
        const t = f.reentrant;
        const token = await t.getAddress();
        const id = await f.jobs.nextJobId();
        // the hook submits a valid result for the job being opened, as the token contract
        const proof = await proofFor(f, id, token);
        await (await t.arm(f.market, f.jobs.interface.encodeFunctionData("submitResult", [id, OUTPUT, proof]))).wait();
        const tx = f.jobs.connect(f.requester).openTokenJob(token, FEE, f.modelId, 1n, INPUT, "", f.deadline, false);
        await expect(tx).to.emit(f.jobs, "JobFulfilled").withArgs(id, token, OUTPUT, FEE, 0n);
        expect(await t.lastHookOk()).to.equal(true);
        expect((await f.jobs.getJob(id)).status).to.equal(Status.Fulfilled);
        expect(await f.jobs.tokenBalanceOf(token, token)).to.equal(FEE);
        expect(await t.balanceOf(f.market)).to.equal(FEE); // the fee did arrive
        await expect(f.jobs.connect(f.prover).submitResult(id, OUTPUT, await proofFor(f, id, f.prover.address)))
          .to.be.revertedWithCustomError(f.jobs, "JobNotOpen")
          .withArgs(id, Status.Fulfilled);
        await expectSolvent(f, [...everyone(f), token], [token]);
      });
    });
  });
});
