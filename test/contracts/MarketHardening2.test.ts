/**
 * Market hardening, round two (issue 27): the attacks of the second review, each reproduced as the attacker would run
 * it and shown refused (docs/market-rules.md, docs/threat-model.md). Findings 3, 4 and 6 (private delivery) are in
 * PrivateDelivery.test.ts, finding 8 and the consumers' side of finding 1 in Examples.test.ts, finding 2 (layout
 * binding) with the real temp-forecast circuit in Layouts.test.ts. Logic proofs come from the mock verifiers.
 */
import { expect } from "chai";
import { ethers, network } from "hardhat";
import { loadFixture, mine, time } from "@nomicfoundation/hardhat-network-helpers";
import { AbiCoder, solidityPackedKeccak256 } from "ethers";
import {
  commitment,
  createAdapter,
  deployZKMLVerifier,
  jobBinding,
  mockMarketFixture,
  mockProof,
  mockProofN,
  modelSignal,
  openJob,
  registerModel,
  standaloneBinding,
} from "./fixtures";
import type { MockRequester } from "../../typechain-types";

const FEE = ethers.parseEther("0.01");
const INPUT = 777n;
const OUTPUT = 3n;
const PUB4 = { inputMode: 1, outputHead: 1, inputCount: 4, inputBits: 8, outputCount: 1, outputBits: 16, outputFrac: 4 };

describe("Market hardening, round two (issue 27)", function () {
  describe("finding 1: a job names the version its requester checked", function () {
    it("an owner who front-runs an open with an update to an accept-all verifier gets nothing: the open reverts, no escrow", async function () {
      const m = await loadFixture(mockMarketFixture);
      const acceptAll = await (await ethers.getContractFactory("AcceptAllVerifier")).deploy();
      const evil = await createAdapter(m.factory, await acceptAll.getAddress(), 4);
      const deadline = (await time.latest()) + 3600;
      // the requester audited version 1 and sends its open; the owner sees it in the mempool and outbids it
      await network.provider.send("evm_setAutomine", [false]);
      try {
        const open = await m.jobs
          .connect(m.requester)
          .openJob(m.modelId, 1n, INPUT, "ipfs://in", deadline, false, { value: FEE, gasLimit: 500_000, maxPriorityFeePerGas: 1n });
        const update = await m.registry.connect(m.modelOwner).updateModelWithVerifier(m.modelId, commitment({ modelHash: 666n }), evil, 4, {
          gasLimit: 1_000_000,
          maxPriorityFeePerGas: 10n ** 10n,
        });
        await mine();
        expect((await ethers.provider.getTransactionReceipt(update.hash))!.status).to.equal(1);
        const r = await ethers.provider.getTransactionReceipt(open.hash);
        expect(r!.status).to.equal(0); // mined after the update, refused
        expect(r!.index).to.be.greaterThan((await ethers.provider.getTransactionReceipt(update.hash))!.index);
      } finally {
        await network.provider.send("evm_setAutomine", [true]);
      }
      expect(await m.jobs.nextJobId()).to.equal(1n);
      expect(await ethers.provider.getBalance(await m.jobs.getAddress())).to.equal(0n);
      await expect(m.jobs.connect(m.requester).openJob(m.modelId, 1n, INPUT, "", deadline, false, { value: FEE }))
        .to.be.revertedWithCustomError(m.jobs, "ModelVersionMismatch")
        .withArgs(m.modelId, 1n, 2n);
      await expect(m.jobs.connect(m.requester).openPrivateJob(m.modelId, 1n, INPUT, deadline, false, { value: FEE }))
        .to.be.revertedWithCustomError(m.jobs, "ModelVersionMismatch")
        .withArgs(m.modelId, 1n, 2n);
      // naming a version that does not exist yet is refused the same way
      await expect(m.jobs.connect(m.requester).openJob(m.modelId, 3n, INPUT, "", deadline, false, { value: FEE }))
        .to.be.revertedWithCustomError(m.jobs, "ModelVersionMismatch")
        .withArgs(m.modelId, 3n, 2n);
      // a requester that audits version 2 and names it gets exactly version 2
      const id = await openJob(m.jobs, m.requester, { modelId: m.modelId, modelVersion: 2n, inputCommitment: INPUT, fee: FEE, deadline });
      expect((await m.jobs.getJob(id)).modelVersion).to.equal(2n);
    });

    it("openJobWithInputs names the version too", async function () {
      const m = await loadFixture(mockMarketFixture);
      const adapter = await createAdapter(m.factory, await m.mock.getAddress(), 4);
      const id = await m.registry.connect(m.modelOwner).registerModelWithLayout.staticCall(commitment({ modelHash: 5n }), adapter, PUB4);
      await m.registry.connect(m.modelOwner).registerModelWithLayout(commitment({ modelHash: 5n }), adapter, PUB4);
      await m.registry.connect(m.modelOwner).updateModelWithLayout(id, commitment({ modelHash: 6n }), adapter, PUB4);
      const deadline = (await time.latest()) + 3600;
      await expect(m.jobs.connect(m.requester).openJobWithInputs(id, 1n, [1n, 2n, 3n, 4n], deadline, false, { value: FEE }))
        .to.be.revertedWithCustomError(m.jobs, "ModelVersionMismatch")
        .withArgs(id, 1n, 2n);
      await expect(m.jobs.connect(m.requester).openJobWithInputs(id, 2n, [1n, 2n, 3n, 4n], deadline, false, { value: FEE })).to.emit(
        m.jobs,
        "JobInputs",
      );
    });
  });

  describe("finding 5: a callback cannot sink a batch", function () {
    async function batchFixture() {
      const m = await mockMarketFixture();
      const batch = await (await ethers.getContractFactory("MockBatchVerifier")).deploy();
      const adapter = await createAdapter(m.factory, await batch.getAddress(), 4);
      const hash = 2001n;
      const modelId = await registerModel(m.registry, m.modelOwner, { modelHash: hash }, adapter);
      const deadline = (await time.latest()) + 3600;
      const requesters: MockRequester[] = [];
      const ids: bigint[] = [];
      for (let i = 0; i < 4; i++) {
        const r = await (await ethers.getContractFactory("MockRequester")).connect(m.signers[7 + i]).deploy(await m.jobs.getAddress());
        ids.push(await m.jobs.nextJobId());
        await r.open(modelId, INPUT + BigInt(i), deadline, true, { value: FEE });
        requesters.push(r);
      }
      const addr = await m.jobs.getAddress();
      const sig = await modelSignal(hash);
      const outputs = ids.map((_, i) => BigInt(i + 1));
      const proofs = ids.map((id, i) =>
        mockProofN([outputs[i], sig, INPUT + BigInt(i), jobBinding(m.chainId, addr, id, m.prover.address)]),
      );
      return { ...m, requesters, ids, outputs, proofs };
    }

    it("a requester that switches its callback to a gas burner after the prover's estimate no longer reverts the batch", async function () {
      const b = await loadFixture(batchFixture);
      // the prover estimates the batch while every callback is cheap
      const estimate = await b.jobs.connect(b.prover).submitResults.estimateGas(b.ids, b.outputs, b.proofs);
      // one requester (the review's attack), then all of them, switch to a callback that burns its whole allowance
      await b.requesters[1].setBehaviour(2n);
      await b.requesters[3].setBehaviour(2n);
      const tx = await b.jobs.connect(b.prover).submitResults(b.ids, b.outputs, b.proofs, { gasLimit: estimate });
      const r = await tx.wait();
      expect(r!.status).to.equal(1);
      for (const id of b.ids)
        await expect(tx).to.emit(b.jobs, "JobFulfilled").withArgs(id, b.prover.address, b.outputs[b.ids.indexOf(id)], FEE, 0n);
      await expect(tx)
        .to.emit(b.jobs, "CallbackFailed")
        .withArgs(b.ids[1], await b.requesters[1].getAddress());
      await expect(tx)
        .to.emit(b.jobs, "CallbackFailed")
        .withArgs(b.ids[3], await b.requesters[3].getAddress());
      // the cheap callbacks ran with their results
      expect([await b.requesters[0].lastJobId(), await b.requesters[2].lastJobId()]).to.deep.equal([b.ids[0], b.ids[2]]);
      expect([await b.requesters[0].calls(), await b.requesters[2].calls()]).to.deep.equal([1n, 1n]);
    });

    it("every callback's reserve is checked before the first one runs: too little gas reverts up front, naming the total", async function () {
      const b = await loadFixture(batchFixture);
      for (const r of b.requesters) await r.setBehaviour(2n);
      const limit = BigInt(await b.jobs.callbackGasLimit());
      const perCallback = limit + limit / 63n + 10_000n;
      const estimate = await b.jobs.connect(b.prover).submitResults.estimateGas(b.ids, b.outputs, b.proofs);
      // every callback burning its allowance: the estimate covers all four reserves
      expect(estimate).to.be.greaterThan(4n * perCallback);
      await expect(b.jobs.connect(b.prover).submitResults(b.ids, b.outputs, b.proofs, { gasLimit: estimate - 4n * limit }))
        .to.be.revertedWithCustomError(b.jobs, "InsufficientCallbackGas")
        .withArgs(b.ids[0], (v: bigint) => v < 4n * perCallback, 4n * perCallback);
      const tx = await b.jobs.connect(b.prover).submitResults(b.ids, b.outputs, b.proofs, { gasLimit: estimate });
      for (const [i, r] of b.requesters.entries())
        await expect(tx)
          .to.emit(b.jobs, "CallbackFailed")
          .withArgs(b.ids[i], await r.getAddress());
    });
  });

  describe("finding 7: a stored standalone record belongs to the beneficiary its proof names", function () {
    it("someone who proves the same inference and front-runs a pending store gets its own record; the victim's store still lands", async function () {
      const m = await loadFixture(mockMarketFixture);
      const zk = await deployZKMLVerifier(await m.registry.getAddress());
      const out = AbiCoder.defaultAbiCoder().encode(["uint256"], [OUTPUT]);
      const input32 = ethers.toBeHex(INPUT, 32);
      const proof = async (who: string) =>
        mockProof([
          OUTPUT,
          m.modelCommitment,
          INPUT,
          standaloneBinding(m.chainId, await zk.getAddress(), who, who, await zk.nonceOf(who, who)),
        ]);
      const victimProof = await proof(m.prover.address);
      const frontProof = await proof(m.prover2.address);
      // the front-runner's store lands first
      await zk.connect(m.prover2).verifyAndStoreInference(m.modelId, input32, out, frontProof);
      const id = (who: string) =>
        solidityPackedKeccak256(["uint256", "uint16", "bytes32", "bytes", "address"], [m.modelId, 1, input32, out, who]);
      expect((await zk.inferenceRecord(id(m.prover2.address))).beneficiary).to.equal(m.prover2.address);
      // the victim's pending store still lands, as its own record
      await expect(zk.connect(m.prover).verifyAndStoreInference(m.modelId, input32, out, victimProof))
        .to.emit(zk, "InferenceStored")
        .withArgs(id(m.prover.address));
      expect((await zk.inferenceRecord(id(m.prover.address))).beneficiary).to.equal(m.prover.address);
      // a consumer storing for its user records the user (the beneficiary), not itself
      const bound = mockProof([
        OUTPUT,
        m.modelCommitment,
        INPUT,
        standaloneBinding(m.chainId, await zk.getAddress(), m.requester.address, m.stranger.address, 0n),
      ]);
      await zk.connect(m.requester).verifyAndStoreInferenceFor(m.modelId, input32, out, bound, m.stranger.address);
      expect((await zk.inferenceRecord(id(m.stranger.address))).beneficiary).to.equal(m.stranger.address);
      // the same beneficiary cannot store the same inference twice
      const again = await proof(m.prover.address);
      await expect(zk.connect(m.prover).verifyAndStoreInference(m.modelId, input32, out, again))
        .to.be.revertedWithCustomError(zk, "InferenceAlreadyStored")
        .withArgs(id(m.prover.address));
    });
  });
});
