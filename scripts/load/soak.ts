/**
 * Soak test of the prover network (issue 19, part 5; not part of `npm test`): a local `hardhat node` with the market
 * and iris published, SOAK_NODES (3) prover nodes each as its own process (`scripts/prover/main.ts`) behind a loopback
 * RPC proxy that injects faults (scripts/chain/fault-proxy.ts), SOAK_JOBS (1,000) jobs opened at a steady rate over
 * SOAK_MINUTES (20), a random node SIGKILLed every SOAK_KILL_EVERY_S (180) seconds and restarted 5 s later, a fault
 * burst every 30 s (429s, resets, timeouts, 500s, lost broadcast answers). When the opening ends it waits for the
 * jobs to settle; a job not fulfilled by its deadline is reclaimed by its requester. Checks: every job fulfilled
 * exactly once or reclaimed after its deadline; the contract's balance equals what it owes (escrow conserved); no
 * node's memory grows beyond SOAK_MAX_GROWTH_MIB (256) between its first and last 3 minutes of samples. Writes
 * bench/SOAK.md and bench/soak.json: throughput, latency p50/p95 (JobOpened to JobFulfilled, chain time), peak memory
 * (RSS) per node, kills, faults, retries.
 *   npm run soak            (SOAK_MINUTES=2 SOAK_JOBS=60 SOAK_KILL_EVERY_S=40 for a short run)
 */
import { type ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { type ProxyMode, startRpcProxy } from "../chain/fault-proxy";
import { ROOT, ensureDir, writeFileAtomic } from "../lib/paths";
import { runMain } from "../lib/main";
import { quantile } from "../prover/metrics";
import { type Market, devKey, escrowBooks, startMarket } from "../../test/prover/fixture";

const env = (k: string, d: number): number => {
  const v = process.env[k];
  if (v === undefined || v === "") return d;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${k} must be a positive number, got "${v}"`);
  return n;
};

interface NodeProc {
  name: string;
  account: number;
  proc?: ChildProcess;
  starts: number;
  kills: number;
  rss: { t: number; mib: number }[];
  exitCodes: (number | null)[];
  lastLines: string[];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function rssMiB(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  const minutes = env("SOAK_MINUTES", 20);
  const jobsN = Math.round(env("SOAK_JOBS", 1000));
  const nodesN = Math.round(env("SOAK_NODES", 3));
  const killEveryS = env("SOAK_KILL_EVERY_S", 180);
  const maxGrowthMiB = env("SOAK_MAX_GROWTH_MIB", 256);
  const deadlineS = env("SOAK_DEADLINE_S", 900);
  const t0 = Date.now();
  const m: Market = await startMarket({ leaseDuration: 120 });
  const proxy = await startRpcProxy(m.chain.url);
  const nodes: NodeProc[] = Array.from({ length: nodesN }, (_, i) => ({
    name: `soak${i + 1}`,
    account: 3 + i,
    starts: 0,
    kills: 0,
    rss: [],
    exitCodes: [],
    lastLines: [],
  }));
  const launch = (n: NodeProc): void => {
    n.starts++;
    const proc = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", path.join(ROOT, "scripts", "prover", "main.ts")], {
      cwd: ROOT,
      env: {
        ...process.env,
        ZKML_QUIET: "1",
        PROVER_RPC_URL: proxy.url,
        PROVER_PRIVATE_KEY: devKey(n.account),
        PROVER_JOBS_ADDRESS: m.jobsAddress,
        PROVER_STATE_DIR: m.stateDir(n.name),
        PROVER_NAME: n.name,
        PROVER_SERVE: "all",
        PROVER_POLL_MS: "300",
        PROVER_METRICS_MS: "60000",
        PROVER_RPC_TIMEOUT_MS: "3000",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    n.proc = proc;
    const keep = (d: Buffer): void => {
      n.lastLines.push(...d.toString().split("\n").filter(Boolean));
      if (n.lastLines.length > 50) n.lastLines.splice(0, n.lastLines.length - 50);
    };
    proc.stdout?.on("data", keep);
    proc.stderr?.on("data", keep);
    proc.once("exit", (code) => n.exitCodes.push(code));
  };
  nodes.forEach(launch);

  // memory samples, kills, fault bursts
  let running = true;
  const sampler = (async () => {
    while (running) {
      for (const n of nodes) {
        const mib = rssMiB(n.proc?.pid);
        if (mib !== undefined && n.proc?.exitCode === null) n.rss.push({ t: Date.now(), mib });
      }
      await sleep(5_000);
    }
  })();
  const faults: Record<string, number> = {};
  const chaos = (async () => {
    let lastKill = Date.now();
    const bursts: [ProxyMode, number, string?][] = [
      ["429", 10],
      ["reset", 10],
      ["hang", 2],
      ["500", 6],
      ["lose", 2, "eth_sendRawTransaction"],
    ];
    let k = 0;
    while (running) {
      await sleep(30_000);
      if (!running) break;
      const [mode, count, method] = bursts[k++ % bursts.length];
      proxy.set(mode, count, method);
      faults[mode] = (faults[mode] ?? 0) + count;
      if (Date.now() - lastKill >= killEveryS * 1000) {
        lastKill = Date.now();
        const n = nodes[Math.floor(Math.random() * nodes.length)];
        n.proc?.kill("SIGKILL");
        n.kills++;
        console.log(`soak: SIGKILL ${n.name} at ${((Date.now() - t0) / 1000).toFixed(0)} s`);
        await sleep(5_000);
        launch(n);
      }
    }
  })();

  // the jobs, at a steady rate
  const ids: bigint[] = [];
  const every = (minutes * 60_000) / jobsN;
  const openStart = Date.now();
  for (let i = 0; i < jobsN; i++) {
    const due = openStart + i * every;
    if (Date.now() < due) await sleep(due - Date.now());
    const { jobId } = await m.open({ deadlineIn: deadlineS });
    ids.push(jobId);
    if ((i + 1) % 100 === 0) console.log(`soak: ${i + 1} jobs opened at ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }
  const openEnd = Date.now();

  // settle: until every job is fulfilled, or its deadline passed (then reclaimed by the requester)
  const settleBy = Date.now() + (deadlineS + 120) * 1000;
  for (;;) {
    let open = 0;
    for (const id of ids) if (!(await m.sys.jobs.resultOf(id))[0]) open++;
    if (open === 0 || Date.now() > settleBy) break;
    await sleep(5_000);
  }
  running = false;
  await Promise.all([sampler, chaos]);
  proxy.set("pass");
  let reclaimed = 0;
  const now = (await m.provider.getBlock("latest"))!.timestamp;
  for (const id of ids) {
    const j = await m.sys.jobs.getJob(id);
    if (Number(j.status) !== 3 && now > Number(j.deadline)) {
      await (await m.sys.jobs.connect(m.requester).reclaim(id)).wait();
      reclaimed++;
    }
  }
  for (const n of nodes) {
    n.proc?.kill("SIGTERM");
  }
  await sleep(3_000);

  // checks and figures
  const fulfilled = await m.sys.jobs.queryFilter(m.sys.jobs.filters.JobFulfilled());
  const byJob = new Map<string, number>();
  for (const e of fulfilled) byJob.set(e.args.jobId.toString(), (byJob.get(e.args.jobId.toString()) ?? 0) + 1);
  const twice = [...byJob].filter(([, c]) => c > 1).map(([id]) => id);
  const opened = await m.sys.jobs.queryFilter(m.sys.jobs.filters.JobOpened());
  const openedAt = new Map<string, number>();
  const blockTime = new Map<number, number>();
  const timeOf = async (b: number): Promise<number> => {
    if (!blockTime.has(b)) blockTime.set(b, (await m.provider.getBlock(b))!.timestamp);
    return blockTime.get(b)!;
  };
  for (const e of opened) openedAt.set(e.args.jobId.toString(), await timeOf(e.blockNumber));
  const lat: number[] = [];
  for (const e of fulfilled) lat.push((await timeOf(e.blockNumber)) - (openedAt.get(e.args.jobId.toString()) ?? 0));
  const unsettled = ids.filter((id) => !byJob.has(id.toString())).length - reclaimed;
  const accounts = [m.requester.address, ...nodes.map((n) => m.wallet(n.account).address)];
  const books = await escrowBooks(m, accounts);
  const perNode = nodes.map((n) => {
    const first = n.rss.filter((s) => s.t - n.rss[0].t < 180_000);
    const last = n.rss.filter((s) => n.rss[n.rss.length - 1].t - s.t < 180_000);
    const avg = (xs: { mib: number }[]): number => xs.reduce((a, s) => a + s.mib, 0) / Math.max(1, xs.length);
    const served = fulfilled.filter((e) => e.args.prover === m.wallet(n.account).address).length;
    return {
      name: n.name,
      served,
      starts: n.starts,
      kills: n.kills,
      peakRssMiB: Math.round(Math.max(0, ...n.rss.map((s) => s.mib))),
      firstRssMiB: Math.round(avg(first)),
      lastRssMiB: Math.round(avg(last)),
      growthMiB: Math.round(avg(last) - avg(first)),
    };
  });
  const wall = (Date.now() - openStart) / 1000;
  const result = {
    measuredAt: new Date().toISOString(),
    config: { minutes, jobs: jobsN, nodes: nodesN, killEveryS, deadlineS, maxGrowthMiB, leaseDuration: 120 },
    openingSeconds: (openEnd - openStart) / 1000,
    wallSeconds: wall,
    fulfilled: byJob.size,
    fulfilledTwice: twice.length,
    reclaimed,
    unsettled,
    throughputPerMinute: (byJob.size / wall) * 60,
    latencySeconds: { p50: quantile(lat, 0.5), p95: quantile(lat, 0.95), max: Math.max(0, ...lat) },
    escrow: { balance: books.balance.toString(), owed: books.owed.toString(), conserved: books.balance === books.owed },
    faults,
    proxySeen: { ...proxy.seen },
    nodes: perNode,
  };
  const failures: string[] = [];
  if (twice.length) failures.push(`jobs fulfilled twice: ${twice.join(", ")}`);
  if (unsettled) failures.push(`${unsettled} jobs neither fulfilled nor reclaimed`);
  if (!result.escrow.conserved) failures.push(`escrow not conserved: balance ${books.balance}, owed ${books.owed}`);
  for (const n of perNode) if (n.growthMiB > maxGrowthMiB) failures.push(`${n.name} memory grew ${n.growthMiB} MiB > ${maxGrowthMiB}`);
  const out = path.join(ROOT, "bench");
  ensureDir(out);
  writeFileAtomic(path.join(out, "soak.json"), JSON.stringify({ ...result, failures }, null, 1) + "\n");
  const md = [
    "# Soak test of the prover network",
    "",
    `Measured by \`npx hardhat run scripts/load/soak.ts\` on ${result.measuredAt} (2 cores). A local \`hardhat node\`, iris-mlp ` +
      `published as a bundle, ${nodesN} prover nodes (each its own process, \`scripts/prover/main.ts\`) behind one loopback ` +
      `RPC proxy (scripts/chain/fault-proxy.ts), ${jobsN} jobs opened at a steady rate over ${minutes} min (lease 120 s, ` +
      `deadline ${deadlineS} s), a random node SIGKILLed every ${killEveryS} s and restarted 5 s later, a fault burst every ` +
      `30 s (in turn: 10 HTTP 429, 10 connection resets, 2 timeouts, 6 HTTP 500, 2 lost eth_sendRawTransaction answers).`,
    "",
    "| figure | value |",
    "|---|---|",
    `| jobs fulfilled | ${byJob.size} of ${jobsN} (fulfilled twice: ${twice.length}) |`,
    `| reclaimed after the deadline | ${reclaimed} |`,
    `| neither | ${unsettled} |`,
    `| escrow conserved (balance = open escrows + accounts + burned) | ${result.escrow.conserved ? "yes" : "NO"} |`,
    `| throughput | ${result.throughputPerMinute.toFixed(1)} jobs/min over ${(wall / 60).toFixed(1)} min |`,
    `| latency JobOpened -> JobFulfilled (chain time) | p50 ${result.latencySeconds.p50} s, p95 ${result.latencySeconds.p95} s, max ${result.latencySeconds.max} s |`,
    `| faults injected | ${Object.entries(faults)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ")} |`,
    "",
    "| node | jobs served | starts | SIGKILLs | peak RSS | RSS first 3 min | RSS last 3 min | growth (bound " + maxGrowthMiB + " MiB) |",
    "|---|---:|---:|---:|---:|---:|---:|---:|",
    ...perNode.map(
      (n) =>
        `| ${n.name} | ${n.served} | ${n.starts} | ${n.kills} | ${n.peakRssMiB} MiB | ${n.firstRssMiB} MiB | ${n.lastRssMiB} MiB | ${n.growthMiB} MiB |`,
    ),
    "",
    failures.length ? `**Failed:** ${failures.join("; ")}.` : "Every check passed.",
    "",
  ].join("\n");
  writeFileAtomic(path.join(out, "SOAK.md"), md);
  console.log(md);
  await proxy.close();
  await m.stop();
  if (failures.length) throw new Error(`soak failed: ${failures.join("; ")}`);
}

runMain(main);
