import { expect } from "chai";
import * as http from "http";
import type { AddressInfo } from "net";
import { currentModelVersion, openJob, openJobWithInputs } from "../../scripts/chain/system";
import { SNARK_FIELD } from "../../scripts/util/field";
import { type BuiltModel, buildModel, loadFloatModel } from "../../scripts/pipelines/build";
import { loadSeattleTempMax } from "../../scripts/pipelines/datasets";
import { inferQuantized, inputCommitment } from "../../scripts/formats/quantized-model";
import { quantizeInput } from "../../scripts/formats/quantized-input";
import type { ProverNode } from "../../scripts/apps/prover/node";
import { type Market, inProcessNode, startMarket, until } from "../../scripts/apps/load/market";

/**
 * A prover node serves every input delivery kind without a hand-made URI: a public-input job (values in the
 * JobInputs event), committed inputs behind http(s):// and ipfs:// (through a gateway) and data:, each checked against
 * the job's commitment (the private job: delivery-private.test.ts). The HTTP server and the IPFS gateway are a
 * loopback server of this test.
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
    ({ modelId: tfModelId } = await m.publish(tf));
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
      modelVersion: await currentModelVersion(m.sys.jobs, m.modelId),
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
      modelVersion: await currentModelVersion(m.sys.jobs, tfModelId),
      inputs: x,
      fee: 10n ** 16n,
      deadline: BigInt(now + 3600),
    });

    node = inProcessNode(m, 6, "delivery", { ipfsGateway: base });
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
});
