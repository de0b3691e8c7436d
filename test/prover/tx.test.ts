import { expect } from "chai";
import { Wallet } from "ethers";
import { createJsonLog } from "../../scripts/apps/prover/log";
import { Metrics } from "../../scripts/apps/prover/metrics";
import { ProverStore } from "../../scripts/apps/prover/store";
import { TxSender } from "../../scripts/apps/prover/tx";
import { type Market, devKey, inProcessNode, startMarket, until } from "../../scripts/apps/load/market";

/**
 * Stuck transactions are replaced with higher fees under the same nonce, and a restart resumes, never resends.
 * Batch settlement by a node (docs/prover.md, "Batching"): proved results wait for others of the same verifier and go
 * out in one `submitResults`, except a result whose lease end comes within the safety margin, which goes out at once.
 * The market's iris model is registered with its generated batch verifier (one market for both: one process start).
 */
describe("prover nodes: transaction sender and batch settlement", function () {
  let m: Market;

  before(async function () {
    m = await startMarket({}, { batchVerifier: true });
  });

  after(async function () {
    await m?.rpc("evm_setAutomine", [true]).catch(() => undefined);
    await m?.stop();
  });

  it("replaces a stuck transaction (same nonce, higher fee), and a second sender on the same store does not resend", async function () {
    const store = await ProverStore.open(m.stateDir("tx"));
    const log = createJsonLog("tx", () => undefined);
    const wallet = new Wallet(devKey(9), m.provider);
    const sender = new TxSender(wallet, m.provider, store, log, new Metrics(), {
      stuckMs: 400,
      bumpPercent: 25,
      timeoutMs: 60_000,
      pollMs: 100,
    });
    const data = m.sys.jobs.interface.encodeFunctionData("deposit");
    await m.rpc("evm_setAutomine", [false]);
    const sent = sender.send("deposit:test", m.jobsAddress, data, 10n ** 15n);
    await until(async () => log.records.some((r) => r.event === "tx_replaced"), 20_000, "a replacement");
    await m.rpc("evm_mine");
    await m.rpc("evm_setAutomine", [true]);
    const receipt = await sent;
    const rec = await store.getTx("deposit:test");
    expect(rec!.attempts.length).to.be.greaterThan(1);
    expect(new Set(rec!.attempts.map((a) => a.hash)).size).to.equal(rec!.attempts.length);
    expect(BigInt(rec!.attempts[1].maxFeePerGas)).to.be.greaterThan(BigInt(rec!.attempts[0].maxFeePerGas));
    expect(receipt.hash).to.equal(rec!.attempts[rec!.attempts.length - 1].hash);
    expect(receipt.status).to.equal(1);
    expect(await m.provider.getTransactionCount(wallet.address)).to.equal(rec!.nonce + 1);
    // The same intent again (as after a restart): the recorded receipt, no new transaction.
    const again = await new TxSender(wallet, m.provider, store, log, new Metrics()).send("deposit:test", m.jobsAddress, data, 10n ** 15n);
    expect(again.hash).to.equal(receipt.hash);
    expect(await m.provider.getTransactionCount(wallet.address)).to.equal(rec!.nonce + 1);
    expect((await m.sys.jobs.accountOf(wallet.address)).available).to.equal(10n ** 15n);
    await store.close();
  });

  const fulfilled = async (ids: bigint[]) => (await Promise.all(ids.map((id) => m.sys.jobs.resultOf(id)))).every((r) => r[0]);

  it("accumulates PROVER_BATCH_MAX proofs and settles them in one submitResults transaction", async function () {
    const jobs = [await m.open(), await m.open(), await m.open()];
    const ids = jobs.map((j) => j.jobId);
    const node = inProcessNode(m, 5, "batcher", { concurrency: 2, batch: { max: 3, waitMs: 120_000, marginS: 5 } });
    await node.start();
    try {
      await until(() => fulfilled(ids), 90_000, "three results");
    } finally {
      await node.stop();
    }
    const logs = (await m.sys.jobs.queryFilter(m.sys.jobs.filters.JobFulfilled())).filter((l) => ids.includes(l.args.jobId));
    expect(logs.map((l) => l.args.prover)).to.deep.equal(ids.map(() => node.address));
    expect(new Set(logs.map((l) => l.transactionHash)).size).to.equal(1);
    for (let i = 0; i < ids.length; i++) expect((await m.sys.jobs.resultOf(ids[i]))[1]).to.equal(jobs[i].expected);
    const sent = node.log.records.filter((r) => r.event === "batch_submitted");
    expect(sent.length).to.equal(1);
    expect(sent[0].reason).to.equal("full");
    expect(sent[0].jobs).to.deep.equal(ids.map(String));
  });

  it("sends a result alone and early when its lease end comes within the margin", async function () {
    // The fixture's lease is 30 s: with a 27 s margin the node may hold a proof for about 3 s after its claim.
    const { jobId, expected } = await m.open();
    const node = inProcessNode(m, 6, "margin", { batch: { max: 4, waitMs: 600_000, marginS: 27 } });
    await node.start();
    try {
      await until(() => fulfilled([jobId]), 60_000, "the result");
    } finally {
      await node.stop();
    }
    expect(await m.sys.jobs.resultOf(jobId)).to.deep.equal([true, expected]);
    const due = node.log.records.find((r) => r.event === "batch_due");
    expect(due?.reason).to.equal("margin");
    const [claimed] = await m.sys.jobs.queryFilter(m.sys.jobs.filters.JobClaimed(jobId));
    const [done] = await m.sys.jobs.queryFilter(m.sys.jobs.filters.JobFulfilled(jobId));
    expect(done.args.prover).to.equal(node.address);
    const leaseEnd = Number(claimed.args.leaseEnd);
    const at = (await m.provider.getBlock(done.blockNumber))!.timestamp;
    expect(at).to.be.at.most(leaseEnd - 22);
  });
});
