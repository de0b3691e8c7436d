import { expect } from "chai";
import type { ProverNode } from "../../scripts/apps/prover/node";
import { configFromEnv } from "../../scripts/apps/prover/config";
import { type RpcProxy, startRpcProxy } from "../../scripts/chain/fault-proxy";
import { type Market, inProcessNode, startMarket, until } from "../../scripts/apps/load/market";

/** One sample of a Prometheus text exposition: `name{labels} value`. */
function sample(text: string, name: string, labels = ""): number {
  const line = text.split("\n").find((l) => l.startsWith(`${name}${labels} `));
  if (!line) throw new Error(`no sample ${name}${labels} in:\n${text}`);
  return Number(line.slice(line.lastIndexOf(" ") + 1));
}

async function get(url: string): Promise<{ status: number; type: string; body: string }> {
  const r = await fetch(url);
  return { status: r.status, type: r.headers.get("content-type") ?? "", body: await r.text() };
}

/** Issue 19, part 4: a node's /metrics (Prometheus text format) and /health, read while it serves jobs. */
describe("prover nodes: metrics and health over HTTP", function () {
  let m: Market;
  let proxy: RpcProxy;
  let node: ProverNode | undefined;

  before(async function () {
    m = await startMarket();
    proxy = await startRpcProxy(m.chain.url);
  });

  after(async function () {
    await node?.stop().catch(() => undefined);
    await proxy?.close();
    await m?.stop();
  });

  it("serves /metrics (jobs by state, proving histogram, gas, balance, stake, lag) and /health, which fails while the RPC endpoint does and recovers", async function () {
    const jobs = [await m.open(), await m.open()];
    node = inProcessNode(m, 6, "status", { rpcUrl: proxy.url, http: { host: "127.0.0.1", port: 0 }, healthStaleMs: 1500 });
    await node.start();
    const base = node.statusUrl!;
    expect(base).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
    await until(async () => (await Promise.all(jobs.map((j) => m.sys.jobs.resultOf(j.jobId)))).every((r) => r[0]), 90_000, "two jobs");
    await until(async () => node!.jobRecords().filter((r) => r.state === "done").length === 2, 10_000, "both recorded done");

    const mt = await get(`${base}/metrics`);
    expect(mt.status).to.equal(200);
    expect(mt.type).to.equal("text/plain; version=0.0.4; charset=utf-8");
    const t = mt.body;
    expect(t)
      .to.match(/^# HELP zkml_prover_jobs /m)
      .and.match(/^# TYPE zkml_prover_jobs gauge$/m);
    expect(sample(t, "zkml_prover_jobs", '{state="done"}')).to.equal(2);
    expect(sample(t, "zkml_prover_jobs", '{state="failed"}')).to.equal(0);
    expect(t).to.match(/^# TYPE zkml_prover_proving_seconds histogram$/m);
    expect(sample(t, "zkml_prover_proving_seconds_count")).to.equal(2);
    expect(sample(t, "zkml_prover_proving_seconds_bucket", '{le="+Inf"}')).to.equal(2);
    const buckets = [...t.matchAll(/^zkml_prover_proving_seconds_bucket\{le="([^"]+)"\} (\d+)$/gm)].map((x) => Number(x[2]));
    expect(buckets.length).to.equal(11);
    for (let i = 1; i < buckets.length; i++) expect(buckets[i]).to.be.at.least(buckets[i - 1]); // cumulative
    expect(sample(t, "zkml_prover_proving_seconds_sum")).to.be.greaterThan(0);
    expect(sample(t, "zkml_prover_fulfilled_total")).to.equal(2);
    expect(sample(t, "zkml_prover_proofs_total")).to.equal(2);
    expect(sample(t, "zkml_prover_gas_used_total")).to.be.greaterThan(2 * 200_000);
    expect(sample(t, "zkml_prover_earnings_wei_total")).to.equal(2 * 1e16);
    expect(sample(t, "zkml_prover_rpc_up")).to.equal(1);
    expect(sample(t, "zkml_prover_balance_wei")).to.be.greaterThan(0);
    expect(sample(t, "zkml_prover_stake_locked_wei")).to.equal(0);
    expect(sample(t, "zkml_prover_stake_available_wei")).to.be.greaterThan(0);
    expect(sample(t, "zkml_prover_head_lag_blocks")).to.be.at.most(2);
    expect(sample(t, "zkml_prover_head_block") - sample(t, "zkml_prover_scanned_block")).to.equal(sample(t, "zkml_prover_head_lag_blocks"));
    // every sample line is `name[{labels}] number`, every family has HELP and TYPE
    for (const l of t.trim().split("\n"))
      expect(l, l).to.match(/^(# (HELP|TYPE) zkml_prover_\w+ .+|zkml_prover_\w+(\{\w+="[^"]*"\})? -?[\d.e+]+)$/);

    const h = await get(`${base}/health`);
    expect(h.status).to.equal(200);
    expect(JSON.parse(h.body)).to.include({ status: "ok" });
    expect((await get(`${base}/nothing`)).status).to.equal(404);

    // the RPC endpoint resets every connection: ticks fail, /health turns 503 with the error, /metrics says rpc down
    proxy.set("reset");
    await until(async () => (await get(`${base}/health`)).status === 503, 20_000, "/health 503");
    const bad = JSON.parse((await get(`${base}/health`)).body) as { status: string; reason: string; lastError?: string };
    expect(bad.status).to.equal("unhealthy");
    expect(bad.reason).to.match(/^no successful tick for \d+ ms \(limit 1500 ms\)$/);
    expect(bad.lastError).to.be.a("string");
    const down = await get(`${base}/metrics`);
    expect(down.status).to.equal(200);
    expect(sample(down.body, "zkml_prover_rpc_up")).to.equal(0);
    expect(down.body).to.not.match(/^zkml_prover_balance_wei /m);

    // back: healthy again, with nothing lost
    proxy.set("pass");
    await until(async () => (await get(`${base}/health`)).status === 200, 20_000, "/health 200 again");
    expect(sample((await get(`${base}/metrics`)).body, "zkml_prover_jobs", '{state="done"}')).to.equal(2);
  });

  it("PROVER_HTTP_PORT / PROVER_HTTP_HOST / PROVER_HEALTH_STALE_MS and the RPC list and retries from the environment; a bad value is one line", function () {
    const env = {
      PROVER_RPC_URL: "http://127.0.0.1:8545",
      PROVER_PRIVATE_KEY: `0x${"11".repeat(32)}`,
      PROVER_JOBS_ADDRESS: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
      PROVER_STATE_DIR: "/tmp/state",
      PROVER_SERVE: "all",
    };
    expect(configFromEnv(env).http).to.equal(undefined);
    expect(configFromEnv({ ...env, PROVER_HTTP_PORT: "9464" }).http).to.deep.equal({ host: "127.0.0.1", port: 9464 });
    expect(
      configFromEnv({ ...env, PROVER_HTTP_PORT: "9464", PROVER_HTTP_HOST: "0.0.0.0", PROVER_HEALTH_STALE_MS: "5000" }),
    ).to.deep.include({
      http: { host: "0.0.0.0", port: 9464 },
      healthStaleMs: 5000,
    });
    expect(() => configFromEnv({ ...env, PROVER_HTTP_PORT: "70000" })).to.throw(
      /^PROVER_HTTP_PORT must be a TCP port \(0\.\.65535\), got 70000/,
    );
    expect(() => configFromEnv({ ...env, PROVER_HTTP_PORT: "http" })).to.throw(/^PROVER_HTTP_PORT must be an integer >= 0, got "http"/);
    const rpc = configFromEnv({
      ...env,
      PROVER_RPC_URL: " http://a:8545 , https://b.example/rpc",
      PROVER_RPC_TIMEOUT_MS: "2000",
      PROVER_RPC_ATTEMPTS: "3",
    });
    expect([rpc.rpcUrl, rpc.rpcRetry]).to.deep.equal(["http://a:8545,https://b.example/rpc", { timeoutMs: 2000, attempts: 3 }]);
    expect(() => configFromEnv({ ...env, PROVER_RPC_URL: "http://a:8545,ws://b:8546" })).to.throw(
      /^PROVER_RPC_URL: "ws:\/\/b:8546" is not an http\(s\):\/\/ URL; give one or more, comma-separated$/,
    );
    expect(() => configFromEnv({ ...env, PROVER_RPC_ATTEMPTS: "0" })).to.throw(/^PROVER_RPC_ATTEMPTS must be an integer >= 1, got "0"/);
  });
});
