import * as fs from "fs";
import { expect } from "chai";
import hre from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { type BuiltModel, buildModel, loadFloatModel } from "../../scripts/pipelines/build";
import { loadSeattleTempMax } from "../../scripts/pipelines/datasets";
import { inferQuantized } from "../../scripts/formats/quantized-model";
import { inputSignals, layoutOf, circuitModelCommitment, numPublicSignals } from "../../scripts/formats/model-layout";
import { packSigned } from "../../scripts/formats/commitments";
import { quantizeInput } from "../../scripts/formats/quantized-input";
import { exportGroth16Verifier, verificationKeyHash } from "../../scripts/engine/setup/groth16";
import { verifyGroth16 } from "../../scripts/engine/prove/groth16";
import { type InferenceProof, circuitInput, proveInference } from "../../scripts/engine/prove/inference";
import { type Circuit, circuitFromFile } from "../helpers/circuit";

const MODEL = "temp-forecast";

/**
 * The bundled regression model (public input, values head) from its committed files to a verified Groth16 proof:
 * the pipeline reproduces the committed circuit and verifier, the witness equals the TS reference, and a real proof
 * verifies with snarkjs and with the generated Solidity verifier, with signals equal to the reference.
 */
describe("e2e: temp-forecast, public-input regression to a verified proof", function () {
  let built: BuiltModel;
  let circuit: Circuit;
  let raws: number[][];

  before(async function () {
    built = await buildModel(MODEL, { quantize: false });
    circuit = await circuitFromFile(built.paths.circuitFile);
    raws = loadSeattleTempMax().test.x;
  });

  it("the committed verifier is what snarkjs generates from the dev keys (no drift)", async function () {
    const sol = await exportGroth16Verifier(
      built.keys,
      built.paths.verifierContract,
      `circuits/models/${MODEL}.circom (r1cs sha256 ${built.circuit.r1csHash})`,
    );
    expect(fs.readFileSync(built.paths.verifierFile, "utf8")).to.equal(sol);
    expect(built.paths.verifierContract).to.equal("TempForecastGroth16Verifier");
    expect(built.manifestChanged).to.equal(false);
  });

  it("pins the circuit size, the signal layout and the registry layout", function () {
    expect(built.circuit.constraints).to.equal(628);
    expect(built.circuit.outputs).to.equal(2);
    expect(built.circuit.publicInputs).to.equal(2);
    expect(numPublicSignals(built.model)).to.equal(4);
    expect(built.manifest.publicSignals).to.deep.equal(["result", "modelCommitment", "inputPacked[0]", "jobBinding"]);
    expect(layoutOf(built.model)).to.deep.equal({
      inputMode: 1,
      outputHead: 1,
      inputCount: 7,
      inputBits: 12,
      outputCount: 1,
      outputBits: 16,
      outputFrac: 9,
    });
  });

  it("every held-out window: the witness's public signals equal the reference", async function () {
    const fm = loadFloatModel(MODEL);
    const mc = await circuitModelCommitment(built.model);
    for (const [i, raw] of raws.entries()) {
      if (i % 10 !== 0) continue;
      const x = quantizeInput(built.model, fm, raw);
      const ref = inferQuantized(built.model, x);
      const w = await circuit.witness(circuitInput(x, undefined, 12345n, built.model));
      expect(w.slice(1, 5), `window ${i}`).to.deep.equal([ref.output, mc, ...(await inputSignals(built.model, x)), 12345n]);
    }
  });

  it("a raw °C value quantizes as round(°C * 2^5) (identity preprocessing)", function () {
    const fm = loadFloatModel(MODEL);
    expect(quantizeInput(built.model, fm, [12.8, -1.6, 35.6, 0, 0.1, 20.03125, 7.2])).to.deep.equal([
      410n,
      -51n,
      1139n,
      0n,
      3n,
      641n,
      230n,
    ]);
  });

  describe("Groth16 proof", function () {
    let proof: InferenceProof;
    let x: bigint[];
    before(async function () {
      x = quantizeInput(built.model, loadFloatModel(MODEL), raws[3]);
      const t0 = Date.now();
      proof = await proveInference(built.model, { wasm: built.circuit.wasm, zkey: built.keys.zkey }, x, undefined, 777n);
      console.log(`      temp-forecast: witness + Groth16 proof in ${((Date.now() - t0) / 1000).toFixed(2)} s`);
    });

    it("has the reference's signals: packed prediction, model, packed inputs, binding", async function () {
      const ref = inferQuantized(built.model, x);
      expect(proof.publicSignals).to.deep.equal([ref.output, await circuitModelCommitment(built.model), ...packSigned(x, 12), 777n]);
      expect(proof.values).to.deep.equal(ref.values);
      const last = built.model.layers[built.model.layers.length - 1];
      if (last.type !== "dense" || !proof.values) throw new Error("values head");
      expect(proof.output).to.equal((proof.values[0] + (1n << 15n)) & 0xffffn);
      const celsius = Number(proof.values[0]) / 2 ** last.outFrac;
      expect(celsius).to.be.within(-10, 45);
    });

    it("verifies with snarkjs, and tampered signals do not", async function () {
      expect(verificationKeyHash(built.keys.vkey)).to.equal(built.manifest.vkHash);
      expect(await verifyGroth16(built.keys.vkey, proof.publicSignals, proof.proof)).to.equal(true);
      for (let i = 0; i < 4; i++) {
        const pub = [...proof.publicSignals];
        pub[i] += 1n;
        expect(await verifyGroth16(built.keys.vkey, pub, proof.proof), `signal ${i}`).to.equal(false);
      }
    });

    it("verifies with the generated Solidity verifier", async function () {
      async function deploy() {
        return { verifier: await hre.ethers.deployContract(built.paths.verifierContract) };
      }
      const { verifier } = await loadFixture(deploy);
      type V = { verifyProof(a: bigint[], b: bigint[][], c: bigint[], s: bigint[]): Promise<boolean> };
      const v = verifier as unknown as V;
      expect(await v.verifyProof(proof.packed.a, proof.packed.b, proof.packed.c, proof.publicSignals)).to.equal(true);
      const pub = [...proof.publicSignals];
      pub[2] += 1n; // one more 1/32 °C on the oldest day
      expect(await v.verifyProof(proof.packed.a, proof.packed.b, proof.packed.c, pub)).to.equal(false);
    });

    it("proveInference on a public-mode model ignores a salt", async function () {
      const again = await proveInference(built.model, { wasm: built.circuit.wasm, zkey: built.keys.zkey }, x, 5n, 777n);
      expect(again.publicSignals).to.deep.equal(proof.publicSignals);
    });
  });
});
