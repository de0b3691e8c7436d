import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { expect } from "chai";
import hre from "hardhat";
import { BUILD_DIR, ROOT } from "../../scripts/util/paths";
import { sha256 } from "../../scripts/util/hash";
import { compileSolidity } from "../../scripts/engine/solc";
import { type BuiltModel, buildModel, loadFloatModel, modelPaths } from "../../scripts/pipelines/build";
import { type StoredCalibration, readReference } from "../../scripts/formats/calibration";
import { argmaxFloat } from "../../scripts/formats/float-model";
import { inferQuantized } from "../../scripts/formats/quantized-model";
import { quantizeInput } from "../../scripts/formats/quantized-input";
import { verifyGroth16 } from "../../scripts/engine/prove/groth16";
import { proveInference } from "../../scripts/engine/prove/inference";

/**
 * A model owner's path, end to end (docs/bring-your-own-model.md): a PyTorch export (normalization inside the model)
 * imported under a name no bundled dataset knows, built with its calibration data from the owner's .npy file, proved,
 * and verified by its generated Solidity verifier on the in-process chain; then `npm run evaluate` on the owner's
 * reference outputs. Builds into build/byom-e2e/ (models/, circuits/models/, contracts/verifiers/), not the repo.
 */
const NAME = "my-mlp";
const FIXTURES = path.join(ROOT, "test", "fixtures", "onnx");
const CALIBRATION = path.join(FIXTURES, "norm-mlp.calib.npy");
const REFERENCE = path.join(FIXTURES, "norm-mlp.json");
const WORK = path.join(BUILD_DIR, "byom-e2e");

/** A TypeScript command of this repo, as `npm run <script>` runs it (ts-node, without type checking). */
function run(script: string, args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", script, ...args], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, TS_NODE_FILES: "true" },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("e2e: bring your own model, PyTorch export to a proof verified on chain", function () {
  let built: BuiltModel;
  let t0: number;
  const floatFile = () => modelPaths(NAME, undefined, WORK).floatFile;

  before(async function () {
    t0 = Date.now();
    fs.rmSync(path.join(WORK, "models", NAME), { recursive: true, force: true });
    const imp = run("scripts/apps/cli/onnx.ts", [
      "import",
      path.join(FIXTURES, "norm-mlp.onnx"),
      "--name",
      NAME,
      "--out",
      floatFile(),
      "--classes",
      "low,mid,high",
    ]);
    expect(imp.stderr).to.equal("");
    expect(imp.stdout).to.match(/imported .*norm-mlp\.onnx: dense -> dense; wrote /);
    built = await buildModel(NAME, { root: WORK, calibration: CALIBRATION });
  });

  it("a name outside the bundled datasets builds, with the calibration set copied into the model folder", function () {
    const fm = loadFloatModel(NAME, WORK);
    expect(fm.classes).to.deep.equal(["low", "mid", "high"]);
    const stored = JSON.parse(fs.readFileSync(path.join(WORK, "models", NAME, "calibration.json"), "utf8")) as StoredCalibration;
    expect(stored.source).to.equal("norm-mlp.calib.npy");
    expect(stored.sha256).to.equal(sha256(fs.readFileSync(CALIBRATION)));
    expect(stored.inputs).to.have.length(128);
    expect(built.manifest.files.calibration.sha256).to.equal(sha256(fs.readFileSync(path.join(WORK, "models", NAME, "calibration.json"))));
    expect(built.circuit.constraints).to.be.lessThan(1 << 10);
    console.log(
      `      ${NAME}: ${built.model.input.bits}-bit, ${built.circuit.constraints} constraints, keys 2^${built.keys.ptau.power}; import + build in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );
  });

  it("a rebuild without --calibration quantizes the same way (the stored set)", async function () {
    const again = await buildModel(NAME, { root: WORK });
    expect(again.manifest).to.deep.equal(built.manifest);
  });

  it("proves a reference input; the proof verifies with snarkjs and with the generated verifier on chain, tampered signals do not", async function () {
    const fm = loadFloatModel(NAME, WORK);
    const ref = readReference(REFERENCE, fm.inputSize, 3);
    const x = quantizeInput(built.model, fm, ref.inputs[7]);
    const t = Date.now();
    const proof = await proveInference(built.model, { wasm: built.circuit.wasm, zkey: built.keys.zkey }, x, 99n, 4242n);
    const proveSeconds = (Date.now() - t) / 1000;
    expect(proof.output).to.equal(inferQuantized(built.model, x).output);
    expect(Number(proof.output)).to.equal(argmaxFloat(ref.outputs[7])); // the class PyTorch gave
    expect(await verifyGroth16(built.keys.vkey, proof.publicSignals, proof.proof)).to.equal(true);

    const sol = fs.readFileSync(built.paths.verifierFile, "utf8");
    const c = compileSolidity(sol, built.paths.verifierContract, built.paths.verifierFile);
    const [signer] = await hre.ethers.getSigners();
    const verifier = await new hre.ethers.ContractFactory(c.abi as never[], c.bytecode, signer).deploy();
    type V = { verifyProof(a: bigint[], b: bigint[][], c: bigint[], s: bigint[]): Promise<boolean> };
    const v = verifier as unknown as V;
    expect(await v.verifyProof(proof.packed.a, proof.packed.b, proof.packed.c, proof.publicSignals)).to.equal(true);
    for (let i = 0; i < proof.publicSignals.length; i++) {
      const pub = [...proof.publicSignals];
      pub[i] += 1n;
      expect(await v.verifyProof(proof.packed.a, proof.packed.b, proof.packed.c, pub), `signal ${i}`).to.equal(false);
    }
    console.log(
      `      ${NAME}: proof in ${proveSeconds.toFixed(2)} s; everything up to the on-chain check in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );
  });

  it("npm run evaluate prints the agreement with PyTorch and the constraint count, and exits 1 on a missed target", function () {
    const ok = run("scripts/apps/cli/evaluate.ts", [floatFile(), REFERENCE, "--calibration", CALIBRATION]);
    expect(ok.stderr).to.equal("");
    expect(ok.code).to.equal(0);
    expect(ok.stdout).to.match(/float vs reference: max \|difference\| \d\.\d+e-\d/);
    expect(ok.stdout).to.match(/top-1 agreement with the reference: float 100\.00%, quantized 100\.00%/);
    expect(ok.stdout).to.include(`circuit: ${built.circuit.constraints} constraints`);
    const low = run("scripts/apps/cli/evaluate.ts", [
      floatFile(),
      REFERENCE,
      "--calibration",
      CALIBRATION,
      "--bits",
      "2",
      "--no-circuit",
      "--json",
    ]);
    expect(low.code).to.equal(1);
    const report = JSON.parse(low.stdout) as { bits: number; quantizedTop1Agreement: number; missed: string[] };
    expect(report.bits).to.equal(2);
    expect(report.quantizedTop1Agreement).to.be.lessThan(0.99);
    expect(low.stderr.trim()).to.match(/^error: missed target: quantized top-1 agreement \d+\.\d\d% < 99\.00%: pin more bits \(--bits\)/);
  });
});
