import { expect } from "chai";
import * as http from "http";
import type { AddressInfo } from "net";
import hre from "hardhat";
import { deployGroth16Verifier, openJobWithInputs, registerModel } from "../../scripts/chain/system";
import { SNARK_FIELD } from "../../scripts/lib/field";
import { type BuiltModel, buildModel, loadFloatModel } from "../../scripts/model/build";
import { loadSeattleTempMax } from "../../scripts/model/datasets";
import { inferQuantized, inputCommitment, layoutOf } from "../../scripts/model/quantized";
import { quantizeInput } from "../../scripts/quant/quantize";
import type { ProverNode } from "../../scripts/prover/node";
import { openJob } from "../../scripts/chain/system";
import { type Market, inProcessNode, startMarket, until } from "./fixture";
import { claimantPublicKey, deliverToClaim, encryptDelivery, openingJson } from "../../scripts/chain/private-input";
import { hexlify, randomBytes } from "ethers";

/**
 * A prover node serves every input delivery kind without a hand-made URI: a public-input job (values in the
 * JobInputs event), committed inputs behind http(s):// and ipfs:// (through a gateway) and data:, each checked against
 * the job's commitment; and a private job whose opening the requester delivers encrypted to the claimant. The HTTP
 * server and the IPFS gateway are a loopback server of this test.
 */
describe("prover nodes: input delivery", function () {
  let m: Market;
  let tf: BuiltModel;
  let tfModelId: bigint;
  let server: http.Server;
  let base: string;
  const files = new Map<string, string>();
  let node: ProverNode | undefined;

  before(async function () {
    m = await startMarket();
    tf = await buildModel("temp-forecast", { quantize: false });
    const v = await deployGroth16Verifier(m.wallet(0), await hre.artifacts.readArtifact(tf.paths.verifierContract), m.sys.factory);
    const reg = { modelCommitment: tf.modelCommitment, circuitHash: tf.circuit.r1csHash, vkHash: tf.keys.vkHash, uri: "test" };
    ({ modelId: tfModelId } = await registerModel(m.sys.registry, m.wallet(1), reg, await v.adapter.getAddress(), layoutOf(tf.model)));
    server = http.createServer((req, res) => {
      const body = files.get(req.url ?? "");
      if (body === undefined) {
        res.writeHead(404).end("not found");
        return;
      }
      res.writeHead(200, { "content-type": "application/json" }).end(body);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async function () {
    await node?.stop().catch(() => undefined);
    await new Promise((r) => server?.close(r));
    await m?.stop();
  });

  /** An iris opening published at `path` on the loopback server; the job's input URI is `uri`. */
  async function committedJob(path: string, uri: string, publish = true) {
    const x = [-462n, 404n, -653n, -681n].map((v, i) => v + BigInt(files.size * 7 + i));
    const salt = (BigInt(files.size + 1) * 1_000_003n) % SNARK_FIELD;
    const opening = JSON.stringify({ x: x.map(String), salt: salt.toString() });
    if (publish) files.set(path, opening);
    else files.set(path, JSON.stringify({ x: x.map((v) => String(v + 1n)), salt: salt.toString() })); // another input
    const c = await inputCommitment(m.built.model, x, salt);
    const now = (await m.provider.getBlock("latest"))!.timestamp;
    const { jobId } = await openJob(m.sys.jobs, m.requester, {
      modelId: m.modelId,
      inputCommitment: c,
      inputURI: uri,
      fee: 10n ** 16n,
      deadline: BigInt(now + 3600),
    });
    return { jobId, expected: inferQuantized(m.built.model, x).output };
  }

  it("serves a public-values job, an http(s) URI, an ipfs:// URI through its gateway and a data: URI; skips an opening that does not match", async function () {
    const https = await committedJob("/openings/a.json", `${base}/openings/a.json`);
    const cid = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku";
    const ipfs = await committedJob(`/ipfs/${cid}/input.json`, `ipfs://${cid}/input.json`);
    const data = await m.open();
    const wrong = await committedJob("/openings/wrong.json", `${base}/openings/wrong.json`, false);
    const week = loadSeattleTempMax().test.x[42];
    const x = quantizeInput(tf.model, loadFloatModel("temp-forecast"), week);
    const now = (await m.provider.getBlock("latest"))!.timestamp;
    const pub = await openJobWithInputs(m.sys.jobs, m.requester, {
      modelId: tfModelId,
      inputs: x,
      fee: 10n ** 16n,
      deadline: BigInt(now + 3600),
    });

    node = inProcessNode(m, 6, "delivery", { models: ["iris-mlp", "temp-forecast"], ipfsGateway: base });
    await node.start();
    const jobs = [
      { jobId: https.jobId, expected: https.expected },
      { jobId: ipfs.jobId, expected: ipfs.expected },
      data,
      { jobId: pub.jobId, expected: inferQuantized(tf.model, x).output },
    ];
    await until(
      async () => (await Promise.all(jobs.map((j) => m.sys.jobs.resultOf(j.jobId)))).every((r) => r[0]),
      120_000,
      "four deliveries",
    );
    for (const j of jobs) expect(await m.sys.jobs.resultOf(j.jobId), `job ${j.jobId}`).to.deep.equal([true, j.expected]);
    const [, values] = await m.sys.jobs.valuesOf(pub.jobId);
    expect(values).to.deep.equal(inferQuantized(tf.model, x).values);
    await until(
      async () => node!.jobRecords().some((r) => r.jobId === wrong.jobId.toString() && r.state === "skipped"),
      30_000,
      "the mismatch",
    );
    const rec = node.jobRecords().find((r) => r.jobId === wrong.jobId.toString());
    expect(rec?.reason).to.match(/input commitment mismatch/);
    expect((await m.sys.jobs.claimOf(wrong.jobId)).claimant).to.equal("0x0000000000000000000000000000000000000000");
    await node.stop();
    node = undefined;
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
      const id = await jobs.openPrivateJob.staticCall(m.modelId, c, now + 3600, false, { value: 10n ** 16n });
      await (await jobs.openPrivateJob(m.modelId, c, now + 3600, false, { value: 10n ** 16n })).wait();
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
            await (await jobs.deliverInput(id, ct)).wait();
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
});
