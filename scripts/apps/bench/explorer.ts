/**
 * The explorer's benchmark (issue 35; docs/operators.md, "Explorer"): on a local `hardhat node`,
 * 1. a generated history of BENCH_EXPLORER_JOBS (default 10,000) jobs (scripts/apps/bench/explorer-history.ts: several
 *    models, requesters and provers; fulfilled alone or in batches, reclaimed, claims expired, optimistic), spread over
 *    hours of chain time; target: generated in <= 5 min;
 * 2. the indexer (explorer/indexer, embedded PGlite in a temporary folder) started from scratch on it: first-sync time
 *    and jobs/s;
 * 3. the latency of every API endpoint the app uses, with the whole history indexed (p50/p95 of sequential requests);
 * 4. keep-up: 200 jobs/min (each opened, claimed and fulfilled, in 3 s blocks) for BENCH_EXPLORER_KEEPUP_S (default
 *    180) seconds against the live indexer: the lag from each fulfilment's block being mined to the job showing as
 *    fulfilled on /api/jobs/:id; target: it keeps up (every job seen, no growing backlog: max lag < 5 s);
 * 5. in a real browser (Debian's chromium, playwright-core), when the web app is built: first paint of the models page
 *    <= 1 s and a job page updated <= 1 s after the chain event (scripts/apps/bench/explorer-browser.ts).
 * Prints every figure with met / missed, one line `BENCH_EXPLORER {json}`, writes `explorer` into bench/results.json
 * and re-renders bench/REPORT.md. Nothing is cached: the chain, the bundles and the database live in a temporary
 * folder removed at the end. Waits while /tmp/bench-running exists (another benchmark on the machine), holds it while
 * running. Run: npm run bench:explorer.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ROOT, writeFileAtomic } from "../../util/paths";
import { startHardhatNode, type LocalNode } from "../../chain/local-node";
import { startIndexer, type RunningIndexer } from "../explorer/indexer";
import { deployHistoryMarket, generateHistory, rpc } from "./explorer-history";
import { type BenchResults, type ExplorerBench, type Quantiles, EXPLORER_TARGETS, explorerVerdicts, renderReport } from "./report";
import { measureBrowser } from "./explorer-browser";

const JOBS = Number(process.env.BENCH_EXPLORER_JOBS ?? "10000");
const KEEPUP_S = Number(process.env.BENCH_EXPLORER_KEEPUP_S ?? "180");
const LOCK = "/tmp/bench-running";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** p50 / p95 / max of `xs` (nearest rank), rounded to 0.1 ms. */
export function quantiles(xs: readonly number[]): Quantiles {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))] ?? 0;
  const r = (v: number) => Math.round(v * 10) / 10;
  return { n: s.length, p50: r(q(0.5)), p95: r(q(0.95)), max: r(s[s.length - 1] ?? 0) };
}

async function acquireLock(): Promise<void> {
  let said = false;
  while (fs.existsSync(LOCK)) {
    if (!said) console.log(`waiting: ${LOCK} exists (another benchmark is running)`);
    said = true;
    await sleep(5000);
  }
  fs.writeFileSync(LOCK, `bench:explorer pid ${process.pid}\n`);
  process.on("exit", () => {
    try {
      if (fs.readFileSync(LOCK, "utf8").includes(`pid ${process.pid}`)) fs.rmSync(LOCK);
    } catch {
      // already gone
    }
  });
}

/** p50/p95 of `n` sequential GETs of each path (after one warm-up request each). */
async function apiLatency(base: string, paths: Record<string, () => string>, n: number): Promise<Record<string, Quantiles>> {
  const out: Record<string, Quantiles> = {};
  for (const [name, p] of Object.entries(paths)) {
    await (await fetch(base + p())).arrayBuffer();
    const ms: number[] = [];
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      const res = await fetch(base + p());
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`${p()} answered ${res.status}`);
      ms.push(performance.now() - t);
    }
    out[name] = quantiles(ms);
  }
  return out;
}

async function main(): Promise<void> {
  await acquireLock();
  const started = performance.now();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "zkml-bench-explorer-"));
  let chain: LocalNode | undefined;
  let indexer: RunningIndexer | undefined;
  try {
    chain = await startHardhatNode();
    const url = chain.url;
    console.log(`hardhat node on ${url}; temporary folder ${tmp}`);
    fs.mkdirSync(path.join(tmp, "bundles"));
    const d = await deployHistoryMarket(url, path.join(tmp, "bundles"));
    console.log(`market ${d.jobsAddress}; models ${d.models.map((m) => `${m.name} #${m.modelId}`).join(", ")}`);

    // 1. the history
    const history = await generateHistory(url, d, { jobs: JOBS, blockSeconds: 20, perBlock: 19, log: (l) => console.log(`history: ${l}`) });
    console.log(
      `history: ${history.jobs} jobs, ${history.transactions} transactions in ${history.blocks} blocks over ${(history.spanSeconds / 3600).toFixed(1)} h of chain time, generated in ${history.seconds.toFixed(0)} s`,
    );
    console.log(`history: fates ${JSON.stringify(history.fates)}`);

    // 2. first sync
    const head = Number(await rpc(url, "eth_blockNumber"));
    const t0 = performance.now();
    indexer = await startIndexer({ rpcUrl: url, chainId: 31337, jobs: d.jobsAddress, dbDir: path.join(tmp, "db"), readyTimeoutMs: 900_000 });
    await indexer.waitForBlock(head, 900_000);
    const syncSeconds = (performance.now() - t0) / 1000;
    const base = indexer.url;
    const status = (await (await fetch(`${base}/api/network?minutes=60`)).json()) as { totals: { jobs: number; fulfilled: number } };
    if (status.totals.jobs !== history.jobs) throw new Error(`the indexer has ${status.totals.jobs} jobs, the history ${history.jobs}`);
    console.log(`first sync: ${history.jobs} jobs (${history.transactions} transactions) to block ${head} in ${syncSeconds.toFixed(1)} s: ${(history.jobs / syncSeconds).toFixed(0)} jobs/s`);

    // 3. API latency with the history indexed
    let k = 0;
    const jobIds = Array.from({ length: 64 }, (_, i) => 1 + Math.floor(((i * 7919) % 997) * (history.jobs / 997)));
    const modelIds = d.models.map((m) => m.modelId.toString());
    const api = await apiLatency(
      base,
      {
        "/api/status": () => "/api/status",
        "/api/models": () => "/api/models",
        "/api/models/:id": () => `/api/models/${modelIds[k++ % modelIds.length]}`,
        "/api/jobs": () => "/api/jobs?limit=50",
        "/api/jobs/:id": () => `/api/jobs/${jobIds[k++ % jobIds.length]}`,
        "/api/provers": () => "/api/provers",
        "/api/network": () => "/api/network?minutes=180",
      },
      40,
    );
    for (const [p, q] of Object.entries(api)) console.log(`api: ${p.padEnd(16)} p50 ${q.p50} ms, p95 ${q.p95} ms`);

    // 5. (before the keep-up drive, on the 10k history) the browser
    const browser = await measureBrowser({ apiUrl: base, chainUrl: url, deployment: d, log: (l) => console.log(`browser: ${l}`) });

    // 4. keep-up: 200 jobs/min for KEEPUP_S seconds
    const lags: number[] = [];
    const pending: Promise<void>[] = [];
    let unseen = 0;
    const watch = async (jobIds: bigint[], minedAt: number) => {
      const left = new Set(jobIds);
      const end = minedAt + 60_000;
      while (left.size && performance.now() < end) {
        // the jobs of one block are indexed together: poll one until it is fulfilled, then check the others
        const first = [...left][0];
        const r = await fetch(`${base}/api/jobs/${first}`);
        const body = r.status === 200 ? ((await r.json()) as { job: { status: string } }) : null;
        if (body?.job.status === "fulfilled") {
          const seen = performance.now();
          for (const j of left) {
            const b = (await (await fetch(`${base}/api/jobs/${j}`)).json()) as { job?: { status: string } };
            if (b.job?.status === "fulfilled") {
              lags.push((j === first ? seen : performance.now()) - minedAt);
              left.delete(j);
            }
          }
        } else await sleep(25);
      }
      unseen += left.size;
    };
    const perMinute = 200;
    const blockSeconds = 3;
    const keepJobs = Math.round((perMinute * KEEPUP_S) / 60);
    console.log(`keep-up: ${perMinute} jobs/min (${(perMinute * blockSeconds) / 60} per ${blockSeconds} s block) for ${KEEPUP_S} s: ${keepJobs} jobs`);
    const drive = await generateHistory(url, d, {
      jobs: keepJobs,
      blockSeconds,
      perBlock: (perMinute * blockSeconds) / 60,
      mix: false,
      realtime: true,
      onMined: (_b, minedAt, fulfilled) => {
        if (fulfilled.length) pending.push(watch(fulfilled, minedAt));
      },
    });
    await Promise.all(pending);
    const lag = quantiles(lags);
    const keptUp = unseen === 0 && lags.length === keepJobs && lag.max < EXPLORER_TARGETS.keepUpMaxLagMs;
    console.log(
      `keep-up: ${lags.length} of ${keepJobs} jobs seen fulfilled in ${drive.seconds.toFixed(0)} s (${drive.transactions} transactions); lag block mined -> /api/jobs/:id fulfilled p50 ${lag.p50} ms, p95 ${lag.p95} ms, max ${lag.max} ms`,
    );

    const result: ExplorerBench = {
      measuredAt: new Date().toISOString(),
      command: "npm run bench:explorer",
      cores: os.cpus().length,
      totalSeconds: Math.round((performance.now() - started) / 1000),
      history: {
        jobs: history.jobs,
        transactions: history.transactions,
        blocks: history.blocks,
        spanHours: Math.round((history.spanSeconds / 3600) * 10) / 10,
        fates: history.fates,
        models: d.models.map((m) => m.name),
        seconds: Math.round(history.seconds),
      },
      firstSync: { seconds: Math.round(syncSeconds * 10) / 10, jobsPerSecond: Math.round(history.jobs / syncSeconds), blocks: head },
      api,
      keepUp: { jobsPerMinute: perMinute, seconds: KEEPUP_S, blockSeconds, jobs: keepJobs, seen: lags.length, lagMs: lag, keptUp },
      browser,
    };
    const verdicts = explorerVerdicts(result);
    for (const v of verdicts) console.log(`${v.met ? "met   " : "MISSED"}  ${v.target}: ${v.figure}`);
    console.log(`BENCH_EXPLORER ${JSON.stringify(result)}`);
    const file = path.join(ROOT, "bench", "results.json");
    const results = JSON.parse(fs.readFileSync(file, "utf8")) as BenchResults;
    results.explorer = result;
    writeFileAtomic(file, JSON.stringify(results, null, 2) + "\n");
    writeFileAtomic(path.join(ROOT, "bench", "REPORT.md"), renderReport(results));
    console.log(`bench/results.json (explorer) and bench/REPORT.md written; ${result.totalSeconds} s in all`);
    if (verdicts.some((v) => !v.met)) process.exitCode = 1;
  } finally {
    await indexer?.stop();
    await chain?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main()
  .catch((e: unknown) => {
    console.error(`error: ${e instanceof Error ? (process.env.ZKML_DEBUG === "1" ? e.stack : e.message) : String(e)}`);
    process.exitCode = 1;
  })
  .finally(() => process.exit());
