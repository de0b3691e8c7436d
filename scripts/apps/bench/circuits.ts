/**
 * Circuit-library benchmark: constraint counts per template and size, and an MNIST-shaped MLP (784-56-10) with open
 * and with private weights (random int8 weights): constraints, compile time, witness time.
 * Run: npx ts-node --files scripts/apps/bench/circuits.ts [--skip-mnist] [--skip-private]
 * Writes circuits to build/bench/ and a JSON summary to build/bench/circuits.json.
 */
import * as fs from "fs";
import * as path from "path";
import * as snarkjs from "snarkjs";
import { circuitWeightInputs, generateMainCircuit } from "../../engine/circuit/generate";
import { compileCircuit } from "../../engine/circuit/compile";
import { toField } from "../../util/field";
import { BUILD_DIR, ensureDir, rel } from "../../util/paths";
import { type QuantizedModel, inferQuantized } from "../../formats/quantized-model";
import { accumulatorBits, affineBounds, requantizeConstraints, signedRange } from "../../formats/fixed-point";
import { UsageError, commandLine } from "../../util/args";

const OUT = ensureDir(path.join(BUILD_DIR, "bench"));

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}
const randInt = (r: () => number, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));

async function compileSource(name: string, src: string) {
  const file = path.join(OUT, `${name}.circom`);
  if (!fs.existsSync(file) || fs.readFileSync(file, "utf8") !== src) fs.writeFileSync(file, src);
  return compileCircuit(file);
}

function templateMain(include: string, body: string): string {
  return `pragma circom 2.1.9;\ninclude "${include}";\n${body}\n`;
}

function mlp(name: string, sizes: number[], weights: "open" | "private", shifts: number[]): QuantizedModel {
  const r = rng(42);
  return {
    format: "zkml-quantized-v1",
    name,
    input: { size: sizes[0], bits: 8, frac: 7 },
    weights,
    layers: sizes.slice(1).map((nOut, li) => ({
      type: "dense" as const,
      nIn: sizes[li],
      nOut,
      W: Array.from({ length: nOut }, () => Array.from({ length: sizes[li] }, () => randInt(r, -128, 127))),
      B: Array.from({ length: nOut }, () => randInt(r, -1000, 1000)),
      wBits: 8,
      wFrac: 7,
      bBits: 16,
      shift: shifts[li],
      outBits: 8,
      outFrac: 7,
      relu: li < sizes.length - 2,
    })),
    head: "argmax",
  };
}

async function main(): Promise<void> {
  const usage = "usage: npm run bench:circuits -- [--skip-mnist] [--skip-private]";
  const { values: o, positionals } = commandLine(process.argv.slice(2), { "skip-mnist": { type: "boolean" }, "skip-private": { type: "boolean" } }, usage);
  if (positionals.length) throw new UsageError(`unexpected argument ${positionals[0]}; ${usage}`);
  const skipMnist = o["skip-mnist"] === true;
  const skipPrivate = o["skip-private"] === true;
  const summary: Record<string, unknown> = {};

  console.log("== open-weights dense: constraints per output neuron vs nIn (8-bit in, int8 weights, shift 12, ReLU) ==");
  const openRows: unknown[] = [];
  for (const nIn of [16, 64, 256]) {
    const nOut = 8;
    const r = rng(nIn);
    const W = Array.from({ length: nOut }, () => Array.from({ length: nIn }, () => randInt(r, -128, 127)));
    const B = Array.from({ length: nOut }, () => 0);
    const A = Math.max(...W.map((row) => accumulatorBits(affineBounds(row.map(BigInt), 0n, signedRange(8)))));
    const src = templateMain("dense.circom", `component main = DenseOpen(${nIn}, ${nOut}, ${JSON.stringify(W)}, ${JSON.stringify(B)}, ${A}, 12, 8, 1);`);
    const c = await compileSource(`bench_dense_open_${nIn}x${nOut}`, src);
    const per = c.constraints / nOut;
    openRows.push({ nIn, nOut, A, constraints: c.constraints, perNeuron: per, target: 2 * (8 + 12) });
    console.log(`  ${nIn} x ${nOut}: A = ${A}, ${c.constraints} constraints, ${per} per neuron (target <= ${2 * (8 + 12)}; formula ${requantizeConstraints(A, 12, 8, true)})`);
  }
  summary.denseOpen = openRows;

  console.log("== private-weights dense: constraints vs multiplies (excluding the commitment) ==");
  const privRows: unknown[] = [];
  for (const [nIn, nOut] of [[64, 16], [256, 16]]) {
    const A = accumulatorBits({ lo: BigInt(nIn) * -128n * 127n - 32768n, hi: BigInt(nIn) * 128n * 128n + 32767n });
    const c = await compileSource(`bench_dense_private_${nIn}x${nOut}`, templateMain("dense.circom", `component main = DensePrivate(${nIn}, ${nOut}, ${A}, 12, 8, 1);`));
    const ratio = c.constraints / (nIn * nOut);
    privRows.push({ nIn, nOut, A, constraints: c.constraints, multiplies: nIn * nOut, ratio });
    console.log(`  ${nIn} x ${nOut}: ${c.constraints} constraints for ${nIn * nOut} multiplies = ${ratio.toFixed(3)} x (target <= 1.1)`);
  }
  summary.densePrivate = privRows;

  console.log("== commitment: constraints per committed 8-bit value ==");
  const comRows: unknown[] = [];
  for (const n of [465, 4650]) {
    const c = await compileSource(`bench_commit_${n}x8`, templateMain("commit.circom", `component main = CommitSigned(${n}, 8);`));
    comRows.push({ values: n, constraints: c.constraints, perValue: c.constraints / n });
    console.log(`  ${n} values: ${c.constraints} constraints, ${(c.constraints / n).toFixed(2)} per value (target <= 10)`);
  }
  summary.commit = comRows;

  if (!skipMnist) {
    const modes: ("open" | "private")[] = skipPrivate ? ["open"] : ["open", "private"];
    summary.mnist = [];
    for (const mode of modes) {
      const m = mlp(`bench-mnist-mlp-${mode}`, [784, 56, 10], mode, [12, 12]);
      const src = await generateMainCircuit(m);
      console.log(`== MNIST-shaped MLP 784-56-10, ${mode} weights ==`);
      const c = await compileSource(m.name, src);
      const r = rng(7);
      const x = Array.from({ length: 784 }, () => BigInt(randInt(r, -128, 127)));
      const input = { x: x.map((v) => toField(v).toString()), salt: "123", jobBinding: "5", ...circuitWeightInputs(m) };
      const wtns = path.join(OUT, `${m.name}.wtns`);
      const t0 = Date.now();
      await snarkjs.wtns.calculate(input, c.wasm, wtns);
      const witnessSeconds = (Date.now() - t0) / 1000;
      const ref = inferQuantized(m, x);
      const row = { mode, constraints: c.constraints, wires: c.wires, compileSeconds: c.compileSeconds, cached: c.cached, witnessSeconds, referenceClass: Number(ref.output) };
      (summary.mnist as unknown[]).push(row);
      console.log(`  ${c.constraints} constraints, ${c.wires} wires, compile ${c.cached ? "(cached) " : ""}${c.compileSeconds} s, witness ${witnessSeconds} s`);
    }
  }
  const file = path.join(OUT, "circuits.json");
  fs.writeFileSync(file, JSON.stringify(summary, null, 2));
  console.log(`wrote ${rel(file)}`);
}

main().then(
  () => {
    (globalThis as { curve_bn128?: { terminate(): void } }).curve_bn128?.terminate();
    process.exit(0);
  },
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
