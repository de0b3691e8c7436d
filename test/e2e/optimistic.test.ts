import { expect } from "chai";
import hre from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { type BuiltModel, buildModel } from "../../scripts/pipelines/build";
import { inferQuantized, inputCommitment } from "../../scripts/formats/quantized-model";
import { dataUri } from "../../scripts/formats/job-input";
import { layoutOf } from "../../scripts/formats/model-layout";
import { proveInference, witnessSignals } from "../../scripts/engine/prove/inference";
import { DEFAULT_MARKET, bindingFor, deployGroth16Verifier, deploySystem, openJob, registerModel } from "../../scripts/chain/system";
import { fetchCheckedInput } from "../../scripts/apps/prover/input";
import type { InferenceJobs } from "../../typechain-types";

/**
 * Optimistic results (docs/market-rules.md, "Optimistic results"; issue 34) with real Groth16 proofs: iris-mlp jobs
 * whose committed input is opened by a public `data:` input URI, the market's real batch verifier. A watcher reads a
 * posted result, re-runs the job from the URI's opening (the witness only, `witnessSignals`, as a prover node does)
 * and, when the post is wrong, proves the true output. Every payout is checked to the wei against the payout table;
 * the windows at their last second and one second late. The mock-verifier tests of every branch and refusal are in
 * test/contracts/Optimistic.test.ts.
 */
describe("e2e: optimistic results with real Groth16 proofs", function () {
  const FEE = 10n ** 16n;
  const STAKE = hre.ethers.parseEther("1");
  const BOND = DEFAULT_MARKET.claimBond;
  const SLASH = (BOND * BigInt(DEFAULT_MARKET.slashBps)) / 10_000n;
  const REWARD = BOND - SLASH;
  const CBOND = DEFAULT_MARKET.challengeBond;
  const CW = DEFAULT_MARKET.challengeWindow;
  const PW = DEFAULT_MARKET.proofWindow;
  const OW = DEFAULT_MARKET.openWindow;
  /** Iris inputs (quantized; both of class 1): a job opens one of them with its own salt. */
  const INPUTS = [
    [-29n, 25n, -41n, -43n],
    [10n, -20n, 30n, 40n],
  ];
  let built: BuiltModel;

  before(async function () {
    built = await buildModel("iris-mlp", { quantize: false });
  });

  /** The market with iris-mlp on its generated batch verifier; poster, watcher and a third prover staked. */
  async function market() {
    const [deployer, owner, requester, poster, watcher, prover] = await hre.ethers.getSigners();
    const sys = await deploySystem(deployer);
    const artifact = await hre.artifacts.readArtifact(built.paths.batchVerifierContract);
    const v = await deployGroth16Verifier(deployer, artifact, sys.factory);
    const reg = { modelCommitment: built.modelCommitment, circuitHash: built.circuit.r1csHash, vkHash: built.keys.vkHash, uri: "test" };
    const { modelId } = await registerModel(sys.registry, owner, reg, await v.adapter.getAddress(), layoutOf(built.model));
    for (const s of [poster, watcher, prover]) await (await sys.jobs.connect(s).deposit({ value: STAKE })).wait();
    return { jobs: sys.jobs, modelId, requester, poster, watcher, prover };
  }
  type M = Awaited<ReturnType<typeof market>>;

  let salt = 1000n;
  /** Opens an optimistic committed job whose opening is its public data: URI (deadline `dur` s ahead). */
  async function optimisticJob(m: M, input = 0, dur = 3600): Promise<{ jobId: bigint; deadline: number; truth: bigint }> {
    const x = INPUTS[input];
    salt += 1n;
    const deadline = (await time.latest()) + dur;
    const { jobId } = await openJob(m.jobs, m.requester, {
      modelId: m.modelId,
      modelVersion: 1n,
      inputCommitment: await inputCommitment(built.model, x, salt),
      inputURI: dataUri({ x, salt }),
      fee: FEE,
      deadline: BigInt(deadline),
    });
    await (await m.jobs.connect(m.requester).setOptimistic(jobId)).wait();
    return { jobId, deadline, truth: inferQuantized(built.model, x).output };
  }

  /** `poster` claims the job and posts `output`; returns the window's last second. */
  async function post(m: M, jobId: bigint, output: bigint, poster: HardhatEthersSigner = m.poster): Promise<number> {
    await (await m.jobs.connect(poster).claim(jobId)).wait();
    const r = await (await m.jobs.connect(poster).postResult(jobId, output)).wait();
    return (await hre.ethers.provider.getBlock(r!.blockNumber))!.timestamp + CW;
  }

  /** What a watcher does with a posted result: reads the opening from the job's input URI (checked against the
   * commitment) and re-runs the witness; returns the opening and the circuit's output. */
  async function rerun(jobs: InferenceJobs, jobId: bigint) {
    const [ev] = await jobs.queryFilter(jobs.filters.JobOpened(jobId));
    const opening = await fetchCheckedInput(ev.args.inputURI, built.model, ev.args.inputCommitment);
    const w = await witnessSignals(built.model, built.circuit.wasm, opening.x, opening.salt, 0n);
    return { ...opening, output: w.output };
  }

  /** A real proof of the job's true output, bound to `who`. */
  async function proofBy(m: M, jobId: bigint, who: HardhatEthersSigner) {
    const { x, salt: s } = await rerun(m.jobs, jobId);
    return proveInference(
      built.model,
      { wasm: built.circuit.wasm, zkey: built.keys.zkey },
      x,
      s,
      await bindingFor(m.jobs, who, jobId, who.address),
    );
  }

  async function account(m: M, s: HardhatEthersSigner): Promise<[bigint, bigint]> {
    const a = await m.jobs.accountOf(s.address);
    return [a.available, a.locked];
  }

  it("a wrong result posted, disproved by a proof of the true output: the poster loses its bond, the watcher is paid fee + claimBond, the job is fulfilled with the true output", async function () {
    const m = await loadFixture(market);
    const { jobId, truth } = await optimisticJob(m);
    const wrong = (truth + 1n) % 3n;
    await post(m, jobId, wrong);
    // the watcher sees the post, re-runs the job from its published opening, finds another output and proves it
    const state = await m.jobs.optimisticStateOf(jobId);
    expect([state.poster, state.output]).to.deep.equal([m.poster.address, wrong]);
    const seen = await rerun(m.jobs, jobId);
    expect(seen.output).to.equal(truth);
    const p = await proofBy(m, jobId, m.watcher);
    // the witness alone carries every public signal the proof carries (same binding)
    const binding = await bindingFor(m.jobs, m.watcher, jobId, m.watcher.address);
    expect((await witnessSignals(built.model, built.circuit.wasm, seen.x, seen.salt, binding)).publicSignals).to.deep.equal(
      p.publicSignals,
    );
    const tx = m.jobs.connect(m.watcher).submitResult(jobId, p.output, p.packed.bytes);
    await expect(tx).to.emit(m.jobs, "PosterSlashed").withArgs(jobId, m.poster.address, m.watcher.address, REWARD, SLASH, false);
    await expect(tx).to.emit(m.jobs, "JobFulfilled").withArgs(jobId, m.watcher.address, truth, FEE, SLASH);
    expect(await m.jobs.resultOf(jobId)).to.deep.equal([true, truth]);
    // payout table, "proof of another output, no bond challenge": the poster loses claimBond, the prover gets fee +
    // bounty + claimBond (claimBond - slash as first challenger, the slash through the bounty)
    expect(await account(m, m.poster)).to.deep.equal([STAKE - BOND, 0n]);
    expect(await account(m, m.watcher)).to.deep.equal([STAKE + FEE + BOND, 0n]);
    await expect(m.jobs.connect(m.watcher).withdraw()).to.changeEtherBalances(
      [m.watcher, m.jobs],
      [STAKE + FEE + BOND, -(STAKE + FEE + BOND)],
    );
  });

  it("a false bond challenge answered with a proof in the proof window's last second: the challenge bond goes to the poster, who is paid", async function () {
    const m = await loadFixture(market);
    const { jobId, truth } = await optimisticJob(m);
    await post(m, jobId, truth);
    const r = await (await m.jobs.connect(m.watcher).challengeResult(jobId)).wait();
    const proofDeadline = (await hre.ethers.provider.getBlock(r!.blockNumber))!.timestamp + PW;
    expect(await account(m, m.watcher)).to.deep.equal([STAKE - CBOND, CBOND]);
    const p = await proofBy(m, jobId, m.poster);
    await time.setNextBlockTimestamp(proofDeadline);
    const tx = m.jobs.connect(m.poster).submitResult(jobId, p.output, p.packed.bytes);
    await expect(tx).to.emit(m.jobs, "ChallengeAnswered").withArgs(jobId, m.poster.address, m.watcher.address, CBOND);
    await expect(tx).to.emit(m.jobs, "JobFulfilled").withArgs(jobId, m.poster.address, truth, FEE, 0n);
    expect(await m.jobs.resultOf(jobId)).to.deep.equal([true, truth]);
    expect(await account(m, m.poster)).to.deep.equal([STAKE + FEE + CBOND, 0n]);
    expect(await account(m, m.watcher)).to.deep.equal([STAKE - CBOND, 0n]);
  });

  it("a silent poster after a bond challenge: slashed to the challenger, the job reopens for proven results only, then a proven submission is accepted and paid the slash", async function () {
    const m = await loadFixture(market);
    const { jobId, truth } = await optimisticJob(m);
    await post(m, jobId, (truth + 1n) % 3n);
    const r = await (await m.jobs.connect(m.watcher).challengeResult(jobId)).wait();
    const proofDeadline = (await hre.ethers.provider.getBlock(r!.blockNumber))!.timestamp + PW;
    await time.setNextBlockTimestamp(proofDeadline);
    await expect(m.jobs.expireChallenge(jobId)).to.be.revertedWithCustomError(m.jobs, "ProofWindowOpen").withArgs(jobId, proofDeadline);
    await time.setNextBlockTimestamp(proofDeadline + 1);
    await expect(m.jobs.connect(m.prover).expireChallenge(jobId))
      .to.emit(m.jobs, "PosterSlashed")
      .withArgs(jobId, m.poster.address, m.watcher.address, REWARD, SLASH, true);
    const job = await m.jobs.getJob(jobId);
    expect([job.status, job.bounty]).to.deep.equal([1n, SLASH]); // Open, the slash in its bounty
    expect((await m.jobs.optimisticStateOf(jobId)).optimistic).to.equal(false);
    // payout table, "bond challenge unanswered": the challenger gets its bond back + claimBond - slash
    expect(await account(m, m.watcher)).to.deep.equal([STAKE + REWARD, 0n]);
    expect(await account(m, m.poster)).to.deep.equal([STAKE - BOND, 0n]);
    // proven results only: a new claimant cannot post, it proves
    await (await m.jobs.connect(m.prover).claim(jobId)).wait();
    await expect(m.jobs.connect(m.prover).postResult(jobId, truth)).to.be.revertedWithCustomError(m.jobs, "NotOptimistic").withArgs(jobId);
    const p = await proofBy(m, jobId, m.prover);
    await expect(m.jobs.connect(m.prover).submitResult(jobId, p.output, p.packed.bytes))
      .to.emit(m.jobs, "JobFulfilled")
      .withArgs(jobId, m.prover.address, truth, FEE, SLASH);
    expect(await account(m, m.prover)).to.deep.equal([STAKE + FEE + SLASH, 0n]);
  });

  it("a bond challenge in the last second of the window is accepted; one a second late is refused, and so is a late proof: the wrong post stands and is finalised", async function () {
    const m = await loadFixture(market);
    const a = await optimisticJob(m);
    const b = await optimisticJob(m, 1);
    const endA = await post(m, a.jobId, a.truth);
    const wrongB = (b.truth + 1n) % 3n;
    const endB = await post(m, b.jobId, wrongB);
    expect(endB).to.be.greaterThan(endA);
    await time.setNextBlockTimestamp(endA);
    await expect(m.jobs.connect(m.watcher).challengeResult(a.jobId))
      .to.emit(m.jobs, "ResultChallenged")
      .withArgs(a.jobId, m.watcher.address, endA + PW, CBOND);
    await time.setNextBlockTimestamp(endB + 1);
    await expect(m.jobs.connect(m.watcher).challengeResult(b.jobId))
      .to.be.revertedWithCustomError(m.jobs, "ChallengeWindowClosed")
      .withArgs(b.jobId, endB);
    // no watcher in time (the assumption of docs/threat-model.md): even a valid proof of the true output is refused
    const p = await proofBy(m, b.jobId, m.watcher);
    expect(p.output).to.not.equal(wrongB);
    await expect(m.jobs.connect(m.watcher).submitResult(b.jobId, p.output, p.packed.bytes))
      .to.be.revertedWithCustomError(m.jobs, "ChallengeWindowClosed")
      .withArgs(b.jobId, endB);
    await expect(m.jobs.connect(m.watcher).finalizeResult(b.jobId))
      .to.emit(m.jobs, "JobFulfilled")
      .withArgs(b.jobId, m.poster.address, wrongB, FEE, 0n);
    expect(await m.jobs.resultOf(b.jobId)).to.deep.equal([true, wrongB]);
  });

  it("a post too close to the deadline is refused (PostTooLate); at the last second the challenge, proof and open windows still fit", async function () {
    const m = await loadFixture(market);
    // two jobs with the same deadline, claimed at once
    const a = await optimisticJob(m, 0, 2000);
    const b = await optimisticJob(m, 0, a.deadline - (await time.latest()));
    expect(b.deadline).to.equal(a.deadline);
    for (const j of [a, b]) await (await m.jobs.connect(m.poster).claim(j.jobId)).wait();
    const latest = a.deadline - (CW + PW + OW);
    await time.setNextBlockTimestamp(latest);
    await expect(m.jobs.connect(m.poster).postResult(a.jobId, a.truth))
      .to.emit(m.jobs, "ResultPosted")
      .withArgs(a.jobId, m.poster.address, a.truth, latest + CW);
    // a challenge at the window's end, its proof deadline, then the open window: all before the job's deadline
    expect(latest + CW + PW + OW).to.equal(a.deadline);
    await time.setNextBlockTimestamp(latest + 1);
    await expect(m.jobs.connect(m.poster).postResult(b.jobId, b.truth))
      .to.be.revertedWithCustomError(m.jobs, "PostTooLate")
      .withArgs(b.jobId, latest);
    // too late to post, still in time to prove (its lease is live): the claimant proves instead
    const p = await proofBy(m, b.jobId, m.poster);
    await expect(m.jobs.connect(m.poster).submitResult(b.jobId, p.output, p.packed.bytes))
      .to.emit(m.jobs, "JobFulfilled")
      .withArgs(b.jobId, m.poster.address, b.truth, FEE, 0n);
  });

  it("settles several challenge proofs and an ordinary result in one submitResults batch (one randomized pairing check)", async function () {
    const m = await loadFixture(market);
    const posted = [];
    for (let i = 0; i < 3; i++) {
      const j = await optimisticJob(m, i % 2);
      await post(m, j.jobId, (j.truth + 1n) % 3n);
      posted.push(j);
    }
    // an ordinary job (not optimistic) in the same batch
    const plain = await openJob(m.jobs, m.requester, {
      modelId: m.modelId,
      modelVersion: 1n,
      inputCommitment: await inputCommitment(built.model, INPUTS[0], 7n),
      inputURI: dataUri({ x: INPUTS[0], salt: 7n }),
      fee: FEE,
      deadline: BigInt((await time.latest()) + 3600),
    });
    const all = [...posted.map((j) => j.jobId), plain.jobId];
    const proofs = [];
    for (const id of all) proofs.push(await proofBy(m, id, m.watcher));
    const tx = m.jobs.connect(m.watcher).submitResults(
      all,
      proofs.map((p) => p.output),
      proofs.map((p) => p.packed.bytes),
    );
    for (const [i, j] of posted.entries()) {
      await expect(tx).to.emit(m.jobs, "PosterSlashed").withArgs(j.jobId, m.poster.address, m.watcher.address, REWARD, SLASH, false);
      await expect(tx).to.emit(m.jobs, "JobFulfilled").withArgs(j.jobId, m.watcher.address, proofs[i].output, FEE, SLASH);
    }
    await expect(tx).to.emit(m.jobs, "JobFulfilled").withArgs(plain.jobId, m.watcher.address, proofs[3].output, FEE, 0n);
    for (const [i, id] of all.entries()) expect(await m.jobs.resultOf(id)).to.deep.equal([true, proofs[i].output]);
    expect(await account(m, m.poster)).to.deep.equal([STAKE - 3n * BOND, 0n]);
    expect(await account(m, m.watcher)).to.deep.equal([STAKE + 4n * FEE + 3n * BOND, 0n]);
  });
});
