/**
 * The native prover against snarkjs (issue 32): for each model, its witness once (a calibration input), then snarkjs'
 * `groth16.prove` in a child process (scripts/apps/bench/step.ts) and the native prover binary alternately, `--runs`
 * proofs each, with the peak memory of each proving process (GNU time) and the native prover's own phases. Every
 * native proof is verified with the key and its public signals compared with snarkjs'. The witness is timed the same
 * way: circom's WASM (snarkjs `wtns.calculate` in a child) and, where one was built (`npm run build:model -- <name>
 * --native-witness`, or `--native-witness` here), circom's C++ generator (scripts/engine/prove/witness-native.ts).
 * Besides the bundled models, `--models` takes the PyTorch / scikit-learn exports of test/fixtures/onnx (the
 * transformer and tree ensembles of issue 31), imported and built with their calibration files under build/bench-prover/.
 * Writes `prover` into bench/results.json and re-renders bench/REPORT.md.
 * Run: npm run bench:prover [-- --models iris-mlp,mnist-lenet5,transformer-postnorm] [--runs 3] [--native-witness]
 */
import * as fs from "fs";
import * as path from "path";
import * as snarkjs from "snarkjs";
import { type BuiltModel, buildModel, loadFloatModel } from "../../pipelines/build";
import { buildNativeWitness, nativeWitnessBinary } from "../../engine/prove/witness-native";
import { bundledCalibration } from "../../pipelines/datasets";
import { circuitInput } from "../../engine/prove/inference";
import { nativeProverBinary, nativeUnavailable, proverThreads } from "../../engine/prove/native";
import { quantizeFeatures, quantizeInput } from "../../formats/quantized-input";
import { BUILD_DIR, ROOT, ensureDir, writeFileAtomic } from "../../util/paths";
import { commandLine } from "../../util/args";
import { runMain } from "../main";
import { runChild, runStep } from "./child";
import { buildFixtureModel, isFixture } from "./fixture-model";
import { type BenchResults, type ProverComparison, median, renderReport, renderSvg } from "./report";

const USAGE = "usage: npm run bench:prover [-- --models a,b] [--runs N] [--native-witness]";
const MODELS = ["iris-mlp", "temp-forecast", "rain-risk", "weather-cnn", "mnist-mlp", "mnist-cnn", "mnist-lenet5"];
/** Exports of issue 31's model kinds (test/fixtures/onnx): a transformer encoder, gradient-boosted trees, a forest. */
const FIXTURE_MODELS = ["transformer-postnorm", "xgb-3class", "forest-3class-zipmap"];

/** A bundled model (its calibration set's first input) or a fixture export (its reference file's first input), built. */
async function benchModel(name: string, work: string): Promise<{ built: BuiltModel; x: bigint[] }> {
  if (MODELS.includes(name) || !isFixture(name)) {
    const built = await buildModel(name, {});
    return { built, x: quantizeFeatures(built.model, bundledCalibration(loadFloatModel(name))[0]) };
  }
  const { built, fm, ref } = await buildFixtureModel(name, work);
  return { built, x: quantizeInput(built.model, fm, ref.inputs[0]) };
}

runMain(async () => {
  const { values } = commandLine(
    process.argv.slice(2),
    { models: { type: "string" }, runs: { type: "string" }, "native-witness": { type: "boolean" } },
    USAGE,
  );
  const models = values.models ? String(values.models).split(",") : [...MODELS, ...FIXTURE_MODELS];
  const runs = Number(values.runs ?? 3);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer, got ${String(values.runs)}`);
  const binary = await nativeProverBinary();
  if (!binary) throw new Error(`the native prover is not available: ${nativeUnavailable}`);
  const dir = ensureDir(path.join(BUILD_DIR, "bench-prover"));
  const log = path.join(dir, "steps.log");
  const t0 = Date.now();
  const rows: ProverComparison["rows"] = [];
  for (const name of models) {
    const { built, x } = await benchModel(name, path.join(dir, "models"));
    const input = circuitInput(x, 5n, 7n, built.model);
    if (values["native-witness"]) await buildNativeWitness(built.paths.circuitFile, built.circuit, input, (l) => console.log(`${name}: native witness: ${l}`));
    const wtns = path.join(dir, `${name}.wtns`);
    await snarkjs.wtns.calculate(input, built.circuit.wasm, wtns);
    const inputFile = path.join(dir, `${name}.input.json`);
    fs.writeFileSync(inputFile, JSON.stringify(input));
    const witnessBinary = await nativeWitnessBinary(built.circuit.wasm);
    const vkeyFile = path.join(dir, `${name}.vkey.json`);
    fs.writeFileSync(vkeyFile, JSON.stringify(built.keys.vkey));
    const row: ProverComparison["rows"][number] = {
      model: name,
      constraints: built.circuit.constraints,
      snarkjs: { times: [] },
      native: { times: [], phases: { read: 0, qap: 0, fft: 0, msm: 0 } },
      witness: { wasm: [], native: witnessBinary ? [] : undefined },
      samePublicSignals: true,
    };
    const ref = await snarkjs.groth16.prove(built.keys.zkey, wtns);
    const phases: { read: number; qap: number; fft: number; msm: number }[] = [];
    for (let i = 0; i < runs; i++) {
      const s = await runStep({ op: "prove", system: "groth16", zkey: built.keys.zkey, wtns, runs: 1, vkey: vkeyFile, prover: "snarkjs" }, log);
      if (!s.ok) throw new Error(`snarkjs on ${name}: ${s.error ?? "failed"}`);
      // the witness, each generator in a child of its own, into a scratch file (the proofs keep reading `wtns`)
      const scratch = path.join(dir, "scratch.wtns");
      const w = await runStep({ op: "witness", wasm: built.circuit.wasm, input: inputFile, wtns: scratch, runs: 1 }, log);
      if (!w.ok) throw new Error(`the WASM witness of ${name}: ${w.error ?? "failed"}`);
      row.witness?.wasm.push(...(w.times as number[]));
      if (witnessBinary) {
        const c = await runChild(witnessBinary, [inputFile, scratch], {}, log);
        if (c.code !== 0) throw new Error(`the native witness of ${name}: ${c.stderr.trim()}`);
        if (!fs.readFileSync(scratch).equals(fs.readFileSync(wtns))) throw new Error(`the native witness of ${name} differs from the WASM's`);
        row.witness?.native?.push(c.seconds);
      }
      row.snarkjs.times.push(...(s.times as number[]));
      row.snarkjs.maxRSSKiB = Math.max(row.snarkjs.maxRSSKiB ?? 0, s.mem.treeMaxRSSKiB ?? s.mem.processMaxRSSKiB ?? 0);
      const proofFile = path.join(dir, "proof.json");
      const publicFile = path.join(dir, "public.json");
      const n = await runChild(binary, [built.keys.zkey, wtns, proofFile, publicFile, "--threads", String(proverThreads()), "--timings"], {}, log);
      if (n.code !== 0) throw new Error(`the native prover on ${name}: ${n.stderr.trim()}`);
      row.native.times.push(n.seconds);
      if (n.treeMaxRSSKiB) row.native.maxRSSKiB = Math.max(row.native.maxRSSKiB ?? 0, n.treeMaxRSSKiB);
      const line = n.stderr.split("\n").find((l) => l.startsWith("{")) ?? "{}";
      phases.push(JSON.parse(line) as { read: number; qap: number; fft: number; msm: number });
      const proof = JSON.parse(fs.readFileSync(proofFile, "utf8")) as snarkjs.Groth16Proof;
      const pub = JSON.parse(fs.readFileSync(publicFile, "utf8")) as string[];
      if (!(await snarkjs.groth16.verify(built.keys.vkey, pub, proof))) throw new Error(`a native proof of ${name} did not verify`);
      if (JSON.stringify(pub) !== JSON.stringify(ref.publicSignals)) row.samePublicSignals = false;
    }
    for (const k of ["read", "qap", "fft", "msm"] as const) row.native.phases[k] = median(phases.map((p) => p[k]));
    rows.push(row);
    console.log(
      `${name}: ${row.constraints} constraints, witness WASM ${median(row.witness?.wasm ?? [0]).toFixed(3)} s${row.witness?.native ? ` / C++ ${median(row.witness.native).toFixed(3)} s` : ""}, snarkjs median ${median(row.snarkjs.times).toFixed(3)} s, native ${median(row.native.times).toFixed(3)} s (${(median(row.snarkjs.times) / median(row.native.times)).toFixed(1)}x), peak ${((row.snarkjs.maxRSSKiB ?? 0) / 1024).toFixed(0)} / ${((row.native.maxRSSKiB ?? 0) / 1024).toFixed(0)} MiB`,
    );
  }
  const file = path.join(ROOT, "bench", "results.json");
  const results = JSON.parse(fs.readFileSync(file, "utf8")) as BenchResults;
  // rows of models this run did not measure are kept (each row says what measured it)
  const kept = (results.prover?.rows ?? []).filter((r) => !models.includes(r.model));
  const all = [...MODELS, ...FIXTURE_MODELS];
  const order = (m: string) => (all.includes(m) ? all.indexOf(m) : all.length);
  results.prover = {
    generatedAt: new Date().toISOString(),
    command: `npm run bench:prover -- --models ${models.join(",")} --runs ${runs}${values["native-witness"] ? " --native-witness" : ""}`,
    threads: proverThreads(),
    rows: [...kept, ...rows].sort((a, b) => order(a.model) - order(b.model)),
    totalSeconds: (Date.now() - t0) / 1000,
  };
  writeFileAtomic(file, JSON.stringify(results, null, 2) + "\n");
  writeFileAtomic(path.join(ROOT, "bench", "REPORT.md"), renderReport(results));
  writeFileAtomic(path.join(ROOT, "bench", "proving-time.svg"), renderSvg(results));
  console.log("bench/results.json (prover) and bench/REPORT.md written");
});
