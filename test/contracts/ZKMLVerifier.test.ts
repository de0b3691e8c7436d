import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { SNARK_FIELD } from "../../scripts/util/field";
import { commitment, createAdapter, deployZKMLVerifier, mockMarketFixture, mockProof, modelSignal, standaloneBinding } from "./fixtures";

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

/** The storage id of a record: `keccak256(abi.encodePacked(uint256 modelId, uint16 version, inputCommitment, output, beneficiary))`. */
function recordId(modelId: bigint, version: number, input32: string, output: string, beneficiary: string): string {
  return ethers.solidityPackedKeccak256(
    ["uint256", "uint16", "bytes32", "bytes", "address"],
    [modelId, version, input32, output, beneficiary],
  );
}

interface ProofOpts {
  out?: bigint;
  model?: bigint;
  input?: bigint;
  /** Default: the caller (what the ERC entry points bind). */
  beneficiary?: string;
  nonce?: bigint;
}

async function verifierFixture() {
  const m = await mockMarketFixture();
  const zk = await deployZKMLVerifier(await m.registry.getAddress());
  /** The mock proof for `caller`, bound to `beneficiary` (default: the caller) and `nonce` (default 0). */
  const proofFor = (caller: string, o: ProofOpts = {}) =>
    mockProof([
      o.out ?? OUT,
      o.model ?? m.modelCommitment,
      o.input ?? INPUT,
      standaloneBinding(m.chainId, zk.target as string, caller, o.beneficiary ?? caller, o.nonce ?? 0n),
    ]);
  return { ...m, zk, proofFor };
}

describe("ZKMLVerifier", function () {
  describe("verifyInference", function () {
    it("verifies against the current version, consumes the nonce and emits InferenceVerified and InferenceVerifiedVersion", async function () {
      const { zk, prover, modelId, proofFor } = await loadFixture(verifierFixture);
      await expect(zk.connect(prover).verifyInference(modelId, INPUT32, OUT_BYTES, proofFor(prover.address)))
        .to.emit(zk, "InferenceVerified")
        .withArgs(modelId, INPUT32, OUT_BYTES, prover.address)
        .and.to.emit(zk, "InferenceVerifiedVersion")
        .withArgs(modelId, 1, prover.address, prover.address, 0n);
      expect(await zk.nonceOf(prover.address, prover.address)).to.equal(1n);
    });

    it("verifies a proof once: the same proof again reverts (nonce consumed); the next nonce's proof verifies", async function () {
      const { zk, prover, modelId, proofFor } = await loadFixture(verifierFixture);
      const p0 = proofFor(prover.address);
      await zk.connect(prover).verifyInference(modelId, INPUT32, OUT_BYTES, p0);
      await expect(zk.connect(prover).verifyInference(modelId, INPUT32, OUT_BYTES, p0)).to.be.revertedWithCustomError(zk, "InvalidProof");
      expect(await zk.nonceOf(prover.address, prover.address)).to.equal(1n); // a failed verification consumes nothing
      await expect(zk.connect(prover).verifyInference(modelId, INPUT32, OUT_BYTES, proofFor(prover.address, { nonce: 1n })))
        .to.emit(zk, "InferenceVerifiedVersion")
        .withArgs(modelId, 1, prover.address, prover.address, 1n);
      expect(await zk.nonceOf(prover.address, prover.address)).to.equal(2n);
    });

    it("follows a model update (standalone verification uses the current version)", async function () {
      const { zk, prover, modelId, registry, modelOwner, proofFor } = await loadFixture(verifierFixture);
      await registry.connect(modelOwner).updateModel(modelId, commitment({ modelHash: 31n }));
      await expect(zk.connect(prover).verifyInference(modelId, INPUT32, OUT_BYTES, proofFor(prover.address))).to.be.revertedWithCustomError(
        zk,
        "InvalidProof",
      );
      await expect(
        zk.connect(prover).verifyInference(modelId, INPUT32, OUT_BYTES, proofFor(prover.address, { model: await modelSignal(31n) })),
      )
        .to.emit(zk, "InferenceVerified")
        .and.to.emit(zk, "InferenceVerifiedVersion")
        .withArgs(modelId, 2, prover.address, prover.address, 0n);
    });

    it("reverts when the proof is bound to another caller", async function () {
      const { zk, prover, prover2, modelId, proofFor } = await loadFixture(verifierFixture);
      await expect(
        zk.connect(prover2).verifyInference(modelId, INPUT32, OUT_BYTES, proofFor(prover.address)),
      ).to.be.revertedWithCustomError(zk, "InvalidProof");
    });

    it("reverts when the proof is bound to another beneficiary than the caller", async function () {
      const { zk, prover, stranger, modelId, proofFor } = await loadFixture(verifierFixture);
      await expect(
        zk.connect(prover).verifyInference(modelId, INPUT32, OUT_BYTES, proofFor(prover.address, { beneficiary: stranger.address })),
      ).to.be.revertedWithCustomError(zk, "InvalidProof");
    });

    it("reverts with InvalidProof on a proof of the wrong length, and on a verifier that rejects, reverts, returns nothing or two words", async function () {
      const { zk, prover, modelId, proofFor, mock } = await loadFixture(verifierFixture);
      const p = proofFor(prover.address);
      for (const bad of ["0x", "0x1234", p + "00"]) {
        await expect(zk.connect(prover).verifyInference(modelId, INPUT32, OUT_BYTES, bad)).to.be.revertedWithCustomError(
          zk,
          "InvalidProof",
        );
      }
      for (const mode of [4, 2, 1, 3]) {
        await mock.setMode(mode);
        await expect(zk.connect(prover).verifyInference(modelId, INPUT32, OUT_BYTES, p), `mode ${mode}`).to.be.revertedWithCustomError(
          zk,
          "InvalidProof",
        );
      }
      expect(await zk.nonceOf(prover.address, prover.address)).to.equal(0n);
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
      const { zk, registry, factory, mock, modelOwner, prover, proofFor } = await loadFixture(verifierFixture);
      await registry.connect(modelOwner).registerModel(commitment({ modelHash: 1n }));
      const c = commitment({ modelHash: 1n });
      await expect(zk.verifyInference(2n, INPUT32, OUT_BYTES, proofFor(prover.address)))
        .to.be.revertedWithCustomError(zk, "UnsupportedProofSystem")
        .withArgs(c.proofSystemId);
      // a public-input layout with 2 input signals (5 signals): the standalone verifier takes 4-signal layouts only
      const a5 = await createAdapter(factory, await mock.getAddress(), 5);
      const layout = { inputMode: 1, outputHead: 0, inputCount: 40, inputBits: 8, outputCount: 3, outputBits: 0, outputFrac: 0 };
      const id5 = await registry.connect(modelOwner).registerModelWithLayout.staticCall(c, a5, layout);
      await registry.connect(modelOwner).registerModelWithLayout(c, a5, layout);
      await expect(zk.verifyInference(id5, INPUT32, OUT_BYTES, proofFor(prover.address)))
        .to.be.revertedWithCustomError(zk, "UnsupportedProofSystem")
        .withArgs(c.proofSystemId);
    });
  });

  describe("verifyInferenceFor", function () {
    it("binds the named beneficiary and consumes the (caller, beneficiary) nonce only", async function () {
      const { zk, prover, stranger, modelId, proofFor } = await loadFixture(verifierFixture);
      const p = proofFor(prover.address, { beneficiary: stranger.address });
      await expect(zk.connect(prover).verifyInferenceFor(modelId, INPUT32, OUT_BYTES, p, stranger.address))
        .to.emit(zk, "InferenceVerified")
        .withArgs(modelId, INPUT32, OUT_BYTES, prover.address)
        .and.to.emit(zk, "InferenceVerifiedVersion")
        .withArgs(modelId, 1, stranger.address, prover.address, 0n);
      expect(await zk.nonceOf(prover.address, stranger.address)).to.equal(1n);
      expect(await zk.nonceOf(prover.address, prover.address)).to.equal(0n);
      expect(await zk.nonceOf(stranger.address, stranger.address)).to.equal(0n);
    });

    it("reverts when the proof names another beneficiary, and on the zero beneficiary", async function () {
      const { zk, prover, prover2, stranger, modelId, proofFor } = await loadFixture(verifierFixture);
      const p = proofFor(prover.address, { beneficiary: stranger.address });
      await expect(zk.connect(prover).verifyInferenceFor(modelId, INPUT32, OUT_BYTES, p, prover2.address)).to.be.revertedWithCustomError(
        zk,
        "InvalidProof",
      );
      await expect(zk.connect(prover).verifyInference(modelId, INPUT32, OUT_BYTES, p)).to.be.revertedWithCustomError(zk, "InvalidProof");
      await expect(zk.connect(prover).verifyInferenceFor(modelId, INPUT32, OUT_BYTES, p, ethers.ZeroAddress)).to.be.revertedWithCustomError(
        zk,
        "ZeroBeneficiary",
      );
      await expect(
        zk.connect(prover).verifyAndStoreInferenceFor(modelId, INPUT32, OUT_BYTES, p, ethers.ZeroAddress),
      ).to.be.revertedWithCustomError(zk, "ZeroBeneficiary");
    });
  });

  describe("verifyAndStoreInference", function () {
    it("verifies, stores the record with its version and emits InferenceVerified and InferenceStored", async function () {
      const { zk, prover, modelId, proofFor } = await loadFixture(verifierFixture);
      const id = recordId(modelId, 1, INPUT32, OUT_BYTES, prover.address);
      await expect(zk.connect(prover).verifyAndStoreInference(modelId, INPUT32, OUT_BYTES, proofFor(prover.address)))
        .to.emit(zk, "InferenceVerified")
        .withArgs(modelId, INPUT32, OUT_BYTES, prover.address)
        .and.to.emit(zk, "InferenceVerifiedVersion")
        .withArgs(modelId, 1, prover.address, prover.address, 0n)
        .and.to.emit(zk, "InferenceStored")
        .withArgs(id);
      expect(await zk.getInference(id)).to.deep.equal([modelId, INPUT32, OUT_BYTES]);
      expect(await zk.inferenceRecord(id)).to.deep.equal([modelId, 1n, INPUT32, OUT_BYTES, prover.address]);
    });

    it("reverts when the record is already stored (with a fresh proof: the first one is spent)", async function () {
      const { zk, prover, modelId, proofFor } = await loadFixture(verifierFixture);
      await zk.connect(prover).verifyAndStoreInference(modelId, INPUT32, OUT_BYTES, proofFor(prover.address));
      const id = recordId(modelId, 1, INPUT32, OUT_BYTES, prover.address);
      await expect(zk.connect(prover).verifyAndStoreInference(modelId, INPUT32, OUT_BYTES, proofFor(prover.address, { nonce: 1n })))
        .to.be.revertedWithCustomError(zk, "InferenceAlreadyStored")
        .withArgs(id);
    });

    it("keys the record by version: a v1 record does not block the same inference under v2", async function () {
      const { zk, prover, modelId, registry, modelOwner, proofFor } = await loadFixture(verifierFixture);
      await zk.connect(prover).verifyAndStoreInference(modelId, INPUT32, OUT_BYTES, proofFor(prover.address));
      await registry.connect(modelOwner).updateModel(modelId, commitment({ modelHash: 31n }));
      const id2 = recordId(modelId, 2, INPUT32, OUT_BYTES, prover.address);
      await expect(
        zk
          .connect(prover)
          .verifyAndStoreInference(modelId, INPUT32, OUT_BYTES, proofFor(prover.address, { model: await modelSignal(31n), nonce: 1n })),
      )
        .to.emit(zk, "InferenceStored")
        .withArgs(id2);
      expect(await zk.inferenceRecord(id2)).to.deep.equal([modelId, 2n, INPUT32, OUT_BYTES, prover.address]);
      expect((await zk.inferenceRecord(recordId(modelId, 1, INPUT32, OUT_BYTES, prover.address))).modelVersion).to.equal(1n);
    });

    it("reverts on an invalid proof and stores nothing", async function () {
      const { zk, prover, prover2, modelId, proofFor } = await loadFixture(verifierFixture);
      await expect(zk.connect(prover).verifyAndStoreInference(modelId, INPUT32, OUT_BYTES, "0x")).to.be.revertedWithCustomError(
        zk,
        "InvalidProof",
      );
      await expect(
        zk.connect(prover2).verifyAndStoreInference(modelId, INPUT32, OUT_BYTES, proofFor(prover.address)),
      ).to.be.revertedWithCustomError(zk, "InvalidProof");
      const id = recordId(modelId, 1, INPUT32, OUT_BYTES, prover.address);
      await expect(zk.getInference(id)).to.be.revertedWithCustomError(zk, "InferenceNotFound").withArgs(id);
    });
  });

  describe("verifyAndStoreInferenceFor", function () {
    it("stores the named beneficiary in the record", async function () {
      const { zk, prover, stranger, modelId, proofFor } = await loadFixture(verifierFixture);
      const id = recordId(modelId, 1, INPUT32, OUT_BYTES, stranger.address);
      const p = proofFor(prover.address, { beneficiary: stranger.address });
      await expect(zk.connect(prover).verifyAndStoreInferenceFor(modelId, INPUT32, OUT_BYTES, p, stranger.address))
        .to.emit(zk, "InferenceVerifiedVersion")
        .withArgs(modelId, 1, stranger.address, prover.address, 0n)
        .and.to.emit(zk, "InferenceStored")
        .withArgs(id);
      expect(await zk.inferenceRecord(id)).to.deep.equal([modelId, 1n, INPUT32, OUT_BYTES, stranger.address]);
    });
  });

  describe("getInference", function () {
    it("reverts when nothing is stored under the id", async function () {
      const { zk } = await loadFixture(verifierFixture);
      await expect(zk.getInference(ethers.ZeroHash)).to.be.revertedWithCustomError(zk, "InferenceNotFound").withArgs(ethers.ZeroHash);
      await expect(zk.inferenceRecord(ethers.ZeroHash)).to.be.revertedWithCustomError(zk, "InferenceNotFound").withArgs(ethers.ZeroHash);
    });
  });

  describe("views", function () {
    it("report the registry, the proof system, the nonce and the binding", async function () {
      const { zk, registry, modelId, prover, stranger, chainId, proofFor } = await loadFixture(verifierFixture);
      const zkAddr = await zk.getAddress();
      expect(await zk.registry()).to.equal(await registry.getAddress());
      expect(await zk.proofSystemOf(modelId)).to.equal(commitment({ modelHash: 0n }).proofSystemId);
      expect(await zk.nonceOf(prover.address, prover.address)).to.equal(0n);
      expect(await zk.bindingOf(prover.address, prover.address)).to.equal(standaloneBinding(chainId, zkAddr, prover.address));
      expect(await zk.bindingOf(prover.address, stranger.address)).to.equal(
        standaloneBinding(chainId, zkAddr, prover.address, stranger.address, 0n),
      );
      await zk.connect(prover).verifyInference(modelId, INPUT32, OUT_BYTES, proofFor(prover.address));
      expect(await zk.bindingOf(prover.address, prover.address)).to.equal(
        standaloneBinding(chainId, zkAddr, prover.address, prover.address, 1n),
      );
    });

    it("supportsInterface: ERC-165, ERC-7992 verifier, storage extension, IZKMLVerifier", async function () {
      const { zk } = await loadFixture(verifierFixture);
      const ERC7992_VERIFIER = interfaceId(["verifyInference(uint256,bytes32,bytes,bytes)", "proofSystemOf(uint256)", "registry()"]);
      const STORAGE = interfaceId(["verifyAndStoreInference(uint256,bytes32,bytes,bytes)", "getInference(bytes32)"]);
      expect(ERC7992_VERIFIER).to.equal("0x5df65472");
      expect(STORAGE).to.equal("0x29c6ba89");
      const OWN = interfaceId([
        "verifyInferenceFor(uint256,bytes32,bytes,bytes,address)",
        "verifyAndStoreInferenceFor(uint256,bytes32,bytes,bytes,address)",
        "nonceOf(address,address)",
        "bindingOf(address,address)",
        "inferenceRecord(bytes32)",
      ]);
      for (const id of ["0x01ffc9a7", ERC7992_VERIFIER, STORAGE, OWN]) expect(await zk.supportsInterface(id)).to.equal(true);
      expect(await zk.supportsInterface(interfaceId(["bindingOf(address)"]))).to.equal(false);
      expect(await zk.supportsInterface("0xffffffff")).to.equal(false);
    });
  });
});
