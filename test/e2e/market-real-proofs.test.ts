import { expect } from "chai";
import hre from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { type BuiltModel, buildModel } from "../../scripts/pipelines/build";
import { SNARK_FIELD } from "../../scripts/util/field";
import { inputCommitment } from "../../scripts/formats/quantized-model";
import { layoutOf } from "../../scripts/formats/model-layout";
import { proveInference } from "../../scripts/engine/prove/inference";
import { bindingFor, currentModelVersion, deployGroth16Verifier, deploySystem, openJob, registerModel } from "../../scripts/chain/system";
import { GROTH16_BN254_V1, jobBinding } from "../../scripts/formats/public-signals";
import { createAdapter } from "../../scripts/chain/system";
import { auditVersion, expectedGroth16Runtime, stripMetadata } from "../../scripts/chain/audit-verifier";

/**
 * InferenceJobs against the real generated iris verifier and real Groth16 proofs: the contract rebuilds every public
 * signal, so a proof is good for one job, one prover, one model and one input only.
 */
describe("e2e: InferenceJobs with real Groth16 proofs", function () {
  let built: BuiltModel;
  const x = [-29n, 25n, -41n, -43n];
  const x2 = [10n, -20n, 30n, 40n];
  const fee = 10n ** 16n;

  before(async function () {
    built = await buildModel("iris-mlp", { quantize: false });
  });

  async function market() {
    const [deployer, owner, requester, prover, thief] = await hre.ethers.getSigners();
    const sys = await deploySystem(deployer);
    const artifact = await hre.artifacts.readArtifact(built.paths.verifierContract);
    const v = await deployGroth16Verifier(deployer, artifact, sys.factory);
    const reg = { modelCommitment: built.modelCommitment, circuitHash: built.circuit.r1csHash, vkHash: built.keys.vkHash, uri: "test" };
    const { modelId } = await registerModel(sys.registry, owner, reg, await v.adapter.getAddress(), layoutOf(built.model));
    // A second model with the same circuit but another commitment (what a mix-up of models would look like).
    const { modelId: otherModel } = await registerModel(
      sys.registry,
      owner,
      { ...reg, modelCommitment: built.modelCommitment + 1n },
      await v.adapter.getAddress(),
      layoutOf(built.model),
    );
    const deadline = BigInt((await hre.ethers.provider.getBlock("latest"))!.timestamp + 3600);
    const c1 = await inputCommitment(built.model, x, 11n);
    const c2 = await inputCommitment(built.model, x2, 22n);
    const open = async (modelId_: bigint, c: bigint) =>
      openJob(sys.jobs, requester, {
        modelId: modelId_,
        modelVersion: await currentModelVersion(sys.jobs, modelId_),
        inputCommitment: c,
        inputURI: "t",
        fee,
        deadline,
      });
    const { jobId } = await open(modelId, c1);
    const { jobId: sameInputJob } = await open(modelId, c1);
    const { jobId: otherInputJob } = await open(modelId, c2);
    const { jobId: otherModelJob } = await open(otherModel, c1);
    const binding = await bindingFor(sys.jobs, prover, jobId, prover.address);
    const proof = await proveInference(built.model, { wasm: built.circuit.wasm, zkey: built.keys.zkey }, x, 11n, binding);
    return { sys, owner, reg, prover, thief, requester, jobId, sameInputJob, otherInputJob, otherModelJob, proof, modelId };
  }

  it("accepts a valid result, records it, and pays the prover exactly once", async function () {
    const { sys, prover, jobId, proof } = await loadFixture(market);
    await expect(sys.jobs.connect(prover).submitResult(jobId, proof.output, proof.packed.bytes))
      .to.emit(sys.jobs, "JobFulfilled")
      .withArgs(jobId, prover.address, proof.output, fee, 0n);
    expect(await sys.jobs.resultOf(jobId)).to.deep.equal([true, proof.output]);
    await expect(sys.jobs.connect(prover).submitResult(jobId, proof.output, proof.packed.bytes)).to.be.revertedWithCustomError(
      sys.jobs,
      "JobNotOpen",
    );
    await expect(sys.jobs.connect(prover).withdraw()).to.changeEtherBalances([prover, sys.jobs], [fee, -fee]);
    await expect(sys.jobs.connect(prover).withdraw()).to.be.revertedWithCustomError(sys.jobs, "NothingToWithdraw");
  });

  it("rejects the same proof for another job with the same model and input (replay)", async function () {
    const { sys, prover, sameInputJob, proof } = await loadFixture(market);
    await expect(sys.jobs.connect(prover).submitResult(sameInputJob, proof.output, proof.packed.bytes))
      .to.be.revertedWithCustomError(sys.jobs, "InvalidProof")
      .withArgs(sameInputJob);
  });

  it("rejects a proof bound to another chain id (cross-chain replay)", async function () {
    const { sys, prover, jobId } = await loadFixture(market);
    const otherChain = jobBinding(1n, await sys.jobs.getAddress(), jobId, prover.address);
    const p = await proveInference(built.model, { wasm: built.circuit.wasm, zkey: built.keys.zkey }, x, 11n, otherChain);
    await expect(sys.jobs.connect(prover).submitResult(jobId, p.output, p.packed.bytes))
      .to.be.revertedWithCustomError(sys.jobs, "InvalidProof")
      .withArgs(jobId);
  });

  it("rejects the proof sent by another prover (mempool front-running)", async function () {
    const { sys, thief, jobId, proof } = await loadFixture(market);
    await expect(sys.jobs.connect(thief).submitResult(jobId, proof.output, proof.packed.bytes))
      .to.be.revertedWithCustomError(sys.jobs, "InvalidProof")
      .withArgs(jobId);
  });

  it("rejects the proof for a job on another model", async function () {
    const { sys, prover, otherModelJob, proof } = await loadFixture(market);
    await expect(sys.jobs.connect(prover).submitResult(otherModelJob, proof.output, proof.packed.bytes)).to.be.revertedWithCustomError(
      sys.jobs,
      "InvalidProof",
    );
  });

  it("rejects the proof for a job on another input", async function () {
    const { sys, prover, otherInputJob, proof } = await loadFixture(market);
    await expect(sys.jobs.connect(prover).submitResult(otherInputJob, proof.output, proof.packed.bytes)).to.be.revertedWithCustomError(
      sys.jobs,
      "InvalidProof",
    );
  });

  it("rejects a changed output", async function () {
    const { sys, prover, jobId, proof } = await loadFixture(market);
    await expect(sys.jobs.connect(prover).submitResult(jobId, (proof.output + 1n) % 3n, proof.packed.bytes)).to.be.revertedWithCustomError(
      sys.jobs,
      "InvalidProof",
    );
  });

  it("rejects an output >= the field modulus (aliasing of output + r)", async function () {
    const { sys, prover, jobId, proof } = await loadFixture(market);
    await expect(sys.jobs.connect(prover).submitResult(jobId, proof.output + SNARK_FIELD, proof.packed.bytes))
      .to.be.revertedWithCustomError(sys.jobs, "OutputNotInField")
      .withArgs(proof.output + SNARK_FIELD);
  });

  it("a rejected submission leaves the escrow in place", async function () {
    const { sys, thief, jobId, proof } = await loadFixture(market);
    const before = await hre.ethers.provider.getBalance(await sys.jobs.getAddress());
    await expect(sys.jobs.connect(thief).submitResult(jobId, proof.output, proof.packed.bytes)).to.be.reverted;
    expect(await hre.ethers.provider.getBalance(await sys.jobs.getAddress())).to.equal(before);
    expect(await sys.jobs.resultOf(jobId)).to.deep.equal([false, 0n]);
  });

  it("audit:verifier accepts the registered iris verifier for its zkey, and refuses another verifier behind a factory adapter", async function () {
    const { sys, owner, reg, modelId } = await loadFixture(market);
    const expected = await expectedGroth16Runtime(built.keys.zkey);
    const artifact = await hre.artifacts.readArtifact(built.paths.verifierContract);
    // the regenerated code equals what Hardhat compiled from the committed verifier, up to the metadata hash
    expect(stripMetadata(expected)).to.equal(stripMetadata(artifact.deployedBytecode));
    const ok = await auditVersion(sys.registry, hre.ethers.provider, modelId, 1n, expected);
    expect(ok.ok, ok.reason).to.equal(true);
    expect(ok.actualCodeHash).to.equal(ok.recordedCodeHash);
    // the same commitment on an accept-all verifier: the registry takes it (factory adapter), the audit does not
    const acceptAll = await hre.ethers.deployContract("AcceptAllVerifier");
    const { adapter } = await createAdapter(sys.factory, owner, GROTH16_BN254_V1, await acceptAll.getAddress());
    const { modelId: foreign } = await registerModel(sys.registry, owner, reg, adapter, layoutOf(built.model));
    const bad = await auditVersion(sys.registry, hre.ethers.provider, foreign, 1n, expected);
    expect(bad.ok).to.equal(false);
    expect(bad.reason).to.match(/is not the snarkjs verifier of these keys/);
  });
});
