/**
 * `npm run bench` (issue 8): measures every bundled model in both weight-visibility modes on this machine and writes
 * bench/results.json, bench/REPORT.md and bench/proving-time.svg. Every figure comes from a measurement here.
 *
 *   npm run bench                          every bundled model found under models/
 *   npm run bench -- --quick               iris-mlp only (under 2 minutes with a warm powers-of-tau cache)
 *   npm run bench -- --models iris-mlp,mnist-mlp --runs 7 --max-power 14
 *                                          (Groth16 rows use the direct dev keys of build:model up to a domain of
 *                                          2^18, --max-groth16-power; --max-power caps PLONK / FFLONK's ptau)
 *   npm run bench -- --models my-model     any model under models/<name>/ (an imported one takes its witness input
 *                                          from its stored calibration set; accuracy needs a bundled dataset)
 *   npm run bench -- --models temp-forecast --merge   re-measure some models, keep the others of bench/results.json
 *   npm run bench -- --batch-gas-only      only the batch-settlement gas (iris-mlp, scripts/apps/bench/batch-gas.ts, ~1 min);
 *                                          everything else of bench/results.json is kept
 *   npm run bench -- --setup 12,14,16,18 --setup-only --snarkjs-timeout 300 --merge
 *                                          the dev-setup section only (direct keys vs snarkjs' path, synthetic R1CS of
 *                                          domain 2^power), keeping every model row of bench/results.json
 *
 * Each measured step runs in its own child process (scripts/apps/bench/step.ts), so its peak resident size is its own.
 * Scratch files go to build/bench/.
 * Size (about 480 lines), kept in one file: the options and the order of the benchmark's steps (each step runs
 * in its own process, ./step.ts and ./child.ts).
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { requiredPower } from "../../engine/circuit/compile";
import { ROOT, ensureDir } from "../../util/paths";
import { loadFloatModel, modelPaths } from "../../pipelines/build";
import { snarkjsPackageVersion } from "../../engine/setup/groth16";
import { devPtauPath } from "../../engine/setup/ptau";
import { accuracy, modelFor, probabilityError, regressionError } from "../../pipelines/held-out";
import { estimateConstraints } from "../../engine/circuit/size";
import type { ProvePhases } from "../../engine/prove/phases";
import {
  type BatchGasResult,
  type BenchResults,
  type ModeResult,
  type ModelResult,
  type SetupResult,
  type StepMeasure,
  type SystemResult,
  renderBatchSvg,
  renderOptimisticSvg,
  renderReport,
  renderSvg, median } from "./report";
import { TIME_BIN, runChild, runStep } from "./child";
import type { ProofSystem, StepArgs } from "./step";
import { UsageError, commandLine } from "../../util/args";

const BUNDLED = ["iris-mlp", "temp-forecast", "rain-risk", "weather-cnn", "mnist-mlp", "mnist-cnn", "mnist-lenet5"];
const SYSTEMS: ProofSystem[] = ["groth16", "plonk", "fflonk"];
const SCRATCH = path.join(ROOT, "build", "bench");
const OUT = path.join(ROOT, "bench");

interface Options {
  quick: boolean;
  models: string[];
  runs: number;
  /** Largest ptau power generated or used for PLONK / FFLONK. */
  maxPower: number;
  /** Largest Groth16 domain (2^power) whose dev keys are computed directly (no ptau; issue 17: 2^18 in ~200 s). */
  maxGroth16Power: number;
  merge: boolean;
  batchGasOnly: boolean;
  /** Powers of the dev-setup section (empty: not measured). */
  setup: number[];
  /** Measure the dev-setup section only, no model. */
  setupOnly: boolean;
  /** Time cap (seconds) of snarkjs' path in the dev-setup section, ptau and zkey together. */
  snarkjsTimeout: number;
}

/** The model the batch-settlement gas is measured on (issue 18: iris, claimant submitting). */
const BATCH_GAS_MODEL = "iris-mlp";

const USAGE =
  "usage: npm run bench -- [--quick] [--models a,b] [--runs N] [--max-power P] [--max-groth16-power P] [--merge] [--batch-gas-only] [--setup 12,14,16] [--setup-only] [--snarkjs-timeout S]";

function parseArgs(argv: string[]): Options {
  const { values: v, positionals } = commandLine(
    argv,
    {
      quick: { type: "boolean" },
      models: { type: "string" },
      runs: { type: "string" },
      "max-power": { type: "string" },
      "max-groth16-power": { type: "string" },
      merge: { type: "boolean" },
      "batch-gas-only": { type: "boolean" },
      setup: { type: "string" },
      "setup-only": { type: "boolean" },
      "snarkjs-timeout": { type: "string" },
    },
    USAGE,
  );
  if (positionals.length) throw new UsageError(`unexpected argument ${positionals[0]}; ${USAGE}`);
  const o: Options = {
    quick: v.quick === true,
    models: (v.models ?? "").split(",").filter(Boolean),
    runs: v.runs === undefined ? 5 : Number(v.runs),
    maxPower: v["max-power"] === undefined ? 14 : Number(v["max-power"]),
    maxGroth16Power: v["max-groth16-power"] === undefined ? 18 : Number(v["max-groth16-power"]),
    merge: v.merge === true,
    batchGasOnly: v["batch-gas-only"] === true,
    setup: (v.setup ?? "").split(",").filter(Boolean).map(Number),
    setupOnly: v["setup-only"] === true,
    snarkjsTimeout: v["snarkjs-timeout"] === undefined ? 600 : Number(v["snarkjs-timeout"]),
  };
  if (!Number.isInteger(o.runs) || o.runs < 1) throw new Error("--runs must be a positive integer");
  for (const [flag, v] of [["--max-power", o.maxPower], ["--max-groth16-power", o.maxGroth16Power]] as const)
    if (!Number.isInteger(v) || v < 8 || v > 22) throw new Error(`${flag} must be an integer in 8..22, got ${v}`);
  for (const p of o.setup)
    if (!Number.isInteger(p) || p < 8 || p > 22) throw new Error(`--setup ${o.setup.join(",")}: each power must be an integer in 8..22, got ${p}`);
  if (!(o.snarkjsTimeout > 0)) throw new Error(`--snarkjs-timeout must be a positive number of seconds, got ${o.snarkjsTimeout}`);
  if (o.setupOnly && o.setup.length === 0) throw new Error("--setup-only needs --setup <powers>, e.g. --setup 12,14,16");
  if (o.setupOnly && o.models.length > 0) throw new Error("--setup-only measures no model: drop --models, or drop --setup-only");
  if (o.setupOnly) o.models = [];
  else if (o.models.length === 0) o.models = o.quick ? ["iris-mlp"] : BUNDLED.filter((m) => fs.existsSync(modelPaths(m).floatFile));
  return o;
}

function progress(msg: string): void {
  process.stderr.write(`[bench] ${msg}\n`);
}

const LOG = path.join(SCRATCH, "bench.log");

/** Runs one step in a child process (child.ts), logging to build/bench/bench.log. */
function step(args: StepArgs, timeoutSeconds?: number): ReturnType<typeof runStep> {
  return runStep(args, LOG, timeoutSeconds);
}

function ptauCached(power: number): boolean {
  return fs.existsSync(devPtauPath(power)) && fs.existsSync(devPtauPath(power) + ".json");
}

/** Makes sure the dev ptau of `power` is cached (generating it in a child when it is not); returns the seconds spent generating, 0 when warm. */
async function ensurePtau(power: number): Promise<number> {
  if (ptauCached(power)) return 0;
  progress(`powers of tau 2^${power} not cached: generating it once (not part of any figure) ...`);
  const code = `require("${path.join(ROOT, "scripts", "engine", "setup", "ptau.ts")}").devPtau(${power}, undefined, { exact: true }).then(async () => { const g = globalThis; if (g.curve_bn128) await g.curve_bn128.terminate(); })`;
  const r = await runChild(process.execPath, ["-r", "ts-node/register/transpile-only", "-e", code], {}, LOG);
  if (r.code !== 0 || !ptauCached(power)) throw new Error(`generating ptau 2^${power} failed: ${r.stderr.trim().slice(-300)}`);
  return r.seconds;
}

/** Smallest cached dev ptau file (any power); PLONK's setup reports its row count before checking the size. */
function smallestCachedPower(): number | undefined {
  for (let p = 8; p <= 20; p++) if (ptauCached(p)) return p;
  return undefined;
}

function ceilLog2(n: number): number {
  let p = 0;
  while (2 ** p < n) p++;
  return p;
}

/** Power of tau PLONK needs for `rows` gates (snarkjs plonk_setup: cirPower = bits(rows - 1), at least 3). */
function plonkPower(rows: number): number {
  return Math.max(3, ceilLog2(rows));
}

/** Power of tau FFLONK needs (snarkjs fflonk_setup: 9 * 2^cirPower + 18 G1 points, a ptau of power P holds 2^(P+1) - 1). */
function fflonkPower(rows: number): number {
  const cir = Math.max(3, ceilLog2(rows + 2));
  let p = cir;
  while (2 ** (p + 1) - 1 < 9 * 2 ** cir + 18) p++;
  return p;
}

function firstLines(msg: string, n = 3): string {
  return msg.trim().split("\n").filter(Boolean).slice(0, n).join(" / ").slice(0, 400);
}

async function measureSystem(
  system: ProofSystem,
  c: { r1cs: string; wasm: string; inputFile: string; constraints: number; publicInputs: number; outputs: number },
  dir: string,
  o: Options & { plonkRowsHint?: number },
  ptauGenerated: Record<number, number>,
  wtns: string,
): Promise<SystemResult> {
  const res: SystemResult = { system, status: "ok" };
  let power: number;
  if (system === "groth16") {
    // The dev keys build:model uses: computed directly from the public dev secrets, no ptau (scripts/engine/setup/direct-zkey.ts).
    power = requiredPower(c);
    res.ptauPower = power;
    res.directKeys = true;
    if (power > o.maxGroth16Power) return { ...res, status: `skipped: domain 2^${power} (cap 2^${o.maxGroth16Power}, --max-groth16-power)` };
    return setupAndProve(res, c, dir, o, wtns);
  } else if (system === "plonk") {
    // PLONK has at least one row per constraint: past the cap, skip without the probe (snarkjs builds every gate
    // in memory first; LeNet-5's 153k constraints made it abort at 4.8 GB)
    const atLeast = plonkPower(c.constraints);
    if (atLeast > o.maxPower)
      return { ...res, ptauPower: atLeast, status: `skipped: needs at least 2^${atLeast} ptau (one row or more per constraint; cap 2^${o.maxPower}, --max-power)` };
    // Row count first, with the smallest cached ptau (snarkjs logs it before the size check).
    const small = smallestCachedPower() ?? 10;
    await ensurePtau(small).then((s) => s && (ptauGenerated[small] = s));
    const probe = await step({ op: "setup", system: "plonk", r1cs: c.r1cs, ptau: devPtauPath(small), zkey: path.join(dir, "plonk-probe.zkey") });
    const rows = probe.ok ? Number(probe.rows) : Number(/(\d+) > 2\*\*/.exec(probe.error ?? "")?.[1] ?? NaN);
    if (!Number.isFinite(rows)) return { system, status: `failed: ${probe.error ?? "no row count"}` };
    res.rows = rows;
    power = plonkPower(rows);
  } else {
    // FFLONK's row count is logged after its size check; estimate the power from the PLONK rows, then read its own count.
    power = fflonkPower(o.plonkRowsHint ?? c.constraints);
  }
  res.ptauPower = power;
  const estimated = system === "fflonk" ? ", estimated from the PLONK rows" : "";
  if (power > o.maxPower) return { ...res, status: `skipped: needs 2^${power} ptau (cap 2^${o.maxPower}${estimated})` };
  // The smallest cached dev ptau that is big enough (a bigger one serves a smaller circuit); generate one otherwise.
  let use = power;
  while (use <= o.maxPower && !ptauCached(use)) use++;
  if (use > o.maxPower) {
    if (o.quick) return { ...res, status: `skipped: 2^${power} ptau not cached (--quick generates none; a full run does)` };
    use = power;
    const gen = await ensurePtau(power);
    if (gen) ptauGenerated[power] = gen;
  }
  res.ptauUsed = use;
  return setupAndProve(res, c, dir, o, wtns, devPtauPath(use));
}

/** The setup step (with `ptau`, or Groth16's direct dev keys without), then the timed proving runs. */
async function setupAndProve(res: SystemResult, c: { r1cs: string }, dir: string, o: Options, wtns: string, ptau?: string): Promise<SystemResult> {
  const system = res.system;
  const zkey = path.join(dir, `${system}.zkey`);
  const setup = await step({ op: "setup", system, r1cs: c.r1cs, ptau, zkey });
  if (!setup.ok) return { ...res, status: `failed: setup: ${firstLines(setup.error ?? "")}` };
  res.setup = { seconds: Number(setup.setupSeconds), mem: setup.mem };
  res.zkeyBytes = Number(setup.zkeyBytes);
  if (system === "fflonk" && Number.isFinite(Number(setup.rows))) res.rows = Number(setup.rows);
  const prove = await step({ op: "prove", system, zkey, wtns, runs: o.runs, profile: system === "groth16" });
  if (!prove.ok) return { ...res, status: `failed: prove: ${firstLines(prove.error ?? "")}` };
  res.prove = { times: prove.times as number[], mem: prove.mem };
  if (prove.prover) res.prover = prove.prover as "native" | "snarkjs";
  if (prove.phases) res.phases = prove.phases as ProvePhases;
  res.proofJsonBytes = Number(prove.proofBytes);
  return res;
}

async function measureMode(model: string, mode: "open" | "private", o: Options, ptauGenerated: Record<number, number>): Promise<ModeResult> {
  const dir = path.join(SCRATCH, "work", `${model}-${mode}`);
  // a circuit no proof system here may set up is not compiled (the estimate is exact for the generated templates)
  const est = estimateConstraints(modelFor(model, mode)).constraints;
  const estPower = requiredPower({ constraints: est, publicInputs: 0, outputs: 0 });
  if (estPower > Math.max(o.maxGroth16Power, o.maxPower))
    return {
      mode,
      status: `skipped: ${est.toLocaleString("en-US")} constraints (estimated, scripts/engine/circuit/size.ts) need a 2^${estPower} domain; Groth16 is capped at 2^${o.maxGroth16Power} (--max-groth16-power), PLONK / FFLONK at 2^${o.maxPower} (--max-power)`,
      constraints: est,
    };
  progress(`${model} / ${mode} weights: ${est.toLocaleString("en-US")} constraints estimated; generate + compile ...`);
  const comp = await step({ op: "compile", model, mode, workDir: dir });
  if (!comp.ok) return { mode, status: `not supported: ${firstLines(comp.error ?? "")}` };
  const c = comp as unknown as { r1cs: string; wasm: string; inputFile: string; constraints: number; wires: number; publicInputs: number; outputs: number; compileSeconds: number; generateSeconds: number };
  const res: ModeResult = {
    mode,
    status: "ok",
    constraints: c.constraints,
    wires: c.wires,
    publicSignals: c.publicInputs + c.outputs,
    compile: { seconds: c.compileSeconds, mem: comp.mem },
    generateSeconds: c.generateSeconds,
    systems: [],
  };
  progress(`${model} / ${mode}: ${c.constraints} constraints, compiled in ${c.compileSeconds.toFixed(1)} s; witness ...`);
  const wtns = path.join(dir, "witness.wtns");
  const w = await step({ op: "witness", wasm: c.wasm, input: c.inputFile, wtns, runs: o.runs });
  if (!w.ok) return { ...res, status: `failed: witness: ${firstLines(w.error ?? "")}` };
  res.witness = { times: w.times as number[], mem: w.mem };
  const opts = { ...o } as Options & { plonkRowsHint?: number };
  for (const system of SYSTEMS) {
    progress(`${model} / ${mode}: ${system} ...`);
    const s = await measureSystem(system, c, dir, opts, ptauGenerated, wtns);
    if (system === "plonk" && s.rows) opts.plonkRowsHint = s.rows;
    progress(`${model} / ${mode}: ${system}: ${s.status}${s.prove ? `, prove median ${median(s.prove.times).toFixed(2)} s` : ""}`);
    res.systems!.push(s);
  }
  return res;
}

async function measureGas(model: string): Promise<ModelResult["gas"]> {
  progress(`${model}: gas (npx hardhat run scripts/apps/bench/gas.ts) ...`);
  const npx = process.platform === "win32" ? "npx.cmd" : "npx";
  const r = await runChild(npx, ["hardhat", "run", "scripts/apps/bench/gas.ts"], { BENCH_MODEL: model, ZKML_QUIET: "1" }, LOG);
  const line = r.stdout.split("\n").find((l) => l.startsWith("BENCH_GAS "));
  if (!line) return { status: `failed: ${firstLines(r.stderr.replace(/BENCH_TIME_MAXRSS.*|Command exited.*/g, ""))}` };
  return { status: "ok", ...(JSON.parse(line.slice("BENCH_GAS ".length)) as Record<string, number>) };
}

async function measureBatchGas(model: string, measuredAt: string, measuredBy: string): Promise<BatchGasResult> {
  progress(`${model}: batch settlement gas (npx hardhat run scripts/apps/bench/batch-gas.ts) ...`);
  const npx = process.platform === "win32" ? "npx.cmd" : "npx";
  const r = await runChild(npx, ["hardhat", "run", "scripts/apps/bench/batch-gas.ts"], { BENCH_MODEL: model, ZKML_QUIET: "1" }, LOG);
  const line = r.stdout.split("\n").find((l) => l.startsWith("BENCH_BATCH_GAS "));
  if (!line) return { status: `failed: ${firstLines(r.stderr.replace(/BENCH_TIME_MAXRSS.*|Command exited.*/g, ""))}`, measuredAt, measuredBy };
  return { status: "ok", measuredAt, measuredBy, ...(JSON.parse(line.slice("BENCH_BATCH_GAS ".length)) as Omit<BatchGasResult, "status">) };
}

/** The larger of two peak-memory figures (each field separately). */
function maxMem(a: StepMeasure["mem"] | undefined, b: StepMeasure["mem"] | undefined): StepMeasure["mem"] {
  const m = (x?: number, y?: number): number | undefined => (x === undefined ? y : y === undefined ? x : Math.max(x, y));
  return { processMaxRSSKiB: m(a?.processMaxRSSKiB, b?.processMaxRSSKiB), treeMaxRSSKiB: m(a?.treeMaxRSSKiB, b?.treeMaxRSSKiB) };
}

/**
 * One row of the dev-setup section: a synthetic R1CS of domain 2^power, its dev keys computed directly (then one
 * proof with them), and today's snarkjs path on the same R1CS under a time cap.
 */
async function measureSetup(power: number, o: Options, measuredAt: string): Promise<SetupResult> {
  const dir = ensureDir(path.join(SCRATCH, "setup", `pow${power}`));
  const r1cs = path.join(dir, "synthetic.r1cs");
  const wtns = path.join(dir, "synthetic.wtns");
  progress(`setup 2^${power}: synthetic R1CS ...`);
  const syn = await step({ op: "synthetic", power, r1cs, wtns });
  if (!syn.ok) throw new Error(`synthetic R1CS 2^${power}: ${syn.error ?? "?"}`);
  const res: SetupResult = {
    power,
    constraints: Number(syn.constraints),
    wires: Number(syn.wires),
    measuredAt,
    direct: { status: "not run" },
    snarkjs: { status: "not run", timeoutSeconds: o.snarkjsTimeout },
  };
  const zkey = path.join(dir, "direct.zkey");
  progress(`setup 2^${power}: direct dev keys ...`);
  const d = await step({ op: "devSetup", path: "direct", what: "zkey", r1cs, out: zkey });
  if (d.ok) {
    res.direct = { status: "ok", seconds: Number(d.setupSeconds), mem: d.mem, zkeyBytes: Number(d.bytes), sha256: String(d.sha256) };
    progress(`setup 2^${power}: direct keys in ${Number(d.setupSeconds).toFixed(1)} s; proving once with them ...`);
    const p = await step({ op: "prove", system: "groth16", zkey, wtns, runs: 1 });
    res.prove = p.ok ? { status: "ok", seconds: (p.times as number[])[0], mem: p.mem } : { status: `failed: ${firstLines(p.error ?? "")}` };
  } else res.direct = { status: `failed: ${firstLines(d.error ?? "")}` };

  const ptau = path.join(dir, "snarkjs.ptau");
  const szkey = path.join(dir, "snarkjs.zkey");
  progress(`setup 2^${power}: snarkjs' path (ptau new + beacon + prepare phase2, then zkey new + beacon), capped at ${o.snarkjsTimeout} s ...`);
  const sp = await step({ op: "devSetup", path: "snarkjs", what: "ptau", power, out: ptau }, o.snarkjsTimeout);
  if (sp.timedOut) res.snarkjs.status = "stopped";
  else if (!sp.ok) res.snarkjs.status = `failed: ptau: ${firstLines(sp.error ?? "")}`;
  else {
    res.snarkjs.ptauSeconds = Number(sp.setupSeconds);
    res.snarkjs.mem = sp.mem;
    const left = Math.max(1, o.snarkjsTimeout - Number(sp.wallSeconds));
    const sz = await step({ op: "devSetup", path: "snarkjs", what: "zkey", r1cs, ptau, out: szkey }, left);
    if (sz.timedOut) res.snarkjs.status = "stopped";
    else if (!sz.ok) res.snarkjs.status = `failed: zkey: ${firstLines(sz.error ?? "")}`;
    else {
      res.snarkjs = { ...res.snarkjs, status: "ok", zkeySeconds: Number(sz.setupSeconds), mem: maxMem(sp.mem, sz.mem), sha256: String(sz.sha256) };
    }
  }
  progress(`setup 2^${power}: snarkjs ${res.snarkjs.status}`);
  for (const f of [ptau, szkey, zkey, `${zkey}.vkey.json`, `${szkey}.vkey.json`, r1cs, wtns]) fs.rmSync(f, { force: true });
  return res;
}

function versions(): BenchResults["versions"] {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const pkg = (n: string): string => (require(`${n}/package.json`) as { version: string }).version;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const solc = require("solc") as { version(): string };
  const circomOut = execFileSync(process.execPath, [require.resolve("circom2/cli.js"), "--version"], { encoding: "utf8" });
  return {
    node: process.version,
    snarkjs: snarkjsPackageVersion(),
    circom2: pkg("circom2"),
    circom: (/circom compiler (\S+)/.exec(circomOut)?.[1] ?? "?").trim(),
    solc: solc.version(),
    hardhat: pkg("hardhat"),
  };
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const t0 = Date.now();
  ensureDir(SCRATCH);
  ensureDir(OUT);
  fs.writeFileSync(LOG, "");
  const cpus = os.cpus();
  const results: BenchResults = {
    generatedAt: new Date().toISOString(),
    command: `npm run bench --${process.argv.slice(2).length ? " " + process.argv.slice(2).join(" ") : ""}`.replace(/ --$/, ""),
    machine: { cpu: cpus[0]?.model ?? "?", cores: cpus.length, totalMemGiB: os.totalmem() / 2 ** 30, platform: `${os.platform()} ${os.release()} ${os.arch()}` },
    versions: versions(),
    config: { runs: o.runs, maxPower: o.maxPower, maxGroth16Power: o.maxGroth16Power, quick: o.quick, models: o.models, memory: fs.existsSync(TIME_BIN) ? "GNU time %M (largest process of the step's tree) and process.resourceUsage().maxRSS (the step's node process)" : "process.resourceUsage().maxRSS of the step's node process" },
    ptauGenerated: {},
    models: [],
    totalSeconds: 0,
  };
  // --batch-gas-only: everything of the previous results.json is kept; only the batch gas is measured again.
  if (o.batchGasOnly) {
    const prev = JSON.parse(fs.readFileSync(path.join(OUT, "results.json"), "utf8")) as BenchResults;
    const batchGas = await measureBatchGas(BATCH_GAS_MODEL, results.generatedAt, results.command);
    writeOutputs({ ...prev, batchGas });
    progress(`done in ${((Date.now() - t0) / 1000).toFixed(1)} s: batch gas ${batchGas.status} (bench/results.json, bench/REPORT.md, bench/batch-gas.svg)`);
    return;
  }
  // --merge: the models of the previous results.json that this run does not measure are kept (with their own date),
  // and so are its dev-setup rows of powers this run does not measure, its batch gas and its open-network section.
  const kept: ModelResult[] = [];
  const keptSetup: SetupResult[] = [];
  if (o.merge) {
    const prev = JSON.parse(fs.readFileSync(path.join(OUT, "results.json"), "utf8")) as BenchResults;
    results.batchGas = prev.batchGas;
    // the cold-node section (npm run bench:open-network) is measured by its own command: keep it
    results.openNetwork = prev.openNetwork;
    // so is the native-prover comparison (npm run bench:prover)
    results.prover = prev.prover;
    // and the subscriptions' gas (npm run bench:subscription)
    results.subscription = prev.subscription;
    // and the optimistic-results comparison (npm run bench:optimistic)
    results.optimistic = prev.optimistic;
    for (const m of prev.models)
      if (!o.models.includes(m.name)) kept.push({ ...m, measuredAt: m.measuredAt ?? prev.generatedAt, measuredBy: m.measuredBy ?? prev.command });
    for (const x of prev.setup ?? []) if (!o.setup.includes(x.power)) keptSetup.push(x);
  }
  const setupRows: SetupResult[] = [];
  const withSetup = (r: BenchResults): BenchResults => {
    const all = [...keptSetup, ...setupRows].sort((a, b) => a.power - b.power);
    return all.length ? { ...r, setup: all } : r;
  };
  for (const p of o.setup) {
    setupRows.push(await measureSetup(p, o, results.generatedAt));
    results.totalSeconds = (Date.now() - t0) / 1000;
    writeOutputs(withSetup({ ...results, models: [...kept, ...results.models] }));
  }
  const ordered = (): ModelResult[] => {
    const all = [...kept, ...results.models];
    const rank = (n: string): number => (BUNDLED.includes(n) ? BUNDLED.indexOf(n) : BUNDLED.length);
    return all.sort((a, b) => rank(a.name) - rank(b.name));
  };
  for (const name of o.models) {
    const m: ModelResult = { name, modes: [], measuredAt: results.generatedAt, measuredBy: results.command };
    if (!fs.existsSync(modelPaths(name).floatFile)) {
      m.status = `not found: ${path.relative(ROOT, modelPaths(name).floatFile)}`;
      results.models.push(m);
      continue;
    }
    try {
      const fm = loadFloatModel(name);
      if (fm.task === "regression") m.regression = regressionError(name);
      else if (fm.layers[fm.layers.length - 1].type === "activation") m.probability = probabilityError(name);
      else m.accuracy = accuracy(name);
    } catch (e) {
      m.accuracyError = (e as Error).message;
    }
    for (const mode of ["open", "private"] as const) m.modes.push(await measureMode(name, mode, o, results.ptauGenerated));
    const open = m.modes.find((x) => x.mode === "open");
    const g16 = open?.systems?.find((s) => s.system === "groth16");
    if (g16?.status === "ok") m.gas = await measureGas(name);
    else m.gas = { status: `skipped: Groth16 (open weights) ${g16?.status ?? open?.status ?? "not measured"}` };
    if (name === BATCH_GAS_MODEL && m.gas?.status === "ok") results.batchGas = await measureBatchGas(name, results.generatedAt, results.command);
    results.models.push(m);
    // Write as we go, so a long full run leaves partial results.
    results.totalSeconds = (Date.now() - t0) / 1000;
    writeOutputs(withSetup({ ...results, models: ordered() }));
  }
  results.totalSeconds = (Date.now() - t0) / 1000;
  writeOutputs(withSetup({ ...results, models: ordered() }));
  progress(`done in ${results.totalSeconds.toFixed(1)} s: bench/results.json, bench/REPORT.md, bench/proving-time.svg`);
}

function writeOutputs(r: BenchResults): void {
  fs.writeFileSync(path.join(OUT, "results.json"), JSON.stringify(r, null, 2) + "\n");
  fs.writeFileSync(path.join(OUT, "REPORT.md"), renderReport(r));
  fs.writeFileSync(path.join(OUT, "proving-time.svg"), renderSvg(r));
  fs.writeFileSync(path.join(OUT, "batch-gas.svg"), renderBatchSvg(r));
  if (r.optimistic) fs.writeFileSync(path.join(OUT, "optimistic.svg"), renderOptimisticSvg(r));
}

main().catch((e: unknown) => {
  // a bad command line is one line; anything else keeps its stack (a benchmark failure is worth reading whole)
  console.error(e instanceof UsageError ? `error: ${e.message}` : e instanceof Error ? (e.stack ?? e.message) : e);
  process.exitCode = 1;
});
