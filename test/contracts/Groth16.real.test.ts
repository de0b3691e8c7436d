/**
 * Real Groth16 proofs (toy circuit with the 4-signal layout, test/contracts/fixtures/toy/) through
 * Groth16VerifierAdapter (created by VerifierAdapterFactory), InferenceJobs (which calls the snarkjs verifier
 * directly) and ZKMLVerifier; also prints the gas figures quoted in docs/contracts.md.
 */
import { recordGas } from "../helpers/gas-figures";
import { claimantPublicKey, encryptDelivery, openingJson } from "../../scripts/chain/private-input";
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import * as path from "path";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { proveGroth16 } from "../../scripts/engine/prove/groth16";
import { releaseSnarkjs } from "../../scripts/util/snarkjs-threads";
import { SNARK_FIELD } from "../../scripts/util/field";
import { deployMarketForVerifier, jobBinding, modelSignal, openJob, standaloneBinding } from "./fixtures";
import type { InferenceJobs } from "../../typechain-types";

const TOY = path.join(__dirname, "fixtures", "toy");
const WASM = path.join(TOY, "toy.wasm");
const ZKEY = path.join(TOY, "toy.zkey");
const MODEL = 987654321987654321n;
const INPUT = 5555n;
const X = 42n;
const FEE = ethers.parseEther("1");

/** The toy circuit's output for our inputs: out = model * input + x (mod r). */
const toyOutput = (model: bigint, input: bigint, x: bigint) => (model * input + x) % SNARK_FIELD;

async function prove(model: bigint, input: bigint, binding: bigint, x = X) {
  const r = await proveGroth16(WASM, ZKEY, {
    modelCommitment: (await modelSignal(model)).toString(),
    inputCommitment: input.toString(),
    jobBinding: binding.toString(),
    x: x.toString(),
  });
  return { output: r.publicSignals[0], proof: r.packed.bytes, signals: r.publicSignals };
}

async function toyMarket() {
  const [, , requester, prover, prover2] = await ethers.getSigners();
  const toy = await (await ethers.getContractFactory("ToyGroth16Verifier")).deploy();
  const m = await deployMarketForVerifier(await toy.getAddress(), MODEL);
  const latest = (await ethers.provider.getBlock("latest"))!.timestamp;
  const deadline = latest + 3600;
  return { ...m, toy, requester, prover, prover2, deadline };
}

async function openToyJob(jobs: InferenceJobs, requester: HardhatEthersSigner, modelId: bigint, deadline: number, input = INPUT) {
  return openJob(jobs, requester, { modelId, inputCommitment: input, fee: FEE, deadline });
}

describe("Groth16 (real proofs, toy circuit)", function () {
  after(releaseSnarkjs);

  describe("Groth16VerifierAdapter", function () {
    it("accepts a real proof and rejects it with any signal changed", async function () {
      const { adapter, toy } = await loadFixture(toyMarket);
      const { proof, signals } = await prove(MODEL, INPUT, 77n);
      expect(await adapter.verify(proof, signals)).to.equal(true);
      for (let i = 0; i < 4; i++) {
        const bad = [...signals];
        bad[i] = (bad[i] + 1n) % SNARK_FIELD;
        expect(await adapter.verify(proof, bad)).to.equal(false);
      }
      expect(await adapter.verifier()).to.equal(await toy.getAddress());
    });

    it("reverts when a signal is >= r (instead of letting an alias verify)", async function () {
      const { adapter } = await loadFixture(toyMarket);
      const { proof, signals } = await prove(MODEL, INPUT, 77n);
      const aliased = [...signals];
      aliased[2] = aliased[2] + SNARK_FIELD;
      await expect(adapter.verify(proof, aliased)).to.be.revertedWithCustomError(adapter, "SignalNotInField").withArgs(2, aliased[2]);
    });
  });

  describe("InferenceJobs.submitResult", function () {
    it("accepts a valid result, pays it once, and reports the gas used", async function () {
      const { jobs, modelId, requester, prover, chainId, deadline } = await loadFixture(toyMarket);
      const firstOpen = (await (
        await jobs.connect(requester).openJob(modelId, 1n, INPUT, "ipfs://bafy-input", deadline, false, { value: FEE })
      ).wait())!.gasUsed;
      const openTx = await jobs.connect(requester).openJob(modelId, 1n, INPUT, "ipfs://bafy-input", deadline, false, { value: FEE });
      const openGas = (await openTx.wait())!.gasUsed;
      const jobId = 2n;
      const { output, proof } = await prove(MODEL, INPUT, jobBinding(chainId, await jobs.getAddress(), jobId, prover.address));
      expect(output).to.equal(toyOutput(await modelSignal(MODEL), INPUT, X));
      const tx = await jobs.connect(prover).submitResult(jobId, output, proof);
      await expect(tx).to.emit(jobs, "JobFulfilled").withArgs(jobId, prover.address, output, FEE, 0n);
      const submitGas = (await tx.wait())!.gasUsed;
      expect(await jobs.resultOf(jobId)).to.deep.equal([true, output]);
      expect((await jobs.accountOf(prover.address)).available).to.equal(FEE);
      await expect(jobs.connect(prover).submitResult(jobId, output, proof))
        .to.be.revertedWithCustomError(jobs, "JobNotOpen")
        .withArgs(jobId, 3);
      console.log(
        `      gas: openJob first on the model version ${firstOpen}, later ${openGas}, submitResult (real Groth16, 4 signals, first payout) ${submitGas}`,
      );
      recordGas("groth16.openJob.first", firstOpen);
      recordGas("groth16.openJob.later", openGas);
      recordGas("groth16.submit.fresh", submitGas);
    });

    it("reports the gas of an unclaimed job paid to a prover that already has a balance", async function () {
      const { jobs, modelId, requester, prover, chainId, deadline } = await loadFixture(toyMarket);
      await jobs.connect(prover).deposit({ value: 1n });
      const jobId = await openToyJob(jobs, requester, modelId, deadline);
      const { output, proof } = await prove(MODEL, INPUT, jobBinding(chainId, await jobs.getAddress(), jobId, prover.address));
      const submitGas = (await (await jobs.connect(prover).submitResult(jobId, output, proof)).wait())!.gasUsed;
      console.log(`      gas: submitResult (unclaimed, prover account non-empty) ${submitGas}`);
      recordGas("groth16.submit.nonEmpty", submitGas);
    });

    it("reports the gas of a claimed job delivered by its claimant", async function () {
      const { jobs, modelId, requester, prover, chainId, deadline } = await loadFixture(toyMarket);
      await jobs.connect(prover).deposit({ value: ethers.parseEther("1") });
      const jobId = await openToyJob(jobs, requester, modelId, deadline);
      const claimGas = (await (await jobs.connect(prover).claim(jobId)).wait())!.gasUsed;
      const { output, proof } = await prove(MODEL, INPUT, jobBinding(chainId, await jobs.getAddress(), jobId, prover.address));
      const submitGas = (await (await jobs.connect(prover).submitResult(jobId, output, proof)).wait())!.gasUsed;
      const withdrawGas = (await (await jobs.connect(prover).withdraw()).wait())!.gasUsed;
      console.log(`      gas: claim ${claimGas}, submitResult after own claim ${submitGas}, withdraw ${withdrawGas}`);
      recordGas("groth16.claim", claimGas);
      recordGas("groth16.submit.claimant", submitGas);
      recordGas("groth16.withdraw", withdrawGas);
    });

    it("reports the gas of a private job: open, claim, delivery of an encrypted iris opening, claimant submission", async function () {
      const { jobs, modelId, requester, prover, chainId, deadline } = await loadFixture(toyMarket);
      await jobs.connect(prover).deposit({ value: ethers.parseEther("1") });
      await openToyJob(jobs, requester, modelId, deadline); // the version's target is cached: later-job figures
      const jobId = await jobs.connect(requester).openPrivateJob.staticCall(modelId, 1n, INPUT, deadline, false, { value: FEE });
      const openGas = (await (await jobs.connect(requester).openPrivateJob(modelId, 1n, INPUT, deadline, false, { value: FEE })).wait())!
        .gasUsed;
      const claimGas = (await (await jobs.connect(prover).claim(jobId)).wait())!.gasUsed;
      const pub = await claimantPublicKey(ethers.provider, jobs, jobId, prover.address);
      // an iris opening: 4 values at 12 bits and a 31-byte salt
      const opening = openingJson({ x: [-462n, 404n, -653n, -681n], salt: 2n ** 247n + 12345n });
      const ct = encryptDelivery(opening, pub, { chainId, jobs: await jobs.getAddress(), jobId, claimant: prover.address });
      const deliverGas = (await (await jobs.connect(requester).deliverInput(jobId, prover.address, ct)).wait())!.gasUsed;
      const { output, proof } = await prove(MODEL, INPUT, jobBinding(chainId, await jobs.getAddress(), jobId, prover.address));
      const submitGas = (await (await jobs.connect(prover).submitResult(jobId, output, proof)).wait())!.gasUsed;
      console.log(
        `      gas: openPrivateJob ${openGas}, claim ${claimGas}, deliverInput (${(ct.length - 2) / 2}-byte ciphertext) ${deliverGas}, claimant submitResult ${submitGas}`,
      );
      recordGas("groth16.private.open", openGas);
      recordGas("groth16.private.claim", claimGas);
      recordGas("groth16.private.deliver", deliverGas);
      recordGas("groth16.private.submit", submitGas);
    });

    it("reports the gas of a job paid in an ERC-20 token against an ETH job on the same model version: open, claim, claimant submission, withdrawal", async function () {
      const { jobs, modelId, requester, prover, chainId, deadline } = await loadFixture(toyMarket);
      const market = await jobs.getAddress();
      const token = await (await ethers.getContractFactory("MockERC20")).deploy("Mock USD", "mUSD"); // OpenZeppelin ERC20
      const tokenAddr = await token.getAddress();
      const TOKEN_FEE = 5_000_000n;
      await (await token.mint(requester.address, 100n * TOKEN_FEE)).wait();
      // a standing finite allowance (an unlimited one skips the allowance write: about 5k less per open)
      const approveGas = (await (await token.connect(requester).approve(market, 50n * TOKEN_FEE)).wait())!.gasUsed;
      const gas = async (p: Promise<{ wait(): Promise<{ gasUsed: bigint } | null> }>) => (await (await p).wait())!.gasUsed;
      const stake = ethers.parseEther("1");
      await (await jobs.connect(prover).deposit({ value: stake })).wait();
      await openToyJob(jobs, requester, modelId, deadline); // the version's target is cached: later-job figures
      // the first token job that brings this token to the market (the market's balance slot in the token is fresh)
      const firstTokenOpen = await gas(
        jobs.connect(requester).openTokenJob(tokenAddr, TOKEN_FEE, modelId, 1n, INPUT, "ipfs://bafy-input", deadline, false),
      );
      const proveFor = async (jobId: bigint) => prove(MODEL, INPUT, jobBinding(chainId, market, jobId, prover.address));
      // ETH: open, claim, claimant submission, withdrawal
      const ethId = await jobs.nextJobId();
      const ethOpen = await gas(jobs.connect(requester).openJob(modelId, 1n, INPUT, "ipfs://bafy-input", deadline, false, { value: FEE }));
      const ethClaim = await gas(jobs.connect(prover).claim(ethId));
      const pe = await proveFor(ethId);
      const ethSubmit = await gas(jobs.connect(prover).submitResult(ethId, pe.output, pe.proof));
      const ethWithdraw = await gas(jobs.connect(prover).withdraw());
      await (await jobs.connect(prover).deposit({ value: stake })).wait(); // the same stake (account state) as above
      // token: open, claim, claimant submission (its token account is empty), withdrawal
      const tokId = await jobs.nextJobId();
      const tokOpen = await gas(
        jobs.connect(requester).openTokenJob(tokenAddr, TOKEN_FEE, modelId, 1n, INPUT, "ipfs://bafy-input", deadline, false),
      );
      const tokClaim = await gas(jobs.connect(prover).claim(tokId));
      const pt = await proveFor(tokId);
      const tokSubmitFresh = await gas(jobs.connect(prover).submitResult(tokId, pt.output, pt.proof));
      expect(await jobs.tokenBalanceOf(prover.address, tokenAddr)).to.equal(TOKEN_FEE);
      // the prover's first tokens ever: the token writes a fresh balance slot in its wallet (+17k, the token's cost)
      const tokWithdrawFirst = await gas(jobs.connect(prover).withdrawToken(tokenAddr));
      expect(await token.balanceOf(prover.address)).to.equal(TOKEN_FEE);
      // two more token jobs, the second submitted while the first's fee is still in the prover's token account
      const id2 = await jobs.nextJobId();
      await (await jobs.connect(requester).openTokenJob(tokenAddr, TOKEN_FEE, modelId, 1n, INPUT, "", deadline, false)).wait();
      const id3 = await jobs.nextJobId();
      await (await jobs.connect(requester).openTokenJob(tokenAddr, TOKEN_FEE, modelId, 1n, INPUT, "", deadline, false)).wait();
      await (await jobs.connect(prover).claim(id2)).wait();
      await (await jobs.connect(prover).claim(id3)).wait();
      const p2 = await proveFor(id2);
      await (await jobs.connect(prover).submitResult(id2, p2.output, p2.proof)).wait();
      const p3 = await proveFor(id3);
      const tokSubmit = await gas(jobs.connect(prover).submitResult(id3, p3.output, p3.proof));
      // unclaimed jobs, both of the prover's accounts non-empty: a token job credits the token account instead of the
      // ETH one
      const id4 = await jobs.nextJobId();
      await (await jobs.connect(requester).openTokenJob(tokenAddr, TOKEN_FEE, modelId, 1n, INPUT, "", deadline, false)).wait();
      const id5 = await jobs.nextJobId();
      await (await jobs.connect(requester).openJob(modelId, 1n, INPUT, "", deadline, false, { value: FEE })).wait();
      const p4 = await proveFor(id4);
      const tokSubmitUnclaimed = await gas(jobs.connect(prover).submitResult(id4, p4.output, p4.proof));
      const p5 = await proveFor(id5);
      const ethSubmitUnclaimed = await gas(jobs.connect(prover).submitResult(id5, p5.output, p5.proof));
      const tokWithdraw = await gas(jobs.connect(prover).withdrawToken(tokenAddr)); // the wallet already holds the token
      expect(await token.balanceOf(prover.address)).to.equal(4n * TOKEN_FEE);
      expect(ethClaim).to.equal(tokClaim); // a claim does not look at the fee
      // with an unlimited allowance OpenZeppelin's ERC20 does not write the allowance
      await (await token.connect(requester).approve(market, ethers.MaxUint256)).wait();
      const tokOpenUnlimited = await gas(
        jobs.connect(requester).openTokenJob(tokenAddr, TOKEN_FEE, modelId, 1n, INPUT, "ipfs://bafy-input", deadline, false),
      );
      console.log(
        `      gas: ETH job open ${ethOpen}, claimant submitResult ${ethSubmit}, withdraw ${ethWithdraw}; token job openTokenJob ${tokOpen} ` +
          `(first of its token ${firstTokenOpen}, unlimited allowance ${tokOpenUnlimited}), claimant submitResult ${tokSubmit} (token account empty: ${tokSubmitFresh}), ` +
          `unclaimed submitResult ETH ${ethSubmitUnclaimed} token ${tokSubmitUnclaimed}, ` +
          `withdrawToken ${tokWithdraw} (first tokens to the wallet: ${tokWithdrawFirst}); approve ${approveGas}`,
      );
      recordGas("groth16.eth.open", ethOpen);
      recordGas("groth16.eth.submit.claimant", ethSubmit);
      recordGas("groth16.eth.withdraw", ethWithdraw);
      recordGas("groth16.eth.submit.unclaimed", ethSubmitUnclaimed);
      recordGas("groth16.token.open", tokOpen);
      recordGas("groth16.token.submit.unclaimed", tokSubmitUnclaimed);
      recordGas("groth16.token.open.firstOfToken", firstTokenOpen);
      recordGas("groth16.token.open.unlimited", tokOpenUnlimited);
      recordGas("groth16.token.submit.claimant", tokSubmit);
      recordGas("groth16.token.submit.claimant.fresh", tokSubmitFresh);
      recordGas("groth16.token.withdraw", tokWithdraw);
      recordGas("groth16.token.withdraw.firstToWallet", tokWithdrawFirst);
      recordGas("groth16.token.approve", approveGas);
    });

    it("rejects the same proof for another job, another prover, another input, another model, a changed output", async function () {
      const { jobs, modelId, requester, prover, prover2, chainId, deadline, registry, adapter, modelOwner } = await loadFixture(toyMarket);
      const jobsAddr = await jobs.getAddress();
      const job1 = await openToyJob(jobs, requester, modelId, deadline);
      const job2 = await openToyJob(jobs, requester, modelId, deadline);
      const job3 = await openToyJob(jobs, requester, modelId, deadline, INPUT + 1n);
      const { output, proof } = await prove(MODEL, INPUT, jobBinding(chainId, jobsAddr, job1, prover.address));
      // another job (same model and input)
      await expect(jobs.connect(prover).submitResult(job2, output, proof))
        .to.be.revertedWithCustomError(jobs, "InvalidProof")
        .withArgs(job2);
      // another prover (mempool theft)
      await expect(jobs.connect(prover2).submitResult(job1, output, proof))
        .to.be.revertedWithCustomError(jobs, "InvalidProof")
        .withArgs(job1);
      // changed output
      await expect(jobs.connect(prover).submitResult(job1, output + 1n, proof))
        .to.be.revertedWithCustomError(jobs, "InvalidProof")
        .withArgs(job1);
      // another input: a proof bound to job3's binding but made for INPUT
      const p3 = await prove(MODEL, INPUT, jobBinding(chainId, jobsAddr, job3, prover.address));
      await expect(jobs.connect(prover).submitResult(job3, p3.output, p3.proof))
        .to.be.revertedWithCustomError(jobs, "InvalidProof")
        .withArgs(job3);
      // another model: same verifier registered under another commitment
      const other = await registry.connect(modelOwner).registerModelWithVerifier(
        {
          modelHash: ethers.toBeHex(MODEL + 1n, 32),
          circuitHash: ethers.ZeroHash,
          vkHash: ethers.ZeroHash,
          proofSystemId: await adapter.proofSystemId(),
          uri: "",
        },
        await adapter.getAddress(),
        4,
      );
      await other.wait();
      const job4 = await openToyJob(jobs, requester, 2n, deadline);
      const p4 = await prove(MODEL, INPUT, jobBinding(chainId, jobsAddr, job4, prover.address));
      await expect(jobs.connect(prover).submitResult(job4, p4.output, p4.proof))
        .to.be.revertedWithCustomError(jobs, "InvalidProof")
        .withArgs(job4);
      // output >= r
      await expect(jobs.connect(prover).submitResult(job1, output + SNARK_FIELD, proof))
        .to.be.revertedWithCustomError(jobs, "OutputNotInField")
        .withArgs(output + SNARK_FIELD);
      // and the genuine one still works, once
      await expect(jobs.connect(prover).submitResult(job1, output, proof)).to.emit(jobs, "JobFulfilled");
    });
  });

  describe("ZKMLVerifier.verifyInference", function () {
    it("accepts a standalone proof bound to the caller once, and rejects a market proof", async function () {
      const { zkmlVerifier, jobs, modelId, requester, prover, chainId, deadline } = await loadFixture(toyMarket);
      const vAddr = await zkmlVerifier.getAddress();
      const { output, proof } = await prove(MODEL, INPUT, standaloneBinding(chainId, vAddr, prover.address));
      const input32 = ethers.toBeHex(INPUT, 32);
      const out = ethers.AbiCoder.defaultAbiCoder().encode(["uint256"], [output]);
      const tx = await zkmlVerifier.connect(prover).verifyInference(modelId, input32, out, proof);
      await expect(tx).to.emit(zkmlVerifier, "InferenceVerified").withArgs(modelId, input32, out, prover.address);
      const verifyGas = (await tx.wait())!.gasUsed;
      console.log(`      gas: ZKMLVerifier.verifyInference (real Groth16) ${verifyGas}`);
      recordGas("groth16.verifyInference", verifyGas);
      await expect(zkmlVerifier.connect(requester).verifyInference(modelId, input32, out, proof)).to.be.revertedWithCustomError(
        zkmlVerifier,
        "InvalidProof",
      );
      // the nonce it was bound to is spent: the same proof never verifies twice
      expect(await zkmlVerifier.nonceOf(prover.address, prover.address)).to.equal(1n);
      await expect(zkmlVerifier.connect(prover).verifyInference(modelId, input32, out, proof)).to.be.revertedWithCustomError(
        zkmlVerifier,
        "InvalidProof",
      );
      // a market proof (job 1) is useless standalone, and a standalone proof is useless in the market
      const jobId = await openToyJob(jobs, requester, modelId, deadline);
      const m = await prove(MODEL, INPUT, jobBinding(chainId, await jobs.getAddress(), jobId, prover.address));
      const mOut = ethers.AbiCoder.defaultAbiCoder().encode(["uint256"], [m.output]);
      await expect(zkmlVerifier.connect(prover).verifyInference(modelId, input32, mOut, m.proof)).to.be.revertedWithCustomError(
        zkmlVerifier,
        "InvalidProof",
      );
      await expect(jobs.connect(prover).submitResult(jobId, output, proof))
        .to.be.revertedWithCustomError(jobs, "InvalidProof")
        .withArgs(jobId);
    });
  });
});
