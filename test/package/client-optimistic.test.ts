import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { InferenceClient, InferenceClientError } from "../../scripts/chain/sdk";
import { packSigned } from "../../scripts/formats/commitments";
import type { ModelLayout } from "../../scripts/formats/model-layout";
import { DEFAULT_MARKET, jobBinding, mockMarketFixture, mockProof, modelSignal, registerMockWithLayout } from "../contracts/fixtures";

/**
 * The SDK's optimistic mode (scripts/chain/client.ts; docs/consumers.md, "Optimistic results") on the mock market:
 * `openJob({ optimistic: true })` opens then makes the job optimistic (and refuses a deadline too short for the post
 * rule before any transaction), `jobStatus` shows a posted result with its window end and a bond challenge with its
 * proof deadline, `finalize` and `challenge` say why not before sending, and `waitForResult` resolves on a
 * finalisation (`unproven: true`) as on a proof.
 */
const LAYOUT = { inputMode: 1, outputHead: 1, inputCount: 3, inputBits: 12, outputCount: 1, outputBits: 16, outputFrac: 6 };
const FEE = ethers.parseEther("0.01");
const CW = DEFAULT_MARKET.challengeWindow;

/** The message of the InferenceClientError a call throws ("" when it does not throw one). */
async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return e instanceof InferenceClientError ? e.message : `not an InferenceClientError: ${String(e)}`;
  }
  return "";
}

async function fixture() {
  const m = await mockMarketFixture();
  const modelId = await registerMockWithLayout(m, 41n, LAYOUT);
  const client = await InferenceClient.connect({ jobs: await m.jobs.getAddress(), runner: m.requester });
  const anyone = await InferenceClient.connect({ jobs: await m.jobs.getAddress(), runner: m.stranger });
  await (await m.jobs.connect(m.prover).deposit({ value: ethers.parseEther("1") })).wait();
  return { ...m, modelId, client, anyone };
}
type F = Awaited<ReturnType<typeof fixture>>;

/** An optimistic job opened by the SDK, claimed and posted (`output`) by the prover. */
async function postedJob(m: F, output: bigint) {
  const job = await m.client.openJob({ modelId: m.modelId, input: { quantized: [1, 2, 3] }, fee: FEE, optimistic: true });
  await (await m.jobs.connect(m.prover).claim(job.jobId)).wait();
  await (await m.jobs.connect(m.prover).postResult(job.jobId, output)).wait();
  return job;
}

describe("SDK: optimistic jobs", function () {
  const out = packSigned([7n], LAYOUT.outputBits)[0];

  it("opens an optimistic job (open, then setOptimistic), refusing a deadline too short for the post rule before any transaction", async function () {
    const m = await loadFixture(fixture);
    const least = CW + DEFAULT_MARKET.proofWindow + DEFAULT_MARKET.openWindow + 60;
    const nonce = await ethers.provider.getTransactionCount(m.requester.address);
    expect(
      await failure(m.client.openJob({ modelId: m.modelId, input: { quantized: [1, 2, 3] }, fee: FEE, optimistic: true, deadlineIn: 600 })),
    ).to.equal(
      `deadlineIn 600: an optimistic job needs its challenge, proof and open windows plus a claim before its deadline; give deadlineIn >= ${least} or drop optimistic`,
    );
    expect(await ethers.provider.getTransactionCount(m.requester.address)).to.equal(nonce);
    const job = await m.client.openJob({ modelId: m.modelId, input: { quantized: [1, 2, 3] }, fee: FEE, optimistic: true });
    expect(job.optimisticTxHash).to.match(/^0x[0-9a-f]{64}$/);
    const s = await m.client.jobStatus(job.jobId);
    expect([s.state, s.optimistic, s.posted]).to.deep.equal(["open", true, undefined]);
    const plain = await m.client.openJob({ modelId: m.modelId, input: { quantized: [1, 2, 3] }, fee: FEE });
    expect([plain.optimisticTxHash, (await m.client.jobStatus(plain.jobId)).optimistic]).to.deep.equal([undefined, false]);
  });

  it("shows a posted result with its window end, refuses to finalize it early, finalizes it after the window; waitForResult resolves unproven", async function () {
    const m = await loadFixture(fixture);
    const job = await postedJob(m, out);
    const waiting = m.client.waitForResult(job.jobId, { timeoutMs: 20_000, pollMs: 50 });
    const s = await m.client.jobStatus(job.jobId);
    const windowEnd = BigInt((await time.latest()) + CW);
    expect(s.state).to.equal("posted");
    expect(s.posted).to.deep.equal({ poster: m.prover.address, output: out, windowEnd, finalizable: false });
    expect(await failure(m.anyone.finalize(job.jobId))).to.equal(
      `job ${job.jobId}: its challenge window is open until ${windowEnd}; finalize after it`,
    );
    await time.increaseTo(windowEnd + 1n);
    expect((await m.client.jobStatus(job.jobId)).posted?.finalizable).to.equal(true);
    await m.anyone.finalize(job.jobId); // anyone may; the poster is paid
    const r = await waiting;
    expect([r.output, r.prover, r.unproven, r.values]).to.deep.equal([out, m.prover.address, true, [7 / 64]]);
    expect((await m.client.jobStatus(job.jobId)).state).to.equal("fulfilled");
    expect(await failure(m.client.finalize(job.jobId))).to.equal(`job ${job.jobId} is fulfilled, not posted: nothing to finalize`);
  });

  it("challenges a posted result by bond (depositing the shortfall when asked), shows the proof deadline, and a proven answer is not unproven", async function () {
    const m = await loadFixture(fixture);
    const job = await postedJob(m, out);
    const [bond] = await m.jobs.optimisticParameters();
    expect(await failure(m.anyone.challenge(job.jobId))).to.equal(
      `deposit: the market balance of ${m.stranger.address} is 0 wei, below the challenge bond ${bond}; deposit ${bond} wei or pass deposit: true`,
    );
    const c = await m.anyone.challenge(job.jobId, { deposit: true });
    expect(c.proofDeadline).to.equal(BigInt((await time.latest()) + DEFAULT_MARKET.proofWindow));
    const s = await m.client.jobStatus(job.jobId);
    expect(s.posted).to.deep.include({ challenger: m.stranger.address, proofDeadline: c.proofDeadline, finalizable: false });
    expect(await failure(m.client.finalize(job.jobId))).to.match(
      new RegExp(
        `^job ${job.jobId}: its result is challenged by ${m.stranger.address}; the poster has until ${c.proofDeadline} to prove it`,
      ),
    );
    expect(await failure(m.client.challenge(job.jobId))).to.equal(
      `job ${job.jobId}: its result is already challenged by ${m.stranger.address}`,
    );
    // the poster answers with a proof of its output
    const words = await m.jobs.inputSignalsOf(job.jobId);
    const binding = jobBinding(m.chainId, await m.jobs.getAddress(), job.jobId, m.prover.address);
    const proof = mockProof([out, await modelSignal(41n, LAYOUT as ModelLayout), words[0], binding]);
    await (await m.jobs.connect(m.prover).submitResult(job.jobId, out, proof)).wait();
    const r = await m.client.waitForResult(job.jobId, { timeoutMs: 5_000, pollMs: 50 });
    expect([r.output, r.prover, r.unproven]).to.deep.equal([out, m.prover.address, undefined]);
    expect((await m.jobs.accountOf(m.stranger.address)).available).to.equal(0n); // the bond went to the poster
  });

  it("refuses a challenge after the window, and on a job with nothing posted", async function () {
    const m = await loadFixture(fixture);
    const job = await postedJob(m, out);
    const windowEnd = BigInt((await time.latest()) + CW);
    await time.increaseTo(windowEnd);
    expect(await failure(m.anyone.challenge(job.jobId, { deposit: true }))).to.equal(
      `job ${job.jobId}: its challenge window closed at ${windowEnd}; it can only be finalized`,
    );
    const open = await m.client.openJob({ modelId: m.modelId, input: { quantized: [1, 2, 3] }, fee: FEE, optimistic: true });
    expect(await failure(m.anyone.challenge(open.jobId))).to.equal(
      `job ${open.jobId} is open, not posted: there is no result to challenge`,
    );
  });
});
