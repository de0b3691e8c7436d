import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { SNARK_FIELD } from "../../scripts/util/field";
import fc from "fast-check";
import {
  DEFAULT_LAYOUT,
  type ModelLayout,
  LAYOUT_WORD_VERSION,
  layoutWord,
  publicModelCommitment,
} from "../../scripts/formats/model-layout";
import {
  modelSignal,
  commitment,
  createAdapter,
  deployFactory,
  deployRegistry,
  factoryOf,
  GROTH16_BN254_V1,
  proofSystemId,
  registerModel,
} from "./fixtures";

const GROTH16 = GROTH16_BN254_V1;

/** ERC-165 id of an interface given its function signatures. */
function interfaceId(sigs: string[]): string {
  let x = 0n;
  for (const s of sigs) x ^= BigInt(ethers.id(s).slice(0, 10));
  return ethers.toBeHex(x, 4);
}
const COMMITMENT_T = "(bytes32,bytes32,bytes32,bytes4,string)";
const ERC7992_REGISTRY_ID = interfaceId([
  `registerModel(${COMMITMENT_T})`,
  `updateModel(uint256,${COMMITMENT_T})`,
  "deprecateModel(uint256)",
  "getModel(uint256)",
]);

const GROTH16_4_SELECTOR = ethers.id("verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[4])").slice(0, 10);

/** `EXTCODEHASH` of `addr`, as the registry records it. */
async function codeHashOf(addr: string): Promise<string> {
  return ethers.keccak256(await ethers.provider.getCode(addr));
}

/**
 * A registry on its own factory, two snarkjs verifiers (mocks) with their factory Groth16 adapters (`verifier`,
 * `verifier2`), a factory PLONK adapter (`plonk`) and model 1 registered with `verifier`.
 */
async function registryFixture() {
  const [deployer, owner, other, newOwner] = await ethers.getSigners();
  const registry = await deployRegistry(deployer);
  const factory = await factoryOf(registry);
  const snarkFactory = await ethers.getContractFactory("MockSnarkjsVerifier");
  const snark = await snarkFactory.deploy();
  const snark2 = await snarkFactory.deploy();
  const snarkAddr = await snark.getAddress();
  const snark2Addr = await snark2.getAddress();
  const verifier = await ethers.getContractAt("Groth16VerifierAdapter", await createAdapter(factory, snarkAddr, 4));
  const verifier2 = await ethers.getContractAt("Groth16VerifierAdapter", await createAdapter(factory, snark2Addr, 4));
  const plonk = await ethers.getContractAt(
    "PlonkVerifierAdapter",
    await createAdapter(factory, snarkAddr, 4, proofSystemId("plonk-bn254-v1")),
  );
  const codeHash = await codeHashOf(snarkAddr);
  const codeHash2 = await codeHashOf(snark2Addr);
  const modelId = await registerModel(registry, owner, { modelHash: 11n }, await verifier.getAddress());
  return {
    registry,
    factory,
    snark,
    snark2,
    snarkAddr,
    snark2Addr,
    codeHash,
    codeHash2,
    verifier,
    verifier2,
    plonk,
    owner,
    other,
    newOwner,
    modelId,
  };
}

describe("ModelRegistry", function () {
  describe("constructor", function () {
    it("reverts when the factory has no code", async function () {
      const f = await ethers.getContractFactory("ModelRegistry");
      const [s] = await ethers.getSigners();
      await expect(f.deploy(s.address)).to.be.revertedWithCustomError(f, "InvalidFactory").withArgs(s.address);
      await expect(f.deploy(ethers.ZeroAddress)).to.be.revertedWithCustomError(f, "InvalidFactory").withArgs(ethers.ZeroAddress);
    });

    it("exposes its factory", async function () {
      const factory = await deployFactory();
      const registry = await deployRegistry(undefined, factory);
      expect(await registry.factory()).to.equal(await factory.getAddress());
      expect(await registry.modelCount()).to.equal(0n);
    });
  });

  describe("registerModelWithVerifier", function () {
    it("registers version 1 with its verifier and emits ModelRegistered and ModelVersionCreated", async function () {
      const { registry, verifier, owner, snarkAddr, codeHash } = await loadFixture(registryFixture);
      const c = commitment({ modelHash: 22n, uri: "ipfs://m2" });
      const v = await verifier.getAddress();
      await expect(registry.connect(owner).registerModelWithVerifier(c, v, 4))
        .to.emit(registry, "ModelRegistered")
        .withArgs(2n, owner.address, [c.modelHash, c.circuitHash, c.vkHash, c.proofSystemId, c.uri])
        .and.to.emit(registry, "ModelVersionCreated")
        .withArgs(2n, 1, v, 4, snarkAddr, codeHash);
      expect(await registry.modelCount()).to.equal(2n);
      expect(await registry.modelInfo(2n)).to.deep.equal([owner.address, 1n, false]);
      const [got, verifierGot, n] = await registry.getModelVersion(2n, 1n);
      expect(got.modelHash).to.equal(c.modelHash);
      expect(got.uri).to.equal("ipfs://m2");
      expect(verifierGot).to.equal(v);
      expect(n).to.equal(4n);
      expect(await registry.currentVersion(2n)).to.deep.equal([1n, 4n, false]);
      // what consumers call directly: the wrapped snarkjs verifier, its selector, the proof length, its code hash
      expect(await registry.verificationTarget(2n, 1n)).to.deep.equal([
        await modelSignal(22n),
        v,
        snarkAddr,
        GROTH16_4_SELECTOR,
        256n,
        4n,
        codeHash,
        [0n, 0n, 0n, 0n, 0n, 0n, 0n],
      ]);
    });

    it("reverts when modelHash is not below r", async function () {
      const { registry, verifier, owner } = await loadFixture(registryFixture);
      const c = commitment({ modelHash: SNARK_FIELD });
      await expect(registry.connect(owner).registerModelWithVerifier(c, await verifier.getAddress(), 4))
        .to.be.revertedWithCustomError(registry, "ModelHashNotInField")
        .withArgs(c.modelHash);
    });

    it("accepts modelHash = r - 1", async function () {
      const { registry, verifier, owner } = await loadFixture(registryFixture);
      const c = commitment({ modelHash: SNARK_FIELD - 1n });
      await expect(registry.connect(owner).registerModelWithVerifier(c, await verifier.getAddress(), 4)).to.emit(
        registry,
        "ModelRegistered",
      );
    });

    it("reverts with InvalidVerifierConfig when signals and verifier disagree on being set", async function () {
      const { registry, verifier, owner } = await loadFixture(registryFixture);
      const c = commitment({ modelHash: 1n });
      await expect(registry.connect(owner).registerModelWithVerifier(c, await verifier.getAddress(), 0))
        .to.be.revertedWithCustomError(registry, "InvalidVerifierConfig")
        .withArgs(await verifier.getAddress(), 0);
      await expect(registry.connect(owner).registerModelWithVerifier(c, ethers.ZeroAddress, 4))
        .to.be.revertedWithCustomError(registry, "InvalidVerifierConfig")
        .withArgs(ethers.ZeroAddress, 4);
    });

    it("refuses any verifier not created by its factory (AdapterNotFromFactory), code or no code", async function () {
      const { registry, snarkAddr, owner, other } = await loadFixture(registryFixture);
      const c = commitment({ modelHash: 1n });
      // an address without code, a hand-written IProofVerifier, the snarkjs verifier itself, an adapter deployed
      // directly (same code as the factory's), and an adapter made by another factory
      const mock = await (await ethers.getContractFactory("MockProofVerifier")).deploy(GROTH16, 4);
      const direct = await (await ethers.getContractFactory("Groth16VerifierAdapter")).deploy(snarkAddr, 4);
      const foreign = await createAdapter(await deployFactory(), snarkAddr, 4);
      for (const v of [other.address, await mock.getAddress(), snarkAddr, await direct.getAddress(), foreign]) {
        await expect(registry.connect(owner).registerModelWithVerifier(c, v, 4))
          .to.be.revertedWithCustomError(registry, "AdapterNotFromFactory")
          .withArgs(v);
      }
      expect(await registry.modelCount()).to.equal(1n);
    });

    it("reverts with WrappedVerifierHasNoCode when the adapter's snarkjs verifier has no code any more", async function () {
      const { registry, factory, owner } = await loadFixture(registryFixture);
      const snark = await (await ethers.getContractFactory("MockSnarkjsVerifier")).deploy();
      const s = await snark.getAddress();
      const adapter = await createAdapter(factory, s, 4);
      // what a verifier that self-destructed in its creation transaction leaves behind
      await ethers.provider.send("hardhat_setCode", [s, "0x"]);
      await expect(registry.connect(owner).registerModelWithVerifier(commitment({ modelHash: 1n }), adapter, 4))
        .to.be.revertedWithCustomError(registry, "WrappedVerifierHasNoCode")
        .withArgs(s);
    });

    it("reverts when the adapter's proof system or signal count differs from the commitment", async function () {
      const { registry, verifier, plonk, owner } = await loadFixture(registryFixture);
      const c = commitment({ modelHash: 1n });
      await expect(registry.connect(owner).registerModelWithVerifier(c, await plonk.getAddress(), 4))
        .to.be.revertedWithCustomError(registry, "VerifierMismatch")
        .withArgs(await plonk.getAddress(), proofSystemId("plonk-bn254-v1"), 4);
      await expect(registry.connect(owner).registerModelWithVerifier(c, await verifier.getAddress(), 5))
        .to.be.revertedWithCustomError(registry, "VerifierMismatch")
        .withArgs(await verifier.getAddress(), GROTH16, 4);
    });
  });

  describe("registerModel", function () {
    it("registers a commitment-only model (no verifier) per ERC-7992", async function () {
      const { registry, other } = await loadFixture(registryFixture);
      const c = commitment({ modelHash: 5n });
      await expect(registry.connect(other).registerModel(c))
        .to.emit(registry, "ModelRegistered")
        .withArgs(2n, other.address, [c.modelHash, c.circuitHash, c.vkHash, c.proofSystemId, c.uri])
        .and.to.emit(registry, "ModelVersionCreated")
        .withArgs(2n, 1, ethers.ZeroAddress, 0, ethers.ZeroAddress, ethers.ZeroHash);
      const [got, deprecated, owner] = await registry.getModel(2n);
      expect(got.modelHash).to.equal(c.modelHash);
      expect(deprecated).to.equal(false);
      expect(owner).to.equal(other.address);
      expect(await registry.currentVersion(2n)).to.deep.equal([1n, 0n, false]);
      const [, verifier, n] = await registry.getModelVersion(2n, 1n);
      expect(verifier).to.equal(ethers.ZeroAddress);
      expect(n).to.equal(0n);
      await expect(registry.verificationTarget(2n, 1n)).to.be.revertedWithCustomError(registry, "VersionNotFound").withArgs(2n, 1n);
    });

    it("reverts when modelHash is not below r", async function () {
      const { registry, other } = await loadFixture(registryFixture);
      const c = commitment({ modelHash: ethers.MaxUint256 });
      await expect(registry.connect(other).registerModel(c))
        .to.be.revertedWithCustomError(registry, "ModelHashNotInField")
        .withArgs(c.modelHash);
    });
  });

  describe("updateModel", function () {
    it("appends version 2, keeps the verifier, and keeps version 1 readable", async function () {
      const { registry, verifier, owner, modelId, snarkAddr, codeHash } = await loadFixture(registryFixture);
      const v = await verifier.getAddress();
      const old = commitment({ modelHash: 11n });
      const c = commitment({ modelHash: 12n, uri: "ipfs://v2" });
      await expect(registry.connect(owner).updateModel(modelId, c))
        .to.emit(registry, "ModelUpdated")
        .withArgs(
          modelId,
          [old.modelHash, old.circuitHash, old.vkHash, old.proofSystemId, old.uri],
          [c.modelHash, c.circuitHash, c.vkHash, c.proofSystemId, c.uri],
        )
        .and.to.emit(registry, "ModelVersionCreated")
        .withArgs(modelId, 2, v, 4, snarkAddr, codeHash);
      expect((await registry.getModel(modelId))[0].modelHash).to.equal(c.modelHash);
      expect((await registry.getModelVersion(modelId, 1n))[0].modelHash).to.equal(old.modelHash);
      expect(await registry.verificationTarget(modelId, 1n)).to.deep.equal([
        await modelSignal(11n),
        v,
        snarkAddr,
        GROTH16_4_SELECTOR,
        256n,
        4n,
        codeHash,
        [0n, 0n, 0n, 0n, 0n, 0n, 0n],
      ]);
      expect(await registry.verificationTarget(modelId, 2n)).to.deep.equal([
        await modelSignal(12n),
        v,
        snarkAddr,
        GROTH16_4_SELECTOR,
        256n,
        4n,
        codeHash,
        [0n, 0n, 0n, 0n, 0n, 0n, 0n],
      ]);
      expect((await registry.modelInfo(modelId)).latestVersion).to.equal(2n);
    });

    it("reverts when the caller is not the owner", async function () {
      const { registry, other, modelId } = await loadFixture(registryFixture);
      await expect(registry.connect(other).updateModel(modelId, commitment({ modelHash: 1n })))
        .to.be.revertedWithCustomError(registry, "NotModelOwner")
        .withArgs(modelId, other.address);
    });

    it("reverts when the model does not exist", async function () {
      const { registry, other } = await loadFixture(registryFixture);
      await expect(registry.connect(other).updateModel(99n, commitment({ modelHash: 1n })))
        .to.be.revertedWithCustomError(registry, "ModelNotFound")
        .withArgs(99n);
    });

    it("reverts when the model is deprecated", async function () {
      const { registry, owner, modelId } = await loadFixture(registryFixture);
      await registry.connect(owner).deprecateModel(modelId);
      await expect(registry.connect(owner).updateModel(modelId, commitment({ modelHash: 1n })))
        .to.be.revertedWithCustomError(registry, "ModelIsDeprecated")
        .withArgs(modelId);
    });

    it("reverts when the new modelHash is not below r", async function () {
      const { registry, owner, modelId } = await loadFixture(registryFixture);
      const c = commitment({ modelHash: SNARK_FIELD + 1n });
      await expect(registry.connect(owner).updateModel(modelId, c))
        .to.be.revertedWithCustomError(registry, "ModelHashNotInField")
        .withArgs(c.modelHash);
    });

    it("re-reads the kept adapter: a snarkjs verifier whose code is gone is not carried over", async function () {
      const { registry, owner, modelId, snarkAddr } = await loadFixture(registryFixture);
      await ethers.provider.send("hardhat_setCode", [snarkAddr, "0x"]);
      await expect(registry.connect(owner).updateModel(modelId, commitment({ modelHash: 12n })))
        .to.be.revertedWithCustomError(registry, "WrappedVerifierHasNoCode")
        .withArgs(snarkAddr);
    });
  });

  describe("updateModelWithVerifier", function () {
    it("appends a version with a new verifier", async function () {
      const { registry, verifier2, owner, modelId, snark2Addr, codeHash2 } = await loadFixture(registryFixture);
      const v2 = await verifier2.getAddress();
      await expect(registry.connect(owner).updateModelWithVerifier(modelId, commitment({ modelHash: 13n }), v2, 4))
        .to.emit(registry, "ModelVersionCreated")
        .withArgs(modelId, 2, v2, 4, snark2Addr, codeHash2);
      expect(await registry.verificationTarget(modelId, 2n)).to.deep.equal([
        await modelSignal(13n),
        v2,
        snark2Addr,
        GROTH16_4_SELECTOR,
        256n,
        4n,
        codeHash2,
        [0n, 0n, 0n, 0n, 0n, 0n, 0n],
      ]);
    });

    it("reverts when the caller is not the owner", async function () {
      const { registry, verifier2, other, modelId } = await loadFixture(registryFixture);
      await expect(registry.connect(other).updateModelWithVerifier(modelId, commitment({ modelHash: 1n }), await verifier2.getAddress(), 4))
        .to.be.revertedWithCustomError(registry, "NotModelOwner")
        .withArgs(modelId, other.address);
    });

    it("reverts when the verifier is not a factory adapter, or the configuration is inconsistent", async function () {
      const { registry, verifier2, plonk, owner, modelId } = await loadFixture(registryFixture);
      const c = commitment({ modelHash: 1n });
      await expect(registry.connect(owner).updateModelWithVerifier(modelId, c, owner.address, 4))
        .to.be.revertedWithCustomError(registry, "AdapterNotFromFactory")
        .withArgs(owner.address);
      await expect(registry.connect(owner).updateModelWithVerifier(modelId, c, await verifier2.getAddress(), 0))
        .to.be.revertedWithCustomError(registry, "InvalidVerifierConfig")
        .withArgs(await verifier2.getAddress(), 0);
      await expect(registry.connect(owner).updateModelWithVerifier(modelId, c, await plonk.getAddress(), 4))
        .to.be.revertedWithCustomError(registry, "VerifierMismatch")
        .withArgs(await plonk.getAddress(), proofSystemId("plonk-bn254-v1"), 4);
      expect((await registry.modelInfo(modelId)).latestVersion).to.equal(1n);
    });
  });

  describe("deprecateModel", function () {
    it("deprecates and emits ModelDeprecated", async function () {
      const { registry, owner, modelId } = await loadFixture(registryFixture);
      await expect(registry.connect(owner).deprecateModel(modelId)).to.emit(registry, "ModelDeprecated").withArgs(modelId);
      expect((await registry.getModel(modelId))[1]).to.equal(true);
      expect((await registry.currentVersion(modelId))[2]).to.equal(true);
    });

    it("reverts when already deprecated", async function () {
      const { registry, owner, modelId } = await loadFixture(registryFixture);
      await registry.connect(owner).deprecateModel(modelId);
      await expect(registry.connect(owner).deprecateModel(modelId))
        .to.be.revertedWithCustomError(registry, "ModelIsDeprecated")
        .withArgs(modelId);
    });

    it("reverts when the caller is not the owner", async function () {
      const { registry, other, modelId } = await loadFixture(registryFixture);
      await expect(registry.connect(other).deprecateModel(modelId))
        .to.be.revertedWithCustomError(registry, "NotModelOwner")
        .withArgs(modelId, other.address);
    });
  });

  describe("transferModelOwnership", function () {
    it("transfers; the new owner can update and the old one cannot", async function () {
      const { registry, owner, newOwner, modelId } = await loadFixture(registryFixture);
      await expect(registry.connect(owner).transferModelOwnership(modelId, newOwner.address))
        .to.emit(registry, "ModelOwnershipTransferred")
        .withArgs(modelId, owner.address, newOwner.address);
      expect((await registry.getModel(modelId))[2]).to.equal(newOwner.address);
      await expect(registry.connect(newOwner).updateModel(modelId, commitment({ modelHash: 3n }))).to.emit(registry, "ModelUpdated");
      await expect(registry.connect(owner).deprecateModel(modelId))
        .to.be.revertedWithCustomError(registry, "NotModelOwner")
        .withArgs(modelId, owner.address);
    });

    it("reverts when the new owner is the zero address", async function () {
      const { registry, owner, modelId } = await loadFixture(registryFixture);
      await expect(registry.connect(owner).transferModelOwnership(modelId, ethers.ZeroAddress))
        .to.be.revertedWithCustomError(registry, "InvalidNewOwner")
        .withArgs(ethers.ZeroAddress);
    });

    it("reverts when the caller is not the owner", async function () {
      const { registry, other, modelId } = await loadFixture(registryFixture);
      await expect(registry.connect(other).transferModelOwnership(modelId, other.address))
        .to.be.revertedWithCustomError(registry, "NotModelOwner")
        .withArgs(modelId, other.address);
    });
  });

  describe("views", function () {
    it("revert when the model or version does not exist", async function () {
      const { registry, modelId } = await loadFixture(registryFixture);
      await expect(registry.getModel(7n)).to.be.revertedWithCustomError(registry, "ModelNotFound").withArgs(7n);
      await expect(registry.modelInfo(7n)).to.be.revertedWithCustomError(registry, "ModelNotFound").withArgs(7n);
      await expect(registry.currentVersion(7n)).to.be.revertedWithCustomError(registry, "ModelNotFound").withArgs(7n);
      await expect(registry.getModelVersion(7n, 1n)).to.be.revertedWithCustomError(registry, "ModelNotFound").withArgs(7n);
      await expect(registry.getModelVersion(modelId, 0n)).to.be.revertedWithCustomError(registry, "VersionNotFound").withArgs(modelId, 0n);
      await expect(registry.getModelVersion(modelId, 2n)).to.be.revertedWithCustomError(registry, "VersionNotFound").withArgs(modelId, 2n);
      await expect(registry.verificationTarget(modelId, 2n))
        .to.be.revertedWithCustomError(registry, "VersionNotFound")
        .withArgs(modelId, 2n);
    });
  });

  describe("supportsInterface", function () {
    it("reports ERC-165, ERC-7992 registry and IModelRegistry, nothing else", async function () {
      const { registry } = await loadFixture(registryFixture);
      expect(await registry.supportsInterface("0x01ffc9a7")).to.equal(true);
      expect(ERC7992_REGISTRY_ID).to.equal("0xd28519b1");
      expect(await registry.supportsInterface(ERC7992_REGISTRY_ID)).to.equal(true);
      const iface = (await ethers.getContractAt("IModelRegistry", ethers.ZeroAddress)).interface;
      let own = 0n;
      iface.forEachFunction((f) => {
        if (
          [
            "registerModelWithVerifier",
            "updateModelWithVerifier",
            "transferModelOwnership",
            "modelInfo",
            "getModelVersion",
            "currentVersion",
            "verificationTarget",
            "factory",
            "registerModelWithLayout",
            "updateModelWithLayout",
            "layoutOf",
            "modelCount",
            "modelCommitmentOf",
            "layoutWord",
            "poseidon",
          ].includes(f.name)
        )
          own ^= BigInt(f.selector);
      });
      expect(await registry.supportsInterface(ethers.toBeHex(own, 4))).to.equal(true);
      expect(await registry.supportsInterface("0xffffffff")).to.equal(false);
      expect(await registry.supportsInterface("0x12345678")).to.equal(false);
    });
  });

  describe("public model commitment (layout binding, docs/public-signals.md)", function () {
    const layoutArb: fc.Arbitrary<ModelLayout> = fc.record({
      inputMode: fc.constantFrom(0 as const, 1 as const),
      outputHead: fc.constantFrom(0 as const, 1 as const),
      inputCount: fc.integer({ min: 0, max: 65535 }),
      inputBits: fc.integer({ min: 0, max: 255 }),
      outputCount: fc.integer({ min: 0, max: 255 }),
      outputBits: fc.integer({ min: 0, max: 255 }),
      outputFrac: fc.integer({ min: 0, max: 255 }),
    });

    it("layoutWord: Solidity LayoutWord.encode equals the TS twin (fast-check, every field width)", async function () {
      const { registry } = await loadFixture(registryFixture);
      await fc.assert(
        fc.asyncProperty(layoutArb, async (l) => {
          expect(await registry.layoutWord(l)).to.equal(layoutWord(l));
        }),
        { numRuns: 60 },
      );
      const max = {
        inputMode: 255,
        outputHead: 255,
        inputCount: 65535,
        inputBits: 255,
        outputCount: 255,
        outputBits: 255,
        outputFrac: 255,
      };
      expect(await registry.layoutWord(max)).to.equal(layoutWord(max as unknown as ModelLayout));
      expect(layoutWord(max as unknown as ModelLayout)).to.equal((LAYOUT_WORD_VERSION << 64n) | ((1n << 64n) - 1n));
      expect(await registry.layoutWord(DEFAULT_LAYOUT)).to.equal(LAYOUT_WORD_VERSION << 64n);
      // a field that does not fit its Solidity type is refused off-chain, naming it
      expect(() => layoutWord({ ...DEFAULT_LAYOUT, inputCount: 65536 })).to.throw(/layout.inputCount = 65536 does not fit uint16/);
    });

    it("modelCommitmentOf: the registry's on-chain Poseidon (circomlibjs' generated contract) equals circomlibjs' Poseidon", async function () {
      const { registry } = await loadFixture(registryFixture);
      expect(await ethers.provider.getCode(await registry.poseidon())).to.not.equal("0x");
      await fc.assert(
        fc.asyncProperty(fc.bigInt({ min: 0n, max: SNARK_FIELD - 1n }), layoutArb, async (h, l) => {
          expect(await registry.modelCommitmentOf(ethers.toBeHex(h, 32), l)).to.equal(await publicModelCommitment(h, l));
        }),
        { numRuns: 25 },
      );
      for (const h of [0n, 1n, SNARK_FIELD - 1n])
        expect(await registry.modelCommitmentOf(ethers.toBeHex(h, 32), DEFAULT_LAYOUT)).to.equal(await modelSignal(h));
      await expect(registry.modelCommitmentOf(ethers.toBeHex(SNARK_FIELD, 32), DEFAULT_LAYOUT))
        .to.be.revertedWithCustomError(registry, "ModelHashNotInField")
        .withArgs(ethers.toBeHex(SNARK_FIELD, 32));
    });

    it("every verifiable version's target commitment is Poseidon(modelHash, L(layout)); one field of the layout changes it", async function () {
      const { registry, owner, verifier } = await loadFixture(registryFixture);
      const a = await verifier.getAddress();
      const l: ModelLayout = { inputMode: 1, outputHead: 1, inputCount: 3, inputBits: 12, outputCount: 1, outputBits: 16, outputFrac: 9 };
      const id = await registry.connect(owner).registerModelWithLayout.staticCall(commitment({ modelHash: 77n }), a, l);
      await registry.connect(owner).registerModelWithLayout(commitment({ modelHash: 77n }), a, l);
      const t = await registry.verificationTarget(id, 1n);
      expect(t.modelCommitment).to.equal(await publicModelCommitment(77n, l));
      // the ERC modelHash stays the weights commitment
      expect((await registry.getModelVersion(id, 1n))[0].modelHash).to.equal(ethers.toBeHex(77n, 32));
      const seen = new Set([t.modelCommitment]);
      for (const k of Object.keys(l) as (keyof ModelLayout)[]) {
        const other = { ...l, [k]: k === "inputMode" || k === "outputHead" ? 1 - l[k] : l[k] - 1 } as ModelLayout;
        const c = await registry.modelCommitmentOf(ethers.toBeHex(77n, 32), other);
        expect(seen.has(c), k).to.equal(false);
        seen.add(c);
      }
      // updateModel keeps the layout and recomputes the commitment for the new weights
      await registry.connect(owner).updateModel(id, commitment({ modelHash: 78n }));
      expect((await registry.verificationTarget(id, 2n)).modelCommitment).to.equal(await publicModelCommitment(78n, l));
      // updateModelWithVerifier: the default layout
      await registry.connect(owner).updateModelWithVerifier(id, commitment({ modelHash: 79n }), a, 4);
      expect((await registry.verificationTarget(id, 3n)).modelCommitment).to.equal(await modelSignal(79n));
    });
  });
});
