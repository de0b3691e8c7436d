import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { SNARK_FIELD } from "../../scripts/lib/field";
import { commitment, deployZKMLVerifier, mockMarketFixture, mockProof, registerModel, standaloneBinding } from "./fixtures";

const coder = ethers.AbiCoder.defaultAbiCoder();
const INPUT = 4242n;
const INPUT32 = ethers.toBeHex(INPUT, 32);
const OUT = 7n;
const OUT_BYTES = coder.encode(["uint256"], [OUT]);

/** ERC-165 id from function signatures. */
function interfaceId(sigs: string[]): string {
  let x = 0n;
  for (const s of sigs) x ^= BigInt(ethers.id(s).slice(0, 10));
  return ethers.toBeHex(x, 4);
}

async function verifierFixture() {
  const m = await mockMarketFixture();
  const zk = await deployZKMLVerifier(await m.registry.getAddress());
  const proofFor = (caller: string, out = OUT, model = m.modelHash, input = INPUT) =>
    mockProof([out, model, input, standaloneBinding(m.chainId, zk.target as string, caller)]);
  return { ...m, zk, proofFor };
}

describe("ZKMLVerifier", function () {
  describe("verifyInference", function () {
    it("verifies against the current version and emits InferenceVerified", async function () {
      const { zk, prover, modelId, proofFor } = await loadFixture(verifierFixture);
      await expect(zk.connect(prover).verifyInference(modelId, INPUT32, OUT_BYTES, proofFor(prover.address)))
        .to.emit(zk, "InferenceVerified")
        .withArgs(modelId, INPUT32, OUT_BYTES, prover.address);
    });

    it("follows a model update (standalone verification uses the current version)", async function () {
      const { zk, prover, modelId, registry, modelOwner, proofFor } = await loadFixture(verifierFixture);
      await registry.connect(modelOwner).updateModel(modelId, commitment({ modelHash: 31n }));
      await expect(zk.connect(prover).verifyInference(modelId, INPUT32, OUT_BYTES, proofFor(prover.address))).to.be.revertedWithCustomError(
        zk,
        "InvalidProof",
      );
      await expect(zk.connect(prover).verifyInference(modelId, INPUT32, OUT_BYTES, proofFor(prover.address, OUT, 31n))).to.emit(
        zk,
        "InferenceVerified",
      );
    });

    it("reverts when the proof is bound to another caller", async function () {
      const { zk, prover, prover2, modelId, proofFor } = await loadFixture(verifierFixture);
      await expect(
        zk.connect(prover2).verifyInference(modelId, INPUT32, OUT_BYTES, proofFor(prover.address)),
      ).to.be.revertedWithCustomError(zk, "InvalidProof");
    });

    it("reverts when the output is not exactly one word below r", async function () {
      const { zk, prover, modelId, proofFor } = await loadFixture(verifierFixture);
      const p = proofFor(prover.address);
      await expect(zk.verifyInference(modelId, INPUT32, OUT_BYTES + "00", p)).to.be.revertedWithCustomError(zk, "OutputMismatch");
      await expect(zk.verifyInference(modelId, INPUT32, "0x", p)).to.be.revertedWithCustomError(zk, "OutputMismatch");
      await expect(zk.verifyInference(modelId, INPUT32, coder.encode(["uint256"], [SNARK_FIELD]), p)).to.be.revertedWithCustomError(
        zk,
        "OutputMismatch",
      );
    });

    it("reverts when the input commitment is not below r", async function () {
      const { zk, prover, modelId, proofFor } = await loadFixture(verifierFixture);
      await expect(
        zk.verifyInference(modelId, ethers.toBeHex(SNARK_FIELD, 32), OUT_BYTES, proofFor(prover.address)),
      ).to.be.revertedWithCustomError(zk, "InputCommitmentMismatch");
    });

    it("reverts when the model is deprecated", async function () {
      const { zk, prover, modelId, registry, modelOwner, proofFor } = await loadFixture(verifierFixture);
      await registry.connect(modelOwner).deprecateModel(modelId);
      await expect(zk.connect(prover).verifyInference(modelId, INPUT32, OUT_BYTES, proofFor(prover.address)))
        .to.be.revertedWithCustomError(zk, "VerificationRefused_ModelDeprecated")
        .withArgs(modelId);
    });

    it("reverts when the model does not exist", async function () {
      const { zk, registry, prover, proofFor } = await loadFixture(verifierFixture);
      await expect(zk.verifyInference(77n, INPUT32, OUT_BYTES, proofFor(prover.address)))
        .to.be.revertedWithCustomError(registry, "ModelNotFound")
        .withArgs(77n);
    });

    it("reverts when the model has no verifier or another signal layout", async function () {
      const { zk, registry, modelOwner, prover, proofFor } = await loadFixture(verifierFixture);
      await registry.connect(modelOwner).registerModel(commitment({ modelHash: 1n }));
      const c = commitment({ modelHash: 1n });
      await expect(zk.verifyInference(2n, INPUT32, OUT_BYTES, proofFor(prover.address)))
        .to.be.revertedWithCustomError(zk, "UnsupportedProofSystem")
        .withArgs(c.proofSystemId);
      const m3 = await (await ethers.getContractFactory("MockProofVerifier")).deploy(c.proofSystemId, 3);
      const id3 = await registerModel(registry, modelOwner, { modelHash: 1n }, await m3.getAddress(), 3);
      await expect(zk.verifyInference(id3, INPUT32, OUT_BYTES, proofFor(prover.address)))
        .to.be.revertedWithCustomError(zk, "UnsupportedProofSystem")
        .withArgs(c.proofSystemId);
    });
  });

  describe("verifyAndStoreInference", function () {
    it("verifies, stores the record and emits InferenceVerified and InferenceStored", async function () {
      const { zk, prover, modelId, proofFor } = await loadFixture(verifierFixture);
      const id = ethers.solidityPackedKeccak256(["uint256", "bytes32", "bytes"], [modelId, INPUT32, OUT_BYTES]);
      await expect(zk.connect(prover).verifyAndStoreInference(modelId, INPUT32, OUT_BYTES, proofFor(prover.address)))
        .to.emit(zk, "InferenceVerified")
        .withArgs(modelId, INPUT32, OUT_BYTES, prover.address)
        .and.to.emit(zk, "InferenceStored")
        .withArgs(id);
      expect(await zk.getInference(id)).to.deep.equal([modelId, INPUT32, OUT_BYTES]);
    });

    it("reverts when the record is already stored", async function () {
      const { zk, prover, modelId, proofFor } = await loadFixture(verifierFixture);
      await zk.connect(prover).verifyAndStoreInference(modelId, INPUT32, OUT_BYTES, proofFor(prover.address));
      const id = ethers.solidityPackedKeccak256(["uint256", "bytes32", "bytes"], [modelId, INPUT32, OUT_BYTES]);
      await expect(zk.connect(prover).verifyAndStoreInference(modelId, INPUT32, OUT_BYTES, proofFor(prover.address)))
        .to.be.revertedWithCustomError(zk, "InferenceAlreadyStored")
        .withArgs(id);
    });

    it("reverts on an invalid proof and stores nothing", async function () {
      const { zk, prover, modelId } = await loadFixture(verifierFixture);
      await expect(zk.connect(prover).verifyAndStoreInference(modelId, INPUT32, OUT_BYTES, "0x")).to.be.revertedWithCustomError(
        zk,
        "InvalidProof",
      );
    });
  });

  describe("getInference", function () {
    it("reverts when nothing is stored under the id", async function () {
      const { zk } = await loadFixture(verifierFixture);
      await expect(zk.getInference(ethers.ZeroHash)).to.be.revertedWithCustomError(zk, "InferenceNotFound").withArgs(ethers.ZeroHash);
    });
  });

  describe("views", function () {
    it("report the registry, the proof system and the binding", async function () {
      const { zk, registry, modelId, prover, chainId } = await loadFixture(verifierFixture);
      expect(await zk.registry()).to.equal(await registry.getAddress());
      expect(await zk.proofSystemOf(modelId)).to.equal(commitment({ modelHash: 0n }).proofSystemId);
      expect(await zk.bindingOf(prover.address)).to.equal(standaloneBinding(chainId, await zk.getAddress(), prover.address));
    });

    it("supportsInterface: ERC-165, ERC-7992 verifier, storage extension, IZKMLVerifier", async function () {
      const { zk } = await loadFixture(verifierFixture);
      const ERC7992_VERIFIER = interfaceId(["verifyInference(uint256,bytes32,bytes,bytes)", "proofSystemOf(uint256)", "registry()"]);
      const STORAGE = interfaceId(["verifyAndStoreInference(uint256,bytes32,bytes,bytes)", "getInference(bytes32)"]);
      const OWN = interfaceId(["bindingOf(address)"]);
      for (const id of ["0x01ffc9a7", ERC7992_VERIFIER, STORAGE, OWN]) expect(await zk.supportsInterface(id)).to.equal(true);
      expect(await zk.supportsInterface("0xffffffff")).to.equal(false);
    });
  });
});
