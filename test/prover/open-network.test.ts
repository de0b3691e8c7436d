import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import hre from "hardhat";
import { deployGroth16Verifier, openJobWithInputs, registerModel } from "../../scripts/chain/system";
import { GROTH16_BN254_V1 } from "../../scripts/chain/binding";
import { type IpfsNode, startIpfsNode } from "../../scripts/ipfs/node";
import { type BuiltModel, buildModel, loadFloatModel } from "../../scripts/model/build";
import { type BundleSources, writeBundle, CARD_FORMAT } from "../../scripts/model/bundle";
import { loadSeattleTempMax } from "../../scripts/model/datasets";
import { inferQuantized, layoutOf, numPublicSignals } from "../../scripts/model/quantized";
import { quantizeInput } from "../../scripts/quant/quantize";
import { DEFAULT_POLICY } from "../../scripts/prover/bundles";
import type { ProverNode } from "../../scripts/prover/node";
import { type Market, inProcessNode, startMarket, until } from "./fixture";

/**
 * The open network: a model owner publishes a model once (a bundle on its IPFS node, the CID as the registry
 * version's uri), and a prover node that has never seen the model fetches the bundle from its peer over libp2p
 * (bitswap; every block checked against the CID), checks it against the chain and serves the job. A bundle whose
 * weights are not the registered commitment is refused with its reason, once: the next job on that version is
 * skipped without fetching again.
 */
describe("prover nodes: the open network (bundles on IPFS)", function () {
  let m: Market;
  let tf: BuiltModel;
  let publisher: IpfsNode;
  let node: ProverNode | undefined;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "zkml-open-"));

  before(async function () {
    m = await startMarket();
    tf = await buildModel("temp-forecast", { quantize: false });
    publisher = await startIpfsNode({ dir: path.join(tmp, "publisher-ipfs"), listen: ["/ip4/127.0.0.1/tcp/0"] });
  });

  after(async function () {
    await node?.stop().catch(() => undefined);
    await publisher?.stop();
    await m?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  function sources(modelFile: string): BundleSources {
    return {
      model: tf.model,
      modelFile,
      r1cs: tf.circuit.r1cs,
      wasm: tf.circuit.wasm,
      zkey: tf.keys.zkey,
      vkeyFile: tf.keys.vkeyFile,
      modelCommitment: tf.modelCommitment,
      circuitHash: tf.circuit.r1csHash,
      vkHash: tf.keys.vkHash,
      proofSystemId: GROTH16_BN254_V1,
      numPublicSignals: numPublicSignals(tf.model),
      constraints: tf.circuit.constraints,
      card: {
        format: CARD_FORMAT,
        name: tf.model.name,
        task: "regression",
        outputs: ["temp_max"],
        input: { size: 7, bits: tf.model.input.bits, frac: tf.model.input.frac, mode: "public" },
        output: { head: "values", count: 1 },
        license: "MIT",
        weights: "open",
        constraints: tf.circuit.constraints,
        trustedSetup: "DEV keys (INSECURE)",
      },
    };
  }

  it("serves a model it has never seen from its IPFS bundle; refuses a bundle whose weights are not the registered ones, and never fetches it again", async function () {
    // the owner publishes: bundle -> IPFS (CID offline) -> verifier + adapter -> registry version with uri ipfs://<cid>
    const good = writeBundle(sources(tf.paths.qmodelFile), path.join(tmp, "good"));
    const cid = await publisher.addDirectory(good.files);
    const tamperedFile = path.join(tmp, "tampered.qmodel.json");
    const q = JSON.parse(fs.readFileSync(tf.paths.qmodelFile, "utf8")) as { layers: { W?: number[][] }[] };
    q.layers[0].W![0][0] += 1;
    fs.writeFileSync(tamperedFile, JSON.stringify(q));
    const bad = writeBundle(sources(tamperedFile), path.join(tmp, "bad"));
    const badCid = await publisher.addDirectory(bad.files);
    expect(badCid).to.not.equal(cid);

    const v = await deployGroth16Verifier(m.wallet(0), await hre.artifacts.readArtifact(tf.paths.verifierContract), m.sys.factory);
    const reg = (uri: string) => ({ modelCommitment: tf.modelCommitment, circuitHash: tf.circuit.r1csHash, vkHash: tf.keys.vkHash, uri });
    const adapter = await v.adapter.getAddress();
    const { modelId } = await registerModel(m.sys.registry, m.wallet(1), reg(`ipfs://${cid}`), adapter, layoutOf(tf.model));
    const { modelId: badId } = await registerModel(m.sys.registry, m.wallet(1), reg(`ipfs://${badCid}`), adapter, layoutOf(tf.model));

    const week = loadSeattleTempMax().test.x[7];
    const x = quantizeInput(tf.model, loadFloatModel("temp-forecast"), week);
    const now = (await m.provider.getBlock("latest"))!.timestamp;
    const open = (id: bigint) =>
      openJobWithInputs(m.sys.jobs, m.requester, { modelId: id, inputs: x, fee: 10n ** 16n, deadline: BigInt(now + 3600) });
    const job = await open(modelId);
    const badJob1 = await open(badId);
    const badJob2 = await open(badId);

    const logs: string[] = [];
    node = inProcessNode(m, 8, "open", {
      models: ["iris-mlp"],
      concurrency: 1,
      policy: { ...DEFAULT_POLICY, serve: "all" },
      ipfs: { peers: publisher.multiaddrs(), dir: path.join(tmp, "prover-ipfs") },
      logSink: (line) => {
        logs.push(line);
        if (process.env.PROVER_TEST_LOGS === "1") process.stdout.write(line + "\n");
      },
    });
    await node.start();
    const rec = (id: bigint) => node!.jobRecords().find((r) => r.jobId === id.toString());
    await until(
      async () =>
        (await m.sys.jobs.resultOf(job.jobId))[0] && rec(badJob1.jobId)?.state === "skipped" && rec(badJob2.jobId)?.state === "skipped",
      120_000,
      "the published jobs",
    );
    const [, values] = await m.sys.jobs.valuesOf(job.jobId);
    expect(values).to.deep.equal(inferQuantized(tf.model, x).values);
    for (const j of [badJob1, badJob2])
      expect(rec(j.jobId)!.reason).to.match(/the weights commit to 0x[0-9a-f]{64}, the registry's modelHash is 0x[0-9a-f]{64}/);
    const events = logs.map((l) => JSON.parse(l) as { event?: string; msg?: string });
    const kind = (e: { event?: string; msg?: string }) => e.event ?? e.msg;
    expect(events.filter((e) => kind(e) === "bundle_verified").length).to.equal(1);
    expect(events.filter((e) => kind(e) === "bundle_refused").length, "fetched and refused once").to.equal(1);
    // no claim was made on the refused version
    expect((await m.sys.jobs.queryFilter(m.sys.jobs.filters.JobClaimed(badJob1.jobId))).length).to.equal(0);
    await node.stop();
    // restarted on the same state: the refused version is not fetched again
    const badJob3 = await open(badId);
    logs.length = 0;
    node = inProcessNode(m, 8, "open", {
      models: ["iris-mlp"],
      policy: { ...DEFAULT_POLICY, serve: "all" },
      ipfs: { peers: publisher.multiaddrs(), dir: path.join(tmp, "prover-ipfs") },
      logSink: (line) => logs.push(line),
    });
    await node.start();
    await until(async () => rec(badJob3.jobId)?.state === "skipped", 60_000, "the job on the refused version");
    expect(rec(badJob3.jobId)!.reason).to.match(
      /^published bundle refused before: published bundle ipfs:\/\/\w+ refused: the weights commit/,
    );
    expect(logs.filter((l) => l.includes('"bundle_refused"')).length).to.equal(0);
    await node.stop();
    node = undefined;
  });
});
