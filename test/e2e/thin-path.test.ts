import * as fs from "fs";
import { expect } from "chai";
import hre from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { type BuiltModel, buildModel, loadFloatModel } from "../../scripts/pipelines/build";
import { loadIris } from "../../scripts/pipelines/datasets";
import { SNARK_FIELD, fromField } from "../../scripts/util/field";
import { inferQuantized, inputCommitment } from "../../scripts/formats/quantized-model";
import { circuitModelCommitment } from "../../scripts/formats/model-layout";
import { quantizeInput } from "../../scripts/formats/quantized-input";
import { signedRange } from "../../scripts/formats/fixed-point";
import { exportGroth16Verifier } from "../../scripts/engine/setup/groth16";
import { circuitInput, proveInference } from "../../scripts/engine/prove/inference";
import { type Circuit, circuitFromFile } from "../helpers/circuit";

const MODEL = "iris-mlp";

describe("e2e: iris-mlp, model to verified on-chain result", function () {
  let built: BuiltModel;
  let circuit: Circuit;
  let inputs: bigint[][];

  before(async function () {
    // The committed quantized model, circuit and verifier are what the pipeline produces (checked below).
    built = await buildModel(MODEL, { quantize: false });
    circuit = await circuitFromFile(built.paths.circuitFile);
    const fm = loadFloatModel(MODEL);
    inputs = loadIris().test.x.map((raw) => quantizeInput(built.model, fm, raw));
  });

  describe("pipeline artifacts", function () {
    it("the committed verifier is what snarkjs generates from the dev keys (no drift)", async function () {
      const sol = await exportGroth16Verifier(
        built.keys,
        built.paths.verifierContract,
        `circuits/models/${MODEL}.circom (r1cs sha256 ${built.circuit.r1csHash})`,
      );
      expect(fs.readFileSync(built.paths.verifierFile, "utf8")).to.equal(sol);
    });

    it("pins the circuit size", function () {
      expect(built.circuit.constraints).to.equal(656);
      expect(built.circuit.outputs).to.equal(3);
      expect(built.circuit.publicInputs).to.equal(1);
    });
  });

  describe("circuit vs TypeScript reference (bit-exact)", function () {
    it("every held-out sample: result, model and input commitments equal the reference", async function () {
      const mc = await circuitModelCommitment(built.model);
      for (const [i, x] of inputs.entries()) {
        const salt = BigInt(1000 + i);
        const ref = inferQuantized(built.model, x);
        const w = await circuit.witness(circuitInput(x, salt, 12345n));
        expect(circuit.get(w, "result"), `sample ${i}`).to.equal(ref.output);
        expect(fromField(circuit.get(w, "head.max")), `sample ${i} max logit`).to.equal(ref.logits[Number(ref.output)]);
        expect(circuit.get(w, "modelCommitment")).to.equal(mc);
        expect(circuit.get(w, "inputCommitment")).to.equal(await inputCommitment(built.model, x, salt));
        await circuit.expectSatisfied(w);
      }
    });

    it("extreme inputs (all min, all max, zero) match the reference", async function () {
      const { lo, hi } = signedRange(built.model.input.bits);
      for (const v of [lo, hi, 0n]) {
        const x = new Array<bigint>(4).fill(v);
        const w = await circuit.witness(circuitInput(x, 1n, 1n));
        expect(circuit.get(w, "result")).to.equal(inferQuantized(built.model, x).output);
      }
    });

    it("rejects an input just outside the declared input range (no witness)", async function () {
      const { hi } = signedRange(built.model.input.bits);
      let error: unknown;
      try {
        await circuit.witness(circuitInput([hi + 1n, 0n, 0n, 0n], 1n, 1n));
      } catch (e) {
        error = e;
      }
      expect(String(error)).to.match(/Assert Failed|Error in template/);
    });
  });

  describe("soundness: tampered witnesses fail the constraints", function () {
    let w: bigint[];
    let ref: ReturnType<typeof inferQuantized>;
    before(async function () {
      ref = inferQuantized(built.model, inputs[0]);
      w = await circuit.witness(circuitInput(inputs[0], 7n, 99n));
    });

    it("a different claimed class (public output) is rejected", async function () {
      await circuit.expectRejected(w, { result: (ref.output + 1n) % 3n });
    });

    it("a wrong logit with the remainder chosen to satisfy the linear equation is rejected", async function () {
      // Last layer, neuron 0: raise its quotient by one (bit k of the decomposition) and take 2^k out of the
      // remainder through bit 0, so acc + 2^(k-1) = q * 2^k + r still holds; bit 0 stops being a bit.
      const k = built.model.layers[1].type === "dense" ? built.model.layers[1].shift : 0;
      let bit = k;
      while (circuit.get(w, `l1.rq[0].bits[${bit}]`) !== 0n) bit++;
      const lower: Record<string, bigint> = {};
      for (let i = k; i < bit; i++) lower[`l1.rq[0].bits[${i}]`] = 0n; // carry: q + 1 flips the low ones
      const b0 = circuit.get(w, "l1.rq[0].bits[0]");
      await circuit.expectRejected(w, {
        ...lower,
        [`l1.rq[0].bits[${bit}]`]: 1n,
        "l1.rq[0].bits[0]": fromField(b0) - (1n << BigInt(k)),
      });
    });

    it("a different input commitment is rejected", async function () {
      await circuit.expectRejected(w, { inputCommitment: circuit.get(w, "inputCommitment") + 1n });
    });
  });

  describe("on-chain verifier (snarkjs Groth16, real proofs)", function () {
    async function deployVerifier() {
      const verifier = await hre.ethers.deployContract(built.paths.verifierContract);
      return { verifier };
    }
    let proof: Awaited<ReturnType<typeof proveInference>>;
    before(async function () {
      proof = await proveInference(built.model, { wasm: built.circuit.wasm, zkey: built.keys.zkey }, inputs[3], 42n, 777n);
    });
    type V = { verifyProof(a: bigint[], b: bigint[][], c: bigint[], s: bigint[]): Promise<boolean> };
    const call = async (pub: bigint[], a = proof.packed.a as bigint[]) => {
      const { verifier } = await loadFixture(deployVerifier);
      return (verifier as unknown as V).verifyProof(a, proof.packed.b, proof.packed.c, pub);
    };

    it("accepts the valid proof", async function () {
      expect(await call(proof.publicSignals)).to.equal(true);
    });

    it("verifies in a transaction (gas is paid and the tx succeeds)", async function () {
      const { verifier } = await loadFixture(deployVerifier);
      const data = verifier.interface.encodeFunctionData("verifyProof", [
        proof.packed.a,
        proof.packed.b,
        proof.packed.c,
        proof.publicSignals,
      ]);
      const [signer] = await hre.ethers.getSigners();
      const r = await (await signer.sendTransaction({ to: await verifier.getAddress(), data })).wait();
      expect(r?.status).to.equal(1);
      expect(r?.gasUsed).to.be.greaterThan(150_000n);
    });

    it("rejects a tampered proof", async function () {
      expect(await call(proof.publicSignals, [proof.packed.a[0], proof.packed.a[1] + 1n])).to.equal(false);
    });

    for (const [i, name] of ["output", "modelCommitment", "inputCommitment", "jobBinding"].entries()) {
      it(`rejects a tampered public signal: ${name}`, async function () {
        const pub = [...proof.publicSignals];
        pub[i] = pub[i] + 1n;
        expect(await call(pub)).to.equal(false);
      });
    }

    it("rejects a public signal >= the field modulus (aliasing)", async function () {
      const pub = [...proof.publicSignals];
      pub[0] = pub[0] + SNARK_FIELD;
      expect(await call(pub)).to.equal(false);
    });
  });
});
