import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { SNARK_FIELD } from "../../scripts/util/field";
import { deployFactory, deployGroth16Adapter, GROTH16_BN254_V1, proofSystemId } from "./fixtures";

const coder = ethers.AbiCoder.defaultAbiCoder();

/** A proof MockSnarkjsVerifier accepts for `signals`: a[0] = keccak(abi.encode(b, c, signals)). */
function mockSnarkProof(signals: bigint[]): string {
  const b = [
    [1n, 2n],
    [3n, 4n],
  ];
  const c = [5n, 6n];
  const a0 = BigInt(ethers.keccak256(coder.encode(["uint256[2][2]", "uint256[2]", "uint256[4]"], [b, c, signals])));
  return coder.encode(["uint256[2]", "uint256[2][2]", "uint256[2]"], [[a0, 7n], b, c]);
}

/** A MockSnarkjsVerifier and the Groth16 adapter (4 signals) the factory creates for it, as registered models use. */
async function adapterFixture() {
  const snark = await (await ethers.getContractFactory("MockSnarkjsVerifier")).deploy();
  const factory = await deployFactory();
  const adapter = await deployGroth16Adapter(factory, await snark.getAddress(), 4);
  return { snark, factory, adapter };
}

describe("Groth16VerifierAdapter", function () {
  describe("constructor", function () {
    it("reverts when the verifier has no code", async function () {
      const f = await ethers.getContractFactory("Groth16VerifierAdapter");
      const [s] = await ethers.getSigners();
      await expect(f.deploy(s.address, 4)).to.be.revertedWithCustomError(f, "VerifierHasNoCode").withArgs(s.address);
    });

    it("reverts when the signal count is zero", async function () {
      const { snark } = await loadFixture(adapterFixture);
      const f = await ethers.getContractFactory("Groth16VerifierAdapter");
      await expect(f.deploy(await snark.getAddress(), 0))
        .to.be.revertedWithCustomError(f, "UnsupportedSignalCount")
        .withArgs(0);
    });

    it("derives verifyProof's selector for N signals and takes 256-byte proofs", async function () {
      const { snark, factory, adapter } = await loadFixture(adapterFixture);
      expect(await adapter.proofLength()).to.equal(256n);
      expect(await adapter.verifyProofSelector()).to.equal(
        ethers.id("verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[4])").slice(0, 10),
      );
      const a12 = await deployGroth16Adapter(factory, await snark.getAddress(), 12);
      expect(await a12.verifyProofSelector()).to.equal(
        ethers.id("verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[12])").slice(0, 10),
      );
      expect(await a12.numPublicSignals()).to.equal(12n);
      expect(await adapter.proofSystemId()).to.equal(GROTH16_BN254_V1);
      expect(await adapter.verifier()).to.equal(await snark.getAddress());
    });
  });

  describe("verify", function () {
    const signals = [1n, 2n, 3n, SNARK_FIELD - 1n];

    it("passes every proof word and signal through in order", async function () {
      const { adapter } = await loadFixture(adapterFixture);
      expect(await adapter.verify(mockSnarkProof(signals), signals)).to.equal(true);
      expect(await adapter.verify(mockSnarkProof(signals), [1n, 2n, 4n, 3n])).to.equal(false);
    });

    it("reverts when the proof length is not 256 bytes", async function () {
      const { adapter } = await loadFixture(adapterFixture);
      const p = mockSnarkProof(signals);
      await expect(adapter.verify(p + "00", signals))
        .to.be.revertedWithCustomError(adapter, "InvalidProofLength")
        .withArgs(256, 257);
      await expect(adapter.verify("0x", signals)).to.be.revertedWithCustomError(adapter, "InvalidProofLength").withArgs(256, 0);
    });

    it("reverts when the signal count is not N", async function () {
      const { adapter } = await loadFixture(adapterFixture);
      const p = mockSnarkProof(signals);
      await expect(adapter.verify(p, signals.slice(0, 3)))
        .to.be.revertedWithCustomError(adapter, "InvalidSignalCount")
        .withArgs(4, 3);
      await expect(adapter.verify(p, [...signals, 0n]))
        .to.be.revertedWithCustomError(adapter, "InvalidSignalCount")
        .withArgs(4, 5);
    });

    it("reverts when a signal is >= r", async function () {
      const { adapter } = await loadFixture(adapterFixture);
      const bad = [1n, SNARK_FIELD, 3n, 4n];
      await expect(adapter.verify(mockSnarkProof(bad), bad))
        .to.be.revertedWithCustomError(adapter, "SignalNotInField")
        .withArgs(1, SNARK_FIELD);
    });

    it("returns false when the verifier returns nothing, reverts, or returns a malformed answer", async function () {
      const { snark, adapter } = await loadFixture(adapterFixture);
      const p = mockSnarkProof(signals);
      for (const mode of [1, 2, 3]) {
        await snark.setMode(mode);
        expect(await adapter.verify(p, signals)).to.equal(false);
      }
    });

    it("returns false when the wrapped verifier has another signal count (selector mismatch)", async function () {
      const { snark, factory } = await loadFixture(adapterFixture);
      const a5 = await deployGroth16Adapter(factory, await snark.getAddress(), 5);
      expect(await a5.verify(mockSnarkProof(signals), [...signals, 0n])).to.equal(false);
    });
  });

  describe("created by VerifierAdapterFactory", function () {
    it("creates the adapter at its predicted address, records it and emits AdapterCreated", async function () {
      const { snark } = await loadFixture(adapterFixture);
      const factory = await deployFactory();
      const s = await snark.getAddress();
      const predicted = await factory.adapterAddress(GROTH16_BN254_V1, s, 4);
      expect(await factory.isAdapter(predicted)).to.equal(false);
      expect(await ethers.provider.getCode(predicted)).to.equal("0x");
      await expect(factory.createAdapter(GROTH16_BN254_V1, s, 4))
        .to.emit(factory, "AdapterCreated")
        .withArgs(predicted, s, GROTH16_BN254_V1, 4);
      expect(await factory.isAdapter(predicted)).to.equal(true);
      const adapter = await ethers.getContractAt("Groth16VerifierAdapter", predicted);
      expect(await adapter.verifier()).to.equal(s);
      expect(await adapter.numPublicSignals()).to.equal(4n);
      // the same code as a direct deployment: the factory adds nothing to the adapter
      const direct = await (await ethers.getContractFactory("Groth16VerifierAdapter")).deploy(s, 4);
      expect(await ethers.provider.getCode(predicted)).to.equal(await ethers.provider.getCode(await direct.getAddress()));
      expect(await factory.isAdapter(await direct.getAddress())).to.equal(false);
    });

    it("is idempotent: creating the same adapter again returns it and emits nothing", async function () {
      const { snark, factory, adapter } = await loadFixture(adapterFixture);
      const s = await snark.getAddress();
      expect(await factory.createAdapter.staticCall(GROTH16_BN254_V1, s, 4)).to.equal(await adapter.getAddress());
      await expect(factory.createAdapter(GROTH16_BN254_V1, s, 4)).not.to.emit(factory, "AdapterCreated");
      // another signal count is another adapter
      expect(await factory.adapterAddress(GROTH16_BN254_V1, s, 5)).not.to.equal(await adapter.getAddress());
    });

    it("reverts on an unknown proof system, and as the adapter's constructor does", async function () {
      const { snark, factory } = await loadFixture(adapterFixture);
      const s = await snark.getAddress();
      const unknown = proofSystemId("stark-v1");
      await expect(factory.createAdapter(unknown, s, 4))
        .to.be.revertedWithCustomError(factory, "UnknownProofSystem")
        .withArgs(unknown);
      await expect(factory.adapterAddress(unknown, s, 4))
        .to.be.revertedWithCustomError(factory, "UnknownProofSystem")
        .withArgs(unknown);
      const [eoa] = await ethers.getSigners();
      const f = await ethers.getContractFactory("Groth16VerifierAdapter");
      await expect(factory.createAdapter(GROTH16_BN254_V1, eoa.address, 4))
        .to.be.revertedWithCustomError(f, "VerifierHasNoCode")
        .withArgs(eoa.address);
      await expect(factory.createAdapter(GROTH16_BN254_V1, s, 0))
        .to.be.revertedWithCustomError(f, "UnsupportedSignalCount")
        .withArgs(0);
    });
  });
});
