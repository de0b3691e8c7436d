/**
 * The explorer's indexer (explorer/indexer, Ponder): the handlers' derivations as pure functions, then the real
 * indexer (`ponder start` through scripts/apps/explorer/indexer.ts) against a real `hardhat node` with the test kit's
 * market: a job fulfilled with a real proof, two settled in one batch, one reclaimed after its claim expired; the
 * API's answers; a reorg (evm_snapshot / evm_revert, then other blocks past that height) that must drop the reverted
 * job; and a restart on the same database that resumes without duplicates.
 */
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import hre from "hardhat";
import { JsonRpcProvider, Wallet, id } from "ethers";
import { type LocalNode, freePort, startHardhatNode } from "../../scripts/chain/local-node";
import { ExplorerClient, ExplorerClientError } from "../../scripts/chain/explorer-client";
import { devKey } from "../../scripts/apps/load/market";
import { deployInferenceKitWith, type InferenceKit } from "../../scripts/apps/testkit";
import { writeKitBundles } from "../../scripts/apps/package/bundles";
import { bindingFor, deployGroth16Verifier, registerModel } from "../../scripts/chain/system";
import { VerifierAdapterFactory__factory } from "../../typechain-types";
import { parseBundleManifest } from "../../scripts/formats/bundle";
import type { JobDetail, ModelDetail } from "../../scripts/formats/explorer-api";
import { proveInference } from "../../scripts/engine/prove/inference";
import { type QuantizedModel, validateModel } from "../../scripts/formats/quantized-model";
import { type RunningIndexer, startIndexer } from "../../scripts/apps/explorer/indexer";
import {
  SUBMIT_RESULTS_SELECTOR,
  decodeCheckpoint,
  gasShare,
  isBatchCall,
  nextStatus,
  percentile,
  queryInt,
  seconds,
  toJsonSafe,
} from "../../explorer/indexer/src/derive";
import { summariseLayers } from "../../explorer/indexer/src/cards";

describe("explorer indexer: derivations", function () {
  it("moves a job through its statuses as the events say, and never out of a settled one", function () {
    let s = nextStatus(undefined, "JobOpened");
    expect(s).to.equal("open");
    s = nextStatus(s, "JobClaimed");
    expect(s).to.equal("claimed");
    expect(nextStatus(s, "InputDelivered")).to.equal("delivered");
    expect(nextStatus(s, "ClaimExpired")).to.equal("open");
    expect(nextStatus("delivered", "ClaimReleased")).to.equal("open");
    expect(nextStatus(s, "ResultPosted")).to.equal("posted");
    expect(nextStatus("posted", "ResultChallenged")).to.equal("challenged");
    expect(nextStatus("challenged", "ChallengeAnswered")).to.equal("challenged");
    expect(nextStatus("challenged", "PosterSlashed", true)).to.equal("open");
    expect(nextStatus("posted", "PosterSlashed", false)).to.equal("posted");
    expect(nextStatus("challenged", "JobFulfilled")).to.equal("fulfilled");
    expect(nextStatus("claimed", "JobReclaimed")).to.equal("reclaimed");
    for (const e of ["JobClaimed", "ClaimExpired", "ResultPosted", "JobOpened"] as const) {
      expect(nextStatus("fulfilled", e)).to.equal("fulfilled");
      expect(nextStatus("reclaimed", e)).to.equal("reclaimed");
    }
  });

  it("latency, a batch's gas share and the batch call selector", function () {
    expect(seconds(100, 160)).to.equal(60);
    expect(seconds(100, 100)).to.equal(0);
    expect(seconds(100, null)).to.equal(null);
    expect(gasShare(300_001n, 1)).to.equal(300_001n);
    expect(gasShare(500_000n, 2)).to.equal(250_000n);
    expect(gasShare(100n, 3)).to.equal(33n);
    expect(gasShare(101n, 2)).to.equal(51n); // rounded to nearest
    expect(() => gasShare(1n, 0)).to.throw(/jobs must be an integer >= 1/);
    expect(SUBMIT_RESULTS_SELECTOR).to.equal(id("submitResults(uint256[],uint256[],bytes[])").slice(0, 10));
    expect(isBatchCall(`${SUBMIT_RESULTS_SELECTOR}00`)).to.equal(true);
    expect(isBatchCall(id("submitResult(uint256,uint256,bytes)").slice(0, 10))).to.equal(false);
  });

  it("percentiles as Postgres' percentile_cont, checkpoints, JSON without bigints, query integers", function () {
    expect(percentile([], 0.5)).to.equal(null);
    expect(percentile([7], 0.95)).to.equal(7);
    expect(percentile([1, 2, 3, 4], 0.5)).to.equal(2.5);
    expect(percentile([10, 1, 5], 0.5)).to.equal(5);
    expect(percentile([0, 100], 0.95)).to.equal(95);
    expect(() => percentile([1], 2)).to.throw(/p must be in 0..1/);
    const cp = "1700000000" + "31337".padStart(16, "0") + "42".padStart(16, "0") + "0".repeat(16) + "5" + "0".repeat(16);
    expect(decodeCheckpoint(cp)).to.deep.equal({ blockTimestamp: 1700000000, chainId: 31337, blockNumber: 42 });
    expect(() => decodeCheckpoint("12")).to.throw(/not a 75-digit/);
    expect(toJsonSafe({ a: 10n ** 30n, b: ["0xABCdef"], c: "Iris" })).to.deep.equal({
      a: "1" + "0".repeat(30),
      b: ["0xabcdef"],
      c: "Iris",
    });
    expect(queryInt(undefined, 50, 1, 500)).to.equal(50);
    expect(queryInt("900", 50, 1, 500)).to.equal(500);
    expect(queryInt("0", 50, 1, 500)).to.equal(null);
    expect(queryInt("-3", 50, 1, 500)).to.equal(null);
  });

  it("summarises a model's layers without their weights", function () {
    expect(summariseLayers({ layers: [{ type: "dense", nIn: 4, nOut: 8, W: [[1]], relu: true }] })).to.deep.equal([
      { type: "dense", nIn: 4, nOut: 8, relu: true },
    ]);
    expect(summariseLayers({})).to.equal(null);
  });
});

type Json = Record<string, unknown>;

describe("explorer indexer: Ponder against a hardhat node", function () {
  this.timeout(300_000);
  let tmp: string;
  let chain: LocalNode | undefined;
  let indexer: RunningIndexer | undefined;
  let provider: JsonRpcProvider;
  let kit: InferenceKit;
  let model: QuantizedModel;
  let bundleDir: string;
  let jobsAddress: string;
  const ids: Record<string, bigint> = {};

  const get = async (p: string): Promise<{ status: number; body: Json }> => {
    const r = await fetch(`${indexer!.url}${p}`);
    return { status: r.status, body: (await r.json()) as Json };
  };
  const rpc = (method: string, params: unknown[] = []) => provider.send(method, params);
  const head = async () => provider.getBlockNumber();
  const raw = [5.1, 3.5, 1.4, 0.2];
  const start = () =>
    startIndexer({
      rpcUrl: chain!.url,
      chainId: 31337,
      jobs: jobsAddress,
      dbDir: path.join(tmp, "db"),
      pollMs: 200,
      readyTimeoutMs: 90_000,
    });

  before(async function () {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "zkml-explorer-"));
    await writeKitBundles(hre, path.join(tmp, "bundles"), ["iris-mlp"]);
    bundleDir = path.join(tmp, "bundles", "iris-mlp");
    model = validateModel(JSON.parse(fs.readFileSync(path.join(bundleDir, "model.qmodel.json"), "utf8")) as QuantizedModel);
    chain = await startHardhatNode();
    provider = new JsonRpcProvider(chain.url, undefined, { cacheTimeout: -1, polling: true, pollingInterval: 100 });
    const wallets = [0, 1, 18, 19].map((i) => new Wallet(devKey(i), provider));
    kit = await deployInferenceKitWith(wallets, { models: ["iris-mlp"], bundlesDir: path.join(tmp, "bundles") });
    jobsAddress = await kit.jobs.getAddress();
    const modelId = kit.modelId("iris-mlp");
    const fee = 10n ** 16n;
    // a job fulfilled alone, with a real proof
    ids.single = (await kit.client.openJob({ modelId, input: { raw }, fee })).jobId;
    const [done] = await kit.fulfilJobs();
    expect(done.skipped).to.equal(undefined);
    expect(typeof done.output).to.equal("bigint");
    // two jobs claimed, proven, and settled in one submitResults
    const b1 = await kit.client.openJob({ modelId, input: { raw: [6.7, 3.0, 5.2, 2.3] }, fee: 2n * fee });
    const b2 = await kit.client.openJob({ modelId, input: { raw: [5.9, 3.0, 4.2, 1.5] }, fee: 3n * fee });
    ids.batch1 = b1.jobId;
    ids.batch2 = b2.jobId;
    const prover = kit.prover;
    const proverAddress = await prover.getAddress();
    const files = { wasm: path.join(bundleDir, "circuit.wasm"), zkey: path.join(bundleDir, "proving.zkey") };
    const proofs = [];
    for (const j of [b1, b2]) {
      await (await kit.jobs.connect(prover).claim(j.jobId)).wait();
      const binding = await bindingFor(kit.jobs, prover as Wallet, j.jobId, proverAddress);
      proofs.push(await proveInference(model, files, j.x, j.salt, binding));
    }
    await (
      await kit.jobs.connect(prover).submitResults(
        [b1.jobId, b2.jobId],
        proofs.map((p) => p.output),
        proofs.map((p) => p.packed.bytes),
      )
    ).wait();
    // a job claimed, left to expire, and reclaimed by its requester
    const r = await kit.client.openJob({ modelId, input: { raw }, fee, deadlineIn: 1000 });
    ids.reclaimed = r.jobId;
    await (await kit.jobs.connect(prover).claim(r.jobId)).wait();
    await rpc("evm_increaseTime", [1100]);
    await rpc("evm_mine");
    await (await kit.jobs.reclaim(r.jobId)).wait();
  });

  after(async function () {
    await indexer?.stop();
    await chain?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("indexes the history and answers the API: status, models with the card, jobs, timelines, provers, network", async function () {
    const t0 = Date.now();
    indexer = await start();
    const block = await head();
    await indexer.waitForBlock(block);
    const indexSeconds = (Date.now() - t0) / 1000;
    console.log(`    indexer ready and at block ${block} in ${indexSeconds.toFixed(1)} s`);

    const status = (await get("/api/status")).body;
    expect(status.chainId).to.equal(31337);
    expect(status.jobs).to.equal(jobsAddress.toLowerCase());
    expect(status.registry).to.equal((await kit.registry.getAddress()).toLowerCase());
    expect(status.indexedBlock).to.be.at.least(block);

    const modelId = kit.modelId("iris-mlp").toString();
    const detail = await get(`/api/models/${modelId}`);
    expect(detail.status).to.equal(200);
    const d = detail.body as {
      model: Json;
      versions: Json[];
      card: Json | null;
      cardError: string | null;
      architecture: Json[] | null;
      stats: Json;
      recentJobs: Json[];
    };
    expect(d.cardError).to.equal(null);
    expect(d.card?.name).to.equal("iris-mlp");
    expect(d.architecture?.[0]).to.include({ type: "dense", nIn: 4, nOut: 8 });
    expect(d.versions).to.have.length(1);
    expect(d.versions[0].inputMode).to.equal(0);
    expect(d.model).to.include({ jobs: 4, fulfilled: 3, reclaimed: 1, currentVersion: 1, deprecated: false });
    expect(d.stats.p50GasSingle).to.match(/^\d+$/);
    expect(d.stats.p50GasBatched).to.match(/^\d+$/);
    expect(Number(d.stats.p50GasBatched)).to.be.below(Number(d.stats.p50GasSingle));
    expect(d.recentJobs.map((j) => j.jobId)).to.deep.equal([ids.reclaimed, ids.batch2, ids.batch1, ids.single].map(String));

    const models = (await get("/api/models?q=iris")).body as { items: Json[]; total: number };
    expect(models.total).to.equal(1);
    expect(models.items[0]).to.include({ modelId, name: "iris-mlp", task: "classification", jobs: 4, fulfilled: 3 });
    expect((await get("/api/models?q=nothing-like-it")).body.total).to.equal(0);

    const single = (await get(`/api/jobs/${ids.single}`)).body as { job: Json; timeline: Json[] };
    expect(single.job).to.include({ status: "fulfilled", batched: false, feeWei: (10n ** 16n).toString() });
    expect(single.timeline.map((t) => t.stage)).to.deep.equal(["opened", "claimed", "fulfilled"]);
    for (const t of single.timeline) expect(t.gasUsed).to.match(/^\d+$/);

    const batch = await Promise.all(
      [ids.batch1, ids.batch2].map(async (j) => (await get(`/api/jobs/${j}`)).body as { job: Json; timeline: Json[] }),
    );
    const tx = await provider.getTransactionReceipt(batch[0].job.fulfilledTx as string);
    for (const b of batch) {
      expect(b.job).to.include({ status: "fulfilled", batched: true, batchSize: 2 });
      expect(b.job.fulfilledGas).to.equal(gasShare(tx!.gasUsed, 2).toString());
      const f = b.timeline.find((t) => t.stage === "fulfilled")!;
      expect(f).to.include({ batched: true, gasUsed: gasShare(tx!.gasUsed, 2).toString() });
    }

    const reclaimed = (await get(`/api/jobs/${ids.reclaimed}`)).body as { job: Json; timeline: Json[] };
    expect(reclaimed.job.status).to.equal("reclaimed");
    // the job detail's shape (scripts/formats/explorer-api.ts JobDetail): the claim that expired, its stage fields
    const rd = reclaimed as unknown as JobDetail;
    expect(rd.job).to.include({ claimCount: 1, inputMode: "committed", optimistic: false, subscriptionId: null });
    expect(rd.job.claims.map((k) => k.outcome)).to.deep.equal(["expired"]);
    expect(rd.job.reclaimedTx).to.match(/^0x[0-9a-f]{64}$/);
    expect(rd.timeline[0]).to.have.all.keys("stage", "at", "block", "txHash", "gasUsed", "actor", "batched", "data");
    expect(reclaimed.timeline.map((t) => t.stage)).to.deep.equal(["opened", "claimed", "claimExpired", "reclaimed"]);

    const jobs = (await get(`/api/jobs?model=${modelId}&status=fulfilled&limit=2`)).body as { items: Json[]; total: number };
    expect(jobs.total).to.equal(3);
    expect(jobs.items.map((j) => j.jobId)).to.deep.equal([ids.batch2, ids.batch1].map(String));
    const next = (await get(`/api/jobs?model=${modelId}&status=fulfilled&before=${ids.batch1}`)).body as { items: Json[] };
    expect(next.items.map((j) => j.jobId)).to.deep.equal([String(ids.single)]);
    expect((await get("/api/jobs?status=bogus")).status).to.equal(400);
    expect((await get("/api/jobs/999999")).status).to.equal(404);

    const proverAddress = (await kit.prover.getAddress()).toLowerCase();
    const provers = (await get("/api/provers")).body as { items: Json[] };
    const p = provers.items.find((x) => x.address === proverAddress)!;
    expect(p).to.include({ served: 3, failures: 1, bondLockedWei: "0" });
    expect(BigInt(p.earningsWei as string)).to.equal(6n * 10n ** 16n);
    expect((await get(`/api/provers/${proverAddress}`)).body.recentJobs).to.have.length(3);

    const net = (await get("/api/network?minutes=120")).body as {
      jobsPerMinute: Json[];
      gas: { single: Json; batched: Json };
      totals: Json;
    };
    expect(net.jobsPerMinute).to.have.length(120);
    expect(net.totals).to.deep.equal({ models: 1, jobs: 4, fulfilled: 3, provers: 1 });
    expect(net.gas.single.n).to.equal(1);
    expect(net.gas.batched.n).to.equal(2);

    const card = await get(`/api/models/${modelId}/card`);
    expect(card.status).to.equal(200);
    expect((card.body.manifest as Json).model).to.equal("iris-mlp");
    expect((await get(`/api/models/${modelId}/card?version=9`)).status).to.equal(404);

    // GraphQL stays available for the SDK
    const gql = await fetch(`${indexer.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: "{ jobs(limit: 10) { items { id status } } }" }),
    });
    expect(((await gql.json()) as { data: { jobs: { items: unknown[] } } }).data.jobs.items).to.have.length(4);
  });

  it("answers the SDK's ExplorerClient the same, and names a missing job and an unreachable indexer", async function () {
    const ex = new ExplorerClient(indexer!.url);
    expect(await ex.job(ids.single)).to.deep.equal((await get(`/api/jobs/${ids.single}`)).body);
    const page = await ex.jobs({ status: "fulfilled,reclaimed", limit: 10 });
    expect(page.items.map((j) => j.jobId).sort()).to.deep.equal([ids.single, ids.batch1, ids.batch2, ids.reclaimed].map(String).sort());
    expect((await ex.status()).jobs).to.equal(jobsAddress.toLowerCase());
    const missing = await ex.job(999_999n).catch((e: unknown) => e);
    expect(missing).to.be.instanceOf(ExplorerClientError);
    expect((missing as ExplorerClientError).kind).to.equal("not-found");
    const down = await new ExplorerClient(`http://127.0.0.1:${await freePort()}`).status().catch((e: unknown) => e);
    expect((down as ExplorerClientError).kind).to.equal("unreachable");
    expect((down as Error).message).to.match(/^The indexer does not answer at http:\/\/127\.0\.0\.1:\d+\/api\/status/);
  });

  it("shows a new job within a second of its block", async function () {
    const opened = await kit.client.openJob({ modelId: kit.modelId("iris-mlp"), input: { raw }, fee: 10n ** 16n });
    ids.live = opened.jobId;
    const t0 = Date.now();
    for (;;) {
      if ((await get(`/api/jobs/${opened.jobId}`)).status === 200) break;
      if (Date.now() - t0 > 5000) throw new Error(`job ${opened.jobId} not indexed within 5 s:\n${indexer!.output().slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const ms = Date.now() - t0;
    console.log(`    a new job was on the API ${ms} ms after its transaction was mined`);
    expect(ms).to.be.below(1000);
  });

  it("drops a job whose block was reorganised away", async function () {
    const snapshot = (await rpc("evm_snapshot")) as string;
    const gone = await kit.client.openJob({ modelId: kit.modelId("iris-mlp"), input: { raw }, fee: 7n * 10n ** 16n });
    const height = await head();
    await indexer!.waitForBlock(height);
    expect((await get(`/api/jobs/${gone.jobId}`)).body.job).to.include({ feeWei: (7n * 10n ** 16n).toString() });
    await rpc("evm_revert", [snapshot]);
    // other blocks past that height: the same job id, opened with another fee, on the new branch
    await rpc("hardhat_mine", ["0x2"]);
    const replaced = await kit.client.openJob({ modelId: kit.modelId("iris-mlp"), input: { raw }, fee: 5n * 10n ** 16n });
    expect(replaced.jobId).to.equal(gone.jobId);
    expect(await head()).to.be.greaterThan(height);
    await indexer!.waitForBlock(await head());
    const t0 = Date.now();
    for (;;) {
      const j = (await get(`/api/jobs/${gone.jobId}`)).body.job as Json | undefined;
      if (j?.feeWei === (5n * 10n ** 16n).toString()) break;
      if (Date.now() - t0 > 10_000) throw new Error(`the reorg was not applied: job ${gone.jobId} is ${JSON.stringify(j)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const list = (await get(`/api/jobs?limit=100`)).body as { items: Json[]; total: number };
    expect(list.total).to.equal(6);
    expect(list.items.filter((j) => j.jobId === String(gone.jobId))).to.have.length(1);
    const model = (await get(`/api/models/${kit.modelId("iris-mlp")}`)).body.model as Json;
    expect(model.jobs).to.equal(6);
  });

  it("resumes after a restart on the same database without duplicates", async function () {
    await indexer!.stop();
    indexer = undefined;
    const more = [];
    for (let i = 0; i < 2; i++)
      more.push((await kit.client.openJob({ modelId: kit.modelId("iris-mlp"), input: { raw }, fee: 10n ** 16n })).jobId);
    indexer = await start();
    await indexer.waitForBlock(await head());
    const list = (await get(`/api/jobs?limit=100`)).body as { items: Json[]; total: number };
    expect(list.total).to.equal(8);
    expect(new Set(list.items.map((j) => j.jobId)).size).to.equal(8);
    expect(list.items[0].jobId).to.equal(String(more[1]));
    const model = (await get(`/api/models/${kit.modelId("iris-mlp")}`)).body.model as Json;
    expect(model).to.include({ jobs: 8, fulfilled: 3 });
  });

  it("audits each version's verifier in the background: passed for the kit's, failed with the reason for another model's", async function () {
    const poll = async (modelId: bigint, timeoutMs: number): Promise<ModelDetail> => {
      const t0 = Date.now();
      for (;;) {
        const r = await get(`/api/models/${modelId}`);
        const d = r.body as unknown as ModelDetail;
        if (r.status === 200 && d.versions[0]?.audit.status !== "pending") return d;
        if (Date.now() - t0 > timeoutMs)
          throw new Error(`model ${modelId}'s audit still ${JSON.stringify(d.versions?.[0]?.audit)}:\n${indexer!.output().slice(-2000)}`);
        await new Promise((res) => setTimeout(res, 250));
      }
    };
    const t0 = Date.now();
    const iris = await poll(kit.modelId("iris-mlp"), 120_000);
    console.log(`    the first audit (verifier regenerated from the zkey) took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    expect(iris.versions[0].audit).to.include({ status: "passed" });
    expect(iris.versions[0].audit.checkedAt).to.be.a("number");
    // the same bundle registered again with another model's verifier (temp-forecast's): its code is not the zkey's
    const owner = new Wallet(devKey(18), provider);
    const factory = VerifierAdapterFactory__factory.connect(await kit.registry.factory(), owner);
    const a = await hre.artifacts.readArtifact("TempForecastGroth16Verifier");
    const { adapter } = await deployGroth16Verifier(owner, { contractName: a.contractName, abi: a.abi, bytecode: a.bytecode }, factory);
    const m = parseBundleManifest(JSON.parse(fs.readFileSync(path.join(bundleDir, "bundle.json"), "utf8")));
    const { modelId } = await registerModel(
      kit.registry,
      owner,
      {
        modelCommitment: BigInt(m.registry.modelHash),
        circuitHash: m.registry.circuitHash,
        vkHash: m.registry.vkHash,
        uri: kit.models["iris-mlp"].uri,
      },
      await adapter.getAddress(),
      m.registry.layout,
    );
    await indexer!.waitForBlock(await head());
    const wrong = await poll(modelId, 60_000);
    expect(wrong.versions[0].audit.status).to.equal("failed");
    expect(wrong.versions[0].audit.reason).to.match(/is not the snarkjs verifier of these keys/);
    // cached: the verdicts stand at once, and on disk for a restart
    expect((await get(`/api/models/${kit.modelId("iris-mlp")}`)).body.versions).to.satisfy(
      (v: ModelDetail["versions"]) => v[0].audit.status === "passed",
    );
    expect(fs.readdirSync(path.join(tmp, "audits"))).to.have.length(2);
  });
});
