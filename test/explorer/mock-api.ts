/**
 * A stand-in for the indexer's JSON API (explorer/app/README.md, "API"), for developing and testing the web app only:
 * a generated history (4 models with real bundled cards, jobs over the last hour with their timelines, provers, a
 * subscription) served over HTTP, with knobs a test turns (the API down, an empty network, a job advancing).
 * Never used in production: the real API is the indexer's. `npm run explorer:mock -- --port 42069` serves it.
 * It also answers a few JSON-RPC calls at /rpc (chain id, accounts) for a test wallet that should not need a chain.
 */
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import { packSigned } from "../../scripts/formats/commitments";
import { type BundleManifest, type ModelCard, parseBundleManifest, parseModelCard } from "../../scripts/formats/bundle";
import { ROOT } from "../../scripts/util/paths";
import { summariseLayers } from "../../explorer/indexer/src/cards";
// The indexer's own answer types: the mock cannot drift from what the indexer serves without a type error.
import type {
  AuditStatus,
  CardResponse,
  JobDetail,
  JobRecord,
  JobSummary,
  LayerSummary,
  ModelDetail,
  ModelRow,
  NetworkStats,
  Page,
  ProverDetail,
  ProverRow,
  Stage,
  Status,
  SubscriptionDetail,
  SubscriptionRow,
  TimelineEntry,
} from "../../scripts/formats/explorer-api";

const FIX = path.join(__dirname, "fixtures");
const fixture = (f: string): unknown => JSON.parse(fs.readFileSync(path.join(FIX, f), "utf8")) as unknown;
const layersOf = (name: string): LayerSummary[] | null =>
  summariseLayers(JSON.parse(fs.readFileSync(path.join(ROOT, "models", name, `${name}.qmodel.json`), "utf8")) as { layers?: unknown });

interface Job extends JobSummary {
  inputs: string[] | null;
  timeline: TimelineEntry[];
}
interface Model {
  modelId: string;
  owner: string;
  /** The card's name (null when the card could not be read, as the indexer has it). */
  name: string | null;
  currentVersion: number;
  deprecated: boolean;
  card: ModelCard | null;
  cardError: string | null;
  manifest: BundleManifest | null;
  architecture: LayerSummary[] | null;
  inputMode: number;
  /** The verifier audit of each version (index 0 = version 1). */
  audits: AuditStatus[];
}

export const CHAIN_ID = 31337;
export const PROVERS = [
  "0x70997970c51812dc3a010c7d01b50e0d17dc79c8",
  "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc",
  "0x90f79bf6eb2c4f870365e785982e1f101e93b906",
];
const REQUESTERS = ["0x15d34aaf54267db7d7c367839aaf71a00a2c6a65", "0x9965507d1a55bcc2695c58ba16fb37d819b0a4dc"];
const OWNER = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266";
const hex = (n: number, len = 64) => `0x${n.toString(16).padStart(len, "0")}`;
const median = (xs: number[]): number | null => {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)];
};
const pct = (xs: number[], p: number): number | null => {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)];
};

/** What the mock serves; tests change it between requests. */
export interface MockState {
  /** Answer every /api request with HTTP 502 and no JSON (an indexer that is down behind the proxy). */
  down: boolean;
  /** Serve a network with nothing on it yet. */
  empty: boolean;
  /** The chain id the /rpc endpoint reports (a wallet on the wrong chain when it differs from CHAIN_ID). */
  walletChainId: number;
  models: Model[];
  jobs: Job[];
  now: number;
  block: number;
}

/** The generated history: deterministic for a given `now` (unix seconds). */
export function generate(now = Math.floor(Date.now() / 1000)): MockState {
  const iris = parseModelCard(fixture("iris-mlp.card.json"));
  const temp = parseModelCard(fixture("temp-forecast.card.json"));
  const irisManifest = parseBundleManifest(fixture("iris-mlp.bundle.json"));
  const passed: AuditStatus = { status: "passed", checkedAt: now - 3000 };
  const models: Model[] = [
    {
      modelId: "1",
      owner: OWNER,
      name: "iris-mlp",
      currentVersion: 2,
      deprecated: false,
      card: iris,
      cardError: null,
      manifest: irisManifest,
      architecture: layersOf("iris-mlp"),
      inputMode: 0,
      audits: [passed, passed],
    },
    {
      modelId: "2",
      owner: OWNER,
      name: "temp-forecast",
      currentVersion: 1,
      deprecated: false,
      card: temp,
      cardError: null,
      manifest: parseBundleManifest(fixture("temp-forecast.bundle.json")),
      architecture: layersOf("temp-forecast"),
      inputMode: 1,
      audits: [{ status: "pending" }],
    },
    {
      modelId: "3",
      owner: OWNER,
      name: null,
      currentVersion: 1,
      deprecated: false,
      card: null,
      cardError: "bundle ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi did not answer within 30 s",
      manifest: null,
      architecture: null,
      inputMode: 1,
      audits: [
        {
          status: "unavailable",
          reason:
            "the bundle's proving key could not be read: bundle ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi did not answer within 30 s",
          checkedAt: now - 60,
        },
      ],
    },
    {
      modelId: "4",
      owner: OWNER,
      name: "iris-mlp",
      currentVersion: 1,
      deprecated: true,
      card: iris,
      cardError: null,
      manifest: irisManifest,
      architecture: layersOf("iris-mlp"),
      inputMode: 0,
      audits: [
        {
          status: "failed",
          reason: `the verifier ${hex(0xa0, 40)} of model 4 v1 is not the snarkjs verifier of these keys; do not trust this version's results`,
          checkedAt: now - 2000,
        },
      ],
    },
  ];
  const jobs: Job[] = [];
  let block = 100;
  for (let i = 1; i <= 48; i++) {
    const modelId = i % 4 === 0 ? "2" : i % 11 === 0 ? "4" : "1";
    const openedAt = now - 3600 + i * 70;
    const prover = PROVERS[i % 3];
    const kind = i === 48 ? "open" : i === 47 ? "claimed" : i % 13 === 0 ? "reclaimed" : "fulfilled";
    const t: TimelineEntry[] = [
      {
        stage: "opened",
        at: openedAt,
        block: block++,
        txHash: hex(i * 10 + 1),
        gasUsed: String(182_000 + (i % 5) * 900),
        actor: REQUESTERS[i % 2],
        batched: false,
      },
    ];
    const claimAt = openedAt + 2 + (i % 3);
    if (kind !== "open" && kind !== "reclaimed")
      t.push({ stage: "claimed", at: claimAt, block: block++, txHash: hex(i * 10 + 2), gasUsed: "95000", actor: prover, batched: false });
    const batched = i % 3 === 0;
    const proveS = modelId === "2" ? 9 + (i % 4) : 5 + (i % 6);
    let output: string | null = null;
    if (kind === "fulfilled") {
      output = modelId === "2" ? packSigned([BigInt(Math.round((12 + (i % 9)) * 512))], 16)[0].toString() : String(i % 3);
      t.push({
        stage: "fulfilled",
        at: claimAt + proveS,
        block: block++,
        txHash: hex(i * 10 + 3),
        gasUsed: String(batched ? 96_000 + (i % 7) * 500 : 301_000 + (i % 7) * 700),
        actor: prover,
        batched,
      });
    }
    if (kind === "reclaimed")
      t.push({
        stage: "reclaimed",
        at: openedAt + 1800,
        block: block++,
        txHash: hex(i * 10 + 4),
        gasUsed: "41000",
        actor: REQUESTERS[i % 2],
        batched: false,
      });
    const last = t[t.length - 1];
    jobs.push({
      jobId: String(i),
      modelId,
      version: modelId === "1" ? (i < 10 ? 1 : 2) : 1,
      requester: REQUESTERS[i % 2],
      prover: kind === "open" || kind === "reclaimed" ? null : prover,
      status: kind,
      feeWei: String(10n ** 16n + BigInt(i % 4) * 10n ** 15n),
      feeToken: null,
      optimistic: false,
      openedAt,
      fulfilledAt: kind === "fulfilled" ? last.at : null,
      latencyS: kind === "fulfilled" ? last.at - openedAt : null,
      output,
      batched: kind === "fulfilled" && batched,
      subscriptionId: null,
      inputs: modelId === "2" ? ["416", "400", "390", "420", "430", "441", "450"] : null,
      timeline: t,
    });
  }
  return { down: false, empty: false, walletChainId: CHAIN_ID, models, jobs, now, block };
}

const summary = (j: Job): JobSummary => {
  const { timeline: _t, inputs: _i, ...s } = j;
  return s;
};

/** A job as /api/jobs/:id has it: the summary and the row's stage fields. */
function jobRecord(j: Job): JobRecord {
  const at = (s: Stage) => j.timeline.find((e) => e.stage === s);
  const claimed = at("claimed");
  const fulfilled = at("fulfilled");
  const reclaimed = at("reclaimed");
  const opened = j.timeline[0];
  return {
    ...summary(j),
    inputCommitment: j.inputs ? "0" : String(BigInt(hex(Number(j.jobId) * 7919))),
    inputUri: "",
    inputs: j.inputs,
    privateInput: j.inputs === null,
    inputMode: j.inputs === null ? "committed" : "public",
    deadline: String(j.openedAt + 3600),
    callback: false,
    callbackFailed: false,
    bounty: "0",
    claimant: claimed?.actor ?? null,
    claimCount: claimed ? 1 : 0,
    claims: claimed
      ? [
          {
            id: `${claimed.txHash}-0`,
            jobId: j.jobId,
            prover: claimed.actor ?? PROVERS[0],
            bond: String(10n ** 16n),
            leaseEnd: String(claimed.at + 600),
            claimedAt: claimed.at,
            outcome: fulfilled ? "fulfilled" : "live",
            slashed: null,
            returned: fulfilled ? String(10n ** 16n) : null,
            endedAt: fulfilled?.at ?? null,
          },
        ]
      : [],
    paidFee: fulfilled ? j.feeWei : null,
    paidBounty: fulfilled ? "0" : null,
    burned: null,
    run: null,
    openedBlock: opened.block,
    openedTx: opened.txHash,
    openedGas: opened.gasUsed,
    claimedAt: claimed?.at ?? null,
    claimedTx: claimed?.txHash ?? null,
    claimedGas: claimed?.gasUsed ?? null,
    deliveredAt: null,
    deliveredTx: null,
    deliveredGas: null,
    postedAt: null,
    postedTx: null,
    postedGas: null,
    challengedAt: null,
    challengedTx: null,
    challengedGas: null,
    fulfilledBlock: fulfilled?.block ?? null,
    fulfilledTx: fulfilled?.txHash ?? null,
    fulfilledGas: fulfilled?.gasUsed ?? null,
    batchSize: fulfilled ? (j.batched ? 2 : 1) : null,
    reclaimedAt: reclaimed?.at ?? null,
    reclaimedTx: reclaimed?.txHash ?? null,
    reclaimedGas: reclaimed?.gasUsed ?? null,
  };
}

function modelRow(s: MockState, m: Model): ModelRow {
  const js = s.jobs.filter((j) => j.modelId === m.modelId);
  const done = js.filter((j) => j.latencyS !== null);
  return {
    modelId: m.modelId,
    owner: m.owner,
    name: m.name,
    task: m.card?.task ?? null,
    currentVersion: m.currentVersion,
    deprecated: m.deprecated,
    versions: m.currentVersion,
    jobs: js.length,
    fulfilled: done.length,
    reclaimed: js.filter((j) => j.status === "reclaimed").length,
    p50LatencyS: median(done.map((j) => j.latencyS!)),
    p50FeeWei: js.length ? String(median(js.map((j) => Number(j.feeWei)))) : null,
    lastJobAt: js.length ? Math.max(...js.map((j) => j.openedAt)) : null,
    registeredAt: s.now - 7200,
  };
}

function proverRow(s: MockState, address: string): ProverRow {
  const js = s.jobs.filter((j) => j.prover === address);
  const done = js.filter((j) => j.status === "fulfilled");
  const active = js.flatMap((j) => j.timeline.filter((e) => e.actor === address).map((e) => e.at));
  return {
    address,
    served: done.length,
    failures: 0,
    claims: js.length,
    earningsWei: done.reduce((a, j) => a + BigInt(j.feeWei), 0n).toString(),
    tokenFees: {},
    bondLockedWei: String(BigInt(js.filter((j) => j.status === "claimed").length) * 10n ** 16n),
    slashedWei: "0",
    depositedWei: String(10n ** 18n),
    withdrawnWei: "0",
    p50LatencyS: median(done.map((j) => j.latencyS!)),
    firstActiveAt: active.length ? Math.min(...active) : s.now,
    lastActiveAt: active.length ? Math.max(...active) : s.now,
  };
}

/** An answer of the indexer's type `T`. */
const ok = <T>(body: T): { status: number; body: T } => ({ status: 200, body });

const stageGap = (j: Job, from: Stage, to: Stage) => {
  const a = j.timeline.find((e) => e.stage === from);
  const b = j.timeline.find((e) => e.stage === to);
  return a && b ? [b.at - a.at] : [];
};

/** Answers one API path; null for 404. */
function answer(s: MockState, url: URL): { status: number; body: unknown } {
  const p = url.pathname.replace(/^\/api/, "");
  const q = (k: string) => url.searchParams.get(k) ?? "";
  const st: MockState = s.empty ? { ...s, models: [], jobs: [] } : s;
  const notFound = (what: string) => ({ status: 404, body: { error: `${what} is not indexed.` } });
  let m: RegExpMatchArray | null;
  if (p === "/status")
    return ok<Status>({
      chainId: CHAIN_ID,
      jobs: "0x5fbdb2315678afecb367f032d93f642f64180aa3",
      registry: "0xe7f1725e7734ce288f8367e1bb143e90bb3f0512",
      subscriptions: "0x9fe46736679d2d9a65f0992f2272de9f3c7fa6e0",
      indexedBlock: st.block,
      indexedTimestamp: st.now,
    });
  if (p === "/models") {
    const needle = q("q").toLowerCase();
    const all = st.models.filter(
      (x) => !needle || (x.name ?? "").includes(needle) || (x.card?.task ?? "").includes(needle) || x.modelId === needle,
    );
    const offset = Number(q("offset") || 0);
    const limit = Number(q("limit") || 20);
    return ok<Page<ModelRow>>({ items: all.slice(offset, offset + limit).map((x) => modelRow(st, x)), total: all.length });
  }
  if ((m = p.match(/^\/models\/(\d+)$/))) {
    const x = st.models.find((y) => y.modelId === m![1]);
    if (!x) return notFound(`Model ${m[1]}`);
    const js = st.jobs.filter((j) => j.modelId === x.modelId);
    const done = js.filter((j) => j.latencyS !== null);
    const gasOf = (batched: boolean) => {
      const m = median(
        done.flatMap((j) => j.timeline.filter((e) => e.stage === "fulfilled" && e.batched === batched).map((e) => Number(e.gasUsed))),
      );
      return m === null ? null : String(m);
    };
    const layout = x.manifest?.registry.layout ?? null;
    return ok<ModelDetail>({
      model: modelRow(st, x),
      versions: Array.from({ length: x.currentVersion }, (_, k) => ({
        version: k + 1,
        bundleUri: `ipfs://bafybeib${(x.name ?? `model${x.modelId}`).replace(/-/g, "")}v${k + 1}`,
        verifier: hex(0xa0 + k, 40),
        snarkjsVerifier: hex(0xb0 + k, 40),
        inputMode: x.inputMode,
        layout,
        modelHash: x.manifest?.registry.modelHash ?? hex(0x1234),
        circuitHash: x.manifest?.registry.circuitHash ?? hex(0x5678),
        vkHash: x.manifest?.registry.vkHash ?? hex(0x9abc),
        registeredAt: st.now - 7200 + k * 600,
        txHash: hex(0xbeef + k),
        audit: x.audits[k] ?? { status: "pending" },
      })),
      card: x.card,
      cardError: x.cardError,
      architecture: x.architecture,
      stats: {
        jobs: js.length,
        fulfilled: done.length,
        reclaimed: js.filter((j) => j.status === "reclaimed").length,
        p50LatencyS: median(done.map((j) => j.latencyS!)),
        p95LatencyS: pct(
          done.map((j) => j.latencyS!),
          0.95,
        ),
        p50FeeWei: js.length ? String(median(js.map((j) => Number(j.feeWei)))) : null,
        p50GasSingle: gasOf(false),
        p50GasBatched: gasOf(true),
        stageP50S: {
          claim: median(js.flatMap((j) => stageGap(j, "opened", "claimed"))),
          deliver: null,
          prove: median(js.flatMap((j) => stageGap(j, "claimed", "fulfilled"))),
        },
      },
      recentJobs: [...js].reverse().slice(0, 10).map(summary),
    });
  }
  if ((m = p.match(/^\/models\/(\d+)\/card$/))) {
    const x = st.models.find((y) => y.modelId === m![1]);
    if (!x?.card || !x.manifest) return notFound(`The card of model ${m[1]}`);
    const version = Number(q("version") || x.currentVersion);
    return ok<CardResponse>({
      card: x.card,
      manifest: x.manifest,
      architecture: x.architecture,
      version,
      bundleUri: `ipfs://bafybeib${(x.name ?? "").replace(/-/g, "")}v${version}`,
    });
  }
  if (p === "/jobs") {
    let js = [...st.jobs].reverse();
    if (q("model")) js = js.filter((j) => j.modelId === q("model"));
    if (q("prover")) js = js.filter((j) => j.prover === q("prover").toLowerCase());
    if (q("requester")) js = js.filter((j) => j.requester === q("requester").toLowerCase());
    if (q("status")) js = js.filter((j) => j.status === q("status"));
    const total = js.length;
    if (q("before")) js = js.filter((j) => BigInt(j.jobId) < BigInt(q("before")));
    return ok<Page<JobSummary>>({ items: js.slice(0, Number(q("limit") || 25)).map(summary), total });
  }
  if ((m = p.match(/^\/jobs\/(\d+)$/))) {
    const j = st.jobs.find((y) => y.jobId === m![1]);
    if (!j) return notFound(`Job ${m[1]}`);
    return ok<JobDetail>({ job: jobRecord(j), timeline: j.timeline.map((e) => ({ ...e, data: null })) });
  }
  if (p === "/provers") return ok<{ items: ProverRow[] }>({ items: st.jobs.length ? PROVERS.map((a) => proverRow(st, a)) : [] });
  if ((m = p.match(/^\/provers\/(0x[0-9a-f]{40})$/))) {
    if (!st.jobs.some((j) => j.prover === m![1])) return notFound(`Prover ${m[1]}`);
    return ok<ProverDetail>({
      prover: proverRow(st, m[1]),
      recentJobs: st.jobs
        .filter((j) => j.prover === m![1])
        .reverse()
        .slice(0, 10)
        .map(summary),
    });
  }
  const runJobs = [4, 8, 12].map((id) => st.jobs.find((y) => y.jobId === String(id)));
  const sub: SubscriptionRow = {
    subscriptionId: "1",
    owner: REQUESTERS[0],
    modelId: "2",
    version: 1,
    intervalS: 600,
    start: st.now - 1800,
    runs: 6,
    nextRun: 3,
    runDeadlineS: 300,
    cancelled: false,
    refundedWei: null,
    optimistic: false,
    feePerRunWei: String(10n ** 16n),
    tipPerRunWei: String(10n ** 15n),
    feeToken: null,
    opened: runJobs.filter(Boolean).length,
    delivered: runJobs.filter((j) => j?.status === "fulfilled").length,
    skipped: runJobs.filter((j) => !j).length,
    missed: 0,
    reclaimed: runJobs.filter((j) => j?.status === "reclaimed").length,
    createdAt: st.now - 1900,
    createdBlock: 90,
    txHash: hex(0x5ab),
  };
  if (p === "/subscriptions") return ok<Page<SubscriptionRow>>({ items: st.empty ? [] : [sub], total: st.empty ? 0 : 1 });
  if ((m = p.match(/^\/subscriptions\/(\d+)$/))) {
    if (st.empty || m[1] !== "1") return notFound(`Subscription ${m[1]}`);
    const runs = runJobs.map((j, k) => ({
      run: String(k),
      count: 1,
      status: !j
        ? ("skipped" as const)
        : j.status === "fulfilled"
          ? ("delivered" as const)
          : j.status === "reclaimed"
            ? ("reclaimed" as const)
            : ("opened" as const),
      jobId: j?.jobId ?? null,
      opener: j ? REQUESTERS[1] : null,
      reason: j ? null : 1,
      output: j?.output ?? null,
      feeWei: j?.feeWei ?? null,
      callbackFailed: false,
      openedAt: sub.start + k * 600,
      openedTx: j?.timeline[0].txHash ?? hex(0x5ac + k),
      settledAt: j?.fulfilledAt ?? j?.timeline.find((e) => e.stage === "reclaimed")?.at ?? null,
      settledTx: j?.timeline.find((e) => e.stage === "fulfilled" || e.stage === "reclaimed")?.txHash ?? null,
      job: j ? summary(j) : null,
      timeline: j?.timeline ?? [],
    }));
    return ok<SubscriptionDetail>({ subscription: sub, runs });
  }
  if (p === "/network") {
    const minutes = Number(q("minutes") || 60);
    const from = Math.floor((st.now - minutes * 60) / 60) * 60;
    const buckets = new Map<number, { minute: number; opened: number; fulfilled: number; lat: number[] }>();
    for (let t = from; t <= st.now; t += 60) buckets.set(t, { minute: t, opened: 0, fulfilled: 0, lat: [] });
    for (const j of st.jobs) {
      const b = buckets.get(Math.floor(j.openedAt / 60) * 60);
      if (b) b.opened++;
      if (j.fulfilledAt) {
        const f = buckets.get(Math.floor(j.fulfilledAt / 60) * 60);
        if (f) {
          f.fulfilled++;
          f.lat.push(j.latencyS!);
        }
      }
    }
    const list = st.jobs.length ? [...buckets.values()] : [];
    const fulfils = st.jobs.flatMap((j) => j.timeline.filter((e) => e.stage === "fulfilled"));
    const g = (batched: boolean) => {
      const xs = fulfils.filter((e) => e.batched === batched).map((e) => Number(e.gasUsed));
      const p50 = median(xs);
      return { p50: p50 === null ? null : String(p50), n: xs.length };
    };
    return ok<NetworkStats>({
      now: st.now,
      jobsPerMinute: list.map(({ minute, opened, fulfilled }) => ({ minute, opened, fulfilled })),
      latency: list.map((b) => ({ minute: b.minute, p50: median(b.lat), p95: pct(b.lat, 0.95) })),
      gas: { single: g(false), batched: g(true) },
      totals: {
        models: st.models.length,
        jobs: st.jobs.length,
        fulfilled: st.jobs.filter((j) => j.status === "fulfilled").length,
        provers: st.jobs.length ? PROVERS.length : 0,
      },
    });
  }
  return { status: 404, body: { error: `No API route ${p}.` } };
}

export interface MockApi {
  url: string;
  state: MockState;
  /** Moves a job one stage on, as the indexer would after a chain event (claimed, then fulfilled). */
  advance(jobId: string, stage: "claimed" | "fulfilled", output?: string): void;
  /** Back to a fresh generated history. */
  reset(): void;
  stop(): Promise<void>;
}

export async function startMockApi(port = 0): Promise<MockApi> {
  const api = { state: generate() } as MockApi;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://mock");
    if (url.pathname === "/rpc") return rpc(api.state, req, res);
    if (api.state.down) return void res.writeHead(502, { "content-type": "text/plain" }).end("Bad Gateway");
    const { status, body } = answer(api.state, url);
    res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  api.url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  api.reset = () => (api.state = generate());
  api.advance = (jobId, stage, output) => {
    const s = api.state;
    const j = s.jobs.find((x) => x.jobId === jobId);
    if (!j) throw new Error(`mock: no job ${jobId}`);
    const at = Math.floor(Date.now() / 1000);
    const prover = j.prover ?? PROVERS[0];
    j.timeline.push({
      stage,
      at,
      block: ++s.block,
      txHash: hex(0xf000 + s.block),
      gasUsed: stage === "claimed" ? "95000" : "301500",
      actor: prover,
      batched: false,
    });
    j.status = stage;
    j.prover = prover;
    if (stage === "fulfilled") {
      j.output = output ?? "2";
      j.fulfilledAt = at;
      j.latencyS = at - j.openedAt;
    }
    s.now = at;
  };
  api.stop = () => new Promise((resolve) => server.close(() => resolve()));
  return api;
}

/** The few JSON-RPC calls a wallet needs before it sends anything (CORS open: the page is on another port). */
function rpc(s: MockState, req: http.IncomingMessage, res: http.ServerResponse) {
  const cors = { "access-control-allow-origin": "*", "access-control-allow-headers": "content-type", "content-type": "application/json" };
  if (req.method === "OPTIONS") return void res.writeHead(204, cors).end();
  let body = "";
  req.on("data", (c: Buffer) => (body += c.toString()));
  req.on("end", () => {
    const call = JSON.parse(body) as { id: number; method: string; params?: { chainId?: string }[] };
    if (call.method === "wallet_switchEthereumChain") s.walletChainId = Number(call.params?.[0]?.chainId ?? s.walletChainId);
    const result: Record<string, unknown> = {
      eth_chainId: hex(s.walletChainId, 0).replace(/^0x0*/, "0x"),
      net_version: String(s.walletChainId),
      eth_accounts: [REQUESTERS[0]],
      eth_requestAccounts: [REQUESTERS[0]],
      eth_blockNumber: hex(s.block, 0),
      wallet_switchEthereumChain: null,
    };
    const r =
      call.method in result ? { result: result[call.method] } : { error: { code: -32601, message: `mock: ${call.method} is not served` } };
    res.writeHead(200, cors).end(JSON.stringify({ jsonrpc: "2.0", id: call.id, ...r }));
  });
}

if (require.main === module) {
  const i = process.argv.indexOf("--port");
  startMockApi(i >= 0 ? Number(process.argv[i + 1]) : 42069).then((m) =>
    console.log(`mock explorer API (fixtures, not an indexer): ${m.url}/api`),
  );
}
