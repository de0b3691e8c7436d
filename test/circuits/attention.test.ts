import { expect } from "chai";
import fc from "fast-check";
import { signedRange } from "../../scripts/formats/fixed-point";
import { toField } from "../../scripts/util/field";
import {
  type LayerNormParams,
  headMix,
  headScores,
  layerNormBounds,
  layerNormConstraints,
  layerNormEval,
  layerNormFloat,
  layerNormParams,
  normScale,
} from "../../scripts/formats/transformer";
import { type Circuit, circuitFromSource, precompile, templateCircuit } from "../helpers/circuit";

/** A LayerNorm over C channels of 8-bit values at 2^-4 (PyTorch's eps), 8-bit output at 2^-5. */
function lnParams(C: number, L: number, seed: number): LayerNormParams {
  const gamma = Array.from({ length: C }, (_, c) => 0.5 + ((c * 37 + seed) % 11) / 10);
  const beta = Array.from({ length: C }, (_, c) => (((c * 13 + seed) % 9) - 4) / 8);
  return layerNormParams("ln", { inShape: [C, L], gamma, beta, eps: 1e-5 }, 8, 4, 8, 5);
}

function lnSource(l: LayerNormParams): string {
  const b = layerNormBounds(l, signedRange(l.inBits));
  const [C, L] = l.inShape;
  return `pragma circom 2.1.9;\ninclude "attention.circom";\ncomponent main = LayerNorm(${C}, ${L}, ${l.center === false ? 0 : 1}, ${l.dShift ?? 0}, ${l.eps}, ${l.R}, ${b.rBits}, ${b.tBits}, ${b.A}, ${l.shift}, ${l.outBits}, [${l.g.join(",")}], [${l.B.join(",")}]);\n`;
}

const toIn = (x: readonly bigint[]) => ({ in: x.map(String) });

describe("circuits/lib/attention.circom", function () {
  this.timeout(600_000);
  const ln = lnParams(6, 2, 3);
  before(async function () {
    await precompile([["layernorm_6_2", lnSource(ln)]]);
  });

  describe("LayerNorm: 6 channels x 2 positions, 8-bit in at 2^-4, 8-bit out at 2^-5", function () {
    let c: Circuit;
    before(async function () {
      c = await circuitFromSource("layernorm_6_2", lnSource(ln));
    });
    it("costs layerNormConstraints", function () {
      expect(c.compiled.constraints).to.equal(layerNormConstraints(ln, layerNormBounds(ln, signedRange(ln.inBits))));
    });
    it("equals the twin on edge inputs (constant, extreme, one outlier) and on random ones (fast-check), within 2 steps of the float LayerNorm", async function () {
      const { lo, hi } = signedRange(8);
      const cases: bigint[][] = [
        Array(12).fill(0n),
        Array(12).fill(hi),
        Array(12).fill(lo),
        [lo, hi, lo, hi, lo, hi, hi, lo, hi, lo, hi, lo],
        [hi, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, lo],
        [1n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, -1n],
      ];
      fc.assert(
        fc.property(fc.array(fc.integer({ min: Number(lo), max: Number(hi) }), { minLength: 12, maxLength: 12 }), (v) => {
          cases.push(v.map(BigInt));
        }),
        { numRuns: 12, seed: 31 },
      );
      const spec = {
        inShape: [6, 2] as [number, number],
        gamma: Array.from({ length: 6 }, (_, k) => 0.5 + ((k * 37 + 3) % 11) / 10),
        beta: Array.from({ length: 6 }, (_, k) => (((k * 13 + 3) % 9) - 4) / 8),
        eps: 1e-5,
      };
      for (const x of cases) {
        const w = await c.witness(toIn(x));
        await c.expectSatisfied(w);
        const want = layerNormEval(ln, x);
        want.forEach((v, i) => expect(c.get(w, `out[${i}]`), `out[${i}] of ${x.join(",")}`).to.equal(toField(v)));
        const fl = layerNormFloat(spec, x.map((v) => Number(v) / 16));
        fl.forEach((f, i) => {
          const clamped = Math.max(-128, Math.min(127, f * 32));
          expect(Math.abs(Number(want[i]) - clamped), `float out[${i}] of ${x.join(",")}`).to.be.at.most(2);
        });
      }
    });
    it("rejects the scale r moved by one either way at each position (one of its two slacks goes negative)", async function () {
      const x = [5n, -3n, 7n, 0n, 2n, -9n, 1n, 1n, 4n, -2n, 3n, 8n];
      const w = await c.witness(toIn(x));
      const r = c.get(w, "r[0]");
      const d = Array.from({ length: 6 }, (_, k) => (6n * x[k * 2] - [5n, 7n, 2n, 1n, 4n, 3n].reduce((a, b) => a + b, 0n)) << BigInt(ln.dShift ?? 0));
      const W = d.reduce((a, v) => a + v * v, 0n) + BigInt(ln.eps);
      expect(r).to.equal(normScale(ln.R, W));
      await c.expectRejected(w, { "r[0]": r + 1n });
      await c.expectRejected(w, { "r[0]": r - 1n });
      await c.expectRejected(w, { "r[1]": c.get(w, "r[1]") + 1n });
    });
  });

  describe("LayerNorm without centering (RMSNorm; ONNX-ML's L2 Normalizer): 5 values at 2^-4", function () {
    const spec = { inShape: [5, 1] as [number, number], gamma: Array(5).fill(1 / Math.sqrt(5)), beta: Array(5).fill(0), eps: 1e-30, center: false };
    const l = layerNormParams("l2", spec, 8, 4, 8, 6);
    let c: Circuit;
    before(async function () {
      c = await circuitFromSource("l2norm_5", lnSource(l));
    });
    it("costs layerNormConstraints, equals the twin, and is x / ||x|| within 2 steps (0 for the zero vector)", async function () {
      expect(l.center).to.equal(false);
      expect(c.compiled.constraints).to.equal(layerNormConstraints(l, layerNormBounds(l, signedRange(8))));
      const cases: bigint[][] = [[0n, 0n, 0n, 0n, 0n], [127n, -128n, 127n, -128n, 127n], [1n, 0n, 0n, 0n, 0n], [3n, -4n, 0n, 12n, 0n], [-128n, -128n, -128n, -128n, -128n]];
      fc.assert(
        fc.property(fc.array(fc.integer({ min: -128, max: 127 }), { minLength: 5, maxLength: 5 }), (v) => {
          cases.push(v.map(BigInt));
        }),
        { numRuns: 10, seed: 5 },
      );
      for (const x of cases) {
        const w = await c.witness(toIn(x));
        const want = layerNormEval(l, x);
        want.forEach((v, i) => expect(c.get(w, `out[${i}]`), `out[${i}] of ${x.join(",")}`).to.equal(toField(v)));
        const norm = Math.sqrt(x.reduce((a, v) => a + Number(v) ** 2, 0));
        want.forEach((v, i) => expect(Math.abs(Number(v) / 64 - (norm ? Number(x[i]) / norm : 0)), `${x.join(",")}`).to.be.at.most(2 / 64));
      }
      const w = await c.witness(toIn([3n, -4n, 0n, 12n, 0n]));
      await c.expectRejected(w, { "r[0]": c.get(w, "r[0]") + 1n });
    });
  });

  describe("HeadScores(2, 3, 2) and HeadMix(2, 3, 2)", function () {
    let s: Circuit;
    let m: Circuit;
    before(async function () {
      s = await templateCircuit("attention.circom", "HeadScores", [2, 3, 2]);
      m = await templateCircuit("attention.circom", "HeadMix", [2, 3, 2]);
    });
    it("cost H L L hd products each and equal their twins on random values", async function () {
      expect(s.compiled.constraints).to.equal(2 * 3 * 3 * 2);
      expect(m.compiled.constraints).to.equal(2 * 3 * 3 * 2);
      for (let t = 0; t < 5; t++) {
        const rnd = (n: number, lo: number, hi: number) => Array.from({ length: n }, (_, i) => BigInt(lo + ((i * 7919 + t * 104729) % (hi - lo + 1))));
        const q = rnd(12, -128, 127);
        const k = rnd(12, -100, 90).reverse();
        const ws = await s.witness({ q: q.map(String), k: k.map(String) });
        headScores(q, k, 2, 3, 2).forEach((v, i) => expect(s.get(ws, `acc[${i}]`)).to.equal(toField(v)));
        const p = rnd(18, 0, 64);
        const wm = await m.witness({ p: p.map(String), v: q.map(String) });
        headMix(p, q, 2, 3, 2).forEach((v, i) => expect(m.get(wm, `acc[${i}]`)).to.equal(toField(v)));
      }
    });
  });
});
