/**
 * Keeps the docs true (issue 14). Three checks:
 * 1. Generated blocks: the README's demo output and the gas tables of docs/contracts.md sit between
 *    `<!-- generated:<name> -->` and `<!-- /generated:<name> -->` markers and are rebuilt from what the commands
 *    measured: build/demo-output.json (written by `npm run demo`) and build/gas-figures.json (written by
 *    test/contracts/Groth16.real.test.ts and PlonkFflonk.real.test.ts). Check mode fails when a number differs by
 *    more than the tolerance (TOLERANCE: proofs differ in calldata bytes between runs) or any text differs.
 *    PLONK's figures get 1.5% (its verifier's cost depends on the proof).
 *    docs/circuits.md's activation table is computed by the fitter itself (deterministic, no tolerance needed).
 * 2. Docs cite only files of the repository: no DESIGN.md / STYLE.md, and every repository path a doc names exists.
 *
 * Usage: npm run docs:check (measures, then checks) / npm run docs:update (measures, then rewrites the blocks).
 *   ts-node scripts/apps/audit/docs-check.ts [--update]   (uses the figures already measured)
 */
import * as fs from "fs";
import * as path from "path";
import { BUILD_DIR, ROOT, writeFileAtomic } from "../../util/paths";
import { runMain } from "../main";
import { commandLine } from "../../util/args";
import { activationCostMarkdown, activationCostTable } from "../../engine/activation-fit";

/** Relative difference allowed between a documented and a measured number (gas of a proof varies by calldata). */
export const TOLERANCE = 0.005;

type Figures = Record<string, string>;

function readJson<T>(file: string, how: string): T {
  if (!fs.existsSync(file)) throw new Error(`${path.relative(ROOT, file)} not found: ${how}`);
  return JSON.parse(fs.readFileSync(file, "utf8")) as T;
}

const fmt = (v: string | undefined, key: string): string => {
  if (v === undefined) throw new Error(`gas figure "${key}" not measured: run npm run docs:measure`);
  return Number(v).toLocaleString("en-US");
};

/** The generated blocks: file, name, and the text between the markers. */
function blocks(
  demo: { summary: string[] },
  gas: Figures,
): { file: string; name: string; text: string; tolerance?: number; slack?: number }[] {
  const g = (k: string): string => fmt(gas[k], k);
  return [
    { file: "README.md", name: "demo-output", text: ["```", ...demo.summary, "```"].join("\n") },
    {
      file: "docs/contracts.md",
      name: "gas-groth16",
      text: [
        "| operation | gas |",
        "|---|---|",
        `| \`openJob\`, later jobs on a model version | ${g("groth16.openJob.later")} (target <= 120k) |`,
        `| \`openJob\`, first job on a model version (caches the target) | ${g("groth16.openJob.first")} |`,
        `| \`submitResult\`, unclaimed job, prover account already non-empty | ${g("groth16.submit.nonEmpty")} (target <= 270k) |`,
        `| \`submitResult\` by the claimant during its lease | ${g("groth16.submit.claimant")} |`,
        `| \`submitResult\`, first credit ever to a fresh prover account | ${g("groth16.submit.fresh")} (one fresh account slot, +17k) |`,
        `| \`claim\` | ${g("groth16.claim")} |`,
        `| \`withdraw\` | ${g("groth16.withdraw")} |`,
        `| \`ZKMLVerifier.verifyInference\` | ${g("groth16.verifyInference")} |`,
        `| private job: \`openPrivateJob\` (later job) | ${g("groth16.private.open")} |`,
        `| private job: \`claim\` | ${g("groth16.private.claim")} |`,
        `| private job: \`deliverInput\`, iris opening (248-byte ciphertext, padded) | ${g("groth16.private.deliver")} |`,
        `| private job: \`submitResult\` by the claimant after delivery | ${g("groth16.private.submit")} |`,
      ].join("\n"),
    },
    {
      file: "docs/contracts.md",
      name: "gas-submit-by-system",
      tolerance: 0.015, // PLONK's verifier cost depends on the proof (a data-dependent inversion): ~1% between proofs
      text: [
        "| operation | Groth16 | PLONK | FFLONK |",
        "|---|---|---|---|",
        `| \`submitResult\`, unclaimed job, prover account already non-empty | ${g("groth16.submit.nonEmpty")} | ${g("plonk.submit.nonEmpty")} (varies with the proof) | ${g("fflonk.submit.nonEmpty")} |`,
        `| \`submitResult\`, first credit ever to a fresh prover account | ${g("groth16.submit.fresh")} | ${g("plonk.submit.fresh")} (varies with the proof) | ${g("fflonk.submit.fresh")} |`,
      ].join("\n"),
    },
    {
      file: "docs/contracts.md",
      name: "gas-groth16-batch",
      text: [
        "| claimant submission | gas | gas per result |",
        "|---|---|---|",
        `| \`submitResult\` (one job) | ${g("groth16.submit.claimant")} | ${g("groth16.submit.claimant")} |`,
        ...[1, 4, 16].map((n) => {
          const k = `groth16.batch.claimant.${n}`;
          const per = gas[k] === undefined ? undefined : String(Math.round(Number(gas[k]) / n));
          const target = n === 4 ? " (target <= 130k)" : n === 16 ? " (target <= 90k)" : "";
          return `| \`submitResults\`, ${n} job${n > 1 ? "s" : ""} | ${g(k)} | ${fmt(per, k)}${target} |`;
        }),
        "",
        "| verifier call alone (`eth_estimateGas`, incl. 21k + calldata) | gas |",
        "|---|---|",
        `| snarkjs \`verifyProof\`, one proof | ${g("groth16.verify.single")} |`,
        `| \`verifyBatch\`, 4 proofs | ${g("groth16.verify.batch.4")} |`,
        `| \`verifyBatch\`, 16 proofs | ${g("groth16.verify.batch.16")} |`,
      ].join("\n"),
    },
    {
      file: "docs/contracts.md",
      name: "gas-token",
      text: tokenGasTable(gas),
      // its differences (token - ETH) carry the calldata noise of two proofs: a few hundred gas either way
      slack: 300,
    },
    // computed, not measured: the fitter is deterministic (scripts/engine/activation-fit.ts)
    { file: "docs/circuits.md", name: "activation-costs", text: activationCostMarkdown(activationCostTable()) },
  ];
}

/**
 * The ERC-20 fee table: the same operations on one model version with an ETH fee and with a token fee
 * (test/contracts/Groth16.real.test.ts), their differences and the per-job sums the gas target is about.
 */
function tokenGasTable(gas: Figures): string {
  const n = (k: string): number => {
    if (gas[k] === undefined) throw new Error(`gas figure "${k}" not measured: run npm run docs:measure`);
    return Number(gas[k]);
  };
  const f = (v: number): string => v.toLocaleString("en-US");
  const d = (v: number): string => (v >= 0 ? "+" : "-") + f(Math.abs(v));
  const row = (what: string, eth: number | undefined, tok: number): string =>
    `| ${what} | ${eth === undefined ? "" : f(eth)} | ${f(tok)} | ${eth === undefined ? "" : d(tok - eth)} |`;
  const [eo, es, eu, ew] = ["groth16.eth.open", "groth16.eth.submit.claimant", "groth16.eth.submit.unclaimed", "groth16.eth.withdraw"].map(
    n,
  );
  const [to, ts, tsf, tu, tw] = [
    "groth16.token.open",
    "groth16.token.submit.claimant",
    "groth16.token.submit.claimant.fresh",
    "groth16.token.submit.unclaimed",
    "groth16.token.withdraw",
  ].map(n);
  return [
    "| operation (later job on one model version) | ETH fee | ERC-20 fee | difference |",
    "|---|---|---|---|",
    row("open (`openJob` / `openTokenJob`), standing finite allowance", eo, to),
    row("open, unlimited allowance (the token skips the allowance write)", eo, n("groth16.token.open.unlimited")),
    row(
      "open, the first job that brings its token to the market (fresh balance slot in the token)",
      undefined,
      n("groth16.token.open.firstOfToken"),
    ),
    row("`submitResult` by the claimant, prover's token account non-empty", es, ts),
    row("`submitResult` by the claimant, token account empty (first credit, or after a `withdrawToken`)", es, tsf),
    row("`submitResult`, unclaimed job, prover's accounts non-empty", eu, tu),
    row("`withdraw` / `withdrawToken` (the wallet already holds the token)", ew, tw),
    row(
      "`withdrawToken`, the wallet's first tokens (fresh balance slot in the token)",
      undefined,
      n("groth16.token.withdraw.firstToWallet"),
    ),
    row("`approve` (once, for a standing allowance)", undefined, n("groth16.token.approve")),
    row("**per job**, unclaimed, prover keeps a balance (open + submission)", eo + eu, to + tu),
    row("**per job**, claimed, prover keeps a balance (open + submission)", eo + es, to + ts),
    row("**per job**, claimed, prover withdraws after every job (open + submission + withdrawal)", eo + es + ew, to + tsf + tw),
  ].join("\n");
}

const begin = (n: string): string => `<!-- generated:${n} (npm run docs:update) -->`;
const end = (n: string): string => `<!-- /generated:${n} -->`;

/** The text between a block's markers. @throws when the markers are missing. */
function current(doc: string, file: string, name: string): { start: number; stop: number; text: string } {
  const a = doc.indexOf(begin(name));
  const b = doc.indexOf(end(name));
  if (a < 0 || b < a) throw new Error(`${file}: markers ${begin(name)} ... ${end(name)} not found`);
  const start = a + begin(name).length + 1;
  return { start, stop: b, text: doc.slice(start, b).replace(/\n$/, "") };
}

/**
 * Differences between a documented and a measured text: numbers within TOLERANCE (or within `slack` gas, for tables
 * of differences between two measured figures, where a few calldata bytes of a proof move a small difference by more
 * than a relative tolerance of it), all else equal.
 */
export function compareText(documented: string, measured: string, tolerance = TOLERANCE, slack = 0): string[] {
  const tokens = (s: string): string[] => s.split(/(\d[\d,]*(?:\.\d+)?)/);
  const a = tokens(documented);
  const b = tokens(measured);
  const out: string[] = [];
  if (a.length !== b.length) return [`text differs:\n--- documented\n${documented}\n--- measured\n${measured}`];
  for (let i = 0; i < a.length; i++) {
    if (i % 2 === 0) {
      if (a[i] !== b[i]) out.push(`"${a[i].trim()}" documented, "${b[i].trim()}" printed`);
      continue;
    }
    const x = Number(a[i].replace(/,/g, ""));
    const y = Number(b[i].replace(/,/g, ""));
    const ok =
      x === y ||
      (Number.isInteger(x) && x > 1000 && Math.abs(x - y) <= tolerance * y) ||
      (Number.isInteger(x) && Math.abs(Math.abs(x) - Math.abs(y)) <= slack);
    if (!ok) out.push(`${a[i]} documented, ${b[i]} measured`);
  }
  return out;
}

/** Files the docs must not cite (they are not in the repository). */
const OUTSIDE = /\b(DESIGN|STYLE)\.md\b/;
/** Docs allowed to cite one anyway (none). */
const PENDING: string[] = [];

function docFiles(): string[] {
  const docs = fs.readdirSync(path.join(ROOT, "docs")).filter((f) => f.endsWith(".md"));
  return ["README.md", "SECURITY.md", ...docs.map((f) => `docs/${f}`)];
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory()) out.push(...sourceFiles(p));
    else if (/\.(ts|js|sol|circom)$/.test(e.name)) out.push(p);
  }
  return out;
}

/** Problems with what the docs cite. */
export function citationProblems(): string[] {
  const out: string[] = [];
  for (const f of [...docFiles(), "hardhat.config.ts", ...sourceFiles("scripts"), ...sourceFiles("test"), ...sourceFiles("contracts")]) {
    if (PENDING.includes(f) || f === "scripts/apps/audit/docs-check.ts") continue;
    const text = fs.readFileSync(path.join(ROOT, f), "utf8");
    const m = OUTSIDE.exec(text);
    if (m) out.push(`${f} cites ${m[0]}, which is not in the repository: write the decision into docs/ (docs/design-decisions.md)`);
  }
  const repoPath = /`((?:scripts|docs|contracts|test|circuits|ignition)\/[A-Za-z0-9_./-]+\.(?:ts|md|sol|circom|json|js))`/g;
  for (const f of docFiles()) {
    const text = fs.readFileSync(path.join(ROOT, f), "utf8");
    for (const m of text.matchAll(repoPath)) {
      if (!fs.existsSync(path.join(ROOT, m[1]))) out.push(`${f} names ${m[1]}, which does not exist`);
    }
  }
  return out;
}

async function main(): Promise<void> {
  const update =
    commandLine(process.argv.slice(2), { update: { type: "boolean" } }, "usage: npm run docs:check [-- --update]").values.update === true;
  const demo = readJson<{ summary: string[] }>(path.join(BUILD_DIR, "demo-output.json"), "run npm run docs:measure (or npm run demo)");
  const gas = readJson<Figures>(path.join(BUILD_DIR, "gas-figures.json"), "run npm run docs:measure (the gas tests write it)");
  const problems: string[] = [];
  const docs = new Map<string, string>();
  for (const b of blocks(demo, gas)) {
    const doc = docs.get(b.file) ?? fs.readFileSync(path.join(ROOT, b.file), "utf8");
    const c = current(doc, b.file, b.name);
    if (update) docs.set(b.file, doc.slice(0, c.start) + b.text + "\n" + doc.slice(c.stop));
    else {
      docs.set(b.file, doc);
      for (const d of compareText(c.text, b.text, b.tolerance, b.slack)) problems.push(`${b.file} (${b.name}): ${d}`);
    }
  }
  if (update) for (const [f, text] of docs) writeFileAtomic(path.join(ROOT, f), text);
  problems.push(...citationProblems());
  if (problems.length) {
    for (const p of problems) console.error(`docs-check: ${p}`);
    throw new Error(`${problems.length} problem(s) in the docs${update ? "" : "; regenerate the figures with npm run docs:update"}`);
  }
  console.log(`docs-check: ${update ? "generated blocks rewritten" : "generated blocks match the measured figures"}; citations ok`);
}

if (require.main === module) runMain(main);
