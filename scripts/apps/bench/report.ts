/**
 * Renders bench/REPORT.md and its charts (bench/proving-time.svg, bench/batch-gas.svg, bench/optimistic.svg) from the benchmark results (scripts/apps/bench/run.ts). Everything
 * in the report comes from the results object; nothing is typed in by hand.
 * Re-render without measuring: node -r ts-node/register/transpile-only scripts/apps/bench/report.ts
 * Size (about 910 lines), kept in one file: one renderer per
 * section of the report over one results type (BenchResults), so the report's structure is readable in one place.
 */
import * as fs from "fs";
import * as path from "path";
import type { ProbabilityReport, QuantizationReport, RegressionReport } from "../../engine/quantize";
import type { ProvePhases } from "../../engine/prove/phases";

export interface StepMeasure {
  mem: { processMaxRSSKiB?: number; treeMaxRSSKiB?: number };
}
export interface Timed extends StepMeasure {
  seconds: number;
}
export interface Repeated extends StepMeasure {
  times: number[];
}
export interface SystemResult {
  system: "groth16" | "plonk" | "fflonk";
  status: string;
  /** PLONK / FFLONK gates after snarkjs' R1CS conversion. */
  rows?: number;
  ptauPower?: number;
  ptauUsed?: number;
  /** Groth16 dev keys computed directly from the public dev secrets (no ptau; `ptauPower` is then the domain). */
  directKeys?: boolean;
  setup?: Timed;
  zkeyBytes?: number;
  prove?: Repeated;
  /** Groth16's phases: the native prover's own timings of its last proof, or one more snarkjs proof (phases.ts). */
  phases?: ProvePhases;
  /** Which Groth16 prover proved (absent in rows measured before the native prover: snarkjs). */
  prover?: "native" | "snarkjs";
  proofJsonBytes?: number;
}
export interface ModeResult {
  mode: "open" | "private";
  status: string;
  constraints?: number;
  wires?: number;
  publicSignals?: number;
  generateSeconds?: number;
  compile?: Timed;
  witness?: Repeated;
  systems?: SystemResult[];
}
export interface ModelResult {
  name: string;
  /** When this model was measured (ISO time), and by which command: differs from the report's with --merge. */
  measuredAt?: string;
  measuredBy?: string;
  status?: string;
  accuracy?: QuantizationReport & { dataset: string };
  /** Regression models (values head): float vs quantized error in output units. */
  regression?: RegressionReport & { dataset: string };
  probability?: ProbabilityReport & { dataset: string };
  accuracyError?: string;
  modes: ModeResult[];
  gas?: { status: string; [k: string]: number | string };
}
/** One power of the dev-setup section (`npm run bench -- --setup 12,14,16,18`): a synthetic R1CS of domain 2^power. */
export interface SetupResult {
  power: number;
  constraints: number;
  wires: number;
  measuredAt: string;
  /** Groth16 dev keys computed directly from the public dev secrets (scripts/engine/setup/direct-zkey.ts); no ptau. */
  direct: { status: string; seconds?: number; mem?: StepMeasure["mem"]; zkeyBytes?: number; sha256?: string };
  /** A Groth16 proof with the direct keys (snarkjs groth16 prove), verified with their exported vkey. */
  prove?: { status: string; seconds?: number; mem?: StepMeasure["mem"] };
  /**
   * Today's snarkjs path on the same R1CS: dev ptau (powersoftau new + beacon + prepare phase2), then zkey new + the
   * dev beacon; stopped after `timeoutSeconds` in all.
   */
  snarkjs: {
    status: string;
    timeoutSeconds: number;
    ptauSeconds?: number;
    zkeySeconds?: number;
    mem?: StepMeasure["mem"];
    sha256?: string;
  };
}

export interface BenchResults {
  generatedAt: string;
  command: string;
  machine: { cpu: string; cores: number; totalMemGiB: number; platform: string };
  versions: { node: string; snarkjs: string; circom2: string; circom: string; solc: string; hardhat: string };
  config: { runs: number; maxPower: number; maxGroth16Power?: number; quick: boolean; models: string[]; memory: string };
  /** Seconds spent generating dev ptau files that were not cached (not part of any figure). */
  ptauGenerated: Record<number, number>;
  models: ModelResult[];
  /** The dev-setup section (absent when never measured). */
  setup?: SetupResult[];
  totalSeconds: number;
  /** `npm run bench:open-network` (scripts/apps/bench/open-network.ts), measured separately and kept across runs. */
  openNetwork?: OpenNetworkResult;
  /** Batch settlement gas (scripts/apps/bench/batch-gas.ts): kept by `--merge` runs that do not re-measure it. */
  batchGas?: BatchGasResult;
  /** `npm run bench:prover` (scripts/apps/bench/prover.ts): the native prover against snarkjs, kept across runs. */
  prover?: ProverComparison;
  subscription?: SubscriptionGas;
  /** `npm run soak` (scripts/apps/load/soak.ts): the subscriptions the prover nodes served in the soak, kept across runs. */
  soak?: SoakReport;
  /** `npm run bench:optimistic` (scripts/apps/bench/optimistic-gas.ts): optimistic against proven results, kept across runs. */
  optimistic?: OptimisticBench;
  /** `npm run bench:explorer` (scripts/apps/bench/explorer.ts): the explorer's indexer and app on a 10k-job history, kept across runs. */
  explorer?: ExplorerBench;
}

/** n, p50, p95 and max of a series of milliseconds. */
export interface Quantiles {
  n: number;
  p50: number;
  p95: number;
  max: number;
}

/** Issue 35's targets (the history's and the first sync's are the benchmark's own budget). */
export const EXPLORER_TARGETS = {
  historySeconds: 300,
  /** Max lag block mined -> job fulfilled on the API while driving 200 jobs/min: a backlog would grow past it. */
  keepUpMaxLagMs: 5000,
  modelsFirstPaintMs: 1000,
  jobPageUpdateMs: 1000,
} as const;

/** The browser part of the explorer's benchmark (scripts/apps/bench/explorer-browser.ts). */
export interface ExplorerBrowser {
  status: string;
  /** Cold loads of the models page: navigation start -> the model list rendered, and first-contentful-paint. */
  modelsPage?: { loads: number; listMs: number[]; fcpMs: number[]; medianListMs: number; medianFcpMs: number };
  /** A job page open while its job is claimed on chain: the block mined -> the page showing the new stage. */
  jobPage?: { updates: number; ms: number[]; medianMs: number };
}

/** `npm run bench:explorer`: the explorer (issue 35) on a generated history. */
export interface ExplorerBench {
  measuredAt: string;
  command: string;
  cores: number;
  totalSeconds: number;
  history: {
    jobs: number;
    transactions: number;
    blocks: number;
    spanHours: number;
    fates: Record<string, number>;
    models: string[];
    seconds: number;
  };
  firstSync: { seconds: number; jobsPerSecond: number; blocks: number };
  /** Per endpoint, milliseconds of sequential requests. */
  api: Record<string, Quantiles>;
  keepUp: { jobsPerMinute: number; seconds: number; blockSeconds: number; jobs: number; seen: number; lagMs: Quantiles; keptUp: boolean };
  browser: ExplorerBrowser;
}

/** Each explorer target with its figure and whether it is met (a browser part not measured counts as missed). */
export function explorerVerdicts(e: ExplorerBench): { target: string; figure: string; met: boolean }[] {
  const t = EXPLORER_TARGETS;
  const b = e.browser;
  return [
    { target: `history of ${e.history.jobs} jobs generated in <= ${t.historySeconds} s`, figure: `${e.history.seconds} s`, met: e.history.seconds <= t.historySeconds },
    {
      target: `the indexer keeps up with ${e.keepUp.jobsPerMinute} jobs/min on ${e.cores} cores`,
      figure: `${e.keepUp.seen} of ${e.keepUp.jobs} jobs seen, lag p50 ${e.keepUp.lagMs.p50} ms, p95 ${e.keepUp.lagMs.p95} ms, max ${e.keepUp.lagMs.max} ms`,
      met: e.keepUp.keptUp,
    },
    {
      target: `first paint of the models page <= ${t.modelsFirstPaintMs} ms with ${e.history.jobs} jobs indexed`,
      figure: b.modelsPage ? `model list ${b.modelsPage.medianListMs} ms, FCP ${b.modelsPage.medianFcpMs} ms (median of ${b.modelsPage.loads} cold loads)` : b.status,
      met: !!b.modelsPage && b.modelsPage.medianListMs <= t.modelsFirstPaintMs && b.modelsPage.medianFcpMs <= t.modelsFirstPaintMs,
    },
    {
      target: `a job page updates <= ${t.jobPageUpdateMs} ms after the chain event`,
      figure: b.jobPage ? `${b.jobPage.medianMs} ms (median of ${b.jobPage.updates})` : b.status,
      met: !!b.jobPage && b.jobPage.medianMs <= t.jobPageUpdateMs,
    },
  ];
}

/** The explorer's section: the history, the first sync, the API's latency, the keep-up drive, the browser. */
function renderExplorer(e: ExplorerBench): string[] {
  const h = e.history;
  const api = Object.entries(e.api).map(([p, q]) => `| \`${p}\` | ${q.p50} | ${q.p95} |`);
  return [
    "## Explorer: indexer and app on a generated history",
    "",
    `Measured ${e.measuredAt.slice(0, 10)} by \`${e.command}\` (scripts/apps/bench/explorer.ts, ${secs(e.totalSeconds)}), ${e.cores} cores: a local \`hardhat node\`, ` +
      `${h.jobs.toLocaleString("en-US")} jobs on ${h.models.join(", ")} (test verifiers: nothing proves; ${h.transactions.toLocaleString("en-US")} transactions in ${h.blocks} blocks over ${h.spanHours} h of chain time; ` +
      `${Object.entries(h.fates).map(([f, n]) => `${n} ${f}`).join(", ")}), then the indexer (explorer/indexer, Ponder, embedded PGlite) from scratch, ` +
      `its API with the history indexed, a drive of ${e.keepUp.jobsPerMinute} jobs/min against the live indexer, and the web app in Debian's chromium. docs/operators.md, "Explorer".`,
    "",
    "| target | figure | |",
    "|---|---|---|",
    ...explorerVerdicts(e).map((v) => `| ${v.target} | ${v.figure} | ${v.met ? "met" : "**missed**"} |`),
    `| first sync (${h.jobs.toLocaleString("en-US")} jobs, ${e.firstSync.blocks} blocks) | ${e.firstSync.seconds} s, ${e.firstSync.jobsPerSecond} jobs/s | |`,
    "",
    `API latency with ${h.jobs.toLocaleString("en-US")} jobs indexed (sequential requests, ms):`,
    "",
    "| endpoint | p50 | p95 |",
    "|---|---:|---:|",
    ...api,
    "",
  ];
}

/** What the soak reports about its subscriptions (bench/soak.json, bench/SOAK.md, bench/REPORT.md). */
export interface SubscriptionFigures {
  subscriptions: { eth: number; token: number };
  intervalS: number;
  runsScheduled: number;
  opened: number;
  delivered: number;
  reclaimed: number;
  skipped: number;
  missed: number;
  notReached: number;
  outputsWrong: number;
  /** Seconds from the interval's start to the run's opening (chain time). */
  openDelaySeconds: { p50: number; p95: number; max: number };
  /** Seconds from the opening to the delivery to the consumer (chain time). */
  latencySeconds: { p50: number; p95: number; max: number };
  gas: { openFirst: number; openLater: number; deliverMean: number; lostOpenings: number; lostOpeningsGas: number };
  perNode: { name: string; opened: number; racesLost: number }[];
  books: { contract: string; money: string; balance: string; owed: string; balanced: boolean }[];
  noDoubleOpening: boolean;
  noDoubleSubmission: boolean;
}

/** The subscriptions part of bench/SOAK.md and of the soak's section here. */
export function subscriptionsMarkdown(f: SubscriptionFigures): string[] {
  const g = (v: number) => v.toLocaleString("en-US");
  return [
    `Subscriptions (issue 33): ${f.subscriptions.eth} paid in ETH (\`ScheduledForecaster\` reading a \`MockObservationOracle\`) and ` +
      `${f.subscriptions.token} in an ERC-20 token (\`MockSubscriptionConsumer\`), one run every ${f.intervalS} s on \`temp-forecast\`, ` +
      "created one after the other within the first interval and running to the end of the opening; every node has " +
      "PROVER_SUBSCRIPTIONS_ADDRESS and the token's minimum fee and tip, and opens the due runs (racing the others for the tip).",
    "",
    "| subscriptions | value |",
    "|---|---|",
    `| runs scheduled | ${f.runsScheduled} |`,
    `| opened / delivered to the consumer / reclaimed | ${f.opened} / ${f.delivered} / ${f.reclaimed} |`,
    `| skipped / missed / not reached | ${f.skipped} / ${f.missed} / ${f.notReached} |`,
    `| delivered value = the model's on the run's inputs | ${f.delivered - f.outputsWrong} of ${f.delivered} |`,
    `| opening after the interval's start (chain time) | p50 ${f.openDelaySeconds.p50} s, p95 ${f.openDelaySeconds.p95} s, max ${f.openDelaySeconds.max} s |`,
    `| latency opening -> delivered (chain time) | p50 ${f.latencySeconds.p50} s, p95 ${f.latencySeconds.p95} s, max ${f.latencySeconds.max} s |`,
    `| gas: opening (first run of a subscription / later) | ${g(f.gas.openFirst)} / ${g(f.gas.openLater)} |`,
    `| gas: delivery (the prover's submission, both callbacks) | ${g(f.gas.deliverMean)} |`,
    `| openings that lost the race after being mined (gas) | ${f.gas.lostOpenings} (${g(f.gas.lostOpeningsGas)}) |`,
    `| runs opened per node (races lost) | ${f.perNode.map((n) => `${n.name} ${n.opened} (${n.racesLost})`).join(", ")} |`,
    `| books balanced (market, subscriptions; ETH, token) | ${f.books.map((b) => `${b.contract} ${b.money} ${b.balanced ? "yes" : "NO"}`).join(", ")} |`,
    `| a node opening a run twice / submitting a job twice | ${f.noDoubleOpening ? "never" : "YES"} / ${f.noDoubleSubmission ? "never" : "YES"} |`,
    "",
  ];
}

/** The soak's subscription figures (bench/SOAK.md has the whole soak). */
export interface SoakReport {
  measuredAt: string;
  command: string;
  minutes: number;
  nodes: number;
  /** The ordinary jobs beside the runs: fulfilled of opened, and how many paid in the token. */
  jobs: { opened: number; fulfilled: number; inToken: number };
  faults: string;
  subscriptions: SubscriptionFigures;
  failures: string[];
}

/** The soak's section: its subscriptions, each figure measured through the soak's faults and node kills. */
function renderSoak(k: SoakReport): string[] {
  return [
    "## Soak: subscriptions served by the prover nodes",
    "",
    `Measured ${k.measuredAt.slice(0, 10)} by \`${k.command}\` (the whole soak: bench/SOAK.md): a local \`hardhat node\`, ${k.nodes} prover ` +
      `nodes (each its own process) behind a fault-injecting RPC proxy, a node SIGKILLed and restarted every few minutes, ` +
      `faults injected (${k.faults}), ${k.jobs.opened} ordinary jobs opened over ${k.minutes} min (${k.jobs.fulfilled} fulfilled, ` +
      `${k.jobs.inToken} of them paid in the token) and, beside them:`,
    "",
    ...subscriptionsMarkdown(k.subscriptions),
    k.failures.length ? `**Failed:** ${k.failures.join("; ")}.` : "Every check of the soak passed.",
    "",
  ];
}

/** Issue 34's targets: gas of an unchallenged optimistic result, of a challenge resolved by one proof, LeNet-5's latency. */
export const OPTIMISTIC_TARGETS = { post: 70_000, finalize: 45_000, challengeByProof: 300_000, lenetPostedSeconds: 5 } as const;

/** Seconds of each step of one path, one entry per timed job (scripts/apps/bench/optimistic-gas.ts). */
export interface PathTimes {
  /** Job opened (in its final mode) -> the result's transaction mined. */
  total: number[];
  /** `claim` mined. */
  claim: number[];
  /** The opening read from the job's input URI and checked against its commitment. */
  input: number[];
  /** Optimistic: the witness only. Proven: `proveInference` (TS reference, witness, proof, verified with the key). */
  compute: number[];
  /** `postResult` or `submitResult` mined. */
  tx: number[];
  /** Proven only, `compute` split: the TS reference (and the signals it expects), the witness, the proof and its verification. */
  phases?: { reference: number[]; witness: number[]; proof: number[] };
}

/** One model of the optimistic benchmark. */
export interface OptimisticModel {
  model: string;
  constraints: number;
  /** The witness generator of the optimistic path: circom's C++ one, or the WASM. */
  witness: "native" | "wasm";
  gas: {
    provenClaim: number;
    provenSubmit: number;
    setOptimistic: number;
    claimOptimistic: number;
    /** `postResult` of a non-zero output (a fresh slot), and of output 0 (0 when the sample's class is not 0). */
    post: number;
    postZero: number;
    postWrong: number;
    finalize: number;
    finalizeZero: number;
    /** A wrong post disproved by the watcher's proof of the true output (`submitResult`). */
    challengeByProof: number;
    challengeByBond: number;
    /** The poster's proof answering a false bond challenge. */
    answer: number;
    /** A bond-challenged wrong post disproved by a proof. */
    disproveAfterBond: number;
    expire: number;
    batch: { size: number; gas: number; perResult: number };
  };
  /**
   * `optimistic`: the output by the witness only; `twin`: by the circuit's TS twin, the prover node's post step
   * (absent in results measured before it); `proven`: the node's proof worker.
   */
  time: { runs: number; optimistic: PathTimes; twin?: PathTimes; proven: PathTimes };
}

/** Optimistic results against proven ones (issue 34), measured by scripts/apps/bench/optimistic-gas.ts. */
export interface OptimisticBench {
  generatedAt: string;
  command: string;
  cores: number;
  /** Threads of the native prover, and which prover proved the proven path. */
  proverThreads: number;
  prover: "native" | "snarkjs";
  /** The market's parameters (wei as decimal strings, seconds). */
  market: { claimBond: string; slashBps: number; challengeBond: string; challengeWindow: number; proofWindow: number };
  models: OptimisticModel[];
  totalSeconds: number;
}

/** Every target of issue 34 a model missed, one phrase each (empty: all met). */
export function optimisticMisses(o: OptimisticBench): string[] {
  const t = OPTIMISTIC_TARGETS;
  const out: string[] = [];
  for (const m of o.models) {
    const g = m.gas;
    if (g.post > t.post) out.push(`${m.model}: postResult ${g.post} > ${t.post}`);
    if (g.finalize > t.finalize) out.push(`${m.model}: finalizeResult ${g.finalize} > ${t.finalize}`);
    for (const [what, v] of [["a wrong post disproved", g.challengeByProof], ["the poster's answer", g.answer], ["a bond-challenged wrong post disproved", g.disproveAfterBond]] as const)
      if (v > t.challengeByProof) out.push(`${m.model}: ${what} ${v} > ${t.challengeByProof}`);
    for (const [how, p] of [["witness", m.time.optimistic], ["TS twin", m.time.twin]] as const)
      if (m.model === "mnist-lenet5" && p && median(p.total) > t.lenetPostedSeconds)
        out.push(`${m.model}: opened -> posted (${how}) ${median(p.total).toFixed(2)} s > ${t.lenetPostedSeconds} s`);
  }
  return out;
}

/** The optimistic section: gas of both paths per model side by side, then the time from job opened to result on chain. */
function renderOptimistic(o: OptimisticBench): string[] {
  const n = (v: number) => v.toLocaleString("en-US");
  const t = OPTIMISTIC_TARGETS;
  const models = o.models;
  const verdict = (target: number, value: (m: OptimisticModel) => number) => {
    const missed = models.filter((m) => value(m) > target).map((m) => m.model);
    return `<= ${n(target)}: ${missed.length ? `MISSED (${missed.join(", ")})` : "met"}`;
  };
  const row = (what: string, value: (m: OptimisticModel) => number, target = "") => `| ${what} | ${models.map((m) => n(value(m))).join(" | ")} | ${target} |`;
  const eth = (wei: string) => `${Number(BigInt(wei)) / 1e18} ETH`;
  const L = [
    "## Optimistic results vs proven results (gas and time)",
    "",
    `Measured ${o.generatedAt.slice(0, 10)} by \`${o.command}\` (${secs(o.totalSeconds)}), Hardhat's in-process network, ${o.cores} cores: each model registered with its generated Groth16 batch verifier, every proof a real one (${o.prover} prover, ${o.proverThreads} threads), market parameters claim bond ${eth(o.market.claimBond)} (slash ${o.market.slashBps / 100}%), challenge bond ${eth(o.market.challengeBond)}, challenge window ${o.market.challengeWindow} s, proof window ${o.market.proofWindow} s. Gas: each figure one transaction's receipt, no callback, every account touched already holding a balance. docs/market-rules.md, "Optimistic results"; chart: [optimistic.svg](optimistic.svg).`,
    "",
    `| step (gas) | ${models.map((m) => `${m.model} (${n(m.constraints)} constraints)`).join(" | ")} | target (issue 34) |`,
    `|---|${models.map(() => "---:|").join("")}---|`,
    row("proven: `claim`", (m) => m.gas.provenClaim),
    row("proven: `submitResult` by the claimant (Groth16 verification)", (m) => m.gas.provenSubmit),
    row("**proven: claim + submitResult**", (m) => m.gas.provenClaim + m.gas.provenSubmit),
    row("optimistic: `claim`", (m) => m.gas.claimOptimistic),
    row("optimistic: `postResult` (a non-zero output)", (m) => m.gas.post, verdict(t.post, (m) => m.gas.post)),
    row("optimistic: `finalizeResult` after the window (anyone)", (m) => m.gas.finalize, verdict(t.finalize, (m) => m.gas.finalize)),
    row("**optimistic: claim + postResult + finalizeResult**", (m) => m.gas.claimOptimistic + m.gas.post + m.gas.finalize),
    row("optimistic: the requester's `setOptimistic` (a transaction of its own here)", (m) => m.gas.setOptimistic),
    row("a wrong post disproved by one proof (the watcher's `submitResult`)", (m) => m.gas.challengeByProof, verdict(t.challengeByProof, (m) => m.gas.challengeByProof)),
    row("a bond challenge (`challengeResult`)", (m) => m.gas.challengeByBond),
    row("the poster's proof answering it (`submitResult` of the posted output)", (m) => m.gas.answer, verdict(t.challengeByProof, (m) => m.gas.answer)),
    row("a bond-challenged wrong post disproved by one proof", (m) => m.gas.disproveAfterBond, verdict(t.challengeByProof, (m) => m.gas.disproveAfterBond)),
    row("a silent poster's challenge expired (`expireChallenge`)", (m) => m.gas.expire),
    row(`${models[0]?.gas.batch.size ?? "-"} wrong posts disproved in one \`submitResults\`, per result`, (m) => m.gas.batch.perResult),
  ];
  if (models.some((m) => m.gas.postZero))
    L.push(
      `| \`postResult\` of output 0 (class 0 of an argmax head: no fresh slot) | ${models.map((m) => (m.gas.postZero ? n(m.gas.postZero) : "-")).join(" | ")} | |`,
    );
  const diff = (value: (m: OptimisticModel) => number) => Math.max(...models.map(value)) - Math.min(...models.map(value));
  L.push(
    "",
    `After the claim, an unchallenged optimistic result costs ${models.map((m) => `${n(m.gas.post + m.gas.finalize)} (${m.model})`).join(", ")} for its post and finalisation against ${models.map((m) => `${n(m.gas.provenSubmit)}`).join(", ")} for a proven submission (${models.map((m) => `${(m.gas.provenSubmit / (m.gas.post + m.gas.finalize)).toFixed(1)}x`).join(", ")} less); a challenge settled by one proof costs ${models.map((m) => n(m.gas.challengeByProof - m.gas.provenSubmit)).join(", ")} more than a proven submission. The models differ by at most ${n(Math.max(diff((m) => m.gas.provenSubmit), diff((m) => m.gas.challengeByProof), diff((m) => m.gas.answer), diff((m) => m.gas.post), diff((m) => m.gas.finalize)))} gas on any of these figures: a Groth16 verification costs the same for every circuit with the same public signals (4 here), whatever its size; only the proofs' calldata differs.`,
  );
  const med = (xs: number[]) => secs(median(xs));
  const range = (xs: number[]) => `${med(xs)} (${secs(Math.min(...xs))} - ${secs(Math.max(...xs))})`;
  L.push(
    "",
    `Time from job opened to result on chain, as a prover node spends it: ${models[0]?.time.runs ?? 0} jobs per path and model, the paths in turn (median, min - max; the steps are medians). The clock starts when the job is open in its final mode (the open mined, and an optimistic job's \`setOptimistic\`). Every path: \`claim\` mined, the opening read from the job's \`data:\` input URI and checked against its commitment (the node's \`fetchCheckedInput\`), the output computed, its transaction mined. **Optimistic, witness only**: the output from the circuit's witness (\`witnessSignals\`: the generator a proof uses, circom's C++ one where built, \`--native-witness\`: the output a proof would carry), then \`postResult\`. **Optimistic, TS twin**: the output from the circuit's TS twin (\`inferQuantized\`: what the prover node's post step computes, \`PROVER_OPTIMISTIC=post\`, docs/prover.md), then \`postResult\`. **Proven**: \`proveInference\` (the TS reference and the signals it expects, the witness, the ${o.prover} Groth16 proof verified with its key: the node's proof worker), then \`submitResult\`. Target (issue 34): LeNet-5 opened -> posted <= ${t.lenetPostedSeconds} s on 2 cores.`,
    "",
    "| model | path | opened -> result on chain | claim / input / output / transaction | proven / this path | target |",
    "|---|---|---:|---|---:|---|",
  );
  for (const m of models) {
    const p = m.time.proven;
    const paths: [string, PathTimes | undefined][] = [
      [`optimistic, witness only (${m.witness === "native" ? "C++" : "WASM"} generator), posted`, m.time.optimistic],
      ["optimistic, TS twin (the prover node's post step), posted", m.time.twin],
      [
        `proven, proof submitted${p.phases ? ` (the proof: TS reference ${med(p.phases.reference)}, witness ${med(p.phases.witness)}, proof + verification ${med(p.phases.proof)})` : ""}`,
        p,
      ],
    ];
    for (const [what, x] of paths) {
      if (!x) continue;
      const target = m.model === "mnist-lenet5" && x !== p ? `<= ${t.lenetPostedSeconds} s: ${median(x.total) <= t.lenetPostedSeconds ? "met" : "MISSED"}` : "-";
      L.push(
        `| ${m.model} | ${what} | ${range(x.total)} | ${[x.claim, x.input, x.compute, x.tx].map(med).join(" / ")} | ${x === p ? "-" : `${(median(p.total) / median(x.total)).toFixed(1)}x`} | ${target} |`,
      );
    }
  }
  L.push("", "![optimistic vs proven: gas and time, iris-mlp and LeNet-5](optimistic.svg)", "");
  return L;
}

/**
 * Both paths side by side (bench/optimistic.svg): gas per model as stacked bars (the claim, in a lighter tint, then
 * proven submitResult, or optimistic postResult + finalizeResult; a wrong post disproved by one proof), and the time
 * from job opened to result on chain (optimistic posted, by the witness or the TS twin; proven submitted; log scale). Hand-written SVG, as the
 * report's other charts.
 */
export function renderOptimisticSvg(r: BenchResults): string {
  const o = r.optimistic;
  const W = 840;
  const H = 433;
  const mt = 56;
  const mb = 117;
  const ph = H - mt - mb;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(
    `<text x="20" y="22" font-size="14" font-weight="bold">Optimistic vs proven results (Hardhat${o ? `, ${o.cores} cores, ${o.generatedAt.slice(0, 10)}` : ""})</text>`,
  );
  if (!o?.models.length) {
    out.push(`<text x="40" y="${mt + 30}">not measured (npm run bench:optimistic)</text>`, "</svg>");
    return out.join("\n") + "\n";
  }
  const models = o.models;
  const colors = { proven: "#1f77b4", optimistic: "#2ca02c", twin: "#17becf", challenge: "#ff7f0e" } as const;
  const tint = { proven: "#aec7e8", optimistic: "#98df8a", twin: "#9edae5", challenge: "#ffbb78" } as const;
  type Bar = { key: keyof typeof colors; label: string; parts: (m: OptimisticModel) => number[]; text: (v: number) => string; tip: (m: OptimisticModel) => string };
  /** One panel of grouped bars (one group per model); a bar of several parts is stacked, its first part tinted. */
  const panel = (x0: number, pw: number, title: string, bars: Bar[], sy: (v: number) => number, ticks: { v: number; label: string }[]) => {
    out.push(`<text x="${x0}" y="${mt - 14}" font-weight="bold">${xml(title)}</text>`);
    for (const t of ticks) {
      out.push(`<line x1="${x0}" y1="${sy(t.v).toFixed(1)}" x2="${x0 + pw}" y2="${sy(t.v).toFixed(1)}" stroke="#ddd"/>`);
      out.push(`<text x="${x0 - 6}" y="${(sy(t.v) + 4).toFixed(1)}" text-anchor="end">${t.label}</text>`);
    }
    out.push(`<rect x="${x0}" y="${mt}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
    const gw = pw / models.length;
    const bw = Math.min(44, (gw - 24) / bars.length);
    models.forEach((m, i) => {
      const gx = x0 + i * gw + (gw - bw * bars.length) / 2;
      bars.forEach((b, k) => {
        const x = gx + k * bw;
        const parts = b.parts(m);
        if (!parts.length) return;
        let below = 0;
        parts.forEach((v, j) => {
          const top = sy(below + v);
          const bottom = sy(below);
          const fill = parts.length > 1 && j === 0 ? tint[b.key] : colors[b.key];
          out.push(
            `<rect x="${(x + 2).toFixed(1)}" y="${top.toFixed(1)}" width="${(bw - 4).toFixed(1)}" height="${(bottom - top).toFixed(1)}" fill="${fill}"><title>${xml(`${m.model}, ${b.label}: ${b.tip(m)}`)}</title></rect>`,
          );
          below += v;
        });
        out.push(`<text x="${(x + bw / 2).toFixed(1)}" y="${(sy(below) - 4).toFixed(1)}" text-anchor="middle" font-size="10">${xml(b.text(below))}</text>`);
      });
      out.push(`<text x="${(x0 + i * gw + gw / 2).toFixed(1)}" y="${mt + ph + 16}" text-anchor="middle">${xml(m.model)}</text>`);
    });
  };
  const k = (v: number) => `${Math.round(v / 1000)}k`;
  const f = (v: number) => v.toLocaleString("en-US");
  // gas: linear, 50k steps
  const gasMax =
    Math.ceil(Math.max(OPTIMISTIC_TARGETS.challengeByProof, ...models.flatMap((m) => [m.gas.provenClaim + m.gas.provenSubmit, m.gas.challengeByProof])) / 50_000) *
    50_000;
  const gx0 = 70;
  const gpw = 330;
  const gy = (v: number) => mt + ph - (v / gasMax) * ph;
  panel(
    gx0,
    gpw,
    "Gas per result (no callback)",
    [
      {
        key: "proven",
        label: "proven: claim + submitResult",
        parts: (m) => [m.gas.provenClaim, m.gas.provenSubmit],
        text: k,
        tip: (m) => `${f(m.gas.provenClaim)} + ${f(m.gas.provenSubmit)}`,
      },
      {
        key: "optimistic",
        label: "optimistic: claim + postResult + finalizeResult",
        parts: (m) => [m.gas.claimOptimistic, m.gas.post + m.gas.finalize],
        text: k,
        tip: (m) => `${f(m.gas.claimOptimistic)} + ${f(m.gas.post)} + ${f(m.gas.finalize)}`,
      },
      { key: "challenge", label: "a wrong post disproved by one proof", parts: (m) => [m.gas.challengeByProof], text: k, tip: (m) => f(m.gas.challengeByProof) },
    ],
    gy,
    Array.from({ length: gasMax / 50_000 + 1 }, (_, i) => ({ v: i * 50_000, label: k(i * 50_000) })),
  );
  const cy = gy(OPTIMISTIC_TARGETS.challengeByProof);
  out.push(`<line x1="${gx0}" y1="${cy.toFixed(1)}" x2="${gx0 + gpw}" y2="${cy.toFixed(1)}" stroke="${colors.challenge}" stroke-dasharray="6 4"/>`);
  // time: log scale, whole decades
  const times = models.flatMap((m) => [m.time.optimistic, m.time.twin, m.time.proven].flatMap((x) => (x ? [median(x.total)] : [])));
  const e0 = Math.floor(Math.log10(Math.min(...times) / 2)); // room under the shortest bar
  const e1 = Math.ceil(Math.log10(Math.max(...times, OPTIMISTIC_TARGETS.lenetPostedSeconds * 1.2)));
  const tx0 = 500;
  const tpw = 320;
  const ty = (v: number) => mt + ph - ((Math.log10(Math.max(v, 10 ** e0)) - e0) / (e1 - e0)) * ph;
  const decade = (e: number) => (e >= 0 ? `${10 ** e} s` : e >= -3 ? `${10 ** (e + 3)} ms` : `${10 ** (e + 6)} µs`);
  panel(
    tx0,
    tpw,
    "Job opened -> result on chain (median, log scale)",
    [
      {
        key: "proven",
        label: "proven: opened -> proof submitted",
        parts: (m) => [median(m.time.proven.total)],
        text: secs,
        tip: (m) => `${secs(median(m.time.proven.total))}, of which the proof ${secs(median(m.time.proven.compute))}`,
      },
      {
        key: "optimistic",
        label: "optimistic, witness only: opened -> posted",
        parts: (m) => [median(m.time.optimistic.total)],
        text: secs,
        tip: (m) => `${secs(median(m.time.optimistic.total))}, of which the witness ${secs(median(m.time.optimistic.compute))}`,
      },
      {
        key: "twin",
        label: "optimistic, TS twin (the prover node's post step): opened -> posted",
        parts: (m) => (m.time.twin ? [median(m.time.twin.total)] : []),
        text: secs,
        tip: (m) => (m.time.twin ? `${secs(median(m.time.twin.total))}, of which the TS twin ${secs(median(m.time.twin.compute))}` : ""),
      },
    ],
    ty,
    Array.from({ length: e1 - e0 + 1 }, (_, i) => ({ v: 10 ** (e0 + i), label: decade(e0 + i) })),
  );
  const ly = ty(OPTIMISTIC_TARGETS.lenetPostedSeconds);
  out.push(`<line x1="${tx0}" y1="${ly.toFixed(1)}" x2="${tx0 + tpw}" y2="${ly.toFixed(1)}" stroke="${colors.optimistic}" stroke-dasharray="6 4"/>`);
  out.push(
    `<text x="${tx0 + tpw - 4}" y="${(ly - 4).toFixed(1)}" text-anchor="end" font-size="10" fill="${colors.optimistic}">${xml(`target: LeNet-5 posted <= ${OPTIMISTIC_TARGETS.lenetPostedSeconds} s`)}</text>`,
  );
  const legend: [keyof typeof colors, string][] = [
    ["proven", "proven: claim (light) + submitResult with a Groth16 proof; time: opened -> proof submitted"],
    ["optimistic", "optimistic: claim (light) + postResult + finalizeResult; time: opened -> posted (claim, witness only, post)"],
    ["twin", "time: optimistic, opened -> posted with the output of the circuit's TS twin (the prover node's post step)"],
    ["challenge", `a wrong post disproved by one proof (the watcher's submitResult); dashed: target, a challenge <= ${k(OPTIMISTIC_TARGETS.challengeByProof)} gas`],
  ];
  legend.forEach(([key, label], i) => {
    const y = H - 77 + i * 17;
    out.push(`<rect x="20" y="${y - 10}" width="12" height="12" fill="${colors[key]}"/>`);
    out.push(`<text x="38" y="${y}" font-size="11">${xml(label)}</text>`);
  });
  out.push("</svg>");
  return out.join("\n") + "\n";
}

/** Gas of subscriptions (issue 33), measured by scripts/apps/bench/subscription-gas.ts. */
export interface SubscriptionGas {
  generatedAt: string;
  command: string;
  model: string;
  constraints: number;
  /** `ScheduledForecaster.start`: the consumer's call that creates and pays a 3-run subscription. */
  create: number;
  /** `openRun` of a subscription's first run (fresh storage) and of a later one. */
  openFirst: number;
  openLater: number;
  /** A claimant's `submitResult` of a run with both callbacks: the first run, and a later one. */
  deliverFirst: number;
  deliverSingle: number;
  batch: { size: number; gas: number; perRun: number };
  totalSeconds: number;
}

/** The subscriptions section: each figure against issue 33's target. */
function renderSubscription(g: SubscriptionGas): string[] {
  const n = (v: number) => v.toLocaleString("en-US");
  const row = (what: string, v: number, target?: number) =>
    `| ${what} | ${n(v)} | ${target === undefined ? "-" : `<= ${n(target)}: ${v <= target ? "met" : "MISSED"}`} |`;
  return [
    "## Subscriptions (gas)",
    "",
    `Measured ${g.generatedAt.slice(0, 10)} by \`${g.command}\` (${secs(g.totalSeconds)}): \`${g.model}\` (${n(g.constraints)} constraints, public input, values head) registered with its generated batch verifier; \`ScheduledForecaster\` consumers reading an observation oracle; every run proved with a real Groth16 proof by a staked claimant. docs/market-rules.md, "Subscriptions".`,
    "",
    "| step | gas | target (issue 33) |",
    "|---|---:|---|",
    row("create a subscription (the consumer's `start`: 3 runs paid up front)", g.create, 200_000),
    row("open a subscription's first run (`openRun`: inputs read from the oracle, the market job opened)", g.openFirst),
    row("open a later run", g.openLater, 140_000),
    row("deliver the first run (claimant `submitResult`, verification, the subscription's and the consumer's callbacks)", g.deliverFirst),
    row("deliver a later run", g.deliverSingle, 320_000),
    row(`deliver ${g.batch.size} runs of ${g.batch.size} subscriptions in one \`submitResults\`, per run`, g.batch.perRun, 110_000),
    "",
  ];
}

/** The native Groth16 prover against snarkjs on the same keys and witnesses, interleaved (issue 32). */
export interface ProverComparison {
  generatedAt: string;
  command: string;
  threads: number;
  rows: {
    model: string;
    constraints: number;
    snarkjs: { times: number[]; maxRSSKiB?: number };
    native: { times: number[]; maxRSSKiB?: number; phases: { read: number; qap: number; fft: number; msm: number } };
    /** The witness of the same input, alternately with the proofs: circom's WASM and, where built, its C++ generator. */
    witness?: { wasm: number[]; native?: number[] };
    samePublicSignals: boolean;
  }[];
  totalSeconds: number;
}

/** The prover section: per model, snarkjs and the native prover (median, min - max, peak memory), the ratio, the phases. */
function renderProver(p: ProverComparison): string[] {
  const mib = (k?: number) => (k === undefined ? "-" : `${(k / 1024).toFixed(0)} MiB`);
  const range = (xs: number[]) => `${secs(median(xs))} (${secs(Math.min(...xs))} - ${secs(Math.max(...xs))})`;
  const L = [
    "## Native prover vs snarkjs (Groth16, same keys and witnesses)",
    "",
    `Measured ${p.generatedAt.slice(0, 10)} by \`${p.command}\`: each model's witness computed once, then snarkjs' \`groth16.prove\` (in a child process) and the native prover (native/groth16/prover.cpp, ${p.threads} threads) alternately, ${p.rows[0]?.snarkjs.times.length ?? 0} proofs each; every native proof verified with the key and its public signals compared with snarkjs'. The witness of the same input is timed alongside: circom's WASM (snarkjs, in a child process) and circom's C++ generator where one was built (\`--native-witness\`; its witness must be the WASM's, byte for byte). Peak memory: GNU time's maximum resident size of the proving process. docs/prover.md, "Native prover".`,
    "",
    "| model | constraints | snarkjs | native | speed-up | peak memory snarkjs / native | native: read / QAP / FFT / MSM (medians) | witness: WASM / C++ | same public signals |",
    "|---|---|---|---|---|---|---|---|---|",
  ];
  const witness = (w?: { wasm: number[]; native?: number[] }) =>
    !w?.wasm.length ? "-" : `${secs(median(w.wasm))} / ${w.native?.length ? secs(median(w.native)) : "not built"}`;
  for (const r of p.rows)
    L.push(
      `| ${r.model} | ${r.constraints.toLocaleString("en-US")} | ${range(r.snarkjs.times)} | ${range(r.native.times)} | ${(median(r.snarkjs.times) / median(r.native.times)).toFixed(1)}x | ${mib(r.snarkjs.maxRSSKiB)} / ${mib(r.native.maxRSSKiB)} | ${[r.native.phases.read, r.native.phases.qap, r.native.phases.fft, r.native.phases.msm].map(secs).join(" / ")} | ${witness(r.witness)} | ${r.samePublicSignals ? "yes" : "NO"} |`,
    );
  L.push("");
  return L;
}

/** Cold prover nodes fetching a published bundle: job opened -> bundle verified -> job fulfilled. */
export interface OpenNetworkResult {
  generatedAt: string;
  command: string;
  transport: string;
  rows: {
    model: string;
    constraints: number;
    bundleBytes: number;
    openedToVerifiedMs: number;
    fetchMs: number;
    verifyMs: number;
    openedToFulfilledMs: number;
    /** A second node of the machine that found the bundle's circuit verdict (absent in older results: false). */
    verdictCached?: boolean;
  }[];
  totalSeconds: number;
}

/** The open-network section: one line per model, medians over the cold nodes (min - max). */
function renderOpenNetwork(o: OpenNetworkResult): string[] {
  const L: string[] = [];
  const ms = (xs: number[]): string => `${secs(median(xs) / 1000)} (${secs(Math.min(...xs) / 1000)} - ${secs(Math.max(...xs) / 1000)})`;
  L.push("## Open network: a cold prover node");
  L.push("");
  L.push(
    `Measured by \`${o.command}\` on ${o.generatedAt} (${secs(o.totalSeconds)}). A \`hardhat node\`, the owner's Helia node holding the ` +
      `published bundle (registry uri \`ipfs://<cid>\`) and, per run, a prover node that starts with no state, no bundle cache and an empty ` +
      `blockstore (PROVER_SERVE=all, ${o.transport}). The clock starts when the job's opening transaction is mined. *Fetch* is the ` +
      `bundle download (every block checked against the CID); *verify* is every check of docs/prover.md ("Open network": file hashes, ` +
      `registry hashes and layout, weights commitment, zkey vs vk, a sample witness and proof, the verifier audit; a second node of the same machine skips the file-only ones). Median of the runs (min - max).`,
  );
  L.push("");
  L.push("| model | constraints | bundle | runs | opened -> bundle verified | fetch | verify | opened -> fulfilled |");
  L.push("|---|---:|---:|---:|---:|---:|---:|---:|");
  for (const [model, cached] of [...new Set(o.rows.map((r) => `${r.model}\t${r.verdictCached === true}`))].map((k) => k.split("\t"))) {
    const rs = o.rows.filter((r) => r.model === model && String(r.verdictCached === true) === cached);
    L.push(
      `| ${model}${cached === "true" ? " (second node: circuit verdict cached)" : ""} | ${rs[0].constraints} | ${(rs[0].bundleBytes / 2 ** 20).toFixed(2)} MiB | ${rs.length} | ${ms(rs.map((r) => r.openedToVerifiedMs))} | ` +
        `${ms(rs.map((r) => r.fetchMs))} | ${ms(rs.map((r) => r.verifyMs))} | ${ms(rs.map((r) => r.openedToFulfilledMs))} |`,
    );
  }
  L.push("");
  return L;
}

/** Gas per verified result of `submitResults` against batch size, for one model (scripts/apps/bench/batch-gas.ts). */
export interface BatchGasResult {
  status: string;
  measuredAt?: string;
  measuredBy?: string;
  model?: string;
  batchVerifierContract?: string;
  batchVerifierDeployment?: number;
  /** `submitResult` by the claimant, plain snarkjs verifier / generated batch verifier. */
  submitResultPlain?: number;
  submitResultBatchVerifier?: number;
  batches?: { size: number; gas: number; perResult: number }[];
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function secs(v: number): string {
  return v < 0.1 ? `${(v * 1000).toFixed(1)} ms` : v < 10 ? `${v.toFixed(2)} s` : `${v.toFixed(1)} s`;
}

function spread(xs: number[] | undefined): string {
  if (!xs?.length) return "-";
  return `${secs(median(xs))} (${secs(Math.min(...xs))} - ${secs(Math.max(...xs))})`;
}

function mib(kib: number | undefined): string {
  return kib === undefined ? "-" : `${(kib / 1024).toFixed(0)} MiB`;
}

/** Peak memory: the largest process of the step (GNU time) and, when it differs, the step's node process alone. */
function mem(m: StepMeasure["mem"] | undefined): string {
  if (!m) return "-";
  if (m.treeMaxRSSKiB !== undefined && m.processMaxRSSKiB !== undefined && Math.abs(m.treeMaxRSSKiB - m.processMaxRSSKiB) > 1024) {
    return `${mib(m.treeMaxRSSKiB)} (node ${mib(m.processMaxRSSKiB)})`;
  }
  return mib(m.treeMaxRSSKiB ?? m.processMaxRSSKiB);
}

function bytes(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return "-";
  return n >= 2 ** 20 ? `${(n / 2 ** 20).toFixed(1)} MiB` : `${(n / 1024).toFixed(0)} KiB`;
}

function pct(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

function xml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function esc(s: string): string {
  return s.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

/** The dev-setup section: direct keys against today's snarkjs path, same synthetic R1CS, same run. */
function renderSetup(L: string[], rows: SetupResult[]): void {
  L.push("## Dev setup: Groth16 keys computed directly vs snarkjs");
  L.push("");
  L.push(
    "Measured by `npm run bench -- --setup <powers>` " +
      `(${[...new Set(rows.map((x) => x.measuredAt))].join(", ")}). Each row is a synthetic R1CS (scripts/apps/bench/synthetic.ts) whose Groth16 ` +
      "domain is exactly 2^power. **direct**: the dev Groth16 keys computed from the public dev secrets with batched fixed-base " +
      "multiplications (scripts/engine/setup/direct-zkey.ts, no ptau). **snarkjs**: today's path on the same R1CS, the dev ptau with snarkjs " +
      "(`powersoftau new` + beacon + `prepare phase2`) then `zkey new` + the dev beacon, each in its own child; stopped when its time cap " +
      "runs out (then shown as \"> N s, stopped\"). Both are the insecure dev recipe: keys NOT FOR PRODUCTION. The direct keys are then used " +
      "for one `groth16 prove` of the synthetic witness, verified with their exported vkey. Targets (issue 17): 2^16 <= 60 s, 2^18 <= 5 min, " +
      "peak memory <= 4 GiB.",
  );
  L.push("");
  L.push(
    "| domain | constraints | direct keys | direct peak memory | proving key | proof with them (prove time, peak memory) | snarkjs ptau | snarkjs zkey new + beacon | snarkjs total | snarkjs peak memory | same bytes |",
  );
  L.push("|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---|");
  for (const x of [...rows].sort((a, b) => a.power - b.power)) {
    const d = x.direct.status === "ok" && x.direct.seconds !== undefined ? secs(x.direct.seconds) : esc(x.direct.status);
    const pr = !x.prove ? "-" : x.prove.status === "ok" && x.prove.seconds !== undefined ? `verified (${secs(x.prove.seconds)}, ${mem(x.prove.mem)})` : esc(x.prove.status);
    const sj = x.snarkjs;
    const stopped = `> ${sj.timeoutSeconds} s, stopped`;
    const ptau = sj.ptauSeconds !== undefined ? secs(sj.ptauSeconds) : sj.status === "stopped" ? stopped : "-";
    const zk = sj.zkeySeconds !== undefined ? secs(sj.zkeySeconds) : sj.status === "stopped" && sj.ptauSeconds !== undefined ? `> ${secs(sj.timeoutSeconds - sj.ptauSeconds)}, stopped` : "-";
    const total = sj.status === "ok" ? secs((sj.ptauSeconds ?? 0) + (sj.zkeySeconds ?? 0)) : sj.status === "stopped" ? stopped : esc(sj.status);
    const same = sj.sha256 === undefined || x.direct.sha256 === undefined ? "-" : sj.sha256 === x.direct.sha256 ? "yes (sha256)" : "**NO**";
    L.push(
      `| 2^${x.power} | ${x.constraints} | ${d} | ${mem(x.direct.mem)} | ${bytes(x.direct.zkeyBytes)} | ${pr} | ${ptau} | ${zk} | ${total} | ${mem(sj.mem)} | ${same} |`,
    );
  }
  L.push("");
}

const SYSTEM_NAME = { groth16: "Groth16", plonk: "PLONK", fflonk: "FFLONK" } as const;

export function renderReport(r: BenchResults): string {
  const L: string[] = [];
  L.push("# Benchmark report");
  L.push("");
  L.push(`Generated by \`${r.command}\` (scripts/apps/bench/run.ts) on ${r.generatedAt}; total run time ${secs(r.totalSeconds)}. Do not edit: rerun the benchmark.`);
  L.push("");
  L.push("## Machine and toolchain");
  L.push("");
  L.push("| | |");
  L.push("|---|---|");
  L.push(`| CPU | ${r.machine.cpu}, ${r.machine.cores} cores |`);
  L.push(`| memory | ${r.machine.totalMemGiB.toFixed(1)} GiB |`);
  L.push(`| OS | ${r.machine.platform} |`);
  L.push(`| node | ${r.versions.node} |`);
  L.push(`| snarkjs | ${r.versions.snarkjs} |`);
  L.push(`| circom2 | ${r.versions.circom2} (circom compiler ${r.versions.circom}, \`--O2\`) |`);
  L.push(`| solc | ${r.versions.solc} |`);
  L.push(`| hardhat | ${r.versions.hardhat} |`);
  L.push("");
  L.push("## Method");
  L.push("");
  L.push(
    `- Each measured step (compile, setup, witness, prove) runs in its own child process (\`scripts/apps/bench/step.ts\`). ` +
      `Peak memory is that child's peak resident size: ${r.config.memory}. ` +
      `Compilation runs circom2 in a grandchild process, so its figure is circom2's own peak.`,
  );
  L.push(
    `- Witness and proving times are the median of ${r.config.runs} timed runs in one child, after one untimed warm-up run ` +
      `(which loads the WebAssembly and starts snarkjs' worker threads); min - max in parentheses. Compile and setup times are single runs.`,
  );
  L.push(
    "- Setup: DEV KEYS, NOT FOR PRODUCTION. Groth16 uses the dev keys `build:model` makes, computed directly from the public dev secrets " +
      "(scripts/engine/setup/direct-zkey.ts, no ptau; the setup time is that computation; \"direct\" in the ptau column)" +
      (r.config.maxGroth16Power !== undefined ? `, up to a domain of 2^${r.config.maxGroth16Power} (\`--max-groth16-power\`)` : "") +
      ". PLONK and FFLONK use the project's deterministic dev powers of tau (cached per machine, warm cache: generation time is not counted); " +
      `the smallest cached ptau that is big enough is used; circuits that need a ptau above 2^${r.config.maxPower} are skipped (\`--max-power\`). ` +
      "Model sections measured before 2026-12-03 (see each section's date) used snarkjs' dev recipe for Groth16 (`zkey new` + beacon on the dev ptau) and the 2^14 cap.",
  );
  L.push(
    "- Visibility: **open weights** = weights are circuit constants (the verifying key binds them); **private weights** = weights are private " +
      "witness signals that the circuit range-checks, packs and hashes into the public model commitment (same quantized model, `weights: \"private\"`). " +
      "The input follows the model's layout (docs/public-signals.md): **committed** (iris, MNIST: a private witness behind its salted Poseidon " +
      "commitment, public signal 2) or **public** (temp-forecast, rain-risk, weather-cnn: the values packed into public signals by the market); the other public signals " +
      "are the result, the model commitment and the job binding. Committed-input models also report the private-delivery path (the input " +
      "encrypted to the claimant, `deliverInput`).",
  );
  L.push("- PLONK / FFLONK rows are the gate counts snarkjs' setup reports after converting the R1CS (linear combinations cost extra gates there).");
  L.push("- Gas: Hardhat's in-process network (`npx hardhat run scripts/apps/bench/gas.ts`), the bundled Groth16 verifier of the open-weights build (contracts/verifiers/), one job per path.");
  const gen = Object.entries(r.ptauGenerated);
  if (gen.length) L.push(`- Cold ptau cache in this run: generated ${gen.map(([p, s]) => `2^${p} in ${secs(s)}`).join(", ")} (not part of any figure).`);
  L.push("");
  if (r.setup?.length) renderSetup(L, r.setup);

  for (const m of r.models) {
    L.push(`## ${m.name}`);
    if (m.measuredAt && m.measuredAt !== r.generatedAt) {
      L.push("");
      L.push(`Measured on ${m.measuredAt} by \`${m.measuredBy ?? "?"}\` (kept by a later \`--merge\` run).`);
    }
    L.push("");
    if (m.status) {
      L.push(m.status);
      L.push("");
      continue;
    }
    if (m.accuracy) {
      const a = m.accuracy;
      L.push(
        `Accuracy on the ${a.dataset}, ${a.n} samples: float top-1 **${pct(a.floatAccuracy)}**, quantized top-1 **${pct(a.quantizedAccuracy)}**, ` +
          `quantized = float argmax on ${pct(a.agreement)}; largest logit error ${a.maxLogitError.toFixed(4)} (largest |logit| ${a.maxLogit.toFixed(2)}).`,
      );
    } else if (m.regression) {
      const r = m.regression;
      L.push(
        `Error on the ${r.dataset}, ${r.n} samples: float MAE **${r.floatMae.toFixed(3)}**, quantized MAE **${r.quantizedMae.toFixed(3)}** (output units); ` +
          `quantized vs float: mean ${r.quantizationMae.toFixed(3)}, worst ${r.quantizationMaxError.toFixed(3)}.`,
      );
    } else if (m.probability) {
      const p = m.probability;
      L.push(
        `Probability on the ${p.dataset}, ${p.n} samples: accuracy at p >= 0.5 float **${pct(p.floatAccuracy)}**, quantized **${pct(p.quantizedAccuracy)}**; ` +
          `quantized vs float p: mean ${p.probabilityMae.toFixed(4)}, worst ${p.probabilityMaxError.toFixed(4)}; float log-loss ${p.floatLogLoss.toFixed(3)}.`,
      );
    } else L.push(`Accuracy: not measured: ${esc(m.accuracyError ?? "?")}`);
    L.push("");
    L.push("### Circuit");
    L.push("");
    L.push("| weights | status | R1CS constraints | wires | PLONK rows | FFLONK rows | compile time | compile peak memory | witness time |");
    L.push("|---|---|---:|---:|---:|---:|---:|---:|---:|");
    for (const md of m.modes) {
      const rows = (s: string): string => {
        const x = md.systems?.find((y) => y.system === s)?.rows;
        return x === undefined ? "-" : String(x);
      };
      L.push(
        `| ${md.mode} | ${esc(md.status)} | ${md.constraints ?? "-"} | ${md.wires ?? "-"} | ${rows("plonk")} | ${rows("fflonk")} | ${md.compile ? secs(md.compile.seconds) : "-"} | ${mem(md.compile?.mem)} | ${spread(md.witness?.times)} |`,
      );
    }
    L.push("");
    L.push("### Setup and proving");
    L.push("");
    L.push("| weights | system | status | ptau (needed / used) | setup time | setup peak memory | proving key | proving time | proving peak memory |");
    L.push("|---|---|---|---:|---:|---:|---:|---:|---:|");
    for (const md of m.modes) {
      if (!md.systems?.length) {
        L.push(`| ${md.mode} | - | ${esc(md.status)} | | | | | | |`);
        continue;
      }
      for (const s of md.systems) {
        L.push(
          `| ${md.mode} | ${SYSTEM_NAME[s.system]}${s.system === "groth16" ? ` (${s.prover ?? "snarkjs"})` : ""} | ${esc(s.status)} | ${s.ptauPower !== undefined ? `2^${s.ptauPower}` : "-"}${s.ptauUsed !== undefined ? ` / 2^${s.ptauUsed}` : s.directKeys ? " / direct" : ""} | ${s.setup ? secs(s.setup.seconds) : "-"} | ${mem(s.setup?.mem)} | ${bytes(s.zkeyBytes)} | ${spread(s.prove?.times)} | ${mem(s.prove?.mem)} |`,
        );
      }
    }
    L.push("");
    L.push("### Gas (Groth16, open weights)");
    L.push("");
    const g = m.gas;
    if (!g || g.status !== "ok") L.push(esc(g?.status ?? "not measured"));
    else {
      L.push("| step | gas |");
      L.push("|---|---:|");
      L.push(`| deploy ${g.verifierContract} + its factory Groth16VerifierAdapter | ${g.verifierDeployment} |`);
      L.push(`| register model (ERC-7992 registry) | ${g.registerModel} |`);
      L.push(`| open the first job on the version (copies its verification target) | ${g.openJob} |`);
      L.push(`| submit result, unclaimed, the prover's first payout (${g.publicSignals} public signals) | ${g.submitResult} |`);
      if (g.openJobLater !== undefined) {
        L.push(`| open a later job (fee escrowed) | ${g.openJobLater} |`);
        L.push(`| claim (bond locked) | ${g.claim} |`);
        L.push(`| submit result by the claimant (on-chain Groth16 verification) | ${g.submitResultClaimant} |`);
      }
      if (g.openPrivateJob !== undefined) {
        L.push(`| private delivery: open a later job (\`openPrivateJob\`) | ${g.openPrivateJob} |`);
        L.push(`| private delivery: claim | ${g.claimPrivate} |`);
        L.push(`| private delivery: \`deliverInput\` (${g.ciphertextBytes}-byte ciphertext) | ${g.deliverInput} |`);
        L.push(`| private delivery: submit result by the claimant | ${g.submitResultPrivate} |`);
      }
    }
    L.push("");
  }
  L.push(...renderBatchGas(r.batchGas));
  L.push("## Proving time against constraints");
  L.push("");
  L.push("![proving time against R1CS constraints](proving-time.svg)");
  L.push("");
  L.push(...renderPhases(r));
  if (r.prover) L.push(...renderProver(r.prover));
  if (r.subscription) L.push(...renderSubscription(r.subscription));
  if (r.soak) L.push(...renderSoak(r.soak));
  if (r.optimistic) L.push(...renderOptimistic(r.optimistic));
  if (r.openNetwork) L.push(...renderOpenNetwork(r.openNetwork));
  if (r.explorer) L.push(...renderExplorer(r.explorer));
  return L.join("\n");
}

/** "Where the proving time goes": the witness and one Groth16 proof per phase, for every measured model and mode. */
function renderPhases(r: BenchResults): string[] {
  const rows: string[] = [];
  for (const m of r.models)
    for (const md of m.modes) {
      const g = md.systems?.find((s) => s.system === "groth16");
      const p = g?.phases;
      if (!p || !md.witness) continue;
      const w = [...md.witness.times].sort((a, b) => a - b)[md.witness.times.length >> 1];
      const share = (v: number): string => `${secs(v)} (${Math.round((100 * v) / p.total)}%)`;
      rows.push(
        `| ${m.name} | ${md.mode} | ${md.constraints ?? "-"} | 2^${g.ptauPower ?? "?"} | ${secs(w)} | ${share(p.read)} | ${share(p.qap)} | ${share(p.fft)} | ${share(p.msm)} | ${secs(p.total)} |`,
      );
    }
  if (!rows.length) return [];
  return [
    "## Where the proving time goes (Groth16)",
    "",
    "The witness (median of the timed runs, circom's WebAssembly witness calculator) and the Groth16 proof per phase: the native prover's " +
      "own timings of its last proof (the prover column of the table above says which proved), or one more snarkjs proof timed from " +
      "snarkjs' own phase announcements (scripts/engine/prove/phases.ts): reading the proving key and witness, the QAP evaluation (A, B, C at " +
      "the witness), the FFTs of the quotient (3 inverse + 3 forward on the domain, and joining them), and the multi-scalar " +
      "multiplications (A, B1, B2, C and H, with reading their points).",
    "",
    "| model | weights | constraints | domain | witness | read | QAP | FFT | MSM | proof total |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...rows,
    "",
  ];
}

/** Targets of issue 18 (gas per verified result, claimant submitting). */
const BATCH_TARGETS: Record<number, number> = { 4: 130_000, 16: 90_000 };

/** The "Batch settlement" section of the report. */
function renderBatchGas(b: BatchGasResult | undefined): string[] {
  const L: string[] = ["## Batch settlement (gas per verified result)", ""];
  if (!b || b.status !== "ok" || !b.batches) {
    L.push(esc(b?.status ?? "not measured (`npm run bench -- --batch-gas-only`)"), "");
    return L;
  }
  L.push(
    `${b.model}, Hardhat network, one run (\`BENCH_MODEL=${b.model} npx hardhat run scripts/apps/bench/batch-gas.ts\`), measured on ${b.measuredAt ?? "?"} by \`${b.measuredBy ?? "?"}\`: ` +
      `claimed jobs submitted by their claimant (staked prover), \`submitResults\` verifying all proofs of a batch with one randomized pairing check ` +
      `against ${b.batchVerifierContract} (docs/contracts.md, "Batch settlement").`,
  );
  L.push("");
  L.push("| submission | gas | gas per verified result | target |");
  L.push("|---|---:|---:|---:|");
  L.push(`| \`submitResult\`, plain snarkjs verifier | ${b.submitResultPlain} | ${b.submitResultPlain} | |`);
  L.push(`| \`submitResult\`, batch verifier (same \`verifyProof\`) | ${b.submitResultBatchVerifier} | ${b.submitResultBatchVerifier} | |`);
  for (const x of b.batches) {
    const t = BATCH_TARGETS[x.size];
    L.push(`| \`submitResults\`, batch of ${x.size} | ${x.gas} | ${x.perResult} | ${t ? `<= ${t} ${x.perResult <= t ? "(met)" : "(MISSED)"}` : ""} |`);
  }
  L.push("");
  L.push(`Deploying ${b.batchVerifierContract} and its factory adapter: ${b.batchVerifierDeployment} gas.`);
  L.push("");
  L.push("![gas per verified result against batch size](batch-gas.svg)");
  L.push("");
  return L;
}

/** Gas per verified result against batch size (linear axes), with the single submission as a reference line. */
export function renderBatchSvg(r: BenchResults): string {
  const b = r.batchGas;
  const W = 640;
  const H = 360;
  const ml = 80;
  const mr = 40;
  const mt = 40;
  const mb = 50;
  const pw = W - ml - mr;
  const ph = H - mt - mb;
  const o: string[] = [];
  o.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  o.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  const pts = b?.status === "ok" ? (b.batches ?? []) : [];
  o.push(`<text x="${ml}" y="22" font-size="14" font-weight="bold">Gas per verified result vs batch size (${xml(b?.model ?? "-")}, claimant, Hardhat)</text>`);
  if (!pts.length || b?.submitResultPlain === undefined) {
    o.push(`<text x="${ml + 20}" y="${mt + 30}">batch gas not measured</text>`, "</svg>");
    return o.join("\n") + "\n";
  }
  const single = b.submitResultPlain;
  const xMax = Math.max(...pts.map((p) => p.size));
  const yMax = Math.ceil(Math.max(single, ...pts.map((p) => p.perResult)) / 50_000) * 50_000;
  const sx = (v: number): number => ml + (v / xMax) * pw;
  const sy = (v: number): number => mt + ph - (v / yMax) * ph;
  for (let y = 0; y <= yMax; y += 50_000) {
    o.push(`<line x1="${ml}" y1="${sy(y).toFixed(1)}" x2="${ml + pw}" y2="${sy(y).toFixed(1)}" stroke="#ddd"/>`);
    o.push(`<text x="${ml - 6}" y="${(sy(y) + 4).toFixed(1)}" text-anchor="end">${y / 1000}k</text>`);
  }
  for (const p of pts) {
    o.push(`<line x1="${sx(p.size).toFixed(1)}" y1="${mt}" x2="${sx(p.size).toFixed(1)}" y2="${mt + ph}" stroke="#eee"/>`);
    o.push(`<text x="${sx(p.size).toFixed(1)}" y="${mt + ph + 16}" text-anchor="middle">${p.size}</text>`);
  }
  o.push(`<rect x="${ml}" y="${mt}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  o.push(`<text x="${ml + pw / 2}" y="${H - 12}" text-anchor="middle">results per transaction (batch size)</text>`);
  o.push(`<text x="16" y="${mt + ph / 2}" text-anchor="middle" transform="rotate(-90 16 ${mt + ph / 2})">gas per verified result</text>`);
  o.push(`<line x1="${ml}" y1="${sy(single).toFixed(1)}" x2="${ml + pw}" y2="${sy(single).toFixed(1)}" stroke="#d62728" stroke-dasharray="6 4"/>`);
  o.push(`<text x="${ml + pw - 4}" y="${(sy(single) - 6).toFixed(1)}" text-anchor="end" fill="#d62728">submitResult, one job: ${single}</text>`);
  for (const [size, t] of Object.entries(BATCH_TARGETS)) {
    o.push(`<line x1="${(sx(Number(size)) - 8).toFixed(1)}" y1="${sy(t).toFixed(1)}" x2="${(sx(Number(size)) + 8).toFixed(1)}" y2="${sy(t).toFixed(1)}" stroke="#2ca02c" stroke-width="2"><title>target ${t}</title></line>`);
  }
  o.push(`<polyline fill="none" stroke="#1f77b4" stroke-width="2" points="${pts.map((p) => `${sx(p.size).toFixed(1)},${sy(p.perResult).toFixed(1)}`).join(" ")}"/>`);
  for (const p of pts) {
    o.push(`<circle cx="${sx(p.size).toFixed(1)}" cy="${sy(p.perResult).toFixed(1)}" r="5" fill="#1f77b4"><title>batch of ${p.size}: ${p.perResult} gas per result</title></circle>`);
    o.push(`<text x="${(sx(p.size) + 8).toFixed(1)}" y="${(sy(p.perResult) - 8).toFixed(1)}" font-size="11">${p.perResult}</text>`);
  }
  o.push(`<text x="${ml + 8}" y="${mt + ph - 8}" font-size="11" fill="#2ca02c">green ticks: targets (130k at 4, 90k at 16)</text>`);
  o.push("</svg>");
  return o.join("\n") + "\n";
}

/** Log-log scatter of median proving time against R1CS constraints, one colour per proof system. Hand-written SVG. */
export function renderSvg(r: BenchResults): string {
  const colors = { groth16: "#1f77b4", plonk: "#d62728", fflonk: "#2ca02c" } as const;
  const pts: { x: number; y: number; system: keyof typeof colors; label: string }[] = [];
  for (const m of r.models) {
    for (const md of m.modes) {
      for (const s of md.systems ?? []) {
        if (s.prove?.times.length && md.constraints) pts.push({ x: md.constraints, y: median(s.prove.times), system: s.system, label: `${m.name} ${md.mode}` });
      }
    }
  }
  const W = 640;
  const H = 400;
  const ml = 70;
  const mr = 170;
  const mt = 40;
  const mb = 50;
  const pw = W - ml - mr;
  const ph = H - mt - mb;
  const lx = pts.map((p) => Math.log10(p.x));
  const ly = pts.map((p) => Math.log10(p.y));
  const x0 = Math.floor(Math.min(...lx, 2));
  const x1 = Math.ceil(Math.max(...lx, x0 + 1));
  const y0 = Math.floor(Math.min(...ly, -1));
  const y1 = Math.ceil(Math.max(...ly, y0 + 1));
  const sx = (v: number): number => ml + ((Math.log10(v) - x0) / (x1 - x0)) * pw;
  const sy = (v: number): number => mt + ph - ((Math.log10(v) - y0) / (y1 - y0)) * ph;
  const o: string[] = [];
  o.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  o.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  o.push(`<text x="${ml}" y="22" font-size="14" font-weight="bold">Proving time (median of ${r.config.runs}) vs R1CS constraints, ${xml(r.machine.cpu)}, ${r.machine.cores} cores</text>`);
  for (let e = x0; e <= x1; e++) {
    const x = sx(10 ** e);
    o.push(`<line x1="${x.toFixed(1)}" y1="${mt}" x2="${x.toFixed(1)}" y2="${mt + ph}" stroke="#ddd"/>`);
    o.push(`<text x="${x.toFixed(1)}" y="${mt + ph + 16}" text-anchor="middle">${(10 ** e).toLocaleString("en-US")}</text>`);
  }
  for (let e = y0; e <= y1; e++) {
    const y = sy(10 ** e);
    o.push(`<line x1="${ml}" y1="${y.toFixed(1)}" x2="${ml + pw}" y2="${y.toFixed(1)}" stroke="#ddd"/>`);
    o.push(`<text x="${ml - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end">${10 ** e >= 1 ? `${10 ** e} s` : `${Math.round(10 ** e * 1000)} ms`}</text>`);
  }
  o.push(`<rect x="${ml}" y="${mt}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  o.push(`<text x="${ml + pw / 2}" y="${H - 12}" text-anchor="middle">R1CS constraints (log scale)</text>`);
  o.push(`<text x="16" y="${mt + ph / 2}" text-anchor="middle" transform="rotate(-90 16 ${mt + ph / 2})">proving time (log scale)</text>`);
  for (const p of pts) {
    const title = `${p.label} ${SYSTEM_NAME[p.system]}: ${p.x} constraints, ${secs(p.y)}`;
    o.push(`<circle cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="5" fill="${colors[p.system]}"><title>${xml(title)}</title></circle>`);
    o.push(`<text x="${(sx(p.x) + 8).toFixed(1)}" y="${(sy(p.y) + 4).toFixed(1)}" font-size="10" fill="#555">${xml(p.label)}</text>`);
  }
  (Object.keys(colors) as (keyof typeof colors)[]).forEach((s, i) => {
    const y = mt + 10 + i * 20;
    o.push(`<circle cx="${ml + pw + 20}" cy="${y}" r="5" fill="${colors[s]}"/>`);
    o.push(`<text x="${ml + pw + 30}" y="${y + 4}">${SYSTEM_NAME[s]}</text>`);
  });
  if (!pts.length) o.push(`<text x="${ml + 20}" y="${mt + 30}">no proving time measured</text>`);
  o.push("</svg>");
  return o.join("\n") + "\n";
}

if (require.main === module) {
  const dir = path.join(__dirname, "..", "..", "..", "bench");
  const r = JSON.parse(fs.readFileSync(path.join(dir, "results.json"), "utf8")) as BenchResults;
  fs.writeFileSync(path.join(dir, "REPORT.md"), renderReport(r));
  fs.writeFileSync(path.join(dir, "proving-time.svg"), renderSvg(r));
  fs.writeFileSync(path.join(dir, "batch-gas.svg"), renderBatchSvg(r));
  if (r.optimistic) fs.writeFileSync(path.join(dir, "optimistic.svg"), renderOptimisticSvg(r));
}
