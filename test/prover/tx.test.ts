import { expect } from "chai";
import { Wallet } from "ethers";
import { createJsonLog } from "../../scripts/prover/log";
import { Metrics } from "../../scripts/prover/metrics";
import { ProverStore } from "../../scripts/prover/store";
import { TxSender } from "../../scripts/prover/tx";
import { type Market, devKey, startMarket, until } from "./fixture";

/** Stuck transactions are replaced with higher fees under the same nonce, and a restart resumes, never resends. */
describe("prover nodes: transaction sender", function () {
  let m: Market;

  before(async function () {
    m = await startMarket();
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
});
