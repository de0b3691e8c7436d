/**
 * Real PLONK and FFLONK proofs (toy circuit with the 4-signal layout, test/contracts/fixtures/toy/) through
 * PlonkVerifierAdapter / FflonkVerifierAdapter (created by VerifierAdapterFactory where registered), ModelRegistry,
 * InferenceJobs and ZKMLVerifier (both call the snarkjs verifier directly, with the selector and the 768-byte proof
 * length copied from the adapter); also prints the gas figures quoted in docs/contracts.md.
 */
import { recordGas } from "../helpers/gas-figures";
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import * as fs from "fs";
import * as path from "path";
import type { VerificationKey } from "snarkjs";
import {
  FFLONK_BN254_V1,
  PLONK_BN254_V1,
  PLONK_SYSTEM_IDS,
  provePlonk,
  verifyPlonk,
  type PlonkSystem,
} from "../../scripts/engine/prove/plonk";
import { releaseSnarkjs } from "../../scripts/util/snarkjs-threads";
import { SNARK_FIELD } from "../../scripts/util/field";
import {
  commitment,
  createAdapter,
  deployFactory,
  deployJobs,
  deployRegistry,
  deployZKMLVerifier,
  GROTH16_BN254_V1,
  jobBinding,
  modelSignal,
  openJob,
  registerModel,
  standaloneBinding,
} from "./fixtures";
import type { FflonkVerifierAdapter, PlonkVerifierAdapter } from "../../typechain-types";

const TOY = path.join(__dirname, "fixtures", "toy");
const WASM = path.join(TOY, "toy.wasm");
const MODEL = 987654321987654321n;
const INPUT = 5555n;
const X = 42n;
const FEE = ethers.parseEther("1");
const coder = ethers.AbiCoder.defaultAbiCoder();

/** The toy circuit's output for our inputs: out = model * input + x (mod r). */
const toyOutput = (model: bigint, input: bigint, x: bigint) => (model * input + x) % SNARK_FIELD;

interface SystemCase {
  system: PlonkSystem;
  adapterName: "PlonkVerifierAdapter" | "FflonkVerifierAdapter";
  toyVerifier: "ToyPlonkVerifier" | "ToyFflonkVerifier";
  zkey: string;
  vk: string;
  id: string;
  selectorSig: (n: number) => string;
}

const CASES: SystemCase[] = [
  {
    system: "plonk",
    adapterName: "PlonkVerifierAdapter",
    toyVerifier: "ToyPlonkVerifier",
    zkey: path.join(TOY, "toy_plonk.zkey"),
    vk: path.join(TOY, "vk_plonk.json"),
    id: PLONK_BN254_V1,
    selectorSig: (n) => `verifyProof(uint256[24],uint256[${n}])`,
  },
  {
    system: "fflonk",
    adapterName: "FflonkVerifierAdapter",
    toyVerifier: "ToyFflonkVerifier",
    zkey: path.join(TOY, "toy_fflonk.zkey"),
    vk: path.join(TOY, "vk_fflonk.json"),
    id: FFLONK_BN254_V1,
    selectorSig: (n) => `verifyProof(bytes32[24],uint256[${n}])`,
  },
];

/** `words` with word `i` replaced by `(words[i] + 1) mod r`, ABI-encoded as the adapters take it. */
function tamper(words: bigint[], i: number): string {
  const w = [...words];
  w[i] = (w[i] + 1n) % SNARK_FIELD;
  return coder.encode(["uint256[24]"], [w]);
}

type Adapter = PlonkVerifierAdapter | FflonkVerifierAdapter;

/** Deploys `c`'s adapter around `verifier` with `n` signals directly (to test the adapter itself; not registrable). */
async function deployAdapter(c: SystemCase, verifier: string, n: number): Promise<Adapter> {
  const a = (await (await ethers.getContractFactory(c.adapterName)).deploy(verifier, n)) as unknown as Adapter;
  await a.waitForDeployment();
  return a;
}

/** One fixture function per system (loadFixture caches by function identity). */
function marketFixture(c: SystemCase) {
  return async function market() {
    const [deployer, modelOwner, requester, prover, prover2] = await ethers.getSigners();
    const toy = await (await ethers.getContractFactory(c.toyVerifier)).deploy();
    const factory = await deployFactory(deployer);
    const adapter = (await ethers.getContractAt(
      c.adapterName,
      await createAdapter(factory, await toy.getAddress(), 4, c.id),
    )) as unknown as Adapter;
    const registry = await deployRegistry(deployer, factory);
    const modelId = await registerModel(registry, modelOwner, { modelHash: MODEL, proofSystemId: c.id }, await adapter.getAddress());
    const jobs = await deployJobs(await registry.getAddress());
    const zkmlVerifier = await deployZKMLVerifier(await registry.getAddress());
    const { chainId } = await ethers.provider.getNetwork();
    const deadline = (await ethers.provider.getBlock("latest"))!.timestamp + 3600;
    return { toy, factory, adapter, registry, jobs, zkmlVerifier, modelId, modelOwner, requester, prover, prover2, chainId, deadline };
  };
}

describe("PLONK and FFLONK (real proofs, toy circuit)", function () {
  after(releaseSnarkjs);

  for (const c of CASES) {
    const market = marketFixture(c);
    const prove = async (binding: bigint, input = INPUT) => {
      const r = await provePlonk(c.system, WASM, c.zkey, {
        modelCommitment: (await modelSignal(MODEL)).toString(),
        inputCommitment: input.toString(),
        jobBinding: binding.toString(),
        x: X.toString(),
      });
      return { output: r.publicSignals[0], proof: r.packed.bytes, words: r.packed.words, signals: r.publicSignals, raw: r.proof };
    };

    describe(c.adapterName, function () {
      describe("constructor", function () {
        it("reverts when the verifier has no code", async function () {
          const f = await ethers.getContractFactory(c.adapterName);
          const [s] = await ethers.getSigners();
          await expect(f.deploy(s.address, 4)).to.be.revertedWithCustomError(f, "VerifierHasNoCode").withArgs(s.address);
        });

        it("reverts when the signal count is zero", async function () {
          const { toy } = await loadFixture(market);
          const f = await ethers.getContractFactory(c.adapterName);
          await expect(f.deploy(await toy.getAddress(), 0))
            .to.be.revertedWithCustomError(f, "UnsupportedSignalCount")
            .withArgs(0);
        });

        it("derives verifyProof's selector for N signals and reports its id, N and verifier", async function () {
          const { toy, adapter } = await loadFixture(market);
          expect(await adapter.verifyProofSelector()).to.equal(ethers.id(c.selectorSig(4)).slice(0, 10));
          expect(await adapter.proofLength()).to.equal(768n);
          expect(await adapter.proofSystemId()).to.equal(c.id);
          expect(await adapter.proofSystemId()).to.equal(ethers.id(`${c.system}-bn254-v1`).slice(0, 10));
          expect(await adapter.numPublicSignals()).to.equal(4n);
          expect(await adapter.verifier()).to.equal(await toy.getAddress());
          const a12 = await deployAdapter(c, await toy.getAddress(), 12);
          expect(await a12.verifyProofSelector()).to.equal(ethers.id(c.selectorSig(12)).slice(0, 10));
          expect(await a12.numPublicSignals()).to.equal(12n);
        });
      });

      describe("verify", function () {
        it("accepts a real proof (also off-chain) and rejects it with any signal changed", async function () {
          const { adapter } = await loadFixture(market);
          const { proof, signals, raw, output } = await prove(77n);
          expect(output).to.equal(toyOutput(await modelSignal(MODEL), INPUT, X));
          const vk = JSON.parse(fs.readFileSync(c.vk, "utf8")) as VerificationKey;
          expect(await verifyPlonk(c.system, vk, signals, raw)).to.equal(true);
          expect(await adapter.verify(proof, signals)).to.equal(true);
          for (let i = 0; i < 4; i++) {
            const bad = [...signals];
            bad[i] = (bad[i] + 1n) % SNARK_FIELD;
            expect(await adapter.verify(proof, bad)).to.equal(false);
          }
          // Reference: the snarkjs verifier called directly with the calldata the adapter builds.
          const direct = (await adapter.verifyProofSelector()) + proof.slice(2) + coder.encode(["uint256[4]"], [signals]).slice(2);
          const toyAddr = await adapter.verifier();
          expect(coder.decode(["bool"], await ethers.provider.call({ to: toyAddr, data: direct }))[0]).to.equal(true);
          const viaAdapter = await adapter.verify.estimateGas(proof, signals);
          const directGas = await ethers.provider.estimateGas({ to: toyAddr, data: direct });
          console.log(
            `      gas (eth_estimateGas, incl. 21k + calldata): ${c.adapterName}.verify ${viaAdapter}, snarkjs verifier directly ${directGas}`,
          );
        });

        it("returns false for a tampered proof (a commitment coordinate, an evaluation, the last word)", async function () {
          const { adapter } = await loadFixture(market);
          const { words, signals } = await prove(77n);
          for (const i of [0, 1, 9, 17, 18, 23]) {
            expect(await adapter.verify(tamper(words, i), signals), `word ${i}`).to.equal(false);
          }
          expect(await adapter.verify("0x" + "00".repeat(768), signals), "all-zero proof").to.equal(false);
        });

        it("returns false when the wrapped contract has no matching verifyProof", async function () {
          const { registry } = await loadFixture(market);
          // The registry has code but no verifyProof and no fallback: the staticcall fails.
          const a = await deployAdapter(c, await registry.getAddress(), 4);
          const { proof, signals } = await prove(77n);
          expect(await a.verify(proof, signals)).to.equal(false);
        });

        it("reverts when the proof length is not 768 bytes", async function () {
          const { adapter } = await loadFixture(market);
          const { proof, signals } = await prove(77n);
          await expect(adapter.verify(proof + "00", signals))
            .to.be.revertedWithCustomError(adapter, "InvalidProofLength")
            .withArgs(768, 769);
          await expect(adapter.verify(proof.slice(0, 2 + 2 * 256), signals))
            .to.be.revertedWithCustomError(adapter, "InvalidProofLength")
            .withArgs(768, 256);
          await expect(adapter.verify("0x", signals)).to.be.revertedWithCustomError(adapter, "InvalidProofLength").withArgs(768, 0);
        });

        it("reverts when the signal count is not N", async function () {
          const { adapter } = await loadFixture(market);
          const { proof, signals } = await prove(77n);
          await expect(adapter.verify(proof, signals.slice(0, 3)))
            .to.be.revertedWithCustomError(adapter, "InvalidSignalCount")
            .withArgs(4, 3);
          await expect(adapter.verify(proof, [...signals, 0n]))
            .to.be.revertedWithCustomError(adapter, "InvalidSignalCount")
            .withArgs(4, 5);
          await expect(adapter.verify(proof, [])).to.be.revertedWithCustomError(adapter, "InvalidSignalCount").withArgs(4, 0);
        });

        it("reverts when a signal is >= r (instead of letting an alias verify)", async function () {
          const { adapter } = await loadFixture(market);
          const { proof, signals } = await prove(77n);
          const aliased = [...signals];
          aliased[2] = aliased[2] + SNARK_FIELD;
          await expect(adapter.verify(proof, aliased)).to.be.revertedWithCustomError(adapter, "SignalNotInField").withArgs(2, aliased[2]);
          const atR = [...signals];
          atR[3] = SNARK_FIELD;
          await expect(adapter.verify(proof, atR)).to.be.revertedWithCustomError(adapter, "SignalNotInField").withArgs(3, SNARK_FIELD);
        });
      });

      describe("ModelRegistry.registerModelWithVerifier", function () {
        it(`accepts the factory adapter under ${c.system}-bn254-v1 with 4 signals and records the verifier it wraps`, async function () {
          const { registry, adapter, toy, modelOwner } = await loadFixture(market);
          const a = await adapter.getAddress();
          const t = await toy.getAddress();
          const codeHash = ethers.keccak256(await ethers.provider.getCode(t));
          await expect(registry.connect(modelOwner).registerModelWithVerifier(commitment({ modelHash: MODEL, proofSystemId: c.id }), a, 4))
            .to.emit(registry, "ModelVersionCreated")
            .withArgs(2n, 1n, a, 4, t, codeHash);
          const [stored, verifier, n] = await registry.getModelVersion(2n, 1n);
          expect(stored.proofSystemId).to.equal(c.id);
          expect(verifier).to.equal(a);
          expect(n).to.equal(4n);
          expect(await registry.verificationTarget(2n, 1n)).to.deep.equal([
            await modelSignal(MODEL),
            a,
            t,
            ethers.id(c.selectorSig(4)).slice(0, 10),
            768n,
            4n,
            codeHash,
            [0n, 0n, 0n, 0n, 0n, 0n, 0n],
          ]);
        });

        it("refuses the same adapter deployed directly (AdapterNotFromFactory)", async function () {
          const { registry, toy, modelOwner } = await loadFixture(market);
          const direct = await (await deployAdapter(c, await toy.getAddress(), 4)).getAddress();
          await expect(
            registry.connect(modelOwner).registerModelWithVerifier(commitment({ modelHash: MODEL, proofSystemId: c.id }), direct, 4),
          )
            .to.be.revertedWithCustomError(registry, "AdapterNotFromFactory")
            .withArgs(direct);
        });

        it("reverts when the commitment names another proof system or signal count", async function () {
          const { registry, adapter, modelOwner } = await loadFixture(market);
          const a = await adapter.getAddress();
          const others = [GROTH16_BN254_V1, ...Object.values(PLONK_SYSTEM_IDS).filter((id) => id !== c.id)];
          for (const other of others) {
            await expect(
              registry.connect(modelOwner).registerModelWithVerifier(commitment({ modelHash: MODEL, proofSystemId: other }), a, 4),
            )
              .to.be.revertedWithCustomError(registry, "VerifierMismatch")
              .withArgs(a, c.id, 4);
          }
          await expect(registry.connect(modelOwner).registerModelWithVerifier(commitment({ modelHash: MODEL, proofSystemId: c.id }), a, 3))
            .to.be.revertedWithCustomError(registry, "VerifierMismatch")
            .withArgs(a, c.id, 4);
        });
      });

      describe("InferenceJobs.submitResult", function () {
        it("accepts a valid result, pays it once, and reports the gas used", async function () {
          const { jobs, modelId, requester, prover, chainId, deadline } = await loadFixture(market);
          const jobId = await openJob(jobs, requester, { modelId, inputCommitment: INPUT, fee: FEE, deadline });
          const { output, proof } = await prove(jobBinding(chainId, await jobs.getAddress(), jobId, prover.address));
          expect(output).to.equal(toyOutput(await modelSignal(MODEL), INPUT, X));
          const tx = await jobs.connect(prover).submitResult(jobId, output, proof);
          await expect(tx).to.emit(jobs, "JobFulfilled").withArgs(jobId, prover.address, output, FEE, 0n);
          const submitGas = (await tx.wait())!.gasUsed;
          expect(await jobs.resultOf(jobId)).to.deep.equal([true, output]);
          expect((await jobs.accountOf(prover.address)).available).to.equal(FEE);
          await expect(jobs.connect(prover).submitResult(jobId, output, proof))
            .to.be.revertedWithCustomError(jobs, "JobNotOpen")
            .withArgs(jobId, 3);
          console.log(`      gas: submitResult (real ${c.system}, 4 signals, first payout) ${submitGas}`);
          recordGas(`${c.system.toLowerCase()}.submit.fresh`, submitGas);
        });

        it("reports the gas of an unclaimed job paid to a prover that already has a balance", async function () {
          const { jobs, modelId, requester, prover, chainId, deadline } = await loadFixture(market);
          await jobs.connect(prover).deposit({ value: 1n });
          const jobId = await openJob(jobs, requester, { modelId, inputCommitment: INPUT, fee: FEE, deadline });
          const { output, proof } = await prove(jobBinding(chainId, await jobs.getAddress(), jobId, prover.address));
          const tx = await jobs.connect(prover).submitResult(jobId, output, proof);
          await expect(tx).to.emit(jobs, "JobFulfilled").withArgs(jobId, prover.address, output, FEE, 0n);
          const submitGas = (await tx.wait())!.gasUsed;
          console.log(`      gas: submitResult (real ${c.system}, unclaimed, prover account non-empty) ${submitGas}`);
          recordGas(`${c.system.toLowerCase()}.submit.nonEmpty`, submitGas);
        });

        it("rejects a tampered proof, a tampered binding, another job's proof, another prover, a changed output", async function () {
          const { jobs, modelId, requester, prover, prover2, chainId, deadline } = await loadFixture(market);
          const jobsAddr = await jobs.getAddress();
          const job1 = await openJob(jobs, requester, { modelId, inputCommitment: INPUT, fee: FEE, deadline });
          const job2 = await openJob(jobs, requester, { modelId, inputCommitment: INPUT, fee: FEE, deadline });
          const binding1 = jobBinding(chainId, jobsAddr, job1, prover.address);
          const { output, proof, words } = await prove(binding1);
          // tampered proof words
          for (const i of [0, 20]) {
            await expect(jobs.connect(prover).submitResult(job1, output, tamper(words, i)))
              .to.be.revertedWithCustomError(jobs, "InvalidProof")
              .withArgs(job1);
          }
          // a proof of a tampered binding (binding + 1) for job 1
          const t = await prove((binding1 + 1n) % SNARK_FIELD);
          await expect(jobs.connect(prover).submitResult(job1, t.output, t.proof))
            .to.be.revertedWithCustomError(jobs, "InvalidProof")
            .withArgs(job1);
          // job 1's proof for job 2 (same model and input)
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
          // a proof for another input
          const job3 = await openJob(jobs, requester, { modelId, inputCommitment: INPUT + 1n, fee: FEE, deadline });
          const p3 = await prove(jobBinding(chainId, jobsAddr, job3, prover.address));
          await expect(jobs.connect(prover).submitResult(job3, p3.output, p3.proof))
            .to.be.revertedWithCustomError(jobs, "InvalidProof")
            .withArgs(job3);
          // a malformed proof length: checked by the jobs contract against the length copied from the adapter
          await expect(jobs.connect(prover).submitResult(job1, output, proof + "00"))
            .to.be.revertedWithCustomError(jobs, "InvalidProofLength")
            .withArgs(768, 769);
          await expect(jobs.connect(prover).submitResult(job1, output, proof.slice(0, 2 + 2 * 256)))
            .to.be.revertedWithCustomError(jobs, "InvalidProofLength")
            .withArgs(768, 256);
          // and the genuine one still works, once
          await expect(jobs.connect(prover).submitResult(job1, output, proof))
            .to.emit(jobs, "JobFulfilled")
            .withArgs(job1, prover.address, output, FEE, 0n);
        });
      });

      describe("ZKMLVerifier.verifyInference", function () {
        it("accepts a standalone proof bound to the caller once, and rejects it from anyone else", async function () {
          const { zkmlVerifier, modelId, requester, prover, chainId } = await loadFixture(market);
          const { output, proof } = await prove(standaloneBinding(chainId, await zkmlVerifier.getAddress(), prover.address));
          const input32 = ethers.toBeHex(INPUT, 32);
          const out = coder.encode(["uint256"], [output]);
          await expect(zkmlVerifier.connect(prover).verifyInference(modelId, input32, out, proof))
            .to.emit(zkmlVerifier, "InferenceVerified")
            .withArgs(modelId, input32, out, prover.address);
          await expect(zkmlVerifier.connect(requester).verifyInference(modelId, input32, out, proof)).to.be.revertedWithCustomError(
            zkmlVerifier,
            "InvalidProof",
          );
          // its nonce is spent
          await expect(zkmlVerifier.connect(prover).verifyInference(modelId, input32, out, proof)).to.be.revertedWithCustomError(
            zkmlVerifier,
            "InvalidProof",
          );
        });
      });
    });
  }
});
