import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { SubscriptionClient, SubscriptionClientError, type RunResult } from "../../scripts/chain/sdk";
import { deliverRunInput } from "../../scripts/chain/node";
import { decryptDelivery } from "../../scripts/chain/private-input";
import { packSigned } from "../../scripts/formats/commitments";
import type { ModelLayout } from "../../scripts/formats/model-layout";
import { jobBinding, mockMarketFixture, mockProof, modelSignal, registerMockWithLayout } from "../contracts/fixtures";

/**
 * The SDK's SubscriptionClient (scripts/chain/subscriptions-client.ts) against InferenceSubscriptions on the mock
 * market: lists a consumer's subscriptions, reads their state, tops one up, opens due runs (and says when none is
 * due, before any transaction), reports a skipped run, and streams the verified results as they are delivered; for a
 * committed-input subscription, lists the private runs' claims waiting for the owner and delivers the opening
 * (`deliverRunInput`, zkml-evm/node) through the owner's contract, encrypted to the claimant.
 */
const LAYOUT = { inputMode: 1, outputHead: 1, inputCount: 3, inputBits: 12, outputCount: 1, outputBits: 16, outputFrac: 6 };
const FEE = ethers.parseEther("0.01");

/** The message of the SubscriptionClientError a call throws ("" when it does not throw one). */
async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return e instanceof SubscriptionClientError ? e.message : `not a SubscriptionClientError: ${String(e)}`;
  }
  return "";
}
const TIP = ethers.parseEther("0.001");

async function fixture() {
  const m = await mockMarketFixture();
  const modelId = await registerMockWithLayout(m, 31n, LAYOUT);
  const subs = await (await ethers.getContractFactory("InferenceSubscriptions")).deploy(await m.jobs.getAddress());
  const consumer = await (await ethers.getContractFactory("MockSubscriptionConsumer")).deploy(await subs.getAddress());
  await consumer.setInputs([1n, 2n, 3n]);
  await consumer.subscribe(modelId, 1n, 3600, 2, FEE, TIP, 7200, { value: 2n * (FEE + TIP) });
  const client = await SubscriptionClient.connect({ subscriptions: await subs.getAddress(), runner: m.stranger });
  return { ...m, modelId, subs, consumer, client };
}

describe("SDK: SubscriptionClient", function () {
  it("refuses a bad address and an address with no subscriptions contract, in one line", async function () {
    const m = await loadFixture(fixture);
    expect(await failure(SubscriptionClient.connect({ subscriptions: "0x12", runner: m.stranger }))).to.match(/not an address/);
    expect(await failure(SubscriptionClient.connect({ subscriptions: await m.jobs.getAddress(), runner: m.stranger }))).to.match(
      /no InferenceSubscriptions contract answers/,
    );
    expect(await failure(m.client.get(7n))).to.match(/subscriptionId 7: no such subscription/);
  });

  it("lists, reads, tops up, opens due runs, reports a skip, and streams every verified result", async function () {
    const m = await loadFixture(fixture);
    const [id] = await m.client.listByOwner(await m.consumer.getAddress());
    expect(id).to.equal(1n);
    let s = await m.client.get(id);
    expect([s.runs, s.due, s.escrow, s.feePerRun]).to.deep.equal([2n, true, 2n * (FEE + TIP), FEE]);
    await m.client.topUp(id, 1);
    expect((await m.client.get(id)).runs).to.equal(3n);

    const seen: RunResult[] = [];
    const stop = m.client.watch(id, (r) => seen.push(r), { pollMs: 50 });
    const r0 = await m.client.openRun(id);
    expect(r0.run).to.equal(0n);
    expect(await failure(m.client.openRun(id))).to.match(/run 0 is not due; the next run opens at \d+/);
    // deliver run 0 (a mock proof over the job's own inputs)
    const words = await m.jobs.inputSignalsOf(r0.jobId!);
    const out = packSigned([7n], LAYOUT.outputBits)[0];
    const proof = mockProof([
      out,
      await modelSignal(31n, LAYOUT as ModelLayout),
      words[0],
      jobBinding(m.chainId, await m.jobs.getAddress(), r0.jobId!, m.prover.address),
    ]);
    await m.jobs.connect(m.prover).submitResult(r0.jobId!, out, proof);
    // run 1: the consumer's view breaks, the run is skipped and the client says why
    await time.increase(3600);
    await m.consumer.setMode(1);
    const r1 = await m.client.openRun(id);
    expect(r1).to.deep.equal({ run: 1n, skipped: "input view failed", txHash: r1.txHash });
    expect((await ethers.provider.getTransactionReceipt(r1.txHash))?.status).to.equal(1);
    expect(await m.client.creditOf(m.stranger.address)).to.equal(2n * TIP);
    for (let i = 0; i < 100 && seen.length < 1; i++) await new Promise((r) => setTimeout(r, 50));
    stop();
    expect(seen.map((r) => [r.run, r.jobId, r.output])).to.deep.equal([[0n, r0.jobId, out]]);
    expect(await m.client.results(id)).to.have.length(1);
    s = await m.client.get(id);
    expect([s.nextRun, s.escrow, s.inputMode]).to.deep.equal([2n, FEE + TIP, "public"]);
  });

  it("a private run: lists the claim waiting for the owner, delivers the opening through the owner's contract, encrypted to the claimant", async function () {
    const m = await loadFixture(fixture);
    const committed = await registerMockWithLayout(m, 32n, { ...LAYOUT, inputMode: 0 });
    const id = await m.consumer.subscribe.staticCall(committed, 1n, 3600, 1, FEE, TIP, 7200, { value: FEE + TIP });
    await m.consumer.subscribe(committed, 1n, 3600, 1, FEE, TIP, 7200, { value: FEE + TIP });
    expect((await m.client.get(id)).inputMode).to.equal("committed");
    await m.consumer.setCommitment(777n, ""); // no URI: private delivery
    const { jobId } = await m.client.openRun(id);
    expect(await m.client.runOf(jobId!)).to.deep.equal({ subscriptionId: id, run: 0n });
    expect(await m.client.runOf(12345n)).to.equal(undefined);
    expect(await m.client.claimsToDeliver(id)).to.deep.equal([]);
    await m.jobs.connect(m.prover).deposit({ value: await m.jobs.claimBond() });
    await m.jobs.connect(m.prover).claim(jobId!);
    const [todo] = await m.client.claimsToDeliver(id);
    expect([todo.run, todo.jobId, todo.claimant]).to.deep.equal([0n, jobId, m.prover.address]);
    const opening = { x: [1n, -2n, 3n], salt: 99n };
    const send = (claimant: string, ciphertext: string) => m.consumer.deliverRunInput(jobId!, claimant, ciphertext);
    expect(await failure(deliverRunInput(m.client, 4242n, opening, send))).to.match(/job 4242 is not a run awaiting its result/);
    const done = await deliverRunInput(m.client, jobId!, opening, send);
    expect(done.kind).to.equal("delivered");
    expect(await m.client.claimsToDeliver(id)).to.deep.equal([]);
    expect((await deliverRunInput(m.client, jobId!, opening, send)).kind).to.equal("waiting");
    const ev = (await m.jobs.queryFilter(m.jobs.filters.InputDelivered(jobId!)))[0];
    // the prover is the fixture's fourth signer of the Hardhat mnemonic
    const key = ethers.HDNodeWallet.fromPhrase(
      "test test test test test test test test test test test junk",
      undefined,
      "m/44'/60'/0'/0/3",
    );
    expect(key.address).to.equal(m.prover.address);
    const plain = decryptDelivery(ev.args.ciphertext, key.signingKey, {
      chainId: m.chainId,
      jobs: await m.jobs.getAddress(),
      jobId: jobId!,
      claimant: m.prover.address,
    });
    expect(JSON.parse(plain)).to.deep.equal({ x: ["1", "-2", "3"], salt: "99" });
  });

  it("a token subscription: tops up in its token (balance and allowance checked first, approved), reclaims an expired run for the owner, withdraws tips in ETH and in the token", async function () {
    const m = await loadFixture(fixture);
    const token = await (await ethers.getContractFactory("MockERC20")).deploy("Soak USD", "sUSD");
    const T = 1_000_000n;
    await token.mint(await m.consumer.getAddress(), 2n * (T + 1000n));
    await m.consumer.subscribeWithToken(await token.getAddress(), m.modelId, 1n, 3600, 2, T, 1000n, 60);
    const [, id] = await m.client.listByOwner(await m.consumer.getAddress());
    const s = await m.client.get(id);
    expect([s.feeToken, s.escrow]).to.deep.equal([await token.getAddress(), 2n * (T + 1000n)]);
    const subsAddress = await m.subs.getAddress();
    const nonce = await ethers.provider.getTransactionCount(m.stranger.address);
    expect(await failure(m.client.topUp(id, 1))).to.equal(
      `feeToken ${await token.getAddress()}: balance of ${m.stranger.address} is 0, below the escrow ${T + 1000n}; fund the account or lower runs`,
    );
    await token.mint(m.stranger.address, T + 1000n);
    expect(await failure(m.client.topUp(id, 1, { approve: false }))).to.equal(
      `feeToken ${await token.getAddress()}: allowance of subscriptions contract ${subsAddress} is 0, below the escrow ${T + 1000n}; approve the subscriptions contract for the escrow or pass approve: true`,
    );
    expect(await ethers.provider.getTransactionCount(m.stranger.address)).to.equal(nonce); // nothing was sent
    await m.client.topUp(id, 1);
    expect([(await m.client.get(id)).runs, await token.balanceOf(m.stranger.address)]).to.deep.equal([3n, 0n]);

    // run 0 opened (the tip credited in the token to the opener), never delivered, reclaimed after its deadline
    const r0 = await m.client.openRun(id);
    expect(await failure(m.client.reclaimRun(999n))).to.match(/^jobId 999: no awaited run of a subscription has this job/);
    await time.increase(61);
    const back = await m.client.reclaimRun(r0.jobId!);
    expect([back.subscriptionId, back.run]).to.deep.equal([id, 0n]);
    expect(await m.client.creditOf(await m.consumer.getAddress(), await token.getAddress())).to.equal(T);
    // the opener's credit is the token tip only (nothing in ETH)
    expect(await failure(m.client.withdraw())).to.equal(
      `${m.stranger.address} has nothing to withdraw in ETH from the subscriptions contract`,
    );
    const w = await m.client.withdraw(await token.getAddress());
    expect(w.amount).to.equal(1000n);
    expect(await token.balanceOf(m.stranger.address)).to.equal(1000n);
    expect(await m.client.creditOf(m.stranger.address, await token.getAddress())).to.equal(0n);
  });
});
