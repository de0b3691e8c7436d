import { expect } from "chai";
import { until } from "../../scripts/util/wait";
import * as fs from "fs";
import * as http from "http";
import type { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import { type BuiltModel, buildModel } from "../../scripts/pipelines/build";
import { CARD_FORMAT } from "../../scripts/formats/bundle";
import { writeBundle } from "../../scripts/formats/bundle-files";
import { BundleRefused, DEFAULT_POLICY, admitted } from "../../scripts/apps/prover/bundles";
import { BundleCache } from "../../scripts/apps/prover/bundle-cache";
import { configFromEnv } from "../../scripts/apps/prover/config";
import { bundleSources } from "../../scripts/pipelines/bundle-sources";

const REQUIRED = {
  PROVER_RPC_URL: "http://127.0.0.1:8545",
  PROVER_PRIVATE_KEY: `0x${"11".repeat(32)}`,
  PROVER_JOBS_ADDRESS: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
  PROVER_STATE_DIR: "/tmp/state",
};

/** The prover node's bundle cache and serving policy, without a chain (the node-level paths: test/prover/open-network). */
describe("open network: bundle cache and serving policy", function () {
  let b: BuiltModel;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "zkml-bcache-"));
  const limits = { totalBytes: 64 * 2 ** 20, zkeyBytes: 16 * 2 ** 20 };

  before(async function () {
    b = await buildModel("iris-mlp", { quantize: false });
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  const bundle = (name: string): string => {
    const dir = path.join(tmp, "src", name);
    writeBundle(
      bundleSources(b, {
        format: CARD_FORMAT,
        name: "iris-mlp",
        task: "classification",
        outputs: ["a", "b", "c"],
        input: { size: 4, bits: 12, frac: 8, mode: "committed" },
        output: { head: "argmax", count: 3 },
        license: name,
        weights: "open",
        constraints: b.circuit.constraints,
        trustedSetup: "DEV keys (INSECURE)",
      }),
      dir,
    );
    return dir;
  };
  const size = (dir: string): number => fs.readdirSync(dir).reduce((s, n) => s + fs.statSync(path.join(dir, n)).size, 0);

  it("keeps the cache under its size bound by evicting the least recently used bundle, never the one just fetched", async function () {
    const src = ["a", "b", "c"].map(bundle);
    const one = size(src[0]);
    const cache = new BundleCache(path.join(tmp, "cache"), Math.floor(one * 2.5), undefined);
    const got = async (i: number) => cache.fetch(`file://${src[i]}`, BigInt(i + 1), 1, limits);
    const a = await got(0);
    await new Promise((r) => setTimeout(r, 20));
    const bdir = await got(1);
    await new Promise((r) => setTimeout(r, 20));
    expect(await got(0)).to.equal(a); // a used again: b is now the least recently used
    await new Promise((r) => setTimeout(r, 20));
    const c = await got(2); // three do not fit: b goes
    expect(fs.existsSync(bdir)).to.equal(false);
    expect(fs.existsSync(a)).to.equal(true);
    expect(fs.existsSync(c)).to.equal(true);
    // a bound smaller than one bundle still keeps the one just fetched
    const tiny = new BundleCache(path.join(tmp, "tiny"), 1, undefined);
    const t1 = await tiny.fetch(`file://${src[0]}`, 1n, 1, limits);
    const t2 = await tiny.fetch(`file://${src[1]}`, 2n, 1, limits);
    expect([fs.existsSync(t1), fs.existsSync(t2)]).to.deep.equal([false, true]);
  });

  /**
   * Serves the bundle folder `src` over HTTP on loopback; the proving key's response is left to `zkey` (headers sent),
   * every other file is sent whole. Returns the base URI and a close that drops open connections.
   */
  async function serveBundle(src: string, zkey: (body: Buffer, res: http.ServerResponse) => void) {
    const server = http.createServer((req, res) => {
      const f = path.join(src, decodeURIComponent((req.url ?? "/").split("?")[0]));
      if (!fs.existsSync(f)) return void res.writeHead(404).end();
      const body = fs.readFileSync(f);
      res.writeHead(200, { "content-length": String(body.length) });
      if (!f.endsWith(".zkey")) return void res.end(body);
      zkey(body, res);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    return {
      uri: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      close: () => {
        server.closeAllConnections();
        return new Promise<void>((r) => server.close(() => r()));
      },
    };
  }

  it("reports a fetch under way with the bytes it has so far (issue 28: /health and the progress log of a large bundle)", async function () {
    const src = bundle("slow");
    // an HTTP server that sends the proving key's first half, then stalls for a moment
    let stalled: () => void = () => undefined;
    const stall = new Promise<void>((r) => (stalled = r));
    let resume: () => void = () => undefined;
    const resumed = new Promise<void>((r) => (resume = r));
    const { uri, close } = await serveBundle(src, (body, res) => {
      res.write(body.subarray(0, body.length >> 1), () => stalled());
      void resumed.then(() => res.end(body.subarray(body.length >> 1)));
    });
    try {
      const cache = new BundleCache(path.join(tmp, "progress"), 2 ** 30, undefined);
      expect(cache.fetching()).to.deep.equal([]);
      const done = cache.fetch(uri, 5n, 2, limits);
      await stall;
      await until(() => cache.fetching()[0]?.bytes >= fs.statSync(b.keys.zkey).size >> 1, 10_000, "the first half on disk");
      const [f] = cache.fetching();
      expect([f.modelId, f.version, f.uri]).to.deep.equal(["5", 2, uri]);
      expect(f.bytes).to.be.lessThan(size(src));
      expect(f.forMs).to.be.at.least(0);
      resume();
      const dir = await done;
      expect(size(dir)).to.be.at.least(size(src));
      expect(cache.fetching()).to.deep.equal([]);
    } finally {
      resume();
      await close();
    }
  });

  it("lets a slow fetch that keeps receiving run past its timeout, and gives up on one that receives nothing for that long (issue 28 point 1)", async function () {
    this.timeout(30_000);
    const src = bundle("trickle");
    // the proving key in 8 pieces, 250 ms apart (about 2 s in all, twice the 1 s timeout); in "stall" mode the key's
    // first piece and then nothing
    let mode: "trickle" | "stall" = "trickle";
    const { uri, close } = await serveBundle(src, (body, res) => {
      const step = Math.ceil(body.length / 8);
      const send = (i: number): void => {
        if (res.destroyed) return;
        if (i * step >= body.length) return void res.end();
        res.write(body.subarray(i * step, (i + 1) * step));
        if (mode === "trickle" || i === 0) setTimeout(() => send(i + 1), 250);
      };
      send(0);
    });
    try {
      const cache = new BundleCache(path.join(tmp, "trickle"), 2 ** 30, undefined);
      const t0 = Date.now();
      const dir = await cache.fetch(uri, 6n, 1, limits, 1_000);
      expect(Date.now() - t0).to.be.greaterThan(1_500);
      expect(fs.statSync(path.join(dir, "proving.zkey")).size).to.equal(fs.statSync(b.keys.zkey).size);
      mode = "stall";
      const t1 = Date.now();
      let refused: BundleRefused | undefined;
      try {
        await cache.fetch(uri, 6n, 2, limits, 1_000);
      } catch (e) {
        refused = e as BundleRefused;
      }
      expect(refused).to.be.instanceOf(BundleRefused);
      expect(refused!.kind).to.equal("unavailable");
      expect(refused!.message).to.match(/proving\.zkey .*received nothing for 1000 ms/);
      expect(Date.now() - t1).to.be.lessThan(10_000);
      expect(cache.fetching()).to.deep.equal([]);
    } finally {
      await close();
    }
  });

  it("refuses by kind before the large files: over a limit (policy), missing (unavailable), an unsupported URI", async function () {
    const src = bundle("d");
    const cache = new BundleCache(path.join(tmp, "kinds"), 2 ** 30, undefined);
    const refusal = async (uri: string, l = limits): Promise<BundleRefused> => {
      try {
        await cache.fetch(uri, 9n, 1, l);
      } catch (e) {
        if (e instanceof BundleRefused) return e;
        throw e;
      }
      throw new Error(`${uri} was not refused`);
    };
    const zkeyBytes = fs.statSync(b.keys.zkey).size;
    const small = await refusal(`file://${src}`, { totalBytes: 2 ** 30, zkeyBytes: zkeyBytes - 1 });
    expect([small.kind, small.message]).to.deep.equal([
      "policy",
      `proving key of ${zkeyBytes} bytes, more than PROVER_MAX_ZKEY_BYTES ${zkeyBytes - 1}`,
    ]);
    const total = await refusal(`file://${src}`, { totalBytes: 100_000, zkeyBytes: 2 ** 30 });
    expect(total.kind).to.equal("policy");
    expect(total.message).to.match(/^the bundle is \d+ bytes, more than the limit of 100000$/);
    const missing = await refusal(`file://${path.join(tmp, "nowhere")}`);
    expect(missing.kind).to.equal("unavailable");
    const ftp = await refusal("ftp://example.org/b");
    expect([ftp.kind, ftp.message]).to.deep.equal([
      "policy",
      'unsupported bundle URI "ftp://example.org/b" (use ipfs://<cid>, https://<base> or file://<dir>)',
    ]);
    const noIpfs = await refusal("ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi");
    expect(noIpfs.message).to.match(/this node has no IPFS node \(set PROVER_IPFS_PEERS or PROVER_IPFS_GATEWAYS\)/);
    // nothing half-fetched is left behind
    expect(fs.readdirSync(path.join(tmp, "kinds"))).to.deep.equal([]);
  });

  it("reads the policy from the environment: allow-lists by id and owner, per-model minimum fees, limits; one clear line per bad value", function () {
    const owner = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
    const c = configFromEnv({
      ...REQUIRED,
      PROVER_SERVE: `3, ${owner.toLowerCase()}`,
      PROVER_MIN_FEE: "3:5000,7:1",
      PROVER_MAX_CONSTRAINTS: "70000",
      PROVER_MAX_ZKEY_BYTES: "1000000",
      PROVER_BUNDLE_TIMEOUT_MS: "5000",
      PROVER_BUNDLE_RETRY_MS: "0",
    });
    const p = c.policy;
    expect(p.maxConstraints).to.equal(70000);
    expect(p.maxZkeyBytes).to.equal(1_000_000);
    expect([...p.minFeeWei]).to.deep.equal([
      ["3", 5000n],
      ["7", 1n],
    ]);
    expect([c.bundleTimeoutMs, c.bundleRetryMs]).to.deep.equal([5000, 0]);
    expect(admitted(p, 3n, "0x0000000000000000000000000000000000000001")).to.equal(undefined); // by id
    expect(admitted(p, 4n, owner.toLowerCase())).to.equal(undefined); // by owner, any case
    expect(admitted(p, 4n, "0x0000000000000000000000000000000000000001")).to.equal(
      "model 4 (owner 0x0000000000000000000000000000000000000001) is not in PROVER_SERVE",
    );
    expect(admitted(DEFAULT_POLICY, 99n, owner)).to.equal(undefined);
    expect(configFromEnv({ ...REQUIRED, PROVER_SERVE: "all" }).policy.serve).to.equal("all");
    expect(() => configFromEnv({ ...REQUIRED, PROVER_SERVE: "iris" })).to.throw(
      /^PROVER_SERVE: "iris" is not "all", a model id or an owner address/,
    );
    expect(() => configFromEnv({ ...REQUIRED, PROVER_SERVE: "all", PROVER_MIN_FEE: "3=5" })).to.throw(
      /^PROVER_MIN_FEE: "3=5" is not modelId:wei/,
    );
    expect(() => configFromEnv({ ...REQUIRED })).to.throw(/^PROVER_SERVE is not set: export PROVER_SERVE=all/);
    expect(() => configFromEnv({ ...REQUIRED, PROVER_SERVE: " , " })).to.throw(/^PROVER_SERVE " , " names no model/);
    expect(() => configFromEnv({ ...REQUIRED, PROVER_SERVE: "all", PROVER_MODELS: "iris-mlp" })).to.throw(
      /^PROVER_MODELS is gone: a node serves published bundles only; publish the model/,
    );
  });
});
