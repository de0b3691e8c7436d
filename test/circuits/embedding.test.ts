import { expect } from "chai";
import fc from "fast-check";
import { fromField, toField } from "../../scripts/util/field";
import { generateMainCircuit } from "../../scripts/engine/circuit/generate";
import { estimateConstraints } from "../../scripts/engine/circuit/size";
import { quantizeModel } from "../../scripts/engine/quantize";
import { type FloatModel, forwardFloat } from "../../scripts/formats/float-model";
import { inferQuantized, inputCommitment } from "../../scripts/formats/quantized-model";
import { quantizeFeatures } from "../../scripts/formats/quantized-input";
import { type Circuit, circuitFromSource, precompile, templateCircuit } from "../helpers/circuit";

function rand(seed: number): () => number {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
}

describe("circuits/lib/embedding.circom and generated embedding models", function () {
  this.timeout(900_000);

  describe("EmbeddingLookup(n = 3, V = 5, d = 2)", function () {
    const E = [
      [3, -1],
      [7, 0],
      [-4, 2],
      [0, 5],
      [9, -9],
    ];
    let c: Circuit;
    before(async function () {
      c = await templateCircuit("embedding.circom", "EmbeddingLookup", [3, 5, 2, JSON.stringify(E)]);
    });
    it("returns the id's row for every id of the vocabulary and costs n + (2^n - n - 1) + (n + 1)", async function () {
      expect(c.compiled.constraints).to.equal(3 + 4 + 4);
      for (let id = 0; id < 5; id++) {
        const w = await c.witness({ in: String(id) });
        expect([0, 1].map((j) => fromField(c.get(w, `out[${j}]`)))).to.deep.equal(E[id].map(BigInt));
      }
    });
    it("has no witness for an id outside the vocabulary (5, 7, -1)", async function () {
      for (const id of [5n, 7n, -1n]) {
        let threw = false;
        try {
          await c.witness({ in: toField(id).toString() });
        } catch {
          threw = true;
        }
        expect(threw, `id ${id}`).to.equal(true);
      }
    });
    it("rejects a forged id bit (with the weighted sum kept), a forged monomial and a moved output", async function () {
      const w = await c.witness({ in: "2" }); // bits 0, 1
      // bit 0 set and bit 1 at -1: the low bits weigh -1, so the top bit (2 + 1) / 4 is not boolean
      await c.expectRejected(w, { "bits[0]": 1n, "bits[1]": -1n });
      await c.expectRejected(w, { "prod[0]": 1n - c.get(w, "prod[0]") });
      await c.expectRejected(w, { "out[0]": fromField(c.get(w, "out[0]")) + 1n });
    });
  });

  describe("token ids -> embedding -> mean over the sequence (avgpool1d) -> dense, and -> conv1d -> flatten -> dense", function () {
    const r = rand(3);
    const V = 12;
    const seq = 8;
    const d = 4;
    const E = Array.from({ length: V }, () => Array.from({ length: d }, () => r()));
    const base = (name: string, layers: FloatModel["layers"]): FloatModel => ({
      format: "zkml-float-v1",
      name,
      inputSize: seq,
      preprocess: { mean: Array(seq).fill(0), std: Array(seq).fill(1) },
      classes: ["a", "b", "c"],
      layers: [{ type: "embedding", E }, ...layers],
    });
    const models = [
      base("bag-of-embeddings", [
        { type: "avgpool1d", inShape: [d, seq], kernel: seq, stride: 1 },
        { type: "flatten", inShape: [d, 1, 1] },
        { type: "dense", W: Array.from({ length: 3 }, () => Array.from({ length: d }, () => r())), B: [0, 0.1, -0.1], relu: false },
      ]),
      base("embedding-conv1d", [
        { type: "conv1d", inShape: [d, seq], W: Array.from({ length: 4 }, () => Array.from({ length: d }, () => Array.from({ length: 3 }, () => r() * 0.5))), B: [0, 0, 0.1, 0], kernel: 3, stride: 1, padding: 1, relu: true },
        { type: "maxpool1d", inShape: [4, seq], kernel: 2, stride: 2 },
        { type: "flatten", inShape: [4, 1, 4] },
        { type: "dense", W: Array.from({ length: 3 }, () => Array.from({ length: 16 }, () => r() * 0.5)), B: [0, 0, 0], relu: false },
      ]),
    ];
    const ids = (n: number, seed: number) => {
      const g = rand(seed);
      return Array.from({ length: n }, () => Array.from({ length: seq }, () => Math.floor(((g() + 1) / 2) * V)));
    };
    const quantized = models.map((fm) => quantizeModel(fm, ids(64, 1), { bits: 8 }));
    before(async function () {
      await precompile(await Promise.all(quantized.map(async (qm) => [qm.name, await generateMainCircuit(qm)] as const)));
    });
    models.forEach((fm, mi) => {
      it(`${fm.name}: frac-0 id inputs, the circuit equals the twin and the estimate, and follows the float model`, async function () {
        const qm = quantized[mi];
        expect(qm.input.frac).to.equal(0);
        const c = await circuitFromSource(qm.name, await generateMainCircuit(qm));
        expect(c.compiled.constraints).to.equal(estimateConstraints(qm).constraints);
        await fc.assert(
          fc.asyncProperty(fc.array(fc.integer({ min: 0, max: V - 1 }), { minLength: seq, maxLength: seq }), async (t) => {
            const x = t.map(BigInt);
            const w = await c.witness({ x: x.map((v) => v.toString()), salt: "1", jobBinding: "2" });
            expect(c.get(w, "result")).to.equal(inferQuantized(qm, x).output);
            expect(c.get(w, "inputCommitment")).to.equal(await inputCommitment(qm, x, 1n));
          }),
          { numRuns: 12 },
        );
        let threw = false;
        try {
          await c.witness({ x: Array.from({ length: seq }, (_, i) => (i === 3 ? String(V) : "0")), salt: "1", jobBinding: "2" });
        } catch {
          threw = true;
        }
        expect(threw, "an id past the vocabulary has no witness").to.equal(true);
        expect(() => inferQuantized(qm, Array.from({ length: seq }, (_, i) => (i === 3 ? BigInt(V) : 0n)))).to.throw(/input\[3\] = 12 is not a token id/);
        let agree = 0;
        for (const t of ids(100, 9)) {
          const f = forwardFloat(fm, t).at(-1) as number[];
          if (Number(inferQuantized(qm, quantizeFeatures(qm, t)).output) === f.indexOf(Math.max(...f))) agree++;
        }
        expect(agree).to.be.at.least(90);
        console.log(`      ${fm.name}: ${c.compiled.constraints} constraints, agreement ${agree}/100`);
      });
    });
  });
});
