import { expect } from "chai";
import { dataUri } from "../../scripts/formats/job-input";
import { layoutOf } from "../../scripts/formats/model-layout";
import { createAdapter, registerModel } from "../../scripts/chain/system";
import { GROTH16_BN254_V1 } from "../../scripts/formats/public-signals";
import { AcceptAllVerifier__factory } from "../../typechain-types";
import type { ProverNode } from "../../scripts/apps/prover/node";
import { type Market, inProcessNode, startMarket, until } from "../../scripts/apps/load/market";

/** A node skips (and reports) jobs it must not serve, and keeps serving the good ones. */
describe("prover nodes: malformed jobs", function () {
  let m: Market;
  let node: ProverNode | undefined;

  before(async function () {
    m = await startMarket();
  });

  after(async function () {
    await node?.stop().catch(() => undefined);
    await m?.stop();
  });

  it("skips a bad commitment, a version its bundle does not match, a foreign verifier, a version registered with another layout than its circuit's, a low fee and an unreadable input, with reasons, and serves the rest", async function () {
    const minFee = 10n ** 15n;
    // A version whose registry commitment is not its bundle's (the iris bundle, same verifier, another modelHash).
    const adapter = (await m.sys.registry.getModelVersion(m.modelId, 1))[1];
    const { modelId: unknownModel } = await registerModel(
      m.sys.registry,
      m.wallet(1),
      { modelCommitment: m.built.modelCommitment + 1n, circuitHash: m.built.circuit.r1csHash, vkHash: m.built.keys.vkHash, uri: m.uri },
      adapter,
      layoutOf(m.built.model),
    );
    // The exact commitment of the iris bundle, registered on a verifier that accepts anything (behind a factory
    // adapter, so the registry takes it): the node must not work for a version it cannot trust.
    const acceptAll = await new AcceptAllVerifier__factory(m.wallet(1)).deploy();
    const foreignAdapter = await createAdapter(m.sys.factory, m.wallet(1), GROTH16_BN254_V1, await acceptAll.getAddress());
    const { modelId: foreignModel } = await registerModel(
      m.sys.registry,
      m.wallet(1),
      { modelCommitment: m.built.modelCommitment, circuitHash: m.built.circuit.r1csHash, vkHash: m.built.keys.vkHash, uri: m.uri },
      foreignAdapter.adapter,
      layoutOf(m.built.model),
    );
    // The iris bundle's exact commitment and verifier, registered with another layout than its circuit's (issue 27,
    // finding 2): no proof of the circuit verifies for it, so the node refuses it by name before claiming.
    const { modelId: wrongLayoutModel } = await registerModel(
      m.sys.registry,
      m.wallet(1),
      { modelCommitment: m.built.modelCommitment, circuitHash: m.built.circuit.r1csHash, vkHash: m.built.keys.vkHash, uri: m.uri },
      adapter,
      { ...layoutOf(m.built.model), inputBits: 11 },
    );
    const good1 = await m.open({ fee: minFee });
    const wrongLayout = await m.open({ modelId: wrongLayoutModel });
    const foreign = await m.open({ modelId: foreignModel });
    const badCommitment = await m.open({ commitment: 12345n });
    const unknown = await m.open({ modelId: unknownModel });
    const lowFee = await m.open({ fee: minFee - 1n });
    const badUri = await m.open({ uri: "ftp://nothing-here" });
    const badJson = await m.open({ uri: "data:application/json,{not json" });
    const outOfRange = await m.open({ uri: dataUri({ x: [1000n, 0n, 0n, 0n], salt: 1n }) });

    node = inProcessNode(m, 6, "solo", { minFeeWei: minFee });
    await node.start();
    const good2 = await m.open();

    const good = [good1, good2];
    await until(async () => (await Promise.all(good.map((g) => m.sys.jobs.resultOf(g.jobId)))).every((r) => r[0]), 60_000, "the good jobs");
    for (const g of good) expect(await m.sys.jobs.resultOf(g.jobId)).to.deep.equal([true, g.expected]);

    const skipped = [badCommitment, unknown, foreign, wrongLayout, lowFee, badUri, badJson, outOfRange];
    const settled = (): boolean => {
      const states = new Map(node!.jobRecords().map((r) => [r.jobId, r.state]));
      return skipped.every((j) => states.get(j.jobId.toString()) === "skipped");
    };
    await until(async () => settled(), 60_000, "the skipped jobs");
    const recs = new Map(node.jobRecords().map((r) => [r.jobId, r]));
    const reason = (j: { jobId: bigint }): string => {
      const r = recs.get(j.jobId.toString());
      expect(r?.state, `job ${j.jobId}`).to.equal("skipped");
      return r?.reason ?? "";
    };
    expect(reason(badCommitment)).to.match(/input commitment mismatch/);
    expect(reason(unknown)).to.match(
      /^published bundle file:\/\/.* refused: registry modelHash 0x[0-9a-f]{64} is not the bundle's 0x[0-9a-f]{64}$/,
    );
    expect(reason(foreign)).to.match(/^published bundle file:\/\/.* refused: .*is not the snarkjs verifier of these keys/);
    expect(reason(wrongLayout)).to.match(
      /^published bundle file:\/\/.* refused: layout\.inputBits: registered 11, circuit 12; re-register the version with the circuit's layout$/,
    );
    expect(reason(lowFee)).to.match(/below the minimum/);
    expect(reason(badUri)).to.match(/unsupported input URI scheme/);
    expect(reason(badJson)).to.match(/not JSON/);
    // Out of range is rejected by the range check, or (if the model clamps inputs) by the commitment check.
    expect(reason(outOfRange)).to.match(/outside the .*range|input\.x|commitment mismatch/);
    // Skipped jobs were reported in the log, and nothing was spent on them (no claim).
    const skippedLogs = node.log.records.filter((r) => r.event === "job_skipped").map((r) => r.jobId);
    expect(skippedLogs).to.have.members(skipped.map((j) => j.jobId.toString()));
    for (const j of skipped) expect((await m.sys.jobs.claimOf(j.jobId)).claimant).to.equal("0x0000000000000000000000000000000000000000");
    const metrics = await node.stop();
    node = undefined;
    expect(metrics.skipped).to.equal(8);
    expect(metrics.fulfilled).to.equal(2);
    expect(metrics.settledBeforeStart).to.equal(0);
  });
});
