import { expect } from "chai";
import { inferQuantized, inputCommitment } from "../../scripts/formats/quantized-model";
import type { ProverNode } from "../../scripts/apps/prover/node";
import { type Market, inProcessNode, startMarket, until } from "../../scripts/apps/load/market";
import { claimantPublicKey, deliverToClaim, encryptDelivery, openingJson } from "../../scripts/chain/private-input";
import { hexlify, randomBytes } from "ethers";

/**
 * A private job: the requester delivers the opening encrypted to the claimant after its claim (docs/market-rules.md,
 * "Private delivery").
 */
describe("prover nodes: private input delivery", function () {
  let m: Market;
  let node: ProverNode | undefined;

  before(async function () {
    m = await startMarket();
  });

  after(async function () {
    await node?.stop().catch(() => undefined);
    await m?.stop();
  });

  it("serves a private job delivered encrypted to its claim; declines (unslashed) a wrong opening, an undecryptable one and a missing one, and never claims them again", async function () {
    const jobs = m.sys.jobs.connect(m.requester);
    const now = (await m.provider.getBlock("latest"))!.timestamp;
    const opening = (k: number) => ({
      x: [-462n, 404n, -653n, -681n].map((v, i) => v + BigInt(k * 11 + i)),
      salt: BigInt(k) * 7_919n + 5n,
    });
    const openPrivate = async (k: number) => {
      const o = opening(k);
      const c = await inputCommitment(m.built.model, o.x, o.salt);
      const id = await jobs.openPrivateJob.staticCall(m.modelId, 1n, c, now + 3600, false, { value: 10n ** 16n });
      await (await jobs.openPrivateJob(m.modelId, 1n, c, now + 3600, false, { value: 10n ** 16n })).wait();
      return id;
    };
    const good = await openPrivate(1);
    const wrong = await openPrivate(2);
    const garbage = await openPrivate(3);
    const never = await openPrivate(4);
    const { chainId } = await m.provider.getNetwork();
    const jobsAddr = m.jobsAddress;
    // the requester's delivery agent: the real opening to `good`, another valid opening to `wrong`, random bytes to
    // `garbage`, nothing to `never`
    let agent = true;
    const delivered = new Set<bigint>();
    const agentLoop = (async () => {
      while (agent) {
        for (const id of [good, wrong, garbage]) {
          if (delivered.has(id)) continue;
          const c = await jobs.claimOf(id);
          if (c.claimant === "0x0000000000000000000000000000000000000000" || c.deliveredAt !== 0n) continue;
          if (id === good) {
            if ((await deliverToClaim(jobs, id, opening(1))).kind === "delivered") delivered.add(id);
          } else {
            const pub = await claimantPublicKey(m.provider, m.sys.jobs, id, c.claimant);
            const ct =
              id === wrong
                ? encryptDelivery(openingJson(opening(9)), pub, { chainId, jobs: jobsAddr, jobId: id, claimant: c.claimant })
                : hexlify(randomBytes(120));
            await (await jobs.deliverInput(id, c.claimant, ct)).wait();
            delivered.add(id);
          }
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    node = inProcessNode(m, 7, "private", { concurrency: 4 });
    await node.start();
    const addr = node.address;
    const rec = (id: bigint) => node!.jobRecords().find((r) => r.jobId === id.toString());
    await until(
      async () => (await m.sys.jobs.resultOf(good))[0] && rec(wrong)?.state === "skipped" && rec(garbage)?.state === "skipped",
      120_000,
      "the private jobs",
    );
    expect(await m.sys.jobs.resultOf(good)).to.deep.equal([true, inferQuantized(m.built.model, opening(1).x).output]);
    expect(rec(wrong)?.reason).to.match(/the delivered opening commits to \d+, the job to \d+; claim released without a slash/);
    expect(rec(garbage)?.reason).to.match(/the delivered input is unusable: ciphertext.*; claim released without a slash/);
    for (const id of [wrong, garbage]) {
      const released = await m.sys.jobs.queryFilter(m.sys.jobs.filters.ClaimReleased(id));
      expect(released.map((e) => [e.args.prover, e.args.returned])).to.deep.equal([[addr, await m.sys.jobs.claimBond()]]);
    }
    // nothing was delivered to `never`: push the chain past its delivery window
    await m.rpc("evm_increaseTime", [Number(await m.sys.jobs.deliveryWindow()) + 1]);
    await m.rpc("evm_mine");
    await until(async () => rec(never)?.state === "skipped", 30_000, "the undelivered job");
    expect(rec(never)?.reason).to.match(/did not deliver the private input within the delivery window; claim settled, bond returned whole/);
    const expired = await m.sys.jobs.queryFilter(m.sys.jobs.filters.ClaimExpired(never));
    expect(expired.map((e) => [e.args.prover, e.args.slashed])).to.deep.equal([[addr, 0n]]);
    // no bond of this node is locked, and it never claimed a declined job twice
    await new Promise((r) => setTimeout(r, 1500));
    expect((await m.sys.jobs.accountOf(addr)).locked).to.equal(0n);
    for (const id of [wrong, garbage, never])
      expect((await m.sys.jobs.queryFilter(m.sys.jobs.filters.JobClaimed(id, addr))).length, `job ${id}`).to.equal(1);
    agent = false;
    await agentLoop;
    await node.stop();
    node = undefined;
  });

  it("leaves a private job its requester designated to another prover (issue 27 finding 3): no claim, waiting with the reason", async function () {
    const jobs = m.sys.jobs.connect(m.requester);
    const now = (await m.provider.getBlock("latest"))!.timestamp;
    const c = await inputCommitment(m.built.model, [1n, 2n, 3n, 4n], 99n);
    const id = await jobs.openPrivateJob.staticCall(m.modelId, 1n, c, now + 3600, false, { value: 10n ** 16n });
    await (await jobs.openPrivateJob(m.modelId, 1n, c, now + 3600, false, { value: 10n ** 16n })).wait();
    const other = m.wallet(9).address;
    await (await jobs.designateClaimant(id, other)).wait();
    node = inProcessNode(m, 7, "designated", {});
    await node.start();
    const rec = () => node!.jobRecords().find((r) => r.jobId === id.toString());
    await until(async () => rec()?.state === "waiting", 60_000, "the designated job set aside");
    expect(rec()?.reason).to.equal(`the requester designated ${other} to claim it`);
    expect(rec()?.retryAt).to.be.greaterThan(Date.now());
    await new Promise((r) => setTimeout(r, 1000));
    expect((await m.sys.jobs.queryFilter(m.sys.jobs.filters.JobClaimed(id))).length).to.equal(0);
    await node.stop();
    node = undefined;
  });
});
