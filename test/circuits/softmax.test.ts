import { expect } from "chai";
import fc from "fast-check";
import { fromField, toField } from "../../scripts/util/field";
import { fitFunction } from "../../scripts/engine/activation-fit";
import {
  type SoftmaxParams,
  divRound,
  expPoly,
  logSoftmaxBounds,
  logSoftmaxConstraints,
  logSoftmaxEval,
  softmaxBounds,
  softmaxConstraints,
  softmaxEval,
} from "../../scripts/formats/softmax";
import { quantizeModel } from "../../scripts/engine/quantize";
import type { FloatModel } from "../../scripts/formats/float-model";
import type { LogSoftmaxLayer } from "../../scripts/formats/quantized-model";
import { signedRange } from "../../scripts/formats/fixed-point";
import { piecewiseEval, piecewiseOutRange } from "../../scripts/formats/activations";
import { type Circuit, circuitFromSource, precompile, templateCircuit } from "../helpers/circuit";

/** A softmax over 8-bit logits at 4 fractional bits, fitted as the quantizer fits it (8-bit probabilities). */
function params(inBits: number, inFrac: number, outBits: number): SoftmaxParams {
  const fd = Math.min(inFrac, 8);
  const diffBits = Math.min(16, Math.max(fd + 5, 4));
  const fit = fitFunction((x) => Math.exp(Math.min(x, 0)), "exp", diffBits, fd, 16, 14);
  const { segmentBits, degree, shift, coeffs } = fit.poly;
  return { inBits, inFrac, diffShift: inFrac - fd, diffBits, exp: { segmentBits, degree, shift, coeffs, outBits: 16, inFrac: fd, outFrac: 14 }, outBits, outFrac: outBits - 2 };
}

function source(s: SoftmaxParams, n: number): string {
  const b = softmaxBounds(s, n, signedRange(s.inBits));
  const C = JSON.stringify(s.exp.coeffs);
  return `pragma circom 2.1.9;\ninclude "softmax.circom";\ncomponent main = SoftmaxValues(${n}, ${b.D}, ${b.Ad}, ${s.diffShift}, ${s.diffBits}, ${s.exp.segmentBits}, ${s.exp.degree}, ${b.Ae}, ${s.exp.shift}, ${s.exp.outBits}, ${C}, ${s.outFrac}, ${b.Bq}, ${b.Br});\n`;
}

/** The logsoftmax layer the quantizer builds for n logits at inBits (a dense layer's logits under a values head). */
function logSoftmaxLayer(inBits: number, n: number): LogSoftmaxLayer {
  const fm: FloatModel = {
    format: "zkml-float-v1",
    name: "ls",
    inputSize: 2,
    preprocess: { mean: [0, 0], std: [1, 1] },
    classes: Array.from({ length: n }, (_, i) => String(i)),
    layers: [{ type: "dense", W: Array.from({ length: n }, (_, i) => [i - 1, 1 - i / 2]), B: Array(n).fill(0), relu: false }, { type: "logsoftmax" }],
  };
  const qm = quantizeModel(fm, [[3, -3], [-3, 3], [1, 1]], { bits: inBits, head: "values" });
  return qm.layers[1] as LogSoftmaxLayer;
}

function logSource(l: LogSoftmaxLayer, n: number): string {
  const b = logSoftmaxBounds(l, n, signedRange(l.inBits));
  const e = expPoly(l);
  const g = l.log;
  return `pragma circom 2.1.9;\ninclude "softmax.circom";\ncomponent main = LogSoftmaxValues(${n}, ${b.D}, ${b.Ad}, ${l.diffShift}, ${l.diffBits}, ${e.segmentBits}, ${e.degree}, ${b.Ae}, ${e.shift}, ${e.outBits}, ${JSON.stringify(e.coeffs)}, ${b.As}, ${l.sumShift}, ${g.inBits}, ${g.segmentBits}, ${g.degree}, ${b.Al}, ${g.shift}, ${g.outBits}, ${JSON.stringify(g.coeffs)});\n`;
}

const SHAPES = [
  [8, 4, 8, 3],
  [12, 8, 12, 5],
] as const;

describe("circuits/lib/softmax.circom", function () {
  this.timeout(600_000);
  before(async function () {
    await precompile([
      ...SHAPES.map(([b, f, o, n]) => [`softmax_${b}_${n}`, source(params(b, f, o), n)] as const),
      ...([[8, 3], [12, 5]] as const).map(([b, n]) => [`logsoftmax_${b}_${n}`, logSource(logSoftmaxLayer(b, n), n)] as const),
    ]);
  });

  describe("DivRound(Bq = 5, Br = 8)", function () {
    let c: Circuit;
    before(async function () {
      c = await templateCircuit("softmax.circom", "DivRound", [5, 8]);
    });
    it("equals round-half-up division on every num <= 3 * den, den 1..40 (sampled), and costs 1 + Bq + 2 Br", async function () {
      expect(c.compiled.constraints).to.equal(1 + 5 + 2 * 8);
      for (const den of [1n, 2n, 3n, 7n, 16n, 39n, 40n])
        for (let num = 0n; num <= 3n * den; num += den > 10n ? 3n : 1n) {
          const w = await c.witness({ num: num.toString(), den: den.toString() });
          expect(c.get(w, "q"), `${num} / ${den}`).to.equal(divRound(num, den));
        }
    });
    it("rejects a quotient moved by one with the remainder moved to keep the equation", async function () {
      const w = await c.witness({ num: "17", den: "5" }); // 2*17 + 5 = 39 = 10*3 + 9: q 3, r 9
      expect(c.get(w, "q")).to.equal(3n);
      await c.expectRejected(w, { q: 4n, r: 9n - 10n }); // r = -1: not in [0, 2^8)
      await c.expectRejected(w, { q: 2n, r: 19n }); // r = 19 >= 2 * den: 2*den - 1 - r < 0
    });
    it("rejects a forged remainder", async function () {
      const w = await c.witness({ num: "17", den: "5" });
      await c.expectRejected(w, { r: 8n });
    });
    it("has no witness for a zero denominator", async function () {
      let threw = false;
      try {
        await c.witness({ num: "3", den: "0" });
      } catch {
        threw = true;
      }
      expect(threw).to.equal(true);
    });
  });

  for (const [inBits, inFrac, outBits, n] of SHAPES) {
    describe(`SoftmaxValues: ${n} logits, ${inBits}-bit at 2^-${inFrac}, ${outBits}-bit probabilities`, function () {
      const s = params(inBits, inFrac, outBits);
      let c: Circuit;
      before(async function () {
        c = await circuitFromSource(`softmax_${inBits}_${n}`, source(s, n));
      });
      it("costs softmaxConstraints", function () {
        expect(c.compiled.constraints).to.equal(softmaxConstraints(s, n, softmaxBounds(s, n, signedRange(inBits))));
      });
      it("equals the twin on edge logits and on random ones (fast-check), and stays within 1.5 steps of the float softmax", async function () {
        const { lo, hi } = signedRange(inBits);
        const check = async (z: bigint[]) => {
          const w = await c.witness({ in: z.map((v) => toField(v).toString()) });
          const out = z.map((_, i) => fromField(c.get(w, `out[${i}]`)));
          expect(out, `z = ${z}`).to.deep.equal(softmaxEval(s, z));
          const zf = z.map((v) => Number(v) / 2 ** inFrac);
          const m = Math.max(...zf);
          const e = zf.map((v) => Math.exp(v - m));
          const sum = e.reduce((a, b) => a + b, 0);
          out.forEach((p, i) => expect(Math.abs(Number(p) / 2 ** s.outFrac - e[i] / sum), `p[${i}] of ${z}`).to.be.at.most(1.5 * 2 ** -s.outFrac));
        };
        await check(Array(n).fill(0n));
        await check(Array.from({ length: n }, (_, i) => (i === 0 ? hi : lo)));
        await check(Array.from({ length: n }, (_, i) => (i === n - 1 ? lo : hi)));
        await fc.assert(fc.asyncProperty(fc.array(fc.bigInt({ min: lo, max: hi }), { minLength: n, maxLength: n }), check), { numRuns: 20 });
      });
      it("rejects a probability (the division's quotient) moved by one, a forged remainder and a forged maximum", async function () {
        const z = Array.from({ length: n }, (_, i) => BigInt(i * 3 - 2));
        const w = await c.witness({ in: z.map((v) => toField(v).toString()) });
        await c.expectRejected(w, { "out[0]": fromField(c.get(w, "out[0]")) + 1n });
        // out[i] is div[i].q (the optimizer merges the two wires): the first tamper moves the quotient
        await c.expectRejected(w, { "div[1].r": fromField(c.get(w, "div[1].r")) + 1n });
        await c.expectRejected(w, { "mx[0].bit[0]": 1n - c.get(w, "mx[0].bit[0]") });
      });
    });
  }

  for (const [inBits, n] of [
    [8, 3],
    [12, 5],
  ] as const) {
    describe(`LogSoftmaxValues: ${n} logits, ${inBits}-bit (the quantizer's fit)`, function () {
      const l = logSoftmaxLayer(inBits, n);
      const b = logSoftmaxBounds(l, n, signedRange(inBits));
      let c: Circuit;
      before(async function () {
        c = await circuitFromSource(`logsoftmax_${inBits}_${n}`, logSource(l, n));
      });
      it("costs logSoftmaxConstraints", function () {
        expect(c.compiled.constraints).to.equal(logSoftmaxConstraints(l, n, b));
      });
      it("equals the twin on edge logits and on random ones (fast-check), within 2 steps of the float log-softmax (where it is above the saturation)", async function () {
        const { lo, hi } = signedRange(inBits);
        const floor = -(2 ** (l.diffBits - 1)) / 2 ** l.outFrac + 1;
        const check = async (z: bigint[]) => {
          const w = await c.witness({ in: z.map((v) => toField(v).toString()) });
          const out = z.map((_, i) => fromField(c.get(w, `out[${i}]`)));
          expect(out, `z = ${z}`).to.deep.equal(logSoftmaxEval(l, z));
          const zf = z.map((v) => Number(v) / 2 ** l.inFrac);
          const m = Math.max(...zf);
          const lse = Math.log(zf.reduce((a, v) => a + Math.exp(v - m), 0));
          out.forEach((v, i) => {
            const want = zf[i] - m - lse;
            if (want > floor) expect(Math.abs(Number(v) / 2 ** l.outFrac - want), `log p[${i}] of ${z}`).to.be.at.most(2 * 2 ** -l.outFrac);
            expect(v >= b.out.lo && v <= b.out.hi, `log p[${i}] in the bounds`).to.equal(true);
          });
        };
        await check(Array(n).fill(0n));
        await check(Array(n).fill(hi));
        await check(Array.from({ length: n }, (_, i) => (i === 0 ? hi : lo)));
        await fc.assert(fc.asyncProperty(fc.array(fc.bigInt({ min: lo, max: hi }), { minLength: n, maxLength: n }), check), { numRuns: 8 });
      });
      it("rejects a log-probability moved by one and a forged maximum", async function () {
        const z = Array.from({ length: n }, (_, i) => BigInt(i * 3 - 2));
        const w = await c.witness({ in: z.map((v) => toField(v).toString()) });
        await c.expectRejected(w, { "out[0]": fromField(c.get(w, "out[0]")) - 1n });
        await c.expectRejected(w, { "mx[0].bit[0]": 1n - c.get(w, "mx[0].bit[0]") });
      });
    });
  }

  it("the exponential of the quantizer's fit is positive at 0 and never negative on the differences; one logit has p = 1", function () {
    for (const [b, f] of [[8, 4], [8, 0], [12, 8], [16, 12], [16, 14]] as const) {
      const s = params(b, f, 8);
      const poly = expPoly(s);
      const half = 1n << BigInt(s.diffBits - 1);
      expect(piecewiseEval(poly, 0n) > 0n, `${b}-bit at 2^-${f}`).to.equal(true);
      expect(piecewiseOutRange(poly, { lo: -half, hi: 0n }).lo >= 0n, `${b}-bit at 2^-${f}`).to.equal(true);
      expect(softmaxEval(s, [5n])).to.deep.equal([1n << BigInt(s.outFrac)]);
    }
  });
});
