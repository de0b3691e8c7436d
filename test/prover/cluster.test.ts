import { expect } from "chai";
import { type Market, escrowBooks, inProcessNode, startMarket, until } from "../../scripts/apps/load/market";
import type { ProverNode } from "../../scripts/apps/prover/node";

/**
 * Three independent prover nodes on one chain split N jobs through claims: every job is fulfilled exactly once with
 * an on-chain-verified proof, and the market's books balance.
 */
describe("prover nodes: a cluster of three", function () {
  const N = Number(process.env.PROVER_TEST_JOBS ?? 30);
  let m: Market;
  let nodes: ProverNode[] = [];

  before(async function () {
    m = await startMarket();
  });

  after(async function () {
    await Promise.all(nodes.map((n) => n.stop().catch(() => undefined)));
    await m?.stop();
  });

  it(`fulfils ${N} jobs exactly once, all verified on chain, escrow conserved`, async function () {
    const expected = new Map<bigint, bigint>();
    // Half the jobs exist before the nodes start (catch-up scan), half arrive while they run (watching).
    for (let i = 0; i < N / 2; i++) {
      const { jobId, expected: out } = await m.open();
      expected.set(jobId, out);
    }
    nodes = [inProcessNode(m, 3, "p1"), inProcessNode(m, 4, "p2"), inProcessNode(m, 5, "p3")];
    await Promise.all(nodes.map((n) => n.start()));
    for (let i = N / 2; i < N; i++) {
      const { jobId, expected: out } = await m.open();
      expected.set(jobId, out);
    }
    await until(
      async () => (await m.sys.jobs.queryFilter(m.sys.jobs.filters.JobFulfilled())).length >= N,
      150_000,
      `${N} JobFulfilled events`,
      500,
    );

    const fulfilled = await m.sys.jobs.queryFilter(m.sys.jobs.filters.JobFulfilled());
    const byJob = new Map<bigint, number>();
    for (const e of fulfilled) byJob.set(e.args.jobId, (byJob.get(e.args.jobId) ?? 0) + 1);
    expect(byJob.size).to.equal(N);
    for (const [jobId, count] of byJob) expect(count, `job ${jobId} fulfilment count`).to.equal(1);
    const provers = new Set(fulfilled.map((e) => e.args.prover));
    for (const [jobId, out] of expected) {
      // The contract records a result only after its Groth16 verifier accepted the proof.
      expect(await m.sys.jobs.resultOf(jobId)).to.deep.equal([true, out]);
    }
    const metrics = await Promise.all(nodes.map((n) => n.stop()));
    nodes = [];
    const submitted = metrics.reduce((a, x) => a + x.submitted, 0);
    const fulfilledByNodes = metrics.reduce((a, x) => a + x.fulfilled, 0);
    expect(fulfilledByNodes).to.equal(N);
    expect(submitted, "no submission was sent twice or wasted").to.equal(N);
    expect(provers.size, "work was split between nodes").to.be.greaterThan(1);
    const { balance, owed } = await escrowBooks(m, [m.requester.address, m.wallet(3).address, m.wallet(4).address, m.wallet(5).address]);
    expect(balance).to.equal(owed);
    console.log(
      `      split: ${metrics.map((x) => x.fulfilled).join(" / ")}; proving mean ${metrics.map((x) => x.provingMeanSeconds).join(" / ")} s`,
    );
  });
});
