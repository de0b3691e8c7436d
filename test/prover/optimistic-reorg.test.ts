import { expect } from "chai";
import type { ProverNode } from "../../scripts/apps/prover/node";
import { type Market, escrowBooks, inProcessNode, startMarket, until } from "../../scripts/apps/load/market";

interface Line {
  event?: string;
  jobId?: string;
  [k: string]: unknown;
}

/**
 * A prover node's optimistic duties under chain reorganisations (docs/prover.md, "Optimistic results"; the reorg
 * paths of normal claims and submissions are in reorg.test.ts), made the same way: the Hardhat node's evm_snapshot /
 * evm_revert drop the blocks after the snapshot under the running node (confirmation depth 2). A post that is dropped
 * is posted again, once, without waiting for the window of the post that is gone; a finalisation that is dropped is
 * sent again; a watcher's disproof that is dropped is submitted again with the proof already made; a post dropped
 * while the node was down, with another address's post in its place, is recorded lost. Real `hardhat node`,
 * iris-mlp, real Groth16 proofs.
 */
describe("prover nodes: optimistic results under reorganisations", function () {
  const FEE = 10n ** 16n;
  /** Below the node's minimum: only the test's own account claims and posts on these jobs. */
  const LOW_FEE = 10n ** 15n;
  let m: Market;
  let node: ProverNode;
  let me: string;
  let cw: number;
  const lines: Line[] = [];
  /** The node under test (account 6, one state folder: a new one resumes from it), its log lines kept in `lines`. */
  const theNode = () =>
    inProcessNode(m, 6, "optimistic-reorg", {
      confirmations: 2,
      minFeeWei: FEE,
      optimistic: { post: true, watch: true },
      logSink: (line) => {
        lines.push(JSON.parse(line) as Line);
        if (process.env.PROVER_TEST_LOGS === "1") process.stdout.write(line + "\n");
      },
    });

  before(async function () {
    m = await startMarket();
    cw = Number((await m.sys.jobs.optimisticParameters())[1]);
    await (await m.sys.jobs.connect(m.wallet(9)).deposit({ value: 10n ** 17n })).wait(); // the test's own poster
    node = theNode();
    me = node.address;
    await node.start();
    await mine(3); // the node's stake deposit is under the confirmation depth too
  });

  afterEach(function () {
    // a failure under load is diagnosed from the node's own account of it
    if (this.currentTest?.state === "failed")
      console.log(
        `    the node's last log lines:\n${lines
          .slice(-40)
          .map((l) => `      ${JSON.stringify(l)}`)
          .join("\n")}`,
      );
  });

  after(async function () {
    await node?.stop().catch(() => undefined);
    await m?.stop();
  });

  const mine = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++) await m.rpc("evm_mine");
  };
  const snapshot = async (): Promise<string> => (await m.rpc("evm_snapshot")) as string;
  const revert = async (snap: string): Promise<void> => {
    expect(await m.rpc("evm_revert", [snap])).to.equal(true);
  };
  const passWindow = async (): Promise<void> => {
    await m.rpc("evm_increaseTime", [cw + 1]);
    await mine(1);
  };
  const status = async (id: bigint): Promise<bigint> => (await m.sys.jobs.getJob(id)).status;
  const fulfilled = async (id: bigint): Promise<boolean> => (await m.sys.jobs.resultOf(id))[0];
  const postedBy = async (id: bigint, who: string): Promise<boolean> => (await m.sys.jobs.optimisticStateOf(id)).poster === who;
  const record = (id: bigint) => node.jobRecords().find((r) => r.jobId === id.toString());
  /** The keys of the node's transactions of one kind on job `id` (any epoch), each once, in order. */
  const sent = (kind: string, id: bigint): string[] => {
    const re = new RegExp(`^${kind}:${id}(#\\d+)?(:\\d+)?$`);
    return [...new Set(lines.filter((l) => l.event === "tx_sent" && re.test(l.key as string)).map((l) => l.key as string))];
  };
  const onChain = async (id: bigint) => ({
    posted: (await m.sys.jobs.queryFilter(m.sys.jobs.filters.ResultPosted(id))).map((e) => e.args.poster),
    fulfilled: (await m.sys.jobs.queryFilter(m.sys.jobs.filters.JobFulfilled(id))).map((e) => e.args.prover),
  });

  it("a post dropped by a reorganisation is posted again, exactly once, without waiting for the window of the post that is gone", async function () {
    const j = await m.open({ optimistic: true, fee: FEE });
    const snap = await snapshot(); // the job open and optimistic; nothing of the node's yet (not confirmed)
    await mine(2);
    await until(() => postedBy(j.jobId, me), 30_000, "the node's post");
    await until(() => record(j.jobId)?.state === "posted", 10_000, "recorded posted");
    await revert(snap);
    expect(await status(j.jobId)).to.equal(1n); // Open again: the claim and the post are gone
    await mine(3);
    // the window of the dropped post has not passed (chain time is back before it): the node posts again at once
    await until(() => postedBy(j.jobId, me), 30_000, "the node's post on the new chain");
    await until(() => record(j.jobId)?.state === "posted", 10_000, "recorded posted again");
    await new Promise((r) => setTimeout(r, 1_500)); // a few more ticks: nothing else is posted
    expect((await onChain(j.jobId)).posted).to.deep.equal([me]);
    expect(sent("post", j.jobId)).to.deep.equal([`post:${j.jobId}`, `post:${j.jobId}#1`]);
    expect(lines.some((l) => l.event === "job_reopened" && l.jobId === j.jobId.toString())).to.equal(true);
    // the books balance with a result posted: the Posted job's escrow is still owed
    const books = await escrowBooks(m, [me, m.requester.address, m.wallet(9).address]);
    expect(books.balance).to.equal(books.owed);
    // and the new post is finalised after its window, once
    await passWindow();
    await until(() => fulfilled(j.jobId), 30_000, "finalisation");
    expect(await m.sys.jobs.resultOf(j.jobId)).to.deep.equal([true, j.expected]);
    expect((await onChain(j.jobId)).fulfilled).to.deep.equal([me]);
  });

  it("a finalisation dropped by a reorganisation is sent again", async function () {
    const j = await m.open({ optimistic: true, fee: FEE });
    await mine(2);
    await until(() => postedBy(j.jobId, me), 30_000, "the node's post");
    await until(() => record(j.jobId)?.state === "posted", 10_000, "recorded posted");
    await mine(2); // the post at the confirmation depth
    const snap = await snapshot(); // posted, its window not passed
    await passWindow();
    await until(() => fulfilled(j.jobId), 30_000, "finalisation");
    await until(() => record(j.jobId)?.state === "done", 10_000, "recorded done");
    await revert(snap);
    expect(await status(j.jobId)).to.equal(5n); // Posted again: the finalisation is gone
    await passWindow();
    await mine(2);
    await until(() => fulfilled(j.jobId), 30_000, "finalisation on the new chain");
    await until(() => record(j.jobId)?.state === "done", 10_000, "recorded done again");
    expect(await m.sys.jobs.resultOf(j.jobId)).to.deep.equal([true, j.expected]);
    expect(await onChain(j.jobId)).to.deep.equal({ posted: [me], fulfilled: [me] });
    expect(sent("finalize", j.jobId)).to.deep.equal([`finalize:${j.jobId}:1`, `finalize:${j.jobId}#1:1`]);
    expect(sent("post", j.jobId)).to.deep.equal([`post:${j.jobId}`]); // the post stayed: not posted again
  });

  it("a post dropped by a reorganisation while the node was down, another's post in its place: recorded lost, never finalised as its own", async function () {
    const j = await m.open({ optimistic: true, fee: FEE });
    const snap = await snapshot(); // the job open and optimistic; nothing of the node's yet
    await mine(2);
    await until(() => postedBy(j.jobId, me), 30_000, "the node's post");
    await until(() => record(j.jobId)?.state === "posted", 10_000, "recorded posted");
    await node.stop();
    await revert(snap); // the node's claim and post are gone ...
    const other = m.wallet(9);
    await (await m.sys.jobs.connect(other).claim(j.jobId)).wait();
    await (await m.sys.jobs.connect(other).postResult(j.jobId, j.expected)).wait(); // ... and another's correct post stands
    await mine(3);
    node = theNode(); // the same state folder: it remembers its own post
    await node.start();
    await passWindow();
    await until(() => record(j.jobId)?.state === "lost", 30_000, "the job recorded lost");
    expect(sent("finalize", j.jobId)).to.deep.equal([]); // never tried to finalise a post that is not its own
    expect(await onChain(j.jobId)).to.deep.include({ posted: [other.address] });
  });

  it("a disproof dropped by a reorganisation is submitted again, with the proof already made", async function () {
    const j = await m.open({ optimistic: true, fee: LOW_FEE });
    const liar = m.wallet(9);
    await (await m.sys.jobs.connect(liar).claim(j.jobId)).wait();
    await (await m.sys.jobs.connect(liar).postResult(j.jobId, (j.expected + 1n) % 3n)).wait();
    const snap = await snapshot(); // the wrong post, not yet at the node's confirmation depth
    const proved = node.metrics.proved;
    await mine(2);
    await until(() => fulfilled(j.jobId), 60_000, "the node's disproof");
    await until(() => record(j.jobId)?.state === "done", 10_000, "recorded done");
    await revert(snap);
    expect(await status(j.jobId)).to.equal(5n); // Posted again by the liar, its window open
    await mine(3);
    await until(() => fulfilled(j.jobId), 60_000, "the disproof on the new chain");
    await until(() => record(j.jobId)?.state === "done", 10_000, "recorded done again");
    expect(await m.sys.jobs.resultOf(j.jobId)).to.deep.equal([true, j.expected]);
    expect(await onChain(j.jobId)).to.deep.equal({ posted: [liar.address], fulfilled: [me] });
    const slashed = await m.sys.jobs.queryFilter(m.sys.jobs.filters.PosterSlashed(j.jobId));
    expect(slashed.map((e) => [e.args.poster, e.args.rewarded])).to.deep.equal([[liar.address, me]]);
    expect(node.metrics.proved - proved).to.equal(1); // one proof, submitted twice
    expect(sent("submit", j.jobId)).to.have.length(2);

    // on the chain as it is now: none of the node's transactions reverted; the books balance
    const head = await m.provider.getBlockNumber();
    for (let n = 0; n <= head; n++) {
      const blk = await m.provider.getBlock(n, true);
      for (const tx of blk!.prefetchedTransactions)
        if (tx.from === me) expect((await m.provider.getTransactionReceipt(tx.hash))!.status, `tx ${tx.hash}`).to.equal(1);
    }
    const books = await escrowBooks(m, [me, m.requester.address, liar.address]);
    expect(books.balance).to.equal(books.owed);
  });
});
