import { expect } from "chai";
import { fromField, toField } from "../../scripts/util/field";
import { type PiecewisePoly, piecewiseAccBits, piecewiseConstraints, piecewiseEval } from "../../scripts/formats/activations";
import { fitActivation, fitPiecewise } from "../../scripts/engine/activation-fit";
import { type Circuit, precompile, templateCircuit } from "../helpers/circuit";

/** The template's parameters for a fitted polynomial: b, h, d, A, K, outBits, C. */
function params(p: PiecewisePoly): (number | string)[] {
  return [p.inBits, p.segmentBits, p.degree, piecewiseAccBits(p), p.shift, p.outBits, JSON.stringify(p.coeffs)];
}

const SRC = (p: PiecewisePoly) =>
  `pragma circom 2.1.9;\ninclude "activation.circom";\ncomponent main = PiecewisePoly(${params(p).join(", ")});\n`;

/** Every shape the template has: one segment (h = 0, constant coefficients), one segment bit (no products), several, a table. */
const CASES: [string, PiecewisePoly][] = [
  ["sigmoid 8-bit (chosen fit)", fitActivation({ fn: "sigmoid" }, 8, 4, 8, 7).poly],
  ["tanh 8-bit (chosen fit)", fitActivation({ fn: "tanh" }, 8, 5, 8, 6).poly],
  ["gelu 8-bit, one quadratic (h = 0)", fitPiecewise({ fn: "gelu" }, 8, 4, 8, 3, 0, 2).poly],
  ["leakyrelu 8-bit, two linear segments (h = 1, no product)", fitPiecewise({ fn: "leakyrelu", alpha: 0.1 }, 8, 4, 8, 4, 1, 1).poly],
  ["clip(0, 6) 8-bit, linear on 8 segments", fitPiecewise({ fn: "clip", min: 0, max: 6 }, 8, 4, 8, 4, 3, 1).poly],
  ["silu 6-bit table (h = b, degree 0)", fitPiecewise({ fn: "silu" }, 6, 3, 8, 4, 6, 0).poly],
];

describe("circuits/lib/activation.circom PiecewisePoly", function () {
  this.timeout(600_000);
  before(async function () {
    await precompile(CASES.map(([, p], i) => [`piecewise_${i}`, SRC(p)]));
  });

  CASES.forEach(([label, p]) => {
    describe(label, function () {
      let c: Circuit;
      before(async function () {
        c = await templateCircuit("activation.circom", "PiecewisePoly", params(p));
      });

      it(`costs piecewiseConstraints (h=${p.segmentBits}, d=${p.degree}, K=${p.shift}) constraints`, function () {
        expect(c.compiled.constraints).to.equal(piecewiseConstraints(p, piecewiseAccBits(p)));
      });

      it("equals the TS twin on every input of the range", async function () {
        const half = 1n << BigInt(p.inBits - 1);
        for (let x = -half; x < half; x++) {
          const w = await c.witness({ in: toField(x) });
          expect(fromField(c.get(w, "out")), `x = ${x}`).to.equal(piecewiseEval(p, x));
          if (x % 37n === 0n) await c.expectSatisfied(w);
        }
      });

      it("has no witness for an input outside the range", async function () {
        const half = 1n << BigInt(p.inBits - 1);
        for (const x of [half, -half - 1n]) {
          let threw = false;
          try {
            await c.witness({ in: toField(x) });
          } catch {
            threw = true;
          }
          expect(threw, `x = ${x}`).to.equal(true);
        }
      });

      it("rejects an output moved by one", async function () {
        const w = await c.witness({ in: toField(-3n) });
        await c.expectRejected(w, { out: fromField(c.get(w, "out")) + 1n });
      });

      it("rejects the input's bits[0] flipped with the weighted sum kept through the next bit", async function () {
        // x = 5: u = 2^(b-1) + 5 has bits 0 and 2 set, bit 1 clear; claim bit 1 set and keep the weighted sum by
        // lowering bit 0 from 1 to -1 (not a bit)
        const w = await c.witness({ in: toField(5n) });
        expect(c.get(w, "bits[1]")).to.equal(0n);
        await c.expectRejected(w, { "bits[1]": 1n, "bits[0]": -1n });
      });

      // a hinted segment bit exists when the segment bits are not only the top bit (the linear rest)
      if (p.segmentBits > 1 && p.segmentBits < p.inBits) {
        it("rejects a segment bit flipped with the offset moved to keep the input (another segment's polynomial)", async function () {
          // x = -1: u = 2^(b-1) - 1, every low bit set; claim segment bit l (value 2^l) set and the offset bits
          // 0 .. l-1 lowered by 2^l in total through bit 0 (not a bit)
          const l = p.inBits - p.segmentBits;
          const w = await c.witness({ in: toField(-1n) });
          const seg = `bits[${l}]`;
          const s = c.get(w, seg);
          const d = s === 0n ? 1n : -1n;
          await c.expectRejected(w, { [seg]: s + d, "bits[0]": fromField(c.get(w, "bits[0]")) - d * (1n << BigInt(l)) });
        });
      }

      if (2 ** p.segmentBits - p.segmentBits - 1 > 0) {
        it("rejects a forged monomial of the segment bits (prod[0])", async function () {
          const w = await c.witness({ in: toField(7n) });
          await c.expectRejected(w, { "prod[0]": fromField(c.get(w, "prod[0]")) + 1n });
        });
      }

      if (p.degree > 0) {
        it("rejects a forged rounding of the accumulator (Requantize's quotient bit, rq.bits)", async function () {
          const w = await c.witness({ in: toField(9n) });
          const b = c.get(w, `rq.bits[${p.shift}]`);
          await c.expectRejected(w, { [`rq.bits[${p.shift}]`]: 1n - b });
        });
      }
    });
  });
});
