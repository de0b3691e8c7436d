/**
 * Batch settlement with real Groth16 proofs of the toy circuit (test/contracts/fixtures/toy/): the generated batch
 * verifier (`ToyGroth16BatchVerifier`, snarkjs' verifier of toy.zkey plus `verifyBatch`) on its own and behind
 * `InferenceJobs.submitResults`. Soundness: one bad proof fails the batch; a proof for another job, prover or input
 * fails it; the same job twice, mixed job states, two verifying keys are refused; the Fiat-Shamir challenges depend
 * on the proofs (a pair crafted to cancel for chosen challenges passes the chosen-challenge mock, not the real one).
 * Also prints the batch gas figures quoted in docs/contracts.md.
 */
import { recordGas } from "../helpers/gas-figures";
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import * as fs from "fs";
import * as path from "path";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { proveGroth16 } from "../../scripts/engine/prove/groth16";
import { releaseSnarkjs } from "../../scripts/util/snarkjs-threads";
import { SNARK_FIELD } from "../../scripts/util/field";
import { batchChallenges, transcriptVkWords } from "../../scripts/engine/setup/groth16-batch";
import { PLONK_BN254_V1 } from "../../scripts/engine/prove/plonk";
import { createAdapter, deployMarketForVerifier, jobBinding, modelSignal, openJob, registerModel } from "./fixtures";
import type { InferenceJobs } from "../../typechain-types";

const TOY = path.join(__dirname, "fixtures", "toy");
const WASM = path.join(TOY, "toy.wasm");
const ZKEY = path.join(TOY, "toy.zkey");
const MODEL = 987654321987654321n;
const INPUT = 5555n;
const FEE = ethers.parseEther("1");
const coder = ethers.AbiCoder.defaultAbiCoder();
const VK_WORDS = transcriptVkWords(JSON.parse(fs.readFileSync(path.join(TOY, "vk.json"), "utf8")));
/** BN254 base field modulus. */
const Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583n;

interface Proved {
  output: bigint;
  proof: string;
  signals: bigint[];
  words: bigint[];
}

async function prove(input: bigint, binding: bigint, x = 42n): Promise<Proved> {
  const r = await proveGroth16(WASM, ZKEY, {
    modelCommitment: (await modelSignal(MODEL)).toString(),
    inputCommitment: input.toString(),
    jobBinding: binding.toString(),
    x: x.toString(),
  });
  return { output: r.publicSignals[0], proof: r.packed.bytes, signals: r.publicSignals, words: proofWords(r.packed.bytes) };
}

/** The 8 words of a 256-byte proof (the order verifyBatch takes). */
function proofWords(proof: string): bigint[] {
  return (coder.decode(["uint256[8]"], proof)[0] as bigint[]).map((w) => BigInt(w));
}

function wordsToProof(w: bigint[]): string {
  return coder.encode(["uint256[8]"], [w]);
}

// Affine BN254 G1 arithmetic (y^2 = x^3 + 3 over F_q), for crafting proofs.
const mod = (a: bigint) => ((a % Q) + Q) % Q;
function inv(a: bigint): bigint {
  let [r0, r1, s0, s1] = [mod(a), Q, 1n, 0n];
  while (r1 !== 0n) {
    const t = r0 / r1;
    [r0, r1] = [r1, r0 - t * r1];
    [s0, s1] = [s1, s0 - t * s1];
  }
  return mod(s0);
}
type P = [bigint, bigint];
function add(p: P, q: P): P {
  if (p[0] === 0n && p[1] === 0n) return q;
  if (q[0] === 0n && q[1] === 0n) return p;
  if (p[0] === q[0]) {
    if (mod(p[1] + q[1]) === 0n) return [0n, 0n];
    const l = mod(3n * p[0] * p[0] * inv(2n * p[1]));
    const x = mod(l * l - 2n * p[0]);
    return [x, mod(l * (p[0] - x) - p[1])];
  }
  const l = mod((q[1] - p[1]) * inv(q[0] - p[0]));
  const x = mod(l * l - p[0] - q[0]);
  return [x, mod(l * (p[0] - x) - p[1])];
}
function mul(p: P, k: bigint): P {
  let acc: P = [0n, 0n];
  let base = p;
  for (let e = ((k % SNARK_FIELD) + SNARK_FIELD) % SNARK_FIELD; e > 0n; e >>= 1n) {
    if (e & 1n) acc = add(acc, base);
    base = add(base, base);
  }
  return acc;
}
const neg = (p: P): P => [p[0], mod(-p[1])];
const G: P = [1n, 2n];

async function toyBatchMarket() {
  const [, , requester, prover, prover2] = await ethers.getSigners();
  const batch = await (await ethers.getContractFactory("ToyGroth16BatchVerifier")).deploy();
  const chosen = await (await ethers.getContractFactory("ToyGroth16ChosenChallengeBatchVerifier")).deploy();
  const m = await deployMarketForVerifier(await batch.getAddress(), MODEL);
  const latest = (await ethers.provider.getBlock("latest"))!.timestamp;
  await m.jobs.connect(prover).deposit({ value: ethers.parseEther("2") });
  return { ...m, batch, chosen, requester, prover, prover2, deadline: latest + 3600 };
}

async function openN(jobs: InferenceJobs, requester: HardhatEthersSigner, modelId: bigint, deadline: number, n: number, input = INPUT) {
  const ids: bigint[] = [];
  for (let i = 0; i < n; i++) ids.push(await openJob(jobs, requester, { modelId, inputCommitment: input, fee: FEE, deadline }));
  return ids;
}

async function proveJobs(jobs: InferenceJobs, chainId: bigint, prover: string, ids: bigint[], input = INPUT) {
  const addr = await jobs.getAddress();
  return Promise.all(ids.map((id) => prove(input, jobBinding(chainId, addr, id, prover))));
}

describe("Groth16 batch settlement (real proofs, toy circuit)", function () {
  after(releaseSnarkjs);

  describe("ToyGroth16BatchVerifier.verifyBatch", function () {
    it("accepts valid proofs of one key, keeps snarkjs' verifyProof, and rejects any change", async function () {
      const { batch } = await loadFixture(toyBatchMarket);
      const ps = await Promise.all([77n, 78n, 79n].map((b) => prove(INPUT, b)));
      const words = ps.flatMap((p) => p.words);
      const sigs = ps.flatMap((p) => p.signals);
      expect(await batch.verifyBatch(words, sigs)).to.equal(true);
      expect(await batch.verifyBatch(ps[1].words, ps[1].signals)).to.equal(true);
      const p0 = ps[0];
      const w0 = p0.words;
      const b0: [[bigint, bigint], [bigint, bigint]] = [
        [w0[2], w0[3]],
        [w0[4], w0[5]],
      ];
      expect(
        await batch.verifyProof([w0[0], w0[1]], b0, [w0[6], w0[7]], [p0.signals[0], p0.signals[1], p0.signals[2], p0.signals[3]]),
      ).to.equal(true);
      // any one signal of any proof changed
      for (let k = 0; k < sigs.length; k++) {
        const bad = [...sigs];
        bad[k] = (bad[k] + 1n) % SNARK_FIELD;
        expect(await batch.verifyBatch(words, bad), `signal ${k}`).to.equal(false);
      }
      // proofs swapped against their signals
      expect(await batch.verifyBatch([...ps[1].words, ...ps[0].words], [...ps[0].signals, ...ps[1].signals])).to.equal(false);
      // malformed: counts, an alias >= r, an off-curve point: false, never a revert
      expect(await batch.verifyBatch([], [])).to.equal(false);
      expect(await batch.verifyBatch(words.slice(0, 7), sigs.slice(0, 4))).to.equal(false);
      expect(await batch.verifyBatch(words, sigs.slice(0, 8))).to.equal(false);
      const alias = [...sigs];
      alias[2] += SNARK_FIELD;
      expect(await batch.verifyBatch(words, alias)).to.equal(false);
      const offCurve = [...words];
      offCurve[0] = (offCurve[0] + 1n) % Q;
      expect(await batch.verifyBatch(offCurve, sigs)).to.equal(false);
    });

    it("Fiat-Shamir: a pair whose errors cancel for chosen challenges passes the chosen-challenge mock, never the real check", async function () {
      const { batch, chosen } = await loadFixture(toyBatchMarket);
      const [p1, p2] = await Promise.all([prove(INPUT, 101n), prove(INPUT, 102n)]);
      const sigs = [...p1.signals, ...p2.signals];
      const C1: P = [p1.words[6], p1.words[7]];
      const C2: P = [p2.words[6], p2.words[7]];
      // Shift C1 by D and C2 by -(r1/r2) D: with challenges (r1, r2), r1 C1' + r2 C2' = r1 C1 + r2 C2.
      const tamper = (r1: bigint, r2: bigint, d: bigint) => {
        const D = mul(G, d);
        const k = (r1 * modInv(r2)) % SNARK_FIELD;
        const c1 = add(C1, D);
        const c2 = add(C2, neg(mul(D, k)));
        return [...p1.words.slice(0, 6), ...c1, ...p2.words.slice(0, 6), ...c2];
      };
      for (const [r1, r2] of [
        [1n, 1n],
        [3n, 5n],
      ]) {
        const crafted = tamper(r1, r2, 7n);
        // each crafted proof is invalid on its own
        expect(await batch.verifyBatch(crafted.slice(0, 8), p1.signals)).to.equal(false);
        expect(await batch.verifyBatch(crafted.slice(8), p2.signals)).to.equal(false);
        // with the challenges fixed in advance, the errors cancel and the batch "verifies"
        expect(await chosen.verifyBatchWithChallenges(crafted, sigs, [r1, r2])).to.equal(true);
        // the real verifier derives its challenges from the crafted proofs themselves: rejected
        expect(await batch.verifyBatch(crafted, sigs)).to.equal(false);
      }
      // The attacker's best try: tune the second shift to the challenges of the transcript with C2 unshifted (the
      // challenges the contract would use if C2 stayed). Shifting C2 changes the transcript, hence the challenges.
      const seedOf = (w: bigint[]) => batchChallenges(VK_WORDS, w, sigs);
      const partial = [...p1.words.slice(0, 6), ...add(C1, mul(G, 7n)), ...p2.words];
      const [r1, r2] = seedOf(partial);
      const crafted = tamper(r1, r2, 7n);
      expect(await chosen.verifyBatchWithChallenges(crafted, sigs, [r1, r2])).to.equal(true);
      expect(seedOf(crafted)).to.not.deep.equal([r1, r2]);
      expect(await batch.verifyBatch(crafted, sigs)).to.equal(false);
      // and the genuine pair passes both
      expect(await batch.verifyBatch([...p1.words, ...p2.words], sigs)).to.equal(true);
      expect(await chosen.verifyBatchWithChallenges([...p1.words, ...p2.words], sigs, [r1, r2])).to.equal(true);
    });
  });

  describe("InferenceJobs.submitResults", function () {
    it("settles a batch (claimed and unclaimed jobs, a callback) exactly as one-by-one submissions would, and reports the gas", async function () {
      const { jobs, modelId, requester, prover, chainId, deadline } = await loadFixture(toyBatchMarket);
      const ids = await openN(jobs, requester, modelId, deadline, 3);
      const req = await (await ethers.getContractFactory("MockRequester")).deploy(await jobs.getAddress());
      await (await req.open(modelId, INPUT, deadline, true, { value: FEE })).wait();
      ids.push((await jobs.nextJobId()) - 1n);
      await jobs.connect(prover).claim(ids[1]);
      await jobs.connect(prover).claim(ids[2]);
      const before = await jobs.accountOf(prover.address);
      expect(before.locked).to.equal(2n * (await jobs.claimBond()));
      const ps = await proveJobs(jobs, chainId, prover.address, ids);
      const tx = await jobs.connect(prover).submitResults(
        ids,
        ps.map((p) => p.output),
        ps.map((p) => p.proof),
      );
      for (let i = 0; i < ids.length; i++) {
        await expect(tx).to.emit(jobs, "JobFulfilled").withArgs(ids[i], prover.address, ps[i].output, FEE, 0n);
        expect(await jobs.resultOf(ids[i])).to.deep.equal([true, ps[i].output]);
      }
      const after = await jobs.accountOf(prover.address);
      expect(after.locked).to.equal(0n);
      expect(after.available).to.equal(before.available + before.locked + 4n * FEE);
      expect(await req.lastJobId()).to.equal(ids[3]);
      expect(await req.calls()).to.equal(1n);
      const gas = (await tx.wait())!.gasUsed;
      console.log(`      gas: submitResults, 4 jobs (2 claimed by the caller, 1 callback) ${gas}, ${gas / 4n} per result`);
      // and settled means settled: the same batch again refuses the first job
      await expect(
        jobs.connect(prover).submitResults(
          ids,
          ps.map((p) => p.output),
          ps.map((p) => p.proof),
        ),
      )
        .to.be.revertedWithCustomError(jobs, "JobNotOpen")
        .withArgs(ids[0], 3);
    });

    it("reports the gas per result of batches of 1, 4 and 16 claimed jobs (claimant submitting)", async function () {
      const { jobs, modelId, requester, prover, chainId, deadline, batch } = await loadFixture(toyBatchMarket);
      const plainToy = await (await ethers.getContractFactory("ToyGroth16Verifier")).deploy();
      await jobs.connect(prover).deposit({ value: ethers.parseEther("2") });
      const ids = await openN(jobs, requester, modelId, deadline, 21);
      for (const id of ids) await jobs.connect(prover).claim(id);
      const ps = await proveJobs(jobs, chainId, prover.address, ids);
      // The verifier calls alone (eth_estimateGas: 21k + calldata included): what a per-proof fallback would add.
      const single = ps[0].words;
      const est = {
        single: await plainToy.verifyProof.estimateGas(
          [single[0], single[1]],
          [
            [single[2], single[3]],
            [single[4], single[5]],
          ],
          [single[6], single[7]],
          [ps[0].signals[0], ps[0].signals[1], ps[0].signals[2], ps[0].signals[3]],
        ),
        b4: await batch.verifyBatch.estimateGas(
          ps.slice(0, 4).flatMap((p) => p.words),
          ps.slice(0, 4).flatMap((p) => p.signals),
        ),
        b16: await batch.verifyBatch.estimateGas(
          ps.slice(0, 16).flatMap((p) => p.words),
          ps.slice(0, 16).flatMap((p) => p.signals),
        ),
      };
      console.log(`      gas (estimateGas): snarkjs verifyProof ${est.single}, verifyBatch of 4 ${est.b4}, of 16 ${est.b16}`);
      recordGas("groth16.verify.single", est.single);
      recordGas("groth16.verify.batch.4", est.b4);
      recordGas("groth16.verify.batch.16", est.b16);
      let at = 0;
      for (const n of [1, 4, 16]) {
        const sl = ids.slice(at, at + n);
        const pp = ps.slice(at, at + n);
        at += n;
        const gas = (await (
          await jobs.connect(prover).submitResults(
            sl,
            pp.map((p) => p.output),
            pp.map((p) => p.proof),
          )
        ).wait())!.gasUsed;
        console.log(`      gas: submitResults by the claimant, batch of ${n}: ${gas} (${gas / BigInt(n)} per result)`);
        recordGas(`groth16.batch.claimant.${n}`, gas);
      }
    });

    it("fails the whole batch when one proof among valid ones is invalid, and settles nothing", async function () {
      const { jobs, modelId, requester, prover, chainId, deadline } = await loadFixture(toyBatchMarket);
      const ids = await openN(jobs, requester, modelId, deadline, 4);
      const ps = await proveJobs(jobs, chainId, prover.address, ids);
      const outputs = ps.map((p) => p.output);
      const proofs = ps.map((p) => p.proof);
      const cases: [string, bigint[], string[]][] = [
        ["a changed output", outputs.map((o, i) => (i === 2 ? (o + 1n) % SNARK_FIELD : o)), proofs],
        // proof 1 with proof 0's C: every point on the curve, the proof wrong
        [
          "a proof with another proof's C",
          outputs,
          proofs.map((p, i) => (i === 1 ? wordsToProof([...proofWords(p).slice(0, 6), ...proofWords(proofs[0]).slice(6)]) : p)),
        ],
        ["two proofs swapped", outputs, [proofs[1], proofs[0], proofs[2], proofs[3]]],
      ];
      for (const [what, o, p] of cases) {
        await expect(jobs.connect(prover).submitResults(ids, o, p), what)
          .to.be.revertedWithCustomError(jobs, "InvalidBatchProof")
          .withArgs(ids[0], 4);
      }
      for (const id of ids) expect((await jobs.getJob(id)).status).to.equal(1n);
      await expect(jobs.connect(prover).submitResults(ids, outputs, proofs)).to.emit(jobs, "JobFulfilled");
    });

    it("fails a batch holding a proof valid for another job, another prover or another input", async function () {
      const { jobs, modelId, requester, prover, prover2, chainId, deadline } = await loadFixture(toyBatchMarket);
      const ids = await openN(jobs, requester, modelId, deadline, 3);
      const [other] = await openN(jobs, requester, modelId, deadline, 1);
      const [otherInput] = await openN(jobs, requester, modelId, deadline, 1, INPUT + 1n);
      const ps = await proveJobs(jobs, chainId, prover.address, ids);
      const addr = await jobs.getAddress();
      const forOther = await prove(INPUT, jobBinding(chainId, addr, other, prover.address)); // valid for job `other`
      const byProver2 = await prove(INPUT, jobBinding(chainId, addr, ids[1], prover2.address)); // valid for prover2
      const wrongInput = await prove(INPUT, jobBinding(chainId, addr, otherInput, prover.address)); // made for INPUT
      const submit = (jobIds: bigint[], qs: Proved[]) =>
        jobs.connect(prover).submitResults(
          jobIds,
          qs.map((q) => q.output),
          qs.map((q) => q.proof),
        );
      await expect(submit(ids, [ps[0], forOther, ps[2]]))
        .to.be.revertedWithCustomError(jobs, "InvalidBatchProof")
        .withArgs(ids[0], 3);
      await expect(submit(ids, [ps[0], byProver2, ps[2]]))
        .to.be.revertedWithCustomError(jobs, "InvalidBatchProof")
        .withArgs(ids[0], 3);
      await expect(submit([...ids, otherInput], [...ps, wrongInput]))
        .to.be.revertedWithCustomError(jobs, "InvalidBatchProof")
        .withArgs(ids[0], 4);
      // prover2 cannot submit prover's batch either (the bindings name the caller)
      await expect(
        jobs.connect(prover2).submitResults(
          ids,
          ps.map((q) => q.output),
          ps.map((q) => q.proof),
        ),
      ).to.be.revertedWithCustomError(jobs, "InvalidBatchProof");
      for (const id of [...ids, other, otherInput]) expect((await jobs.getJob(id)).status).to.equal(1n);
    });

    it("refuses the same job twice and unsorted ids", async function () {
      const { jobs, modelId, requester, prover, chainId, deadline } = await loadFixture(toyBatchMarket);
      const ids = await openN(jobs, requester, modelId, deadline, 2);
      const ps = await proveJobs(jobs, chainId, prover.address, ids);
      await expect(jobs.connect(prover).submitResults([ids[0], ids[0]], [ps[0].output, ps[0].output], [ps[0].proof, ps[0].proof]))
        .to.be.revertedWithCustomError(jobs, "JobIdsNotIncreasing")
        .withArgs(1, ids[0], ids[0]);
      await expect(jobs.connect(prover).submitResults([ids[1], ids[0]], [ps[1].output, ps[0].output], [ps[1].proof, ps[0].proof]))
        .to.be.revertedWithCustomError(jobs, "JobIdsNotIncreasing")
        .withArgs(1, ids[1], ids[0]);
      expect((await jobs.accountOf(prover.address)).available).to.equal(ethers.parseEther("2"));
    });

    it("settles none of a batch mixing fulfilled, expired and foreign jobs with a valid one", async function () {
      const { jobs, modelId, requester, prover, prover2, chainId, deadline } = await loadFixture(toyBatchMarket);
      await jobs.connect(prover2).deposit({ value: ethers.parseEther("1") });
      const now = await time.latest();
      const [expired] = await openN(jobs, requester, modelId, now + 100, 1);
      const [fulfilled, valid, foreign] = await openN(jobs, requester, modelId, deadline, 3);
      await jobs.connect(prover2).claim(foreign);
      const lease = (await jobs.claimOf(foreign)).leaseEnd;
      const ps = await proveJobs(jobs, chainId, prover.address, [expired, fulfilled, valid, foreign]);
      await jobs.connect(prover).submitResult(fulfilled, ps[1].output, ps[1].proof);
      await time.increaseTo(now + 101);
      const submit = (idx: number[]) =>
        jobs.connect(prover).submitResults(
          idx.map((i) => [expired, fulfilled, valid, foreign][i]),
          idx.map((i) => ps[i].output),
          idx.map((i) => ps[i].proof),
        );
      await expect(submit([1, 2]))
        .to.be.revertedWithCustomError(jobs, "JobNotOpen")
        .withArgs(fulfilled, 3);
      await expect(submit([0, 2]))
        .to.be.revertedWithCustomError(jobs, "DeadlinePassed")
        .withArgs(expired, now + 100);
      await expect(submit([2, 3]))
        .to.be.revertedWithCustomError(jobs, "JobAlreadyClaimed")
        .withArgs(foreign, prover2.address, lease);
      await expect(submit([0, 1, 2, 3])).to.be.revertedWithCustomError(jobs, "DeadlinePassed");
      await expect(jobs.connect(prover).submitResults([valid, 9999n], [ps[2].output, 0n], [ps[2].proof, ps[2].proof]))
        .to.be.revertedWithCustomError(jobs, "JobNotFound")
        .withArgs(9999n);
      expect((await jobs.getJob(valid)).status).to.equal(1n);
      expect((await jobs.getJob(foreign)).status).to.equal(2n);
      // the valid job alone settles
      await expect(submit([2]))
        .to.emit(jobs, "JobFulfilled")
        .withArgs(valid, prover.address, ps[2].output, FEE, 0n);
    });

    it("refuses a batch across two verifiers (two keys), a plain snarkjs verifier and a PLONK version", async function () {
      const { jobs, modelId, requester, prover, chainId, deadline, registry, factory, modelOwner, batch, adapter } =
        await loadFixture(toyBatchMarket);
      // a second batch verifier deployment: another vk identity as far as the market is concerned
      const batch2 = await (await ethers.getContractFactory("ToyGroth16BatchVerifier")).deploy();
      const plain = await (await ethers.getContractFactory("ToyGroth16Verifier")).deploy();
      const plonk = await (await ethers.getContractFactory("ToyPlonkVerifier")).deploy();
      const model2 = await registerModel(
        registry,
        modelOwner,
        { modelHash: MODEL },
        await createAdapter(factory, await batch2.getAddress()),
      );
      const model3 = await registerModel(
        registry,
        modelOwner,
        { modelHash: MODEL },
        await createAdapter(factory, await plain.getAddress()),
      );
      const model4 = await registerModel(
        registry,
        modelOwner,
        { modelHash: MODEL, proofSystemId: PLONK_BN254_V1 },
        await createAdapter(factory, await plonk.getAddress(), 4, PLONK_BN254_V1),
      );
      const [a] = await openN(jobs, requester, modelId, deadline, 1);
      const [b] = await openN(jobs, requester, model2, deadline, 1);
      const [c] = await openN(jobs, requester, model3, deadline, 1);
      const [d] = await openN(jobs, requester, model4, deadline, 1);
      const ps = await proveJobs(jobs, chainId, prover.address, [a, b, c]);
      await expect(jobs.connect(prover).submitResults([a, b], [ps[0].output, ps[1].output], [ps[0].proof, ps[1].proof]))
        .to.be.revertedWithCustomError(jobs, "BatchVerifierMismatch")
        .withArgs(b, await batch.getAddress(), await batch2.getAddress());
      await expect(jobs.connect(prover).submitResults([c], [ps[2].output], [ps[2].proof]))
        .to.be.revertedWithCustomError(jobs, "BatchVerifierUnavailable")
        .withArgs(await plain.getAddress());
      await expect(jobs.connect(prover).submitResults([a, d], [ps[0].output, 0n], [ps[0].proof, ps[0].proof]))
        .to.be.revertedWithCustomError(jobs, "BatchNotSupported")
        .withArgs(model4, 1);
      // each key's jobs settle in their own batch; the plain verifier's job one by one
      await expect(jobs.connect(prover).submitResults([a], [ps[0].output], [ps[0].proof])).to.emit(jobs, "JobFulfilled");
      await expect(jobs.connect(prover).submitResults([b], [ps[1].output], [ps[1].proof])).to.emit(jobs, "JobFulfilled");
      await expect(jobs.connect(prover).submitResult(c, ps[2].output, ps[2].proof)).to.emit(jobs, "JobFulfilled");
      expect(await adapter.verifier()).to.equal(await batch.getAddress());
    });

    it("bounds the batch and checks its arrays", async function () {
      const { jobs, prover } = await loadFixture(toyBatchMarket);
      const max = await jobs.maxBatchSize();
      expect(max).to.equal(32n);
      const p = "0x" + "00".repeat(256);
      await expect(jobs.connect(prover).submitResults([], [], []))
        .to.be.revertedWithCustomError(jobs, "BatchSizeOutOfRange")
        .withArgs(0, max);
      const big = Array.from({ length: 33 }, (_, i) => BigInt(i + 1));
      await expect(
        jobs.connect(prover).submitResults(
          big,
          big.map(() => 0n),
          big.map(() => p),
        ),
      )
        .to.be.revertedWithCustomError(jobs, "BatchSizeOutOfRange")
        .withArgs(33, max);
      await expect(jobs.connect(prover).submitResults([1n, 2n], [0n], [p, p]))
        .to.be.revertedWithCustomError(jobs, "BatchLengthMismatch")
        .withArgs(2, 1, 2);
      await expect(jobs.connect(prover).submitResults([1n], [0n], [p, p]))
        .to.be.revertedWithCustomError(jobs, "BatchLengthMismatch")
        .withArgs(1, 1, 2);
    });

    it("checks each proof's length and each output's field", async function () {
      const { jobs, modelId, requester, prover, deadline } = await loadFixture(toyBatchMarket);
      const [a, b] = await openN(jobs, requester, modelId, deadline, 2);
      const p = "0x" + "00".repeat(256);
      await expect(jobs.connect(prover).submitResults([a, b], [0n, 0n], [p, "0x" + "00".repeat(255)]))
        .to.be.revertedWithCustomError(jobs, "InvalidProofLength")
        .withArgs(256, 255);
      await expect(jobs.connect(prover).submitResults([a, b], [0n, SNARK_FIELD], [p, p]))
        .to.be.revertedWithCustomError(jobs, "OutputNotInField")
        .withArgs(SNARK_FIELD);
    });
  });
});

function modInv(a: bigint): bigint {
  let [r0, r1, s0, s1] = [((a % SNARK_FIELD) + SNARK_FIELD) % SNARK_FIELD, SNARK_FIELD, 1n, 0n];
  while (r1 !== 0n) {
    const t = r0 / r1;
    [r0, r1] = [r1, r0 - t * r1];
    [s0, s1] = [s1, s0 - t * s1];
  }
  return ((s0 % SNARK_FIELD) + SNARK_FIELD) % SNARK_FIELD;
}
