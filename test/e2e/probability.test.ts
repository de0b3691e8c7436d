import * as fs from "fs";
import * as path from "path";
import { expect } from "chai";
import hre from "hardhat";
import { BUILD_DIR, ROOT } from "../../scripts/util/paths";
import { compileSolidity } from "../../scripts/engine/solc";
import { type BuiltModel, buildModel, loadFloatModel, modelPaths } from "../../scripts/pipelines/build";
import { readReference } from "../../scripts/formats/calibration";
import { type ActivationLayer, headLayer, inferQuantized } from "../../scripts/formats/quantized-model";
import { describeOutput } from "../../scripts/formats/model-layout";
import { quantizeInput } from "../../scripts/formats/quantized-input";
import { unpackSigned } from "../../scripts/formats/commitments";
import { importOnnxFile } from "../../scripts/engine/onnx/import";
import { verifyGroth16 } from "../../scripts/engine/prove/groth16";
import { proveInference } from "../../scripts/engine/prove/inference";
import { estimateConstraints } from "../../scripts/engine/circuit/size";

/**
 * Models of issue 31, end to end with real proofs: PyTorch exports of a logistic regression
 * (a Sigmoid probability head, read as "class 1 with p >= 0.8") and of an MLP with GELU (its Erf subgraph), and a
 * scikit-learn gradient-boosted classifier (20 trees of depth 3, ONNX-ML) with its probability, imported,
 * built with their owner's calibration file, proved, and verified by their generated Solidity verifiers on the
 * in-process chain. Builds into build/activation-e2e/, not the repo.
 */
const FIXTURES = path.join(ROOT, "test", "fixtures", "onnx");
const WORK = path.join(BUILD_DIR, "activation-e2e");

type V = { verifyProof(a: bigint[], b: bigint[][], c: bigint[], s: bigint[]): Promise<boolean> };

async function deployVerifier(built: BuiltModel): Promise<V> {
  const sol = fs.readFileSync(built.paths.verifierFile, "utf8");
  const c = compileSolidity(sol, built.paths.verifierContract, built.paths.verifierFile);
  const [signer] = await hre.ethers.getSigners();
  return (await new hre.ethers.ContractFactory(c.abi as never[], c.bytecode, signer).deploy()) as unknown as V;
}

async function build(fixture: string, name: string): Promise<BuiltModel> {
  fs.rmSync(path.join(WORK, "models", name), { recursive: true, force: true });
  importOnnxFile(path.join(FIXTURES, `${fixture}.onnx`), modelPaths(name, undefined, WORK).floatFile, { name });
  const calib = fs.readdirSync(FIXTURES).find((f) => f.startsWith(`${fixture}.calib.`)) as string;
  return buildModel(name, { root: WORK, calibration: path.join(FIXTURES, calib) });
}

describe("e2e: issue 31 models (a sigmoid probability head, boosted trees, GELU, a transformer encoder), real proofs verified on chain", function () {
  this.timeout(900_000);

  it("logistic regression: the proven probability is PyTorch's within 1% and the on-chain verifier accepts it", async function () {
    const t0 = Date.now();
    const built = await build("logistic", "my-logistic");
    const fm = loadFloatModel("my-logistic", WORK);
    const qm = built.model;
    expect(qm.head).to.equal("values");
    const last = headLayer(qm) as ActivationLayer;
    expect(last.fn).to.equal("sigmoid");
    const ref = readReference(path.join(FIXTURES, "logistic.json"), fm.inputSize, 1);
    // the first reference input PyTorch puts at p >= 0.8
    const i = ref.outputs.findIndex((o) => o[0] >= 0.8);
    const x = quantizeInput(qm, fm, ref.inputs[i]);
    const proof = await proveInference(qm, { wasm: built.circuit.wasm, zkey: built.keys.zkey }, x, 5n, 31337n);
    expect(proof.output).to.equal(inferQuantized(qm, x).output);
    const [pq] = unpackSigned(proof.output, 1, last.outBits);
    const p = Number(pq) / 2 ** last.outFrac;
    expect(Math.abs(p - ref.outputs[i][0])).to.be.below(0.01);
    expect(p >= 0.8).to.equal(true); // what a consumer contract checks: class 1 with p >= 0.8
    expect(await verifyGroth16(built.keys.vkey, proof.publicSignals, proof.proof)).to.equal(true);
    const v = await deployVerifier(built);
    expect(await v.verifyProof(proof.packed.a, proof.packed.b, proof.packed.c, proof.publicSignals)).to.equal(true);
    const forged = [...proof.publicSignals];
    forged[0] += 1n; // p one step higher
    expect(await v.verifyProof(proof.packed.a, proof.packed.b, proof.packed.c, forged)).to.equal(false);
    console.log(
      `      logistic: ${qm.input.bits}-bit, sigmoid h=${last.segmentBits} d=${last.degree}, ${built.circuit.constraints} constraints, p = ${describeOutput(qm, proof.output)} (PyTorch ${ref.outputs[i][0]}); ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );
  });

  it("gradient-boosted trees (scikit-learn, 20 trees of depth 3, ONNX-ML): the proven probability is the framework's within 1% and the on-chain verifier accepts it", async function () {
    const built = await build("gbdt-binary", "my-gbdt");
    const fm = loadFloatModel("my-gbdt", WORK);
    const qm = built.model;
    expect(qm.layers.map((l) => l.type)).to.deep.equal(["trees", "activation"]);
    const ref = readReference(path.join(FIXTURES, "gbdt-binary.json"), fm.inputSize, 1);
    const last = headLayer(qm);
    let proveMs = 0;
    for (const i of [0, 1, 2]) {
      const x = quantizeInput(qm, fm, ref.inputs[i]);
      const t = Date.now();
      const proof = await proveInference(qm, { wasm: built.circuit.wasm, zkey: built.keys.zkey }, x, BigInt(10 + i), 31339n);
      proveMs = Date.now() - t;
      const [pq] = unpackSigned(proof.output, 1, last.outBits);
      expect(Math.abs(Number(pq) / 2 ** last.outFrac - ref.outputs[i][0]), `input ${i}`).to.be.below(0.01);
      if (i === 0) {
        const v = await deployVerifier(built);
        expect(await v.verifyProof(proof.packed.a, proof.packed.b, proof.packed.c, proof.publicSignals)).to.equal(true);
      }
    }
    console.log(
      `      gbdt-binary: ${qm.input.bits}-bit, ${built.circuit.constraints} constraints, last proof ${proveMs} ms (scikit-learn p vs proven p within 1%)`,
    );
  });

  it("GELU MLP: the proven class is PyTorch's and the on-chain verifier accepts it", async function () {
    const built = await build("gelu-mlp", "my-gelu-mlp");
    const fm = loadFloatModel("my-gelu-mlp", WORK);
    const qm = built.model;
    expect(qm.layers.map((l) => l.type)).to.deep.equal(["dense", "activation", "dense"]);
    const ref = readReference(path.join(FIXTURES, "gelu-mlp.json"), fm.inputSize, 3);
    const x = quantizeInput(qm, fm, ref.inputs[3]);
    const proof = await proveInference(qm, { wasm: built.circuit.wasm, zkey: built.keys.zkey }, x, 6n, 31338n);
    const want = ref.outputs[3].indexOf(Math.max(...ref.outputs[3]));
    expect(Number(proof.output)).to.equal(want);
    const v = await deployVerifier(built);
    expect(await v.verifyProof(proof.packed.a, proof.packed.b, proof.packed.c, proof.publicSignals)).to.equal(true);
    console.log(`      gelu-mlp: ${qm.input.bits}-bit, ${built.circuit.constraints} constraints, class ${proof.output}`);
  });

  it("a one-layer transformer encoder (PyTorch nn.TransformerEncoderLayer, 2 heads, LayerNorm): the proven class is PyTorch's, the circuit is the TS reference at the input range's edges, its size the estimate, and the on-chain verifier accepts it", async function () {
    // the narrower export (width 8) keeps the keys small; npm run bench:transformer proves the width-16 one
    const t0 = Date.now();
    const built = await build("transformer-small", "my-transformer");
    const buildMs = Date.now() - t0;
    const fm = loadFloatModel("my-transformer", WORK);
    const qm = built.model;
    expect(qm.layers.map((l) => l.type)).to.include.members(["attention", "layernorm"]);
    expect(built.circuit.constraints).to.equal(estimateConstraints(qm).constraints);
    const ref = readReference(path.join(FIXTURES, "transformer-small.json"), fm.inputSize, 3);
    const x = quantizeInput(qm, fm, ref.inputs[0]);
    const t1 = Date.now();
    const proof = await proveInference(qm, { wasm: built.circuit.wasm, zkey: built.keys.zkey }, x, 8n, 31340n);
    const proveMs = Date.now() - t1;
    expect(Number(proof.output)).to.equal(ref.outputs[0].indexOf(Math.max(...ref.outputs[0])));
    const v = await deployVerifier(built);
    expect(await v.verifyProof(proof.packed.a, proof.packed.b, proof.packed.c, proof.publicSignals)).to.equal(true);
    const forged = [...proof.publicSignals];
    forged[0] = (forged[0] + 1n) % 3n; // another class
    expect(await v.verifyProof(proof.packed.a, proof.packed.b, proof.packed.c, forged)).to.equal(false);
    // proveInference checks every public signal against inferQuantized: the circuit is the twin at the range's edges
    const lim = (1n << BigInt(qm.input.bits - 1)) - 1n;
    for (const [k, edge] of [
      Array(fm.inputSize).fill(-lim - 1n),
      Array.from({ length: fm.inputSize }, (_, i) => (i % 2 ? lim : -lim - 1n)),
    ].entries())
      await proveInference(qm, { wasm: built.circuit.wasm, zkey: built.keys.zkey }, edge, BigInt(20 + k), 31341n);
    console.log(
      `      transformer-small: ${qm.input.bits}-bit, ${built.circuit.constraints} constraints, class ${proof.output}; build ${(buildMs / 1000).toFixed(1)} s, proof ${(proveMs / 1000).toFixed(1)} s`,
    );
  });
});
