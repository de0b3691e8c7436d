/**
 * The explorer's HTTP API (Hono, on Ponder's server beside /graphql, /health, /ready, /status): JSON only, bigints as
 * decimal strings, addresses lower-case 0x, times unix seconds. Percentiles are computed in SQL (`percentile_cont`
 * for seconds, `percentile_disc` for wei and gas, which stay exact); lists use the indexes of ponder.schema.ts.
 * Model cards come from the bundles through ../cards.ts (reached as ../bundle-access.ts says), never from the handlers.
 */
import { db } from "ponder:api";
import schema from "ponder:schema";
import { Hono } from "hono";
import type { Context } from "hono";
import { cors } from "hono/cors";
import { and, client, count, desc, eq, graphql, gte, inArray, lt, sql } from "ponder";
import type { ModelLayout } from "../../../../scripts/formats/model-layout";
import { setEsmImport } from "../../../../scripts/util/esm";
import { AuditCache } from "../audit";
import { explorerBundleAccess } from "../bundle-access";
import { CardCache } from "../cards";
import { JOB_STATUSES, decodeCheckpoint, queryInt, toJsonSafe } from "../derive";
import { readExplorerEnv, readRegistryAddress } from "../env";
import type {
  CardResponse,
  JobDetail,
  JobRecord,
  JobStatusName,
  JobSummary,
  ModelDetail,
  ModelRow,
  ModelVersionRow,
  NetworkStats,
  Page,
  ProverDetail,
  ProverRow,
  Serves,
  Stage,
  Status,
  SubscriptionDetail,
  SubscriptionRow,
  TimelineEntry,
} from "../../../../scripts/formats/explorer-api";

const { job, jobEvent, model, version, prover, claim, subscription, run, account } = schema;

const env = readExplorerEnv(process.env);
// Ponder runs this module under vite-node, whose vm scripts cannot run the `Function`-built import() the IPFS stack is
// loaded with (scripts/util/esm.ts): give it an import() vite-node rewrites into its own loader
setEsmImport((specifier) => import(/* @vite-ignore */ specifier));
// One IPFS node for the process (when configured), started at the first ipfs:// read and stopped on shutdown: by
// Ponder's API shutdown when there is one (its own `client` middleware registers there; the exit waits for it, and a
// dev reload runs it), else at the signals Ponder exits on.
const bundles = explorerBundleAccess(env);
const stopBundles = () => bundles.stop().catch(() => undefined);
const ponderApiShutdown = (globalThis as { PONDER_COMMON?: { apiShutdown?: { add(cb: () => Promise<unknown>): void } } }).PONDER_COMMON
  ?.apiShutdown;
if (ponderApiShutdown) ponderApiShutdown.add(stopBundles);
else for (const signal of ["SIGINT", "SIGTERM", "SIGQUIT"] as const) process.once(signal, () => void stopBundles());
const cards = new CardCache(env.cardCacheDir, bundles.access);
let registryAddress: Promise<string> | undefined;
const registry = (): Promise<string> => {
  registryAddress ??= env.registry ? Promise.resolve(env.registry) : readRegistryAddress(env.rpcUrl, env.jobs, env.chainId);
  registryAddress.catch(() => (registryAddress = undefined)); // a node not up yet: ask again next time
  return registryAddress;
};
const audits = new AuditCache(env.auditCacheDir, {
  rpcUrl: env.rpcUrl,
  cards,
  access: bundles.access,
});

const app = new Hono();

const localOrigin = /^https?:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/;
app.use(
  "*",
  cors({
    origin: (origin) => (env.corsOrigins ? (env.corsOrigins.includes(origin) ? origin : null) : localOrigin.test(origin) ? origin : null),
    allowMethods: ["GET", "POST", "OPTIONS"],
  }),
);

app.use("/sql/*", client({ db, schema }));
app.use("/graphql", graphql({ db, schema }));

/** JSON the API's way (bigints as strings, addresses lower case). */
const json = (c: Context, body: unknown, status: 200 | 400 | 404 | 502 = 200) => c.json(toJsonSafe(body) as object, status);
/** A route's answer, checked against the type the app reads (./types.ts). */
const reply = <T>(c: Context, body: Serves<T>) => json(c, body);
const bad = (c: Context, error: string) => json(c, { error }, 400);

/** A short-lived memo for aggregate queries (they change at most once a block; 500 ms keeps a busy page cheap). */
const memo = new Map<string, { at: number; value: Promise<unknown> }>();
function cached<T>(key: string, ms: number, f: () => Promise<T>): Promise<T> {
  const hit = memo.get(key);
  if (hit && Date.now() - hit.at < ms) return hit.value as Promise<T>;
  const value = f();
  memo.set(key, { at: Date.now(), value });
  value.catch(() => memo.delete(key));
  return value;
}

/** The latest block the indexer has processed (Ponder's checkpoint table). */
async function indexed(): Promise<{ indexedBlock: number | null; indexedTimestamp: number | null }> {
  const r = await db.execute(sql`select latest_checkpoint as c from _ponder_checkpoint limit 1`);
  const rows = (Array.isArray(r) ? r : (r as { rows: unknown[] }).rows) as { c: string }[];
  if (!rows[0]) return { indexedBlock: null, indexedTimestamp: null };
  const cp = decodeCheckpoint(rows[0].c);
  return { indexedBlock: cp.blockNumber, indexedTimestamp: cp.blockTimestamp };
}

// ------------------------------------------------------------------ helpers

type JobRow = typeof job.$inferSelect;

function jobSummary(j: JobRow): Serves<JobSummary> {
  return {
    jobId: j.id,
    modelId: j.modelId,
    version: j.version,
    requester: j.requester,
    prover: j.prover ?? j.claimant,
    status: j.status as JobStatusName,
    feeWei: j.fee,
    feeToken: j.feeToken,
    optimistic: j.optimistic,
    openedAt: j.openedAt,
    fulfilledAt: j.fulfilledAt,
    latencyS: j.latencyS,
    output: j.output,
    batched: j.batched,
    subscriptionId: j.subscriptionId,
  };
}

function timelineEntry(e: typeof jobEvent.$inferSelect): Serves<TimelineEntry> {
  return { stage: e.stage as Stage, at: e.at, block: e.block, txHash: e.txHash, gasUsed: e.gasUsed, actor: e.actor, batched: e.batched };
}

function subscriptionRow(s: typeof subscription.$inferSelect): Serves<SubscriptionRow> {
  return {
    subscriptionId: s.id,
    owner: s.owner,
    modelId: s.modelId,
    version: s.modelVersion,
    intervalS: s.interval,
    start: s.start,
    runs: s.runs,
    nextRun: s.opened + s.skipped + s.missed,
    runDeadlineS: s.runDeadline,
    cancelled: s.cancelled,
    refundedWei: s.refunded,
    optimistic: s.optimistic,
    feePerRunWei: s.feePerRun,
    tipPerRunWei: s.tipPerRun,
    feeToken: s.feeToken,
    opened: s.opened,
    delivered: s.delivered,
    skipped: s.skipped,
    missed: s.missed,
    reclaimed: s.reclaimed,
    createdAt: s.createdAt,
    createdBlock: s.createdBlock,
    txHash: s.txHash,
  };
}

const versionRecord = (v: typeof version.$inferSelect) => ({
  modelId: v.modelId,
  version: BigInt(v.version),
  uri: v.bundleUri,
  modelHash: v.modelHash,
  circuitHash: v.circuitHash,
  vkHash: v.vkHash,
});

const p50Latency = sql<number | null>`percentile_cont(0.5) within group (order by ${job.latencyS})`;
const p95Latency = sql<number | null>`percentile_cont(0.95) within group (order by ${job.latencyS})`;
const p50Fee = sql<string | null>`percentile_disc(0.5) within group (order by ${job.fee})`;
const round = (v: number | string | null | undefined): number | null =>
  v === null || v === undefined ? null : Math.round(Number(v) * 100) / 100;

/** Per-model job statistics (fulfilled ETH-fee jobs for the fee), memoised. */
function modelStats() {
  return cached("modelStats", 500, async () => {
    const rows = await db
      .select({
        modelId: job.modelId,
        p50LatencyS: p50Latency,
        p50FeeWei: sql<string | null>`percentile_disc(0.5) within group (order by ${job.fee}) filter (where ${job.feeToken} is null)`,
      })
      .from(job)
      .where(eq(job.status, "fulfilled"))
      .groupBy(job.modelId);
    return new Map(
      rows.map((r) => [r.modelId, { p50LatencyS: round(r.p50LatencyS), p50FeeWei: r.p50FeeWei === null ? null : String(r.p50FeeWei) }]),
    );
  });
}

async function modelItems() {
  const [models, versions, stats] = await Promise.all([db.select().from(model).orderBy(model.id), db.select().from(version), modelStats()]);
  const current = new Map(versions.map((v) => [`${v.modelId}-${v.version}`, v]));
  const count = new Map<bigint, number>();
  for (const v of versions) count.set(v.modelId, (count.get(v.modelId) ?? 0) + 1);
  return models.map((m): Serves<ModelRow> & { modelId: bigint; owner: string; name: string | null; task: string | null } => {
    const v = current.get(`${m.id}-${m.currentVersion}`);
    const entry = v ? cards.peek(versionRecord(v)) : null;
    if (v && !entry) cards.prefetch(versionRecord(v));
    const s = stats.get(m.id);
    return {
      modelId: m.id,
      owner: m.owner,
      name: entry?.card.name ?? null,
      task: entry?.card.task ?? null,
      currentVersion: m.currentVersion,
      deprecated: m.deprecated,
      versions: count.get(m.id) ?? 0,
      jobs: m.jobs,
      fulfilled: m.fulfilled,
      reclaimed: m.reclaimed,
      p50LatencyS: s?.p50LatencyS ?? null,
      p50FeeWei: s?.p50FeeWei ?? null,
      lastJobAt: m.lastJobAt,
      registeredAt: m.registeredAt,
    };
  });
}

const uint = /^\d{1,78}$/;
const addr = /^0x[0-9a-fA-F]{40}$/;

// ------------------------------------------------------------------ routes

app.get("/api/status", async (c) => {
  const [i, reg] = await Promise.all([indexed(), registry().catch(() => null)]);
  return reply<Status>(c, { chainId: env.chainId, jobs: env.jobs, registry: reg, subscriptions: env.subscriptions ?? null, ...i });
});

app.get("/api/models", async (c) => {
  const limit = queryInt(c.req.query("limit"), 50, 1, 500);
  const offset = queryInt(c.req.query("offset"), 0, 0, Number.MAX_SAFE_INTEGER);
  if (limit === null) return bad(c, "limit must be an integer in 1..500");
  if (offset === null) return bad(c, "offset must be an integer >= 0");
  const q = (c.req.query("q") ?? "").trim().toLowerCase();
  let items = await modelItems();
  if (q)
    items = items.filter(
      (m) => m.modelId.toString() === q || m.owner.includes(q) || (m.name ?? "").includes(q) || (m.task ?? "").includes(q),
    );
  return reply<Page<ModelRow>>(c, { items: items.slice(offset, offset + limit), total: items.length });
});

app.get("/api/models/:id", async (c) => {
  const id = c.req.param("id");
  if (!uint.test(id)) return bad(c, `model id "${id}" must be a decimal integer`);
  const modelId = BigInt(id);
  const m = (await modelItems()).find((x) => x.modelId === modelId);
  if (!m) return json(c, { error: `model ${id} is not indexed (yet): check the id or wait for the indexer` }, 404);
  const [versions, agg, stages, gas, recent] = await Promise.all([
    db.select().from(version).where(eq(version.modelId, modelId)).orderBy(version.version),
    db
      .select({ jobs: count(), p50: p50Latency, p95: p95Latency, p50Fee })
      .from(job)
      .where(and(eq(job.modelId, modelId), eq(job.status, "fulfilled"))),
    db
      .select({
        claim: sql<number | null>`percentile_cont(0.5) within group (order by ${job.claimedAt} - ${job.openedAt})`,
        deliver: sql<number | null>`percentile_cont(0.5) within group (order by ${job.deliveredAt} - ${job.claimedAt})`,
        prove: sql<
          number | null
        >`percentile_cont(0.5) within group (order by ${job.fulfilledAt} - coalesce(${job.deliveredAt}, ${job.claimedAt}))`,
      })
      .from(job)
      .where(eq(job.modelId, modelId)),
    db
      .select({ batched: job.batched, p50: sql<string | null>`percentile_disc(0.5) within group (order by ${job.fulfilledGas})` })
      .from(job)
      .where(and(eq(job.modelId, modelId), eq(job.status, "fulfilled")))
      .groupBy(job.batched),
    db.select().from(job).where(eq(job.modelId, modelId)).orderBy(desc(job.id)).limit(20),
  ]);
  const cur = versions.find((v) => v.version === m.currentVersion) ?? versions[versions.length - 1];
  let card: ModelDetail["card"] = null;
  let architecture: ModelDetail["architecture"] = null;
  let cardError: string | null = null;
  if (cur) {
    try {
      const e = await cards.get(versionRecord(cur));
      card = e.card;
      architecture = e.architecture;
    } catch (e) {
      cardError = (e as Error).message;
    }
  }
  const gasOf = (b: boolean) => gas.find((g) => g.batched === b)?.p50 ?? null;
  const reg = await registry().catch(() => null);
  return reply<ModelDetail>(c, {
    model: m,
    versions: versions.map((v): Serves<ModelVersionRow> => ({
      version: v.version,
      bundleUri: v.bundleUri,
      verifier: v.verifier,
      snarkjsVerifier: v.snarkjsVerifier,
      inputMode: v.inputMode,
      layout:
        v.inputMode === null
          ? null
          : ({
              inputMode: v.inputMode,
              outputHead: v.outputHead,
              inputCount: v.inputCount,
              inputBits: v.inputBits,
              outputCount: v.outputCount,
              outputBits: v.outputBits,
              outputFrac: v.outputFrac,
            } as ModelLayout),
      modelHash: v.modelHash,
      circuitHash: v.circuitHash,
      vkHash: v.vkHash,
      registeredAt: v.registeredAt,
      txHash: v.txHash,
      audit: audits.status({ registry: reg, modelId: v.modelId, version: v.version, verifier: v.verifier, record: versionRecord(v) }),
    })),
    card,
    cardError,
    architecture,
    stats: {
      jobs: m.jobs,
      fulfilled: m.fulfilled,
      reclaimed: m.reclaimed,
      p50LatencyS: round(agg[0]?.p50),
      p95LatencyS: round(agg[0]?.p95),
      p50FeeWei: agg[0]?.p50Fee === null || agg[0]?.p50Fee === undefined ? null : String(agg[0].p50Fee),
      p50GasSingle: gasOf(false) === null ? null : String(gasOf(false)),
      p50GasBatched: gasOf(true) === null ? null : String(gasOf(true)),
      stageP50S: { claim: round(stages[0]?.claim), deliver: round(stages[0]?.deliver), prove: round(stages[0]?.prove) },
    },
    recentJobs: recent.map(jobSummary),
  });
});

app.get("/api/models/:id/card", async (c) => {
  const id = c.req.param("id");
  if (!uint.test(id)) return bad(c, `model id "${id}" must be a decimal integer`);
  const vq = c.req.query("version");
  if (vq !== undefined && !/^\d{1,5}$/.test(vq)) return bad(c, `version "${vq}" must be a decimal integer`);
  const m = await db
    .select()
    .from(model)
    .where(eq(model.id, BigInt(id)));
  if (!m[0]) return json(c, { error: `model ${id} is not indexed (yet)` }, 404);
  const ver = vq === undefined ? m[0].currentVersion : Number(vq);
  const v = await db
    .select()
    .from(version)
    .where(eq(version.id, `${id}-${ver}`));
  if (!v[0]) return json(c, { error: `model ${id} has no version ${ver}: its versions are 1..${m[0].currentVersion}` }, 404);
  try {
    const e = await cards.get(versionRecord(v[0]));
    return reply<CardResponse>(c, {
      card: e.card,
      manifest: e.manifest,
      architecture: e.architecture,
      version: ver,
      bundleUri: v[0].bundleUri,
    });
  } catch (e) {
    return json(c, { error: (e as Error).message, bundleUri: v[0].bundleUri }, 502);
  }
});

app.get("/api/jobs", async (c) => {
  const limit = queryInt(c.req.query("limit"), 50, 1, 500);
  if (limit === null) return bad(c, "limit must be an integer in 1..500");
  const where: ReturnType<typeof eq>[] = [];
  const m = c.req.query("model");
  if (m) {
    if (!uint.test(m)) return bad(c, `model "${m}" must be a decimal model id`);
    where.push(eq(job.modelId, BigInt(m)));
  }
  for (const [k, col] of [
    ["prover", job.prover],
    ["requester", job.requester],
  ] as const) {
    const a = c.req.query(k);
    if (a) {
      if (!addr.test(a)) return bad(c, `${k} "${a}" must be a 0x address`);
      where.push(eq(col, a.toLowerCase() as `0x${string}`));
    }
  }
  const st = c.req.query("status");
  if (st) {
    const list = st.split(",");
    const unknown = list.find((s) => !(JOB_STATUSES as readonly string[]).includes(s));
    if (unknown) return bad(c, `status "${unknown}" is not one of ${JOB_STATUSES.join(", ")}`);
    where.push(inArray(job.status, list));
  }
  const filter = where.length ? and(...where) : undefined;
  const before = c.req.query("before");
  if (before !== undefined && !uint.test(before)) return bad(c, `before "${before}" must be a decimal job id`);
  const page = before ? and(filter, lt(job.id, BigInt(before))) : filter;
  const [items, total] = await Promise.all([
    db.select().from(job).where(page).orderBy(desc(job.id)).limit(limit),
    db.select({ n: count() }).from(job).where(filter),
  ]);
  return reply<Page<JobSummary>>(c, { items: items.map(jobSummary), total: total[0]?.n ?? 0 });
});

app.get("/api/jobs/:id", async (c) => {
  const id = c.req.param("id");
  if (!uint.test(id)) return bad(c, `job id "${id}" must be a decimal integer`);
  const jobId = BigInt(id);
  const [rows, events, claims] = await Promise.all([
    db.select().from(job).where(eq(job.id, jobId)),
    db.select().from(jobEvent).where(eq(jobEvent.jobId, jobId)).orderBy(jobEvent.block, jobEvent.logIndex),
    db.select().from(claim).where(eq(claim.jobId, jobId)).orderBy(claim.claimedAt),
  ]);
  const j = rows[0];
  if (!j) return json(c, { error: `job ${id} is not indexed (yet): check the id or wait for the indexer` }, 404);
  const record: Serves<JobRecord> = {
    ...jobSummary(j),
    inputCommitment: j.inputCommitment,
    inputUri: j.inputUri,
    inputs: j.inputs,
    privateInput: j.inputUri === "" && j.inputs === null,
    inputMode: j.inputs === null ? "committed" : "public",
    deadline: j.deadline,
    callback: j.callback,
    callbackFailed: j.callbackFailed,
    bounty: j.bounty,
    claimant: j.claimant,
    claimCount: j.claims,
    claims: claims.map((k) => ({ ...k, outcome: k.outcome as JobRecord["claims"][number]["outcome"] })),
    paidFee: j.paidFee,
    paidBounty: j.paidBounty,
    burned: j.burned,
    run: j.run,
    openedBlock: j.openedBlock,
    openedTx: j.openedTx,
    openedGas: j.openedGas,
    claimedAt: j.claimedAt,
    claimedTx: j.claimedTx,
    claimedGas: j.claimedGas,
    deliveredAt: j.deliveredAt,
    deliveredTx: j.deliveredTx,
    deliveredGas: j.deliveredGas,
    postedAt: j.postedAt,
    postedTx: j.postedTx,
    postedGas: j.postedGas,
    challengedAt: j.challengedAt,
    challengedTx: j.challengedTx,
    challengedGas: j.challengedGas,
    fulfilledBlock: j.fulfilledBlock,
    fulfilledTx: j.fulfilledTx,
    fulfilledGas: j.fulfilledGas,
    batchSize: j.batchSize,
    reclaimedAt: j.reclaimedAt,
    reclaimedTx: j.reclaimedTx,
    reclaimedGas: j.reclaimedGas,
  };
  return reply<JobDetail>(c, { job: record, timeline: events.map((e) => ({ ...timelineEntry(e), data: e.data ?? null })) });
});

async function proverLatency(addresses?: `0x${string}`[]) {
  const rows = await db
    .select({ prover: job.prover, p50: p50Latency })
    .from(job)
    .where(addresses ? and(eq(job.status, "fulfilled"), inArray(job.prover, addresses)) : eq(job.status, "fulfilled"))
    .groupBy(job.prover);
  return new Map(rows.map((r) => [r.prover, round(r.p50)]));
}

function proverItem(
  p: typeof prover.$inferSelect,
  latency: Map<string | null, number | null>,
  stake?: typeof account.$inferSelect,
): Serves<ProverRow> {
  return {
    address: p.address,
    served: p.served,
    failures: p.failures,
    claims: p.claims,
    earningsWei: p.earningsWei,
    tokenFees: p.tokenFees ?? {},
    bondLockedWei: p.bondLockedWei,
    slashedWei: p.slashedWei,
    depositedWei: stake?.depositedWei ?? 0n,
    withdrawnWei: stake?.withdrawnWei ?? 0n,
    p50LatencyS: latency.get(p.address) ?? null,
    firstActiveAt: p.firstActiveAt,
    lastActiveAt: p.lastActiveAt,
  };
}

app.get("/api/provers", async (c) => {
  const [rows, latency, stakes] = await Promise.all([
    db.select().from(prover).orderBy(desc(prover.served)).limit(500),
    cached("proverLatency", 500, () => proverLatency()),
    db.select().from(account),
  ]);
  const stake = new Map(stakes.map((s) => [s.address, s]));
  return reply<{ items: ProverRow[] }>(c, { items: rows.map((p) => proverItem(p, latency, stake.get(p.address))) });
});

app.get("/api/provers/:address", async (c) => {
  const a = c.req.param("address");
  if (!addr.test(a)) return bad(c, `address "${a}" must be a 0x address`);
  const address = a.toLowerCase() as `0x${string}`;
  const [rows, latency, stakes, recent] = await Promise.all([
    db.select().from(prover).where(eq(prover.address, address)),
    proverLatency([address]),
    db.select().from(account).where(eq(account.address, address)),
    db.select().from(job).where(eq(job.prover, address)).orderBy(desc(job.id)).limit(20),
  ]);
  if (!rows[0]) return json(c, { error: `${address} has not claimed or served any job` }, 404);
  return reply<ProverDetail>(c, { prover: proverItem(rows[0], latency, stakes[0]), recentJobs: recent.map(jobSummary) });
});

app.get("/api/subscriptions", async (c) => {
  const limit = queryInt(c.req.query("limit"), 50, 1, 500);
  if (limit === null) return bad(c, "limit must be an integer in 1..500");
  const [items, total] = await Promise.all([
    db.select().from(subscription).orderBy(desc(subscription.id)).limit(limit),
    db.select({ n: count() }).from(subscription),
  ]);
  return reply<Page<SubscriptionRow>>(c, { items: items.map(subscriptionRow), total: total[0]?.n ?? 0 });
});

app.get("/api/subscriptions/:id", async (c) => {
  const id = c.req.param("id");
  if (!uint.test(id)) return bad(c, `subscription id "${id}" must be a decimal integer`);
  const subId = BigInt(id);
  const [subs, runs] = await Promise.all([
    db.select().from(subscription).where(eq(subscription.id, subId)),
    db.select().from(run).where(eq(run.subscriptionId, subId)).orderBy(desc(run.run)).limit(100),
  ]);
  if (!subs[0]) return json(c, { error: `subscription ${id} is not indexed (yet)` }, 404);
  const jobIds = runs.map((r) => r.jobId).filter((x): x is bigint => x !== null);
  const [events, jobs] = jobIds.length
    ? await Promise.all([
        db.select().from(jobEvent).where(inArray(jobEvent.jobId, jobIds)).orderBy(jobEvent.block, jobEvent.logIndex),
        db.select().from(job).where(inArray(job.id, jobIds)),
      ])
    : [[], []];
  const byJob = new Map(jobs.map((j) => [j.id, j]));
  return reply<SubscriptionDetail>(c, {
    subscription: subscriptionRow(subs[0]),
    runs: runs.map((r) => ({
      run: r.run,
      count: r.count,
      status: r.status as SubscriptionDetail["runs"][number]["status"],
      jobId: r.jobId,
      opener: r.opener,
      reason: r.reason,
      output: r.output,
      feeWei: r.fee,
      callbackFailed: r.callbackFailed,
      openedAt: r.openedAt,
      openedTx: r.openedTx,
      settledAt: r.settledAt,
      settledTx: r.settledTx,
      job: r.jobId !== null && byJob.get(r.jobId) ? jobSummary(byJob.get(r.jobId)!) : null,
      timeline: events.filter((e) => e.jobId === r.jobId).map(timelineEntry),
    })),
  });
});

app.get("/api/network", async (c) => {
  const minutes = queryInt(c.req.query("minutes"), 60, 1, 7 * 24 * 60);
  if (minutes === null) return bad(c, "minutes must be an integer in 1..10080");
  const body = await cached(`network-${minutes}`, 500, async (): Promise<Serves<NetworkStats>> => {
    const i = await indexed();
    const now = i.indexedTimestamp ?? Math.floor(Date.now() / 1000);
    const end = Math.floor(now / 60) * 60;
    const from = end - (minutes - 1) * 60;
    const minute = (col: typeof job.openedAt | typeof job.fulfilledAt) => sql<number>`(floor(${col} / 60) * 60)::int`;
    const [opened, fulfilled, gas, totals] = await Promise.all([
      db
        .select({ minute: minute(job.openedAt), n: count() })
        .from(job)
        .where(gte(job.openedAt, from))
        .groupBy(minute(job.openedAt)),
      db
        .select({ minute: minute(job.fulfilledAt), n: count(), p50: p50Latency, p95: p95Latency })
        .from(job)
        .where(gte(job.fulfilledAt, from))
        .groupBy(minute(job.fulfilledAt)),
      db
        .select({
          batched: job.batched,
          p50: sql<string | null>`percentile_disc(0.5) within group (order by ${job.fulfilledGas})`,
          n: count(),
        })
        .from(job)
        .where(eq(job.status, "fulfilled"))
        .groupBy(job.batched),
      db
        .select({
          models: sql<number>`(select count(*) from ${model})::int`,
          jobs: sql<number>`(select count(*) from ${job})::int`,
          fulfilled: sql<number>`(select count(*) from ${job} where ${job.status} = 'fulfilled')::int`,
          provers: sql<number>`(select count(*) from ${prover} where ${prover.served} > 0)::int`,
        })
        .from(sql`(select 1) as one`),
    ]);
    const o = new Map(opened.map((r) => [Number(r.minute), r.n]));
    const f = new Map(fulfilled.map((r) => [Number(r.minute), r]));
    const mins = Array.from({ length: minutes }, (_, k) => from + k * 60);
    const g = (b: boolean) => {
      const r = gas.find((x) => x.batched === b);
      return { p50: r?.p50 === null || r?.p50 === undefined ? null : String(r.p50), n: r?.n ?? 0 };
    };
    return {
      now,
      jobsPerMinute: mins.map((m) => ({ minute: m, opened: o.get(m) ?? 0, fulfilled: f.get(m)?.n ?? 0 })),
      latency: mins.map((m) => ({ minute: m, p50: round(f.get(m)?.p50), p95: round(f.get(m)?.p95) })),
      gas: { single: g(false), batched: g(true) },
      totals: totals[0] ?? { models: 0, jobs: 0, fulfilled: 0, provers: 0 },
    };
  });
  return reply<NetworkStats>(c, body);
});

export default app;
