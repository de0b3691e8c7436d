/**
 * `InferenceJobs.submitResults` on a mock batch verifier (`MockBatchVerifier`, any signal count): the signals the
 * market rebuilds for public-input jobs with several input words, one verifier with two signal counts, and verifiers
 * whose `verifyBatch` answers malformed data. Real proofs and the soundness tests: Groth16.batch.test.ts.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import type { ModelLayout } from "../../scripts/formats/model-layout";
import { commitment, createAdapter, jobBinding, mockMarketFixture, mockProofN, modelSignal, openJob, registerModel } from "./fixtures";

const FEE = ethers.parseEther("0.01");
/** 40 values at 8 bits: 2 input signals (31 values per word), 5 public signals. */
const PUB40_8 = { inputMode: 1, outputHead: 0, inputCount: 40, inputBits: 8, outputCount: 3, outputBits: 0, outputFrac: 0 };

async function fixture() {
  const m = await mockMarketFixture();
  const batch = await (await ethers.getContractFactory("MockBatchVerifier")).deploy();
  const adapter4 = await createAdapter(m.factory, await batch.getAddress(), 4);
  const adapter5 = await createAdapter(m.factory, await batch.getAddress(), 5);
  const hash4 = 2001n;
  const hash5 = 2002n;
  const model4 = await registerModel(m.registry, m.modelOwner, { modelHash: hash4 }, adapter4);
  await (await m.registry.connect(m.modelOwner).registerModelWithLayout(commitment({ modelHash: hash5 }), adapter5, PUB40_8)).wait();
  const model5 = model4 + 1n;
  const deadline = (await time.latest()) + 3600;
  // signal [1] of each model: Poseidon(modelHash, layoutWord(layout)), computed by the registry
  const sig4 = await modelSignal(hash4);
  const sig5 = await modelSignal(hash5, PUB40_8 as ModelLayout);
  return { ...m, batch, model4, model5, sig4, sig5, deadline };
}

describe("InferenceJobs.submitResults (mock batch verifier)", function () {
  it("rebuilds every input word of public-input jobs (2 input signals) and settles them", async function () {
    const { jobs, requester, prover, chainId, model5, sig5, deadline } = await loadFixture(fixture);
    const ids: bigint[] = [];
    for (const v of [1n, -2n]) {
      const inputs = Array.from({ length: 40 }, (_, i) => (BigInt(i) * v) % 100n);
      const id = await jobs.nextJobId();
      await (await jobs.connect(requester).openJobWithInputs(model5, 1n, inputs, deadline, false, { value: FEE })).wait();
      ids.push(id);
    }
    const addr = await jobs.getAddress();
    const outputs = [1n, 2n];
    const proofs = [];
    for (let i = 0; i < 2; i++) {
      const words = await jobs.inputSignalsOf(ids[i]);
      expect(words.length).to.equal(2);
      proofs.push(mockProofN([outputs[i], sig5, ...words, jobBinding(chainId, addr, ids[i], prover.address)]));
    }
    // the words of job 0 with job 1's proof: refused
    await expect(jobs.connect(prover).submitResults(ids, outputs, [proofs[1], proofs[0]]))
      .to.be.revertedWithCustomError(jobs, "InvalidBatchProof")
      .withArgs(ids[0], 2);
    const tx = jobs.connect(prover).submitResults(ids, outputs, proofs);
    await expect(tx).to.emit(jobs, "JobFulfilled").withArgs(ids[0], prover.address, 1n, FEE, 0n);
    await expect(tx).to.emit(jobs, "JobFulfilled").withArgs(ids[1], prover.address, 2n, FEE, 0n);
  });

  it("refuses one verifier with two signal counts in one batch", async function () {
    const { jobs, requester, prover, model4, model5, deadline, batch } = await loadFixture(fixture);
    const a = await openJob(jobs, requester, { modelId: model4, inputCommitment: 7n, fee: FEE, deadline });
    const b = await jobs.nextJobId();
    await (await jobs.connect(requester).openJobWithInputs(model5, 1n, Array(40).fill(0n), deadline, false, { value: FEE })).wait();
    const p = mockProofN([0n, 0n, 0n, 0n]);
    await expect(jobs.connect(prover).submitResults([a, b], [0n, 0n], [p, p]))
      .to.be.revertedWithCustomError(jobs, "BatchVerifierMismatch")
      .withArgs(b, await batch.getAddress(), await batch.getAddress());
  });

  it("batches jobs of two model versions that share one verifier (one key), each with its own commitment", async function () {
    const { jobs, registry, modelOwner, requester, prover, chainId, model4, sig4, deadline } = await loadFixture(fixture);
    const adapter = (await registry.verificationTarget(model4, 1)).adapter;
    const hashB = 2003n;
    const modelB = await registerModel(registry, modelOwner, { modelHash: hashB }, adapter);
    const a = await openJob(jobs, requester, { modelId: model4, inputCommitment: 7n, fee: FEE, deadline });
    const b = await openJob(jobs, requester, { modelId: modelB, inputCommitment: 8n, fee: FEE, deadline });
    const addr = await jobs.getAddress();
    const pa = mockProofN([3n, sig4, 7n, jobBinding(chainId, addr, a, prover.address)]);
    const pb = mockProofN([4n, await modelSignal(hashB), 8n, jobBinding(chainId, addr, b, prover.address)]);
    // job b's proof made with model4's commitment: refused
    const wrong = mockProofN([4n, sig4, 8n, jobBinding(chainId, addr, b, prover.address)]);
    await expect(jobs.connect(prover).submitResults([a, b], [3n, 4n], [pa, wrong])).to.be.revertedWithCustomError(
      jobs,
      "InvalidBatchProof",
    );
    const tx = jobs.connect(prover).submitResults([a, b], [3n, 4n], [pa, pb]);
    await expect(tx).to.emit(jobs, "JobFulfilled").withArgs(a, prover.address, 3n, FEE, 0n);
    await expect(tx).to.emit(jobs, "JobFulfilled").withArgs(b, prover.address, 4n, FEE, 0n);
  });

  it("treats a verifyBatch that returns no word or two words as unavailable", async function () {
    const { jobs, requester, prover, chainId, model4, sig4, deadline, batch } = await loadFixture(fixture);
    const a = await openJob(jobs, requester, { modelId: model4, inputCommitment: 7n, fee: FEE, deadline });
    const p = mockProofN([3n, sig4, 7n, jobBinding(chainId, await jobs.getAddress(), a, prover.address)]);
    for (const mode of [1n, 2n]) {
      await batch.setMode(mode);
      await expect(jobs.connect(prover).submitResults([a], [3n], [p]))
        .to.be.revertedWithCustomError(jobs, "BatchVerifierUnavailable")
        .withArgs(await batch.getAddress());
    }
    await batch.setMode(0n);
    await expect(jobs.connect(prover).submitResults([a], [3n], [p])).to.emit(jobs, "JobFulfilled");
  });
});
