/**
 * The explorer's indexer reads `ipfs://` bundles with an IPFS node of its own (issue 35, "model cards from the bundles
 * over IPFS"; explorer/indexer/src/bundle-access.ts): a model published as the demo and the open-network prover test
 * publish it (the bundle added to the owner's Helia node, `ipfs://<cid>` registered as the version's uri), the
 * indexer (`ponder start` against a real `hardhat node`) given the owner's multiaddr as EXPLORER_IPFS_PEERS serves the
 * card, the manifest and the architecture, and audits the verifier from the proving key read the same way; without
 * any IPFS setting, the card's error says to set EXPLORER_IPFS_PEERS.
 */
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import hre from "hardhat";
import { JsonRpcProvider, Wallet } from "ethers";
import { type LocalNode, startHardhatNode } from "../../scripts/chain/local-node";
import { devKey } from "../../scripts/apps/load/market";
import { deployInferenceKitWith, type InferenceKit } from "../../scripts/apps/testkit";
import { writeKitBundles } from "../../scripts/apps/package/bundles";
import { type IpfsNode, startIpfsNode } from "../../scripts/engine/ipfs";
import { BUNDLE_FILES, BUNDLE_MANIFEST, parseBundleManifest, parseModelCard } from "../../scripts/formats/bundle";
import type { CardResponse, ModelDetail } from "../../scripts/formats/explorer-api";
import { type RunningIndexer, startIndexer } from "../../scripts/apps/explorer/indexer";
import { readExplorerEnv } from "../../explorer/indexer/src/env";

const IPFS_SETTINGS = ["EXPLORER_IPFS_PEERS", "EXPLORER_IPFS_GATEWAYS", "EXPLORER_IPFS_DIR", "EXPLORER_IPFS_GATEWAY"] as const;

describe("explorer indexer: IPFS settings", function () {
  const jobs = "0x" + "11".repeat(20);
  it("starts the node when any of EXPLORER_IPFS_PEERS, _GATEWAYS, _DIR is set (blockstore beside the database) and names the setting of a malformed value", function () {
    expect(readExplorerEnv({ EXPLORER_JOBS: jobs }).ipfs).to.equal(undefined);
    const peer = "/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWAbc";
    expect(readExplorerEnv({ EXPLORER_JOBS: jobs, EXPLORER_DB_DIR: "/x/db", EXPLORER_IPFS_PEERS: ` ${peer},` }).ipfs).to.deep.equal({
      peers: [peer],
      gateways: [],
      dir: path.resolve("/x/ipfs"),
    });
    expect(readExplorerEnv({ EXPLORER_JOBS: jobs, EXPLORER_IPFS_GATEWAYS: "http://127.0.0.1:8080" }).ipfs?.gateways).to.deep.equal([
      "http://127.0.0.1:8080",
    ]);
    expect(() => readExplorerEnv({ EXPLORER_JOBS: jobs, EXPLORER_IPFS_PEERS: "/ip4/127.0.0.1/tcp/4001" })).to.throw(
      /^EXPLORER_IPFS_PEERS: .* the multiaddr `npm run ipfs:serve` prints/,
    );
    expect(() => readExplorerEnv({ EXPLORER_JOBS: jobs, EXPLORER_IPFS_GATEWAYS: "127.0.0.1:8080" })).to.throw(/^EXPLORER_IPFS_GATEWAYS: /);
  });
});

describe("explorer indexer: model cards from ipfs:// bundles", function () {
  this.timeout(240_000);
  const saved = new Map(IPFS_SETTINGS.map((k) => [k, process.env[k]]));
  let tmp: string;
  let chain: LocalNode | undefined;
  let publisher: IpfsNode | undefined;
  let indexer: RunningIndexer | undefined;
  let provider: JsonRpcProvider;
  let kit: InferenceKit;
  let bundleDir: string;
  let cid: string;

  const get = async <T>(p: string): Promise<{ status: number; body: T }> => {
    const r = await fetch(`${indexer!.url}${p}`);
    return { status: r.status, body: (await r.json()) as T };
  };
  /** The model page once the current version's audit is no longer pending. */
  const settledAudit = async (modelId: bigint, timeoutMs: number): Promise<ModelDetail> => {
    const t0 = Date.now();
    for (;;) {
      const { status, body } = await get<ModelDetail>(`/api/models/${modelId}`);
      if (status === 200 && body.versions[0]?.audit.status !== "pending") return body;
      if (Date.now() - t0 > timeoutMs)
        throw new Error(`model ${modelId}'s audit still ${JSON.stringify(body.versions?.[0]?.audit)}:\n${indexer!.output().slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  };
  const start = async (dbDir: string, ipfsPeers?: string[]) => {
    indexer = await startIndexer({
      rpcUrl: chain!.url,
      chainId: 31337,
      jobs: await kit.jobs.getAddress(),
      dbDir,
      pollMs: 200,
      readyTimeoutMs: 90_000,
      ipfsPeers,
    });
    await indexer.waitForBlock(await provider.getBlockNumber());
  };

  before(async function () {
    // the settings come from the options only: a shell's own must not leak into the indexers started here
    for (const k of IPFS_SETTINGS) delete process.env[k];
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "zkml-explorer-ipfs-"));
    await writeKitBundles(hre, path.join(tmp, "bundles"), ["iris-mlp"]);
    bundleDir = path.join(tmp, "bundles", "iris-mlp");
    // the owner publishes: the bundle folder on its IPFS node (listening on loopback), the CID as the version's uri
    publisher = await startIpfsNode({ dir: path.join(tmp, "owner-ipfs"), listen: ["/ip4/127.0.0.1/tcp/0"] });
    cid = await publisher.addDirectory(new Map(fs.readdirSync(bundleDir).map((n) => [n, fs.readFileSync(path.join(bundleDir, n))])));
    chain = await startHardhatNode();
    provider = new JsonRpcProvider(chain.url, undefined, { cacheTimeout: -1, polling: true, pollingInterval: 100 });
    const wallets = [0, 1, 18, 19].map((i) => new Wallet(devKey(i), provider));
    kit = await deployInferenceKitWith(wallets, {
      models: ["iris-mlp"],
      bundlesDir: path.join(tmp, "bundles"),
      bundleUri: () => `ipfs://${cid}`,
    });
  });

  after(async function () {
    await indexer?.stop();
    await chain?.stop();
    await publisher?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    for (const [k, v] of saved) if (v !== undefined) process.env[k] = v;
  });

  it("with EXPLORER_IPFS_PEERS = the owner's node: the card, manifest and architecture come over libp2p, and the audit passes on the proving key read the same way", async function () {
    const modelId = kit.modelId("iris-mlp");
    await start(path.join(tmp, "ipfs-peers", "db"), publisher!.multiaddrs());

    const card = await get<CardResponse & { error?: string }>(`/api/models/${modelId}/card`);
    expect(card.status, card.body.error).to.equal(200);
    expect(card.body.bundleUri).to.equal(`ipfs://${cid}`);
    expect(card.body.card).to.deep.equal(parseModelCard(JSON.parse(fs.readFileSync(path.join(bundleDir, BUNDLE_FILES.card), "utf8"))));
    expect(card.body.manifest).to.deep.equal(
      parseBundleManifest(JSON.parse(fs.readFileSync(path.join(bundleDir, BUNDLE_MANIFEST), "utf8"))),
    );
    expect(card.body.architecture?.[0]).to.include({ type: "dense", nIn: 4, nOut: 8 });

    const t0 = Date.now();
    const detail = await settledAudit(modelId, 120_000);
    console.log(`    the audit (proving key over libp2p, verifier regenerated) settled in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    expect(detail.cardError).to.equal(null);
    expect(detail.card?.name).to.equal("iris-mlp");
    expect(detail.architecture?.[0]).to.include({ type: "dense", nIn: 4, nOut: 8 });
    expect(detail.versions[0].bundleUri).to.equal(`ipfs://${cid}`);
    expect(detail.versions[0].audit, JSON.stringify(detail.versions[0].audit)).to.include({ status: "passed" });
    // the node's blockstore is beside the database folder (EXPLORER_IPFS_DIR's default)
    expect(fs.readdirSync(path.join(tmp, "ipfs-peers", "ipfs", "blocks")).length).to.be.above(0);
  });

  it("without any IPFS setting: the card's error says to set EXPLORER_IPFS_PEERS to the publisher's node", async function () {
    await indexer?.stop();
    // the IPFS node stopped with Ponder's API, within its grace period
    expect(indexer?.output()).to.not.include("Failed to shutdown");
    indexer = undefined;
    const modelId = kit.modelId("iris-mlp");
    await start(path.join(tmp, "no-ipfs", "db")); // its own card and audit caches (beside its database folder)
    const card = await get<{ error: string; bundleUri: string }>(`/api/models/${modelId}/card`);
    expect(card.status).to.equal(502);
    expect(card.body.bundleUri).to.equal(`ipfs://${cid}`);
    expect(card.body.error).to.include(`ipfs://${cid}`);
    expect(card.body.error).to.include("set EXPLORER_IPFS_PEERS to the publisher's node, e.g. the multiaddr `npm run ipfs:serve` prints");
    const detail = await settledAudit(modelId, 30_000);
    expect(detail.card).to.equal(null);
    expect(detail.cardError).to.include("EXPLORER_IPFS_PEERS");
    expect(detail.versions[0].audit.status).to.equal("unavailable");
    expect(detail.versions[0].audit.reason).to.include("EXPLORER_IPFS_PEERS");
  });
});
