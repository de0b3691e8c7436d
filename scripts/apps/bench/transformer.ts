/**
 * Transformer benchmark (issue 31's bar: a one-layer encoder on a sequence of 8, width 16, 2 heads in <= 200k
 * constraints, proved in <= 30 s on 2 cores): the PyTorch export test/fixtures/onnx/transformer-postnorm.onnx
 * (nn.TransformerEncoderLayer(16, 2 heads, 32), post-norm) imported, quantized with its calibration file, compiled,
 * keyed, then proved `--runs` times on held-out inputs (by proveInference: the native prover by default); prints
 * constraints per layer, build and proof times (median,
 * min-max) and whether every proven class is PyTorch's. Builds into build/bench-transformer/, not the repo.
 * Run: npm run bench:transformer [-- --runs 5]
 */
import * as path from "path";
import { proveInference } from "../../engine/prove/inference";
import { estimateConstraints } from "../../engine/circuit/size";
import { quantizeInput } from "../../formats/quantized-input";
import { BUILD_DIR } from "../../util/paths";
import { commandLine } from "../../util/args";
import { runMain } from "../main";
import { buildFixtureModel } from "./fixture-model";
import { median } from "./report";
import { proverBackend } from "../../engine/prove/native";

const USAGE = "usage: npm run bench:transformer [-- --runs N]";
const WORK = path.join(BUILD_DIR, "bench-transformer");
const NAME = "transformer-postnorm";

runMain(async () => {
  const { values } = commandLine(process.argv.slice(2), { runs: { type: "string" } }, USAGE);
  const runs = Number(values.runs ?? 5);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer, got ${String(values.runs)}`);
  const { built, fm, ref, buildSeconds: buildS } = await buildFixtureModel(NAME, WORK, { fresh: true });
  const qm = built.model;
  const est = estimateConstraints(qm);
  const times: number[] = [];
  let agree = 0;
  for (let i = 0; i < runs; i++) {
    const x = quantizeInput(qm, fm, ref.inputs[i]);
    const t = Date.now();
    const proof = await proveInference(qm, { wasm: built.circuit.wasm, zkey: built.keys.zkey }, x, BigInt(i + 1), 31337n);
    times.push((Date.now() - t) / 1000);
    if (Number(proof.output) === ref.outputs[i].indexOf(Math.max(...ref.outputs[i]))) agree++;
  }
  const sorted = [...times].sort((a, b) => a - b);
  const med = median(times);
  console.log(`transformer: ${NAME} (nn.TransformerEncoderLayer: sequence 8, width 16, 2 heads, feed-forward 32), ${qm.input.bits}-bit\n`);
  console.log("| layer | type | constraints |\n|---|---|---|");
  qm.layers.forEach((l, i) => console.log(`| ${i} | ${l.type} | ${est.layers[i].toLocaleString("en-US")} |`));
  console.log(`| | commitments, head, binding | ${est.rest.toLocaleString("en-US")} |`);
  console.log(`\nconstraints ${built.circuit.constraints.toLocaleString("en-US")} (estimate ${est.constraints.toLocaleString("en-US")}; target <= 200,000: ${built.circuit.constraints <= 200_000 ? "met" : "MISSED"})`);
  console.log(`build (quantize, compile, Groth16 keys) ${buildS.toFixed(1)} s`);
  console.log(
    `Groth16 proof (witness + proveInference's prover: ${proverBackend() === "snarkjs" ? "snarkjs" : "native, snarkjs if it cannot build"}), ${runs} runs: median ${med.toFixed(2)} s, min ${sorted[0].toFixed(2)} s, max ${sorted[sorted.length - 1].toFixed(2)} s (target <= 30 s: ${med <= 30 ? "met" : "MISSED"})`,
  );
  console.log(`proven class = PyTorch's on ${agree} of ${runs} held-out inputs`);
});
