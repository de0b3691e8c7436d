import { expect } from "chai";
import type { ProverNode } from "../../scripts/apps/prover/node";
import { type Market, inProcessNode, startMarket, until } from "../../scripts/apps/load/market";

/**
 * A node that starts after jobs settled (issue 14), and a node pointed at the wrong market.
 */
describe("prover nodes: catch-up and start-up checks", function () {
  let m: Market;
  let node: ProverNode | undefined;

  before(async function () {
    m = await startMarket();
  });

  after(async function () {
    await node?.stop().catch(() => undefined);
    await m?.stop();
  });

  it("a wrong PROVER_JOBS_ADDRESS is one line naming the variable and the fix (no contract; not a market)", async function () {
    const none = inProcessNode(m, 8, "wrong-address", { jobsAddress: "0x000000000000000000000000000000000000dEaD" });
    let msg = "";
    await none.start().catch((e: Error) => (msg = e.message));
    expect(msg).to.match(/^PROVER_JOBS_ADDRESS 0x0+dEaD: no contract there on chain 31337: export the InferenceJobs address/);
    const registry = inProcessNode(m, 8, "registry-address", { jobsAddress: await m.sys.registry.getAddress() });
    msg = "";
    await registry.start().catch((e: Error) => (msg = e.message));
    expect(msg).to.match(/: the contract there is not an InferenceJobs market on chain 31337/);
  });

  it("jobs settled before the node started count as settledBeforeStart, not lostToOthers", async function () {
    const settled = [await m.open({ deadlineIn: 60 }), await m.open({ deadlineIn: 60 })];
    await m.rpc("evm_increaseTime", [120]);
    await m.rpc("evm_mine");
    for (const j of settled) await (await m.sys.jobs.connect(m.requester).reclaim(j.jobId)).wait();
    node = inProcessNode(m, 7, "late");
    await node.start();
    await until(async () => node!.jobRecords().filter((r) => r.state === "lost").length >= 2, 30_000, "the catch-up");
    const metrics = await node.stop();
    node = undefined;
    expect(metrics.settledBeforeStart).to.equal(2);
    expect(metrics.lostToOthers).to.equal(0);
  });
});
