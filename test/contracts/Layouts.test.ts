/**
 * Per-version public-signal layouts (docs/public-signals.md): the registry's `Layout` checks, the market's public
 * input mode (`openJobWithInputs`, packing, m > 1 input signals through `VerifierCall.verify`) and the values head
 * (`valuesOf`, `SignedPacking.unpack`).
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { ZeroAddress } from "ethers";
import { anyUint, anyValue } from "@nomicfoundation/hardhat-chai-matchers/withArgs";
import fc from "fast-check";
import { packSigned } from "../../scripts/formats/commitments";
import type { ModelLayout } from "../../scripts/formats/model-layout";
import {
  commitment,
  createAdapter,
  GROTH16_BN254_V1,
  jobBinding,
  mockMarketFixture,
  mockProof,
  mockProofN,
  modelSignal,
  openJob,
  JobStatus as Status,
} from "./fixtures";
import type { InferenceJobs, ModelRegistry } from "../../typechain-types";
import type { IModelRegistry } from "../../typechain-types/contracts/ModelRegistry";

const FEE = ethers.parseEther("0.01");
const INPUT = 777n;
const HOUR = 3600;
const ARGMAX = 0;
const VALUES = 1;
const COMMITTED = 0;
const PUBLIC = 1;

/** A layout as the contracts take it; the tuple order is the struct's. */
interface Layout {
  inputMode: number;
  outputHead: number;
  inputCount: number;
  inputBits: number;
  outputCount: number;
  outputBits: number;
  outputFrac: number;
}

function layout(l: Partial<Layout>): Layout {
  return { inputMode: 0, outputHead: 0, inputCount: 0, inputBits: 0, outputCount: 0, outputBits: 0, outputFrac: 0, ...l };
}

/** The struct as the ordered tuple events and getters return. */
function tuple(l: Layout): number[] {
  return [l.inputMode, l.outputHead, l.inputCount, l.inputBits, l.outputCount, l.outputBits, l.outputFrac];
}

/** A returned `Layout` struct as numbers. */
function asTuple(r: IModelRegistry.LayoutStructOutput): number[] {
  return [r.inputMode, r.outputHead, r.inputCount, r.inputBits, r.outputCount, r.outputBits, r.outputFrac].map(Number);
}

/** Public input, argmax head, 4 values at 12 bits: 1 input signal (4 public signals). */
const PUB4_12 = layout({ inputMode: PUBLIC, outputHead: ARGMAX, inputCount: 4, inputBits: 12, outputCount: 3 });
/** Public input, values head, 40 values at 8 bits: 2 input signals (31 + 9), 5 public signals. */
const PUB40_8 = layout({
  inputMode: PUBLIC,
  outputHead: VALUES,
  inputCount: 40,
  inputBits: 8,
  outputCount: 3,
  outputBits: 16,
  outputFrac: 8,
});
/** Public input, argmax head, 41 values at 12 bits: 3 input signals (20 + 20 + 1), 6 public signals. */
const PUB41_12 = layout({ inputMode: PUBLIC, outputHead: ARGMAX, inputCount: 41, inputBits: 12, outputCount: 10 });
/** Committed input, values head: 5 outputs at 16 bits with 8 fractional bits. */
const COMMITTED_VALUES = layout({ inputMode: COMMITTED, outputHead: VALUES, outputCount: 5, outputBits: 16, outputFrac: 8 });

function range(bits: number): { lo: bigint; hi: bigint } {
  return { lo: -(1n << BigInt(bits - 1)), hi: (1n << BigInt(bits - 1)) - 1n };
}

async function later(seconds = HOUR): Promise<number> {
  return (await time.latest()) + seconds;
}

/** Signal [1] of each model hash registered here, under the layout it was registered with (registerWithLayout). */
const SIGNAL_OF = new Map<bigint, bigint>();

/** Registers a model with a layout as `owner` (recording its signal [1]); returns its id (from the event). */
async function registerWithLayout(
  registry: ModelRegistry,
  owner: Parameters<ModelRegistry["connect"]>[0],
  modelHash: bigint,
  verifier: string,
  l: Layout,
): Promise<bigint> {
  const receipt = await (await registry.connect(owner).registerModelWithLayout(commitment({ modelHash }), verifier, l)).wait();
  SIGNAL_OF.set(modelHash, await modelSignal(modelHash, l as ModelLayout));
  for (const log of receipt!.logs) {
    const parsed = registry.interface.parseLog(log);
    if (parsed?.name === "ModelRegistered") return parsed.args.modelId as bigint;
  }
  throw new Error("registerWithLayout: no ModelRegistered event");
}

/** Opens a public-input job and returns its id and the transaction's gas. */
async function openWithInputs(
  jobs: InferenceJobs,
  requester: Parameters<InferenceJobs["connect"]>[0],
  modelId: bigint,
  inputs: readonly bigint[],
  deadline?: number,
): Promise<{ jobId: bigint; gas: bigint }> {
  const tx = await jobs.connect(requester).openJobWithInputs(modelId, 1n, [...inputs], deadline ?? (await later()), false, { value: FEE });
  const receipt = await tx.wait();
  for (const log of receipt!.logs) {
    const parsed = jobs.interface.parseLog(log);
    if (parsed?.name === "JobOpened") return { jobId: parsed.args.jobId as bigint, gas: receipt!.gasUsed };
  }
  throw new Error("openWithInputs: no JobOpened event");
}

/** The mock market plus a 5/6-signal mock verifier, their adapters, the packing harness and a few layout models. */
async function layoutFixture() {
  const m = await mockMarketFixture();
  const mockN = await (await ethers.getContractFactory("MockSnarkjsVerifierN")).deploy();
  const harness = await (await ethers.getContractFactory("SignedPackingHarness")).deploy();
  const adapter4 = await m.adapter.getAddress();
  const adapter5 = await createAdapter(m.factory, await mockN.getAddress(), 5);
  const adapter6 = await createAdapter(m.factory, await mockN.getAddress(), 6);
  const hashes = { pub4: 1001n, pub40: 1002n, pub41: 1003n, committedValues: 1004n };
  const pub4 = await registerWithLayout(m.registry, m.modelOwner, hashes.pub4, adapter4, PUB4_12);
  const pub40 = await registerWithLayout(m.registry, m.modelOwner, hashes.pub40, adapter5, PUB40_8);
  const pub41 = await registerWithLayout(m.registry, m.modelOwner, hashes.pub41, adapter6, PUB41_12);
  const committedValues = await registerWithLayout(m.registry, m.modelOwner, hashes.committedValues, adapter4, COMMITTED_VALUES);
  await m.jobs.connect(m.prover).deposit({ value: ethers.parseEther("1") });
  const jobsAddr = await m.jobs.getAddress();
  SIGNAL_OF.set(m.modelHash, m.modelCommitment);
  /** The signals of a job: [output, modelCommitment, ...words, binding(prover)], for a model hash registered here. */
  const signals = (jobId: bigint, prover: string, output: bigint, modelHash: bigint, words: readonly bigint[]) => [
    output,
    SIGNAL_OF.get(modelHash) ??
      (() => {
        throw new Error(`no signal recorded for model hash ${modelHash}`);
      })(),
    ...words,
    jobBinding(m.chainId, jobsAddr, jobId, prover),
  ];
  return { ...m, mockN, harness, adapter4, adapter5, adapter6, hashes, pub4, pub40, pub41, committedValues, signals };
}

/** Value arbitrary for a `bits`-wide signed value, biased to the range edges. */
function valueArb(bits: number): fc.Arbitrary<bigint> {
  const { lo, hi } = range(bits);
  return fc.oneof(fc.constant(lo), fc.constant(hi), fc.constant(0n), fc.constant(-1n), fc.bigInt({ min: lo, max: hi }));
}

describe("Layouts", function () {
  describe("ModelRegistry layouts", function () {
    it("registers the four layout shapes, emitting VersionLayout and returning the layout from layoutOf and verificationTarget", async function () {
      const { registry, modelOwner, adapter4, adapter5 } = await loadFixture(layoutFixture);
      const cases: { l: Layout; adapter: string; n: number }[] = [
        { l: COMMITTED_VALUES, adapter: adapter4, n: 4 },
        { l: PUB4_12, adapter: adapter4, n: 4 },
        // 31 values at 8 bits fill exactly one word
        {
          l: layout({
            inputMode: PUBLIC,
            outputHead: VALUES,
            inputCount: 31,
            inputBits: 8,
            outputCount: 2,
            outputBits: 124,
            outputFrac: 124,
          }),
          adapter: adapter4,
          n: 4,
        },
        // 40 values at 8 bits: 2 words, 5 signals
        { l: PUB40_8, adapter: adapter5, n: 5 },
      ];
      for (const [i, { l, adapter, n }] of cases.entries()) {
        const c = commitment({ modelHash: 50n + BigInt(i) });
        const id = await registry.connect(modelOwner).registerModelWithLayout.staticCall(c, adapter, l);
        await expect(registry.connect(modelOwner).registerModelWithLayout(c, adapter, l))
          .to.emit(registry, "VersionLayout")
          .withArgs(id, 1, tuple(l))
          .and.to.emit(registry, "ModelVersionCreated")
          .withArgs(id, 1, adapter, n, anyValue, anyValue);
        expect(asTuple(await registry.layoutOf(id, 1))).to.deep.equal(tuple(l));
        const t = await registry.verificationTarget(id, 1);
        expect(asTuple(t.layout)).to.deep.equal(tuple(l));
        expect(t.numPublicSignals).to.equal(n);
        expect(t.adapter).to.equal(adapter);
        expect(await registry.currentVersion(id)).to.deep.equal([1n, BigInt(n), false]);
      }
    });

    it("accepts exactly 16 input signals (19 public signals) and refuses 17 with InvalidLayout(inputSignals, 17)", async function () {
      const { registry, modelOwner, factory, mockN } = await loadFixture(layoutFixture);
      const a19 = await createAdapter(factory, await mockN.getAddress(), 19);
      const c = commitment({ modelHash: 7n });
      const l16 = layout({ inputMode: PUBLIC, inputCount: 16 * 31, inputBits: 8, outputCount: 2 });
      const id = await registry.connect(modelOwner).registerModelWithLayout.staticCall(c, a19, l16);
      await expect(registry.connect(modelOwner).registerModelWithLayout(c, a19, l16))
        .to.emit(registry, "VersionLayout")
        .withArgs(id, 1, tuple(l16));
      expect((await registry.verificationTarget(id, 1)).numPublicSignals).to.equal(19);
      for (const [count, bits, words] of [
        [16 * 31 + 1, 8, 17],
        [17 * 31 + 1, 8, 18],
        [65535, 2, 529],
      ]) {
        await expect(
          registry.connect(modelOwner).registerModelWithLayout(c, a19, layout({ inputMode: PUBLIC, inputCount: count, inputBits: bits })),
        )
          .to.be.revertedWithCustomError(registry, "InvalidLayout")
          .withArgs("inputSignals", words);
      }
    });

    it("reverts with InvalidLayout(field, value) on every malformed field", async function () {
      const { registry, modelOwner, adapter4 } = await loadFixture(layoutFixture);
      const c = commitment({ modelHash: 8n });
      const bad: [Partial<Layout>, string, number][] = [
        [{ inputMode: 2 }, "inputMode", 2],
        [{ inputMode: 255 }, "inputMode", 255],
        [{ outputHead: 2 }, "outputHead", 2],
        [{ inputMode: PUBLIC, inputCount: 0, inputBits: 8 }, "inputCount", 0],
        [{ inputMode: PUBLIC, inputCount: 0, inputBits: 0 }, "inputCount", 0],
        // committed mode: a half-recorded input format is refused too
        [{ inputMode: COMMITTED, inputCount: 0, inputBits: 8 }, "inputCount", 0],
        [{ inputMode: COMMITTED, inputCount: 4, inputBits: 0 }, "inputBits", 0],
        [{ inputMode: PUBLIC, inputCount: 4, inputBits: 1 }, "inputBits", 1],
        [{ inputMode: PUBLIC, inputCount: 4, inputBits: 65 }, "inputBits", 65],
        [{ outputHead: VALUES, outputCount: 1, outputBits: 0 }, "outputBits", 0],
        [{ outputHead: VALUES, outputCount: 1, outputBits: 1 }, "outputBits", 1],
        [{ outputHead: VALUES, outputCount: 1, outputBits: 125 }, "outputBits", 125],
        [{ outputHead: VALUES, outputCount: 0, outputBits: 16 }, "outputCount", 0],
        [{ outputHead: VALUES, outputCount: 16, outputBits: 16 }, "outputCount", 16], // floor(248/16) = 15
        [{ outputHead: VALUES, outputCount: 3, outputBits: 124 }, "outputCount", 3], // floor(248/124) = 2
        [{ outputHead: VALUES, outputCount: 125, outputBits: 2 }, "outputCount", 125], // floor(248/2) = 124
        [{ outputHead: VALUES, outputCount: 2, outputBits: 16, outputFrac: 17 }, "outputFrac", 17],
        [{ outputHead: ARGMAX, outputCount: 3, outputBits: 8 }, "outputBits", 8],
        [{ outputHead: ARGMAX, outputCount: 3, outputFrac: 1 }, "outputFrac", 1],
      ];
      for (const [l, field, value] of bad) {
        await expect(registry.connect(modelOwner).registerModelWithLayout(c, adapter4, layout(l)), `${field} ${JSON.stringify(l)}`)
          .to.be.revertedWithCustomError(registry, "InvalidLayout")
          .withArgs(field, value);
      }
      // the same checks on update
      const id = await registerWithLayout(registry, modelOwner, 8n, adapter4, PUB4_12);
      for (const [l, field, value] of bad) {
        await expect(registry.connect(modelOwner).updateModelWithLayout(id, c, adapter4, layout(l)))
          .to.be.revertedWithCustomError(registry, "InvalidLayout")
          .withArgs(field, value);
      }
      // the limits themselves are accepted
      const ok: Partial<Layout>[] = [
        { inputMode: PUBLIC, inputCount: 4, inputBits: 2, outputCount: 2 },
        { inputMode: PUBLIC, inputCount: 3, inputBits: 64, outputCount: 2 }, // floor(248/64) = 3: one word
        { inputMode: COMMITTED, inputCount: 784, inputBits: 8, outputCount: 10 }, // committed: always 1 input signal
        { outputHead: VALUES, outputCount: 15, outputBits: 16, outputFrac: 16 },
        { outputHead: VALUES, outputCount: 124, outputBits: 2, outputFrac: 0 },
        { outputHead: VALUES, outputCount: 2, outputBits: 124, outputFrac: 124 },
        { outputHead: ARGMAX, outputCount: 0 },
      ];
      for (const l of ok) {
        await expect(registry.connect(modelOwner).registerModelWithLayout(c, adapter4, layout(l)), JSON.stringify(l)).to.emit(
          registry,
          "VersionLayout",
        );
      }
    });

    it("checks the layout's signal count against the adapter: VerifierMismatch when 3 + m is not the adapter's", async function () {
      const { registry, modelOwner, adapter4, adapter5 } = await loadFixture(layoutFixture);
      const c = commitment({ modelHash: 9n });
      // The registry derives n = 3 + m from the layout and passes it to _resolve, whose adapter check fails first:
      // the error is VerifierMismatch(adapter, its proof system, its signal count), not InvalidLayout("numPublicSignals").
      await expect(registry.connect(modelOwner).registerModelWithLayout(c, adapter4, PUB40_8))
        .to.be.revertedWithCustomError(registry, "VerifierMismatch")
        .withArgs(adapter4, GROTH16_BN254_V1, 4);
      await expect(registry.connect(modelOwner).registerModelWithLayout(c, adapter5, PUB4_12))
        .to.be.revertedWithCustomError(registry, "VerifierMismatch")
        .withArgs(adapter5, GROTH16_BN254_V1, 5);
      // 32 values at 8 bits is one past a word: 2 input signals
      const l32 = layout({ inputMode: PUBLIC, inputCount: 32, inputBits: 8, outputCount: 2 });
      await expect(registry.connect(modelOwner).registerModelWithLayout(c, adapter4, l32))
        .to.be.revertedWithCustomError(registry, "VerifierMismatch")
        .withArgs(adapter4, GROTH16_BN254_V1, 4);
      await expect(registry.connect(modelOwner).registerModelWithLayout(c, adapter5, l32)).to.emit(registry, "VersionLayout");
      const id = await registerWithLayout(registry, modelOwner, 9n, adapter4, PUB4_12);
      await expect(registry.connect(modelOwner).updateModelWithLayout(id, c, adapter4, PUB40_8))
        .to.be.revertedWithCustomError(registry, "VerifierMismatch")
        .withArgs(adapter4, GROTH16_BN254_V1, 4);
    });

    it("registerModelWithVerifier / updateModelWithVerifier refuse a non-4-signal adapter with InvalidLayout(numPublicSignals, n)", async function () {
      const { registry, modelOwner, adapter5, adapter6, modelId } = await loadFixture(layoutFixture);
      const c = commitment({ modelHash: 10n });
      await expect(registry.connect(modelOwner).registerModelWithVerifier(c, adapter5, 5))
        .to.be.revertedWithCustomError(registry, "InvalidLayout")
        .withArgs("numPublicSignals", 5);
      await expect(registry.connect(modelOwner).updateModelWithVerifier(modelId, c, adapter6, 6))
        .to.be.revertedWithCustomError(registry, "InvalidLayout")
        .withArgs("numPublicSignals", 6);
      // the declared count must still be the adapter's first
      await expect(registry.connect(modelOwner).registerModelWithVerifier(c, adapter5, 4))
        .to.be.revertedWithCustomError(registry, "VerifierMismatch")
        .withArgs(adapter5, GROTH16_BN254_V1, 5);
    });

    it("registerModelWithVerifier records the default layout (and emits it); registerModel records none", async function () {
      const { registry, modelOwner, adapter4 } = await loadFixture(layoutFixture);
      const c = commitment({ modelHash: 11n });
      const id = await registry.connect(modelOwner).registerModelWithVerifier.staticCall(c, adapter4, 4);
      await expect(registry.connect(modelOwner).registerModelWithVerifier(c, adapter4, 4))
        .to.emit(registry, "VersionLayout")
        .withArgs(id, 1, tuple(layout({})));
      expect(asTuple(await registry.layoutOf(id, 1))).to.deep.equal(tuple(layout({})));
      const bare = await registry.connect(modelOwner).registerModel.staticCall(c);
      await expect(registry.connect(modelOwner).registerModel(c)).to.not.emit(registry, "VersionLayout");
      expect(asTuple(await registry.layoutOf(bare, 1))).to.deep.equal(tuple(layout({})));
      // ERC updateModel of a commitment-only model: still no verifier, no layout event
      await expect(registry.connect(modelOwner).updateModel(bare, commitment({ modelHash: 12n }))).to.not.emit(registry, "VersionLayout");
      expect(asTuple(await registry.layoutOf(bare, 2))).to.deep.equal(tuple(layout({})));
    });

    it("registerModelWithLayout / updateModelWithLayout with a zero verifier revert with InvalidVerifierConfig(0x0, 0)", async function () {
      const { registry, modelOwner, pub4 } = await loadFixture(layoutFixture);
      const c = commitment({ modelHash: 13n });
      await expect(registry.connect(modelOwner).registerModelWithLayout(c, ZeroAddress, PUB4_12))
        .to.be.revertedWithCustomError(registry, "InvalidVerifierConfig")
        .withArgs(ZeroAddress, 0);
      // checked before the layout itself
      await expect(registry.connect(modelOwner).registerModelWithLayout(c, ZeroAddress, layout({ inputMode: 2 })))
        .to.be.revertedWithCustomError(registry, "InvalidVerifierConfig")
        .withArgs(ZeroAddress, 0);
      await expect(registry.connect(modelOwner).updateModelWithLayout(pub4, c, ZeroAddress, PUB4_12))
        .to.be.revertedWithCustomError(registry, "InvalidVerifierConfig")
        .withArgs(ZeroAddress, 0);
    });

    it("updateModelWithLayout is owner-only and appends a version with the new layout", async function () {
      const { registry, modelOwner, stranger, adapter5, pub4 } = await loadFixture(layoutFixture);
      const c = commitment({ modelHash: 14n });
      await expect(registry.connect(stranger).updateModelWithLayout(pub4, c, adapter5, PUB40_8))
        .to.be.revertedWithCustomError(registry, "NotModelOwner")
        .withArgs(pub4, stranger.address);
      await expect(registry.connect(modelOwner).updateModelWithLayout(99n, c, adapter5, PUB40_8))
        .to.be.revertedWithCustomError(registry, "ModelNotFound")
        .withArgs(99n);
      await expect(registry.connect(modelOwner).updateModelWithLayout(pub4, c, adapter5, PUB40_8))
        .to.emit(registry, "VersionLayout")
        .withArgs(pub4, 2, tuple(PUB40_8))
        .and.to.emit(registry, "ModelVersionCreated")
        .withArgs(pub4, 2, adapter5, 5, anyValue, anyValue);
      expect(await registry.currentVersion(pub4)).to.deep.equal([2n, 5n, false]);
      expect(asTuple(await registry.layoutOf(pub4, 2))).to.deep.equal(tuple(PUB40_8));
      expect(asTuple(await registry.layoutOf(pub4, 1))).to.deep.equal(tuple(PUB4_12));
      expect(asTuple((await registry.verificationTarget(pub4, 2)).layout)).to.deep.equal(tuple(PUB40_8));
      // not on a deprecated model
      await registry.connect(modelOwner).deprecateModel(pub4);
      await expect(registry.connect(modelOwner).updateModelWithLayout(pub4, c, adapter5, PUB40_8))
        .to.be.revertedWithCustomError(registry, "ModelIsDeprecated")
        .withArgs(pub4);
    });

    it("ERC updateModel keeps the previous version's layout and signal count", async function () {
      const { registry, modelOwner, adapter5, pub40 } = await loadFixture(layoutFixture);
      await expect(registry.connect(modelOwner).updateModel(pub40, commitment({ modelHash: 15n })))
        .to.emit(registry, "VersionLayout")
        .withArgs(pub40, 2, tuple(PUB40_8))
        .and.to.emit(registry, "ModelVersionCreated")
        .withArgs(pub40, 2, adapter5, 5, anyValue, anyValue);
      expect(asTuple(await registry.layoutOf(pub40, 2))).to.deep.equal(tuple(PUB40_8));
      const t = await registry.verificationTarget(pub40, 2);
      // the new weights commitment under the kept layout
      expect(t.modelCommitment).to.equal(await modelSignal(15n, PUB40_8 as ModelLayout));
      expect(t.numPublicSignals).to.equal(5);
    });

    it("layoutOf reverts with VersionNotFound on an unknown version and ModelNotFound on an unknown model", async function () {
      const { registry, pub4 } = await loadFixture(layoutFixture);
      await expect(registry.layoutOf(pub4, 0)).to.be.revertedWithCustomError(registry, "VersionNotFound").withArgs(pub4, 0);
      await expect(registry.layoutOf(pub4, 2)).to.be.revertedWithCustomError(registry, "VersionNotFound").withArgs(pub4, 2);
      await expect(registry.layoutOf(99n, 1)).to.be.revertedWithCustomError(registry, "ModelNotFound").withArgs(99n);
    });
  });

  describe("InferenceJobs public input mode", function () {
    /** One model per (bits, words): count = per (one full word) and 2 * per - 1 (a partial second word). */
    async function packFixture() {
      const f = await layoutFixture();
      const models: { id: bigint; bits: number; count: number }[] = [];
      for (const bits of [2, 8, 12, 16, 33, 64]) {
        const per = Math.floor(248 / bits);
        for (const [count, adapter] of [
          [per, f.adapter4],
          [2 * per - 1, f.adapter5],
        ] as const) {
          const l = layout({ inputMode: PUBLIC, inputCount: count, inputBits: bits, outputCount: 2 });
          models.push({ id: await registerWithLayout(f.registry, f.modelOwner, BigInt(bits * 1000 + count), adapter, l), bits, count });
        }
      }
      models.push({ id: f.pub41, bits: 12, count: 41 }); // 3 words
      return { ...f, models };
    }

    it("packs the inputs exactly like packSigned: inputCommitment is word 0, inputSignalsOf all words (fast-check)", async function () {
      const { jobs, requester, models } = await loadFixture(packFixture);
      const arb = fc
        .integer({ min: 0, max: models.length - 1 })
        .chain((i) =>
          fc.tuple(fc.constant(models[i]), fc.array(valueArb(models[i].bits), { minLength: models[i].count, maxLength: models[i].count })),
        );
      await fc.assert(
        fc.asyncProperty(arb, async ([model, values]) => {
          const words = packSigned(values, model.bits);
          const { jobId } = await openWithInputs(jobs, requester, model.id, values, await later(10 * HOUR));
          expect((await jobs.getJob(jobId)).inputCommitment).to.equal(words[0]);
          expect(await jobs.inputSignalsOf(jobId)).to.deep.equal(words);
        }),
        { numRuns: 30 },
      );
    });

    it("packs all-minimum and all-maximum inputs at every width (range edges)", async function () {
      const { jobs, requester, models } = await loadFixture(packFixture);
      for (const model of models) {
        const { lo, hi } = range(model.bits);
        for (const v of [lo, hi]) {
          const values = Array<bigint>(model.count).fill(v);
          const words = packSigned(values, model.bits);
          const { jobId } = await openWithInputs(jobs, requester, model.id, values);
          expect(await jobs.inputSignalsOf(jobId)).to.deep.equal(words);
          for (const w of words) expect(w < 1n << 248n).to.equal(true);
        }
      }
    });

    it("emits JobOpened (word 0, empty URI) and JobInputs(jobId, inputs), and caches the layout in the pinned target", async function () {
      const { jobs, requester, pub4, pub40, hashes, mockN, mock } = await loadFixture(layoutFixture);
      const values = [-2048n, 2047n, 0n, -1n];
      const deadline = await later();
      const w = packSigned(values, 12);
      const jobId = await jobs.nextJobId();
      await expect(jobs.connect(requester).openJobWithInputs(pub4, 1n, values, deadline, true, { value: FEE }))
        .to.emit(jobs, "JobOpened")
        .withArgs(jobId, requester.address, pub4, 1, w[0], FEE, deadline, true, "")
        .and.to.emit(jobs, "JobInputs")
        .withArgs(jobId, values)
        .and.to.emit(jobs, "VerificationTargetCached")
        .withArgs(pub4, 1, await modelSignal(hashes.pub4, PUB4_12 as ModelLayout), await mock.getAddress(), anyValue);
      const job = await jobs.getJob(jobId);
      expect(job.status).to.equal(Status.Open);
      expect(job.requester).to.equal(requester.address);
      expect(job.escrow).to.equal(FEE);
      expect(job.callback).to.equal(true);
      const t = await jobs.verificationTargetOf(pub4, 1);
      expect([t.inputMode, t.inputSignals, t.inputBits, t.inputCount]).to.deep.equal([1n, 1n, 12n, 4n]);

      const v40 = Array.from({ length: 40 }, (_, i) => BigInt(i % 2 === 0 ? -i : i));
      const w40 = packSigned(v40, 8);
      const id40 = await jobs.nextJobId();
      await expect(jobs.connect(requester).openJobWithInputs(pub40, 1n, v40, deadline, false, { value: FEE }))
        .to.emit(jobs, "JobOpened")
        .withArgs(id40, requester.address, pub40, 1, w40[0], FEE, deadline, false, "")
        .and.to.emit(jobs, "JobInputs")
        .withArgs(id40, v40);
      expect(await jobs.inputSignalsOf(id40)).to.deep.equal(w40);
      const t40 = await jobs.verificationTargetOf(pub40, 1);
      expect(t40.verifier).to.equal(await mockN.getAddress());
      expect([t40.inputMode, t40.inputSignals, t40.inputBits, t40.inputCount]).to.deep.equal([1n, 2n, 8n, 40n]);
    });

    it("inputSignalsOf a committed job is [inputCommitment]; on an unknown job it reverts with JobNotFound", async function () {
      const { jobs, requester, modelId } = await loadFixture(layoutFixture);
      const jobId = await openJob(jobs, requester, { modelId, inputCommitment: INPUT, fee: FEE, deadline: await later() });
      expect(await jobs.inputSignalsOf(jobId)).to.deep.equal([INPUT]);
      const t = await jobs.verificationTargetOf(modelId, 1);
      expect([t.inputMode, t.inputSignals, t.inputBits, t.inputCount]).to.deep.equal([0n, 1n, 0n, 0n]);
      await expect(jobs.inputSignalsOf(99n)).to.be.revertedWithCustomError(jobs, "JobNotFound").withArgs(99n);
    });

    it("reverts with InputCountMismatch(expected, actual) on another number of values", async function () {
      const { jobs, requester, pub4, pub40 } = await loadFixture(layoutFixture);
      const deadline = await later();
      for (const n of [0, 3, 5]) {
        await expect(jobs.connect(requester).openJobWithInputs(pub4, 1n, Array<bigint>(n).fill(1n), deadline, false, { value: FEE }))
          .to.be.revertedWithCustomError(jobs, "InputCountMismatch")
          .withArgs(4, n);
      }
      await expect(jobs.connect(requester).openJobWithInputs(pub40, 1n, Array<bigint>(31).fill(1n), deadline, false, { value: FEE }))
        .to.be.revertedWithCustomError(jobs, "InputCountMismatch")
        .withArgs(40, 31);
    });

    it("reverts with InputOutOfRange(index, value, bits) naming the first value outside the signed range", async function () {
      const { jobs, requester, pub4, pub40 } = await loadFixture(layoutFixture);
      const deadline = await later();
      const open = (id: bigint, v: bigint[]) => jobs.connect(requester).openJobWithInputs(id, 1n, v, deadline, false, { value: FEE });
      const INT256_MIN = -(1n << 255n);
      const INT256_MAX = (1n << 255n) - 1n;
      const cases: [bigint[], number, bigint][] = [
        [[0n, 2048n, -2049n, 0n], 1, 2048n], // above, before a below
        [[0n, -2049n, 2048n, 0n], 1, -2049n], // below, before an above
        [[2047n, -2048n, 0n, 4096n], 3, 4096n],
        [[-4096n, 0n, 0n, 0n], 0, -4096n],
        [[INT256_MIN, 0n, 0n, 0n], 0, INT256_MIN],
        [[0n, 0n, INT256_MAX, 0n], 2, INT256_MAX],
      ];
      for (const [v, index, value] of cases) {
        await expect(open(pub4, v)).to.be.revertedWithCustomError(jobs, "InputOutOfRange").withArgs(index, value, 12);
      }
      // in the second word of a 2-word version, at 8 bits
      const v40 = Array<bigint>(40).fill(127n);
      v40[35] = 128n;
      v40[36] = -129n;
      await expect(open(pub40, v40)).to.be.revertedWithCustomError(jobs, "InputOutOfRange").withArgs(35, 128n, 8);
      v40[35] = -128n;
      await expect(open(pub40, v40)).to.be.revertedWithCustomError(jobs, "InputOutOfRange").withArgs(36, -129n, 8);
    });

    it("refuses the wrong entry point with InputModeMismatch(modelId, version, mode)", async function () {
      const { jobs, requester, registry, modelOwner, adapter4, modelId, pub4 } = await loadFixture(layoutFixture);
      const deadline = await later();
      await expect(jobs.connect(requester).openJob(pub4, 1n, INPUT, "", deadline, false, { value: FEE }))
        .to.be.revertedWithCustomError(jobs, "InputModeMismatch")
        .withArgs(pub4, 1, 1);
      await expect(jobs.connect(requester).openJobWithInputs(modelId, 1n, [1n, 2n, 3n, 4n], deadline, false, { value: FEE }))
        .to.be.revertedWithCustomError(jobs, "InputModeMismatch")
        .withArgs(modelId, 1, 0);
      // a committed model updated to a public layout: new jobs need openJobWithInputs on version 2
      await registry.connect(modelOwner).updateModelWithLayout(modelId, commitment({ modelHash: 5n }), adapter4, PUB4_12);
      await expect(jobs.connect(requester).openJob(modelId, 2n, INPUT, "", deadline, false, { value: FEE }))
        .to.be.revertedWithCustomError(jobs, "InputModeMismatch")
        .withArgs(modelId, 2, 1);
      await expect(jobs.connect(requester).openJobWithInputs(modelId, 2n, [1n, 2n, 3n, 4n], deadline, false, { value: FEE }))
        .to.emit(jobs, "JobInputs")
        .withArgs(anyUint, [1n, 2n, 3n, 4n]);
    });

    it("applies the fee, deadline and model checks of openJob (ZeroFee, InvalidDeadline, DeprecatedModel, ModelNotFound)", async function () {
      const { jobs, requester, registry, modelOwner, pub4 } = await loadFixture(layoutFixture);
      const values = [1n, 2n, 3n, 4n];
      await expect(jobs.connect(requester).openJobWithInputs(pub4, 1n, values, await later(), false)).to.be.revertedWithCustomError(
        jobs,
        "ZeroFee",
      );
      // the block time of each call is pinned: under load the wall clock may move the next block's time on
      const past = await time.latest();
      await time.setNextBlockTimestamp(past + 1);
      await expect(jobs.connect(requester).openJobWithInputs(pub4, 1n, values, past, false, { value: FEE }))
        .to.be.revertedWithCustomError(jobs, "InvalidDeadline")
        .withArgs(past, past + 1);
      const tooFar = 2n ** 32n;
      const at = (await time.latest()) + 1;
      await time.setNextBlockTimestamp(at);
      await expect(jobs.connect(requester).openJobWithInputs(pub4, 1n, values, tooFar, false, { value: FEE }))
        .to.be.revertedWithCustomError(jobs, "InvalidDeadline")
        .withArgs(tooFar, at);
      // fee and deadline are checked before the inputs
      await expect(jobs.connect(requester).openJobWithInputs(pub4, 1n, [], await later(), false)).to.be.revertedWithCustomError(
        jobs,
        "ZeroFee",
      );
      await expect(jobs.connect(requester).openJobWithInputs(99n, 1n, values, await later(), false, { value: FEE }))
        .to.be.revertedWithCustomError(registry, "ModelNotFound")
        .withArgs(99n);
      await registry.connect(modelOwner).deprecateModel(pub4);
      await expect(jobs.connect(requester).openJobWithInputs(pub4, 1n, values, await later(), false, { value: FEE }))
        .to.be.revertedWithCustomError(jobs, "DeprecatedModel")
        .withArgs(pub4);
    });

    it("m = 1: accepts a proof over [output, modelCommitment, word, binding] and refuses one over another input", async function () {
      const { jobs, requester, prover, pub4, hashes, signals } = await loadFixture(layoutFixture);
      const values = [-7n, 100n, 2047n, -2048n];
      const { jobId } = await openWithInputs(jobs, requester, pub4, values);
      const word = packSigned(values, 12);
      for (let i = 0; i < values.length; ++i) {
        const other = [...values];
        other[i] = other[i] === 0n ? 1n : 0n;
        const p = mockProof(signals(jobId, prover.address, 2n, hashes.pub4, packSigned(other, 12)));
        await expect(jobs.connect(prover).submitResult(jobId, 2n, p))
          .to.be.revertedWithCustomError(jobs, "InvalidProof")
          .withArgs(jobId);
      }
      // bound to the output, the model and the prover too
      await expect(jobs.connect(prover).submitResult(jobId, 1n, mockProof(signals(jobId, prover.address, 2n, hashes.pub4, word))))
        .to.be.revertedWithCustomError(jobs, "InvalidProof")
        .withArgs(jobId);
      await expect(jobs.connect(prover).submitResult(jobId, 2n, mockProof(signals(jobId, prover.address, 2n, hashes.pub40, word))))
        .to.be.revertedWithCustomError(jobs, "InvalidProof")
        .withArgs(jobId);
      await expect(jobs.connect(prover).submitResult(jobId, 2n, mockProof(signals(jobId, requester.address, 2n, hashes.pub4, word))))
        .to.be.revertedWithCustomError(jobs, "InvalidProof")
        .withArgs(jobId);
      await expect(jobs.connect(prover).submitResult(jobId, 2n, mockProof(signals(jobId, prover.address, 2n, hashes.pub4, word))))
        .to.emit(jobs, "JobFulfilled")
        .withArgs(jobId, prover.address, 2n, FEE, 0n);
      expect(await jobs.resultOf(jobId)).to.deep.equal([true, 2n]);
    });

    for (const [name, count, bits, key] of [
      ["m = 2 (40 values at 8 bits)", 40, 8, "pub40"],
      ["m = 3 (41 values at 12 bits)", 41, 12, "pub41"],
    ] as const) {
      it(`${name}: the general path accepts the exact signals and refuses any single word changed`, async function () {
        const f = await loadFixture(layoutFixture);
        const { jobs, requester, prover, signals } = f;
        const id = f[key];
        const hash = f.hashes[key];
        const { lo, hi } = range(bits);
        const values = Array.from({ length: count }, (_, i) => (i === 0 ? lo : i === count - 1 ? hi : BigInt((i * 37) % 200) - 100n));
        const { jobId } = await openWithInputs(jobs, requester, id, values);
        const words = packSigned(values, bits);
        expect(await jobs.inputSignalsOf(jobId)).to.deep.equal(words);
        const output = 3n;
        const good = signals(jobId, prover.address, output, hash, words);
        const per = Math.floor(248 / bits);
        // another input value in each word
        for (let w = 0; w < words.length; ++w) {
          const other = [...values];
          const i = w * per + 1;
          other[i] = other[i] === 5n ? 6n : 5n;
          const changed = packSigned(other, bits);
          expect(changed.filter((x, k) => x !== words[k]).length).to.equal(1);
          const p = mockProofN(signals(jobId, prover.address, output, hash, changed));
          await expect(jobs.connect(prover).submitResult(jobId, output, p), `word ${w}`)
            .to.be.revertedWithCustomError(jobs, "InvalidProof")
            .withArgs(jobId);
        }
        // any other signal changed, the words swapped, or a proof over too few / too many signals
        for (let s = 0; s < good.length; ++s) {
          const bad = [...good];
          bad[s] += 1n;
          await expect(jobs.connect(prover).submitResult(jobId, output, mockProofN(bad)), `signal ${s}`)
            .to.be.revertedWithCustomError(jobs, "InvalidProof")
            .withArgs(jobId);
        }
        const swapped = signals(jobId, prover.address, output, hash, [words[1], words[0], ...words.slice(2)]);
        for (const bad of [swapped, good.slice(0, -1), [...good, 0n], [output, hash, words[0], good[good.length - 1]]]) {
          await expect(jobs.connect(prover).submitResult(jobId, output, mockProofN(bad)))
            .to.be.revertedWithCustomError(jobs, "InvalidProof")
            .withArgs(jobId);
        }
        // proof length is checked before the general path
        const p = mockProofN(good);
        for (const wrong of [p.slice(0, -2), p + "00", "0x"]) {
          await expect(jobs.connect(prover).submitResult(jobId, output, wrong))
            .to.be.revertedWithCustomError(jobs, "InvalidProofLength")
            .withArgs(256, (wrong.length - 2) / 2);
        }
        await expect(jobs.connect(prover).submitResult(jobId, output, p))
          .to.emit(jobs, "JobFulfilled")
          .withArgs(jobId, prover.address, output, FEE, 0n);
        expect((await jobs.getJob(jobId)).status).to.equal(Status.Fulfilled);
      });
    }

    it("keeps each job's words apart and verifies a job pinned on an older committed version with its 4 signals", async function () {
      const { jobs, requester, prover, registry, modelOwner, adapter5, modelId, modelHash, pub40, hashes, signals } =
        await loadFixture(layoutFixture);
      const a = Array.from({ length: 40 }, (_, i) => BigInt(i));
      const b = Array.from({ length: 40 }, (_, i) => BigInt(-i));
      const ja = (await openWithInputs(jobs, requester, pub40, a)).jobId;
      const jb = (await openWithInputs(jobs, requester, pub40, b)).jobId;
      expect(await jobs.inputSignalsOf(ja)).to.deep.equal(packSigned(a, 8));
      expect(await jobs.inputSignalsOf(jb)).to.deep.equal(packSigned(b, 8));
      // a's proof does not fulfil b
      await expect(jobs.connect(prover).submitResult(jb, 1n, mockProofN(signals(jb, prover.address, 1n, hashes.pub40, packSigned(a, 8)))))
        .to.be.revertedWithCustomError(jobs, "InvalidProof")
        .withArgs(jb);
      await expect(
        jobs.connect(prover).submitResult(jb, 1n, mockProofN(signals(jb, prover.address, 1n, hashes.pub40, packSigned(b, 8)))),
      ).to.emit(jobs, "JobFulfilled");

      const old = await openJob(jobs, requester, { modelId, inputCommitment: INPUT, fee: FEE, deadline: await later() });
      await registry.connect(modelOwner).updateModelWithLayout(modelId, commitment({ modelHash: 6n }), adapter5, PUB40_8);
      await expect(jobs.connect(prover).submitResult(old, 0n, mockProof(signals(old, prover.address, 0n, modelHash, [INPUT]))))
        .to.emit(jobs, "JobFulfilled")
        .withArgs(old, prover.address, 0n, FEE, 0n);
    });
  });

  describe("values head", function () {
    it("valuesOf decodes a fulfilled committed-input job's signed outputs and returns outputFrac; (false, [], frac) while open", async function () {
      const { jobs, requester, prover, committedValues, hashes, signals } = await loadFixture(layoutFixture);
      const jobId = await openJob(jobs, requester, { modelId: committedValues, inputCommitment: INPUT, fee: FEE, deadline: await later() });
      expect(await jobs.valuesOf(jobId)).to.deep.equal([false, [], 8n]);
      const outputs = [-32768n, 32767n, -1n, 0n, 256n];
      const [output] = packSigned(outputs, 16);
      await jobs
        .connect(prover)
        .submitResult(jobId, output, mockProof(signals(jobId, prover.address, output, hashes.committedValues, [INPUT])));
      expect(await jobs.valuesOf(jobId)).to.deep.equal([true, outputs, 8n]);
      expect(await jobs.resultOf(jobId)).to.deep.equal([true, output]);
    });

    it("valuesOf on a public-input, 2-word values job; (false, [], frac) once reclaimed", async function () {
      const { jobs, requester, prover, pub40, hashes, signals } = await loadFixture(layoutFixture);
      const inputs = Array.from({ length: 40 }, (_, i) => BigInt(i - 20));
      const { jobId } = await openWithInputs(jobs, requester, pub40, inputs);
      const outputs = [-32768n, 12345n, 32767n];
      const [output] = packSigned(outputs, 16);
      await jobs
        .connect(prover)
        .submitResult(jobId, output, mockProofN(signals(jobId, prover.address, output, hashes.pub40, packSigned(inputs, 8))));
      expect(await jobs.valuesOf(jobId)).to.deep.equal([true, outputs, 8n]);
      const deadline = await later(100);
      const { jobId: expired } = await openWithInputs(jobs, requester, pub40, inputs, deadline);
      await time.increaseTo(deadline + 1);
      await jobs.connect(requester).reclaim(expired);
      expect((await jobs.getJob(expired)).status).to.equal(Status.Reclaimed);
      expect(await jobs.valuesOf(expired)).to.deep.equal([false, [], 8n]);
    });

    it("valuesOf at the 124-bit edge (2 outputs, outputFrac = outputBits)", async function () {
      const { jobs, requester, prover, registry, modelOwner, adapter4, signals } = await loadFixture(layoutFixture);
      const l = layout({ outputHead: VALUES, outputCount: 2, outputBits: 124, outputFrac: 124 });
      const id = await registerWithLayout(registry, modelOwner, 77n, adapter4, l);
      const jobId = await openJob(jobs, requester, { modelId: id, inputCommitment: INPUT, fee: FEE, deadline: await later() });
      const { lo, hi } = range(124);
      const [output] = packSigned([lo, hi], 124);
      expect(output).to.equal(((1n << 124n) - 1n) << 124n);
      await jobs.connect(prover).submitResult(jobId, output, mockProof(signals(jobId, prover.address, output, 77n, [INPUT])));
      expect(await jobs.valuesOf(jobId)).to.deep.equal([true, [lo, hi], 124n]);
    });

    it("valuesOf reverts with NotAValuesModel on an argmax model and JobNotFound on an unknown job", async function () {
      const { jobs, requester, modelId, pub4 } = await loadFixture(layoutFixture);
      const a = await openJob(jobs, requester, { modelId, inputCommitment: INPUT, fee: FEE, deadline: await later() });
      await expect(jobs.valuesOf(a)).to.be.revertedWithCustomError(jobs, "NotAValuesModel").withArgs(modelId, 1);
      const { jobId: b } = await openWithInputs(jobs, requester, pub4, [0n, 0n, 0n, 0n]);
      await expect(jobs.valuesOf(b)).to.be.revertedWithCustomError(jobs, "NotAValuesModel").withArgs(pub4, 1);
      await expect(jobs.valuesOf(99n)).to.be.revertedWithCustomError(jobs, "JobNotFound").withArgs(99n);
    });

    it("SignedPacking.unpack is the inverse of packSigned (fast-check)", async function () {
      const { harness } = await loadFixture(layoutFixture);
      const arb = fc
        .integer({ min: 2, max: 124 })
        .chain((bits) => fc.tuple(fc.constant(bits), fc.array(valueArb(bits), { minLength: 0, maxLength: Math.floor(248 / bits) })));
      await fc.assert(
        fc.asyncProperty(arb, async ([bits, values]) => {
          const word = values.length === 0 ? 0n : packSigned(values, bits)[0];
          expect(await harness.unpack(word, values.length, bits)).to.deep.equal(values);
          expect(await harness.perWord(bits)).to.equal(BigInt(Math.floor(248 / bits)));
        }),
        { numRuns: 100 },
      );
    });

    it("SignedPacking.unpack reverts with UnpackableLayout(count, bits) outside 2..124 bits or past one word", async function () {
      const { harness } = await loadFixture(layoutFixture);
      for (const [count, bits] of [
        [1, 0],
        [1, 1],
        [0, 1],
        [1, 125],
        [1, 255],
        [32, 8], // floor(248/8) = 31
        [3, 124],
        [125, 2],
        [16, 16],
      ]) {
        await expect(harness.unpack(0n, count, bits))
          .to.be.revertedWithCustomError(harness, "UnpackableLayout")
          .withArgs(count, bits);
      }
      expect(await harness.unpack((1n << 248n) - 1n, 31, 8)).to.deep.equal(Array<bigint>(31).fill(127n));
      expect(await harness.unpack(0n, 124, 2)).to.deep.equal(Array<bigint>(124).fill(-2n));
    });
  });

  describe("gas (for docs)", function () {
    it("prints openJobWithInputs and submitResult gas for a 1-word and a 2-word version", async function () {
      const { jobs, requester, prover, pub4, pub40, hashes, signals } = await loadFixture(layoutFixture);
      const v4 = [-2048n, 2047n, 5n, -5n];
      const first = await openWithInputs(jobs, requester, pub4, v4);
      const second = await openWithInputs(jobs, requester, pub4, v4);
      await jobs.connect(prover).claim(second.jobId);
      const w4 = packSigned(v4, 12);
      const sub = await (
        await jobs.connect(prover).submitResult(second.jobId, 1n, mockProof(signals(second.jobId, prover.address, 1n, hashes.pub4, w4)))
      ).wait();
      expect((await jobs.getJob(second.jobId)).status).to.equal(Status.Fulfilled);

      const v40 = Array.from({ length: 40 }, (_, i) => BigInt(i * 3 - 60));
      const first40 = await openWithInputs(jobs, requester, pub40, v40);
      const second40 = await openWithInputs(jobs, requester, pub40, v40);
      await jobs.connect(prover).claim(second40.jobId);
      const [out] = packSigned([1n, -1n, 0n], 16);
      const sub40 = await (
        await jobs
          .connect(prover)
          .submitResult(second40.jobId, out, mockProofN(signals(second40.jobId, prover.address, out, hashes.pub40, packSigned(v40, 8))))
      ).wait();
      expect((await jobs.getJob(second40.jobId)).status).to.equal(Status.Fulfilled);

      console.log(`      gas openJobWithInputs (4 values at 12 bits, m = 1), first job on the version: ${first.gas}`);
      console.log(`      gas openJobWithInputs (4 values at 12 bits, m = 1), later job: ${second.gas}`);
      console.log(`      gas submitResult by the claimant (m = 1, mock verifier): ${sub!.gasUsed}`);
      console.log(`      gas openJobWithInputs (40 values at 8 bits, m = 2), first job on the version: ${first40.gas}`);
      console.log(`      gas openJobWithInputs (40 values at 8 bits, m = 2), later job: ${second40.gas}`);
      console.log(`      gas submitResult by the claimant (m = 2, mock verifier): ${sub40!.gasUsed}`);
    });
  });
});
