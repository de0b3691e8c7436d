/**
 * Soak test of the prover network (issue 19, part 5; not part of `npm test`): a local `hardhat node` with the market
 * and iris published, SOAK_NODES (3) prover nodes each as its own process (`scripts/apps/prover/main.ts`) behind a loopback
 * RPC proxy that injects faults (scripts/chain/fault-proxy.ts), SOAK_JOBS (1,000) jobs opened at a steady rate over
 * SOAK_MINUTES (20), a random node SIGKILLed every SOAK_KILL_EVERY_S (180) seconds and restarted 5 s later, a fault
 * burst every 30 s (429s, resets, timeouts, 500s, lost broadcast answers). When the opening ends it waits for the
 * jobs to settle; a job not fulfilled by its deadline is reclaimed by its requester. Checks: every job fulfilled
 * exactly once or reclaimed after its deadline; the contract's balance equals what it owes (escrow conserved); no
 * node's memory grows beyond SOAK_MAX_GROWTH_MIB (256) between the first and last 3 minutes of samples of one process
 * (its longest-lived start: a restart resets the memory). Writes
 * bench/SOAK.md and bench/soak.json: throughput, latency p50/p95 (JobOpened to JobFulfilled, chain time), peak memory
 * (RSS) per node, kills, faults, retries.
 *
 * The open network (issue 28 point 6): a publisher's IPFS node (`npm run ipfs:serve`, its own process) holds the
 * bundles of SOAK_LARGE_MODEL (mnist-lenet5, a 470 MB bundle; "none": no open-network scenario) and temp-forecast;
 * every node has it as its only IPFS peer (PROVER_IPFS_PEERS) and it is SIGKILLed every SOAK_PUBLISHER_RESTART_S
 * (240) seconds and restarted 5 s later on the same address, so every node loses its peer again and again. The large
 * model is registered a quarter into the opening and temp-forecast at 60%, each after at least one publisher restart
 * (the field failure of issue 28: a model published after the peer was lost was never fetched); SOAK_LARGE_JOBS (20)
 * and SOAK_SMALL_JOBS (30) jobs are opened on them, spread over the rest of the opening. Checks also: every job on
 * them fulfilled once with the reference output, or reclaimed; no process restarted except by the harness.
 *
 * Subscriptions (issue 33; ./soak-subscriptions.ts): an InferenceSubscriptions beside the market and
 * SOAK_SUBSCRIPTIONS (4) consumers on temp-forecast, half paid in ETH, half in an ERC-20 token, one run every
 * SOAK_SUB_INTERVAL_S (60) seconds to the end of the opening; the nodes open the due runs and serve them through the
 * same faults, and every SOAK_TOKEN_JOB_EVERY-th (4th) iris job pays its fee in the token. Checks also every run
 * opened exactly once (at most SOAK_MAX_UNOPENED_RUNS, 0, skipped or missed, their refunds accounted), fulfilled and
 * delivered to its consumer once with its run index and the reference value, the books of the market and the
 * subscriptions contract in ETH and in the token, and no node sending two openings of a run or two submissions of
 * a job. SOAK_SUBSCRIPTIONS=0 leaves them out. SOAK_LOG_DIR: every node's log lines also go to <dir>/<node>.log. The figures go to bench/SOAK.md and to bench/REPORT.md's section
 * "Soak: subscriptions served by the prover nodes" (through bench/results.json).
 *   npm run soak            (SOAK_MINUTES=2 SOAK_JOBS=60 SOAK_KILL_EVERY_S=40 SOAK_LARGE_MODEL=none: a short run)
 * Size (about 650 lines), kept in one file: one scenario whose setup, load, faults, checks and report share the
 * run's state and read in the order the run goes (the subscriptions' own setup and checks are in
 * ./soak-subscriptions.ts).
 */
import { type ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import hre from "hardhat";
import { type ProxyMode, startRpcProxy } from "../../chain/fault-proxy";
import { deployGroth16Verifier, registerModel } from "../../chain/system";
import { startIpfsNode } from "../../engine/ipfs";
import { ROOT, ensureDir, writeFileAtomic } from "../../util/paths";
import { runMain } from "../main";
import { type BuiltModel, buildModel } from "../../pipelines/build";
import { writeBundle } from "../../formats/bundle-files";
import { layoutOf } from "../../formats/model-layout";
import { quantile } from "../prover/metrics";
import { bundleSources, modelCard } from "../../pipelines/bundle-sources";
import { type Market, devKey, escrowBooks, startMarket } from "./market";
import { SoakSubscriptions } from "./soak-subscriptions";
import { type BenchResults, renderReport, subscriptionsMarkdown } from "../bench/report";

const env = (k: string, d: number, zero = false): number => {
  const v = process.env[k];
  if (v === undefined || v === "") return d;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || (n === 0 && !zero))
    throw new Error(`${k} must be a ${zero ? "non-negative" : "positive"} number, got "${v}"`);
  return n;
};

/** A model published on the publisher's IPFS node and registered during the soak. */
interface OpenModel {
  built: BuiltModel;
  cid: string;
  bytes: number;
  jobs: number;
  /** Share of the opening after which it is registered. */
  at: number;
  modelId?: bigint;
  registeredAt?: number;
  opened: { jobId: bigint; expected: bigint }[];
}

/** Event names counted in the nodes' JSON logs. */
const COUNTED = [
  "bundle_unavailable",
  "job_retry",
  "bundle_refused",
  "bundle_check",
  "bundle_fetch_progress",
  "run_opened",
  "run_open_lost",
] as const;

interface NodeProc {
  name: string;
  account: number;
  proc?: ChildProcess;
  starts: number;
  kills: number;
  /** RSS samples, each with the process start it belongs to (`starts` when it was taken). */
  rss: { t: number; mib: number; start: number }[];
  exitCodes: (number | null)[];
  lastLines: string[];
  events: Record<string, number>;
  startedAt: number;
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
  const largeName = process.env.SOAK_LARGE_MODEL ?? "mnist-lenet5";
  const openNetwork = largeName !== "none";
  const largeJobs = Math.round(env("SOAK_LARGE_JOBS", 20));
  const smallJobs = Math.round(env("SOAK_SMALL_JOBS", 30));
  const publisherRestartS = env("SOAK_PUBLISHER_RESTART_S", 240);
  const subscriptionsN = Math.round(env("SOAK_SUBSCRIPTIONS", 4, true));
  const subIntervalS = env("SOAK_SUB_INTERVAL_S", 60);
  const tokenJobEvery = Math.round(env("SOAK_TOKEN_JOB_EVERY", 4, true));
  const maxUnopened = Math.round(env("SOAK_MAX_UNOPENED_RUNS", 0, true));
  const openingMs = minutes * 60_000;
  const logDir = process.env.SOAK_LOG_DIR ? ensureDir(path.resolve(process.env.SOAK_LOG_DIR)) : undefined;
  const t0 = Date.now();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "zkml-soak-"));

  // the open network's models: built (and their verifiers compiled), their bundles added to the publisher's blockstore
  // before its server starts (one process holds a blockstore)
  const pubDir = path.join(tmp, "publisher-ipfs");
  const openModels: OpenModel[] = [];
  if (openNetwork) {
    const seed = await startIpfsNode({ dir: pubDir, listen: [] });
    try {
      for (const [name, jobs, at] of [
        [largeName, largeJobs, 0.25],
        ["temp-forecast", smallJobs, 0.6],
      ] as const) {
        const built = await buildModel(name, { quantize: false });
        const { files } = writeBundle(bundleSources(built, await modelCard(name, "MIT")), path.join(tmp, `${name}-bundle`));
        const cid = await seed.addDirectory(files);
        const bytes = [...files.values()].reduce((a, f) => a + f.length, 0);
        openModels.push({ built, cid, bytes, jobs, at, opened: [] });
        console.log(`soak: ${name} bundle ${(bytes / 2 ** 20).toFixed(0)} MiB added as ipfs://${cid}`);
      }
    } finally {
      await seed.stop(); // a model that fails to build must not leave the IPFS node holding the process open
    }
    await hre.run("compile", { quiet: true });
  }
  const m: Market = await startMarket({ leaseDuration: 120 });
  const proxy = await startRpcProxy(m.chain.url);
  // the subscriptions, their consumers' owner an account of its own (19: never a node's, never the requester)
  const subscriptions = subscriptionsN
    ? await SoakSubscriptions.setup(
        m,
        { count: subscriptionsN, intervalS: subIntervalS, openingMs, runDeadlineS: deadlineS, maxUnopened },
        m.wallet(19),
      )
    : undefined;

  // the publisher: `npm run ipfs:serve` as its own process, restarted on the same address
  const publisherKillTimes: number[] = [];
  const publisher = { proc: undefined as ChildProcess | undefined, addr: "", starts: 0, kills: 0 };
  const startPublisher = async (): Promise<void> => {
    const port = publisher.addr ? /\/tcp\/(\d+)\//.exec(publisher.addr)![1] : "0";
    const proc = spawn(
      process.execPath,
      ["-r", "ts-node/register/transpile-only", path.join(ROOT, "scripts", "apps", "cli", "ipfs-serve.ts")],
      {
        cwd: ROOT,
        env: { ...process.env, IPFS_DIR: pubDir, IPFS_LISTEN: `/ip4/127.0.0.1/tcp/${port}` },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    publisher.proc = proc;
    children.add(proc);
    publisher.starts++;
    const addr = await new Promise<string>((resolve, reject) => {
      let out = "";
      proc.stdout?.on("data", (d: Buffer) => {
        out += d.toString();
        const a = /PROVER_IPFS_PEERS=(\S+)/.exec(out);
        if (a) resolve(a[1]);
      });
      proc.stderr?.on("data", (d: Buffer) => (out += d.toString()));
      proc.once("exit", (code) => reject(new Error(`ipfs:serve exited (${code}) before it was online: ${out.slice(-500)}`)));
    });
    if (publisher.addr && addr !== publisher.addr) throw new Error(`the publisher came back as ${addr}, not ${publisher.addr}`);
    publisher.addr = addr;
  };
  let running = true;
  const children = new Set<ChildProcess>(); // every process started, for the harness's own failure
  try {
    if (openNetwork) await startPublisher();

    const nodes: NodeProc[] = Array.from({ length: nodesN }, (_, i) => ({
      name: `soak${i + 1}`,
      account: 3 + i,
      starts: 0,
      kills: 0,
      rss: [],
      exitCodes: [],
      lastLines: [],
      events: {},
      startedAt: 0,
    }));
    let stopping = false;
    const launch = (n: NodeProc): void => {
      n.starts++;
      n.startedAt = Date.now();
      const proc = spawn(
        process.execPath,
        ["-r", "ts-node/register/transpile-only", path.join(ROOT, "scripts", "apps", "prover", "main.ts")],
        {
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
            ...(subscriptions?.nodeEnv() ?? {}),
            ...(openNetwork
              ? { PROVER_IPFS_PEERS: publisher.addr, PROVER_BUNDLE_RETRY_MS: "15000", PROVER_BUNDLE_TIMEOUT_MS: "30000" }
              : {}),
          },
          stdio: ["ignore", "pipe", "pipe"],
        },
      );
      n.proc = proc;
      children.add(proc);
      // whole lines only (a chunk may end inside one); with SOAK_LOG_DIR, every line also goes to <dir>/<node>.log
      const keeper = (): ((d: Buffer) => void) => {
        let partial = "";
        return (d) => {
          const parts = (partial + d.toString()).split("\n");
          partial = parts.pop() ?? "";
          const lines = parts.filter(Boolean);
          if (logDir && lines.length) fs.appendFileSync(path.join(logDir, `${n.name}.log`), lines.join("\n") + "\n");
          for (const l of lines) {
            const e = /"event":"(\w+)"/.exec(l)?.[1];
            if (e && (COUNTED as readonly string[]).includes(e)) n.events[e] = (n.events[e] ?? 0) + 1;
          }
          n.lastLines.push(...lines);
          if (n.lastLines.length > 50) n.lastLines.splice(0, n.lastLines.length - 50);
        };
      };
      proc.stdout?.on("data", keeper());
      proc.stderr?.on("data", keeper());
      // an exit that is neither the harness's SIGKILL nor the final SIGTERM: the node stopped by itself
      proc.once("exit", (code, signal) => {
        if (!stopping && signal !== "SIGKILL") n.exitCodes.push(code);
      });
    };
    nodes.forEach(launch);

    // memory samples, kills, fault bursts
    const sampler = (async () => {
      while (running) {
        for (const n of nodes) {
          const mib = rssMiB(n.proc?.pid);
          // a process in its first 30 s is still loading (its RSS says nothing of a leak); none is sampled once stopping
          if (mib !== undefined && n.proc?.exitCode === null && !stopping && Date.now() - n.startedAt >= 30_000)
            n.rss.push({ t: Date.now(), mib, start: n.starts });
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

    // when each job was first seen fulfilled (wall clock), for the memory windows
    const fulfilledAtWall = new Map<string, number>();
    const watcher = (async () => {
      while (running) {
        for (const om of openModels)
          for (const j of om.opened)
            if (!fulfilledAtWall.has(j.jobId.toString()) && (await m.sys.jobs.resultOf(j.jobId))[0])
              fulfilledAtWall.set(j.jobId.toString(), Date.now());
        await sleep(5_000);
      }
    })();
    const restarts = (async () => {
      if (!openNetwork) return;
      while (running) {
        const until = Date.now() + publisherRestartS * 1000;
        while (running && Date.now() < until) await sleep(1_000);
        if (!running) break;
        publisher.proc?.kill("SIGKILL");
        publisher.kills++;
        publisherKillTimes.push(Date.now());
        console.log(`soak: publisher SIGKILLed at ${((Date.now() - t0) / 1000).toFixed(0)} s`);
        await sleep(5_000);
        await startPublisher();
      }
    })();

    // the jobs, at a steady rate; the open network's models registered on their schedule, their jobs spread after it
    const ids: bigint[] = [];
    const openStart = Date.now();
    type Step = { due: number; run: () => Promise<void> };
    const steps: Step[] = [];
    let irisOpened = 0;
    let tokenJobs = 0;
    for (let i = 0; i < jobsN; i++)
      steps.push({
        due: (i * openingMs) / jobsN,
        run: async () => {
          // every tokenJobEvery-th job pays its fee in the subscriptions' token (2 tokens)
          const inToken = subscriptions && tokenJobEvery > 0 && i % tokenJobEvery === tokenJobEvery - 1;
          ids.push(
            (await m.open({ deadlineIn: deadlineS, ...(inToken ? { feeToken: subscriptions.tokenAddress, fee: 2n * 10n ** 18n } : {}) }))
              .jobId,
          );
          if (inToken) tokenJobs++;
          if (++irisOpened % 100 === 0) console.log(`soak: ${irisOpened} iris jobs opened at ${((Date.now() - t0) / 1000).toFixed(0)} s`);
        },
      });
    for (const om of openModels) {
      const at = om.at * openingMs;
      steps.push({
        due: at,
        run: async () => {
          // published after the publisher's node was lost at least once: the field failure of issue 28
          while (publisher.kills < 1) await sleep(1_000);
          const owner = m.wallet(1);
          const v = await deployGroth16Verifier(owner, await hre.artifacts.readArtifact(om.built.paths.verifierContract), m.sys.factory);
          const reg = {
            modelCommitment: om.built.modelCommitment,
            circuitHash: om.built.circuit.r1csHash,
            vkHash: om.built.keys.vkHash,
            uri: `ipfs://${om.cid}`,
          };
          om.modelId = (await registerModel(m.sys.registry, owner, reg, await v.adapter.getAddress(), layoutOf(om.built.model))).modelId;
          om.registeredAt = Date.now();
          console.log(`soak: ${om.built.model.name} registered as model ${om.modelId} at ${((Date.now() - t0) / 1000).toFixed(0)} s`);
        },
      });
      for (let k = 0; k < om.jobs; k++)
        steps.push({
          due: at + 1 + (k * (openingMs - at)) / om.jobs,
          run: async () => {
            const j = await m.open({ model: om.built, modelId: om.modelId, deadlineIn: deadlineS });
            om.opened.push(j);
            ids.push(j.jobId);
          },
        });
    }
    // the subscriptions: created one after the other within the first interval; a new reading every half interval
    if (subscriptions) {
      steps.push(...subscriptions.creations());
      for (let at = (subIntervalS * 1000) / 2; at < openingMs; at += (subIntervalS * 1000) / 2)
        steps.push({ due: at, run: () => subscriptions.feed() });
    }
    steps.sort((a, b) => a.due - b.due);
    for (const st of steps) {
      const due = openStart + st.due;
      if (Date.now() < due) await sleep(due - Date.now());
      await st.run();
    }
    const openEnd = Date.now();

    // settle: until every job is fulfilled, or its deadline passed (then reclaimed by the requester)
    const settleBy = Date.now() + (deadlineS + 120) * 1000;
    for (;;) {
      let open = 0;
      for (const id of ids) {
        if (fulfilledAtWall.has(id.toString())) continue;
        if (!(await m.sys.jobs.resultOf(id))[0]) open++;
        else fulfilledAtWall.set(id.toString(), Date.now());
      }
      open += (await subscriptions?.openRunJobs())?.length ?? 0;
      if (open === 0 || Date.now() > settleBy) break;
      await sleep(5_000);
    }
    running = false;
    await Promise.all([sampler, chaos, restarts, watcher]);
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
    const runsReclaimed = (await subscriptions?.reclaimExpired()) ?? 0;
    stopping = true;
    for (const n of nodes) {
      n.proc?.kill("SIGTERM");
    }
    publisher.proc?.kill("SIGTERM");
    await sleep(3_000);

    // checks and figures
    const fulfilled = await m.sys.jobs.queryFilter(m.sys.jobs.filters.JobFulfilled());
    const byJob = new Map<string, number>();
    for (const e of fulfilled) byJob.set(e.args.jobId.toString(), (byJob.get(e.args.jobId.toString()) ?? 0) + 1);
    const twice = [...byJob].filter(([, c]) => c > 1).map(([id]) => id);
    // the ordinary jobs (the subscriptions' runs are jobs too: they have figures of their own below)
    const ordinary = new Set(ids.map(String));
    const fulfilledOrdinary = ids.filter((id) => byJob.has(id.toString())).length;
    const opened = await m.sys.jobs.queryFilter(m.sys.jobs.filters.JobOpened());
    const openedAt = new Map<string, number>();
    const blockTime = new Map<number, number>();
    const timeOf = async (b: number): Promise<number> => {
      if (!blockTime.has(b)) blockTime.set(b, (await m.provider.getBlock(b))!.timestamp);
      return blockTime.get(b)!;
    };
    for (const e of opened) openedAt.set(e.args.jobId.toString(), await timeOf(e.blockNumber));
    const lat: number[] = [];
    const latOf = new Map<string, number>();
    for (const e of fulfilled) {
      const l = (await timeOf(e.blockNumber)) - (openedAt.get(e.args.jobId.toString()) ?? 0);
      if (ordinary.has(e.args.jobId.toString())) lat.push(l);
      latOf.set(e.args.jobId.toString(), l);
    }
    // the open network's models: each job fulfilled with the reference output, or reclaimed
    const perModel = [];
    for (const om of openModels) {
      let right = 0;
      let wrong = 0;
      const l: number[] = [];
      for (const j of om.opened) {
        const [done, output] = await m.sys.jobs.resultOf(j.jobId);
        if (!done) continue;
        if (output === j.expected) right++;
        else wrong++;
        l.push(latOf.get(j.jobId.toString()) ?? 0);
      }
      perModel.push({
        name: om.built.model.name,
        bundleMiB: Math.round(om.bytes / 2 ** 20),
        constraints: om.built.circuit.constraints,
        registeredAtS: om.registeredAt ? Math.round((om.registeredAt - t0) / 1000) : undefined,
        publisherRestartsBefore: om.registeredAt ? publisherKillTimes.filter((t) => t < om.registeredAt!).length : 0,
        jobs: om.opened.length,
        fulfilled: right + wrong,
        wrong,
        latencySeconds: { p50: quantile(l, 0.5), p95: quantile(l, 0.95), max: Math.max(0, ...l) },
      });
    }
    const unsettled = ids.filter((id) => !byJob.has(id.toString())).length - reclaimed;
    const accounts = [m.requester.address, ...nodes.map((n) => m.wallet(n.account).address)];
    const books = await escrowBooks(m, accounts);
    const sub = await subscriptions?.check(
      nodes.map((n) => ({ name: n.name, address: m.wallet(n.account).address, racesLost: n.events.run_open_lost ?? 0 })),
      accounts,
    );
    // memory growth: a node's resting memory (the least RSS of a 3-minute window) in its first window against its last;
    // with the open network, the first window starts when the large model's first job is fulfilled (its proofs raise
    // the resting memory once; a leak keeps raising it)
    const largeFirst = openModels[0]?.opened
      .map((j) => fulfilledAtWall.get(j.jobId.toString()))
      .filter((t): t is number => t !== undefined);
    const memFrom = largeFirst?.length ? Math.min(...largeFirst) : 0;
    // Both windows come from one process: the node's longest-lived start after memFrom. A restart resets the memory, so
    // windows of two processes compare a fresh one with one that has loaded the large model (a restart in the first
    // window read as growth: soak1, 288 -> 591 MiB, in the run before this rule). A node with no process that lived two
    // windows after memFrom is not measured.
    const WINDOW = 180_000;
    const perNode = nodes.map((n) => {
      const after = n.rss.filter((s) => s.t >= memFrom);
      const spans = [...new Set(after.map((s) => s.start))].map((start) => after.filter((s) => s.start === start));
      const longest = spans.sort((a, b) => b[b.length - 1].t - b[0].t - (a[a.length - 1].t - a[0].t))[0] ?? [];
      const measured = longest.length > 0 && longest[longest.length - 1].t - longest[0].t >= 2 * WINDOW;
      const from = longest[0]?.t ?? 0;
      const to = longest[longest.length - 1]?.t ?? 0;
      const first = longest.filter((s) => s.t - from < WINDOW);
      const last = longest.filter((s) => to - s.t < WINDOW);
      const avg = (xs: { mib: number }[]): number => (xs.length ? Math.min(...xs.map((s) => s.mib)) : 0);
      const served = fulfilled.filter((e) => e.args.prover === m.wallet(n.account).address).length;
      return {
        name: n.name,
        served,
        starts: n.starts,
        kills: n.kills,
        peakRssMiB: Math.round(Math.max(0, ...n.rss.map((s) => s.mib))),
        firstRssMiB: measured ? Math.round(avg(first)) : undefined,
        lastRssMiB: measured ? Math.round(avg(last)) : undefined,
        growthMiB: measured ? Math.round(avg(last) - avg(first)) : undefined,
        events: n.events,
        exitedByItself: n.exitCodes.length,
      };
    });
    const wall = (Date.now() - openStart) / 1000;
    const result = {
      measuredAt: new Date().toISOString(),
      config: {
        minutes,
        jobs: jobsN,
        nodes: nodesN,
        killEveryS,
        deadlineS,
        maxGrowthMiB,
        leaseDuration: 120,
        openNetwork: openNetwork ? { largeModel: largeName, largeJobs, smallJobs, publisherRestartS } : undefined,
        subscriptions: subscriptions ? { count: subscriptionsN, intervalS: subIntervalS, tokenJobEvery, maxUnopened } : undefined,
      },
      openingSeconds: (openEnd - openStart) / 1000,
      wallSeconds: wall,
      fulfilled: fulfilledOrdinary,
      tokenJobs,
      fulfilledTwice: twice.length,
      reclaimed,
      unsettled,
      throughputPerMinute: (fulfilledOrdinary / wall) * 60,
      latencySeconds: { p50: quantile(lat, 0.5), p95: quantile(lat, 0.95), max: Math.max(0, ...lat) },
      escrow: { balance: books.balance.toString(), owed: books.owed.toString(), conserved: books.balance === books.owed },
      faults,
      proxySeen: { ...proxy.seen },
      nodes: perNode,
      openNetwork: openNetwork ? { publisherStarts: publisher.starts, publisherKills: publisher.kills, models: perModel } : undefined,
      subscriptions: sub ? { ...sub.figures, runsReclaimedByHarness: runsReclaimed } : undefined,
    };
    const failures: string[] = [];
    if (twice.length) failures.push(`jobs fulfilled twice: ${twice.join(", ")}`);
    if (unsettled) failures.push(`${unsettled} jobs neither fulfilled nor reclaimed`);
    if (!result.escrow.conserved) failures.push(`escrow not conserved: balance ${books.balance}, owed ${books.owed}`);
    for (const n of perNode)
      if (n.growthMiB !== undefined && n.growthMiB > maxGrowthMiB)
        failures.push(`${n.name} memory grew ${n.growthMiB} MiB > ${maxGrowthMiB}`);
    for (const n of perNode) if (n.exitedByItself) failures.push(`${n.name} exited by itself ${n.exitedByItself} time(s)`);
    failures.push(...(sub?.failures ?? []));
    for (const pm of perModel) {
      if (pm.wrong) failures.push(`${pm.name}: ${pm.wrong} results differ from the reference`);
      if (pm.jobs !== (openModels.find((o) => o.built.model.name === pm.name)?.jobs ?? 0))
        failures.push(`${pm.name}: not every job was opened`);
    }
    const out = path.join(ROOT, "bench");
    ensureDir(out);
    writeFileAtomic(path.join(out, "soak.json"), JSON.stringify({ ...result, failures }, null, 1) + "\n");
    const md = [
      "# Soak test of the prover network",
      "",
      `Measured by \`npx hardhat run scripts/apps/load/soak.ts\` on ${result.measuredAt} (2 cores). A local \`hardhat node\`, iris-mlp ` +
        `published as a bundle, ${nodesN} prover nodes (each its own process, \`scripts/apps/prover/main.ts\`) behind one loopback ` +
        `RPC proxy (scripts/chain/fault-proxy.ts), ${jobsN} iris jobs opened at a steady rate over ${minutes} min (lease 120 s, ` +
        `deadline ${deadlineS} s), a random node SIGKILLed every ${killEveryS} s and restarted 5 s later, a fault burst every ` +
        `30 s (in turn: 10 HTTP 429, 10 connection resets, 2 timeouts, 6 HTTP 500, 2 lost eth_sendRawTransaction answers).` +
        (openNetwork
          ? ` The open network (issue 28): a publisher's IPFS node (\`npm run ipfs:serve\`, its own process) holding the ` +
            `bundles of ${openModels.map((o) => o.built.model.name).join(" and ")}, every node's only IPFS peer, SIGKILLed every ` +
            `${publisherRestartS} s and restarted 5 s later on the same address (${publisher.kills} times); each model registered ` +
            `on chain after at least one such restart, its jobs spread over the rest of the opening. Nothing was restarted by hand.`
          : ""),
      "",
      "| figure | value |",
      "|---|---|",
      `| jobs fulfilled | ${fulfilledOrdinary} of ${ids.length}${tokenJobs ? ` (${tokenJobs} paid in the ERC-20 token)` : ""} (fulfilled twice: ${twice.length}) |`,
      `| reclaimed after the deadline | ${reclaimed} |`,
      `| neither | ${unsettled} |`,
      `| escrow conserved (balance = open escrows + accounts + burned) | ${result.escrow.conserved ? "yes" : "NO"} |`,
      `| throughput | ${result.throughputPerMinute.toFixed(1)} jobs/min over ${(wall / 60).toFixed(1)} min |`,
      `| latency JobOpened -> JobFulfilled (chain time) | p50 ${result.latencySeconds.p50} s, p95 ${result.latencySeconds.p95} s, max ${result.latencySeconds.max} s |`,
      `| faults injected | ${Object.entries(faults)
        .map(([k, v]) => `${k} ${v}`)
        .join(", ")} |`,
      "",
      ...(sub ? subscriptionsMarkdown(sub.figures) : []),
      ...(openNetwork
        ? [
            "| published on IPFS | bundle | constraints | registered at | publisher restarts before | jobs | fulfilled, output = reference | wrong | latency p50 / p95 / max |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---|",
            ...perModel.map(
              (pm) =>
                `| ${pm.name} | ${pm.bundleMiB} MiB | ${pm.constraints} | ${pm.registeredAtS} s | ${pm.publisherRestartsBefore} | ${pm.jobs} | ` +
                `${pm.fulfilled - pm.wrong} | ${pm.wrong} | ${pm.latencySeconds.p50} / ${pm.latencySeconds.p95} / ${pm.latencySeconds.max} s |`,
            ),
            "",
          ]
        : []),
      "| node | jobs served (runs included) | starts | SIGKILLs | stopped by itself | peak RSS | resting RSS first 3 min | resting RSS last 3 min | growth (bound " +
        maxGrowthMiB +
        " MiB) |",
      "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
      ...perNode.map(
        (n) =>
          `| ${n.name} | ${n.served} | ${n.starts} | ${n.kills} | ${n.exitedByItself} | ${n.peakRssMiB} MiB | ` +
          (n.growthMiB === undefined
            ? "- | - | not measured (no process lived two windows) |"
            : `${n.firstRssMiB} MiB | ${n.lastRssMiB} MiB | ${n.growthMiB} MiB |`),
      ),
      "",
      ...(openNetwork
        ? [
            "Events in the nodes' logs (summed over restarts): " +
              perNode.map((n) => `${n.name} ${COUNTED.map((e) => `${e} ${n.events[e] ?? 0}`).join(", ")}`).join("; ") +
              ". Resting RSS: the least of a 3-minute window, both windows of one process (the node's longest-lived start after the first window begins); the first window starts when the large model's first job is fulfilled.",
            "",
          ]
        : []),
      failures.length ? `**Failed:** ${failures.join("; ")}.` : "Every check passed.",
      "",
    ].join("\n");
    writeFileAtomic(path.join(out, "SOAK.md"), md);
    console.log(md);
    if (sub) {
      // bench/REPORT.md's soak section, through bench/results.json (the other sections are kept as they are)
      const file = path.join(out, "results.json");
      const bench = JSON.parse(fs.readFileSync(file, "utf8")) as BenchResults;
      bench.soak = {
        measuredAt: result.measuredAt,
        command: `${Object.entries(process.env)
          .filter(([k]) => k.startsWith("SOAK_") && k !== "SOAK_LOG_DIR")
          .map(([k, v]) => `${k}=${v}`)
          .sort()
          .join(" ")} npm run soak`.trim(),
        minutes,
        nodes: nodesN,
        jobs: { opened: ids.length, fulfilled: fulfilledOrdinary, inToken: tokenJobs },
        faults: Object.entries(faults)
          .map(([k, v]) => `${k} ${v}`)
          .join(", "),
        subscriptions: sub.figures,
        failures,
      };
      writeFileAtomic(file, JSON.stringify(bench, null, 2) + "\n");
      writeFileAtomic(path.join(out, "REPORT.md"), renderReport(bench));
    }
    await proxy.close();
    await m.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
    if (failures.length) throw new Error(`soak failed: ${failures.join("; ")}`);
  } catch (e) {
    // a failure of the harness itself: nothing may be left running (the nodes, the publisher, the chain)
    running = false;
    for (const p of children) p.kill("SIGKILL");
    publisher.proc?.kill("SIGKILL");
    await proxy.close().catch(() => undefined);
    await m.stop().catch(() => undefined);
    throw e;
  }
}

runMain(main);
