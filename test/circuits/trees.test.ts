import { expect } from "chai";
import fc from "fast-check";
import { fromField, toField } from "../../scripts/util/field";
import { circuitWeightInputs, generateMainCircuit } from "../../scripts/engine/circuit/generate";
import { circuitModelCommitment } from "../../scripts/formats/model-layout";
import { estimateConstraints } from "../../scripts/engine/circuit/size";
import { quantizeModel } from "../../scripts/engine/quantize";
import type { FloatModel } from "../../scripts/formats/float-model";
import { forwardFloat } from "../../scripts/formats/float-model";
import { inferQuantized, inputCommitment } from "../../scripts/formats/quantized-model";
import { quantizeFeatures } from "../../scripts/formats/quantized-input";
import type { FloatTree } from "../../scripts/formats/trees";
import { type Circuit, circuitFromSource, precompile, templateCircuit } from "../helpers/circuit";

/** Seeded uniform numbers in [0, 1). */
function rand(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
}

/** A full binary tree of depth `depth` on `nIn` features with random splits and leaves (one value per output). */
function tree(r: () => number, nIn: number, depth: number, nOut: number, lt = false): FloatTree {
  const nodes: FloatTree["nodes"] = [];
  const build = (d: number): number => {
    const at = nodes.length;
    if (d === depth) {
      nodes.push({ leaf: Array.from({ length: nOut }, () => (r() - 0.5) * 0.6) });
      return at;
    }
    nodes.push({ feature: Math.floor(r() * nIn), threshold: Math.round((r() * 4 - 2) * 1000) / 1000, mode: lt && r() < 0.5 ? "lt" : "leq", yes: 0, no: 0 });
    const yes = build(d + 1);
    const no = build(d + 1);
    Object.assign(nodes[at], { yes, no });
    return at;
  };
  build(0);
  return { nodes };
}

function ensemble(name: string, nTrees: number, depth: number, nOut: number, post: "sigmoid" | "softmax" | "none"): FloatModel {
  const r = rand(nTrees * 31 + depth);
  const nIn = 6;
  return {
    format: "zkml-float-v1",
    name,
    inputSize: nIn,
    preprocess: { mean: Array(nIn).fill(0), std: Array(nIn).fill(1) },
    classes: Array.from({ length: nOut }, (_, i) => `c${i}`),
    layers: [
      { type: "trees", nOutputs: nOut, base: Array.from({ length: nOut }, () => r() - 0.5), trees: Array.from({ length: nTrees }, () => tree(r, nIn, depth, nOut, true)) },
      ...(post === "sigmoid" ? [{ type: "activation" as const, fn: "sigmoid" as const }] : post === "softmax" ? [{ type: "softmax" as const }] : []),
    ],
  };
}

const calib = (n: number, seed: number): number[][] => {
  const r = rand(seed);
  return Array.from({ length: n }, () => Array.from({ length: 6 }, () => r() * 5 - 2.5));
};

describe("circuits/lib/trees.circom and generated tree-ensemble circuits", function () {
  this.timeout(900_000);

  describe("LessEqConst(D = 9, T = -17)", function () {
    let c: Circuit;
    before(async function () {
      c = await templateCircuit("trees.circom", "LessEqConst", [9, -17]);
    });
    it("is [in <= T] on every 8-bit input and costs D + 1", async function () {
      expect(c.compiled.constraints).to.equal(10);
      for (let x = -128n; x < 128n; x += 1n) {
        const w = await c.witness({ in: toField(x).toString() });
        expect(c.get(w, "out"), `x = ${x}`).to.equal(x <= -17n ? 1n : 0n);
      }
    });
    it("rejects a flipped decision with the weighted sum kept through bit[0], and a forged bit", async function () {
      const w = await c.witness({ in: "-17" }); // d = 0 + 512: bits all 0, out = 1
      await c.expectRejected(w, { out: 0n });
      await c.expectRejected(w, { "bit[0]": 1n });
      const v = await c.witness({ in: "5" }); // d = -22 + 512 = 490
      await c.expectRejected(v, { out: 1n, "bit[0]": fromField(c.get(v, "bit[0]")) - 512n });
    });
  });

  describe("LessEqSignal(D = 9)", function () {
    let c: Circuit;
    before(async function () {
      c = await templateCircuit("trees.circom", "LessEqSignal", [9]);
    });
    it("is [in <= t] on 8-bit inputs against 9-bit thresholds and costs D + 1", async function () {
      expect(c.compiled.constraints).to.equal(10);
      for (const t of [-256n, -129n, -17n, 0n, 100n, 255n])
        for (let x = -128n; x < 128n; x += 7n) {
          const w = await c.witness({ in: toField(x).toString(), t: toField(t).toString() });
          expect(c.get(w, "out"), `x = ${x}, t = ${t}`).to.equal(x <= t ? 1n : 0n);
        }
    });
    it("rejects a flipped decision with the weighted sum kept through bit[0], and a forged bit", async function () {
      const w = await c.witness({ in: "-17", t: toField(-17n).toString() }); // d = 512: bits all 0, out = 1
      await c.expectRejected(w, { out: 0n });
      await c.expectRejected(w, { "bit[0]": 1n });
      const v = await c.witness({ in: "5", t: toField(-17n).toString() }); // d = 490
      await c.expectRejected(v, { out: 1n, "bit[0]": fromField(c.get(v, "bit[0]")) - 512n });
    });
  });

  const cases = [
    { fm: ensemble("gbdt-20x3", 20, 3, 1, "sigmoid"), opts: { bits: 8 } }, // the target shape: 20 trees, depth 3, a probability
    { fm: ensemble("forest-5x4", 5, 4, 3, "softmax"), opts: { bits: 8, head: "values" as const } },
    { fm: ensemble("forest-argmax", 6, 3, 3, "none"), opts: { bits: 10 } },
    // committed (private) thresholds and leaves, the same boosted shape
    { fm: ensemble("gbdt-20x3-private", 20, 3, 1, "sigmoid"), opts: { bits: 8, weights: "private" as const } },
  ];
  const quantized = cases.map(({ fm, opts }) => quantizeModel(fm, calib(64, 4), opts));
  before(async function () {
    // both cores: the three circuits compile two at a time; the tests below read the cached builds
    await precompile(await Promise.all(quantized.map(async (qm) => [qm.name, await generateMainCircuit(qm)] as const)));
  });
  cases.forEach(({ fm }, ci) => {
    describe(fm.name, function () {
      const qm = quantized[ci];
      let c: Circuit;
      before(async function () {
        c = await circuitFromSource(qm.name, await generateMainCircuit(qm));
      });
      it("compiles to exactly estimateConstraints, with every node evaluated (no input-dependent count)", function () {
        expect(c.compiled.constraints).to.equal(estimateConstraints(qm).constraints);
        console.log(`      ${fm.name}: ${c.compiled.constraints} constraints (${estimateConstraints(qm).layers.join(" + ")} in the layers)`);
      });
      it("the witness equals inferQuantized on random inputs and the range edges (fast-check)", async function () {
        const lim = (1n << BigInt(qm.input.bits - 1)) - 1n;
        const mc = await circuitModelCommitment(qm);
        const check = async (x: bigint[]) => {
          const w = await c.witness({ x: x.map((v) => toField(v).toString()), salt: "3", jobBinding: "7", ...circuitWeightInputs(qm) });
          expect(c.get(w, "result"), `x = ${x}`).to.equal(inferQuantized(qm, x).output);
          expect(c.get(w, "inputCommitment")).to.equal(await inputCommitment(qm, x, 3n));
          expect(c.get(w, "modelCommitment")).to.equal(mc);
        };
        await check(Array(6).fill(lim));
        await check(Array(6).fill(-lim - 1n));
        await fc.assert(fc.asyncProperty(fc.array(fc.bigInt({ min: -lim - 1n, max: lim }), { minLength: 6, maxLength: 6 }), check), { numRuns: 15 });
      });
      it("the quantized ensemble follows the float one", function () {
        let agree = 0;
        const xs = calib(300, 9);
        for (const x of xs) {
          const f = forwardFloat(fm, x).at(-1) as number[];
          const q = inferQuantized(qm, quantizeFeatures(qm, x));
          if (qm.head === "argmax") agree += Number(q.output) === f.indexOf(Math.max(...f)) ? 1 : 0;
          else agree += 1;
        }
        expect(agree / xs.length).to.be.at.least(0.95);
      });
      it("rejects a flipped split decision and a forged indicator product", async function () {
        const x = Array(6).fill(3n);
        const w = await c.witness({ x: x.map((v) => toField(v).toString()), salt: "3", jobBinding: "7", ...circuitWeightInputs(qm) });
        // a committed ensemble's comparison output is a linear rest the optimizer substitutes: flip its first bit instead
        if (qm.weights === "private") await c.expectRejected(w, { "l0c[0].bit[0]": 1n - c.get(w, "l0c[0].bit[0]") });
        else await c.expectRejected(w, { "l0c[0].out": 1n - c.get(w, "l0c[0].out") });
        await c.expectRejected(w, { "l0p[0]": 1n - c.get(w, "l0p[0]") });
      });
      if (qm.weights === "private")
        it("a committed ensemble: another threshold or leaf than the committed ones proves another model commitment, a threshold outside its packing width has no witness", async function () {
          const x = Array(6).fill(3n);
          const inputs = circuitWeightInputs(qm) as { t0: string[]; lv0: string[][] };
          const mc = await circuitModelCommitment(qm);
          const base = { x: x.map((v) => toField(v).toString()), salt: "3", jobBinding: "7" };
          const t0 = [...inputs.t0];
          t0[0] = toField(fromField(BigInt(t0[0])) + 1n).toString();
          expect(c.get(await c.witness({ ...base, ...inputs, t0 }), "modelCommitment")).to.not.equal(mc);
          const lv0 = inputs.lv0.map((r) => [...r]);
          lv0[0][0] = toField(fromField(BigInt(lv0[0][0])) - 1n).toString();
          expect(c.get(await c.witness({ ...base, ...inputs, lv0 }), "modelCommitment")).to.not.equal(mc);
          t0[0] = toField(1n << 9n).toString(); // a 10-bit threshold: outside the 9-bit packing
          let threw = false;
          try {
            await c.witness({ ...base, ...inputs, t0 });
          } catch {
            threw = true;
          }
          expect(threw).to.equal(true);
        });
    });
  });
});
