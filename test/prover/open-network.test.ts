import { expect } from "chai";
import * as fs from "fs";
import * as http from "http";
import type { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import hre from "hardhat";
import { toBeHex, zeroPadValue } from "ethers";
import { currentModelVersion, deployGroth16Verifier, openJobWithInputs, registerModel } from "../../scripts/chain/system";
import { GROTH16_BN254_V1 } from "../../scripts/formats/public-signals";
import { type IpfsNode, startIpfsNode } from "../../scripts/engine/ipfs";
import { type BuiltModel, buildModel, loadFloatModel } from "../../scripts/pipelines/build";
import { type ModelCard, BUNDLE_MANIFEST, CARD_FORMAT } from "../../scripts/formats/bundle";
import { writeBundle } from "../../scripts/formats/bundle-files";
import { loadSeattleTempMax } from "../../scripts/pipelines/datasets";
import { inferQuantized } from "../../scripts/formats/quantized-model";
import { layoutOf } from "../../scripts/formats/model-layout";
import { bundleSources } from "../../scripts/pipelines/bundle-sources";
import { quantizeInput } from "../../scripts/formats/quantized-input";
import { DEFAULT_POLICY } from "../../scripts/apps/prover/bundles";
import type { ProverNode } from "../../scripts/apps/prover/node";
import { ProverStore } from "../../scripts/apps/prover/store";
import { type Market, inProcessNode, startMarket, until } from "../../scripts/apps/load/market";

const TOY_ZKEY = path.join(__dirname, "..", "contracts", "fixtures", "toy", "toy.zkey");

interface LogLine {
  event?: string;
  msg?: string;
  modelId?: string;
  [k: string]: unknown;
}

/** Collects a node's JSON log lines (and echoes them with PROVER_TEST_LOGS=1). */
function logCollector(): { lines: LogLine[]; sink: (line: string) => void; count: (event: string, modelId?: bigint) => number } {
  const lines: LogLine[] = [];
  return {
    lines,
    sink: (line) => {
      lines.push(JSON.parse(line) as LogLine);
      if (process.env.PROVER_TEST_LOGS === "1") process.stdout.write(line + "\n");
    },
    count: (event, modelId) =>
      lines.filter((l) => (l.event ?? l.msg) === event && (modelId === undefined || String(l.modelId) === modelId.toString())).length,
  };
}

/** An HTTP server on loopback; `handler` answers, `hits` counts requests per first path segment. */
async function httpServer(
  handler: (req: http.IncomingMessage, res: http.ServerResponse) => void,
  port = 0,
): Promise<{ url: string; hits: Map<string, string[]>; close(): Promise<void> }> {
  const hits = new Map<string, string[]>();
  const server = http.createServer((req, res) => {
    const seg = (req.url ?? "/").split("/")[1] ?? "";
    hits.set(seg, [...(hits.get(seg) ?? []), req.url ?? ""]);
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/**
 * The open network: a model owner publishes a model once (a bundle on its IPFS node, the CID as the registry
 * version's uri), and prover nodes that have never seen the model fetch the bundle (from the owner's node over libp2p,
 * or through a trustless gateway; every block checked against the CID), check it against the chain and serve the
 * jobs. A bundle that is not what the chain records is refused with its reason, once; one over the node's limits is
 * skipped without claiming anything; one that cannot be fetched is tried again while its jobs are open.
 */
describe("prover nodes: the open network (bundles on IPFS)", function () {
  let m: Market;
  let tf: BuiltModel;
  let tfAdapter: string;
  let publisher: IpfsNode;
  const nodes: ProverNode[] = [];
  const closers: (() => Promise<void>)[] = [];
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "zkml-open-"));

  before(async function () {
    m = await startMarket();
    tf = await buildModel("temp-forecast", { quantize: false });
    publisher = await startIpfsNode({ dir: path.join(tmp, "publisher-ipfs"), listen: ["/ip4/127.0.0.1/tcp/0"] });
    const v = await deployGroth16Verifier(m.wallet(1), await hre.artifacts.readArtifact(tf.paths.verifierContract), m.sys.factory);
    tfAdapter = await v.adapter.getAddress();
  });

  async function stopNodes(): Promise<void> {
    for (const n of nodes.splice(0)) await n.stop().catch(() => undefined);
  }

  afterEach(stopNodes);

  after(async function () {
    for (const c of closers) await c().catch(() => undefined);
    await publisher?.stop();
    await m?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  const tfCard = (license = "MIT"): ModelCard => ({
    format: CARD_FORMAT,
    name: tf.model.name,
    task: "regression",
    outputs: ["temp_max"],
    input: { size: 7, bits: tf.model.input.bits, frac: tf.model.input.frac, mode: "public" },
    output: { head: "values", count: 1 },
    license,
    weights: "open",
    constraints: tf.circuit.constraints,
    trustedSetup: "DEV keys (INSECURE)",
  });
  const irisCard = (license = "MIT"): ModelCard => ({
    format: CARD_FORMAT,
    name: m.built.model.name,
    task: "classification",
    outputs: ["setosa", "versicolor", "virginica"],
    input: { size: m.built.model.input.size, bits: m.built.model.input.bits, frac: m.built.model.input.frac, mode: "committed" },
    output: { head: "argmax", count: 3 },
    license,
    weights: "open",
    constraints: m.built.circuit.constraints,
    trustedSetup: "DEV keys (INSECURE)",
  });
  const commitmentOf = (b: BuiltModel, uri: string) => ({
    modelHash: zeroPadValue(toBeHex(b.modelCommitment), 32),
    circuitHash: zeroPadValue(`0x${b.circuit.r1csHash}`, 32),
    vkHash: zeroPadValue(`0x${b.keys.vkHash}`, 32),
    proofSystemId: GROTH16_BN254_V1,
    uri,
  });
  const reg = (b: BuiltModel, uri: string) => ({
    modelCommitment: b.modelCommitment,
    circuitHash: b.circuit.r1csHash,
    vkHash: b.keys.vkHash,
    uri,
  });

  it("two nodes with empty caches fetch a model its owner published from the owner's IPFS node, verify it and serve 10 jobs exactly once between them; a tampered next version is refused by both and never fetched again", async function () {
    // Account A publishes temp-forecast (no node has it): bundle -> its IPFS node (CID offline) -> registry version
    // with uri ipfs://<cid>, on the verifier adapter deployed above.
    const A = m.wallet(1);
    const good = writeBundle(bundleSources(tf, tfCard()), path.join(tmp, "good"));
    const cid = await publisher.addDirectory(good.files);
    const { modelId } = await registerModel(m.sys.registry, A, reg(tf, `ipfs://${cid}`), tfAdapter, layoutOf(tf.model));

    const weeks = loadSeattleTempMax().test.x;
    const floatTf = loadFloatModel("temp-forecast");
    const open = async (i: number) => {
      const x = quantizeInput(tf.model, floatTf, weeks[i]);
      const now = (await m.provider.getBlock("latest"))!.timestamp;
      const j = await openJobWithInputs(m.sys.jobs, m.requester, {
        modelId,
        modelVersion: await currentModelVersion(m.sys.jobs, modelId),
        inputs: x,
        fee: 10n ** 16n,
        deadline: BigInt(now + 3600),
      });
      return { jobId: j.jobId, values: inferQuantized(tf.model, x).values };
    };
    const jobs: { jobId: bigint; values: bigint[] | undefined }[] = [];
    for (let i = 0; i < 10; i++) jobs.push(await open(i));

    // Version 2: the same registry hashes, but the bundle's weights are not the committed ones.
    const tamperedFile = path.join(tmp, "tampered.qmodel.json");
    const q = JSON.parse(fs.readFileSync(tf.paths.qmodelFile, "utf8")) as { layers: { W?: number[][] }[] };
    q.layers[0].W![0][0] += 1;
    fs.writeFileSync(tamperedFile, JSON.stringify(q));
    const bad = writeBundle(bundleSources(tf, tfCard(), { modelFile: tamperedFile }), path.join(tmp, "bad"));
    const badCid = await publisher.addDirectory(bad.files);
    expect(badCid).to.not.equal(cid);
    await (
      await m.sys.registry.connect(A).updateModelWithLayout(modelId, commitmentOf(tf, `ipfs://${badCid}`), tfAdapter, layoutOf(tf.model))
    ).wait();
    const badJobs = [await open(20), await open(21)];

    const logs = [logCollector(), logCollector()];
    const names = ["open-a", "open-b"];
    for (let k = 0; k < 2; k++)
      nodes.push(
        inProcessNode(m, 8 + k, names[k], {
          concurrency: 1,
          policy: { ...DEFAULT_POLICY, serve: "all" },
          ipfs: { peers: publisher.multiaddrs(), dir: path.join(tmp, `${names[k]}-ipfs`) },
          logSink: logs[k].sink,
        }),
      );
    await Promise.all(nodes.map((n) => n.start()));
    const rec = (n: ProverNode, id: bigint) => n.jobRecords().find((r) => r.jobId === id.toString());
    await until(
      async () =>
        (await Promise.all(jobs.map((j) => m.sys.jobs.resultOf(j.jobId)))).every((r) => r[0]) &&
        nodes.every((n) => badJobs.every((b) => rec(n, b.jobId)?.state === "skipped")),
      240_000,
      "10 jobs fulfilled and the tampered version skipped by both nodes",
    );
    // every job fulfilled exactly once, with the model's output
    const fulfilled = await m.sys.jobs.queryFilter(m.sys.jobs.filters.JobFulfilled());
    const byNode = new Map<string, number>();
    for (const j of jobs) {
      const evs = fulfilled.filter((e) => e.args.jobId === j.jobId);
      expect(evs.length, `job ${j.jobId} fulfilled once`).to.equal(1);
      byNode.set(evs[0].args.prover, (byNode.get(evs[0].args.prover) ?? 0) + 1);
      expect((await m.sys.jobs.valuesOf(j.jobId))[1]).to.deep.equal(j.values);
    }
    const addrs = [m.wallet(8).address, m.wallet(9).address];
    expect([...byNode.keys()].every((a) => addrs.includes(a))).to.equal(true);
    expect([...byNode.values()].reduce((s, n) => s + n, 0)).to.equal(10);
    // each node fetched and verified v1 once, fetched and refused v2 once, with the reason
    for (let k = 0; k < 2; k++) {
      expect(logs[k].count("bundle_verified"), `${names[k]} verified once`).to.equal(1);
      // the check is logged phase by phase as it runs (issue 28 point 3)
      const phases = logs[k].lines
        .filter((l) => l.event === "bundle_check" && l.modelId === String(modelId) && l.version === 1)
        .map((l) => l.phase);
      expect(phases.slice(0, 3), `${names[k]} bundle_check phases`).to.deep.equal(["files", "registry", "weights"]);
      expect(phases.at(-1)).to.equal("verifier");
      expect(logs[k].count("bundle_refused"), `${names[k]} refused once`).to.equal(1);
      for (const b of badJobs)
        expect(rec(nodes[k], b.jobId)!.reason).to.match(/the weights commit to 0x[0-9a-f]{64}, the registry's modelHash is 0x[0-9a-f]{64}/);
    }
    // nothing was claimed on the refused version, its escrow is whole, and no bond was lost
    for (const b of badJobs) {
      expect((await m.sys.jobs.queryFilter(m.sys.jobs.filters.JobClaimed(b.jobId))).length).to.equal(0);
      expect((await m.sys.jobs.getJob(b.jobId)).escrow).to.equal(10n ** 16n);
    }
    expect((await m.sys.jobs.queryFilter(m.sys.jobs.filters.ClaimExpired())).length).to.equal(0);
    for (const a of addrs) expect((await m.sys.jobs.accountOf(a)).locked).to.equal(0n);
    // each node reports the publisher it keeps in /health and /metrics (issue 28 point 1)
    for (const n of nodes) {
      const h = n.health();
      expect(h.ipfsPeers).to.deep.equal([{ addr: publisher.multiaddrs()[0], connected: true, failures: 0, drops: 0 }]);
      const { prometheusText } = await import("../../scripts/apps/prover/http");
      expect(prometheusText(await n.snapshot())).to.include(`zkml_prover_ipfs_peer_connected{peer="${publisher.multiaddrs()[0]}"} 1`);
    }

    // restarted on the same state: the refused version is not fetched again
    await stopNodes();
    const again = await open(22);
    const relog = logCollector();
    const n = inProcessNode(m, 8, names[0], {
      policy: { ...DEFAULT_POLICY, serve: "all" },
      ipfs: { peers: publisher.multiaddrs(), dir: path.join(tmp, `${names[0]}-ipfs`) },
      logSink: relog.sink,
    });
    nodes.push(n);
    await n.start();
    await until(async () => rec(n, again.jobId)?.state === "skipped", 60_000, "the job on the refused version");
    expect(rec(n, again.jobId)!.reason).to.match(
      /^published bundle refused before: published bundle ipfs:\/\/\w+ refused: the weights commit/,
    );
    expect(relog.count("bundle_refused")).to.equal(0);
  });

  it("serves allowed bundles through a trustless gateway and from https:// and file:// folders; skips, claiming nothing, a lying gateway, a truncated file, a proving key of another circuit, a manifest that lies about the layout, a bundle over its size limit, a fee below a model's minimum and a model outside its allow-list; retries an unreachable URI while its jobs are open, and a restarted node serves them once it is back (issue 28 point 2)", async function () {
    const A = m.wallet(1);
    const iris = m.built;
    const layout = layoutOf(iris.model);
    const v = await deployGroth16Verifier(m.wallet(0), await hre.artifacts.readArtifact(iris.paths.verifierContract), m.sys.factory);
    const irisAdapter = await v.adapter.getAddress();
    const dir = (name: string) => path.join(tmp, "http", name);

    // A real gateway over the publisher's blockstore, behind a proxy that corrupts the blocks of the CIDs in `lies`.
    const gateway = await publisher.serveGateway();
    closers.push(gateway.close);
    const lies = new Set<string>();
    const proxy = await httpServer((req, res) => {
      const cid = /^\/ipfs\/(\w+)/.exec(req.url ?? "")?.[1];
      void fetch(`${gateway.url}${req.url}`, { headers: { accept: req.headers.accept ?? "" } }).then(async (r) => {
        const body = Buffer.from(await r.arrayBuffer());
        if (cid && lies.has(cid) && body.length) body[body.length - 1] ^= 1;
        res.writeHead(r.status, { "content-type": r.headers.get("content-type") ?? "application/octet-stream" }).end(body);
      });
    });
    closers.push(proxy.close);
    // An https-like static server of bundle folders (plain HTTP on loopback; the node treats both the same).
    const files = await httpServer((req, res) => {
      const p = path.join(tmp, "http", decodeURIComponent((req.url ?? "/").split("?")[0]));
      if (!p.startsWith(path.join(tmp, "http")) || !fs.existsSync(p) || !fs.statSync(p).isFile()) res.writeHead(404).end();
      else res.writeHead(200, { "content-length": String(fs.statSync(p).size) }).end(fs.readFileSync(p));
    });
    closers.push(files.close);

    const publish = async (owner: number, uri: string, b: BuiltModel = iris, adapter = irisAdapter) =>
      (await registerModel(m.sys.registry, m.wallet(owner), reg(b, uri), adapter, layoutOf(b.model))).modelId;

    // served: G (through the gateway, allowed by owner A), X (file://, allowed by id, owner 3, minimum fee 2e16)
    const G = await publish(
      1,
      `ipfs://${await publisher.addDirectory(writeBundle(bundleSources(iris, irisCard()), path.join(tmp, "G")).files)}`,
    );
    writeBundle(bundleSources(iris, irisCard("X")), path.join(tmp, "X"));
    const X = await publish(3, `file://${path.join(tmp, "X")}`);
    // Z: its CID's blocks come back corrupted from the only source the node has
    const zCid = await publisher.addDirectory(writeBundle(bundleSources(iris, irisCard("Z")), path.join(tmp, "Z")).files);
    lies.add(zCid);
    const Z = await publish(1, `ipfs://${zCid}`);
    // T: an https bundle whose proving key arrives cut in half
    writeBundle(bundleSources(iris, irisCard("T")), dir("T"));
    const zk = path.join(dir("T"), "proving.zkey");
    fs.truncateSync(zk, Math.floor(fs.statSync(zk).size / 2));
    const T = await publish(1, `${files.url}/T/`);
    // K: a consistent bundle whose proving key is another circuit's
    writeBundle(bundleSources(iris, irisCard("K"), { zkey: TOY_ZKEY }), path.join(tmp, "K"));
    const K = await publish(1, `file://${path.join(tmp, "K")}`);
    // L: bundle.json says the model has 4 outputs (the registry and the model say 3)
    const l = writeBundle(bundleSources(iris, irisCard("L")), path.join(tmp, "L"));
    const lying = { ...l.manifest, registry: { ...l.manifest.registry, layout: { ...layout, outputCount: 4 } } };
    l.files.set(BUNDLE_MANIFEST, Buffer.from(JSON.stringify(lying, null, 2)));
    const L = await publish(1, `ipfs://${await publisher.addDirectory(l.files)}`);
    // O: temp-forecast's proving key is larger than this node's PROVER_MAX_ZKEY_BYTES
    writeBundle(bundleSources(tf, tfCard("O")), dir("O"));
    const O = await publish(1, `${files.url}/O`, tf, tfAdapter);
    // U: nothing listens there
    const closed = await httpServer(() => undefined);
    await closed.close();
    const U = await publish(1, `${closed.url}/bundle`);
    // Y: a good bundle, but owner 4 is not in the allow-list
    writeBundle(bundleSources(iris, irisCard("Y")), dir("Y"));
    const Y = await publish(4, `${files.url}/Y`);

    const maxZkey = fs.statSync(iris.keys.zkey).size + 1000;
    expect(fs.statSync(tf.keys.zkey).size).to.be.greaterThan(maxZkey);
    const jobs = {
      G1: await m.open({ modelId: G }),
      Z: await m.open({ modelId: Z }),
      T: await m.open({ modelId: T }),
      K: await m.open({ modelId: K }),
      L: await m.open({ modelId: L }),
      O: await (async () => {
        const now = (await m.provider.getBlock("latest"))!.timestamp;
        const x = quantizeInput(tf.model, loadFloatModel("temp-forecast"), loadSeattleTempMax().test.x[0]);
        return openJobWithInputs(m.sys.jobs, m.requester, {
          modelId: O,
          modelVersion: await currentModelVersion(m.sys.jobs, O),
          inputs: x,
          fee: 10n ** 16n,
          deadline: BigInt(now + 3600),
        });
      })(),
      U: await m.open({ modelId: U }),
      Xlow: await m.open({ modelId: X, fee: 10n ** 16n }),
      Y: await m.open({ modelId: Y }),
      Xhigh: await m.open({ modelId: X, fee: 3n * 10n ** 16n }),
      G2: await m.open({ modelId: G }),
    };
    const log = logCollector();
    const stateDir = m.stateDir("open-c");
    const config = {
      policy: {
        serve: { modelIds: new Set([X.toString()]), owners: new Set([A.address]) },
        maxConstraints: DEFAULT_POLICY.maxConstraints,
        maxZkeyBytes: maxZkey,
        minFeeWei: new Map([[X.toString(), 2n * 10n ** 16n]]),
      },
      ipfs: { peers: [], gateways: [proxy.url], dir: path.join(tmp, "open-c-ipfs") },
      bundleTimeoutMs: 2500, // an inactivity limit: the stalling gateway (Z) is given up on after it
      bundleRetryMs: 1000,
      logSink: log.sink,
    };
    const node = inProcessNode(m, 7, "open-c", config);
    nodes.push(node);
    await node.start();
    const rec = (id: bigint) => node.jobRecords().find((r) => r.jobId === id.toString());
    const served = [jobs.G1, jobs.G2, jobs.Xhigh];
    const skipped = { Z: jobs.Z, T: jobs.T, K: jobs.K, L: jobs.L, O: jobs.O, U: jobs.U, Xlow: jobs.Xlow, Y: jobs.Y };
    // a bundle that could not be fetched is a transient failure (issue 28 point 2): its jobs stay open to this node
    const transient = new Set([jobs.Z.jobId, jobs.U.jobId]);
    const retrying = (id: bigint) => rec(id)?.state === "new" && (rec(id)?.retries ?? 0) >= 1;
    await until(
      async () =>
        (await Promise.all(served.map((j) => m.sys.jobs.resultOf(j.jobId)))).every((r) => r[0]) &&
        Object.values(skipped).every((j) => (transient.has(j.jobId) ? retrying(j.jobId) : rec(j.jobId)?.state === "skipped")),
      180_000,
      "the allowed jobs served, every faulty one skipped, the unreachable ones waiting for a retry",
    );
    for (const j of served) expect((await m.sys.jobs.resultOf(j.jobId))[1]).to.equal(j.expected);
    const reason = (j: { jobId: bigint }) => rec(j.jobId)!.reason ?? "";
    expect(reason(skipped.Z)).to.match(
      /ipfs:\/\/\w+ unavailable .*could not be (listed as a directory|fetched): received nothing for 2500 ms/,
    );
    expect(reason(skipped.T)).to.match(/refused: proving\.zkey is \d+ bytes, bundle\.json says \d+$/);
    expect(reason(skipped.K)).to.match(/refused: proving\.zkey is not the proving key of verification_key\.json$/);
    expect(reason(skipped.L)).to.match(/refused: bundle\.json says layout\.outputCount is 4, the model's is 3$/);
    expect(reason(skipped.O)).to.match(
      new RegExp(`refused: proving key of ${fs.statSync(tf.keys.zkey).size} bytes, more than PROVER_MAX_ZKEY_BYTES ${maxZkey}$`),
    );
    expect(reason(skipped.U)).to.match(/unavailable .*could not be fetched: ECONNREFUSED/);
    expect(reason(skipped.Xlow)).to.equal(`fee ${10n ** 16n} below this node's minimum ${2n * 10n ** 16n} for model ${X}`);
    expect(reason(skipped.Y)).to.match(new RegExp(`^model ${Y} \\(owner ${m.wallet(4).address}\\) is not in PROVER_SERVE$`));
    // the size limit is applied before the proving key is asked for; the model outside the allow-list is never asked
    expect(files.hits.get("O")).to.deep.equal(["/O/bundle.json"]);
    expect(files.hits.get("Y")).to.equal(undefined);
    // nothing claimed on any skipped job, every escrow whole, no bond lost
    for (const j of Object.values(skipped)) {
      expect((await m.sys.jobs.queryFilter(m.sys.jobs.filters.JobClaimed(j.jobId))).length, `no claim on job ${j.jobId}`).to.equal(0);
      expect((await m.sys.jobs.getJob(j.jobId)).escrow).to.be.greaterThan(0n);
    }
    expect((await m.sys.jobs.accountOf(m.wallet(7).address)).locked).to.equal(0n);
    expect((await m.sys.jobs.queryFilter(m.sys.jobs.filters.ClaimExpired())).length).to.equal(0);

    // An unreachable bundle is tried again (every PROVER_BUNDLE_RETRY_MS) while its jobs are open, a refused one never.
    const U2 = await m.open({ modelId: U });
    const T2 = await m.open({ modelId: T });
    await until(async () => retrying(U2.jobId) && rec(T2.jobId)?.state === "skipped", 60_000, "the second jobs");
    await until(async () => log.count("bundle_unavailable", U) >= 3, 30_000, "the unreachable bundle tried again");
    expect(log.count("bundle_refused", T)).to.equal(1);
    expect(log.lines.filter((l) => l.event === "job_retry" && String(l.jobId) === jobs.U.jobId.toString()).length).to.be.at.least(1);
    // The node restarts, and the publisher's server comes back at the same address: the restarted node picks the
    // waiting jobs up from its store and serves them, no operator involved.
    await stopNodes();
    writeBundle(bundleSources(iris, irisCard("U")), path.join(tmp, "U-back", "bundle"));
    const back = await httpServer(
      (req, res) => {
        const f = path.join(tmp, "U-back", decodeURIComponent((req.url ?? "/").split("?")[0]));
        if (!fs.existsSync(f) || !fs.statSync(f).isFile()) res.writeHead(404).end();
        else res.writeHead(200, { "content-length": String(fs.statSync(f).size) }).end(fs.readFileSync(f));
      },
      Number(new URL(closed.url).port),
    );
    closers.push(back.close);
    const again = inProcessNode(m, 7, "open-c", config);
    nodes.push(again);
    await again.start();
    await until(
      async () => (await Promise.all([jobs.U, U2].map((j) => m.sys.jobs.resultOf(j.jobId)))).every((r) => r[0]),
      120_000,
      "the waiting jobs served after the bundle came back",
    );
    for (const j of [jobs.U, U2]) expect((await m.sys.jobs.resultOf(j.jobId))[1]).to.equal(j.expected);
    await stopNodes();
    // Only what the chain contradicts is remembered across restarts; a policy or transport refusal is not.
    const store = await ProverStore.open(stateDir);
    try {
      for (const id of [T, K, L]) expect(await store.refusedVersion(id, 1), `version of model ${id} refused for good`).to.be.a("string");
      for (const id of [Z, O, U]) expect(await store.refusedVersion(id, 1), `model ${id} not stored as refused`).to.equal(undefined);
    } finally {
      await store.close();
    }
  });
});
