import { expect } from "chai";
import type { ProverNode } from "../../scripts/apps/prover/node";
import { type Market, escrowBooks, inProcessNode, startMarket, until } from "../../scripts/apps/load/market";

interface Line {
  event?: string;
  jobId?: string;
  [k: string]: unknown;
}

/**
 * Issue 19, part 2: a node under chain reorganisations, made with the Hardhat node's evm_snapshot / evm_revert (the
 * blocks after the snapshot are dropped under the running node; the chain then grows new ones with other hashes).
 */
describe("prover nodes: confirmations and reorganisations", function () {
  let m: Market;
  let node: ProverNode | undefined;
  const lines: Line[] = [];
  const events = (e: string): Line[] => lines.filter((l) => l.event === e);

  before(async function () {
    m = await startMarket();
  });

  after(async function () {
    await node?.stop().catch(() => undefined);
    await m?.stop();
  });

  const mine = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++) await m.rpc("evm_mine");
  };
  const result = async (id: bigint): Promise<[boolean, bigint]> => {
    const r = await m.sys.jobs.resultOf(id);
    return [r[0], r[1]];
  };
  const claimsBy = async (id: bigint, who: string): Promise<number> =>
    (await m.sys.jobs.queryFilter(m.sys.jobs.filters.JobClaimed(id))).filter((e) => e.args.prover === who).length;

  it("acts only at its confirmation depth; survives reorganisations that drop a JobOpened (its id reused by another job) and that drop its own claim and fulfilment", async function () {
    const me = m.wallet(6).address;
    node = inProcessNode(m, 6, "reorg", {
      confirmations: 2,
      logSink: (line) => {
        lines.push(JSON.parse(line) as Line);
        if (process.env.PROVER_TEST_LOGS === "1") process.stdout.write(line + "\n");
      },
    });
    await node.start();
    await mine(3); // the node's stake deposit is under the confirmation depth too

    // 1. a job is not acted on before 2 blocks are mined on top of it
    const j1 = await m.open();
    await new Promise((r) => setTimeout(r, 2_000));
    expect(node.jobRecords().find((r) => r.jobId === j1.jobId.toString())).to.equal(undefined);
    expect(await claimsBy(j1.jobId, me)).to.equal(0);
    await mine(2);
    await until(async () => (await result(j1.jobId))[0], 60_000, "job 1 fulfilled once confirmed");
    expect(await result(j1.jobId)).to.deep.equal([true, j1.expected]);

    // 2. a JobOpened the node served is dropped, and its id is opened again by another job with another input
    const snap = (await m.rpc("evm_snapshot")) as string;
    const j2 = await m.open();
    await mine(2);
    await until(async () => (await result(j2.jobId))[0], 60_000, "job 2 fulfilled");
    await until(async () => node!.jobRecords().find((r) => r.jobId === j2.jobId.toString())?.state === "done", 10_000, "job 2 done");
    expect(await m.rpc("evm_revert", [snap])).to.equal(true);
    expect(await m.sys.jobs.nextJobId()).to.equal(j2.jobId); // gone: the next job gets its id
    const j2b = await m.open(); // the same id, another input (the fixture's inputs differ per call)
    expect(j2b.jobId).to.equal(j2.jobId);
    await mine(3);
    await until(async () => (await result(j2b.jobId))[0], 60_000, "the new job under id 2 fulfilled");
    expect(await result(j2b.jobId)).to.deep.equal([true, j2b.expected]);
    expect(events("reorg_detected").length).to.be.at.least(1);
    expect(events("job_dropped").map((l) => l.jobId)).to.include(j2.jobId.toString());

    // 3. the node's claim and fulfilment of a job are dropped, the job itself stays: it is served again
    const j3 = await m.open();
    await mine(2);
    const snap3 = (await m.rpc("evm_snapshot")) as string; // after the JobOpened is confirmed, before the claim
    await until(async () => (await result(j3.jobId))[0], 60_000, "job 3 fulfilled");
    await until(async () => node!.jobRecords().find((r) => r.jobId === j3.jobId.toString())?.state === "done", 10_000, "job 3 done");
    expect(await m.rpc("evm_revert", [snap3])).to.equal(true);
    expect((await m.sys.jobs.getJob(j3.jobId)).status).to.equal(1n); // Open again, unclaimed
    await mine(3);
    await until(async () => (await result(j3.jobId))[0], 60_000, "job 3 fulfilled again on the new chain");
    expect(await result(j3.jobId)).to.deep.equal([true, j3.expected]);
    expect(events("job_reopened").map((l) => l.jobId)).to.include(j3.jobId.toString());
    // the result is on chain as soon as the node's transaction is mined; the node records it when it reads the receipt
    // (later on a busy machine: npm test failed once here with the record still "proved")
    await until(async () => node!.jobRecords().find((r) => r.jobId === j3.jobId.toString())?.state === "done", 10_000, "job 3 done again");
    const rec3 = node.jobRecords().find((r) => r.jobId === j3.jobId.toString())!;
    expect([rec3.state, rec3.epoch]).to.deep.equal(["done", 1]);

    // on the chain as it is now: every job fulfilled once, by this node; none of its transactions reverted
    for (const j of [j1, j2b, j3]) {
      const f = await m.sys.jobs.queryFilter(m.sys.jobs.filters.JobFulfilled(j.jobId));
      expect(
        f.map((e) => e.args.prover),
        `job ${j.jobId}`,
      ).to.deep.equal([me]);
    }
    const head = await m.provider.getBlockNumber();
    for (let n = 0; n <= head; n++) {
      const blk = await m.provider.getBlock(n, true);
      for (const tx of blk!.prefetchedTransactions)
        if (tx.from === me) expect((await m.provider.getTransactionReceipt(tx.hash))!.status, `tx ${tx.hash}`).to.equal(1);
    }
    const books = await escrowBooks(m, [me, m.requester.address]);
    expect(books.balance).to.equal(books.owed);
  });
});
